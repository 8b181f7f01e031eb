//! `/audit?user=&action=&within=`: who did what, newest first (admin).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Api;
use crate::components::status::{empty_state, error_notice, loading};
use crate::format;
use crate::model::AuditQuery;

/// The time windows the filter offers, with their length in seconds.
const WITHIN: [(&str, &str, i64); 4] =
    [("", "Any time", 0), ("1h", "Last hour", 3600), ("24h", "Last 24 hours", 86_400), ("7d", "Last 7 days", 604_800)];

/// The actions the log records, for the filter.
const ACTIONS: [&str; 15] = [
    "sign_in",
    "sign_out",
    "image_upload",
    "image_move",
    "image_delete",
    "folder_create",
    "folder_rename",
    "folder_delete",
    "vm_create",
    "vm_delete",
    "token_create",
    "token_revoke",
    "user_create",
    "user_update",
    "user_remove",
];

fn now() -> i64 {
    (crate::browser::now_ms() / 1000.0) as i64
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let api = Api::current();
    let query = use_query_map();
    let entries = Resource::new(
        move || query.get(),
        move |q| {
            let api = api.clone();
            let window = WITHIN.iter().find(|w| q.get("within").as_deref() == Some(w.0)).map_or(0, |w| w.2);
            let filter = AuditQuery {
                user: q.get("user").filter(|u| !u.is_empty()),
                action: q.get("action").filter(|a| !a.is_empty()),
                since: (window > 0).then(|| now() - window),
                limit: Some(500),
            };
            async move { api.audit(&filter).await }
        },
    );
    let selected = move |key: &'static str| query.with_untracked(|q| q.get(key).unwrap_or_default());
    view! {
        <Title text="Audit log" />
        <section class="page">
            <div class="page-head"><h1>"Audit log"</h1></div>
            // A plain GET form: the filters are the page's URL, so a filtered view can be bookmarked.
            <form class="audit-filters" method="get" action="/audit" data-testid="audit-filters">
                <label>"User" <input type="text" name="user" value=selected("user") data-testid="audit-user" /></label>
                <label>"Action"
                    <select name="action" data-testid="audit-action">
                        <option value="">"Any"</option>
                        {ACTIONS.into_iter().map(|a| view! { <option value=a selected=selected("action") == a>{a}</option> }).collect_view()}
                    </select>
                </label>
                <label>"When"
                    <select name="within">
                        {WITHIN.into_iter().map(|(v, label, _)| view! { <option value=v selected=selected("within") == v>{label}</option> }).collect_view()}
                    </select>
                </label>
                <button class="btn" type="submit" data-testid="audit-apply">"Apply"</button>
            </form>
            <Transition fallback=loading>
                {move || entries.get().map(|r| match r {
                    Err(e) => error_notice(e).into_any(),
                    Ok(list) if list.entries.is_empty() => empty_state("Nothing recorded", "No entry matches these filters.").into_any(),
                    Ok(list) => {
                        let now = now();
                        view! {
                            <div class="table-wrap">
                                <table class="images" data-testid="audit">
                                    <thead><tr><th>"When"</th><th>"User"</th><th>"From"</th><th>"Action"</th><th>"Target"</th><th>"Outcome"</th></tr></thead>
                                    <tbody>
                                        {list.entries.into_iter().map(|e| {
                                            let failed = e.outcome != "success";
                                            let action = e.action.clone();
                                            view! {
                                            <tr data-testid="audit-row" data-action=action>
                                                <td>{format::ago(e.at, now)}</td>
                                                <td>{e.user.unwrap_or_else(|| "—".into())}</td>
                                                <td>{e.source.unwrap_or_default()}</td>
                                                <td>{e.action}</td>
                                                <td class="cell-sub">{e.target.unwrap_or_default()}</td>
                                                <td class:outcome-failed=failed>{e.outcome}</td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
