//! Analysis: what the events and flows add up to — traffic statistics and
//! the asset inventory. Runs on one thread, over events in packet order, so
//! its results are deterministic; it never touches raw bytes.

pub mod inventory;
mod traffic;

pub use traffic::{ProtocolStats, Talker, TrafficReport};

use inventory::{Asset, Change, Inventory};

use crate::pipeline::{EpochEvents, FlowRecord, FlowStart};

/// Changes kept for the report and the store; beyond, they are only counted.
const MAX_CHANGES: usize = 100_000;

/// Consumes the merged output of the workers, epoch by epoch.
#[derive(Default)]
pub struct Analyzer {
    traffic: traffic::Traffic,
    inventory: Inventory,
    changes: Vec<Change>,
    changes_dropped: u64,
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
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// Continues from an inventory kept earlier (see the store).
    pub fn with_inventory(inventory: Inventory) -> Analyzer {
        Analyzer {
            inventory,
            ..Analyzer::default()
        }
    }

    /// One epoch: the flows whose sides sent their first packet, the events,
    /// and the flows that ended (flows by id, events in packet order).
    /// Analysis may annotate the events (e.g. link one to an earlier one of
    /// another flow) before they are written.
    pub fn epoch(&mut self, events: &mut EpochEvents, started: &[FlowStart], ended: &[FlowRecord]) {
        for start in started {
            self.inventory.flow_started(start);
        }
        for event in events.iter() {
            self.traffic.event(event);
            if event.pdu.identity.is_some() {
                self.inventory.event(event);
            }
        }
        for flow in ended {
            self.traffic.flow_ended(flow);
            self.inventory.flow_ended(flow);
        }
        for change in self.inventory.take_changes() {
            if self.changes.len() < MAX_CHANGES {
                self.changes.push(change);
            } else {
                self.changes_dropped += 1;
            }
        }
    }

    pub fn finish(self) -> Findings {
        Findings {
            traffic: self.traffic.finish(),
            assets: self.inventory.assets(),
            inventory: self.inventory,
            changes: self.changes,
            changes_dropped: self.changes_dropped,
        }
    }
}
