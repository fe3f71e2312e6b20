//! The `/sandbox/...` control routes: what tests and the try-it mode use to make things happen on
//! the phone side (customers writing, the Business App replying, onboarding, offboarding, payment,
//! template reviews) and to look at what the API accepted and which webhooks went out.
//!
//! Errors are `{"error": "<what is wrong and what to do>"}` with 400 / 404 / 409.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::history::{ContactsRequest, HistoryRequest};
use crate::inbound::CustomerMessage;
use crate::sandbox::{AppEditRequest, AppMessageRequest, ControlError, Sandbox, TapRequest};
use crate::scenario::{self, ScenarioRequest};

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(
            "/sandbox/health",
            get(|| async { Json(json!({"ok": true})) }),
        )
        .route("/sandbox/customers/messages", post(customer_message))
        .route("/sandbox/customers/tap", post(customer_tap))
        .route("/sandbox/app/messages", post(app_message))
        .route("/sandbox/app/edit", post(app_edit))
        .route("/sandbox/app/revoke", post(app_revoke))
        .route("/sandbox/history", post(history))
        .route("/sandbox/contacts", post(contacts))
        .route("/sandbox/customers/unreachable", post(unreachable))
        .route("/sandbox/customers/batch", post(customer_batch))
        .route("/sandbox/webhooks/redeliver", post(redeliver))
        .route("/sandbox/account_update", post(account_update))
        .route("/sandbox/payment", get(payment).post(set_payment))
        .route("/sandbox/templates/status", post(template_status))
        .route("/sandbox/numbers", get(numbers))
        .route("/sandbox/sent", get(sent))
        .route("/sandbox/read", get(read_marks))
        .route("/sandbox/conversations", get(conversations))
        .route("/sandbox/webhooks", get(webhooks))
        .route("/sandbox/webhook", post(set_webhook))
        .route("/sandbox/scenario", post(run_scenario))
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match &self {
            ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ControlError::NotFound(_) => StatusCode::NOT_FOUND,
            ControlError::Conflict(_) => StatusCode::CONFLICT,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// Parse a JSON body into `T`, answering a clear 400 instead of axum's plain-text rejection.
/// An empty body counts as `{}`.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    let raw: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(raw).map_err(|e| {
        ControlError::BadRequest(format!("request body is not what this route expects: {e}"))
    })
}

async fn customer_message(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let m: CustomerMessage = parse(&body)?;
    Ok(Json(json!({"wamid": sb.customer_message(&m)?})))
}

/// The customer taps a reply button / list row of a sent interactive message.
async fn customer_tap(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: TapRequest = parse(&body)?;
    Ok(Json(json!({"wamid": sb.customer_tap(&req)?})))
}

async fn app_message(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let m: AppMessageRequest = parse(&body)?;
    Ok(Json(json!({"wamid": sb.app_message(&m)?})))
}

async fn app_edit(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let m: AppEditRequest = parse(&body)?;
    Ok(Json(json!({"wamid": sb.app_edit(&m)?})))
}

async fn app_revoke(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let m: AppEditRequest = parse(&body)?;
    Ok(Json(json!({"wamid": sb.app_revoke(&m)?})))
}

async fn history(State(sb): State<Arc<Sandbox>>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let req: HistoryRequest = parse(&body)?;
    Ok(Json(json!({"webhooks": sb.history(&req)?})))
}

async fn contacts(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: ContactsRequest = parse(&body)?;
    Ok(Json(json!({"contacts": sb.contacts(&req)?})))
}

#[derive(Deserialize)]
struct BatchBody {
    messages: Vec<CustomerMessage>,
}

async fn customer_batch(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: BatchBody = parse(&body)?;
    Ok(Json(json!({"wamids": sb.customer_batch(&req.messages)?})))
}

#[derive(Deserialize)]
struct RedeliverBody {
    wamid: String,
}

async fn redeliver(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: RedeliverBody = parse(&body)?;
    Ok(Json(json!({"seq": sb.redeliver(&req.wamid)?})))
}

#[derive(Deserialize)]
struct UnreachableBody {
    wa_id: String,
    #[serde(default = "yes")]
    unreachable: bool,
    #[serde(default)]
    phone_number_id: Option<String>,
}

fn yes() -> bool {
    true
}

async fn unreachable(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: UnreachableBody = parse(&body)?;
    sb.set_unreachable(req.phone_number_id.as_deref(), &req.wa_id, req.unreachable)?;
    Ok(Json(
        json!({"wa_id": req.wa_id, "unreachable": req.unreachable}),
    ))
}

#[derive(Deserialize)]
struct EventBody {
    event: String,
}

async fn account_update(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: EventBody = parse(&body)?;
    sb.account_update(&req.event)?;
    Ok(Json(json!({"ok": true, "numbers": sb.numbers()})))
}

#[derive(Deserialize)]
struct PaymentBody {
    valid: bool,
}

async fn payment(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({"valid": sb.payment_valid()}))
}

async fn set_payment(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: PaymentBody = parse(&body)?;
    sb.set_payment(req.valid);
    Ok(Json(json!({"valid": req.valid})))
}

#[derive(Deserialize)]
struct TemplateStatusBody {
    name: String,
    #[serde(default = "en_us")]
    language: String,
    event: String,
    #[serde(default)]
    reason: Option<String>,
}

fn en_us() -> String {
    "en_US".into()
}

async fn template_status(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: TemplateStatusBody = parse(&body)?;
    sb.template_status(&req.name, &req.language, &req.event, req.reason.as_deref())?;
    Ok(Json(json!({"ok": true})))
}

async fn numbers(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({"waba_id": sb.waba_id(), "numbers": sb.numbers()}))
}

async fn sent(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({"sent": sb.sent()}))
}

async fn read_marks(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({"read": sb.read_marks()}))
}

async fn conversations(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({"conversations": sb.conversations()}))
}

async fn webhooks(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    let list: Vec<Value> = sb
        .webhooks()
        .into_iter()
        .map(|w| {
            let payload: Value = serde_json::from_str(&w.body).unwrap_or(Value::Null);
            json!({"seq": w.seq, "field": w.field, "delivered": w.delivered, "attempts": w.attempts, "last_error": w.last_error, "body": w.body, "payload": payload})
        })
        .collect();
    Json(json!({"url": sb.emitter().url(), "webhooks": list}))
}

#[derive(Deserialize)]
struct WebhookBody {
    url: Option<String>,
}

async fn set_webhook(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: WebhookBody = parse(&body)?;
    if let Some(u) = &req.url {
        crate::check_url(u).map_err(ControlError::BadRequest)?;
    }
    sb.emitter().set_url(req.url.clone());
    Ok(Json(json!({"url": req.url})))
}

async fn run_scenario(
    State(sb): State<Arc<Sandbox>>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let req: ScenarioRequest = parse(&body)?;
    scenario::plan(&req.name, req.seed, 0).map_err(ControlError::BadRequest)?;
    let run = sb.next_scenario_run();
    if req.wait.unwrap_or(true) {
        let report = scenario::run(&sb, &req, run).await?;
        return Ok(Json(serde_json::to_value(report).unwrap_or(Value::Null)));
    }
    let name = req.name.clone();
    tokio::spawn(async move {
        if let Err(e) = scenario::run(&sb, &req, run).await {
            tracing::warn!(scenario = %req.name, error = %e, "scenario stopped early");
        }
    });
    Ok(Json(json!({"started": true, "name": name})))
}
