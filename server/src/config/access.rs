//! Settings both roles have for who may reach them: the names they answer to, HTTPS, sessions, sign-in
//! throttling and the first admin. Each is a flag, an environment variable and a key of the config file,
//! like every setting; [`access_args!`] adds the same fields to both roles' flag structs.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use crate::auth::{
    AuthSettings,
    bootstrap::{InitialAdmin, PASSWORD_FILE},
};
use crate::http::{hosts::HostPolicy, tls::TlsSource};

use super::ConfigError;

/// Appends the access settings to a role's flag struct (and lists them for [`prefer_cli`]).
macro_rules! access_args {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($body)*

            /// The URL people and nodes use to reach this role (e.g. https://vdc.example:3000); its host is
            /// one of the names the role answers to. [default: the listen address]
            #[arg(long, env = "QUANTIX_PUBLIC_URL", value_name = "URL")]
            pub public_url: Option<String>,

            /// Another name browsers may use for this role (repeatable; in the environment comma-separated).
            /// Requests naming any other host are refused (DNS rebinding). [default: the listen address,
            /// localhost and the machine's own names]
            #[arg(long = "allowed-host", env = "QUANTIX_ALLOWED_HOSTS", value_name = "NAME", value_delimiter = ',')]
            #[serde(default)]
            pub allowed_hosts: Vec<String>,

            /// Serve HTTPS with this certificate (PEM; a chain, the server's first).
            #[arg(long, env = "QUANTIX_TLS_CERT", value_name = "FILE", requires = "tls_key")]
            pub tls_cert: Option<std::path::PathBuf>,

            /// The private key of --tls-cert (PEM).
            #[arg(long, env = "QUANTIX_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
            pub tls_key: Option<std::path::PathBuf>,

            /// Serve HTTPS with a self-signed certificate made on first start and kept in the data directory
            /// (its SHA-256 fingerprint is logged, for --vdc-cert-sha256 on nodes).
            #[arg(long, env = "QUANTIX_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
            #[serde(default)]
            pub tls_self_signed: bool,

            /// A browser session unused this long ends. [default: 8h]
            #[arg(long, env = "QUANTIX_SESSION_IDLE", value_name = "DURATION", value_parser = crate::config::parse_duration)]
            #[serde(default, deserialize_with = "crate::config::values::de_duration")]
            pub session_idle: Option<std::time::Duration>,

            /// A browser session ends this long after sign-in, however active. [default: 24h]
            #[arg(long, env = "QUANTIX_SESSION_LIFETIME", value_name = "DURATION", value_parser = crate::config::parse_duration)]
            #[serde(default, deserialize_with = "crate::config::values::de_duration")]
            pub session_lifetime: Option<std::time::Duration>,

            /// Failed sign-ins, for one user or from one address, before further attempts are refused for a
            /// while (429). [default: 5]
            #[arg(long, env = "QUANTIX_LOGIN_MAX_FAILURES", value_name = "N")]
            pub login_max_failures: Option<u32>,

            /// How long the first refusal lasts; each further failure doubles it, up to 15 minutes.
            /// [default: 30s]
            #[arg(long, env = "QUANTIX_LOGIN_LOCKOUT", value_name = "DURATION", value_parser = crate::config::parse_duration)]
            #[serde(default, deserialize_with = "crate::config::values::de_duration")]
            pub login_lockout: Option<std::time::Duration>,

            /// The first admin's password, from the first line of this file, instead of a random one written
            /// to <data dir>/initial-admin-password (for automated installs). Used only while there is no
            /// user at all.
            #[arg(long, env = "QUANTIX_INITIAL_ADMIN_PASSWORD_FILE", value_name = "FILE")]
            pub initial_admin_password_file: Option<std::path::PathBuf>,

            /// A request whose body sends nothing for this long is cut off, so a stalled upload gives its
            /// name and its room back. Generous for slow links, never infinite. [default: 2m]
            #[arg(long, env = "QUANTIX_BODY_IDLE_TIMEOUT", value_name = "DURATION", value_parser = crate::config::parse_duration)]
            #[serde(default, deserialize_with = "crate::config::values::de_duration")]
            pub body_idle_timeout: Option<std::time::Duration>,
        }

        impl $name {
            /// The access settings as given.
            pub fn access_values(&self) -> $crate::config::access::AccessValues {
                $crate::config::access::AccessValues {
                    public_url: self.public_url.clone(),
                    allowed_hosts: self.allowed_hosts.clone(),
                    tls_cert: self.tls_cert.clone(),
                    tls_key: self.tls_key.clone(),
                    tls_self_signed: self.tls_self_signed,
                    session_idle: self.session_idle,
                    session_lifetime: self.session_lifetime,
                    login_max_failures: self.login_max_failures,
                    login_lockout: self.login_lockout,
                    initial_admin_password_file: self.initial_admin_password_file.clone(),
                    body_idle_timeout: self.body_idle_timeout,
                }
            }

            /// Fills the access settings not given on the command line from the config file's.
            fn prefer_access(&mut self, file: $crate::config::access::AccessValues) {
                let f = file;
                self.public_url = self.public_url.take().or(f.public_url);
                if self.allowed_hosts.is_empty() {
                    self.allowed_hosts = f.allowed_hosts;
                }
                self.tls_cert = self.tls_cert.take().or(f.tls_cert);
                self.tls_key = self.tls_key.take().or(f.tls_key);
                self.tls_self_signed |= f.tls_self_signed;
                self.session_idle = self.session_idle.or(f.session_idle);
                self.session_lifetime = self.session_lifetime.or(f.session_lifetime);
                self.login_max_failures = self.login_max_failures.or(f.login_max_failures);
                self.login_lockout = self.login_lockout.or(f.login_lockout);
                self.initial_admin_password_file =
                    self.initial_admin_password_file.take().or(f.initial_admin_password_file);
                self.body_idle_timeout = self.body_idle_timeout.or(f.body_idle_timeout);
            }
        }
    };
}
pub(crate) use access_args;

/// A request body silent this long is cut off.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The resolved access settings of a role.
#[derive(Debug, Clone)]
pub struct AccessConfig {
    pub public_url: Option<String>,
    pub allowed_hosts: Vec<String>,
    pub tls: Option<TlsSource>,
    pub session_idle: Duration,
    pub session_lifetime: Duration,
    pub max_failures: u32,
    pub lockout: Duration,
    pub initial_admin: InitialAdmin,
    /// How long a request body may send nothing before the request is cut off.
    pub body_idle_timeout: Duration,
}

/// The raw values, as the flag structs hold them.
pub struct AccessValues {
    pub public_url: Option<String>,
    pub allowed_hosts: Vec<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_self_signed: bool,
    pub session_idle: Option<Duration>,
    pub session_lifetime: Option<Duration>,
    pub login_max_failures: Option<u32>,
    pub login_lockout: Option<Duration>,
    pub initial_admin_password_file: Option<PathBuf>,
    pub body_idle_timeout: Option<Duration>,
}

/// Reads the first admin's password from `file`.
pub fn read_initial_password(file: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read { path: file.to_owned(), source })?;
    let password = text.lines().next().unwrap_or("").to_owned();
    crate::auth::api::check_password(&password)
        .map_err(|m| ConfigError::Invalid(format!("{}: {m}", file.display())))?;
    Ok(password)
}

impl AccessValues {
    /// Resolves against the role's data directory (password file, self-signed certificate).
    pub fn resolve(self, data_dir: &Path) -> Result<AccessConfig, ConfigError> {
        let tls = match (self.tls_cert, self.tls_key, self.tls_self_signed) {
            (Some(cert), Some(key), false) => Some(TlsSource::Files { cert, key }),
            (None, None, true) => {
                let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
                names.push(rustix::system::uname().nodename().to_string_lossy().into_owned());
                if let Some(url) = &self.public_url
                    && let Some(host) = url.split_once("://").and_then(|(_, r)| r.split(['/', ':']).next())
                {
                    names.push(host.to_owned());
                }
                names.extend(self.allowed_hosts.iter().cloned());
                Some(TlsSource::SelfSigned { dir: data_dir.to_owned(), names })
            }
            (None, None, false) => None,
            (Some(_), Some(_), true) => {
                return Err(ConfigError::Invalid(
                    "give --tls-cert and --tls-key, or --tls-self-signed, not both".into(),
                ));
            }
            _ => return Err(ConfigError::Invalid("--tls-cert and --tls-key go together".into())),
        };
        let initial_admin = match &self.initial_admin_password_file {
            Some(f) => InitialAdmin::Given(read_initial_password(f)?),
            None => InitialAdmin::Generate { file: data_dir.join(PASSWORD_FILE) },
        };
        let access = AccessConfig {
            public_url: self.public_url.map(|u| u.trim_end_matches('/').to_owned()),
            allowed_hosts: self.allowed_hosts,
            tls,
            session_idle: self.session_idle.unwrap_or(Duration::from_secs(8 * 3600)),
            session_lifetime: self.session_lifetime.unwrap_or(Duration::from_secs(24 * 3600)),
            max_failures: self.login_max_failures.unwrap_or(5),
            lockout: self.login_lockout.unwrap_or(Duration::from_secs(30)),
            initial_admin,
            body_idle_timeout: self.body_idle_timeout.unwrap_or(DEFAULT_BODY_IDLE_TIMEOUT),
        };
        if access.max_failures == 0 {
            return Err(ConfigError::Invalid("--login-max-failures must be at least 1".into()));
        }
        Ok(access)
    }
}

impl AccessConfig {
    /// Plain HTTP, the defaults, and a first admin written to `data_dir` (the all-in-one, and tests).
    pub fn local(data_dir: &Path) -> AccessConfig {
        AccessValues {
            public_url: None,
            allowed_hosts: Vec::new(),
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            session_idle: None,
            session_lifetime: None,
            login_max_failures: None,
            login_lockout: None,
            initial_admin_password_file: None,
            body_idle_timeout: None,
        }
        .resolve(data_dir)
        .expect("the defaults are valid")
    }

    /// The role's authentication settings.
    pub fn auth_settings(&self, cookie_name: &'static str) -> AuthSettings {
        AuthSettings {
            secure_cookies: self.tls.is_some(),
            session_idle: self.session_idle,
            session_lifetime: self.session_lifetime,
            max_failures: self.max_failures,
            lockout: self.lockout,
            ..AuthSettings::defaults(cookie_name)
        }
    }

    /// The names the role answers to when it listens on `listen`.
    pub fn host_policy(&self, listen: SocketAddr) -> HostPolicy {
        let urls: Vec<String> = self.public_url.iter().cloned().collect();
        HostPolicy::new(listen, &urls, &self.allowed_hosts)
    }
}
