//! `stats.json`: what a replay counted, deterministically (no wall-clock
//! figures, so that runs with any thread count compare byte for byte).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::policy::Alert;
use crate::analysis::{ProtocolStats, Talker};
use crate::capture::{Damage, dlt_name};
use crate::flow::{FlowStats, TcpStats};
use crate::pipeline::{PacketStats, ReplayReport};

#[derive(Serialize)]
struct CaptureDoc<'a> {
    file: &'a str,
    format: Option<&'a str>,
    packets: u64,
    bytes_read: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    damage: Option<&'a Damage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unsupported_link_types: Vec<UnsupportedDoc>,
}

#[derive(Serialize)]
struct UnsupportedDoc {
    link_type: u32,
    name: &'static str,
    packets: u64,
}

#[derive(Serialize)]
struct DecodingDoc {
    /// Stream directions that ended inside an incomplete PDU.
    truncated_at_end: u64,
    /// TCP flows on a decoder's well-known port that no decoder recognised.
    undecoded_on_known_port: u64,
}

#[derive(Serialize)]
struct StatsDoc<'a> {
    captures: Vec<CaptureDoc<'a>>,
    first_packet: Option<String>,
    last_packet: Option<String>,
    traffic: &'a PacketStats,
    malformed_frames: &'a BTreeMap<&'static str, u64>,
    flows: &'a FlowStats,
    tcp: &'a TcpStats,
    decoding: DecodingDoc,
    events: u64,
    protocols: BTreeMap<&'static str, &'a ProtocolStats>,
    anomalies: BTreeMap<String, u64>,
    hosts: u64,
    top_talkers: &'a [Talker],
    alerts: AlertsDoc,
}

/// Alert counts; the alerts themselves are in alerts.jsonl.
#[derive(Serialize)]
struct AlertsDoc {
    total: usize,
    /// Raised but not kept once the per-run limit was reached.
    dropped: u64,
    by_severity: BTreeMap<&'static str, usize>,
    by_rule: BTreeMap<String, usize>,
}

impl AlertsDoc {
    fn new(alerts: &[Alert], dropped: u64) -> AlertsDoc {
        let mut doc = AlertsDoc {
            total: alerts.len(),
            dropped,
            by_severity: BTreeMap::new(),
            by_rule: BTreeMap::new(),
        };
        for alert in alerts {
            *doc.by_severity.entry(alert.severity.name()).or_default() += 1;
            *doc.by_rule.entry(alert.rule.clone()).or_default() += 1;
        }
        doc
    }
}

/// Writes the statistics document of `report` as pretty JSON.
pub fn write(report: &ReplayReport, out: &mut impl Write) -> io::Result<()> {
    let doc = StatsDoc {
        captures: report
            .captures
            .iter()
            .map(|c| CaptureDoc {
                file: &c.name,
                format: c.format,
                packets: c.packets,
                bytes_read: c.bytes_read,
                error: c.error.as_deref(),
                damage: c.damage.as_ref(),
                unsupported_link_types: c
                    .unsupported_link_types
                    .iter()
                    .map(|&(link_type, packets)| UnsupportedDoc {
                        link_type,
                        name: dlt_name(link_type),
                        packets,
                    })
                    .collect(),
            })
            .collect(),
        first_packet: report.first_ts.map(|t| t.to_string()),
        last_packet: report.last_ts.map(|t| t.to_string()),
        traffic: &report.packets,
        malformed_frames: &report.malformed,
        flows: &report.workers.flows,
        tcp: &report.workers.tcp,
        decoding: DecodingDoc {
            truncated_at_end: report.workers.truncated_at_end,
            undecoded_on_known_port: report.workers.undecoded_on_known_port,
        },
        events: report.findings.traffic.events,
        protocols: report
            .findings
            .traffic
            .protocols
            .iter()
            .map(|(p, s)| (p.name(), s))
            .collect(),
        anomalies: report
            .findings
            .traffic
            .anomalies
            .iter()
            .map(|((p, name), n)| (format!("{}.{name}", p.name()), *n))
            .collect(),
        hosts: report.findings.traffic.hosts,
        top_talkers: &report.findings.traffic.top_talkers,
        alerts: AlertsDoc::new(&report.findings.alerts, report.findings.alerts_dropped),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
