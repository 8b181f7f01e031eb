//! Transfers: a host's tasks (downloads from a URL, copies from another host, resumable uploads) with
//! progress, rate and time left, the outcome of recent ones, and Cancel; and the dialogs that start one:
//! "Download from URL" and "Copy to host…". The host page shows its own node's; the library a chosen
//! host's, through the vdc.

use std::collections::HashSet;

use leptos::{prelude::*, task::spawn_local};

use crate::api::{Api, ApiError};
use crate::components::dialog::Modal;
use crate::format;
use crate::model::{
    CopyRequest, DownloadRequest, FolderPath, IsoMetadata, NodeId, StoragePool, Task, TaskKind, TaskList, TaskState,
    is_sha256_checksum,
};

/// How often the list is read again while a transfer runs.
const POLL_MS: u64 = 1000;

fn kind_label(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Upload => "Upload",
        TaskKind::Download => "Download",
        TaskKind::Copy => "Copy",
    }
}

/// "12 MiB of 3.9 GiB · 48 MiB/s · 1 min left", or the outcome.
fn stats(t: &Task) -> String {
    match t.state {
        TaskState::Running => {
            let of = t.bytes_total.map(|n| format!(" of {}", format::bytes(n))).unwrap_or_default();
            let rate = t.bytes_per_second.map(|r| format!(" · {}/s", format::bytes(r))).unwrap_or_default();
            let left =
                t.seconds_left.map(|s| format!(" · {} left", format::duration_secs(s as f64))).unwrap_or_default();
            format!("{}{of}{rate}{left}", format::bytes(t.bytes_done))
        }
        TaskState::Succeeded => {
            format!("Done: {} in {}", format::bytes(t.bytes_done), t.folder.clone().unwrap_or_default())
        }
        TaskState::Failed => t.error.clone().unwrap_or_else(|| "Failed.".into()),
        TaskState::Cancelled => "Cancelled; nothing was kept.".into(),
    }
}

/// A host's transfers, read again every second while one runs.
#[component]
pub fn Transfers(
    /// `None`: the page's own node; `Some`: that host, through the vdc.
    #[prop(into)]
    node_id: Signal<Option<NodeId>>,
    writable: bool,
    /// In a sidebar: no card of its own.
    #[prop(optional)]
    compact: bool,
    /// Bumped by the page when it started a transfer.
    #[prop(into)]
    started: Signal<u64>,
    /// Called when a transfer this panel saw running has made an image.
    on_landed: Callback<()>,
) -> impl IntoView {
    let poll = RwSignal::new(0u64);
    let tasks = RwSignal::new(None::<Result<TaskList, ApiError>>);
    let running = StoredValue::new(HashSet::<uuid::Uuid>::new());
    let error = RwSignal::new(None::<String>);
    // Effects run in the browser only: the panel fills in after hydration.
    Effect::new(move |_| {
        started.track();
        poll.track();
        let node = node_id.get();
        spawn_local(async move {
            let got = Api::current().tasks(node.as_ref().map(NodeId::as_str)).await;
            if let Ok(list) = &got {
                let landed = running.with_value(|was| {
                    list.tasks.iter().any(|t| was.contains(&t.id) && t.state == TaskState::Succeeded)
                });
                let now: HashSet<_> =
                    list.tasks.iter().filter(|t| t.state == TaskState::Running).map(|t| t.id).collect();
                let more = !now.is_empty();
                running.set_value(now);
                if landed {
                    on_landed.run(());
                }
                if more {
                    set_timeout(
                        move || {
                            poll.try_update(|n| *n += 1);
                        },
                        std::time::Duration::from_millis(POLL_MS),
                    );
                }
            }
            tasks.try_set(Some(got));
        });
    });
    let cancel = move |id: uuid::Uuid| {
        let node = node_id.get_untracked();
        spawn_local(async move {
            match Api::current().cancel_task(&id.to_string(), node.as_ref().map(NodeId::as_str)).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e.to_string())),
            }
            poll.update(|n| *n += 1);
        });
    };
    view! {
        <section class=if compact { "transfers compact" } else { "card transfers" } aria-label="Transfers" data-testid="transfers">
            <h2>"Transfers"</h2>
            {move || error.get().map(|e| view! { <div class="notice notice-error" role="alert">{e}</div> })}
            {move || match tasks.get() {
                None => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="notice notice-error" role="alert">{e.to_string()}</div> }.into_any(),
                Some(Ok(list)) if list.tasks.is_empty() => {
                    view! { <p class="muted small">"No transfers yet. Downloads, copies and resumable uploads show here."</p> }.into_any()
                }
                Some(Ok(list)) => view! {
                    <ul class="uploads">
                        {list.tasks.into_iter().take(20).map(|t| {
                            let id = t.id;
                            let class = match t.state {
                                TaskState::Failed => "upload-item transfer failed",
                                TaskState::Succeeded => "upload-item transfer done",
                                _ => "upload-item transfer",
                            };
                            let can_cancel = writable && t.state == TaskState::Running;
                            let source = t.source.clone().map(|s| view! { <div class="cell-sub transfer-source" title=s.clone()>"from " {s.clone()}</div> });
                            view! {
                                <li class=class data-testid="transfer" data-state=t.state.as_str() data-kind=t.kind.as_str()
                                    data-name=t.filename.clone()>
                                    <div class="transfer-head">
                                        <span class="badge">{kind_label(t.kind)}</span>
                                        <span class="upload-name" title=t.filename.clone()>{t.filename.clone()}</span>
                                    </div>
                                    {can_cancel.then(|| view! {
                                        <button class="btn btn-small" type="button" data-testid="transfer-cancel"
                                            on:click=move |_| cancel(id)>"Cancel"</button>
                                    })}
                                    {source}
                                    {(t.state == TaskState::Running).then(|| view! {
                                        <progress max=t.bytes_total.unwrap_or(0).max(1) value=t.bytes_done
                                            aria-label=format!("{} transferred", t.filename)></progress>
                                    })}
                                    <span class="upload-stats" data-testid="transfer-stats">{stats(&t)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

/// Where a transfer may go: a host (`None`: the page's own node) and its pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub node_id: Option<NodeId>,
    pub name: String,
    pub pools: Vec<StoragePool>,
}

/// Host (when there is a choice) and pool, with each pool's free room.
#[component]
fn TargetPicker(targets: StoredValue<Vec<Target>>, host: RwSignal<usize>, pool: RwSignal<String>) -> impl IntoView {
    let pools = move || targets.with_value(|t| t.get(host.get()).map(|t| t.pools.clone()).unwrap_or_default());
    let several = targets.with_value(|t| t.len() > 1);
    view! {
        {several.then(|| view! {
            <label>
                "Host"
                <select data-testid="target-host" prop:value=move || host.get().to_string()
                    on:change=move |ev| {
                        host.set(event_target_value(&ev).parse().unwrap_or(0));
                        pool.set(pools().first().map(|p| p.id.to_string()).unwrap_or_default());
                    }>
                    {targets.with_value(|t| t.iter().enumerate().map(|(i, t)| {
                        view! { <option value=i.to_string()>{t.name.clone()}</option> }
                    }).collect_view())}
                </select>
            </label>
        })}
        <label>
            "Storage pool"
            <select data-testid="target-pool" prop:value=pool on:change=move |ev| pool.set(event_target_value(&ev))>
                {move || pools().into_iter().map(|p| {
                    let label = format!("{} — {} free", p.name, format::bytes(p.free_bytes));
                    view! { <option value=p.id.to_string()>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

fn first_pool(targets: &[Target]) -> String {
    targets.first().and_then(|t| t.pools.first()).map(|p| p.id.to_string()).unwrap_or_default()
}

/// What a typed URL, checksum and folder make, or why not (the server checks again, and more).
fn download_request(
    url: &str,
    pool: &str,
    folder: &str,
    filename: &str,
    checksum: &str,
) -> Result<DownloadRequest, String> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("Give an http:// or https:// URL of the image file.".into());
    }
    let checksum = checksum.trim();
    if !checksum.is_empty() && !is_sha256_checksum(checksum) {
        return Err("The checksum is written sha256: followed by 64 hexadecimal digits.".into());
    }
    let folder = folder.trim();
    let folder = if folder.is_empty() { None } else { Some(FolderPath::parse(folder).map_err(|e| e.to_string())?) };
    Ok(DownloadRequest {
        url: url.to_owned(),
        pool_id: pool.parse().map_err(|_| "Choose a storage pool.".to_owned())?,
        folder,
        filename: Some(filename.trim().to_owned()).filter(|f| !f.is_empty()),
        checksum: Some(checksum.to_owned()).filter(|c| !c.is_empty()),
    })
}

/// "Download from URL" into a pool of one of `targets`.
#[component]
pub fn DownloadDialog(
    targets: Vec<Target>,
    folder: FolderPath,
    on_submit: Callback<(Option<NodeId>, DownloadRequest)>,
    on_close: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let pool = RwSignal::new(first_pool(&targets));
    let targets = StoredValue::new(targets);
    let host = RwSignal::new(0usize);
    let (url, filename, checksum) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let folder = RwSignal::new(folder.to_string());
    let touched = RwSignal::new(false);
    let parsed =
        Memo::new(move |_| download_request(&url.get(), &pool.get(), &folder.get(), &filename.get(), &checksum.get()));
    let problem = move || match parsed.get() {
        Err(e) if touched.get() => Some(e),
        _ => error.get(),
    };
    let text = |label: &'static str, value: RwSignal<String>, testid: &'static str, hint: &'static str, focus: bool| {
        view! {
            <label>
                {label}
                <input type="text" autofocus=focus data-testid=testid prop:value=value
                    on:input=move |ev| value.set(event_target_value(&ev)) />
                <span class="field-hint">{hint}</span>
            </label>
        }
    };
    view! {
        <Modal title="Download from URL".into() on_close testid="download-dialog">
            <form class="form" on:submit=move |ev| {
                ev.prevent_default();
                touched.set(true);
                if let Ok(req) = parsed.get_untracked() {
                    let node = targets.with_value(|t| t.get(host.get_untracked()).and_then(|t| t.node_id.clone()));
                    on_submit.run((node, req));
                }
            }>
                {text("URL", url, "download-url", "The image file itself (http or https), e.g. a mirror's .iso link.", true)}
                <TargetPicker targets host pool />
                {text("Folder", folder, "download-folder", "Empty: the folder of the OS the image turns out to be.", false)}
                {text("File name", filename, "download-filename", "Empty: the URL's last part.", false)}
                {text("Checksum", checksum, "download-checksum", "Optional sha256:… — the file is kept only if it matches.", false)}
                <span class="field-error" role="alert" data-testid="download-error">{problem}</span>
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button class="btn btn-primary" type="submit" data-testid="download-submit"
                        disabled=move || busy.get() || (touched.get() && parsed.get().is_err())>"Download"</button>
                </div>
            </form>
        </Modal>
    }
}

/// "Copy to host…": the image to another host's pool, into the same folder unless another is typed.
#[component]
pub fn CopyDialog(
    image: IsoMetadata,
    targets: Vec<Target>,
    on_submit: Callback<CopyRequest>,
    on_close: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let pool = RwSignal::new(first_pool(&targets));
    let targets = StoredValue::new(targets);
    let host = RwSignal::new(0usize);
    let folder = RwSignal::new(image.folder_path.to_string());
    let parsed = Memo::new(move |_| {
        let node_id =
            targets.with_value(|t| t.get(host.get()).and_then(|t| t.node_id.clone())).ok_or("Choose a host.")?;
        let pool_id = pool.get().parse().map_err(|_| "Choose a storage pool.".to_owned())?;
        let folder = FolderPath::parse(folder.get().trim()).map_err(|e| e.to_string())?;
        Ok::<_, String>(CopyRequest { node_id, pool_id, folder: Some(folder) })
    });
    let problem = move || parsed.get().err().or_else(|| error.get());
    let none = targets.with_value(|t| t.is_empty());
    view! {
        <Modal title=format!("Copy {} to another host", image.filename) on_close testid="copy-dialog">
            <form class="form" on:submit=move |ev| {
                ev.prevent_default();
                if let Ok(req) = parsed.get_untracked() {
                    on_submit.run(req);
                }
            }>
                <p class="muted small">{format!(
                    "The host you choose reads the file from {} and keeps it only if its checksum matches; the library then shows it on both.",
                    image.node()
                )}</p>
                {none.then(|| view! { <div class="notice notice-warn">"No other host is online to copy to."</div> })}
                <TargetPicker targets host pool />
                <label>
                    "Folder"
                    <input type="text" data-testid="copy-folder" prop:value=folder on:input=move |ev| folder.set(event_target_value(&ev)) />
                </label>
                <span class="field-error" role="alert" data-testid="copy-error">{problem}</span>
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button class="btn btn-primary" type="submit" data-testid="copy-submit" autofocus
                        disabled=move || busy.get() || parsed.get().is_err()>"Copy"</button>
                </div>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_form_is_checked_as_the_server_would() {
        let ok = download_request(" https://m.example/d.iso ", "local", "/Linux", "", "").unwrap();
        assert_eq!(
            (ok.url.as_str(), ok.folder.map(|f| f.to_string()), ok.filename),
            ("https://m.example/d.iso", Some("/Linux".into()), None)
        );
        assert!(download_request("ftp://m.example/d.iso", "local", "", "", "").unwrap_err().contains("http"));
        assert!(download_request("https://m/d.iso", "local", "", "", "md5:abc").unwrap_err().contains("sha256"));
        assert!(download_request("https://m/d.iso", "", "", "", "").unwrap_err().contains("pool"));
        assert!(download_request("https://m/d.iso", "local", "/a//b", "", "").unwrap_err().contains("two slashes"));
        let sum = format!("sha256:{}", "a".repeat(64));
        assert_eq!(download_request("https://m/d.iso", "local", "", "x.iso", &sum).unwrap().checksum, Some(sum));
    }
}
