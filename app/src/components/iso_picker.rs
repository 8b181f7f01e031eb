//! The ISO picker: one reusable component (the VM wizard uses it; any vdc page can) to choose an
//! installation image from the whole cluster: a folder tree, search across every ISO, an OS family
//! filter, each ISO's node and pool, keyboard navigation, and a clear empty state.

use leptos::{ev::KeyboardEvent, prelude::*};

use crate::api::{Api, ApiError};
use crate::components::{
    dialog::list_keys,
    folder_tree::{FolderTree, TreeState},
};
use crate::format;
use crate::model::{FolderListing, FolderPath, ImageFormat, ImageList, ImageQuery, IsoMetadata, NodeList, os_family};

/// How many matches the picker lists at once (search narrows the rest).
const SHOWN: u32 = 50;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Found {
    images: ImageList,
    truncated: bool,
}

#[component]
pub fn IsoPicker(
    /// The chosen image (id, node and path are in it); `None` until one is chosen.
    selected: RwSignal<Option<IsoMetadata>>,
) -> impl IntoView {
    let api = Api::current();
    let folder = RwSignal::new(FolderPath::root());
    let q = RwSignal::new(String::new());
    let os = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let tree_state = TreeState::new(folder.into());
    let tree = Resource::new(|| (), {
        let api = api.clone();
        move |_| {
            let api = api.clone();
            async move { Ok::<_, ApiError>((api.folders().await?, api.nodes().await?)) }
        }
    });
    let found = Resource::new(move || (folder.get(), q.get(), os.get()), {
        let api = api.clone();
        move |(folder, q, os): (FolderPath, String, String)| {
            let api = api.clone();
            async move {
                let query = ImageQuery {
                    folder: Some(folder.to_string()),
                    recursive: Some(true),
                    q: Some(q.trim().to_owned()).filter(|s| !s.is_empty()),
                    os_family: Some(os).filter(|s| !s.is_empty()),
                    sort: Some(crate::model::SortKey::Name),
                    limit: Some(SHOWN),
                    ..Default::default()
                };
                let images = api.list_images(&query).await?;
                Ok::<_, ApiError>(Found { truncated: images.next_cursor.is_some(), images })
            }
        }
    });
    // Installation media: ISO files, and appliances (an OVA's disks become the VM's); raw disk images
    // are neither.
    let choices = move || {
        found
            .get()
            .and_then(Result::ok)
            .map(|f| f.images.images.into_iter().filter(|i| i.format != ImageFormat::Img).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let node_name = move |id: &str| {
        tree.get()
            .and_then(Result::ok)
            .and_then(|(_, nodes): (FolderListing, NodeList)| {
                nodes.nodes.into_iter().find(|n| n.id == id).map(|n| n.name)
            })
            .unwrap_or_else(|| id.to_owned())
    };
    let pick = move |i: usize| {
        if let Some(iso) = choices().get(i).filter(|iso| iso.is_ready()).cloned() {
            selected.set(Some(iso));
        }
    };
    let on_key = move |ev: KeyboardEvent| list_keys(&ev, choices().len(), active, pick);
    view! {
        <div class="picker" data-testid="iso-picker">
            <div class="picker-tree">
                <Transition fallback=|| view! { <span class="muted small">"Loading folders…"</span> }>
                    {move || tree.get().map(|r| r.map(|(listing, _)| view! {
                        <FolderTree
                            listing
                            state=tree_state
                            current=folder
                            href=Callback::new(|_| "#".to_owned())
                            on_select=Callback::new(move |f| { folder.set(f); active.set(0); })
                        />
                    }))}
                </Transition>
            </div>
            <div class="picker-main">
                <div class="toolbar">
                    <input
                        type="search"
                        class="search"
                        placeholder="Search every ISO in the cluster"
                        aria-label="Search ISOs"
                        aria-controls="iso-choices"
                        data-testid="picker-search"
                        prop:value=q
                        on:input=move |ev| { q.set(event_target_value(&ev)); active.set(0); }
                        on:keydown=on_key
                    />
                    <select aria-label="OS family" data-testid="picker-os" prop:value=os
                        on:change=move |ev| { os.set(event_target_value(&ev)); active.set(0); }>
                        <option value="">"Any system"</option>
                        {os_family::ALL.iter().map(|f| view! { <option value=*f>{format::os_label(Some(f), None, None)}</option> }).collect_view()}
                    </select>
                </div>
                <p class="small muted">{move || {
                    let f = folder.get();
                    if f.is_root() { "In every folder".to_owned() } else { format!("In {f} and beneath") }
                }}</p>
                <Transition fallback=|| view! { <span class="muted small">"Searching…"</span> }>
                    {move || found.get().map(|r| match r {
                        Err(e) => view! { <div class="notice notice-error">{e.to_string()}</div> }.into_any(),
                        Ok(f) => {
                            let list = choices();
                            if list.is_empty() {
                                return view! {
                                    <div class="empty-state" data-testid="picker-empty">
                                        <p class="empty-title">"No ISO matches"</p>
                                        <p class="empty-body">"Try another folder, clear the search or the system filter, or upload an ISO to a host first."</p>
                                    </div>
                                }.into_any();
                            }
                            view! {
                                <ul class="picker-list" role="listbox" id="iso-choices" aria-label="ISOs" data-testid="picker-list">
                                    {list.into_iter().enumerate().map(|(i, iso)| {
                                        let ready = iso.is_ready();
                                        let id = iso.id;
                                        let where_ = format!("{} · {} · {}", node_name(iso.node()), iso.pool(), iso.folder_path);
                                        view! {
                                            <li
                                                class="picker-item"
                                                class:active=move || active.get() == i
                                                role="option"
                                                data-testid="picker-item"
                                                data-name=iso.filename.clone()
                                                data-node=iso.node().to_owned()
                                                aria-selected=move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id)).to_string()
                                                aria-disabled=(!ready).to_string()
                                                title=if ready { String::new() } else { "Still being checked on its host; it can be chosen once its checksum is known.".into() }
                                                on:click=move |_| { active.set(i); pick(i); }
                                            >
                                                <div>
                                                    <div class="cell-name">{iso.filename.clone()}</div>
                                                    <div class="cell-sub">{where_}</div>
                                                    {super::image_table::content_badges(&iso)}
                                                </div>
                                                <div class="small muted nowrap">
                                                    {format::bytes(iso.size_bytes)}
                                                    {(!ready).then(|| view! { <span class="badge badge-info">" Hashing…"</span> })}
                                                </div>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                {f.truncated.then(|| view! { <p class="small muted">{format!("Showing the first {SHOWN}; search to narrow.")}</p> })}
                            }.into_any()
                        }
                    })}
                </Transition>
            </div>
        </div>
    }
}
