//! Assets as reported: hosts merged by the MAC addresses they share, with
//! their identity, role and traffic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize, Serializer};

use super::role::{Role, infer_role};
use super::{Change, Host, HostKey, Inventory, MAX_PEERS, Seen, Service, format_mac, oui};
use crate::event::{Classes, Mac, Protocol};
use crate::pipeline::FlowRecord;
use crate::time::Timestamp;

/// One identity field as a device gave it, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub value: String,
    pub source: Protocol,
    /// When and in which packet it was first said.
    pub first_seen: Seen,
    pub last_seen: Timestamp,
}

impl Evidence {
    pub(super) fn new(value: String, source: Protocol, seen: Seen) -> Evidence {
        Evidence {
            value,
            source,
            first_seen: seen,
            last_seen: seen.ts,
        }
    }
}

/// Hosts at the other end, in order and without repeats: a sorted vector,
/// as most hosts talk to a handful (a B-tree node has room for eleven, and
/// 100,000 hosts each with one peer made that most of the inventory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<HostKey>")]
pub struct PeerSet(Vec<HostKey>);

impl PeerSet {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, peer: &HostKey) -> bool {
        self.0.binary_search(peer).is_ok()
    }

    /// Adds `peer`; whether it was new.
    pub fn insert(&mut self, peer: HostKey) -> bool {
        match self.0.binary_search(&peer) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, peer);
                true
            }
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, HostKey> {
        self.0.iter()
    }
}

impl From<Vec<HostKey>> for PeerSet {
    fn from(mut peers: Vec<HostKey>) -> PeerSet {
        peers.sort_unstable();
        peers.dedup();
        PeerSet(peers)
    }
}

impl<'a> IntoIterator for &'a PeerSet {
    type Item = &'a HostKey;
    type IntoIter = std::slice::Iter<'a, HostKey>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Extend<HostKey> for PeerSet {
    fn extend<I: IntoIterator<Item = HostKey>>(&mut self, peers: I) {
        for peer in peers {
            self.insert(peer);
        }
    }
}

/// Usage by protocol, in protocol order: a sorted vector, as hosts speak a
/// few protocols (a B-tree node has room for eleven).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageMap(Vec<(Protocol, Usage)>);

impl UsageMap {
    /// The usage of `protocol`, added empty if there was none.
    pub fn get_or_default(&mut self, protocol: Protocol) -> &mut Usage {
        let at = match self.0.binary_search_by_key(&protocol, |(p, _)| *p) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (protocol, Usage::default()));
                at
            }
        };
        &mut self.0[at].1
    }

    pub fn get(&self, protocol: &Protocol) -> Option<&Usage> {
        let at = self.0.binary_search_by_key(protocol, |(p, _)| *p).ok()?;
        Some(&self.0[at].1)
    }

    pub fn contains_key(&self, protocol: &Protocol) -> bool {
        self.get(protocol).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &Protocol> {
        self.0.iter().map(|(p, _)| p)
    }

    pub fn values(&self) -> impl Iterator<Item = &Usage> {
        self.0.iter().map(|(_, u)| u)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Protocol, &Usage)> {
        self.0.iter().map(|(p, u)| (p, u))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<&Protocol> for UsageMap {
    type Output = Usage;

    fn index(&self, protocol: &Protocol) -> &Usage {
        self.get(protocol).expect("no usage of this protocol")
    }
}

type UsageEntries<'a> = std::iter::Map<
    std::slice::Iter<'a, (Protocol, Usage)>,
    fn(&'a (Protocol, Usage)) -> (&'a Protocol, &'a Usage),
>;

impl<'a> IntoIterator for &'a UsageMap {
    type Item = (&'a Protocol, &'a Usage);
    type IntoIter = UsageEntries<'a>;

    fn into_iter(self) -> UsageEntries<'a> {
        self.0.iter().map(|(p, u)| (p, u))
    }
}

impl FromIterator<(Protocol, Usage)> for UsageMap {
    fn from_iter<I: IntoIterator<Item = (Protocol, Usage)>>(entries: I) -> UsageMap {
        let mut map = UsageMap::default();
        for (protocol, usage) in entries {
            *map.get_or_default(protocol) = usage;
        }
        map
    }
}

/// As a map from protocol to usage, as the store has always kept it.
impl Serialize for UsageMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for UsageMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<UsageMap, D::Error> {
        Ok(BTreeMap::<Protocol, Usage>::deserialize(d)?
            .into_iter()
            .collect())
    }
}

/// How a host served or used one protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub flows: u64,
    /// Requests (or unsolicited sends) and responses in those flows.
    pub requests: u64,
    pub responses: u64,
    /// Classes of the requests.
    pub classes: Classes,
    /// The hosts on the other end.
    pub peers: PeerSet,
}

impl Usage {
    /// Adds a flow of this protocol, with `peer` at its other end.
    pub(super) fn add(&mut self, flow: &FlowRecord, peer: Option<HostKey>) {
        self.flows += 1;
        self.requests += flow.summary.pdus[0];
        self.responses += flow.summary.pdus[1];
        self.classes.0 |= flow.summary.classes[0];
        if let Some(peer) = peer
            && (self.peers.len() < MAX_PEERS || self.peers.contains(&peer))
        {
            self.peers.insert(peer);
        }
    }

    fn merge(&mut self, other: &Usage) {
        self.flows += other.flows;
        self.requests += other.requests;
        self.responses += other.responses;
        self.classes.0 |= other.classes.0;
        for peer in &other.peers {
            if self.peers.len() < MAX_PEERS {
                self.peers.insert(*peer);
            }
        }
    }
}

/// A device: one or more addresses, what it said about itself, what it does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Asset {
    /// Its first IP address, or MAC address for a device seen without IP.
    pub id: String,
    pub ips: Vec<IpAddr>,
    #[serde(serialize_with = "serialize_macs")]
    pub macs: Vec<Mac>,
    /// The vendor IEEE registered the first MAC address's block to.
    pub mac_vendor: Option<&'static str>,
    pub role: Role,
    /// Why the role was inferred, in words.
    pub role_reason: String,
    /// Purdue level from the role (zones may refine it).
    pub purdue_level: Option<u8>,
    /// Tags the plant's policy gives it (`[[asset]]`), when replayed with one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Identity fields with their evidence (`vendor`, `product`, `firmware`…).
    pub identity: BTreeMap<String, Evidence>,
    #[serde(serialize_with = "serialize_usage")]
    pub served: UsageMap,
    #[serde(serialize_with = "serialize_usage")]
    pub used: UsageMap,
    /// Transport ports served and used in flows no decoder recognised.
    pub services_served: BTreeSet<Service>,
    pub services_used: BTreeSet<Service>,
    pub peers: PeerSet,
    /// Peers beyond the ones listed.
    pub peers_untracked: u64,
    /// For a MAC address that forwards for others: how many IP addresses it carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwards_for: Option<usize>,
    pub first_seen: Seen,
    pub last_seen: Timestamp,
    pub flows: u64,
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub changes: Vec<Change>,
}

impl Asset {
    /// An asset with these addresses and nothing learnt about it yet.
    pub fn new(ips: Vec<IpAddr>, macs: Vec<Mac>, first_seen: Seen) -> Asset {
        Asset {
            id: match (ips.first(), macs.first()) {
                (Some(ip), _) => ip.to_string(),
                (None, Some(mac)) => format_mac(mac),
                (None, None) => String::new(),
            },
            mac_vendor: macs.first().and_then(oui::vendor),
            ips,
            macs,
            role: Role::Unknown,
            role_reason: String::new(),
            purdue_level: None,
            tags: Vec::new(),
            identity: BTreeMap::new(),
            served: UsageMap::default(),
            used: UsageMap::default(),
            services_served: BTreeSet::new(),
            services_used: BTreeSet::new(),
            peers: PeerSet::default(),
            peers_untracked: 0,
            forwards_for: None,
            first_seen,
            last_seen: first_seen.ts,
            flows: 0,
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
            changes: Vec::new(),
        }
    }

    /// Infers the role from what is known, with the Purdue level that goes with it.
    fn classify(&mut self) {
        let (role, reason) = infer_role(self);
        self.role = role;
        self.role_reason = reason;
        self.purdue_level = role.purdue_level();
    }

    /// An identity field's value, if known.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.identity.get(name).map(|e| e.value.as_str())
    }
}

/// Union-find over host indexes.
struct Groups(Vec<usize>);

impl Groups {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        // The earlier host stays the root, so groups are named by their first host.
        let (keep, other) = if a < b { (a, b) } else { (b, a) };
        self.0[other] = keep;
    }
}

/// One host on its own, as an asset: the role [`Inventory::role_of`] judges
/// in place must be this asset's.
#[cfg(test)]
pub(super) fn single(host: &Host) -> Asset {
    let (ips, macs) = match host.key {
        HostKey::Ip(ip) => (vec![ip], host.macs.clone()),
        HostKey::Mac(mac) => (Vec::new(), vec![mac]),
    };
    let mut asset = Asset::new(ips, macs, host.first_seen);
    absorb(&mut asset, host);
    asset.classify();
    asset
}

pub(super) fn merge(inventory: &Inventory) -> Vec<Asset> {
    let hosts = &inventory.hosts;
    let routers: BTreeMap<Mac, usize> = inventory
        .macs
        .iter()
        .filter(|(_, info)| info.is_router())
        .map(|(mac, info)| (*mac, info.ips.len()))
        .collect();
    let mut groups = Groups((0..hosts.len()).collect());
    let mut owner: HashMap<Mac, usize> = HashMap::new();
    for (i, host) in hosts.iter().enumerate() {
        if let HostKey::Mac(mac) = host.key {
            let first = *owner.entry(mac).or_insert(i);
            groups.join(first, i);
        }
        for mac in host.macs.iter().filter(|m| !routers.contains_key(*m)) {
            let first = *owner.entry(*mac).or_insert(i);
            groups.join(first, i);
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..hosts.len() {
        let root = groups.root(i);
        members.entry(root).or_default().push(i);
    }
    let mut assets: Vec<Asset> = members
        .values()
        .map(|group| asset(inventory, group, &routers))
        .collect();
    // Routers seen only as the MAC address of others' traffic are assets too.
    for (mac, addresses) in &routers {
        if !inventory.index.contains_key(&HostKey::Mac(*mac)) {
            assets.push(router(*mac, *addresses, &inventory.macs[mac]));
        }
    }
    assets.sort_by_key(sort_key);
    assets
}

fn sort_key(asset: &Asset) -> (Option<IpAddr>, Option<Mac>) {
    (asset.ips.first().copied(), asset.macs.first().copied())
}

fn asset(inventory: &Inventory, group: &[usize], routers: &BTreeMap<Mac, usize>) -> Asset {
    let hosts: Vec<&Host> = group.iter().map(|&i| &inventory.hosts[i]).collect();
    let mut ips = Vec::new();
    let mut macs = Vec::new();
    for host in &hosts {
        match host.key {
            HostKey::Ip(ip) => ips.push(ip),
            HostKey::Mac(mac) => macs.push(mac),
        }
        macs.extend(host.macs.iter().filter(|m| !routers.contains_key(*m)));
    }
    ips.sort();
    macs.sort();
    macs.dedup();
    let forwards_for = match (ips.is_empty(), hosts[0].key) {
        (true, HostKey::Mac(mac)) => routers.get(&mac).copied(),
        _ => None,
    };
    let mut asset = Asset::new(ips, macs, hosts[0].first_seen);
    asset.forwards_for = forwards_for;
    for host in &hosts {
        absorb(&mut asset, host);
    }
    asset
        .changes
        .sort_by_key(|c| (c.seen.ts, c.seen.capture, c.seen.packet));
    asset.classify();
    asset
}

/// Adds what one host knows to an asset.
fn absorb(asset: &mut Asset, host: &Host) {
    if host.first_seen.ts < asset.first_seen.ts {
        asset.first_seen = host.first_seen;
    }
    asset.last_seen = asset.last_seen.max(host.last_seen);
    asset.flows += host.flows;
    asset.packets_sent += host.packets_sent;
    asset.bytes_sent += host.bytes_sent;
    asset.packets_received += host.packets_received;
    asset.bytes_received += host.bytes_received;
    asset.peers_untracked += host.peers_untracked;
    asset.peers.extend(host.peers.iter().copied());
    asset
        .services_served
        .extend(host.services_served.iter().copied());
    asset
        .services_used
        .extend(host.services_used.iter().copied());
    for (protocol, usage) in &host.served {
        asset.served.get_or_default(*protocol).merge(usage);
    }
    for (protocol, usage) in &host.used {
        asset.used.get_or_default(*protocol).merge(usage);
    }
    for (field, evidence) in &host.identity {
        // The latest word wins when the hosts of one device disagree.
        let newer = asset
            .identity
            .get(field)
            .is_none_or(|e| e.last_seen < evidence.last_seen);
        if newer {
            asset.identity.insert(field.clone(), evidence.clone());
        }
    }
    asset.changes.extend(host.changes.iter().cloned());
}

/// A MAC address that forwards traffic for others, known only from that traffic.
fn router(mac: Mac, addresses: usize, info: &super::MacInfo) -> Asset {
    let mut asset = Asset::new(Vec::new(), vec![mac], info.first_seen);
    asset.forwards_for = Some(addresses);
    asset.last_seen = info.last_seen;
    asset.classify();
    asset
}

fn serialize_macs<S: Serializer>(macs: &[Mac], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(macs.iter().map(format_mac))
}

fn serialize_usage<S: Serializer>(usage: &UsageMap, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(usage.iter().map(|(p, u)| (p.name(), u)))
}
