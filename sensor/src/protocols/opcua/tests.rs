//! Unit tests: inline messages, one comment per field. The short ones are
//! those of the public captures under `../shared/pcaps/opcua/` (open62541
//! client and server, a freeopcua client and server) as Wireshark decodes
//! them; longer bodies are written with a small encoder, one call per field.

use super::*;
use crate::event::{Event, Header, Transport};
use crate::protocols::{Detection, detect_stream};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

fn header(packet: u64) -> Header {
    Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(40000),
        dst_port: Some(PORT),
        transport: Transport::Tcp,
    }
}

/// One connection: a parser, the events it emitted, a packet counter.
struct Conn {
    parser: OpcuaParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: OpcuaParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents `data` as completed by the next packet; returns bytes consumed.
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    /// Presents one whole message and returns its one event.
    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "message not consumed");
        assert_eq!(self.events.len(), before + 1, "not exactly one event");
        self.events.last().expect("an event").pdu.clone()
    }

    /// Presents bytes that complete no message.
    fn none(&mut self, dir: Direction, data: &[u8]) {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "chunk not consumed");
        assert_eq!(self.events.len(), before, "unexpected event");
    }

    /// The HEL/ACK and OPN exchange of an open62541 connection (policy None).
    fn opened() -> Self {
        let mut c = Conn::new();
        c.one(ToServer, HEL);
        c.one(ToClient, ACK);
        c.one(ToServer, &opn_request());
        c.one(ToClient, &opn_response());
        c
    }
}

fn ua(pdu: &Pdu) -> &OpcuaFields {
    match &pdu.fields {
        Fields::Opcua(f) => f,
        _ => panic!("no OPC UA fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "unexpected {:?}", anomalies(pdu));
}

/// A small OPC UA Binary encoder for the longer bodies.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn new() -> Self {
        W::default()
    }
    fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    fn u8(self, v: u8) -> Self {
        self.raw(&[v])
    }
    fn u32(self, v: u32) -> Self {
        self.raw(&v.to_le_bytes())
    }
    fn i64(self, v: i64) -> Self {
        self.raw(&v.to_le_bytes())
    }
    /// A String or ByteString.
    fn s(self, v: &str) -> Self {
        self.u32(v.len() as u32).raw(v.as_bytes())
    }
    /// A null String, ByteString or array.
    fn null(self) -> Self {
        self.raw(&[0xFF; 4])
    }
    /// A four-byte NodeId in namespace 0.
    fn node(self, id: u16) -> Self {
        self.u8(0x01).u8(0).raw(&id.to_le_bytes())
    }
    /// A RequestHeader with this request handle.
    fn request_header(self, handle: u32) -> Self {
        self.raw(&[0x00, 0x00]) // authentication token: null node id
            .i64(0x01D9_D8A2_4B00_8448) // timestamp
            .u32(handle) // request handle
            .u32(0) // return diagnostics
            .null() // audit entry id
            .u32(10_000) // timeout hint
            .raw(&[0x00, 0x00, 0x00]) // additional header: null, no body
    }
    /// A ResponseHeader with this request handle and service result.
    fn response_header(self, handle: u32, result: u32) -> Self {
        self.i64(0x01D9_D8A2_4B00_8448) // timestamp
            .u32(handle) // request handle
            .u32(result) // service result
            .u8(0x00) // service diagnostics: empty
            .null() // string table
            .raw(&[0x00, 0x00, 0x00]) // additional header
    }
    /// An ApplicationDescription.
    fn application(self, uri: &str, product: &str, name: &str, kind: u32, url: &str) -> Self {
        self.s(uri) // application URI
            .s(product) // product URI
            .u8(0x02) // application name: text only
            .s(name)
            .u32(kind) // application type
            .null() // gateway server URI
            .null() // discovery profile URI
            .u32(1) // discovery URLs: one
            .s(url)
    }
    fn done(self) -> Vec<u8> {
        self.0
    }
}

/// A symmetric-secured message: header, channel id, token id, sequence
/// header, then `body`.
fn secured(
    kind: &[u8; 3],
    chunk: u8,
    channel: u32,
    token: u32,
    seq: u32,
    request: u32,
    body: &[u8],
) -> Vec<u8> {
    let size = 24 + body.len() as u32;
    W::new()
        .raw(kind)
        .u8(chunk)
        .u32(size)
        .u32(channel) // secure channel id
        .u32(token) // token id
        .u32(seq) // sequence number
        .u32(request) // request id
        .raw(body)
        .done()
}

fn msg(seq: u32, request: u32, body: &[u8]) -> Vec<u8> {
    secured(b"MSG", b'F', 1, 1, seq, request, body)
}

// open62541_read_service_null_linktype.pcap frame 5
const HEL: &[u8] = &[
    b'H', b'E', b'L', b'F', // message type, chunk type
    0x38, 0x00, 0x00, 0x00, // message size 56
    0x00, 0x00, 0x00, 0x00, // protocol version 0
    0x00, 0x00, 0x02, 0x00, // receive buffer size 131072
    0x00, 0x00, 0x02, 0x00, // send buffer size 131072
    0x00, 0x00, 0x00, 0x40, // max message size 1 GiB
    0x00, 0x80, 0x00, 0x00, // max chunk count 32768
    0x18, 0x00, 0x00, 0x00, // endpoint URL length 24
    b'o', b'p', b'c', b'.', b't', b'c', b'p', b':', b'/', b'/', b'l', b'o', b'c', b'a', b'l', b'h',
    b'o', b's', b't', b':', b'4', b'8', b'4', b'0',
];

// frame 7
const ACK: &[u8] = &[
    b'A', b'C', b'K', b'F', // message type, chunk type
    0x1C, 0x00, 0x00, 0x00, // message size 28
    0x00, 0x00, 0x00, 0x00, // protocol version 0
    0x00, 0x00, 0x02, 0x00, // receive buffer size 131072
    0x00, 0x00, 0x02, 0x00, // send buffer size 131072
    0x00, 0x00, 0x00, 0x40, // max message size
    0x00, 0x80, 0x00, 0x00, // max chunk count
];

const POLICY_NONE: &str = "http://opcfoundation.org/UA/SecurityPolicy#None";

/// Frame 9: the OpenSecureChannel request (policy None, 132 bytes).
fn opn_request() -> Vec<u8> {
    W::new()
        .raw(b"OPNF") // message type, chunk type
        .u32(132) // message size
        .u32(0) // secure channel id 0: a new channel
        .s(POLICY_NONE) // security policy URI
        .null() // sender certificate
        .null() // receiver certificate thumbprint
        .u32(1) // sequence number 1
        .u32(1) // request id 1
        .raw(&[0x01, 0x00, 0xBE, 0x01]) // type id: OpenSecureChannelRequest (446)
        .raw(&[0x00, 0x00]) // authentication token: null
        .raw(&[0x48, 0x84, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01]) // timestamp
        .u32(0) // request handle 0
        .u32(0) // return diagnostics
        .null() // audit entry id
        .u32(0) // timeout hint
        .raw(&[0x00, 0x00, 0x00]) // additional header: none
        .u32(0) // client protocol version
        .u32(0) // request type: issue
        .u32(1) // security mode: None
        .null() // client nonce
        .u32(600_000) // requested lifetime (ms)
        .done()
}

/// Frame 11: the OpenSecureChannel response (135 bytes).
fn opn_response() -> Vec<u8> {
    W::new()
        .raw(b"OPNF") // message type, chunk type
        .u32(135) // message size
        .u32(1) // secure channel id 1
        .s(POLICY_NONE) // security policy URI
        .null() // sender certificate
        .null() // receiver certificate thumbprint
        .u32(1) // sequence number 1
        .u32(1) // request id 1
        .raw(&[0x01, 0x00, 0xC1, 0x01]) // type id: OpenSecureChannelResponse (449)
        .raw(&[0xEE, 0x88, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01]) // timestamp
        .u32(0) // request handle 0
        .u32(0) // service result: Good
        .u8(0x00) // service diagnostics: empty
        .null() // string table
        .raw(&[0x00, 0x00, 0x00]) // additional header: none
        .u32(0) // server protocol version
        .u32(1) // security token: channel id 1
        .u32(1) // token id 1
        .raw(&[0xEE, 0x88, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01]) // created at
        .u32(600_000) // revised lifetime (ms)
        .null() // server nonce
        .done()
}

// frame 27: a ReadResponse
const READ_RESPONSE: &[u8] = &[
    b'M', b'S', b'G', b'F', // message type, chunk type
    0x47, 0x00, 0x00, 0x00, // message size 71
    0x01, 0x00, 0x00, 0x00, // secure channel id 1
    0x01, 0x00, 0x00, 0x00, // token id 1
    0x05, 0x00, 0x00, 0x00, // sequence number 5
    0x05, 0x00, 0x00, 0x00, // request id 5
    0x01, 0x00, 0x7A, 0x02, // type id: ReadResponse (634)
    0x1E, 0xB3, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01, // timestamp
    0x06, 0x00, 0x00, 0x00, // request handle 6
    0x00, 0x00, 0x00, 0x00, // service result: Good
    0x00, // service diagnostics: empty
    0xFF, 0xFF, 0xFF, 0xFF, // string table: null
    0x00, 0x00, 0x00, // additional header: none
    0x01, 0x00, 0x00, 0x00, // results: one DataValue
    0x05, // mask: value, source timestamp
    0x01, 0x00, // Boolean false
    0x1E, 0xB3, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01, // source timestamp
    0xFF, 0xFF, 0xFF, 0xFF, // diagnostic infos: null
];

/// A ReadRequest (service 631) with this request id and handle.
fn read_request(seq: u32, request: u32, handle: u32) -> Vec<u8> {
    let body = W::new()
        .node(631) // type id: ReadRequest
        .request_header(handle)
        .raw(&[0; 8]) // max age
        .u32(2) // timestamps to return: both
        .u32(1) // nodes to read: one
        .raw(&[0x01, 0x00, 0xD5, 0x07]) // node id i=2005
        .u32(13) // attribute: Value
        .null() // index range
        .raw(&[0x00, 0x00]) // data encoding: null qualified name
        .null()
        .done();
    msg(seq, request, &body)
}

// ---------------------------------------------------------------- connection messages

#[test]
fn hello_and_acknowledge() {
    let mut c = Conn::new();
    let hel = c.one(ToServer, HEL);
    clean(&hel);
    assert_eq!(hel.protocol, Protocol::Opcua);
    assert!(!hel.is_response);
    assert_eq!((hel.function, hel.class), ("hello", FunctionClass::Session));
    assert_eq!(hel.function_code, None);
    let f = ua(&hel);
    assert_eq!(f.message_type, Some(MessageType::Hello));
    assert_eq!(f.chunk_type, b'F');
    assert_eq!(f.message_size, 56);
    assert_eq!(f.protocol_version, Some(0));
    assert_eq!(f.receive_buffer_size, Some(131_072));
    assert_eq!(f.max_message_size, Some(0x4000_0000));
    assert_eq!(f.max_chunk_count, Some(32_768));
    assert_eq!(f.endpoint_url.as_deref(), Some("opc.tcp://localhost:4840"));

    let ack = c.one(ToClient, ACK);
    clean(&ack);
    assert!(ack.is_response);
    assert_eq!(ack.function, "acknowledge");
    assert_eq!(ua(&ack).send_buffer_size, Some(131_072));
    assert_eq!(ua(&ack).endpoint_url, None);
}

#[test]
fn error_message_names_its_status_code() {
    let mut c = Conn::new();
    c.one(ToServer, HEL);
    let err = c.one(
        ToClient,
        &[
            b'E', b'R', b'R', b'F', // message type, chunk type
            0x1A, 0x00, 0x00, 0x00, // message size 26
            0x00, 0x00, 0x83, 0x80, // error: BadTcpEndpointUrlInvalid
            0x0A, 0x00, 0x00, 0x00, // reason length 10
            b'n', b'o', b' ', b's', b'u', b'c', b'h', b' ', b'e', b'p', // reason
        ],
    );
    clean(&err);
    assert!(err.is_response);
    assert_eq!((err.function, err.class), ("error", FunctionClass::Session));
    let f = ua(&err);
    assert_eq!(f.error_code, Some(0x8083_0000));
    assert_eq!(
        names::status_name(0x8083_0000),
        Some("BadTcpEndpointUrlInvalid")
    );
    assert_eq!(f.reason.as_deref(), Some("no such ep"));
}

#[test]
fn reverse_hello_turns_the_roles_around() {
    let mut c = Conn::new();
    // The server opened the TCP connection: its bytes travel "to server".
    let rhe = c.one(
        ToServer,
        &W::new()
            .raw(b"RHEF") // message type, chunk type
            .u32(8 + 4 + 9 + 4 + 21) // message size
            .s("urn:plc:1") // server URI
            .s("opc.tcp://plc-1:4840/") // endpoint URL
            .done(),
    );
    clean(&rhe);
    assert!(rhe.is_response, "sent by the OPC UA server");
    assert_eq!(rhe.function, "reverse_hello");
    assert_eq!(ua(&rhe).server_uri.as_deref(), Some("urn:plc:1"));
    assert_eq!(
        ua(&rhe).endpoint_url.as_deref(),
        Some("opc.tcp://plc-1:4840/")
    );
    // The client answers with a HEL the other way.
    let hel = c.one(ToClient, HEL);
    assert!(!hel.is_response);
    // A request from the client travels "to client" on this connection.
    c.one(ToClient, &opn_request());
    let resp = c.one(ToServer, &opn_response());
    clean(&resp);
    assert!(resp.is_response);
    assert_eq!(ua(&resp).request_packet, Some(3));
}

#[test]
fn truncated_and_padded_connection_messages() {
    let mut c = Conn::new();
    let short = c.one(
        ToServer,
        &[
            b'H', b'E', b'L', b'F', // message type, chunk type
            0x14, 0x00, 0x00, 0x00, // message size 20: too small for a HEL
            0x00, 0x00, 0x00, 0x00, // protocol version
            0x00, 0x00, 0x02, 0x00, // receive buffer size
            0x00, 0x00, 0x02, 0x00, // send buffer size, then nothing
        ],
    );
    assert_eq!(anomalies(&short), [TRUNCATED_MESSAGE]);
    assert_eq!(ua(&short).receive_buffer_size, None, "sizes come together");
    let long = c.one(
        ToClient,
        &[
            b'A', b'C', b'K', b'C', // message type, chunk type C: not allowed
            0x1D, 0x00, 0x00, 0x00, // message size 29
            0x00, 0x00, 0x00, 0x00, // protocol version
            0x00, 0x00, 0x01, 0x00, // receive buffer size
            0x00, 0x00, 0x01, 0x00, // send buffer size
            0x00, 0x00, 0x00, 0x00, // max message size
            0x00, 0x00, 0x00, 0x00, // max chunk count
            0x99, // one byte too many
        ],
    );
    assert_eq!(anomalies(&long), [UNEXPECTED_CHUNK_TYPE, TRAILING_BYTES]);
    assert_eq!(ua(&long).receive_buffer_size, Some(65_536));
}

// ---------------------------------------------------------------- secure channel

#[test]
fn open_secure_channel_with_policy_none() {
    let mut c = Conn::new();
    c.one(ToServer, HEL);
    c.one(ToClient, ACK);
    let req = c.one(ToServer, &opn_request());
    clean(&req);
    assert!(!req.is_response);
    assert_eq!(req.function_code, Some(446));
    assert_eq!(
        (req.function, req.class),
        ("open_secure_channel", FunctionClass::Session)
    );
    let f = ua(&req);
    assert_eq!(f.secure_channel_id, Some(0));
    assert_eq!(
        f.security_policy_uri.as_deref(),
        Some("http://opcfoundation.org/UA/SecurityPolicy#None")
    );
    assert_eq!(f.security_policy.as_deref(), Some("None"));
    assert_eq!(f.sender_certificate_length, None, "null");
    assert_eq!(f.encrypted, Some(false));
    assert_eq!((f.sequence_number, f.request_id), (Some(1), Some(1)));
    assert_eq!(f.service, Some("OpenSecureChannelRequest"));
    assert_eq!(f.request_type, Some(0));
    assert_eq!(f.security_mode, Some(mode::NONE));
    assert_eq!(f.requested_lifetime, Some(600_000));
    assert_eq!(f.request_handle, Some(0));

    let resp = c.one(ToClient, &opn_response());
    clean(&resp);
    assert!(resp.is_response);
    assert_eq!(resp.function_code, Some(449));
    let f = ua(&resp);
    assert_eq!(f.secure_channel_id, Some(1));
    assert_eq!(f.status, Some(0));
    assert_eq!((f.channel_id, f.token_id), (Some(1), Some(1)));
    assert_eq!(f.revised_lifetime, Some(600_000));
    assert_eq!(f.request_packet, Some(3));
    assert_eq!(c.parser.channel, Some(1));
}

#[test]
fn read_request_and_response() {
    let mut c = Conn::opened();
    let req = c.one(ToServer, &read_request(5, 5, 6));
    clean(&req);
    assert_eq!((req.function, req.class), ("read", FunctionClass::Read));
    assert_eq!(req.function_code, Some(631));
    let f = ua(&req);
    assert_eq!(f.message_type, Some(MessageType::Message));
    assert_eq!(f.service, Some("ReadRequest"));
    assert_eq!(f.request_handle, Some(6));
    assert_eq!(
        (f.secure_channel_id, f.security_token_id),
        (Some(1), Some(1))
    );
    assert_eq!(f.security_mode, Some(mode::NONE));
    assert_eq!(f.security_policy.as_deref(), Some("None"));
    assert_eq!(f.encrypted, Some(false));

    let resp = c.one(ToClient, READ_RESPONSE);
    clean(&resp);
    assert!(resp.is_response);
    assert_eq!((resp.function, resp.function_code), ("read", Some(634)));
    let f = ua(&resp);
    assert_eq!(f.service, Some("ReadResponse"));
    assert_eq!((f.request_handle, f.status), (Some(6), Some(0)));
    assert_eq!(f.request_packet, Some(5));
}

#[test]
fn service_classes() {
    let cases: &[(u16, &str, FunctionClass)] = &[
        (673, "write", FunctionClass::Write),
        (712, "call", FunctionClass::Control),
        (527, "browse", FunctionClass::Read),
        (826, "publish", FunctionClass::Read),
        (787, "create_subscription", FunctionClass::Read),
        (488, "add_nodes", FunctionClass::Write),
        (700, "history_update", FunctionClass::Write),
        (422, "find_servers", FunctionClass::Discovery),
        (437, "register_server", FunctionClass::Discovery),
        (473, "close_session", FunctionClass::Session),
    ];
    let mut c = Conn::opened();
    for (i, &(id, function, class)) in cases.iter().enumerate() {
        let seq = 10 + i as u32;
        let body = W::new().node(id).request_header(seq).done();
        let pdu = c.one(ToServer, &msg(seq, seq, &body));
        assert_eq!((pdu.function, pdu.class), (function, class), "service {id}");
        assert_eq!(pdu.function_code, Some(id.into()));
    }
}

#[test]
fn get_endpoints_gives_the_server_identity_and_offers() {
    let mut c = Conn::opened();
    let req = c.one(
        ToServer,
        &msg(
            2,
            2,
            &W::new()
                .node(428) // type id: GetEndpointsRequest
                .request_header(1)
                .s("opc.tcp://plc:4840") // endpoint URL
                .null() // locale ids
                .null() // profile URIs
                .done(),
        ),
    );
    clean(&req);
    assert_eq!(
        (req.function, req.class),
        ("get_endpoints", FunctionClass::Discovery)
    );
    assert_eq!(ua(&req).endpoint_url.as_deref(), Some("opc.tcp://plc:4840"));
    assert_eq!(req.identity, None);

    let endpoint = |w: W, mode: u32, policy: &str| {
        w.s("opc.tcp://plc:4840") // endpoint URL
            .application(
                "urn:plc:server",
                "http://www.example-automation.com/ua-server",
                "Line 3 PLC",
                0,
                "opc.tcp://plc-line3:4840",
            )
            .null() // server certificate
            .u32(mode) // security mode
            .s(policy) // security policy URI
            .u32(2) // user identity tokens: two
            .s("anon") // policy id
            .u32(0) // token type: Anonymous
            .null() // issued token type
            .null() // issuer endpoint URL
            .null() // security policy URI
            .s("user") // policy id
            .u32(1) // token type: UserName
            .null()
            .null()
            .s("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256")
            .s("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary")
            .u8(if mode == 1 { 0 } else { 3 }) // security level
    };
    let body = W::new().node(431).response_header(1, 0).u32(2); // endpoints: two
    let body = endpoint(body, 1, "http://opcfoundation.org/UA/SecurityPolicy#None");
    let body = endpoint(
        body,
        3,
        "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
    );
    let resp = c.one(ToClient, &msg(2, 2, &body.done()));
    clean(&resp);
    let f = ua(&resp);
    assert_eq!(f.endpoints.len(), 2);
    let e = &f.endpoints[1];
    assert_eq!(e.security_mode, mode::SIGN_AND_ENCRYPT);
    assert_eq!(
        e.security_policy_uri.as_deref(),
        Some("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256")
    );
    assert_eq!(e.security_level, 3);
    assert_eq!(e.user_tokens.len(), 2);
    assert_eq!(e.user_tokens[1].token_type, 1);
    let app = f.application.as_deref().expect("server description");
    assert_eq!(app.application_uri.as_deref(), Some("urn:plc:server"));
    let identity = resp.identity.expect("the server describes itself");
    assert_eq!(identity.vendor.as_deref(), Some("example-automation.com"));
    assert_eq!(
        identity.product.as_deref(),
        Some("http://www.example-automation.com/ua-server")
    );
    assert_eq!(identity.station_name.as_deref(), Some("Line 3 PLC"));
    assert_eq!(identity.hostname.as_deref(), Some("plc-line3"));
    assert_eq!(identity.device_type.as_deref(), Some("OPC UA Server"));
}

#[test]
fn create_session_request_describes_the_client() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(461) // type id: CreateSessionRequest
        .request_header(3)
        .application(
            "urn:hmi-7:UnifiedAutomation:UaExpert",
            "urn:UnifiedAutomation:UaExpert",
            "UaExpert",
            1,
            "",
        )
        .null() // server URI
        .s("opc.tcp://plc:4840") // endpoint URL
        .s("session 1") // session name
        .null() // client nonce
        .null() // client certificate
        .raw(&[0; 8]) // requested session timeout
        .u32(0) // max response message size
        .done();
    let pdu = c.one(ToServer, &msg(3, 3, &body));
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("create_session", FunctionClass::Session)
    );
    let f = ua(&pdu);
    assert_eq!(f.endpoint_url.as_deref(), Some("opc.tcp://plc:4840"));
    assert_eq!(f.session_name.as_deref(), Some("session 1"));
    let identity = pdu.identity.expect("the client describes itself");
    assert_eq!(identity.vendor.as_deref(), Some("UnifiedAutomation"));
    assert_eq!(identity.station_name.as_deref(), Some("UaExpert"));
    assert_eq!(identity.device_type.as_deref(), Some("OPC UA Client"));
}

/// open62541_read_service_null_linktype.pcap frame 21: ActivateSession
/// with a user name token whose password travels in clear.
#[test]
fn activate_session_user_name_token() {
    let mut c = Conn::opened();
    let body: &[u8] = &[
        0x01, 0x00, 0xD3, 0x01, // type id: ActivateSessionRequest (467)
        0x04, 0x01, 0x00, // authentication token: GUID, ns 1
        0xA6, 0x52, 0xA8, 0xF9, 0x97, 0xE4, 0xA4, 0xD4, 0x16, 0xF1, 0x1F, 0xD1, 0xFB, 0xEF, 0x7E,
        0xD7, // GUID
        0x30, 0xA6, 0x00, 0x4B, 0xA2, 0xD9, 0xD8, 0x01, // timestamp
        0x05, 0x00, 0x00, 0x00, // request handle 5
        0x00, 0x00, 0x00, 0x00, // return diagnostics
        0xFF, 0xFF, 0xFF, 0xFF, // audit entry id: null
        0xC0, 0x27, 0x09, 0x00, // timeout hint
        0x00, 0x00, 0x00, // additional header: none
        0xFF, 0xFF, 0xFF, 0xFF, // client signature: algorithm null
        0xFF, 0xFF, 0xFF, 0xFF, // signature null
        0xFF, 0xFF, 0xFF, 0xFF, // client software certificates: null
        0xFF, 0xFF, 0xFF, 0xFF, // locale ids: null
        0x01, 0x00, 0x44, 0x01, // user identity token: UserNameIdentityToken (324)
        0x01, // binary body
        0x36, 0x00, 0x00, 0x00, // body length 54
        0x19, 0x00, 0x00, 0x00, // policy id length 25
        b'o', b'p', b'e', b'n', b'6', b'2', b'5', b'4', b'1', b'-', b'u', b's', b'e', b'r', b'n',
        b'a', b'm', b'e', b'-', b'p', b'o', b'l', b'i', b'c', b'y', // policy id
        0x05, 0x00, 0x00, 0x00, b'u', b's', b'e', b'r', b'1', // user name
        0x08, 0x00, 0x00, 0x00, b'p', b'a', b's', b's', b'w', b'o', b'r', b'd', // password
        0xFF, 0xFF, 0xFF, 0xFF, // encryption algorithm: null (not encrypted)
        0xFF, 0xFF, 0xFF, 0xFF, // user token signature: algorithm null
        0xFF, 0xFF, 0xFF, 0xFF, // signature null
    ];
    let pdu = c.one(ToServer, &msg(4, 4, body));
    clean(&pdu);
    assert_eq!(pdu.function, "activate_session");
    let f = ua(&pdu);
    assert_eq!(f.request_handle, Some(5));
    assert_eq!(f.identity_token, Some("UserNameIdentityToken"));
    assert_eq!(f.user_name.as_deref(), Some("user1"));
    assert_eq!(f.password_present, Some(true));
    assert_eq!(f.password_encrypted, Some(false));
    let mut written = Recorder::default();
    f.visit(&mut written);
    assert!(
        !written.0.iter().any(|(_, v)| v.contains("password\"")),
        "the password is never written: {:?}",
        written.0
    );
}

#[test]
fn activate_session_other_tokens() {
    let mut c = Conn::opened();
    let activate = |token: u16, token_body: &[u8]| {
        W::new()
            .node(467) // type id: ActivateSessionRequest
            .request_header(5)
            .null() // client signature algorithm
            .null() // signature
            .null() // software certificates
            .null() // locale ids
            .node(token) // user identity token type
            .u8(0x01) // binary body
            .u32(token_body.len() as u32)
            .raw(token_body)
            .null()
            .null()
            .done()
    };
    let anonymous = c.one(
        ToServer,
        &msg(4, 4, &activate(321, &W::new().s("anon").done())),
    );
    clean(&anonymous);
    assert_eq!(
        ua(&anonymous).identity_token,
        Some("AnonymousIdentityToken")
    );
    assert_eq!(ua(&anonymous).user_name, None);
    let encrypted = W::new()
        .s("user") // policy id
        .s("operator") // user name
        .s("\u{1}\u{2}\u{3}") // password (encrypted)
        .s("http://www.w3.org/2001/04/xmlenc#rsa-oaep") // encryption algorithm
        .done();
    let user = c.one(ToServer, &msg(5, 5, &activate(324, &encrypted)));
    assert_eq!(ua(&user).user_name.as_deref(), Some("operator"));
    assert_eq!(ua(&user).password_encrypted, Some(true));
    let x509 = c.one(
        ToServer,
        &msg(6, 6, &activate(327, &W::new().s("cert").s("DER").done())),
    );
    assert_eq!(ua(&x509).identity_token, Some("X509IdentityToken"));
    let odd = c.one(ToServer, &msg(7, 7, &activate(9999, &[])));
    assert_eq!(anomalies(&odd), [UNKNOWN_IDENTITY_TOKEN]);
    assert_eq!(ua(&odd).identity_token, None);
}

#[test]
fn find_servers_lists_servers_without_identity() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(425) // type id: FindServersResponse
        .response_header(9, 0)
        .u32(2) // servers: two
        .application("urn:a", "urn:vendor-a:server", "A", 0, "opc.tcp://a:4840")
        .application(
            "urn:lds",
            "urn:vendor-b:lds",
            "LDS",
            3,
            "opc.tcp://lds:4840",
        )
        .done();
    let pdu = c.one(ToClient, &msg(9, 9, &body));
    assert_eq!(anomalies(&pdu), [RESPONSE_WITHOUT_REQUEST]);
    assert_eq!(
        (pdu.function, pdu.class),
        ("find_servers", FunctionClass::Discovery)
    );
    let f = ua(&pdu);
    assert_eq!(f.servers.len(), 2);
    assert_eq!(f.servers[1].application_type, Some(3));
    assert_eq!(pdu.identity, None, "the servers listed are not the sender");
}

#[test]
fn register_server_describes_the_sender() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(437) // type id: RegisterServerRequest
        .request_header(1)
        .s("urn:gw:server") // server URI
        .s("https://vendor.example/gateway") // product URI
        .u32(1) // server names: one
        .u8(0x02)
        .s("Gateway 1")
        .u32(0) // server type: Server
        .null() // gateway server URI
        .u32(1) // discovery URLs
        .s("opc.tcp://10.0.0.5:4840")
        .null() // semaphore file path
        .u8(1) // is online
        .done();
    let pdu = c.one(ToServer, &msg(2, 2, &body));
    clean(&pdu);
    let identity = pdu.identity.expect("a registering server describes itself");
    assert_eq!(identity.vendor.as_deref(), Some("vendor.example"));
    assert_eq!(identity.station_name.as_deref(), Some("Gateway 1"));
    assert_eq!(identity.hostname, None, "an address is no host name");
}

#[test]
fn service_fault_takes_its_request_class() {
    let mut c = Conn::opened();
    let write = W::new().node(673).request_header(7).u32(0).done();
    c.one(ToServer, &msg(7, 7, &write));
    let fault = c.one(
        ToClient,
        &msg(
            7,
            7,
            &W::new().node(397).response_header(7, 0x801F_0000).done(),
        ),
    );
    clean(&fault);
    assert!(fault.is_response);
    assert_eq!(
        (fault.function, fault.class),
        ("service_fault", FunctionClass::Write)
    );
    let f = ua(&fault);
    assert_eq!(f.status, Some(0x801F_0000));
    assert_eq!(f.request_service, Some("WriteRequest"));
    assert_eq!(f.request_packet, Some(5));
}

#[test]
fn pairing_anomalies() {
    let mut c = Conn::opened();
    c.one(ToServer, &read_request(5, 5, 5));
    let wrong = c.one(
        ToClient,
        &msg(5, 5, &W::new().node(676).response_header(5, 0).done()),
    );
    assert_eq!(anomalies(&wrong), [SERVICE_MISMATCH]);
    let orphan = c.one(ToClient, READ_RESPONSE);
    assert_eq!(anomalies(&orphan), [RESPONSE_WITHOUT_REQUEST]);
    let backwards = c.one(ToClient, &read_request(6, 6, 6));
    assert_eq!(anomalies(&backwards), [UNEXPECTED_DIRECTION]);
}

#[test]
fn unknown_and_odd_type_ids() {
    let mut c = Conn::opened();
    let unknown = c.one(ToServer, &msg(5, 5, &W::new().node(4242).done()));
    assert_eq!(anomalies(&unknown), [UNKNOWN_SERVICE]);
    assert_eq!(
        (unknown.function, unknown.class),
        ("unknown", FunctionClass::Other)
    );
    assert_eq!(unknown.function_code, Some(4242));
    let string_id = c.one(
        ToServer,
        &msg(6, 6, &W::new().u8(0x03).raw(&[1, 0]).s("x").done()),
    );
    assert_eq!(anomalies(&string_id), [NON_NUMERIC_SERVICE_ID]);
    assert_eq!(string_id.function_code, None);
    let other_namespace = c.one(
        ToServer,
        &msg(
            7,
            7,
            &W::new().u8(0x01).u8(2).raw(&631u16.to_le_bytes()).done(),
        ),
    );
    assert_eq!(other_namespace.function_code, Some(631));
    assert_eq!(ua(&other_namespace).service_namespace, Some(2));
    assert_eq!(ua(&other_namespace).service, None);
    let truncated = c.one(
        ToServer,
        &msg(8, 8, &W::new().node(631).raw(&[0x00]).done()),
    );
    assert_eq!(anomalies(&truncated), [TRUNCATED_BODY]);
    assert_eq!(truncated.function, "read", "the type id was read");
    let invalid = c.one(
        ToServer,
        &msg(
            9,
            9,
            &W::new()
                .node(428)
                .request_header(1)
                .raw(&[0xFE, 0xFF, 0xFF, 0xFF]) // endpoint URL length -2
                .done(),
        ),
    );
    assert_eq!(anomalies(&invalid), [INVALID_ENCODING]);
}

// ---------------------------------------------------------------- chunks

/// A GetEndpoints request split in three chunks, the endpoint URL across
/// the chunk boundaries.
#[test]
fn chunked_message_is_one_event_on_its_final_chunk() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(428)
        .request_header(1)
        .s("opc.tcp://a-rather-long-host-name:4840/path")
        .null()
        .null()
        .done();
    let (a, rest) = body.split_at(40);
    let (b, last) = rest.split_at(20);
    c.none(ToServer, &secured(b"MSG", b'C', 1, 1, 2, 2, a));
    c.none(ToServer, &secured(b"MSG", b'C', 1, 1, 3, 2, b));
    let pdu = c.one(ToServer, &secured(b"MSG", b'F', 1, 1, 4, 2, last));
    clean(&pdu);
    assert_eq!(pdu.function, "get_endpoints");
    let f = ua(&pdu);
    assert_eq!(f.chunks, Some(3));
    assert_eq!(f.chunk_type, b'F');
    assert_eq!(f.message_size, (24 * 3 + body.len()) as u64);
    assert_eq!(f.sequence_number, Some(4), "of the final chunk");
    assert_eq!(
        f.endpoint_url.as_deref(),
        Some("opc.tcp://a-rather-long-host-name:4840/path")
    );
    assert_eq!(c.events.last().unwrap().header.packet, c.packet);
}

#[test]
fn aborted_message_is_one_abort_event() {
    let mut c = Conn::opened();
    c.one(ToServer, &read_request(5, 5, 5));
    let head = W::new().node(634).response_header(5, 0).done();
    c.none(ToClient, &secured(b"MSG", b'C', 1, 1, 5, 5, &head));
    let abort = W::new()
        .u32(0x80B9_0000) // error: BadResponseTooLarge
        .s("too large") // reason
        .done();
    let pdu = c.one(ToClient, &secured(b"MSG", b'A', 1, 1, 6, 5, &abort));
    clean(&pdu);
    assert!(pdu.is_response);
    assert_eq!((pdu.function, pdu.class), ("abort", FunctionClass::Other));
    assert_eq!(pdu.function_code, None);
    let f = ua(&pdu);
    assert_eq!(f.chunk_type, b'A');
    assert_eq!(f.chunks, Some(2));
    assert_eq!(f.error_code, Some(0x80B9_0000));
    assert_eq!(f.reason.as_deref(), Some("too large"));
    assert!(c.parser.pending.is_empty(), "the request was answered");
}

#[test]
fn a_new_message_ends_an_unfinished_one() {
    let mut c = Conn::opened();
    let head = W::new().node(631).request_header(1).done();
    c.none(ToServer, &secured(b"MSG", b'C', 1, 1, 2, 2, &head));
    let before = c.events.len();
    c.feed(ToServer, &read_request(3, 3, 3));
    let events: Vec<&Pdu> = c.events[before..].iter().map(|e| &e.pdu).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(anomalies(events[0]), [INCOMPLETE_MESSAGE]);
    assert_eq!(
        events[0].function, "read",
        "what was reassembled is decoded"
    );
    assert_eq!(ua(events[0]).chunk_type, b'C');
    clean(events[1]);
}

#[test]
fn negotiated_limits_are_checked() {
    let mut c = Conn::new();
    c.one(ToServer, HEL);
    c.one(
        ToClient,
        &W::new()
            .raw(b"ACKF")
            .u32(28)
            .u32(0) // protocol version
            .u32(8192) // receive buffer size
            .u32(8192) // send buffer size
            .u32(10_000) // max message size
            .u32(2) // max chunk count
            .done(),
    );
    c.one(ToServer, &opn_request());
    c.one(ToClient, &opn_response());
    let big = W::new().node(631).request_header(1).raw(&[0; 9000]).done();
    let pdu = c.one(ToServer, &msg(2, 2, &big));
    assert_eq!(anomalies(&pdu), [CHUNK_EXCEEDS_BUFFER_SIZE]);
    // Three chunks of 3524 bytes: within the buffers, beyond 2 chunks and 10000 bytes.
    let read = W::new()
        .node(631)
        .request_header(1)
        .raw(&[0; 3500 - 31])
        .done();
    c.none(ToServer, &secured(b"MSG", b'C', 1, 1, 3, 3, &read));
    c.none(ToServer, &secured(b"MSG", b'C', 1, 1, 4, 3, &[0; 3500]));
    let pdu = c.one(ToServer, &secured(b"MSG", b'F', 1, 1, 5, 3, &[0; 3500]));
    assert!(
        pdu.anomalies.contains(TOO_MANY_CHUNKS),
        "{:?}",
        anomalies(&pdu)
    );
    assert!(pdu.anomalies.contains(MESSAGE_EXCEEDS_MAX_SIZE));
}

#[test]
fn oversized_chunk_is_consumed_as_it_comes() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(673) // WriteRequest
        .request_header(9)
        .raw(&vec![0x55; 100_000])
        .done();
    let message = msg(2, 2, &body);
    let mut fed = 0;
    let mut pending: Vec<u8> = Vec::new();
    for piece in message.chunks(1460) {
        pending.extend_from_slice(piece);
        let used = c.feed(ToServer, &pending);
        fed += used;
        pending.drain(..used);
        assert!(pending.len() <= KEEP + 1460, "never held whole");
    }
    assert_eq!(fed, message.len());
    let pdu = &c.events.last().unwrap().pdu;
    assert_eq!(pdu.function, "write");
    assert_eq!(anomalies(pdu), [OVERSIZED_CHUNK]);
    let f = ua(pdu);
    assert_eq!(f.message_size, message.len() as u64);
    assert_eq!(f.request_handle, Some(9));
    assert_eq!(c.events.last().unwrap().header.packet, c.packet);
}

#[test]
fn messages_split_anywhere_decode_the_same() {
    let mut stream = Vec::new();
    stream.extend_from_slice(HEL);
    stream.extend(opn_request());
    stream.extend(read_request(2, 2, 2));
    let mut whole = Conn::new();
    whole.feed(ToServer, &stream);
    for step in [1, 3, 7, 50] {
        let mut c = Conn::new();
        let mut pending: Vec<u8> = Vec::new();
        for piece in stream.chunks(step) {
            pending.extend_from_slice(piece);
            let used = c.feed(ToServer, &pending);
            pending.drain(..used);
        }
        assert!(pending.is_empty());
        let got: Vec<&Pdu> = c.events.iter().map(|e| &e.pdu).collect();
        let want: Vec<&Pdu> = whole.events.iter().map(|e| &e.pdu).collect();
        assert_eq!(got, want, "step {step}");
    }
    assert_eq!(whole.events.len(), 3);
}

// ---------------------------------------------------------------- security

/// python_opcua_client_server_encrypted.pcapng: a Basic256Sha256 OPN,
/// asymmetrically encrypted.
fn secured_opn(channel: u32) -> Vec<u8> {
    let mut m = W::new()
        .raw(b"OPNF")
        .u32(0) // message size, set below
        .u32(channel) // secure channel id
        .s("http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256") // policy
        .s(&"C".repeat(846)) // sender certificate
        .s(&"T".repeat(20)) // receiver thumbprint
        .raw(&[0xA7; 512]) // encrypted sequence header, body, padding, signature
        .done();
    let size = m.len() as u32;
    m[4..8].copy_from_slice(&size.to_le_bytes());
    m
}

#[test]
fn encrypted_channel_reports_encryption_and_stops() {
    let mut c = Conn::new();
    c.one(ToServer, HEL);
    c.one(ToClient, ACK);
    let req = c.one(ToServer, &secured_opn(0));
    clean(&req);
    assert_eq!(req.function, "open_secure_channel");
    assert_eq!(req.function_code, None);
    let f = ua(&req);
    assert_eq!(f.encrypted, Some(true));
    assert_eq!(f.security_policy.as_deref(), Some("Basic256Sha256"));
    assert_eq!(f.sender_certificate_length, Some(846));
    assert_eq!(f.receiver_thumbprint_length, Some(20));
    assert_eq!((f.sequence_number, f.service_id), (None, None));
    let resp = c.one(ToClient, &secured_opn(7));
    assert!(resp.is_response);
    assert_eq!(c.parser.channel, Some(7));
    // SignAndEncrypt: the sequence header and body are ciphertext.
    let pdu = c.one(
        ToServer,
        &secured(b"MSG", b'F', 7, 1, 0x9C3F_12AB, 0x55AA_0F0F, &[0x3C; 96]),
    );
    clean(&pdu);
    assert_eq!(
        (pdu.function, pdu.class),
        ("encrypted_message", FunctionClass::Other)
    );
    assert_eq!(pdu.function_code, None);
    assert!(!pdu.is_response);
    let f = ua(&pdu);
    assert_eq!(f.encrypted, Some(true));
    assert_eq!(f.security_mode, Some(mode::SIGN_AND_ENCRYPT));
    assert_eq!((f.sequence_number, f.request_id), (None, None));
    // Encrypted chunks still reassemble into one event.
    c.none(ToClient, &secured(b"MSG", b'C', 7, 1, 1, 1, &[0x11; 64]));
    let resp = c.one(ToClient, &secured(b"MSG", b'F', 7, 1, 2, 2, &[0x22; 64]));
    assert!(resp.is_response);
    assert_eq!(ua(&resp).chunks, Some(2));
    assert_eq!(ua(&resp).encrypted, Some(true));
}

#[test]
fn signed_channel_is_read_without_its_signatures() {
    let mut c = Conn::new();
    c.one(ToServer, HEL);
    c.one(ToClient, ACK);
    c.one(ToServer, &secured_opn(0));
    c.one(ToClient, &secured_opn(7));
    // Sign mode: every chunk ends with a 32-byte HMAC-SHA256 signature.
    let body = W::new()
        .node(461)
        .request_header(2)
        .application("urn:c", "urn:vendor:client", "Client", 1, "")
        .null()
        .s("opc.tcp://localhost:4840/freeopcua/server/") // endpoint URL
        .s("Session1")
        .null() // client nonce
        .null() // client certificate
        .raw(&[0; 8]) // requested session timeout
        .u32(0) // max response message size
        .done();
    let (a, b) = body.split_at(60);
    let signature = [0xEE; 32];
    let chunk_a = [a, &signature].concat();
    let chunk_b = [b, &signature].concat();
    c.none(ToServer, &secured(b"MSG", b'C', 7, 1, 2, 2, &chunk_a));
    let pdu = c.one(ToServer, &secured(b"MSG", b'F', 7, 1, 3, 2, &chunk_b));
    clean(&pdu);
    assert_eq!(pdu.function, "create_session");
    let f = ua(&pdu);
    assert_eq!(f.encrypted, Some(false));
    assert_eq!(f.security_mode, Some(mode::SIGN));
    assert_eq!(
        f.endpoint_url.as_deref(),
        Some("opc.tcp://localhost:4840/freeopcua/server/")
    );
    assert_eq!(f.session_name.as_deref(), Some("Session1"));
}

// ---------------------------------------------------------------- garbage and gaps

#[test]
fn garbage_is_reported_and_skipped() {
    let mut c = Conn::opened();
    let mut data = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    data.extend(read_request(5, 5, 5));
    let before = c.events.len();
    assert_eq!(c.feed(ToServer, &data), data.len());
    let events: Vec<&Pdu> = c.events[before..].iter().map(|e| &e.pdu).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].function, "invalid");
    assert_eq!(events[0].function_code, None);
    assert_eq!(anomalies(events[0]), [INVALID_HEADER, UNKNOWN_MESSAGE_TYPE]);
    assert_eq!(ua(events[0]).skipped_bytes, Some(18));
    assert_eq!(events[1].function, "read");

    let bad_size = c.one(
        ToServer,
        &[
            b'M', b'S', b'G', b'F', // message type, chunk type
            0x04, 0x00, 0x00, 0x00, // message size 4: below the header
        ],
    );
    assert_eq!(anomalies(&bad_size), [INVALID_HEADER, INVALID_MESSAGE_SIZE]);
    let bad_chunk = c.one(ToServer, b"MSGX\x18\x00\x00\x00");
    assert_eq!(anomalies(&bad_chunk), [INVALID_HEADER, INVALID_CHUNK_TYPE]);
}

#[test]
fn a_possible_header_at_the_end_is_kept() {
    let mut c = Conn::opened();
    let mut data = vec![0x00; 10];
    data.extend_from_slice(b"MS");
    assert_eq!(c.feed(ToServer, &data), 10, "the tail may start a message");
    let invalid = &c.events.last().unwrap().pdu;
    assert_eq!(ua(invalid).skipped_bytes, Some(10));
}

#[test]
fn gap_forgets_the_partial_message_and_resynchronises() {
    let mut c = Conn::opened();
    let head = W::new().node(634).response_header(1, 0).done();
    c.none(ToClient, &secured(b"MSG", b'C', 1, 1, 2, 2, &head));
    c.parser.gap(ToClient);
    // The rest of a lost message, then the next one.
    let mut data = vec![0x42; 300];
    data.extend_from_slice(b"MSGF\x10\x00"); // a header-like run in the tail
    data.extend_from_slice(&[0x42; 20]);
    data.extend_from_slice(READ_RESPONSE);
    let before = c.events.len();
    assert_eq!(c.feed(ToClient, &data), data.len());
    let events: Vec<&Pdu> = c.events[before..].iter().map(|e| &e.pdu).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].function, "invalid");
    assert_eq!(anomalies(events[0]), [SKIPPED_AFTER_GAP]);
    assert_eq!(ua(events[0]).skipped_bytes, Some(326));
    assert_eq!(events[1].function, "read");
    assert!(
        events[1].anomalies.is_empty(),
        "after a gap, an unpaired response is expected: {:?}",
        anomalies(events[1])
    );
    // A plausible message right after a gap is decoded at once.
    c.parser.gap(ToServer);
    let pdu = c.one(ToServer, &read_request(9, 9, 9));
    clean(&pdu);
}

#[test]
fn gap_in_an_oversized_chunk() {
    let mut c = Conn::opened();
    let body = W::new()
        .node(673)
        .request_header(9)
        .raw(&vec![0; 100_000])
        .done();
    let message = msg(2, 2, &body);
    assert_eq!(c.feed(ToServer, &message[..KEEP + 100]), KEEP + 100);
    c.parser.gap(ToServer);
    let pdu = c.one(ToServer, &read_request(3, 3, 3));
    clean(&pdu);
    assert_eq!(pdu.function, "read");
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_on_the_well_known_port() {
    assert_eq!(probe(HEL, ToServer, true), Probe::Match);
    assert_eq!(
        probe(READ_RESPONSE, ToClient, true),
        Probe::Match,
        "mid-connection"
    );
    assert_eq!(probe(&HEL[..5], ToServer, true), Probe::NeedMore);
    assert_eq!(probe(b"MS", ToServer, true), Probe::NeedMore);
    for other in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03,
        ][..], // TLS
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ][..], // Modbus
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ][..], // TPKT
        &[0x05, 0x64, 0x05, 0xC9, 0x01, 0x00, 0x00, 0x04, 0xE9, 0x21][..], // DNP3
        &b"MSGF\x10\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00"[..],      // too small for a MSG
        &b"HELC\x38\x00\x00\x00"[..],                                      // a chunked HEL
        &b"MSGF\x00\x00\x00\x02"[..],                                      // 32 MiB
    ] {
        assert_eq!(probe(other, ToServer, true), Probe::NoMatch, "{other:?}");
    }
}

#[test]
fn probe_elsewhere_needs_an_opening() {
    assert_eq!(probe(HEL, ToServer, false), Probe::Match);
    assert_eq!(probe(&HEL[..36], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&HEL[..42], ToServer, false), Probe::Match);
    assert_eq!(probe(ACK, ToClient, false), Probe::Match);
    assert_eq!(probe(&opn_request(), ToServer, false), Probe::Match);
    assert_eq!(probe(&secured_opn(0), ToServer, false), Probe::Match);
    let rhe = W::new()
        .raw(b"RHEF")
        .u32(8 + 4 + 9 + 4 + 21)
        .s("urn:plc:1")
        .s("opc.tcp://plc-1:4840/")
        .done();
    assert_eq!(probe(&rhe, ToServer, false), Probe::Match);
    assert_eq!(probe(READ_RESPONSE, ToClient, false), Probe::NoMatch);
    let mut http_url = HEL.to_vec();
    http_url[32..39].copy_from_slice(b"http://");
    assert_eq!(probe(&http_url, ToServer, false), Probe::NoMatch);
    let mut tiny_buffers = HEL.to_vec();
    tiny_buffers[12..16].copy_from_slice(&[0x10, 0, 0, 0]);
    assert_eq!(probe(&tiny_buffers, ToServer, false), Probe::NoMatch);
    let mut long_ack = ACK.to_vec();
    long_ack[4] = 0x20;
    assert_eq!(probe(&long_ack, ToClient, false), Probe::NoMatch);
    let mut odd_policy = opn_request();
    odd_policy[16..20].copy_from_slice(b"ftp:");
    assert_eq!(probe(&odd_policy, ToServer, false), Probe::NoMatch);
}

#[test]
fn detection_through_the_registry() {
    assert!(matches!(
        detect_stream(PORT, ToServer, HEL),
        Detection::Found(crate::protocols::StreamDecoder::Opcua(_))
    ));
    assert!(matches!(
        detect_stream(48010, ToServer, HEL),
        Detection::Found(crate::protocols::StreamDecoder::Opcua(_))
    ));
    // HTTP on the OPC UA port is HTTP's.
    assert!(!matches!(
        detect_stream(PORT, ToServer, b"GET / HTTP/1.1\r\n\r\n"),
        Detection::Found(crate::protocols::StreamDecoder::Opcua(_))
    ));
}

// ---------------------------------------------------------------- names and totality

#[test]
fn names_for_rules() {
    let names = function_names();
    for expected in [
        "read",
        "write",
        "call",
        "service_fault",
        "hello",
        "open_secure_channel",
        "encrypted_message",
        "abort",
        "invalid",
        "unknown",
    ] {
        assert!(names.contains(&expected), "{expected}");
    }
    let mut all = anomaly::ALL.to_vec();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), anomaly::ALL.len(), "no duplicate anomaly");
    for s in SERVICES {
        assert_eq!(
            ServiceType::lookup(s.request).map(|t| t.is_response),
            Some(false)
        );
        assert_eq!(
            s.response.and_then(ServiceType::lookup).map(|t| t.name()),
            Some(s.response_name)
        );
    }
    assert_eq!(names::status_name(0x8034_0000), Some("BadNodeIdUnknown"));
    assert_eq!(
        names::status_name(0x8034_0400),
        Some("BadNodeIdUnknown"),
        "info bits"
    );
    assert_eq!(names::status_name(0x8FFF_0000), None);
}

#[test]
fn authorities_of_uris() {
    assert_eq!(
        uri_authority("http://open62541.org").as_deref(),
        Some("open62541.org")
    );
    assert_eq!(
        uri_authority("https://www.Vendor.com:443/a?b").as_deref(),
        Some("Vendor.com")
    );
    assert_eq!(
        uri_authority("urn:freeopcua.github.io:python:server").as_deref(),
        Some("freeopcua.github.io")
    );
    assert_eq!(uri_authority("opc.tcp://192.168.0.10:4840"), None);
    assert_eq!(uri_authority("opc.tcp://[fe80::1]:4840"), None);
    assert_eq!(uri_authority("opc.tcp://localhost:4840"), None);
    assert_eq!(uri_authority("plain words"), None);
    assert_eq!(uri_authority("urn:"), None);
}

/// Collects visited fields as (name, JSON-ish value) pairs.
#[derive(Default)]
struct Recorder(Vec<(String, String)>);

impl Visitor for Recorder {
    fn field(&mut self, name: &str, value: Value<'_>) {
        self.0.push((name.to_string(), format!("{value:?}")));
    }
    fn begin(&mut self, name: &str, _nest: Nest) {
        self.0.push((name.to_string(), "{".into()));
    }
    fn end(&mut self) {
        self.0.push((String::new(), "}".into()));
    }
}

/// xorshift64*: a deterministic stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Mostly message-shaped bytes: a known type, a chunk type, a size near the
/// length, and a body that is random or starts with a service type id.
fn random_message(rng: &mut Rng) -> Vec<u8> {
    if rng.below(8) == 0 {
        let n = rng.below(40) as usize;
        return rng.bytes(n);
    }
    let kind = MessageType::ALL[rng.below(7) as usize].code().as_bytes();
    let chunk = [b'F', b'C', b'A', b'X'][rng.below(4) as usize];
    let len = rng.below(200) as usize;
    let mut m = kind.to_vec();
    m.push(chunk);
    let size = match rng.below(6) {
        0 => rng.next() as u32,
        1 => (8 + len as u32).saturating_sub(rng.below(10) as u32),
        _ => 8 + len as u32,
    };
    m.extend_from_slice(&size.to_le_bytes());
    let mut body = rng.bytes(len);
    if len > 20 && rng.below(2) == 0 {
        // A sequence header and a known type id where MSG bodies start.
        let s = SERVICES[rng.below(SERVICES.len() as u64) as usize];
        let id = if rng.below(2) == 0 {
            s.request
        } else {
            s.response.unwrap_or(397)
        };
        body[0..4].copy_from_slice(&1u32.to_le_bytes());
        body[16..20].copy_from_slice(&[0x01, 0x00, id as u8, (id >> 8) as u8]);
    }
    m.extend(body);
    m
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut c = Conn::opened();
    let mut pending: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for round in 0..20_000 {
        let dir = if rng.below(2) == 0 {
            ToServer
        } else {
            ToClient
        };
        if rng.below(200) == 0 {
            c.parser.gap(dir);
            pending[dir.index()].clear();
        }
        let p = &mut pending[dir.index()];
        p.extend(random_message(&mut rng));
        let data = p.clone();
        let used = c.feed(dir, &data);
        assert!(used <= data.len());
        p.drain(..used);
        // What is left is at most one chunk being waited for.
        assert!(
            p.len() <= KEEP + 256,
            "round {round}: {} bytes held",
            p.len()
        );
        if p.len() > 4096 {
            // A size announcing more than will come: the stream would stall
            // until the real gap; drop it as the pipeline does at its cap.
            p.clear();
            c.parser.gap(dir);
        }
    }
    assert!(c.events.len() > 10_000, "{} events", c.events.len());
    for e in &c.events {
        let mut r = Recorder::default();
        e.pdu.fields.visit(&mut r);
    }
}
