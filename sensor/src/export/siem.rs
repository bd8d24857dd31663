//! What SIEMs read: RFC 5424 syslog messages whose text is, for alerts, CEF
//! (ArcSight, Splunk, Sentinel) or LEEF 2.0 (QRadar), and JSON for the
//! other records. The field mapping is documented in `docs/export.md`.

use std::fmt::Write as _;

use serde_json::Value;

use super::config::{AlertFormat, Kind};
use super::record::Record;
use crate::time::Timestamp;

const VENDOR: &str = "otsensor";
const PRODUCT: &str = "otsensor";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One syslog message (without transport framing) for `record`.
pub fn message(
    record: &Record,
    format: AlertFormat,
    facility: u8,
    app_name: &str,
    now: Timestamp,
) -> Vec<u8> {
    let fields = if record.kind == Kind::Alerts && format != AlertFormat::Json {
        serde_json::from_slice::<Value>(&record.json).ok()
    } else {
        None
    };
    let severity = match &fields {
        Some(alert) => syslog_severity(text(alert, "severity")),
        None if record.kind == Kind::Alerts => {
            let alert: Value = serde_json::from_slice(&record.json).unwrap_or(Value::Null);
            syslog_severity(text(&alert, "severity"))
        }
        None => 6,
    };
    let sensor = sensor_of(record, fields.as_ref());
    let msgid = msgid(record);
    let mut out = format!(
        "<{}>1 {now} {} {app_name} {} {msgid} - ",
        u16::from(facility) * 8 + u16::from(severity),
        header_word(&sensor),
        std::process::id(),
    )
    .into_bytes();
    match (fields, format) {
        (Some(alert), AlertFormat::Cef) => out.extend_from_slice(cef(&alert).as_bytes()),
        (Some(alert), AlertFormat::Leef) => out.extend_from_slice(leef(&alert).as_bytes()),
        _ => out.extend_from_slice(&record.json),
    }
    out
}

/// The record's type as the syslog MSGID (`alert`, `change`, `asset`, `event`).
fn msgid(record: &Record) -> &'static str {
    match record.kind {
        Kind::Alerts => "alert",
        Kind::Events => "event",
        Kind::Assets if record.json.starts_with(br#"{"record":"change""#) => "change",
        Kind::Assets => "asset",
    }
}

fn sensor_of(record: &Record, fields: Option<&Value>) -> String {
    if let Some(v) = fields {
        return text(v, "sensor_id").to_string();
    }
    // The id starts with the sensor id and a dot.
    record.id.split('.').next().unwrap_or("-").to_string()
}

/// A header field: printable ASCII without spaces, or `-`.
fn header_word(text: &str) -> String {
    let word: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if word.is_empty() { "-".into() } else { word }
}

/// RFC 5424 severity for an alert's severity.
fn syslog_severity(severity: &str) -> u8 {
    match severity {
        "critical" => 2,
        "high" => 3,
        "medium" => 4,
        "low" => 5,
        _ => 6,
    }
}

/// CEF's 0–10 severity.
fn cef_severity(severity: &str) -> u8 {
    match severity {
        "critical" => 10,
        "high" => 8,
        "medium" => 5,
        "low" => 3,
        _ => 1,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn joined(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}

fn millis(v: &Value, key: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(text(v, key)).map(|t| t.0.div_euclid(1_000_000))
}

/// The extension fields an alert maps to, in order: (CEF key, LEEF key, value).
fn alert_fields(alert: &Value) -> Vec<(&'static str, &'static str, String)> {
    let mut fields = Vec::new();
    let mut put = |cef: &'static str, leef: &'static str, value: String| {
        if !value.is_empty() {
            fields.push((cef, leef, value));
        }
    };
    let end = |side: &str, key: &str| {
        alert
            .get(side)
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    put(
        "rt",
        "devTime",
        millis(alert, "ts").map_or(String::new(), |m| m.to_string()),
    );
    put(
        "start",
        "startTime",
        millis(alert, "ts").map_or(String::new(), |m| m.to_string()),
    );
    put(
        "end",
        "endTime",
        millis(alert, "last_ts").map_or(String::new(), |m| m.to_string()),
    );
    put("src", "src", end("src", "ip"));
    put("smac", "srcMAC", end("src", "mac"));
    put("dst", "dst", end("dst", "ip"));
    put("dmac", "dstMAC", end("dst", "mac"));
    put("app", "proto", text(alert, "protocol").to_string());
    put("act", "action", text(alert, "function").to_string());
    put(
        "cnt",
        "eventCount",
        alert.get("count").map_or(String::new(), Value::to_string),
    );
    put("msg", "msg", text(alert, "description").to_string());
    put("externalId", "externalId", text(alert, "key").to_string());
    put(
        "deviceExternalId",
        "sensorId",
        text(alert, "sensor_id").to_string(),
    );
    put("cs1Label", "", String::from("zones"));
    put("cs1", "zones", joined(alert, "zones"));
    put("cs2Label", "", String::from("iec62443"));
    put("cs2", "iec62443", joined(alert, "iec62443"));
    put("cs3Label", "", String::from("mitre"));
    put("cs3", "mitre", joined(alert, "mitre"));
    put("cs4Label", "", String::from("conduit"));
    put("cs4", "conduit", text(alert, "conduit").to_string());
    put("cs5Label", "", String::from("alertId"));
    put("cs5", "alertId", text(alert, "id").to_string());
    put("cs6Label", "", String::from("detail"));
    put(
        "cs6",
        "detail",
        alert
            .get("evidence")
            .and_then(|e| e.get("detail"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    );
    put("suser", "srcAsset", end("src", "asset"));
    put("duser", "dstAsset", end("dst", "asset"));
    put("cat", "cat", text(alert, "state").to_string());
    // Labels whose value is empty go too.
    let present: Vec<&str> = fields.iter().map(|f| f.0).collect();
    fields.retain(|(cef, _, _)| {
        cef.strip_suffix("Label")
            .is_none_or(|base| present.contains(&base))
    });
    fields
}

/// `CEF:0|vendor|product|version|rule|title|severity|extension`.
pub fn cef(alert: &Value) -> String {
    let mut out = format!(
        "CEF:0|{}|{}|{}|{}|{}|{}|",
        cef_header(VENDOR),
        cef_header(PRODUCT),
        cef_header(VERSION),
        cef_header(text(alert, "rule")),
        cef_header(text(alert, "title")),
        cef_severity(text(alert, "severity")),
    );
    let mut first = true;
    for (key, _, value) in alert_fields(alert) {
        if !first {
            out.push(' ');
        }
        first = false;
        let _ = write!(out, "{key}={}", cef_value(&value));
    }
    out
}

/// `LEEF:2.0|vendor|product|version|rule|^|key=value^key=value…` (tab-free: `^` separates).
pub fn leef(alert: &Value) -> String {
    let mut out = format!(
        "LEEF:2.0|{}|{}|{}|{}|^|",
        leef_header(VENDOR),
        leef_header(PRODUCT),
        leef_header(VERSION),
        leef_header(text(alert, "rule")),
    );
    let mut fields: Vec<(&str, String)> = vec![
        ("sev", cef_severity(text(alert, "severity")).to_string()),
        ("name", text(alert, "title").to_string()),
    ];
    fields.extend(
        alert_fields(alert)
            .into_iter()
            .filter(|(_, leef, _)| !leef.is_empty())
            .map(|(_, leef, value)| (leef, value)),
    );
    let mut first = true;
    for (key, value) in fields {
        if value.is_empty() {
            continue;
        }
        if !first {
            out.push('^');
        }
        first = false;
        let _ = write!(out, "{key}={}", leef_value(&value));
    }
    out
}

fn cef_header(text: &str) -> String {
    one_line(text).replace('\\', "\\\\").replace('|', "\\|")
}

fn cef_value(text: &str) -> String {
    one_line(text).replace('\\', "\\\\").replace('=', "\\=")
}

fn leef_header(text: &str) -> String {
    one_line(text).replace('|', " ")
}

/// LEEF has no escape: the separator becomes a space.
fn leef_value(text: &str) -> String {
    one_line(text).replace('^', " ")
}

fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert() -> Value {
        json!({
            "record": "alert", "sensor_id": "s1", "key": "a12", "state": "raised",
            "id": "A000007",
            "ts": "2024-01-15T08:00:01.239032Z", "last_ts": "2024-01-15T08:00:02.000000Z",
            "severity": "high", "rule": "OT-CMD-001", "title": "Write | to a PLC",
            "description": "a=b\nnext line",
            "src": {"ip": "10.0.0.5", "mac": "00:11:22:33:44:55", "zone": "ops", "asset": "10.0.0.5"},
            "dst": {"ip": "10.0.1.9", "zone": "cell"},
            "zones": ["ops", "cell"], "protocol": "modbus", "function": "write_single_register",
            "evidence": {"packets": [3], "detail": "unit 1 ^ reg 40001"},
            "iec62443": ["SR 5.2", "SR 2.1"], "mitre": ["T0855"], "count": 4
        })
    }

    #[test]
    fn cef_maps_and_escapes_the_alert_fields() {
        let cef = cef(&alert());
        assert!(
            cef.starts_with(&format!(
                "CEF:0|otsensor|otsensor|{VERSION}|OT-CMD-001|Write \\| to a PLC|8|rt=1705305601239 start=1705305601239 end=1705305602000 src=10.0.0.5 smac=00:11:22:33:44:55 dst=10.0.1.9 app=modbus act=write_single_register cnt=4 msg=a\\=b next line externalId=a12 deviceExternalId=s1 cs1Label=zones cs1=ops,cell cs2Label=iec62443 cs2=SR 5.2,SR 2.1 cs3Label=mitre cs3=T0855 cs5Label=alertId cs5=A000007 cs6Label=detail cs6=unit 1 ^ reg 40001 suser=10.0.0.5 cat=raised"
            )),
            "{cef}"
        );
        assert!(!cef.contains("cs4"), "no conduit, no conduit label: {cef}");
    }

    #[test]
    fn leef_uses_its_own_keys_and_separator() {
        let leef = leef(&alert());
        assert!(
            leef.starts_with(&format!(
                "LEEF:2.0|otsensor|otsensor|{VERSION}|OT-CMD-001|^|sev=8^name=Write | to a PLC^devTime=1705305601239^startTime=1705305601239^endTime=1705305602000^src=10.0.0.5^srcMAC=00:11:22:33:44:55^dst=10.0.1.9^proto=modbus^action=write_single_register^eventCount=4^msg=a=b next line^externalId=a12^sensorId=s1^zones=ops,cell^iec62443=SR 5.2,SR 2.1^mitre=T0855^alertId=A000007^detail=unit 1   reg 40001^srcAsset=10.0.0.5^cat=raised"
            )),
            "{leef}"
        );
    }

    #[test]
    fn syslog_header_carries_priority_sensor_and_record_type() {
        let record = Record {
            kind: Kind::Alerts,
            id: "s1.a12.raised".into(),
            json: std::sync::Arc::from(serde_json::to_vec(&alert()).unwrap()),
        };
        let now = Timestamp::parse_rfc3339("2026-01-02T03:04:05.000006Z").unwrap();
        let render = |r: &Record| {
            String::from_utf8(message(r, AlertFormat::Cef, 16, "otsensor", now)).unwrap()
        };
        let message = render(&record);
        let pid = std::process::id();
        assert!(
            message.starts_with(&format!(
                "<131>1 2026-01-02T03:04:05.000006Z s1 otsensor {pid} alert - CEF:0|"
            )),
            "{message}"
        );
        let change = Record {
            kind: Kind::Assets,
            id: "s1.cabc".into(),
            json: std::sync::Arc::from(&br#"{"record":"change","sensor_id":"s1"}"#[..]),
        };
        let message = render(&change);
        assert!(
            message.ends_with(r#" change - {"record":"change","sensor_id":"s1"}"#),
            "{message}"
        );
        assert!(message.starts_with("<134>1 "), "{message}");
    }
}
