//! `--config`: the export configuration, checked before anything starts.

use std::path::Path;

use otsensor::export::{Exporter, config};

use crate::Failure;

/// Reads and checks the configuration, then starts the sinks.
pub fn start(path: &Path) -> Result<Exporter, Failure> {
    // Configuration mistakes print as file:line:column: reason, one per line.
    let config = config::load_file(path).map_err(|e| Failure::Policy(e.to_string()))?;
    Exporter::start(&config).map_err(Failure::Runtime)
}
