//! `coexist-sandbox serve ...` runs a simulated Cloud API; `coexist-sandbox scenario NAME ...` plays
//! a scenario against a running one.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use coexist_sandbox::{SandboxConfig, SCENARIOS};

#[derive(Parser)]
#[command(
    name = "coexist-sandbox",
    about = "A simulated WhatsApp Cloud API (coexistence number) for tests and try-it mode"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Graph API subset and the /sandbox control routes.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// Where webhooks are POSTed (signed with --app-secret).
        #[arg(long)]
        webhook_url: Option<String>,
        #[arg(long, env = "COEXIST_SANDBOX_APP_SECRET")]
        app_secret: String,
        #[arg(
            long,
            env = "COEXIST_SANDBOX_ACCESS_TOKEN",
            default_value = "sandbox-access-token"
        )]
        access_token: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Pair-rate burst (messages to one customer before 131056); Meta documents 45.
        #[arg(long, default_value_t = 45)]
        pair_burst: u32,
        /// Customers tap the first button / list row of delivered interactive messages this many
        /// milliseconds after delivery (try-it demos). Off unless given.
        #[arg(long)]
        auto_tap_ms: Option<u64>,
    },
    /// Play a scenario on a running sandbox.
    Scenario {
        /// busy-shop, onboarding, window-expires or demo.
        name: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The sandbox's base URL, e.g. http://127.0.0.1:8787.
        #[arg(long)]
        url: String,
        /// Pause multiplier: 1 real time, 0 no pauses.
        #[arg(long, default_value_t = 1.0)]
        pace: f64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Serve {
            listen,
            webhook_url,
            app_secret,
            access_token,
            seed,
            pair_burst,
            auto_tap_ms,
        } => {
            let mut config = SandboxConfig::new(app_secret, access_token);
            config.webhook_url = webhook_url;
            config.seed = seed;
            config.pair_burst = pair_burst;
            config.auto_tap = auto_tap_ms.map(Duration::from_millis);
            serve(listen, config).await
        }
        Command::Scenario {
            name,
            seed,
            url,
            pace,
        } => scenario(name, seed, url, pace).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coexist-sandbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(listen: String, config: SandboxConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {listen}: {e} (is the port taken? try --listen 127.0.0.1:0)"
        )
    })?;
    let sb = coexist_sandbox::start(config, listener).await?;
    println!("coexist-sandbox listening on {}", sb.url());
    println!("phone_number_id {}", sb.phone_number_id);
    println!("waba_id {}", sb.waba_id);
    println!("display_number {}", sb.display_number);
    tokio::signal::ctrl_c().await?;
    sb.shutdown().await;
    Ok(())
}

async fn scenario(name: String, seed: u64, url: String, pace: f64) -> anyhow::Result<()> {
    if !SCENARIOS.contains(&name.as_str()) {
        anyhow::bail!("unknown scenario {name:?}; known: {}", SCENARIOS.join(", "));
    }
    let endpoint = format!("{}/sandbox/scenario", url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&endpoint)
        .json(&serde_json::json!({"name": name, "seed": seed, "pace": pace, "wait": true}))
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the sandbox at {endpoint}: {e} (is `coexist-sandbox serve` running?)"
            )
        })?;
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        anyhow::bail!("sandbox refused the scenario (HTTP {status}): {body}");
    }
    println!("{body}");
    Ok(())
}
