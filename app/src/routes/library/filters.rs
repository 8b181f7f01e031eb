//! The library's filters: host, pool, OS family, order, subfolders, grouping.

use leptos::prelude::*;

use crate::components::list_view::ListView;
use crate::format;
use crate::model::{NodeInfo, SortKey, SortOrder, os_family};

/// The orders offered, as `sort-order` option values with their labels.
const ORDERS: [(SortKey, SortOrder, &str); 7] = [
    (SortKey::Folder, SortOrder::Asc, "Folder, then name"),
    (SortKey::Name, SortOrder::Asc, "Name A–Z"),
    (SortKey::Name, SortOrder::Desc, "Name Z–A"),
    (SortKey::Size, SortOrder::Desc, "Largest first"),
    (SortKey::Size, SortOrder::Asc, "Smallest first"),
    (SortKey::Created, SortOrder::Desc, "Newest first"),
    (SortKey::Created, SortOrder::Asc, "Oldest first"),
];

fn order_value(sort: SortKey, order: SortOrder) -> String {
    format!("{}-{}", sort.as_str(), order.as_str())
}

#[component]
pub fn Filters(
    view: Memo<ListView>,
    /// Shows a changed view (navigates to it).
    go: Callback<ListView>,
    #[prop(into)] nodes: Signal<Vec<NodeInfo>>,
    #[prop(into)] enabled: Signal<bool>,
) -> impl IntoView {
    let set = move |change: &dyn Fn(&mut ListView)| {
        let mut v = view.get_untracked();
        change(&mut v);
        go.run(v);
    };
    let pools = move || {
        let mut ids: Vec<String> =
            nodes.with(|n| n.iter().flat_map(|n| n.pools.iter().map(|p| p.id.to_string())).collect());
        ids.sort();
        ids.dedup();
        ids
    };
    view! {
        <div class="filters" data-testid="filters">
            <select aria-label="Host" data-testid="filter-node" disabled=move || !enabled.get()
                prop:value=move || view.get().node
                on:change=move |ev| { let v = event_target_value(&ev); set(&|w| w.node = v.clone()) }>
                <option value="">"All hosts"</option>
                {move || nodes.get().into_iter().map(|n| view! { <option value=n.id.to_string()>{n.name}</option> }).collect_view()}
            </select>
            <select aria-label="Pool" data-testid="filter-pool" disabled=move || !enabled.get()
                prop:value=move || view.get().pool
                on:change=move |ev| { let v = event_target_value(&ev); set(&|w| w.pool = v.clone()) }>
                <option value="">"All pools"</option>
                {move || pools().into_iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
            </select>
            <select aria-label="OS family" data-testid="filter-os" disabled=move || !enabled.get()
                prop:value=move || view.get().os
                on:change=move |ev| { let v = event_target_value(&ev); set(&|w| w.os = v.clone()) }>
                <option value="">"All systems"</option>
                {os_family::ALL.iter().map(|f| view! { <option value=*f>{format::os_label(Some(f), None, None)}</option> }).collect_view()}
            </select>
            <select aria-label="Sort by" data-testid="sort" disabled=move || !enabled.get()
                prop:value=move || view.with(|v| order_value(v.sort, v.order))
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if let Some((sort, order, _)) = ORDERS.iter().find(|(s, o, _)| order_value(*s, *o) == chosen) {
                        set(&|w| { w.sort = *sort; w.order = *order; })
                    }
                }>
                {ORDERS.iter().map(|(s, o, label)| view! { <option value=order_value(*s, *o)>{*label}</option> }).collect_view()}
            </select>
            <label class="small">
                <input type="checkbox" data-testid="subfolders" disabled=move || !enabled.get()
                    prop:checked=move || view.get().subfolders
                    on:change=move |ev| { let on = event_target_checked(&ev); set(&|w| w.subfolders = on) } />
                " Include subfolders"
            </label>
            <label class="small">
                <input type="checkbox" data-testid="group" disabled=move || !enabled.get()
                    prop:checked=move || view.get().group
                    on:change=move |ev| { let on = event_target_checked(&ev); set(&|w| w.group = on) } />
                " Group identical ISOs"
            </label>
        </div>
    }
}
