//! Analysis: what the events and flows add up to — traffic statistics and
//! the asset inventory. Runs on one thread, over events in packet order, so
//! its results are deterministic; it never touches raw bytes.

pub mod inventory;
mod traffic;

pub use traffic::{ProtocolStats, Talker, TrafficReport};

use inventory::{Asset, Inventory};

use crate::pipeline::{EpochEvents, FlowRecord, FlowStart};

/// Consumes the merged output of the workers, epoch by epoch.
#[derive(Default)]
pub struct Analyzer {
    traffic: traffic::Traffic,
    inventory: Inventory,
}

/// What analysis found over a whole replay.
#[derive(Debug)]
pub struct Findings {
    pub traffic: TrafficReport,
    pub assets: Vec<Asset>,
    /// Hosts not kept because the inventory was full.
    pub untracked_hosts: u64,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
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
    }

    pub fn finish(self) -> Findings {
        Findings {
            traffic: self.traffic.finish(),
            assets: self.inventory.assets(),
            untracked_hosts: self.inventory.untracked_hosts(),
        }
    }
}
