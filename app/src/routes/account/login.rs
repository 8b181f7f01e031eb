//! `/login?next=…`: sign in, then go back to the page asked for.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Api;
use crate::browser;
use crate::components::layout::use_hydrated;
use crate::model::LoginRequest;
use crate::session::safe_next;

#[component]
pub fn LoginPage() -> impl IntoView {
    let api = Api::current();
    let query = use_query_map();
    let hydrated = use_hydrated();
    let (username, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let req =
            LoginRequest { username: username.get_untracked().trim().to_owned(), password: password.get_untracked() };
        let next = safe_next(query.get_untracked().get("next").as_deref());
        let api = api.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api.login(&req).await {
                // A full load: the page asked for may be in another bundle, and it must be rendered for
                // the user now signed in.
                Ok(_) => browser::replace_location(&next),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    password.set(String::new());
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <Title text="Sign in" />
        <section class="page login">
            <form class="login-card" on:submit=submit data-testid="login-form">
                <h1>"Sign in"</h1>
                <label>
                    "User name"
                    <input type="text" name="username" autocomplete="username" required autofocus
                        data-testid="login-username" prop:value=username
                        on:input=move |ev| username.set(event_target_value(&ev)) />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required
                        data-testid="login-password" prop:value=password
                        on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                {move || error.get().map(|e| view! { <p class="notice notice-error" role="alert" data-testid="login-error">{e}</p> })}
                <button class="btn btn-primary" type="submit" data-testid="login-submit"
                    disabled=move || !hydrated.get() || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
                <p class="hint">"First start? The password of \"admin\" is in the file initial-admin-password in the data directory."</p>
            </form>
        </section>
    }
}
