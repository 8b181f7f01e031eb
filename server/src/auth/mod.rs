//! Who may do what, on both roles: users with roles, browser sessions (a cookie plus a CSRF token on
//! every write), API tokens for automation, throttled sign-in, an audit log, and the cluster class of
//! node ↔ vdc calls. Both roles share this module; each keeps its own users in its own database.
//!
//! Every route declares its access where it is mounted ([`routes::Routes`]); one middleware resolves
//! the caller and enforces it, and a route without a declared access answers nobody.

pub mod api;
pub mod bootstrap;
pub mod cli;
pub mod password;
pub mod routes;
pub mod secret;
pub mod store;
pub mod ticket;

use std::{net::IpAddr, sync::Arc, time::Duration};

use app::model::{AuditEntry, Me, UserRole};
use http::{HeaderMap, header};
use uuid::Uuid;

pub use routes::{Access, Routes};
use store::AuthStore;

use crate::config::ClusterToken;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("A user named \"{0}\" already exists.")]
    UserExists(String),
    #[error("There is no user named \"{0}\".")]
    NoSuchUser(String),
    #[error("The last admin cannot be removed or given another role; make another user admin first.")]
    LastAdmin,
    #[error("stored account data is not valid: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// How sessions and sign-in behave; each is a setting of both roles.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `quantix_node_session` or `quantix_vdc_session`: cookies ignore ports, so the two roles of one
    /// host must not share a name.
    pub cookie_name: &'static str,
    /// Cookies are marked `Secure` (the role serves HTTPS).
    pub secure_cookies: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_lifetime: Duration,
    /// Failed sign-ins (per user, and per source address) before further attempts are refused for a while.
    pub max_failures: u32,
    /// The first refusal lasts this long, each further failure doubles it, up to `lockout_max`.
    pub lockout: Duration,
    pub lockout_max: Duration,
}

impl AuthSettings {
    pub fn defaults(cookie_name: &'static str) -> Self {
        Self {
            cookie_name,
            secure_cookies: false,
            session_idle: Duration::from_secs(8 * 3600),
            session_lifetime: Duration::from_secs(24 * 3600),
            max_failures: 5,
            lockout: Duration::from_secs(30),
            lockout_max: Duration::from_secs(15 * 60),
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(User),
    /// The other role of the cluster, with the cluster token; a forwarded change names the vdc user who
    /// asked for it.
    Cluster {
        on_behalf_of: Option<String>,
    },
    /// A node, with the credential the vdc issued to it (the vdc only): it may speak for itself alone.
    Node {
        node_id: app::model::NodeId,
    },
}

/// A signed-in user, and how they proved it.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub role: UserRole,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie; writes must carry this CSRF token.
    Session {
        id_hash: String,
        csrf_token: String,
    },
    Token {
        id: Uuid,
    },
    /// A page rendered on the server, calling the API in-process for the user whose request it renders.
    Page,
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    /// The name the audit log records.
    pub fn name(&self) -> Option<String> {
        match self {
            Caller::User(u) => Some(u.username.clone()),
            Caller::Cluster { on_behalf_of } => on_behalf_of.clone(),
            Caller::Node { node_id } => Some(format!("node {node_id}")),
            Caller::Anonymous => None,
        }
    }

    /// What a page needs to know of the signed-in user.
    pub fn me(&self) -> Option<Me> {
        let u = self.user()?;
        let csrf_token = match &u.via {
            Via::Session { csrf_token, .. } => csrf_token.clone(),
            _ => String::new(),
        };
        Some(Me { username: u.username.clone(), role: u.role, csrf_token })
    }
}

/// The header with which the vdc names the user a forwarded change is made for.
pub const ON_BEHALF_OF: &str = "x-quantix-user";

/// A role's authentication: its account store, settings and the cluster token.
#[derive(Clone)]
pub struct Auth {
    pub store: AuthStore,
    pub settings: Arc<AuthSettings>,
    cluster_token: Option<ClusterToken>,
    /// The vdc issues nodes their own credentials (kept in its catalogue); a node accepts none.
    node_credentials: bool,
}

/// What a request presented.
pub enum Credentials<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

/// `Authorization: Bearer …` (the scheme in any case, as RFC 7235 has it), else the session cookie.
pub fn credentials<'a>(headers: &'a HeaderMap, cookie_name: &str) -> Credentials<'a> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return match v.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Credentials::Bearer(token.trim()),
            _ => Credentials::Bearer(""),
        };
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == cookie_name)
        .map_or(Credentials::None, |(_, value)| Credentials::Cookie(value))
}

/// Why presented credentials were not accepted (each a 401 with its own words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("Your session has ended or is not valid; sign in again.")]
    Session,
    #[error("This API token is not valid: it was revoked, has expired, or never existed.")]
    Token,
    #[error(
        "This node credential is not valid (an admin may have reset it): the node registers again with the cluster token."
    )]
    NodeCredential,
}

/// API tokens are `qx_` and 64 hex digits; anything else in a bearer header is the cluster token or
/// nothing.
const TOKEN_PREFIX: &str = "qx_";
/// A node's own credential (issued by the vdc): `qxn_` and 64 hex digits.
pub const NODE_CREDENTIAL_PREFIX: &str = "qxn_";

impl Auth {
    pub fn new(store: AuthStore, settings: AuthSettings, cluster_token: Option<ClusterToken>) -> Self {
        Self { store, settings: Arc::new(settings), cluster_token, node_credentials: false }
    }

    /// Accepts the node credentials kept in the account store's database (the vdc's catalogue).
    pub fn with_node_credentials(mut self) -> Self {
        self.node_credentials = true;
        self
    }

    /// Who sent `headers`. Sessions and tokens are looked up by the digest of their secret: no password
    /// hashing on the request path.
    pub async fn resolve(&self, headers: &HeaderMap, now: i64) -> Result<Result<Caller, Rejected>, AuthError> {
        match credentials(headers, self.settings.cookie_name) {
            Credentials::None => Ok(Ok(Caller::Anonymous)),
            Credentials::Bearer(token) if token.starts_with(TOKEN_PREFIX) => {
                let Some(t) = self.store.token(&secret::digest(token)).await? else { return Ok(Err(Rejected::Token)) };
                if t.expires_at.is_some_and(|e| e <= now) {
                    return Ok(Err(Rejected::Token));
                }
                // The last use is kept to the minute: no write per request.
                if t.last_used_at.is_none_or(|at| now - at >= 60) {
                    self.store.touch_token(t.id, now).await?;
                }
                Ok(Ok(Caller::User(User { username: t.username, role: t.role, via: Via::Token { id: t.id } })))
            }
            Credentials::Bearer(token) if token.starts_with(NODE_CREDENTIAL_PREFIX) => {
                if !self.node_credentials {
                    return Ok(Err(Rejected::NodeCredential));
                }
                match self.store.node_of_credential(&secret::digest(token)).await? {
                    Some(node_id) => Ok(Ok(Caller::Node { node_id })),
                    None => Ok(Err(Rejected::NodeCredential)),
                }
            }
            Credentials::Bearer(token) => match &self.cluster_token {
                Some(c) if c.matches(token) => Ok(Ok(Caller::Cluster {
                    on_behalf_of: headers
                        .get(ON_BEHALF_OF)
                        .and_then(|v| v.to_str().ok())
                        .filter(|n| app::model::check_username(n).is_ok())
                        .map(str::to_owned),
                })),
                _ => Ok(Err(Rejected::Token)),
            },
            Credentials::Cookie(id) => {
                let id_hash = secret::digest(id);
                let Some(s) = self.store.session(&id_hash).await? else { return Ok(Err(Rejected::Session)) };
                let idle = self.settings.session_idle.as_secs() as i64;
                if s.expires_at <= now || now - s.last_seen_at > idle {
                    self.store.end_session(&id_hash).await?;
                    return Ok(Err(Rejected::Session));
                }
                if now - s.last_seen_at >= 60 {
                    self.store.touch_session(&id_hash, now).await?;
                }
                let via = Via::Session { id_hash, csrf_token: s.csrf_token };
                Ok(Ok(Caller::User(User { username: s.username, role: s.role, via })))
            }
        }
    }

    /// Starts a session for `username`: its id (for the cookie; only its digest is stored) and CSRF token.
    pub async fn start_session(&self, username: &str, now: i64) -> Result<(String, String), AuthError> {
        let (id, csrf) = (secret::random_hex(32), secret::random_hex(32));
        let expires = now + self.settings.session_lifetime.as_secs() as i64;
        self.store.create_session(&secret::digest(&id), username, &csrf, now, expires).await?;
        Ok((id, csrf))
    }

    /// The `Set-Cookie` value for a session id (or, with `None`, one that removes it).
    pub fn cookie(&self, id: Option<&str>) -> String {
        let secure = if self.settings.secure_cookies { "; Secure" } else { "" };
        match id {
            Some(id) => format!(
                "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                self.settings.cookie_name,
                self.settings.session_lifetime.as_secs()
            ),
            None => format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}", self.settings.cookie_name),
        }
    }

    /// A new API token's secret.
    pub fn new_token_secret() -> String {
        format!("{TOKEN_PREFIX}{}", secret::random_hex(32))
    }

    /// Records an entry of the audit log; a failure to record is logged, never a reason to fail the
    /// request that already happened.
    pub async fn audit(&self, entry: AuditEntry) {
        if let Err(e) = self.store.record(&entry).await {
            tracing::error!(error = %e, action = %entry.action, "cannot write the audit log");
        }
    }
}

/// Where a request came from, for the audit log and sign-in throttling.
pub fn source(addr: Option<std::net::SocketAddr>) -> Option<IpAddr> {
    addr.map(|a| a.ip())
}
