//! Analysis: what the events and flows add up to — traffic statistics and
//! the asset inventory. Runs on one thread, over events in packet order, so
//! its results are deterministic; it never touches raw bytes.

mod cip_connections;
pub mod conduits;
pub mod inventory;
pub mod policy;
mod rates;
mod traffic;

pub use rates::{HISTORY_SECONDS, Rates};
pub use traffic::{ProtocolStats, Talker, TrafficReport};

use inventory::{Asset, Change, Inventory};
use policy::{Alert, Engine, Policy};

use crate::event::Protocol;
use crate::pipeline::{EpochEvents, FirstUse, FlowRecord, FlowStart, SecondCount};

/// Changes kept for the report and the store; beyond, they are only counted.
const MAX_CHANGES: usize = 100_000;

/// Counts one more `name` in a short list of names and counts. Names are
/// the decoders' constants, so most lookups end at a pointer match, before
/// any text is compared.
fn count_name(counts: &mut Vec<(&'static str, u64)>, name: &'static str) {
    let at = (counts.iter())
        .position(|(known, _)| std::ptr::eq(*known, name))
        .or_else(|| counts.iter().position(|(known, _)| *known == name));
    match at {
        Some(at) => counts[at].1 += 1,
        None => counts.push((name, 1)),
    }
}

/// Consumes the merged output of the workers, epoch by epoch.
pub struct Analyzer {
    traffic: traffic::Traffic,
    inventory: Inventory,
    policy: Engine,
    cip: cip_connections::CipConnections,
    conduits: conduits::ConduitMap,
    changes: Vec<Change>,
    changes_dropped: u64,
    rates: Rates,
    publisher: Option<Box<dyn Publisher>>,
}

/// Watches the analysis as it goes (the dashboard): called on the analysis
/// thread after every epoch, so it must return quickly and never wait for
/// its reader; it decides itself, by packet or wall time, when to look.
pub trait Publisher: Send {
    fn epoch(&mut self, analyzer: &Analyzer);
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(Inventory::new(), Policy::default_pack())
    }
}

/// What analysis found over a whole replay.
pub struct Findings {
    pub traffic: TrafficReport,
    /// The inventory, merged into assets.
    pub assets: Vec<Asset>,
    /// The inventory itself, for the store.
    pub inventory: Inventory,
    /// Changes seen during this replay, in the order they happened.
    pub changes: Vec<Change>,
    pub changes_dropped: u64,
    /// Alerts, in the order they first happened.
    pub alerts: Vec<Alert>,
    pub alerts_dropped: u64,
    /// Packets and bytes by second of packet time (the latest seconds).
    pub rates: Rates,
    /// What crossed between zones, and the zones' assets.
    pub conduits: conduits::ObservedConduits,
    /// The learned baseline, when learning or judging with one.
    pub baseline: Option<policy::baseline::SavedBaseline>,
}

impl Analyzer {
    /// Continues from `inventory` (empty, or kept by the store) and judges
    /// what it sees by `policy`.
    pub fn new(inventory: Inventory, policy: Policy) -> Analyzer {
        Analyzer {
            traffic: traffic::Traffic::default(),
            inventory,
            conduits: conduits::ConduitMap::new(&policy),
            policy: Engine::new(policy),
            cip: cip_connections::CipConnections::default(),
            changes: Vec::new(),
            changes_dropped: 0,
            rates: Rates::default(),
            publisher: None,
        }
    }

    /// Has `publisher` called after every epoch.
    pub fn set_publisher(&mut self, publisher: Box<dyn Publisher>) {
        self.publisher = Some(publisher);
    }

    /// Packets the capture carried, by second, as the dispatcher counted them
    /// (before the epoch that analyses them).
    pub fn count_packets(&mut self, counted: &[SecondCount]) {
        self.rates.add(counted);
        self.policy.seconds(counted, &self.inventory);
    }

    /// One epoch, each part in packet order: the flows whose sides sent
    /// their first packet, the flows' first requests of each class, the
    /// events, and the flows that ended. Analysis may annotate the events
    /// (e.g. link one to an earlier one of another flow) before they are written.
    pub fn epoch(
        &mut self,
        events: &mut EpochEvents,
        started: &[FlowStart],
        uses: &[FirstUse],
        ended: &[FlowRecord],
    ) {
        // ARP replies and flows' first packets both tell the inventory at
        // which MAC an address is: taken in packet order, so that an address
        // claimed by a second MAC is noted where the second one shows up.
        let mut arps = events
            .iter()
            .filter(|e| e.pdu.protocol == Protocol::Arp)
            .peekable();
        for start in started {
            while let Some(arp) = arps.next_if(|e| e.header.seq < start.seq) {
                self.inventory.arp(arp);
            }
            self.inventory.flow_started(start);
        }
        arps.for_each(|arp| self.inventory.arp(arp));
        for first in uses {
            self.inventory.first_use(first);
        }
        // Judged once the inventory knows what the epoch's flows did, so
        // that roles are known when a flow rule asks for them.
        for start in started {
            self.policy.flow_started(start, &self.inventory);
        }
        let Analyzer {
            traffic,
            inventory,
            policy,
            cip,
            conduits,
            ..
        } = self;
        events.for_each_mut(|event| {
            // CIP I/O learns its Forward Open (seen on another flow) first,
            // so that what follows sees the class it sets.
            cip.event(event);
            traffic.event(event);
            if event.pdu.identity.is_some() {
                inventory.event(event);
            }
            policy.event(event, inventory);
            conduits.event(event, policy.policy(), inventory);
        });
        for flow in ended {
            self.traffic.flow_ended(flow);
            self.inventory.flow_ended(flow);
            self.policy.flow_ended(flow, &self.inventory);
            self.conduits
                .flow_ended(flow, self.policy.policy(), &self.inventory);
        }
        for change in self.inventory.take_changes() {
            self.policy.change(&change, &self.inventory);
            if self.changes.len() < MAX_CHANGES {
                self.changes.push(change);
            } else {
                self.changes_dropped += 1;
            }
        }
        if let Some(mut publisher) = self.publisher.take() {
            publisher.epoch(self);
            self.publisher = Some(publisher);
        }
    }

    // What a publisher may look at.

    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The traffic summary so far (top talkers from the flows that ended).
    pub fn traffic(&self) -> TrafficReport {
        self.traffic.so_far()
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    pub fn policy(&self) -> &Policy {
        self.policy.policy()
    }

    /// Alerts raised so far, in the order raised (ids are given by [`Analyzer::finish`]).
    pub fn alerts(&self) -> &[Alert] {
        self.policy.alerts()
    }

    /// Changes seen so far in this run, in order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// PDUs decoded so far, by protocol (for live statistics).
    pub fn pdus_by_protocol(&self) -> impl Iterator<Item = (Protocol, u64)> + '_ {
        self.traffic.pdus_by_protocol()
    }

    /// Learns or judges with `baseline` (see [`policy::baseline`]).
    pub fn with_baseline(mut self, baseline: policy::baseline::Baseline) -> Analyzer {
        self.policy.set_baseline(baseline);
        self
    }

    pub fn finish(self) -> Findings {
        let mut assets = self.inventory.assets();
        for asset in &mut assets {
            asset.tags = self.policy.policy().tags_of(&asset.ips, &asset.macs);
        }
        let conduits = self.conduits.finish(self.policy.policy(), &assets);
        let outcome = self.policy.finish(&self.inventory);
        Findings {
            conduits,
            alerts: outcome.alerts,
            alerts_dropped: outcome.alerts_dropped,
            baseline: outcome.baseline,
            traffic: self.traffic.finish(),
            assets,
            inventory: self.inventory,
            changes: self.changes,
            changes_dropped: self.changes_dropped,
            rates: self.rates,
        }
    }
}
