//! Unit tests: inline messages, one comment per field. The ListIdentity reply
//! and the Multiple Service Packet are those of the public captures under
//! `../shared/pcaps/enip/` (icsnpp examples), as Wireshark decodes them.

use super::*;
use crate::event::{Event, Header as EventHeader, Transport};
use crate::protocols::{DatagramParser, Detection, detect_datagram, detect_stream};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

fn header(packet: u64) -> EventHeader {
    EventHeader {
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

/// One conversation: a parser, the events it emitted, a packet counter.
struct Conn {
    parser: EnipParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn new() -> Self {
        Conn {
            parser: EnipParser::new(),
            events: Vec::new(),
            packet: 0,
        }
    }

    /// Presents stream bytes completed by the next packet; returns bytes consumed.
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        StreamParser::parse(&mut self.parser, data, &mut out)
    }

    /// Presents whole messages; returns the events they gave.
    fn stream(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        assert_eq!(self.feed(dir, data), data.len(), "not all consumed");
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    /// Presents whole messages that give exactly one event.
    fn one(&mut self, dir: Direction, data: &[u8]) -> Pdu {
        let pdus = self.stream(dir, data);
        assert_eq!(pdus.len(), 1, "not exactly one event: {pdus:#?}");
        pdus.into_iter().next().unwrap()
    }

    fn datagram(&mut self, dir: Direction, data: &[u8]) -> Vec<Pdu> {
        self.packet += 1;
        let before = self.events.len();
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        DatagramParser::parse(&mut self.parser, data, &mut out);
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }
}

fn ef(pdu: &Pdu) -> &EnipFields {
    match &pdu.fields {
        Fields::Enip(f) => f,
        _ => panic!("no EtherNet/IP fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn clean(pdu: &Pdu) {
    assert!(pdu.anomalies.is_empty(), "anomalies: {:?}", anomalies(pdu));
}

/// An encapsulation message around `data`: command, length, session
/// handle, status 0, sender context, options 0.
fn encap(command: u16, session: u32, context: u64, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&command.to_le_bytes()); // command
    m.extend_from_slice(&(data.len() as u16).to_le_bytes()); // length
    m.extend_from_slice(&session.to_le_bytes()); // session handle
    m.extend_from_slice(&0u32.to_le_bytes()); // status
    m.extend_from_slice(&context.to_le_bytes()); // sender context
    m.extend_from_slice(&0u32.to_le_bytes()); // options
    m.extend_from_slice(data);
    m
}

/// SendRRData carrying `cip` as unconnected data, with sender context `context`.
fn rr(context: u64, cip: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle: CIP
        0x0A, 0x00, // timeout
        0x02, 0x00, // item count
        0x00, 0x00, 0x00, 0x00, // null address item, length 0
        0xB2, 0x00, // unconnected data item
    ];
    d.extend_from_slice(&(cip.len() as u16).to_le_bytes()); // item length
    d.extend_from_slice(cip);
    encap(0x6F, 0x1102_0100, context, &d)
}

/// SendUnitData carrying `cip` as connected data on `connection`, CIP
/// sequence count `sequence`.
fn unit(connection: u32, sequence: u16, cip: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle
        0x00, 0x00, // timeout
        0x02, 0x00, // item count
        0xA1, 0x00, 0x04, 0x00, // connected address item, length 4
    ];
    d.extend_from_slice(&connection.to_le_bytes()); // connection id
    d.extend_from_slice(&[0xB1, 0x00]); // connected data item
    d.extend_from_slice(&(cip.len() as u16 + 2).to_le_bytes()); // item length
    d.extend_from_slice(&sequence.to_le_bytes()); // CIP sequence count
    d.extend_from_slice(cip);
    encap(0x70, 0x1102_0100, 0, &d)
}

// ------------------------------------------------------------ encapsulation

/// icsnpp_enip_cip_example frame 372: the 1756-ENBT/A answers ListIdentity.
const LIST_IDENTITY_REPLY: &[u8] = &[
    0x63, 0x00, // command: ListIdentity
    0x33, 0x00, // length: 51
    0x00, 0x00, 0x00, 0x00, // session handle
    0x00, 0x00, 0x00, 0x00, // status
    0x00, 0x00, 0x00, 0x00, 0xC1, 0xDE, 0xBE, 0xD1, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x01, 0x00, // item count
    0x0C, 0x00, // item type: CIP identity
    0x2D, 0x00, // item length: 45
    0x01, 0x00, // encapsulation protocol version
    0x00, 0x02, // sin_family (big-endian): 2
    0xAF, 0x12, // sin_port (big-endian): 44818
    0x0A, 0x01, 0x01, 0xA4, // sin_addr: 10.1.1.164
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sin_zero
    0x01, 0x00, // vendor id: Rockwell Automation/Allen-Bradley
    0x0C, 0x00, // device type: communications adapter
    0x3A, 0x00, // product code: 58
    0x04, 0x03, // revision 4.03
    0x30, 0x00, // status
    0x8E, 0x4D, 0x52, 0x00, // serial number 0x00524d8e
    0x0B, // product name length
    b'1', b'7', b'5', b'6', b'-', b'E', b'N', b'B', b'T', b'/', b'A', // product name
    0x03, // state
];

#[test]
fn list_identity_reply_gives_the_device_identity() {
    let mut c = Conn::new();
    // icsnpp_enip_cip_example frame 371: the request.
    let req = c.one(
        ToServer,
        &[
            0x63, 0x00, // command: ListIdentity
            0x00, 0x00, // length
            0x00, 0x00, 0x00, 0x00, // session handle
            0x00, 0x00, 0x00, 0x00, // status
            0x00, 0x00, 0xC1, 0xDE, 0xBE, 0xD1, 0x00, 0x00, // sender context
            0x00, 0x00, 0x00, 0x00, // options
        ],
    );
    clean(&req);
    assert_eq!(req.protocol, Protocol::Enip);
    assert_eq!(
        (req.function, req.class),
        ("list_identity", FunctionClass::Discovery)
    );
    assert!(!req.is_response && req.identity.is_none());
    let reply = c.one(ToClient, LIST_IDENTITY_REPLY);
    clean(&reply);
    assert!(reply.is_response);
    assert_eq!(reply.function_code, Some(0x63));
    let f = ef(&reply);
    assert_eq!(f.items.as_slice(), [0x000C]);
    let d = f.device.as_deref().expect("identity item");
    assert_eq!(d.socket_address, "10.1.1.164:44818");
    assert_eq!((d.vendor_id, d.device_type, d.product_code), (1, 12, 58));
    assert_eq!(d.revision(), 1027, "Wireshark's enip.lir.revision");
    assert_eq!(d.serial_number, 0x0052_4D8E);
    assert_eq!(d.product_name, "1756-ENBT/A");
    assert_eq!(d.state, Some(3));
    let id = reply.identity.as_deref().expect("identity");
    assert_eq!(id.vendor_id, Some(1));
    assert_eq!(
        id.vendor.as_deref(),
        Some("Rockwell Automation/Allen-Bradley")
    );
    assert_eq!(id.product.as_deref(), Some("1756-ENBT/A"));
    assert_eq!(id.product_code.as_deref(), Some("58"));
    assert_eq!(id.firmware.as_deref(), Some("4.03"));
    assert_eq!(id.serial.as_deref(), Some("0x00524d8e"));
    assert_eq!(id.device_type.as_deref(), Some("Communications Adapter"));
}

#[test]
fn list_identity_over_udp_is_a_datagram() {
    let mut c = Conn::new();
    let pdus = c.datagram(ToClient, LIST_IDENTITY_REPLY);
    assert_eq!(pdus.len(), 1);
    clean(&pdus[0]);
    assert!(pdus[0].identity.is_some());
    // One byte more than the header says.
    let mut long = LIST_IDENTITY_REPLY.to_vec();
    long.push(0);
    let pdus = c.datagram(ToClient, &long);
    assert_eq!(anomalies(&pdus[0]), [LENGTH_MISMATCH]);
    assert!(pdus[0].identity.is_some());
}

#[test]
fn truncated_identity_item_is_reported() {
    let mut c = Conn::new();
    // The product name cut after 6 characters, without the state.
    let mut cut = LIST_IDENTITY_REPLY[..69].to_vec();
    cut[2] = 45; // length: what is left
    cut[28] = 39; // item length: what is left
    let reply = c.one(ToClient, &cut);
    assert_eq!(anomalies(&reply), [TRUNCATED_CPF_ITEM]);
    assert_eq!(ef(&reply).device.as_deref().unwrap().product_name, "1756-E");
    // Cut before the serial number: no identity at all.
    let mut short = LIST_IDENTITY_REPLY[..52].to_vec();
    short[2] = 28;
    short[28] = 22;
    let reply = c.one(ToClient, &short);
    assert!(reply.identity.is_none());
    assert!(reply.anomalies.contains(TRUNCATED_CPF_ITEM));
}

#[test]
fn register_session_and_unregister() {
    let mut c = Conn::new();
    let req = c.one(
        ToServer,
        &[
            0x65, 0x00, // command: RegisterSession
            0x04, 0x00, // length
            0x00, 0x00, 0x00, 0x00, // session handle
            0x00, 0x00, 0x00, 0x00, // status
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
            0x00, 0x00, 0x00, 0x00, // options
            0x01, 0x00, // protocol version
            0x00, 0x00, // option flags
        ],
    );
    clean(&req);
    assert_eq!(
        (req.function, req.class),
        ("register_session", FunctionClass::Session)
    );
    assert_eq!(ef(&req).protocol_version, Some(1));
    let reply = c.one(
        ToClient,
        &[
            0x65, 0x00, // command: RegisterSession
            0x04, 0x00, // length
            0x00, 0x01, 0x02, 0x11, // session handle 0x11020100
            0x00, 0x00, 0x00, 0x00, // status
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
            0x00, 0x00, 0x00, 0x00, // options
            0x01, 0x00, // protocol version
            0x00, 0x00, // option flags
        ],
    );
    assert!(reply.is_response);
    assert_eq!(ef(&reply).session, Some(0x1102_0100));
    let bye = c.one(ToServer, &encap(0x66, 0x1102_0100, 0, &[]));
    clean(&bye);
    assert_eq!(
        (bye.function, bye.class),
        ("unregister_session", FunctionClass::Session)
    );
}

#[test]
fn encapsulation_error_status_and_options() {
    let mut c = Conn::new();
    let reply = c.one(
        ToClient,
        &[
            0x65, 0x00, // command: RegisterSession
            0x00, 0x00, // length
            0x00, 0x00, 0x00, 0x00, // session handle
            0x69, 0x00, 0x00, 0x00, // status: unsupported protocol version
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
            0x01, 0x00, 0x00, 0x00, // options: not zero
        ],
    );
    let f = ef(&reply);
    assert_eq!(f.encapsulation_status, Some(0x69));
    assert_eq!(f.options, Some(1));
    assert!(reply.anomalies.contains(NONZERO_OPTIONS));
    assert!(reply.anomalies.contains(TRUNCATED_COMMAND_DATA));
}

#[test]
fn list_services_reply() {
    let mut c = Conn::new();
    let reply = c.one(
        ToClient,
        &encap(
            0x04,
            0,
            0,
            &[
                0x01, 0x00, // item count
                0x00, 0x01, // item type: ListServices
                0x14, 0x00, // item length: 20
                0x01, 0x00, // version
                0x20, 0x01, // capability flags: CIP over TCP, class 0/1 over UDP
                b'C', b'o', b'm', b'm', b'u', b'n', b'i', b'c', b'a', b't', b'i', b'o', b'n', b's',
                0x00, 0x00, // name, 16 bytes NUL-padded
            ],
        ),
    );
    clean(&reply);
    assert_eq!(
        (reply.function, reply.class),
        ("list_services", FunctionClass::Discovery)
    );
    let services = &ef(&reply).services_offered;
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].name, "Communications");
    assert_eq!(services[0].capabilities, 0x0120);
}

#[test]
fn nop_and_list_interfaces() {
    let mut c = Conn::new();
    let nop = c.one(ToServer, &encap(0x00, 0, 0, &[0xAA, 0xBB]));
    clean(&nop);
    assert_eq!((nop.function, nop.class), ("nop", FunctionClass::Session));
    let interfaces = c.one(ToServer, &encap(0x64, 0, 0, &[]));
    assert_eq!(
        (interfaces.function, interfaces.class),
        ("list_interfaces", FunctionClass::Discovery)
    );
    let reply = c.one(ToClient, &encap(0x64, 0, 0, &[0x00, 0x00]));
    assert!(reply.is_response);
    clean(&reply);
}

// ---------------------------------------------------------------------- CIP

#[test]
fn get_attribute_single_pairs_by_sender_context() {
    let mut c = Conn::new();
    let req = c.one(
        ToServer,
        &rr(
            7,
            &[
                0x0E, // service: Get_Attribute_Single
                0x03, // path size: 3 words
                0x20, 0x01, // class: identity
                0x24, 0x01, // instance 1
                0x30, 0x07, // attribute 7
            ],
        ),
    );
    clean(&req);
    assert_eq!(req.protocol, Protocol::Cip);
    assert_eq!(
        (req.function, req.class),
        ("get_attribute_single", FunctionClass::Read)
    );
    assert_eq!(req.function_code, Some(0x0E));
    let f = ef(&req);
    assert_eq!(
        (f.class, f.instance, f.attribute),
        (Some(1), Some(1), Some(7))
    );
    assert_eq!(f.command, Some(0x6F));
    assert_eq!(f.items.as_slice(), [0x0000, 0x00B2]);
    assert_eq!(f.service_name, Some("get_attribute_single"));
    // Another request with another context is answered first.
    c.one(
        ToServer,
        &rr(
            8,
            &[
                0x01, // service: Get_Attributes_All
                0x02, // path size
                0x20, 0xF5, // class: TCP/IP interface
                0x24, 0x01, // instance 1
            ],
        ),
    );
    let other = c.one(ToClient, &rr(8, &[0x81, 0x00, 0x00, 0x00]));
    assert_eq!(ef(&other).class, Some(0xF5));
    let reply = c.one(
        ToClient,
        &rr(
            7,
            &[
                0x8E, // service: Get_Attribute_Single, response
                0x00, // reserved
                0x00, // general status: success
                0x00, // additional status size
                0x03, b'A', b'B', b'C', // value
            ],
        ),
    );
    clean(&reply);
    assert!(reply.is_response);
    let f = ef(&reply);
    assert_eq!(
        (f.class, f.instance, f.attribute),
        (Some(1), Some(1), Some(7))
    );
    assert_eq!(f.status, Some(0));
    assert_eq!(f.request_packet, NonZeroU64::new(1));
}

#[test]
fn error_response_with_extended_status() {
    let mut c = Conn::new();
    c.one(
        ToServer,
        &rr(
            1,
            &[
                0x10, // service: Set_Attribute_Single
                0x03, // path size
                0x20, 0x01, // class: identity
                0x24, 0x01, // instance 1
                0x30, 0x01, // attribute 1
                0x05, 0x00, // value
            ],
        ),
    );
    let reply = c.one(
        ToClient,
        &rr(
            1,
            &[
                0x90, // service: Set_Attribute_Single, response
                0x00, // reserved
                0x0E, // general status: attribute not settable
                0x01, // additional status size: 1 word
                0x05, 0x01, // additional status
            ],
        ),
    );
    clean(&reply);
    assert_eq!(
        (reply.function, reply.class),
        ("set_attribute_single", FunctionClass::Write)
    );
    let f = ef(&reply);
    assert_eq!(f.status, Some(0x0E));
    assert_eq!(f.extended_status, Some(0x0105));
    let unknown = c.one(ToClient, &rr(9, &[0x8E, 0x00, 0x7F, 0x00]));
    assert_eq!(
        anomalies(&unknown),
        [RESPONSE_WITHOUT_REQUEST, UNKNOWN_GENERAL_STATUS]
    );
}

#[test]
fn get_attributes_all_of_the_identity_object_gives_identity() {
    let mut c = Conn::new();
    c.one(
        ToServer,
        &rr(
            3,
            &[
                0x01, // service: Get_Attributes_All
                0x02, // path size
                0x20, 0x01, // class: identity
                0x24, 0x01, // instance 1
            ],
        ),
    );
    let reply = c.one(
        ToClient,
        &rr(
            3,
            &[
                0x81, 0x00, 0x00, 0x00, // response header: success
                0x01, 0x00, // vendor id 1
                0x0E, 0x00, // device type: PLC
                0x36, 0x00, // product code 54
                0x14, 0x0B, // revision 20.11
                0x60, 0x30, // status
                0x44, 0x33, 0x22, 0x11, // serial number
                0x0A, b'1', b'7', b'5', b'6', b'-', b'L', b'6', b'1', b'/',
                b'B', // product name
            ],
        ),
    );
    clean(&reply);
    let id = reply.identity.as_deref().expect("identity");
    assert_eq!(id.product.as_deref(), Some("1756-L61/B"));
    assert_eq!(id.firmware.as_deref(), Some("20.11"));
    assert_eq!(id.serial.as_deref(), Some("0x11223344"));
    assert_eq!(
        id.device_type.as_deref(),
        Some("Programmable Logic Controller")
    );
}

/// icsnpp_multiple_service_packet_cip frame 1, first two services.
const MSP_REQUEST: &[u8] = &[
    0x0A, // service: Multiple Service Packet
    0x02, // path size
    0x20, 0x02, // class: message router
    0x24, 0x01, // instance 1
    0x02, 0x00, // number of services
    0x06, 0x00, // offset of service 1
    0x10, 0x00, // offset of service 2
    0x03, // service 1: Get_Attribute_List
    0x02, // path size
    0x20, 0x01, // class: identity
    0x24, 0x01, // instance 1
    0x01, 0x00, // attribute count
    0x05, 0x00, // attribute 5
    0x03, // service 2: Get_Attribute_List
    0x02, // path size
    0x20, 0x69, // class 0x69
    0x24, 0x00, // instance 0
    0x01, 0x00, // attribute count
    0x0B, 0x00, // attribute 11
];

#[test]
fn multiple_service_packet_gives_one_event_per_service() {
    let mut c = Conn::new();
    let reqs = c.stream(ToServer, &unit(0x007C_0B01, 1929, MSP_REQUEST));
    assert_eq!(reqs.len(), 3);
    reqs.iter().for_each(clean);
    assert_eq!(reqs[0].function, "multiple_service_packet");
    assert_eq!(ef(&reqs[0]).services, Some(2));
    assert_eq!(ef(&reqs[0]).class, Some(2));
    assert_eq!(ef(&reqs[0]).connection_id, Some(0x007C_0B01));
    assert_eq!(ef(&reqs[0]).sequence, Some(1929));
    for (i, req) in reqs[1..].iter().enumerate() {
        assert_eq!(
            (req.function, req.class),
            ("get_attribute_list", FunctionClass::Read)
        );
        assert_eq!(ef(req).parent_service, Some("multiple_service_packet"));
        assert_eq!(ef(req).index, Some(i as u16));
    }
    assert_eq!(&*ef(&reqs[1]).attributes, [5]);
    assert_eq!(ef(&reqs[2]).class, Some(0x69));
    assert_eq!(&*ef(&reqs[2]).attributes, [11]);
    let replies = c.stream(
        ToClient,
        &unit(
            0x80FE_0028,
            1929,
            &[
                0x8A, 0x00, 0x00, 0x00, // response header: success
                0x02, 0x00, // number of services
                0x06, 0x00, // offset 1
                0x12, 0x00, // offset 2
                0x83, 0x00, 0x00, 0x00, // service 1: Get_Attribute_List response
                0x01, 0x00, // attribute count
                0x05, 0x00, // attribute 5
                0x00, 0x00, // attribute status: success
                0x60, 0x30, // value: identity status word
                0x83, 0x00, 0x00, 0x00, // service 2: Get_Attribute_List response
                0x02, 0x00, // attribute count
                0x0B, 0x00, // attribute 11
                0x00, 0x00, // attribute status: success
                0x03, 0x00, // value (size unknown: the walk stops)
                0x0C, 0x00, // attribute 12 (not reached)
                0x00, 0x00, // attribute status
            ],
        ),
    );
    assert_eq!(replies.len(), 3);
    replies.iter().for_each(clean);
    assert!(replies.iter().all(|r| r.is_response));
    assert_eq!(ef(&replies[0]).request_packet, NonZeroU64::new(1));
    assert_eq!(ef(&replies[1]).class, Some(1), "the request's class");
    assert_eq!(&*ef(&replies[1]).attributes, [5]);
    assert_eq!(ef(&replies[2]).class, Some(0x69));
    assert_eq!(&*ef(&replies[2]).attributes, [11]);
    assert_eq!(ef(&replies[2]).index, Some(1));
    assert_eq!(ef(&replies[2]).request_packet, NonZeroU64::new(1));
}

#[test]
fn multiple_service_packet_with_bad_offsets() {
    let mut c = Conn::new();
    let pdus = c.stream(
        ToServer,
        &rr(
            1,
            &[
                0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, // Multiple Service Packet to the router
                0x02, 0x00, // number of services
                0x02, 0x00, // offset 1: inside the offset table
                0x40, 0x00, // offset 2: past the end
            ],
        ),
    );
    assert_eq!(pdus.len(), 3);
    assert!(pdus[0].anomalies.contains(INVALID_SERVICE_OFFSET));
    assert_eq!(pdus[1].function, "invalid");
    assert!(pdus[2].anomalies.contains(TRUNCATED_CIP_MESSAGE));
    // More services than are decoded.
    let mut many = vec![0x0A, 0x02, 0x20, 0x02, 0x24, 0x01];
    let n = MAX_SERVICES as u16 + 1;
    many.extend_from_slice(&n.to_le_bytes());
    let first = 2 + 2 * n;
    for i in 0..n {
        many.extend_from_slice(&(first + 2 * i).to_le_bytes());
    }
    for _ in 0..n {
        many.extend_from_slice(&[0x17, 0x00]); // No_Operation, empty path
    }
    let pdus = c.stream(ToServer, &rr(2, &many));
    assert_eq!(pdus.len(), 1 + MAX_SERVICES);
    assert!(pdus[0].anomalies.contains(TOO_MANY_SERVICES));
    assert_eq!(ef(&pdus[0]).services, Some(n));
}

/// Read Tag of `Counts[3]`, routed to slot 0 of the backplane.
const UNCONNECTED_READ_TAG: &[u8] = &[
    0x52, // service: Unconnected Send
    0x02, // path size
    0x20, 0x06, // class: connection manager
    0x24, 0x01, // instance 1
    0x0A, // priority/time tick
    0xF0, // timeout ticks
    0x0E, 0x00, // message request size: 14
    0x4C, // service: Read Tag
    0x05, // path size: 5 words
    0x91, 0x06, b'C', b'o', b'u', b'n', b't', b's', // ANSI extended symbol "Counts"
    0x28, 0x03, // member (element) 3
    0x01, 0x00, // element count
    0x01, // route path size: 1 word
    0x00, // reserved
    0x01, 0x00, // port 1 (backplane), link 0 (slot 0)
];

#[test]
fn unconnected_send_read_tag_and_its_reply() {
    let mut c = Conn::new();
    let reqs = c.stream(ToServer, &rr(0x42, UNCONNECTED_READ_TAG));
    assert_eq!(reqs.len(), 2);
    reqs.iter().for_each(clean);
    assert_eq!(
        (reqs[0].function, reqs[0].class),
        ("unconnected_send", FunctionClass::Other)
    );
    assert_eq!(ef(&reqs[0]).route_path.as_deref(), Some("1,0"));
    assert_eq!(ef(&reqs[0]).class, Some(6));
    let tag = &reqs[1];
    assert_eq!((tag.function, tag.class), ("read_tag", FunctionClass::Read));
    assert_eq!(tag.function_code, Some(0x4C));
    let f = ef(tag);
    assert_eq!(f.tag.as_deref(), Some("Counts[3]"));
    assert_eq!(f.parent_service, Some("unconnected_send"));
    assert_eq!(f.index, None);
    assert_eq!(f.route_path.as_deref(), Some("1,0"));
    let reply = c.one(
        ToClient,
        &rr(
            0x42,
            &[
                0xCC, // service: Read Tag, response
                0x00, // reserved
                0x00, // general status
                0x00, // additional status size
                0xC4, 0x00, // data type: DINT
                0x2A, 0x00, 0x00, 0x00, // value 42
            ],
        ),
    );
    clean(&reply);
    assert_eq!(
        (reply.function, reply.class),
        ("read_tag", FunctionClass::Read)
    );
    let f = ef(&reply);
    assert_eq!(f.tag.as_deref(), Some("Counts[3]"));
    assert_eq!(f.route_path.as_deref(), Some("1,0"));
    assert_eq!(f.request_packet, NonZeroU64::new(1));
    // Routing failed: the Connection Manager answers the Unconnected Send itself.
    c.stream(ToServer, &rr(0x43, UNCONNECTED_READ_TAG)); // events checked above
    let failed = c.one(
        ToClient,
        &rr(
            0x43,
            &[
                0xD2, // service: Unconnected Send, response
                0x00, // reserved
                0x01, // general status: connection failure
                0x01, // additional status size
                0x04, 0x03, // extended status: target not reachable? (vendor's)
                0x01, // remaining path size
                0x00, // reserved
            ],
        ),
    );
    clean(&failed);
    assert_eq!(failed.function, "unconnected_send");
    assert_eq!(ef(&failed).extended_status, Some(0x0304));
}

#[test]
fn service_0x52_and_0x53_depend_on_the_class() {
    let mut c = Conn::new();
    let fragmented = c.one(
        ToServer,
        &rr(
            1,
            &[
                0x52, // service: Read Tag Fragmented (on a tag)
                0x03, // path size
                0x91, 0x03, b'T', b'a', b'g', 0x00, // ANSI extended symbol "Tag", pad
                0x01, 0x00, // element count
                0x00, 0x00, 0x00, 0x00, // byte offset
            ],
        ),
    );
    clean(&fragmented);
    assert_eq!(
        (fragmented.function, fragmented.class),
        ("read_tag_fragmented", FunctionClass::Read)
    );
    let write = c.one(
        ToServer,
        &rr(
            2,
            &[
                0x53, // service: Write Tag Fragmented
                0x03, // path size
                0x91, 0x03, b'T', b'a', b'g', 0x00, // "Tag"
                0xC4, 0x00, // data type DINT
                0x01, 0x00, // element count
                0x00, 0x00, 0x00, 0x00, // byte offset
                0x01, 0x00, 0x00, 0x00, // data
            ],
        ),
    );
    assert_eq!(
        (write.function, write.class),
        ("write_tag_fragmented", FunctionClass::Write)
    );
    let tag_write = c.one(
        ToServer,
        &rr(
            3,
            &[
                0x4D, // service: Write Tag
                0x03, // path size
                0x91, 0x03, b'T', b'a', b'g', 0x00, // "Tag"
                0xC1, 0x00, 0x01, 0x00, 0x01, // BOOL, count 1, value
            ],
        ),
    );
    assert_eq!(
        (tag_write.function, tag_write.class),
        ("write_tag", FunctionClass::Write)
    );
    let rmw = c.one(
        ToServer,
        &rr(
            4,
            &[
                0x4E, // service: Read Modify Write Tag
                0x03, 0x91, 0x03, b'T', b'a', b'g', 0x00, // "Tag"
                0x01, 0x00, 0xFF, 0x00, // mask size, OR mask
            ],
        ),
    );
    assert_eq!(
        (rmw.function, rmw.class),
        ("read_modify_write_tag", FunctionClass::Write)
    );
}

#[test]
fn control_program_and_unknown_services() {
    let mut c = Conn::new();
    let reset = c.one(
        ToServer,
        &rr(
            1,
            &[
                0x05, // service: Reset
                0x02, 0x20, 0x01, 0x24, 0x01, // identity instance 1
                0x00, // reset type
            ],
        ),
    );
    assert_eq!(
        (reset.function, reset.class),
        ("reset", FunctionClass::Control)
    );
    let stop = c.one(ToServer, &rr(2, &[0x07, 0x02, 0x20, 0x8E, 0x24, 0x01]));
    assert_eq!(
        (stop.function, stop.class),
        ("stop", FunctionClass::Control)
    );
    let download = c.one(
        ToServer,
        &rr(
            3,
            &[
                0x4C, // service: Initiate Download (on the file object)
                0x02, 0x20, 0x37, 0x24, 0xC8, // file object, instance 200
                0x00, 0x10, 0x00, 0x00, // file size
            ],
        ),
    );
    assert_eq!(
        (download.function, download.class),
        ("initiate_download", FunctionClass::Program)
    );
    let reserved = c.one(ToServer, &rr(4, &[0x30, 0x00]));
    assert_eq!(reserved.function, "reserved");
    assert_eq!(anomalies(&reserved), [UNKNOWN_SERVICE]);
    let vendor = c.one(ToServer, &rr(5, &[0x4B, 0x02, 0x20, 0x8E, 0x24, 0x01]));
    assert_eq!(
        (vendor.function, vendor.class),
        ("object_specific", FunctionClass::Other)
    );
    clean(&vendor);
}

// ----------------------------------------------------------------- firmware

/// Initiate_Download (File object, class 0x37) of a 4096-byte file into `instance`.
fn initiate_download(instance: u8) -> Vec<u8> {
    vec![
        0x4C, // service: Initiate_Download
        0x02, // path size: 2 words
        0x20, 0x37, // class: file object
        0x24, instance, // instance
        0x00, 0x10, 0x00, 0x00, // file size: 4096
        0x02, 0x01, // file revision 2.1 (file name not decoded, omitted)
    ]
}

/// Download_Transfer of one chunk into File object `instance`.
fn download_transfer(instance: u8, transfer: u8) -> Vec<u8> {
    vec![
        0x50, // service: Download_Transfer
        0x02, // path size: 2 words
        0x20, 0x37, // class: file object
        0x24, instance, // instance
        transfer, // transfer number
        0x01,     // transfer packet type: middle
        0xDE, 0xAD, 0xBE, 0xEF, // file data
    ]
}

/// Reset (type 0) of Identity instance 1.
const IDENTITY_RESET: &[u8] = &[
    0x05, // service: Reset
    0x02, // path size: 2 words
    0x20, 0x01, // class: identity
    0x24, 0x01, // instance 1
    0x00, // reset type: emulate a power cycle
];

/// The message wrapped in an Unconnected Send routed out of backplane port 1 to `slot`.
fn routed(slot: u8, message: &[u8]) -> Vec<u8> {
    let mut m = vec![
        0x52, // service: Unconnected Send
        0x02, // path size: 2 words
        0x20, 0x06, // class: connection manager
        0x24, 0x01, // instance 1
        0x0A, // priority/time tick
        0xF0, // timeout ticks
    ];
    m.extend_from_slice(&(message.len() as u16).to_le_bytes()); // message request size
    m.extend_from_slice(message);
    if message.len() % 2 == 1 {
        m.push(0x00); // pad to an even size
    }
    m.extend_from_slice(&[
        0x01, // route path size: 1 word
        0x00, // reserved
        0x01, slot, // port 1 (backplane), link: the slot
    ]);
    m
}

#[test]
fn nvs_update_and_transfer_are_firmware() {
    let mut c = Conn::new();
    let update = c.one(
        ToServer,
        &rr(
            1,
            &[
                0x4B, // service: Update (NVS object)
                0x02, // path size: 2 words
                0x20, 0xA1, // class: non-volatile storage (Rockwell)
                0x24, 0x01, // instance 1: the device's firmware
                0x00, 0x00, 0x08, 0x00, // update parameters (not decoded)
            ],
        ),
    );
    clean(&update);
    assert_eq!(
        (update.function, update.class),
        ("nvs_update", FunctionClass::Firmware)
    );
    assert_eq!(update.function_code, Some(0x4B));
    assert_eq!(
        (ef(&update).class, ef(&update).instance),
        (Some(0xA1), Some(1))
    );
    let transfer = c.one(
        ToServer,
        &rr(
            2,
            &[
                0x4D, // service: Transfer (NVS object)
                0x02, // path size: 2 words
                0x20, 0xA1, // class: non-volatile storage (Rockwell)
                0x24, 0x01, // instance 1
                0x00, 0x00, 0x00, 0x00, // chunk number 0
                0x7F, 0x45, 0x4C, 0x46, // data: the new firmware
            ],
        ),
    );
    clean(&transfer);
    assert_eq!(
        (transfer.function, transfer.class),
        ("nvs_transfer", FunctionClass::Firmware)
    );
    let reply = c.one(
        ToClient,
        &rr(
            2,
            &[
                0xCD, // service: Transfer, response
                0x00, // reserved
                0x00, // general status: success
                0x00, // additional status size
                0x00, 0x00, 0x00, 0x00, // chunk number 0
                0x01, 0x00, // status: success on transfer
            ],
        ),
    );
    clean(&reply);
    assert!(reply.is_response);
    assert_eq!(
        (reply.function, reply.class),
        ("nvs_transfer", FunctionClass::Firmware)
    );
    // The same codes on another vendor-specific object are not firmware.
    let other = c.one(ToServer, &rr(3, &[0x4B, 0x02, 0x20, 0xA2, 0x24, 0x01]));
    assert_eq!(
        (other.function, other.class),
        ("object_specific", FunctionClass::Other)
    );
}

#[test]
fn an_identity_reset_after_a_file_download_is_firmware() {
    let mut c = Conn::new();
    let start = c.one(ToServer, &rr(1, &initiate_download(1)));
    clean(&start);
    assert_eq!(
        (start.function, start.class),
        ("initiate_download", FunctionClass::Program)
    );
    for transfer in 0..2 {
        let chunk = c.one(ToServer, &rr(2, &download_transfer(1, transfer)));
        assert_eq!(
            (chunk.function, chunk.class),
            ("download_transfer", FunctionClass::Program)
        );
        assert_eq!(ef(&chunk).firmware_download_packet, None);
    }
    let reset = c.one(ToServer, &rr(3, IDENTITY_RESET));
    clean(&reset);
    assert_eq!(
        (reset.function, reset.class),
        ("reset", FunctionClass::Firmware)
    );
    assert_eq!(ef(&reset).firmware_download_packet, NonZeroU64::new(1));
    let reply = c.one(ToClient, &rr(3, &[0x85, 0x00, 0x00, 0x00]));
    clean(&reply);
    assert_eq!(
        (reply.function, reply.class),
        ("reset", FunctionClass::Firmware)
    );
    assert_eq!(ef(&reply).firmware_download_packet, NonZeroU64::new(1));
    // The download took effect: the next reset is an ordinary one.
    let again = c.one(ToServer, &rr(4, IDENTITY_RESET));
    assert_eq!(again.class, FunctionClass::Control);
    assert_eq!(ef(&again).firmware_download_packet, None);

    // A capture that starts mid-download points at the first transfer seen.
    let mut c = Conn::new();
    c.one(ToServer, &rr(1, &download_transfer(2, 7)));
    c.one(ToServer, &rr(2, &download_transfer(2, 8)));
    let reset = c.one(ToServer, &rr(3, IDENTITY_RESET));
    assert_eq!(reset.class, FunctionClass::Firmware);
    assert_eq!(ef(&reset).firmware_download_packet, NonZeroU64::new(1));
}

#[test]
fn eds_and_icon_files_are_discovery_and_their_downloads_no_firmware() {
    let mut c = Conn::new();
    for instance in [0xC8, 0xC9] {
        let upload = c.one(
            ToServer,
            &rr(
                1,
                &[
                    0x4B, // service: Initiate_Upload
                    0x02, // path size: 2 words
                    0x20, 0x37, // class: file object
                    0x24, instance, // instance: EDS file or its icon
                    0xF0,     // maximum transfer size
                ],
            ),
        );
        clean(&upload);
        assert_eq!(
            (upload.function, upload.class),
            ("initiate_upload", FunctionClass::Discovery)
        );
        let chunk = c.one(
            ToServer,
            &rr(
                2,
                &[
                    0x4F, // service: Upload_Transfer
                    0x02, // path size: 2 words
                    0x20, 0x37, // class: file object
                    0x24, instance, // instance
                    0x00,     // transfer number
                ],
            ),
        );
        assert_eq!(
            (chunk.function, chunk.class),
            ("upload_transfer", FunctionClass::Discovery)
        );
        let reply = c.one(ToClient, &rr(2, &[0xCF, 0x00, 0x00, 0x00, 0x00, 0x00]));
        assert_eq!(reply.class, FunctionClass::Discovery);
    }
    // Uploading another file moves logic out of the device.
    let program = c.one(
        ToServer,
        &rr(3, &[0x4B, 0x02, 0x20, 0x37, 0x24, 0x01, 0xF0]),
    );
    assert_eq!(
        (program.function, program.class),
        ("initiate_upload", FunctionClass::Program)
    );
    // A download into the EDS file, then a reset: no firmware.
    c.one(ToServer, &rr(4, &initiate_download(0xC8)));
    let reset = c.one(ToServer, &rr(5, IDENTITY_RESET));
    assert_eq!(reset.class, FunctionClass::Control);
}

#[test]
fn a_routed_download_is_firmware_only_for_a_reset_on_the_same_route() {
    let mut c = Conn::new();
    let events = c.stream(ToServer, &rr(1, &routed(2, &initiate_download(1))));
    assert_eq!(events[1].function, "initiate_download");
    assert_eq!(ef(&events[1]).route_path.as_deref(), Some("1,2"));
    // The module in slot 3, and the adapter itself, are other devices.
    let elsewhere = c.stream(ToServer, &rr(2, &routed(3, IDENTITY_RESET)));
    assert_eq!(elsewhere[1].class, FunctionClass::Control);
    let local = c.one(ToServer, &rr(3, IDENTITY_RESET));
    assert_eq!(local.class, FunctionClass::Control);
    let same = c.stream(ToServer, &rr(4, &routed(2, IDENTITY_RESET)));
    events_clean(&same);
    assert_eq!(
        (same[1].function, same[1].class),
        ("reset", FunctionClass::Firmware)
    );
    assert_eq!(ef(&same[1]).firmware_download_packet, NonZeroU64::new(1));
    // The routed reply is the reset's own.
    let reply = c.one(ToClient, &rr(4, &[0x85, 0x00, 0x00, 0x00]));
    assert_eq!(
        (reply.function, reply.class),
        ("reset", FunctionClass::Firmware)
    );
}

fn events_clean(pdus: &[Pdu]) {
    pdus.iter().for_each(clean);
}

// --------------------------------------------------------------------- PCCC

/// Execute PCCC (service 0x4B, PCCC object) carrying command `command`,
/// function code `function` when given, then `data`.
fn execute_pccc(command: u8, function: Option<u8>, data: &[u8]) -> Vec<u8> {
    let mut m = vec![
        0x4B, // service: Execute PCCC
        0x02, // path size: 2 words
        0x20, 0x67, // class: PCCC object
        0x24, 0x01, // instance 1
        0x07, // requestor id length, itself included
        0x01, 0x00, // CIP vendor id
        0x78, 0x56, 0x34, 0x12,    // CIP serial number
        command, // CMD
        0x00,    // STS
        0x34, 0x12, // TNS 0x1234
    ];
    m.extend(function); // FNC
    m.extend_from_slice(data); // function-specific data
    m
}

/// The Execute PCCC reply to `command`, with STS `status` (and EXT STS).
fn execute_pccc_reply(command: u8, status: &[u8]) -> Vec<u8> {
    let mut m = vec![
        0xCB, // service: Execute PCCC, response
        0x00, // reserved
        0x00, // general status: success
        0x00, // additional status size
        0x07, // requestor id length
        0x01,
        0x00, // CIP vendor id
        0x78,
        0x56,
        0x34,
        0x12,           // CIP serial number
        command | 0x40, // CMD with the reply bit
    ];
    m.extend_from_slice(&status[..1]); // STS
    m.extend_from_slice(&[0x34, 0x12]); // TNS 0x1234
    m.extend_from_slice(&status[1..]); // EXT STS
    m
}

#[test]
fn execute_pccc_is_named_by_its_command_and_function_code() {
    use FunctionClass::*;
    let cases: &[(u8, u8, &[u8], &str, FunctionClass)] = &[
        (0x0F, 0x80, &[0x06], "pccc_change_cpu_mode", Control), // mode: remote run
        (0x0F, 0x3A, &[0x01], "pccc_set_cpu_mode", Control),
        (0x0F, 0x07, &[], "pccc_shutdown", Control),
        (0x0F, 0x0A, &[], "pccc_restart_request", Control),
        (0x0F, 0x50, &[], "pccc_download_all_request", Program),
        (0x0F, 0x52, &[], "pccc_download_completed", Program),
        (0x0F, 0x53, &[], "pccc_upload_all_request", Program),
        (0x0F, 0x55, &[], "pccc_upload_completed", Program),
        // Byte size 2, file 7, type 0x89 (integer), element 0, sub-element 0.
        (
            0x0F,
            0xA2,
            &[0x02, 0x07, 0x89, 0x00, 0x00],
            "pccc_protected_typed_logical_read_with_three_address_fields",
            Read,
        ),
        (0x07, 0x04, &[], "pccc_enter_download_mode", Program),
        (0x06, 0x03, &[], "pccc_diagnostic_status", Diagnostic),
    ];
    let mut c = Conn::new();
    for (n, &(command, function, data, name, class)) in cases.iter().enumerate() {
        let context = n as u64 + 1;
        let req = c.one(
            ToServer,
            &rr(context, &execute_pccc(command, Some(function), data)),
        );
        clean(&req);
        assert_eq!((req.function, req.class), (name, class));
        assert_eq!(req.function_code, Some(0x4B));
        let f = ef(&req);
        assert_eq!(f.service_name, Some("execute_pccc"));
        let p = f.pccc.as_deref().unwrap();
        assert_eq!(
            (p.command, p.function_code, p.status, p.transaction),
            (Some(command), Some(function), 0, 0x1234)
        );
        // The reply takes its request's name and function code.
        let reply = c.one(
            ToClient,
            &rr(context, &execute_pccc_reply(command, &[0x00])),
        );
        clean(&reply);
        assert_eq!((reply.function, reply.class), (name, class));
        let p = ef(&reply).pccc.as_deref().unwrap();
        assert_eq!(p.response_code, Some(command | 0x40));
        assert_eq!(p.function_code, Some(function));
    }
    // A PCCC error with its extended status.
    c.one(
        ToServer,
        &rr(
            90,
            &execute_pccc(0x0F, Some(0xA2), &[0x02, 0x07, 0x89, 0x00, 0x00]),
        ),
    );
    let failed = c.one(ToClient, &rr(90, &execute_pccc_reply(0x0F, &[0xF0, 0x04])));
    let p = ef(&failed).pccc.as_deref().unwrap();
    assert_eq!((p.status, p.extended_status), (0xF0, Some(0x04)));
    // Commands without a function code, or codes Wireshark does not name,
    // stay Execute PCCC.
    let plain = c.one(ToServer, &rr(91, &execute_pccc(0x01, None, &[0x00, 0x00])));
    assert_eq!(
        (plain.function, plain.class),
        ("execute_pccc", FunctionClass::Other)
    );
    assert_eq!(ef(&plain).pccc.as_deref().unwrap().function_code, None);
    let unnamed = c.one(ToServer, &rr(92, &execute_pccc(0x0F, Some(0xEE), &[])));
    assert_eq!(unnamed.function, "execute_pccc");
    // A request cut inside the PCCC command.
    let short = c.one(ToServer, &rr(93, &execute_pccc(0x0F, None, &[])[..15]));
    assert_eq!(short.function, "execute_pccc");
    assert_eq!(anomalies(&short), [TRUNCATED_SERVICE_DATA]);
}

/// Wireshark's name of a PCCC function, as Execute PCCC requests show it
/// in the Info column ("PCCC Class - Execute PCCC - Change CPU mode"), in
/// this decoder's form: `pccc_change_cpu_mode`.
fn wireshark_pccc_name(info: &str) -> String {
    let name = info.rsplit(" - ").next().unwrap();
    // "Upload all request (upload)": the parenthesis repeats the name; a
    // "[Malformed Packet]" mark is about the function data.
    let name = name.split(['(', '[']).next().unwrap();
    let mut out = String::from("pccc");
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.push('_');
        out.push_str(&word.to_ascii_lowercase());
    }
    out
}

#[test]
fn every_pccc_function_name_is_wiresharks() {
    let mut expected = Vec::new();
    let mut messages = Vec::new();
    for command in [0x06u8, 0x07, 0x0F] {
        for code in 0..=u8::MAX {
            if let Some((name, _)) = pccc::describe(command, Some(code)) {
                // Enough function data for any of them.
                let request =
                    execute_pccc(command, Some(code), &[0x02, 0x07, 0x89, 0x00, 0x00, 0x00]);
                messages.push(rr(expected.len() as u64, &request));
                expected.push((command, code, name));
            }
        }
    }
    assert!(expected.len() >= 55, "{}", expected.len());
    let fields = [
        "cip.pccc.cmd.code",
        "cip.pccc.fnc.code_06",
        "cip.pccc.fnc.code_07",
        "cip.pccc.fnc.code_0f",
        "_ws.col.Info",
    ];
    let Some(lines) = tshark(&messages, &fields) else {
        return;
    };
    assert_eq!(lines.len(), expected.len());
    for (line, &(command, code, name)) in lines.iter().zip(&expected) {
        let values: Vec<&str> = line.split('\t').collect();
        assert_eq!(values[0], format!("0x{command:02x}"), "{line}");
        let function = values[1..4].iter().find(|v| !v.is_empty()).unwrap();
        assert_eq!(*function, format!("0x{code:02x}"), "{line}");
        assert_eq!(wireshark_pccc_name(values[4]), name, "{line}");
    }
}

/// A Forward Open for a class 3 connection to the message router.
const FORWARD_OPEN: &[u8] = &[
    0x54, // service: Forward Open
    0x02, // path size
    0x20, 0x06, // class: connection manager
    0x24, 0x01, // instance 1
    0x0A, // priority/time tick
    0x0E, // timeout ticks
    0x00, 0x00, 0x00, 0x00, // O→T connection id (the target chooses)
    0x01, 0x00, 0xFE, 0x80, // T→O connection id 0x80fe0001
    0x05, 0x00, // connection serial number
    0x01, 0x00, // originator vendor id
    0x78, 0x56, 0x34, 0x12, // originator serial number
    0x03, // connection timeout multiplier
    0x00, 0x00, 0x00, // reserved
    0x40, 0x9C, 0x00, 0x00, // O→T RPI: 40000 µs
    0xF8, 0x43, // O→T parameters: point to point, low, variable, 504 bytes
    0x40, 0x9C, 0x00, 0x00, // T→O RPI: 40000 µs
    0xF8, 0x43, // T→O parameters
    0xA3, // transport: server, application object trigger, class 3
    0x03, // connection path size: 3 words
    0x01, 0x00, // port 1, link 0
    0x20, 0x02, // class: message router
    0x24, 0x01, // instance 1
];

#[test]
fn forward_open_and_reply() {
    let mut c = Conn::new();
    let req = c.one(ToServer, &rr(9, FORWARD_OPEN));
    clean(&req);
    assert_eq!(
        (req.function, req.class),
        ("forward_open", FunctionClass::Session)
    );
    let conn = ef(&req).connection.as_deref().expect("connection");
    assert_eq!(conn.t_o_connection_id, Some(0x80FE_0001));
    assert_eq!(conn.connection_serial, 5);
    assert_eq!(
        (conn.originator_vendor_id, conn.originator_serial),
        (1, 0x1234_5678)
    );
    assert_eq!(
        (conn.o_t_rpi_us, conn.t_o_rpi_us),
        (Some(40_000), Some(40_000))
    );
    let net = conn.o_t_network.expect("O→T parameters");
    assert_eq!(
        (net.type_name(), net.priority_name(), net.size),
        ("point_to_point", "low", 504)
    );
    assert!(net.variable_size);
    assert_eq!(conn.transport_class(), Some(3));
    assert_eq!(conn.trigger(), Some("application_object"));
    assert_eq!(conn.role(), Some("server"));
    assert_eq!(
        conn.connection_path.as_deref(),
        Some("port 1 link 0, class 0x02, instance 0x01")
    );
    let reply = c.one(
        ToClient,
        &rr(
            9,
            &[
                0xD4, 0x00, 0x00, 0x00, // Forward Open response: success
                0x01, 0x00, 0x11, 0x00, // O→T connection id 0x00110001
                0x01, 0x00, 0xFE, 0x80, // T→O connection id
                0x05, 0x00, // connection serial number
                0x01, 0x00, // originator vendor id
                0x78, 0x56, 0x34, 0x12, // originator serial number
                0x30, 0x75, 0x00, 0x00, // O→T API: 30000 µs
                0x40, 0x9C, 0x00, 0x00, // T→O API: 40000 µs
                0x00, // application reply size
                0x00, // reserved
            ],
        ),
    );
    clean(&reply);
    assert_eq!(reply.function, "forward_open");
    let conn = ef(&reply).connection.as_deref().expect("connection");
    assert_eq!(conn.o_t_connection_id, Some(0x0011_0001));
    assert_eq!(conn.o_t_api_us, Some(30_000));
    assert_eq!(conn.o_t_rpi_us, Some(40_000), "from the request");
    assert_eq!(conn.transport_class(), Some(3));
    // Connected messages on the new connection pair by sequence count.
    let get = c.one(
        ToServer,
        &unit(
            0x0011_0001,
            1,
            &[0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01],
        ),
    );
    assert_eq!(ef(&get).sequence, Some(1));
    // A reply on a connection no Forward Open here named pairs by sequence count alone.
    let stray = c.one(
        ToClient,
        &unit(0x9999_0001, 1, &[0x8E, 0x00, 0x00, 0x00, 0x01, 0x00]),
    );
    assert_eq!(ef(&stray).request_packet, NonZeroU64::new(3));
    // On a known connection the reply must come on the request's partner.
    c.one(ToServer, &rr(10, FORWARD_OPEN));
    c.one(
        ToServer,
        &unit(
            0x0011_0001,
            2,
            &[0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01],
        ),
    );
    c.one(
        ToClient,
        &rr(
            10,
            &[
                0xD4, 0x00, 0x00, 0x00, 0x02, 0x00, 0x11, 0x00, 0x02, 0x00, 0xFE, 0x80, 0x06, 0x00,
                0x01, 0x00, 0x78, 0x56, 0x34, 0x12, 0x30, 0x75, 0x00, 0x00, 0x40, 0x9C, 0x00, 0x00,
                0x00, 0x00,
            ],
        ),
    );
    let other = c.one(
        ToClient,
        &unit(0x80FE_0002, 2, &[0x8E, 0x00, 0x00, 0x00, 0x01, 0x00]),
    );
    assert!(other.anomalies.contains(RESPONSE_WITHOUT_REQUEST));
    let mut c2 = Conn::new();
    c2.one(ToServer, &rr(9, FORWARD_OPEN));
    c2.one(
        ToClient,
        &rr(
            9,
            &[
                0xD4, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x00, 0x01, 0x00, 0xFE, 0x80, 0x05, 0x00,
                0x01, 0x00, 0x78, 0x56, 0x34, 0x12, 0x30, 0x75, 0x00, 0x00, 0x40, 0x9C, 0x00, 0x00,
                0x00, 0x00,
            ],
        ),
    );
    c2.one(
        ToServer,
        &unit(
            0x0011_0001,
            2,
            &[0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01],
        ),
    );
    let got = c2.one(
        ToClient,
        &unit(0x80FE_0001, 2, &[0x8E, 0x00, 0x00, 0x00, 0x01, 0x00]),
    );
    clean(&got);
    assert_eq!(ef(&got).attribute, Some(1));
    assert_eq!(ef(&got).request_packet, NonZeroU64::new(3));
}

/// Wireshark's reading of EtherNet/IP messages sent from the server's port
/// 44818 in one TCP stream: one line per frame, the `fields` separated by
/// tabs (several values of one field by commas). `None`, with the reason
/// printed, where tshark cannot be run.
fn tshark(messages: &[Vec<u8>], fields: &[&str]) -> Option<Vec<String>> {
    let replies: Vec<_> = messages.iter().map(|m| (ToClient, m.clone())).collect();
    tshark_dialog(&replies, fields)
}

/// [`tshark`] for messages each sent in its direction of one connection
/// (client 10.0.0.1:40000, server 10.0.0.2:44818), so that Wireshark pairs
/// replies with requests.
fn tshark_dialog(messages: &[(Direction, Vec<u8>)], fields: &[&str]) -> Option<Vec<String>> {
    use crate::capture::write::PcapWriter;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enip.pcap");
    let mut pcap = PcapWriter::new(std::fs::File::create(&path).unwrap(), 1, false, false).unwrap();
    let (client, server) = (
        ([2, 0, 0, 0, 0, 1], [10, 0, 0, 1]),
        ([2, 0, 0, 0, 0, 2], [10, 0, 0, 2]),
    );
    let (mut client_seq, mut server_seq) = (1000u32, 5000u32);
    for (n, (direction, message)) in messages.iter().enumerate() {
        let (src, dst, sport, dport, seq, ack) = match direction {
            ToServer => (client, server, 40000, PORT, &mut client_seq, server_seq),
            ToClient => (server, client, PORT, 40000, &mut server_seq, client_seq),
        };
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2(src.0, dst.0)
            .ipv4(src.1, dst.1, 64)
            .tcp(sport, dport, *seq, 8192)
            .psh()
            .ack(ack)
            .write(&mut frame, message)
            .unwrap();
        *seq += message.len() as u32;
        let ts = Timestamp::from_secs(1_700_000_000 + n as i64);
        pcap.packet(ts, &frame, frame.len() as u32).unwrap();
    }
    drop(pcap);
    let mut command = std::process::Command::new("tshark");
    command.arg("-r").arg(&path).args(["-T", "fields"]);
    for field in fields {
        command.args(["-e", field]);
    }
    match command.output() {
        Ok(out) if out.status.success() => Some(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        Ok(out) => panic!("tshark failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            eprintln!("SKIPPED: the Wireshark comparison (cannot run tshark: {e})");
            None
        }
    }
}

/// A Forward Open reply in a SendRRData whose CPF carries both socket
/// address items after the data item.
fn forward_open_reply_with_sockaddrs() -> Vec<u8> {
    let mut d = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle: CIP
        0x00, 0x00, // timeout
        0x04, 0x00, // item count
        0x00, 0x00, 0x00, 0x00, // null address item, length 0
        0xB2, 0x00, 0x1E, 0x00, // unconnected data item, length 30
        0xD4, 0x00, 0x00, 0x00, // Forward Open response: success
        0x10, 0x00, 0x11, 0x00, // O→T connection id 0x00110010
        0x01, 0x00, 0xFE, 0x80, // T→O connection id 0x80fe0001
        0x05, 0x00, // connection serial number
        0x01, 0x00, // originator vendor id
        0x78, 0x56, 0x34, 0x12, // originator serial number
        0x40, 0x9C, 0x00, 0x00, // O→T API: 40000 µs
        0x40, 0x9C, 0x00, 0x00, // T→O API: 40000 µs
        0x00, // application reply size
        0x00, // reserved
        0x00, 0x80, 0x10, 0x00, // sockaddr info O→T item, length 16
        0x00, 0x02, // sin_family (big-endian): AF_INET
        0x08, 0xAE, // sin_port (big-endian): 2222
        0x0A, 0x00, 0x00, 0x05, // sin_addr: 10.0.0.5
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sin_zero
        0x01, 0x80, 0x10, 0x00, // sockaddr info T→O item, length 16
        0x00, 0x02, // sin_family (big-endian): AF_INET
        0x08, 0xAE, // sin_port (big-endian): 2222
        0xEF, 0xC0, 0x01, 0x02, // sin_addr: 239.192.1.2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sin_zero
    ];
    // The encapsulation header says SendRRData with this length.
    let mut m = encap(0x6F, 0x1102_0100, 9, &[]);
    m[2..4].copy_from_slice(&(d.len() as u16).to_le_bytes());
    m.append(&mut d);
    m
}

#[test]
fn sockaddr_items_give_their_address_and_port_as_wireshark_reads_them() {
    let reply_bytes = forward_open_reply_with_sockaddrs();
    let mut c = Conn::new();
    c.one(ToServer, &rr(9, FORWARD_OPEN));
    let reply = c.one(ToClient, &reply_bytes);
    clean(&reply);
    assert_eq!(reply.function, "forward_open");
    let f = ef(&reply);
    assert_eq!(f.items.as_slice(), [0x0000, 0x00B2, 0x8000, 0x8001]);
    let text = |s: Option<SockAddr>| {
        let mut buf = [0; SockAddr::TEXT_LEN];
        s.map(|s| s.text(&mut buf).to_string())
    };
    let sockaddrs = f.sockaddrs.as_deref().unwrap();
    assert_eq!(text(sockaddrs.o_t).as_deref(), Some("10.0.0.5:2222"));
    assert_eq!(text(sockaddrs.t_o).as_deref(), Some("239.192.1.2:2222"));
    if let Some(lines) = tshark(&[reply_bytes], &["enip.sinaddr", "enip.sinport"]) {
        assert_eq!(lines, ["10.0.0.5,239.192.1.2\t2222,2222"]);
    }
    // The longest address fits the text buffer.
    let widest = SockAddr {
        family: SockAddr::AF_INET,
        port: 65535,
        addr: std::net::Ipv4Addr::BROADCAST,
    };
    assert_eq!(text(Some(widest)).as_deref(), Some("255.255.255.255:65535"));
}

/// Where Wireshark's `cip.class`/`cip.instance` list more than the request
/// path's target (docs/events.md, "Paths"): a Forward Open's connection path,
/// and an Unconnected Send's own path on the routed reply.
#[test]
fn class_id_is_the_requests_target_where_wireshark_lists_other_paths() {
    let read_tag_reply = [
        0xCC, // service: Read Tag, response
        0x00, // reserved
        0x00, // general status: success
        0x00, // additional status size
        0xC4, 0x00, // data type: DINT
        0x2A, 0x00, 0x00, 0x00, // value 42
    ];
    let messages = [
        rr(9, FORWARD_OPEN),
        forward_open_reply_with_sockaddrs(),
        rr(0x42, UNCONNECTED_READ_TAG),
        rr(0x42, &read_tag_reply),
    ];
    let mut c = Conn::new();
    let open = c.one(ToServer, &messages[0]);
    let opened = c.one(ToClient, &messages[1]);
    for event in [&open, &opened] {
        let f = ef(event);
        // The Connection Manager is the target; the message router is in the connection path.
        assert_eq!((f.class, f.instance), (Some(6), Some(1)));
        let path = f.connection.as_ref().unwrap().connection_path.as_deref();
        assert_eq!(path, Some("port 1 link 0, class 0x02, instance 0x01"));
    }
    let routed = c.stream(ToServer, &messages[2]);
    assert_eq!(
        (ef(&routed[0]).class, ef(&routed[0]).instance),
        (Some(6), Some(1))
    );
    assert_eq!(ef(&routed[1]).class, None);
    let reply = c.one(ToClient, &messages[3]);
    let f = ef(&reply);
    // The reply answers the Read Tag: its path, not the Unconnected Send's.
    assert_eq!(
        (f.class, f.instance, f.tag.as_deref()),
        (None, None, Some("Counts[3]"))
    );
    assert_eq!(f.route_path.as_deref(), Some("1,0"));
    let dialog: Vec<_> = [ToServer, ToClient, ToServer, ToClient]
        .into_iter()
        .zip(messages)
        .collect();
    let Some(lines) = tshark_dialog(&dialog, &["cip.class", "cip.instance"]) else {
        return;
    };
    assert_eq!(
        lines,
        [
            "0x06,0x02\t0x01,0x01",
            "0x06,0x02\t0x01,0x01",
            "0x06\t0x01",
            "0x06\t0x01",
        ]
    );
}

#[test]
fn a_malformed_sockaddr_item_is_reported() {
    let mut reply = forward_open_reply_with_sockaddrs();
    // The T→O item's family: 0x1700 is no AF_INET.
    let family = reply.len() - 16;
    reply[family..family + 2].copy_from_slice(&[0x17, 0x00]);
    let mut c = Conn::new();
    let event = c.one(ToClient, &reply);
    assert_eq!(
        anomalies(&event),
        [BAD_SOCKADDR_ITEM, RESPONSE_WITHOUT_REQUEST]
    );
    // Still read: the address is there.
    assert!(ef(&event).sockaddrs.as_ref().unwrap().t_o.is_some());
    // An O→T item cut to 4 bytes has no address.
    let mut short = forward_open_reply_with_sockaddrs();
    let item = 24 + 8 + 4 + 4 + 30; // header, CPF head, null item, data item
    short[item + 2..item + 4].copy_from_slice(&4u16.to_le_bytes());
    short.drain(item + 8..item + 20);
    let len = (short.len() - 24) as u16;
    short[2..4].copy_from_slice(&len.to_le_bytes());
    let event = c.one(ToClient, &short);
    assert!(anomalies(&event).contains(&BAD_SOCKADDR_ITEM));
    let sockaddrs = ef(&event).sockaddrs.as_deref().unwrap();
    assert_eq!(sockaddrs.o_t, None);
    assert!(sockaddrs.t_o.is_some());
}

#[test]
fn failed_forward_open_and_forward_close() {
    let mut c = Conn::new();
    c.one(ToServer, &rr(1, FORWARD_OPEN));
    let failed = c.one(
        ToClient,
        &rr(
            1,
            &[
                0xD4, 0x00, // Forward Open response
                0x01, // general status: connection failure
                0x01, // additional status size
                0x00, 0x01, // extended status 0x0100: connection in use
                0x05, 0x00, // connection serial number
                0x01, 0x00, // originator vendor id
                0x78, 0x56, 0x34, 0x12, // originator serial number
                0x00, // remaining path size
                0x00, // reserved
            ],
        ),
    );
    clean(&failed);
    assert_eq!(ef(&failed).extended_status, Some(0x0100));
    let conn = ef(&failed).connection.as_deref().unwrap();
    assert_eq!(conn.remaining_path_size, Some(0));
    assert_eq!(conn.o_t_rpi_us, Some(40_000));
    let close = c.one(
        ToServer,
        &rr(
            2,
            &[
                0x4E, // service: Forward Close
                0x02, 0x20, 0x06, 0x24, 0x01, // connection manager
                0x0A, 0x0E, // priority/time tick, timeout ticks
                0x05, 0x00, // connection serial number
                0x01, 0x00, // originator vendor id
                0x78, 0x56, 0x34, 0x12, // originator serial number
                0x03, // connection path size
                0x00, // reserved
                0x01, 0x00, 0x20, 0x02, 0x24, 0x01, // port 1 link 0, router instance 1
            ],
        ),
    );
    clean(&close);
    assert_eq!(
        (close.function, close.class),
        ("forward_close", FunctionClass::Session)
    );
    assert_eq!(
        ef(&close).connection.as_deref().unwrap().connection_serial,
        5
    );
}

#[test]
fn large_forward_open_has_32_bit_parameters() {
    let mut data = FORWARD_OPEN.to_vec();
    data[0] = 0x5B; // service: Large Forward Open
    // O→T and T→O parameters become 32-bit: multicast, high, fixed, 1000 bytes.
    let params = 0x2400_03E8u32.to_le_bytes();
    data.splice(38..40, params); // T→O first: the O→T splice shifts it
    data.splice(32..34, params);
    let mut c = Conn::new();
    let req = c.one(ToServer, &rr(1, &data));
    clean(&req);
    assert_eq!(req.function, "large_forward_open");
    let conn = ef(&req).connection.as_deref().unwrap();
    let net = conn.t_o_network.unwrap();
    assert_eq!(
        (net.type_name(), net.priority_name(), net.size),
        ("multicast", "high", 1000)
    );
    assert_eq!(conn.transport_class(), Some(3));
    assert_eq!(conn.t_o_rpi_us, Some(40_000));
}

#[test]
fn paths_name_tags_members_and_keys() {
    let mut a = Anomalies::new();
    let path = [
        0x91, 0x0C, b'P', b'r', b'o', b'g', b'r', b'a', b'm', b':', b'M', b'a', b'i',
        b'n', // "Program:Main"
        0x91, 0x03, b'T', b'a', b'g', 0x00, // "Tag", pad
        0x28, 0x03, // element 3 (8-bit)
        0x29, 0x00, 0x02, 0x01, // element 0x0102 (16-bit)
        0x91, 0x01, b'X', 0x00, // ".X"
    ];
    let info = parse_path(&path, false, &mut a);
    assert!(a.is_empty());
    assert_eq!(info.tag.as_deref(), Some("Program:Main.Tag[3,258].X"));
    assert_eq!(info.class, None);
    let path = [
        0x34, 0x04, // electronic key, format 4
        0x01, 0x00, 0x0C, 0x00, 0x3A, 0x00, 0x84,
        0x03, // vendor 1, type 12, product 58, rev 4.3
        0x21, 0x00, 0x04, 0x00, // class 0x0004 (16-bit)
        0x26, 0x00, 0x00, 0x00, 0x01, 0x00, // instance 0x00010000 (32-bit)
        0x2C, 0x65, // connection point 0x65
        0x28, 0x07, // member 7 (no symbol before it)
        0x12, 0x0A, b'1', b'0', b'.', b'0', b'.', b'0', b'.', b'2', b'5',
        b'4', // port 2, link 10.0.0.254
    ];
    let info = parse_path(&path, true, &mut a);
    assert!(a.is_empty(), "{:?}", a.iter().collect::<Vec<_>>());
    assert_eq!(info.class, Some(4));
    assert_eq!(info.instance, Some(0x0001_0000));
    assert_eq!(info.connection_point, Some(0x65));
    assert_eq!(info.member, Some(7));
    assert_eq!(info.route.as_deref(), Some("2,10.0.0.254"));
    assert!(
        info.text
            .as_deref()
            .unwrap()
            .starts_with("key vendor 1 device_type 12 product_code 58 revision 4.3, class 0x04")
    );
    // Reserved logical format, then a truncated segment.
    let mut a = Anomalies::new();
    parse_path(&[0x23, 0x01], false, &mut a);
    assert_eq!(a.iter().collect::<Vec<_>>(), [INVALID_PATH_SEGMENT]);
    let mut a = Anomalies::new();
    parse_path(&[0x25, 0x00, 0x01], false, &mut a);
    assert_eq!(a.iter().collect::<Vec<_>>(), [TRUNCATED_PATH_SEGMENT]);
}

#[test]
fn truncated_cip_messages() {
    let mut c = Conn::new();
    // Path size of 4 words, 1 word present.
    let req = c.one(ToServer, &rr(1, &[0x0E, 0x04, 0x20, 0x01]));
    assert_eq!(anomalies(&req), [TRUNCATED_PATH]);
    assert_eq!(ef(&req).class, Some(1));
    // A response header cut short.
    let resp = c.one(ToClient, &rr(1, &[0x8E, 0x00]));
    assert!(resp.anomalies.contains(TRUNCATED_CIP_MESSAGE));
    // Forward Open data cut short.
    let short = c.one(ToServer, &rr(2, &FORWARD_OPEN[..20]));
    assert!(short.anomalies.contains(TRUNCATED_SERVICE_DATA));
    // A CPF item longer than the message.
    let mut m = rr(3, &[0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01]);
    m[38] = 0x40; // unconnected data item length: 64
    let pdu = c.one(ToServer, &m);
    assert!(pdu.anomalies.contains(TRUNCATED_CPF_ITEM));
    assert_eq!(pdu.function, "get_attribute_single");
    // SendRRData without a data item.
    let pdu = c.one(
        ToServer,
        &encap(
            0x6F,
            1,
            0,
            &[0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00],
        ),
    );
    assert_eq!(pdu.protocol, Protocol::Enip);
    assert_eq!(anomalies(&pdu), [MISSING_DATA_ITEM]);
}

// ------------------------------------------------------------------ framing

#[test]
fn stream_framing_waits_for_whole_messages() {
    let mut c = Conn::new();
    let msg = rr(1, &[0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01]);
    assert_eq!(c.feed(ToServer, &msg[..10]), 0);
    assert_eq!(c.feed(ToServer, &msg[..30]), 0);
    let mut two = msg.clone();
    two.extend_from_slice(&msg[..5]);
    assert_eq!(c.feed(ToServer, &two), msg.len());
    assert_eq!(c.events.len(), 1);
}

#[test]
fn garbage_is_reported_and_skipped_to_the_next_header() {
    let mut c = Conn::new();
    let mut data = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    data.extend_from_slice(&encap(0x66, 1, 0, &[]));
    let pdus = c.stream(ToServer, &data);
    assert_eq!(pdus.len(), 2);
    assert_eq!(pdus[0].function, "invalid");
    assert_eq!(pdus[0].function_code, None);
    assert_eq!(
        anomalies(&pdus[0]),
        [INVALID_ENCAPSULATION_HEADER, UNKNOWN_COMMAND]
    );
    assert_eq!(ef(&pdus[0]).skipped_bytes, Some(18));
    assert_eq!(pdus[1].function, "unregister_session");
}

// ---------------------------------------------------------------------- I/O

/// icsnpp_enip_cip_example frame 377: class 1 I/O.
const IO_PACKET: &[u8] = &[
    0x02, 0x00, // item count
    0x02, 0x80, // item type: sequenced address
    0x08, 0x00, // item length
    0x03, 0x06, 0x4B, 0x00, // connection id 0x004b0603
    0xDB, 0x94, 0x3F, 0x00, // encapsulation sequence number 4166875
    0xB1, 0x00, // item type: connected data
    0x06, 0x00, // item length
    0xA5, 0x87, // CIP sequence count
    0x00, 0x00, 0x00, 0x00, // data
];

#[test]
fn implicit_io_datagram() {
    let mut c = Conn::new();
    let pdus = c.datagram(ToServer, IO_PACKET);
    assert_eq!(pdus.len(), 1);
    let io = &pdus[0];
    clean(io);
    assert_eq!(io.protocol, Protocol::Cip);
    assert_eq!((io.function, io.function_code), ("implicit_io", None));
    let f = ef(io);
    assert_eq!(f.kind, Kind::Io);
    assert_eq!(f.items.as_slice(), [0x8002, 0x00B1]);
    assert_eq!(f.connection_id, Some(0x004B_0603));
    assert_eq!(f.sequence, Some(4_166_875));
    assert_eq!(f.cip_sequence, Some(0x87A5));
    assert_eq!(f.data_length, Some(6));
    // Not I/O, not an encapsulation header.
    let pdus = c.datagram(ToServer, b"\x01\x02\x03");
    assert_eq!(pdus[0].function, "invalid");
}

// ------------------------------------------------------------------- probes

#[test]
fn probes_recognise_structure_not_port() {
    let register = encap(0x65, 0, 0, &[0x01, 0x00, 0x00, 0x00]);
    assert_eq!(probe(&register, ToServer, true), Probe::Match);
    assert_eq!(probe(&register, ToServer, false), Probe::Match);
    assert_eq!(probe(&register[..10], ToServer, false), Probe::NeedMore);
    assert_eq!(probe(&register[..1], ToServer, true), Probe::NeedMore);
    let mut bad_length = register.clone();
    bad_length[2] = 6;
    assert_eq!(probe(&bad_length, ToServer, true), Probe::NoMatch);
    // Other protocols on port 44818.
    let others: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[
            0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03,
        ], // TLS ClientHello
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ], // Modbus
        &[0x05, 0x64, 0x05, 0xC9, 0x01, 0x00, 0x00, 0x04, 0xE9, 0x21], // DNP3
        &[
            0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00,
        ], // TPKT/COTP
        // Modbus whose transaction id reads as RegisterSession, length 0.
        &[
            0x65, 0x00, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0x65, 0x01,
            0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A,
        ],
        &[0x00; 24], // NOP
    ];
    for other in others {
        assert_eq!(probe(other, ToServer, true), Probe::NoMatch, "{other:02x?}");
        assert_eq!(
            probe(other, ToServer, false),
            Probe::NoMatch,
            "{other:02x?}"
        );
    }
    // Off the port, a message that decodes with structural anomalies is refused.
    let broken = rr(1, &[0x0E, 0x09, 0x20]);
    assert_eq!(probe(&broken, ToServer, true), Probe::Match);
    assert_eq!(probe(&broken, ToServer, false), Probe::NoMatch);
    // The registry finds it on another port.
    assert!(matches!(
        detect_stream(1234, ToServer, &register),
        Detection::Found(_)
    ));
}

#[test]
fn datagram_probe() {
    assert_eq!(probe_datagram(IO_PACKET, ToServer, false), Probe::Match);
    assert_eq!(
        probe_datagram(LIST_IDENTITY_REPLY, ToClient, true),
        Probe::Match
    );
    assert_eq!(
        probe_datagram(LIST_IDENTITY_REPLY, ToClient, false),
        Probe::Match
    );
    let list = encap(0x63, 0, 0, &[]);
    assert_eq!(probe_datagram(&list, ToServer, true), Probe::Match);
    assert_eq!(probe_datagram(&list[..20], ToServer, true), Probe::NoMatch);
    // A DNS query and SNMP on the I/O port.
    let dns = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, b'w', b'w',
        b'w', 0x00, 0x00, 0x01, 0x00, 0x01,
    ];
    assert_eq!(probe_datagram(&dns, ToServer, true), Probe::NoMatch);
    let snmp = [
        0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c',
    ];
    assert_eq!(probe_datagram(&snmp, ToServer, true), Probe::NoMatch);
    assert!(matches!(
        detect_datagram(IO_PORT, ToServer, IO_PACKET),
        Detection::Found(_)
    ));
}

// ------------------------------------------------------------- robustness

/// xorshift64: reproducible pseudo-random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_and_mutated_input_never_panics_and_progresses() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds: Vec<Vec<u8>> = vec![
        LIST_IDENTITY_REPLY.to_vec(),
        rr(1, UNCONNECTED_READ_TAG),
        rr(2, FORWARD_OPEN),
        unit(5, 6, MSP_REQUEST),
        IO_PACKET.to_vec(),
    ];
    for round in 0..4000 {
        let data = if round % 2 == 0 {
            let len = (rng.next() % 200) as usize;
            let mut d = rng.bytes(len);
            // Often start with a valid command so that deeper code runs.
            if len >= 2 && round % 4 == 0 {
                d[0] = [0x6F, 0x70, 0x63, 0x04][(rng.next() % 4) as usize];
                d[1] = 0;
            }
            d
        } else {
            let mut d = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % d.len();
                d[at] = rng.next() as u8;
            }
            if rng.next().is_multiple_of(3) {
                d.truncate((rng.next() as usize) % (d.len() + 1));
            }
            d
        };
        let mut c = Conn::new();
        let dir = if round % 3 == 0 { ToClient } else { ToServer };
        // The stream parser consumes everything but an incomplete message.
        let used = c.feed(dir, &data);
        assert!(used <= data.len());
        if used < data.len() {
            assert_eq!(framing(&data[used..]), Framing::Incomplete, "{data:02x?}");
        }
        c.datagram(dir, &data);
        let _ = probe(&data, dir, round % 2 == 0);
        let _ = probe_datagram(&data, dir, round % 2 == 0);
        for event in &c.events {
            let mut sink = Sink;
            event.pdu.fields.visit(&mut sink);
        }
    }
}

struct Sink;

impl Visitor for Sink {
    fn field(&mut self, _name: &str, _value: Value<'_>) {}
    fn begin(&mut self, _name: &str, _nest: Nest) {}
    fn end(&mut self) {}
}
