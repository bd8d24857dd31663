//! The hub: a durable JetStream consumer that keeps the fleet's inventory
//! and alert history in PostgreSQL. A batch of records is written in one
//! transaction and acknowledged after it commits; a record delivered again
//! (after a crash, a lost acknowledgement, a NATS node failing) is written
//! again to the same row, so at-least-once delivery never duplicates.

pub mod db;
pub mod fleet;

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull};
use futures_util::StreamExt;

/// Where the hub reads and writes.
#[derive(Clone, Debug)]
pub struct HubConfig {
    pub nats_urls: Vec<String>,
    pub postgres: String,
    pub stream: String,
    pub subject_prefix: String,
    /// Replicas of the stream if the hub creates it.
    pub replicas: usize,
    /// The durable consumer's name: hubs sharing it share the work.
    pub durable: String,
    /// Stop once no record has come for this long (`None`: run until stopped).
    pub until_idle: Option<Duration>,
}

/// What a hub run wrote.
#[derive(Debug, Default)]
pub struct HubReport {
    pub messages: u64,
    pub alerts: u64,
    pub changes: u64,
    pub assets: u64,
    pub events_skipped: u64,
    pub invalid: u64,
    pub fleet_assets: usize,
}

const BATCH: usize = 500;

pub async fn run(config: &HubConfig) -> Result<HubReport, String> {
    let mut client = db::connect(&config.postgres).await?;
    let applied = db::migrate(&mut client).await?;
    if !applied.is_empty() {
        eprintln!("otsensor hub: applied schema migrations {applied:?}");
    }
    let options = crate::export::nats::connect_options(None, None, None, Duration::from_secs(5));
    let urls: Vec<async_nats::ServerAddr> = config
        .nats_urls
        .iter()
        .map(|u| u.parse().map_err(|e| format!("bad NATS URL `{u}`: {e}")))
        .collect::<Result<_, String>>()?;
    let nats = options
        .connect(urls)
        .await
        .map_err(|e| format!("NATS {}: {e}", config.nats_urls.join(",")))?;
    let js = jetstream::new(nats);
    let consumer = set_up(&js, config).await?;
    let mut report = HubReport::default();
    let mut last_record = Instant::now();
    loop {
        let batch = match fetch(&consumer).await {
            Ok(batch) => batch,
            Err(e) => {
                // A node going away interrupts a fetch; the client reconnects.
                eprintln!("otsensor hub: fetching: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                Vec::new()
            }
        };
        if batch.is_empty() {
            if config
                .until_idle
                .is_some_and(|idle| last_record.elapsed() >= idle)
            {
                return Ok(report);
            }
            continue;
        }
        last_record = Instant::now();
        write_batch(&mut client, &batch, &mut report).await?;
        for message in &batch {
            // Not acknowledged: delivered again after the ack wait, and written again harmlessly.
            if let Err(e) = message.ack().await {
                eprintln!("otsensor hub: acknowledging: {e}");
            }
        }
        report.messages += batch.len() as u64;
    }
}

/// How long the hub keeps trying to set up its stream and consumer while the
/// cluster cannot answer yet (electing leaders, a node restarting).
const SETUP_PATIENCE: Duration = Duration::from_secs(120);

/// A setup step's failure, and whether it may pass by itself.
struct SetupError {
    reason: String,
    transient: bool,
}

/// The stream (created if missing) and the hub's durable consumer, retried
/// while the failures are ones a cluster recovers from.
async fn set_up(
    js: &jetstream::Context,
    config: &HubConfig,
) -> Result<jetstream::consumer::Consumer<pull::Config>, String> {
    let give_up = Instant::now() + SETUP_PATIENCE;
    loop {
        match try_set_up(js, config).await {
            Ok(consumer) => return Ok(consumer),
            Err(e) if e.transient && Instant::now() < give_up => {
                eprintln!("otsensor hub: {}; retrying", e.reason);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.reason),
        }
    }
}

async fn try_set_up(
    js: &jetstream::Context,
    config: &HubConfig,
) -> Result<jetstream::consumer::Consumer<pull::Config>, SetupError> {
    use jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
    use jetstream::stream::ConsumerErrorKind;
    // JetStream answers 503 while it has no leader for the request.
    let unavailable = |e: &jetstream::Error| e.code() == 503;
    crate::export::nats::create_stream(js, &config.stream, &config.subject_prefix, config.replicas)
        .await
        .map_err(|e| SetupError {
            transient: match e.kind() {
                CreateStreamErrorKind::TimedOut | CreateStreamErrorKind::JetStreamUnavailable => {
                    true
                }
                CreateStreamErrorKind::JetStream(e) => unavailable(&e),
                _ => false,
            },
            reason: format!("stream {}: {e}", config.stream),
        })?;
    let stream = js
        .get_stream(&config.stream)
        .await
        .map_err(|e| SetupError {
            transient: match e.kind() {
                GetStreamErrorKind::Request => true,
                GetStreamErrorKind::JetStream(e) => unavailable(&e),
                _ => false,
            },
            reason: format!("stream {}: {e}", config.stream),
        })?;
    stream
        .get_or_create_consumer(
            &config.durable,
            pull::Config {
                durable_name: Some(config.durable.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| SetupError {
            transient: match e.kind() {
                ConsumerErrorKind::TimedOut | ConsumerErrorKind::Request => true,
                ConsumerErrorKind::JetStream(e) => unavailable(&e),
                _ => false,
            },
            reason: format!("consumer {}: {e}", config.durable),
        })
}

async fn fetch(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
) -> Result<Vec<jetstream::Message>, String> {
    let mut messages = consumer
        .fetch()
        .max_messages(BATCH)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    let mut batch = Vec::new();
    while let Some(message) = messages.next().await {
        match message {
            Ok(m) => batch.push(m),
            Err(e) if batch.is_empty() => return Err(e.to_string()),
            Err(_) => break,
        }
    }
    Ok(batch)
}

async fn write_batch(
    client: &mut tokio_postgres::Client,
    batch: &[jetstream::Message],
    report: &mut HubReport,
) -> Result<(), String> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| format!("PostgreSQL: {}", db::describe(&e)))?;
    let mut written = db::Written::default();
    for message in batch {
        if message.subject.ends_with(".events") {
            report.events_skipped += 1;
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(&message.payload) {
            Ok(record) => db::write(&tx, &record, &mut written).await?,
            Err(_) => report.invalid += 1,
        }
    }
    if written.assets > 0 {
        report.fleet_assets = db::rebuild_fleet(&tx).await?;
    }
    tx.commit()
        .await
        .map_err(|e| format!("PostgreSQL: {}", db::describe(&e)))?;
    report.alerts += written.alerts;
    report.changes += written.changes;
    report.assets += written.assets;
    report.invalid += written.skipped;
    Ok(())
}
