//! IEC 62443 zones and conduits, and detection rules: what the plant allows,
//! and what deserves an operator's attention. Policy is data (`rules/*.toml`,
//! schema in `docs/rules.md`), checked when loaded ([`load`]); the engine
//! ([`Engine`]) evaluates it over events, in packet order, and raises alerts.

mod alert;
pub mod baseline;
mod engine;
pub mod load;
mod memo;
mod pass_port;
mod schema;
mod thresholds;

use std::net::IpAddr;

use ipnet::IpNet;

pub use alert::{Alert, AlertEnd, Evidence as AlertEvidence, Severity};
pub use engine::{Engine, Outcome, is_builtin, is_public};
pub use load::{PolicyError, PolicyErrors, Source, load};
pub use pass_port::PassPort;

use crate::analysis::inventory::{ChangeKind, HostKey, Role};
use crate::event::{Classes, FunctionClass, Mac, Protocol};
use crate::time::Timestamp;

/// The implicit zone of every address outside the declared ones.
pub const UNTRUSTED: &str = "untrusted";

/// Zones, conduits and rules, checked.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub zones: Vec<Zone>,
    pub conduits: Vec<Conduit>,
    pub rules: Vec<Rule>,
    /// Ports the live prefilter passes beyond the decoders' (`[prefilter] pass_ports`).
    pub pass_ports: Vec<PassPort>,
    /// Built-in checks (OT-ZONE-*, OT-NET-001, OT-BASE-*) switched off by id.
    pub disabled_builtins: Vec<String>,
    /// Assets the plant tagged (`[[asset]]`), one entry per address.
    pub tagged: Vec<Tagged>,
}

/// An asset's address and the tags the plant gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tagged {
    pub address: HostKey,
    pub tags: Vec<String>,
}

impl Policy {
    /// The policy built into the sensor: the default rule pack, no zones.
    pub fn default_pack() -> Policy {
        load(&[Source::default_pack()]).expect("the built-in rule pack is valid (tested)")
    }

    pub fn zone_index(&self, name: &str) -> Option<usize> {
        self.zones.iter().position(|z| z.name == name)
    }

    /// The zone of an address: by IP first, then by MAC.
    pub fn zone_of(&self, ip: Option<IpAddr>, mac: Option<Mac>) -> Option<usize> {
        let by_ip = ip.and_then(|ip| {
            self.zones
                .iter()
                .position(|z| z.nets.iter().any(|n| n.contains(&ip)))
        });
        by_ip.or_else(|| mac.and_then(|mac| self.zones.iter().position(|z| z.macs.contains(&mac))))
    }

    /// The conduit joining two zones, if one is declared.
    pub fn conduit_between(&self, a: usize, b: usize) -> Option<usize> {
        self.conduits.iter().position(|c| {
            (c.zones[0] == a && c.zones[1] == b) || (c.zones[0] == b && c.zones[1] == a)
        })
    }

    /// Whether the asset at `ip` (or, without IP, at `mac`) carries `tag`.
    pub fn has_tag(&self, ip: Option<IpAddr>, mac: Option<Mac>, tag: &str) -> bool {
        self.tagged.iter().any(|t| {
            let here = match t.address {
                HostKey::Ip(at) => ip == Some(at),
                HostKey::Mac(at) => mac == Some(at),
            };
            here && t.tags.iter().any(|t| t == tag)
        })
    }

    /// The tags of an asset with these addresses, sorted, each once.
    pub fn tags_of(&self, ips: &[IpAddr], macs: &[Mac]) -> Vec<String> {
        let mut tags: Vec<String> = self
            .tagged
            .iter()
            .filter(|t| match t.address {
                HostKey::Ip(ip) => ips.contains(&ip),
                HostKey::Mac(mac) => macs.contains(&mac),
            })
            .flat_map(|t| t.tags.iter().cloned())
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }

    pub fn zone_name(&self, zone: Option<usize>) -> &str {
        zone.and_then(|z| self.zones.get(z))
            .map_or(UNTRUSTED, |z| z.name.as_str())
    }
}

/// A security zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub description: String,
    pub nets: Vec<IpNet>,
    pub macs: Vec<Mac>,
    /// Target security level, SL-T 1–4.
    pub security_level: u8,
    pub purdue_level: Option<u8>,
}

/// A conduit: two zones and what may cross between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conduit {
    pub name: String,
    pub description: String,
    pub zones: [usize; 2],
    /// The zone that may open connections; either when `None`.
    pub initiator: Option<usize>,
    pub allow: Vec<Allow>,
}

/// One permitted kind of traffic on a conduit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    pub protocols: Vec<Protocol>,
    /// All classes when `None`.
    pub classes: Option<Classes>,
    pub function_codes: Option<Vec<u32>>,
    /// Who may send write, control, program and firmware requests; anyone when `None`.
    pub writers: Option<Vec<Principal>>,
}

/// Function classes that change the process or the device.
pub const ACTING: u16 = 1 << FunctionClass::Write as u16
    | 1 << FunctionClass::Control as u16
    | 1 << FunctionClass::Program as u16
    | 1 << FunctionClass::Firmware as u16;

/// Who an allowance names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Net(IpNet),
    Role(Role),
    /// Assets the plant tagged so (`[[asset]]`).
    Tag(String),
}

impl std::fmt::Display for Principal {
    /// As written in a policy file: `10.10.1.0/28`, `role:hmi`, `tag:scada`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Net(net) => write!(f, "{net}"),
            Principal::Role(role) => write!(f, "role:{}", role.name()),
            Principal::Tag(tag) => write!(f, "tag:{tag}"),
        }
    }
}

/// A detection rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub enabled: bool,
    pub trigger: Trigger,
    pub matcher: Matcher,
    /// Exceptions to `matcher`: the rule does not fire when any matches.
    pub unless: Vec<Matcher>,
    /// What takes a match back before it becomes an alert.
    pub cleared_by: Option<Clearing>,
    /// What one alert stands for; repeats within the deduplication window count on it.
    pub alert_per: AlertPer,
    pub threshold: Option<Threshold>,
    pub iec62443: Vec<String>,
    pub mitre: Vec<String>,
}

impl Rule {
    /// A rule that only switches off an earlier one of the same id.
    fn disabled(id: String) -> Rule {
        Rule {
            id,
            title: String::new(),
            description: String::new(),
            severity: Severity::Info,
            enabled: false,
            trigger: Trigger::Event,
            matcher: Matcher::default(),
            unless: Vec::new(),
            cleared_by: None,
            alert_per: AlertPer::Function,
            threshold: None,
            iec62443: Vec::new(),
            mitre: Vec::new(),
        }
    }
}

/// An event that, seen between the same two hosts within `within` of a
/// match, takes the match back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clearing {
    pub matcher: Matcher,
    pub within: Timestamp,
}

/// What one alert of a rule stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertPer {
    /// A source, a destination and a function (the default).
    Function,
    /// A source and a destination.
    Pair,
    Src,
    Dst,
}

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Every application PDU.
    Event,
    /// The first packet from each side of every flow, decoded or not.
    Flow,
    /// Changes the inventory records.
    AssetChange,
}

/// Conditions a rule puts on an event (all must hold; `None` is no condition).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matcher {
    pub protocols: Option<Vec<Protocol>>,
    pub functions: Option<Vec<&'static str>>,
    pub function_codes: Option<Vec<u32>>,
    pub classes: Option<Classes>,
    pub is_response: Option<bool>,
    /// Empty: any anomaly.
    pub anomalies: Option<Vec<&'static str>>,
    pub src: Option<Vec<IpNet>>,
    pub dst: Option<Vec<IpNet>>,
    pub dst_ports: Option<Vec<u16>>,
    /// Zone indexes; `None` inside is the untrusted zone.
    pub src_zone: Option<Vec<Option<usize>>>,
    pub dst_zone: Option<Vec<Option<usize>>>,
    pub src_role: Option<Vec<Role>>,
    pub dst_role: Option<Vec<Role>>,
    pub cross_zone: Option<bool>,
    pub credentials: Option<bool>,
    /// Protocol fields and the values (any of) each must have.
    pub fields: Option<Vec<(String, Vec<FieldValue>)>>,
    pub changes: Option<Vec<ChangeKind>>,
}

/// A value a protocol field must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Number(u64),
    Text(String),
    Bool(bool),
}

/// Count matches within a window before alerting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub count: u32,
    pub window: Timestamp,
    pub by: By,
    pub distinct: Option<Distinct>,
}

impl Threshold {
    /// `"20 different dst within 60s per src"`.
    pub fn describe(&self) -> String {
        let what = match &self.distinct {
            None => "times".to_string(),
            Some(Distinct::Dst) => "different dst".to_string(),
            Some(Distinct::DstPort) => "different dst_port".to_string(),
            Some(Distinct::FunctionCode) => "different function_code".to_string(),
            Some(Distinct::Field(name)) => format!("different {name}"),
        };
        let by = match self.by {
            By::Src => "src",
            By::Dst => "dst",
            By::Pair => "pair",
            By::Flow => "flow",
            By::Conduit => "conduit",
        };
        format!(
            "{} {what} within {}s per {by}",
            self.count,
            self.window.0 / 1_000_000_000
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Src,
    Dst,
    Pair,
    Flow,
    Conduit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Distinct {
    Dst,
    DstPort,
    FunctionCode,
    /// A protocol field, by name.
    Field(String),
}

#[cfg(test)]
mod tests;
