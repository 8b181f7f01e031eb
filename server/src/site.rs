//! The Leptos web UI of a role: server-side rendering of its pages and the built assets under `pkg/`.

use std::path::Path;

use app::{
    Role,
    api::{Api, ApiService},
};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// Options of the built site: where `pkg/quantix-iso.{js,wasm,css}` are.
pub fn options(site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("quantix-iso")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build()
}

/// The UI routes of `role`. Pages read their data through `api`, the role's own REST router, in-process.
pub fn router(role: Role, options: LeptosOptions, api: ApiService) -> Router {
    let routes = match role {
        Role::Node => generate_route_list(app::NodeApp),
        Role::Vdc => generate_route_list(app::VdcApp),
    };
    let context = move || provide_context(Api::new(api.clone()));
    let shell = move |options: LeptosOptions| app::shell(options, role);
    Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
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
