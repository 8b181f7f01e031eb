//! Dialogs: a modal frame, a confirmation, a folder name input validated as you type, and "Move to…".

use leptos::{ev::KeyboardEvent, prelude::*};

use crate::format;
use crate::model::{FolderPath, FolderPathError};

/// A modal dialog: Escape or the backdrop closes it; focus goes to its first `autofocus` control.
#[component]
pub fn Modal(
    title: String,
    on_close: Callback<()>,
    #[prop(optional)] testid: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    let label = title.clone();
    Effect::new(move |_| {
        // Focus the first control asking for it, or the dialog itself.
        if let Some(el) = dialog.get() {
            let target = el.query_selector("[autofocus]").ok().flatten();
            match target {
                Some(t) => {
                    use leptos::wasm_bindgen::JsCast;
                    if let Ok(t) = t.dyn_into::<leptos::web_sys::HtmlElement>() {
                        let _ = t.focus();
                    }
                }
                None => {
                    let _ = el.focus();
                }
            }
        }
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-label=label
                tabindex="-1"
                data-testid=testid
                node_ref=dialog
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: KeyboardEvent| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
            >
                <h2>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// "Are you sure?", naming what is at stake.
#[component]
pub fn ConfirmDialog(
    title: String,
    message: String,
    confirm_label: &'static str,
    on_confirm: Callback<()>,
    on_close: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Modal title on_close testid="confirm-dialog">
            <p>{message}</p>
            {move || error.get().map(|e| view! { <div class="notice notice-error" role="alert">{e}</div> })}
            <div class="dialog-actions">
                <button class="btn" type="button" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                <button
                    class="btn btn-danger solid"
                    type="button"
                    autofocus
                    disabled=busy
                    on:click=move |_| on_confirm.run(())
                >
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}

/// A folder path typed by a person: as a name inside `parent` (when given) or as a full path. The message
/// is the shared parser's, word for word what the API would answer.
pub fn typed_folder(parent: Option<&FolderPath>, text: &str) -> Result<FolderPath, FolderPathError> {
    match parent {
        Some(p) if !text.trim_start().starts_with('/') => {
            FolderPath::parse(&if p.is_root() { format!("/{text}") } else { format!("{p}/{text}") })
        }
        _ => FolderPath::parse(text),
    }
}

/// Create or rename a folder: one text field, validated as you type.
#[component]
pub fn FolderNameDialog(
    title: String,
    label: String,
    /// Names are taken inside this folder (unless they start with `/`); `None`: a full path is typed.
    parent: Option<FolderPath>,
    initial: String,
    submit_label: &'static str,
    on_submit: Callback<FolderPath>,
    on_close: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
    /// An error from the server (shown under the field).
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let text = RwSignal::new(initial);
    let touched = RwSignal::new(false);
    let parsed = {
        let parent = parent.clone();
        Memo::new(move |_| text.with(|t| typed_folder(parent.as_ref(), t)))
    };
    let problem = move || match parsed.get() {
        Err(e) if touched.get() => Some(e.to_string()),
        _ => error.get(),
    };
    let submit = move || {
        touched.set(true);
        if let Ok(path) = parsed.get_untracked() {
            on_submit.run(path);
        }
    };
    let hint = parent.map(|p| format!("Inside {p}; start with / for a full path."));
    view! {
        <Modal title on_close testid="folder-dialog">
            <form
                class="form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label>
                    {label}
                    <input
                        type="text"
                        autofocus
                        data-testid="folder-name"
                        prop:value=text
                        aria-invalid=move || problem().is_some().to_string()
                        on:input=move |ev| {
                            touched.set(true);
                            text.set(event_target_value(&ev));
                        }
                    />
                    {hint.map(|h| view! { <span class="field-hint">{h}</span> })}
                    <span class="field-error" role="alert" data-testid="folder-error">
                        {problem}
                    </span>
                </label>
                <div class="dialog-actions">
                    <button class="btn" type="button" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button class="btn btn-primary" type="submit" disabled=move || busy.get() || parsed.get().is_err()>
                        {submit_label}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// Keyboard choice in a list: arrows move `active` (within `len` items), Enter picks it.
pub fn list_keys(ev: &KeyboardEvent, len: usize, active: RwSignal<usize>, pick: impl Fn(usize)) {
    match ev.key().as_str() {
        "ArrowDown" if len > 0 => {
            ev.prevent_default();
            active.update(|a| *a = (*a + 1).min(len - 1));
        }
        "ArrowUp" => {
            ev.prevent_default();
            active.update(|a| *a = a.saturating_sub(1));
        }
        "Enter" => {
            ev.prevent_default();
            pick(active.get_untracked());
        }
        _ => {}
    }
}

/// "Move to…": a list of folders to pick with the keyboard (arrows, Enter) or the mouse; typing filters it,
/// and a path that does not exist yet is offered too.
#[component]
pub fn MoveDialog(
    subject: String,
    folders: Vec<FolderPath>,
    current: FolderPath,
    on_move: Callback<FolderPath>,
    on_close: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let all = StoredValue::new(folders);
    // The typed text as a new folder: a full path (it starts with "/"), valid, and not already listed.
    let typed_new = move || {
        let t = filter.get();
        if !t.trim_start().starts_with('/') {
            return None;
        }
        typed_folder(None, &t).ok().filter(|p| all.with_value(|f| !f.contains(p)))
    };
    let choices = move || {
        let needle = format::lowercase(filter.get().trim());
        let mut out: Vec<FolderPath> = all.with_value(|f| {
            f.iter().filter(|p| needle.is_empty() || format::lowercase(p.as_str()).contains(&needle)).cloned().collect()
        });
        if let Some(new) = typed_new() {
            out.insert(0, new);
        }
        out
    };
    let pick = move |i: usize| {
        if let Some(target) = choices().get(i).cloned() {
            on_move.run(target);
        }
    };
    let on_key = move |ev: KeyboardEvent| list_keys(&ev, choices().len(), selected, pick);
    view! {
        <Modal title=format!("Move {subject}") on_close testid="move-dialog">
            <p class="muted small">{format!("Now in {current}. Choose a folder, or type a new path.")}</p>
            <input
                type="text"
                autofocus
                placeholder="Filter folders or type /new/path"
                aria-label="Folder"
                data-testid="move-filter"
                prop:value=filter
                on:input=move |ev| {
                    filter.set(event_target_value(&ev));
                    selected.set(0);
                }
                on:keydown=on_key
            />
            <ul class="choice-list" role="listbox" aria-label="Folders">
                {move || {
                    let new = typed_new();
                    choices()
                        .into_iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let is_new = new.as_ref() == Some(&f);
                            let label = if is_new { format!("Create and move to {f}") } else { f.to_string() };
                            let is_current = f == current;
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        role="option"
                                        aria-selected=move || (selected.get() == i).to_string()
                                        disabled=is_current
                                        on:click=move |_| pick(i)
                                    >
                                        {label}
                                        {is_current.then(|| view! { <span class="muted">" (current)"</span> })}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || error.get().map(|e| view! { <div class="notice notice-error" role="alert">{e}</div> })}
            <div class="dialog-actions">
                <button class="btn" type="button" on:click=move |_| on_close.run(())>
                    "Cancel"
                </button>
                <button class="btn btn-primary" type="button" disabled=busy on:click=move |_| pick(selected.get_untracked())>
                    "Move"
                </button>
            </div>
        </Modal>
    }
}
