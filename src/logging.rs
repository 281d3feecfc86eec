//! The log: `RUST_LOG` (else a default level) chooses what is written,
//! within one bound no setting lifts. Some crates log what passes through
//! them at their debug and trace levels: tokio-postgres the text of every
//! statement, and `CREATE ROLE … PASSWORD 'SCRAM-SHA-256$…'` carries a
//! password's verifier; its parameters, which hold hashes; actix-http
//! request heads, with `Authorization: Bearer` tokens. Those crates are
//! capped at INFO, whatever `RUST_LOG` says (even naming one of their
//! modules), so no debugging session puts a secret in a log file.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Crates whose debug and trace events may carry statements, parameters
/// or request heads.
const CAPPED: &[&str] = &[
    "tokio_postgres",
    "postgres_protocol",
    "deadpool_postgres",
    "refinery_core",
    "actix_http",
    "actix_web",
    "actix_server",
    "rustls",
    "tokio_postgres_rustls",
];

/// Where no crate's chatter may go below INFO.
pub fn secret_safe() -> Targets {
    CAPPED.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |targets, name| targets.with_target(*name, LevelFilter::INFO),
    )
}

/// Logs to standard error: `RUST_LOG`, else `default`, within
/// [`secret_safe`]; colour only for a terminal.
pub fn init(default: &str) {
    use std::io::IsTerminal;
    let chosen = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour codes only where a terminal reads them, not in log files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(chosen.and(secret_safe()));
    tracing_subscriber::registry().with(layer).init();
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;

    use super::*;

    fn allows(targets: &Targets, target: &str, level: Level) -> bool {
        targets.would_enable(target, &level)
    }

    #[test]
    fn statements_parameters_and_request_heads_never_log_below_info() {
        let safe = secret_safe();
        for target in [
            "tokio_postgres::simple_query",
            "tokio_postgres::query",
            "tokio_postgres::prepare",
            "actix_http::h1::dispatcher",
        ] {
            assert!(!allows(&safe, target, Level::DEBUG), "{target}");
            assert!(!allows(&safe, target, Level::TRACE), "{target}");
            assert!(allows(&safe, target, Level::WARN), "{target}");
        }
        assert!(allows(&safe, "pgusers::operations", Level::DEBUG));
    }
}
