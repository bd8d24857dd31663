//! `otsensor replay`: replays capture files and reports what they contain.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use otsensor::analysis::Analyzer;
use otsensor::analysis::inventory::Inventory;
use otsensor::analysis::policy::{
    self, Policy,
    baseline::{Baseline, UNTRUSTED, UNZONED, ZoneId},
};
use otsensor::capture::{CaptureFile, Input, OpenError, expand_inputs};
use otsensor::output::events::{EventLog, Renderer};
use otsensor::output::store::{RunFindings, Store};
use otsensor::output::{alerts, assets, conduits, stats, summary};
use otsensor::pipeline::{Observer, ReplayConfig, ReplayReport, Sink, replay_observed};
use otsensor::time::Timestamp;

use crate::progress::Progress;
use crate::{Failure, ReplayArgs, print};

const EVENTS_FILE: &str = "events.jsonl";
const STATS_FILE: &str = "stats.json";
const ASSETS_FILE: &str = "assets.json";
const ASSETS_CSV_FILE: &str = "assets.csv";
const ALERTS_FILE: &str = "alerts.jsonl";
const CONDUITS_FILE: &str = "conduits.json";

/// What a replay needs, checked before it starts.
pub struct Setup {
    pub policy: Policy,
    pub inputs: Vec<Input>,
    pub config: ReplayConfig,
    pub sink: Option<Box<dyn Sink>>,
    pub store: Option<Store>,
    pub inventory: Inventory,
    pub baseline: Option<Baseline>,
    pub total_bytes: u64,
}

impl Setup {
    pub fn new(args: &ReplayArgs) -> Result<Setup, Failure> {
        let policy = crate::rules::load_policy(&args.policy)?;
        let (inputs, total_bytes) = readable_inputs(args)?;
        let mut config = ReplayConfig {
            max_flows: args.max_flows,
            ..ReplayConfig::default()
        };
        if let Some(threads) = args.threads {
            if threads == 0 {
                return Err(Failure::Input("--threads must be at least 1".into()));
            }
            config.threads = threads;
        }
        let sink: Option<Box<dyn Sink>> = match &args.out {
            Some(dir) => {
                fs::create_dir_all(dir).map_err(|e| {
                    Failure::Runtime(format!("{}: cannot create directory: {e}", dir.display()))
                })?;
                let path = dir.join(EVENTS_FILE);
                let file = File::create(&path)
                    .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
                let names = inputs.iter().map(|i| i.name.clone()).collect();
                let renderer = Renderer::new(names).show_secrets(args.show_secrets);
                Some(Box::new(EventLog::new(file, renderer)))
            }
            None => None,
        };
        let store = match &args.db {
            Some(path) => Some(Store::open(path).map_err(|e| Failure::Runtime(e.to_string()))?),
            None => None,
        };
        let inventory = match &store {
            Some(store) => store
                .load_inventory()
                .map_err(|e| Failure::Runtime(e.to_string()))?,
            None => Inventory::new(),
        };
        let baseline = baseline(args, &policy, store.as_ref())?;
        Ok(Setup {
            policy,
            inputs,
            config,
            sink,
            store,
            inventory,
            baseline,
            total_bytes,
        })
    }

    /// The analyzer, continuing from the store's inventory (and learning or
    /// judging by the baseline), leaving the rest to run the replay.
    pub fn analyzer(&mut self) -> Analyzer {
        let inventory = std::mem::take(&mut self.inventory);
        let analyzer = Analyzer::new(inventory, self.policy.clone());
        match self.baseline.take() {
            Some(baseline) => analyzer.with_baseline(baseline),
            None => analyzer,
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.inputs.iter().map(|i| i.name.clone()).collect()
    }
}

/// The baseline to learn (`--learn`) or to judge by (the store's), if any.
fn baseline(
    args: &ReplayArgs,
    policy: &Policy,
    store: Option<&Store>,
) -> Result<Option<Baseline>, Failure> {
    Ok(match (&args.learn, store) {
        (Some(duration), _) => Some(Baseline::learn(*duration)),
        (None, Some(store)) => saved_baseline(store, policy)?,
        (None, None) => None,
    })
}

pub fn run(args: ReplayArgs) -> Result<(), Failure> {
    // A bad export configuration stops the replay before anything is written.
    let mut exporter = match &args.config {
        Some(path) => Some(crate::export::start(path)?),
        None => None,
    };
    let mut setup = Setup::new(&args)?;
    if args.tui {
        return crate::dashboard::replay(args, setup, exporter);
    }
    let sink = crate::export::event_sink(
        exporter.as_ref(),
        setup.sink.take(),
        Renderer::new(setup.names()).show_secrets(args.show_secrets),
    );
    let mut progress = Progress::new(setup.total_bytes, args.quiet);
    let analyzer = setup.analyzer();
    let observer = exporter.as_mut().map(|e| e as &mut dyn Observer);
    let report = replay_observed(
        &setup.inputs,
        &setup.config,
        analyzer,
        sink,
        observer,
        &mut |read| progress.update(read),
    )
    .map_err(|e| Failure::Runtime(e.to_string()));
    progress.finish();
    let report = report?;
    if let Some(exporter) = exporter {
        crate::export::print_report(&exporter.finish(&report.findings), args.quiet);
    }

    warn_about_captures(&report);
    let names = setup.names();
    save(args.out.as_deref(), setup.store.as_mut(), &names, &report)?;
    if let Some(dir) = &args.out {
        if !args.quiet {
            print(|out| {
                writeln!(
                    out,
                    "Wrote {} events to {}, {} assets to {}, {} alerts to {}, statistics to {}",
                    summary::count(report.findings.traffic.events),
                    dir.join(EVENTS_FILE).display(),
                    report.findings.assets.len(),
                    dir.join(ASSETS_FILE).display(),
                    report.findings.alerts.len(),
                    dir.join(ALERTS_FILE).display(),
                    dir.join(STATS_FILE).display(),
                )
            })?;
        }
    } else if !args.quiet {
        print(|out| summary::write(&report, out))?;
    }
    if args.stats {
        print_throughput(&report, args.out.is_some());
    }
    nothing_read(&report)
}

/// Keeps what the replay found: in the store, and in `--out DIR`.
pub fn save(
    out: Option<&Path>,
    store: Option<&mut Store>,
    names: &[String],
    report: &ReplayReport,
) -> Result<(), Failure> {
    if let Some(store) = store {
        save_to_store(store, names, report)?;
    }
    if let Some(dir) = out {
        write_file(dir, STATS_FILE, |out| stats::write(report, out))?;
        write_file(dir, ASSETS_FILE, |out| {
            assets::write_json(
                &report.findings.assets,
                report.findings.inventory.untracked_hosts(),
                out,
            )
        })?;
        write_file(dir, ASSETS_CSV_FILE, |out| {
            assets::write_csv(&report.findings.assets, out)
        })?;
        write_file(dir, ALERTS_FILE, |out| {
            alerts::write_jsonl(&report.findings.alerts, out)
        })?;
        write_file(dir, CONDUITS_FILE, |out| {
            conduits::write_json(&report.findings.conduits, out)
        })?;
    }
    Ok(())
}

/// A replay that could read nothing at all is bad input.
pub fn nothing_read(report: &ReplayReport) -> Result<(), Failure> {
    if report.packets.packets == 0
        && report
            .captures
            .iter()
            .any(|c| c.damage.is_some() || c.error.is_some())
    {
        return Err(Failure::Input(
            "nothing could be read from the captures".into(),
        ));
    }
    Ok(())
}

/// The baseline kept in `store` by an earlier `--learn`, to judge against.
/// Saves a run in the store: inventory, changes, alerts, observed
/// conduits and policy, in one transaction, then the baseline.
pub fn save_to_store(
    store: &mut Store,
    names: &[String],
    report: &ReplayReport,
) -> Result<(), Failure> {
    let findings = &report.findings;
    let run = RunFindings {
        alerts: &findings.alerts,
        conduits: &findings.conduits,
        first_ts: report.first_ts,
        last_ts: report.last_ts,
    };
    store
        .save_run(
            &findings.inventory,
            &findings.changes,
            names,
            report.packets.packets,
            Some(&run),
        )
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    if let Some(baseline) = &findings.baseline {
        store
            .save_baseline(baseline)
            .map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    Ok(())
}

pub fn saved_baseline(store: &Store, policy: &Policy) -> Result<Option<Baseline>, Failure> {
    let saved = store
        .load_baseline()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    Ok(saved.map(|saved| {
        Baseline::restore(saved, Timestamp::ZERO, |name| {
            policy.zone_index(name).map(|z| z as ZoneId).or(match name {
                policy::UNTRUSTED => Some(UNTRUSTED),
                "unzoned" => Some(UNZONED),
                _ => None,
            })
        })
    }))
}

/// Writes `dir/name` with `write`, reporting the path on failure.
fn write_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let path = dir.join(name);
    let written = File::create(&path).and_then(|file| {
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.flush()
    });
    written.map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))
}

/// The timeline's files, each checked to be a capture that can be read, and
/// the bytes of those that will be read (for the progress bar). A file that
/// is not a capture stops the replay before it starts; one whose link type
/// is unsupported stays in the timeline, so that the report lists it with
/// its error, unless no file at all could be read.
fn readable_inputs(args: &ReplayArgs) -> Result<(Vec<Input>, u64), Failure> {
    let (inputs, skipped) =
        expand_inputs(&args.captures).map_err(|e| Failure::Input(e.to_string()))?;
    if let Some(first) = skipped.first()
        && !args.quiet
    {
        eprintln!(
            "otsensor: ignored {} file(s) in the given directories that are not captures (e.g. {})",
            skipped.len(),
            first.display()
        );
    }
    let mut readable_bytes = 0;
    let mut readable = 0;
    let mut unsupported = Vec::new();
    let mut timeline = Vec::with_capacity(inputs.len());
    for input in inputs {
        // Only the header is read: the replay opens each file again in turn.
        match CaptureFile::open_buffered(&input.path) {
            Ok(_) => {
                readable += 1;
                readable_bytes += fs::metadata(&input.path).map_or(0, |m| m.len());
            }
            Err(e @ OpenError::UnsupportedLinkType(_)) => {
                unsupported.push(format!("{}: {e}", input.name))
            }
            Err(e) => return Err(Failure::Input(format!("{}: {e}", input.name))),
        }
        timeline.push(input);
    }
    if readable == 0 {
        return Err(Failure::Input(match unsupported.len() {
            0 => "no capture files found".into(),
            1 => unsupported.remove(0),
            _ => format!("no capture could be read:\n  {}", unsupported.join("\n  ")),
        }));
    }
    Ok((timeline, readable_bytes))
}

pub fn warn_about_captures(report: &ReplayReport) {
    for capture in &report.captures {
        if let Some(error) = &capture.error {
            eprintln!("otsensor: {}: not replayed: {error}", capture.name);
        }
        if let Some(damage) = &capture.damage {
            eprintln!(
                "otsensor: {}: damaged {damage}; the {} packets before it were decoded",
                capture.name, capture.packets
            );
        }
        for &(dlt, packets) in &capture.unsupported_link_types {
            eprintln!(
                "otsensor: {}: skipped {packets} packets with unsupported link type {dlt} ({})",
                capture.name,
                otsensor::capture::dlt_name(dlt)
            );
        }
    }
}

pub fn print_throughput(report: &ReplayReport, wrote_events: bool) {
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let packets = report.packets.packets as f64;
    let gbits = report.packets.captured_bytes as f64 * 8.0 / secs / 1e9;
    eprintln!(
        "throughput: {} packets in {secs:.3} s = {:.2} M packets/s, {gbits:.2} Gbit/s of capture bytes",
        summary::count(report.packets.packets),
        packets / secs / 1e6
    );
    let events = report.findings.traffic.events as f64;
    let verb = if wrote_events { "written" } else { "decoded" };
    eprintln!(
        "events: {} {verb}, {:.2} M events/s",
        summary::count(report.findings.traffic.events),
        events / secs / 1e6
    );
    match peak_memory_kib() {
        Some(kib) => eprintln!("peak memory (RSS): {:.1} MiB", kib as f64 / 1024.0),
        None => eprintln!("peak memory (RSS): unknown on this platform"),
    }
}

/// Peak resident set size, from /proc (Linux).
fn peak_memory_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
