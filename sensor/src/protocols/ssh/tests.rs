//! Unit tests: identification lines and a KEXINIT packet built field by field.

use super::*;
use crate::event::Event;
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: SshParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: SshParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn all(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(header(self.packet, PORT), dir, &mut self.events);
        assert_eq!(
            self.parser.parse(data, &mut out),
            data.len(),
            "not all consumed"
        );
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }
}

fn ssh(pdu: &Pdu) -> &SshFields {
    match &pdu.fields {
        Fields::Ssh(f) => f,
        _ => panic!("no SSH fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

/// A KEXINIT binary packet with these name-lists.
fn kexinit(lists: [&str; 10]) -> Vec<u8> {
    let mut payload = vec![MSG_KEXINIT]; // message number
    payload.extend_from_slice(&[0x5a; 16]); // cookie
    for list in lists {
        payload.extend_from_slice(&(list.len() as u32).to_be_bytes()); // name-list length
        payload.extend_from_slice(list.as_bytes());
    }
    payload.push(0); // first_kex_packet_follows
    payload.extend_from_slice(&[0, 0, 0, 0]); // reserved
    let padding = 8 - (payload.len() + 5) % 8 + 4;
    let mut packet = ((payload.len() + padding + 1) as u32)
        .to_be_bytes()
        .to_vec(); // packet length
    packet.push(padding as u8); // padding length
    packet.extend_from_slice(&payload);
    packet.extend(std::iter::repeat_n(0, padding)); // padding
    packet
}

const LISTS: [&str; 10] = [
    "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
    "ssh-ed25519,rsa-sha2-512",
    "chacha20-poly1305@openssh.com,aes128-ctr",
    "chacha20-poly1305@openssh.com,aes128-ctr",
    "umac-64-etm@openssh.com,hmac-sha2-256",
    "umac-64-etm@openssh.com,hmac-sha2-256",
    "none,zlib@openssh.com",
    "none,zlib@openssh.com",
    "",
    "",
];

#[test]
fn banners_identify_each_side_and_kexinit_gives_the_first_algorithms() {
    let mut c = Conn::new();
    let mut server = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n".to_vec();
    server.extend(kexinit(LISTS));
    let pdus = c.all(ToClient, &server);
    assert_eq!(pdus.len(), 2);
    let banner = &pdus[0];
    assert!(banner.anomalies.is_empty());
    assert_eq!((banner.function, banner.function_code), ("banner", None));
    assert_eq!(banner.class, FunctionClass::Session);
    let f = ssh(banner);
    assert_eq!(f.banner.as_deref(), Some("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3"));
    assert_eq!(f.proto_version.as_deref(), Some("2.0"));
    assert_eq!(f.software.as_deref(), Some("OpenSSH_8.9p1"));
    assert_eq!(f.comments.as_deref(), Some("Ubuntu-3"));
    let id = banner.identity.as_deref().unwrap();
    assert_eq!(id.product.as_deref(), Some("OpenSSH"));
    assert_eq!(id.firmware.as_deref(), Some("8.9p1"));
    let kex = &pdus[1];
    assert!(kex.anomalies.is_empty());
    assert_eq!((kex.function, kex.function_code), ("kexinit", Some(20)));
    let f = ssh(kex);
    assert_eq!(f.kex.as_deref(), Some("curve25519-sha256"));
    assert_eq!(f.kex_count, Some(3));
    assert_eq!(f.host_key.as_deref(), Some("ssh-ed25519"));
    assert_eq!(
        f.encryption.as_deref(),
        Some("chacha20-poly1305@openssh.com")
    );
    assert_eq!(f.mac.as_deref(), Some("umac-64-etm@openssh.com"));
    assert_eq!(f.compression.as_deref(), Some("none"));
    // Then key exchange and encrypted packets: nothing more.
    assert!(
        c.all(
            ToClient,
            &[0, 0, 0, 12, 4, 31, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0]
        )
        .is_empty()
    );
    assert!(c.all(ToClient, &[0xde, 0xad, 0xbe, 0xef]).is_empty());
}

#[test]
fn a_banner_split_over_segments_and_pre_identification_lines() {
    let mut c = Conn::new();
    c.packet += 1;
    let mut out = Emitter::new(header(1, PORT), ToServer, &mut c.events);
    assert_eq!(c.parser.parse(b"SSH-2.0-PuTTY_Rel", &mut out), 0);
    let pdus = c.all(ToServer, b"SSH-2.0-PuTTY_Release_0.78\r\n");
    assert_eq!(pdus.len(), 1);
    assert_eq!(
        ssh(&pdus[0]).software.as_deref(),
        Some("PuTTY_Release_0.78")
    );
    let pdus = c.all(
        ToClient,
        b"Welcome to the plant gateway\r\nSSH-1.99-Cisco-1.25\r\n",
    );
    assert_eq!(pdus.len(), 1);
    let id = pdus[0].identity.as_deref().unwrap();
    assert_eq!(
        (id.product.as_deref(), id.firmware.as_deref()),
        (Some("Cisco"), Some("1.25"))
    );
}

#[test]
fn software_versions_name_products() {
    let id = software_identity("ROSSSH").unwrap();
    assert_eq!((id.product.as_deref(), id.firmware), (Some("ROSSSH"), None));
    let id = software_identity("dropbear_2022.83").unwrap();
    assert_eq!(id.firmware.as_deref(), Some("2022.83"));
    assert!(software_identity("").is_none());
}

#[test]
fn malformed_input_is_reported() {
    // A client that does not start with its identification.
    let mut c = Conn::new();
    let pdus = c.all(ToServer, b"hello\r\n");
    assert_eq!(anomalies(&pdus[0]), [MISSING_BANNER]);
    assert!(c.all(ToServer, b"SSH-2.0-x\r\n").is_empty());
    // SSH 1, a bad packet length, a truncated KEXINIT, `none` offered.
    let mut c = Conn::new();
    let pdus = c.all(ToClient, b"SSH-1.5-old\r\n\x7f\xff\xff\xff");
    assert_eq!(anomalies(&pdus[0]), [SSH1]);
    assert_eq!(anomalies(&pdus[1]), [INVALID_PACKET]);
    let mut c = Conn::new();
    let mut lists = LISTS;
    lists[2] = "none,aes128-ctr";
    let mut packet = kexinit(lists);
    c.all(ToServer, b"SSH-2.0-x\r\n");
    let pdus = c.all(ToServer, &packet);
    assert_eq!(anomalies(&pdus[0]), [NONE_ALGORITHM]);
    let mut c = Conn::new();
    c.all(ToServer, b"SSH-2.0-x\r\n");
    packet[25] = 0xff; // first name-list length high byte
    let pdus = c.all(ToServer, &packet);
    assert!(anomalies(&pdus[0]).contains(&TRUNCATED));
    // A banner over 255 bytes.
    let mut c = Conn::new();
    let long = [b"SSH-2.0-".as_slice(), &[b'a'; 300]].concat();
    let pdus = c.all(ToClient, &long);
    assert_eq!(anomalies(&pdus[0]), [BANNER_TOO_LONG]);
}

#[test]
fn probe_accepts_identification_lines_only() {
    assert_eq!(
        probe(b"SSH-2.0-OpenSSH_8.9\r\n", ToClient, false),
        Probe::Match
    );
    assert_eq!(
        probe(b"SSH-2.0-OpenSSH_8.9\r\n", ToServer, false),
        Probe::Match
    );
    assert_eq!(probe(b"SSH-", ToServer, false), Probe::NeedMore);
    assert_eq!(probe(b"SS", ToServer, false), Probe::NeedMore);
    assert_eq!(probe(b"SSH-x", ToServer, false), Probe::NoMatch);
    assert_eq!(
        probe(b"Hello\r\nSSH-2.0-x\r\n", ToClient, true),
        Probe::Match
    );
    assert_eq!(probe(b"Hello\r\n", ToClient, true), Probe::NeedMore);
    assert_eq!(probe(b"Hello\r\n", ToClient, false), Probe::NoMatch);
}

#[test]
fn probe_rejects_other_protocols_on_its_port() {
    let others: &[&[u8]] = &[
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ],
        &[0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21],
        &[
            0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
        ],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
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
    let mut rng = Rng(0x0055_5348_2d32_2e30);
    let packet = kexinit(LISTS);
    for _ in 0..3_000 {
        let mut c = Conn::new();
        for _ in 0..6 {
            let dir = if rng.below(2) == 0 {
                ToServer
            } else {
                ToClient
            };
            let mut data = match rng.below(3) {
                0 => b"SSH-2.0-x\r\n".to_vec(),
                1 => packet.clone(),
                _ => {
                    let len = rng.below(80) as usize;
                    rng.bytes(len)
                }
            };
            if !data.is_empty() && rng.below(2) == 0 {
                let at = rng.below(data.len() as u64) as usize;
                data[at] = rng.next_u64() as u8;
            }
            c.packet += 1;
            let mut out = Emitter::new(header(c.packet, PORT), dir, &mut c.events);
            let used = c.parser.parse(&data, &mut out);
            assert!(used <= data.len());
            assert!(data.len() - used <= MAX_PACKET + 4);
            let _ = probe(&data, dir, rng.below(2) == 0);
        }
    }
}
