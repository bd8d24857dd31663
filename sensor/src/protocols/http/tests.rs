//! Unit tests: inline messages. The first exchange is the demo capture's
//! (`captures/demo-plant.pcap`, frames 15 and 19).

use super::*;
use crate::event::Event;
use crate::output::json::JsonWriter;
use crate::protocols::text::testutil::{Rng, header};

use Direction::{ToClient, ToServer};

struct Conn {
    parser: HttpParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: HttpParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet, PORT), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    /// Feeds `data` whole; returns the events it produced.
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

fn http(pdu: &Pdu) -> &HttpFields {
    match &pdu.fields {
        Fields::Http(f) => f,
        _ => panic!("no HTTP fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

const DEMO_GET: &[u8] = b"GET /index.html HTTP/1.1\r\n\
Host: 10.10.2.7\r\n\
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n\
Accept: text/html\r\n\
Connection: close\r\n\r\n";

#[test]
fn request_and_response_heads_with_the_server_identity() {
    let mut c = Conn::new();
    let p = c.one(ToServer, DEMO_GET);
    clean(&p);
    assert_eq!(
        (p.function, p.class, p.function_code),
        ("get", FunctionClass::Read, None)
    );
    let f = http(&p);
    assert_eq!(f.method.as_deref(), Some("GET"));
    assert_eq!(f.uri.as_deref(), Some("/index.html"));
    assert_eq!(f.version.as_deref(), Some("1.1"));
    assert_eq!(f.host.as_deref(), Some("10.10.2.7"));
    assert_eq!(
        f.user_agent.as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    );
    assert_eq!(f.header_count, Some(4));

    // The response head and the first body bytes arrive together; the rest follows.
    let mut response = b"HTTP/1.1 200 OK\r\n\
Server: Boa/0.94.13\r\n\
Content-Type: text/html\r\n\
Content-Length: 20\r\n\r\n"
        .to_vec();
    response.extend_from_slice(b"<html>0123456");
    let p = c.one(ToClient, &response);
    clean(&p);
    assert!(p.is_response);
    assert_eq!(
        (p.function, p.class, p.function_code),
        ("get", FunctionClass::Read, Some(200))
    );
    let f = http(&p);
    assert_eq!(f.status, Some(200));
    assert_eq!(f.reason.as_deref(), Some("OK"));
    assert_eq!(f.server.as_deref(), Some("Boa/0.94.13"));
    assert_eq!(f.content_type.as_deref(), Some("text/html"));
    assert_eq!(f.content_length, Some(20));
    assert_eq!(f.request_packet, Some(1));
    assert_eq!(f.method.as_deref(), Some("GET"));
    let id = p.identity.as_deref().unwrap();
    assert_eq!(id.product.as_deref(), Some("Boa"));
    assert_eq!(id.firmware.as_deref(), Some("0.94.13"));
    // The rest of the body, then the next response head: only one more event.
    let mut next = b"</html>".to_vec();
    next.extend_from_slice(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let p = c.one(ToClient, &next);
    assert_eq!(http(&p).status, Some(404));
    assert_eq!(anomalies(&p), [RESPONSE_WITHOUT_REQUEST]);
    assert_eq!(p.function, "response");
}

#[test]
fn server_headers_name_products() {
    let id = server_identity("Siemens SIMATIC S7-1200 Web server").unwrap();
    assert_eq!(
        id.product.as_deref(),
        Some("Siemens SIMATIC S7-1200 Web server")
    );
    assert_eq!(id.firmware, None);
    let id = server_identity("GoAhead-Webs").unwrap();
    assert_eq!(id.product.as_deref(), Some("GoAhead-Webs"));
    let id = server_identity("Apache/2.4.41 (Ubuntu)").unwrap();
    assert_eq!(
        (id.product.as_deref(), id.firmware.as_deref()),
        (Some("Apache"), Some("2.4.41"))
    );
    assert!(server_identity("  ").is_none());
}

#[test]
fn basic_credentials_are_split_into_a_user_and_a_secret() {
    let mut c = Conn::new();
    let p = c.one(
        ToServer,
        b"POST /cgi-bin/setup HTTP/1.1\r\nHost: plc\r\n\
Authorization: Basic YWRtaW46czNjcmV0\r\nContent-Length: 5\r\n\r\na=1&b",
    );
    clean(&p);
    assert_eq!((p.function, p.class), ("post", FunctionClass::Write));
    let f = http(&p);
    assert_eq!(f.authorization_scheme.as_deref(), Some("Basic"));
    assert_eq!(f.basic_auth_user.as_deref(), Some("admin"));
    assert_eq!(f.basic_auth_password.as_deref(), Some("s3cret"));
    assert_eq!(f.content_length, Some(5));
    // Not base64.
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\n\r\n",
    );
    assert_eq!(anomalies(&p), [INVALID_BASIC_CREDENTIALS]);
    // Digest: the scheme only.
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Digest username=\"a\"\r\n\r\n",
    );
    assert_eq!(http(&p).authorization_scheme.as_deref(), Some("Digest"));
    assert_eq!(http(&p).basic_auth_user, None);
}

#[test]
fn chunked_bodies_are_skipped_chunk_by_chunk() {
    let mut c = Conn::new();
    c.one(ToServer, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    c.one(ToServer, b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    let stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n\
HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"plc\"\r\nContent-Length: 0\r\n\r\n";
    // Byte by byte: whatever the segmentation, two events.
    let mut pending = Vec::new();
    for &b in stream.iter() {
        pending.push(b);
        let used = c.feed(ToClient, &pending);
        pending.drain(..used);
    }
    assert!(pending.is_empty());
    let responses: Vec<&Pdu> = c
        .events
        .iter()
        .map(|e| &e.pdu)
        .filter(|p| p.is_response)
        .collect();
    assert_eq!(responses.len(), 2);
    assert_eq!(http(responses[0]).chunked, Some(true));
    assert_eq!(http(responses[0]).request_packet, Some(1));
    assert_eq!(
        http(responses[1]).www_authenticate.as_deref(),
        Some("Basic")
    );
    assert_eq!(http(responses[1]).request_packet, Some(2));
    responses.iter().for_each(|p| clean(p));
}

#[test]
fn bodiless_responses_and_tunnels() {
    let mut c = Conn::new();
    c.one(ToServer, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    // A HEAD response announces a length but has no body.
    let p = c.one(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n");
    assert_eq!(p.function, "head");
    let p = c.one(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(anomalies(&p), [RESPONSE_WITHOUT_REQUEST]);
    // 100 Continue, then the final response to the same request.
    c.one(
        ToServer,
        b"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok",
    );
    let p = c.one(ToClient, b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(p.function, "put");
    let p = c.one(ToClient, b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!((p.function, p.class), ("put", FunctionClass::Write));
    clean(&p);
    // CONNECT 200: a tunnel in both directions; nothing more is decoded.
    c.one(
        ToServer,
        b"CONNECT plc:443 HTTP/1.1\r\nHost: plc:443\r\n\r\n",
    );
    c.one(ToClient, b"HTTP/1.1 200 Connection established\r\n\r\n");
    assert!(
        c.all(ToServer, b"\x16\x03\x01\x00\x05GET / HTTP/1.1\r\n\r\n")
            .is_empty()
    );
    assert!(c.all(ToClient, b"HTTP/1.1 200 OK\r\n\r\n").is_empty());
}

#[test]
fn a_response_without_length_runs_to_the_end() {
    let mut c = Conn::new();
    c.one(ToServer, b"GET / HTTP/1.0\r\n\r\n");
    c.one(
        ToClient,
        b"HTTP/1.0 200 OK\r\nServer: GoAhead-Webs\r\n\r\nbody",
    );
    assert!(c.all(ToClient, b"HTTP/1.0 200 OK\r\n\r\n").is_empty());
}

#[test]
fn malformed_heads_are_events_with_anomalies() {
    let mut c = Conn::new();
    let p = c.one(
        ToServer,
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nbad line\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(
        anomalies(&p),
        [
            CONTENT_LENGTH_WITH_CHUNKED,
            INVALID_HEADER_LINE,
            MISSING_HOST
        ]
    );
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x1\r\n\r\n",
    );
    assert_eq!(anomalies(&p), [INVALID_CONTENT_LENGTH]);
    let p = c.one(ToClient, b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n");
    assert!(anomalies(&p).contains(&INVALID_STATUS));
    // Garbage: one event per run, then decoding resumes at the next head.
    let p = c.one(ToServer, b"\x00\x01binary junk\n");
    assert_eq!(
        (p.function, anomalies(&p)),
        ("invalid", vec![INVALID_START_LINE])
    );
    assert_eq!(http(&p).skipped_bytes, Some(14));
    assert!(c.all(ToServer, b"more junk\x00").is_empty());
    let pdus = c.all(ToServer, b"junk\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(pdus.len(), 1);
    assert_eq!(http(&pdus[0]).uri.as_deref(), Some("/x"));
    // A bad chunk size.
    c.one(ToServer, b"GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
    c.one(
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let p = c.one(ToClient, b"zz\r\n");
    assert_eq!(anomalies(&p), [INVALID_CHUNK]);
}

#[test]
fn an_over_long_head_is_decoded_from_its_start() {
    let mut c = Conn::new();
    let mut head = b"GET /big HTTP/1.1\r\nHost: a\r\n".to_vec();
    while head.len() < MAX_HEAD + 100 {
        head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    head.extend_from_slice(b"\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    let pdus = c.all(ToServer, &head);
    assert_eq!(pdus.len(), 2);
    assert_eq!(anomalies(&pdus[0]), [HEAD_TOO_LONG]);
    assert_eq!(http(&pdus[1]).uri.as_deref(), Some("/next"));
}

#[test]
fn a_gap_resynchronises_on_the_next_head() {
    let mut c = Conn::new();
    c.one(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n",
    );
    c.parser.gap(ToServer);
    let pdus = c.all(
        ToServer,
        b"tail of a body\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(
        pdus.iter().map(|p| p.function).collect::<Vec<_>>(),
        ["invalid", "get"]
    );
}

#[test]
fn probe_accepts_request_and_status_lines() {
    assert_eq!(probe(DEMO_GET, ToServer, false), Probe::Match);
    assert_eq!(probe(b"GET /index.ht", ToServer, true), Probe::Match);
    assert_eq!(probe(b"GET /index.ht", ToServer, false), Probe::NeedMore);
    assert_eq!(probe(b"GE", ToServer, false), Probe::NeedMore);
    assert_eq!(probe(b"HTTP/1.1 200 OK\r\n", ToClient, false), Probe::Match);
    assert_eq!(probe(b"HTTP/1", ToClient, false), Probe::NeedMore);
    assert_eq!(probe(b"FOO / HTTP/1.1\r\n", ToServer, true), Probe::NoMatch);
    assert_eq!(probe(b"GET / RTSP/1.0\r\n", ToServer, true), Probe::NoMatch);
    assert_eq!(probe(b"USER anonymous\r\n", ToServer, true), Probe::NoMatch);
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
        b"SSH-2.0-OpenSSH_8.9\r\n",
        b"220 ProFTPD 1.3.5 Server\r\n",
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
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut c = Conn::new();
    let pieces: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"Content-Length: 7\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
    ];
    for _ in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        let mut data = Vec::new();
        for _ in 0..rng.below(5) {
            if rng.below(3) == 0 {
                let len = rng.below(24) as usize;
                data.extend(rng.bytes(len));
            } else {
                data.extend_from_slice(pieces[rng.below(pieces.len() as u64) as usize]);
            }
        }
        let used = c.feed(dir, &data);
        assert!(used <= data.len());
        // What is left is the start of a head or a chunk line, never more than a head.
        assert!(data.len() - used <= MAX_HEAD);
        let _ = probe(&data, dir, rng.below(2) == 0);
        if rng.below(32) == 0 {
            c.parser.gap(dir);
        }
    }
}

/// The fields as `events.jsonl` writes them (secrets redacted).
fn json(pdu: &Pdu) -> serde_json::Value {
    let mut out = Vec::new();
    let mut w = JsonWriter::object(&mut out);
    pdu.fields.visit(&mut w);
    w.finish();
    serde_json::from_slice(&out).expect("valid JSON")
}

#[test]
fn password_present_says_whether_basic_credentials_carry_a_password() {
    let mut c = Conn::new();
    // admin:s3cret
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: plc\r\nAuthorization: Basic YWRtaW46czNjcmV0\r\n\r\n",
    );
    let j = json(&p);
    assert_eq!(j["password_present"], true);
    assert_eq!(j["basic_auth_user"], "admin");
    assert_eq!(j["basic_auth_password"], "<redacted>");
    // admin: (an empty password)
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: plc\r\nAuthorization: Basic YWRtaW46\r\n\r\n",
    );
    let j = json(&p);
    assert_eq!(j["password_present"], false);
    assert_eq!(j["basic_auth_user"], "admin");
    // Not Basic, or no Authorization at all: no flag.
    let p = c.one(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: plc\r\nAuthorization: Bearer abc.def\r\n\r\n",
    );
    assert_eq!(json(&p).get("password_present"), None);
    let p = c.one(ToServer, b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n");
    assert_eq!(json(&p).get("password_present"), None);
}
