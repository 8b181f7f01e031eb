//! The vdc's cluster-wide image library (the seed's ImageLibraryLayout / AllImagesPage): folder tree and
//! breadcrumb across every node, filters, search, sorting, grouping of identical ISOs, each host's sync
//! state, live updates, moves and new folders.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Api, ApiError};
use crate::browser;
use crate::components::{
    actions::{Actions, NewFolderDialog, Notice},
    dialog::{ConfirmDialog, MoveDialog},
    folder_tree::{Breadcrumb, FolderTree},
    layout::use_hydrated,
    status::{EmptyState, ErrorNotice, Loading},
};
use crate::format;
use crate::model::{
    FolderListing, FolderPath, ImageList, ImageQuery, IsoMetadata, NodeInfo, NodeList, NodeSyncState, SortKey,
    SortOrder, encode_query, os_family,
};

/// The page's state, all of it in the URL: a reload or a shared link shows the same view.
#[derive(Clone, Debug, PartialEq, Default)]
struct View {
    folder: FolderPath,
    subfolders: bool,
    node: String,
    pool: String,
    os: String,
    q: String,
    sort: SortKey,
    order: SortOrder,
    group: bool,
}

impl View {
    fn from_query(q: &leptos_router::params::ParamsMap) -> View {
        let get = |k: &str| q.get(k).unwrap_or_default();
        View {
            folder: FolderPath::parse(&get("folder")).unwrap_or_default(),
            subfolders: get("sub") != "0",
            node: get("node"),
            pool: get("pool"),
            os: get("os"),
            q: get("q"),
            sort: match get("sort").as_str() {
                "name" => SortKey::Name,
                "size" => SortKey::Size,
                "created" => SortKey::Created,
                _ => SortKey::Folder,
            },
            order: if get("order") == "desc" { SortOrder::Desc } else { SortOrder::Asc },
            group: get("group") == "1",
        }
    }

    fn href(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.folder.is_root() {
            pairs.push(("folder", self.folder.to_string()));
        }
        if !self.subfolders {
            pairs.push(("sub", "0".into()));
        }
        for (k, v) in [("node", &self.node), ("pool", &self.pool), ("os", &self.os), ("q", &self.q)] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        if self.sort != SortKey::Folder {
            pairs.push(("sort", self.sort.as_str().into()));
        }
        if self.order == SortOrder::Desc {
            pairs.push(("order", "desc".into()));
        }
        if self.group {
            pairs.push(("group", "1".into()));
        }
        let q = encode_query(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        if q.is_empty() { "/images".into() } else { format!("/images?{q}") }
    }

    fn query(&self, cursor: Option<String>) -> ImageQuery {
        let some = |s: &String| (!s.is_empty()).then(|| s.clone());
        ImageQuery {
            folder: Some(self.folder.to_string()),
            recursive: Some(self.subfolders),
            node_id: some(&self.node),
            pool_id: some(&self.pool),
            os_family: some(&self.os),
            q: some(&self.q),
            sort: Some(self.sort),
            order: Some(self.order),
            limit: Some(PAGE),
            cursor,
        }
    }
}

const PAGE: u32 = 100;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Overview {
    folders: FolderListing,
    nodes: NodeList,
}

#[component]
pub fn LibraryPage() -> impl IntoView {
    let api = Api::current();
    let query = use_query_map();
    let view_state = Memo::new(move |_| query.with(View::from_query));
    let navigate = use_navigate();
    let go = move |v: View| navigate(&v.href(), Default::default());
    let hydrated = use_hydrated();

    // `changes` follows the catalogue (live), `ticks` the clock (node states age).
    let changes = RwSignal::new(0u64);
    let ticks = RwSignal::new(0u64);
    let overview = Resource::new(move || (changes.get(), ticks.get()), {
        let api = api.clone();
        move |_| {
            let api = api.clone();
            async move { Ok::<_, ApiError>(Overview { folders: api.folders().await?, nodes: api.nodes().await? }) }
        }
    });
    let first_page = Resource::new(move || (view_state.get(), changes.get()), {
        let api = api.clone();
        move |(v, _): (View, u64)| {
            let api = api.clone();
            async move { api.list_images(&v.query(None)).await }
        }
    });
    // Pages loaded after the first ("Load more"), reset whenever the first page changes.
    let more = RwSignal::new(Vec::<IsoMetadata>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let stale = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first_page.get() {
            more.set(Vec::new());
            next_cursor.set(page.next_cursor.clone());
            stale.set(false);
        }
    });
    let latest = RwSignal::new(None::<Overview>);
    Effect::new(move |_| {
        if let Some(Ok(o)) = overview.get() {
            latest.set(Some(o));
        }
    });

    // Live updates: reload at once, unless the reader has paged further (then offer to).
    Effect::new(move |_| {
        let stream = browser::subscribe("/api/v1/events", &["change", "tick"], move |kind| match kind {
            "change" if more.with_untracked(Vec::is_empty) => changes.update(|n| *n += 1),
            "change" => stale.set(true),
            _ => ticks.update(|n| *n += 1),
        });
        let stream = StoredValue::new(stream);
        on_cleanup(move || stream.update_value(|s| *s = None));
    });

    let load_more = move |_| {
        let (v, cursor) = (view_state.get_untracked(), next_cursor.get_untracked());
        let api = Api::current();
        spawn_local(async move {
            if let Ok(page) = api.list_images(&v.query(cursor)).await {
                more.update(|m| m.extend(page.images));
                next_cursor.set(page.next_cursor);
            }
        });
    };

    let dialog = RwSignal::new(None::<LibraryDialog>);
    let close = Callback::new(move |_: ()| dialog.set(None));
    let actions = Actions::new(close);
    // An action is a change too (live events reach other pages; this one reloads at once).
    Effect::new(move |_| {
        if actions.done.get() > 0 {
            changes.update(|n| *n += 1);
        }
    });
    let href = Callback::new(move |f: FolderPath| View { folder: f, ..view_state.get() }.href());
    let current = Signal::derive(move || view_state.get().folder);
    let nodes = Signal::derive(move || latest.with(|o| o.as_ref().map(|o| o.nodes.nodes.clone()).unwrap_or_default()));
    let on_move = Callback::new(move |i: IsoMetadata| {
        actions.reset();
        dialog.set(Some(LibraryDialog::Move(Box::new(i))));
    });
    let on_delete = Callback::new(move |i: IsoMetadata| {
        actions.reset();
        dialog.set(Some(LibraryDialog::Delete(Box::new(i))));
    });

    view! {
        <Title text="Image library" />
        <section class="page">
            <div class="page-head">
                <h1>"Image library"</h1>
                <SearchBox view=view_state go=go.clone() enabled=hydrated />
                <button class="btn" type="button" data-testid="new-folder" disabled=move || !hydrated.get()
                    on:click=move |_| { actions.reset(); dialog.set(Some(LibraryDialog::NewFolder)); }>
                    "New folder"
                </button>
            </div>
            <Notice notice=actions.notice />
            <div class="columns">
                <aside class="sidebar">
                    <h2>"Folders"</h2>
                    <Transition fallback=Loading>
                        {move || overview.get().map(|r| r.map(|o| view! { <FolderTree listing=o.folders current href /> }))}
                    </Transition>
                    <h2>"Hosts"</h2>
                    <Transition fallback=Loading>
                        {move || overview.get().map(|r| r.map(|o| view! { <NodePanel nodes=o.nodes.nodes /> }))}
                    </Transition>
                </aside>
                <div class="main-pane">
                    <Breadcrumb current href />
                    <Filters view=view_state go=go.clone() nodes enabled=hydrated />
                    {move || stale.get().then(|| view! {
                        <div class="notice notice-warn" role="status">
                            "The catalogue changed since this list was loaded. "
                            <button class="btn-link" type="button" on:click=move |_| changes.update(|n| *n += 1)>"Reload the list"</button>
                        </div>
                    })}
                    <Transition fallback=Loading>
                        {move || first_page.get().map(|page| match page {
                            Ok(ImageList { images, .. }) => view! {
                                <ImageRows first=images more view=view_state latest on_move on_delete />
                            }.into_any(),
                            Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        })}
                    </Transition>
                    <div class="pager">
                        <Transition>
                            <span class="small muted" data-testid="shown-count">
                                {move || first_page.get().and_then(Result::ok).map(|p| {
                                    let v = view_state.get();
                                    let shown = p.images.len() + more.with(Vec::len);
                                    let unfiltered = v.subfolders && v.node.is_empty() && v.pool.is_empty() && v.os.is_empty() && v.q.is_empty();
                                    let total = overview.get().and_then(Result::ok).map(|o| o.folders.count(&v.folder).total);
                                    match total {
                                        Some(t) if unfiltered => format!("Showing {shown} of {t} images"),
                                        _ => format!("Showing {shown} images"),
                                    }
                                })}
                            </span>
                        </Transition>
                        <button class="btn" type="button" data-testid="load-more"
                            disabled=move || !hydrated.get()
                            style:display=move || if next_cursor.get().is_some() { "" } else { "none" }
                            on:click=load_more>
                            {format!("Load {PAGE} more")}
                        </button>
                    </div>
                </div>
            </div>
        </section>
        {move || dialog.get().map(|d| match d {
            LibraryDialog::NewFolder => {
                view! { <NewFolderDialog parent=view_state.get_untracked().folder actions /> }.into_any()
            }
            LibraryDialog::Delete(image) => view! {
                <ConfirmDialog
                    title=format!("Delete {}?", image.filename)
                    message=format!(
                        "{} will be deleted from {} (pool {}) by that host. This removes the file and cannot be undone.",
                        image.filename, image.node_id.clone().unwrap_or_default(), image.storage_pool_id.clone().unwrap_or_default()
                    )
                    confirm_label="Delete image"
                    on_confirm=Callback::new(move |_| {
                        let (api, image) = (Api::current(), (*image).clone());
                        actions.run(async move {
                            api.delete_image(&image.id.to_string()).await?;
                            Ok(format!("Deleted {} from {}.", image.filename, image.node_id.unwrap_or_default()))
                        })
                    })
                    on_close=close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            LibraryDialog::Move(image) => {
                let folders = latest.with_untracked(|o| o.as_ref().map(|o| o.folders.folders.clone()).unwrap_or_default());
                view! {
                    <MoveDialog
                        subject=image.filename.clone()
                        folders
                        current=image.folder_path.clone()
                        on_move=Callback::new(move |to: FolderPath| {
                            let (api, image) = (Api::current(), (*image).clone());
                            actions.run(async move {
                                api.move_image(&image.id.to_string(), to.as_str()).await?;
                                Ok(format!("Moved {} to {to} on {}.", image.filename, image.node_id.unwrap_or_default()))
                            })
                        })
                        on_close=close
                        busy=actions.busy
                        error=actions.error
                    />
                }.into_any()
            }
        })}
    }
}

#[derive(Clone, Debug, PartialEq)]
enum LibraryDialog {
    NewFolder,
    Move(Box<IsoMetadata>),
    Delete(Box<IsoMetadata>),
}

/// Search across every image; the URL follows after a short pause in typing.
#[component]
fn SearchBox(
    view: Memo<View>,
    go: impl Fn(View) + Clone + Send + Sync + 'static,
    #[prop(into)] enabled: Signal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(view.get_untracked().q);
    let typed = RwSignal::new(0u64);
    view! {
        <input
            class="search"
            type="search"
            placeholder="Search all images"
            aria-label="Search all images"
            data-testid="search"
            disabled=move || !enabled.get()
            prop:value=text
            on:input=move |ev| {
                text.set(event_target_value(&ev));
                let generation = typed.get_untracked() + 1;
                typed.set(generation);
                let go = go.clone();
                set_timeout(
                    move || {
                        if typed.get_untracked() == generation {
                            go(View { q: text.get_untracked().trim().to_owned(), ..view.get_untracked() });
                        }
                    },
                    std::time::Duration::from_millis(250),
                );
            }
        />
    }
}

#[component]
fn Filters(
    view: Memo<View>,
    go: impl Fn(View) + Clone + Send + Sync + 'static,
    #[prop(into)] nodes: Signal<Vec<NodeInfo>>,
    #[prop(into)] enabled: Signal<bool>,
) -> impl IntoView {
    let set = move |f: Box<dyn FnOnce(&mut View)>| {
        let mut v = view.get_untracked();
        f(&mut v);
        go(v);
    };
    let set = StoredValue::new(set);
    let pools = move || {
        let mut ids: Vec<String> = nodes.get().iter().flat_map(|n| n.pools.iter().map(|p| p.id.clone())).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    view! {
        <div class="filters" data-testid="filters">
            <select aria-label="Host" data-testid="filter-node" disabled=move || !enabled.get()
                prop:value=move || view.get().node
                on:change=move |ev| { let v = event_target_value(&ev); set.with_value(|s| s(Box::new(move |w| w.node = v))) }>
                <option value="">"All hosts"</option>
                {move || nodes.get().into_iter().map(|n| view! { <option value=n.id.clone()>{n.name.clone()}</option> }).collect_view()}
            </select>
            <select aria-label="Pool" data-testid="filter-pool" disabled=move || !enabled.get()
                prop:value=move || view.get().pool
                on:change=move |ev| { let v = event_target_value(&ev); set.with_value(|s| s(Box::new(move |w| w.pool = v))) }>
                <option value="">"All pools"</option>
                {move || pools().into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
            </select>
            <select aria-label="OS family" data-testid="filter-os" disabled=move || !enabled.get()
                prop:value=move || view.get().os
                on:change=move |ev| { let v = event_target_value(&ev); set.with_value(|s| s(Box::new(move |w| w.os = v))) }>
                <option value="">"All systems"</option>
                {os_family::ALL.iter().map(|f| view! { <option value=*f>{format::os_label(Some(f), None, None)}</option> }).collect_view()}
            </select>
            <select aria-label="Sort by" data-testid="sort" disabled=move || !enabled.get()
                prop:value=move || format!("{}-{}", view.get().sort.as_str(), view.get().order.as_str())
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let (sort, order) = v.split_once('-').unwrap_or(("folder", "asc"));
                    let sort = match sort { "name" => SortKey::Name, "size" => SortKey::Size, "created" => SortKey::Created, _ => SortKey::Folder };
                    let order = if order == "desc" { SortOrder::Desc } else { SortOrder::Asc };
                    set.with_value(|s| s(Box::new(move |w| { w.sort = sort; w.order = order; })))
                }>
                <option value="folder-asc">"Folder, then name"</option>
                <option value="name-asc">"Name A–Z"</option>
                <option value="name-desc">"Name Z–A"</option>
                <option value="size-desc">"Largest first"</option>
                <option value="size-asc">"Smallest first"</option>
                <option value="created-desc">"Newest first"</option>
                <option value="created-asc">"Oldest first"</option>
            </select>
            <label class="small">
                <input type="checkbox" data-testid="subfolders" disabled=move || !enabled.get()
                    prop:checked=move || view.get().subfolders
                    on:change=move |ev| { let on = event_target_checked(&ev); set.with_value(|s| s(Box::new(move |w| w.subfolders = on))) } />
                " Include subfolders"
            </label>
            <label class="small">
                <input type="checkbox" data-testid="group" disabled=move || !enabled.get()
                    prop:checked=move || view.get().group
                    on:change=move |ev| { let on = event_target_checked(&ev); set.with_value(|s| s(Box::new(move |w| w.group = on))) } />
                " Group identical ISOs"
            </label>
        </div>
    }
}

fn state_of(nodes: &[NodeInfo], id: &str) -> Option<NodeInfo> {
    nodes.iter().find(|n| n.id == id).cloned()
}

#[component]
fn ImageRows(
    /// The first page, as the server rendered it.
    first: Vec<IsoMetadata>,
    /// Pages loaded after it.
    more: RwSignal<Vec<IsoMetadata>>,
    view: Memo<View>,
    latest: RwSignal<Option<Overview>>,
    on_move: Callback<IsoMetadata>,
    on_delete: Callback<IsoMetadata>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let first = StoredValue::new(first);
    move || {
        let mut all = first.get_value();
        all.extend(more.get());
        let grouped = view.with(|v| v.group);
        if all.is_empty() {
            return view! {
                <EmptyState title="No images here">
                    "Nothing matches this folder and these filters. Images uploaded to any host appear here as soon as the host reports them."
                </EmptyState>
            }.into_any();
        }
        let known = latest.with(|o| o.as_ref().map(|o| o.nodes.nodes.clone()).unwrap_or_default());
        let node_name = |id: &str| state_of(&known, id).map(|n| n.name).unwrap_or_else(|| id.to_owned());
        if grouped {
            // The same ISO (same SHA-256) on several hosts: one row, its locations listed.
            let mut groups: BTreeMap<String, Vec<IsoMetadata>> = BTreeMap::new();
            let mut order = Vec::new();
            for i in all {
                let key = i.checksum.clone().unwrap_or_else(|| format!("unhashed:{}", i.id));
                if !groups.contains_key(&key) {
                    order.push(key.clone());
                }
                groups.entry(key).or_default().push(i);
            }
            let rows = order.into_iter().map(|k| {
                let copies = groups.remove(&k).unwrap_or_default();
                let first = copies[0].clone();
                let locations = copies.iter().map(|c| format!("{} · {} · {}", node_name(c.node_id.as_deref().unwrap_or("")), c.storage_pool_id.clone().unwrap_or_default(), c.folder_path)).collect::<Vec<_>>();
                view! {
                    <tr data-testid="image-group" data-name=first.filename.clone()>
                        <td><div class="cell-name">{first.name.clone()}</div><div class="cell-sub">{first.filename.clone()}</div></td>
                        <td class="num nowrap">{format::bytes(first.size_bytes)}</td>
                        <td class="hide-narrow">{format::os_label(first.os_family.as_deref(), first.os_distribution.as_deref(), first.os_version.as_deref()).unwrap_or_else(|| "–".into())}</td>
                        <td colspan="3">
                            <span class="badge">{format!("{} location(s)", copies.len())}</span>
                            <ul class="locations">{locations.into_iter().map(|l| view! { <li class="small">{l}</li> }).collect_view()}</ul>
                        </td>
                        <td class="hide-narrow"><code title=first.checksum.clone().unwrap_or_default()>{first.short_checksum().unwrap_or("–").to_owned()}</code></td>
                    </tr>
                }
            }).collect_view();
            return view! {
                <div class="table-wrap"><table class="images" data-testid="images">
                    <thead><tr><th>"Name"</th><th class="num">"Size"</th><th class="hide-narrow">"OS"</th><th colspan="3">"Locations"</th><th class="hide-narrow">"Checksum"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            }.into_any();
        }
        let rows = all.into_iter().map(|image| {
            let node_id = image.node_id.clone().unwrap_or_default();
            let node = state_of(&known, &node_id);
            let offline = node.as_ref().is_none_or(|n| n.state == NodeSyncState::Offline);
            let why = node.as_ref().map(|n| format!("{} is offline (last contact {}); moves go through the host, so this image cannot be moved now.", n.name, n.last_contact_at.map(|t| format::ago(t, (browser::now_ms() / 1000.0) as i64)).unwrap_or_else(|| "never".into())))
                .unwrap_or_else(|| format!("The host {node_id} is unknown to the library."));
            let (for_move, for_delete) = (image.clone(), image.clone());
            view! {
                <tr data-testid="image-row" data-name=image.filename.clone() data-node=node_id.clone()>
                    <td><div class="cell-name">{image.name.clone()}</div><div class="cell-sub">{image.filename.clone()}</div></td>
                    <td class="num nowrap">{format::bytes(image.size_bytes)}</td>
                    <td class="hide-narrow">{format::os_label(image.os_family.as_deref(), image.os_distribution.as_deref(), image.os_version.as_deref()).unwrap_or_else(|| "–".into())}</td>
                    <td class="hide-narrow">{image.folder_path.to_string()}</td>
                    <td data-testid="location">{node_name(&node_id)}<div class="cell-sub">{image.storage_pool_id.clone().unwrap_or_default()}</div></td>
                    <td>{if image.is_ready() { view! { <span class="badge badge-ok">"Ready"</span> }.into_any() } else { view! { <span class="badge badge-info">"Hashing…"</span> }.into_any() }}</td>
                    <td class="cell-actions">
                        <button class="btn btn-small" type="button" data-testid="move-image"
                            disabled=move || !hydrated.get() || offline
                            title=if offline { why.clone() } else { "Move to another folder (the host makes the change)".to_owned() }
                            on:click=move |_| on_move.run(for_move.clone())>"Move to…"</button>
                        " "
                        <button class="btn btn-small btn-danger" type="button" data-testid="delete-image"
                            disabled=move || !hydrated.get() || offline
                            on:click=move |_| on_delete.run(for_delete.clone())>"Delete"</button>
                        {offline.then(|| view! { <div class="cell-sub" data-testid="move-blocked">{why.clone()}</div> })}
                    </td>
                </tr>
            }
        }).collect_view();
        view! {
            <div class="table-wrap"><table class="images" data-testid="images">
                <thead><tr><th>"Name"</th><th class="num">"Size"</th><th class="hide-narrow">"OS"</th><th class="hide-narrow">"Folder"</th><th>"Host · pool"</th><th>"State"</th><th class="cell-actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }.into_any()
    }
}

/// Each host: its sync state, last contact, image count, and a link to its own UI.
#[component]
fn NodePanel(nodes: Vec<NodeInfo>) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <p class="muted small" data-testid="nodes">"No host has reported yet."</p> }.into_any();
    }
    let now = (browser::now_ms() / 1000.0) as i64;
    view! {
        <ul class="nodes" data-testid="nodes">
            {nodes.into_iter().map(|n| {
                let contact = n.last_contact_at.map(|t| format!("last contact {}", format::ago(t, now))).unwrap_or_else(|| "never contacted".into());
                view! {
                    <li data-testid="node" data-node=n.id.clone() data-state=n.state.as_str()>
                        <div class="node-line">
                            <strong>{n.name.clone()}</strong>
                            <span class=format!("badge state-{}", n.state.as_str())>{n.state.label()}</span>
                        </div>
                        <span class="small muted">{format!("{} images · {contact}", n.image_count)}</span>
                        {n.api_url.clone().map(|u| view! { <a class="small" href=format!("{u}/images")>"Open host UI"</a> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }.into_any()
}
