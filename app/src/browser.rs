//! The browser APIs the pages use (drag and drop, files, uploads with progress, clipboard, server-sent
//! events), behind one small surface. During server-side rendering there is no browser: the same
//! functions exist and do nothing, so components need no `cfg` of their own.

use leptos::ev::{DragEvent, Event};

use crate::api::ApiError;
use crate::model::{FolderPath, IsoMetadata, PoolId};

/// The drag-and-drop type that carries an image id between the table and the folder tree.
pub const IMAGE_DRAG_TYPE: &str = "application/x-quantix-image";

/// A file the user picked or dropped.
#[derive(Clone)]
pub struct PickedFile {
    pub name: String,
    pub size: u64,
    /// Its modification time (ms since the epoch): with name and size, what tells the same file again.
    pub modified_ms: f64,
    #[cfg(feature = "hydrate")]
    file: send_wrapper::SendWrapper<web_sys::File>,
}

impl std::fmt::Debug for PickedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PickedFile({:?}, {} bytes)", self.name, self.size)
    }
}

/// A running upload; dropping the handle does not stop it, [`UploadHandle::abort`] does (a resumable
/// one is then also terminated on the node, and forgotten by the browser).
#[derive(Clone)]
pub struct UploadHandle {
    #[cfg(feature = "hydrate")]
    inner: send_wrapper::SendWrapper<std::rc::Rc<imp::Running>>,
}

/// A subscription to server-sent events (named `kinds`); closed when dropped.
pub struct EventStream {
    #[cfg(feature = "hydrate")]
    source: send_wrapper::SendWrapper<web_sys::EventSource>,
}

#[cfg(feature = "hydrate")]
mod imp {
    use std::{
        cell::{Cell, RefCell},
        rc::Rc,
    };

    use gloo_file::File as GlooFile;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};

    use super::*;
    use crate::resumable::{self, Answer, Next};

    fn picked(file: web_sys::File) -> PickedFile {
        let gloo = GlooFile::from(file.clone());
        PickedFile {
            name: gloo.name(),
            size: gloo.size(),
            modified_ms: file.last_modified(),
            file: SendWrapper::new(file),
        }
    }

    /// What an upload is doing: the request in flight, whether it was cancelled, and (resumable) its
    /// address on the node with the key the browser remembers it under.
    #[derive(Default)]
    pub struct Running {
        current: Rc<RefCell<Option<web_sys::XmlHttpRequest>>>,
        cancelled: Rc<Cell<bool>>,
        location: Rc<RefCell<Option<(String, String)>>>,
    }

    pub fn files_from_input(ev: &Event) -> Vec<PickedFile> {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return Vec::new();
        };
        let files = input.files().map(|list| {
            gloo_file::FileList::from(list).iter().map(|f| picked(AsRef::<web_sys::File>::as_ref(f).clone())).collect()
        });
        // Picking the same file again must fire `change` again.
        input.set_value("");
        files.unwrap_or_default()
    }

    pub fn drag_carries_files(ev: &DragEvent) -> bool {
        ev.data_transfer().is_some_and(|dt| dt.types().includes(&"Files".into(), 0))
    }

    pub fn files_from_drop(ev: &DragEvent) -> Vec<PickedFile> {
        ev.data_transfer()
            .and_then(|dt| dt.files())
            .map(|list| {
                gloo_file::FileList::from(list)
                    .iter()
                    .map(|f| picked(AsRef::<web_sys::File>::as_ref(f).clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn drag_start_image(ev: &DragEvent, id: &str) {
        if let Some(dt) = ev.data_transfer() {
            let _ = dt.set_data(IMAGE_DRAG_TYPE, id);
            let _ = dt.set_data("text/plain", id);
            dt.set_effect_allowed("move");
        }
    }

    pub fn drag_carries_image(ev: &DragEvent) -> bool {
        ev.data_transfer().is_some_and(|dt| dt.types().includes(&IMAGE_DRAG_TYPE.into(), 0))
    }

    pub fn dragged_image(ev: &DragEvent) -> Option<String> {
        ev.data_transfer().and_then(|dt| dt.get_data(IMAGE_DRAG_TYPE).ok()).filter(|s| !s.is_empty())
    }

    /// Loads `url` in place of this page (it leaves no entry in the history: after sign-in or sign-out,
    /// Back does not return to the page just left).
    pub fn replace_location(url: &str) {
        if let Some(w) = web_sys::window() {
            let _ = w.location().replace(url);
        }
    }

    pub fn copy_text(text: &str) {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(text);
        }
    }

    pub fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    pub fn start_upload(
        url: &str,
        file: &PickedFile,
        on_progress: impl Fn(u64) + 'static,
        on_done: impl FnOnce(Result<IsoMetadata, ApiError>) + 'static,
    ) -> Option<UploadHandle> {
        let xhr = web_sys::XmlHttpRequest::new().ok()?;
        let running = Running::default();
        *running.current.borrow_mut() = Some(xhr.clone());
        xhr.open("POST", url).ok()?;
        xhr.set_request_header(crate::model::CSRF_HEADER, &crate::session::csrf_token()).ok()?;
        let form = web_sys::FormData::new().ok()?;
        form.append_with_blob_and_filename("file", &file.file, &file.name).ok()?;
        let progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            on_progress(e.loaded() as u64);
        });
        xhr.upload().ok()?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        let on_done = std::cell::RefCell::new(Some(on_done));
        let finished = {
            let xhr = xhr.clone();
            Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                let Some(done) = on_done.borrow_mut().take() else { return };
                let result = match e.type_().as_str() {
                    "load" => {
                        let text = xhr.response_text().ok().flatten().unwrap_or_default();
                        ApiError::decode(xhr.status().unwrap_or(0), &text)
                    }
                    "abort" => Err(ApiError::Network("cancelled".into())),
                    _ => Err(ApiError::Network("the connection was lost during the upload".into())),
                };
                done(result);
            })
        };
        xhr.set_onload(Some(finished.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(finished.as_ref().unchecked_ref()));
        xhr.set_onabort(Some(finished.as_ref().unchecked_ref()));
        // The browser owns the request until it ends; the callbacks must live as long.
        progress.forget();
        finished.forget();
        xhr.send_with_opt_form_data(Some(&form)).ok()?;
        Some(UploadHandle { inner: SendWrapper::new(Rc::new(running)) })
    }

    impl UploadHandle {
        pub fn abort(&self) {
            self.inner.cancelled.set(true);
            if let Some(xhr) = self.inner.current.borrow_mut().take() {
                let _ = xhr.abort();
            }
            // A resumable upload is terminated on the node (its room freed at once) and forgotten here.
            if let Some((url, key)) = self.inner.location.borrow_mut().take() {
                discard_upload(&key, &url);
            }
        }
    }

    /// Terminates the remembered upload at `url` (the admin chose to start over).
    pub fn discard_upload(key: &str, url: &str) {
        remember_upload(key, None);
        let url = url.to_owned();
        wasm_bindgen_futures::spawn_local(async move {
            // The node refuses (423) while it still writes a chunk whose connection was just cut.
            for _ in 0..BUSY_TRIES {
                match tus_request("DELETE", &url, &[], None, &Rc::new(RefCell::new(None)), None).await {
                    Answer::Lost | Answer::Status { status: 423, .. } => sleep_ms(BUSY_WAIT_MS).await,
                    Answer::Status { .. } => return,
                }
            }
        });
    }

    /// How often, and how far apart, a request is made again while the node is still busy with a chunk
    /// whose connection was cut (it lets go when it notices, within a few seconds).
    const BUSY_TRIES: u32 = 20;
    const BUSY_WAIT_MS: u64 = 500;
    /// One request of a resumable upload, awaited: its answer in tus terms. The request is kept in
    /// `current` while it runs (so Cancel can abort it); `on_progress` gets the bytes of `body` sent.
    async fn tus_request(
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<web_sys::Blob>,
        current: &Rc<RefCell<Option<web_sys::XmlHttpRequest>>>,
        on_progress: Option<Rc<dyn Fn(u64)>>,
    ) -> Answer {
        let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return Answer::Lost };
        if xhr.open(method, url).is_err() {
            return Answer::Lost;
        }
        let _ = xhr.set_request_header("Tus-Resumable", "1.0.0");
        if method != "HEAD" {
            let _ = xhr.set_request_header(crate::model::CSRF_HEADER, &crate::session::csrf_token());
        }
        for (name, value) in headers {
            let _ = xhr.set_request_header(name, value);
        }
        let progress = on_progress.map(|f| {
            Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| f(e.loaded() as u64))
        });
        if let (Some(p), Ok(upload)) = (&progress, xhr.upload()) {
            upload.set_onprogress(Some(p.as_ref().unchecked_ref()));
        }
        // Settles with the name of the event that ended the request; the closures live until then.
        let ended: Rc<RefCell<Option<js_sys::Function>>> = Rc::new(RefCell::new(None));
        let on_end = {
            let ended = ended.clone();
            Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if let Some(resolve) = ended.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&e.type_()));
                }
            })
        };
        let promise = js_sys::Promise::new(&mut |resolve, _| *ended.borrow_mut() = Some(resolve));
        let target: &web_sys::XmlHttpRequestEventTarget = xhr.as_ref();
        for set in [
            web_sys::XmlHttpRequestEventTarget::set_onload,
            web_sys::XmlHttpRequestEventTarget::set_onerror,
            web_sys::XmlHttpRequestEventTarget::set_onabort,
            web_sys::XmlHttpRequestEventTarget::set_ontimeout,
        ] {
            set(target, Some(on_end.as_ref().unchecked_ref()));
        }
        *current.borrow_mut() = Some(xhr.clone());
        let sent = match &body {
            Some(blob) => xhr.send_with_opt_blob(Some(blob)),
            None => xhr.send(),
        };
        if sent.is_err() {
            return Answer::Lost;
        }
        let how = wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_string());
        current.borrow_mut().take();
        if how.as_deref() != Some("load") {
            return Answer::Lost;
        }
        let header = |name: &str| xhr.get_response_header(name).ok().flatten();
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        let message = serde_json::from_str::<crate::model::ErrorBody>(&text).map(|b| b.message).unwrap_or_default();
        Answer::Status {
            status: xhr.status().unwrap_or(0),
            offset: header("Upload-Offset").and_then(|o| o.trim().parse().ok()),
            image_id: header("x-image-id"),
            location: header("Location"),
            message,
        }
    }

    async fn sleep_ms(ms: u64) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ =
                    w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.min(i32::MAX as u64) as i32);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    /// The upload the browser remembers for `key`, if any.
    pub fn remembered_upload(key: &str) -> Option<String> {
        storage()?.get_item(key).ok()?
    }

    fn remember_upload(key: &str, url: Option<&str>) {
        if let Some(s) = storage() {
            let _ = match url {
                Some(url) => s.set_item(key, url),
                None => s.remove_item(key),
            };
        }
    }

    /// Where a remembered upload stands on the node: its offset (0 when the node stays too busy to say;
    /// a resume asks again), or `None` if the node no longer has it.
    pub async fn upload_offset(url: &str) -> Option<u64> {
        let current = Rc::new(RefCell::new(None));
        for _ in 0..BUSY_TRIES {
            match tus_request("HEAD", url, &[], None, &current, None).await {
                Answer::Status { status: 200, offset, .. } => return offset,
                Answer::Status { status: 404 | 410, .. } => return None,
                _ => sleep_ms(BUSY_WAIT_MS).await,
            }
        }
        Some(0)
    }

    /// Uploads `file` resumably (tus) to `pool` and `folder`, continuing the upload at `resume` when given:
    /// chunk by chunk, a dropped connection retried with backoff from where the node stands. The upload's
    /// address is remembered under `key` until it ends, so picking the same file again can resume it.
    #[allow(clippy::too_many_arguments)]
    pub fn start_resumable(
        key: String,
        file: &PickedFile,
        pool: &PoolId,
        folder: &FolderPath,
        resume: Option<String>,
        on_progress: impl Fn(u64) + 'static,
        on_note: impl Fn(Option<String>) + 'static,
        on_done: impl FnOnce(Result<IsoMetadata, ApiError>) + 'static,
    ) -> Option<UploadHandle> {
        let running = Running::default();
        let (current, cancelled, location) =
            (running.current.clone(), running.cancelled.clone(), running.location.clone());
        let handle = UploadHandle { inner: SendWrapper::new(Rc::new(running)) };
        let resumed = resume.is_some();
        let blob: web_sys::Blob = (*file.file).clone().into();
        let (size, name) = (file.size, file.name.clone());
        let meta = resumable::metadata(&name, pool, folder);
        let on_progress: Rc<dyn Fn(u64)> = Rc::new(on_progress);
        wasm_bindgen_futures::spawn_local(async move {
            let fail = |e: String| Err(ApiError::Network(e));
            let url = match resume {
                Some(url) => url,
                None => {
                    let headers = [("Upload-Length", size.to_string()), ("Upload-Metadata", meta)];
                    match tus_request("POST", "/api/v1/uploads", &headers, None, &current, None).await {
                        Answer::Status { status: 201, location: Some(url), .. } if url.starts_with('/') => url,
                        Answer::Status { message, status, .. } => {
                            return on_done(Err(ApiError::Status {
                                status,
                                body: crate::model::ErrorBody {
                                    error: "upload_refused".into(),
                                    message,
                                    request_id: None,
                                },
                            }));
                        }
                        Answer::Lost => {
                            return on_done(fail("The node could not be reached to start the upload.".into()));
                        }
                    }
                }
            };
            remember_upload(&key, Some(&url));
            *location.borrow_mut() = Some((url.clone(), key.clone()));
            let mut next = if resumed { Next::Ask { wait_ms: 0 } } else { Next::Send(0) };
            let (mut attempt, mut confirmed) = (0u32, 0u64);
            loop {
                if cancelled.get() {
                    return;
                }
                next = match next {
                    Next::Send(from) => {
                        if from > confirmed {
                            confirmed = from;
                            attempt = 0;
                        }
                        on_progress(from);
                        on_note(None);
                        let end = (from + resumable::CHUNK_BYTES).min(size);
                        let Ok(chunk) = blob.slice_with_f64_and_f64(from as f64, end as f64) else {
                            return on_done(fail("This browser could not read the file.".into()));
                        };
                        let headers = [
                            ("Upload-Offset", from.to_string()),
                            ("Content-Type", "application/offset+octet-stream".to_owned()),
                        ];
                        let progress = on_progress.clone();
                        let sent: Rc<dyn Fn(u64)> = Rc::new(move |n| progress(from + n));
                        let answer = tus_request("PATCH", &url, &headers, Some(chunk), &current, Some(sent)).await;
                        resumable::after_patch(&answer, size, attempt)
                    }
                    Next::Ask { wait_ms } => {
                        attempt += 1;
                        if wait_ms > 0 {
                            on_note(Some(format!("Connection lost; retrying in {} s…", wait_ms.div_ceil(1000))));
                            sleep_ms(wait_ms).await;
                        }
                        if cancelled.get() {
                            return;
                        }
                        let answer = tus_request("HEAD", &url, &[], None, &current, None).await;
                        resumable::after_head(&answer, size, attempt)
                    }
                    Next::Done(id) => {
                        remember_upload(&key, None);
                        location.borrow_mut().take();
                        on_progress(size);
                        return on_done(crate::api::Api::current().get(&format!("/api/v1/images/{id}")).await);
                    }
                    Next::Fail { message, keep } => {
                        if !keep {
                            remember_upload(&key, None);
                        }
                        return on_done(fail(message));
                    }
                };
            }
        });
        Some(handle)
    }

    pub fn subscribe(url: &str, kinds: &[&'static str], on_event: impl Fn(&str) + 'static) -> Option<EventStream> {
        let source = web_sys::EventSource::new(url).ok()?;
        let on_event = std::rc::Rc::new(on_event);
        for &kind in kinds {
            let on_event = on_event.clone();
            let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| on_event(kind));
            source.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref()).ok()?;
            handler.forget();
        }
        Some(EventStream { source: SendWrapper::new(source) })
    }

    impl Drop for EventStream {
        fn drop(&mut self) {
            self.source.close();
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::*;

    pub fn files_from_input(_: &Event) -> Vec<PickedFile> {
        Vec::new()
    }
    pub fn drag_carries_files(_: &DragEvent) -> bool {
        false
    }
    pub fn files_from_drop(_: &DragEvent) -> Vec<PickedFile> {
        Vec::new()
    }
    pub fn drag_start_image(_: &DragEvent, _: &str) {}
    pub fn drag_carries_image(_: &DragEvent) -> bool {
        false
    }
    pub fn dragged_image(_: &DragEvent) -> Option<String> {
        None
    }
    pub fn replace_location(_: &str) {}
    pub fn copy_text(_: &str) {}
    pub fn now_ms() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    }
    pub fn start_upload(
        _: &str,
        _: &PickedFile,
        _: impl Fn(u64) + 'static,
        _: impl FnOnce(Result<IsoMetadata, ApiError>) + 'static,
    ) -> Option<UploadHandle> {
        None
    }
    impl UploadHandle {
        pub fn abort(&self) {}
    }
    pub fn remembered_upload(_: &str) -> Option<String> {
        None
    }
    pub async fn upload_offset(_: &str) -> Option<u64> {
        None
    }
    pub fn discard_upload(_: &str, _: &str) {}
    #[allow(clippy::too_many_arguments)]
    pub fn start_resumable(
        _: String,
        _: &PickedFile,
        _: &PoolId,
        _: &FolderPath,
        _: Option<String>,
        _: impl Fn(u64) + 'static,
        _: impl Fn(Option<String>) + 'static,
        _: impl FnOnce(Result<IsoMetadata, ApiError>) + 'static,
    ) -> Option<UploadHandle> {
        None
    }
    pub fn subscribe(_: &str, _: &[&'static str], _: impl Fn(&str) + 'static) -> Option<EventStream> {
        None
    }
}

pub use imp::*;
