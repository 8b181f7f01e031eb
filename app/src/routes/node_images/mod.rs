//! The node's images page (the seed's QHCI StorageImages): folder tree, breadcrumb, the open folder's
//! images (with its subfolders at the top level), folders, uploads, moves (drag and drop, or "Move
//! to…"), deletes, search.

mod sidebar;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{Api, ApiError};
use crate::browser::PickedFile;
use crate::components::{
    actions::{Actions, NewFolderDialog, Notice},
    dialog::{ConfirmDialog, FolderNameDialog, MoveDialog},
    folder_tree::{Breadcrumb, FolderTree, TreeState},
    image_table::{Column, ImageTable, TableContext},
    layout::use_hydrated,
    list_view::ListView,
    paged::{PAGE, PagedImages, load_more_button, shown_count},
    search::search_box,
    status::{empty_state, error_notice, loading},
    transfers::{DownloadDialog, Target, Transfers},
    upload::{PageDropZone, UploadPanel, Uploads},
};
use crate::format;
use crate::model::{DEFAULT_FOLDERS, FolderListing, FolderPath, ImageList, IsoMetadata, NodeSyncStatus, PoolList};
use crate::session::can_write;
use sidebar::{pool_list, sync_badge};

/// Inside a folder the host page lists that folder's own images; at the top level, everything.
const SUBFOLDERS_INSIDE_FOLDERS: bool = false;

/// Everything the page shows, read in one go (on the server for the first render): one resource, so the
/// host bundle carries one resource type.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct HostData {
    status: NodeSyncStatus,
    pools: PoolList,
    folders: FolderListing,
    /// The first page of the view's images.
    images: ImageList,
}

async fn load(api: Api, view: ListView) -> Result<HostData, ApiError> {
    Ok(HostData {
        status: api.sync_status().await?,
        pools: api.pools().await?,
        folders: api.folders().await?,
        images: api.list_images(&view.query(PAGE, None)).await?,
    })
}

/// Which dialog is open.
#[derive(Clone, Debug, PartialEq)]
enum Dialog {
    NewFolder,
    RenameFolder(FolderPath),
    DeleteFolder(FolderPath),
    Move(IsoMetadata),
    Delete(IsoMetadata),
    Download,
}

#[component]
pub fn NodeImagesPage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| query.with(|q| ListView::from_query(q, SUBFOLDERS_INSIDE_FOLDERS)));
    let navigate = use_navigate();
    let go =
        Callback::new(move |v: ListView| navigate(&v.href("/images", SUBFOLDERS_INSIDE_FOLDERS), Default::default()));
    let current = Signal::derive(move || view_state.get().folder);
    let hydrated = use_hydrated();
    // A viewer gets no upload, move, delete or folder controls (the API refuses them anyway).
    let writable = can_write();
    let drops = Signal::derive(move || writable && hydrated.get());

    let uploads = Uploads::new();
    let dialog = RwSignal::new(None::<Dialog>);
    let actions = Actions::new(Callback::new(move |_: ()| dialog.set(None)));
    // A transfer landed (a download, a copy from another host): its image is listed.
    let landed = RwSignal::new(0u64);
    // Whatever this page changed: the lists are read again.
    let reload = Signal::derive(move || actions.done.get() + uploads.finished.get() + landed.get());
    let api = Api::current();
    let data = Resource::new(move || (view_state.get(), reload.get()), move |(v, _)| load(api.clone(), v));
    let paged = PagedImages::new(view_state);

    // The last data that arrived, for controls that live outside the Transition.
    let latest = RwSignal::new(None::<HostData>);
    let pool = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(d)) = data.get() {
            if pool.get_untracked().is_empty()
                && let Some(first) = d.pools.pools.first()
            {
                pool.set(first.id.to_string());
            }
            paged.first_arrived(&d.images);
            latest.set(Some(d));
        }
    });
    let folders =
        Signal::derive(move || latest.with(|d| d.as_ref().map(|d| d.folders.folders.clone()).unwrap_or_default()));
    let pools = Signal::derive(move || latest.with(|d| d.as_ref().map(|d| d.pools.pools.clone()).unwrap_or_default()));

    let open = move |d: Dialog| {
        actions.reset();
        dialog.set(Some(d));
    };
    let move_image = move |image_id: String, name: String, to: FolderPath| {
        actions.call(move |api| async move {
            api.move_image(&image_id, to.as_str()).await?;
            Ok(format!("Moved {name} to {to}."))
        });
    };
    let on_drop = Callback::new(move |(id, to): (String, FolderPath)| {
        let listed = latest.with_untracked(|d| d.as_ref().map(|d| d.images.images.clone())).unwrap_or_default();
        let name =
            listed.into_iter().chain(paged.more.get_untracked()).find(|i| i.id.to_string() == id).map(|i| i.filename);
        move_image(id, name.unwrap_or_else(|| "the image".into()), to);
    });
    let tree = TreeState::new(current);
    let href = Callback::new(move |f: FolderPath| {
        view_state.with(|v| v.opening(f, SUBFOLDERS_INSIDE_FOLDERS).href("/images", SUBFOLDERS_INSIDE_FOLDERS))
    });
    let upload_folder = RwSignal::new(None::<FolderPath>);
    let upload_files = Callback::new(move |files: Vec<PickedFile>| {
        let pool_id = pool.get_untracked();
        let Some(p) = pools.get_untracked().into_iter().find(|p| p.id == pool_id) else { return };
        for f in files {
            uploads.start(f, &p, upload_folder.get_untracked().unwrap_or_else(|| current.get_untracked()));
        }
    });
    let on_search = Callback::new(move |q: String| go.run(ListView { q, ..view_state.get_untracked() }));

    view! {
        <Title text="Images" />
        <PageDropZone on_files=upload_files enabled=drops>
            <section class="page">
                <div class="page-head">
                    <h1>"Images"</h1>
                    {move || latest.get().map(|d| sync_badge(d.status))}
                    {search_box(view_state.get_untracked().q, "Search images by name", on_search, hydrated)}
                    {writable.then(|| view! {
                        <button class="btn" type="button" data-testid="download-open" disabled=move || !hydrated.get()
                            on:click=move |_| open(Dialog::Download)>
                            "Download from URL"
                        </button>
                        <button class="btn" type="button" data-testid="new-folder" disabled=move || !hydrated.get()
                            on:click=move |_| open(Dialog::NewFolder)>
                            "New folder"
                        </button>
                    })}
                </div>
                <Notice notice=actions.notice />
                <div class="columns">
                    <aside class="sidebar">
                        <h2>"Folders"</h2>
                        <Transition fallback=loading>
                            {move || data.get().map(|r| r.map(|d| view! { <FolderTree listing=d.folders state=tree current href on_drop /> }))}
                        </Transition>
                        <h2>"Storage pools"</h2>
                        {pool_list(pools)}
                    </aside>
                    <div class="main-pane">
                        <div class="toolbar">
                            <Breadcrumb current href />
                            <span class="spacer"></span>
                            <label class="small">
                                <input type="checkbox" data-testid="subfolders" disabled=move || !hydrated.get()
                                    prop:checked=move || view_state.get().subfolders
                                    on:change=move |ev| go.run(ListView { subfolders: event_target_checked(&ev), ..view_state.get_untracked() }) />
                                " Include subfolders"
                            </label>
                            {writable.then(|| folder_buttons(current, latest, hydrated, Callback::new(open)))}
                        </div>
                        {writable.then(|| view! { <UploadPanel uploads pools folders current enabled=hydrated pool folder=upload_folder /> })}
                        <Transfers node_id=Signal::stored(None) writable started=actions.done
                            on_landed=Callback::new(move |_| landed.update(|n| *n += 1)) />
                        <Transition fallback=loading>
                            {move || data.get().map(|r| match r {
                                Err(error) => error_notice(error).into_any(),
                                Ok(d) => {
                                    let images = paged.all(&d.images);
                                    let count = view_state.with(|v| shown_count(images.len(), Some(d.folders.count(&v.folder).total), v));
                                    let list = if images.is_empty() {
                                        let searching = view_state.with(|v| !v.q.is_empty());
                                        if searching {
                                            empty_state("No image matches", "Clear the search to see every image in this folder.")
                                        } else {
                                            empty_state(
                                                "This folder is empty",
                                                "Upload an ISO here, drag one onto a folder in the tree, or copy files into a pool's iso/ directory.",
                                            )
                                        }.into_any()
                                    } else {
                                        let context = TableContext::host(d.pools.pools);
                                        let columns: &'static [Column] = if view_state.with(|v| v.subfolders) {
                                            &[Column::Folder, Column::Pool, Column::Checksum]
                                        } else {
                                            &[Column::Pool, Column::Checksum]
                                        };
                                        view! {
                                            <ImageTable images context columns draggable=writable writable
                                                on_move=Callback::new(move |i| open(Dialog::Move(i)))
                                                on_delete=Callback::new(move |i| open(Dialog::Delete(i))) />
                                        }.into_any()
                                    };
                                    view! { {list} {count} }.into_any()
                                }
                            })}
                        </Transition>
                        {load_more_button(paged, hydrated)}
                    </div>
                </div>
            </section>
        </PageDropZone>
        {move || dialog.get().map(|d| match d {
            Dialog::NewFolder => view! { <NewFolderDialog parent=current.get_untracked() actions /> }.into_any(),
            Dialog::Download => view! {
                <DownloadDialog
                    targets=vec![Target { node_id: None, name: "This host".into(), pools: pools.get_untracked() }]
                    folder=current.get_untracked()
                    on_submit=Callback::new(move |(_, req): (Option<crate::model::NodeId>, crate::model::DownloadRequest)| {
                        actions.call(move |api| async move {
                            api.download(None, &req).await?;
                            Ok(format!("Downloading {}: follow it under Transfers.", req.url))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            Dialog::RenameFolder(from) => view! {
                <FolderNameDialog
                    title=format!("Rename {from}")
                    label="New path".into()
                    parent=None
                    initial=from.to_string()
                    submit_label="Rename"
                    on_submit=Callback::new(move |to: FolderPath| {
                        let from = from.clone();
                        actions.call(move |api| async move {
                            api.rename_folder(from.as_str(), to.as_str()).await?;
                            Ok(format!("Renamed {from} to {to}; everything in it moved along."))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            Dialog::DeleteFolder(f) => view! {
                <ConfirmDialog
                    title=format!("Delete {f}?")
                    message=format!("The empty folder {f} and any empty folders inside it will be removed.")
                    confirm_label="Delete folder"
                    on_confirm=Callback::new(move |_| {
                        let f = f.clone();
                        actions.call(move |api| async move {
                            api.delete_folder(f.as_str()).await?;
                            Ok(format!("Deleted {f}."))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            Dialog::Move(image) => view! {
                <MoveDialog
                    subject=image.filename.clone()
                    folders=folders.get_untracked()
                    current=image.folder_path.clone()
                    on_move=Callback::new(move |to: FolderPath| move_image(image.id.to_string(), image.filename.clone(), to))
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            Dialog::Delete(image) => view! {
                <ConfirmDialog
                    title=format!("Delete {}?", image.filename)
                    message=format!(
                        "{} ({}) will be deleted from pool {}. This removes the file from disk and cannot be undone.",
                        image.filename, format::bytes(image.size_bytes), image.pool()
                    )
                    confirm_label="Delete image"
                    on_confirm=Callback::new(move |_| {
                        let image = image.clone();
                        actions.call(move |api| async move {
                            api.delete_image(&image.id.to_string()).await?;
                            Ok(format!("Deleted {}.", image.filename))
                        })
                    })
                    on_close=actions.close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
        })}
    }
}

/// "Rename folder" and "Delete folder" for the open folder (the root and default folders stay).
fn folder_buttons(
    current: Signal<FolderPath>,
    latest: RwSignal<Option<HostData>>,
    enabled: ReadSignal<bool>,
    on_open: Callback<Dialog>,
) -> impl IntoView {
    move || {
        let f = current.get();
        let renamable = !f.is_root();
        let deletable = renamable
            && !DEFAULT_FOLDERS.contains(&f.as_str())
            && latest.with(|d| d.as_ref().is_some_and(|d| d.folders.count(&f).total == 0));
        let (rf, df) = (f.clone(), f);
        view! {
            <button class="btn btn-small" type="button" data-testid="rename-folder"
                disabled=move || !enabled.get() || !renamable
                on:click=move |_| on_open.run(Dialog::RenameFolder(rf.clone()))>"Rename folder"</button>
            <button class="btn btn-small btn-danger" type="button" data-testid="delete-folder"
                disabled=move || !enabled.get() || !deletable
                title=if deletable { "Delete this empty folder" } else { "Only an empty folder that is not a default one can be deleted" }
                on:click=move |_| on_open.run(Dialog::DeleteFolder(df.clone()))>"Delete folder"</button>
        }
    }
}
