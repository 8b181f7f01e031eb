//! A paged list: the page loads the first page (server-rendered, in its own resource), and the reader
//! loads more with "Load more". The same for images and for the library's groups of identical images.

use leptos::{prelude::*, task::spawn_local};

use crate::api::{Api, ApiError};
use crate::components::list_view::ListView;
use crate::model::{ImageGroup, ImageGroupList, ImageList, ImageQuery, IsoMetadata};

/// Items per page.
pub const PAGE: u32 = 100;

/// One page of a list, as the API answers it.
pub trait Listing: Send + Sync + 'static {
    type Item: Clone + Send + Sync + 'static;
    fn items(&self) -> &[Self::Item];
    fn next_cursor(&self) -> Option<String>;
    fn into_items(self) -> Vec<Self::Item>;
    fn fetch(api: Api, query: ImageQuery) -> impl std::future::Future<Output = Result<Self, ApiError>> + 'static
    where
        Self: Sized;
}

impl Listing for ImageList {
    type Item = IsoMetadata;
    fn items(&self) -> &[IsoMetadata] {
        &self.images
    }
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }
    fn into_items(self) -> Vec<IsoMetadata> {
        self.images
    }
    async fn fetch(api: Api, query: ImageQuery) -> Result<Self, ApiError> {
        api.list_images(&query).await
    }
}

impl Listing for ImageGroupList {
    type Item = ImageGroup;
    fn items(&self) -> &[ImageGroup] {
        &self.groups
    }
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }
    fn into_items(self) -> Vec<ImageGroup> {
        self.groups
    }
    async fn fetch(api: Api, query: ImageQuery) -> Result<Self, ApiError> {
        api.list_image_groups(&query).await
    }
}

/// The pages loaded after the first.
pub struct Paged<L: Listing> {
    /// Pages loaded after the first, cleared whenever the first arrives again.
    pub more: RwSignal<Vec<L::Item>>,
    next_cursor: RwSignal<Option<String>>,
    view: Memo<ListView>,
}

impl<L: Listing> Clone for Paged<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Listing> Copy for Paged<L> {}

pub type PagedImages = Paged<ImageList>;

impl<L: Listing> Paged<L> {
    pub fn new(view: Memo<ListView>) -> Self {
        Self { more: RwSignal::new(Vec::new()), next_cursor: RwSignal::new(None), view }
    }

    /// The page's first page (re)arrived: what was loaded after the old one is dropped.
    pub fn first_arrived(&self, first: &L) {
        self.more.set(Vec::new());
        self.next_cursor.set(first.next_cursor());
    }

    /// The list is not shown (the page shows another kind): nothing loaded, no "Load more".
    pub fn clear(&self) {
        self.more.set(Vec::new());
        self.next_cursor.set(None);
    }

    /// Every item loaded so far, in order (tracked).
    pub fn all(&self, first: &L) -> Vec<L::Item> {
        let mut all = first.items().to_vec();
        all.extend(self.more.get());
        all
    }

    /// Whether the reader loaded more than the first page (untracked).
    pub fn paged_further(&self) -> bool {
        !self.more.with_untracked(Vec::is_empty)
    }

    pub fn load_more(&self) {
        let (view, cursor, this) = (self.view.get_untracked(), self.next_cursor.get_untracked(), *self);
        let api = Api::current();
        spawn_local(async move {
            if let Ok(page) = L::fetch(api, view.query(PAGE, cursor)).await {
                this.next_cursor.set(page.next_cursor());
                this.more.update(|m| m.extend(page.into_items()));
            }
        });
    }
}

/// "Showing n of m images": the total is the folder's count, shown when nothing else narrows the view.
/// Rendered by the page inside the `Transition` that shows the list.
pub fn shown_count(shown: usize, total: Option<u64>, view: &ListView) -> impl IntoView + use<> {
    let text = match total {
        Some(t) if !view.is_filtered() => format!("Showing {shown} of {t} images"),
        _ => format!("Showing {shown} images"),
    };
    view! { <p class="small muted" data-testid="shown-count">{text}</p> }
}

/// The "Load more" button, shown while more pages follow.
pub fn load_more_button<L: Listing>(paged: Paged<L>, enabled: ReadSignal<bool>) -> impl IntoView {
    view! {
        <div class="pager">
            <button class="btn" type="button" data-testid="load-more"
                disabled=move || !enabled.get()
                style:display=move || if paged.next_cursor.get().is_some() { "" } else { "none" }
                on:click=move |_| paged.load_more()>
                {format!("Load {PAGE} more")}
            </button>
        </div>
    }
}
