//! The Graph API client: the access token lives only here.
//!
//! Calls are retried on 5xx, timeouts/connection errors and Meta's 130429 (throughput limit)
//! with bounded exponential backoff; every other answer is final.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};

use crate::config::BridgeConfig;
use crate::limiter::Departure;
use crate::metrics::Metrics;

/// Meta's "throughput limit reached" error code.
pub const RATE_LIMIT_CODE: i64 = 130429;
/// Pages followed at most in one listing (a loop guard; 50,000 items at 100 a page).
const MAX_PAGES: usize = 500;

#[derive(Clone)]
pub struct Graph {
    http: Client,
    graph_url: String,
    base: String,
    token: String,
    attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

/// Meta's answer to one call (after retries).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// Still a retryable failure after the last attempt (5xx or 130429).
    pub transient: bool,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn error_code(&self) -> Option<i64> {
        meta_error_code(&self.body)
    }
}

/// A downloaded media file.
pub struct MediaFile {
    pub mime_type: String,
    pub bytes: axum::body::Bytes,
}

/// `error.code` of a Graph error body.
pub fn meta_error_code(body: &Value) -> Option<i64> {
    body.get("error")?.get("code")?.as_i64()
}

/// No answer from Meta at all after every attempt.
#[derive(Debug, thiserror::Error)]
#[error("Meta's Graph API did not answer after {attempts} attempts: {last}")]
pub struct Unreachable {
    pub attempts: u32,
    pub last: String,
}

impl Graph {
    pub fn new(config: &BridgeConfig) -> anyhow::Result<Self> {
        let http = Client::builder().timeout(config.graph_timeout).build()?;
        let graph_url = config.graph_url.trim_end_matches('/').to_string();
        Ok(Graph {
            base: format!("{graph_url}/{}", config.graph_version),
            graph_url,
            http,
            token: config.access_token.clone(),
            attempts: config.graph_attempts.max(1),
            base_delay: config.retry_base_delay,
            max_delay: config.retry_max_delay,
        })
    }

    /// `POST {graph_url}/{version}/{phone_number_id}/messages`, waiting for `slot` before
    /// every attempt (the per-number rate limiter).
    pub async fn send_message<F, Fut>(&self, phone_number_id: &str, message: &Value, slot: F, metrics: &Metrics) -> Result<Reply, Unreachable>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Departure>,
    {
        let url = format!("{}/{}/messages", self.base, phone_number_id);
        self.call(|| self.http.request(Method::POST, &url).json(message), slot, metrics).await
    }

    /// `POST {graph_url}/{version}/{phone_number_id}/media`: upload a file an agent sends.
    /// Meta answers `{"id": MEDIA_ID}`. Uploads do not count against the messaging throughput.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        file_name: &str,
        mime_type: axum::http::HeaderValue,
        bytes: axum::body::Bytes,
        metrics: &Metrics,
    ) -> Result<Reply, Unreachable> {
        let url = format!("{}/{}/media", self.base, phone_number_id);
        let type_text = mime_type.to_str().unwrap_or_default().to_string();
        let form = || {
            let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::CONTENT_TYPE, mime_type.clone())]);
            let file = reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
                .file_name(file_name.to_string())
                .headers(headers);
            reqwest::multipart::Form::new()
                .text("messaging_product", "whatsapp")
                .text("type", type_text.clone())
                .part("file", file)
        };
        self.call(|| self.http.post(&url).multipart(form()), || async { Departure::unlimited() }, metrics).await
    }

    /// `POST` (block) or `DELETE` (unblock) `/{phone_number_id}/block_users` for one customer.
    /// Not rate limited: it sends the customer nothing.
    pub async fn block_user(&self, phone_number_id: &str, user: &str, block: bool, metrics: &Metrics) -> Result<Reply, Unreachable> {
        let url = format!("{}/{}/block_users", self.base, phone_number_id);
        let method = if block { Method::POST } else { Method::DELETE };
        let body = json!({"messaging_product": "whatsapp", "block_users": [{"user": user}]});
        self.call(|| self.http.request(method.clone(), &url).json(&body), || async { Departure::unlimited() }, metrics).await
    }

    /// `POST /{waba_id}/message_templates`: submit a new template for review. Meta answers
    /// `{"id", "status", "category"}`.
    pub async fn create_template(&self, waba_id: &str, template: &Value, metrics: &Metrics) -> Result<Reply, Unreachable> {
        let url = format!("{}/{}/message_templates", self.base, waba_id);
        self.call(|| self.http.post(&url).json(template), || async { Departure::unlimited() }, metrics).await
    }

    /// Every page of `/{waba_id}/message_templates`. `Err(reply)` is Meta's final error.
    pub async fn templates(&self, waba_id: &str, metrics: &Metrics) -> Result<Result<Vec<Value>, Reply>, Unreachable> {
        self.every_page(format!("{}/{}/message_templates", self.base, waba_id), "template list", metrics).await
    }

    /// Every page of `/{phone_number_id}/block_users`: the number's block list, `wa_id`s in
    /// Meta's order (those blocked outside Coexist too, from the Business App say).
    pub async fn blocked_users(&self, phone_number_id: &str, metrics: &Metrics) -> Result<Result<Vec<String>, Reply>, Unreachable> {
        let pages = self.every_page(format!("{}/{}/block_users", self.base, phone_number_id), "block list", metrics).await?;
        Ok(pages.map(|users| users.iter().filter_map(|u| u.get("wa_id")?.as_str().map(str::to_string)).collect()))
    }

    /// Every item of a paged Graph listing at `first`, following Meta's `paging`. `what` names
    /// the listing in the error a page without `data` gets.
    async fn every_page(&self, first: String, what: &str, metrics: &Metrics) -> Result<Result<Vec<Value>, Reply>, Unreachable> {
        let mut url = format!("{first}?limit=100");
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let reply = self.call(|| self.http.get(&url), || async { Departure::unlimited() }, metrics).await?;
            if !reply.is_success() {
                return Ok(Err(reply));
            }
            let Some(data) = reply.body.get("data").and_then(Value::as_array) else {
                return Ok(Err(Reply {
                    status: 502,
                    body: json!({"error": {"message": format!("Meta's {what} has no `data` array"), "type": "bridge"}}),
                    transient: false,
                }));
            };
            all.extend(data.iter().cloned());
            match self.next_page(&first, &reply.body) {
                Some(next) => url = next,
                None => return Ok(Ok(all)),
            }
        }
        tracing::warn!(what, pages = MAX_PAGES, "stopped following pages");
        Ok(Ok(all))
    }

    /// A media file a customer sent: its metadata (`GET /{media_id}`), then its bytes from the
    /// URL Meta gives, fetched with the token. `Ok(Err(reply))` is Meta's refusal (an unknown or
    /// expired id). The token only goes to an https URL or to our own Graph host.
    pub async fn media(&self, media_id: &str, max_bytes: usize, metrics: &Metrics) -> Result<Result<MediaFile, Reply>, Unreachable> {
        let url = format!("{}/{media_id}", self.base);
        let reply = self.call(|| self.http.get(&url), || async { Departure::unlimited() }, metrics).await?;
        if !reply.is_success() {
            return Ok(Err(reply));
        }
        let bad = |message: String| Ok(Err(Reply { status: 502, body: json!({"error": {"message": message, "type": "bridge"}}), transient: false }));
        let Some(download) = reply.body.get("url").and_then(Value::as_str) else {
            return bad("Meta's media answer has no `url`".into());
        };
        if !(download.starts_with("https://") || download.starts_with(&format!("{}/", self.origin()))) {
            return bad("Meta's media URL is neither https nor on the Graph host; not sending the token there".into());
        }
        let unreachable = |e: reqwest::Error| Unreachable { attempts: 1, last: e.without_url().to_string() };
        let resp = self.http.get(download).bearer_auth(&self.token).send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = resp.json().await.unwrap_or_else(|_| json!({"error": {"message": format!("the media download answered HTTP {status}"), "type": "bridge"}}));
            return Ok(Err(Reply { status, body, transient: status >= 500 }));
        }
        if resp.content_length().is_some_and(|n| n as usize > max_bytes) {
            return bad(format!("the file is larger than {max_bytes} bytes"));
        }
        let mime_type = reply.body.get("mime_type").and_then(Value::as_str).unwrap_or("application/octet-stream").to_string();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if bytes.len() > max_bytes {
            return bad(format!("the file is larger than {max_bytes} bytes"));
        }
        Ok(Ok(MediaFile { mime_type, bytes }))
    }

    /// `scheme://host[:port]` of the Graph URL.
    fn origin(&self) -> &str {
        let after_scheme = self.graph_url.find("://").map_or(0, |i| i + 3);
        let end = self.graph_url[after_scheme..].find('/').map_or(self.graph_url.len(), |i| after_scheme + i);
        &self.graph_url[..end]
    }

    /// The next page: Meta's `paging.next` when it points at our Graph URL (the token must not
    /// go anywhere else), otherwise rebuilt from `paging.cursors.after`. None on the last page.
    fn next_page(&self, first: &str, body: &Value) -> Option<String> {
        let paging = body.get("paging")?;
        let next = paging.get("next")?.as_str()?;
        if next.starts_with(&format!("{}/", self.graph_url)) {
            return Some(next.to_string());
        }
        let after = paging.get("cursors")?.get("after")?.as_str()?;
        let encoded: String = url_encode(after);
        Some(format!("{first}?limit=100&after={encoded}"))
    }

    async fn call<B, F, Fut>(&self, build: B, slot: F, metrics: &Metrics) -> Result<Reply, Unreachable>
    where
        B: Fn() -> RequestBuilder,
        F: Fn() -> Fut,
        Fut: Future<Output = Departure>,
    {
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            if attempt > 1 {
                Metrics::inc(&metrics.graph_retries);
                tokio::time::sleep(self.backoff(attempt - 1)).await;
            }
            let departure = slot().await;
            match build().bearer_auth(&self.token).send().await {
                Ok(resp) => {
                    departure.answered();
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    let body = serde_json::from_str(&text).unwrap_or_else(|_| {
                        json!({"error": {"message": format!("Meta answered HTTP {status} with a non-JSON body"), "type": "bridge"}})
                    });
                    let transient = status >= 500 || meta_error_code(&body) == Some(RATE_LIMIT_CODE);
                    if transient && attempt < self.attempts {
                        tracing::warn!(status, attempt, code = ?meta_error_code(&body), "Graph call failed; retrying");
                        last = format!("HTTP {status}");
                        continue;
                    }
                    return Ok(Reply { status, body, transient });
                }
                Err(e) => {
                    // Without the URL: it is ours, but keep logs free of anything request-shaped.
                    last = e.without_url().to_string();
                    tracing::warn!(attempt, error = %last, "Graph call got no answer");
                }
            }
        }
        Err(Unreachable { attempts: self.attempts, last })
    }

    /// `base * 2^(n-1)`, capped, with up to 25% random jitter so retries of many sends spread.
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << (retry - 1).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0.0..0.25);
        capped + capped.mul_f64(jitter)
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let mut c = BridgeConfig::new("x.db");
        c.graph_url = "http://127.0.0.1:1".into();
        Graph::new(&c).unwrap()
    }

    #[test]
    fn next_page_never_leaves_the_graph_url() {
        let g = graph();
        let first = "http://127.0.0.1:1/v21.0/9/message_templates";
        let own = json!({"paging": {"next": "http://127.0.0.1:1/v21.0/9/message_templates?after=X", "cursors": {"after": "X"}}});
        assert_eq!(g.next_page(first, &own).unwrap(), "http://127.0.0.1:1/v21.0/9/message_templates?after=X");
        let foreign = json!({"paging": {"next": "http://evil.example/steal", "cursors": {"after": "a b"}}});
        assert_eq!(g.next_page(first, &foreign).unwrap(), format!("{first}?limit=100&after=a%20b"));
        let last = json!({"paging": {"cursors": {"after": "Z"}}});
        assert_eq!(g.next_page(first, &last), None);
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let g = graph();
        assert!(g.backoff(1) >= Duration::from_millis(250) && g.backoff(1) < Duration::from_millis(320));
        assert!(g.backoff(2) >= Duration::from_millis(500));
        assert!(g.backoff(30) <= Duration::from_secs(5));
    }
}
