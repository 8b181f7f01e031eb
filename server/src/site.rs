//! The Leptos web UI of a role: server-side rendering of its pages and the built assets under `pkg/`.

use std::path::Path;

use app::{
    Bundle, Role,
    api::{Api, ApiService},
};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// Options of the built site: where `pkg/` is (`quantix-iso.css`, and each bundle's `.js` and `.wasm`).
pub fn options(site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("quantix-iso")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build()
}

/// The UI routes of `role`, each page served with its own bundle. Pages read their data through `api`, the
/// role's own REST router, in-process.
pub fn router(role: Role, options: LeptosOptions, api: ApiService) -> Router {
    let context = move || provide_context(Api::new(api.clone()));
    let mut router = Router::new();
    for bundle in Bundle::ALL.into_iter().filter(|b| b.role() == role) {
        let routes = match bundle {
            Bundle::Host => generate_route_list(app::NodeApp),
            Bundle::Library => generate_route_list(app::LibraryApp),
            Bundle::Vms => generate_route_list(app::VmsApp),
        };
        let shell_options = options.clone();
        router = router.leptos_routes_with_context(&options, routes, context.clone(), move || {
            app::shell(shell_options.clone(), bundle)
        });
    }
    // Unknown paths: the 404 page of the role's first group (and the files under the site root).
    let fallback = Bundle::for_path(role, "/");
    router
        .fallback(leptos_axum::file_and_error_handler_with_context(context, move |options| {
            app::shell(options, fallback)
        }))
        .with_state(options)
}

/// Joins a role's REST router with its UI: `/` leads to `/images`.
pub fn with_ui(role: Role, api: Router, site_root: &Path) -> Router {
    let service = ApiService::new(api.clone());
    api.route("/", axum::routing::get(|| async { axum::response::Redirect::to("/images") })).merge(router(
        role,
        options(site_root),
        service,
    ))
}
