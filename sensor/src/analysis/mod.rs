//! Analysis: what the events and ended flows add up to. Runs on one thread,
//! over events in packet order, so its results are deterministic; it never
//! touches raw bytes.

mod cip_connections;
mod traffic;

pub use traffic::{ProtocolStats, Talker, TrafficReport};

use crate::pipeline::{EpochEvents, FlowRecord};

/// Consumes the merged output of the workers, epoch by epoch.
pub struct Analyzer {
    traffic: traffic::Traffic,
    cip: cip_connections::CipConnections,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer {
            traffic: traffic::Traffic::default(),
            cip: cip_connections::CipConnections::default(),
        }
    }

    /// One epoch's events and the flows that ended in it (by id). Analysis
    /// may annotate the events (e.g. link one to an earlier one of another flow)
    /// before they are written.
    pub fn epoch(&mut self, events: &mut EpochEvents, ended: &[FlowRecord]) {
        // CIP I/O learns its Forward Open (seen on another flow) first, so
        // that the summary counts the class it sets.
        events.for_each_mut(|event| self.cip.event(event));
        for event in events.iter() {
            self.traffic.event(event);
        }
        for flow in ended {
            self.traffic.flow_ended(flow);
        }
    }

    pub fn finish(self) -> TrafficReport {
        self.traffic.finish()
    }
}
