//! Analysis: what the events and flows add up to — traffic statistics and
//! the asset inventory. Runs on one thread, over events in packet order, so
//! its results are deterministic; it never touches raw bytes.

mod cip_connections;
pub mod inventory;
pub mod policy;
mod traffic;

pub use traffic::{ProtocolStats, Talker, TrafficReport};

use inventory::{Asset, Change, Inventory};
use policy::{Alert, Engine, Policy};

use crate::event::Protocol;
use crate::pipeline::{EpochEvents, FirstUse, FlowRecord, FlowStart};

/// Changes kept for the report and the store; beyond, they are only counted.
const MAX_CHANGES: usize = 100_000;

/// Consumes the merged output of the workers, epoch by epoch.
pub struct Analyzer {
    traffic: traffic::Traffic,
    inventory: Inventory,
    policy: Engine,
    cip: cip_connections::CipConnections,
    changes: Vec<Change>,
    changes_dropped: u64,
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
            policy: Engine::new(policy),
            cip: cip_connections::CipConnections::default(),
            changes: Vec::new(),
            changes_dropped: 0,
        }
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
        // CIP I/O learns its Forward Open (seen on another flow) first, so
        // that what follows sees the class it sets.
        events.for_each_mut(|event| self.cip.event(event));
        for start in started {
            self.inventory.flow_started(start);
        }
        for first in uses {
            self.inventory.first_use(first);
        }
        // Judged once the inventory knows what the epoch's flows did, so
        // that roles are known when a flow rule asks for them.
        for start in started {
            self.policy.flow_started(start, &self.inventory);
        }
        for event in events.iter() {
            self.traffic.event(event);
            if event.pdu.protocol == Protocol::Arp {
                self.inventory.arp(event);
            }
            if event.pdu.identity.is_some() {
                self.inventory.event(event);
            }
            self.policy.event(event, &self.inventory);
        }
        for flow in ended {
            self.traffic.flow_ended(flow);
            self.inventory.flow_ended(flow);
            self.policy.flow_ended(flow, &self.inventory);
        }
        for change in self.inventory.take_changes() {
            self.policy.change(&change, &self.inventory);
            if self.changes.len() < MAX_CHANGES {
                self.changes.push(change);
            } else {
                self.changes_dropped += 1;
            }
        }
    }

    /// Alerts raised so far, in the order they were raised (counts so far; ids come at the end).
    pub fn alerts(&self) -> &[Alert] {
        self.policy.raised()
    }

    /// Changes seen so far, in the order they happened (the first [`MAX_CHANGES`]).
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Learns or judges with `baseline` (see [`policy::baseline`]).
    pub fn with_baseline(mut self, baseline: policy::baseline::Baseline) -> Analyzer {
        self.policy.set_baseline(baseline);
        self
    }

    pub fn finish(self) -> Findings {
        let outcome = self.policy.finish();
        Findings {
            alerts: outcome.alerts,
            alerts_dropped: outcome.alerts_dropped,
            baseline: outcome.baseline,
            traffic: self.traffic.finish(),
            assets: self.inventory.assets(),
            inventory: self.inventory,
            changes: self.changes,
            changes_dropped: self.changes_dropped,
        }
    }
}
