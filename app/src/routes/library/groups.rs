//! The library's grouped view: the same ISO (same SHA-256) on several hosts is one row listing its
//! locations.

use leptos::prelude::*;

use crate::components::image_table::{TableContext, name_cell, os_cell};
use crate::format;
use crate::model::IsoMetadata;

/// Images grouped by checksum, in the order each checksum first appears (an unhashed image stands alone).
fn groups(images: Vec<IsoMetadata>) -> Vec<Vec<IsoMetadata>> {
    let mut out: Vec<Vec<IsoMetadata>> = Vec::new();
    for image in images {
        match out.iter_mut().find(|g| image.checksum.is_some() && g[0].checksum == image.checksum) {
            Some(group) => group.push(image),
            None => out.push(vec![image]),
        }
    }
    out
}

#[component]
pub fn GroupedTable(images: Vec<IsoMetadata>, context: TableContext) -> impl IntoView {
    let rows = groups(images)
        .into_iter()
        .map(|copies| {
            let first = &copies[0];
            let locations = copies
                .iter()
                .map(|c| format!("{} · {} · {}", context.host_name(c.node()), c.pool(), c.folder_path))
                .map(|l| view! { <li class="small">{l}</li> })
                .collect_view();
            view! {
                <tr data-testid="image-group" data-name=first.filename.clone()>
                    {name_cell(first)}
                    <td class="num nowrap">{format::bytes(first.size_bytes)}</td>
                    {os_cell(first)}
                    <td colspan="3">
                        <span class="badge">{format!("{} location(s)", copies.len())}</span>
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
