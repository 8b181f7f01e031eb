//! Logging: `RUST_LOG` filters (default `info`), human-readable lines on stderr.

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
