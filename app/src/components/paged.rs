//! A paged image list: the page loads the first page (server-rendered, in its own resource), and the
//! reader loads more with "Load more".

use leptos::{prelude::*, task::spawn_local};

use crate::api::Api;
use crate::components::list_view::ListView;
use crate::model::{ImageList, IsoMetadata};

/// Images per page.
pub const PAGE: u32 = 100;

/// The pages loaded after the first.
#[derive(Clone, Copy)]
pub struct PagedImages {
    /// Pages loaded after the first, cleared whenever the first arrives again.
    pub more: RwSignal<Vec<IsoMetadata>>,
    next_cursor: RwSignal<Option<String>>,
    view: Memo<ListView>,
}

impl PagedImages {
    pub fn new(view: Memo<ListView>) -> Self {
        Self { more: RwSignal::new(Vec::new()), next_cursor: RwSignal::new(None), view }
    }

    /// The page's first page (re)arrived: what was loaded after the old one is dropped.
    pub fn first_arrived(&self, first: &ImageList) {
        self.more.set(Vec::new());
        self.next_cursor.set(first.next_cursor.clone());
    }

    /// Every image loaded so far, in order (tracked).
    pub fn images(&self, first: &ImageList) -> Vec<IsoMetadata> {
        let mut all = first.images.clone();
        all.extend(self.more.get());
        all
    }

    pub fn load_more(&self) {
        let (view, cursor, this) = (self.view.get_untracked(), self.next_cursor.get_untracked(), *self);
        let api = Api::current();
        spawn_local(async move {
            if let Ok(page) = api.list_images(&view.query(PAGE, cursor)).await {
                this.more.update(|m| m.extend(page.images));
                this.next_cursor.set(page.next_cursor);
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
pub fn load_more_button(paged: PagedImages, enabled: ReadSignal<bool>) -> impl IntoView {
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
