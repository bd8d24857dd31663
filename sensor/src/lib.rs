//! otsensor: a passive OT/ICS network sensor.
//!
//! Data flows one way (DESIGN.md): capture → packet → flow → protocols →
//! event → analysis → output.

pub mod event;
pub mod protocols;
pub mod time;
