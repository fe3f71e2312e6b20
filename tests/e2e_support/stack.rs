//! The real simulated WhatsApp (sandbox) and the real bridge, in this process, wired together:
//! sandbox webhooks go to the bridge, bridge sends go to the sandbox's Graph API.

use std::path::Path;

use anyhow::Context;
use coexist_bridge::{BridgeConfig, Role, RunningBridge};
use coexist_core::{NumberMode, NumberSettings};
use coexist_sandbox::{RunningSandbox, SandboxConfig};
use serde_json::{json, Value};

const APP_SECRET: &str = "e2e-app-secret";
const ACCESS_TOKEN: &str = "e2e-access-token";
pub const AGENT: &str = "ana";

pub struct Stack {
    pub sandbox: RunningSandbox,
    pub bridge: RunningBridge,
    /// The agent's bearer token for `COEXIST_TOKEN`.
    pub token: String,
    http: reqwest::Client,
}

impl Stack {
    pub async fn start(dir: &Path) -> anyhow::Result<Stack> {
        let bridge_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let bridge_addr = bridge_listener.local_addr()?;
        let mut sc = SandboxConfig::new(APP_SECRET, ACCESS_TOKEN);
        sc.webhook_url = Some(format!("http://{bridge_addr}/webhook"));
        let sandbox =
            coexist_sandbox::start(sc, tokio::net::TcpListener::bind("127.0.0.1:0").await?).await?;

        let db = dir.join("bridge.db");
        let mut bc = BridgeConfig::new(&db);
        bc.app_secret = APP_SECRET.into();
        bc.verify_token = "e2e-verify".into();
        bc.access_token = ACCESS_TOKEN.into();
        bc.graph_url = sandbox.url();
        let token =
            coexist_bridge::admin::add_user(&db, AGENT, Role::Agent).context("adding the agent")?;
        coexist_bridge::admin::add_number(
            &db,
            NumberSettings {
                phone_number_id: sandbox.phone_number_id.clone(),
                waba_id: sandbox.waba_id.clone(),
                // `+1 555 555 0100` -> `+15555550100` (the bridge wants E.164).
                display_number: format!(
                    "+{}",
                    sandbox
                        .display_number
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect::<String>()
                ),
                mode: NumberMode::Coexistence,
                tier_mps: 20,
            },
        )
        .context("adding the number")?;
        let bridge = coexist_bridge::start(bc, bridge_listener).await?;
        Ok(Stack {
            sandbox,
            bridge,
            token,
            http: reqwest::Client::new(),
        })
    }

    pub fn bridge_url(&self) -> String {
        format!("http://{}", self.bridge.addr)
    }

    /// POST a sandbox control route; returns its JSON answer.
    pub async fn control(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.sandbox.url()))
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "sandbox {path} answered {status}: {text}"
        );
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POST to the sandbox's Graph API as the business (its access token); the JSON answer.
    pub async fn graph_post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(format!("{}/v21.0{path}", self.sandbox.url()))
            .bearer_auth(ACCESS_TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "Graph {path} answered {status}: {text}");
        Ok(serde_json::from_str(&text)?)
    }

    /// A customer writes to the business (optionally backdated).
    pub async fn customer_says(
        &self,
        from: &str,
        name: &str,
        text: &str,
        timestamp: Option<i64>,
    ) -> anyhow::Result<String> {
        let mut body = json!({ "from": from, "name": name, "type": "text", "text": text });
        if let Some(ts) = timestamp {
            body["timestamp"] = json!(ts);
        }
        let answer = self.control("/sandbox/customers/messages", body).await?;
        Ok(answer["wamid"].as_str().unwrap_or_default().to_string())
    }

    /// Someone replies from the WhatsApp Business App on the phone (an echo).
    pub async fn app_replies(&self, to: &str, text: &str) -> anyhow::Result<Value> {
        self.control("/sandbox/app/messages", json!({ "to": to, "text": text }))
            .await
    }

    /// Every Graph send the sandbox accepted.
    pub async fn sent(&self) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}/sandbox/sent", self.sandbox.url()))
            .send()
            .await?
            .json()
            .await?)
    }

    pub async fn shutdown(self) {
        self.bridge.shutdown().await;
        self.sandbox.shutdown().await;
    }
}
