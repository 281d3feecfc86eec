use std::io::IsTerminal;
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing_subscriber::EnvFilter;

use pgusers::cli::CliError;
use pgusers::config::{Cli, Command, Settings};
use pgusers::domain::visible_lines;
use pgusers::embedded::Announce;
use pgusers::registry::{ManagedDatabase, Registry};
use pgusers::startup::{StateUse, Target, session_key};
use pgusers::state::LoginPolicy;
use pgusers::web::{self, AppState, RequestLimits, SessionPolicy, WebSettings};

#[actix_web::main]
async fn main() -> ExitCode {
    let (settings, command) = Cli::parse().into_parts();
    let serving = matches!(command, Command::Serve(_));
    // A CLI command's standard error is for its prompts and errors, not chatter.
    let default_filter = if serving { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only where a terminal reads them, not in log files.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if serving {
        return match serve(settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("Error: {}", visible_lines(&format!("{error:#}")));
                // Settings that cannot work exit as the CLI does on them.
                ExitCode::from(
                    error
                        .downcast_ref::<CliError>()
                        .map_or(pgusers::cli::exit::FAILURE, CliError::exit_code),
                )
            }
        };
    }
    match pgusers::cli::run(&settings, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Errors may quote names from the database: no raw escape
            // sequence may reach the terminal.
            eprintln!("Error: {}", visible_lines(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let shutdown = ShutdownSignals::listen()?;
    let listener = TcpListener::bind(&settings.dashboard.listen)
        .with_context(|| format!("listening on {}", settings.dashboard.listen))?;
    let mut target = Target::resolve(&settings, Announce::Stdout)
        .await
        .map_err(CliError::from)?;
    let result = run_dashboard(&settings, &target, listener, shutdown).await;
    target.shut_down();
    result
}

async fn run_dashboard(
    settings: &Settings,
    target: &Target,
    listener: TcpListener,
    mut shutdown: ShutdownSignals,
) -> anyhow::Result<()> {
    let state = target.state_store(settings, Announce::Stdout, StateUse::Dashboard)?;
    let databases = target.registry();
    check_databases(&databases).await?;
    if let Err(error) = state.ensure_ready().await.map_err(CliError::from) {
        refuse_unless_unavailable(error, "the state database is not ready yet")?;
    }
    let address = listener.local_addr()?;
    let secure_cookies = settings.dashboard.secure_cookies.applies_to(address);
    let app = AppState { databases, state };
    let server = web::server(
        listener,
        app,
        WebSettings {
            session_key: session_key(settings)?,
            secure_cookies,
            sessions: SessionPolicy {
                idle: settings.dashboard.session_idle.0,
                lifetime: settings.dashboard.session_lifetime.0,
            },
            logins: LoginPolicy::default(),
            limits: RequestLimits::default(),
            trusted_proxies: settings
                .dashboard
                .trusted_proxies
                .clone()
                .unwrap_or_default(),
        },
    )?;
    let handle = server.handle();
    let running = tokio::spawn(server);
    println!("{}", target.describe());
    println!("pgusers dashboard: http://{address}/");
    shutdown.received().await;
    tracing::info!("shutting down");
    handle.stop(true).await;
    running
        .await
        .context("running the dashboard")?
        .context("running the dashboard")
}

/// Checks each database at start. With one, settings that cannot work stop
/// pgusers here, before it prints an address or a password; with several,
/// a database that cannot be used is logged and shown as such, and the
/// others are served. A server that is merely down is waited for.
async fn check_databases(databases: &Registry) -> Result<(), CliError> {
    let single = databases.all().len() == 1;
    for database in databases.all() {
        match database.roles.check().await.map_err(CliError::from) {
            Ok(()) => log_admin_kind(database).await,
            Err(error) if single => {
                refuse_unless_unavailable(error, "the managed database is not reachable yet")?
            }
            Err(error) => tracing::warn!(
                database = %database.id,
                %error,
                "this database cannot be used yet; its pages say so until it can"
            ),
        }
    }
    Ok(())
}

/// Says at start which kind of administrator pgusers runs as, and what
/// that implies, so the log answers "why can't it…?" before it is asked.
async fn log_admin_kind(database: &ManagedDatabase) {
    match database.roles.admin_kind().await {
        Ok(admin) => {
            let mut text = format!("Database {}. Administrator: {admin}.", database.id);
            for sentence in admin.consequences() {
                text.push(' ');
                text.push_str(sentence);
            }
            tracing::info!("{text}");
        }
        Err(error) => tracing::warn!(%error, "reading which kind of administrator pgusers is"),
    }
}

/// Lets `serve` start on an error that may pass (the server is down: pages
/// answer 503 until it is back), and refuses one that needs fixing.
fn refuse_unless_unavailable(error: CliError, what: &str) -> Result<(), CliError> {
    if error.exit_code() == pgusers::cli::exit::USAGE {
        return Err(error);
    }
    tracing::warn!(%error, "{what}; pgusers will retry");
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
