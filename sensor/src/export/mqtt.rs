//! MQTT 3.1.1 and 5 (rumqttc): records are published on
//! `<prefix>/<sensor_id>/{alerts,assets,events}` with QoS 1 (or 2).
//!
//! A record leaves the spool once its flow completed (PUBACK, or PUBCOMP
//! for QoS 2; brokers complete them in the order they received them). After
//! a failure the sink starts a clean session and sends again, from the
//! spool, what was not acknowledged: delivery is at least once, and a
//! broker that took a message but went down before its acknowledgement
//! left the connection delivers that message twice (typically the in-flight
//! window, 32 messages, per outage; a few windows on a loaded machine).
//! Records carry a `key` to drop such repeats. (Resuming the session instead would avoid them with QoS 2, but
//! rumqttc 0.25 drops a resumed session when the broker repeats its own
//! acknowledgements, as mosquitto does.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::TlsConfiguration;

use super::config::{Mqtt, MqttVersion, Tls};
use super::record::Record;
use super::worker::{Failed, Transport};

/// Requests the client may queue for its event loop.
const QUEUE: usize = 1024;
/// Messages awaiting acknowledgement at once: the most a broker outage can repeat.
const IN_FLIGHT: u16 = 32;

enum Session {
    V4(rumqttc::Client, Box<rumqttc::Connection>),
    V5(rumqttc::v5::Client, Box<rumqttc::v5::Connection>),
}

pub struct MqttSink {
    config: Mqtt,
    sensor_id: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    session: Option<Session>,
}

/// What the event loop reported, whatever the protocol version.
enum Seen {
    Connected,
    Refused(String),
    /// A message's flow completed.
    Done,
    AckRefused(String),
    Other,
}

impl MqttSink {
    pub fn new(
        config: Mqtt,
        sensor_id: &str,
        tls: Option<&Tls>,
        timeout: Duration,
    ) -> Result<MqttSink, String> {
        let tls = match tls {
            Some(tls) => Some(Arc::new(super::tls::client_config(tls)?)),
            None => None,
        };
        Ok(MqttSink {
            config,
            sensor_id: sensor_id.to_string(),
            tls,
            timeout,
            session: None,
        })
    }

    fn topic(&self, record: &Record) -> String {
        format!(
            "{}/{}/{}",
            self.config.topic_prefix,
            self.sensor_id,
            record.kind.name()
        )
    }

    fn session(&self, clean: bool) -> Session {
        let c = &self.config;
        let keep_alive = Duration::from_secs(30);
        let transport = self
            .tls
            .as_ref()
            .map(|c| rumqttc::Transport::Tls(TlsConfiguration::Rustls(c.clone())));
        match c.version {
            MqttVersion::V311 => {
                let mut options = rumqttc::MqttOptions::new(&c.client_id, &c.host, c.port);
                options
                    .set_keep_alive(keep_alive)
                    .set_clean_session(clean)
                    .set_inflight(IN_FLIGHT);
                options.set_max_packet_size(1 << 20, 1 << 20);
                if let Some(user) = &c.username {
                    options.set_credentials(user, c.password.clone().unwrap_or_default());
                }
                if let Some(transport) = transport {
                    options.set_transport(transport);
                }
                let (client, mut connection) = rumqttc::Client::new(options, QUEUE);
                // Each message is flushed on its own: holding it for the
                // broker's acknowledgement of the last one only adds waits.
                let mut network = connection.eventloop.network_options();
                network.set_tcp_nodelay(true);
                connection.eventloop.set_network_options(network);
                Session::V4(client, Box::new(connection))
            }
            MqttVersion::V5 => {
                let mut options = rumqttc::v5::MqttOptions::new(&c.client_id, &c.host, c.port);
                options
                    .set_keep_alive(keep_alive)
                    .set_clean_start(clean)
                    .set_outgoing_inflight_upper_limit(IN_FLIGHT);
                if let Some(user) = &c.username {
                    options.set_credentials(user, c.password.clone().unwrap_or_default());
                }
                if let Some(transport) = transport {
                    options.set_transport(transport);
                }
                let mut network = options.network_options();
                // As for 3.1.1: no Nagle's algorithm.
                network.set_tcp_nodelay(true);
                options.set_network_options(network);
                let (client, connection) = rumqttc::v5::Client::new(options, QUEUE);
                Session::V5(client, Box::new(connection))
            }
        }
    }

    /// The next event, or `None` when none came within `wait`.
    fn next(&mut self, wait: Duration) -> Option<Result<Seen, String>> {
        match self.session.as_mut()? {
            Session::V4(_, connection) => match connection.recv_timeout(wait) {
                Err(_) => None,
                Ok(Err(e)) => Some(Err(e.to_string())),
                Ok(Ok(event)) => Some(Ok(seen_v4(event))),
            },
            Session::V5(_, connection) => match connection.recv_timeout(wait) {
                Err(_) => None,
                Ok(Err(e)) => Some(Err(e.to_string())),
                Ok(Ok(event)) => Some(Ok(seen_v5(event))),
            },
        }
    }

    /// Polls until the broker accepts the connection (or `timeout` passes).
    fn await_connack(&mut self) -> Result<(), String> {
        let until = Instant::now() + self.timeout;
        let host = format!("{}:{}", self.config.host, self.config.port);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("{host}: no CONNACK in time"));
            }
            match self.next(left) {
                Some(Ok(Seen::Connected)) => return Ok(()),
                Some(Ok(Seen::Refused(code))) => {
                    return Err(format!("{host}: broker refused the connection: {code}"));
                }
                Some(Err(e)) => return Err(format!("{host}: {e}")),
                _ => {}
            }
        }
    }

    fn publish(&self, record: &Record) -> bool {
        let payload = record.json.to_vec();
        let topic = self.topic(record);
        match self.session.as_ref() {
            Some(Session::V4(client, _)) => {
                let qos = if self.config.qos == 2 {
                    rumqttc::QoS::ExactlyOnce
                } else {
                    rumqttc::QoS::AtLeastOnce
                };
                client.try_publish(topic, qos, false, payload).is_ok()
            }
            Some(Session::V5(client, _)) => {
                use rumqttc::v5::mqttbytes::QoS;
                let qos = if self.config.qos == 2 {
                    QoS::ExactlyOnce
                } else {
                    QoS::AtLeastOnce
                };
                client.try_publish(topic, qos, false, payload).is_ok()
            }
            None => false,
        }
    }

    fn end_session(&mut self) {
        match self.session.take() {
            Some(Session::V4(client, mut connection)) => {
                let _ = client.try_disconnect();
                let _ = connection.recv_timeout(Duration::from_millis(100));
            }
            Some(Session::V5(client, mut connection)) => {
                let _ = client.try_disconnect();
                let _ = connection.recv_timeout(Duration::from_millis(100));
            }
            None => {}
        }
    }
}

fn seen_v4(event: rumqttc::Event) -> Seen {
    use rumqttc::{ConnectReturnCode, Event, Packet};
    match event {
        Event::Incoming(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => {
            Seen::Connected
        }
        Event::Incoming(Packet::ConnAck(ack)) => Seen::Refused(format!("{:?}", ack.code)),
        Event::Incoming(Packet::PubAck(_)) | Event::Incoming(Packet::PubComp(_)) => Seen::Done,
        _ => Seen::Other,
    }
}

fn seen_v5(event: rumqttc::v5::Event) -> Seen {
    use rumqttc::v5::Event;
    use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet, PubAckReason, PubRecReason};
    match event {
        Event::Incoming(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => {
            Seen::Connected
        }
        Event::Incoming(Packet::ConnAck(ack)) => Seen::Refused(format!("{:?}", ack.code)),
        Event::Incoming(Packet::PubAck(ack)) => match ack.reason {
            PubAckReason::Success | PubAckReason::NoMatchingSubscribers => Seen::Done,
            other => Seen::AckRefused(format!("{other:?}")),
        },
        Event::Incoming(Packet::PubRec(rec)) => match rec.reason {
            PubRecReason::Success | PubRecReason::NoMatchingSubscribers => Seen::Other,
            other => Seen::AckRefused(format!("{other:?}")),
        },
        // PacketIdentifierNotFound: the broker had finished this flow already.
        Event::Incoming(Packet::PubComp(_)) => Seen::Done,
        _ => Seen::Other,
    }
}

impl Transport for MqttSink {
    fn connect(&mut self) -> Result<(), String> {
        self.end_session();
        self.session = Some(self.session(true));
        match self.await_connack() {
            Ok(_) => Ok(()),
            Err(e) => {
                self.session = None;
                Err(e)
            }
        }
    }

    fn send(&mut self, records: &[Record]) -> Result<(), Failed> {
        let mut published = 0;
        let mut done = 0;
        let mut last_progress = Instant::now();
        while done < records.len() {
            while published < records.len() && self.publish(&records[published]) {
                published += 1;
            }
            match self.next(Duration::from_millis(200)) {
                Some(Ok(Seen::Done)) => {
                    done += 1;
                    last_progress = Instant::now();
                }
                Some(Ok(Seen::AckRefused(reason))) => {
                    return Err(Failed {
                        delivered: done,
                        reason: format!("broker refused a message: {reason}"),
                    });
                }
                Some(Err(e)) => {
                    return Err(Failed {
                        delivered: done,
                        reason: e,
                    });
                }
                Some(Ok(_)) => {}
                None if last_progress.elapsed() > self.timeout => {
                    return Err(Failed {
                        delivered: done,
                        reason: "no acknowledgement in time".into(),
                    });
                }
                None => {}
            }
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.end_session();
    }
}
