//! Unit tests: BACnet/IP datagrams inline, a comment per field. Many are
//! frames of `icsnpp_bacnet_error_reject_abort.pcap` and
//! `icsnpp_bacnet_example.pcap` (frame numbers given); the others were
//! checked against Wireshark 4.0's reading of the same bytes.

use super::*;
use crate::event::{Event, Header, Transport};
use crate::output::events::Renderer;
use crate::time::Timestamp;

fn fields(pdu: &Pdu) -> &BacnetFields {
    match &pdu.fields {
        Fields::Bacnet(f) => f,
        _ => panic!("no BACnet fields"),
    }
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

/// An Original-Unicast-NPDU around `npdu` (NPDU header and APDU).
fn unicast(npdu: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x81, // BVLC type: BACnet/IP
        0x0a, // function: Original-Unicast-NPDU
    ];
    d.extend_from_slice(&(npdu.len() as u16 + 4).to_be_bytes()); // BVLC length
    d.extend_from_slice(npdu);
    d
}

/// An NPDU without routing information around `apdu`.
fn local(expecting_reply: bool, apdu: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x01,                                      // NPDU version
        if expecting_reply { 0x04 } else { 0x00 }, // control
    ];
    d.extend_from_slice(apdu);
    unicast(&d)
}

fn objects(f: &BacnetFields) -> Vec<(u16, u32)> {
    f.objects
        .as_slice()
        .iter()
        .map(|o| (o.object_type, o.instance))
        .collect()
}

/// The event as `events.jsonl` has it (secrets redacted).
fn json(pdu: Pdu) -> serde_json::Value {
    let header = Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet: 1,
        seq: 1,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(47808),
        dst_port: Some(47808),
        transport: Transport::Udp,
    };
    let mut out = Vec::new();
    Renderer::new(Vec::new()).render(&Event { header, pdu }, &mut out);
    serde_json::from_slice(&out).unwrap()
}

// ---------------------------------------------------------------- BVLC

#[test]
fn bvlc_result_is_a_response_with_its_code() {
    let pdu = decode(&[
        0x81, // BVLC type
        0x00, // BVLC-Result
        0x00, 0x06, // length
        0x00, 0x30, // result: Register-Foreign-Device NAK
    ]);
    let f = fields(&pdu);
    assert_eq!(pdu.function, "bvlc_result");
    assert_eq!(pdu.class, FunctionClass::Session);
    assert!(pdu.is_response);
    assert_eq!(pdu.function_code, None);
    assert_eq!(f.bvlc_function, Some(0));
    assert_eq!(f.bvlc_result, Some(0x30));
    assert_eq!(json(pdu)["bvlc_result_name"], "register_foreign_device_nak");
}

#[test]
fn register_foreign_device_gives_its_time_to_live() {
    let pdu = decode(&[
        0x81, // BVLC type
        0x05, // Register-Foreign-Device
        0x00, 0x06, // length
        0x00, 0x3c, // time-to-live: 60 s
    ]);
    assert_eq!(pdu.function, "register_foreign_device");
    assert_eq!(pdu.class, FunctionClass::Session);
    assert!(!pdu.is_response);
    assert_eq!(fields(&pdu).ttl, Some(60));
    assert!(pdu.anomalies.is_empty());
}

#[test]
fn broadcast_distribution_table_ack_lists_its_entries() {
    let pdu = decode(&[
        0x81, // BVLC type
        0x03, // Read-Broadcast-Distribution-Table-Ack
        0x00, 0x18, // length: 4 + 2 entries
        0xc0, 0xa8, 0x00, 0x01, 0xba, 0xc0, // 192.168.0.1:47808
        0xff, 0xff, 0xff, 0xff, // mask
        0xc0, 0xa8, 0x01, 0x01, 0xba, 0xc0, // 192.168.1.1:47808
        0xff, 0xff, 0xff, 0x00, // mask
    ]);
    assert_eq!(pdu.function, "read_broadcast_distribution_table_ack");
    assert_eq!(pdu.class, FunctionClass::Discovery);
    assert!(pdu.is_response);
    let j = json(pdu);
    assert_eq!(j["table_entries"], 2);
    assert_eq!(j["table"][0]["address"], "192.168.0.1:47808");
    assert_eq!(j["table"][1]["address"], "192.168.1.1:47808");
    assert_eq!(j["table"][1]["mask"], "255.255.255.0");
}

#[test]
fn long_tables_are_cut_at_sixteen_entries() {
    let mut d = vec![
        0x81, // BVLC type
        0x01, // Write-Broadcast-Distribution-Table
        0x00, 0xcc, // length: 4 + 20 entries
    ];
    for i in 0..20 {
        d.extend([10, 0, 0, i, 0xba, 0xc0, 0xff, 0xff, 0xff, 0xff]); // 10.0.0.i:47808, mask
    }
    let pdu = decode(&d);
    let f = fields(&pdu);
    assert_eq!(pdu.function, "write_broadcast_distribution_table");
    assert_eq!(f.table_entries, Some(20));
    assert_eq!(f.table.len(), MAX_TABLE);
    assert!(pdu.anomalies.is_empty());
}

#[test]
fn foreign_device_table_ack_and_entry_deletion() {
    let ack = decode(&[
        0x81, // BVLC type
        0x07, // Read-Foreign-Device-Table-Ack
        0x00, 0x0e, // length
        0xc0, 0xa8, 0x00, 0x02, 0xba, 0xc0, // 192.168.0.2:47808
        0x00, 0x3c, // time-to-live: 60
        0x00, 0x50, // remaining: 80
    ]);
    let entry = fields(&ack).table.first().unwrap();
    assert_eq!(entry.address.to_string(), "192.168.0.2:47808");
    assert_eq!((entry.ttl, entry.remaining), (Some(60), Some(80)));
    let delete = decode(&[
        0x81, // BVLC type
        0x08, // Delete-Foreign-Device-Table-Entry
        0x00, 0x0a, // length
        0xc0, 0xa8, 0x00, 0x02, 0xba, 0xc0, // 192.168.0.2:47808
    ]);
    assert_eq!(delete.function, "delete_foreign_device_table_entry");
    assert_eq!(
        fields(&delete)
            .fdt_address
            .map(|a| a.to_string())
            .as_deref(),
        Some("192.168.0.2:47808")
    );
}

#[test]
fn forwarded_i_am_gives_the_original_address_and_no_identity() {
    let pdu = decode(&[
        0x81, // BVLC type
        0x04, // Forwarded-NPDU
        0x00, 0x1a, // length
        0xc0, 0xa8, 0x00, 0x63, 0xba, 0xc0, // original address 192.168.0.99:47808
        0x01, 0x00, // NPDU version, control
        0x10, 0x00, // unconfirmed request, I-Am
        0xc4, 0x02, 0x00, 0x00, 0x65, // device 101
        0x22, 0x04, 0x00, // max APDU 1024
        0x91, 0x00, // segmented-both
        0x21, 0x01, // vendor 1
    ]);
    let f = fields(&pdu);
    assert_eq!(pdu.function, "i_am");
    assert_eq!(f.bvlc_function, Some(4));
    assert_eq!(
        f.original_address.map(|a| a.to_string()).as_deref(),
        Some("192.168.0.99:47808")
    );
    assert_eq!(f.vendor_id, Some(1));
    // The BBMD relays the I-Am: it does not describe the IP sender.
    assert!(pdu.identity.is_none());
}

#[test]
fn malformed_bvlc() {
    let short = decode(&[0x81, 0x0a, 0x00]);
    assert_eq!(short.function, "invalid");
    assert_eq!(anomalies(&short), ["truncated_bvlc"]);
    let not_bvlc = decode(b"GET / HTTP/1.1\r\n");
    assert_eq!(not_bvlc.function, "invalid");
    assert_eq!(not_bvlc.function_code, None);
    assert_eq!(anomalies(&not_bvlc), ["invalid_bvlc_header"]);
    let unknown = decode(&[
        0x81, // BVLC type
        0x0d, // function 13: not defined
        0x00, 0x04, // length
    ]);
    assert_eq!(unknown.function, "unknown_bvlc_function");
    assert_eq!(anomalies(&unknown), ["unknown_bvlc_function"]);
    let long = decode(&[
        0x81, // BVLC type
        0x05, // Register-Foreign-Device
        0x00, 0x07, // length
        0x00, 0x3c, 0x00, // TTL and one octet too many
    ]);
    assert_eq!(anomalies(&long), ["trailing_bytes"]);
}

/// Frame 1123 of `icsnpp_bacnet_example.pcap`: the BVLC length (17) is short
/// of the datagram (23); the whole datagram is decoded, as Wireshark does.
#[test]
fn wrong_bvlc_length_is_reported_and_the_datagram_decoded() {
    let pdu = decode(&[
        0x81, 0x0a, // BVLC: Original-Unicast-NPDU
        0x00, 0x11, // length 17 (the datagram has 23 octets)
        0x01, 0x04, // NPDU: version, expecting reply
        0x00, 0x05, 0x65, 0x14, // confirmed request, invoke 101, ReinitializeDevice
        0x09, 0x06, // [0] state: abort-restore
        0x1d, 0x09, 0x00, b'S', b'w', b'a', b'b', b'l', b'u', b'8', b'8', // [1] password
    ]);
    assert_eq!(pdu.function, "reinitialize_device");
    assert_eq!(anomalies(&pdu), ["bvlc_length_mismatch"]);
    assert_eq!(fields(&pdu).password.as_deref(), Some("Swablu88"));
}

// ---------------------------------------------------------------- NPDU

#[test]
fn network_layer_messages() {
    // ndpi_bacnet.pcapng frame 22
    let pdu = decode(&[
        0x81, 0x0b, 0x00, 0x0d, // BVLC: Original-Broadcast-NPDU, length
        0x01, // NPDU version
        0xa0, // control: network layer message, destination specifier
        0xff, 0xff, // DNET: global broadcast
        0x00, // DLEN: broadcast
        0xff, // hop count
        0x01, // I-Am-Router-To-Network
        0x00, 0x00, // network 0
    ]);
    let f = fields(&pdu);
    assert_eq!(pdu.function, "i_am_router_to_network");
    assert_eq!(pdu.class, FunctionClass::Discovery);
    assert!(pdu.is_response);
    assert_eq!(pdu.function_code, None);
    assert_eq!(f.control, Some(0xa0));
    assert_eq!((f.dnet, f.hop_count), (Some(0xffff), Some(255)));
    assert_eq!(f.network_message_type, Some(1));
    assert_eq!(f.networks.as_slice(), [0]);
    assert_eq!(f.apdu_type, None);
    let could_be = decode(&[
        0x81, 0x0a, 0x00, 0x0a, // BVLC
        0x01, 0x80, // NPDU: version, network layer message
        0x02, // I-Could-Be-Router-To-Network
        0x00, 0x05, // network 5
        0x32, // performance index 50
    ]);
    assert_eq!(could_be.function, "i_could_be_router_to_network");
    assert_eq!(fields(&could_be).performance_index, Some(50));
    let unknown = decode(&[
        0x81, 0x0a, 0x00, 0x07, // BVLC
        0x01, 0x80, // NPDU: version, network layer message
        0x40, // message type 0x40: not defined
    ]);
    assert_eq!(unknown.function, "unknown_network_message");
    assert_eq!(anomalies(&unknown), ["unknown_network_message"]);
    let proprietary = decode(&[
        0x81, 0x0a, 0x00, 0x0a, // BVLC
        0x01, 0x80, // NPDU: version, network layer message
        0x80, // proprietary message type
        0x01, 0x04, // vendor 260
        0xaa, // data
    ]);
    assert_eq!(proprietary.function, "proprietary_network_message");
    assert_eq!(fields(&proprietary).nlm_vendor_id, Some(260));
    assert!(proprietary.anomalies.is_empty());
}

#[test]
fn routed_npdu_gives_addresses_and_no_identity() {
    let pdu = decode(&unicast(&[
        0x01, // NPDU version
        0x28, // control: destination and source specifiers
        0x00, 0x07, 0x01, 0x0a, // DNET 7, DLEN 1, DADR 0a
        0x00, 0x03, 0x01, 0x14, // SNET 3, SLEN 1, SADR 14
        0xff, // hop count
        0x10, 0x00, // unconfirmed request, I-Am
        0xc4, 0x02, 0x00, 0x00, 0x65, // device 101
        0x22, 0x04, 0x00, // max APDU 1024
        0x91, 0x03, // no segmentation
        0x21, 0x05, // vendor 5
    ]));
    let f = fields(&pdu);
    assert_eq!((f.dnet, f.snet), (Some(7), Some(3)));
    assert_eq!(f.sadr.unwrap().octets(), [0x14]);
    assert_eq!(f.hop_count, Some(255));
    // A router relays the I-Am of a device behind it.
    assert!(pdu.identity.is_none());
    let j = json(pdu);
    assert_eq!(j["dadr"], "0a");
    assert_eq!(j["segmentation"], "no_segmentation");
}

#[test]
fn malformed_npdu() {
    let version = decode(&unicast(&[
        0x02, 0x00, // NPDU version 2
        0x10, 0x08, // Who-Is
    ]));
    assert_eq!(anomalies(&version), ["invalid_npdu_version"]);
    assert_eq!(fields(&version).npdu_version, Some(2));
    let truncated = decode(&unicast(&[
        0x01, 0x20, // version, destination specifier
        0xff, // DNET cut short
    ]));
    assert_eq!(truncated.function, "invalid");
    assert_eq!(anomalies(&truncated), ["truncated_npdu"]);
    let empty = decode(&unicast(&[0x01, 0x00]));
    assert_eq!(anomalies(&empty), ["missing_apdu"]);
    let bad_source = decode(&unicast(&[
        0x01, 0x08, // version, source specifier
        0x00, 0x03, 0x00, // SNET 3, SLEN 0: not allowed
        0x10, 0x08, // Who-Is
    ]));
    assert_eq!(bad_source.function, "who_is");
    assert_eq!(anomalies(&bad_source), ["invalid_network_address"]);
}

/// A datagram that starts with the NPDU (no BVLC).
#[test]
fn bare_npdu_is_decoded() {
    let pdu = decode(&[
        0x01, 0x00, // NPDU version, control
        0x10, 0x08, // Who-Is
    ]);
    assert_eq!(pdu.function, "who_is");
    assert_eq!(fields(&pdu).bvlc_function, None);
    assert!(pdu.anomalies.is_empty());
}

// ---------------------------------------------------------------- APDU

/// `icsnpp_bacnet_example.pcap` frames 1 and 2.
#[test]
fn read_property_request_and_ack() {
    let req = decode(&local(
        true,
        &[
            0x00, // confirmed request
            0x05, // max segments unspecified, max APDU 1476
            0x01, // invoke id
            0x0c, // ReadProperty
            0x0c, 0x00, 0x00, 0x00, 0x01, // [0] analog-input 1
            0x19, 0x4d, // [1] object-name
        ],
    ));
    let f = fields(&req);
    assert_eq!(req.function, "read_property");
    assert_eq!(req.class, FunctionClass::Read);
    assert_eq!(req.function_code, Some(12));
    assert!(!req.is_response);
    assert_eq!(
        (f.apdu_type, f.invoke_id, f.service),
        (Some(0), Some(1), Some(12))
    );
    assert_eq!(f.max_apdu, Some(1476));
    assert_eq!(objects(f), [(0, 1)]);
    assert_eq!(f.property(), Some(77));
    assert!(f.expecting_reply);
    assert!(req.anomalies.is_empty());
    let ack = decode(&local(
        false,
        &[
            0x30, // complex ACK
            0x01, // invoke id
            0x0c, // ReadProperty
            0x0c, 0x00, 0x00, 0x00, 0x01, // [0] analog-input 1
            0x19, 0x4d, // [1] object-name
            0x3e, // [3] opening
            0x75, 0x05, 0x00, b'A', b'I', b'_', b'1', // character string "AI_1"
            0x3f, // [3] closing
        ],
    ));
    assert!(ack.is_response);
    assert_eq!(ack.function, "read_property");
    assert_eq!(fields(&ack).value, Some(PropertyValue::Text("AI_1".into())));
    // Not a device object: no identity.
    assert!(ack.identity.is_none());
    let j = json(ack);
    assert_eq!(j["object_type_name"], "analog_input");
    assert_eq!(j["property_name"], "object_name");
    assert_eq!(j["value"], "AI_1");
}

/// The identifying properties of a device object describe the device
/// that answers (`icsnpp_bacnet_example.pcap` frame 133 and those after).
#[test]
fn device_properties_give_the_identity() {
    let ack = |property: u8, value: &[u8]| {
        let mut apdu = vec![
            0x30, 0x01, 0x0c, // complex ACK, invoke id, ReadProperty
            0x0c, 0x02, 0x00, 0x01, 0xf5, // [0] device 501
            0x19, property, // [1] property
            0x3e,     // [3] opening
        ];
        apdu.extend_from_slice(value);
        apdu.push(0x3f); // [3] closing
        decode(&local(false, &apdu))
    };
    let text = |s: &str| {
        let mut v = vec![0x75, s.len() as u8 + 1, 0x00]; // character string, UTF-8
        v.extend_from_slice(s.as_bytes());
        v
    };
    let name = ack(77, &text("PLC_28")); // object-name
    let identity = name.identity.as_deref().unwrap();
    assert_eq!(identity.station_name.as_deref(), Some("PLC_28"));
    assert_eq!(identity.device_type.as_deref(), Some("bacnet_device"));
    let model = ack(70, &text("HIY-054")); // model-name
    assert_eq!(model.identity.unwrap().product.as_deref(), Some("HIY-054"));
    let firmware = ack(44, &text("4.2.1")); // firmware-revision
    assert_eq!(
        firmware.identity.unwrap().firmware.as_deref(),
        Some("4.2.1")
    );
    let vendor = ack(121, &text("Acme")); // vendor-name
    assert_eq!(vendor.identity.unwrap().vendor.as_deref(), Some("Acme"));
    let vendor_id = ack(120, &[0x21, 0x05]); // vendor-identifier: 5
    let identity = vendor_id.identity.unwrap();
    assert_eq!(identity.vendor_id, Some(5));
    assert!(identity.vendor.unwrap().contains("Johnson Controls"));
    // application-software-version is reported, not taken as the firmware
    let software = ack(12, &text("2.0"));
    assert!(software.identity.is_none());
    assert_eq!(
        fields(&software).value,
        Some(PropertyValue::Text("2.0".into()))
    );
}

#[test]
fn read_property_multiple_request_lists_every_property() {
    // icsnpp_bacnet_error_reject_abort.pcap frame 14
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0e, // confirmed request, invoke 1, ReadPropertyMultiple
            0x0c, 0x02, 0x00, 0x00, 0x65, // [0] device 101
            0x1e, // [1] opening
            0x09, 0x79, // [0] vendor-name
            0x09, 0x46, // [0] model-name
            0x09, 0x1c, // [0] description
            0x09, 0x4c, // [0] object-list
            0x1f, // [1] closing
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(pdu.function, "read_property_multiple");
    assert_eq!(objects(f), [(8, 101)]);
    assert_eq!(f.properties.as_slice(), [121, 70, 28, 76]);
    let j = json(pdu);
    assert_eq!(j["properties"], serde_json::json!([121, 70, 28, 76]));
    assert!(j.get("objects").is_none(), "one object: no list");
}

#[test]
fn read_property_multiple_ack_with_an_access_error() {
    let pdu = decode(&local(
        false,
        &[
            0x30, 0x01, 0x0e, // complex ACK, invoke 1, ReadPropertyMultiple
            0x0c, 0x02, 0x00, 0x00, 0x65, // [0] device 101
            0x1e, // [1] opening: results
            0x29, 0x4d, // [2] object-name
            0x4e, 0x75, 0x05, 0x00, b'T', b'e', b's', b't', 0x4f, // [4] "Test"
            0x29, 0x46, // [2] model-name
            0x4e, 0x75, 0x05, 0x00, b'M', b'o', b'd', b'e', 0x4f, // [4] "Mode"
            0x29, 0x1c, // [2] description
            0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, // [5] error: property, unknown-property
            0x1f, // [1] closing
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(f.properties.as_slice(), [77, 70, 28]);
    assert_eq!((f.error_class, f.error_code), (Some(2), Some(32)));
    let identity = pdu.identity.as_deref().unwrap();
    assert_eq!(identity.station_name.as_deref(), Some("Test"));
    assert_eq!(identity.product.as_deref(), Some("Mode"));
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 15.
#[test]
fn write_property_with_priority() {
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0f, // confirmed request, invoke 1, WriteProperty
            0x0c, 0x00, 0x40, 0x00, 0x00, // [0] analog-output 0
            0x19, 0x55, // [1] present-value
            0x3e, 0x44, 0x42, 0xa0, 0x00, 0x00, 0x3f, // [3] real 80.0
            0x49, 0x05, // [4] priority 5
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(pdu.function, "write_property");
    assert_eq!(pdu.class, FunctionClass::Write);
    assert_eq!(objects(f), [(1, 0)]);
    assert_eq!(f.property(), Some(85));
    assert_eq!(f.priority, Some(5));
    assert_eq!(f.value, Some(PropertyValue::Real(80.0)));
    assert!(pdu.anomalies.is_empty());
    let bad_priority = decode(&local(
        true,
        &[
            0x00, 0x05, 0x04, 0x0f, // confirmed request, invoke 4, WriteProperty
            0x0c, 0x00, 0x40, 0x00, 0x01, // [0] analog-output 1
            0x19, 0x55, // [1] present-value
            0x3e, 0x44, 0x42, 0xc8, 0x00, 0x00, 0x3f, // [3] real 100.0
            0x49, 0x11, // [4] priority 17
        ],
    ));
    assert_eq!(anomalies(&bad_priority), ["invalid_priority"]);
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 16.
#[test]
fn write_property_multiple_lists_objects_and_properties() {
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x10, // confirmed request, invoke 1, WritePropertyMultiple
            0x0c, 0x01, 0x00, 0x00, 0x00, // [0] binary-output 0
            0x1e, // [1] opening
            0x09, 0x55, // [0] present-value
            0x2e, 0x44, 0x00, 0x00, 0x00, 0x00, 0x2f, // [2] real 0
            0x39, 0x05, // [3] priority 5
            0x1f, // [1] closing
            0x0c, 0x01, 0x00, 0x00, 0x01, // [0] binary-output 1
            0x1e, // [1] opening
            0x09, 0x55, // [0] present-value
            0x2e, 0x44, 0x00, 0x00, 0x00, 0x00, 0x2f, // [2] real 0
            0x39, 0x05, // [3] priority 5
            0x1f, // [1] closing
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(objects(f), [(4, 0), (4, 1)]);
    assert_eq!(f.properties.as_slice(), [85, 85]);
    assert_eq!(f.priority, Some(5));
    let j = json(pdu);
    assert_eq!(j["objects"][1]["instance"], 1);
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 17: the password is a
/// cleartext credential, redacted in the output.
#[test]
fn device_communication_control_password_is_a_secret() {
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x11, // confirmed request, invoke 1, DeviceCommunicationControl
            0x09, 0x3c, // [0] duration 60 min
            0x19, 0x01, // [1] disable
            0x2d, 0x09, 0x00, b'f', b'i', b'l', b'i', b's', b't', b'e', b'r', // [2] password
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(pdu.function, "device_communication_control");
    assert_eq!(pdu.class, FunctionClass::Control);
    assert_eq!(f.duration, Some(60));
    assert_eq!(f.password.as_deref(), Some("filister"));
    assert_eq!(f.password_present, Some(true));
    let j = json(pdu);
    assert_eq!(j["enable_disable"], "disable");
    assert_eq!(j["password"], "<redacted>");
    assert_eq!(j["password_present"], true);
    let without = decode(&local(
        true,
        &[
            0x00, 0x05, 0x09, 0x11, // confirmed request, invoke 9, DeviceCommunicationControl
            0x19, 0x00, // [1] enable
        ],
    ));
    assert_eq!(fields(&without).password_present, Some(false));
    assert!(without.anomalies.is_empty());
}

#[test]
fn reinitialize_device_and_its_password_failure() {
    // icsnpp_bacnet_error_reject_abort.pcap frame 19
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x14, // confirmed request, invoke 1, ReinitializeDevice
            0x09, 0x00, // [0] coldstart
        ],
    ));
    assert_eq!(pdu.class, FunctionClass::Control);
    assert_eq!(json(pdu)["reinitialized_state"], "coldstart");
    // frame 43: the error answering a wrong password
    let error = decode(&unicast(&[
        0x01, 0x20, 0x00, 0x0d, 0x01, 0x3d, 0xff, // NPDU: DNET 13, DADR 3d, hop count
        0x50, // error
        0x34, // invoke id 52
        0x14, // ReinitializeDevice
        0x91, 0x05, // error class: services
        0x91, 0x1a, // error code: password-failure
    ]));
    let f = fields(&error);
    assert_eq!(error.function, "reinitialize_device");
    assert_eq!(error.function_code, Some(20));
    assert!(error.is_response);
    assert_eq!((f.error_class, f.error_code), (Some(5), Some(26)));
    assert_eq!(json(error)["error_code_name"], "password_failure");
}

#[test]
fn reject_abort_and_segment_ack() {
    // icsnpp_bacnet_error_reject_abort.pcap frames 44 and 45
    let reject = decode(&local(
        false,
        &[
            0x60, // reject
            0x3a, // invoke id 58
            0x09, // unrecognized-service
        ],
    ));
    assert_eq!(reject.function, "reject");
    assert_eq!(reject.function_code, None);
    assert!(reject.is_response);
    assert_eq!(fields(&reject).reject_reason, Some(9));
    let abort = decode(&local(
        false,
        &[
            0x70, // abort, sent by the client
            0x01, // invoke id
            0x00, // other
        ],
    ));
    assert_eq!(abort.function, "abort");
    assert!(!abort.is_response);
    assert_eq!(json(abort)["abort_reason_name"], "other");
    let ack = decode(&local(
        false,
        &[
            0x43, // segment ACK, negative, sent by the server
            0x05, // invoke id
            0x02, // sequence number
            0x04, // actual window size
        ],
    ));
    let f = fields(&ack);
    assert_eq!(ack.function, "segment_ack");
    assert_eq!(ack.class, FunctionClass::Session);
    assert!(ack.is_response && f.negative_ack && f.server);
    assert_eq!((f.sequence_number, f.window_size), (Some(2), Some(4)));
}

/// Each segment is an event; its service is named, not decoded.
#[test]
fn segmented_complex_ack() {
    let pdu = decode(&local(
        false,
        &[
            0x3c, // complex ACK, segmented, more follows
            0x05, // invoke id
            0x00, // sequence number
            0x02, // proposed window size
            0x0c, // ReadProperty
            0x0c, 0x02, 0x00, 0x00, 0x65, // [0] device 101
            0x19, 0x4c, // [1] object-list
            0x3e, 0xc4, 0x02, 0x00, 0x00, 0x65, 0xc4, // value, cut by the segment
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(pdu.function, "read_property");
    assert!(f.segmented && f.more_follows);
    assert_eq!((f.sequence_number, f.window_size), (Some(0), Some(2)));
    assert!(f.objects.is_empty());
    assert!(pdu.anomalies.is_empty());
}

#[test]
fn i_am_gives_the_device_identity() {
    // icsnpp_bacnet_example.pcap frame 74
    let pdu = decode(&local(
        false,
        &[
            0x10, 0x00, // unconfirmed request, I-Am
            0xc4, 0x02, 0x00, 0x02, 0xd1, // device 721
            0x22, 0x05, 0xc4, // max APDU 1476
            0x91, 0x00, // segmented-both
            0x21, 0x0f, // vendor 15
        ],
    ));
    let f = fields(&pdu);
    assert_eq!(pdu.function, "i_am");
    assert_eq!(pdu.class, FunctionClass::Discovery);
    assert_eq!(pdu.function_code, Some(0));
    assert!(pdu.is_response);
    assert_eq!(objects(f), [(8, 721)]);
    assert_eq!(
        (f.max_apdu, f.segmentation, f.vendor_id),
        (Some(1476), Some(0), Some(15))
    );
    let identity = pdu.identity.as_deref().unwrap();
    assert_eq!(identity.vendor_id, Some(15));
    assert_eq!(identity.vendor.as_deref(), Some("Cornell University"));
    assert_eq!(identity.device_type.as_deref(), Some("bacnet_device"));
    let short = decode(&local(
        false,
        &[
            0x10, 0x00, // unconfirmed request, I-Am
            0xc4, 0x02, 0x00, 0x02, 0xd1, // device 721, nothing more
        ],
    ));
    assert_eq!(anomalies(&short), ["missing_parameter"]);
}

#[test]
fn who_is_who_has_and_i_have() {
    let who_is = decode(&local(
        false,
        &[
            0x10, 0x08, // unconfirmed request, Who-Is
            0x09, 0x00, // [0] low limit 0
            0x1a, 0x0f, 0xff, // [1] high limit 4095
        ],
    ));
    let f = fields(&who_is);
    assert_eq!((f.low_limit, f.high_limit), (Some(0), Some(4095)));
    assert!(!who_is.is_response);
    // icsnpp_bacnet_error_reject_abort.pcap frame 36
    let who_has = decode(&local(
        false,
        &[
            0x10, 0x07, // unconfirmed request, Who-Has
            0x3d, 0x08, 0x00, b'S', b'Y', b'N', b'E', b'R', b'G', b'Y', // [3] object name
        ],
    ));
    assert_eq!(fields(&who_has).object_name.as_deref(), Some("SYNERGY"));
    // frame 30
    let i_have = decode(&local(
        false,
        &[
            0x10, 0x01, // unconfirmed request, I-Have
            0xc4, 0x02, 0x00, 0x00, 0x3d, // device 61
            0xc4, 0x02, 0x00, 0x00, 0x3d, // object device 61
            0x75, 0x08, 0x00, b'S', b'Y', b'N', b'E', b'R', b'G', b'Y', // name
        ],
    ));
    assert_eq!(objects(fields(&i_have)), [(8, 61), (8, 61)]);
    assert!(i_have.is_response);
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 41: the device that asks
/// for its identifier describes itself; frame 42, You-Are, describes the
/// device it configures.
#[test]
fn who_am_i_describes_its_sender_and_you_are_does_not() {
    let who_am_i = decode(&local(
        false,
        &[
            0x10, 0x0d, // unconfirmed request, Who-Am-I
            0x22, 0x02, 0x2b, // vendor 555
            0x75, 0x07, 0x00, b'L', b'M', b'C', b'P', b'2', b'4', // model name
            0x75, 0x06, 0x00, b'1', b'2', b'3', b'4', b'5', // serial number
        ],
    ));
    let identity = who_am_i.identity.as_deref().unwrap();
    assert_eq!(identity.vendor_id, Some(555));
    assert_eq!(identity.vendor, None, "555 is reserved");
    assert_eq!(identity.product.as_deref(), Some("LMCP24"));
    assert_eq!(identity.serial.as_deref(), Some("12345"));
    let you_are = decode(&local(
        false,
        &[
            0x10, 0x0e, // unconfirmed request, You-Are
            0x22, 0x02, 0x2b, // vendor 555
            0x75, 0x07, 0x00, b'L', b'M', b'C', b'P', b'2', b'4', // model name
            0x75, 0x06, 0x00, b'1', b'2', b'3', b'4', b'5', // serial number
            0xc4, 0x02, 0x00, 0x00, 0x03, // device 3
            0x61, 0x2a, // MAC address
        ],
    ));
    assert_eq!(you_are.class, FunctionClass::Write);
    assert!(you_are.identity.is_none());
    assert_eq!(objects(fields(&you_are)), [(8, 3)]);
    assert!(you_are.anomalies.is_empty());
}

#[test]
fn cov_subscription_and_notification() {
    let subscribe = decode(&local(
        true,
        &[
            0x00, 0x05, 0x0b, 0x05, // confirmed request, invoke 11, SubscribeCOV
            0x09, 0x12, // [0] process 18
            0x1c, 0x00, 0x00, 0x00, 0x01, // [1] analog-input 1
            0x29, 0x01, // [2] confirmed notifications
            0x39, 0x3c, // [3] lifetime 60 s
        ],
    ));
    let f = fields(&subscribe);
    assert_eq!(subscribe.class, FunctionClass::Read);
    assert_eq!((f.process_id, f.lifetime), (Some(18), Some(60)));
    assert_eq!(f.confirmed_notifications, Some(true));
    // icsnpp_bacnet_error_reject_abort.pcap frame 2
    let notification = decode(&local(
        false,
        &[
            0x00, 0x05, 0x01, 0x01, // confirmed request, invoke 1, ConfirmedCOVNotification
            0x09, 0x01, // [0] process 1
            0x1c, 0x02, 0x00, 0x04, 0xd2, // [1] device 1234
            0x2c, 0x00, 0x40, 0x00, 0x01, // [2] analog-output 1
            0x3a, 0x02, 0x57, // [3] time remaining 599 s
            0x4e, // [4] opening: values
            0x09, 0x55, 0x2e, 0x44, 0x00, 0x00, 0x00, 0x00, 0x2f, // present-value 0.0
            0x09, 0x6f, 0x2e, 0x82, 0x04, 0x00, 0x2f, // status-flags
            0x4f, // [4] closing
        ],
    ));
    let f = fields(&notification);
    assert_eq!(objects(f), [(8, 1234), (1, 1)]);
    assert_eq!(f.properties.as_slice(), [85, 111]);
    assert_eq!(f.time_remaining, Some(599));
    assert!(notification.anomalies.is_empty());
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frames 7 and 8.
#[test]
fn atomic_file_access() {
    let read = decode(&local(
        true,
        &[
            0x00, 0x05, 0x36, 0x06, // confirmed request, invoke 54, AtomicReadFile
            0xc4, 0x02, 0x80, 0x00, 0x00, // file 0
            0x0e, // [0] opening: stream access
            0x31, 0x00, // start position 0
            0x22, 0x01, 0xb8, // octet count 440
            0x0f, // [0] closing
        ],
    ));
    let f = fields(&read);
    assert_eq!(
        (read.function, read.class),
        ("atomic_read_file", FunctionClass::Read)
    );
    assert_eq!(objects(f), [(10, 0)]);
    assert_eq!(
        (f.file_access, f.file_start, f.file_length),
        (Some("stream"), Some(0), Some(440))
    );
    let write = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x07, // confirmed request, invoke 1, AtomicWriteFile
            0xc4, 0x02, 0x80, 0x00, 0x00, // file 0
            0x0e, // [0] opening: stream access
            0x31, 0x00, // start position 0
            0x65, 0x04, b'#', b'!', b'/', b'b', // file data, 4 octets
            0x0f, // [0] closing
        ],
    ));
    let f = fields(&write);
    assert_eq!(write.class, FunctionClass::Program);
    assert_eq!(f.file_length, Some(4));
    assert!(write.anomalies.is_empty());
    let ack = decode(&local(
        false,
        &[
            0x30, 0x06, 0x06, // complex ACK, invoke 6, AtomicReadFile
            0x11, // end of file: true
            0x0e, // [0] opening
            0x31, 0x00, // start position 0
            0x63, b'a', b'b', b'c', // 3 octets
            0x0f, // [0] closing
        ],
    ));
    let f = fields(&ack);
    assert_eq!((f.end_of_file, f.file_length), (Some(true), Some(3)));
    assert!(ack.anomalies.is_empty());
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 35.
#[test]
fn time_synchronization() {
    let pdu = decode(&local(
        false,
        &[
            0x10, 0x06, // unconfirmed request, TimeSynchronization
            0xa4, 0xd9, 0x0a, 0x01, 0x01, // date 2117-10-01, Monday
            0xb4, 0x0a, 0x2c, 0x2f, 0x33, // time 10:44:47.51
        ],
    ));
    assert_eq!(pdu.class, FunctionClass::Control);
    assert_eq!(fields(&pdu).time.as_deref(), Some("2117-10-01T10:44:47.51"));
}

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 18.
#[test]
fn private_transfer_names_its_vendor() {
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x34, 0x12, // confirmed request, invoke 52, ConfirmedPrivateTransfer
            0x09, 0x07, // [0] vendor 7
            0x1a, 0x01, 0xff, // [1] service number 511
            0x2e, 0x00, 0x2f, // [2] parameters: NULL
        ],
    ));
    let f = fields(&pdu);
    assert_eq!((f.vendor_id, f.service_number), (Some(7), Some(511)));
    assert!(f.vendor().unwrap().starts_with("Siemens"));
    assert_eq!(pdu.class, FunctionClass::Other);
}

// ------------------------------------------------------ malformed APDUs

/// `icsnpp_bacnet_error_reject_abort.pcap` frame 9, which Wireshark finds
/// malformed: a Real added to a recipient-list, whose elements are
/// BACnetDestinations.
#[test]
fn value_that_cannot_be_the_property_s() {
    let pdu = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x08, // confirmed request, invoke 1, AddListElement
            0x0c, 0x03, 0xc0, 0x00, 0x01, // [0] notification-class 1
            0x19, 0x66, // [1] recipient-list
            0x3e, 0x44, 0x42, 0xc8, 0x00, 0x00, 0x3f, // [3] real 100.0
        ],
    ));
    assert_eq!(pdu.function, "add_list_element");
    assert_eq!(anomalies(&pdu), ["invalid_property_value"]);
    // Array index 0 reads an array's length: an Unsigned is right there.
    let length = decode(&local(
        false,
        &[
            0x30, 0x01, 0x0c, // complex ACK, invoke 1, ReadProperty
            0x0c, 0x02, 0x00, 0x00, 0x65, // [0] device 101
            0x19, 0x4c, // [1] object-list
            0x29, 0x00, // [2] array index 0
            0x3e, 0x21, 0x03, 0x3f, // [3] unsigned 3
        ],
    ));
    assert!(length.anomalies.is_empty());
}

#[test]
fn tag_errors() {
    let truncated = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0c, // ReadProperty
            0x0c, 0x02, 0x00, // [0] object identifier cut short
        ],
    ));
    assert_eq!(anomalies(&truncated), ["truncated_tag"]);
    let invalid = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0c, // ReadProperty
            0x06, // application tag 0 marked opening: not allowed
        ],
    ));
    assert_eq!(anomalies(&invalid), ["invalid_tag"]);
    let unbalanced = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0f, // WriteProperty
            0x0c, 0x00, 0x40, 0x00, 0x00, // [0] analog-output 0
            0x19, 0x55, // [1] present-value
            0x3e, 0x44, 0x42, 0xa0, 0x00, 0x00, // [3] opening, real, no closing
        ],
    ));
    assert_eq!(anomalies(&unbalanced), ["unbalanced_tags"]);
    let object = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0c, // ReadProperty
            0x0b, 0x02, 0x00, 0x00, // [0] object identifier of 3 octets
            0x19, 0x4d, // [1] object-name
        ],
    ));
    assert!(anomalies(&object).contains(&"invalid_value"));
    let mut deep = vec![0x00, 0x05, 0x01, 0x0f]; // WriteProperty
    deep.extend([0x0c, 0x00, 0x40, 0x00, 0x00, 0x19, 0x55]); // object, property
    deep.extend([0x3e; 20]); // [3] opening, twenty times
    let deep = decode(&local(true, &deep));
    assert_eq!(anomalies(&deep), ["nesting_too_deep"]);
}

#[test]
fn missing_parameters_and_unknown_codes() {
    let missing = decode(&local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0c, // ReadProperty
            0x0c, 0x02, 0x00, 0x00, 0x65, // [0] device 101, no property
        ],
    ));
    assert_eq!(anomalies(&missing), ["missing_parameter"]);
    let service = decode(&local(true, &[0x00, 0x05, 0x01, 0x50])); // service 80
    assert_eq!(service.function, "unknown_service");
    assert_eq!(service.function_code, Some(80));
    assert_eq!(anomalies(&service), ["unknown_service"]);
    let kind = decode(&local(false, &[0x90, 0x00])); // APDU type 9
    assert_eq!(kind.function, "unknown_apdu_type");
    assert_eq!(anomalies(&kind), ["unknown_apdu_type"]);
    let header = decode(&local(true, &[0x00, 0x05])); // confirmed request cut short
    assert_eq!(header.function, "invalid");
    assert_eq!(anomalies(&header), ["truncated_apdu"]);
    let max_apdu = decode(&local(true, &[0x00, 0x0f, 0x01, 0x03])); // max APDU code 15
    assert_eq!(anomalies(&max_apdu), ["invalid_max_apdu"]);
    let flags = decode(&local(false, &[0x34, 0x01, 0x0c])); // more follows, not segmented
    assert!(anomalies(&flags).contains(&"invalid_segmentation"));
}

// ---------------------------------------------------------------- probe

#[test]
fn probe_on_the_bacnet_port() {
    let i_am = local(
        false,
        &[
            0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x65, 0x22, 0x04, 0x00, 0x91, 0x00, 0x21, 0x01,
        ],
    );
    assert_eq!(probe(&i_am, Direction::ToServer, true), Probe::Match);
    // BVLC messages without NPDU are recognised on 47808 only.
    let register = [0x81, 0x05, 0x00, 0x06, 0x00, 0x3c];
    assert_eq!(probe(&register, Direction::ToServer, true), Probe::Match);
    assert_eq!(probe(&register, Direction::ToServer, false), Probe::NoMatch);
    // A wrong BVLC length is accepted on 47808 when an NPDU follows.
    let mut wrong = i_am.clone();
    wrong[3] = 0x11;
    assert_eq!(probe(&wrong, Direction::ToServer, true), Probe::Match);
    assert_eq!(probe(&wrong, Direction::ToServer, false), Probe::NoMatch);
    let mut unknown_function = register;
    unknown_function[1] = 0x20;
    assert_eq!(
        probe(&unknown_function, Direction::ToServer, true),
        Probe::NoMatch
    );
}

#[test]
fn probe_elsewhere_needs_a_clean_npdu() {
    let read = local(
        true,
        &[
            0x00, 0x05, 0x01, 0x0c, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19, 0x4d, // ReadProperty
        ],
    );
    assert_eq!(probe(&read, Direction::ToServer, false), Probe::Match);
    let broken = local(true, &[0x00, 0x05, 0x01, 0x0c, 0x0c, 0x00]); // cut object identifier
    assert_eq!(probe(&broken, Direction::ToServer, false), Probe::NoMatch);
}

#[test]
fn other_protocols_are_not_bacnet() {
    let others: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00], // TLS ClientHello
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01,
        ], // Modbus
        &[0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21], // DNP3
        &[0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00],             // TPKT/COTP
        &[0x81, 0x0a, 0x00], // too short for a BVLC header
        &[],
    ];
    for bytes in others {
        for on_port in [true, false] {
            assert_eq!(
                probe(bytes, Direction::ToServer, on_port),
                Probe::NoMatch,
                "{bytes:02x?}"
            );
        }
    }
}

// -------------------------------------------------------------- parser

#[test]
fn parser_emits_one_event_per_datagram() {
    let mut parser = BacnetParser::new();
    let mut events = Vec::new();
    let header = Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet: 3,
        seq: 3,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(47808),
        dst_port: Some(47808),
        transport: Transport::Udp,
    };
    for datagram in [
        &local(false, &[0x10, 0x08])[..], // Who-Is
        &[0x81, 0x02, 0x00, 0x04],        // Read-BDT
        &[0xff],                          // garbage
    ] {
        let mut out = Emitter::new(header, Direction::ToServer, &mut events);
        parser.parse(datagram, &mut out);
    }
    let functions: Vec<&str> = events.iter().map(|e| e.pdu.function).collect();
    assert_eq!(
        functions,
        ["who_is", "read_broadcast_distribution_table", "invalid"]
    );
    assert!(events.iter().all(|e| e.header.packet == 3));
}

#[test]
fn names_cover_every_event() {
    let names = function_names();
    for name in [
        "i_am",
        "read_property",
        "bvlc_result",
        "who_is_router_to_network",
        "segment_ack",
        "invalid",
        "unknown_service",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    // BVLC functions that carry an NPDU are named after their content.
    assert!(!names.contains(&"original_unicast_npdu"));
    assert_eq!(names::property(85), Some("present_value"));
    assert_eq!(names::property(18), None, "deleted from the standard");
    assert_eq!(names::object_type(8), Some("device"));
}

// ------------------------------------------------------- robustness

/// xorshift64: reproducible pseudo-random numbers without a dependency.
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

/// Random datagrams, and valid ones mutated, never panic and always give
/// exactly one event; every anomaly is a declared name.
#[test]
fn random_and_mutated_datagrams_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds: Vec<Vec<u8>> = vec![
        local(
            false,
            &[
                0x30, 0x01, 0x0e, 0x0c, 0x02, 0x00, 0x00, 0x65, 0x1e, 0x29, 0x4d, 0x4e, 0x75, 0x03,
                0x00, b'A', b'B', 0x4f, 0x29, 0x1c, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, 0x1f,
            ],
        ),
        local(
            true,
            &[
                0x00, 0x05, 0x01, 0x10, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x09, 0x55, 0x2e, 0x44,
                0x00, 0x00, 0x00, 0x00, 0x2f, 0x39, 0x05, 0x1f,
            ],
        ),
        vec![
            0x81, 0x0b, 0x00, 0x0d, 0x01, 0xa0, 0xff, 0xff, 0x00, 0xff, 0x01, 0x00, 0x00,
        ],
        vec![
            0x81, 0x04, 0x00, 0x1a, 0xc0, 0xa8, 0x00, 0x63, 0xba, 0xc0, 0x01, 0x00, 0x10, 0x00,
            0xc4, 0x02, 0x00, 0x00, 0x65, 0x22, 0x04, 0x00, 0x91, 0x00, 0x21, 0x01,
        ],
    ];
    let names = function_names();
    for round in 0..20_000 {
        let datagram = if round % 2 == 0 {
            let len = (rng.next() % 64) as usize;
            let mut d = rng.bytes(len);
            // Half of them start like BACnet/IP, to get past the BVLC.
            if round % 4 == 0 && d.len() >= 6 {
                d[..6].copy_from_slice(&[0x81, 0x0a, 0x00, len as u8, 0x01, 0x00]);
            }
            d
        } else {
            let mut d = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % d.len();
                d[at] = rng.next() as u8;
            }
            d.truncate(1 + (rng.next() as usize) % d.len());
            d
        };
        let pdu = decode(&datagram);
        for name in pdu.anomalies.iter() {
            assert!(anomaly::ALL.contains(&name), "undeclared anomaly {name}");
        }
        assert!(names.contains(&pdu.function), "{}", pdu.function);
        let _ = probe(&datagram, Direction::ToServer, round % 3 == 0);
        let _ = json(pdu);
    }
}
