//! `coexist-bridge`: serve the bridge, or manage its people and numbers.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use coexist_bridge::database::DATABASE_URL_ENV;
use coexist_bridge::{admin, BridgeConfig, DatabaseLocation, NumberInput, Role};
use coexist_core::NumberMode;

#[derive(Parser)]
#[command(name = "coexist-bridge", version, about = "Coexist Inbox's cloud webhook bridge")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Meta's webhook endpoint and the desktop API.
    ///
    /// Secrets come from COEXIST_APP_SECRET, COEXIST_VERIFY_TOKEN, COEXIST_ACCESS_TOKEN
    /// (and COEXIST_GRAPH_URL, COEXIST_GRAPH_VERSION) or --config FILE (TOML, same keys in
    /// lower case without the prefix); the environment wins.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// People: add (prints the token once), list, revoke.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Business numbers.
    Number {
        #[command(subcommand)]
        command: NumberCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; prints their token (shown only this once).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        #[command(flatten)]
        db: DbArg,
    },
    /// List people (names and roles; never tokens).
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke a person's token at once.
    Revoke {
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Mode {
    Coexistence,
    Standard,
}

#[derive(Subcommand)]
enum NumberCommand {
    Add {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        phone_number_id: String,
        #[arg(long)]
        waba_id: String,
        /// E.164, e.g. +14155550123.
        #[arg(long)]
        display_number: String,
        #[arg(long, value_enum)]
        mode: Mode,
        /// Messages per second (standard only: 80 by default, up to 1000).
        #[arg(long)]
        tier: Option<u32>,
    },
}

/// The event log every command works on.
#[derive(clap::Args)]
struct DbArg {
    /// An SQLite file (created if missing), or a Postgres URL (postgres://user:password@host/database);
    /// without it, COEXIST_DATABASE_URL.
    #[arg(long, value_name = "FILE_OR_URL")]
    db: Option<String>,
}

impl DbArg {
    fn location(&self) -> Result<DatabaseLocation> {
        DatabaseLocation::choose(self.db.as_deref(), std::env::var(DATABASE_URL_ENV).ok())
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,coexist_bridge=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { listen, db, config } => serve(listen, db.location()?, config),
        Command::User { command: UserCommand::Add { name, role, db } } => {
            let token = admin::add_user(db.location()?, &name, role)?;
            println!("{token}");
            eprintln!("Added {name} as {}. This token is shown only once; give it to {name}.", role.as_str());
            Ok(())
        }
        Command::User { command: UserCommand::List { db } } => {
            for user in admin::list_users(db.location()?)? {
                println!("{}\t{}", user.name, user.role.as_str());
            }
            Ok(())
        }
        Command::User { command: UserCommand::Revoke { name, db } } => {
            admin::revoke_user(db.location()?, &name)?;
            println!("Revoked {name}");
            Ok(())
        }
        Command::Number { command: NumberCommand::Add { db, phone_number_id, waba_id, display_number, mode, tier } } => {
            let mode = match mode {
                Mode::Coexistence => NumberMode::Coexistence,
                Mode::Standard => NumberMode::Standard,
            };
            let input = NumberInput { phone_number_id, waba_id, display_number, mode, tier_mps: tier };
            let settings = input.into_settings().map_err(anyhow::Error::msg)?;
            let shown = format!("{} ({:?}, {} mps)", settings.display_number, settings.mode, settings.tier_mps);
            admin::add_number(db.location()?, settings)?;
            println!("Added number {shown}");
            Ok(())
        }
    }
}

fn serve(listen: SocketAddr, db: DatabaseLocation, config: Option<PathBuf>) -> Result<()> {
    let config = BridgeConfig::load(db, config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let bridge = coexist_bridge::start(config, listener).await?;
        // Machine-readable first line (tests and scripts read the port from it).
        println!("coexist-bridge listening on http://{}", bridge.addr);
        std::io::stdout().flush()?;
        let stop = bridge.shutdown_handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop.send(true);
        });
        bridge.wait().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
