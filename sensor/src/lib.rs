//! otsensor: a passive OT/ICS network sensor.
//!
//! Data flows one way (DESIGN.md): capture → packet → flow → protocols →
//! event → analysis → output.

pub mod analysis;
pub mod capture;
mod counters;
pub mod event;
pub mod export;
pub mod flow;
pub mod hub;
pub mod output;
pub mod packet;
pub mod pipeline;
pub mod protocols;
pub mod time;
pub mod tui;
