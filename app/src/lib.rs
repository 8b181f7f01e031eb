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
pub mod resumable;
pub mod routes;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use components::layout::{Layout, NavLink};
use routes::{
    account::{audit::AuditPage, login::LoginPage},
    library::LibraryPage,
    node_images::NodeImagesPage,
    not_found::NotFound,
    vm_wizard::VmWizardPage,
    vms::VmsPage,
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

/// The page groups, each hydrated by its own WASM build of `frontend` (cargo feature of the same name), so
/// a page downloads the code of its own group only. Navigation inside a group stays in the browser; a
/// link to another group loads that page from the server (`rel="external"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    /// The node's host UI.
    Host,
    /// The vdc's image library.
    Library,
    /// The vdc's VM list and create wizard (with the ISO picker).
    Vms,
    /// Both roles' sign-in page and audit log.
    Account,
}

impl Bundle {
    pub const ALL: [Bundle; 4] = [Bundle::Host, Bundle::Library, Bundle::Vms, Bundle::Account];

    /// The file stem of its `pkg/<name>.js` and `pkg/<name>.wasm`. The library is the bundle cargo-leptos
    /// builds itself (under the project's output name); the others are built beside it by
    /// `scripts/prereqs.sh` (`build_site`).
    pub fn output_name(self) -> &'static str {
        match self {
            Bundle::Host => "quantix-host",
            Bundle::Library => "quantix-iso",
            Bundle::Vms => "quantix-vms",
            Bundle::Account => "quantix-account",
        }
    }

    /// Whether pages of this group are served by `role`.
    pub fn serves(self, role: Role) -> bool {
        match self {
            Bundle::Host => role == Role::Node,
            Bundle::Library | Bundle::Vms => role == Role::Vdc,
            Bundle::Account => true,
        }
    }

    /// The group a UI path of `role` belongs to (unknown paths: the role's first group, for its 404 page).
    pub fn for_path(role: Role, path: &str) -> Bundle {
        match role {
            _ if path == "/login" || path == "/audit" => Bundle::Account,
            Role::Node => Bundle::Host,
            Role::Vdc if path == "/vms" || path.starts_with("/vms/") => Bundle::Vms,
            Role::Vdc => Bundle::Library,
        }
    }
}

/// The HTML document around a page of `bundle`, served by `role`.
pub fn shell(mut options: LeptosOptions, bundle: Bundle, role: Role) -> impl IntoView {
    options.output_name = bundle.output_name().into();
    // Who the page is for, where the browser reads it back (see `session`).
    let user = session::signed_in().map(|me| {
        view! {
            <meta name=session::USER_META content=me.username />
            <meta name=session::ROLE_META content=me.role.as_str() />
            <meta name=session::CSRF_META content=me.csrf_token />
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en" data-role=role.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                {user}
                <HydrationScripts options=options.clone() />
                <MetaTags />
            </head>
            <body>
                {match bundle {
                    Bundle::Host => view! { <NodeApp /> }.into_any(),
                    Bundle::Library => view! { <LibraryApp /> }.into_any(),
                    Bundle::Vms => view! { <VmsApp /> }.into_any(),
                    Bundle::Account => view! { <AccountApp /> }.into_any(),
                }}
            </body>
        </html>
    }
}

/// What every page of a role has around its routes: stylesheet, title suffix, router and frame.
#[component]
fn Frame(product: &'static str, nav: Vec<NavLink>, children: Children) -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="quantix" href="/pkg/quantix-iso.css" />
        <Title formatter=move |t: String| format!("{t} · {product}") />
        <Router>
            <Layout product nav>{children()}</Layout>
        </Router>
    }
}

/// The node's host UI (the seed's QHCI StorageImages).
#[component]
pub fn NodeApp() -> impl IntoView {
    view! {
        <Frame product="Quantix host" nav=node_nav(Bundle::Host)>
            <Routes fallback=NotFound>
                <Route path=path!("/images") view=NodeImagesPage />
            </Routes>
        </Frame>
    }
}

/// A role's navigation, as seen from the pages of `current`: nothing before sign-in, the audit log for
/// admins.
fn nav(role: Role, current: Bundle, links: &[(&'static str, &'static str)]) -> Vec<NavLink> {
    if session::signed_in().is_none() {
        return Vec::new();
    }
    let audit = session::is_admin().then_some(("/audit", "Audit log"));
    links
        .iter()
        .copied()
        .chain(audit)
        .map(|(href, label)| NavLink::new(href, label).external(Bundle::for_path(role, href) != current))
        .collect()
}

fn node_nav(current: Bundle) -> Vec<NavLink> {
    nav(Role::Node, current, &[("/images", "Images")])
}

/// The control plane's navigation, as seen from the pages of `current`.
fn vdc_nav(current: Bundle) -> Vec<NavLink> {
    nav(Role::Vdc, current, &[("/images", "Image library"), ("/vms", "Virtual machines"), ("/vms/new", "New VM")])
}

/// Both roles' sign-in page and audit log, in the frame of the role that serves them.
#[component]
pub fn AccountApp() -> impl IntoView {
    let (product, links) = match session::page_role() {
        Role::Node => ("Quantix host", node_nav(Bundle::Account)),
        Role::Vdc => ("Quantix vDC", vdc_nav(Bundle::Account)),
    };
    view! {
        <Frame product nav=links>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/audit") view=AuditPage />
            </Routes>
        </Frame>
    }
}

/// The control plane's image library (the seed's QvDC ImageLibraryLayout / AllImagesPage).
#[component]
pub fn LibraryApp() -> impl IntoView {
    view! {
        <Frame product="Quantix vDC" nav=vdc_nav(Bundle::Library)>
            <Routes fallback=NotFound>
                <Route path=path!("/images") view=LibraryPage />
            </Routes>
        </Frame>
    }
}

/// The control plane's VM pages: the list and the create wizard with the ISO picker.
#[component]
pub fn VmsApp() -> impl IntoView {
    view! {
        <Frame product="Quantix vDC" nav=vdc_nav(Bundle::Vms)>
            <Routes fallback=NotFound>
                <Route path=path!("/vms") view=VmsPage />
                <Route path=path!("/vms/new") view=VmWizardPage />
            </Routes>
        </Frame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ui_path_belongs_to_one_bundle_of_its_role() {
        assert_eq!(Bundle::for_path(Role::Node, "/images"), Bundle::Host);
        assert_eq!(Bundle::for_path(Role::Vdc, "/images"), Bundle::Library);
        assert_eq!(Bundle::for_path(Role::Vdc, "/vms"), Bundle::Vms);
        assert_eq!(Bundle::for_path(Role::Vdc, "/vms/new"), Bundle::Vms);
        assert_eq!(Bundle::for_path(Role::Vdc, "/vmsx"), Bundle::Library);
        assert_eq!(Bundle::for_path(Role::Vdc, "/login"), Bundle::Account);
        assert_eq!(Bundle::for_path(Role::Node, "/audit"), Bundle::Account);
        assert!(Bundle::Account.serves(Role::Node) && Bundle::Account.serves(Role::Vdc));
        for b in Bundle::ALL {
            assert_eq!(Bundle::ALL.iter().filter(|o| o.output_name() == b.output_name()).count(), 1);
        }
    }

    #[test]
    fn links_to_another_bundle_load_the_page() {
        let owner = Owner::new();
        owner.with(|| {
            use crate::model::{Me, SignedIn, UserRole};
            let external = |b| vdc_nav(b).into_iter().map(|l| (l.href, l.external)).collect::<Vec<_>>();
            assert!(external(Bundle::Library).is_empty(), "no navigation before sign-in");
            provide_context(SignedIn(Me {
                username: "ann".into(),
                role: UserRole::Operator,
                csrf_token: String::new(),
            }));
            assert_eq!(external(Bundle::Library), [("/images", false), ("/vms", true), ("/vms/new", true)]);
            assert_eq!(external(Bundle::Vms), [("/images", true), ("/vms", false), ("/vms/new", false)]);
            provide_context(SignedIn(Me { username: "root".into(), role: UserRole::Admin, csrf_token: String::new() }));
            assert_eq!(external(Bundle::Account).last(), Some(&("/audit", false)));
            assert_eq!(external(Bundle::Library).last(), Some(&("/audit", true)));
        });
    }
}
