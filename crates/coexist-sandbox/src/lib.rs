//! A faithful simulated WhatsApp Cloud API for a coexistence number: the test double for every
//! end-to-end test and the product's try-it mode.
//!
//! - Graph subset (`/{version}/{phone_number_id}/messages`, `/{version}/{waba_id}/message_templates`,
//!   ...) with Meta's success and error bodies and Meta's rules and codes: 24 h window (72 h after a
//!   referral) → 131047 as an async `failed` status; 20 mps → 130429; pair rate → 131056; unknown
//!   template → 132001; parameter count → 132000; invalid payment → 131042 (async); bad token → 190.
//! - Block Users API (`/{version}/{phone_number_id}/block_users`: block, unblock, list): only users
//!   who wrote in the last 24 h → per-user 131047; self → 131021; 64,000 users → 139101; more than
//!   1,000 in a request → 130429; partial failures → 139100. A send to a blocked user → 131026
//!   (synchronous, HTTP 400); a blocked customer's messages never reach the business.
//! - Interactive reply-button and list sends checked against Meta's rules (missing field → 100,
//!   lengths, counts, unique titles/ids → 131009 with `details`); the simulated customer taps them
//!   (`POST /sandbox/customers/tap`, or `SandboxConfig::auto_tap`) and the business gets Meta's
//!   `button_reply` / `list_reply` message with `context`.
//! - Signed webhooks (`X-Hub-Signature-256`) from an ordered queue that retries until delivered.
//! - `/sandbox/...` control routes and seedable scenarios.
//!
//! ```no_run
//! # async fn demo() -> Result<(), coexist_sandbox::SandboxError> {
//! let mut config = coexist_sandbox::SandboxConfig::new("app-secret", "token");
//! config.webhook_url = Some("http://127.0.0.1:9000/webhook".into());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let sandbox = coexist_sandbox::start(config, listener).await?;
//! println!("graph at {} phone_number_id {}", sandbox.url(), sandbox.phone_number_id);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

pub mod config;
pub mod control;
pub mod emitter;
pub mod error;
pub mod graph;
pub mod history;
pub mod ids;
pub mod inbound;
pub mod interactive;
pub mod media;
pub mod paging;
pub mod payloads;
pub mod sandbox;
pub mod scenario;
pub mod send;
pub mod state;
pub mod templates;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{NumberMode, NumberSpec, SandboxConfig, StatusDelays};
pub use emitter::{signature, WebhookRecord};
pub use error::GraphError;
pub use inbound::CustomerMessage;
pub use interactive::{InteractiveReply, ReplyKind};
pub use sandbox::{AppEditRequest, AppMessageRequest, ControlError, Sandbox, TapRequest};
pub use scenario::{ScenarioReport, ScenarioRequest, SCENARIOS};
pub use state::{Customer, Outcome, Owner, SentRecord};

/// Why the sandbox could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox configuration: {0}")]
    Config(String),
    #[error("sandbox I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// A webhook URL must be absolute http(s).
pub(crate) fn check_url(u: &str) -> Result<(), String> {
    match reqwest::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(format!(
            "webhook URL {u:?} must be an absolute http:// or https:// URL"
        )),
    }
}

fn check_config(c: &SandboxConfig) -> Result<(), SandboxError> {
    let bad = |m: &str| Err(SandboxError::Config(m.to_string()));
    if c.app_secret.is_empty() {
        return bad("app_secret is empty; webhooks must be signed with a secret");
    }
    if c.access_token.is_empty() {
        return bad("access_token is empty; the Graph routes need a token to check");
    }
    if c.numbers.is_empty() {
        return bad("numbers is empty; give at least one NumberSpec");
    }
    if let Some(u) = &c.webhook_url {
        check_url(u).map_err(SandboxError::Config)?;
    }
    Ok(())
}

/// A sandbox serving on its listener until `shutdown`.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    /// The default (first) number's id, WABA id and display number (`+1 555 555 0100`).
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    sandbox: Arc<Sandbox>,
    server: JoinHandle<()>,
    emitter_task: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningSandbox {
    /// `http://ADDR`: the Graph base URL (append `/v21.0/...`) and the control base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The simulated API, for calling its methods in-process.
    pub fn sandbox(&self) -> &Arc<Sandbox> {
        &self.sandbox
    }

    /// Point webhook delivery somewhere else (or pause it with `None`). Queued webhooks follow.
    pub fn set_webhook_url(&self, url: Option<String>) -> Result<(), SandboxError> {
        if let Some(u) = &url {
            check_url(u).map_err(SandboxError::Config)?;
        }
        self.sandbox.emitter().set_url(url);
        Ok(())
    }

    /// Run a scenario to its end at real pace, now.
    pub async fn run_scenario(
        &self,
        name: &str,
        seed: u64,
    ) -> Result<ScenarioReport, SandboxError> {
        self.run_scenario_with(ScenarioRequest {
            name: name.into(),
            seed,
            now: None,
            pace: None,
            wait: Some(true),
        })
        .await
    }

    /// Run a scenario with a pinned `now` and/or `pace` (0 = no pauses).
    pub async fn run_scenario_with(
        &self,
        req: ScenarioRequest,
    ) -> Result<ScenarioReport, SandboxError> {
        let run = self.sandbox.next_scenario_run();
        Ok(scenario::run(&self.sandbox, &req, run).await?)
    }

    /// Stop serving and stop delivering webhooks (undelivered ones stay in the log).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        self.emitter_task.abort();
        let _ = (&mut self.emitter_task).await;
    }
}

/// The axum app (Graph + control routes) over a sandbox, for embedding in another server.
pub fn router(sandbox: Arc<Sandbox>) -> axum::Router {
    graph::routes().merge(control::routes()).with_state(sandbox)
}

/// Start a sandbox on `listener`. Serving and webhook delivery run in spawned tasks.
pub async fn start(
    config: SandboxConfig,
    listener: TcpListener,
) -> Result<RunningSandbox, SandboxError> {
    check_config(&config)?;
    let addr = listener.local_addr()?;
    let backoff = emitter::Backoff {
        initial: config.retry_initial,
        max: config.retry_max,
    };
    let (emitter, emitter_task) = emitter::Emitter::start(
        config.webhook_url.clone(),
        config.app_secret.clone(),
        backoff,
    );
    let first = config.numbers[0].clone();
    let waba_id = config.waba_id.clone();
    let sandbox = Arc::new(Sandbox::new(config, emitter));
    let app = router(sandbox.clone());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox {
        addr,
        phone_number_id: first.phone_number_id,
        waba_id,
        display_number: first.display_number,
        sandbox,
        server,
        emitter_task,
        stop: Some(stop_tx),
    })
}
