//! `quantix-iso node|vdc user add|passwd|list|remove`: managing a role's users from the shell. A password
//! comes from a prompt (not echoed) or from `--password-file`, never from a flag (flags end up in shell
//! history and process lists).

use std::path::PathBuf;

use app::model::{UserRole, check_username};
use clap::{Subcommand, ValueEnum};

use super::{AuthError, api::check_password, password, store::AuthStore};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Operator,
    Viewer,
}

impl From<RoleArg> for UserRole {
    fn from(r: RoleArg) -> UserRole {
        match r {
            RoleArg::Admin => UserRole::Admin,
            RoleArg::Operator => UserRole::Operator,
            RoleArg::Viewer => UserRole::Viewer,
        }
    }
}

/// Manage the role's users (in its own database).
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is asked for, or read from --password-file.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from the first line of this file instead of asking.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a user's password (their sessions end); asked for, or read from --password-file.
    Passwd {
        name: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Change a user's role.
    Role {
        name: String,
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// List the users and their roles.
    List,
    /// Remove a user with their sessions and API tokens.
    Remove { name: String },
}

#[derive(Debug, thiserror::Error)]
pub enum UserCliError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read the password: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Store(#[from] AuthError),
}

/// The first line of `file`, or a password typed twice at a prompt.
fn read_password(file: Option<&PathBuf>) -> Result<String, UserCliError> {
    let password = match file {
        Some(f) => std::fs::read_to_string(f).map_err(UserCliError::Read)?.lines().next().unwrap_or("").to_owned(),
        None => {
            let first = rpassword::prompt_password("Password: ").map_err(UserCliError::Read)?;
            let again = rpassword::prompt_password("Again: ").map_err(UserCliError::Read)?;
            if first != again {
                return Err(UserCliError::Invalid("The two passwords differ; nothing was changed.".into()));
            }
            first
        }
    };
    check_password(&password).map_err(UserCliError::Invalid)?;
    Ok(password)
}

pub async fn run(store: &AuthStore, command: UserCommand) -> Result<(), UserCliError> {
    let now = crate::now_unix();
    match command {
        UserCommand::Add { name, role, password_file } => {
            check_username(&name).map_err(UserCliError::Invalid)?;
            let password = read_password(password_file.as_ref())?;
            store.add_user(&name, &password::hash(password).await, role.into(), now).await?;
            println!("added {name} ({})", UserRole::from(role));
        }
        UserCommand::Passwd { name, password_file } => {
            let password = read_password(password_file.as_ref())?;
            store.set_password(&name, &password::hash(password).await, now).await?;
            println!("password of {name} changed; their sessions have ended");
        }
        UserCommand::Role { name, role } => {
            store.set_role(&name, role.into(), now).await?;
            println!("{name} is now {}", UserRole::from(role));
        }
        UserCommand::List => {
            for u in store.users().await? {
                println!("{:<32} {}", u.username, u.role);
            }
        }
        UserCommand::Remove { name } => {
            store.remove_user(&name).await?;
            println!("removed {name}");
        }
    }
    Ok(())
}
