//! `otsensor live`: captures from an interface (a SPAN or TAP port) through
//! the same pipeline as replay, printing statistics every second, until
//! `--duration` runs out or SIGINT/SIGTERM arrives.

use std::fs::{self, File};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::{PassPort, Policy};
use otsensor::capture::live::{
    Capture, Interface, InterfaceCounters, LiveCounters, LiveError, LiveSource, RingConfig,
    RingSocket,
};
use otsensor::export::Exporter;
use otsensor::output::events::{EventLog, Renderer};
use otsensor::output::store::Store;
use otsensor::output::{alerts, assets, stats, summary};
use otsensor::pipeline::{
    Backpressure, FrameSource, Observer, ReplayConfig, ReplayError, ReplayReport, RunOptions, Sink,
    in_flight, run,
};
use otsensor::tui::publish::INTERVAL;
use otsensor::tui::snapshot::{LiveDrops, PrefilterLine, WallClock};
use otsensor::tui::{self, Cadence, Exit, Phase, Snapshot, Update};
use serde::Serialize;

use crate::dashboard;
use crate::prefilter::{self, PrefilterSetup};
use crate::privilege;
use crate::{Failure, print};

const EVENTS_FILE: &str = "events.jsonl";
const STATS_FILE: &str = "stats.json";
const ASSETS_FILE: &str = "assets.json";
const ASSETS_CSV_FILE: &str = "assets.csv";
const ALERTS_FILE: &str = "alerts.jsonl";
const STATS_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// AF_PACKET TPACKET_V3 ring, one socket per worker in a fanout group.
    Afpacket,
    /// libpcap (build with `--features pcap`); needed for `--bpf`.
    Pcap,
}

#[derive(clap::Args)]
pub struct LiveArgs {
    /// Network interface to capture on (a SPAN or TAP port).
    #[arg(long, short, value_name = "IF")]
    pub interface: String,
    /// Capture sockets and decoding workers (default: one per CPU beyond the first).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[arg(long, value_enum, default_value_t = Backend::Afpacket)]
    pub backend: Backend,
    /// Receive ring (AF_PACKET) or buffer (libpcap) size per socket, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub ring_mb: u32,
    /// A BPF filter expression applied in the kernel (libpcap backend only).
    #[arg(long, value_name = "EXPR")]
    pub bpf: Option<String>,
    /// Drop bulk traffic in the kernel with the eBPF prefilter (XDP; a socket
    /// filter where XDP is not available). Build it first: `cargo xtask build-ebpf`.
    #[arg(long)]
    pub xdp: bool,
    /// The prefilter's eBPF object (default: next to the binary, or target/bpf/).
    #[arg(long, value_name = "FILE")]
    pub xdp_object: Option<PathBuf>,
    /// XDP attach mode: `auto` tries the driver first, then generic (skb) mode
    /// (saying why the driver refused), then the socket filter (saying why).
    #[arg(long, value_enum, default_value_t = prefilter::XdpMode::Auto)]
    pub xdp_mode: prefilter::XdpMode,
    /// An extra port for the prefilter's pass list, e.g. `tcp/5020=modbus` (may be
    /// repeated; a policy lists them as `[prefilter] pass_ports`).
    #[arg(long, value_name = "T/PORT[=PROTO]", value_parser = PassPort::parse)]
    pub pass_port: Vec<PassPort>,
    /// Write events.jsonl, stats.json (rewritten every second), assets and alerts to this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep the asset inventory (merged with what earlier runs put there) and
    /// this run's alerts and observed conduits in this SQLite file.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Stop after this many seconds (default: run until SIGINT or SIGTERM).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// After opening the sockets, run as this user (default when started as root: nobody).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Plant policy (zones, conduits, rules) on top of the built-in rule pack. May be repeated.
    /// SIGHUP re-reads it for the prefilter's pass list.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Write cleartext credentials seen on the wire into events instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Most flows tracked at once; beyond it the least recently seen are evicted (counted).
    #[arg(long, value_name = "N", default_value_t = 256 * 1024)]
    pub max_flows: usize,
    /// Send alerts, asset changes and (if asked) events to the sinks this
    /// export configuration lists: syslog/CEF/LEEF, MQTT, NATS (docs/export.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Watch the capture in the terminal dashboard; quitting it stops the capture.
    #[arg(long)]
    pub tui: bool,
    /// No statistics line every second, no summary: only warnings and errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Output files, opened before privileges are dropped so that the
/// unprivileged process can still write them.
struct Outputs {
    dir: PathBuf,
    stats: File,
    assets: File,
    assets_csv: File,
    alerts: File,
}

pub fn run_live(args: LiveArgs) -> Result<(), Failure> {
    let policy = crate::rules::load_policy(&args.policy)?;
    if args.tui {
        dashboard::need_terminal()?;
    }
    // Who to become once the sockets are open: checked before opening them.
    let user = privilege::capture_user(args.user.as_deref()).map_err(Failure::Input)?;
    // A bad export configuration stops the sensor before it captures; the
    // sinks' threads start only once privileges are dropped, so none keeps them.
    let exporter = args
        .config
        .as_deref()
        .map(crate::export::prepare)
        .transpose()?;
    let threads = match args.threads {
        Some(0) => return Err(Failure::Input("--threads must be at least 1".into())),
        Some(n) => n,
        None => ReplayConfig::default().threads,
    };
    if args.bpf.is_some() && args.backend != Backend::Pcap {
        return Err(Failure::Input(
            "--bpf needs the libpcap backend (--backend pcap)".into(),
        ));
    }
    let interface = Interface::open(&args.interface).map_err(live_failure)?;
    let counters = Arc::new(LiveCounters::default());
    let stop = Arc::new(AtomicBool::new(false));
    privilege::catch_stop_signals();
    // With the dashboard, SIGHUP is the terminal hanging up, which stops it.
    if !args.tui {
        privilege::catch_reload_signal();
    }

    let captures = open_captures(&args, &interface, threads)?;
    let mut prefilter = if args.xdp {
        let fds: Vec<_> = captures.iter().map(|c| c.fd()).collect();
        Some(
            prefilter::setup(&args, &policy, &interface, &fds)
                .map_err(|e| Failure::Runtime(e.to_string()))?,
        )
    } else {
        None
    };
    if let Some(p) = &prefilter
        && !args.quiet
    {
        eprintln!("otsensor: prefilter: {}", p.describe());
    }

    let outputs = args.out.as_deref().map(prepare_outputs).transpose()?;
    let renderer = || Renderer::new(vec![interface.name.clone()]).show_secrets(args.show_secrets);
    let events_file: Option<Box<dyn Sink>> = match &outputs {
        Some(o) => {
            let path = o.dir.join(EVENTS_FILE);
            let file = File::create(&path)
                .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
            Some(Box::new(EventLog::new(file, renderer())))
        }
        None => None,
    };
    let mut store = match &args.db {
        Some(path) => Some(Store::open(path).map_err(|e| Failure::Runtime(e.to_string()))?),
        None => None,
    };
    let inventory = match &store {
        Some(store) => store
            .load_inventory()
            .map_err(|e| Failure::Runtime(e.to_string()))?,
        None => Inventory::new(),
    };
    // The dashboard keeps acknowledgements and mutes through a connection of its own.
    let marks_store = match (&args.db, args.tui) {
        (Some(path), true) => Some(Store::open(path).map_err(|e| Failure::Runtime(e.to_string()))?),
        _ => None,
    };

    // Everything privileged is done: sockets open, prefilter attached, files open.
    // The sinks make new spool files as they go: as that user.
    if let (Some(exporter), Some(user)) = (&exporter, &user) {
        privilege::hand_over(exporter.spool_dir(), user).map_err(Failure::Runtime)?;
    }
    let dropped = privilege::drop_privileges(user.as_deref()).map_err(Failure::Runtime)?;
    let exporter = exporter
        .map(|e| e.start())
        .transpose()
        .map_err(Failure::Runtime)?;
    let sink = crate::export::event_sink(exporter.as_ref(), events_file, renderer());
    if !args.quiet {
        eprintln!(
            "otsensor: capturing on {} ({} socket{}, {:?}) as {}; no capabilities kept",
            interface.name,
            captures.len(),
            if captures.len() == 1 { "" } else { "s" },
            args.backend,
            dropped.user
        );
    }

    let spares = in_flight(threads);
    let sources: Vec<Box<dyn FrameSource>> = captures
        .into_iter()
        .map(|c| c.into_source(counters.clone(), stop.clone(), spares))
        .collect();
    let config = ReplayConfig {
        threads,
        max_flows: args.max_flows,
        ..ReplayConfig::default()
    };
    let options = RunOptions {
        backpressure: Backpressure::DropAndCount,
        queue_drops: Arc::new(AtomicU64::new(0)),
    };
    let mut monitor = Monitor {
        started: Instant::now(),
        last_print: Instant::now(),
        deadline: args
            .duration
            .map(|s| Instant::now() + Duration::from_secs(s)),
        interface: &interface,
        start_counters: interface.counters(),
        counters: &counters,
        queue_drops: options.queue_drops.clone(),
        prefilter: prefilter.as_mut(),
        policy_paths: &args.policy,
        stop: &stop,
        // The dashboard shows what the line would say.
        quiet: args.quiet || args.tui,
        stats_file: outputs.as_ref().map(|o| &o.stats),
        backend: args.backend,
        exporter,
    };
    let baseline = match &store {
        Some(store) => crate::replay::saved_baseline(store, &policy)?,
        None => None,
    };
    let shown_policy = args.tui.then(|| policy.clone());
    let mut analyzer = Analyzer::new(inventory, policy);
    if let Some(baseline) = baseline {
        analyzer = analyzer.with_baseline(baseline);
    }
    let capture = |on_epoch: &mut dyn FnMut(&Analyzer)| {
        run(sources, &config, &options, analyzer, sink, on_epoch)
    };
    let (report, exit) = match &shown_policy {
        Some(policy) => {
            with_dashboard(&interface.name, marks_store, policy, &mut monitor, capture)?
        }
        None => (capture(&mut |a| monitor.epoch(a)), None),
    };
    let report = report.map_err(|e| Failure::Runtime(e.to_string()))?;
    // A terminal that hung up takes no summary.
    let quiet = args.quiet || matches!(exit, Some(Exit::Signal(_)));
    let mut last = monitor.snapshot(None);
    last.protocols = report
        .findings
        .traffic
        .protocols
        .iter()
        .map(|(p, s)| (p.name(), s.pdus))
        .collect();
    last.drops.worker_queue = report.queue_dropped;
    let exporter = monitor.exporter.take();
    // Detach before writing the outputs: the wire is no longer watched.
    if let Some(p) = prefilter.take() {
        p.detach();
    }
    if let Some(exporter) = exporter {
        crate::export::print_report(&exporter.finish(&report.findings), quiet);
    }

    if let Some(store) = &mut store {
        let names = vec![format!("live:{}", interface.name)];
        crate::replay::save_to_store(store, &names, &report)?;
    }
    if let Some(outputs) = outputs {
        write_outputs(outputs, &report, &last)?;
    } else if !quiet {
        print(|out| summary::write(&report, out))?;
    }
    if !quiet {
        eprintln!("otsensor: {}", last.line());
    }
    if counters.failed_sockets.load(Ordering::Relaxed) > 0 {
        return Err(Failure::Runtime(format!(
            "the capture on {} stopped on an error (above); what it captured before is saved",
            interface.name
        )));
    }
    Ok(())
}

/// The capture on this thread and the dashboard on another, until both
/// end: the capture when the dashboard quits (or `--duration` runs out), the
/// dashboard when the operator has seen the end and quits. Returns how the
/// dashboard ended.
fn with_dashboard(
    interface: &str,
    marks_store: Option<Store>,
    policy: &Policy,
    monitor: &mut Monitor,
    capture: impl FnOnce(&mut dyn FnMut(&Analyzer)) -> Result<ReplayReport, ReplayError>,
) -> Result<(Result<ReplayReport, ReplayError>, Option<Exit>), Failure> {
    let (publisher, updates, counters) = tui::channel(interface, Cadence::Wall(INTERVAL));
    let mut publisher = publisher.live(interface);
    let stop = monitor.stop;
    std::thread::scope(|scope| {
        let dashboard = std::thread::Builder::new()
            .name("dashboard".into())
            .spawn_scoped(scope, move || {
                dashboard::watch_live(interface, marks_store, &updates, counters, stop)
            })
            .map_err(|e| Failure::Runtime(format!("cannot start the dashboard: {e}")))?;
        let report = capture(&mut |analyzer| {
            monitor.epoch(analyzer);
            publisher.offer(analyzer, Some(&|| monitor.live_drops()));
        });
        publisher.push(match &report {
            Ok(report) => {
                let mut last = Snapshot::of_replay(report, policy, interface);
                last.phase = Phase::CaptureEnded {
                    interface: interface.to_string(),
                };
                last.fill_live_drops(monitor.live_drops());
                last.wall = Some(WallClock {
                    elapsed: monitor.started.elapsed(),
                    packets: report.packets.packets,
                });
                Update::Snapshot(Box::new(last))
            }
            Err(e) => Update::Notice(format!("capture failed: {e}")),
        });
        if report.is_ok() {
            publisher.push(Update::Notice(
                "capture ended; q quits and saves the results".into(),
            ));
        }
        let exit = dashboard
            .join()
            .map_err(|_| Failure::Runtime("the dashboard thread failed".into()))??;
        Ok((report, Some(exit)))
    })
}

fn live_failure(e: LiveError) -> Failure {
    match e {
        LiveError::NoSuchInterface(_) | LiveError::InterfaceDown(_) => {
            Failure::Input(e.to_string())
        }
        _ => Failure::Runtime(e.to_string()),
    }
}

/// A capture socket of either backend, before it becomes a pipeline source.
pub enum OpenCapture {
    Ring(RingSocket),
    #[cfg(feature = "pcap")]
    Pcap(otsensor::capture::live::PcapCapture),
}

impl OpenCapture {
    pub fn fd(&self) -> Option<libc::c_int> {
        match self {
            OpenCapture::Ring(r) => Some(r.fd()),
            #[cfg(feature = "pcap")]
            OpenCapture::Pcap(_) => None,
        }
    }

    fn into_source(
        self,
        counters: Arc<LiveCounters>,
        stop: Arc<AtomicBool>,
        spares: usize,
    ) -> Box<dyn FrameSource> {
        fn boxed<C: Capture + 'static>(
            c: C,
            counters: Arc<LiveCounters>,
            stop: Arc<AtomicBool>,
            spares: usize,
        ) -> Box<dyn FrameSource> {
            Box::new(LiveSource::new(c, counters, stop, spares))
        }
        match self {
            OpenCapture::Ring(r) => boxed(r, counters, stop, spares),
            #[cfg(feature = "pcap")]
            OpenCapture::Pcap(p) => boxed(p, counters, stop, spares),
        }
    }
}

fn open_captures(
    args: &LiveArgs,
    interface: &Interface,
    threads: usize,
) -> Result<Vec<OpenCapture>, Failure> {
    match args.backend {
        Backend::Afpacket => {
            let ring = RingConfig::with_size_mb(args.ring_mb);
            // One group per process: the id only has to differ from other captures' groups.
            let group = (std::process::id() & 0xffff) as u16;
            let fanout = (threads > 1).then_some(group);
            (0..threads)
                .map(|_| {
                    RingSocket::open(interface, ring, fanout)
                        .map(OpenCapture::Ring)
                        .map_err(live_failure)
                })
                .collect()
        }
        #[cfg(feature = "pcap")]
        Backend::Pcap => {
            if threads > 1 {
                eprintln!("otsensor: the libpcap backend reads with one socket; {threads} workers decode");
            }
            let capture = otsensor::capture::live::PcapCapture::open(
                interface,
                args.bpf.as_deref(),
                args.ring_mb,
            )
            .map_err(live_failure)?;
            Ok(vec![OpenCapture::Pcap(capture)])
        }
        #[cfg(not(feature = "pcap"))]
        Backend::Pcap => Err(Failure::Input(
            "this otsensor was built without libpcap: rebuild with `cargo build --release --features pcap` (needs libpcap-dev)".into(),
        )),
    }
}

fn prepare_outputs(dir: &Path) -> Result<Outputs, Failure> {
    fs::create_dir_all(dir).map_err(|e| {
        Failure::Runtime(format!("{}: cannot create directory: {e}", dir.display()))
    })?;
    let create = |name: &str| {
        let path = dir.join(name);
        File::create(&path).map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))
    };
    Ok(Outputs {
        dir: dir.to_path_buf(),
        stats: create(STATS_FILE)?,
        assets: create(ASSETS_FILE)?,
        assets_csv: create(ASSETS_CSV_FILE)?,
        alerts: create(ALERTS_FILE)?,
    })
}

fn write_outputs(outputs: Outputs, report: &ReplayReport, live: &LiveStats) -> Result<(), Failure> {
    let fail = |name: &str, e: std::io::Error| {
        Failure::Runtime(format!("{}: {e}", outputs.dir.join(name).display()))
    };
    let mut doc = Vec::new();
    stats::write(report, &mut doc).map_err(|e| fail(STATS_FILE, e))?;
    let mut doc: serde_json::Value =
        serde_json::from_slice(&doc).map_err(|e| fail(STATS_FILE, e.into()))?;
    doc["live"] = serde_json::to_value(live).map_err(|e| fail(STATS_FILE, e.into()))?;
    rewrite(&outputs.stats, |out| {
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        out.write_all(b"\n")
    })
    .map_err(|e| fail(STATS_FILE, e))?;
    rewrite(&outputs.assets, |out| {
        assets::write_json(
            &report.findings.assets,
            report.findings.inventory.untracked_hosts(),
            out,
        )
    })
    .map_err(|e| fail(ASSETS_FILE, e))?;
    rewrite(&outputs.assets_csv, |out| {
        assets::write_csv(&report.findings.assets, out)
    })
    .map_err(|e| fail(ASSETS_CSV_FILE, e))?;
    rewrite(&outputs.alerts, |out| {
        alerts::write_jsonl(&report.findings.alerts, out)
    })
    .map_err(|e| fail(ALERTS_FILE, e))?;
    Ok(())
}

/// Replaces the contents of an open file.
fn rewrite(
    file: &File,
    write: impl FnOnce(&mut std::io::BufWriter<&File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    file.set_len(0)?;
    let mut handle = file;
    handle.rewind()?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)?;
    out.flush()
}

/// Every counted loss, by the stage where it happened.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Drops {
    /// The NIC had no room (rx_missed_errors + rx_fifo_errors), from the
    /// interface's statistics whatever the backend.
    pub nic: u64,
    /// The kernel's receive path (rx_dropped), from the same statistics.
    pub kernel: u64,
    /// The capture ring or libpcap buffer was full (PACKET_STATISTICS;
    /// libpcap's ps_drop, which it reads there too).
    pub ring: u64,
    /// Dropped on purpose by the prefilter (bulk traffic, by policy).
    pub prefilter_policy: u64,
    /// A decoding worker's queue was full.
    pub worker_queue: u64,
}

/// The live statistics, printed every second and kept in stats.json.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveStats {
    pub interface: String,
    pub backend: String,
    pub elapsed_secs: f64,
    pub packets: u64,
    pub bytes: u64,
    /// Outgoing frames of this host, ignored.
    pub outgoing_skipped: u64,
    /// Frames longer than the ring's frames, cut (their events may be incomplete).
    pub truncated: u64,
    pub drops: Drops,
    /// Decoded PDUs by protocol.
    pub protocols: std::collections::BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefilter: Option<prefilter::PrefilterStats>,
}

impl LiveStats {
    pub fn line(&self) -> String {
        let mut line = format!(
            "{:.0}s {}: {} packets, {}; ",
            self.elapsed_secs,
            self.interface,
            summary::count(self.packets),
            summary::bytes(self.bytes),
        );
        if self.protocols.is_empty() {
            line.push_str("no PDUs yet");
        } else {
            let parts: Vec<String> = self
                .protocols
                .iter()
                .map(|(p, n)| format!("{p} {}", summary::count(*n)))
                .collect();
            line.push_str(&parts.join(", "));
        }
        let d = &self.drops;
        line.push_str(&format!(
            "; drops: nic {}, kernel {}, ring {}, prefilter (policy) {}, worker queue {}",
            summary::count(d.nic),
            summary::count(d.kernel),
            summary::count(d.ring),
            summary::count(d.prefilter_policy),
            summary::count(d.worker_queue)
        ));
        if let Some(p) = &self.prefilter {
            line.push_str(&format!(
                "; prefilter ({}): {} passed, {} dropped",
                p.attached,
                summary::count(p.passed_packets),
                summary::count(p.dropped_packets)
            ));
        }
        line
    }
}

/// Called after every merged epoch: stops the capture when asked, and prints
/// (and writes) the statistics every second.
struct Monitor<'a> {
    started: Instant,
    last_print: Instant,
    deadline: Option<Instant>,
    interface: &'a Interface,
    start_counters: InterfaceCounters,
    counters: &'a LiveCounters,
    queue_drops: Arc<AtomicU64>,
    prefilter: Option<&'a mut PrefilterSetup>,
    /// `--policy`, re-read on SIGHUP for the prefilter's pass list.
    policy_paths: &'a [PathBuf],
    stop: &'a AtomicBool,
    quiet: bool,
    stats_file: Option<&'a File>,
    backend: Backend,
    /// Sends what each epoch raised to the sinks.
    exporter: Option<Exporter>,
}

impl Monitor<'_> {
    fn epoch(&mut self, analyzer: &Analyzer) {
        if let Some(exporter) = &mut self.exporter {
            exporter.epoch(analyzer);
        }
        let now = Instant::now();
        if privilege::stop_requested() || self.deadline.is_some_and(|d| now >= d) {
            self.stop.store(true, Ordering::Relaxed);
        }
        if privilege::take_reload_request() {
            match self.prefilter.as_deref_mut() {
                Some(prefilter) => prefilter::reload(prefilter, self.policy_paths),
                None => eprintln!(
                    "otsensor: SIGHUP: nothing to reload without --xdp (the analysis keeps the rules it started with)"
                ),
            }
        }
        if now.duration_since(self.last_print) < STATS_EVERY {
            return;
        }
        self.last_print = now;
        let stats = self.snapshot(Some(analyzer));
        if !self.quiet {
            eprintln!("{}", stats.line());
        }
        if let Some(file) = self.stats_file {
            let written = rewrite(file, |out| {
                serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "live": stats }))?;
                out.write_all(b"\n")
            });
            if let Err(e) = written {
                eprintln!("otsensor: writing {STATS_FILE}: {e}");
            }
        }
    }

    /// The losses the dashboard shows, by stage, and the prefilter's counts.
    fn live_drops(&self) -> LiveDrops {
        let stats = self.snapshot(None);
        let drops = stats.drops;
        let prefilter_protocols = stats
            .prefilter
            .map(|p| p.protocols)
            .unwrap_or_default()
            .into_iter()
            .map(|p| PrefilterLine {
                name: p.name,
                passed: p.passed_packets,
                dropped: p.dropped_packets,
            })
            .collect();
        LiveDrops {
            kernel: drops.nic + drops.kernel,
            ring: drops.ring,
            prefilter: drops.prefilter_policy,
            queue: drops.worker_queue,
            prefilter_protocols,
        }
    }

    fn snapshot(&self, analyzer: Option<&Analyzer>) -> LiveStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = self.counters;
        let interface = self.interface.counters().since(self.start_counters);
        let prefilter = self.prefilter.as_deref().map(PrefilterSetup::stats);
        LiveStats {
            interface: self.interface.name.clone(),
            backend: format!("{:?}", self.backend).to_lowercase(),
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            packets: load(&c.packets),
            bytes: load(&c.bytes),
            outgoing_skipped: load(&c.outgoing_skipped),
            truncated: load(&c.truncated),
            drops: Drops {
                nic: interface.nic_dropped,
                kernel: interface.kernel_dropped,
                ring: load(&c.ring_dropped),
                prefilter_policy: prefilter.as_ref().map_or(0, |p| p.dropped_packets),
                worker_queue: self.queue_drops.load(Ordering::Relaxed),
            },
            protocols: analyzer
                .map(|a| a.pdus_by_protocol().map(|(p, n)| (p.name(), n)).collect())
                .unwrap_or_default(),
            prefilter,
        }
    }
}
