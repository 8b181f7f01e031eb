//! The browser APIs the pages use (drag and drop, files, uploads with progress, clipboard, server-sent
//! events), behind one small surface. During server-side rendering there is no browser: the same
//! functions exist and do nothing, so components need no `cfg` of their own.

use leptos::ev::{DragEvent, Event};

use crate::api::ApiError;
use crate::model::IsoMetadata;

/// The drag-and-drop type that carries an image id between the table and the folder tree.
pub const IMAGE_DRAG_TYPE: &str = "application/x-quantix-image";

/// A file the user picked or dropped.
#[derive(Clone)]
pub struct PickedFile {
    pub name: String,
    pub size: u64,
    #[cfg(feature = "hydrate")]
    file: send_wrapper::SendWrapper<web_sys::File>,
}

impl std::fmt::Debug for PickedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PickedFile({:?}, {} bytes)", self.name, self.size)
    }
}

/// A running upload; dropping the handle does not stop it, [`UploadHandle::abort`] does.
#[derive(Clone)]
pub struct UploadHandle {
    #[cfg(feature = "hydrate")]
    xhr: send_wrapper::SendWrapper<web_sys::XmlHttpRequest>,
}

/// A subscription to server-sent events (named `kinds`); closed when dropped.
pub struct EventStream {
    #[cfg(feature = "hydrate")]
    source: send_wrapper::SendWrapper<web_sys::EventSource>,
}

#[cfg(feature = "hydrate")]
mod imp {
    use gloo_file::File as GlooFile;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::{JsCast, closure::Closure};

    use super::*;

    fn picked(file: web_sys::File) -> PickedFile {
        let gloo = GlooFile::from(file.clone());
        PickedFile { name: gloo.name(), size: gloo.size(), file: SendWrapper::new(file) }
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
        Some(UploadHandle { xhr: SendWrapper::new(xhr) })
    }

    impl UploadHandle {
        pub fn abort(&self) {
            let _ = self.xhr.abort();
        }
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
    pub fn subscribe(_: &str, _: &[&'static str], _: impl Fn(&str) + 'static) -> Option<EventStream> {
        None
    }
}

pub use imp::*;
