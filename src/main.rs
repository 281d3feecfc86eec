use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio::signal::unix::{Signal, SignalKind, signal};

use pgusers::cli::CliError;
use pgusers::config::{Cli, Command, Settings};
use pgusers::domain::visible_lines;
use pgusers::failure;
use pgusers::serve::Application;

#[actix_web::main]
async fn main() -> ExitCode {
    let (settings, command) = Cli::parse().into_parts();
    let serving = matches!(command, Command::Serve(_));
    // A CLI command's standard error is for its prompts and errors, not chatter.
    let default_filter = if serving { "info" } else { "warn" };
    pgusers::logging::init(default_filter);
    let result = if serving {
        serve(settings).await
    } else {
        pgusers::cli::run(&settings, command).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `doctor`'s findings are its output, not an error.
            if !matches!(error, CliError::Findings) {
                say_why(&error, serving);
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// Says why pgusers stops, once, in its `Error:` line. What lies behind
/// the message (what PostgreSQL or the system said) follows it there for an
/// unexpected failure of a command; `serve` logs it instead, when there is
/// any, as its log's last line; otherwise it goes to the debug log.
fn say_why(error: &CliError, serving: bool) {
    let message = error.to_string();
    let causes = failure::chain(error);
    let said = if !serving && error.exit_code() == pgusers::cli::exit::FAILURE {
        causes
    } else {
        let behind = causes
            .strip_prefix(message.as_str())
            .map(|rest| rest.trim_start_matches(" — caused by: "))
            .filter(|rest| !rest.is_empty());
        match behind {
            Some(behind) if serving => tracing::error!(cause = %behind, "pgusers stopped"),
            _ => tracing::debug!(error = %causes, "the command failed"),
        }
        message
    };
    // Errors may quote names from the database: no raw escape sequence may
    // reach the terminal.
    eprintln!("Error: {}", visible_lines(&said));
}

/// Builds the dashboard, serves it until SIGINT or SIGTERM, then stops it
/// (and the embedded cluster, if it started one).
async fn serve(settings: Settings) -> Result<(), CliError> {
    // From the first instant, so a signal during start-up cannot kill
    // pgusers before the cluster is stopped.
    let mut shutdown = ShutdownSignals::listen()?;
    let app = Application::build(settings).await?;
    if let Some(description) = app.describe() {
        println!("{description}");
    }
    println!("pgusers dashboard: http://{}/", app.address());
    let handle = app.handle();
    let running = tokio::spawn(app.run_until_stopped());
    shutdown.received().await;
    tracing::info!("shutting down");
    handle.stop(true).await;
    running
        .await
        .context("running the dashboard")?
        .context("running the dashboard")?;
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM, listened to from the start of `serve`.
struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    fn listen() -> anyhow::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
