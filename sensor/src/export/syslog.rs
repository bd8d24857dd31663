//! Syslog over UDP (one message per datagram), TCP and TLS (octet-counted
//! frames, RFC 6587 and RFC 5425).
//!
//! Syslog has no acknowledgement. Over TCP and TLS the sink checks before
//! each batch whether the receiver closed the connection (a receiver that
//! shuts down cleanly is then never written to after its close, and reads
//! what was written before it); a receiver that dies with unread data loses
//! it. UDP gives no sign of loss at all.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::config::{Syslog, SyslogTransport, Tls};
use super::record::Record;
use super::siem;
use super::worker::{Failed, Transport};
use crate::time::Timestamp;

enum Connection {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

pub struct SyslogSink {
    config: Syslog,
    tls: Option<(Arc<ClientConfig>, rustls::pki_types::ServerName<'static>)>,
    timeout: Duration,
    connection: Option<Connection>,
    buffer: Vec<u8>,
}

impl SyslogSink {
    pub fn new(config: Syslog, tls: Option<&Tls>, timeout: Duration) -> Result<SyslogSink, String> {
        let tls = match (&config.transport, tls) {
            (SyslogTransport::Tls, Some(tls)) => Some((
                Arc::new(super::tls::client_config(tls)?),
                super::tls::server_name(tls, &config.host)?,
            )),
            (SyslogTransport::Tls, None) => {
                return Err("a tls:// syslog sink needs [sink.tls]".into());
            }
            _ => None,
        };
        Ok(SyslogSink {
            config,
            tls,
            timeout,
            connection: None,
            buffer: Vec::new(),
        })
    }

    fn address(&self) -> Result<std::net::SocketAddr, String> {
        let target = (self.config.host.as_str(), self.config.port);
        target
            .to_socket_addrs()
            .map_err(|e| format!("{}:{}: {e}", self.config.host, self.config.port))?
            .next()
            .ok_or_else(|| format!("{}: no address", self.config.host))
    }

    /// Whether the receiver closed (or reset) the connection since the last write.
    fn closed_by_peer(&mut self) -> bool {
        match &mut self.connection {
            Some(Connection::Tcp(stream)) => peer_closed(stream),
            Some(Connection::Tls(stream)) => {
                if peer_closed(&mut stream.sock) {
                    return true;
                }
                // Bytes from the receiver can only be TLS records such as close_notify.
                let _ = stream.sock.set_nonblocking(true);
                let mut scratch = [0u8; 512];
                let closed = match stream.read(&mut scratch) {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => e.kind() != io::ErrorKind::WouldBlock,
                };
                let _ = stream.sock.set_nonblocking(false);
                closed || stream.conn.is_handshaking()
            }
            _ => false,
        }
    }
}

/// A peek that finds end of stream or an error means the peer has gone.
fn peer_closed(stream: &mut TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    closed
}

fn now() -> Timestamp {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_parts(since.as_secs() as i64, since.subsec_nanos())
}

impl Transport for SyslogSink {
    fn connect(&mut self) -> Result<(), String> {
        let address = self.address()?;
        let describe = |e: io::Error| format!("{address}: {e}");
        let connection = match self.config.transport {
            SyslogTransport::Udp => {
                let bind = if address.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(bind).map_err(describe)?;
                socket.connect(address).map_err(describe)?;
                Connection::Udp(socket)
            }
            SyslogTransport::Tcp | SyslogTransport::Tls => {
                let stream =
                    TcpStream::connect_timeout(&address, self.timeout).map_err(describe)?;
                stream
                    .set_write_timeout(Some(self.timeout))
                    .map_err(describe)?;
                stream
                    .set_read_timeout(Some(self.timeout))
                    .map_err(describe)?;
                let _ = stream.set_nodelay(true);
                match &self.tls {
                    None => Connection::Tcp(stream),
                    Some((config, name)) => {
                        let conn = ClientConnection::new(config.clone(), name.clone())
                            .map_err(|e| format!("{address}: TLS: {e}"))?;
                        let mut tls = StreamOwned::new(conn, stream);
                        while tls.conn.is_handshaking() {
                            tls.conn
                                .complete_io(&mut tls.sock)
                                .map_err(|e| format!("{address}: TLS handshake: {e}"))?;
                        }
                        Connection::Tls(Box::new(tls))
                    }
                }
            }
        };
        self.connection = Some(connection);
        Ok(())
    }

    fn send(&mut self, records: &[Record]) -> Result<(), Failed> {
        if self.closed_by_peer() {
            self.connection = None;
            return Err(Failed {
                delivered: 0,
                reason: "the receiver closed the connection".into(),
            });
        }
        let stamp = now();
        let config = &self.config;
        let message = |record: &Record| {
            siem::message(
                record,
                config.format,
                config.facility,
                &config.app_name,
                stamp,
            )
        };
        match &mut self.connection {
            None => Err(Failed {
                delivered: 0,
                reason: "not connected".into(),
            }),
            Some(Connection::Udp(socket)) => {
                for (i, record) in records.iter().enumerate() {
                    if let Err(e) = socket.send(&message(record)) {
                        return Err(Failed {
                            delivered: i,
                            reason: e.to_string(),
                        });
                    }
                }
                Ok(())
            }
            Some(Connection::Tcp(_)) | Some(Connection::Tls(_)) => {
                self.buffer.clear();
                for record in records {
                    let text = message(record);
                    self.buffer
                        .extend_from_slice(format!("{} ", text.len()).as_bytes());
                    self.buffer.extend_from_slice(&text);
                }
                let written = match self.connection.as_mut() {
                    Some(Connection::Tcp(stream)) => {
                        stream.write_all(&self.buffer).and_then(|()| stream.flush())
                    }
                    Some(Connection::Tls(stream)) => {
                        stream.write_all(&self.buffer).and_then(|()| stream.flush())
                    }
                    _ => Ok(()),
                };
                written.map_err(|e| Failed {
                    delivered: 0,
                    reason: e.to_string(),
                })
            }
        }
    }

    fn disconnect(&mut self) {
        match self.connection.take() {
            Some(Connection::Tcp(stream)) => {
                let _ = stream.shutdown(Shutdown::Both);
            }
            Some(Connection::Tls(mut stream)) => {
                stream.conn.send_close_notify();
                let _ = stream.conn.complete_io(&mut stream.sock);
                let _ = stream.sock.shutdown(Shutdown::Both);
            }
            _ => {}
        }
    }
}
