//! `alerts.jsonl`: one JSON object per alert, in the order they first
//! happened; and [`AlertRecord`], an alert as read back from it or from the store.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::analysis::policy::{Alert, Severity};
use crate::time::Timestamp;

pub fn write_jsonl(alerts: &[Alert], out: &mut impl Write) -> io::Result<()> {
    for alert in alerts {
        serde_json::to_writer(&mut *out, alert)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// An alert as written (same fields as `alerts.jsonl`), owned, for the store and reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    pub id: String,
    pub ts: Timestamp,
    pub last_ts: Timestamp,
    pub severity: String,
    pub rule: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub src: EndRecord,
    #[serde(default)]
    pub dst: EndRecord,
    #[serde(default)]
    pub zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conduit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default)]
    pub evidence: EvidenceRecord,
    #[serde(default)]
    pub iec62443: Vec<String>,
    #[serde(default)]
    pub mitre: Vec<String>,
    pub count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The name the address was looked up by (DNS answer or TLS server name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    #[serde(default)]
    pub zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl EndRecord {
    /// The address that identifies it: its IP, else its MAC, else empty.
    pub fn address(&self) -> &str {
        self.ip.as_deref().or(self.mac.as_deref()).unwrap_or("")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    #[serde(default)]
    pub packets: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AlertRecord {
    pub fn from_alert(alert: &Alert) -> AlertRecord {
        let value = serde_json::to_value(alert).expect("alerts serialise");
        serde_json::from_value(value).expect("an alert reads back as a record (tested)")
    }

    /// Unknown severities (a newer writer) rank lowest.
    pub fn severity(&self) -> Severity {
        Severity::from_name(&self.severity).unwrap_or(Severity::Info)
    }

    /// What makes an alert the same one in another run over the same traffic:
    /// its rule, its ends, its function and when it first happened.
    pub fn identity(&self) -> (String, String, String, String, String) {
        (
            self.rule.clone(),
            self.src.address().to_string(),
            self.dst.address().to_string(),
            self.function.clone().unwrap_or_default(),
            self.ts.to_string(),
        )
    }
}

/// Reads `alerts.jsonl`; a bad line is an error naming its line number.
pub fn read_jsonl(text: &str) -> Result<Vec<AlertRecord>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}
