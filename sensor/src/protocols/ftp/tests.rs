//! Unit tests: a session with a PLC's FTP server (greeting, login, listing,
//! upload), as its control connection shows it.

use super::*;
use crate::event::Event;
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: FtpParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: FtpParser::new(),
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

fn ftp(pdu: &Pdu) -> &FtpFields {
    match &pdu.fields {
        Fields::Ftp(f) => f,
        _ => panic!("no FTP fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

#[test]
fn a_session_with_a_plc() {
    let mut c = Conn::new();
    let p = c.one(ToClient, b"220 ProFTPD 1.3.5 Server (PLC) [10.10.2.1]\r\n");
    clean(&p);
    assert_eq!(
        (p.function, p.class, p.function_code),
        ("greeting", FunctionClass::Session, Some(220))
    );
    assert_eq!(
        p.identity.as_deref().unwrap().product.as_deref(),
        Some("ProFTPD 1.3.5 Server (PLC) [10.10.2.1]")
    );
    let p = c.one(ToServer, b"USER admin\r\n");
    clean(&p);
    assert_eq!((p.function, p.class), ("user", FunctionClass::Session));
    let f = ftp(&p);
    assert_eq!(
        (f.command.as_deref(), f.user.as_deref()),
        (Some("USER"), Some("admin"))
    );
    let p = c.one(ToClient, b"331 Password required for admin\r\n");
    assert_eq!(ftp(&p).request_command.as_deref(), Some("USER"));
    assert_eq!(ftp(&p).request_packet, Some(2));
    let p = c.one(ToServer, b"pass s3cret\r\n");
    let f = ftp(&p);
    assert_eq!(f.command.as_deref(), Some("PASS"));
    assert_eq!(
        (f.password_present, f.password.as_deref()),
        (Some(true), Some("s3cret"))
    );
    assert_eq!(f.argument, None);
    let p = c.one(ToClient, b"230 User admin logged in\r\n");
    assert_eq!((p.function, p.function_code), ("pass", Some(230)));
    // A listing: preliminary 150, then 226, both answers to LIST.
    let p = c.one(ToServer, b"LIST /PLC\r\n");
    assert_eq!(
        (p.class, ftp(&p).argument.as_deref()),
        (FunctionClass::Read, Some("/PLC"))
    );
    let pdus = c.all(
        ToClient,
        b"150 Opening ASCII mode data connection\r\n226 Transfer complete\r\n",
    );
    assert_eq!(
        pdus.iter().map(|p| p.function).collect::<Vec<_>>(),
        ["list", "list"]
    );
    // An upload: a write.
    let p = c.one(ToServer, b"STOR /PLC/program.bin\r\n");
    assert_eq!((p.function, p.class), ("stor", FunctionClass::Write));
    let pdus = c.all(ToServer, b"DELE old.bin\r\nSYST\r\n");
    assert_eq!(pdus[0].class, FunctionClass::Write);
    assert_eq!(pdus[1].class, FunctionClass::Discovery);
    let pdus = c.all(ToClient, b"226 ok\r\n250 deleted\r\n215 UNIX Type: L8\r\n");
    assert_eq!(
        pdus.iter().map(|p| p.function).collect::<Vec<_>>(),
        ["stor", "dele", "syst"]
    );
}

#[test]
fn multi_line_replies_are_one_event() {
    let mut c = Conn::new();
    c.one(ToServer, b"FEAT\r\n");
    assert!(c.all(ToClient, b"211-Features:\r\n MDTM\r\n").is_empty());
    let p = c.one(ToClient, b" SIZE\r\n211 End\r\n");
    clean(&p);
    let f = ftp(&p);
    assert_eq!(
        (f.reply_code, f.reply_text.as_deref()),
        (Some(211), Some("Features:"))
    );
    assert_eq!(f.reply_lines, Some(4));
    assert_eq!(p.function, "feat");
    // A multi-line greeting, split mid-line.
    let mut c = Conn::new();
    assert_eq!(
        c.feed(ToClient, b"220-Welcome to Pure-FTPd\r\n220-You are us"),
        26
    );
    let p = c.one(ToClient, b"220-You are user 1\r\n220 Bye\r\n");
    assert_eq!(p.function, "greeting");
    assert_eq!(
        p.identity.as_deref().unwrap().product.as_deref(),
        Some("Welcome to Pure-FTPd")
    );
}

#[test]
fn auth_tls_ends_decoding() {
    let mut c = Conn::new();
    c.one(ToClient, b"220 (vsFTPd 3.0.3)\r\n");
    assert_eq!(
        c.events[0]
            .pdu
            .identity
            .as_deref()
            .unwrap()
            .product
            .as_deref(),
        Some("vsFTPd 3.0.3")
    );
    c.one(ToServer, b"AUTH TLS\r\n");
    c.one(ToClient, b"234 Proceed with negotiation.\r\n");
    assert!(c.all(ToServer, b"\x16\x03\x01\x00\x05hello\r\n").is_empty());
    assert!(c.all(ToClient, b"226 x\r\n").is_empty());
}

#[test]
fn malformed_lines_are_events_with_anomalies() {
    let mut c = Conn::new();
    let p = c.one(ToServer, b"XYZZY plugh\r\n");
    assert_eq!(
        (p.function, anomalies(&p)),
        ("invalid", vec![INVALID_COMMAND])
    );
    let p = c.one(ToServer, b"FOOB bar\r\n");
    assert_eq!(
        (p.function, anomalies(&p)),
        ("unknown_command", vec![UNKNOWN_COMMAND])
    );
    let p = c.one(ToClient, b"hello there\r\n");
    assert_eq!(anomalies(&p), [INVALID_REPLY]);
    let p = c.one(ToClient, b"500 what\r\n");
    assert_eq!(p.function, "unknown_command");
    let p = c.one(ToClient, b"421 Timeout\r\n");
    assert_eq!(
        (p.function, anomalies(&p)),
        ("reply", vec![REPLY_WITHOUT_COMMAND])
    );
    // A line over 2 KiB: one event, then the rest of it skipped.
    let long = vec![b'A'; MAX_LINE + 10];
    let p = c.one(ToServer, &long);
    assert_eq!(anomalies(&p), [LINE_TOO_LONG]);
    let pdus = c.all(ToServer, b"AAAA\r\nNOOP\r\n");
    assert_eq!(
        pdus.iter().map(|p| p.function).collect::<Vec<_>>(),
        ["noop"]
    );
}

#[test]
fn probe_accepts_greetings_and_commands() {
    assert_eq!(
        probe(b"220 ProFTPD Server\r\n", ToClient, false),
        Probe::Match
    );
    assert_eq!(
        probe(b"220 FileZilla Server\r\n", ToClient, false),
        Probe::NoMatch
    );
    assert_eq!(
        probe(b"220 FileZilla Server\r\n", ToClient, true),
        Probe::Match
    );
    assert_eq!(
        probe(b"220 mail.example.com ESMTP Postfix\r\n", ToClient, false),
        Probe::NoMatch
    );
    assert_eq!(
        probe(b"220 VxWorks FTP ser", ToClient, false),
        Probe::NeedMore
    );
    assert_eq!(probe(b"22", ToClient, true), Probe::NeedMore);
    assert_eq!(probe(b"USER anonymous\r\n", ToServer, true), Probe::Match);
    assert_eq!(
        probe(b"USER anonymous\r\n", ToServer, false),
        Probe::NoMatch
    );
    assert_eq!(probe(b"US", ToServer, true), Probe::NeedMore);
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
    let mut rng = Rng(0x0046_5450_3232_3020);
    let mut c = Conn::new();
    let pieces: &[&[u8]] = &[
        b"220-x\r\n",
        b"220 y\r\n",
        b"USER a\r\n",
        b"150 go\r\n",
        b"\r\n",
    ];
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let mut data = Vec::new();
        for _ in 0..rng.below(4) {
            if rng.below(2) == 0 {
                data.extend_from_slice(pieces[rng.below(pieces.len() as u64) as usize]);
            } else {
                let len = rng.below(40) as usize;
                data.extend(rng.bytes(len));
            }
        }
        let used = c.feed(dir, &data);
        // Only an incomplete line of at most MAX_LINE bytes may be left.
        assert!(!data[used..].contains(&b'\n') || c.parser.encrypted);
        assert!(data.len() - used <= MAX_LINE);
        let _ = probe(&data, dir, rng.below(2) == 0);
    }
}
