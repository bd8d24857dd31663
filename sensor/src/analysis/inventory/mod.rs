//! The asset inventory: every device seen on the wire, what it says about
//! itself, what it talks and to whom, and what changed.
//!
//! It learns from what the workers summarise (flow starts and ends, with
//! PDU counts and function classes per flow) and from the rare events that
//! carry an identity, so that it costs nothing per packet. It observes
//! *hosts* (an IP address, or a MAC address for devices seen only at layer 2)
//! and merges them into *assets* when it reports ([`assets`]): IP addresses
//! seen behind the same MAC are one device, unless that MAC forwards for many
//! addresses (a router), which must not glue the hosts behind it together.

mod assets;
mod oui;
mod role;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

pub use assets::{Asset, Evidence, PeerSet, Usage, UsageMap};
pub use oui::vendor as mac_vendor;
pub use role::it_service_name;
pub use role::{Role, infer_role};

use crate::event::{Event, Fields, Identity, Mac, Protocol, Transport};
use crate::flow::{Endpoint, FlowKey, Side};
use crate::pipeline::{FirstUse, FlowRecord, FlowStart};
use crate::time::Timestamp;

/// A MAC address seen with this many IP addresses belongs to a router (or
/// another device forwarding for others), not to each of them.
pub const ROUTER_MIN_IPS: usize = 3;
/// Bounds that keep memory per host small whatever the traffic.
const MAX_MACS_PER_HOST: usize = 8;
const MAX_IPS_PER_MAC: usize = 16;
const MAX_PEERS: usize = 64;
const MAX_CHANGES_PER_HOST: usize = 32;
const MAX_SERVICES: usize = 32;
/// Hosts tracked at most; beyond, new ones are counted, not kept.
const MAX_HOSTS: usize = 200_000;

/// What identifies a host: its IP address, or its MAC address when it was
/// seen only without IP. Written as the address's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostKey {
    Ip(IpAddr),
    Mac(Mac),
}

impl std::fmt::Display for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostKey::Ip(ip) => write!(f, "{ip}"),
            HostKey::Mac(mac) => f.write_str(&format_mac(mac)),
        }
    }
}

impl std::str::FromStr for HostKey {
    type Err = String;

    fn from_str(text: &str) -> Result<HostKey, String> {
        if let Ok(ip) = text.parse() {
            return Ok(HostKey::Ip(ip));
        }
        parse_mac(text)
            .map(HostKey::Mac)
            .ok_or_else(|| format!("not an IP or MAC address: {text:?}"))
    }
}

impl serde::Serialize for HostKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HostKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<HostKey, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Where and when something was seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub ts: Timestamp,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub capture: u16,
    pub packet: u64,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// A change in what the network looks like, as it happens: the policy stage
/// turns these into alerts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub host: HostKey,
    pub seen: Seen,
    /// What changed, readably (`"firmware V3.2.6 → V3.3.0 (s7comm)"`).
    pub detail: String,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A host seen for the first time.
    NewAsset,
    /// A MAC address (not a router's) sending from a new IP address in its subnet.
    NewIpForMac,
    /// An IP address used by a different MAC address than before: a replaced
    /// device, or spoofing.
    IpClaimedByOtherMac,
    FirmwareChanged,
    /// An identity field contradicting what the device said before.
    IdentityChanged,
}

/// What is known about one host (persisted as is by the store).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Host {
    key: HostKey,
    first_seen: Seen,
    last_seen: Timestamp,
    /// MAC addresses it sent from (or was reached at), first first.
    macs: Vec<Mac>,
    packets_sent: u64,
    bytes_sent: u64,
    packets_received: u64,
    bytes_received: u64,
    flows: u64,
    peers: PeerSet,
    peers_untracked: u64,
    /// Protocols it served and used, with whom and how.
    served: UsageMap,
    used: UsageMap,
    /// Ports served and used in flows no decoder recognised.
    services_served: BTreeSet<Service>,
    services_used: BTreeSet<Service>,
    identity: BTreeMap<String, Evidence>,
    changes: Vec<Change>,
}

/// A transport port a host served or used, in flows no decoder recognised.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Service {
    pub transport: Transport,
    pub port: u16,
}

impl Host {
    fn new(key: HostKey, seen: Seen) -> Host {
        Host {
            key,
            first_seen: seen,
            last_seen: seen.ts,
            macs: Vec::new(),
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
            flows: 0,
            peers: PeerSet::default(),
            peers_untracked: 0,
            served: UsageMap::default(),
            used: UsageMap::default(),
            services_served: BTreeSet::new(),
            services_used: BTreeSet::new(),
            identity: BTreeMap::new(),
            changes: Vec::new(),
        }
    }

    pub fn key(&self) -> HostKey {
        self.key
    }

    fn record(&mut self, change: Change) {
        if self.changes.len() == MAX_CHANGES_PER_HOST {
            self.changes.remove(0);
        }
        // Most hosts only ever have their first sighting: room for one, not
        // the four a first push reserves.
        self.changes.reserve_exact(1);
        self.changes.push(change);
    }
}

/// The IP addresses a MAC address was seen with.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct MacInfo {
    ips: Vec<IpAddr>,
    first_seen: Seen,
    last_seen: Timestamp,
}

impl MacInfo {
    fn is_router(&self) -> bool {
        self.ips.len() >= ROUTER_MIN_IPS
    }
}

/// The inventory being built.
#[derive(Default)]
pub struct Inventory {
    hosts: Vec<Host>,
    index: HashMap<HostKey, usize>,
    macs: HashMap<Mac, MacInfo>,
    /// Changes since the last [`Inventory::take_changes`].
    fresh: Vec<Change>,
    /// Hosts not tracked because [`MAX_HOSTS`] were.
    untracked_hosts: u64,
}

impl Inventory {
    pub fn new() -> Inventory {
        Inventory::default()
    }

    /// The first packet from one side of a flow: its sender exists, at the MAC it sent from.
    pub fn flow_started(&mut self, start: &FlowStart) {
        let seen = Seen {
            ts: start.ts,
            capture: start.capture,
            packet: start.packet,
        };
        let sender = start.key.endpoint(start.first);
        if let Some(host) = self.host(&start.key, sender, start.src_mac, seen) {
            self.hosts[host].last_seen = self.hosts[host].last_seen.max(start.ts);
        }
    }

    /// A flow's end: traffic, peers and protocol use of both ends.
    pub fn flow_ended(&mut self, flow: &FlowRecord) {
        let seen = Seen {
            ts: flow.first_seen,
            capture: 0,
            packet: 0,
        };
        let mut ends = [None, None];
        for side in [Side::A, Side::B] {
            if flow.packets[side.index()] == 0 {
                continue;
            }
            ends[side.index()] = self.host(&flow.key, flow.key.endpoint(side), None, seen);
        }
        for side in [Side::A, Side::B] {
            let Some(host) = ends[side.index()] else {
                continue;
            };
            let peer = ends[side.other().index()];
            let peer_key = peer.map(|p| self.hosts[p].key);
            let h = &mut self.hosts[host];
            h.last_seen = h.last_seen.max(flow.last_seen);
            h.flows += 1;
            h.packets_sent += flow.packets[side.index()];
            h.bytes_sent += flow.bytes[side.index()];
            h.packets_received += flow.packets[side.other().index()];
            h.bytes_received += flow.bytes[side.other().index()];
            if let Some(peer_key) = peer_key {
                if h.peers.len() < MAX_PEERS || h.peers.contains(&peer_key) {
                    h.peers.insert(peer_key);
                } else {
                    h.peers_untracked += 1;
                }
            }
            let client = side == flow.client;
            if let Some(protocol) = flow.protocol {
                let role = if client { &mut h.used } else { &mut h.served };
                role.get_or_default(protocol).add(flow, peer_key);
            } else if let Some(service) = service(flow) {
                let services = if client {
                    &mut h.services_used
                } else {
                    &mut h.services_served
                };
                if services.len() < MAX_SERVICES {
                    services.insert(service);
                }
            }
        }
    }

    /// A flow's first request of a class: who uses what, as it happens.
    pub fn first_use(&mut self, first: &FirstUse) {
        let seen = Seen {
            ts: first.ts,
            capture: 0,
            packet: 0,
        };
        let (Some(requester), Some(responder)) =
            (host_key(first.requester), host_key(first.responder))
        else {
            return;
        };
        let client = self.host_by_key(requester, seen, true);
        let server = self.host_by_key(responder, seen, true);
        let (Some(client), Some(server)) = (client, server) else {
            return;
        };
        for (host, peer, serving) in [(client, responder, false), (server, requester, true)] {
            let h = &mut self.hosts[host];
            let role = if serving { &mut h.served } else { &mut h.used };
            let usage = role.get_or_default(first.protocol);
            usage.classes.0 |= first.class.bit();
            if usage.peers.len() < MAX_PEERS {
                usage.peers.insert(peer);
            }
        }
    }

    /// An event: what its sender says about itself. A sender without an
    /// address yet (source 0.0.0.0: a DHCP client) is known by its MAC
    /// address, which joins its IP address in the assets once seen with it.
    pub fn event(&mut self, event: &Event) {
        let Some(identity) = &event.pdu.identity else {
            return;
        };
        let h = &event.header;
        let (key, announce) = match (h.src_ip, h.src_mac) {
            (Some(ip), Some(mac)) if ip.is_unspecified() => {
                (host_key((None, Some(mac))), !self.is_known_device(&mac))
            }
            addresses => (host_key(addresses), true),
        };
        let Some(key) = key else {
            return;
        };
        let seen = Seen {
            ts: h.ts,
            capture: h.capture,
            packet: h.packet,
        };
        let Some(host) = self.host_by_key(key, seen, announce) else {
            return;
        };
        for (field, value) in identity_fields(identity) {
            self.learn(host, field, value, event.pdu.protocol, seen);
        }
    }

    /// An ARP packet: its sender says its IP address is at its MAC address.
    /// The binding is noted like one seen in IP traffic, so that an address
    /// claimed by another MAC address than before (ARP spoofing, a replaced
    /// device) is recorded as a change. Probes (sender 0.0.0.0) bind nothing.
    pub fn arp(&mut self, event: &Event) {
        let Fields::Arp(arp) = &event.pdu.fields else {
            return;
        };
        let (Some(ip), Some(mac)) = (arp.sender_ip, arp.sender_mac) else {
            return;
        };
        let ip = IpAddr::V4(ip);
        if !is_host_address(ip) || !is_unicast(&mac) {
            return;
        }
        let h = &event.header;
        let seen = Seen {
            ts: h.ts,
            capture: h.capture,
            packet: h.packet,
        };
        let known = self.is_known_device(&mac);
        let Some(host) = self.host_by_key(HostKey::Ip(ip), seen, !known) else {
            return;
        };
        self.hosts[host].last_seen = self.hosts[host].last_seen.max(h.ts);
        self.bind(host, ip, mac, seen);
    }

    /// Changes recorded since the last call, in the order they happened.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.fresh)
    }

    pub fn untracked_hosts(&self) -> u64 {
        self.untracked_hosts
    }

    /// The id of the asset an address belongs to (its host's first address).
    pub fn asset_id(&self, ip: Option<IpAddr>, mac: Option<Mac>) -> Option<String> {
        self.host_of(ip, mac).map(|h| self.hosts[h].key.to_string())
    }

    /// The role of the host at an address, from what is known so far.
    pub fn role_of(&self, ip: Option<IpAddr>, mac: Option<Mac>) -> Option<Role> {
        self.host_of(ip, mac)
            .map(|h| role::infer_role_from(&role::RoleInputs::of_host(&self.hosts[h])).0)
    }

    /// The IP addresses seen at a MAC address, unless it forwards for many
    /// (a router's MAC says nothing about where a frame came from).
    pub fn ips_at(&self, mac: &Mac) -> &[IpAddr] {
        match self.macs.get(mac) {
            Some(info) if !info.is_router() => &info.ips,
            _ => &[],
        }
    }

    fn host_of(&self, ip: Option<IpAddr>, mac: Option<Mac>) -> Option<usize> {
        let by_ip = ip.and_then(|ip| self.index.get(&HostKey::Ip(ip)));
        by_ip
            .or_else(|| mac.and_then(|mac| self.index.get(&HostKey::Mac(mac))))
            .copied()
    }

    /// Everything the inventory knows, for the store to keep.
    pub fn snapshot(&self) -> (&[Host], Vec<(Mac, &MacInfo)>) {
        let mut macs: Vec<(Mac, &MacInfo)> = self.macs.iter().map(|(m, i)| (*m, i)).collect();
        macs.sort_by_key(|(m, _)| *m);
        (&self.hosts, macs)
    }

    /// An inventory that knows what a store kept, so that what follows is
    /// compared with it (a changed firmware, an IP at a new MAC).
    pub fn restore(hosts: Vec<Host>, macs: Vec<(Mac, MacInfo)>) -> Inventory {
        let index = hosts.iter().enumerate().map(|(i, h)| (h.key, i)).collect();
        Inventory {
            hosts,
            index,
            macs: macs.into_iter().collect(),
            fresh: Vec::new(),
            untracked_hosts: 0,
        }
    }

    /// The assets: hosts merged by the MAC addresses they share, in a
    /// deterministic order (by their first address).
    pub fn assets(&self) -> Vec<Asset> {
        assets::merge(self)
    }

    /// The host for an endpoint of `key` (an IP, or for non-IP flows a MAC),
    /// created if new; binds `mac` to it when given.
    fn host(
        &mut self,
        key: &FlowKey,
        endpoint: &Endpoint,
        mac: Option<Mac>,
        seen: Seen,
    ) -> Option<usize> {
        match ip_of(key, endpoint) {
            Some(ip) => {
                if !is_host_address(ip) {
                    return None;
                }
                // A device already known by its MAC (from ARP, say) is not new when its IP shows up.
                let known = mac.is_some_and(|m| self.is_known_device(&m));
                let host = self.host_by_key(HostKey::Ip(ip), seen, !known)?;
                if let Some(mac) = mac {
                    self.bind(host, ip, mac, seen);
                }
                Some(host)
            }
            None => {
                let mac: Mac = endpoint.addr[..6].try_into().ok()?;
                if !is_unicast(&mac) {
                    return None;
                }
                let known = self.is_known_device(&mac);
                self.host_by_key(HostKey::Mac(mac), seen, !known)
            }
        }
    }

    /// Whether `mac` is the MAC address of a host already known (not a router's).
    fn is_known_device(&self, mac: &Mac) -> bool {
        self.index.contains_key(&HostKey::Mac(*mac))
            || self.macs.get(mac).is_some_and(|i| !i.is_router())
    }

    fn host_by_key(&mut self, key: HostKey, seen: Seen, announce: bool) -> Option<usize> {
        if let Some(&host) = self.index.get(&key) {
            return Some(host);
        }
        if self.hosts.len() >= MAX_HOSTS {
            self.untracked_hosts += 1;
            return None;
        }
        let host = self.hosts.len();
        self.hosts.push(Host::new(key, seen));
        self.index.insert(key, host);
        if announce {
            self.change(host, ChangeKind::NewAsset, seen, String::new());
        }
        Some(host)
    }

    /// `ip` was used at `mac`: note it, and what it says about changes.
    fn bind(&mut self, host: usize, ip: IpAddr, mac: Mac, seen: Seen) {
        if !is_unicast(&mac) || self.hosts[host].macs.contains(&mac) {
            return;
        }
        let info = self.macs.entry(mac).or_insert_with(|| MacInfo {
            first_seen: seen,
            ..MacInfo::default()
        });
        info.last_seen = info.last_seen.max(seen.ts);
        let was_router = info.is_router();
        let previous_ips = info.ips.clone();
        if !info.ips.contains(&ip) && info.ips.len() < MAX_IPS_PER_MAC {
            info.ips.push(ip);
        }
        let is_router = info.is_router();
        // A device re-addressed in its own subnet; routers forward for many addresses.
        if !is_router && let Some(old) = previous_ips.iter().find(|old| same_subnet(**old, ip)) {
            let detail = format!("{} now also uses {ip} (was {old})", format_mac(&mac));
            self.change(host, ChangeKind::NewIpForMac, seen, detail);
        }
        let others: Vec<Mac> = self.hosts[host]
            .macs
            .iter()
            .filter(|m| self.macs.get(*m).is_some_and(|i| !i.is_router()))
            .copied()
            .collect();
        if !was_router && !is_router && !others.is_empty() {
            let detail = format!(
                "{ip} now at {} (was {})",
                format_mac(&mac),
                others.iter().map(format_mac).collect::<Vec<_>>().join(", ")
            );
            self.change(host, ChangeKind::IpClaimedByOtherMac, seen, detail);
        }
        let h = &mut self.hosts[host];
        if h.macs.len() < MAX_MACS_PER_HOST {
            h.macs.push(mac);
        }
    }

    fn learn(
        &mut self,
        host: usize,
        field: &'static str,
        value: String,
        protocol: Protocol,
        seen: Seen,
    ) {
        let previous = self.hosts[host].identity.get(field).cloned();
        match previous {
            // Host names are case-insensitive (DNS, NetBIOS): `HMI-3` from
            // NetBIOS and `hmi-3` from DHCP are the same name, not a change.
            Some(old)
                if old.value == value
                    || (field == "hostname" && old.value.eq_ignore_ascii_case(&value)) =>
            {
                let evidence = self.hosts[host].identity.get_mut(field).expect("present");
                evidence.last_seen = seen.ts;
            }
            // A banner (HTTP, SSH…) does not overrule the device's own
            // identification protocol, and is not a change when it differs.
            Some(old) if authority(protocol) < authority(old.source) => {}
            // A better source replaces what a weaker one said, without a change.
            Some(old) if authority(protocol) > authority(old.source) => {
                self.hosts[host]
                    .identity
                    .insert(field.to_string(), Evidence::new(value, protocol, seen));
            }
            Some(old) => {
                let kind = if field == "firmware" {
                    ChangeKind::FirmwareChanged
                } else {
                    ChangeKind::IdentityChanged
                };
                let detail = format!("{field} {} → {value} ({})", old.value, protocol.name());
                self.change(host, kind, seen, detail);
                self.hosts[host]
                    .identity
                    .insert(field.to_string(), Evidence::new(value, protocol, seen));
            }
            None => {
                self.hosts[host]
                    .identity
                    .insert(field.to_string(), Evidence::new(value, protocol, seen));
            }
        }
    }

    fn change(&mut self, host: usize, kind: ChangeKind, seen: Seen, detail: String) {
        let change = Change {
            kind,
            host: self.hosts[host].key,
            seen,
            detail,
        };
        self.hosts[host].record(change.clone());
        self.fresh.push(change);
    }
}

/// How much an identity from `protocol` is to be believed: a device's own
/// identification services first, then network management and naming, then
/// banners of the software it runs.
fn authority(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Http
        | Protocol::Tls
        | Protocol::Ssh
        | Protocol::Telnet
        | Protocol::Ftp
        | Protocol::Mqtt => 0,
        Protocol::Snmp
        | Protocol::Lldp
        | Protocol::Cdp
        | Protocol::Dhcp
        | Protocol::Dns
        | Protocol::Llmnr
        | Protocol::Mdns
        | Protocol::Nbns
        | Protocol::Nbdgm
        | Protocol::Arp => 1,
        _ => 2,
    }
}

/// The IP address of a flow endpoint, if the flow is an IP flow.
fn ip_of(key: &FlowKey, endpoint: &Endpoint) -> Option<IpAddr> {
    (key.ether_type == 0).then(|| std::net::Ipv6Addr::from(endpoint.addr).to_canonical())
}

/// The server port of a TCP or UDP flow.
fn service(flow: &FlowRecord) -> Option<Service> {
    let transport = match flow.key.proto {
        6 => Transport::Tcp,
        17 => Transport::Udp,
        _ => return None,
    };
    let port = flow.key.endpoint(flow.client.other()).port;
    Some(Service { transport, port })
}

/// The key of a device at these addresses, if they can be a device's own.
fn host_key((ip, mac): (Option<IpAddr>, Option<Mac>)) -> Option<HostKey> {
    match (ip, mac) {
        (Some(ip), _) => is_host_address(ip).then_some(HostKey::Ip(ip)),
        (None, Some(mac)) => is_unicast(&mac).then_some(HostKey::Mac(mac)),
        (None, None) => None,
    }
}

/// Addresses that can be a device's own (not multicast, broadcast or unspecified).
fn is_host_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

fn is_unicast(mac: &Mac) -> bool {
    mac[0] & 0x01 == 0 && *mac != [0; 6]
}

/// The same /24 (IPv4) or /64 (IPv6).
fn same_subnet(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets()[..8] == b.octets()[..8],
        _ => false,
    }
}

/// `aa:bb:cc:dd:ee:ff` (or with dashes) to a MAC address.
pub fn parse_mac(text: &str) -> Option<Mac> {
    let bytes: Vec<u8> = text
        .split([':', '-'])
        .map(|part| (part.len() == 2).then(|| u8::from_str_radix(part, 16).ok())?)
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

pub fn format_mac(mac: &Mac) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// The fields of an identity, by name.
fn identity_fields(identity: &Identity) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    if let Some(id) = identity.vendor_id {
        fields.push(("vendor_id", id.to_string()));
    }
    let lasting = identity
        .texts()
        .into_iter()
        .filter(|(name, _)| !Identity::MOMENTARY.contains(name));
    for (name, value) in lasting {
        if let Some(value) = value.as_ref().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            fields.push((name, value.to_string()));
        }
    }
    fields
}

#[cfg(test)]
mod tests;
