//! Observed conduits as reported (`conduits.json`, the store, the compliance
//! report): plain data, sorted, that adds up across runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::declared::{DeclaredConduit, DeclaredPolicy};
use crate::analysis::inventory::{Asset, format_mac};
use crate::analysis::policy::Policy;
use crate::time::Timestamp;

/// Talker pairs listed per zone pair; the others are summed up.
pub const TOP_TALKERS: usize = 20;
/// Undecoded services listed per zone pair; the others are summed up.
pub const MAX_SERVICES: usize = 64;

/// What crossed between zones, and the zones' assets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservedConduits {
    /// The zones and conduits of the policy the traffic was judged by.
    pub declared: DeclaredPolicy,
    /// Each zone (declared ones first, then `untrusted` and `unzoned`) with its assets.
    pub zones: Vec<ZoneAssets>,
    /// Traffic by (initiating zone, responding zone), sorted.
    pub pairs: Vec<ZonePair>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneAssets {
    pub zone: String,
    pub assets: Vec<ZoneAsset>,
}

/// An inventory asset, as a zone lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneAsset {
    pub id: String,
    pub role: String,
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub macs: Vec<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub firmware: Option<String>,
}

impl ZoneAsset {
    pub fn from_asset(asset: &Asset) -> ZoneAsset {
        ZoneAsset {
            id: asset.id.clone(),
            role: asset.role.name().to_string(),
            ips: asset.ips.iter().map(|ip| ip.to_string()).collect(),
            macs: asset.macs.iter().map(format_mac).collect(),
            vendor: asset
                .field("vendor")
                .or(asset.mac_vendor)
                .map(str::to_string),
            model: asset
                .field("product")
                .or(asset.field("product_code"))
                .or(asset.field("order_number"))
                .map(str::to_string),
            firmware: asset.field("firmware").map(str::to_string),
        }
    }
}

/// Traffic from one zone's initiators (clients, requesters) to another zone's responders.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ZonePair {
    pub from: String,
    pub to: String,
    /// The declared conduit joining the two zones, with what it allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conduit: Option<DeclaredConduit>,
    /// Application PDUs (events).
    pub events: u64,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// Decoded protocols, by name.
    pub protocols: Vec<ProtocolCrossing>,
    /// Flows no decoder recognised, by transport and server port.
    pub services: Vec<ServiceCrossing>,
    /// Services beyond [`MAX_SERVICES`], summed up.
    #[serde(default)]
    pub other_services: ServiceCrossing,
    /// The busiest talker pairs (by events, then flows), at most [`TOP_TALKERS`].
    pub talkers: Vec<Talker>,
    #[serde(default)]
    pub other_talkers: OtherTalkers,
}

impl ZonePair {
    pub fn crosses(&self) -> bool {
        self.from != self.to
    }

    /// Adds what another run saw between the same zones.
    pub fn merge(&mut self, other: &ZonePair) {
        if other.conduit.is_some() {
            self.conduit = other.conduit.clone();
        }
        self.events += other.events;
        self.flows += other.flows;
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first_seen = min_ts(self.first_seen, other.first_seen);
        self.last_seen = max_ts(self.last_seen, other.last_seen);
        for theirs in &other.protocols {
            match self
                .protocols
                .iter_mut()
                .find(|p| p.protocol == theirs.protocol)
            {
                Some(ours) => ours.merge(theirs),
                None => self.protocols.push(theirs.clone()),
            }
        }
        self.protocols.sort_by(|a, b| a.protocol.cmp(&b.protocol));
        let mut services: BTreeMap<String, ServiceCrossing> = BTreeMap::new();
        for s in self.services.iter().chain(&other.services) {
            let entry = services
                .entry(s.service.clone())
                .or_insert_with(|| ServiceCrossing {
                    service: s.service.clone(),
                    ..ServiceCrossing::default()
                });
            entry.flows += s.flows;
            entry.bytes += s.bytes;
        }
        self.other_services.flows += other.other_services.flows;
        self.other_services.bytes += other.other_services.bytes;
        let (kept, rest) = top_services(services.into_values().collect());
        self.services = kept;
        self.other_services.flows += rest.flows;
        self.other_services.bytes += rest.bytes;
        let mut talkers: BTreeMap<(String, String), Talker> = BTreeMap::new();
        for t in self.talkers.iter().chain(&other.talkers) {
            talkers
                .entry((t.src.clone(), t.dst.clone()))
                .and_modify(|ours| ours.merge(t))
                .or_insert_with(|| t.clone());
        }
        self.other_talkers.merge(&other.other_talkers);
        let (kept, rest) = top_talkers(talkers.into_values().collect());
        self.talkers = kept;
        self.other_talkers.merge(&rest);
    }
}

/// One decoded protocol between two zones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolCrossing {
    pub protocol: String,
    pub events: u64,
    pub requests: u64,
    pub responses: u64,
    /// Flows this protocol was recognised on (counted when they end).
    pub flows: u64,
    pub bytes: u64,
    /// Function classes of the requests (and unsolicited sends), with counts.
    pub classes: BTreeMap<String, u64>,
    /// Functions of all PDUs, with counts.
    pub functions: BTreeMap<String, u64>,
    /// Security-relevant observations with counts: `cleartext_credentials`,
    /// `snmp_v1`, `snmp_v2c`, `opcua_security_none`, `dnp3_secure_authentication`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security: BTreeMap<String, u64>,
}

impl ProtocolCrossing {
    fn merge(&mut self, other: &ProtocolCrossing) {
        self.events += other.events;
        self.requests += other.requests;
        self.responses += other.responses;
        self.flows += other.flows;
        self.bytes += other.bytes;
        for (maps, theirs) in [
            (&mut self.classes, &other.classes),
            (&mut self.functions, &other.functions),
            (&mut self.security, &other.security),
        ] {
            for (name, n) in theirs {
                *maps.entry(name.clone()).or_default() += n;
            }
        }
    }

    /// Requests of classes that change the process or the device.
    pub fn acting_requests(&self) -> u64 {
        self.classes
            .iter()
            .filter(|(c, _)| super::declared::is_acting(c))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Flows of a service no decoder recognised (`tcp/8080`, `udp/161`, `ethertype 0x88cc`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCrossing {
    pub service: String,
    pub flows: u64,
    pub bytes: u64,
}

/// Who talked to whom, from the initiator (client, requester) to the responder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Talker {
    pub src: String,
    pub dst: String,
    pub events: u64,
    pub flows: u64,
    pub bytes: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

impl Talker {
    fn merge(&mut self, other: &Talker) {
        self.events += other.events;
        self.flows += other.flows;
        self.bytes += other.bytes;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
    }
}

/// Talker pairs not listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherTalkers {
    /// Pairs known but not among the busiest.
    pub pairs: u64,
    pub events: u64,
    pub flows: u64,
    pub bytes: u64,
    /// Some traffic came from pairs beyond the tracking budget: `pairs` is a lower bound.
    #[serde(default)]
    pub untracked: bool,
}

impl OtherTalkers {
    fn merge(&mut self, other: &OtherTalkers) {
        self.pairs += other.pairs;
        self.events += other.events;
        self.flows += other.flows;
        self.bytes += other.bytes;
        self.untracked |= other.untracked;
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0 && self.flows == 0 && self.bytes == 0 && self.pairs == 0
    }
}

/// The busiest talkers (most events, then flows, then bytes; ties by address),
/// and the rest summed up.
pub fn top_talkers(mut talkers: Vec<Talker>) -> (Vec<Talker>, OtherTalkers) {
    talkers.sort_by(|a, b| {
        (b.events, b.flows, b.bytes)
            .cmp(&(a.events, a.flows, a.bytes))
            .then_with(|| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)))
    });
    let mut rest = OtherTalkers::default();
    for t in talkers.iter().skip(TOP_TALKERS) {
        rest.pairs += 1;
        rest.events += t.events;
        rest.flows += t.flows;
        rest.bytes += t.bytes;
    }
    talkers.truncate(TOP_TALKERS);
    (talkers, rest)
}

/// The services with most flows (then bytes, then name), and the rest summed up.
pub fn top_services(mut services: Vec<ServiceCrossing>) -> (Vec<ServiceCrossing>, ServiceCrossing) {
    services.sort_by(|a, b| {
        (b.flows, b.bytes)
            .cmp(&(a.flows, a.bytes))
            .then_with(|| a.service.cmp(&b.service))
    });
    let mut rest = ServiceCrossing::default();
    for s in services.iter().skip(MAX_SERVICES) {
        rest.flows += s.flows;
        rest.bytes += s.bytes;
    }
    services.truncate(MAX_SERVICES);
    services.sort_by(|a, b| a.service.cmp(&b.service));
    (services, rest)
}

impl ObservedConduits {
    /// Adds another run's pairs; its declared policy replaces this one's when it declares zones.
    pub fn merge(&mut self, other: &ObservedConduits) {
        if !other.declared.zones.is_empty() {
            self.declared = other.declared.clone();
        }
        for theirs in &other.pairs {
            match self
                .pairs
                .iter_mut()
                .find(|p| p.from == theirs.from && p.to == theirs.to)
            {
                Some(ours) => ours.merge(theirs),
                None => self.pairs.push(theirs.clone()),
            }
        }
        self.pairs
            .sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    }

    /// Places assets in the declared zones again, and attaches the declared
    /// conduits to the pairs (after the policy changed, or after a merge).
    pub fn rejudge(&mut self, declared: DeclaredPolicy, assets: &[ZoneAsset]) {
        let lookup = declared.zone_lookup();
        self.zones = zone_assets(&lookup, assets);
        for pair in &mut self.pairs {
            pair.conduit = declared.conduit_between(&pair.from, &pair.to).cloned();
            if pair.from == pair.to {
                pair.conduit = None;
            }
        }
        self.declared = declared;
    }

    pub fn pair(&self, from: &str, to: &str) -> Option<&ZonePair> {
        self.pairs.iter().find(|p| p.from == from && p.to == to)
    }
}

/// Each zone with the assets that have an address in it: the declared zones
/// in order (even empty), then `untrusted` and `unzoned` when they hold any.
/// An asset with addresses in several zones is listed in each.
pub fn zone_assets(policy: &Policy, assets: &[ZoneAsset]) -> Vec<ZoneAssets> {
    let labels = super::Labels::new(policy);
    let mut zones: Vec<ZoneAssets> = labels
        .names()
        .map(|zone| ZoneAssets {
            zone: zone.to_string(),
            assets: Vec::new(),
        })
        .collect();
    for asset in assets {
        let mut placed: Vec<usize> = Vec::new();
        let ips = asset.ips.iter().filter_map(|ip| ip.parse().ok());
        for ip in ips {
            placed.push(labels.of(policy, Some(ip), None));
        }
        if placed.is_empty() {
            for mac in asset
                .macs
                .iter()
                .filter_map(|m| crate::analysis::inventory::parse_mac(m))
            {
                placed.push(labels.of(policy, None, Some(mac)));
            }
        }
        if placed.is_empty() {
            placed.push(labels.unzoned());
        }
        placed.sort_unstable();
        placed.dedup();
        for at in placed {
            zones[at].assets.push(asset.clone());
        }
    }
    for zone in &mut zones {
        zone.assets.sort_by(|a, b| asset_order(&a.id, &b.id));
    }
    let declared = policy.zones.len();
    zones
        .into_iter()
        .enumerate()
        .filter(|(i, z)| *i < declared || !z.assets.is_empty())
        .map(|(_, z)| z)
        .collect()
}

/// Assets by address: IPs numerically, then MACs.
fn asset_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |id: &str| {
        (
            id.parse::<std::net::IpAddr>().is_err(),
            id.parse::<std::net::IpAddr>().ok(),
            id.to_string(),
        )
    };
    key(a).cmp(&key(b))
}

fn min_ts(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_ts(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    a.max(b)
}
