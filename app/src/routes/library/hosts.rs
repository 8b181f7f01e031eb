//! The library's host panel: each host's sync state, last contact, image count, and a link to its UI.

use leptos::prelude::*;

use crate::browser;
use crate::format;
use crate::model::NodeInfo;

#[component]
pub fn HostPanel(nodes: Vec<NodeInfo>) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <p class="muted small" data-testid="nodes">"No host has reported yet."</p> }.into_any();
    }
    let now = (browser::now_ms() / 1000.0) as i64;
    view! {
        <ul class="nodes" data-testid="nodes">
            {nodes.into_iter().map(|n| {
                let contact = n.last_contact_at.map(|t| format!("last contact {}", format::ago(t, now))).unwrap_or_else(|| "never contacted".into());
                view! {
                    <li data-testid="node" data-node=n.id.to_string() data-state=n.state.as_str()>
                        <div class="node-line">
                            <strong>{n.name.clone()}</strong>
                            <span class=format!("badge state-{}", n.state.as_str())>{n.state.label()}</span>
                        </div>
                        <span class="small muted">{format!("{} images · {contact}", n.image_count)}</span>
                        {n.api_url.clone().filter(|u| crate::model::is_http_url(u)).map(|u| view! { <a class="small" href=format!("{u}/images")>"Open host UI"</a> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }.into_any()
}
