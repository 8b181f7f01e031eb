//! The library's grouped view: the same ISO (same SHA-256) on several hosts is one row listing its
//! locations. The vdc groups over the whole filtered result (`group=checksum`), so a copy on a later page
//! of images is still in its group.

use leptos::prelude::*;

use crate::components::image_table::{TableContext, name_cell, os_cell};
use crate::format;
use crate::model::ImageGroup;

#[component]
pub fn GroupedTable(groups: Vec<ImageGroup>, context: TableContext) -> impl IntoView {
    let rows = groups
        .into_iter()
        .map(|group| {
            let first = &group.image;
            let locations = group
                .locations
                .iter()
                .map(|l| {
                    let pool = l.storage_pool_id.as_ref().map_or("", |p| p.as_str());
                    format!("{} · {pool} · {}", context.host_name(l.node_id.as_str()), l.folder_path)
                })
                .map(|l| view! { <li class="small">{l}</li> })
                .collect_view();
            view! {
                <tr data-testid="image-group" data-name=first.filename.clone()>
                    {name_cell(first)}
                    <td class="num nowrap">{format::bytes(first.size_bytes)}</td>
                    {os_cell(first)}
                    <td colspan="3">
                        <span class="badge">{format!("{} location(s)", group.copies)}</span>
                        <ul class="locations">{locations}</ul>
                    </td>
                    <td class="hide-narrow"><code title=first.checksum.clone().unwrap_or_default()>{first.short_checksum().unwrap_or("–").to_owned()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap"><table class="images" data-testid="images">
            <thead><tr><th>"Name"</th><th class="num">"Size"</th><th class="hide-narrow">"OS"</th><th colspan="3">"Locations"</th><th class="hide-narrow">"Checksum"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
    }
}
