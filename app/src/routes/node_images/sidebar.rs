//! The host page's status pieces: the node's own sync state, and its storage pools with their space.

use leptos::prelude::*;

use crate::format;
use crate::model::{NodeSyncStatus, StoragePool};

/// The node's own sync state, in a word.
pub fn sync_badge(status: NodeSyncStatus) -> impl IntoView {
    let (class, text, title) = match (&status.vdc_url, status.pending, &status.last_error) {
        (None, _, _) => ("badge", "Standalone".to_owned(), "This node does not report to a control plane.".to_owned()),
        (Some(url), 0, _) if status.last_error_at <= status.last_success_at => {
            ("badge badge-ok", "In sync".to_owned(), format!("Reporting to {url}"))
        }
        (Some(url), n, err) => {
            let why = err.clone().unwrap_or_default();
            ("badge badge-warn", format!("{n} change(s) to sync"), format!("Reporting to {url}. {why}"))
        }
    };
    view! {
        <span class=class title=title data-testid="sync-badge">
            {format!("{} · {}", status.node_name, text)}
        </span>
    }
}

/// Each pool: free space of capacity, image count, a usage bar.
pub fn pool_list(pools: Signal<Vec<StoragePool>>) -> impl IntoView {
    view! {
        <ul class="pools" data-testid="pools">
            {move || pools.get().into_iter().map(|p| {
                let used = p.capacity_bytes.saturating_sub(p.free_bytes);
                view! {
                    <li>
                        <strong>{p.name.clone()}</strong>
                        <span class="small muted">
                            {format!("{} free of {} · {} images", format::bytes(p.free_bytes), format::bytes(p.capacity_bytes), p.image_count)}
                        </span>
                        <progress max=p.capacity_bytes.max(1) value=used aria-label=format!("{} used", p.name)></progress>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
