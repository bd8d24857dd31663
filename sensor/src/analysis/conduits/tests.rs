use std::net::IpAddr;
use std::path::Path;

use super::*;
use crate::analysis::policy::{Source, load};
use crate::event::{Anomalies, Fields, Header, Pdu, Transport};
use crate::flow::FlowKey;
use crate::packet::{Network, Packet, Transport as L4};
use crate::pipeline::{FlowEnd, FlowSummary};
use crate::protocols::snmp::SnmpFields;

const POLICY: &str = r#"
[[zone]]
name = "supervisory"
cidrs = ["10.10.1.0/24"]
security_level = 2
purdue_level = 2

[[zone]]
name = "control"
cidrs = ["10.10.2.0/24"]
macs = ["00:80:f4:00:00:99"]
security_level = 3
purdue_level = 1

[[conduit]]
name = "scada"
zones = ["supervisory", "control"]
initiator = "supervisory"
allow = [{ protocols = ["modbus"], classes = ["read"] }]
"#;

fn policy() -> Policy {
    load(&[Source {
        name: "plant.toml".into(),
        text: POLICY.into(),
    }])
    .unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs)
}

/// A PDU from `src` to `dst` on flow `flow`.
fn pdu(
    flow: u64,
    (src, dst): (&str, &str),
    (protocol, function, class): (Protocol, &'static str, FunctionClass),
    is_response: bool,
    at: i64,
) -> Event {
    Event {
        header: Header {
            ts: t(at),
            capture: 0,
            packet: at as u64,
            seq: at as u64,
            flow,
            src_mac: None,
            dst_mac: None,
            src_ip: Some(ip(src)),
            dst_ip: Some(ip(dst)),
            src_port: None,
            dst_port: None,
            transport: Transport::Tcp,
        },
        pdu: Pdu {
            protocol,
            is_response,
            function_code: None,
            function,
            class,
            anomalies: Anomalies::new(),
            fields: Fields::None,
            identity: None,
        },
    }
}

fn modbus(flow: u64, src: &str, dst: &str, function: &'static str, response: bool) -> Event {
    let class = if function.starts_with("write") {
        FunctionClass::Write
    } else {
        FunctionClass::Read
    };
    pdu(
        flow,
        (src, dst),
        (Protocol::Modbus, function, class),
        response,
        100,
    )
}

fn tcp_flow(
    id: u64,
    client: (&str, u16),
    server: (&str, u16),
    protocol: Option<Protocol>,
) -> FlowRecord {
    let packet = Packet {
        network: Network::Ipv4,
        transport: L4::Tcp,
        ip_proto: 6,
        src_ip: Some(ip(client.0)),
        dst_ip: Some(ip(server.0)),
        src_port: client.1,
        dst_port: server.1,
        ..Packet::default()
    };
    let (key, client) = FlowKey::of(&packet).unwrap();
    FlowRecord {
        id,
        key,
        client,
        first_seen: t(90),
        last_seen: t(110),
        packets: [3, 2],
        bytes: [300, 200],
        protocol,
        summary: FlowSummary::default(),
        end: FlowEnd::EndOfInput,
    }
}

fn run(events: &[Event], flows: &[FlowRecord]) -> ObservedConduits {
    let policy = policy();
    let inventory = Inventory::new();
    let mut map = ConduitMap::new(&policy);
    for event in events {
        map.event(event, &policy, &inventory);
    }
    for flow in flows {
        map.flow_ended(flow, &policy, &inventory);
    }
    map.finish(&policy, &[])
}

#[test]
fn protocol_indexes_follow_the_declaration_order() {
    for (i, p) in Protocol::ALL.iter().enumerate() {
        assert_eq!(*p as usize, i, "{}", p.name());
    }
    for (i, c) in FunctionClass::ALL.iter().enumerate() {
        assert_eq!(*c as usize, i, "{}", c.name());
    }
}

#[test]
fn requests_and_responses_count_from_the_requesters_zone() {
    let hmi = "10.10.1.10";
    let plc = "10.10.2.1";
    let events = [
        modbus(1, hmi, plc, "read_holding_registers", false),
        modbus(1, plc, hmi, "read_holding_registers", true),
        modbus(1, hmi, plc, "write_single_register", false),
        modbus(1, plc, hmi, "write_single_register", true),
    ];
    let flows = [tcp_flow(
        1,
        (hmi, 40000),
        (plc, 502),
        Some(Protocol::Modbus),
    )];
    let observed = run(&events, &flows);
    assert_eq!(observed.pairs.len(), 1, "{:?}", observed.pairs);
    let pair = observed.pair("supervisory", "control").unwrap();
    assert_eq!(
        (pair.events, pair.flows, pair.packets, pair.bytes),
        (4, 1, 5, 500)
    );
    assert_eq!(
        (pair.first_seen, pair.last_seen),
        (Some(t(90)), Some(t(110)))
    );
    assert_eq!(pair.conduit.as_ref().unwrap().name, "scada");
    let modbus = &pair.protocols[0];
    assert_eq!(modbus.protocol, "modbus");
    assert_eq!(
        (
            modbus.requests,
            modbus.responses,
            modbus.flows,
            modbus.bytes
        ),
        (2, 2, 1, 500)
    );
    assert_eq!(
        modbus.classes,
        [("read".to_string(), 1), ("write".to_string(), 1)].into()
    );
    assert_eq!(
        modbus.functions,
        [
            ("read_holding_registers".to_string(), 2),
            ("write_single_register".to_string(), 2)
        ]
        .into()
    );
    assert_eq!(modbus.acting_requests(), 1);
    assert_eq!(pair.talkers.len(), 1);
    let talker = &pair.talkers[0];
    assert_eq!((talker.src.as_str(), talker.dst.as_str()), (hmi, plc));
    assert_eq!((talker.events, talker.flows, talker.bytes), (4, 1, 500));
    assert!(pair.other_talkers.is_empty());
}

#[test]
fn addresses_outside_every_zone_are_untrusted_when_public_and_unzoned_otherwise() {
    let events = [
        pdu(
            1,
            ("10.10.2.1", "52.1.2.3"),
            (Protocol::Mqtt, "publish", FunctionClass::Write),
            false,
            1,
        ),
        pdu(
            2,
            ("192.168.9.9", "10.10.2.1"),
            (Protocol::Modbus, "read_coils", FunctionClass::Read),
            false,
            2,
        ),
        // Multicast stays in the sender's zone.
        pdu(
            3,
            ("10.10.1.10", "224.0.0.251"),
            (Protocol::Mdns, "query", FunctionClass::Discovery),
            false,
            3,
        ),
    ];
    let observed = run(&events, &[]);
    let names: Vec<(&str, &str)> = observed
        .pairs
        .iter()
        .map(|p| (p.from.as_str(), p.to.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("control", "untrusted"),
            ("supervisory", "supervisory"),
            ("unzoned", "control")
        ]
    );
    assert!(observed.pairs.iter().all(|p| p.conduit.is_none()));
}

#[test]
fn undecoded_flows_are_counted_by_service_and_l2_ends_by_zone_mac() {
    let flows = [
        tcp_flow(1, ("10.10.1.10", 40000), ("10.10.2.1", 8080), None),
        tcp_flow(2, ("10.10.1.11", 40001), ("10.10.2.1", 8080), None),
        tcp_flow(3, ("10.10.1.11", 40002), ("10.10.2.2", 22), None),
    ];
    let mut goose = pdu(
        4,
        ("0.0.0.0", "0.0.0.0"),
        (Protocol::Goose, "goose", FunctionClass::Other),
        false,
        5,
    );
    goose.header.src_ip = None;
    goose.header.dst_ip = None;
    goose.header.src_mac = Some([0x00, 0x80, 0xf4, 0x00, 0x00, 0x99]);
    goose.header.dst_mac = Some([0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01]);
    let observed = run(&[goose], &flows);
    let pair = observed.pair("supervisory", "control").unwrap();
    let services: Vec<(&str, u64, u64)> = pair
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.flows, s.bytes))
        .collect();
    assert_eq!(services, [("tcp/22", 1, 500), ("tcp/8080", 2, 1000)]);
    assert!(pair.protocols.is_empty());
    let goose = observed.pair("control", "control").unwrap();
    assert_eq!(goose.events, 1);
    assert_eq!(goose.talkers[0].src, "00:80:f4:00:00:99");
}

#[test]
fn layer2_ends_are_placed_by_the_ips_the_inventory_saw_at_their_mac() {
    let policy = policy();
    let mut inventory = Inventory::new();
    let mac = [0x00, 0x0e, 0x8c, 0x00, 0x00, 0x01];
    // The inventory learns 10.10.1.10 at that MAC from an IP flow's first packet.
    let packet = Packet {
        network: Network::Ipv4,
        transport: L4::Tcp,
        ip_proto: 6,
        src_ip: Some(ip("10.10.1.10")),
        dst_ip: Some(ip("10.10.2.1")),
        src_port: 40000,
        dst_port: 502,
        ..Packet::default()
    };
    let (key, side) = FlowKey::of(&packet).unwrap();
    inventory.flow_started(&crate::pipeline::FlowStart {
        id: 1,
        key,
        first: side,
        client: side,
        opens: true,
        midstream: false,
        ts: t(1),
        seq: 1,
        capture: 0,
        packet: 1,
        src_mac: Some(mac),
        dst_mac: None,
    });
    let mut dcp = pdu(
        2,
        ("0.0.0.0", "0.0.0.0"),
        (Protocol::ProfinetDcp, "identify", FunctionClass::Discovery),
        false,
        2,
    );
    dcp.header.src_ip = None;
    dcp.header.dst_ip = None;
    dcp.header.src_mac = Some(mac);
    dcp.header.dst_mac = Some([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);
    let mut map = ConduitMap::new(&policy);
    map.event(&dcp, &policy, &inventory);
    let observed = map.finish(&policy, &[]);
    assert!(
        observed.pair("supervisory", "supervisory").is_some(),
        "{:?}",
        observed.pairs
    );
}

#[test]
fn cleartext_credentials_and_snmp_versions_are_noted() {
    let mut get = pdu(
        1,
        ("10.10.1.50", "10.10.2.1"),
        (Protocol::Snmp, "get_request", FunctionClass::Read),
        false,
        1,
    );
    get.pdu.fields = Fields::Snmp(Box::new(SnmpFields {
        version: Some(1),
        community: Some("public".into()),
        ..SnmpFields::default()
    }));
    let mut v3 = get.clone();
    v3.pdu.fields = Fields::Snmp(Box::new(SnmpFields {
        version: Some(3),
        ..SnmpFields::default()
    }));
    let observed = run(&[get.clone(), get, v3], &[]);
    let snmp = &observed.pair("supervisory", "control").unwrap().protocols[0];
    assert_eq!(
        snmp.security,
        [
            ("cleartext_credentials".to_string(), 2),
            ("snmp_v2c".to_string(), 2)
        ]
        .into()
    );
}

#[test]
fn talker_pairs_are_bounded_and_the_rest_summed_up() {
    let mut events = Vec::new();
    // 5000 different unzoned clients poll one PLC once each; a supervisory one polls ten times.
    for n in 0..5000u32 {
        let src = std::net::Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, (n >> 16) as u16, n as u16);
        let mut e = modbus(u64::from(n), "10.10.1.1", "10.10.2.1", "read_coils", false);
        e.header.src_ip = Some(IpAddr::V6(src));
        events.push(e);
    }
    for _ in 0..10 {
        events.push(modbus(9999, "10.10.1.1", "10.10.2.1", "read_coils", false));
    }
    let observed = run(&events, &[]);
    // The IPv6 clients are unzoned; 10.10.1.1 is in supervisory.
    let unzoned = observed.pair("unzoned", "control").unwrap();
    assert_eq!(unzoned.events, 5000);
    assert_eq!(unzoned.talkers.len(), TOP_TALKERS);
    let listed: u64 = unzoned.talkers.iter().map(|t| t.events).sum();
    assert_eq!(listed + unzoned.other_talkers.events, 5000);
    assert_eq!(unzoned.other_talkers.pairs, 4096 - TOP_TALKERS as u64);
    assert!(
        unzoned.other_talkers.untracked,
        "904 pairs were beyond the budget"
    );
    let supervisory = observed.pair("supervisory", "control").unwrap();
    assert_eq!(supervisory.talkers[0].events, 10);
}

#[test]
fn merging_two_runs_adds_them_up() {
    let hmi = "10.10.1.10";
    let plc = "10.10.2.1";
    let first = run(
        &[modbus(1, hmi, plc, "read_coils", false)],
        &[tcp_flow(
            1,
            (hmi, 40000),
            (plc, 502),
            Some(Protocol::Modbus),
        )],
    );
    let second = run(
        &[
            modbus(2, hmi, plc, "read_coils", false),
            modbus(2, hmi, plc, "write_single_coil", false),
        ],
        &[tcp_flow(2, (hmi, 40001), (plc, 8080), None)],
    );
    let mut merged = first.clone();
    merged.merge(&second);
    let pair = merged.pair("supervisory", "control").unwrap();
    assert_eq!((pair.events, pair.flows, pair.bytes), (3, 2, 1000));
    assert_eq!(pair.protocols[0].functions["read_coils"], 2);
    assert_eq!(pair.protocols[0].functions["write_single_coil"], 1);
    assert_eq!(pair.services[0].service, "tcp/8080");
    assert_eq!(pair.talkers.len(), 1);
    assert_eq!((pair.talkers[0].events, pair.talkers[0].flows), (3, 2));
    // Merging is order-independent.
    let mut other_way = second.clone();
    other_way.merge(&first);
    assert_eq!(other_way, merged);
}

#[test]
fn assets_are_listed_in_each_zone_they_have_an_address_in() {
    let asset = |id: &str, ips: &[&str], macs: &[&str]| ZoneAsset {
        id: id.into(),
        role: "plc".into(),
        ips: ips.iter().map(|s| s.to_string()).collect(),
        macs: macs.iter().map(|s| s.to_string()).collect(),
        vendor: None,
        model: None,
        firmware: None,
    };
    let assets = [
        asset("10.10.2.9", &["10.10.2.9"], &[]),
        asset("10.10.2.10", &["10.10.2.10", "10.10.1.99"], &[]),
        asset("00:80:f4:00:00:99", &[], &["00:80:f4:00:00:99"]),
        asset("8.8.8.8", &["8.8.8.8"], &[]),
    ];
    let zones = zone_assets(&policy(), &assets);
    let listed: Vec<(&str, Vec<&str>)> = zones
        .iter()
        .map(|z| {
            (
                z.zone.as_str(),
                z.assets.iter().map(|a| a.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("supervisory", vec!["10.10.2.10"]),
            (
                "control",
                vec!["10.10.2.9", "10.10.2.10", "00:80:f4:00:00:99"]
            ),
            ("untrusted", vec!["8.8.8.8"]),
        ]
    );
}

#[test]
fn a_declared_policy_written_as_toml_loads_back_the_same() {
    let example = Source::read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rules/example-plant"
    )))
    .unwrap();
    let codes = POLICY.replace(
        "classes = [\"read\"] }",
        "classes = [\"read\", \"write\"], function_codes = [3, 16], writers = [\"10.10.1.5\", \"role:hmi\"] }",
    );
    assert_ne!(codes, POLICY);
    let with_macs_and_codes = vec![Source {
        name: "plant.toml".into(),
        text: codes,
    }];
    for sources in [example, with_macs_and_codes] {
        let declared = DeclaredPolicy::from_policy(&load(&sources).unwrap());
        assert!(!declared.conduits.is_empty());
        let text = declared.to_toml().unwrap();
        let again = load(&[Source {
            name: "recorded".into(),
            text: text.clone(),
        }])
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(DeclaredPolicy::from_policy(&again), declared, "{text}");
    }
}
