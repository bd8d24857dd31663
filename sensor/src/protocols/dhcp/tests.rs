//! Unit tests: messages of `../shared/pcaps/dhcp/` (a udhcp client and a
//! server overloading `sname`) and of the PROFINET capture, messages built
//! field by field, malformed messages and probes.

use super::*;
use crate::protocols::itwire::testing::{Rng, anomalies, datagram, hex, json, one, udp};
use crate::protocols::{DatagramDecoder, Detection, detect_datagram};

const CLIENT: Mac = [0x92, 0xdd, 0xa4, 0x8d, 0x5f, 0xde];
const SERVER: Mac = [0x3e, 0xbe, 0xbd, 0xcc, 0xa6, 0xd6];

/// A BOOTP header (236 bytes) with `op`, transaction id 0x24593b3e, the
/// given client/your/relay addresses and chaddr, then the magic cookie and
/// `options`.
fn message(op: u8, ciaddr: [u8; 4], yiaddr: [u8; 4], giaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
    let mut m = vec![
        op,   // op
        0x01, // hardware type: Ethernet
        0x06, // hardware address length
        0x00, // hops
        0x24, 0x59, 0x3b, 0x3e, // transaction id
        0x00, 0x00, // seconds
        0x00, 0x00, // flags
    ];
    m.extend_from_slice(&ciaddr); // ciaddr
    m.extend_from_slice(&yiaddr); // yiaddr
    m.extend_from_slice(&[0, 0, 0, 0]); // siaddr
    m.extend_from_slice(&giaddr); // giaddr
    m.extend_from_slice(&CLIENT); // chaddr
    m.extend_from_slice(&[0; 10]); // chaddr padding
    m.extend_from_slice(&[0; 64]); // sname
    m.extend_from_slice(&[0; 128]); // file
    m.extend_from_slice(&MAGIC_COOKIE);
    m.extend_from_slice(options);
    m
}

fn from_client(msg: &[u8]) -> Pdu {
    one(datagram(
        &mut DhcpParser::new(),
        udp("0.0.0.0", "255.255.255.255", CLIENT),
        Direction::ToServer,
        msg,
    ))
}

fn from_server(msg: &[u8]) -> Pdu {
    one(datagram(
        &mut DhcpParser::new(),
        udp("10.100.0.2", "255.255.255.255", SERVER),
        Direction::ToClient,
        msg,
    ))
}

/// Frame 1 of the option 52 capture: a udhcp DISCOVER.
fn udhcp_discover() -> Vec<u8> {
    message(
        1,
        [0; 4],
        [0; 4],
        [0; 4],
        &[
            0x35, 0x01, 0x01, // 53 message type: discover
            0x39, 0x02, 0x02, 0x40, // 57 max message size 576
            0x37, 0x0b, 0x01, 0x03, 0x06, 0x0c, 0x0f, 0x1c, 0x2a, 0x36, 0x42, 0x43,
            0x77, // 55 parameter request list
            0x3c, 0x0c, b'u', b'd', b'h', b'c', b'p', b' ', b'1', b'.', b'3', b'6', b'.',
            b'1', // 60 vendor class id
            0x3d, 0x07, 0x01, 0x92, 0xdd, 0xa4, 0x8d, 0x5f, 0xde, // 61 client id
            0xff, // end
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // padding
        ],
    )
}

#[test]
fn udhcp_discover_describes_the_client() {
    let pdu = from_client(&udhcp_discover());
    assert_eq!(pdu.protocol, Protocol::Dhcp);
    assert_eq!(
        (pdu.function_code, pdu.function, pdu.class, pdu.is_response),
        (Some(1), "discover", FunctionClass::Discovery, false)
    );
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    let j = json(&pdu.fields);
    assert_eq!(j["op"], 1);
    assert_eq!(j["message_type"], 1);
    assert_eq!(j["transaction_id"], 0x2459_3b3e);
    assert_eq!(j["client_mac"], "92:dd:a4:8d:5f:de");
    assert_eq!(j["vendor_class_id"], "udhcp 1.36.1");
    assert_eq!(
        j["parameter_request_list"],
        "1,3,6,12,15,28,42,54,66,67,119"
    );
    assert_eq!(j["client_id"], "0192dda48d5fde");
    assert!(j.get("client_ip").is_none(), "0.0.0.0 is left out");
    let identity = pdu.identity.expect("the client describes itself");
    assert_eq!(identity.device_type.as_deref(), Some("udhcp 1.36.1"));
    assert_eq!(identity.hostname, None);
}

#[test]
fn offer_with_options_in_sname() {
    // Frame 4: the rogue server's offer, router and domain in `sname`.
    let payload = hex(
        "0201060024593b3e00000000000000000a6400320a6400020000000092dda48d5fde00000000000000000000\
         06040a64000203040a6400020f096576696c2e636f7270ff",
    );
    let mut msg = payload.clone();
    msg.resize(FIXED_LEN, 0);
    msg.extend_from_slice(&MAGIC_COOKIE);
    msg.extend_from_slice(&[
        0x35, 0x01, 0x02, // 53: offer
        0x36, 0x04, 0x0a, 0x64, 0x00, 0x02, // 54 server id 10.100.0.2
        0x33, 0x04, 0x00, 0x00, 0x01, 0x2c, // 51 lease 300 s
        0x01, 0x04, 0xff, 0xff, 0xff, 0x00, // 1 subnet mask
        0x34, 0x01, 0x02, // 52 overload: sname holds options
        0xff, // end
    ]);
    let pdu = from_server(&msg);
    assert_eq!((pdu.function, pdu.is_response), ("offer", true));
    assert!(pdu.anomalies.is_empty(), "{:?}", anomalies(&pdu));
    assert!(
        pdu.identity.is_none(),
        "a server's offer describes the client"
    );
    let j = json(&pdu.fields);
    assert_eq!(j["assigned_ip"], "10.100.0.50");
    assert_eq!(j["next_server_ip"], "10.100.0.2");
    assert_eq!(j["server_id"], "10.100.0.2");
    assert_eq!(j["overload"], 2);
    assert_eq!(j["routers"], serde_json::json!(["10.100.0.2"]));
    assert_eq!(j["dns_servers"], serde_json::json!(["10.100.0.2"]));
    assert_eq!(j["domain_name"], "evil.corp");
    assert_eq!(j["lease_time"], 300);
    assert!(j.get("server_hostname").is_none(), "sname holds options");
}

#[test]
fn server_hostname_and_boot_file_when_not_overloaded() {
    let mut msg = message(
        2,
        [0; 4],
        [10, 100, 0, 50],
        [0; 4],
        &[0x35, 0x01, 0x05, 0xff],
    );
    msg[44..67].copy_from_slice(b"evil-pxe.attacker.local");
    msg[108..117].copy_from_slice(b"pxelinux0");
    let j = json(&from_server(&msg).fields);
    assert_eq!(j["server_hostname"], "evil-pxe.attacker.local");
    assert_eq!(j["boot_file"], "pxelinux0");
}

#[test]
fn request_and_inform_give_the_hostname() {
    let request = message(
        1,
        [0; 4],
        [0; 4],
        [0; 4],
        &[
            0x35, 0x01, 0x03, // request
            0x32, 0x04, 10, 100, 0, 50, // 50 requested IP
            0x0c, 0x0e, b'L', b'T', b'-', b'U', b'S', b'-', b'D', b'S', b'W', b'A', b'N', b'S',
            b'O', b'N', // 12 host name
            0x3c, 0x08, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // 60 vendor class
            0xff,
        ],
    );
    let pdu = from_client(&request);
    assert_eq!(pdu.function, "request");
    let j = json(&pdu.fields);
    assert_eq!(j["requested_ip"], "10.100.0.50");
    assert_eq!(j["hostname"], "LT-US-DSWANSON");
    let identity = pdu.identity.unwrap();
    assert_eq!(identity.hostname.as_deref(), Some("LT-US-DSWANSON"));
    assert_eq!(identity.device_type.as_deref(), Some("MSFT 5.0"));
    // An INFORM from a configured client, the name only in option 81 (wire form).
    let inform = message(
        1,
        [10, 100, 0, 50],
        [0; 4],
        [0; 4],
        &[
            0x35, 0x01, 0x08, // inform
            0x51, 0x10, 0x05, 0x00, 0x00, // 81 client FQDN: flags S+E, rcodes
            0x04, b'h', b'm', b'i', b'1', 0x05, b'p', b'l', b'a', b'n', b't',
            0x00, // hmi1.plant
            0xff,
        ],
    );
    let pdu = from_client(&inform);
    assert_eq!(json(&pdu.fields)["client_fqdn"], "hmi1.plant");
    assert_eq!(json(&pdu.fields)["client_ip"], "10.100.0.50");
    assert_eq!(pdu.identity.unwrap().hostname.as_deref(), Some("hmi1"));
}

#[test]
fn relayed_or_foreign_messages_carry_no_identity() {
    let options = [0x35, 0x01, 0x01, 0x0c, 0x03, b'p', b'l', b'c', 0xff];
    // Relayed: the sender is the relay agent.
    let relayed = message(1, [0; 4], [0; 4], [10, 0, 0, 1], &options);
    let pdu = from_client(&relayed);
    assert_eq!(json(&pdu.fields)["relay_ip"], "10.0.0.1");
    assert!(pdu.identity.is_none());
    // chaddr is not the frame's source: another MAC asks (pool exhaustion).
    let msg = message(1, [0; 4], [0; 4], [0; 4], &options);
    let pdu = one(datagram(
        &mut DhcpParser::new(),
        udp("0.0.0.0", "255.255.255.255", [0x02, 0, 0, 0, 0, 9]),
        Direction::ToServer,
        &msg,
    ));
    assert_eq!(anomalies(&pdu), [anomaly::CLIENT_MAC_MISMATCH]);
    assert!(pdu.identity.is_none());
    // A release describes nothing.
    let release = message(1, [10, 0, 0, 5], [0; 4], [0; 4], &[0x35, 0x01, 0x07, 0xff]);
    let pdu = from_client(&release);
    assert_eq!(pdu.function, "release");
    assert!(pdu.identity.is_none());
}

#[test]
fn bootp_without_cookie() {
    let mut msg = message(1, [0; 4], [0; 4], [0; 4], &[]);
    msg.truncate(FIXED_LEN);
    let pdu = from_client(&msg);
    assert_eq!((pdu.function, pdu.function_code), ("bootp_request", None));
    assert!(pdu.anomalies.is_empty());
    msg[0] = 2;
    assert_eq!(from_server(&msg).function, "bootp_reply");
}

#[test]
fn malformed_messages_are_events_with_anomalies() {
    let pdu = from_client(&udhcp_discover()[..100]);
    assert_eq!((pdu.function, pdu.function_code), ("invalid", None));
    assert_eq!(anomalies(&pdu), [anomaly::TRUNCATED]);
    // An option running past the end; no End option.
    let msg = message(
        1,
        [0; 4],
        [0; 4],
        [0; 4],
        &[0x35, 0x01, 0x01, 0x0c, 0x10, b'a'],
    );
    assert_eq!(
        anomalies(&from_client(&msg)),
        [anomaly::TRUNCATED_OPTION, anomaly::MISSING_END_OPTION]
    );
    // Message type of two bytes, a router list of 5 bytes.
    let msg = message(
        1,
        [0; 4],
        [0; 4],
        [0; 4],
        &[0x35, 0x02, 1, 1, 0x03, 0x05, 1, 2, 3, 4, 5, 0xff],
    );
    assert_eq!(anomalies(&from_client(&msg)), [anomaly::BAD_OPTION_LENGTH]);
    // An unknown message type; a server's type in a request.
    let msg = message(1, [0; 4], [0; 4], [0; 4], &[0x35, 0x01, 0x63, 0xff]);
    let pdu = from_client(&msg);
    assert_eq!((pdu.function, pdu.function_code), ("unknown", Some(0x63)));
    assert_eq!(anomalies(&pdu), [anomaly::UNKNOWN_MESSAGE_TYPE]);
    let msg = message(1, [0; 4], [0; 4], [0; 4], &[0x35, 0x01, 0x05, 0xff]);
    assert_eq!(anomalies(&from_client(&msg)), [anomaly::OP_MISMATCH]);
    // Overload with value 7.
    let msg = message(
        2,
        [0; 4],
        [0; 4],
        [0; 4],
        &[0x35, 0x01, 0x02, 0x34, 0x01, 0x07, 0xff],
    );
    assert_eq!(anomalies(&from_server(&msg)), [anomaly::BAD_OVERLOAD]);
    // A hardware address length of 20.
    let mut msg = udhcp_discover();
    msg[2] = 20;
    let pdu = from_client(&msg);
    assert_eq!(anomalies(&pdu), [anomaly::BAD_HARDWARE_LENGTH]);
    assert!(json(&pdu.fields).get("client_mac").is_none());
}

#[test]
fn probe_wants_the_cookie_off_port() {
    let discover = udhcp_discover();
    assert_eq!(probe(&discover, Direction::ToServer, false), Probe::Match);
    assert_eq!(
        probe(&discover[..236], Direction::ToServer, false),
        Probe::NoMatch
    );
    assert_eq!(
        probe(&discover[..236], Direction::ToServer, true),
        Probe::Match
    );
    assert_eq!(
        probe(&discover[..50], Direction::ToServer, true),
        Probe::Match
    );
    let dns = [
        0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
    ];
    let http = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let tls = [0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4];
    for other in [&dns[..], http, &tls] {
        assert_eq!(
            probe(other, Direction::ToServer, true),
            Probe::NoMatch,
            "{other:02x?}"
        );
    }
    assert!(matches!(
        detect_datagram(SERVER_PORT, Direction::ToServer, &discover),
        Detection::Found(DatagramDecoder::Dhcp(_))
    ));
    assert!(matches!(
        detect_datagram(4011, Direction::ToServer, &discover),
        Detection::Found(DatagramDecoder::Dhcp(_))
    ));
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xd4c9);
    let mut parser = DhcpParser::new();
    let base = udhcp_discover();
    for i in 0..5000 {
        let msg = if i % 2 == 0 {
            rng.mutate(&base)
        } else {
            let mut m = base[..FIXED_LEN + 4].to_vec();
            let len = rng.below(80) as usize;
            m.extend(rng.bytes(len));
            m
        };
        let pdus = datagram(
            &mut parser,
            udp("0.0.0.0", "255.255.255.255", CLIENT),
            Direction::ToServer,
            &msg,
        );
        assert_eq!(pdus.len(), 1);
    }
}
