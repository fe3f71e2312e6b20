//! Try-it mode: a simulated Meta (coexist-sandbox) and a real bridge (coexist-bridge), wired
//! together in-process on loopback, with an agent and the sandbox's number set up, templates
//! synced and the sandbox's `demo` scenario playing, with a simulated teammate (Sam) showing the
//! team's side: quick replies, a conversation assigned to you with a note. Nothing leaves the
//! machine.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use coexist_bridge::{BridgeConfig, RunningBridge};
use coexist_core::{NumberMode, NumberSettings};
use coexist_sandbox::{RunningSandbox, SandboxConfig};
use tokio::net::TcpListener;

use crate::client::BridgeClient;

/// The demo's agent (the desktop logs in as them).
pub const DEMO_AGENT: &str = "demo-agent";
/// The simulated teammate of the `demo` scenario.
pub const DEMO_TEAMMATE: &str = "sam";
/// The `demo` scenario's customer whose conversation Sam hands over (Ben Okafor).
const HANDED_OVER: &str = "447700900222";
/// How long after delivery a demo customer taps the first of an agent's reply buttons.
const DEMO_TAP_AFTER: std::time::Duration = std::time::Duration::from_secs(4);
/// Files in `data_dir`, recreated by every `start_demo` (the demo always starts fresh).
pub const BRIDGE_DB: &str = "demo-bridge.db";
pub const INBOX_DB: &str = "demo-inbox.db";

/// A running demo stack. `shutdown` stops it; dropping it leaves the servers running until the
/// runtime ends.
pub struct DemoHandle {
    pub bridge_url: String,
    /// The agent's bearer token for `bridge_url`.
    pub token: String,
    pub sandbox_url: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    /// Where the desktop should keep its inbox for this demo (fresh, matches the fresh bridge).
    pub inbox_path: PathBuf,
    pub bridge: RunningBridge,
    pub sandbox: RunningSandbox,
}

impl DemoHandle {
    /// Stop the scenario, the bridge and the sandbox.
    pub async fn shutdown(self) {
        self.bridge.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

/// Options for tests that want a quiet or fast demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Play this sandbox scenario after setup (`None`: no scripted traffic).
    pub scenario: Option<String>,
    /// Adjust the sandbox before it starts (pair limits, status delays ...).
    pub sandbox: fn(&mut SandboxConfig),
}

impl Default for DemoOptions {
    fn default() -> Self {
        // The demo's customers answer reply buttons by themselves, a few seconds after they read them.
        DemoOptions { scenario: Some("demo".into()), sandbox: |config| config.auto_tap = Some(DEMO_TAP_AFTER) }
    }
}

/// Start the demo stack with the `demo` scenario.
pub async fn start_demo(data_dir: &Path) -> Result<DemoHandle> {
    start_demo_with(data_dir, DemoOptions::default()).await
}

pub async fn start_demo_with(data_dir: &Path, options: DemoOptions) -> Result<DemoHandle> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let bridge_db = data_dir.join(BRIDGE_DB);
    let inbox_path = data_dir.join(INBOX_DB);
    remove_db(&bridge_db)?;
    remove_db(&inbox_path)?;

    let sandbox_listener = TcpListener::bind("127.0.0.1:0").await.context("binding the sandbox on loopback")?;
    let bridge_listener = TcpListener::bind("127.0.0.1:0").await.context("binding the bridge on loopback")?;
    let bridge_url = format!("http://{}", bridge_listener.local_addr()?);
    let app_secret = secret();
    let access_token = secret();

    let mut sb_config = SandboxConfig::new(app_secret.clone(), access_token.clone());
    sb_config.webhook_url = Some(format!("{bridge_url}/webhook"));
    (options.sandbox)(&mut sb_config);
    let sandbox = coexist_sandbox::start(sb_config, sandbox_listener).await.context("starting the sandbox")?;

    let mut config = BridgeConfig::new(&bridge_db);
    config.app_secret = app_secret;
    config.verify_token = secret();
    config.access_token = access_token;
    config.graph_url = sandbox.url();
    let bridge = coexist_bridge::start(config, bridge_listener).await.context("starting the bridge")?;

    let token = coexist_bridge::admin::add_user(&bridge_db, DEMO_AGENT, coexist_bridge::Role::Agent)?;
    let display_number = e164(&sandbox.display_number);
    coexist_bridge::admin::add_number(
        &bridge_db,
        NumberSettings {
            phone_number_id: sandbox.phone_number_id.clone(),
            waba_id: sandbox.waba_id.clone(),
            display_number: display_number.clone(),
            mode: NumberMode::Coexistence,
            tier_mps: crate::limiter::DEFAULT_MPS,
        },
    )?;
    BridgeClient::new(&bridge_url, &token)
        .sync_templates(&sandbox.phone_number_id)
        .await
        .context("syncing the sandbox's templates through the bridge")?;

    if let Some(name) = &options.scenario {
        start_scenario(&sandbox.url(), name).await?;
        if name == "demo" {
            let sam = coexist_bridge::admin::add_user(&bridge_db, DEMO_TEAMMATE, coexist_bridge::Role::Agent)?;
            let sam = BridgeClient::new(&bridge_url, &sam);
            let number = sandbox.phone_number_id.clone();
            tokio::spawn(async move {
                if let Err(e) = play_teammate(&sam, &number).await {
                    tracing::info!(error = %e, "the demo's teammate stopped");
                }
            });
        }
    }

    Ok(DemoHandle {
        bridge_url,
        token,
        sandbox_url: sandbox.url(),
        phone_number_id: sandbox.phone_number_id.clone(),
        waba_id: sandbox.waba_id.clone(),
        display_number,
        inbox_path,
        bridge,
        sandbox,
    })
}

/// Sam keeps the team's quick replies and, once Ben Okafor writes, hands his conversation to
/// the demo's agent with a note that mentions them.
async fn play_teammate(sam: &BridgeClient, number: &str) -> Result<()> {
    sam.save_quick_reply("hours", Some("We're open Monday to Saturday, 9:00 to 18:00.")).await?;
    sam.save_quick_reply("ship", Some("Yes! We ship everywhere in the EU in 3 to 5 working days, free over €50.")).await?;
    let ben = coexist_core::ConversationKey { phone_number_id: number.to_string(), contact: coexist_core::ContactKey::from_wa_id(HANDED_OVER) };
    let mut after = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let page = sam.events(after, 1000, 5).await?;
        after = page.next;
        if page.events.iter().any(|e| e.payload.to_string().contains(HANDED_OVER)) {
            sam.assign(&ben, Some(DEMO_AGENT)).await?;
            let note = format!("@{DEMO_AGENT} Ben is a regular: he bought the linen shirt in white last month. All yours!");
            sam.add_note(&ben, &note).await?;
            return Ok(());
        }
    }
    Ok(())
}

/// Ask the sandbox to play a scenario in the background (its public control route).
pub async fn start_scenario(sandbox_url: &str, name: &str) -> Result<()> {
    let resp = reqwest::Client::new()
        .post(format!("{sandbox_url}/sandbox/scenario"))
        .json(&serde_json::json!({ "name": name, "seed": 7, "wait": false }))
        .send()
        .await
        .context("starting the demo scenario")?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        anyhow::bail!("the sandbox refused scenario {name:?} ({status}): {body}");
    }
    Ok(())
}

/// Delete a demo SQLite file and its WAL companions (the demo always starts fresh).
fn remove_db(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing the old demo file {}", p.display())),
        }
    }
    Ok(())
}

/// `+1 555 555 0100` -> `+15555550100`.
fn e164(display: &str) -> String {
    format!("+{}", display.chars().filter(char::is_ascii_digit).collect::<String>())
}

fn secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_numbers_become_e164() {
        assert_eq!(super::e164("+1 555 555 0100"), "+15555550100");
    }
}
