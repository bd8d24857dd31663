//! Alerts: what a rule or the zone/conduit policy raised, with its evidence.

use std::net::IpAddr;

use serde::Serialize;

use crate::event::Mac;
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: &'static [Severity] = &[
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.iter().copied().find(|s| s.name() == name)
    }
}

/// One end of what an alert is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertEnd {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_mac"
    )]
    pub mac: Option<Mac>,
    /// The name the address was looked up by (DNS answer or TLS server name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The inventory's asset id (its first address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    pub zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
}

impl AlertEnd {
    /// The address an alert names this end by: its IP, else its MAC.
    pub fn label(&self) -> String {
        addr(self.ip, self.mac)
    }
}

/// An end's IP, else its MAC, else `-`.
pub fn addr(ip: Option<IpAddr>, mac: Option<Mac>) -> String {
    match (ip, mac) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(mac)) => crate::analysis::inventory::format_mac(&mac),
        (None, None) => "-".into(),
    }
}

/// Where an alert's evidence is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Packets (numbers within their capture) of the first occurrences.
    pub packets: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<u64>,
    /// What the rule saw, readably.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Packets kept as evidence per alert.
pub const EVIDENCE_PACKETS: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Stable within a run: `A` and the order in which alerts were raised.
    pub id: String,
    /// When it first happened.
    pub ts: Timestamp,
    /// When it last happened (repeats within the deduplication window are counted, not raised again).
    pub last_ts: Timestamp,
    pub severity: Severity,
    pub rule: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub src: AlertEnd,
    pub dst: AlertEnd,
    /// The zones involved (one, or two when crossing).
    pub zones: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conduit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<&'static str>,
    pub evidence: Evidence,
    pub iec62443: Vec<String>,
    pub mitre: Vec<String>,
    /// How many times it happened within the window.
    pub count: u64,
    /// The global packet index of the first occurrence (orders alerts; not written).
    #[serde(skip)]
    pub seq: u64,
}

fn serialize_mac<S: serde::Serializer>(mac: &Option<Mac>, s: S) -> Result<S::Ok, S::Error> {
    match mac {
        Some(mac) => s.serialize_str(&crate::analysis::inventory::format_mac(mac)),
        None => s.serialize_none(),
    }
}
