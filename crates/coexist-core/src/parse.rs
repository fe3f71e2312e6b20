//! A Meta webhook body to normalized [`Event`]s.
//!
//! Strict outside, tolerant inside: the envelope (`object`, `entry[]`, `changes[]`, `field`)
//! must be right or the whole body is refused with a [`ParseError`] naming the JSON path. Inside
//! a well-formed envelope nothing fails: each change, message, status and contact is read on its
//! own, and one that cannot be read becomes an [`Event::Unknown`] whose `raw` is
//! `{"reason": "<what and where>", "item": <the JSON as Meta sent it>}` — so one odd message
//! never hides its neighbours and nothing is lost. A change whose `field` we do not model
//! becomes `Event::Unknown { field, raw: <the change's value> }`.

use std::borrow::Cow;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::parse_body;
use crate::error::{clip, ParseError};
use crate::event::*;
use crate::webhook::*;

/// The `object` of every webhook this crate models.
pub const WABA_OBJECT: &str = "whatsapp_business_account";

/// Parse a webhook body (bytes as Meta POSTed them) into events, in document order.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let value = body_value(body)?;
    parse_webhook_value(&value)
}

/// A webhook body as JSON, or why it is not JSON.
fn body_value(body: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(body).map_err(|e| ParseError::json("webhook body", &e))
}

/// Whether [`parse_webhook`] reads `body`, and its error when not, without reading the
/// messages inside: a well-formed envelope never fails, whatever it holds. The bridge checks
/// every webhook this way before relaying it. Hands back the JSON it read, for the caller to
/// read further without parsing it again.
pub fn check_webhook(body: &[u8]) -> Result<Value, ParseError> {
    let value = body_value(body)?;
    if envelope_in_place(&value).is_none() {
        crate::error::from_value::<Envelope>("webhook envelope", &value)?;
    }
    Ok(value)
}

/// Meta's time of a webhook, in seconds: the latest `time` of its entries and `timestamp` of
/// the messages, statuses and echoes it holds; 0 when it holds none.
///
/// Read from the body alone, so a redelivery (the same body) has the same: the bridge finds
/// redeliveries by it and the body's hash, an index whose new keys land together at its end
/// because Meta's times come nearly in order. Stored there: its meaning must not change.
pub fn webhook_time(webhook: &Value) -> i64 {
    let entries = webhook.get("entry").and_then(Value::as_array).into_iter().flatten();
    entries
        .flat_map(|entry| {
            let changes = entry.get("changes").and_then(Value::as_array).into_iter().flatten();
            let stamped = changes.flat_map(|change| {
                ["messages", "statuses", "message_echoes"]
                    .into_iter()
                    .filter_map(|list| change.get("value")?.get(list)?.as_array())
                    .flatten()
                    .filter_map(|item| item.get("timestamp"))
            });
            entry.get("time").into_iter().chain(stamped)
        })
        .filter_map(flex_int)
        .max()
        .unwrap_or(0)
}

/// Parse an already-decoded webhook body (e.g. a relayed payload).
pub fn parse_webhook_value(value: &Value) -> Result<Vec<Event>, ParseError> {
    parse_value(value, Reading::InPlace)
}

/// [`parse_webhook`] the plain way: every part copied out of the JSON with serde, and every read
/// tracking its path. The in-place reading must give exactly what this gives; tests compare them.
#[doc(hidden)]
pub fn parse_webhook_by_copying(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let value = body_value(body)?;
    parse_value(&value, Reading::Copying)
}

/// How the parts of a webhook are read. Copying them out with serde (the envelope, then each
/// change's list of messages, then each message) and tracking every read's path for its error
/// message allocated most of a parse's time, which the bridge pays for every webhook and a
/// desktop for every event it syncs. In place, parts that are well formed are borrowed from
/// the JSON, and a part that is not is read again the plain way for the error to say.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    InPlace,
    Copying,
}

fn parse_value(value: &Value, reading: Reading) -> Result<Vec<Event>, ParseError> {
    let copied: Envelope;
    let view = match envelope_in_place(value).filter(|_| reading == Reading::InPlace) {
        Some(view) => view,
        None => {
            copied = crate::error::from_value("webhook envelope", value)?;
            EnvelopeView::of(&copied)
        }
    };
    let mut out = Vec::new();
    for change in &view.changes {
        let ctx = Ctx {
            waba_id: &change.waba_id,
            field: change.field,
            path: format!("entry[{}].changes[{}].value", change.entry, change.index),
            reading,
        };
        if view.object != WABA_OBJECT {
            out.push(unreadable(&ctx, format!("object `{}` is not {WABA_OBJECT}", clip(view.object)), change.value));
            continue;
        }
        change_events(&ctx, change.value, &mut out);
    }
    Ok(out)
}

/// The envelope's parts, borrowed.
struct EnvelopeView<'v> {
    object: &'v str,
    changes: Vec<ChangeView<'v>>,
}

struct ChangeView<'v> {
    entry: usize,
    index: usize,
    waba_id: Cow<'v, str>,
    field: &'v str,
    value: &'v Value,
}

impl<'v> EnvelopeView<'v> {
    fn of(envelope: &'v Envelope) -> Self {
        let changes = envelope.entry.iter().enumerate().flat_map(|(entry, e)| {
            e.changes.iter().enumerate().map(move |(index, c)| ChangeView {
                entry,
                index,
                waba_id: e.id.0.as_str().into(),
                field: &c.field,
                value: &c.value,
            })
        });
        EnvelopeView { object: &envelope.object, changes: changes.collect() }
    }
}

/// The envelope read in place, when it has exactly the shape [`Envelope`] reads (`None` for
/// anything else: the caller reads it the plain way, for the error or the odd shape serde
/// also accepts).
fn envelope_in_place(value: &Value) -> Option<EnvelopeView<'_>> {
    let object = value.as_object()?.get("object")?.as_str()?;
    let mut changes = Vec::new();
    for (entry, e) in value.get("entry")?.as_array()?.iter().enumerate() {
        let e = e.as_object()?;
        let waba_id: Cow<str> = match e.get("id") {
            None => "".into(),
            Some(Value::String(id)) => id.as_str().into(),
            Some(Value::Number(id)) => id.to_string().into(),
            Some(_) => return None,
        };
        if let Some(time) = e.get("time").filter(|t| !t.is_null()) {
            crate::webhook::flex_int(time)?;
        }
        for (index, c) in e.get("changes")?.as_array()?.iter().enumerate() {
            let c = c.as_object()?;
            let field = c.get("field")?.as_str()?;
            let value = c.get("value").unwrap_or(&Value::Null);
            changes.push(ChangeView { entry, index, waba_id: waba_id.clone(), field, value });
        }
    }
    Some(EnvelopeView { object, changes })
}

/// Where we are: for naming problems and filling in the WABA id.
struct Ctx<'a> {
    waba_id: &'a str,
    field: &'a str,
    path: String,
    reading: Reading,
}

impl Ctx<'_> {
    fn at(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.path.clone()
        } else {
            format!("{}.{rel}", self.path)
        }
    }

    /// Read `T` from `value` found at `rel` (relative to the change's value).
    /// In place, a plain read first: tracking the path costs more than the read, and is only
    /// needed to explain a failure.
    fn read<T: DeserializeOwned>(&self, rel: &str, value: &Value) -> Result<T, String> {
        if self.reading == Reading::InPlace {
            if let Ok(read) = T::deserialize(value) {
                return Ok(read);
            }
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let inner = e.path().to_string();
            let message = clip(&e.into_inner().to_string());
            let at = match inner.as_str() {
                "." => self.at(rel),
                i if i.starts_with('[') => format!("{}{i}", self.at(rel)),
                i => format!("{}.{i}", self.at(rel)),
            };
            format!("malformed at `{at}`: {message}")
        })
    }
}

/// An item we could not read, kept whole with the reason.
fn unreadable(ctx: &Ctx, reason: String, item: &Value) -> Event {
    Event::Unknown { field: ctx.field.to_string(), raw: json!({ "reason": reason, "item": item }) }
}

fn change_events(ctx: &Ctx, value: &Value, out: &mut Vec<Event>) {
    match ctx.field {
        "messages" => messages_events(ctx, value, out),
        "smb_message_echoes" => echoes_events(ctx, value, out),
        "history" => history_events(ctx, value, out),
        "smb_app_state_sync" => state_sync_events(ctx, value, out),
        "message_template_status_update" => out.push(template_status_event(ctx, value)),
        "account_update" => out.push(account_update_event(ctx, value)),
        other => out.push(Event::Unknown { field: other.to_string(), raw: value.clone() }),
    }
}

// ---------------------------------------------------------------------------------------------
// Contact keys

/// A phone number as a contact key: Meta's `wa_id` is digits only, but echoes' `to` may carry
/// `+`, spaces or dashes. Anything that is not phone-like is kept (trimmed) as-is.
pub fn phone_key(raw: &str) -> ContactKey {
    let trimmed = raw.trim();
    let digits: String = trimmed.chars().filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')' | '.')).collect();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        ContactKey::from_wa_id(&digits)
    } else {
        ContactKey::from_wa_id(trimmed)
    }
}

/// Whether `raw` is a phone number (digits, optionally with `+`, spaces, dashes, dots, brackets).
pub fn is_phone_like(raw: &str) -> bool {
    let mut digits = 0;
    for c in raw.trim().chars() {
        match c {
            '0'..='9' => digits += 1,
            '+' | ' ' | '-' | '(' | ')' | '.' => {}
            _ => return false,
        }
    }
    digits > 0
}

/// The contact key for an identifier Meta gives where a phone number is expected (`from`,
/// `to`, `wa_id`, `recipient_id`, a send's `to`): a phone number becomes its digits; anything
/// else is a business-scoped user id (BSUID, e.g. `US.13491208655302741918`), keyed `user:<id>`.
pub fn contact_key(raw: &str) -> ContactKey {
    if is_phone_like(raw) {
        phone_key(raw)
    } else {
        ContactKey::from_user_id(raw.trim())
    }
}

fn non_empty(s: &Option<FlexString>) -> Option<&str> {
    s.as_ref().map(|f| f.0.trim()).filter(|s| !s.is_empty())
}

/// Phone first (`wa_id`), else the business-scoped user id.
fn key_of(phone: &Option<FlexString>, user_id: &Option<FlexString>) -> Option<ContactKey> {
    non_empty(phone).map(contact_key).or_else(|| non_empty(user_id).map(ContactKey::from_user_id))
}

fn same_number(a: &str, b: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, b) = (digits(a), digits(b));
    !a.is_empty() && a == b
}

// ---------------------------------------------------------------------------------------------
// Messages of every origin

/// Who sent a message object, which decides its side and whose conversation it is in.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// `messages`: the customer wrote. `contacts` help when `from` is absent.
    Customer { contacts: &'a [WebhookContact] },
    /// `smb_message_echoes`: the business wrote from the App, to `to`.
    Echo,
    /// `history`: either side, in the thread with `thread` (the customer's number).
    History { thread: Option<&'a str>, business_number: Option<&'a str> },
}

struct Located {
    conversation: ConversationKey,
    side: Side,
    from_business: bool,
}

fn locate(origin: Origin, pnid: &str, m: &WebhookMessage) -> Option<Located> {
    let (contact, side, from_business) = match origin {
        Origin::Customer { contacts } => {
            let single = if contacts.len() == 1 { key_of(&contacts[0].wa_id, &contacts[0].user_id) } else { None };
            (key_of(&m.from, &m.from_user_id).or(single)?, Side::Customer, false)
        }
        Origin::Echo => (key_of(&m.to, &m.to_user_id)?, Side::App, true),
        Origin::History { thread, business_number } => {
            let from_business = m.to.is_some()
                || matches!((non_empty(&m.from), business_number), (Some(f), Some(b)) if same_number(f, b));
            let counterpart = if from_business { key_of(&m.to, &m.to_user_id) } else { key_of(&m.from, &m.from_user_id) };
            let contact = thread.filter(|t| !t.trim().is_empty()).map(contact_key).or(counterpart)?;
            (contact, Side::History, from_business)
        }
    };
    Some(Located {
        conversation: ConversationKey { phone_number_id: pnid.to_string(), contact },
        side,
        from_business,
    })
}

/// One message object (any origin) to its event(s).
fn message_events(ctx: &Ctx, rel: &str, origin: Origin, pnid: &str, item: &Value, out: &mut Vec<Event>) {
    let m: WebhookMessage = match ctx.read(rel, item) {
        Ok(m) => m,
        Err(reason) => return out.push(unreadable(ctx, reason, item)),
    };
    if m.id.0.trim().is_empty() {
        return out.push(unreadable(ctx, format!("empty message id at `{}`", ctx.at(rel)), item));
    }
    let Some(loc) = locate(origin, pnid, &m) else {
        let reason = format!("no customer number or user id at `{}`", ctx.at(rel));
        return out.push(unreadable(ctx, reason, item));
    };
    let kind = m.kind.clone().unwrap_or_default();
    match kind.as_str() {
        "edit" => out.push(edit_event(ctx, rel, &m, loc, item)),
        "revoke" => out.push(revoke_event(ctx, rel, &m, loc, item)),
        _ => {
            let status = history_status(&m, &loc);
            out.push(Event::Message(plain_message(&m, &kind, loc, item)));
            out.extend(status);
        }
    }
}

fn plain_message(m: &WebhookMessage, kind: &str, loc: Located, item: &Value) -> Message {
    Message {
        wamid: m.id.0.clone(),
        conversation: loc.conversation,
        side: loc.side,
        from_business: loc.from_business,
        timestamp: m.timestamp.0,
        body: parse_body(kind, item, &m.errors),
        reply_to: m.context.as_ref().and_then(|c| non_empty(&c.id)).map(str::to_string),
        referral: m.referral.clone().filter(|r| !r.is_null()),
        agent: None,
        idempotency_key: None,
        raw: item.clone(),
    }
}

fn original_id(ctx: &Ctx, rel: &str, id: Option<&FlexString>) -> Result<String, String> {
    id.map(|i| i.0.trim().to_string())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| format!("malformed at `{}`: missing field `original_message_id`", ctx.at(rel)))
}

fn edit_event(ctx: &Ctx, rel: &str, m: &WebhookMessage, loc: Located, item: &Value) -> Event {
    let content = item.get("edit").cloned().unwrap_or(Value::Null);
    let edit: EditContent = match ctx.read(&format!("{rel}.edit"), &content) {
        Ok(e) => e,
        Err(reason) => return unreadable(ctx, reason, item),
    };
    let wamid = match original_id(ctx, &format!("{rel}.edit"), edit.original_message_id.as_ref()) {
        Ok(w) => w,
        Err(reason) => return unreadable(ctx, reason, item),
    };
    let new = edit.message.unwrap_or(Value::Null);
    let kind = new.get("type").and_then(Value::as_str).unwrap_or("unknown").to_string();
    Event::MessageEdited { wamid, conversation: loc.conversation, timestamp: m.timestamp.0, body: parse_body(&kind, &new, &[]) }
}

fn revoke_event(ctx: &Ctx, rel: &str, m: &WebhookMessage, loc: Located, item: &Value) -> Event {
    let content = item.get("revoke").cloned().unwrap_or(Value::Null);
    let revoke: RevokeContent = match ctx.read(&format!("{rel}.revoke"), &content) {
        Ok(r) => r,
        Err(reason) => return unreadable(ctx, reason, item),
    };
    match original_id(ctx, &format!("{rel}.revoke"), revoke.original_message_id.as_ref()) {
        Ok(wamid) => Event::MessageRevoked { wamid, conversation: loc.conversation, timestamp: m.timestamp.0 },
        Err(reason) => unreadable(ctx, reason, item),
    }
}

/// A business-sent history message carries how far it got (`history_context.status`): show it.
fn history_status(m: &WebhookMessage, loc: &Located) -> Option<Event> {
    if loc.side != Side::History || !loc.from_business {
        return None;
    }
    let raw = m.history_context.as_ref()?.status.as_deref()?;
    let status = match raw.to_ascii_lowercase().as_str() {
        "sent" | "server_ack" => StatusKind::Sent,
        "delivered" | "delivery_ack" => StatusKind::Delivered,
        "read" | "played" => StatusKind::Read,
        _ => return None,
    };
    Some(Event::Status(StatusUpdate {
        wamid: m.id.0.clone(),
        conversation: loc.conversation.clone(),
        status,
        timestamp: m.timestamp.0,
        errors: Vec::new(),
        biz_opaque_callback_data: None,
        conversation_info: None,
        pricing: None,
    }))
}

// ---------------------------------------------------------------------------------------------
// messages (inbound + statuses)

/// [`MessagesValue`] with its lists borrowed (see [`Reading`]).
struct MessagesParts<'v> {
    metadata: Metadata,
    errors: Vec<WebhookError>,
    contacts: Cow<'v, [Value]>,
    messages: Cow<'v, [Value]>,
    statuses: Cow<'v, [Value]>,
}

/// [`MessagesValue`]'s shape, its lists' items left where they are.
#[derive(Deserialize)]
#[allow(dead_code)]
struct MessagesShape {
    #[serde(default)]
    messaging_product: Option<String>,
    metadata: Metadata,
    #[serde(default)]
    contacts: Vec<IgnoredAny>,
    #[serde(default)]
    messages: Vec<IgnoredAny>,
    #[serde(default)]
    statuses: Vec<IgnoredAny>,
    #[serde(default)]
    errors: Vec<WebhookError>,
}

fn messages_parts<'v>(ctx: &Ctx, value: &'v Value) -> Result<MessagesParts<'v>, String> {
    if let Some(shape) = in_place::<MessagesShape>(ctx, value) {
        return Ok(MessagesParts {
            metadata: shape.metadata,
            errors: shape.errors,
            contacts: items(value, "contacts"),
            messages: items(value, "messages"),
            statuses: items(value, "statuses"),
        });
    }
    let v: MessagesValue = ctx.read("", value)?;
    Ok(MessagesParts {
        metadata: v.metadata,
        errors: v.errors,
        contacts: v.contacts.into(),
        messages: v.messages.into(),
        statuses: v.statuses.into(),
    })
}

/// `value` read as the shape `T` in place: only from an object (serde would also read a
/// shape from a list, by position; that goes the plain way).
fn in_place<T: DeserializeOwned>(ctx: &Ctx, value: &Value) -> Option<T> {
    (ctx.reading == Reading::InPlace && value.is_object()).then(|| T::deserialize(value).ok()).flatten()
}

/// The list under `key` of an object whose shape was read: there, or missing (empty).
fn items<'v>(value: &'v Value, key: &str) -> Cow<'v, [Value]> {
    value.get(key).and_then(Value::as_array).map_or(Cow::Borrowed(&[]), |a| Cow::Borrowed(a.as_slice()))
}

fn messages_events(ctx: &Ctx, value: &Value, out: &mut Vec<Event>) {
    let v = match messages_parts(ctx, value) {
        Ok(v) => v,
        Err(reason) => return out.push(unreadable(ctx, reason, value)),
    };
    let pnid = v.metadata.phone_number_id.0.as_str();
    let mut contacts = Vec::new();
    for (i, item) in v.contacts.iter().enumerate() {
        match ctx.read::<WebhookContact>(&format!("contacts[{i}]"), item) {
            Ok(c) => {
                if let Some(profile) = contact_profile(pnid, &c) {
                    out.push(Event::Contact(profile));
                }
                contacts.push(c);
            }
            Err(reason) => out.push(unreadable(ctx, reason, item)),
        }
    }
    let origin = Origin::Customer { contacts: &contacts };
    for (i, item) in v.messages.iter().enumerate() {
        message_events(ctx, &format!("messages[{i}]"), origin, pnid, item, out);
    }
    for (i, item) in v.statuses.iter().enumerate() {
        out.push(status_event(ctx, &format!("statuses[{i}]"), pnid, item));
    }
    if !v.errors.is_empty() {
        let item = value.get("errors").cloned().unwrap_or(Value::Null);
        out.push(unreadable(ctx, "Meta reported errors for this webhook".to_string(), &item));
    }
}

fn contact_profile(pnid: &str, c: &WebhookContact) -> Option<ContactProfile> {
    Some(ContactProfile {
        phone_number_id: pnid.to_string(),
        contact: key_of(&c.wa_id, &c.user_id)?,
        name: c.profile.as_ref().and_then(|p| p.name.clone()),
        wa_id: non_empty(&c.wa_id).map(str::to_string),
        user_id: non_empty(&c.user_id).map(str::to_string),
    })
}

/// Meta's status word to ours; `None` for kinds we do not model (`deleted`, `warning`, ...).
pub fn status_kind(word: &str) -> Option<StatusKind> {
    match word {
        "sent" => Some(StatusKind::Sent),
        "delivered" => Some(StatusKind::Delivered),
        "read" => Some(StatusKind::Read),
        "failed" => Some(StatusKind::Failed),
        _ => None,
    }
}

fn status_event(ctx: &Ctx, rel: &str, pnid: &str, item: &Value) -> Event {
    let s: WebhookStatus = match ctx.read(rel, item) {
        Ok(s) => s,
        Err(reason) => return unreadable(ctx, reason, item),
    };
    if s.id.0.trim().is_empty() {
        return unreadable(ctx, format!("empty message id at `{}`", ctx.at(rel)), item);
    }
    let Some(status) = status_kind(&s.status) else {
        let reason = format!("status `{}` at `{}` is not one Coexist tracks", clip(&s.status), ctx.at(rel));
        return unreadable(ctx, reason, item);
    };
    let Some(contact) = key_of(&s.recipient_id, &s.recipient_user_id) else {
        return unreadable(ctx, format!("no recipient at `{}`", ctx.at(rel)), item);
    };
    Event::Status(StatusUpdate {
        wamid: s.id.0,
        conversation: ConversationKey { phone_number_id: pnid.to_string(), contact },
        status,
        timestamp: s.timestamp.0,
        errors: s.errors.iter().map(WebhookError::to_meta_error).collect(),
        biz_opaque_callback_data: s.biz_opaque_callback_data,
        conversation_info: s.conversation,
        pricing: s.pricing,
    })
}

// ---------------------------------------------------------------------------------------------
// smb_message_echoes

/// [`EchoesValue`]'s shape, its echoes left where they are.
#[derive(Deserialize)]
struct EchoesShape {
    metadata: Metadata,
    #[serde(default)]
    #[allow(dead_code)]
    message_echoes: Vec<IgnoredAny>,
}

fn echoes_events(ctx: &Ctx, value: &Value, out: &mut Vec<Event>) {
    let (metadata, echoes) = match in_place::<EchoesShape>(ctx, value) {
        Some(shape) => (shape.metadata, items(value, "message_echoes")),
        None => match ctx.read::<EchoesValue>("", value) {
            Ok(v) => (v.metadata, Cow::Owned(v.message_echoes)),
            Err(reason) => return out.push(unreadable(ctx, reason, value)),
        },
    };
    let pnid = metadata.phone_number_id.0.as_str();
    for (i, item) in echoes.iter().enumerate() {
        message_events(ctx, &format!("message_echoes[{i}]"), Origin::Echo, pnid, item, out);
    }
}

// ---------------------------------------------------------------------------------------------
// history

fn history_events(ctx: &Ctx, value: &Value, out: &mut Vec<Event>) {
    let v: HistoryValue = match ctx.read("", value) {
        Ok(v) => v,
        Err(reason) => return out.push(unreadable(ctx, reason, value)),
    };
    let pnid = v.metadata.phone_number_id.0.as_str();
    let business_number = non_empty(&v.metadata.display_phone_number);
    for e in &v.errors {
        out.push(history_progress(pnid, None, Some(e)));
    }
    for (ci, chunk) in v.history.iter().enumerate() {
        for e in &chunk.errors {
            out.push(history_progress(pnid, chunk.metadata.as_ref(), Some(e)));
        }
        if chunk.metadata.is_some() || chunk.errors.is_empty() {
            out.push(history_progress(pnid, chunk.metadata.as_ref(), None));
        }
        for (ti, thread) in chunk.threads.iter().enumerate() {
            let origin = Origin::History { thread: non_empty(&thread.id), business_number };
            for (mi, item) in thread.messages.iter().enumerate() {
                let rel = format!("history[{ci}].threads[{ti}].messages[{mi}]");
                message_events(ctx, &rel, origin, pnid, item, out);
            }
        }
    }
    let origin = Origin::History { thread: None, business_number };
    for (mi, item) in v.messages.iter().enumerate() {
        media_followup_events(ctx, &format!("messages[{mi}]"), origin, pnid, item, out);
    }
}

/// The contents of a history `media_placeholder`, sent later with the same wamid. Whichever
/// arrives first, the message ends up with the media: as a `Message` (if the placeholder has not
/// arrived, the placeholder is then a duplicate) and as a `MessageEdited` (if it has).
fn media_followup_events(ctx: &Ctx, rel: &str, origin: Origin, pnid: &str, item: &Value, out: &mut Vec<Event>) {
    let start = out.len();
    message_events(ctx, rel, origin, pnid, item, out);
    let edit = out[start..].iter().find_map(|e| match e {
        Event::Message(m) if !matches!(m.body, MessageBody::Unsupported { .. }) => Some(Event::MessageEdited {
            wamid: m.wamid.clone(),
            conversation: m.conversation.clone(),
            timestamp: m.timestamp,
            body: m.body.clone(),
        }),
        _ => None,
    });
    out.extend(edit);
}

fn history_progress(pnid: &str, meta: Option<&HistoryMetadata>, error: Option<&WebhookError>) -> Event {
    Event::HistoryProgress {
        phone_number_id: pnid.to_string(),
        phase: meta.and_then(|m| m.phase).map(|p| p.0),
        chunk_order: meta.and_then(|m| m.chunk_order).map(|p| p.0),
        progress: meta.and_then(|m| m.progress).map(|p| p.0),
        error: error.map(WebhookError::to_meta_error),
    }
}

// ---------------------------------------------------------------------------------------------
// smb_app_state_sync

fn state_sync_events(ctx: &Ctx, value: &Value, out: &mut Vec<Event>) {
    let v: StateSyncValue = match ctx.read("", value) {
        Ok(v) => v,
        Err(reason) => return out.push(unreadable(ctx, reason, value)),
    };
    let pnid = v.metadata.phone_number_id.0.as_str();
    for (i, item) in v.state_sync.iter().enumerate() {
        let rel = format!("state_sync[{i}]");
        out.push(match ctx.read::<StateSyncItem>(&rel, item) {
            Ok(s) => state_sync_event(ctx, &rel, pnid, s, item),
            Err(reason) => unreadable(ctx, reason, item),
        });
    }
}

/// `add` (added or edited in the App's address book) becomes a contact name. A `remove` only
/// means the business deleted the address-book entry; the conversation and the customer's own
/// profile name stay valid, so it is kept as `Unknown` rather than erasing a name.
fn state_sync_event(ctx: &Ctx, rel: &str, pnid: &str, s: StateSyncItem, item: &Value) -> Event {
    let kind = s.kind.as_deref().unwrap_or("contact");
    let action = s.action.as_deref().unwrap_or("add");
    let contact = s.contact.unwrap_or_default();
    let key = key_of(&contact.phone_number, &contact.user_id);
    match (kind, action, key) {
        ("contact", "add", Some(key)) => Event::Contact(ContactProfile {
            phone_number_id: pnid.to_string(),
            contact: key,
            name: contact.full_name.clone().filter(|n| !n.trim().is_empty()).or(contact.first_name.clone()),
            wa_id: non_empty(&contact.phone_number).filter(|p| is_phone_like(p)).map(|p| phone_key(p).0),
            user_id: non_empty(&contact.user_id).map(str::to_string),
        }),
        ("contact", "remove", _) => {
            unreadable(ctx, "contact removed from the WhatsApp Business App address book".to_string(), item)
        }
        (_, _, None) if kind == "contact" => unreadable(ctx, format!("no phone number at `{}`", ctx.at(rel)), item),
        _ => unreadable(
            ctx,
            format!("state sync `{}`/`{}` at `{}` is not one Coexist models", clip(kind), clip(action), ctx.at(rel)),
            item,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// message_template_status_update, account_update

fn template_status_event(ctx: &Ctx, value: &Value) -> Event {
    let v: TemplateStatusValue = match ctx.read("", value) {
        Ok(v) => v,
        Err(reason) => return unreadable(ctx, reason, value),
    };
    Event::TemplateStatus {
        waba_id: ctx.waba_id.to_string(),
        template_id: non_empty(&v.message_template_id).map(str::to_string),
        name: v.message_template_name.unwrap_or_default(),
        language: v.message_template_language.unwrap_or_default(),
        status: v.event,
        reason: v.reason.filter(|r| !r.trim().is_empty() && r != "NONE"),
    }
}

fn account_update_event(ctx: &Ctx, value: &Value) -> Event {
    let v: AccountUpdateValue = match ctx.read("", value) {
        Ok(v) => v,
        Err(reason) => return unreadable(ctx, reason, value),
    };
    Event::AccountUpdate {
        waba_id: ctx.waba_id.to_string(),
        phone_number_id: v.metadata.map(|m| m.phone_number_id.0).filter(|p| !p.is_empty()),
        event: v.event,
        raw: value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_time_is_the_latest_time_meta_wrote() {
        let messages = json!({"entry": [{"changes": [{"field": "messages", "value": {
            "messages": [{"timestamp": "1764000005"}, {"timestamp": "1764000003"}],
            "statuses": [{"timestamp": "1764000009"}]
        }}]}]});
        assert_eq!(webhook_time(&messages), 1_764_000_009);
        let echoes = json!({"entry": [{"changes": [{"field": "smb_message_echoes", "value": {"message_echoes": [{"timestamp": 1764000100}]}}]}]});
        assert_eq!(webhook_time(&echoes), 1_764_000_100);
        let template = json!({"entry": [{"time": 1764000200, "changes": [{"field": "message_template_status_update", "value": {}}]}]});
        assert_eq!(webhook_time(&template), 1_764_000_200);
        let odd = json!({"entry": [{"time": "soon", "changes": [{"value": {"messages": [{"timestamp": null}]}}]}]});
        assert_eq!(webhook_time(&odd), 0);
        assert_eq!(webhook_time(&json!({"a": 1})), 0);
    }

    fn envelope(field: &str, value: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}]
        }))
        .unwrap()
    }

    fn meta() -> Value {
        json!({"display_phone_number": "15550783881", "phone_number_id": "106540352242922"})
    }

    #[test]
    fn not_json_is_a_json_error() {
        let err = parse_webhook(b"{\"object\":").unwrap_err();
        assert!(matches!(err, ParseError::Json { .. }), "{err}");
    }

    #[test]
    fn missing_field_names_the_path() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{}}]}]}"#;
        let err = parse_webhook(body).unwrap_err();
        assert_eq!(err.path(), Some("entry[0].changes[0]"));
        assert!(err.to_string().contains("missing field `field`"), "{err}");
    }

    #[test]
    fn unknown_field_is_kept() {
        let events = parse_webhook(&envelope("phone_number_quality_update", json!({"event": "FLAGGED"}))).unwrap();
        assert_eq!(events, vec![Event::Unknown { field: "phone_number_quality_update".into(), raw: json!({"event": "FLAGGED"}) }]);
    }

    #[test]
    fn one_bad_message_does_not_hide_the_next() {
        let value = json!({"metadata": meta(), "messages": [
            {"from": "16505551234", "id": "wamid.BAD", "timestamp": "yesterday", "type": "text", "text": {"body": "a"}},
            {"from": "16505551234", "id": "wamid.OK", "timestamp": "1739321024", "type": "text", "text": {"body": "b"}}
        ]});
        let events = parse_webhook(&envelope("messages", value)).unwrap();
        assert_eq!(events.len(), 2);
        match &events[0] {
            Event::Unknown { field, raw } => {
                assert_eq!(field, "messages");
                let reason = raw["reason"].as_str().unwrap();
                assert!(reason.contains("entry[0].changes[0].value.messages[0].timestamp"), "{reason}");
                assert_eq!(raw["item"]["id"], "wamid.BAD");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&events[1], Event::Message(m) if m.wamid == "wamid.OK"));
    }

    #[test]
    fn echo_conversation_is_the_customer() {
        let value = json!({"metadata": meta(), "message_echoes": [
            {"from": "15550783881", "to": "+1 650-555-1234", "id": "wamid.E", "timestamp": "1739321024", "type": "text", "text": {"body": "hi"}}
        ]});
        let events = parse_webhook(&envelope("smb_message_echoes", value)).unwrap();
        match &events[..] {
            [Event::Message(m)] => {
                assert_eq!(m.side, Side::App);
                assert!(m.from_business);
                assert_eq!(m.conversation.contact.as_str(), "16505551234");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_ids_are_unreadable_not_messages() {
        let value = json!({"metadata": meta(),
            "messages": [{"from": "2", "id": " ", "timestamp": "1", "type": "text", "text": {"body": "x"}}],
            "statuses": [{"id": "", "status": "read", "timestamp": "1", "recipient_id": "2"}]});
        let events = parse_webhook(&envelope("messages", value)).unwrap();
        assert_eq!(events.len(), 2);
        for e in events {
            assert!(matches!(&e, Event::Unknown { raw, .. } if raw["reason"].as_str().unwrap().contains("empty message id")), "{e:?}");
        }
    }

    #[test]
    fn history_media_followup_fills_the_placeholder() {
        let value = json!({"metadata": meta(), "messages": [
            {"from": "16505551234", "id": "wamid.P", "timestamp": "1739230000", "type": "image",
             "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "777"}}
        ]});
        let events = parse_webhook(&envelope("history", value)).unwrap();
        match &events[..] {
            [Event::Message(m), Event::MessageEdited { wamid, body, .. }] => {
                assert_eq!(m.side, Side::History);
                assert!(!m.from_business);
                assert_eq!(m.conversation.contact.as_str(), "16505551234");
                assert_eq!(wamid, "wamid.P");
                assert!(matches!(body, MessageBody::Image { media } if media.id.as_deref() == Some("777")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shapes_serde_reads_by_position_read_the_same_in_place() {
        // serde reads a struct from a list too, field by field: the in-place reading, which
        // looks items up by name, must leave those to the plain one.
        let message = json!({"from": "16505551234", "id": "wamid.L", "timestamp": "1", "type": "text", "text": {"body": "x"}});
        for (field, value) in [
            ("messages", json!([null, meta(), [], [message]])),
            ("smb_message_echoes", json!([meta(), [{"to": "16505551234", "id": "wamid.E", "timestamp": "1", "type": "text", "text": {"body": "x"}}]])),
        ] {
            let body = envelope(field, value);
            let events = parse_webhook(&body).unwrap();
            assert!(matches!(&events[..], [Event::Message(_)]), "{field}: {events:?}");
            assert_eq!(events, parse_webhook_by_copying(&body).unwrap());
        }
        let by_position = br#"{"object":"whatsapp_business_account","entry":[["1",null,[{"field":"x","value":1}]]]}"#;
        assert_eq!(parse_webhook(by_position), parse_webhook_by_copying(by_position));
        assert!(parse_webhook(by_position).is_ok());
    }

    #[test]
    fn phone_key_normalizes_only_phone_like_strings() {
        assert_eq!(phone_key("+1 (650) 555-1234").as_str(), "16505551234");
        assert_eq!(phone_key(" abc ").as_str(), "abc");
        assert_eq!(contact_key("+1 (650) 555-1234").as_str(), "16505551234");
        assert_eq!(contact_key("US.13491208655302741918").as_str(), "user:US.13491208655302741918");
        assert!(!is_phone_like("") && !is_phone_like("+ -"));
    }

    #[test]
    fn status_sent_to_a_bsuid_lands_in_the_user_conversation() {
        let value = json!({"metadata": meta(), "statuses": [
            {"id": "wamid.S", "status": "delivered", "timestamp": "1", "recipient_id": "US.13491208655302741918"}
        ]});
        match &parse_webhook(&envelope("messages", value)).unwrap()[..] {
            [Event::Status(s)] => assert_eq!(s.conversation.contact, ContactKey::from_user_id("US.13491208655302741918")),
            other => panic!("{other:?}"),
        }
    }
}
