//! Outputs: the event log, the inventory, the statistics document and the
//! human summary.
//! Outputs format what analysis found; they never decide what is an alert.

pub mod alerts;
pub mod assets;
pub mod conduits;
pub mod events;
pub mod json;
pub mod report;
pub mod stats;
pub mod store;
pub mod summary;
