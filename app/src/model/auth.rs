//! Who may do what: users, their roles, sessions, API tokens and the audit log, as the API carries them.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do. Ordered: each role may do everything the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// Read only: the host page and the library, without upload, move, delete or folder controls.
    Viewer,
    /// Uploads, moves, deletes, folders, VMs.
    Operator,
    /// Everything, users and everyone's tokens included.
    Admin,
}

impl UserRole {
    pub const ALL: [UserRole; 3] = [UserRole::Viewer, UserRole::Operator, UserRole::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Viewer => "viewer",
            UserRole::Operator => "operator",
            UserRole::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<UserRole> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may change images, folders and VMs.
    pub fn can_write(self) -> bool {
        self >= UserRole::Operator
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest user name, in bytes.
pub const MAX_USERNAME: usize = 64;

/// Checks a user name: 1 to 64 letters, digits, `.`, `_`, `-` or `@` (so it is safe in logs and URLs).
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (1..=MAX_USERNAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        return Ok(());
    }
    let shown: String = name.chars().take(80).flat_map(char::escape_debug).collect();
    Err(format!(
        "The user name \"{shown}\" is not valid: use 1 to {MAX_USERNAME} letters, digits, '.', '_', '-' or '@'."
    ))
}

/// `POST /api/v1/auth/login` body.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Who is signed in: the answer to sign-in and to `GET /api/v1/auth/me`. The CSRF token goes in the
/// `x-csrf-token` header of every write made with the session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub role: UserRole,
    pub csrf_token: String,
}

/// The user a page is rendered for (context, provided by the server while rendering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn(pub Me);

/// The header a cookie-authenticated write carries.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/v1/tokens` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    pub name: String,
    pub role: UserRole,
    /// Unix seconds; never expires when absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// `POST /api/v1/tokens` answer: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    pub id: Uuid,
    pub name: String,
    pub role: UserRole,
    pub token: String,
}

/// A token as listed (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub role: UserRole,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// A user as listed (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub role: UserRole,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<UserInfo>,
}

/// `POST /api/v1/users` body (admin).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub role: UserRole,
}

/// `PATCH /api/v1/users/{name}` body (admin): a new password, a new role, or both.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub role: Option<UserRole>,
}

/// One line of the audit log: who did what to what, from where, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// The user (for a change forwarded by the vdc: the vdc user who asked); `None` when nobody signed in.
    pub user: Option<String>,
    /// The client's address (or `vdc <address>` for a forwarded change).
    pub source: Option<String>,
    pub action: String,
    pub target: Option<String>,
    /// `success`, or what went wrong.
    pub outcome: String,
}

/// `GET /api/v1/audit?user=&action=&since=&limit=` answer (admin), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/v1/audit` query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_named() {
        assert!(UserRole::Admin > UserRole::Operator && UserRole::Operator > UserRole::Viewer);
        assert!(!UserRole::Viewer.can_write() && UserRole::Operator.can_write());
        for r in UserRole::ALL {
            assert_eq!(UserRole::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
    }

    #[test]
    fn user_names_are_plain() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("jane.doe@corp").is_ok());
        for bad in ["", "a b", "tab\t", "ctrl\u{1b}[31m", &"x".repeat(65), "naïve"] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_username("bad\nname").unwrap_err().contains("bad\\nname"));
    }

    #[test]
    fn a_login_request_never_shows_its_password() {
        let r = LoginRequest { username: "admin".into(), password: "hunter2".into() };
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
