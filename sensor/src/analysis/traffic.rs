//! Traffic summary: PDUs per protocol and function, decode anomalies, and the
//! hosts that talk most.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};

use crate::event::{Event, FunctionClass, Protocol};
use crate::pipeline::FlowRecord;

/// Hosts tracked for the top-talker list; beyond this, new hosts are only counted.
const MAX_HOSTS: usize = 1 << 16;
/// Hosts listed as top talkers.
pub const TOP_TALKERS: usize = 10;

/// What one protocol's PDUs added up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProtocolStats {
    /// Flows recognised as this protocol (counted when they end).
    pub flows: u64,
    pub pdus: u64,
    pub requests: u64,
    pub responses: u64,
    /// PDUs with at least one anomaly.
    pub anomalous_pdus: u64,
    /// PDUs by function name.
    pub functions: BTreeMap<&'static str, u64>,
    /// PDUs by function class.
    pub classes: BTreeMap<&'static str, u64>,
}

/// Traffic of one host, over the flows it took part in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Talker {
    pub ip: IpAddr,
    pub packets: u64,
    pub bytes: u64,
    pub flows: u64,
}

/// The finished summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrafficReport {
    pub events: u64,
    pub protocols: BTreeMap<Protocol, ProtocolStats>,
    /// Anomalies by (protocol, anomaly name).
    pub anomalies: BTreeMap<(Protocol, &'static str), u64>,
    /// The busiest hosts by bytes, most first.
    pub top_talkers: Vec<Talker>,
    /// Hosts seen in ended IP flows (at most [`MAX_HOSTS`]).
    pub hosts: u64,
    /// Flow endpoints not counted for any host because [`MAX_HOSTS`] were already tracked.
    pub untracked_host_flows: u64,
}

pub(super) struct Traffic {
    /// Everything but the per-protocol counts, which are kept in `counts`.
    report: TrafficReport,
    /// By `Protocol as usize` (the order of `Protocol::ALL`): counted without
    /// a map lookup per event, and turned into [`ProtocolStats`] when a
    /// report is asked for.
    counts: Vec<ProtocolCounts>,
    talkers: HashMap<IpAddr, Talker>,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            report: TrafficReport::default(),
            counts: vec![ProtocolCounts::default(); Protocol::ALL.len()],
            talkers: HashMap::new(),
        }
    }
}

#[derive(Clone, Default)]
struct ProtocolCounts {
    flows: u64,
    pdus: u64,
    requests: u64,
    responses: u64,
    anomalous_pdus: u64,
    /// By function name (a protocol has a few dozen at most).
    functions: Vec<(&'static str, u64)>,
    classes: [u64; FunctionClass::ALL.len()],
}

impl ProtocolCounts {
    fn seen(&self) -> bool {
        self.pdus > 0 || self.flows > 0
    }

    fn stats(&self) -> ProtocolStats {
        ProtocolStats {
            flows: self.flows,
            pdus: self.pdus,
            requests: self.requests,
            responses: self.responses,
            anomalous_pdus: self.anomalous_pdus,
            functions: self.functions.iter().copied().collect(),
            classes: (FunctionClass::ALL.iter())
                .filter(|class| self.classes[**class as usize] > 0)
                .map(|class| (class.name(), self.classes[*class as usize]))
                .collect(),
        }
    }
}

impl Traffic {
    pub fn event(&mut self, event: &Event) {
        let pdu = &event.pdu;
        self.report.events += 1;
        let counts = &mut self.counts[pdu.protocol as usize];
        counts.pdus += 1;
        if pdu.is_response {
            counts.responses += 1;
        } else {
            counts.requests += 1;
        }
        super::count_name(&mut counts.functions, pdu.function);
        counts.classes[pdu.class as usize] += 1;
        if !pdu.anomalies.is_empty() {
            counts.anomalous_pdus += 1;
            for name in pdu.anomalies.iter() {
                *self
                    .report
                    .anomalies
                    .entry((pdu.protocol, name))
                    .or_default() += 1;
            }
        }
    }

    /// The protocols seen so far (by PDUs or flows), in protocol order.
    fn seen(&self) -> impl Iterator<Item = (Protocol, &ProtocolCounts)> + '_ {
        (Protocol::ALL.iter().copied())
            .zip(&self.counts)
            .filter(|(_, counts)| counts.seen())
    }

    pub fn pdus_by_protocol(&self) -> impl Iterator<Item = (Protocol, u64)> + '_ {
        self.seen().map(|(p, counts)| (p, counts.pdus))
    }

    pub fn flow_ended(&mut self, flow: &FlowRecord) {
        if let Some(protocol) = flow.protocol {
            self.counts[protocol as usize].flows += 1;
        }
        // Only IP flows have hosts to rank (non-IP flows are keyed by MAC and ethertype).
        if flow.key.ether_type != 0 {
            return;
        }
        let packets = flow.packets[0] + flow.packets[1];
        let bytes = flow.bytes[0] + flow.bytes[1];
        for endpoint in [&flow.key.a, &flow.key.b] {
            let ip = Ipv6Addr::from(endpoint.addr).to_canonical();
            let tracked = self.talkers.len();
            let talker = match self.talkers.get_mut(&ip) {
                Some(t) => t,
                None if tracked < MAX_HOSTS => self.talkers.entry(ip).or_insert(Talker {
                    ip,
                    packets: 0,
                    bytes: 0,
                    flows: 0,
                }),
                None => {
                    self.report.untracked_host_flows += 1;
                    continue;
                }
            };
            talker.packets += packets;
            talker.bytes += bytes;
            talker.flows += 1;
        }
    }

    pub fn finish(self) -> TrafficReport {
        self.so_far()
    }

    /// The report as it stands.
    pub fn so_far(&self) -> TrafficReport {
        let mut report = self.report.clone();
        report.protocols = self.seen().map(|(p, counts)| (p, counts.stats())).collect();
        report.hosts = self.talkers.len() as u64;
        let busiest = |a: &Talker, b: &Talker| b.bytes.cmp(&a.bytes).then(a.ip.cmp(&b.ip));
        let mut talkers: Vec<Talker> = self.talkers.values().copied().collect();
        // Only the top ones need sorting (this also runs while the replay goes on).
        if talkers.len() > TOP_TALKERS {
            talkers.select_nth_unstable_by(TOP_TALKERS, busiest);
            talkers.truncate(TOP_TALKERS);
        }
        talkers.sort_by(busiest);
        report.top_talkers = talkers;
        report
    }
}
