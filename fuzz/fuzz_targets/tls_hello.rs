//! TLS ClientHello and ServerHello bodies and the JA4 fingerprint, hit
//! directly: the input is a handshake body, framed by the target in a
//! handshake message and a TLS record (so that every input reaches the hello
//! parsers), and also read as lists of 16-bit values given to `tls::ja4`.
//!
//! Input layout: byte 0 is the handshake type (bit 0 clear: ClientHello to
//! the server, set: ServerHello to the client; bit 1: the record is cut in
//! two segments at byte 2's offset); the rest is the body.
//!
//! Checks: `TlsParser::parse` consumes at most what it is given and only
//! emits with progress; every event carries the names TLS declares and
//! renders as a JSON object; a `ja4` field, and `tls::ja4` of any lists,
//! has JA4's shape: `t`, two version characters, `d` or `i`, two two-digit
//! counts, two ALPN characters, then two 12-digit lowercase hex hashes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::Transport;
use otsensor::protocols::tls::{self, Hello, TlsParser};
use otsensor::protocols::{Direction, Emitter, StreamParser};
use otsensor_fuzz::decoding::{EventChecks, header};

/// Handshake types.
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

fn check_ja4(text: &str) {
    let bytes = text.as_bytes();
    assert_eq!(bytes.len(), 36, "JA4 {text:?}");
    let (a, hashes) = bytes.split_at(10);
    assert_eq!(a[0], b't', "JA4 {text:?}");
    assert!(a[3] == b'd' || a[3] == b'i', "JA4 {text:?}");
    assert!(a[4..8].iter().all(u8::is_ascii_digit), "JA4 {text:?}");
    assert!(
        a[8..10].iter().all(u8::is_ascii_alphanumeric),
        "JA4 {text:?}"
    );
    assert!(
        a[1..3].iter().all(u8::is_ascii_alphanumeric),
        "JA4 {text:?}"
    );
    let hex = |h: &[u8]| {
        h.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    assert!(hashes[0] == b'_' && hashes[13] == b'_', "JA4 {text:?}");
    assert!(hex(&hashes[1..13]) && hex(&hashes[14..26]), "JA4 {text:?}");
}

/// The `ja4` values anywhere in a rendered event.
fn ja4_values(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("ja4", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => ja4_values(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| ja4_values(v, out)),
        _ => {}
    }
}

fn u16s(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [control, cut, body @ ..] = data else {
        return;
    };
    let body = &body[..body.len().min(0xffff - 4)];
    let (kind, dir) = if control & 1 == 0 {
        (CLIENT_HELLO, Direction::ToServer)
    } else {
        (SERVER_HELLO, Direction::ToClient)
    };
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    record.push(kind);
    record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    record.extend_from_slice(body);
    let segments: Vec<&[u8]> = if control & 2 != 0 {
        let (a, b) = record.split_at(usize::from(*cut).min(record.len()));
        vec![a, b]
    } else {
        vec![&record]
    };

    let mut parser = TlsParser::new();
    let mut checks = EventChecks::default();
    let expected = |packet| header(packet, dir, tls::PORT, Transport::Tcp);
    let mut pending = Vec::new();
    let mut events = Vec::new();
    let mut all = Vec::new();
    for (i, segment) in segments.into_iter().enumerate() {
        let packet = i as u64 + 1;
        pending.extend_from_slice(segment);
        events.clear();
        let used = parser.parse(
            &pending,
            &mut Emitter::new(expected(packet), dir, &mut events),
        );
        assert!(used <= pending.len());
        assert!(used > 0 || events.is_empty(), "events without progress");
        checks.check(&events, packet, expected);
        pending.drain(..used);
        all.append(&mut events);
    }
    let mut renderer = otsensor::output::events::Renderer::new(vec!["fuzz".into()]);
    let mut json = Vec::new();
    let mut ja4s = Vec::new();
    for event in &all {
        json.clear();
        renderer.render(event, &mut json);
        let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        ja4_values(&value, &mut ja4s);
    }
    for ja4 in &ja4s {
        check_ja4(ja4);
    }

    // The same bytes as JA4's inputs: four lists of 16-bit values.
    let quarter = body.len() / 8 * 2;
    let (ciphers, rest) = body.split_at(quarter);
    let (extensions, rest) = rest.split_at(quarter);
    let (versions, rest) = rest.split_at(quarter);
    let (algorithms, alpn) = rest.split_at(quarter);
    let (ciphers, extensions) = (u16s(ciphers), u16s(extensions));
    let (versions, algorithms) = (u16s(versions), u16s(algorithms));
    check_ja4(&tls::ja4(&Hello {
        version: u16::from(*cut) << 8 | u16::from(*control),
        ciphers: &ciphers,
        extensions: &extensions,
        supported_versions: &versions,
        signature_algorithms: &algorithms,
        first_alpn: (!alpn.is_empty()).then_some(alpn),
    }));
});
