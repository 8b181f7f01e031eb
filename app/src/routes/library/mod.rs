//! The vdc's cluster-wide image library (the seed's ImageLibraryLayout / AllImagesPage): folder tree and
//! breadcrumb across every node, filters, search, sorting, grouping of identical ISOs, each host's sync
//! state, live updates, moves and new folders.

mod filters;
mod groups;
mod hosts;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Api, ApiError};
use crate::browser;
use crate::components::{
    actions::{Actions, NewFolderDialog, Notice},
    dialog::{ConfirmDialog, MoveDialog},
    folder_tree::{Breadcrumb, FolderTree, TreeState},
    image_table::{Column, ImageTable, TableContext},
    layout::use_hydrated,
    list_view::ListView,
    paged::{PAGE, Paged, PagedImages, load_more_button, shown_count},
    search::search_box,
    status::{empty_state, error_notice, loading},
    transfers::{CopyDialog, DownloadDialog, Target, Transfers},
    upload::{UploadPanel, Uploads},
};
use crate::model::{
    DownloadRequest, FolderListing, FolderPath, ImageGroupList, ImageList, IsoMetadata, NodeId, NodeInfo, NodeList,
    NodeSyncState,
};
use crate::session::can_write;
use filters::Filters;
use groups::GroupedTable;
use hosts::HostPanel;

/// The library includes subfolders wherever it is opened.
const SUBFOLDERS_INSIDE_FOLDERS: bool = true;

/// The folder tree and the hosts, reloaded together.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Overview {
    folders: FolderListing,
    nodes: NodeList,
}

/// What the list shows: images, or (grouped) identical images as one row each.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Shown {
    Images(ImageList),
    Groups(ImageGroupList),
}

#[derive(Clone, Debug, PartialEq)]
enum LibraryDialog {
    NewFolder,
    Move(Box<IsoMetadata>),
    Delete(Box<IsoMetadata>),
    Copy(Box<IsoMetadata>),
    Download,
}

/// The host a transfer goes to unless the admin chose another: the first of [`targets`].
fn first_target(nodes: &[NodeInfo]) -> Option<NodeId> {
    nodes.iter().find(|n| can_receive(n)).map(|n| n.id.clone())
}

/// Whether a transfer can go to `node` now: it is online and has a pool.
fn can_receive(node: &NodeInfo) -> bool {
    node.state != NodeSyncState::Offline && !node.pools.is_empty()
}

/// The hosts a transfer can go to now: those online, with their pools.
fn targets(nodes: &[NodeInfo]) -> Vec<Target> {
    nodes
        .iter()
        .filter(|n| can_receive(n))
        .map(|n| Target { node_id: Some(n.id.clone()), name: n.name.clone(), pools: n.pools.clone() })
        .collect()
}

#[component]
pub fn LibraryPage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| query.with(|q| ListView::from_query(q, SUBFOLDERS_INSIDE_FOLDERS)));
    let navigate = use_navigate();
    let go =
        Callback::new(move |v: ListView| navigate(&v.href("/images", SUBFOLDERS_INSIDE_FOLDERS), Default::default()));
    let hydrated = use_hydrated();

    let paged = PagedImages::new(view_state);
    let grouped = Paged::<ImageGroupList>::new(view_state);
    let live = LiveUpdates::subscribe(move || paged.paged_further() || grouped.paged_further());
    let api = Api::current();
    let overview = Resource::new(move || (live.changes.get(), live.hosts.get()), {
        let api = api.clone();
        move |_| {
            let api = api.clone();
            async move { Ok::<_, ApiError>(Overview { folders: api.folders().await?, nodes: api.nodes().await? }) }
        }
    });
    let first_page = Resource::new(
        move || (view_state.get(), live.changes.get()),
        move |(v, _)| {
            let api = api.clone();
            async move {
                let query = v.query(PAGE, None);
                Ok::<_, ApiError>(if v.group {
                    Shown::Groups(api.list_image_groups(&query).await?)
                } else {
                    Shown::Images(api.list_images(&query).await?)
                })
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(first)) = first_page.get() {
            match &first {
                Shown::Images(list) => {
                    paged.first_arrived(list);
                    grouped.clear();
                }
                Shown::Groups(list) => {
                    grouped.first_arrived(list);
                    paged.clear();
                }
            }
            live.stale.set(false);
        }
    });
    let latest = RwSignal::new(None::<Overview>);
    Effect::new(move |_| {
        if let Some(Ok(o)) = overview.get() {
            latest.set(Some(o));
        }
    });

    let dialog = RwSignal::new(None::<LibraryDialog>);
    let actions = Actions::new(Callback::new(move |_: ()| dialog.set(None)));
    // An action is a change too (live events reach other pages; this one reloads at once).
    Effect::new(move |_| {
        if actions.done.get() > 0 {
            live.changes.update(|n| *n += 1);
        }
    });
    let open = move |d: LibraryDialog| {
        actions.reset();
        dialog.set(Some(d));
    };
    let on_move = Callback::new(move |i: IsoMetadata| open(LibraryDialog::Move(Box::new(i))));
    let on_delete = Callback::new(move |i: IsoMetadata| open(LibraryDialog::Delete(Box::new(i))));
    let on_copy = Callback::new(move |i: IsoMetadata| open(LibraryDialog::Copy(Box::new(i))));

    let current = Signal::derive(move || view_state.get().folder);
    let tree = TreeState::new(current);
    let href = Callback::new(move |f: FolderPath| {
        view_state.with(|v| v.opening(f, SUBFOLDERS_INSIDE_FOLDERS).href("/images", SUBFOLDERS_INSIDE_FOLDERS))
    });
    let nodes = Signal::derive(move || latest.with(|o| o.as_ref().map(|o| o.nodes.nodes.clone()).unwrap_or_default()));
    let total = Signal::derive(move || latest.with(|o| o.as_ref().map(|o| o.folders.count(&current.get()).total)));
    let on_search = Callback::new(move |q: String| go.run(ListView { q, ..view_state.get_untracked() }));
    // Whose transfers the sidebar shows: the host chosen, else the first one online (an offline host
    // cannot say). A memo: the hosts reload every tick, the choice seldom changes.
    let transfers_of = RwSignal::new(None::<NodeId>);
    let transfers_node = Memo::new(move |_| transfers_of.get().or_else(|| nodes.with(|n| first_target(n))));

    // Uploads onto a chosen host, streamed through the vdc.
    let show_upload = RwSignal::new(false);
    let upload_host = RwSignal::new(None::<NodeId>);
    let upload_to = Signal::derive(move || upload_host.get().or_else(|| nodes.with(|n| first_target(n))));
    let uploads = Uploads::through_vdc(upload_to);
    let upload_pools = Signal::derive(move || {
        let to = upload_to.get();
        nodes.with(|n| n.iter().find(|n| Some(&n.id) == to.as_ref()).map(|n| n.pools.clone()).unwrap_or_default())
    });
    let upload_pool = RwSignal::new(String::new());
    Effect::new(move |_| {
        let pools = upload_pools.get();
        if !pools.iter().any(|p| p.id == upload_pool.get_untracked())
            && let Some(first) = pools.first()
        {
            upload_pool.set(first.id.to_string());
        }
    });
    let upload_folder = RwSignal::new(None::<FolderPath>);
    let folder_list =
        Signal::derive(move || latest.with(|o| o.as_ref().map(|o| o.folders.folders.clone()).unwrap_or_default()));
    Effect::new(move |_| {
        if uploads.finished.get() > 0 {
            live.changes.update(|n| *n += 1);
        }
    });

    // A viewer gets no move, delete or folder controls (the API refuses them anyway).
    let writable = can_write();
    view! {
        <Title text="Image library" />
        <section class="page">
            <div class="page-head">
                <h1>"Image library"</h1>
                {search_box(view_state.get_untracked().q, "Search all images", on_search, hydrated)}
                {writable.then(|| view! {
                    <button class="btn" type="button" data-testid="upload-toggle" disabled=move || !hydrated.get()
                        aria-expanded=move || show_upload.get().to_string()
                        on:click=move |_| show_upload.update(|s| *s = !*s)>
                        "Upload to host…"
                    </button>
                    <button class="btn" type="button" data-testid="download-open" disabled=move || !hydrated.get()
                        on:click=move |_| open(LibraryDialog::Download)>
                        "Download to host…"
                    </button>
                    <button class="btn" type="button" data-testid="new-folder" disabled=move || !hydrated.get()
                        on:click=move |_| open(LibraryDialog::NewFolder)>
                        "New folder"
                    </button>
                })}
            </div>
            <Notice notice=actions.notice />
            <div class="columns">
                <aside class="sidebar">
                    <h2>"Folders"</h2>
                    <Transition fallback=loading>
                        {move || overview.get().map(|r| r.map(|o| view! { <FolderTree listing=o.folders state=tree current href /> }))}
                    </Transition>
                    <h2>"Hosts"</h2>
                    <Transition fallback=loading>
                        {move || overview.get().map(|r| r.map(|o| view! { <HostPanel nodes=o.nodes.nodes /> }))}
                    </Transition>
                    {move || (!nodes.with(Vec::is_empty)).then(|| view! {
                        <label class="small">
                            "Transfers on "
                            <select data-testid="transfers-host"
                                prop:value=move || transfers_node.get().map(|n| n.to_string()).unwrap_or_default()
                                on:change=move |ev| transfers_of.set(event_target_value(&ev).parse().ok())>
                                {nodes.get().into_iter().map(|n| view! { <option value=n.id.to_string()>{n.name}</option> }).collect_view()}
                            </select>
                        </label>
                    })}
                    <Show when=move || transfers_node.with(Option::is_some)>
                        <Transfers node_id=transfers_node writable compact=true started=actions.done
                            on_landed=Callback::new(move |_| live.changes.update(|n| *n += 1)) />
                    </Show>
                </aside>
                <div class="main-pane">
                    <Breadcrumb current href />
                    <Show when=move || writable && show_upload.get()>
                        <label class="small">
                            "Upload to host "
                            <select data-testid="upload-host"
                                prop:value=move || upload_to.get().map(|n| n.to_string()).unwrap_or_default()
                                on:change=move |ev| upload_host.set(event_target_value(&ev).parse().ok())>
                                {move || nodes.with(|n| targets(n)).into_iter().filter_map(|t| t.node_id.map(|id| (id, t.name))).map(|(id, name)| {
                                    view! { <option value=id.to_string()>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <UploadPanel uploads pools=upload_pools folders=folder_list current enabled=hydrated
                            pool=upload_pool folder=upload_folder />
                    </Show>
                    <Filters view=view_state go nodes enabled=hydrated />
                    {move || live.stale.get().then(|| view! {
                        <div class="notice notice-warn" role="status">
                            "The catalogue changed since this list was loaded. "
                            <button class="btn-link" type="button" on:click=move |_| live.changes.update(|n| *n += 1)>"Reload the list"</button>
                        </div>
                    })}
                    <Transition fallback=loading>
                        {move || first_page.get().map(|page| match page {
                            Err(error) => error_notice(error).into_any(),
                            Ok(first) => {
                                let context = TableContext::library(nodes.get());
                                let (list, shown) = match first {
                                    Shown::Groups(first) => {
                                        let groups = grouped.all(&first);
                                        let shown = groups.iter().map(|g| g.copies as usize).sum();
                                        (view! { <GroupedTable groups context /> }.into_any(), shown)
                                    }
                                    Shown::Images(first) => {
                                        let images = paged.all(&first);
                                        let shown = images.len();
                                        (view! {
                                            <ImageTable images context columns=&[Column::Folder, Column::Location]
                                                writable on_move on_delete on_copy />
                                        }.into_any(), shown)
                                    }
                                };
                                let count = view_state.with(|v| shown_count(shown, total.get(), v));
                                let list = if shown == 0 {
                                    empty_state(
                                        "No images here",
                                        "Nothing matches this folder and these filters. Images uploaded to any host appear here as soon as the host reports them.",
                                    ).into_any()
                                } else {
                                    list
                                };
                                view! { {list} {count} }.into_any()
                            }
                        })}
                    </Transition>
                    {move || if view_state.with(|v| v.group) {
                        load_more_button(grouped, hydrated).into_any()
                    } else {
                        load_more_button(paged, hydrated).into_any()
                    }}
                </div>
            </div>
        </section>
        {move || dialog.get().map(|d| match d {
            LibraryDialog::NewFolder => {
                view! { <NewFolderDialog parent=view_state.get_untracked().folder actions /> }.into_any()
            }
            LibraryDialog::Download => view! {
                <DownloadDialog
                    targets=nodes.with_untracked(|n| targets(n))
                    folder=view_state.get_untracked().folder
                    on_submit=Callback::new(move |(node, req): (Option<NodeId>, DownloadRequest)| {
                        transfers_of.set(node.clone());
                        actions.call(move |api| async move {
                            api.download(node.as_ref(), &req).await?;
                            Ok(format!("Downloading {}: follow it under Transfers.", req.url))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            LibraryDialog::Copy(image) => view! {
                <CopyDialog
                    image=(*image).clone()
                    targets=nodes.with_untracked(|n| targets(n))
                    on_submit=Callback::new(move |req: crate::model::CopyRequest| {
                        let image = image.clone();
                        transfers_of.set(Some(req.node_id.clone()));
                        let host = nodes.with_untracked(|n| n.iter().find(|n| n.id == req.node_id).map(|n| n.name.clone()))
                            .unwrap_or_else(|| req.node_id.to_string());
                        actions.call(move |api| async move {
                            api.copy_image(&image.id.to_string(), &req).await?;
                            Ok(format!("Copying {} to {host}: follow it under Transfers.", image.filename))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            LibraryDialog::Delete(image) => view! {
                <ConfirmDialog
                    title=format!("Delete {}?", image.filename)
                    message=format!(
                        "{} will be deleted from {} (pool {}) by that host. This removes the file and cannot be undone.",
                        image.filename, image.node(), image.pool()
                    )
                    confirm_label="Delete image"
                    on_confirm=Callback::new(move |_| {
                        let image = image.clone();
                        actions.call(move |api| async move {
                            api.delete_image(&image.id.to_string()).await?;
                            Ok(format!("Deleted {} from {}.", image.filename, image.node()))
                        })
                    })
                    on_close=actions.close
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
                            let image = image.clone();
                            actions.call(move |api| async move {
                                api.move_image(&image.id.to_string(), to.as_str()).await?;
                                Ok(format!("Moved {} to {to} on {}.", image.filename, image.node()))
                            })
                        })
                        on_close=actions.close
                        busy=actions.busy
                        error=actions.error
                    />
                }.into_any()
            }
        })}
    }
}

/// What the server-sent events tell the page: the catalogue changed (`changes`), a host's state or the
/// clock moved (`hosts`), and whether the list shown is older than the catalogue (`stale`).
#[derive(Clone, Copy)]
struct LiveUpdates {
    changes: RwSignal<u64>,
    hosts: RwSignal<u64>,
    stale: RwSignal<bool>,
}

impl LiveUpdates {
    /// A change reloads the list at once, unless the reader has paged further than its first page (then
    /// the list is marked stale and the page offers to reload).
    fn subscribe(paged_further: impl Fn() -> bool + Copy + 'static) -> Self {
        let this = Self { changes: RwSignal::new(0), hosts: RwSignal::new(0), stale: RwSignal::new(false) };
        Effect::new(move |_| {
            let stream =
                browser::subscribe("/api/v1/events", &["change", "nodes", "tick", "resync"], move |kind| match kind {
                    "change" if !paged_further() => this.changes.update(|n| *n += 1),
                    "change" => this.stale.set(true),
                    // Anything may have been missed: the list and the hosts both reload.
                    "resync" => {
                        this.changes.update(|n| *n += 1);
                        this.hosts.update(|n| *n += 1);
                    }
                    _ => this.hosts.update(|n| *n += 1),
                });
            let stream = StoredValue::new(stream);
            on_cleanup(move || stream.update_value(|s| *s = None));
        });
        this
    }
}
