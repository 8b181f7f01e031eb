//! Routes with their access declared where they are mounted, and the one middleware that enforces it.
//!
//! A role builds its API with [`Routes`]: every route is a handler whose `#[utoipa::path]` names its
//! method and path, mounted with its [`Access`]. The table so built is what the middleware consults for
//! each request (by method and matched path); a route mounted any other way is not in it and answers
//! nobody. The same routes make the role's OpenAPI document (with each route's security following its
//! access), and the table lets a test call every route anonymously and as a viewer.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use app::model::{AuditEntry, CSRF_HEADER, UserRole};
use axum::{
    Router,
    extract::{ConnectInfo, MatchedPath, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use http::{Method, StatusCode, header};

use super::{Auth, Caller, Rejected, Via};
use crate::http::{ApiError, hosts::HostPolicy, openapi};
use crate::telemetry::metrics;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, sign-in, the API schema.
    Public,
    /// The other role of the cluster (the cluster token), never a user.
    Cluster,
    /// A node with its own credential (the vdc's sync endpoints): never a user, nor the cluster token,
    /// which only registers a node.
    Node,
    /// A node holding a ticket the vdc issued for this one call ([`super::ticket`]), which the handler
    /// checks: a copy of an image between nodes. Whatever else the caller presents opens nothing.
    Ticket,
    /// A signed-in user with at least this role.
    Role(UserRole),
}

pub const VIEWER: Access = Access::Role(UserRole::Viewer);
pub const OPERATOR: Access = Access::Role(UserRole::Operator);
pub const ADMIN: Access = Access::Role(UserRole::Admin);

/// One mounted route. `method` `None`: every method (a fallback, not in the API document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Option<Method>,
    pub path: String,
    pub access: Access,
    /// The audit log's name for what a call does (`image_delete`); `None`: the call changes nothing, or
    /// its handler records itself (sign-in).
    pub audit: Option<&'static str>,
}

/// Every route of a role with its access, and the API document they make.
#[derive(Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    index: HashMap<(Option<Method>, String), usize>,
    role: &'static str,
    openapi: utoipa::openapi::OpenApi,
}

impl std::fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTable").field("role", &self.role).field("routes", &self.routes).finish_non_exhaustive()
    }
}

impl RouteTable {
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// `node` or `vdc`.
    pub fn role(&self) -> &'static str {
        self.role
    }

    /// The role's OpenAPI document, as `GET /api/v1/openapi.json` serves it.
    pub fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.openapi
    }

    fn route(&self, method: &Method, path: &str) -> Option<&Route> {
        let find = |m: &Method| self.index.get(&(Some(m.clone()), path.to_owned()));
        let i = find(method)
            // Where no HEAD is mounted, axum answers HEAD with the GET handler: it is that route, with
            // its access (else it would pass as "another method" and run the handler for anybody).
            .or_else(|| if *method == Method::HEAD { find(&Method::GET) } else { None })
            .or_else(|| self.index.get(&(None, path.to_owned())))?;
        Some(&self.routes[*i])
    }

    /// Whether some method is mounted at `path` (another method there answers 405, running no handler).
    fn knows_path(&self, path: &str) -> bool {
        self.routes.iter().any(|r| r.path == path)
    }
}

/// A handler with its description: what `utoipa_axum::routes!(handler)` makes of a handler that carries
/// `#[utoipa::path(...)]`. Its method and path are read from there, so they are written once.
pub type Documented<S> = utoipa_axum::router::UtoipaMethodRouter<S>;

pub struct Routes<S> {
    router: Router<S>,
    table: RouteTable,
    doc: openapi::Draft,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self { router: Router::new(), table: RouteTable::default(), doc: openapi::Draft::default() }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self::default()
    }

    fn declare(&mut self, method: Option<Method>, path: &str, access: Access) {
        let fresh = self.table.index.insert((method.clone(), path.to_owned()), self.table.routes.len()).is_none();
        assert!(fresh, "{method:?} {path} is declared twice");
        self.table.routes.push(Route { method, path: path.to_owned(), access, audit: None });
    }

    /// Mounts a documented handler (`routes!(handler)`) for callers with `access`, at the path and for
    /// the method its `#[utoipa::path]` names.
    pub fn route(self, access: Access, route: Documented<S>) -> Self {
        self.route_with(access, route, |r| r)
    }

    /// Like [`route`](Self::route), with layers of its own on the handler (a body limit).
    pub fn route_with(
        mut self,
        access: Access,
        (schemas, paths, handler): Documented<S>,
        layer: impl FnOnce(MethodRouter<S>) -> MethodRouter<S>,
    ) -> Self {
        let mut described = paths.paths.into_iter();
        let (path, item) = described.next().expect("a documented handler names its path");
        assert!(described.next().is_none(), "one handler per route");
        for (method, operation) in openapi::operations(item) {
            self.declare(Some(method.clone()), &path, access);
            self.doc.add(&path, &method, operation, access);
        }
        self.doc.schemas.extend(schemas);
        self.router = self.router.route(&path, layer(handler));
        self
    }

    /// A route for every method: fallbacks, which answer errors only and are not in the API document.
    pub fn any(mut self, access: Access, path: &'static str, route: MethodRouter<S>) -> Self {
        self.declare(None, path, access);
        self.router = self.router.route(path, route);
        self
    }

    /// Records every call of the route added last in the audit log as `action`: who, from where, on
    /// what (the handler may name it with an [`AuditTarget`] response extension, else the path), and
    /// the outcome.
    pub fn audited(mut self, action: &'static str) -> Self {
        let last = self.table.routes.last_mut().expect("a route to audit");
        assert!(last.access != Access::Public, "{} is public: there is nobody to record", last.path);
        last.audit = Some(action);
        if let Some(method) = &last.method {
            self.doc.audited(&last.path, method, action);
        }
        self
    }

    /// The router with the access of every route enforced, and the table of those routes with the API
    /// document they make for `role` (`node`, `vdc`).
    pub fn finish(mut self, state: S, guard: Guard, role: &'static str) -> (Router, Arc<RouteTable>) {
        self.table.role = role;
        self.table.openapi = self.doc.finish(openapi::About { role, cookie_name: guard.auth.settings.cookie_name });
        let table = Arc::new(self.table);
        let guard = Arc::new(GuardState { guard, table: table.clone() });
        // Installed before the first request, so that no count is lost.
        metrics::handle();
        let router = self
            .router
            .layer(middleware::from_fn_with_state(guard, enforce))
            // Outside the guard: refusals are counted too.
            .layer(middleware::from_fn(move |req, next| metrics::track_requests(role, req, next)))
            .layer(axum::Extension(table.clone()))
            .with_state(state);
        (router, table)
    }
}

/// What the middleware needs: the role's authentication and the names it answers to.
#[derive(Clone)]
pub struct Guard {
    pub auth: Auth,
    pub hosts: HostPolicy,
}

struct GuardState {
    guard: Guard,
    table: Arc<RouteTable>,
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

/// Methods that change nothing: they need no CSRF token and pass any `Origin`.
pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl Guard {
    /// The caller of a request from the network: its Host and Origin checked (for requests a browser
    /// could have sent with its cookies), its credentials resolved. Bad credentials on a public route
    /// (a stale cookie on the sign-in page) count as none.
    pub async fn caller(&self, headers: &http::HeaderMap, method: &Method, public: bool) -> Result<Caller, ApiError> {
        if !headers.contains_key(header::AUTHORIZATION) {
            self.hosts.check(headers, method)?;
        }
        match self.auth.resolve(headers, crate::now_unix()).await.map_err(ApiError::internal)? {
            Ok(caller) => Ok(caller),
            Err(_) if public => Ok(Caller::Anonymous),
            Err(Rejected::Session) => {
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_session", Rejected::Session.to_string()))
            }
            Err(Rejected::Token) => {
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", Rejected::Token.to_string()))
            }
            Err(Rejected::NodeCredential) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_node_credential",
                Rejected::NodeCredential.to_string(),
            )),
        }
    }
}

/// Whether `caller` may make a request with `method` to a route of `access`; with a session cookie a
/// write must also carry the session's CSRF token.
pub fn authorize(caller: &Caller, access: Access, method: &Method, csrf: Option<&str>) -> Result<(), ApiError> {
    match (access, caller) {
        (Access::Public | Access::Ticket, _) => Ok(()),
        (Access::Cluster, Caller::Cluster { .. }) => Ok(()),
        (Access::Cluster, Caller::Anonymous) => {
            Err(unauthenticated("This call is for the cluster's own roles: it needs the cluster token."))
        }
        (Access::Cluster, Caller::User(_)) => {
            Err(forbidden("This call is for the cluster's own roles, not for users."))
        }
        (Access::Cluster, Caller::Node { .. }) => {
            Err(forbidden("A node's own credential does not open this call; it needs the cluster token."))
        }
        (Access::Node, Caller::Node { .. }) => Ok(()),
        (Access::Node, Caller::Anonymous) => Err(unauthenticated(
            "This call is for nodes: it needs the node's own credential (from RegisterNode, with the cluster token).",
        )),
        (Access::Node, Caller::Cluster { .. }) => Err(forbidden(
            "The cluster token only registers a node (RegisterNode); sync calls carry the node's own credential.",
        )),
        (Access::Node, Caller::User(_)) => Err(forbidden("This call is for nodes, not for users.")),
        (Access::Role(_), Caller::Node { .. }) => Err(forbidden("A node's credential is not a user's.")),
        (Access::Role(_), Caller::Anonymous) => Err(unauthenticated(
            "Sign in first (POST /api/v1/auth/login), or send an API token (Authorization: Bearer …).",
        )),
        (Access::Role(_), Caller::Cluster { .. }) => Err(forbidden("The cluster token is not a user's credential.")),
        (Access::Role(min), Caller::User(u)) => {
            if u.role < min {
                return Err(forbidden(format!(
                    "This needs the {min} role; {} is signed in as {}.",
                    u.username, u.role
                )));
            }
            if let Via::Session { csrf_token, .. } = &u.via
                && !is_safe(method)
            {
                let presented = csrf.unwrap_or_default();
                if presented.is_empty() {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf_token_missing",
                        format!(
                            "A change made with the session cookie must carry the {CSRF_HEADER} header (from sign-in or GET /api/v1/auth/me)."
                        ),
                    ));
                }
                if !super::secret::same(presented.as_bytes(), csrf_token.as_bytes()) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf_token_invalid",
                        format!("The {CSRF_HEADER} header does not belong to this session; reload the page."),
                    ));
                }
            }
            Ok(())
        }
    }
}

async fn enforce(State(g): State<Arc<GuardState>>, mut req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let Some(route) = g.table.route(req.method(), &path) else {
        if g.table.knows_path(&path) {
            return next.run(req).await;
        }
        tracing::error!(method = %req.method(), path, "a route without a declared access was called");
        return forbidden("This route declares no access, so it answers nobody.").into_response();
    };
    let access = route.access;
    // A page rendering on the server calls the API in-process with the caller it already resolved.
    let caller = match req.extensions().get::<Caller>() {
        Some(c) => c.clone(),
        None => {
            match g.guard.caller(req.headers(), req.method(), matches!(access, Access::Public | Access::Ticket)).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            }
        }
    };
    let csrf = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = authorize(&caller, access, req.method(), csrf) {
        return e.into_response();
    }
    let Some(action) = route.audit else {
        req.extensions_mut().insert(caller);
        return next.run(req).await;
    };
    let source = super::api::source_of(&caller, peer(req.extensions()));
    let uri_target = match req.uri().query() {
        Some(q) => format!("{}?{q}", req.uri().path()),
        None => req.uri().path().to_owned(),
    };
    let user = caller.name();
    req.extensions_mut().insert(caller);
    let response = next.run(req).await;
    let status = response.status();
    let target = response.extensions().get::<AuditTarget>().map_or(uri_target, |t| t.0.clone());
    let outcome = if status.is_success() { "success".to_owned() } else { format!("failed: {status}") };
    let entry =
        AuditEntry { at: crate::now_unix(), user, source, action: action.into(), target: Some(target), outcome };
    g.guard.auth.audit(entry).await;
    response
}

/// What a handler of an audited route names as the target of its call (a file name rather than an id).
#[derive(Debug, Clone)]
pub struct AuditTarget(pub String);

/// The client's address, when the request came over the network.
pub fn peer(req_extensions: &http::Extensions) -> Option<SocketAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
