//! NATS JetStream (async-nats): records go into a stream on
//! `<prefix>.<sensor_id>.{alerts,assets,events}`, each with its record id as
//! `Nats-Msg-Id`, so a record sent again after a lost acknowledgement is
//! stored once (within the stream's duplicate window; the hub's writes are
//! idempotent beyond it). A record is delivered when the stream acknowledged it.

use std::future::IntoFuture;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use tokio::runtime::Runtime;

use super::config::{Nats, Tls};
use super::record::Record;
use super::worker::{Failed, Transport};

pub struct NatsSink {
    config: Nats,
    sensor_id: String,
    tls: Option<rustls::ClientConfig>,
    timeout: Duration,
    runtime: Runtime,
    context: Option<jetstream::Context>,
}

impl NatsSink {
    pub fn new(
        config: Nats,
        sensor_id: &str,
        tls: Option<&Tls>,
        timeout: Duration,
    ) -> Result<NatsSink, String> {
        let tls = match tls {
            Some(tls) => Some(super::tls::client_config(tls)?),
            None => None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the NATS runtime: {e}"))?;
        Ok(NatsSink {
            config,
            sensor_id: sensor_id.to_string(),
            tls,
            timeout,
            runtime,
            context: None,
        })
    }
}

/// Connection settings shared by the sensor's sink and the hub.
pub fn connect_options(
    username: Option<&str>,
    password: Option<&str>,
    tls: Option<rustls::ClientConfig>,
    timeout: Duration,
) -> async_nats::ConnectOptions {
    let mut options = async_nats::ConnectOptions::new()
        .connection_timeout(timeout)
        .request_timeout(Some(timeout))
        // Reconnection is the client's job between attempts; it keeps trying.
        .max_reconnects(None);
    if let Some(user) = username {
        options = options.user_and_password(user.to_string(), password.unwrap_or("").to_string());
    }
    if let Some(tls) = tls {
        options = options.require_tls(true).tls_client_config(tls);
    }
    options
}

/// The stream every sensor publishes into, created if missing.
pub async fn ensure_stream(
    context: &jetstream::Context,
    name: &str,
    subject_prefix: &str,
    replicas: usize,
) -> Result<(), String> {
    create_stream(context, name, subject_prefix, replicas)
        .await
        .map_err(|e| format!("stream {name}: {e}"))
}

/// The stream, created if missing, with the error's kind for callers that retry.
pub async fn create_stream(
    context: &jetstream::Context,
    name: &str,
    subject_prefix: &str,
    replicas: usize,
) -> Result<(), jetstream::context::CreateStreamError> {
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: name.to_string(),
            subjects: vec![format!("{subject_prefix}.>")],
            num_replicas: replicas,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map(|_| ())
}

impl Transport for NatsSink {
    fn connect(&mut self) -> Result<(), String> {
        if self.context.is_some() {
            // The client reconnects by itself; nothing to redo.
            return Ok(());
        }
        let options = connect_options(
            self.config.username.as_deref(),
            self.config.password.as_deref(),
            self.tls.clone(),
            self.timeout,
        );
        let urls: Vec<async_nats::ServerAddr> = self
            .config
            .urls
            .iter()
            .filter_map(|u| u.parse().ok())
            .collect();
        let config = &self.config;
        let timeout = self.timeout;
        let context = self.runtime.block_on(async {
            let client = options
                .connect(urls)
                .await
                .map_err(|e| format!("{}: {e}", config.urls.join(",")))?;
            let context = jetstream::ContextBuilder::new()
                .timeout(timeout)
                .build(client);
            ensure_stream(
                &context,
                &config.stream,
                &config.subject_prefix,
                config.replicas,
            )
            .await?;
            Ok::<_, String>(context)
        })?;
        self.context = Some(context);
        Ok(())
    }

    fn send(&mut self, records: &[Record]) -> Result<(), Failed> {
        let Some(context) = &self.context else {
            return Err(Failed {
                delivered: 0,
                reason: "not connected".into(),
            });
        };
        let prefix = &self.config.subject_prefix;
        let sensor = &self.sensor_id;
        self.runtime.block_on(async {
            let mut pending: Vec<PublishAckFuture> = Vec::with_capacity(records.len());
            for (i, record) in records.iter().enumerate() {
                let subject = format!("{prefix}.{sensor}.{}", record.kind.name());
                let message = PublishMessage::build()
                    .payload(bytes::Bytes::copy_from_slice(&record.json))
                    .message_id(&record.id);
                match context.send_publish(subject, message).await {
                    Ok(ack) => pending.push(ack),
                    Err(e) => {
                        return settle(pending, i, Some(e.to_string())).await;
                    }
                }
            }
            settle(pending, records.len(), None).await
        })
    }

    fn disconnect(&mut self) {
        // Keep the client: it reconnects to another server of the cluster by itself.
    }
}

/// Waits for the acknowledgements (together: each has its own timeout); the
/// first missing one ends the delivered run.
async fn settle(
    pending: Vec<PublishAckFuture>,
    sent: usize,
    failure: Option<String>,
) -> Result<(), Failed> {
    let acks =
        futures_util::future::join_all(pending.into_iter().map(|ack| ack.into_future())).await;
    let delivered = acks.iter().take_while(|ack| ack.is_ok()).count();
    let first_error = acks
        .into_iter()
        .find_map(|ack| ack.err())
        .map(|e| e.to_string());
    match first_error.or(failure) {
        None if delivered == sent => Ok(()),
        None => Err(Failed {
            delivered,
            reason: "publish failed".into(),
        }),
        Some(reason) => Err(Failed { delivered, reason }),
    }
}
