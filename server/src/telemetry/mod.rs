//! What an operator sees of a running role: logs (`RUST_LOG` filters, default `info`; human-readable
//! lines or JSON objects on stderr), every request's id, and Prometheus metrics.

pub mod metrics;
pub mod request_id;

use tracing_subscriber::{EnvFilter, fmt};

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people: time, level, the spans (with the request id), the message and its fields.
    #[default]
    Text,
    /// One JSON object a line, for log shippers: the event's fields at the top level, and every span
    /// it happened in (the request's, with `request_id`) under `spans`.
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colours only for a terminal: journald and log files would keep the escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(true).try_init(),
    };
}
