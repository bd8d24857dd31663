//! The zone × zone view: for each pair of zones, whether a conduit is
//! declared, what was observed crossing it, and the alerts about it.
//!
//! A stopgap, kept apart so that it can be swapped for the observed-conduit
//! analysis when that lands: crossings come from the inventory (who used
//! which protocol with which peers; the request classes are those of the
//! client's use of the protocol with all its peers), so they cost nothing per
//! packet or flow and the same code reads a live analysis and a store. The
//! verdict on a crossing between declared zones is the policy engine's: a
//! conduit alert (`OT-ZONE-*`) about the pair and protocol makes it a violation.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use crate::analysis::inventory::{Asset, HostKey};
use crate::analysis::policy::{self, Policy};
use crate::event::{Classes, Protocol};
use crate::output::alerts::AlertRecord;

/// Outside every declared zone: public addresses.
pub const UNTRUSTED: &str = policy::UNTRUSTED;
/// Outside every declared zone: private, link-local and other local addresses.
pub const UNZONED: &str = "unzoned";
/// Crossings listed per pair of zones; beyond, they are counted.
const MAX_CROSSINGS: usize = 500;
/// Rules whose alerts are conduit violations (the built-in zone checks).
const VIOLATION_RULES: &str = "OT-ZONE-";

/// The zone of an address, by name, as alerts name it.
pub fn zone_label(policy: &Policy, ip: Option<IpAddr>, mac: Option<[u8; 6]>) -> String {
    match policy.zone_of(ip, mac) {
        Some(zone) => policy.zones[zone].name.clone(),
        None if ip.is_some_and(policy::is_public) => UNTRUSTED.to_string(),
        None => UNZONED.to_string(),
    }
}

/// The zone of an asset: that of its first IP address, else of its MAC address.
pub fn asset_zone(policy: &Policy, asset: &Asset) -> String {
    zone_label(
        policy,
        asset.ips.first().copied(),
        asset.macs.first().copied(),
    )
}

/// One client using a protocol with a server in the pair's zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crossing {
    pub client: String,
    pub client_zone: String,
    pub server: String,
    pub protocol: Protocol,
    /// Classes of the client's requests of this protocol (to all its servers).
    pub classes: Classes,
    pub verdict: Verdict,
}

/// What the policy says of a crossing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The engine raised a conduit alert about it.
    Violation,
    /// Between different zones that no declared conduit joins.
    NoConduit,
    Permitted,
    /// Within one zone.
    Within,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Violation => "VIOLATION",
            Verdict::NoConduit => "NO CONDUIT",
            Verdict::Permitted => "permitted",
            Verdict::Within => "within zone",
        }
    }

    pub fn is_problem(self) -> bool {
        matches!(self, Verdict::Violation | Verdict::NoConduit)
    }
}

/// A pair of zones (the same one twice for traffic within a zone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    /// The declared conduit's name.
    pub conduit: Option<String>,
    /// What the conduit allows, readably (`modbus: read, write`).
    pub allows: Vec<String>,
    pub crossings: Vec<Crossing>,
    pub crossings_untracked: u64,
    /// Alerts raised about traffic between the two zones, and how many of
    /// them are conduit violations.
    pub alerts: u64,
    pub violations: u64,
}

impl Cell {
    pub fn observed(&self) -> bool {
        !self.crossings.is_empty() || self.crossings_untracked > 0
    }
}

/// The matrix: zones in policy order, then the implicit ones that occur.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneMap {
    pub zones: Vec<ZoneLabel>,
    /// By (row, column) with row ≤ column.
    cells: BTreeMap<(usize, usize), Cell>,
    /// Whether the policy declares any zone.
    pub declared: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneLabel {
    pub name: String,
    /// Target security level, for declared zones.
    pub security_level: Option<u8>,
}

impl ZoneMap {
    pub fn build(policy: &Policy, assets: &[Asset], alerts: &[AlertRecord]) -> ZoneMap {
        let mut map = ZoneMap {
            zones: policy
                .zones
                .iter()
                .map(|z| ZoneLabel {
                    name: z.name.clone(),
                    security_level: Some(z.security_level),
                })
                .collect(),
            cells: BTreeMap::new(),
            declared: !policy.zones.is_empty(),
        };
        for conduit in &policy.conduits {
            let cell = map.cell_mut(conduit.zones[0], conduit.zones[1]);
            cell.conduit = Some(conduit.name.clone());
            cell.allows = conduit.allow.iter().map(describe_allow).collect();
        }
        // (address, address, protocol) of every conduit alert, in both orders.
        let mut violated: HashSet<(&str, &str, &str)> = HashSet::new();
        for alert in alerts
            .iter()
            .filter(|a| a.rule.starts_with(VIOLATION_RULES))
        {
            let protocol = alert.protocol.as_deref().unwrap_or_default();
            let (src, dst) = (alert.src.address(), alert.dst.address());
            violated.insert((src, dst, protocol));
            violated.insert((dst, src, protocol));
        }
        for asset in assets {
            let client_zone = asset_zone(policy, asset);
            let a = map.zone_index(&client_zone);
            let client_ips: Vec<String> = asset.ips.iter().map(|ip| ip.to_string()).collect();
            for (protocol, usage) in &asset.used {
                for peer in &usage.peers {
                    let (ip, mac) = match peer {
                        HostKey::Ip(ip) => (Some(*ip), None),
                        HostKey::Mac(mac) => (None, Some(*mac)),
                    };
                    let server = peer.to_string();
                    let server_zone = zone_label(policy, ip, mac);
                    let b = map.zone_index(&server_zone);
                    let verdict = if a == b {
                        Verdict::Within
                    } else if client_ips
                        .iter()
                        .any(|c| violated.contains(&(c.as_str(), server.as_str(), protocol.name())))
                    {
                        Verdict::Violation
                    } else if map.cell(a, b).is_some_and(|c| c.conduit.is_some()) {
                        Verdict::Permitted
                    } else {
                        Verdict::NoConduit
                    };
                    let cell = map.cell_mut(a, b);
                    if cell.crossings.len() < MAX_CROSSINGS {
                        cell.crossings.push(Crossing {
                            client: asset.id.clone(),
                            client_zone: client_zone.clone(),
                            server,
                            protocol: *protocol,
                            classes: usage.classes,
                            verdict,
                        });
                    } else {
                        cell.crossings_untracked += 1;
                    }
                }
            }
        }
        for cell in map.cells.values_mut() {
            // Problems first: they are what needs a look.
            cell.crossings.sort_by(|a, b| {
                (a.verdict, &a.client, &a.server, a.protocol)
                    .cmp(&(b.verdict, &b.client, &b.server, b.protocol))
            });
        }
        for alert in alerts {
            let zones = match alert.zones.as_slice() {
                [one] => (one, one),
                [a, b, ..] => (a, b),
                [] => continue,
            };
            let (a, b) = (map.zone_index(zones.0), map.zone_index(zones.1));
            let cell = map.cell_mut(a, b);
            cell.alerts += 1;
            cell.violations += u64::from(alert.rule.starts_with(VIOLATION_RULES));
        }
        map
    }

    /// The zone's position, adding an implicit zone the first time it occurs.
    fn zone_index(&mut self, name: &str) -> usize {
        match self.zones.iter().position(|z| z.name == name) {
            Some(i) => i,
            None => {
                self.zones.push(ZoneLabel {
                    name: name.to_string(),
                    security_level: None,
                });
                self.zones.len() - 1
            }
        }
    }

    fn cell_mut(&mut self, a: usize, b: usize) -> &mut Cell {
        self.cells.entry((a.min(b), a.max(b))).or_default()
    }

    /// The pair of zones `a` and `b` (in either order).
    pub fn cell(&self, a: usize, b: usize) -> Option<&Cell> {
        self.cells.get(&(a.min(b), a.max(b)))
    }

    /// Pairs with something to show, row-major.
    pub fn cells(&self) -> impl Iterator<Item = ((usize, usize), &Cell)> {
        self.cells.iter().map(|(k, v)| (*k, v))
    }
}

fn describe_allow(allow: &policy::Allow) -> String {
    let protocols: Vec<&str> = allow.protocols.iter().map(|p| p.name()).collect();
    let classes = match allow.classes {
        Some(classes) => classes
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", "),
        None => "any class".to_string(),
    };
    let mut text = format!("{}: {classes}", protocols.join(", "));
    if let Some(codes) = &allow.function_codes {
        let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
        text.push_str(&format!(" (codes {})", codes.join(", ")));
    }
    if let Some(writers) = &allow.writers {
        let names: Vec<String> = writers.iter().map(policy::Principal::to_string).collect();
        text.push_str(&format!("; writers {}", names.join(", ")));
    }
    text
}
