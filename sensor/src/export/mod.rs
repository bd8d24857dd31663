//! Export: alerts, asset changes and (optionally) events sent to SIEMs
//! (syslog with CEF/LEEF), IIoT brokers (MQTT) and the fleet's NATS
//! JetStream, configured in a TOML file (`docs/export.md`).
//!
//! Each sink runs on its own thread with its own bounded on-disk spool:
//! the analysis thread only serializes the few new records of an epoch and
//! hands them over, so a slow or absent destination never holds up capture.

pub mod config;
mod mqtt;
pub mod nats;
pub mod record;
pub mod siem;
pub mod spool;
mod syslog;
pub mod tls;
mod worker;

use std::io;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};

pub use config::{Config, ConfigError, ConfigErrors, Kind};
pub use worker::SinkReport;

use crate::analysis::{Analyzer, Findings};
use crate::event::Event;
use crate::output::events::Renderer;
use crate::pipeline::{Observer, Sink as EventSink};
use record::{AlertState, Record};
use worker::{Message, Transport};

/// Records waiting for a sink's thread; beyond, the producer waits for it
/// (it always drains: into the spool, or counted as overflow).
const CHANNEL: usize = 4096;

struct SinkHandle {
    name: String,
    kinds: Vec<Kind>,
    records: Sender<Message>,
    thread: JoinHandle<SinkReport>,
}

/// A sink with its transport and spool, its thread not started yet.
struct PreparedSink {
    name: String,
    kinds: Vec<Kind>,
    transport: Box<dyn Transport>,
    spool: spool::Spool,
}

/// The sinks of an [`Exporter`], ready, with no thread started yet.
pub struct PreparedExporter {
    spool_dir: std::path::PathBuf,
    sensor_id: String,
    drain_timeout: Duration,
    sinks: Vec<PreparedSink>,
}

impl PreparedExporter {
    /// Where the sinks spool (each in a folder of its own).
    pub fn spool_dir(&self) -> &std::path::Path {
        &self.spool_dir
    }

    /// Starts each sink's thread.
    pub fn start(self) -> Result<Exporter, String> {
        let mut sinks = Vec::new();
        for sink in self.sinks {
            let (tx, rx) = bounded(CHANNEL);
            let PreparedSink {
                name,
                kinds,
                transport,
                spool,
            } = sink;
            let thread_name = name.clone();
            let thread = std::thread::Builder::new()
                .name(format!("export-{name}"))
                .spawn(move || worker::run(thread_name, spool, transport, rx, Default::default()))
                .map_err(|e| format!("sink {name}: starting its thread: {e}"))?;
            sinks.push(SinkHandle {
                name,
                kinds,
                records: tx,
                thread,
            });
        }
        Ok(Exporter {
            spool_dir: self.spool_dir,
            sensor_id: self.sensor_id,
            drain_timeout: self.drain_timeout,
            sinks,
            alerts_sent: 0,
            changes_sent: 0,
        })
    }
}

/// Hands what analysis finds to the configured sinks.
pub struct Exporter {
    sensor_id: String,
    spool_dir: std::path::PathBuf,
    drain_timeout: Duration,
    sinks: Vec<SinkHandle>,
    alerts_sent: usize,
    changes_sent: usize,
}

/// What the sinks did.
#[derive(Clone, Debug, Default)]
pub struct ExportReport {
    pub sinks: Vec<SinkReport>,
    /// Changes past the analyzer's limit, never handed to the sinks.
    pub changes_not_exported: u64,
    /// Alerts past the policy engine's limit, never raised.
    pub alerts_not_exported: u64,
}

impl ExportReport {
    /// One line per sink, and a warning for anything not delivered.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for s in &self.sinks {
            let mut line = format!(
                "export {}: {} records queued, {} delivered",
                s.name, s.queued, s.delivered
            );
            if s.left_in_spool > 0 {
                line += &format!(", {} left in the spool for the next run", s.left_in_spool);
            }
            if s.overflowed > 0 {
                line += &format!(", {} DROPPED (spool full)", s.overflowed);
            }
            if s.failures > 0 {
                line += &format!(
                    "; {} failed attempts, last: {}",
                    s.failures,
                    s.last_error.as_deref().unwrap_or("?")
                );
            }
            if let Some(e) = &s.spool_error {
                line += &format!("; spool error: {e}");
            }
            lines.push(line);
        }
        if self.changes_not_exported > 0 {
            lines.push(format!(
                "export: {} asset changes beyond the analyzer's limit were not exported",
                self.changes_not_exported
            ));
        }
        if self.alerts_not_exported > 0 {
            lines.push(format!(
                "export: {} alerts beyond the policy engine's limit were not raised",
                self.alerts_not_exported
            ));
        }
        lines
    }

    /// Whether every record reached its destination.
    pub fn complete(&self) -> bool {
        self.sinks
            .iter()
            .all(|s| s.overflowed == 0 && s.left_in_spool == 0 && s.spool_error.is_none())
    }
}

impl Exporter {
    /// Opens every sink's spool and starts its thread (connections are made
    /// there, and retried: a destination that is down is not an error).
    pub fn start(config: &Config) -> Result<Exporter, String> {
        Exporter::prepare(config)?.start()
    }

    /// Reads what the sinks need (TLS files) and opens their spools, without
    /// starting a thread: a live capture does this while it may still read
    /// what only root may, and starts the threads once it has dropped its
    /// privileges ([`PreparedExporter::start`]), so that none keeps them.
    pub fn prepare(config: &Config) -> Result<PreparedExporter, String> {
        let mut sinks = Vec::new();
        for sink in &config.sinks {
            let transport: Box<dyn Transport> = match &sink.target {
                config::Target::Syslog(s) => Box::new(
                    syslog::SyslogSink::new(s.clone(), sink.tls.as_ref(), sink.timeout)
                        .map_err(|e| format!("sink {}: {e}", sink.name))?,
                ),
                config::Target::Mqtt(m) => Box::new(
                    mqtt::MqttSink::new(
                        m.clone(),
                        &config.sensor_id,
                        sink.tls.as_ref(),
                        sink.timeout,
                    )
                    .map_err(|e| format!("sink {}: {e}", sink.name))?,
                ),
                config::Target::Nats(n) => Box::new(
                    nats::NatsSink::new(
                        n.clone(),
                        &config.sensor_id,
                        sink.tls.as_ref(),
                        sink.timeout,
                    )
                    .map_err(|e| format!("sink {}: {e}", sink.name))?,
                ),
            };
            let spool =
                spool::Spool::open(&config.spool_dir.join(&sink.name), sink.spool_max_bytes)
                    .map_err(|e| format!("sink {}: {e}", sink.name))?;
            sinks.push(PreparedSink {
                name: sink.name.clone(),
                kinds: sink.kinds.clone(),
                transport,
                spool,
            });
        }
        Ok(PreparedExporter {
            spool_dir: config.spool_dir.clone(),
            sensor_id: config.sensor_id.clone(),
            drain_timeout: config.drain_timeout,
            sinks,
        })
    }

    pub fn sensor_id(&self) -> &str {
        &self.sensor_id
    }

    fn wants(&self, kind: Kind) -> bool {
        self.sinks.iter().any(|s| s.kinds.contains(&kind))
    }

    fn send(&self, record: Record) {
        for sink in &self.sinks {
            if sink.kinds.contains(&record.kind) {
                // A sink's thread that ended reports why at the finish.
                let _ = sink.records.send(Message::Record(record.clone()));
            }
        }
    }

    /// The event sink to run beside (or instead of) `events.jsonl`, if any sink wants events.
    pub fn events(&self, renderer: Renderer) -> Option<Box<dyn EventSink>> {
        let senders: Vec<Sender<Message>> = self
            .sinks
            .iter()
            .filter(|s| s.kinds.contains(&Kind::Events))
            .map(|s| s.records.clone())
            .collect();
        (!senders.is_empty()).then(|| {
            Box::new(EventExport {
                sensor_id: self.sensor_id.clone(),
                senders,
                renderer,
                buffer: Vec::with_capacity(4096),
                last: (0, 0, 0),
                nth: 0,
            }) as Box<dyn EventSink>
        })
    }

    /// Where the sinks spool (each in a folder of its own).
    pub fn spool_dir(&self) -> &std::path::Path {
        &self.spool_dir
    }

    /// The end of the run: alerts with their final id and count, and the
    /// assets as this sensor knows them; then waits (at most the drain
    /// timeout) for the sinks to deliver.
    pub fn finish(self, findings: &Findings) -> ExportReport {
        // What the last epoch raised was sent by `Observer::epoch`.
        if self.wants(Kind::Alerts) {
            for alert in &findings.alerts {
                self.send(record::alert(&self.sensor_id, alert, AlertState::Final));
            }
        }
        if self.wants(Kind::Assets) {
            for asset in &findings.assets {
                self.send(record::asset(&self.sensor_id, asset));
            }
        }
        let until = Instant::now() + self.drain_timeout;
        let mut report = ExportReport {
            changes_not_exported: findings.changes_dropped,
            alerts_not_exported: findings.alerts_dropped,
            ..ExportReport::default()
        };
        for sink in self.sinks {
            let _ = sink.records.send(Message::Finish(until));
            drop(sink.records);
            report
                .sinks
                .push(sink.thread.join().unwrap_or_else(|_| SinkReport {
                    name: sink.name,
                    spool_error: Some("the sink's thread failed".into()),
                    ..SinkReport::default()
                }));
        }
        report
    }

    /// Sends what was raised since the last call: `alerts` and `changes`
    /// only grow during a run (alerts in the order raised).
    fn epoch_records(
        &mut self,
        alerts: &[crate::analysis::policy::Alert],
        changes: &[crate::analysis::inventory::Change],
    ) {
        if alerts.len() > self.alerts_sent && self.wants(Kind::Alerts) {
            for alert in &alerts[self.alerts_sent..] {
                self.send(record::alert(&self.sensor_id, alert, AlertState::Raised));
            }
        }
        self.alerts_sent = self.alerts_sent.max(alerts.len());
        if changes.len() > self.changes_sent && self.wants(Kind::Assets) {
            for change in &changes[self.changes_sent..] {
                self.send(record::change(&self.sensor_id, change));
            }
        }
        self.changes_sent = self.changes_sent.max(changes.len());
    }
}

impl Observer for Exporter {
    fn epoch(&mut self, analyzer: &Analyzer) {
        // Cheap when nothing is new: two length comparisons.
        if analyzer.alerts().len() > self.alerts_sent
            || analyzer.changes().len() > self.changes_sent
        {
            self.epoch_records(analyzer.alerts(), analyzer.changes());
        }
    }
}

/// Events for the sinks that want them, rendered as in `events.jsonl`.
struct EventExport {
    sensor_id: String,
    senders: Vec<Sender<Message>>,
    renderer: Renderer,
    buffer: Vec<u8>,
    /// (time, capture, packet) of the last event, and its place in that packet.
    last: (i64, u16, u64),
    nth: u32,
}

impl EventSink for EventExport {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        let h = &event.header;
        let at = (h.ts.0, h.capture, h.packet);
        self.nth = if at == self.last { self.nth + 1 } else { 0 };
        self.last = at;
        self.buffer.clear();
        self.renderer.render(event, &mut self.buffer);
        let key = format!("e{}-{}-{}-{}", h.ts.0, h.capture, h.packet, self.nth);
        let record = record::event(&self.sensor_id, &key, &self.buffer);
        for sender in &self.senders {
            let _ = sender.send(Message::Record(record.clone()));
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Several event sinks, each seeing every event (the event log and the exporter).
pub struct Tee(pub Vec<Box<dyn EventSink>>);

impl EventSink for Tee {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        for sink in &mut self.0 {
            sink.event(event)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        for sink in &mut self.0 {
            sink.finish()?;
        }
        Ok(())
    }
}
