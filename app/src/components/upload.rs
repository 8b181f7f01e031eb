//! Uploads from the browser: pick files or drop them, choose the pool (with its free space) and the
//! folder, watch each file's progress (bytes, rate, time left), cancel.

use leptos::{ev::DragEvent, prelude::*};

use crate::browser::{self, PickedFile, UploadHandle};
use crate::format;
use crate::model::{FolderPath, IsoMetadata, NodeId, PoolId, StoragePool, encode_query};
use crate::resumable;

#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    Uploading,
    /// An earlier upload of the same file to the same place stopped at `offset` (a closed tab, a
    /// reload): the admin may resume it or start over.
    Paused {
        url: String,
        fingerprint: String,
        offset: u64,
    },
    Done(String),
    Failed(String),
    Cancelled,
}

impl UploadState {
    /// For `data-state` (the end-to-end tests read it).
    pub fn as_str(&self) -> &'static str {
        match self {
            UploadState::Uploading => "uploading",
            UploadState::Paused { .. } => "paused",
            UploadState::Done(_) => "done",
            UploadState::Failed(_) => "failed",
            UploadState::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Debug)]
pub struct UploadItem {
    pub key: u64,
    pub name: String,
    pub size: u64,
    pub pool: String,
    pub folder: FolderPath,
    pub loaded: u64,
    /// Where this session's sending began (a resumed upload's bytes already on the host).
    pub resumed_from: u64,
    /// A passing word (a dropped connection being retried).
    pub note: Option<String>,
    pub started_ms: f64,
    pub now_ms: f64,
    pub state: UploadState,
}

impl UploadItem {
    fn rate(&self) -> f64 {
        let secs = (self.now_ms - self.started_ms) / 1000.0;
        if secs > 0.2 { self.loaded.saturating_sub(self.resumed_from) as f64 / secs } else { 0.0 }
    }

    fn stats(&self) -> String {
        match &self.state {
            UploadState::Uploading => {
                let rate = self.rate();
                let left = if rate > 0.0 {
                    format::duration_secs((self.size - self.loaded) as f64 / rate)
                } else {
                    "–".into()
                };
                let resumed = match self.resumed_from {
                    0 => String::new(),
                    from => format!(" · resumed at {}", format::bytes(from)),
                };
                let note = self.note.as_ref().map(|n| format!(" · {n}")).unwrap_or_default();
                format!(
                    "{} of {} · {}/s · {} left{resumed}{note}",
                    format::bytes(self.loaded),
                    format::bytes(self.size),
                    format::bytes(rate as u64),
                    left
                )
            }
            UploadState::Paused { offset: 0, .. } => {
                "An earlier upload of this file is on the host. Resume sends what it lacks.".into()
            }
            UploadState::Paused { offset, .. } => format!(
                "{} of {} is already on the host from an earlier upload of this file. Resume sends the rest.",
                format::bytes(*offset),
                format::bytes(self.size)
            ),
            UploadState::Done(checksum) => format!("Uploaded to {} · {}", self.folder, checksum),
            UploadState::Failed(why) => why.clone(),
            UploadState::Cancelled => "Cancelled; nothing was kept.".into(),
        }
    }
}

/// The upload queue of a page.
#[derive(Clone, Copy)]
pub struct Uploads {
    pub items: RwSignal<Vec<UploadItem>>,
    handles: StoredValue<Vec<(u64, UploadHandle)>>,
    /// The files of uploads that may still be (re)started: paused ones.
    files: StoredValue<Vec<(u64, PickedFile)>>,
    next: StoredValue<u64>,
    /// Bumped when an upload finishes, so the page reloads its lists.
    pub finished: RwSignal<u64>,
    /// On the vdc: the host uploads go to, streamed through the vdc (`None` on a host's own page).
    host: Option<Signal<Option<NodeId>>>,
}

impl Uploads {
    pub fn new() -> Self {
        Self {
            items: RwSignal::new(Vec::new()),
            handles: StoredValue::new(Vec::new()),
            files: StoredValue::new(Vec::new()),
            next: StoredValue::new(1),
            finished: RwSignal::new(0),
            host: None,
        }
    }

    /// The library's uploads: onto the host `host` names, through the vdc.
    pub fn through_vdc(host: Signal<Option<NodeId>>) -> Self {
        Self { host: Some(host), ..Self::new() }
    }

    /// Reads the upload `key` (tracked: a reactive closure reruns when the uploads change).
    fn read<T>(&self, key: u64, f: impl FnOnce(&UploadItem) -> T) -> Option<T> {
        self.items.with(|items| items.iter().find(|i| i.key == key).map(f))
    }

    fn update(&self, key: u64, f: impl FnOnce(&mut UploadItem)) {
        self.items.update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.key == key) {
                f(item);
            }
        });
    }

    /// Starts uploading `file` to `pool` (refused at once if it cannot fit) into `folder`.
    pub fn start(&self, file: PickedFile, pool: &StoragePool, folder: FolderPath) {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        let now = browser::now_ms();
        let mut item = UploadItem {
            key,
            name: file.name.clone(),
            size: file.size,
            pool: pool.id.to_string(),
            folder: folder.clone(),
            loaded: 0,
            resumed_from: 0,
            note: None,
            started_ms: now,
            now_ms: now,
            state: UploadState::Uploading,
        };
        let node = self.host.map(|h| h.get_untracked());
        if node == Some(None) {
            item.state = UploadState::Failed("Choose the host to upload to.".into());
            self.items.update(|i| i.push(item));
            return;
        }
        // A remembered upload already holds its room on the host: the pool's free space excludes it.
        let remembered = node.is_none()
            && browser::remembered_upload(&resumable::fingerprint(
                &file.name,
                file.size,
                file.modified_ms,
                &pool.id,
                &folder,
            ))
            .is_some();
        if file.size > pool.free_bytes && !remembered {
            item.state = UploadState::Failed(format!(
                "{} is {}, more than the {} free on pool {}; it was not sent.",
                file.name,
                format::bytes(file.size),
                format::bytes(pool.free_bytes),
                pool.name
            ));
            self.items.update(|i| i.push(item));
            return;
        }
        self.items.update(|i| i.push(item));
        if node.is_none() {
            return self.start_resumable(key, file, pool.id.clone(), folder);
        }
        let node = node.flatten();
        let mut pairs = vec![("pool_id", pool.id.as_str()), ("folder", folder.as_str())];
        if let Some(node) = &node {
            pairs.push(("node_id", node.as_str()));
        }
        let url = format!("/api/v1/storage/upload?{}", encode_query(pairs));
        let this = *self;
        let handle = browser::start_upload(
            &url,
            &file,
            move |loaded| {
                this.update(key, |i| {
                    i.loaded = loaded.min(i.size);
                    i.now_ms = browser::now_ms();
                })
            },
            move |result: Result<IsoMetadata, crate::api::ApiError>| this.finish(key, result),
        );
        self.track(key, handle);
    }

    /// A host page's upload: resumable (tus), so a dropped connection costs one chunk. The same file
    /// picked again for the same place, after a closed tab or a reload, is offered to resume.
    fn start_resumable(&self, key: u64, file: PickedFile, pool: PoolId, folder: FolderPath) {
        let fingerprint = resumable::fingerprint(&file.name, file.size, file.modified_ms, &pool, &folder);
        let Some(url) = browser::remembered_upload(&fingerprint) else {
            return self.send(key, file, pool, folder, fingerprint, None);
        };
        let this = *self;
        this.update(key, |i| i.note = Some("looking for the earlier upload of this file…".into()));
        leptos::task::spawn_local(async move {
            match browser::upload_offset(&url).await {
                Some(offset) => {
                    this.files.update_value(|f| f.push((key, file)));
                    this.update(key, |i| {
                        i.note = None;
                        i.loaded = offset;
                        i.state = UploadState::Paused { url, fingerprint, offset };
                    });
                }
                // Gone from the host (expired, cancelled): a fresh upload.
                None => {
                    browser::discard_upload(&fingerprint, &url);
                    this.update(key, |i| i.note = None);
                    this.send(key, file, pool, folder, fingerprint, None);
                }
            }
        });
    }

    /// Resumes a paused upload (`fresh`: discards what the host has and starts over).
    pub fn resume(&self, key: u64, fresh: bool) {
        let Some(file) = self.files.with_value(|f| f.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone())) else {
            return;
        };
        let Some((pool, folder, state)) = self.read(key, |i| (i.pool.clone(), i.folder.clone(), i.state.clone()))
        else {
            return;
        };
        let (UploadState::Paused { url, fingerprint, offset }, Ok(pool)) = (state, pool.parse::<PoolId>()) else {
            return;
        };
        self.files.update_value(|f| f.retain(|(k, _)| *k != key));
        let resume = if fresh {
            browser::discard_upload(&fingerprint, &url);
            None
        } else {
            Some((url, offset))
        };
        self.send(key, file, pool, folder, fingerprint, resume);
    }

    fn send(
        &self,
        key: u64,
        file: PickedFile,
        pool: PoolId,
        folder: FolderPath,
        fingerprint: String,
        resume: Option<(String, u64)>,
    ) {
        let from = resume.as_ref().map_or(0, |(_, o)| *o);
        self.update(key, |i| {
            i.state = UploadState::Uploading;
            i.loaded = from;
            i.resumed_from = from;
            i.started_ms = browser::now_ms();
        });
        let this = *self;
        let handle = browser::start_resumable(
            fingerprint,
            &file,
            &pool,
            &folder,
            resume.map(|(url, _)| url),
            move |loaded| {
                this.update(key, |i| {
                    i.loaded = loaded.min(i.size);
                    i.now_ms = browser::now_ms();
                })
            },
            move |note| this.update(key, |i| i.note = note),
            move |result| this.finish(key, result),
        );
        self.track(key, handle);
    }

    /// Records how an upload ended (unless it was cancelled meanwhile).
    fn finish(&self, key: u64, result: Result<IsoMetadata, crate::api::ApiError>) {
        self.update(key, |i| {
            if i.state == UploadState::Cancelled {
                return;
            }
            i.now_ms = browser::now_ms();
            i.note = None;
            i.state = match result {
                Ok(meta) => {
                    i.loaded = i.size;
                    UploadState::Done(meta.short_checksum().map(|c| format!("SHA-256 {c}…")).unwrap_or_default())
                }
                Err(e) => UploadState::Failed(format!("{} was not uploaded: {e}", i.name)),
            };
        });
        self.handles.update_value(|h| h.retain(|(k, _)| *k != key));
        self.finished.update(|n| *n += 1);
    }

    fn track(&self, key: u64, handle: Option<UploadHandle>) {
        match handle {
            Some(h) => self.handles.update_value(|hs| hs.push((key, h))),
            None => {
                self.update(key, |i| i.state = UploadState::Failed("This browser could not start the upload.".into()))
            }
        }
    }

    pub fn cancel(&self, key: u64) {
        self.update(key, |i| i.state = UploadState::Cancelled);
        self.handles.with_value(|hs| {
            if let Some((_, h)) = hs.iter().find(|(k, _)| *k == key) {
                h.abort();
            }
        });
    }

    pub fn clear_finished(&self) {
        self.items
            .update(|items| items.retain(|i| matches!(i.state, UploadState::Uploading | UploadState::Paused { .. })));
    }
}

impl Default for Uploads {
    fn default() -> Self {
        Self::new()
    }
}

/// The upload controls: pool and folder choice, a file picker, and the queue with progress.
#[component]
pub fn UploadPanel(
    uploads: Uploads,
    #[prop(into)] pools: Signal<Vec<StoragePool>>,
    #[prop(into)] folders: Signal<Vec<FolderPath>>,
    #[prop(into)] current: Signal<FolderPath>,
    #[prop(into)] enabled: Signal<bool>,
    /// The chosen pool id (shared with the page-wide drop zone).
    pool: RwSignal<String>,
    /// The chosen folder (defaults to the open one).
    folder: RwSignal<Option<FolderPath>>,
) -> impl IntoView {
    let chosen_folder = move || folder.get().unwrap_or_else(|| current.get());
    let start_files = move |files: Vec<PickedFile>| {
        let pool_id = pool.get_untracked();
        let Some(p) = pools.get_untracked().into_iter().find(|p| p.id == pool_id) else { return };
        for f in files {
            uploads.start(f, &p, folder.get_untracked().unwrap_or_else(|| current.get_untracked()));
        }
    };
    let rows = Memo::new(move |_| {
        uploads
            .items
            .with(|items| items.iter().map(|i| (i.key, i.name.clone(), i.size, i.state.clone())).collect::<Vec<_>>())
    });
    view! {
        <section class="card upload-card" aria-label="Upload">
            <div class="toolbar">
                <label class="field">
                    <span class="small muted">"Storage pool"</span>
                    <select
                        data-testid="upload-pool"
                        disabled=move || !enabled.get()
                        prop:value=pool
                        on:change=move |ev| pool.set(event_target_value(&ev))
                    >
                        {move || {
                            pools
                                .get()
                                .into_iter()
                                .map(|p| {
                                    let label = format!("{} — {} free", p.name, format::bytes(p.free_bytes));
                                    view! { <option value=p.id.to_string()>{label}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="field">
                    <span class="small muted">"Folder"</span>
                    <select
                        data-testid="upload-folder"
                        disabled=move || !enabled.get()
                        prop:value=move || chosen_folder().to_string()
                        on:change=move |ev| folder.set(FolderPath::parse(&event_target_value(&ev)).ok())
                    >
                        {move || {
                            folders.get().into_iter().map(|f| view! { <option value=f.to_string()>{f.to_string()}</option> }).collect_view()
                        }}
                    </select>
                </label>
                <span class="spacer"></span>
                <label class="btn btn-primary" class:disabled=move || !enabled.get()>
                    "Choose files…"
                    <input
                        type="file"
                        multiple
                        class="sr-only"
                        accept=".iso,.img,.ova"
                        data-testid="upload-input"
                        disabled=move || !enabled.get()
                        on:change=move |ev| start_files(browser::files_from_input(&ev))
                    />
                </label>
            </div>
            <p class="small muted">"Or drop .iso, .img or .ova files anywhere on this page."</p>
            <Show when=move || uploads.items.with(|i| !i.is_empty())>
                <ul class="uploads" data-testid="uploads">
                    // The rows follow the uploads and their states only; progress updates the bar and the
                    // figures in place, so a row (and its Cancel button) is not rebuilt on every progress event.
                    {move || rows.get().into_iter().map(|(key, name, size, state)| {
                        let uploading = state == UploadState::Uploading;
                        let paused = matches!(state, UploadState::Paused { .. });
                        let class = match state {
                            UploadState::Uploading | UploadState::Paused { .. } => "upload-item",
                            UploadState::Done(_) => "upload-item done",
                            _ => "upload-item failed",
                        };
                        view! {
                            <li class=class data-testid="upload-item" data-state=state.as_str()>
                                <span class="upload-name" title=name.clone()>{name.clone()}</span>
                                {uploading.then(|| view! {
                                    <button class="btn btn-small" type="button" data-testid="upload-cancel" on:click=move |_| uploads.cancel(key)>
                                        "Cancel"
                                    </button>
                                })}
                                {paused.then(|| view! {
                                    <span>
                                        <button class="btn btn-small btn-primary" type="button" data-testid="upload-resume"
                                            on:click=move |_| uploads.resume(key, false)>"Resume"</button>
                                        " "
                                        <button class="btn btn-small" type="button" data-testid="upload-restart"
                                            on:click=move |_| uploads.resume(key, true)>"Start over"</button>
                                    </span>
                                })}
                                <progress max=size.max(1) value=move || uploads.read(key, |i| i.loaded).unwrap_or(0) aria-label=format!("{name} uploaded")></progress>
                                <span class="upload-stats" data-testid="upload-stats">{move || uploads.read(key, UploadItem::stats).unwrap_or_default()}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <button class="btn-link small" type="button" on:click=move |_| uploads.clear_finished()>
                    "Clear finished"
                </button>
            </Show>
        </section>
    }
}

/// Files dragged from the desktop over the page: a full-page drop target.
#[component]
pub fn PageDropZone(
    on_files: Callback<Vec<PickedFile>>,
    #[prop(into)] enabled: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let depth = RwSignal::new(0i32);
    view! {
        <div
            class="page-drop"
            on:dragenter=move |ev: DragEvent| {
                if enabled.get_untracked() && browser::drag_carries_files(&ev) {
                    ev.prevent_default();
                    depth.update(|d| *d += 1);
                }
            }
            on:dragover=move |ev: DragEvent| {
                if enabled.get_untracked() && browser::drag_carries_files(&ev) {
                    ev.prevent_default();
                }
            }
            on:dragleave=move |ev: DragEvent| {
                if browser::drag_carries_files(&ev) {
                    depth.update(|d| *d = (*d - 1).max(0));
                }
            }
            on:drop=move |ev: DragEvent| {
                if browser::drag_carries_files(&ev) {
                    ev.prevent_default();
                    depth.set(0);
                    on_files.run(browser::files_from_drop(&ev));
                }
            }
        >
            <Show when=move || { depth.get() > 0 }>
                <div class="page-drop-overlay" data-testid="drop-overlay">"Drop to upload"</div>
            </Show>
            {children()}
        </div>
    }
}
