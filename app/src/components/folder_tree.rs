//! The folder tree sidebar: counts, expand/collapse, the open folder highlighted, and (optionally)
//! dropping a dragged image on a folder to move it there.

use std::collections::BTreeSet;

use leptos::{ev::DragEvent, prelude::*};

use crate::browser;
use crate::model::{FolderListing, FolderPath};

/// One visible row of the tree.
#[derive(Clone, PartialEq)]
struct Row {
    folder: FolderPath,
    depth: usize,
    has_children: bool,
    total: u64,
}

fn visible_rows(listing: &FolderListing, expanded: &BTreeSet<FolderPath>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut stack = vec![FolderPath::root()];
    while let Some(folder) = stack.pop() {
        let children: Vec<FolderPath> = listing.children(&folder).cloned().collect();
        rows.push(Row {
            depth: folder.depth(),
            has_children: !children.is_empty(),
            total: listing.count(&folder).total,
            folder: folder.clone(),
        });
        if expanded.contains(&folder) {
            // Reversed so the stack yields them in order.
            stack.extend(children.into_iter().rev());
        }
    }
    rows
}

/// What the reader did with a tree: which folders are open, and which one a dragged image hovers. The
/// page makes it (outside any reloading `Transition`), so the tree keeps its shape when its listing is
/// reloaded (the library reloads it every few seconds).
#[derive(Clone, Copy)]
pub struct TreeState {
    expanded: RwSignal<BTreeSet<FolderPath>>,
    drop_target: RwSignal<Option<FolderPath>>,
}

impl TreeState {
    /// The root and the open folder's ancestors start expanded, and follow navigation.
    pub fn new(current: Signal<FolderPath>) -> Self {
        let open_path = |f: FolderPath| f.ancestors().into_iter().chain([f]).collect::<Vec<_>>();
        let initial: BTreeSet<FolderPath> =
            std::iter::once(FolderPath::root()).chain(open_path(current.get_untracked())).collect();
        let expanded = RwSignal::new(initial);
        Effect::new(move |_| {
            let open = current.get();
            expanded.update(|e| e.extend(open_path(open)));
        });
        Self { expanded, drop_target: RwSignal::new(None) }
    }
}

/// The tree of `listing`. Creates no signal of its own (its state is the page's [`TreeState`]), so it
/// may be rendered inside a `Transition` that reloads.
#[component]
pub fn FolderTree(
    listing: FolderListing,
    state: TreeState,
    #[prop(into)] current: Signal<FolderPath>,
    /// The link of a folder (the page keeps its other query parameters).
    href: Callback<FolderPath, String>,
    /// Called with (image id, folder) when an image is dropped on a folder.
    #[prop(optional)]
    on_drop: Option<Callback<(String, FolderPath)>>,
    /// When given, choosing a folder calls this instead of following its link (a tree inside a widget).
    #[prop(optional)]
    on_select: Option<Callback<FolderPath>>,
) -> impl IntoView {
    let TreeState { expanded, drop_target } = state;
    let rows = move || expanded.with(|e| visible_rows(&listing, e));
    view! {
        <ul class="tree" role="tree" aria-label="Folders" data-testid="folder-tree">
            <For each=rows key=|r| (r.folder.clone(), r.has_children, r.total) let:row>
                {
                    let folder = row.folder.clone();
                    let toggle_folder = folder.clone();
                    let is_open = {
                        let f = folder.clone();
                        move || expanded.with(|e| e.contains(&f))
                    };
                    let is_current = {
                        let f = folder.clone();
                        move || current.with(|c| *c == f)
                    };
                    let is_target = {
                        let f = folder.clone();
                        move || drop_target.with(|t| t.as_ref() == Some(&f))
                    };
                    let (open_label, open_arrow) = (is_open.clone(), is_open.clone());
                    let (over_folder, drop_folder, leave_folder) = (folder.clone(), folder.clone(), folder.clone());
                    // Reactive: the page's other query parameters (filters) may change while the tree stays.
                    let link = {
                        let f = folder.clone();
                        move || href.run(f.clone())
                    };
                    let label = if folder.is_root() { "All folders".to_owned() } else { folder.name().to_owned() };
                    view! {
                        <li
                            role="treeitem"
                            style=format!("--depth:{}", row.depth)
                            aria-expanded=move || row.has_children.then(|| is_open().to_string())
                        >
                            <div
                                class="tree-row"
                                class:drop-target=is_target
                                aria-current=move || is_current().then_some("true")
                                data-folder=folder.to_string()
                                on:dragover=move |ev: DragEvent| {
                                    if on_drop.is_some() && browser::drag_carries_image(&ev) {
                                        ev.prevent_default();
                                        drop_target.set(Some(over_folder.clone()));
                                    }
                                }
                                on:dragleave=move |_| {
                                    drop_target.update(|t| if t.as_ref() == Some(&leave_folder) { *t = None });
                                }
                                on:drop=move |ev: DragEvent| {
                                    ev.prevent_default();
                                    drop_target.set(None);
                                    if let (Some(cb), Some(id)) = (on_drop, browser::dragged_image(&ev)) {
                                        cb.run((id, drop_folder.clone()));
                                    }
                                }
                            >
                                {if row.has_children {
                                    view! {
                                        <button
                                            class="tree-toggle"
                                            type="button"
                                            aria-label=move || if open_label() { "Collapse" } else { "Expand" }
                                            on:click=move |_| {
                                                expanded.update(|e| {
                                                    if !e.remove(&toggle_folder) {
                                                        e.insert(toggle_folder.clone());
                                                    }
                                                })
                                            }
                                        >
                                            {move || if open_arrow() { "▾" } else { "▸" }}
                                        </button>
                                    }
                                        .into_any()
                                } else {
                                    view! { <span class="tree-toggle" aria-hidden="true"></span> }.into_any()
                                }}
                                <a
                                    class="tree-name"
                                    href=link
                                    title=folder.to_string()
                                    on:click={
                                        let chosen = folder.clone();
                                        move |ev| {
                                            if let Some(cb) = on_select {
                                                ev.prevent_default();
                                                cb.run(chosen.clone());
                                            }
                                        }
                                    }
                                >
                                    {label}
                                </a>
                                <span class="count" title="Images in this folder and beneath it">
                                    {row.total}
                                </span>
                            </div>
                        </li>
                    }
                }
            </For>
        </ul>
    }
}

/// `All folders › windows › server`: each ancestor a link.
#[component]
pub fn Breadcrumb(#[prop(into)] current: Signal<FolderPath>, href: Callback<FolderPath, String>) -> impl IntoView {
    view! {
        <nav class="breadcrumb" aria-label="Folder path" data-testid="breadcrumb">
            {move || {
                let open = current.get();
                let mut trail = open.ancestors();
                trail.push(open.clone());
                let last = trail.len() - 1;
                trail
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let label = if f.is_root() { "All folders".to_owned() } else { f.name().to_owned() };
                        let sep = (i > 0).then(|| view! { <span class="sep" aria-hidden="true">"›"</span> });
                        let item = if i == last {
                            view! { <span aria-current="page">{label}</span> }.into_any()
                        } else {
                            view! { <a href=href.run(f)>{label}</a> }.into_any()
                        };
                        view! { {sep} {item} }
                    })
                    .collect_view()
            }}
        </nav>
    }
}
