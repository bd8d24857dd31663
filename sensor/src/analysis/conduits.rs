//! Observed conduits: what actually crossed between zones. Every event and
//! every ended flow is counted against the pair (initiating zone, responding
//! zone) of its two ends — protocols, function classes and names, flows,
//! bytes, talker pairs, security-relevant observations — so that the
//! compliance report can set what was declared beside what happened.
//!
//! Addresses outside every declared zone are `untrusted` when public and
//! `unzoned` otherwise. Memory is bounded whatever the input: zone pairs by
//! the policy, functions by the decoders' vocabulary, talker pairs and
//! undecoded services by fixed budgets (beyond them traffic is summed up).

mod declared;
mod observed;

pub use declared::{DeclaredAllow, DeclaredConduit, DeclaredPolicy, DeclaredZone, is_acting};
pub use observed::{
    ObservedConduits, OtherTalkers, ProtocolCrossing, ServiceCrossing, TOP_TALKERS, Talker,
    ZoneAsset, ZoneAssets, ZonePair, zone_assets,
};

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv6Addr};

use crate::analysis::inventory::{Asset, Inventory, format_mac};
use crate::analysis::policy::baseline::Addr;
use crate::analysis::policy::{Policy, UNTRUSTED, is_public};
use crate::event::{Event, FunctionClass, Mac, Nest, Protocol, Value, Visitor};
use crate::pipeline::FlowRecord;
use crate::time::Timestamp;

/// The zone of private addresses outside every declared zone.
pub const UNZONED: &str = "unzoned";

/// Talker pairs tracked per zone pair, and over all pairs; beyond, new pairs are only summed up.
const MAX_TALKERS_PER_PAIR: usize = 4096;
const MAX_TALKERS: usize = 65_536;
/// Undecoded services tracked per zone pair.
const MAX_SERVICES_TRACKED: usize = 1024;
/// Flows whose zones are remembered between their events; past it the memory starts afresh.
const MAX_CACHED_FLOWS: usize = 1 << 20;

/// Zone labels by index: the declared zones, then `untrusted`, then `unzoned`.
pub(crate) struct Labels {
    names: Vec<String>,
}

impl Labels {
    pub(crate) fn new(policy: &Policy) -> Labels {
        let mut names: Vec<String> = policy.zones.iter().map(|z| z.name.clone()).collect();
        names.push(UNTRUSTED.to_string());
        names.push(UNZONED.to_string());
        Labels { names }
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn len(&self) -> usize {
        self.names.len()
    }

    fn untrusted(&self) -> usize {
        self.names.len() - 2
    }

    pub(crate) fn unzoned(&self) -> usize {
        self.names.len() - 1
    }

    /// The label of an address: its zone, or `untrusted`/`unzoned`.
    pub(crate) fn of(&self, policy: &Policy, ip: Option<IpAddr>, mac: Option<Mac>) -> usize {
        match policy.zone_of(ip, mac) {
            Some(zone) => zone,
            None if ip.is_some_and(is_public) => self.untrusted(),
            None => self.unzoned(),
        }
    }

    /// Like [`Labels::of`]; a MAC address without IP (layer-2 traffic) is
    /// placed by the IP addresses the inventory saw at it, when they agree.
    fn locate(
        &self,
        policy: &Policy,
        inventory: &Inventory,
        ip: Option<IpAddr>,
        mac: Option<Mac>,
    ) -> usize {
        let label = self.of(policy, ip, mac);
        if ip.is_some() || label != self.unzoned() {
            return label;
        }
        let Some(mac) = mac else {
            return label;
        };
        let mut found = None;
        for ip in inventory.ips_at(&mac) {
            let zone = self.of(policy, Some(*ip), None);
            if found.is_some_and(|f| f != zone) {
                return self.unzoned();
            }
            found = Some(zone);
        }
        found.unwrap_or(label)
    }
}

/// A broadcast or multicast destination: it stays on the sender's segment,
/// so it is counted in the sender's zone.
fn is_group(ip: Option<IpAddr>, mac: Option<Mac>) -> bool {
    match ip {
        Some(IpAddr::V4(v4)) => v4.is_multicast() || v4.is_broadcast(),
        Some(IpAddr::V6(v6)) => v6.is_multicast(),
        None => mac.is_some_and(|m| m[0] & 1 == 1),
    }
}

/// One end of a talker pair as written: its IP address, else its MAC address.
fn addr_text(addr: Option<Addr>) -> String {
    match addr {
        Some(Addr::Ip(ip)) => ip.to_string(),
        Some(Addr::Mac(mac)) => format_mac(&mac),
        None => "-".to_string(),
    }
}

/// Security-relevant observations, by bit.
const NOTES: [&str; 5] = [
    "cleartext_credentials",
    "snmp_v1",
    "snmp_v2c",
    "opcua_security_none",
    "dnp3_secure_authentication",
];
const CLEARTEXT_CREDENTIALS: u8 = 1 << 0;
const SNMP_V1: u8 = 1 << 1;
const SNMP_V2C: u8 = 1 << 2;
const OPCUA_SECURITY_NONE: u8 = 1 << 3;
const DNP3_SECURE_AUTHENTICATION: u8 = 1 << 4;

/// What an event says about its own security, read from its fields (only
/// for the protocols that can say something: the others cost nothing).
fn security_notes(event: &Event) -> u8 {
    let pdu = &event.pdu;
    match pdu.protocol {
        Protocol::Dnp3 if pdu.function.starts_with("authenticate_") => DNP3_SECURE_AUTHENTICATION,
        Protocol::Snmp
        | Protocol::Opcua
        | Protocol::Bacnet
        | Protocol::Mms
        | Protocol::Ftp
        | Protocol::Mqtt
        | Protocol::Http
        | Protocol::Telnet => {
            let mut scan = NoteScan::default();
            pdu.fields.visit(&mut scan);
            let mut notes = 0;
            if scan.secret || (scan.password_present && scan.password_encrypted == Some(false)) {
                notes |= CLEARTEXT_CREDENTIALS;
            }
            if pdu.protocol == Protocol::Snmp {
                notes |= match scan.version {
                    Some(0) => SNMP_V1,
                    Some(1) => SNMP_V2C,
                    _ => 0,
                };
            }
            if pdu.protocol == Protocol::Opcua && scan.security_policy_none {
                notes |= OPCUA_SECURITY_NONE;
            }
            notes
        }
        _ => 0,
    }
}

#[derive(Default)]
struct NoteScan {
    depth: usize,
    secret: bool,
    version: Option<i64>,
    security_policy_none: bool,
    password_present: bool,
    password_encrypted: Option<bool>,
}

impl Visitor for NoteScan {
    fn field(&mut self, name: &str, value: Value<'_>) {
        if matches!(value, Value::Secret(_)) {
            self.secret = true;
        }
        if self.depth > 0 {
            return;
        }
        match (name, value) {
            ("version", Value::I64(v)) => self.version = Some(v),
            ("version", Value::U64(v)) => self.version = i64::try_from(v).ok(),
            ("security_policy", Value::Str(p)) => self.security_policy_none |= p == "None",
            ("password_present", Value::Bool(b)) => self.password_present |= b,
            ("password_encrypted", Value::Bool(b)) => self.password_encrypted = Some(b),
            _ => {}
        }
    }

    fn begin(&mut self, _: &str, _: Nest) {
        self.depth += 1;
    }

    fn end(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

#[derive(Default)]
struct ProtocolTally {
    events: u64,
    requests: u64,
    responses: u64,
    flows: u64,
    bytes: u64,
    /// Requests by class (`FunctionClass as usize`).
    classes: [u64; FunctionClass::ALL.len()],
    /// Few per protocol (the decoder's vocabulary): a list beats a map.
    functions: Vec<(&'static str, u64)>,
    notes: [u64; NOTES.len()],
}

impl ProtocolTally {
    fn used(&self) -> bool {
        self.events > 0 || self.flows > 0
    }

    fn function(&mut self, name: &'static str) {
        super::count_name(&mut self.functions, name);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ServiceKey {
    Tcp(u16),
    Udp(u16),
    Ip(u8),
    Ether(u16),
}

impl ServiceKey {
    fn name(self) -> String {
        match self {
            ServiceKey::Tcp(port) => format!("tcp/{port}"),
            ServiceKey::Udp(port) => format!("udp/{port}"),
            ServiceKey::Ip(1) => "icmp".to_string(),
            ServiceKey::Ip(58) => "icmpv6".to_string(),
            ServiceKey::Ip(proto) => format!("ip/{proto}"),
            ServiceKey::Ether(ether_type) => format!("ethertype 0x{ether_type:04x}"),
        }
    }
}

struct TalkerTally {
    src: Option<Addr>,
    dst: Option<Addr>,
    events: u64,
    flows: u64,
    bytes: u64,
    first: Timestamp,
    last: Timestamp,
}

struct PairTally {
    from: usize,
    to: usize,
    events: u64,
    flows: u64,
    packets: u64,
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    protocols: Vec<ProtocolTally>,
    services: HashMap<ServiceKey, (u64, u64)>,
    other_services: (u64, u64),
    talkers: Vec<TalkerTally>,
    talker_index: HashMap<(Option<Addr>, Option<Addr>), u32>,
    /// Events, flows and bytes of talker pairs beyond the budget.
    untracked: (u64, u64, u64),
}

impl PairTally {
    fn new(from: usize, to: usize) -> PairTally {
        PairTally {
            from,
            to,
            events: 0,
            flows: 0,
            packets: 0,
            bytes: 0,
            first: None,
            last: None,
            protocols: Protocol::ALL
                .iter()
                .map(|_| ProtocolTally::default())
                .collect(),
            services: HashMap::new(),
            other_services: (0, 0),
            talkers: Vec::new(),
            talker_index: HashMap::new(),
            untracked: (0, 0, 0),
        }
    }

    fn seen(&mut self, ts: Timestamp) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
    }

    /// The talker pair's index, tracking it when the budgets allow.
    fn talker(
        &mut self,
        src: Option<Addr>,
        dst: Option<Addr>,
        ts: Timestamp,
        budget: &mut usize,
    ) -> Option<u32> {
        if let Some(&at) = self.talker_index.get(&(src, dst)) {
            return Some(at);
        }
        if self.talkers.len() >= MAX_TALKERS_PER_PAIR || *budget >= MAX_TALKERS {
            return None;
        }
        *budget += 1;
        let at = self.talkers.len() as u32;
        self.talkers.push(TalkerTally {
            src,
            dst,
            events: 0,
            flows: 0,
            bytes: 0,
            first: ts,
            last: ts,
        });
        self.talker_index.insert((src, dst), at);
        Some(at)
    }

    fn talker_add(&mut self, at: Option<u32>, ts: Timestamp, events: u64, flows: u64, bytes: u64) {
        match at {
            Some(at) => {
                let t = &mut self.talkers[at as usize];
                t.events += events;
                t.flows += flows;
                t.bytes += bytes;
                t.first = t.first.min(ts);
                t.last = t.last.max(ts);
            }
            None => {
                self.untracked.0 += events;
                self.untracked.1 += flows;
                self.untracked.2 += bytes;
            }
        }
    }

    fn report(self, labels: &Labels, declared: &DeclaredPolicy) -> ZonePair {
        let from = labels.names[self.from].clone();
        let to = labels.names[self.to].clone();
        let conduit = if self.from == self.to {
            None
        } else {
            declared.conduit_between(&from, &to).cloned()
        };
        let protocols = Protocol::ALL
            .iter()
            .zip(self.protocols)
            .filter(|(_, t)| t.used())
            .map(|(p, t)| ProtocolCrossing {
                protocol: p.name().to_string(),
                events: t.events,
                requests: t.requests,
                responses: t.responses,
                flows: t.flows,
                bytes: t.bytes,
                classes: FunctionClass::ALL
                    .iter()
                    .zip(t.classes)
                    .filter(|(_, n)| *n > 0)
                    .map(|(c, n)| (c.name().to_string(), n))
                    .collect(),
                functions: t
                    .functions
                    .iter()
                    .map(|(f, n)| (f.to_string(), *n))
                    .collect(),
                security: NOTES
                    .iter()
                    .zip(t.notes)
                    .filter(|(_, n)| *n > 0)
                    .map(|(name, n)| (name.to_string(), n))
                    .collect(),
            });
        let mut protocols: Vec<ProtocolCrossing> = protocols.collect();
        protocols.sort_by(|a, b| a.protocol.cmp(&b.protocol));
        let services = self
            .services
            .into_iter()
            .map(|(key, (flows, bytes))| ServiceCrossing {
                service: key.name(),
                flows,
                bytes,
            })
            .collect();
        let (services, mut other_services) = observed::top_services(services);
        other_services.flows += self.other_services.0;
        other_services.bytes += self.other_services.1;
        let talkers = self
            .talkers
            .into_iter()
            .map(|t| Talker {
                src: addr_text(t.src),
                dst: addr_text(t.dst),
                events: t.events,
                flows: t.flows,
                bytes: t.bytes,
                first_seen: t.first,
                last_seen: t.last,
            })
            .collect();
        let (talkers, mut other_talkers) = observed::top_talkers(talkers);
        let (events, flows, bytes) = self.untracked;
        if events + flows + bytes > 0 {
            other_talkers.untracked = true;
            other_talkers.events += events;
            other_talkers.flows += flows;
            other_talkers.bytes += bytes;
        }
        ZonePair {
            from,
            to,
            conduit,
            events: self.events,
            flows: self.flows,
            packets: self.packets,
            bytes: self.bytes,
            first_seen: self.first,
            last_seen: self.last,
            protocols,
            services,
            other_services,
            talkers,
            other_talkers,
        }
    }
}

/// A flow's two ends as its first event gave them (see [`end_bits`]), and its labels.
#[derive(Clone, Copy)]
struct FlowZones {
    a: u128,
    b: u128,
    /// Pair and talker when `a` is the requester, and when `b` is.
    forward: Option<(u32, Option<u32>)>,
    backward: Option<(u32, Option<u32>)>,
}

/// An end as one integer, to tell a flow's ends apart cheaply: both ends
/// are the flow's, so addresses that share an integer (see [`Addr::bits`])
/// never meet here.
fn end_bits(ip: Option<IpAddr>, mac: Option<Mac>) -> u128 {
    Addr::bits_of(Addr::of(ip, mac))
}

/// Flow ids are packet indexes: spread them with one multiplication.
#[derive(Default)]
struct FlowIdHasher(u64);

impl Hasher for FlowIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        let full = u128::from(n ^ self.0) * 0x9E37_79B9_7F4A_7C15u128;
        self.0 = (full as u64) ^ ((full >> 64) as u64);
    }
}

/// The running tally of what crossed between zones.
pub struct ConduitMap {
    labels: Labels,
    /// Pair tally index by `from * labels + to`, or `u32::MAX`.
    index: Vec<u32>,
    pairs: Vec<PairTally>,
    talkers: usize,
    flows: HashMap<u64, FlowZones, BuildHasherDefault<FlowIdHasher>>,
}

impl ConduitMap {
    pub fn new(policy: &Policy) -> ConduitMap {
        let labels = Labels::new(policy);
        let n = labels.len();
        ConduitMap {
            labels,
            index: vec![u32::MAX; n * n],
            pairs: Vec::new(),
            talkers: 0,
            flows: HashMap::default(),
        }
    }

    fn pair(&mut self, from: usize, to: usize) -> u32 {
        let slot = from * self.labels.len() + to;
        if self.index[slot] == u32::MAX {
            self.index[slot] = self.pairs.len() as u32;
            self.pairs.push(PairTally::new(from, to));
        }
        self.index[slot]
    }

    /// The label of an event's destination: a group address stays in the sender's zone.
    fn destination(
        &self,
        policy: &Policy,
        inventory: &Inventory,
        ip: Option<IpAddr>,
        mac: Option<Mac>,
        sender: usize,
    ) -> usize {
        let label = self.labels.locate(policy, inventory, ip, mac);
        if label >= self.labels.untrusted() && is_group(ip, mac) {
            sender
        } else {
            label
        }
    }

    /// One application PDU, counted from its requester's zone to its responder's.
    pub fn event(&mut self, event: &Event, policy: &Policy, inventory: &Inventory) {
        let h = &event.header;
        let (src, dst) = (end_bits(h.src_ip, h.src_mac), end_bits(h.dst_ip, h.dst_mac));
        let cached = self
            .flows
            .get(&h.flow)
            .filter(|z| (z.a == src && z.b == dst) || (z.a == dst && z.b == src))
            .copied();
        let mut zones = match cached {
            Some(zones) => zones,
            None => {
                if self.flows.len() >= MAX_CACHED_FLOWS {
                    self.flows.clear();
                }
                FlowZones {
                    a: src,
                    b: dst,
                    forward: None,
                    backward: None,
                }
            }
        };
        // The requester is the sender of a request and the receiver of a response.
        let a_requests = (zones.a == src) != event.pdu.is_response;
        let known = if a_requests {
            zones.forward
        } else {
            zones.backward
        };
        let (pair, talker) = match known {
            Some(known) => known,
            None => {
                let s = self.labels.locate(policy, inventory, h.src_ip, h.src_mac);
                let d = self.destination(policy, inventory, h.dst_ip, h.dst_mac, s);
                let (src, dst) = (Addr::of(h.src_ip, h.src_mac), Addr::of(h.dst_ip, h.dst_mac));
                let (from, to, requester, responder) = if event.pdu.is_response {
                    (d, s, dst, src)
                } else {
                    (s, d, src, dst)
                };
                let pair = self.pair(from, to);
                let talker =
                    self.pairs[pair as usize].talker(requester, responder, h.ts, &mut self.talkers);
                if a_requests {
                    zones.forward = Some((pair, talker));
                } else {
                    zones.backward = Some((pair, talker));
                }
                self.flows.insert(h.flow, zones);
                (pair, talker)
            }
        };
        let tally = &mut self.pairs[pair as usize];
        tally.events += 1;
        tally.seen(h.ts);
        tally.talker_add(talker, h.ts, 1, 0, 0);
        let pdu = &event.pdu;
        let p = &mut tally.protocols[pdu.protocol as usize];
        p.events += 1;
        if pdu.is_response {
            p.responses += 1;
        } else {
            p.requests += 1;
            p.classes[pdu.class as usize] += 1;
        }
        p.function(pdu.function);
        let notes = security_notes(event);
        if notes != 0 {
            for (bit, n) in p.notes.iter_mut().enumerate() {
                *n += u64::from(notes >> bit & 1);
            }
        }
    }

    /// A flow that ended: counted from its client's zone to its server's.
    pub fn flow_ended(&mut self, flow: &FlowRecord, policy: &Policy, inventory: &Inventory) {
        self.flows.remove(&flow.id);
        let server = flow.client.other();
        let end = |side| {
            let addr = flow.key.endpoint(side).addr;
            if flow.key.ether_type == 0 {
                (Some(Ipv6Addr::from(addr).to_canonical()), None)
            } else {
                let mut mac = [0; 6];
                mac.copy_from_slice(&addr[..6]);
                (None, Some(mac))
            }
        };
        let (client_ip, client_mac) = end(flow.client);
        let (server_ip, server_mac) = end(server);
        let from = self.labels.locate(policy, inventory, client_ip, client_mac);
        let to = self.destination(policy, inventory, server_ip, server_mac, from);
        let pair = self.pair(from, to) as usize;
        let bytes = flow.bytes[0] + flow.bytes[1];
        let tally = &mut self.pairs[pair];
        tally.flows += 1;
        tally.packets += flow.packets[0] + flow.packets[1];
        tally.bytes += bytes;
        tally.seen(flow.first_seen);
        tally.seen(flow.last_seen);
        let talker = tally.talker(
            Addr::of(client_ip, client_mac),
            Addr::of(server_ip, server_mac),
            flow.first_seen,
            &mut self.talkers,
        );
        tally.talker_add(talker, flow.first_seen, 0, 1, bytes);
        tally.talker_add(talker, flow.last_seen, 0, 0, 0);
        match flow.protocol {
            Some(protocol) => {
                let p = &mut tally.protocols[protocol as usize];
                p.flows += 1;
                p.bytes += bytes;
            }
            None => {
                let port = flow.key.endpoint(server).port;
                let key = match (flow.key.ether_type, flow.key.proto) {
                    (0, 6) => ServiceKey::Tcp(port),
                    (0, 17) => ServiceKey::Udp(port),
                    (0, proto) => ServiceKey::Ip(proto),
                    (ether_type, _) => ServiceKey::Ether(ether_type),
                };
                let tracked = tally.services.len() < MAX_SERVICES_TRACKED
                    || tally.services.contains_key(&key);
                let counts = if tracked {
                    tally.services.entry(key).or_default()
                } else {
                    &mut tally.other_services
                };
                counts.0 += 1;
                counts.1 += bytes;
            }
        }
    }

    /// What crossed, sorted, with the zones' assets.
    pub fn finish(self, policy: &Policy, assets: &[Asset]) -> ObservedConduits {
        let declared = DeclaredPolicy::from_policy(policy);
        let mut pairs: Vec<ZonePair> = self
            .pairs
            .into_iter()
            .map(|p| p.report(&self.labels, &declared))
            .collect();
        pairs.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        let assets: Vec<ZoneAsset> = assets.iter().map(ZoneAsset::from_asset).collect();
        ObservedConduits {
            zones: zone_assets(policy, &assets),
            declared,
            pairs,
        }
    }
}

#[cfg(test)]
mod tests;
