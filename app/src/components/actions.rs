//! What every page with dialogs shares: running a dialog's API call (busy while it runs, its error shown
//! in the dialog, the dialog closed and a notice shown on success), the notice itself, and the "New
//! folder" dialog.

use std::future::Future;

use leptos::{prelude::*, task::spawn_local};

use crate::api::{Api, ApiError};
use crate::components::dialog::FolderNameDialog;
use crate::model::FolderPath;

#[derive(Clone, Copy)]
pub struct Actions {
    pub busy: RwSignal<bool>,
    /// The open dialog's error.
    pub error: RwSignal<Option<String>>,
    /// What the last action did, shown above the page.
    pub notice: RwSignal<Option<String>>,
    /// Ticks after every successful action, so the page reloads what it shows.
    pub done: RwSignal<u64>,
    /// Closes the open dialog.
    pub close: Callback<()>,
}

impl Actions {
    pub fn new(close: Callback<()>) -> Self {
        Self {
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            done: RwSignal::new(0),
            close,
        }
    }

    /// Forgets the previous dialog's error (call when opening one).
    pub fn reset(&self) {
        self.error.set(None);
    }

    /// Runs `call` with the API of the page's server; its `Ok` text becomes the notice.
    pub fn call<F: Future<Output = Result<String, ApiError>> + 'static>(&self, call: impl FnOnce(Api) -> F) {
        self.run(call(Api::current()))
    }

    /// Runs `call`; its `Ok` text becomes the notice.
    pub fn run(&self, call: impl Future<Output = Result<String, ApiError>> + 'static) {
        let this = *self;
        this.busy.set(true);
        this.error.set(None);
        spawn_local(async move {
            match call.await {
                Ok(done) => {
                    this.close.run(());
                    this.notice.set(Some(done));
                    this.done.update(|n| *n += 1);
                }
                Err(e) => this.error.set(Some(e.to_string())),
            }
            this.busy.set(false);
        });
    }
}

/// The notice of the last action, dismissable.
#[component]
pub fn Notice(notice: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        notice.get().map(|n| {
            view! {
                <div class="notice notice-ok" role="status" data-testid="notice">
                    {n} " "
                    <button class="btn-link small" type="button" on:click=move |_| notice.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}

/// "New folder" inside `parent`, through whichever API serves the page (node or vdc).
#[component]
pub fn NewFolderDialog(parent: FolderPath, actions: Actions) -> impl IntoView {
    view! {
        <FolderNameDialog
            title="New folder".into()
            label="Folder name".into()
            parent=Some(parent)
            initial=String::new()
            submit_label="Create"
            on_submit=Callback::new(move |path: FolderPath| {
                actions.call(move |api| async move {
                    api.create_folder(path.as_str()).await?;
                    Ok(format!("Created {path}."))
                })
            })
            on_close=actions.close
            busy=actions.busy
            error=actions.error
        />
    }
}
