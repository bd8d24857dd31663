//! Unit tests: handshakes built field by field. The ClientHello of the first
//! test carries the cipher suites, extensions, ALPN and signature algorithms
//! of the worked example in FoxIO's JA4 specification (`technical_details/
//! JA4.md`, "Example": JA4 = `t13d1516h2_8daaf6152771_e5627efa2ab1`), plus
//! GREASE values that JA4 must ignore.

use super::*;
use crate::event::Event;
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: TlsParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: TlsParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet, PORT), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "not all consumed");
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let pdus = self.all(dir, data);
        assert_eq!(pdus.len(), 1, "not exactly one event: {pdus:?}");
        pdus.into_iter().next().unwrap()
    }
}

fn tls(pdu: &Pdu) -> &TlsFields {
    match &pdu.fields {
        Fields::Tls(f) => f,
        _ => panic!("no TLS fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

fn be16v(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

/// An extension: type, length, data.
fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&be16v(data.len()));
    e.extend_from_slice(data);
    e
}

/// A list of 16-bit values behind a 16-bit length.
fn list16(values: &[u16]) -> Vec<u8> {
    let mut l = be16v(values.len() * 2).to_vec();
    for v in values {
        l.extend_from_slice(&v.to_be_bytes());
    }
    l
}

/// A handshake message in one record.
fn record(kind: u8, handshake_type: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![handshake_type];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(body);
    let mut r = vec![kind, 0x03, 0x01];
    r.extend_from_slice(&be16v(msg.len()));
    r.extend_from_slice(&msg);
    r
}

/// The JA4 specification's example ClientHello, with GREASE added.
fn client_hello_body() -> Vec<u8> {
    let mut b = vec![0x03, 0x03]; // legacy version TLS 1.2
    b.extend_from_slice(&[0x11; 32]); // random
    b.push(32); // session id length
    b.extend_from_slice(&[0x22; 32]); // session id
    let ciphers = [
        0x3a3a, // GREASE
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    b.extend_from_slice(&list16(&ciphers));
    b.extend_from_slice(&[0x01, 0x00]); // compression: null
    let mut sni = be16v(1 + 2 + 11).to_vec(); // server name list length
    sni.push(0); // host_name
    sni.extend_from_slice(&be16v(11));
    sni.extend_from_slice(b"plc.example");
    let alpn = [&[0x00, 0x0c, 2][..], b"h2", &[8], b"http/1.1"].concat();
    let sig_algs = list16(&[
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ]);
    let extensions = [
        ext(0x0a0a, &[]),                                         // GREASE
        ext(0x001b, &[0x02, 0x00, 0x02]),                         // compress_certificate
        ext(0x0000, &sni),                                        // server_name
        ext(0x0033, &[0x00, 0x00]),                               // key_share (empty list)
        ext(0x0010, &alpn),                                       // ALPN: h2, http/1.1
        ext(0x4469, &[0x00, 0x03, 0x02, b'h', b'2']),             // application_settings
        ext(0x0017, &[]),                                         // extended_master_secret
        ext(0x002d, &[0x01, 0x01]),                               // psk_key_exchange_modes
        ext(0x000d, &sig_algs),                                   // signature_algorithms
        ext(0x0005, &[0x01, 0x00, 0x00, 0x00, 0x00]),             // status_request
        ext(0x0023, &[]),                                         // session_ticket
        ext(0x0012, &[]),                                         // signed_certificate_timestamp
        ext(0x002b, &[0x06, 0x6a, 0x6a, 0x03, 0x04, 0x03, 0x03]), // supported_versions: GREASE, 1.3, 1.2
        ext(0xff01, &[0x00]),                                     // renegotiation_info
        ext(0x000b, &[0x01, 0x00]),                               // ec_point_formats
        ext(0x000a, &list16(&[0x2a2a, 0x001d, 0x0017, 0x0018])),  // supported_groups
        ext(0x0015, &[0x00, 0x00]),                               // padding
    ]
    .concat();
    b.extend_from_slice(&be16v(extensions.len()));
    b.extend_from_slice(&extensions);
    b
}

#[test]
fn client_hello_gives_sni_alpn_lists_and_the_specifications_ja4() {
    let mut c = Conn::new();
    let hello = record(0x16, 1, &client_hello_body());
    let p = c.one(ToServer, &hello);
    clean(&p);
    assert_eq!((p.function, p.function_code), ("client_hello", Some(1)));
    assert_eq!(p.class, FunctionClass::Session);
    let f = tls(&p);
    assert_eq!(
        f.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert_eq!(f.sni.as_deref(), Some("plc.example"));
    assert_eq!(f.alpn, ["h2", "http/1.1"]);
    assert_eq!(f.version, Some(0x0303));
    assert_eq!(f.supported_versions, [0x6a6a, 0x0304, 0x0303]);
    assert_eq!(f.cipher_suite_count, Some(16));
    assert_eq!(f.cipher_suites[..3], [0x3a3a, 0x1301, 0x1302]);
    assert_eq!(f.extensions.len(), 17);
    assert_eq!(f.supported_groups, [0x2a2a, 0x001d, 0x0017, 0x0018]);
    assert_eq!(f.signature_algorithms[0], 0x0403);
    assert_eq!((f.record_type, f.handshake_type), (Some(22), Some(1)));
}

#[test]
fn a_hello_split_over_records_and_segments_is_one_event() {
    let mut c = Conn::new();
    let body = client_hello_body();
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&body);
    // Two handshake records of the one message.
    let (a, b) = msg.split_at(100);
    let mut stream = Vec::new();
    for part in [a, b] {
        stream.extend_from_slice(&[0x16, 0x03, 0x01]);
        stream.extend_from_slice(&be16v(part.len()));
        stream.extend_from_slice(part);
    }
    let mut pending = Vec::new();
    for chunk in stream.chunks(37) {
        pending.extend_from_slice(chunk);
        let used = c.feed(ToServer, &pending);
        pending.drain(..used);
    }
    assert!(pending.is_empty());
    assert_eq!(c.events.len(), 1);
    assert_eq!(
        tls(&c.events[0].pdu).ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
}

fn server_hello(version_ext: Option<u16>, cipher: u16) -> Vec<u8> {
    let mut b = vec![0x03, 0x03]; // legacy version
    b.extend_from_slice(&[0x33; 32]); // random
    b.push(0); // session id: none
    b.extend_from_slice(&cipher.to_be_bytes()); // cipher suite
    b.push(0); // compression
    if let Some(v) = version_ext {
        let e = ext(0x002b, &v.to_be_bytes());
        b.extend_from_slice(&be16v(e.len()));
        b.extend_from_slice(&e);
    }
    record(0x16, 2, &b)
}

#[test]
fn tls13_server_hello_then_encrypted_records() {
    let mut c = Conn::new();
    let p = c.one(ToClient, &server_hello(Some(0x0304), 0x1301));
    clean(&p);
    assert!(p.is_response);
    let f = tls(&p);
    assert_eq!((f.version, f.cipher), (Some(0x0304), Some(0x1301)));
    assert_eq!(f.extensions, [0x002b]);
    // ChangeCipherSpec (no event), then application data (counted, no events).
    let mut stream = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    stream.extend_from_slice(&[0x17, 0x03, 0x03, 0x00, 0x04, 1, 2, 3, 4]);
    stream.extend_from_slice(&[0x17, 0x03, 0x03, 0x01, 0x00]); // 256 bytes announced
    stream.extend_from_slice(&[0u8; 100]);
    assert!(c.all(ToClient, &stream).is_empty());
    // The rest of that record and an encrypted alert.
    let mut more = vec![0u8; 156];
    more.extend_from_slice(&[0x15, 0x03, 0x03, 0x00, 0x1a]);
    more.extend_from_slice(&[0x99; 0x1a]);
    let p = c.one(ToClient, &more);
    assert_eq!(p.function, "alert");
    let f = tls(&p);
    assert_eq!((f.encrypted, f.alert_code), (Some(true), None));
    assert_eq!(f.app_data_records, Some(2));
}

#[test]
fn tls12_certificate_alert_and_deprecated_versions() {
    let mut c = Conn::new();
    let p = c.one(ToClient, &server_hello(None, 0xc02f));
    clean(&p);
    assert_eq!(tls(&p).version, Some(0x0303));
    // A minimal certificate: subject O=Siemens, CN=plc-17.local.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut d = vec![tag];
        if content.len() < 0x80 {
            d.push(content.len() as u8);
        } else {
            d.push(0x82);
            d.extend_from_slice(&be16v(content.len()));
        }
        d.extend_from_slice(content);
        d
    }
    let rdn = |oid: u8, value: &[u8]| {
        der(
            0x31,
            &der(
                0x30,
                &[der(0x06, &[0x55, 0x04, oid]), der(0x13, value)].concat(),
            ),
        )
    };
    let tbs = der(
        0x30,
        &[
            der(0xa0, &der(0x02, &[2])),          // version v3
            der(0x02, &[1]),                      // serial
            der(0x30, &der(0x06, &[0x2a, 0x86])), // signature algorithm
            der(0x30, &rdn(0x03, b"Plant CA")),   // issuer
            der(0x30, &[]),                       // validity
            der(
                0x30,
                &[rdn(0x0a, b"Siemens"), rdn(0x03, b"plc-17.local")].concat(),
            ), // subject
        ]
        .concat(),
    );
    let cert = der(0x30, &[tbs, der(0x30, &[]), der(0x03, &[0])].concat());
    let mut body = Vec::new();
    for der in [&cert, &cert] {
        body.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        body.extend_from_slice(der);
    }
    let mut msg = (body.len() as u32).to_be_bytes()[1..].to_vec();
    msg.extend_from_slice(&body);
    let p = c.one(ToClient, &record(0x16, 11, &msg));
    clean(&p);
    assert_eq!(p.function, "certificate");
    assert_eq!(tls(&p).certificate_count, Some(2));
    assert_eq!(tls(&p).certificate_cn.as_deref(), Some("plc-17.local"));
    // A plaintext fatal alert.
    let p = c.one(ToServer, &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    clean(&p);
    let f = tls(&p);
    assert_eq!((f.alert_level, f.alert_code), (Some(2), Some(40)));
    assert_eq!(alert_name(40), Some("handshake_failure"));
    // A server choosing TLS 1.0.
    let mut hello = server_hello(None, 0x002f);
    hello[9] = 0x01; // legacy version 3.1
    let p = c.one(ToClient, &hello);
    assert_eq!(anomalies(&p), [DEPRECATED_VERSION]);
}

#[test]
fn heartbleed_and_malformed_records() {
    let mut c = Conn::new();
    // Heartbeat request claiming 16384 payload bytes in a 3-byte record.
    let p = c.one(ToServer, &[0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0x40, 0x00]);
    assert_eq!(p.function, "heartbeat");
    assert_eq!(anomalies(&p), [HEARTBEAT_LENGTH_MISMATCH]);
    assert_eq!(tls(&p).heartbeat_payload_length, Some(0x4000));
    // An alert of the wrong length.
    let p = c.one(ToServer, &[0x15, 0x03, 0x03, 0x00, 0x01, 0x07]);
    assert_eq!(anomalies(&p), [INVALID_ALERT]);
    // A ClientHello whose extensions run past the message.
    let mut body = client_hello_body();
    let len = body.len();
    body.truncate(len - 3);
    let p = c.one(ToServer, &record(0x16, 1, &body));
    assert!(anomalies(&p).contains(&TRUNCATED), "{:?}", anomalies(&p));
    // Unknown handshake type.
    let p = c.one(ToServer, &record(0x16, 99, &[0]));
    assert_eq!(
        (p.function, anomalies(&p)),
        ("unknown_handshake", vec![UNKNOWN_HANDSHAKE_TYPE])
    );
    // Not a record: one event, then the direction is no longer decoded.
    let p = c.one(ToServer, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(
        (p.function, anomalies(&p)),
        ("invalid", vec![INVALID_RECORD])
    );
    assert!(
        c.all(ToServer, &record(0x16, 1, &client_hello_body()))
            .is_empty()
    );
}

#[test]
fn an_over_long_certificate_message_is_decoded_from_its_start() {
    let mut c = Conn::new();
    let total = 40_000usize;
    let mut msg = vec![11];
    msg.extend_from_slice(&(total as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(&((total - 3) as u32).to_be_bytes()[1..]);
    msg.resize(4 + total, 0);
    let mut stream = Vec::new();
    for part in msg.chunks(16_384) {
        stream.extend_from_slice(&[0x16, 0x03, 0x03]);
        stream.extend_from_slice(&be16v(part.len()));
        stream.extend_from_slice(part);
    }
    stream.extend(record(0x16, 14, &[])); // server_hello_done
    let pdus = c.all(ToClient, &stream);
    let names: Vec<_> = pdus.iter().map(|p| p.function).collect();
    assert_eq!(names, ["certificate", "server_hello_done"]);
    assert_eq!(anomalies(&pdus[0]), [HANDSHAKE_TOO_LONG]);
    assert!(c.parser.sides[1].handshake.is_empty());
}

#[test]
fn probe_accepts_hellos_anywhere_and_records_on_its_ports() {
    let hello = record(0x16, 1, &client_hello_body());
    assert_eq!(probe(&hello, ToServer, false), Probe::Match);
    assert_eq!(probe(&hello[..8], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&hello, ToClient, false), Probe::NoMatch);
    let sh = server_hello(Some(0x0304), 0x1301);
    assert_eq!(probe(&sh, ToClient, false), Probe::Match);
    let app = [0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb];
    assert_eq!(probe(&app, ToServer, true), Probe::Match);
    assert_eq!(probe(&app, ToServer, false), Probe::NoMatch);
}

#[test]
fn probe_rejects_other_protocols_on_its_port() {
    let others: &[&[u8]] = &[
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        // Modbus whose transaction id is 0x1603
        &[
            0x16, 0x03, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ],
        &[0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"SSH-2.0-OpenSSH_8.9\r\n",
        &[0x10, 0x2b, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xc2],
    ];
    for bytes in others {
        for dir in [ToServer, ToClient] {
            assert_eq!(probe(bytes, dir, true), Probe::NoMatch, "{bytes:02x?}");
        }
    }
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x7154_0001_dead_beef);
    let hello = record(0x16, 1, &client_hello_body());
    for round in 0..2_000 {
        let mut c = Conn::new();
        for _ in 0..10 {
            let dir = if rng.below(2) == 0 {
                ToServer
            } else {
                ToClient
            };
            let mut data = match rng.below(3) {
                0 => {
                    let len = rng.below(64) as usize;
                    rng.bytes(len)
                }
                _ => {
                    // A real hello with a few bytes flipped, cut anywhere.
                    let mut h = hello.clone();
                    for _ in 0..rng.below(4) {
                        let at = rng.below(h.len() as u64) as usize;
                        h[at] = rng.next_u64() as u8;
                    }
                    h.truncate(rng.below(h.len() as u64 + 1) as usize);
                    h
                }
            };
            if round % 2 == 0 && !data.is_empty() {
                data[0] = 0x16;
            }
            let used = c.feed(dir, &data);
            assert!(used <= data.len());
            assert!(data.len() - used < RECORD_HEADER + MAX_RECORD);
            let _ = probe(&data, dir, rng.below(2) == 0);
        }
    }
}
