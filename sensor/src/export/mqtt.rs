//! MQTT 3.1.1 and 5 (rumqttc): records are published with QoS 1 on
//! `<prefix>/<sensor_id>/{alerts,assets,events}`; a record counts as
//! delivered once the broker acknowledged it (PUBACK, which brokers send in
//! the order they received the messages).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::TlsConfiguration;

use super::config::{Mqtt, MqttVersion, Tls};
use super::record::Record;
use super::worker::{Failed, Transport};

/// Requests the client may queue for its event loop.
const QUEUE: usize = 1024;

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
    Acked,
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

    fn transport(&self) -> Option<rumqttc::Transport> {
        self.tls
            .as_ref()
            .map(|c| rumqttc::Transport::Tls(TlsConfiguration::Rustls(c.clone())))
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
}

fn seen_v4(event: rumqttc::Event) -> Seen {
    use rumqttc::{ConnectReturnCode, Event, Packet};
    match event {
        Event::Incoming(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => {
            Seen::Connected
        }
        Event::Incoming(Packet::ConnAck(ack)) => Seen::Refused(format!("{:?}", ack.code)),
        Event::Incoming(Packet::PubAck(_)) => Seen::Acked,
        _ => Seen::Other,
    }
}

fn seen_v5(event: rumqttc::v5::Event) -> Seen {
    use rumqttc::v5::Event;
    use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode, Packet, PubAckReason};
    match event {
        Event::Incoming(Packet::ConnAck(ack)) if ack.code == ConnectReturnCode::Success => {
            Seen::Connected
        }
        Event::Incoming(Packet::ConnAck(ack)) => Seen::Refused(format!("{:?}", ack.code)),
        Event::Incoming(Packet::PubAck(ack)) => match ack.reason {
            PubAckReason::Success | PubAckReason::NoMatchingSubscribers => Seen::Acked,
            other => Seen::AckRefused(format!("{other:?}")),
        },
        _ => Seen::Other,
    }
}

impl Transport for MqttSink {
    fn connect(&mut self) -> Result<(), String> {
        self.disconnect();
        let c = &self.config;
        let keep_alive = Duration::from_secs(30);
        self.session = Some(match c.version {
            MqttVersion::V311 => {
                let mut options = rumqttc::MqttOptions::new(&c.client_id, &c.host, c.port);
                options.set_keep_alive(keep_alive).set_clean_session(true);
                options.set_max_packet_size(1 << 20, 1 << 20);
                if let Some(user) = &c.username {
                    options.set_credentials(user, c.password.clone().unwrap_or_default());
                }
                if let Some(transport) = self.transport() {
                    options.set_transport(transport);
                }
                let (client, connection) = rumqttc::Client::new(options, QUEUE);
                Session::V4(client, Box::new(connection))
            }
            MqttVersion::V5 => {
                let mut options = rumqttc::v5::MqttOptions::new(&c.client_id, &c.host, c.port);
                options.set_keep_alive(keep_alive).set_clean_start(true);
                if let Some(user) = &c.username {
                    options.set_credentials(user, c.password.clone().unwrap_or_default());
                }
                if let Some(transport) = self.transport() {
                    options.set_transport(transport);
                }
                let (client, connection) = rumqttc::v5::Client::new(options, QUEUE);
                Session::V5(client, Box::new(connection))
            }
        });
        let until = Instant::now() + self.timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.disconnect();
                return Err(format!(
                    "{}:{}: no CONNACK in time",
                    c_host(&self.config),
                    self.config.port
                ));
            }
            match self.next(left) {
                Some(Ok(Seen::Connected)) => return Ok(()),
                Some(Ok(Seen::Refused(code))) => {
                    self.disconnect();
                    return Err(format!("broker refused the connection: {code}"));
                }
                Some(Err(e)) => {
                    self.session = None;
                    return Err(format!(
                        "{}:{}: {e}",
                        c_host(&self.config),
                        self.config.port
                    ));
                }
                _ => {}
            }
        }
    }

    fn send(&mut self, records: &[Record]) -> Result<(), Failed> {
        let topics: Vec<String> = records.iter().map(|r| self.topic(r)).collect();
        let mut acked = 0;
        let mut published = 0;
        let mut last_progress = Instant::now();
        while acked < records.len() {
            // Keep the client's queue fed without blocking on it.
            while published < records.len() {
                let payload = records[published].json.to_vec();
                let topic = topics[published].clone();
                let queued = match self.session.as_ref() {
                    Some(Session::V4(client, _)) => client
                        .try_publish(topic, rumqttc::QoS::AtLeastOnce, false, payload)
                        .is_ok(),
                    Some(Session::V5(client, _)) => client
                        .try_publish(
                            topic,
                            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                            false,
                            payload,
                        )
                        .is_ok(),
                    None => false,
                };
                if !queued {
                    break;
                }
                published += 1;
            }
            match self.next(Duration::from_millis(200)) {
                Some(Ok(Seen::Acked)) => {
                    acked += 1;
                    last_progress = Instant::now();
                }
                Some(Ok(Seen::AckRefused(reason))) => {
                    return Err(Failed {
                        delivered: acked,
                        reason: format!("broker refused a message: {reason}"),
                    });
                }
                Some(Err(e)) => {
                    self.session = None;
                    return Err(Failed {
                        delivered: acked,
                        reason: e,
                    });
                }
                Some(Ok(_)) => {}
                None if last_progress.elapsed() > self.timeout => {
                    return Err(Failed {
                        delivered: acked,
                        reason: "no acknowledgement in time".into(),
                    });
                }
                None => {}
            }
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        match self.session.take() {
            Some(Session::V4(client, mut connection)) => {
                let _ = client.try_disconnect();
                let _ = connection.recv_timeout(Duration::from_millis(50));
            }
            Some(Session::V5(client, mut connection)) => {
                let _ = client.try_disconnect();
                let _ = connection.recv_timeout(Duration::from_millis(50));
            }
            None => {}
        }
    }
}

fn c_host(config: &Mqtt) -> &str {
    &config.host
}
