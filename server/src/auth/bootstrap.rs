//! The first start of a role: with no user at all, it creates `admin` with a random password, written
//! once to a file only its owner can read, and logs where that file is (never the password).

use std::path::{Path, PathBuf};

use app::model::UserRole;

use super::{Auth, AuthError, password, secret};

/// The name of the first user.
pub const FIRST_ADMIN: &str = "admin";
/// The password file's name in a role's data directory (the all-in-one: its top directory).
pub const PASSWORD_FILE: &str = "initial-admin-password";

/// How a role gets its first admin.
#[derive(Debug, Clone)]
pub enum InitialAdmin {
    /// A random password, written to this file (mode 0600) if this start created the admin.
    Generate { file: PathBuf },
    /// A password chosen elsewhere (the all-in-one gives both roles one; an operator may give a file);
    /// nothing is written.
    Given(String),
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] AuthError),
    #[error("cannot write the initial admin password to {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
}

/// Writes `password` to `path`, readable by its owner only, replacing a file left from an earlier
/// database (its password is no longer anyone's).
pub fn write_password_file(path: &Path, password: &str) -> Result<(), BootstrapError> {
    secret::write_private_file(path, &format!("{password}\n"))
        .map_err(|source| BootstrapError::File { path: path.to_owned(), source })
}

/// Creates the first admin if the role has no user. Returns whether this call created it (of several
/// vdc replicas starting at once on one PostgreSQL, exactly one does, and only it writes the file).
pub async fn ensure_admin(auth: &Auth, how: &InitialAdmin) -> Result<bool, BootstrapError> {
    if !auth.store.users().await?.is_empty() {
        return Ok(false);
    }
    let password = match how {
        InitialAdmin::Generate { .. } => secret::random_password(),
        InitialAdmin::Given(p) => p.clone(),
    };
    let hash = password::hash(password.clone()).await;
    let created = auth.store.create_first_user(FIRST_ADMIN, &hash, UserRole::Admin, crate::now_unix()).await?;
    if created && let InitialAdmin::Generate { file } = how {
        write_password_file(file, &password)?;
        tracing::warn!(
            file = %file.display(),
            "created the user \"admin\"; its password is in this file (readable by this user only): sign in, then change it"
        );
    }
    Ok(created)
}
