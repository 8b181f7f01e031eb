//! The Leptos web UI of a role: server-side rendering of its pages and the built assets under `pkg/`.
//!
//! Every page but the sign-in page is for signed-in users: an anonymous visitor is sent to
//! `/login?next=…`. A page reads its data through the role's REST router in-process, as the user whose
//! request it renders (the caller travels in the request's extensions), so a page can show nothing its
//! user could not read through the API.

use std::path::Path;

use app::{
    Bundle, Role,
    api::{Api, ApiService},
    model::SignedIn,
};
use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderValue, header, request::Parts};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::auth::{Caller, routes::Guard};

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
    let context = move || {
        // Only who is calling and from where travel into the in-process API calls: the page request's
        // other extensions (its matched route among them) belong to the page.
        let page = use_context::<Parts>().map(|p| p.extensions).unwrap_or_default();
        let mut extensions = http::Extensions::new();
        if let Some(caller) = page.get::<Caller>() {
            if let Some(me) = caller.me() {
                provide_context(SignedIn(me));
            }
            extensions.insert(caller.clone());
        }
        if let Some(peer) = page.get::<ConnectInfo<std::net::SocketAddr>>() {
            extensions.insert(*peer);
        }
        provide_context(role);
        provide_context(Api::new(api.clone(), extensions));
    };
    let mut router = Router::new();
    for bundle in Bundle::ALL.into_iter().filter(|b| b.serves(role)) {
        let routes = match bundle {
            Bundle::Host => generate_route_list(app::NodeApp),
            Bundle::Library => generate_route_list(app::LibraryApp),
            Bundle::Vms => generate_route_list(app::VmsApp),
            Bundle::Account => generate_route_list(app::AccountApp),
        };
        let shell_options = options.clone();
        router = router.leptos_routes_with_context(&options, routes, context.clone(), move || {
            app::shell(shell_options.clone(), bundle, role)
        });
    }
    // Unknown paths: the 404 page of the role's first group (and the files under the site root).
    let fallback = Bundle::for_path(role, "/");
    router
        .fallback(leptos_axum::file_and_error_handler_with_context(context, move |options| {
            app::shell(options, fallback, role)
        }))
        .with_state(options)
}

/// Paths anyone may fetch: the sign-in page and the built assets.
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/favicon.ico" || path.starts_with("/pkg/")
}

/// Sends anonymous visitors of a page to the sign-in page, and back here afterwards; pages of a user
/// are never kept by the browser (after sign-out, Back shows nothing private).
async fn pages_for_users(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let caller = match guard.caller(req.headers(), req.method(), true).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if is_public(&path) {
        if path == "/login" {
            req.extensions_mut().insert(caller);
        }
        return next.run(req).await;
    }
    if !matches!(caller, Caller::User(_)) {
        let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let next = app::model::encode_query([("next", here)]);
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    req.extensions_mut().insert(caller);
    let mut response = next.run(req).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Joins a role's REST router with its UI: `/` leads to `/images`.
pub fn with_ui(role: Role, api: Router, site_root: &Path, guard: Guard) -> Router {
    let service = ApiService::new(api.clone());
    let pages = router(role, options(site_root), service).layer(middleware::from_fn_with_state(guard, pages_for_users));
    api.route("/", axum::routing::get(|| async { Redirect::to("/images") })).merge(pages)
}
