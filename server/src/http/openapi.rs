//! The role's OpenAPI 3.1 document, made from the handlers' own `#[utoipa::path]` descriptions as
//! [`Routes`](crate::auth::Routes) mounts them: each operation's security follows the access its route
//! is mounted with, so the document cannot promise a different rule than the middleware enforces.
//! Served at `GET /api/v1/openapi.json`, with a reference page at `GET /api/v1/docs` that renders it from
//! the binary alone (this network has no CDN, and the page needs no build step).

use std::sync::Arc;

use app::model::{CSRF_HEADER, ErrorBody};
use axum::{
    Extension,
    response::{Html, IntoResponse},
};
use http::{HeaderValue, Method, header};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        Components, ContentBuilder, Info, ObjectBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, ResponseBuilder, Schema,
        Type,
        header::Header,
        path::{HttpMethod, Operation, PathItem, Paths},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

use crate::auth::{
    Access,
    routes::{RouteTable, is_safe},
};
use crate::telemetry::request_id;

/// How the document names its role.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// `node` or `vdc`.
    pub role: &'static str,
    /// The role's session cookie (`quantix_node_session`).
    pub cookie_name: &'static str,
}

/// The operations and schemas gathered so far.
#[derive(Default)]
pub struct Draft {
    paths: Paths,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

const API_TOKEN: &str = "api_token";
const SESSION: &str = "session";
const CSRF: &str = "csrf";
const CLUSTER_TOKEN: &str = "cluster_token";
const NODE_CREDENTIAL: &str = "node_credential";
const COPY_TICKET: &str = "copy_ticket";

/// The operations of a described path, by method.
pub fn operations(item: PathItem) -> Vec<(Method, Operation)> {
    [
        (Method::GET, item.get),
        (Method::POST, item.post),
        (Method::PUT, item.put),
        (Method::PATCH, item.patch),
        (Method::DELETE, item.delete),
        (Method::HEAD, item.head),
        (Method::OPTIONS, item.options),
        (Method::TRACE, item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

fn http_method(m: &Method) -> HttpMethod {
    match *m {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => HttpMethod::Trace,
    }
}

/// Who may call a route, in words.
fn access_text(access: Access) -> String {
    match access {
        Access::Public => "anyone, without credentials".into(),
        Access::Cluster => "the cluster's own roles, with the cluster token (never a user)".into(),
        Access::Node => "a node, with its own credential from RegisterNode (never a user)".into(),
        Access::Ticket => "a node holding a copy ticket the vdc issued for this image (never a user)".into(),
        Access::Role(r) => format!("a user with the `{r}` role or higher (an API token, or the session cookie)"),
    }
}

/// The credentials that open a route: any one of the requirements. A write with the session cookie
/// also carries the session's CSRF token.
fn security(access: Access, method: &Method) -> Option<Vec<SecurityRequirement>> {
    let none: [&str; 0] = [];
    match access {
        Access::Public => None,
        Access::Cluster => Some(vec![SecurityRequirement::new(CLUSTER_TOKEN, none)]),
        Access::Node => Some(vec![SecurityRequirement::new(NODE_CREDENTIAL, none)]),
        Access::Ticket => Some(vec![SecurityRequirement::new(COPY_TICKET, none)]),
        Access::Role(_) => {
            let session = SecurityRequirement::new(SESSION, none);
            let session = if is_safe(method) { session } else { session.add(CSRF, none) };
            Some(vec![SecurityRequirement::new(API_TOKEN, none), session])
        }
    }
}

/// Every answer's `x-request-id`.
fn request_id_header() -> Header {
    let mut h = Header::new(ObjectBuilder::new().schema_type(Type::String).max_length(Some(128)));
    h.description = Some("The request's id in the server's log: the client's own `x-request-id` when it is plain (at most 128 letters, digits, `-_.:@`), else a fresh one.".into());
    h
}

fn with_request_id(response: &mut RefOr<utoipa::openapi::Response>) {
    if let RefOr::T(r) = response {
        r.headers.insert(request_id::HEADER.into(), request_id_header());
    }
}

fn response_ref(name: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::Ref(Ref::from_response_name(name))
}

/// A stable id made of the method and the path, unique because the route table is.
fn operation_id(method: &Method, path: &str) -> String {
    let words: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let words: Vec<&str> = words.split('_').filter(|w| !w.is_empty()).collect();
    format!("{}_{}", method.as_str().to_ascii_lowercase(), words.join("_"))
}

impl Draft {
    /// Adds one operation as it is mounted: its security, the refusals its access implies, and the error
    /// body of any other failure.
    pub fn add(&mut self, path: &str, method: &Method, mut op: Operation, access: Access) {
        op.operation_id = Some(operation_id(method, path));
        op.security = security(access, method);
        let who = format!("**Who may call:** {}.", access_text(access));
        op.description = Some(match op.description.take().filter(|d| !d.is_empty()) {
            Some(d) => format!("{d}\n\n{who}"),
            None => who,
        });
        if op.summary.is_none() {
            op.summary = Some(format!("{method} {path}"));
        }
        let responses = &mut op.responses.responses;
        if access != Access::Public {
            responses.entry("401".into()).or_insert_with(|| response_ref("Unauthenticated"));
            responses.entry("403".into()).or_insert_with(|| response_ref("Forbidden"));
        }
        responses.entry("default".into()).or_insert_with(|| response_ref("Error"));
        responses.values_mut().for_each(with_request_id);
        self.paths.add_path_operation(path, vec![http_method(method)], op);
    }

    /// Notes on an operation that its calls are in the audit log.
    pub fn audited(&mut self, path: &str, method: &Method, action: &str) {
        let Some(item) = self.paths.paths.get_mut(path) else { return };
        let op = match *method {
            Method::GET => item.get.as_mut(),
            Method::POST => item.post.as_mut(),
            Method::PUT => item.put.as_mut(),
            Method::PATCH => item.patch.as_mut(),
            Method::DELETE => item.delete.as_mut(),
            _ => None,
        };
        if let Some(op) = op {
            let d = op.description.get_or_insert_with(String::new);
            d.push_str(&format!("\n\nEvery call is recorded in the audit log as `{action}`."));
        }
    }

    pub fn finish(self, about: About) -> OpenApi {
        let mut components = Components::new();
        components.schemas.extend(self.schemas);
        components.schemas.insert(ErrorBody::name().into(), ErrorBody::schema());
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .header(request_id::HEADER, request_id_header())
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name())))).build(),
                )
                .build()
        };
        components.responses.insert(
            "Unauthenticated".into(),
            RefOr::T(error("No credentials, or unknown ones (`unauthenticated`, `invalid_token`, `invalid_session`, `invalid_node_credential`).")),
        );
        components.responses.insert(
            "Forbidden".into(),
            RefOr::T(error("The credentials do not open this route (`forbidden`), or a cookie write lacks its CSRF token (`csrf_token_missing`, `csrf_token_invalid`), or a browser write comes from another site (`forbidden_origin`).")),
        );
        components.responses.insert(
            "Error".into(),
            RefOr::T(error("Any other refusal (4xx) or failure (5xx): the error body, with a stable code.")),
        );
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build(),
            )
        };
        components.add_security_scheme(
            API_TOKEN,
            bearer("A user's API token (`POST /api/v1/tokens`): `Authorization: Bearer <token>`. It carries the role it was made with."),
        );
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                about.cookie_name.to_owned(),
                "The session cookie that `POST /api/v1/auth/login` sets (HttpOnly, SameSite=Strict).".to_owned(),
            ))),
        );
        components.add_security_scheme(
            CSRF,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                CSRF_HEADER.to_owned(),
                "With the session cookie, every write carries the session's CSRF token (`csrf_token` of sign-in or `GET /api/v1/auth/me`).".to_owned(),
            ))),
        );
        components.add_security_scheme(
            CLUSTER_TOKEN,
            bearer("The cluster token both roles are configured with (`--cluster-token`): the vdc calling a node's `/internal/v1`, or a node registering."),
        );
        components.add_security_scheme(
            NODE_CREDENTIAL,
            bearer("A node's own credential, issued once by `RegisterNode`: every other sync call carries it, and speaks for that node only."),
        );
        components.add_security_scheme(
            COPY_TICKET,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                crate::auth::ticket::TICKET_HEADER.to_owned(),
                "A copy ticket the vdc issued (`POST /api/v1/images/{id}/copy` on the vdc): it lets the node it names read one image from another node, for a few hours.".to_owned(),
            ))),
        );
        let mut info = Info::new(format!("Quantix ISO {} API", about.role), env!("CARGO_PKG_VERSION").to_owned());
        info.description = Some(description(about.role));
        OpenApiBuilder::new().info(info).paths(self.paths).components(Some(components)).build()
    }
}

/// What the document says of its role, and of what every answer shares.
fn description(role: &str) -> String {
    let what = match role {
        "node" => {
            "The REST API of a Quantix ISO node (a hypervisor host): its images, virtual folders, storage pools and uploads, and the `/internal/v1` calls the vdc forwards to it."
        }
        _ => {
            "The REST API of the Quantix ISO vdc (the control plane): the cluster's catalogue, nodes, VM definitions, live updates, and the sync service nodes call (`/limiquantix.storage.v1.ImageService/…`)."
        }
    };
    format!(
        "{what}\n\nErrors are `{{error, message, request_id}}` with a stable `error` code. Every answer carries an `x-request-id` header (the request's id in the log; send your own to choose it)."
    )
}

/// `GET /api/v1/openapi.json`: this role's API document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    summary = "This role's OpenAPI 3.1 document",
    responses((status = 200, description = "The OpenAPI 3.1 document of every route of this role.", body = Object))
)]
pub async fn document(Extension(table): Extension<Arc<RouteTable>>) -> impl IntoResponse {
    axum::Json(table.openapi().clone())
}

/// The reference page: the document rendered in the browser by a script in the page itself.
const REFERENCE_PAGE: &str = include_str!("openapi/reference.html");

/// `GET /api/v1/docs`: a browsable reference of this role's API, from the binary alone.
#[utoipa::path(
    get,
    path = "/api/v1/docs",
    tag = "operations",
    summary = "A browsable reference of this API",
    responses((status = 200, description = "An HTML page that renders `/api/v1/openapi.json`.", content_type = "text/html", body = String))
)]
pub async fn reference() -> impl IntoResponse {
    // The page loads nothing but the document from this origin.
    let policy = "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'";
    ([(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy))], Html(REFERENCE_PAGE))
}
