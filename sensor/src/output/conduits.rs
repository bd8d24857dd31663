//! `conduits.json`: what crossed between zones, the zones' assets, and the
//! zones and conduits the policy declared (`docs/report.md`).

use std::io::{self, Write};

use crate::analysis::conduits::ObservedConduits;

pub fn write_json(observed: &ObservedConduits, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, observed)?;
    out.write_all(b"\n")
}

pub fn read_json(text: &str) -> Result<ObservedConduits, serde_json::Error> {
    serde_json::from_str(text)
}
