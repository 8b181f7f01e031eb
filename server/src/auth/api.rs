//! The account endpoints of both roles: sign-in and out, who am I, API tokens, users (admin) and the audit
//! log (admin); and [`Actor`], with which every changing handler records what it did.

use app::model::{
    AuditEntry, AuditList, AuditQuery, CreateTokenRequest, CreateUserRequest, ErrorBody, LoginRequest, Me,
    TokenCreated, TokenList, UpdateUserRequest, UserList, UserRole, check_username,
};
use axum::{
    extract::{DefaultBodyLimit, FromRef, FromRequestParts, Path, State},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header, request::Parts};
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    Auth, AuthError, Caller, Routes, Via, password,
    routes::{ADMIN, Access, VIEWER, peer},
    secret,
};
use crate::http::{ApiError, Json, PathId, Query};

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let msg = e.to_string();
        match e {
            AuthError::UserExists(_) => ApiError::conflict("user_exists", msg),
            AuthError::NoSuchUser(_) => ApiError::not_found("user_not_found", msg),
            AuthError::LastAdmin => ApiError::conflict("last_admin", msg),
            AuthError::Corrupt(_) | AuthError::Db(_) => ApiError::internal(e),
        }
    }
}

/// Who made a request and from where: what the audit log records of it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub caller: Caller,
    pub source: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = parts.extensions.get::<Caller>().cloned().unwrap_or(Caller::Anonymous);
        let source = source_of(&caller, peer(&parts.extensions));
        Ok(Actor { caller, source })
    }
}

/// Where the audit log says a call came from: the client's address, marked when it is the vdc calling
/// for one of its users.
pub fn source_of(caller: &Caller, addr: Option<std::net::SocketAddr>) -> Option<String> {
    let addr = addr.map(|a| a.ip().to_string());
    match (caller, addr) {
        (Caller::Cluster { .. }, Some(a)) => Some(format!("vdc {a}")),
        (_, a) => a,
    }
}

impl Actor {
    pub fn user(&self) -> Result<&super::User, ApiError> {
        self.caller.user().ok_or_else(|| ApiError::internal("a user route was reached without a user"))
    }

    /// Records `action` on `target` with the outcome of `result`, and passes `result` on.
    pub async fn record<T>(
        &self,
        auth: &Auth,
        action: &str,
        target: impl Into<String>,
        result: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let outcome = match &result {
            Ok(_) => "success".to_owned(),
            Err(e) => format!("{} {}", e.status.as_u16(), e.code),
        };
        auth.audit(AuditEntry {
            at: crate::now_unix(),
            user: self.caller.name(),
            source: self.source.clone(),
            action: action.to_owned(),
            target: Some(target.into()),
            outcome,
        })
        .await;
        result
    }
}

fn retry_after(seconds: i64) -> Response {
    let e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("Too many failed sign-ins for this user or from this address; try again in {seconds} s."),
    );
    let mut r = e.into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    r
}

/// `POST /api/v1/auth/login`. A malformed body is refused before it counts as an attempt; a wrong
/// password and an unknown user cost the same time and get the same answer.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    summary = "Sign in",
    description = "Answers who signed in with the session's CSRF token, and sets the session cookie. Failed attempts per user and per address are throttled (429 with `Retry-After`).",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the cookie is set.", body = Me, headers(("set-cookie" = String, description = "The session cookie (HttpOnly, SameSite=Strict)."))),
        (status = 400, description = "A malformed body or user name (not counted as an attempt).", body = ErrorBody),
        (status = 401, description = "The user name or the password is wrong (`invalid_credentials`).", body = ErrorBody),
        (status = 413, description = "The body is larger than 16 KiB.", body = ErrorBody),
        (status = 429, description = "Too many failures for this user or from this address.", body = ErrorBody, headers(("retry-after" = u64, description = "Seconds to wait."))),
    )
)]
pub async fn login(State(auth): State<Auth>, actor: Actor, Json(req): Json<LoginRequest>) -> Response {
    let now = crate::now_unix();
    if let Err(m) = check_username(&req.username) {
        return ApiError::bad_request("invalid_username", m).into_response();
    }
    let keys: Vec<String> =
        [Some(format!("user:{}", req.username)), actor.source.as_ref().map(|a| format!("addr:{a}"))]
            .into_iter()
            .flatten()
            .collect();
    let result: Result<Result<Option<(String, UserRole)>, i64>, AuthError> = async {
        let locked_until = auth.store.locked_until(&keys).await?;
        if locked_until > now {
            return Ok(Err(locked_until - now));
        }
        let user = auth.store.user(&req.username).await?;
        let stored = user.as_ref().map_or(password::DECOY.to_owned(), |(h, _)| h.clone());
        let matches = password::verify(req.password.clone(), stored).await;
        Ok(Ok(user.filter(|_| matches)))
    }
    .await;
    let audit = |outcome: &str| AuditEntry {
        at: now,
        user: Some(req.username.clone()),
        source: actor.source.clone(),
        action: "sign_in".into(),
        target: None,
        outcome: outcome.to_owned(),
    };
    match result {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Err(wait)) => {
            auth.audit(audit("refused: too many failures")).await;
            retry_after(wait)
        }
        Ok(Ok(None)) => {
            let s = &auth.settings;
            for key in &keys {
                match auth.store.record_failure(key, now, s.lockout_max.as_secs() as i64).await {
                    Ok(n) if n >= s.max_failures as i64 => {
                        let doublings = (n - s.max_failures as i64).min(20) as u32;
                        let wait = (s.lockout.as_secs() << doublings).min(s.lockout_max.as_secs()) as i64;
                        if let Err(e) = auth.store.lock(key, now + wait).await {
                            tracing::error!(error = %e, "cannot record a sign-in lockout");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "cannot record a failed sign-in"),
                }
            }
            tracing::warn!(user = %req.username, source = ?actor.source, "sign-in failed");
            auth.audit(audit("failure: wrong user name or password")).await;
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "The user name or the password is wrong.")
                .into_response()
        }
        Ok(Ok(Some((_, role)))) => {
            let session = async {
                auth.store.clear_failures(&keys[0]).await?;
                auth.start_session(&req.username, now).await
            }
            .await;
            match session {
                Err(e) => ApiError::from(e).into_response(),
                Ok((id, csrf_token)) => {
                    tracing::info!(user = %req.username, source = ?actor.source, "signed in");
                    auth.audit(audit("success")).await;
                    let me = Me { username: req.username.clone(), role, csrf_token };
                    let cookie = HeaderValue::from_str(&auth.cookie(Some(&id))).expect("a cookie is ASCII");
                    ([(header::SET_COOKIE, cookie)], axum::Json(me)).into_response()
                }
            }
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    summary = "Sign out",
    responses((status = 204, description = "The session is over (on every replica) and the cookie is removed."))
)]
/// `POST /api/v1/auth/logout`: the session ends here and on every replica, and the cookie is removed.
pub async fn logout(State(auth): State<Auth>, actor: Actor) -> Result<Response, ApiError> {
    let user = actor.user()?;
    if let Via::Session { id_hash, .. } = &user.via {
        auth.store.end_session(id_hash).await?;
    }
    actor.record(&auth, "sign_out", user.username.clone(), Ok(())).await?;
    let cookie = HeaderValue::from_str(&auth.cookie(None)).expect("a cookie is ASCII");
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    summary = "Who is signed in",
    responses((status = 200, description = "The user, their role and the session's CSRF token (empty for an API token).", body = Me))
)]
/// `GET /api/v1/auth/me`: who is signed in, with the session's CSRF token (a page reloaded
/// mid-session can still write).
pub async fn me(actor: Actor) -> Result<axum::Json<Me>, ApiError> {
    actor.caller.me().map(axum::Json).ok_or_else(|| ApiError::internal("a user route was reached without a user"))
}

/// Longest token name.
const TOKEN_NAME_MAX: usize = 100;

/// A token of the caller with at most the caller's role; its secret is answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    summary = "Create an API token",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown once).", body = TokenCreated),
        (status = 400, description = "A bad name or an expiry in the past.", body = ErrorBody),
        (status = 403, description = "The role asked for is above the caller's.", body = ErrorBody),
    )
)]
pub async fn create_token(
    State(auth): State<Auth>,
    actor: Actor,
    Json(req): Json<CreateTokenRequest>,
) -> Result<(StatusCode, axum::Json<TokenCreated>), ApiError> {
    let user = actor.user()?.clone();
    let name = req.name.trim().to_owned();
    let result = async {
        if name.is_empty() || name.len() > TOKEN_NAME_MAX || name.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "invalid_token_name",
                format!("A token needs a name of 1 to {TOKEN_NAME_MAX} characters, without control characters."),
            ));
        }
        if req.role > user.role {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "A token cannot have more rights than its creator: {} is {}, not {}.",
                    user.username, user.role, req.role
                ),
            ));
        }
        let now = crate::now_unix();
        if req.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::bad_request("invalid_expiry", "The token's expiry is in the past."));
        }
        let (id, token) = (Uuid::new_v4(), Auth::new_token_secret());
        auth.store
            .create_token(id, &secret::digest(&token), &name, &user.username, req.role, now, req.expires_at)
            .await?;
        Ok(TokenCreated { id, name: name.clone(), role: req.role, token })
    }
    .await;
    let created = actor.record(&auth, "token_create", format!("token {name}"), result).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    summary = "API tokens (one's own; an admin's: everyone's)",
    responses((status = 200, description = "The tokens, without their secrets.", body = TokenList))
)]
/// A user's own tokens; an admin's list holds everyone's.
pub async fn list_tokens(State(auth): State<Auth>, actor: Actor) -> Result<axum::Json<TokenList>, ApiError> {
    let user = actor.user()?;
    let owner = (user.role < UserRole::Admin).then_some(user.username.as_str());
    Ok(axum::Json(TokenList { tokens: auth.store.tokens(owner).await? }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    summary = "Revoke an API token",
    params(PathId),
    responses(
        (status = 204, description = "Revoked, on every replica at once."),
        (status = 400, description = "The id is not a UUID.", body = ErrorBody),
        (status = 404, description = "The caller has no token with this id.", body = ErrorBody),
    )
)]
/// Revokes a token at once (every replica checks the shared table on each request).
pub async fn revoke_token(State(auth): State<Auth>, actor: Actor, PathId(id): PathId) -> Result<StatusCode, ApiError> {
    let user = actor.user()?;
    let owner = (user.role < UserRole::Admin).then_some(user.username.as_str());
    let result = match auth.store.revoke_token(id, owner).await {
        Ok(Some(_)) => Ok(StatusCode::NO_CONTENT),
        Ok(None) => Err(ApiError::not_found("token_not_found", format!("You have no token with the id {id}."))),
        Err(e) => Err(e.into()),
    };
    actor.record(&auth, "token_revoke", format!("token {id}"), result).await
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    summary = "Every user",
    responses((status = 200, description = "The users with their roles.", body = UserList))
)]
pub async fn list_users(State(auth): State<Auth>) -> Result<axum::Json<UserList>, ApiError> {
    Ok(axum::Json(UserList { users: auth.store.users().await? }))
}

/// The rules of a password set through the API or the command line.
pub fn check_password(p: &str) -> Result<(), String> {
    if p.chars().count() < 12 {
        return Err("A password needs at least 12 characters.".into());
    }
    if p.len() > 1024 {
        return Err("A password may have at most 1024 bytes.".into());
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    summary = "Create a user",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created."),
        (status = 400, description = "A bad user name or password (at least 12 characters).", body = ErrorBody),
        (status = 409, description = "The user exists.", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(auth): State<Auth>,
    actor: Actor,
    Json(req): Json<CreateUserRequest>,
) -> Result<StatusCode, ApiError> {
    let result = async {
        check_username(&req.username).map_err(|m| ApiError::bad_request("invalid_username", m))?;
        check_password(&req.password).map_err(|m| ApiError::bad_request("invalid_password", m))?;
        let hash = password::hash(req.password.clone()).await;
        auth.store.add_user(&req.username, &hash, req.role, crate::now_unix()).await?;
        Ok(StatusCode::CREATED)
    }
    .await;
    actor.record(&auth, "user_create", format!("user {} ({})", req.username, req.role), result).await
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{name}",
    tag = "users",
    summary = "Change a user's password or role",
    params(("name" = String, Path, description = "The user name.")),
    request_body = UpdateUserRequest,
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "Neither given, or a bad password.", body = ErrorBody),
        (status = 404, description = "No such user.", body = ErrorBody),
        (status = 409, description = "The last admin cannot be given another role.", body = ErrorBody),
    )
)]
pub async fn update_user(
    State(auth): State<Auth>,
    actor: Actor,
    Path(name): Path<String>,
    Json(req): Json<UpdateUserRequest>,
) -> Result<StatusCode, ApiError> {
    let result = async {
        let now = crate::now_unix();
        if req.password.is_none() && req.role.is_none() {
            return Err(ApiError::bad_request("invalid_body", "Give a new password, a new role, or both."));
        }
        if let Some(p) = &req.password {
            check_password(p).map_err(|m| ApiError::bad_request("invalid_password", m))?;
            auth.store.set_password(&name, &password::hash(p.clone()).await, now).await?;
        }
        if let Some(role) = req.role {
            auth.store.set_role(&name, role, now).await?;
        }
        Ok(StatusCode::NO_CONTENT)
    }
    .await;
    let what = match (req.password.is_some(), req.role) {
        (true, Some(r)) => format!("user {name}: password and role {r}"),
        (true, None) => format!("user {name}: password"),
        (false, Some(r)) => format!("user {name}: role {r}"),
        (false, None) => format!("user {name}"),
    };
    actor.record(&auth, "user_update", what, result).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{name}",
    tag = "users",
    summary = "Remove a user (and their sessions and tokens)",
    params(("name" = String, Path, description = "The user name.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such user.", body = ErrorBody),
        (status = 409, description = "The last admin cannot be removed.", body = ErrorBody),
    )
)]
pub async fn remove_user(
    State(auth): State<Auth>,
    actor: Actor,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = auth.store.remove_user(&name).await.map(|()| StatusCode::NO_CONTENT).map_err(ApiError::from);
    actor.record(&auth, "user_remove", format!("user {name}"), result).await
}

/// Most entries one audit query returns.
const AUDIT_MAX: u32 = 1000;

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    summary = "The audit log, newest first",
    params(AuditQuery),
    responses(
        (status = 200, description = "The entries.", body = AuditList),
        (status = 400, description = "A bad query (`limit` 1 to 1000).", body = ErrorBody),
    )
)]
pub async fn audit(State(auth): State<Auth>, Query(q): Query<AuditQuery>) -> Result<axum::Json<AuditList>, ApiError> {
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > AUDIT_MAX {
        return Err(ApiError::bad_request("invalid_query", format!("limit must be between 1 and {AUDIT_MAX}.")));
    }
    Ok(axum::Json(AuditList { entries: auth.store.audit(&q, limit).await? }))
}

/// Mounts the account endpoints, each with its access.
pub fn mount<S>(routes: Routes<S>) -> Routes<S>
where
    S: Clone + Send + Sync + 'static,
    Auth: FromRef<S>,
{
    // A sign-in body is a name and a password: anything larger is refused (413) before it is read.
    routes
        .route_with(Access::Public, routes!(login), |r| r.layer(DefaultBodyLimit::max(16 << 10)))
        .route(VIEWER, routes!(logout))
        .route(VIEWER, routes!(me))
        .route(VIEWER, routes!(list_tokens))
        .route(VIEWER, routes!(create_token))
        .route(VIEWER, routes!(revoke_token))
        .route(ADMIN, routes!(list_users))
        .route(ADMIN, routes!(create_user))
        .route(ADMIN, routes!(update_user))
        .route(ADMIN, routes!(remove_user))
        .route(ADMIN, routes!(audit))
}
