//! The Graph API subset: `POST /{version}/{phone_number_id}/messages`, `POST .../media` (upload),
//! `GET`/`POST /{version}/{waba_id}/message_templates` (paged list; create), `GET /{version}/{waba_id}/phone_numbers`,
//! `GET /{version}/{phone_number_id}`, `POST`/`DELETE`/`GET /{version}/{phone_number_id}/block_users`
//! (block, unblock, list). Every answer, good or bad, is shaped like Meta's.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::GraphError;
use crate::paging::Cursors;
use crate::sandbox::{number_listing, Sandbox};

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/{version}/{id}/messages", post(send))
        .route("/{version}/{id}/media", post(upload_media).layer(DefaultBodyLimit::max(MAX_UPLOAD_REQUEST)))
        .route("/{version}/{id}/message_templates", get(message_templates).post(submit_template))
        .route("/{version}/{id}/phone_numbers", get(phone_numbers))
        .route(
            "/{version}/{id}/block_users",
            post(block_users).delete(unblock_users).get(blocked_users),
        )
        .route("/{version}/{id}", get(object))
        .route("/media-download/{id}", get(media_download))
}

fn graph_error(sb: &Sandbox, e: GraphError) -> Response {
    let mut resp = (e.http, Json(e.body(&sb.fbtrace_id()))).into_response();
    if e.code == 190 {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot parse access token\""),
        );
    }
    resp
}

/// Meta accepts the token as `Authorization: Bearer T` or as `?access_token=T`.
fn token<'a>(headers: &'a HeaderMap, query: &'a HashMap<String, String>) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .or_else(|| query.get("access_token").map(String::as_str))
}

fn check_version(version: &str) -> Result<(), GraphError> {
    let ok = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .map(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        })
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        let mut e = GraphError::invalid_parameter(format!(
            "Unknown API version {version:?}; use one like v21.0"
        ));
        e.code = 2500;
        e.message = format!("Unknown path components: /{version}");
        Err(e)
    }
}

/// A Graph request that passed Meta's first checks: the token (first, as Meta does), then the
/// API version. Every Graph handler takes one; a failed check answers Meta's error body.
struct GraphCall {
    sb: Arc<Sandbox>,
    version: String,
    /// The object the path names: a phone number id or the WABA id.
    id: String,
    query: HashMap<String, String>,
    host: String,
}

impl FromRequestParts<Arc<Sandbox>> for GraphCall {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, sb: &Arc<Sandbox>) -> Result<Self, Response> {
        let reject = |e| graph_error(sb, e);
        let Path((version, id)) = Path::<(String, String)>::from_request_parts(parts, sb)
            .await
            .map_err(|e| reject(GraphError::invalid_parameter(e.body_text())))?;
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, sb)
            .await
            .map_err(|e| reject(GraphError::invalid_parameter(e.body_text())))?;
        sb.check_token(token(&parts.headers, &query)).map_err(reject)?;
        check_version(&version).map_err(reject)?;
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
        Ok(GraphCall { sb: sb.clone(), version, id, query, host })
    }
}

impl GraphCall {
    /// Meta's answer: the JSON on success, the error body otherwise.
    fn answer(&self, result: Result<Value, GraphError>) -> Response {
        self.answer_with(result.map(|v| (StatusCode::OK, v)))
    }

    /// Meta's answer when a body comes with its own status: `block_users` answers 400 when some
    /// users failed, with a body that still lists the ones that succeeded.
    fn answer_with(&self, result: Result<(StatusCode, Value), GraphError>) -> Response {
        match result {
            Ok((status, v)) => (status, Json(v)).into_response(),
            Err(e) => graph_error(&self.sb, e),
        }
    }

    /// The call must name the WABA (template and number listings live there).
    fn require_waba(&self, method: &str) -> Result<(), GraphError> {
        if self.id == self.sb.waba_id() {
            Ok(())
        } else {
            Err(GraphError::unknown_object(&self.id, method))
        }
    }
}

fn json_body(body: &[u8]) -> Result<Value, GraphError> {
    serde_json::from_slice(body).map_err(|err| GraphError::invalid_parameter(format!("The request body is not valid JSON: {err}")))
}

async fn send(call: GraphCall, body: Bytes) -> Response {
    call.answer(json_body(&body).and_then(|value| call.sb.send(&call.id, &value)))
}

/// Meta's largest file (a 100 MB document) and the form around it.
const MAX_UPLOAD_REQUEST: usize = 101 * 1024 * 1024;

/// `POST /{version}/{phone_number_id}/media`: a multipart form with `messaging_product`,
/// `type` (the file's MIME type) and `file`.
async fn upload_media(call: GraphCall, form: Multipart) -> Response {
    let result = match read_upload_form(form).await {
        Ok((mime, bytes)) => call.sb.upload_media(&call.id, &mime, bytes),
        Err(e) => Err(e),
    };
    call.answer(result)
}

async fn read_upload_form(mut form: Multipart) -> Result<(String, Bytes), GraphError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| GraphError::invalid_parameter(format!("The upload form could not be read: {}", e.body_text()));
    let (mut product, mut declared, mut file) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "messaging_product" => product = Some(field.text().await.map_err(unreadable)?),
            "type" => declared = Some(field.text().await.map_err(unreadable)?),
            "file" => {
                let part_type = field.content_type().map(str::to_string);
                file = Some((part_type, field.bytes().await.map_err(unreadable)?));
            }
            _ => {}
        }
    }
    match product.as_deref() {
        Some("whatsapp") => {}
        Some(other) => return Err(GraphError::invalid_value(format!("messaging_product must be whatsapp, got {other:?}"))),
        None => return Err(GraphError::missing_parameter("The parameter messaging_product is required.")),
    }
    let (part_type, bytes) = file.ok_or_else(|| GraphError::missing_parameter("The parameter file is required."))?;
    let mime = declared.or(part_type).ok_or_else(|| GraphError::missing_parameter("The parameter type is required."))?;
    Ok((mime, bytes))
}

async fn object(call: GraphCall) -> Response {
    let (sb, id) = (&call.sb, &call.id);
    let found = sb
        .number_info(id)
        .or_else(|| sb.media_info(id, format!("http://{}/media-download/{id}", call.host)))
        .or_else(|| {
            (*id == sb.waba_id()).then(|| json!({"id": id, "name": "Sandbox Shop", "currency": "USD", "timezone_id": "1", "message_template_namespace": "sandbox_ns"}))
        });
    call.answer(found.ok_or_else(|| GraphError::unknown_object(id, "get")))
}

/// The download URL of a media file: the bytes, to a request with the access token.
async fn media_download(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = sb.check_token(token(&headers, &query)) {
        return graph_error(&sb, e);
    }
    match sb.media_file(&id) {
        Some((mime, bytes)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => graph_error(&sb, GraphError::unknown_object(&id, "get")),
    }
}

async fn phone_numbers(call: GraphCall) -> Response {
    call.answer(call.require_waba("get").map(|()| {
        let data: Vec<Value> = call.sb.numbers().iter().map(number_listing).collect();
        let last = data.len().saturating_sub(1);
        json!({"data": data, "paging": {"cursors": {"before": TEMPLATES.cursor(0), "after": TEMPLATES.cursor(last)}}})
    }))
}

/// `POST /{version}/{phone_number_id}/block_users`: block users who wrote in the last 24 hours.
async fn block_users(call: GraphCall, body: Bytes) -> Response {
    call.answer_with(json_body(&body).and_then(|b| call.sb.block_users(&call.id, &b)))
}

/// `DELETE /{version}/{phone_number_id}/block_users`: unblock (the same body as blocking).
async fn unblock_users(call: GraphCall, body: Bytes) -> Response {
    call.answer_with(json_body(&body).and_then(|b| call.sb.unblock_users(&call.id, &b)))
}

/// `GET /{version}/{phone_number_id}/block_users`: the block list, paged like the templates.
async fn blocked_users(call: GraphCall) -> Response {
    let base = format!(
        "http://{}/{}/{}/block_users",
        call.host, call.version, call.id
    );
    call.answer(call.sb.blocked_users(&call.id, &call.query, &base))
}

/// The template listing's cursors (also the number listing's, one page long).
const TEMPLATES: Cursors = Cursors("tpl");

async fn message_templates(call: GraphCall) -> Response {
    let base = format!("http://{}/{}/{}/message_templates", call.host, call.version, call.id);
    call.answer(call.require_waba("get").and_then(|()| template_page(&call.sb, &call.query, &base)))
}

/// Create a template: Meta answers its id, `PENDING` and the category.
async fn submit_template(call: GraphCall, body: Bytes) -> Response {
    let submitted = call.require_waba("post").and_then(|()| json_body(&body)).and_then(|body| call.sb.submit_template(&body));
    call.answer(submitted.map(|t| json!({"id": t.id, "status": t.status, "category": t.category})))
}

/// One page of templates, filtered by `name`, `status`, `language`, `category`, trimmed to
/// `fields`, with Meta's `paging.cursors.before/after` and `paging.next`/`previous` links.
fn template_page(
    sb: &Sandbox,
    q: &HashMap<String, String>,
    base: &str,
) -> Result<Value, GraphError> {
    let filter = |key: &str, value: &str| {
        q.get(key)
            .map(|f| f.eq_ignore_ascii_case(value))
            .unwrap_or(true)
    };
    let all: Vec<Value> = sb
        .templates()
        .iter()
        .filter(|t| {
            filter("status", &t.status)
                && filter("language", &t.language)
                && filter("category", &t.category)
        })
        .filter(|t| {
            q.get("name")
                .map(|n| t.name.contains(n.as_str()))
                .unwrap_or(true)
        })
        .map(|t| t.to_json())
        .collect();
    let page = TEMPLATES.page(q, all.len())?;
    let data: Vec<Value> = all[page.start..page.end]
        .iter()
        .map(|t| pick_fields(t, q.get("fields")))
        .collect();
    if data.is_empty() {
        return Ok(json!({"data": []}));
    }
    let mut extra = String::new();
    for key in ["fields", "status", "language", "category", "name"] {
        if let Some(v) = q.get(key) {
            extra.push_str(&format!("&{key}={}", urlencode(v)));
        }
    }
    let paging = TEMPLATES.paging(&page, all.len(), base, &extra);
    Ok(json!({"data": data, "paging": paging}))
}

fn pick_fields(t: &Value, fields: Option<&String>) -> Value {
    let Some(fields) = fields else {
        return t.clone();
    };
    let mut out = serde_json::Map::new();
    for f in fields
        .split(',')
        .map(str::trim)
        .chain(std::iter::once("id"))
    {
        if let Some(v) = t.get(f) {
            out.insert(f.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        assert!(check_version("v21.0").is_ok());
        assert!(check_version("21.0").is_err());
        assert!(check_version("v21").is_err());
    }
}
