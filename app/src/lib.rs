//! The Quantix ISO web app: wire types shared by server and browser, the folder rules, and the Leptos
//! pages of both roles (the node's host UI and the vdc's library and VM wizard).
//!
//! Built twice: with `ssr` into the server binary and with `hydrate` into the WASM client. Nothing here
//! touches a database, a filesystem or a socket directly: server-only code lives in the `server` crate.

#![recursion_limit = "512"]

pub mod api;
pub mod browser;
pub mod components;
pub mod format;
pub mod model;
pub mod routes;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use components::layout::{Layout, NavLink};
use routes::{
    library::LibraryPage, node_images::NodeImagesPage, not_found::NotFound, vm_wizard::VmWizardPage, vms::VmsPage,
};

/// Which part of the system serves the page; the browser learns it from `<html data-role>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Node,
    Vdc,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Vdc => "vdc",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "node" => Some(Role::Node),
            "vdc" => Some(Role::Vdc),
            _ => None,
        }
    }
}

/// The HTML document around either app.
pub fn shell(options: LeptosOptions, role: Role) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" data-role=role.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <HydrationScripts options=options.clone() />
                <MetaTags />
            </head>
            <body>
                {match role {
                    Role::Node => view! { <NodeApp /> }.into_any(),
                    Role::Vdc => view! { <VdcApp /> }.into_any(),
                }}
            </body>
        </html>
    }
}

/// The node's host UI (the seed's QHCI StorageImages).
#[component]
pub fn NodeApp() -> impl IntoView {
    provide_meta_context();
    let nav = vec![NavLink::new("/images", "Images")];
    view! {
        <Stylesheet id="quantix" href="/pkg/quantix-iso.css" />
        <Title formatter=|t: String| format!("{t} · Quantix host") />
        <Router>
            <Layout product="Quantix host" nav>
                <Routes fallback=NotFound>
                    <Route path=path!("/images") view=NodeImagesPage />
                </Routes>
            </Layout>
        </Router>
    }
}

/// The control plane's UI (the seed's QvDC image library and VM create wizard).
#[component]
pub fn VdcApp() -> impl IntoView {
    provide_meta_context();
    let nav = vec![
        NavLink::new("/images", "Image library"),
        NavLink::new("/vms", "Virtual machines"),
        NavLink::new("/vms/new", "New VM"),
    ];
    view! {
        <Stylesheet id="quantix" href="/pkg/quantix-iso.css" />
        <Title formatter=|t: String| format!("{t} · Quantix vDC") />
        <Router>
            <Layout product="Quantix vDC" nav>
                <Routes fallback=NotFound>
                    <Route path=path!("/images") view=LibraryPage />
                    <Route path=path!("/vms") view=VmsPage />
                    <Route path=path!("/vms/new") view=VmWizardPage />
                </Routes>
            </Layout>
        </Router>
    }
}

/// The WASM entry point: hydrates whichever app the server rendered.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    let role = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-role"))
        .and_then(|r| Role::parse(&r));
    match role {
        Some(Role::Node) => leptos::mount::hydrate_body(NodeApp),
        Some(Role::Vdc) => leptos::mount::hydrate_body(VdcApp),
        None => leptos::logging::error!("the page has no known data-role; not hydrating"),
    }
}
