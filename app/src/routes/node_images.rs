//! The node's images page (the seed's QHCI StorageImages).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{Api, ApiError};
use crate::components::layout::use_hydrated;
use crate::components::status::{EmptyState, ErrorNotice, Loading};
use crate::format;
use crate::model::{FolderListing, ImageList, ImageQuery, PoolList};

type PageData = (PoolList, FolderListing, ImageList);

async fn load(api: Api) -> Result<PageData, ApiError> {
    let pools = api.pools().await?;
    let folders = api.folders().await?;
    let images = api.list_images(&ImageQuery::default()).await?;
    Ok((pools, folders, images))
}

#[component]
pub fn NodeImagesPage() -> impl IntoView {
    let api = Api::current();
    let data = Resource::new(|| (), move |_| load(api.clone()));
    let hydrated = use_hydrated();
    let (search, set_search) = signal(String::new());
    view! {
        <Title text="Images" />
        <section class="page">
            <div class="page-head">
                <h1>"Images"</h1>
                <input
                    class="search"
                    type="search"
                    placeholder="Search by name"
                    aria-label="Search images by name"
                    data-testid="search"
                    disabled=move || !hydrated.get()
                    prop:value=search
                    on:input=move |ev| set_search.set(event_target_value(&ev))
                />
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((pools, folders, images)) => {
                            view! { <NodeImagesBody pools folders images search /> }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn NodeImagesBody(
    pools: PoolList,
    folders: FolderListing,
    images: ImageList,
    search: ReadSignal<String>,
) -> impl IntoView {
    let images = StoredValue::new(images.images);
    let visible = move || {
        let needle = search.get().to_lowercase();
        images.with_value(|all| {
            all.iter()
                .filter(|i| needle.is_empty() || i.name.to_lowercase().contains(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="columns">
            <aside class="sidebar">
                <h2>"Folders"</h2>
                <ul class="tree">
                    {folders
                        .folders
                        .iter()
                        .map(|f| {
                            let count = folders.count(f).total;
                            view! {
                                <li style=format!("--depth:{}", f.depth())>
                                    <span class="tree-name">{f.name().to_owned()}</span>
                                    <span class="count">{count}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <h2>"Storage pools"</h2>
                <ul class="pools">
                    {pools
                        .pools
                        .into_iter()
                        .map(|p| {
                            view! {
                                <li>
                                    <strong>{p.name}</strong>
                                    <span class="muted">
                                        {format!("{} free of {}", format::bytes(p.free_bytes), format::bytes(p.capacity_bytes))}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </aside>
            <div class="main-pane">
                {move || {
                    let rows = visible();
                    if rows.is_empty() {
                        view! {
                            <EmptyState title="No images here">
                                "Upload an ISO, or copy one into a pool's iso/ directory."
                            </EmptyState>
                        }
                            .into_any()
                    } else {
                        view! {
                            <table class="images">
                                <thead>
                                    <tr>
                                        <th>"Name"</th>
                                        <th>"Folder"</th>
                                        <th>"Size"</th>
                                        <th>"Pool"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|i| {
                                            view! {
                                                <tr>
                                                    <td>{i.name}</td>
                                                    <td>{i.folder_path.to_string()}</td>
                                                    <td>{format::bytes(i.size_bytes)}</td>
                                                    <td>{i.storage_pool_id.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }
                }}
            </div>
        </div>
    }
}
