//! Unit tests: inline packets, one comment per field. The CONNECT, SUBSCRIBE
//! and PUBLISH packets are those of the suricata-verify captures under
//! `../shared/pcaps/mqtt/`, as Wireshark decodes them.

use super::*;
use crate::event::{Event, Header};
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: MqttParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: MqttParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let h: Header = header(self.packet, PORT);
        let mut out = Emitter::new(h, dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "packet not consumed");
        assert_eq!(self.events.len(), before + 1, "not exactly one event");
        self.events.last().unwrap().pdu.clone()
    }
}

fn mq(pdu: &Pdu) -> &MqttFields {
    match &pdu.fields {
        Fields::Mqtt(f) => f,
        _ => panic!("no MQTT fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

/// mqtt311_sub_userpass frame 4.
const CONNECT_311: &[u8] = &[
    0x10, 0x2b, // CONNECT, remaining length 43
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x04, // level 4 (3.1.1)
    0xc2, // flags: user name, password, clean session
    0x00, 0x3c, // keep alive 60
    0x00, 0x13, b'm', b'y', b'v', b'o', b'i', b'c', b'e', b'i', b's', b'm', b'y', b'p', b'a', b's',
    b's', b'p', b'o', b'r', b't', // client id
    0x00, 0x04, b'u', b's', b'e', b'r', // user name
    0x00, 0x04, b'p', b'a', b's', b's', // password
];

#[test]
fn connect_exposes_the_user_and_hides_the_password() {
    let mut c = Conn::new();
    let p = c.one(ToServer, CONNECT_311);
    clean(&p);
    assert_eq!(p.protocol, Protocol::Mqtt);
    assert_eq!((p.function_code, p.function), (Some(1), "connect"));
    assert_eq!(p.class, FunctionClass::Session);
    assert!(!p.is_response);
    let f = mq(&p);
    assert_eq!(f.version, Some(4));
    assert_eq!(f.protocol_name.as_deref(), Some("MQTT"));
    assert_eq!(f.client_id.as_deref(), Some("myvoiceismypassport"));
    assert_eq!(f.username.as_deref(), Some("user"));
    assert_eq!(f.username_present, Some(true));
    assert_eq!(f.password_present, Some(true));
    assert_eq!(f.password.as_deref(), Some("pass"));
    assert_eq!(f.clean_session, Some(true));
    assert_eq!(f.keep_alive, Some(60));
    assert_eq!(f.will_topic, None);
    // The password is written as a secret.
    let mut seen = Vec::new();
    struct Collect<'a>(&'a mut Vec<(String, bool)>);
    impl Visitor for Collect<'_> {
        fn field(&mut self, name: &str, value: crate::event::Value<'_>) {
            let secret = matches!(value, crate::event::Value::Secret(_));
            self.0.push((name.to_string(), secret));
        }
        fn begin(&mut self, _: &str, _: crate::event::Nest) {}
        fn end(&mut self) {}
    }
    f.visit(&mut Collect(&mut seen));
    assert!(seen.contains(&("password".into(), true)));
    assert!(seen.contains(&("username".into(), false)));
}

#[test]
fn connack_v311_and_subscribe_list() {
    let mut c = Conn::new();
    c.one(ToServer, CONNECT_311);
    // mqtt311_sub_userpass frame 6
    let p = c.one(
        ToClient,
        &[
            0x20, 0x02, // CONNACK, remaining length 2
            0x00, // no session present
            0x00, // return code: accepted
        ],
    );
    clean(&p);
    assert!(p.is_response);
    assert_eq!(p.class, FunctionClass::Other);
    assert_eq!(mq(&p).return_code, Some(0));
    assert_eq!(mq(&p).reason_code, None);
    assert_eq!(mq(&p).session_present, Some(false));
    // frame 8
    let p = c.one(
        ToServer,
        &[
            0x82, 0x14, // SUBSCRIBE (flags 0010), remaining length 20
            0x00, 0x01, // packet id 1
            0x00, 0x06, b't', b'o', b'p', b'i', b'c', b'X', // topic filter
            0x00, // requested QoS 0
            0x00, 0x06, b't', b'o', b'p', b'i', b'c', b'Y', // topic filter
            0x00, // requested QoS 0
        ],
    );
    clean(&p);
    assert_eq!((p.function, p.class), ("subscribe", FunctionClass::Read));
    let f = mq(&p);
    assert_eq!(f.topics, ["topicX", "topicY"]);
    assert_eq!(f.requested_qos, [0, 0]);
    assert_eq!((f.topic_count, f.packet_id), (Some(2), Some(1)));
    // frame 9
    let p = c.one(
        ToClient,
        &[
            0x90, 0x04, // SUBACK
            0x00, 0x01, // packet id 1
            0x00, 0x00, // granted QoS 0, 0
        ],
    );
    clean(&p);
    assert_eq!(mq(&p).return_codes, [0, 0]);
    // frame 11
    let p = c.one(ToServer, &[0xe0, 0x00]); // DISCONNECT, no body
    clean(&p);
    assert_eq!(
        (p.function, p.class),
        ("disconnect", FunctionClass::Session)
    );
}

/// mqtt5_pub_mosquittoprops frame 8: a PUBLISH with properties.
const PUBLISH_V5: &[u8] = &[
    0x32, 0x5e, // PUBLISH QoS 1, remaining length 94
    0x00, 0x06, b't', b'o', b'p', b'i', b'c', b'X', // topic
    0x00, 0x01, // packet id 1
    0x43, // properties length 67
    0x03, 0x00, 0x06, b'm', b'y', b't', b'y', b'p', b'e', // content type
    0x09, 0x00, 0x05, b'1', b'2', b'3', b'4', b'5', // correlation data
    0x02, 0x00, 0x00, 0x00, 0x4d, // message expiry interval
    0x01, 0x58, // payload format indicator (0x58, as captured)
    0x08, 0x00, 0x0f, b'r', b'e', b's', b'p', b'o', b'n', b's', b'e', b'_', b't', b'o', b'p', b'i',
    b'c', b'1', // response topic
    0x23, 0x00, 0x05, // topic alias 5
    0x26, 0x00, 0x09, b'u', b's', b'e', b'r', b'p', b'r', b'o', b'p', b'3', 0x00, 0x08, b'u', b's',
    b'e', b'r', b'v', b'a', b'l', b'3', // user property
    b'b', b'a', b'a', b'b', b'a', b'a', b'b', b'l', b'a', b'c', b'k', b's', b'h', b'e', b'e',
    b'p', // payload (16 bytes)
];

#[test]
fn v5_connect_then_publish_skips_properties() {
    let mut c = Conn::new();
    // A v5 CONNECT with a will: level 5, flags user+password+will(QoS 0)+clean.
    let mut connect = vec![
        0x10, 0x00, // CONNECT, remaining length (set below)
        0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
        0x05, // level 5
        0xc6, // user name, password, will flag, clean start
        0x00, 0x3c, // keep alive 60
        0x03, 0x21, 0x00, 0x14, // properties: receive maximum 20
        0x00, 0x02, b'i', b'd', // client id
        0x00, // will properties: none
        0x00, 0x09, b'w', b'i', b'l', b'l', b't', b'o', b'p', b'i', b'c', // will topic
        0x00, 0x02, b'b', b'y', // will payload
        0x00, 0x04, b'u', b's', b'e', b'r', // user name
        0x00, 0x04, b'p', b'a', b's', b's', // password
    ];
    connect[1] = (connect.len() - 2) as u8;
    let p = c.one(ToServer, &connect);
    clean(&p);
    let f = mq(&p);
    assert_eq!(f.version, Some(5));
    assert_eq!(f.will_topic.as_deref(), Some("willtopic"));
    assert_eq!((f.will_qos, f.will_retain), (Some(0), Some(false)));
    assert_eq!(f.properties_length, Some(3));
    assert_eq!(f.username.as_deref(), Some("user"));
    // mqtt5_pub_mosquittoprops frame 6: a v5 CONNACK
    let p = c.one(
        ToClient,
        &[
            0x20, 0x06, // CONNACK
            0x00, // flags
            0x00, // reason code: success
            0x03, 0x22, 0x00, 0x0a, // properties: topic alias maximum 10
        ],
    );
    clean(&p);
    assert_eq!((mq(&p).reason_code, mq(&p).return_code), (Some(0), None));
    let p = c.one(ToServer, PUBLISH_V5);
    clean(&p);
    assert_eq!((p.function, p.class), ("publish", FunctionClass::Write));
    let f = mq(&p);
    assert_eq!(f.topic.as_deref(), Some("topicX"));
    assert_eq!(
        (f.qos, f.retain, f.dup),
        (Some(1), Some(false), Some(false))
    );
    assert_eq!(f.packet_id, Some(1));
    assert_eq!(f.properties_length, Some(67));
    assert_eq!(f.payload_length, Some(16));
    // frame 9: PUBACK with reason code
    let p = c.one(ToClient, &[0x40, 0x03, 0x00, 0x01, 0x10]);
    clean(&p);
    assert_eq!((p.function, p.class), ("puback", FunctionClass::Other));
    assert_eq!(
        (mq(&p).packet_id, mq(&p).reason_code),
        (Some(1), Some(0x10))
    );
    // A PUBLISH from the broker delivers subscribed data: a read.
    let p = c.one(ToClient, &[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    clean(&p);
    assert_eq!(
        (p.class, mq(&p).payload_length),
        (FunctionClass::Read, Some(1))
    );
}

#[test]
fn several_packets_per_segment_and_one_packet_over_segments() {
    let mut c = Conn::new();
    let mut data = CONNECT_311.to_vec();
    data.extend_from_slice(&[0xc0, 0x00]); // PINGREQ
    data.extend_from_slice(&[
        0x82, 0x0a, 0x00, 0x02, 0x00, 0x05, b'a', b'/', b'b', b'/', b'#', 0x01,
    ]);
    assert_eq!(c.feed(ToServer, &data), data.len());
    let names: Vec<_> = c.events.iter().map(|e| e.pdu.function).collect();
    assert_eq!(names, ["connect", "pingreq", "subscribe"]);
    assert_eq!(mq(&c.events[2].pdu).requested_qos, [1]);

    // A PUBLISH split in three: nothing until the last part, then one event on it.
    let publish = [0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i', b'!'];
    assert_eq!(c.feed(ToServer, &publish[..1]), 0);
    assert_eq!(c.feed(ToServer, &publish[..5]), 0);
    assert_eq!(c.feed(ToServer, &publish), publish.len());
    assert_eq!(c.events.len(), 4);
    let last = c.events.last().unwrap();
    assert_eq!(last.header.packet, 4);
    assert_eq!(mq(&last.pdu).topic.as_deref(), Some("a/b"));
    assert_eq!(mq(&last.pdu).payload_length, Some(3));
}

#[test]
fn a_large_publish_is_reported_from_its_head_and_its_payload_skipped() {
    let mut c = Conn::new();
    let payload_len = 100_000usize;
    let remaining = 2 + 5 + payload_len;
    let mut head = vec![0x30]; // PUBLISH QoS 0
    let mut r = remaining;
    loop {
        let mut byte = (r & 0x7f) as u8;
        r >>= 7;
        if r > 0 {
            byte |= 0x80;
        }
        head.push(byte);
        if r == 0 {
            break;
        }
    }
    head.extend_from_slice(&[0x00, 0x05, b'p', b'l', b'c', b'/', b'1']);
    let total = head.len() + payload_len;
    let mut stream = head.clone();
    stream.resize(total, 0xaa);
    stream.extend_from_slice(&[0xc0, 0x00]); // then a PINGREQ
    // Segments of 1460 bytes; the parser keeps at most the head.
    let mut pending: Vec<u8> = Vec::new();
    for chunk in stream.chunks(1460) {
        pending.extend_from_slice(chunk);
        let used = c.feed(ToServer, &pending);
        pending.drain(..used);
        assert!(pending.len() <= HEAD_LIMIT);
    }
    assert!(pending.is_empty());
    let names: Vec<_> = c.events.iter().map(|e| e.pdu.function).collect();
    assert_eq!(names, ["publish", "pingreq"]);
    let f = mq(&c.events[0].pdu);
    clean(&c.events[0].pdu);
    assert_eq!(f.topic.as_deref(), Some("plc/1"));
    assert_eq!(f.payload_length, Some(payload_len as u32));
    assert_eq!(f.length, Some(remaining as u32));
}

#[test]
fn truncated_and_malformed_packets_are_events_with_anomalies() {
    let mut c = Conn::new();
    // CONNECT whose client id length runs past the remaining length.
    let p = c.one(
        ToServer,
        &[
            0x10, 0x0e, // CONNECT, remaining length 14
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x04, // level
            0x02, // clean session
            0x00, 0x3c, // keep alive
            0x00, 0x10, b'a', b'b', // client id: 16 bytes announced, 2 there
        ],
    );
    assert_eq!(anomalies(&p), [TRUNCATED]);
    assert_eq!(mq(&p).client_id, None);
    // PUBREL with wrong flags and trailing bytes.
    let p = c.one(ToServer, &[0x60, 0x03, 0x00, 0x07, 0xff]);
    assert_eq!(anomalies(&p), [INVALID_FLAGS, TRAILING_BYTES]);
    // PUBLISH QoS 3 with a zero packet id.
    let p = c.one(ToServer, &[0x36, 0x05, 0x00, 0x01, b't', 0x00, 0x00]);
    assert_eq!(anomalies(&p), [INVALID_QOS, ZERO_PACKET_ID]);
    // SUBSCRIBE without topics.
    let p = c.one(ToServer, &[0x82, 0x02, 0x00, 0x01]);
    assert_eq!(anomalies(&p), [NO_TOPICS]);
    // CONNACK from the client.
    let p = c.one(ToServer, &[0x20, 0x02, 0x00, 0x00]);
    assert_eq!(anomalies(&p), [WRONG_DIRECTION]);
    // Unknown protocol name, reserved flag, password without user name (3.1.1).
    let p = c.one(
        ToServer,
        &[
            0x10, 0x0e, // CONNECT
            0x00, 0x04, b'M', b'Q', b'T', b'X', // protocol name
            0x04, // level
            0x41, // password, reserved bit
            0x00, 0x00, // keep alive
            0x00, 0x00, // client id: empty
            0x00, 0x00, // password: empty
        ],
    );
    assert_eq!(
        anomalies(&p),
        [
            UNKNOWN_PROTOCOL_NAME,
            RESERVED_FLAG_SET,
            PASSWORD_WITHOUT_USERNAME
        ]
    );
    assert_eq!(mq(&p).client_id.as_deref(), Some(""));
    // Type 0: not a packet; the rest of the bytes are skipped as one event.
    let p = c.one(ToServer, &[0x00, 0x01, 0x00, 0x00, 0x00, 0x06]);
    assert_eq!((p.function, p.function_code), ("invalid", None));
    assert_eq!(anomalies(&p), [INVALID_PACKET_TYPE]);
    assert_eq!(mq(&p).skipped_bytes, Some(6));
    // A remaining length of five bytes.
    let p = c.one(ToServer, &[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(anomalies(&p), [INVALID_REMAINING_LENGTH]);
}

#[test]
fn a_gap_stops_the_skipping() {
    let mut c = Conn::new();
    let mut head = vec![0x30, 0x80, 0x80, 0x01]; // PUBLISH, remaining 16384
    head.extend_from_slice(&[0x00, 0x01, b't']);
    head.resize(HEAD_LIMIT + 10, 0);
    assert_eq!(c.feed(ToServer, &head), head.len());
    assert_eq!(c.events.len(), 1);
    c.parser.gap(ToServer);
    assert_eq!(c.feed(ToServer, &[0xc0, 0x00]), 2);
    assert_eq!(c.events.last().unwrap().pdu.function, "pingreq");
}

#[test]
fn every_type_has_its_name_and_class() {
    let expect = [
        (1, "connect", FunctionClass::Session),
        (2, "connack", FunctionClass::Other),
        (4, "puback", FunctionClass::Other),
        (8, "subscribe", FunctionClass::Read),
        (10, "unsubscribe", FunctionClass::Read),
        (12, "pingreq", FunctionClass::Session),
        (13, "pingresp", FunctionClass::Session),
        (15, "auth", FunctionClass::Session),
    ];
    for (t, name, class) in expect {
        assert_eq!(PacketType(t).name(), name);
        assert_eq!(PacketType(t).class(ToServer), class);
    }
    assert_eq!(PacketType(3).class(ToServer), FunctionClass::Write);
    assert_eq!(PacketType(3).class(ToClient), FunctionClass::Read);
    let names = function_names();
    assert!(names.contains(&"reserved") && names.contains(&"invalid"));
}

#[test]
fn probe_accepts_connect_anywhere_and_sessions_on_its_port() {
    assert_eq!(probe(CONNECT_311, ToServer, false), Probe::Match);
    assert_eq!(probe(&CONNECT_311[..5], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&CONNECT_311[..1], ToServer, true), Probe::NeedMore);
    // Mid-stream on 1883: whole, clean packets.
    assert_eq!(probe(PUBLISH_V5, ToServer, true), Probe::Match);
    assert_eq!(probe(&[0xd0, 0x00], ToClient, true), Probe::Match);
    // ... but not elsewhere.
    assert_eq!(probe(PUBLISH_V5, ToServer, false), Probe::NoMatch);
    assert_eq!(probe(&[0xd0, 0x00], ToClient, false), Probe::NoMatch);
    // A PINGRESP from the client is not MQTT.
    assert_eq!(probe(&[0xd0, 0x00], ToServer, true), Probe::NoMatch);
}

#[test]
fn probe_rejects_other_protocols_on_its_port() {
    let others: &[&[u8]] = &[
        // Modbus read holding registers
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        // Modbus with a transaction id whose nibble is a valid MQTT type
        &[
            0x12, 0x34, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        // TPKT + COTP CR
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ],
        // DNP3 link header
        &[0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        // TLS ClientHello record header
        &[
            0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
        ],
        b"SSH-2.0-OpenSSH_8.9\r\n",
    ];
    for bytes in others {
        for dir in [ToServer, ToClient] {
            assert_eq!(probe(bytes, dir, true), Probe::NoMatch, "{bytes:02x?}");
        }
    }
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x005E_ED0F_4D51_5454);
    let mut c = Conn::new();
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let len = rng.below(64) as usize;
        let mut data = rng.bytes(len);
        if let Some(first) = data.first_mut()
            && rng.below(2) == 0
        {
            *first = (rng.below(15) as u8 + 1) << 4 | (rng.below(16) as u8);
        }
        if data.len() > 1 && rng.below(2) == 0 {
            data[1] = rng.below(64) as u8;
        }
        let used = c.feed(dir, &data);
        // Only the start of a packet still incomplete may be left.
        match framing(&data[used..]) {
            Framing::Incomplete => {}
            Framing::Packet { header, remaining } => {
                assert!(header + remaining > data.len() - used)
            }
            Framing::Invalid(_) => panic!("garbage left unconsumed"),
        }
        let _ = probe(&data, dir, rng.below(2) == 0);
        if rng.below(16) == 0 {
            c.parser.gap(dir);
        }
    }
    assert!(!c.events.is_empty());
}
