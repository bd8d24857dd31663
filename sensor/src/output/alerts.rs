//! `alerts.jsonl`: one JSON object per alert, in the order they first
//! happened; and [`AlertRecord`], an alert as read back from it or from the store.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::analysis::inventory::format_mac;
use crate::analysis::policy::{Alert, AlertEnd, Severity};
use crate::time::Timestamp;

pub fn write_jsonl(alerts: &[Alert], out: &mut impl Write) -> io::Result<()> {
    for alert in alerts {
        serde_json::to_writer(&mut *out, alert)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// An alert as written (same fields as `alerts.jsonl`), owned: what the
/// store keeps and the dashboard shows.
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
    /// The record `alerts.jsonl` reads back as (field by field: see the `From` impl).
    pub fn from_alert(alert: &Alert) -> AlertRecord {
        AlertRecord::from(alert)
    }

    /// Unknown severities (a newer writer) rank lowest.
    pub fn severity(&self) -> Severity {
        Severity::from_name(&self.severity).unwrap_or(Severity::Info)
    }

    /// What stays the same when the same thing happens again, in this run or a
    /// later one: rule, ends and function (acknowledgements and mutes key on it).
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}>{}|{}",
            self.rule,
            self.src.address(),
            self.dst.address(),
            self.function.as_deref().unwrap_or_default()
        )
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

impl From<&AlertEnd> for EndRecord {
    fn from(end: &AlertEnd) -> EndRecord {
        EndRecord {
            ip: end.ip.map(|ip| ip.to_string()),
            mac: end.mac.as_ref().map(format_mac),
            name: end.name.clone(),
            asset: end.asset.clone(),
            zone: end.zone.clone(),
            role: end.role.map(str::to_string),
        }
    }
}

/// Field by field rather than through JSON: the dashboard converts the
/// latest alerts on the analysis thread several times a second.
impl From<&Alert> for AlertRecord {
    fn from(alert: &Alert) -> AlertRecord {
        AlertRecord {
            id: alert.id.clone(),
            ts: alert.ts,
            last_ts: alert.last_ts,
            severity: alert.severity.name().to_string(),
            rule: alert.rule.clone(),
            title: alert.title.clone(),
            description: alert.description.clone(),
            src: (&alert.src).into(),
            dst: (&alert.dst).into(),
            zones: alert.zones.clone(),
            conduit: alert.conduit.clone(),
            protocol: alert.protocol.map(str::to_string),
            function: alert.function.map(str::to_string),
            evidence: EvidenceRecord {
                packets: alert.evidence.packets.clone(),
                capture: alert.evidence.capture,
                flow: alert.evidence.flow,
                detail: alert.evidence.detail.clone(),
            },
            iec62443: alert.iec62443.clone(),
            mitre: alert.mitre.clone(),
            count: alert.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::policy::AlertEvidence as Evidence;

    fn alert() -> Alert {
        Alert {
            id: "A000007".into(),
            ts: Timestamp::from_secs(1_705_305_601),
            last_ts: Timestamp::from_secs(1_705_305_660),
            severity: Severity::High,
            rule: "OT-ZONE-002".into(),
            title: "Traffic the conduit does not permit".into(),
            description: String::new(),
            src: AlertEnd {
                ip: Some("10.10.1.50".parse().unwrap()),
                mac: Some([0, 0x14, 0x22, 0x5c, 0x7c, 0x29]),
                name: None,
                asset: Some("10.10.1.50".into()),
                zone: "control".into(),
                role: Some("it_host"),
            },
            dst: AlertEnd {
                ip: Some("10.10.2.1".parse().unwrap()),
                name: Some("plc1.plant.example".into()),
                zone: "field".into(),
                ..AlertEnd::default()
            },
            zones: vec!["control".into(), "field".into()],
            conduit: Some("control-field".into()),
            protocol: Some("http"),
            function: Some("get"),
            evidence: Evidence {
                packets: vec![812, 815],
                capture: None,
                flow: Some(810),
                detail: "http get".into(),
            },
            iec62443: vec!["SR 5.2".into()],
            mitre: vec!["T0886".into()],
            count: 2,
            seq: 812,
        }
    }

    #[test]
    fn a_written_alert_reads_back_as_its_record() {
        let alert = alert();
        let mut line = Vec::new();
        write_jsonl(std::slice::from_ref(&alert), &mut line).unwrap();
        let read: AlertRecord = serde_json::from_slice(&line).unwrap();
        assert_eq!(read, AlertRecord::from(&alert));
        assert_eq!(read.src.mac.as_deref(), Some("00:14:22:5c:7c:29"));
        assert_eq!(read.severity(), Severity::High);
        assert_eq!(read.dst.name.as_deref(), Some("plc1.plant.example"));
    }

    #[test]
    fn fingerprint_names_rule_ends_and_function() {
        let record = AlertRecord::from(&alert());
        assert_eq!(record.fingerprint(), "OT-ZONE-002|10.10.1.50>10.10.2.1|get");
        let mut later = record.clone();
        later.id = "A000100".into();
        later.count = 40;
        assert_eq!(later.fingerprint(), record.fingerprint());
    }
}
