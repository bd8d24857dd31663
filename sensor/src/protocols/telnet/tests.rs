//! Unit tests: a login as a Linux telnetd and an embedded device's console
//! show it, one key per segment from the client.

use super::*;
use crate::event::Event;
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: TelnetParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: TelnetParser::new(),
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

    /// The client types `text` one byte per segment.
    fn type_keys(&mut self, text: &[u8]) -> Vec<Pdu> {
        text.iter()
            .flat_map(|&b| self.all(ToServer, &[b]))
            .collect()
    }
}

fn tn(pdu: &Pdu) -> &TelnetFields {
    match &pdu.fields {
        Fields::Telnet(f) => f,
        _ => panic!("no Telnet fields"),
    }
}

fn functions(pdus: &[Pdu]) -> Vec<&'static str> {
    pdus.iter().map(|p| p.function).collect()
}

#[test]
fn a_login_dialogue() {
    let mut c = Conn::new();
    let pdus = c.all(
        ToClient,
        &[
            IAC, DO, 24, // terminal type
            IAC, DO, 32, // terminal speed
            IAC, WILL, 1, // echo
            IAC, SB, 24, 1, IAC, SE, // terminal type: send
        ],
    );
    assert_eq!(functions(&pdus), ["negotiation"]);
    assert_eq!(tn(&pdus[0]).negotiations, Some(4));
    assert_eq!(tn(&pdus[0]).options, [24, 32, 1, 24]);
    assert!(pdus[0].anomalies.is_empty());
    assert_eq!(pdus[0].class, FunctionClass::Session);

    let pdus = c.all(ToClient, b"\r\nMOXA NPort 5110 V2.10\r\n\r\nlogin: ");
    assert_eq!(functions(&pdus), ["banner", "login_prompt"]);
    assert_eq!(
        tn(&pdus[0]).banner.as_deref(),
        Some("MOXA NPort 5110 V2.10")
    );
    let id = pdus[0].identity.as_deref().unwrap();
    assert_eq!(id.product.as_deref(), Some("MOXA NPort 5110 V2.10"));
    assert_eq!(tn(&pdus[1]).prompt.as_deref(), Some("login:"));

    // One key per segment, each echoed by the server: the echo is not a prompt.
    let mut typed = Vec::new();
    for &key in b"admx\x7fin\r\0" {
        typed.extend(c.all(ToServer, &[key]));
        if key.is_ascii_alphanumeric() {
            assert!(c.all(ToClient, &[key]).is_empty());
        }
    }
    assert_eq!(functions(&typed), ["login"]);
    assert_eq!(tn(&typed[0]).user.as_deref(), Some("admin"));

    let pdus = c.all(ToClient, b"\r\nPassword: ");
    assert_eq!(functions(&pdus), ["password_prompt"]);
    let pdus = c.type_keys(b"moxa\r\n");
    assert_eq!(functions(&pdus), ["password"]);
    let f = tn(&pdus[0]);
    assert_eq!(
        (f.password.as_deref(), f.password_present),
        (Some("moxa"), Some(true))
    );
    assert_eq!(f.user.as_deref(), Some("admin"));

    let pdus = c.all(ToClient, b"\r\nLogin incorrect\r\n\r\nlogin: ");
    assert_eq!(functions(&pdus), ["login_failed", "login_prompt"]);
    assert_eq!(tn(&pdus[0]).user.as_deref(), Some("admin"));
    assert_eq!(tn(&pdus[0]).message.as_deref(), Some("Login incorrect"));
    // Lines typed outside a login give no events.
    c.type_keys(b"root\r\n");
    assert!(c.type_keys(b"ls -l\r\n").is_empty());
}

#[test]
fn a_server_that_echoes_nothing_prompts_for_the_password_on_the_login_line() {
    // Without echo the client's CR LF never reaches the server's side of the
    // screen: "Password: " follows "login: " on one line.
    let mut c = Conn::new();
    let pdus = c.all(ToClient, b"Controller console\r\nlogin: ");
    assert_eq!(functions(&pdus), ["banner", "login_prompt"]);
    assert_eq!(functions(&c.type_keys(b"operator\r\n")), ["login"]);
    let pdus = c.all(ToClient, b"Password: ");
    assert_eq!(functions(&pdus), ["password_prompt"]);
    assert_eq!(tn(&pdus[0]).prompt.as_deref(), Some("Password:"));
    let pdus = c.type_keys(b"hunter2\r\n");
    assert_eq!(functions(&pdus), ["password"]);
    assert_eq!(tn(&pdus[0]).password.as_deref(), Some("hunter2"));
    assert_eq!(tn(&pdus[0]).user.as_deref(), Some("operator"));
    // More server output on that line without a prompt asks for nothing.
    assert!(c.all(ToClient, b"> ").is_empty());
}

#[test]
fn prompts_of_other_devices() {
    assert_eq!(prompt_kind(b"Username:"), Some(Awaiting::User));
    assert_eq!(prompt_kind(b"User Name: "), Some(Awaiting::User));
    assert_eq!(prompt_kind(b"plc01 login: "), Some(Awaiting::User));
    assert_eq!(prompt_kind(b"Enter Password:"), Some(Awaiting::Password));
    assert_eq!(prompt_kind(b"passwd>"), Some(Awaiting::Password));
    assert_eq!(prompt_kind(b"Welcome"), None);
    assert_eq!(prompt_kind(b"Time: 12:00"), None);
    // A device whose first line is its prompt: no identity from it.
    let mut c = Conn::new();
    let pdus = c.all(ToClient, b"Password:\r\n");
    assert_eq!(functions(&pdus), ["banner"]);
    assert!(pdus[0].identity.is_none());
}

#[test]
fn malformed_commands_and_long_lines() {
    let mut c = Conn::new();
    let pdus = c.all(ToClient, &[IAC, 7, b'h', b'i', b'\r', b'\n']);
    assert_eq!(functions(&pdus), ["banner", "negotiation"]);
    assert_eq!(
        pdus[1].anomalies.iter().collect::<Vec<_>>(),
        [INVALID_COMMAND]
    );
    let mut sub = vec![IAC, SB, 24];
    sub.extend(std::iter::repeat_n(b'x', 2000));
    let pdus = c.all(ToServer, &sub);
    assert_eq!(
        pdus[0].anomalies.iter().collect::<Vec<_>>(),
        [SUBNEGOTIATION_TOO_LONG]
    );
    // IAC IAC is a data byte 0xff.
    let mut c = Conn::new();
    c.all(ToClient, b"x\r\nlogin:");
    let pdus = c.all(ToServer, &[b'a', IAC, IAC, b'\r', b'\n']);
    assert_eq!(functions(&pdus), ["login"]);
    assert_eq!(tn(&pdus[0]).user.as_deref(), Some("a\u{fffd}"));
    // A very long banner line is cut and flagged.
    let mut c = Conn::new();
    let long = [vec![b'A'; 600], b"\r\n".to_vec()].concat();
    let pdus = c.all(ToClient, &long);
    assert_eq!(
        pdus[0].anomalies.iter().collect::<Vec<_>>(),
        [LINE_TOO_LONG]
    );
    assert_eq!(tn(&pdus[0]).banner.as_deref().map(str::len), Some(MAX_LINE));
}

#[test]
fn probe_accepts_negotiation_and_text_on_its_port() {
    let nego = [IAC, DO, 24, IAC, WILL, 1];
    assert_eq!(probe(&nego, ToClient, false), Probe::Match);
    assert_eq!(probe(&nego[..4], ToClient, false), Probe::NeedMore);
    assert_eq!(probe(&nego[..3], ToClient, true), Probe::Match);
    assert_eq!(probe(b"\r\nlogin: ", ToClient, true), Probe::Match);
    assert_eq!(probe(b"\r\nlogin: ", ToClient, false), Probe::NoMatch);
    assert_eq!(probe(&[IAC, 7], ToClient, true), Probe::NoMatch);
}

#[test]
fn probe_rejects_other_protocols_on_its_port() {
    let others: &[&[u8]] = &[
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
        ],
        // Modbus whose transaction id is 0xfffb
        &[
            0xff, 0xfb, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
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
            assert_eq!(probe(bytes, dir, false), Probe::NoMatch, "{bytes:02x?}");
            // Modbus 0xfffb: a negotiation then a zero byte is not telnet on 23 either.
            if bytes[0] != 0xff {
                assert_eq!(probe(bytes, dir, true), Probe::NoMatch, "{bytes:02x?}");
            }
        }
    }
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x0054_454c_4e45_5421);
    let mut c = Conn::new();
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let len = rng.below(48) as usize;
        let mut data = rng.bytes(len);
        for b in data.iter_mut() {
            if rng.below(4) == 0 {
                *b = [IAC, SB, SE, WILL, b'\r', b'\n', b':', 0x7f][rng.below(8) as usize];
            }
        }
        c.all(dir, &data);
        let _ = probe(&data, dir, rng.below(2) == 0);
        if rng.below(64) == 0 {
            c.parser.gap(dir);
        }
    }
    assert!(c.parser.sides.iter().all(|s| s.line.len() <= MAX_LINE));
}
