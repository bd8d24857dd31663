//! `--config`: the export configuration, checked before anything starts.

use std::path::Path;

use otsensor::export::{ExportReport, Exporter, PreparedExporter, Tee, config};
use otsensor::output::events::Renderer;
use otsensor::pipeline::Sink;

use crate::Failure;

/// Reads and checks the configuration, then starts the sinks.
pub fn start(path: &Path) -> Result<Exporter, Failure> {
    // Configuration mistakes print as file:line:column: reason, one per line.
    let config = config::load_file(path).map_err(|e| Failure::Policy(e.to_string()))?;
    Exporter::start(&config).map_err(Failure::Runtime)
}

/// Reads and checks the configuration and readies the sinks, starting no
/// thread (live capture starts them once it has dropped its privileges).
pub fn prepare(path: &Path) -> Result<PreparedExporter, Failure> {
    let config = config::load_file(path).map_err(|e| Failure::Policy(e.to_string()))?;
    Exporter::prepare(&config).map_err(Failure::Runtime)
}

/// The event sink of a run: `events.jsonl` (when written), the exporter's
/// sinks that want events (when any), or both.
pub fn event_sink(
    exporter: Option<&Exporter>,
    file: Option<Box<dyn Sink>>,
    renderer: Renderer,
) -> Option<Box<dyn Sink>> {
    match (file, exporter.and_then(|e| e.events(renderer))) {
        (Some(file), Some(exported)) => Some(Box::new(Tee(vec![file, exported]))),
        (file, None) => file,
        (None, exported) => exported,
    }
}

/// Prints what the sinks did (only troubles when `quiet`).
pub fn print_report(report: &ExportReport, quiet: bool) {
    for line in report.lines() {
        if !quiet || !report.complete() {
            eprintln!("otsensor: {line}");
        }
    }
}
