//! The frame around every page: product name, navigation, and the hydration marker the end-to-end tests
//! wait for.

use leptos::prelude::*;
use leptos_router::components::A;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    /// In another WASM bundle (see [`crate::Bundle`]): the browser loads it from the server.
    pub external: bool,
}

impl NavLink {
    pub fn new(href: &'static str, label: &'static str) -> Self {
        Self { href, label, external: false }
    }

    pub fn external(self, external: bool) -> Self {
        Self { external, ..self }
    }
}

/// True once the WASM has taken over the page; controls that need it are disabled until then.
#[derive(Debug, Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

/// Whether the page is interactive yet (always `false` while rendering on the server).
pub fn use_hydrated() -> ReadSignal<bool> {
    use_context::<Hydrated>().map(|h| h.0).unwrap_or_else(|| signal(false).0)
}

/// Who is signed in, and the way out.
fn account() -> Option<impl IntoView> {
    let me = crate::session::signed_in()?;
    let api = crate::api::Api::current();
    let sign_out = move |_| {
        let api = api.clone();
        leptos::task::spawn_local(async move {
            // Even if the server cannot be reached, leave the page: nothing private stays on screen.
            let _ = api.logout().await;
            crate::browser::replace_location("/login");
        });
    };
    Some(view! {
        <div class="account">
            <span class="account-name" data-testid="signed-in-user">{me.username}</span>
            <span class="account-role" data-testid="signed-in-role">{me.role.as_str()}</span>
            <button class="btn btn-small" type="button" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
        </div>
    })
}

#[component]
pub fn Layout(product: &'static str, nav: Vec<NavLink>, children: Children) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));
    provide_context(Hydrated(hydrated));
    view! {
        <div class="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <header class="topbar">
                <span class="brand">
                    <span class="brand-mark" aria-hidden="true">"◉"</span>
                    {product}
                </span>
                <nav class="topnav" aria-label="Main">
                    {nav
                        .into_iter()
                        .map(|l| if l.external {
                            view! { <a href=l.href rel="external">{l.label}</a> }.into_any()
                        } else {
                            view! { <A href=l.href exact=true>{l.label}</A> }.into_any()
                        })
                        .collect_view()}
                </nav>
                {account()}
            </header>
            <main class="content">{children()}</main>
        </div>
    }
}
