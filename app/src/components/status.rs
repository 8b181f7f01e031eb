//! Small status displays: loading, errors, empty states. Plain functions, not components: each is a few
//! elements, and a component boundary costs WASM size of its own.

use leptos::prelude::*;

use crate::api::ApiError;

pub fn error_notice(error: ApiError) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            {error.to_string()}
        </div>
    }
}

pub fn empty_state(title: &'static str, body: &'static str) -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-title">{title}</p>
            <div class="empty-body">{body}</div>
        </div>
    }
}

pub fn loading() -> impl IntoView {
    view! { <div class="loading" aria-busy="true">"Loading…"</div> }
}
