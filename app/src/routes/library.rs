//! The vdc's cluster-wide image library (the seed's ImageLibraryLayout / AllImagesPage).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{Api, ApiError};
use crate::components::layout::use_hydrated;
use crate::components::status::{EmptyState, ErrorNotice, Loading};
use crate::format;
use crate::model::{ImageList, ImageQuery, NodeList};

async fn load(api: Api) -> Result<(NodeList, ImageList), ApiError> {
    Ok((api.nodes().await?, api.list_images(&ImageQuery::default()).await?))
}

#[component]
pub fn LibraryPage() -> impl IntoView {
    let api = Api::current();
    let data = Resource::new(|| (), move |_| load(api.clone()));
    let hydrated = use_hydrated();
    let (search, set_search) = signal(String::new());
    view! {
        <Title text="Image library" />
        <section class="page">
            <div class="page-head">
                <h1>"Image library"</h1>
                <input
                    class="search"
                    type="search"
                    placeholder="Search all images"
                    aria-label="Search all images"
                    data-testid="search"
                    disabled=move || !hydrated.get()
                    prop:value=search
                    on:input=move |ev| set_search.set(event_target_value(&ev))
                />
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok((nodes, images)) => {
                            let images = StoredValue::new(images.images);
                            let visible = move || {
                                let needle = search.get().to_lowercase();
                                images
                                    .with_value(|all| {
                                        all.iter()
                                            .filter(|i| needle.is_empty() || i.name.to_lowercase().contains(&needle))
                                            .cloned()
                                            .collect::<Vec<_>>()
                                    })
                            };
                            view! {
                                <div class="columns">
                                    <aside class="sidebar">
                                        <h2>"Hosts"</h2>
                                        {if nodes.nodes.is_empty() {
                                            view! { <p class="muted">"No host has reported yet."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="nodes">
                                                    {nodes
                                                        .nodes
                                                        .into_iter()
                                                        .map(|n| {
                                                            view! {
                                                                <li>
                                                                    <strong>{n.name}</strong>
                                                                    <span class=format!("badge state-{}", n.state.as_str())>
                                                                        {n.state.label()}
                                                                    </span>
                                                                </li>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </ul>
                                            }
                                                .into_any()
                                        }}
                                    </aside>
                                    <div class="main-pane">
                                        {move || {
                                            let rows = visible();
                                            if rows.is_empty() {
                                                view! {
                                                    <EmptyState title="No images in the cluster yet">
                                                        "Images uploaded to any host appear here."
                                                    </EmptyState>
                                                }
                                                    .into_any()
                                            } else {
                                                view! {
                                                    <table class="images">
                                                        <tbody>
                                                            {rows
                                                                .into_iter()
                                                                .map(|i| {
                                                                    view! {
                                                                        <tr>
                                                                            <td>{i.name}</td>
                                                                            <td>{i.folder_path.to_string()}</td>
                                                                            <td>{format::bytes(i.size_bytes)}</td>
                                                                            <td>{i.node_id.unwrap_or_default()}</td>
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
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
