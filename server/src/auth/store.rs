//! Users, sessions, API tokens, sign-in failures and the audit log, in the role's own database (the
//! node's SQLite file, or the vdc's catalogue: SQLite, or PostgreSQL shared by every replica, so a
//! session or a revocation is seen by all of them at once). One implementation over sqlx's `Any`
//! driver; the tables are created by each role's migrations.

use std::time::Duration;

use app::model::{AuditEntry, AuditQuery, TokenInfo, UserInfo, UserRole};
use sqlx::{AnyPool, Executor, any::AnyPoolOptions};
use uuid::Uuid;

use super::AuthError;
use crate::db::{OnUniqueViolation, Sql};

#[derive(Clone)]
pub struct AuthStore {
    db: AnyPool,
}

/// A live session, as a request presents it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub username: String,
    pub role: UserRole,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// An API token, as a request presents it: its role is the lower of the token's and its owner's now.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Uuid,
    pub username: String,
    pub role: UserRole,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Rows as the `Any` driver returns them: id, user, token role, user role, expiry, last use.
type TokenLookupRow = (String, String, String, String, Option<i64>, Option<i64>);
/// id, name, user, role, created, expires, last used.
type TokenListRow = (String, String, String, String, i64, Option<i64>, Option<i64>);
/// at, user, source, action, target, outcome.
type AuditRow = (i64, Option<String>, Option<String>, String, Option<String>, String);

fn role_of(s: &str) -> Result<UserRole, AuthError> {
    UserRole::parse(s).ok_or_else(|| AuthError::Corrupt(format!("role {s:?}")))
}

fn uuid_of(s: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(s).map_err(|_| AuthError::Corrupt(format!("token id {s:?}")))
}

impl AuthStore {
    /// The store in an existing pool (the vdc's catalogue).
    pub fn new(db: AnyPool) -> Self {
        Self { db }
    }

    /// The store in a node's SQLite file, beside the node's own connections (WAL lets both read while
    /// one writes). The file's migrations must have run.
    pub async fn open_sqlite(path: &std::path::Path) -> Result<Self, AuthError> {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rw", path.display());
        let db = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in ["PRAGMA busy_timeout = 10000", "PRAGMA synchronous = FULL"] {
                        conn.execute(pragma).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Self { db })
    }

    pub async fn close(&self) {
        self.db.close().await;
    }

    // ---- users

    /// Creates `username` only if there is no user at all. Returns whether this call created it: on a
    /// PostgreSQL shared by replicas starting at once, exactly one of them does.
    pub async fn create_first_user(
        &self,
        username: &str,
        hash: &str,
        role: UserRole,
        now: i64,
    ) -> Result<bool, AuthError> {
        let mut sql = Sql::new("INSERT INTO users (username, password_hash, role, created_at, updated_at) SELECT ");
        sql.bind(username.to_owned()).push(", ").bind(hash.to_owned()).push(", ").bind(role.as_str().to_owned());
        sql.push(", ").bind(now).push(", ").bind(now);
        sql.push(" WHERE NOT EXISTS (SELECT 1 FROM users) ON CONFLICT (username) DO NOTHING");
        Ok(sql.execute(&self.db).await?.rows_affected() == 1)
    }

    pub async fn add_user(&self, username: &str, hash: &str, role: UserRole, now: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES (");
        sql.bind(username.to_owned()).push(", ").bind(hash.to_owned()).push(", ").bind(role.as_str().to_owned());
        sql.push(", ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&self.db).await.on_unique_violation(|| AuthError::UserExists(username.to_owned()))?;
        Ok(())
    }

    /// The user's password hash and role.
    pub async fn user(&self, username: &str) -> Result<Option<(String, UserRole)>, AuthError> {
        let mut sql = Sql::new("SELECT password_hash, role FROM users WHERE username = ");
        sql.bind(username.to_owned());
        let rows: Vec<(String, String)> = sql.fetch_all(&self.db).await?;
        rows.into_iter().next().map(|(h, r)| Ok((h, role_of(&r)?))).transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, AuthError> {
        let rows: Vec<(String, String, i64)> =
            Sql::new("SELECT username, role, created_at FROM users ORDER BY username").fetch_all(&self.db).await?;
        rows.into_iter()
            .map(|(username, role, created_at)| Ok(UserInfo { username, role: role_of(&role)?, created_at }))
            .collect()
    }

    /// Sets a new password; every session of the user ends (a changed password is often a stolen one).
    pub async fn set_password(&self, username: &str, hash: &str, now: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("UPDATE users SET password_hash = ");
        sql.bind(hash.to_owned())
            .push(", updated_at = ")
            .bind(now)
            .push(" WHERE username = ")
            .bind(username.to_owned());
        if sql.execute(&self.db).await?.rows_affected() == 0 {
            return Err(AuthError::NoSuchUser(username.to_owned()));
        }
        self.end_sessions_of(username).await
    }

    /// Changes a user's role; the last admin cannot be made anything else (nobody could manage users then).
    pub async fn set_role(&self, username: &str, role: UserRole, now: i64) -> Result<(), AuthError> {
        let mut tx = self.db.begin().await?;
        if role != UserRole::Admin && Self::is_last_admin(&mut tx, username).await? {
            return Err(AuthError::LastAdmin);
        }
        let mut sql = Sql::new("UPDATE users SET role = ");
        sql.bind(role.as_str().to_owned()).push(", updated_at = ").bind(now);
        sql.push(" WHERE username = ").bind(username.to_owned());
        if sql.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(AuthError::NoSuchUser(username.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn is_last_admin(tx: &mut sqlx::Transaction<'_, sqlx::Any>, username: &str) -> Result<bool, AuthError> {
        let admins: Vec<(String,)> =
            Sql::new("SELECT username FROM users WHERE role = 'admin'").fetch_all(&mut **tx).await?;
        Ok(admins.len() == 1 && admins[0].0 == username)
    }

    /// Removes a user with their sessions and tokens. The last admin cannot be removed.
    pub async fn remove_user(&self, username: &str) -> Result<(), AuthError> {
        let mut tx = self.db.begin().await?;
        if Self::is_last_admin(&mut tx, username).await? {
            return Err(AuthError::LastAdmin);
        }
        for table in ["sessions", "api_tokens", "users"] {
            let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE username = "));
            sql.bind(username.to_owned());
            let gone = sql.execute(&mut *tx).await?.rows_affected();
            if table == "users" && gone == 0 {
                return Err(AuthError::NoSuchUser(username.to_owned()));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // ---- sessions

    pub async fn create_session(
        &self,
        id_hash: &str,
        username: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), AuthError> {
        let mut sql = Sql::new(
            "INSERT INTO sessions (id_hash, username, csrf_token, created_at, last_seen_at, expires_at) VALUES (",
        );
        sql.bind(id_hash.to_owned()).push(", ").bind(username.to_owned()).push(", ").bind(csrf_token.to_owned());
        sql.push(", ").bind(now).push(", ").bind(now).push(", ").bind(expires_at).push(")");
        sql.execute(&self.db).await?;
        Ok(())
    }

    /// The session with this id digest, with its user's role now (a removed user's sessions are gone).
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, AuthError> {
        let mut sql = Sql::new(
            "SELECT s.username, u.role, s.csrf_token, s.last_seen_at, s.expires_at FROM sessions s \
             JOIN users u ON u.username = s.username WHERE s.id_hash = ",
        );
        sql.bind(id_hash.to_owned());
        let rows: Vec<(String, String, String, i64, i64)> = sql.fetch_all(&self.db).await?;
        rows.into_iter()
            .next()
            .map(|(username, role, csrf_token, last_seen_at, expires_at)| {
                Ok(SessionRow { username, role: role_of(&role)?, csrf_token, last_seen_at, expires_at })
            })
            .transpose()
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("UPDATE sessions SET last_seen_at = ");
        sql.bind(now).push(" WHERE id_hash = ").bind(id_hash.to_owned());
        sql.execute(&self.db).await?;
        Ok(())
    }

    pub async fn end_session(&self, id_hash: &str) -> Result<(), AuthError> {
        let mut sql = Sql::new("DELETE FROM sessions WHERE id_hash = ");
        sql.bind(id_hash.to_owned());
        sql.execute(&self.db).await?;
        Ok(())
    }

    async fn end_sessions_of(&self, username: &str) -> Result<(), AuthError> {
        let mut sql = Sql::new("DELETE FROM sessions WHERE username = ");
        sql.bind(username.to_owned());
        sql.execute(&self.db).await?;
        Ok(())
    }

    /// Forgets sessions past their end or idle too long, and failure records nobody needs any more.
    pub async fn purge(&self, now: i64, idle: i64, failures_before: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("DELETE FROM sessions WHERE expires_at <= ");
        sql.bind(now).push(" OR last_seen_at <= ").bind(now - idle);
        sql.execute(&self.db).await?;
        let mut sql = Sql::new("DELETE FROM login_failures WHERE locked_until <= ");
        sql.bind(now).push(" AND last_failed_at <= ").bind(failures_before);
        sql.execute(&self.db).await?;
        Ok(())
    }

    // ---- API tokens

    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        id: Uuid,
        secret_hash: &str,
        name: &str,
        username: &str,
        role: UserRole,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<(), AuthError> {
        let mut sql =
            Sql::new("INSERT INTO api_tokens (id, secret_hash, name, username, role, created_at, expires_at) VALUES (");
        sql.bind(id.to_string()).push(", ").bind(secret_hash.to_owned()).push(", ").bind(name.to_owned());
        sql.push(", ").bind(username.to_owned()).push(", ").bind(role.as_str().to_owned()).push(", ").bind(now);
        sql.push(", ").bind(expires_at).push(")");
        sql.execute(&self.db).await?;
        Ok(())
    }

    pub async fn token(&self, secret_hash: &str) -> Result<Option<TokenRow>, AuthError> {
        let mut sql = Sql::new(
            "SELECT t.id, t.username, t.role, u.role, t.expires_at, t.last_used_at FROM api_tokens t \
             JOIN users u ON u.username = t.username WHERE t.secret_hash = ",
        );
        sql.bind(secret_hash.to_owned());
        let rows: Vec<TokenLookupRow> = sql.fetch_all(&self.db).await?;
        rows.into_iter()
            .next()
            .map(|(id, username, token_role, user_role, expires_at, last_used_at)| {
                let role = role_of(&token_role)?.min(role_of(&user_role)?);
                Ok(TokenRow { id: uuid_of(&id)?, username, role, expires_at, last_used_at })
            })
            .transpose()
    }

    /// Issues `node_id` its credential (by digest), unless it has one or the digest is another node's:
    /// returns whether it was issued. One statement, so two replicas registering the same node at once
    /// issue one credential.
    pub async fn issue_node_credential(&self, node_id: &str, secret_hash: &str, now: i64) -> Result<bool, AuthError> {
        let mut sql = Sql::new("INSERT INTO node_credentials (node_id, secret_hash, created_at) VALUES (");
        sql.bind(node_id.to_owned()).push(", ").bind(secret_hash.to_owned()).push(", ").bind(now);
        sql.push(") ON CONFLICT DO NOTHING");
        Ok(sql.execute(&self.db).await?.rows_affected() == 1)
    }

    /// The node a credential (by digest) belongs to.
    pub async fn node_of_credential(&self, secret_hash: &str) -> Result<Option<app::model::NodeId>, AuthError> {
        let mut sql = Sql::new("SELECT node_id FROM node_credentials WHERE secret_hash = ");
        sql.bind(secret_hash.to_owned());
        let rows: Vec<(String,)> = sql.fetch_all(&self.db).await?;
        rows.into_iter()
            .next()
            .map(|(id,)| app::model::NodeId::parse(&id).map_err(|e| AuthError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Forgets a node's credential, so that it can register again (its old one is refused at once).
    /// Returns whether it had one.
    pub async fn reset_node_credential(&self, node_id: &str) -> Result<bool, AuthError> {
        let mut sql = Sql::new("DELETE FROM node_credentials WHERE node_id = ");
        sql.bind(node_id.to_owned());
        Ok(sql.execute(&self.db).await?.rows_affected() > 0)
    }

    pub async fn touch_token(&self, id: Uuid, now: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("UPDATE api_tokens SET last_used_at = ");
        sql.bind(now).push(" WHERE id = ").bind(id.to_string());
        sql.execute(&self.db).await?;
        Ok(())
    }

    /// Tokens of `owner`, or everyone's.
    pub async fn tokens(&self, owner: Option<&str>) -> Result<Vec<TokenInfo>, AuthError> {
        let mut sql = Sql::new("SELECT id, name, username, role, created_at, expires_at, last_used_at FROM api_tokens");
        if let Some(owner) = owner {
            sql.push(" WHERE username = ").bind(owner.to_owned());
        }
        sql.push(" ORDER BY created_at, id");
        let rows: Vec<TokenListRow> = sql.fetch_all(&self.db).await?;
        rows.into_iter()
            .map(|(id, name, username, role, created_at, expires_at, last_used_at)| {
                Ok(TokenInfo {
                    id: uuid_of(&id)?,
                    name,
                    username,
                    role: role_of(&role)?,
                    created_at,
                    expires_at,
                    last_used_at,
                })
            })
            .collect()
    }

    /// Revokes token `id` (of `owner` only, unless `None`: an admin's). Returns its owner, or `None` when
    /// there is no such token (or it is someone else's).
    pub async fn revoke_token(&self, id: Uuid, owner: Option<&str>) -> Result<Option<String>, AuthError> {
        let mut tx = self.db.begin().await?;
        let mut sql = Sql::new("SELECT username FROM api_tokens WHERE id = ");
        sql.bind(id.to_string());
        if let Some(owner) = owner {
            sql.push(" AND username = ").bind(owner.to_owned());
        }
        let found: Vec<(String,)> = sql.fetch_all(&mut *tx).await?;
        let Some((username,)) = found.into_iter().next() else { return Ok(None) };
        let mut sql = Sql::new("DELETE FROM api_tokens WHERE id = ");
        sql.bind(id.to_string());
        sql.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(username))
    }

    // ---- sign-in throttling

    /// The latest `locked_until` among `keys` (0 when none is locked).
    pub async fn locked_until(&self, keys: &[String]) -> Result<i64, AuthError> {
        let mut sql =
            Sql::new("SELECT CAST(COALESCE(MAX(locked_until), 0) AS BIGINT) FROM login_failures WHERE key IN ");
        sql.bind_list(keys.iter().cloned());
        let rows: Vec<(i64,)> = sql.fetch_all(&self.db).await?;
        Ok(rows.first().map(|(n,)| *n).unwrap_or(0))
    }

    /// Counts a failure for `key` (failures older than `window` seconds are forgotten first); returns the
    /// count now.
    pub async fn record_failure(&self, key: &str, now: i64, window: i64) -> Result<i64, AuthError> {
        let mut sql = Sql::new("INSERT INTO login_failures (key, failures, last_failed_at, locked_until) VALUES (");
        sql.bind(key.to_owned()).push(", 1, ").bind(now).push(", 0) ON CONFLICT (key) DO UPDATE SET failures = ");
        sql.push("CASE WHEN login_failures.last_failed_at < ").bind(now - window);
        sql.push(" THEN 1 ELSE login_failures.failures + 1 END, last_failed_at = excluded.last_failed_at");
        sql.push(" RETURNING failures");
        let rows: Vec<(i64,)> = sql.fetch_all(&self.db).await?;
        Ok(rows.first().map(|(n,)| *n).unwrap_or(1))
    }

    pub async fn lock(&self, key: &str, until: i64) -> Result<(), AuthError> {
        let mut sql = Sql::new("UPDATE login_failures SET locked_until = ");
        sql.bind(until).push(" WHERE key = ").bind(key.to_owned());
        sql.execute(&self.db).await?;
        Ok(())
    }

    pub async fn clear_failures(&self, key: &str) -> Result<(), AuthError> {
        let mut sql = Sql::new("DELETE FROM login_failures WHERE key = ");
        sql.bind(key.to_owned());
        sql.execute(&self.db).await?;
        Ok(())
    }

    // ---- audit

    pub async fn record(&self, e: &AuditEntry) -> Result<(), AuthError> {
        let mut sql = Sql::new("INSERT INTO audit (at, username, source, action, target, outcome) VALUES (");
        sql.bind(e.at).push(", ").bind(e.user.clone()).push(", ").bind(e.source.clone()).push(", ");
        sql.bind(e.action.clone()).push(", ").bind(e.target.clone()).push(", ").bind(e.outcome.clone()).push(")");
        sql.execute(&self.db).await?;
        Ok(())
    }

    /// Entries matching `q`, newest first.
    pub async fn audit(&self, q: &AuditQuery, limit: u32) -> Result<Vec<AuditEntry>, AuthError> {
        let mut sql = Sql::new("SELECT at, username, source, action, target, outcome FROM audit WHERE TRUE");
        if let Some(user) = &q.user {
            sql.push(" AND username = ").bind(user.clone());
        }
        if let Some(action) = &q.action {
            sql.push(" AND action = ").bind(action.clone());
        }
        if let Some(since) = q.since {
            sql.push(" AND at >= ").bind(since);
        }
        sql.push(" ORDER BY seq DESC LIMIT ").bind(limit as i64);
        let rows: Vec<AuditRow> = sql.fetch_all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|(at, user, source, action, target, outcome)| AuditEntry { at, user, source, action, target, outcome })
            .collect())
    }
}
