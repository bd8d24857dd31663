//! The records sinks carry: one JSON object each, with the sensor's id, the
//! record's type and a key that names it across re-sends (the hub and
//! JetStream deduplicate on it). Field names are those of `alerts.jsonl`,
//! `assets.json` and `events.jsonl`, so a new alert field travels as is.

use std::fmt::Write as _;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::config::Kind;
use crate::analysis::inventory::{Asset, Change};
use crate::analysis::policy::Alert;

/// One record, serialized once and shared by every sink that wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    /// Unique per record: the transport's message id (JetStream deduplicates on it).
    pub id: String,
    pub json: Arc<[u8]>,
}

/// Where an alert is in its life: sent when raised (with the count so far),
/// and again at the end of the run with its final id and count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Raised,
    Final,
}

impl AlertState {
    pub fn name(self) -> &'static str {
        match self {
            AlertState::Raised => "raised",
            AlertState::Final => "final",
        }
    }
}

/// What names an alert whatever its count: its rule, first occurrence and ends.
pub fn alert_key(alert: &Alert) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{}",
        alert.rule,
        alert.seq,
        alert.ts.0,
        alert.src.ip,
        alert.src.mac,
        alert.dst.ip,
        alert.dst.mac,
        alert.function.unwrap_or_default()
    );
    format!("a{}", short_hash(text.as_bytes()))
}

pub fn alert(sensor_id: &str, alert: &Alert, state: AlertState) -> Record {
    let key = alert_key(alert);
    let mut body = serde_json::to_vec(alert).expect("alerts serialize");
    // An alert gets its id (`A000001`) at the end of the run; until then it has none.
    const NO_ID: &[u8] = br#"{"id":"","#;
    if body.starts_with(NO_ID) {
        body.drain(1..NO_ID.len());
    }
    let state = state.name();
    let head = format!(
        r#"{{"record":"alert","sensor_id":{},"key":"{key}","state":"{state}","#,
        quote(sensor_id)
    );
    Record {
        kind: Kind::Alerts,
        id: format!("{sensor_id}.{key}.{state}"),
        json: splice(head, &body),
    }
}

pub fn change(sensor_id: &str, change: &Change) -> Record {
    let body = serde_json::to_vec(change).expect("changes serialize");
    let key = format!("c{}", short_hash(&body));
    let head = format!(
        r#"{{"record":"change","sensor_id":{},"key":"{key}","#,
        quote(sensor_id)
    );
    Record {
        kind: Kind::Assets,
        id: format!("{sensor_id}.{key}"),
        json: splice(head, &body),
    }
}

/// An asset as this sensor knows it at the end of a run (the hub's per-sensor evidence).
pub fn asset(sensor_id: &str, asset: &Asset) -> Record {
    let body = serde_json::to_vec(asset).expect("assets serialize");
    let key = format!("s{}", short_hash(&body));
    let head = format!(
        r#"{{"record":"asset","sensor_id":{},"key":"{key}","#,
        quote(sensor_id)
    );
    Record {
        kind: Kind::Assets,
        id: format!("{sensor_id}.{key}"),
        json: splice(head, &body),
    }
}

/// An event as `events.jsonl` renders it (`rendered` is one JSON object),
/// named by `key` (its packet and place among that packet's events).
pub fn event(sensor_id: &str, key: &str, rendered: &[u8]) -> Record {
    let head = format!(
        r#"{{"record":"event","sensor_id":{},"key":"{key}","#,
        quote(sensor_id)
    );
    Record {
        kind: Kind::Events,
        id: format!("{sensor_id}.{key}"),
        json: splice(head, rendered),
    }
}

/// `head` (an object's opening and first fields, ending in a comma) followed by `body`'s fields.
fn splice(mut head: String, body: &[u8]) -> Arc<[u8]> {
    let fields = body.strip_prefix(b"{").unwrap_or(body);
    if fields == b"}" {
        head.pop();
        head.push('}');
        return Arc::from(head.into_bytes());
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(fields);
    Arc::from(out)
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(32);
    for byte in &digest[..16] {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A record's fields, for tests and the syslog formats.
pub fn parse(record: &Record) -> serde_json::Value {
    serde_json::from_slice(&record.json).unwrap_or(serde_json::Value::Null)
}
