//! The node's images page (the seed's QHCI StorageImages): folder tree, breadcrumb, the open folder's
//! images, folders, uploads, moves (drag and drop, or "Move to…"), deletes, search.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{Api, ApiError};
use crate::browser::{self, PickedFile};
use crate::components::{
    actions::{Actions, NewFolderDialog, Notice},
    dialog::{ConfirmDialog, FolderNameDialog, MoveDialog},
    folder_tree::{Breadcrumb, FolderTree},
    layout::use_hydrated,
    status::{EmptyState, ErrorNotice, Loading},
    upload::{PageDropZone, UploadPanel, Uploads},
};
use crate::format;
use crate::model::{
    DEFAULT_FOLDERS, FolderListing, FolderPath, ImageList, ImageQuery, IsoMetadata, NodeSyncStatus, PoolList,
    encode_query,
};

/// Everything the page shows, read in one go (on the server for the first render).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct PageData {
    status: NodeSyncStatus,
    pools: PoolList,
    folders: FolderListing,
    images: ImageList,
}

async fn load(api: Api, folder: FolderPath) -> Result<PageData, ApiError> {
    let query = ImageQuery { folder: Some(folder.to_string()), ..Default::default() };
    Ok(PageData {
        status: api.sync_status().await?,
        pools: api.pools().await?,
        folders: api.folders().await?,
        images: api.list_images(&query).await?,
    })
}

fn folder_href(folder: &FolderPath) -> String {
    if folder.is_root() { "/images".into() } else { format!("/images?{}", encode_query([("folder", folder.as_str())])) }
}

/// Which dialog is open.
#[derive(Clone, Debug, PartialEq)]
enum Dialog {
    NewFolder,
    RenameFolder(FolderPath),
    DeleteFolder(FolderPath),
    Move(IsoMetadata),
    Delete(IsoMetadata),
}

#[component]
pub fn NodeImagesPage() -> impl IntoView {
    let api = Api::current();
    let query = use_query_map();
    let current = Memo::new(move |_| {
        query.with(|q| q.get("folder").and_then(|f| FolderPath::parse(&f).ok()).unwrap_or_default())
    });
    let uploads = Uploads::new();
    let dialog = RwSignal::new(None::<Dialog>);
    let close = Callback::new(move |_: ()| dialog.set(None));
    let actions = Actions::new(close);
    let data = Resource::new(move || (current.get(), actions.done.get(), uploads.finished.get()), {
        let api = api.clone();
        move |(folder, _, _)| load(api.clone(), folder)
    });
    let hydrated = use_hydrated();
    let search = RwSignal::new(String::new());
    let pool = RwSignal::new(String::new());
    let upload_folder = RwSignal::new(None::<FolderPath>);

    // The last data that arrived, for controls that live outside the Suspense.
    let latest = RwSignal::new(None::<PageData>);
    Effect::new(move |_| {
        if let Some(Ok(d)) = data.get() {
            if pool.get_untracked().is_empty()
                && let Some(first) = d.pools.pools.first()
            {
                pool.set(first.id.clone());
            }
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
        let api = Api::current();
        actions.run(async move {
            api.move_image(&image_id, to.as_str()).await?;
            Ok(format!("Moved {name} to {to}."))
        });
    };
    let on_drop = Callback::new(move |(id, to): (String, FolderPath)| {
        let name = latest.with_untracked(|d| {
            d.as_ref().and_then(|d| d.images.images.iter().find(|i| i.id.to_string() == id).map(|i| i.filename.clone()))
        });
        move_image(id, name.unwrap_or_else(|| "the image".into()), to);
    });
    let href = Callback::new(|f: FolderPath| folder_href(&f));
    let upload_files = Callback::new(move |files: Vec<PickedFile>| {
        let pool_id = pool.get_untracked();
        let Some(p) = pools.get_untracked().into_iter().find(|p| p.id == pool_id) else { return };
        for f in files {
            uploads.start(f, &p, upload_folder.get_untracked().unwrap_or_else(|| current.get_untracked()));
        }
    });

    view! {
        <Title text="Images" />
        <PageDropZone on_files=upload_files enabled=hydrated>
            <section class="page">
                <div class="page-head">
                    <h1>"Images"</h1>
                    {move || latest.get().map(|d| view! { <SyncBadge status=d.status /> })}
                    <input
                        class="search"
                        type="search"
                        placeholder="Search this folder by name"
                        aria-label="Search this folder by name"
                        data-testid="search"
                        disabled=move || !hydrated.get()
                        prop:value=search
                        on:input=move |ev| search.set(event_target_value(&ev))
                    />
                    <button
                        class="btn"
                        type="button"
                        data-testid="new-folder"
                        disabled=move || !hydrated.get()
                        on:click=move |_| open(Dialog::NewFolder)
                    >
                        "New folder"
                    </button>
                </div>
                <Notice notice=actions.notice />
                <div class="columns">
                    <aside class="sidebar">
                        <h2>"Folders"</h2>
                        <Transition fallback=Loading>
                            {move || data.get().map(|r| r.map(|d| view! { <FolderTree listing=d.folders current=current href on_drop /> }))}
                        </Transition>
                        <h2>"Storage pools"</h2>
                        <ul class="pools" data-testid="pools">
                            {move || {
                                pools
                                    .get()
                                    .into_iter()
                                    .map(|p| {
                                        let used = p.capacity_bytes.saturating_sub(p.free_bytes);
                                        view! {
                                            <li>
                                                <strong>{p.name.clone()}</strong>
                                                <span class="small muted">
                                                    {format!("{} free of {} · {} images", format::bytes(p.free_bytes), format::bytes(p.capacity_bytes), p.image_count)}
                                                </span>
                                                <progress max=p.capacity_bytes.max(1) value=used aria-label=format!("{} used", p.name)></progress>
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </ul>
                    </aside>
                    <div class="main-pane">
                        <div class="toolbar">
                            <Breadcrumb current=current href />
                            <span class="spacer"></span>
                            {move || {
                                let f = current.get();
                                let renamable = !f.is_root();
                                let deletable = renamable && !DEFAULT_FOLDERS.contains(&f.as_str())
                                    && latest.with(|d| d.as_ref().is_some_and(|d| d.folders.count(&f).total == 0));
                                let (rf, df) = (f.clone(), f.clone());
                                view! {
                                    <button class="btn btn-small" type="button" data-testid="rename-folder"
                                        disabled=move || !hydrated.get() || !renamable
                                        on:click=move |_| open(Dialog::RenameFolder(rf.clone()))>"Rename folder"</button>
                                    <button class="btn btn-small btn-danger" type="button" data-testid="delete-folder"
                                        disabled=move || !hydrated.get() || !deletable
                                        title=if deletable { "Delete this empty folder" } else { "Only an empty folder that is not a default one can be deleted" }
                                        on:click=move |_| open(Dialog::DeleteFolder(df.clone()))>"Delete folder"</button>
                                }
                            }}
                        </div>
                        <UploadPanel uploads pools folders current enabled=hydrated pool folder=upload_folder />
                        <Transition fallback=Loading>
                            {move || data.get().map(|r| match r {
                                    Ok(d) => view! {
                                        <ImageTable
                                            images=d.images.images
                                            pools=d.pools.pools
                                            search
                                            on_move=Callback::new(move |i| open(Dialog::Move(i)))
                                            on_delete=Callback::new(move |i| open(Dialog::Delete(i)))
                                        />
                                    }.into_any(),
                                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                            })}
                        </Transition>
                    </div>
                </div>
            </section>
        </PageDropZone>
        {move || dialog.get().map(|d| match d {
            Dialog::NewFolder => view! { <NewFolderDialog parent=current.get_untracked() actions /> }.into_any(),
            Dialog::RenameFolder(from) => view! {
                <FolderNameDialog
                    title=format!("Rename {from}")
                    label="New path".into()
                    parent=None
                    initial=from.to_string()
                    submit_label="Rename"
                    on_submit=Callback::new(move |to: FolderPath| {
                        let (api, from) = (Api::current(), from.clone());
                        actions.run(async move {
                            api.rename_folder(from.as_str(), to.as_str()).await?;
                            Ok(format!("Renamed {from} to {to}; everything in it moved along."))
                        })
                    })
                    on_close=close
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
                        let (api, f) = (Api::current(), f.clone());
                        actions.run(async move {
                            api.delete_folder(f.as_str()).await?;
                            Ok(format!("Deleted {f}."))
                        })
                    })
                    on_close=close
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
                    on_close=close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
            Dialog::Delete(image) => view! {
                <ConfirmDialog
                    title=format!("Delete {}?", image.filename)
                    message=format!(
                        "{} ({}) will be deleted from pool {}. This removes the file from disk and cannot be undone.",
                        image.filename, format::bytes(image.size_bytes), image.storage_pool_id.clone().unwrap_or_default()
                    )
                    confirm_label="Delete image"
                    on_confirm=Callback::new(move |_| {
                        let (api, image) = (Api::current(), image.clone());
                        actions.run(async move {
                            api.delete_image(&image.id.to_string()).await?;
                            Ok(format!("Deleted {}.", image.filename))
                        })
                    })
                    on_close=close
                    busy=actions.busy
                    error=actions.error
                />
            }.into_any(),
        })}
    }
}

/// The node's own sync state, in a word.
#[component]
fn SyncBadge(status: NodeSyncStatus) -> impl IntoView {
    let (class, text, title) = match (&status.vdc_url, status.pending, &status.last_error) {
        (None, _, _) => ("badge", "Standalone".to_owned(), "This node does not report to a control plane.".to_owned()),
        (Some(url), 0, _) if status.last_error_at <= status.last_success_at => {
            ("badge badge-ok", "In sync".to_owned(), format!("Reporting to {url}"))
        }
        (Some(url), n, err) => {
            let why = err.clone().unwrap_or_default();
            ("badge badge-warn", format!("{n} change(s) to sync"), format!("Reporting to {url}. {why}"))
        }
    };
    view! {
        <span class=class title=title data-testid="sync-badge">
            {format!("{} · {}", status.node_name, text)}
        </span>
    }
}

#[component]
fn ImageTable(
    images: Vec<IsoMetadata>,
    pools: Vec<crate::model::StoragePool>,
    search: RwSignal<String>,
    on_move: Callback<IsoMetadata>,
    on_delete: Callback<IsoMetadata>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let images = StoredValue::new(images);
    let pool_names = StoredValue::new(pools);
    let visible = move || {
        let needle = format::lowercase(search.get().trim());
        images.with_value(|all| {
            all.iter()
                .filter(|i| {
                    needle.is_empty()
                        || format::lowercase(&i.name).contains(&needle)
                        || format::lowercase(&i.filename).contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        {move || {
            let rows = visible();
            if rows.is_empty() {
                let searching = !search.get().trim().is_empty();
                return view! {
                    <EmptyState title=if searching { "No image matches" } else { "This folder is empty" }>
                        {if searching {
                            "Clear the search to see every image in this folder."
                        } else {
                            "Upload an ISO here, drag one onto a folder in the tree, or copy files into a pool's iso/ directory."
                        }}
                    </EmptyState>
                }.into_any();
            }
            view! {
                <div class="table-wrap">
                    <table class="images" data-testid="images">
                        <thead>
                            <tr>
                                <th>"Name"</th>
                                <th class="num">"Size"</th>
                                <th class="hide-narrow">"OS"</th>
                                <th class="hide-narrow">"Pool"</th>
                                <th class="hide-narrow">"Checksum"</th>
                                <th>"State"</th>
                                <th class="cell-actions"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|image| {
                                let id = image.id.to_string();
                                let pool = image.storage_pool_id.clone().unwrap_or_default();
                                let pool_name = pool_names.with_value(|ps| ps.iter().find(|p| p.id == pool).map(|p| p.name.clone())).unwrap_or(pool);
                                let os = format::os_label(image.os_family.as_deref(), image.os_distribution.as_deref(), image.os_version.as_deref());
                                let checksum = image.checksum.clone();
                                let short = image.short_checksum().map(str::to_owned);
                                let (for_move, for_delete) = (image.clone(), image.clone());
                                let drag_id = id.clone();
                                view! {
                                    <tr draggable="true" data-testid="image-row" data-id=id.clone() data-name=image.filename.clone()
                                        on:dragstart=move |ev| browser::drag_start_image(&ev, &drag_id)>
                                        <td>
                                            <div class="cell-name">{image.name.clone()}</div>
                                            <div class="cell-sub">{image.filename.clone()}</div>
                                        </td>
                                        <td class="num nowrap">{format::bytes(image.size_bytes)}</td>
                                        <td class="hide-narrow">{os.unwrap_or_else(|| "–".to_owned())}</td>
                                        <td class="hide-narrow">{pool_name}</td>
                                        <td class="hide-narrow nowrap">
                                            {match (short, checksum) {
                                                (Some(short), Some(full)) => view! {
                                                    <code title=full.clone() data-testid="checksum">{short}</code>
                                                    " "
                                                    <button class="btn-link small" type="button" title="Copy the full SHA-256"
                                                        disabled=move || !hydrated.get()
                                                        on:click=move |_| browser::copy_text(full.trim_start_matches("sha256:"))>"Copy"</button>
                                                }.into_any(),
                                                _ => view! { <span class="muted">"–"</span> }.into_any(),
                                            }}
                                        </td>
                                        <td>
                                            {if image.is_ready() {
                                                view! { <span class="badge badge-ok">"Ready"</span> }.into_any()
                                            } else {
                                                view! { <span class="badge badge-info" title="The node is computing the SHA-256">"Hashing…"</span> }.into_any()
                                            }}
                                        </td>
                                        <td class="cell-actions">
                                            <button class="btn btn-small" type="button" data-testid="move-image"
                                                disabled=move || !hydrated.get()
                                                on:click=move |_| on_move.run(for_move.clone())>"Move to…"</button>
                                            " "
                                            <button class="btn btn-small btn-danger" type="button" data-testid="delete-image"
                                                disabled=move || !hydrated.get()
                                                on:click=move |_| on_delete.run(for_delete.clone())>"Delete"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}
