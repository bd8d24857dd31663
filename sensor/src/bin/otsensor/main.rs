//! The `otsensor` command: a thin layer over the library that parses
//! arguments, maps errors to exit codes and treats a closed stdout as success.

mod allocator;
mod assets;
mod dashboard;
mod export;
mod hub;
#[cfg(target_os = "linux")]
mod live;
#[cfg(target_os = "linux")]
mod prefilter;
#[cfg(target_os = "linux")]
mod privilege;
mod progress;
mod replay;
mod report;
mod rules;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Passive OT/ICS network sensor.
#[derive(Parser)]
#[command(name = "otsensor", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay capture files (pcap, pcapng) and decode every industrial message.
    Replay(ReplayArgs),
    /// Capture live from a network interface (a SPAN or TAP port); needs CAP_NET_RAW
    /// (and CAP_NET_ADMIN + CAP_BPF for --xdp), then runs unprivileged.
    #[cfg(target_os = "linux")]
    Live(Box<live::LiveArgs>),
    /// List the asset inventory kept in a store.
    Assets(assets::AssetsArgs),
    /// Work with policy and detection rules.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Browse a store's inventory and alert history in the terminal dashboard.
    Tui(dashboard::TuiArgs),
    /// Write the IEC 62443 compliance report (Markdown, HTML) from a store or a replay's output.
    Report(report::ReportArgs),
    /// Keep the fleet's inventory and alerts in PostgreSQL, fed by the sensors through NATS JetStream.
    Hub(hub::HubArgs),
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Capture files or directories (searched recursively), replayed in name order as one timeline.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Write events.jsonl and stats.json to this directory instead of printing a summary.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Decoding threads (default: one per CPU beyond the first). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print throughput and peak memory at the end (on stderr).
    #[arg(long)]
    pub stats: bool,
    /// Print nothing but warnings and errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Plant policy (zones, conduits, rules) to apply on top of the built-in rule
    /// pack: TOML files, or directories of them. May be repeated.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Keep the asset inventory (and the learned baseline) in this SQLite file,
    /// merged with what earlier runs put there.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Learn a baseline over the first DURATION of packet time (`30s`, `10m`, `2h`),
    /// then alert on what falls outside it. With --db the baseline is kept, and later
    /// runs judge against it without learning again; --learn starts a new one.
    #[arg(long, value_name = "DURATION", value_parser = parse_learn)]
    pub learn: Option<otsensor::time::Timestamp>,
    /// Write cleartext credentials seen on the wire (SNMP communities, passwords) into
    /// events instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Most flows tracked at once; beyond it the least recently seen are evicted (counted).
    #[arg(long, value_name = "N", default_value_t = 256 * 1024)]
    pub max_flows: usize,
    /// Watch the replay in the terminal dashboard (press ? in it for the keys).
    #[arg(long)]
    pub tui: bool,
    /// With --tui: replay at N times the capture's own pace (default 1).
    #[arg(long, value_name = "N", requires = "tui", conflicts_with = "fast")]
    pub speed: Option<f64>,
    /// With --tui: replay as fast as possible, then browse what was found.
    #[arg(long, requires = "tui")]
    pub fast: bool,
    /// Export alerts, asset changes and events to the sinks (syslog, MQTT, NATS) this
    /// file configures, with the sensor's id (docs/export.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Exit codes: 0 success, 1 runtime failure or invalid policy, 2 bad input or usage.
fn parse_learn(text: &str) -> Result<otsensor::time::Timestamp, String> {
    otsensor::analysis::policy::load::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration like 30s, 10m, 2h or 1d"))
}

pub enum Failure {
    Runtime(String),
    Input(String),
    /// Policy errors, one per line, printed as they are (file:line:column: reason).
    Policy(String),
    /// Stopped by this signal (the dashboard restored the terminal first).
    Signal(i32),
}

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        #[cfg(target_os = "linux")]
        Command::Live(args) => live::run_live(*args),
        Command::Assets(args) => assets::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Tui(args) => dashboard::browse(args),
        Command::Report(args) => report::run(args),
        Command::Hub(args) => hub::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Runtime(message)) => {
            eprintln!("otsensor: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Input(message)) => {
            eprintln!("otsensor: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Policy(errors)) => {
            eprintln!("{errors}");
            ExitCode::from(1)
        }
        // As shells report a process a signal ended.
        Err(Failure::Signal(n)) => ExitCode::from(128u8.saturating_add(n as u8)),
    }
}

/// Writes to stdout; a reader that went away (`otsensor ... | head`) is not an error.
pub fn print(write: impl FnOnce(&mut io::StdoutLock<'_>) -> io::Result<()>) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match write(&mut out).and_then(|()| io::Write::flush(&mut out)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(format!("writing to stdout: {e}"))),
    }
}
