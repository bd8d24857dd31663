//! `otsensor hub`: the fleet's JetStream consumer writing to PostgreSQL.

use std::time::Duration;

use otsensor::hub::{HubConfig, run as run_hub};

use crate::Failure;

#[derive(clap::Args)]
pub struct HubArgs {
    /// NATS servers of the cluster (comma-separated, or repeated), e.g. nats://127.0.0.1:4222.
    #[arg(long, value_name = "URL", required = true, value_delimiter = ',')]
    pub nats: Vec<String>,
    /// PostgreSQL connection, e.g. postgresql://otsensor@127.0.0.1/fleet.
    #[arg(long, value_name = "URL")]
    pub postgres: String,
    /// The JetStream stream the sensors publish into.
    #[arg(long, default_value = "OTSENSOR")]
    pub stream: String,
    /// The subjects' first part (`<prefix>.<sensor_id>.alerts`).
    #[arg(long, default_value = "otsensor")]
    pub subject_prefix: String,
    /// Copies of the stream, if the hub creates it.
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// The durable consumer's name (hubs sharing it share the work).
    #[arg(long, default_value = "otsensor-hub")]
    pub durable: String,
    /// Exit once no record came for this many seconds (default: run until stopped).
    #[arg(long, value_name = "SECS")]
    pub until_idle: Option<u64>,
}

pub fn run(args: HubArgs) -> Result<(), Failure> {
    let config = HubConfig {
        nats_urls: args.nats,
        postgres: args.postgres,
        stream: args.stream,
        subject_prefix: args.subject_prefix,
        replicas: args.replicas.clamp(1, 5),
        durable: args.durable,
        until_idle: args.until_idle.map(Duration::from_secs),
    };
    let report = block_on(run_hub(&config))?;
    eprintln!(
        "otsensor hub: {} records: {} alerts, {} asset changes, {} asset views ({} fleet assets), {} events skipped, {} invalid",
        report.messages,
        report.alerts,
        report.changes,
        report.assets,
        report.fleet_assets,
        report.events_skipped,
        report.invalid
    );
    Ok(())
}

/// Runs `work` (talking to NATS or PostgreSQL) to its end on a runtime of
/// this thread.
pub fn block_on<T>(
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, Failure> {
    runtime()?.block_on(work).map_err(Failure::Runtime)
}

/// A runtime on the calling thread: it drives a database connection only
/// while something is run on it.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("starting the runtime: {e}")))
}
