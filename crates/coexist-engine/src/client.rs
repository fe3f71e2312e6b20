//! `BridgeClient`: the desktop's only way to talk to the bridge (HTTP + bearer token).
//!
//! Every answer is classified so callers can decide what to do: an auth problem needs a new
//! token, an offline bridge means "queue and retry", a Meta error means "tell the agent why".

use std::time::Duration;

use coexist_core::{ConversationKey, NumberSettings, Presence, RelayEvent};
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use reqwest::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ClientError, SendError};

/// Route paths on the bridge, in one place so a change of the bridge's routes is one edit.
mod routes {
    pub const EVENTS: &str = "/v1/events";
    pub const STREAM: &str = "/v1/stream";
    pub const NUMBERS: &str = "/v1/numbers";
    pub const ME: &str = "/v1/me";
    pub fn messages(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/messages")
    }
    pub fn media(media_id: &str) -> String {
        format!("/v1/media/{media_id}")
    }
    pub fn upload(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/media")
    }
    pub fn sync_templates(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/templates/sync")
    }
    pub fn read(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/read")
    }
    pub const TEAM: &str = "/v1/team";
    pub fn quick_reply(shortcut: &str) -> String {
        format!("/v1/quick-replies/{shortcut}")
    }
    pub fn assignee(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/assignee")
    }
    pub fn done(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/done")
    }
    pub fn labels(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/labels")
    }
    pub fn blocked(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/blocked")
    }
    pub fn block_list(phone_number_id: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/blocked")
    }
    pub fn presence(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/presence")
    }
    pub fn notes(phone_number_id: &str, contact: &str) -> String {
        format!("/v1/numbers/{phone_number_id}/conversations/{contact}/notes")
    }
}

/// The header that carries an outbox item's idempotency key; the bridge dedupes by it.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// How long the SSE stream may be silent (keep-alives included) before it counts as broken.
pub const STREAM_IDLE: Duration = Duration::from_secs(45);

/// What the event stream carries: log entries, and teammates writing to customers right now.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamItem {
    Relay(RelayEvent),
    Presence(Presence),
}

/// One page of `GET /v1/events`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<RelayEvent>,
    /// The cursor to ask with next (`after=next`).
    pub next: i64,
    /// The newest seq the bridge had (0 from a bridge too old to say).
    #[serde(default)]
    pub last_seq: i64,
}

/// The bridge accepted a send and Meta gave it a wamid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendAccepted {
    pub wamid: String,
}

/// The agent a token belongs to (`GET /v1/me`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    /// `admin`, `agent` or `manager`.
    pub role: String,
}

/// Someone a conversation can be assigned to (`GET /v1/team`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub name: String,
    /// `admin` or `agent`.
    pub role: String,
}

/// A downloaded media file.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaFile {
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// Connection to one bridge as one agent.
#[derive(Clone, Debug)]
pub struct BridgeClient {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl BridgeClient {
    /// `base_url` like `http://127.0.0.1:8080` (a trailing slash is fine).
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a default reqwest client always builds");
        BridgeClient { base_url: base_url.into().trim_end_matches('/').to_string(), token: token.into(), http }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.token)
    }

    /// A request to `path` with this client's token (for sibling modules such as `admin`).
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(&self.token)
    }

    /// Long-poll the event log: events with `seq > after`, waiting up to `wait_secs` when none.
    pub async fn events(&self, after: i64, limit: u32, wait_secs: u32) -> Result<EventsPage, ClientError> {
        let resp = self
            .get(routes::EVENTS)
            .query(&[("after", after.to_string()), ("limit", limit.to_string()), ("wait", wait_secs.to_string())])
            // The server holds the request up to `wait_secs`; give it room to answer.
            .timeout(Duration::from_secs(u64::from(wait_secs) + 15))
            .send()
            .await
            .map_err(ClientError::from_transport)?;
        json_or_error(resp).await
    }

    /// Subscribe to the SSE stream from `after`. The stream ends (or yields an error) when the
    /// connection drops; the caller reconnects from its own cursor, which is the last event applied.
    pub async fn stream(
        &self,
        after: i64,
    ) -> Result<impl Stream<Item = Result<StreamItem, ClientError>> + Send + 'static, ClientError> {
        let resp = self
            .get(routes::STREAM)
            .query(&[("after", after.to_string())])
            .header("Last-Event-ID", after.to_string())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(ClientError::from_transport)?;
        let resp = ok_or_error(resp).await?;
        // A half-dead connection (no FIN) would otherwise hang forever: the bridge sends a
        // keep-alive comment every ~15 s, so silence longer than STREAM_IDLE means it is gone.
        let bytes = tokio_stream::StreamExt::timeout(resp.bytes_stream(), STREAM_IDLE).map(|item| match item {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no data from the bridge for {} s", STREAM_IDLE.as_secs())),
        });
        let events = bytes.eventsource().filter_map(|item| async move {
            match item {
                Err(e) => Some(Err(ClientError::Offline(format!("the event stream broke: {e}")))),
                Ok(ev) => parse_sse_event(&ev.event, &ev.data),
            }
        });
        Ok(events)
    }

    /// Send one Graph API message through the bridge. The same `idempotency_key` always yields
    /// the same outcome: the bridge sends at most once per key.
    pub async fn send(
        &self,
        phone_number_id: &str,
        message: &Value,
        idempotency_key: &str,
    ) -> Result<SendAccepted, SendError> {
        let request = self
            .request(reqwest::Method::POST, &routes::messages(phone_number_id))
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .json(message)
            .timeout(Duration::from_secs(60));
        let body = send_answer(request).await?;
        parse_accepted(&body).map_err(SendError::Rejected)
    }

    /// Ask the bridge to re-fetch the number's templates from Meta; they arrive as a relay event.
    pub async fn sync_templates(&self, phone_number_id: &str) -> Result<Value, ClientError> {
        let resp = self
            .http
            .post(self.url(&routes::sync_templates(phone_number_id)))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(ClientError::from_transport)?;
        json_or_error(resp).await
    }

    /// Mark a customer's message read at Meta through the bridge: the customer sees blue ticks
    /// on it and on every earlier message of the chat (and "typing…" with `typing`).
    pub async fn mark_read(&self, phone_number_id: &str, wamid: &str, typing: bool) -> Result<(), ClientError> {
        let resp = self
            .http
            .post(self.url(&routes::read(phone_number_id)))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({ "message_id": wamid, "typing": typing }))
            .send()
            .await
            .map_err(ClientError::from_transport)?;
        ok_or_error(resp).await.map(drop)
    }

    /// The numbers this bridge serves.
    pub async fn numbers(&self) -> Result<Vec<NumberSettings>, ClientError> {
        let resp = self.get(routes::NUMBERS).send().await.map_err(ClientError::from_transport)?;
        json_or_error(resp).await
    }

    /// A file a customer sent (by the media id in the message), fetched by the bridge from Meta.
    pub async fn media(&self, media_id: &str) -> Result<MediaFile, ClientError> {
        if media_id.is_empty() || !media_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ClientError::Http { status: 400, message: format!("{media_id:?} is not a media id: Meta's are numeric") });
        }
        let resp = self.get(&routes::media(media_id)).send().await.map_err(ClientError::from_transport)?;
        let resp = ok_or_error(resp).await?;
        let mime_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Offline(format!("the file did not arrive whole: {e}")))?;
        Ok(MediaFile { mime_type, bytes: bytes.to_vec() })
    }

    /// Upload a file for `phone_number_id` through the bridge (Meta's `POST /{id}/media`);
    /// the answer is the media id a message then names. Nothing is sent to the customer yet.
    pub async fn upload_media(&self, phone_number_id: &str, file_name: &str, mime_type: &str, bytes: Vec<u8>) -> Result<String, SendError> {
        let request = self
            .request(reqwest::Method::POST, &routes::upload(phone_number_id))
            .query(&[("filename", file_name)])
            .header(reqwest::header::CONTENT_TYPE, mime_type)
            .body(bytes)
            .timeout(Duration::from_secs(300));
        let body = send_answer(request).await?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match answer.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(SendError::Rejected(format!("the bridge's upload answer has no media id: {}", String::from_utf8_lossy(&body)))),
        }
    }

    /// Who conversations can be assigned to (agents and admins).
    pub async fn team(&self) -> Result<Vec<TeamMember>, ClientError> {
        let resp = self.get(routes::TEAM).send().await.map_err(ClientError::from_transport)?;
        json_or_error(resp).await
    }

    /// Assign a conversation to a teammate, or hand it back to the team (`None`). Every desktop
    /// sees it through the relay.
    pub async fn assign(&self, conversation: &ConversationKey, assignee: Option<&str>) -> Result<(), ClientError> {
        let path = routes::assignee(&conversation.phone_number_id, conversation.contact.as_str());
        team_change(self.request(reqwest::Method::PUT, &path).json(&serde_json::json!({ "assignee": assignee }))).await
    }

    /// Mark a conversation done (or take it up again), until `until_ms` when given (snoozed);
    /// the customer writing reopens it.
    pub async fn mark_done(&self, conversation: &ConversationKey, done: bool, until_ms: Option<i64>) -> Result<(), ClientError> {
        let path = routes::done(&conversation.phone_number_id, conversation.contact.as_str());
        let body = serde_json::json!({ "done": done, "until_ms": until_ms });
        team_change(self.request(reqwest::Method::PUT, &path).json(&body)).await
    }

    /// Put `label` on a conversation (`on`) or take it off; every desktop sees it through the relay.
    pub async fn label(&self, conversation: &ConversationKey, label: &str, on: bool) -> Result<(), ClientError> {
        let path = routes::labels(&conversation.phone_number_id, conversation.contact.as_str());
        team_change(self.request(reqwest::Method::PUT, &path).json(&serde_json::json!({ "label": label, "on": on }))).await
    }

    /// Block the conversation's customer on its number (`false`: unblock), through Meta; every
    /// desktop sees it through the relay. Meta's refusal comes back in words.
    pub async fn set_blocked(&self, conversation: &ConversationKey, blocked: bool) -> Result<(), ClientError> {
        let path = routes::blocked(&conversation.phone_number_id, conversation.contact.as_str());
        team_change(self.request(reqwest::Method::PUT, &path).json(&serde_json::json!({ "blocked": blocked }))).await
    }

    /// The number's block list as Meta keeps it: `wa_id`s, blocked in Coexist or elsewhere.
    pub async fn blocked_users(&self, phone_number_id: &str) -> Result<Vec<String>, ClientError> {
        #[derive(Deserialize)]
        struct BlockList {
            blocked: Vec<String>,
        }
        let resp = self.get(&routes::block_list(phone_number_id)).send().await.map_err(ClientError::from_transport)?;
        Ok(json_or_error::<BlockList>(resp).await?.blocked)
    }

    /// Save the team's quick reply `shortcut` (replacing one of that name), or remove it (`None`).
    pub async fn save_quick_reply(&self, shortcut: &str, text: Option<&str>) -> Result<(), ClientError> {
        let path = routes::quick_reply(shortcut.trim().trim_start_matches('/'));
        team_change(match text {
            Some(text) => self.request(reqwest::Method::PUT, &path).json(&serde_json::json!({ "text": text })),
            None => self.request(reqwest::Method::DELETE, &path),
        })
        .await
    }

    /// Tell the team this agent is writing to the conversation's customer (not stored).
    pub async fn presence(&self, conversation: &ConversationKey) -> Result<(), ClientError> {
        let path = routes::presence(&conversation.phone_number_id, conversation.contact.as_str());
        team_change(self.request(reqwest::Method::POST, &path)).await
    }

    /// Leave a note for the team on a conversation (never sent to the customer).
    pub async fn add_note(&self, conversation: &ConversationKey, text: &str) -> Result<(), ClientError> {
        let path = routes::notes(&conversation.phone_number_id, conversation.contact.as_str());
        team_change(self.request(reqwest::Method::POST, &path).json(&serde_json::json!({ "text": text }))).await
    }

    /// Who this token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        let resp = self.get(routes::ME).send().await.map_err(ClientError::from_transport)?;
        json_or_error(resp).await
    }
}

/// One SSE frame to a relay event or a presence notice. Frames with no data (keep-alives) or of
/// another kind are skipped; a frame that claims to be an event but does not parse is an error
/// (never silently dropped). A presence notice that does not parse is skipped: it is worth
/// nothing a few seconds later, and losing it loses nothing.
fn parse_sse_event(kind: &str, data: &str) -> Option<Result<StreamItem, ClientError>> {
    if data.trim().is_empty() {
        return None;
    }
    match kind {
        "" | "message" | "event" | "relay" => Some(
            serde_json::from_str(data)
                .map(StreamItem::Relay)
                .map_err(|e| ClientError::Decode(format!("a streamed event is not a relay event: {e}"))),
        ),
        "presence" => serde_json::from_str(data).ok().map(|p| Ok(StreamItem::Presence(p))),
        _ => None,
    }
}

/// Send a team route's request: what it recorded comes back through the relay, not in the
/// answer.
async fn team_change(request: reqwest::RequestBuilder) -> Result<(), ClientError> {
    let resp = request.send().await.map_err(ClientError::from_transport)?;
    ok_or_error(resp).await.map(drop)
}

/// Send a request whose failure the agent must hear about as a [`SendError`]: the answer's
/// body when the bridge said yes, its refusal (or "offline") classified otherwise.
async fn send_answer(request: reqwest::RequestBuilder) -> Result<Vec<u8>, SendError> {
    let resp = request.send().await.map_err(|e| SendError::Offline(ClientError::from_transport(e).to_string()))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| SendError::Offline(e.to_string()))?;
    if status.is_success() {
        Ok(body.to_vec())
    } else {
        Err(SendError::from_answer(status.as_u16(), &body))
    }
}

fn parse_accepted(body: &[u8]) -> Result<SendAccepted, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("the bridge's answer is not JSON: {e}"))?;
    // Accept the bridge's own `{"wamid":..}` and Meta's `{"messages":[{"id":..}]}` shapes.
    let wamid = v
        .get("wamid")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/messages/0/id").and_then(Value::as_str))
        .ok_or_else(|| format!("the bridge accepted the send but gave no wamid: {v}"))?;
    Ok(SendAccepted { wamid: wamid.to_string() })
}

async fn ok_or_error(resp: Response) -> Result<Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.bytes().await.unwrap_or_default();
    Err(ClientError::from_status(status, &body))
}

async fn json_or_error<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, ClientError> {
    let resp = ok_or_error(resp).await?;
    let body = resp.bytes().await.map_err(|e| ClientError::Offline(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|e| ClientError::Decode(format!("unexpected answer from the bridge: {e}")))
}

impl ClientError {
    pub(crate) fn from_transport(e: reqwest::Error) -> Self {
        if e.is_decode() {
            ClientError::Decode(e.to_string())
        } else {
            ClientError::Offline(format!("cannot reach the bridge: {e}"))
        }
    }

    pub(crate) fn from_status(status: StatusCode, body: &[u8]) -> Self {
        let message = crate::error::error_message(body);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ClientError::Auth(message),
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => ClientError::Offline(format!("bridge answered {s}: {message}")),
            s => ClientError::Http { status: s.as_u16(), message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_keepalive_and_foreign_events_are_skipped() {
        assert!(parse_sse_event("message", "").is_none());
        assert!(parse_sse_event("ping", "{}").is_none());
        assert!(matches!(parse_sse_event("message", "not json"), Some(Err(ClientError::Decode(_)))));
        let ev = r#"{"seq":3,"kind":"webhook","received_at_ms":1,"payload":{}}"#;
        assert!(matches!(parse_sse_event("", ev), Some(Ok(StreamItem::Relay(e))) if e.seq == 3));
    }

    #[test]
    fn presence_notices_are_read_and_a_broken_one_is_skipped() {
        let notice = r#"{"phone_number_id":"1","contact":"155","agent":"ben","until_ms":9}"#;
        assert!(matches!(parse_sse_event("presence", notice), Some(Ok(StreamItem::Presence(p))) if p.agent == "ben"));
        assert!(parse_sse_event("presence", "{\"agent\": 1}").is_none());
    }

    #[test]
    fn accepted_answer_shapes() {
        assert_eq!(parse_accepted(br#"{"wamid":"wamid.A"}"#).unwrap().wamid, "wamid.A");
        assert_eq!(parse_accepted(br#"{"messages":[{"id":"wamid.B"}]}"#).unwrap().wamid, "wamid.B");
        assert!(parse_accepted(br#"{"ok":true}"#).is_err());
    }

    #[test]
    fn base_url_trailing_slash_is_trimmed() {
        let c = BridgeClient::new("http://x:1/", "t");
        assert_eq!(c.url("/v1/me"), "http://x:1/v1/me");
    }
}
