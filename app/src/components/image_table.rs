//! The image table both pages show: name, size, OS and state always; folder, host, pool and checksum
//! columns as the page chooses; "Move to…" and "Delete" on each row.
//!
//! A plain function of its props (it creates no signal of its own), so a page may render it inside a
//! `Transition` that reloads.

use leptos::prelude::*;

use crate::browser;
use crate::components::layout::use_hydrated;
use crate::format;
use crate::model::{IsoMetadata, NodeInfo, NodeSyncState, StoragePool};

/// The optional columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The image's folder (lists that span folders).
    Folder,
    /// The host and pool holding it (the library).
    Location,
    /// The pool holding it, by name (a host's own page).
    Pool,
    /// The SHA-256, shortened, with a copy button.
    Checksum,
}

/// Who and what the rows can refer to.
#[derive(Clone, Default)]
pub struct TableContext {
    /// The cluster's hosts (the library): id, name, and why its images cannot change now (offline).
    hosts: Vec<(String, String, Option<String>)>,
    /// The host's pools (a host's own page): their names.
    pools: Vec<StoragePool>,
}

impl TableContext {
    /// The library's rows: images of every host, each changeable only while its host is online.
    pub fn library(nodes: Vec<NodeInfo>) -> Self {
        let now = (browser::now_ms() / 1000.0) as i64;
        let hosts = nodes
            .into_iter()
            .map(|n| {
                let blocked = (n.state == NodeSyncState::Offline).then(|| {
                    let contact = n.last_contact_at.map(|t| format::ago(t, now)).unwrap_or_else(|| "never".into());
                    format!(
                        "{} is offline (last contact {contact}); moves go through the host, so this image cannot be moved now.",
                        n.name
                    )
                });
                (n.id.to_string(), n.name, blocked)
            })
            .collect();
        Self { hosts, pools: Vec::new() }
    }

    /// A host's own page: its pools, by name.
    pub fn host(pools: Vec<StoragePool>) -> Self {
        Self { hosts: Vec::new(), pools }
    }

    /// A host's name, or its id when the library has not heard of it.
    pub fn host_name(&self, id: &str) -> String {
        self.hosts.iter().find(|h| h.0 == id).map(|h| h.1.clone()).unwrap_or_else(|| id.to_owned())
    }

    /// Why `image` cannot be moved or deleted now (its host is offline or unknown), for library rows.
    fn blocked(&self, image: &IsoMetadata) -> Option<String> {
        let id = image.node_id.as_ref()?;
        match self.hosts.iter().find(|h| h.0 == id.as_str()) {
            Some(h) => h.2.clone(),
            None => Some(format!("The host {id} is unknown to the library.")),
        }
    }
}

/// The name cell: display name over filename.
pub fn name_cell(image: &IsoMetadata) -> impl IntoView + use<> {
    view! {
        <td><div class="cell-name">{image.name.clone()}</div><div class="cell-sub">{image.filename.clone()}</div></td>
    }
}

/// The OS cell: "Ubuntu 24.04", or a dash, over what the content says of how it runs.
pub fn os_cell(image: &IsoMetadata) -> impl IntoView + use<> {
    let os =
        format::os_label(image.os_family.as_deref(), image.os_distribution.as_deref(), image.os_version.as_deref());
    view! { <td class="hide-narrow">{os.unwrap_or_else(|| "–".into())}{content_badges(image)}</td> }
}

/// Badges for what an image's content says: its architecture and the firmware it boots under.
pub fn content_badges(image: &IsoMetadata) -> impl IntoView + use<> {
    let boot = image.boot.unwrap_or_default();
    let badge = |on: bool, testid: &'static str, text: String| {
        on.then(|| view! { <span class="badge badge-muted" data-testid=testid>{text}</span> })
    };
    view! {
        <div class="cell-sub badges" title=image.volume_id.clone().unwrap_or_default()>
            {badge(image.arch.is_some(), "badge-arch", image.arch.clone().unwrap_or_default())}
            {badge(boot.bios, "badge-bios", "BIOS".into())}
            {badge(boot.uefi, "badge-uefi", "UEFI".into())}
        </div>
    }
}

#[component]
pub fn ImageTable(
    images: Vec<IsoMetadata>,
    columns: &'static [Column],
    context: TableContext,
    /// Rows can be dragged onto the folder tree.
    #[prop(optional)]
    draggable: bool,
    /// Whether the reader may change images (their role allows it); the buttons are left out otherwise.
    writable: bool,
    on_move: Callback<IsoMetadata>,
    on_delete: Callback<IsoMetadata>,
    /// "Copy to host…" (the library): offered once an image is hashed.
    #[prop(optional)]
    on_copy: Option<Callback<IsoMetadata>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let has = move |c: Column| columns.contains(&c);
    let header = view! {
        <thead><tr>
            <th>"Name"</th>
            <th class="num">"Size"</th>
            <th class="hide-narrow">"OS"</th>
            {has(Column::Folder).then(|| view! { <th class="hide-narrow">"Folder"</th> })}
            {has(Column::Location).then(|| view! { <th>"Host · pool"</th> })}
            {has(Column::Pool).then(|| view! { <th class="hide-narrow">"Pool"</th> })}
            {has(Column::Checksum).then(|| view! { <th class="hide-narrow">"Checksum"</th> })}
            <th>"State"</th>
            <th class="cell-actions"><span class="sr-only">"Actions"</span></th>
        </tr></thead>
    };
    let rows = images
        .into_iter()
        .map(|image| {
            let id = image.id.to_string();
            let blocked = has(Column::Location).then(|| context.blocked(&image)).flatten();
            let location = has(Column::Location).then(|| {
                view! {
                    <td data-testid="location">
                        {context.host_name(image.node())}<div class="cell-sub">{image.pool().to_owned()}</div>
                    </td>
                }
            });
            let pool = has(Column::Pool).then(|| {
                let name = context.pools.iter().find(|p| p.id == image.pool()).map(|p| p.name.clone());
                view! { <td class="hide-narrow">{name.unwrap_or_else(|| image.pool().to_owned())}</td> }
            });
            let checksum = has(Column::Checksum).then(|| checksum_cell(&image, hydrated));
            let folder = has(Column::Folder).then(|| view! { <td class="hide-narrow">{image.folder_path.to_string()}</td> });
            let drag_id = id.clone();
            let copy = on_copy.filter(|_| writable && image.checksum.is_some()).map(|on_copy| {
                let for_copy = image.clone();
                view! {
                    " "
                    <button class="btn btn-small" type="button" data-testid="copy-image"
                        disabled=move || !hydrated.get()
                        title="Copy the file to another host (it reads it from this one)"
                        on:click=move |_| on_copy.run(for_copy.clone())>"Copy to host…"</button>
                }
            });
            let actions = writable.then(|| {
                let (for_move, for_delete) = (image.clone(), image.clone());
                let is_blocked = blocked.is_some();
                let title = blocked.clone().unwrap_or_else(|| "Move to another folder (its host makes the change)".into());
                view! {
                    <button class="btn btn-small" type="button" data-testid="move-image"
                        disabled=move || !hydrated.get() || is_blocked title=title
                        on:click=move |_| on_move.run(for_move.clone())>"Move to…"</button>
                    " "
                    <button class="btn btn-small btn-danger" type="button" data-testid="delete-image"
                        disabled=move || !hydrated.get() || is_blocked
                        on:click=move |_| on_delete.run(for_delete.clone())>"Delete"</button>
                }
            });
            view! {
                <tr data-testid="image-row" data-id=id data-name=image.filename.clone() data-node=image.node().to_owned()
                    draggable=draggable.then_some("true")
                    on:dragstart=move |ev| if draggable { browser::drag_start_image(&ev, &drag_id) }>
                    {name_cell(&image)}
                    <td class="num nowrap">{format::bytes(image.size_bytes)}</td>
                    {os_cell(&image)}
                    {folder}
                    {location}
                    {pool}
                    {checksum}
                    <td>{state_badge(&image)}</td>
                    <td class="cell-actions">
                        {actions}
                        {copy}
                        {blocked.map(|why| view! { <div class="cell-sub" data-testid="move-blocked">{why}</div> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="images" data-testid="images">
                {header}
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// "Ready", or "Hashing…" while the host computes the SHA-256 (one element either way: no view branches,
/// which cost WASM size).
fn state_badge(image: &IsoMetadata) -> impl IntoView + use<> {
    let ready = image.is_ready();
    view! {
        <span class=if ready { "badge badge-ok" } else { "badge badge-info" }
            title=(!ready).then_some("The host is computing the SHA-256")>
            {if ready { "Ready" } else { "Hashing…" }}
        </span>
    }
}

fn checksum_cell(image: &IsoMetadata, hydrated: ReadSignal<bool>) -> impl IntoView + use<> {
    let short = image.short_checksum().map(str::to_owned);
    let full = image.checksum.clone().unwrap_or_default();
    let copy = full.trim_start_matches("sha256:").to_owned();
    view! {
        <td class="hide-narrow nowrap">
            <code title=full data-testid=short.is_some().then_some("checksum")>{short.clone().unwrap_or_else(|| "–".into())}</code>
            {short.map(|_| view! {
                " "
                <button class="btn-link small" type="button" title="Copy the full SHA-256"
                    disabled=move || !hydrated.get()
                    on:click=move |_| browser::copy_text(&copy)>"Copy"</button>
            })}
        </td>
    }
}
