//! Flows: the symmetric flow key, the bounded per-shard flow table, and TCP
//! reassembly. Timeouts run on packet time; this stage never reads the clock.

mod key;
mod stats;
mod table;
pub mod tcp;

pub use key::{Endpoint, FlowKey, Side};
pub use stats::{FlowStats, TcpStats};
pub use table::{FlowRef, FlowTable};
