use std::net::IpAddr;

use super::*;
use crate::event::{Anomalies, Event, Fields, FunctionClass, Header, Identity, Pdu, Transport};
use crate::packet::{Network, Packet, Transport as L4};
use crate::pipeline::{FlowEnd, FlowSummary};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn mac(last: u8) -> Mac {
    [0x00, 0x80, 0xf4, 0x00, 0x00, last]
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(secs)
}

/// A TCP conversation from `client` to `server`, as the worker reports it.
struct Conversation {
    key: FlowKey,
    client: Side,
    id: u64,
}

fn conversation(id: u64, client: (&str, u16), server: (&str, u16)) -> Conversation {
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
    Conversation { key, client, id }
}

impl Conversation {
    /// The first packet from the client (`from_client`) or the server, at `mac`.
    fn first_packet(&self, from_client: bool, mac: Mac, at: i64) -> FlowStart {
        let first = if from_client {
            self.client
        } else {
            self.client.other()
        };
        FlowStart {
            id: self.id,
            key: self.key,
            first,
            client: self.client,
            opens: from_client,
            midstream: false,
            ts: t(at),
            seq: self.id,
            capture: 0,
            packet: self.id,
            src_mac: Some(mac),
            dst_mac: None,
        }
    }

    /// The end of the flow, with requests of `classes` over `protocol`.
    fn end(&self, protocol: Option<Protocol>, classes: &[FunctionClass], at: i64) -> FlowRecord {
        let bits = classes.iter().fold(0, |b, c| b | c.bit());
        FlowRecord {
            id: self.id,
            key: self.key,
            client: self.client,
            first_seen: t(at - 10),
            last_seen: t(at),
            packets: [10, 10],
            bytes: [1000, 2000],
            protocol,
            summary: FlowSummary {
                pdus: [5, 5],
                classes: [bits, bits],
                anomalous: 0,
            },
            end: FlowEnd::EndOfInput,
        }
    }
}

/// Both sides talk at their MACs, and the flow ends.
fn talk(
    inv: &mut Inventory,
    c: &Conversation,
    macs: (Mac, Mac),
    protocol: Option<Protocol>,
    classes: &[FunctionClass],
) {
    inv.flow_started(&c.first_packet(true, macs.0, 1));
    inv.flow_started(&c.first_packet(false, macs.1, 1));
    inv.flow_ended(&c.end(protocol, classes, 20));
}

fn identity_event(from: &str, identity: Identity, at: i64) -> Event {
    Event {
        header: Header {
            ts: t(at),
            capture: 0,
            packet: at as u64,
            seq: at as u64,
            flow: 1,
            src_mac: None,
            dst_mac: None,
            src_ip: Some(ip(from)),
            dst_ip: None,
            src_port: Some(502),
            dst_port: Some(40000),
            transport: Transport::Tcp,
        },
        pdu: Pdu {
            protocol: Protocol::Modbus,
            is_response: true,
            function_code: Some(43),
            function: "read_device_identification",
            class: FunctionClass::Discovery,
            anomalies: Anomalies::new(),
            fields: Fields::None,
            identity: Some(Box::new(identity)),
        },
    }
}

fn asset<'a>(assets: &'a [Asset], id: &str) -> &'a Asset {
    assets
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no asset {id}"))
}

#[test]
fn a_plc_and_its_hmi_with_identity_and_mac_vendor() {
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.5", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read, FunctionClass::Write],
    );
    let identity = Identity {
        vendor: Some("Schneider Electric".into()),
        product_code: Some("TM241CE40R".into()),
        firmware: Some("v5.1.9".into()),
        ..Identity::default()
    };
    inv.event(&identity_event("10.0.0.20", identity, 7));
    let assets = inv.assets();
    assert_eq!(assets.len(), 2);
    let plc = asset(&assets, "10.0.0.20");
    assert_eq!(plc.role, Role::Plc);
    assert_eq!(plc.role_reason, "serves modbus to 1 client");
    assert_eq!(plc.purdue_level, Some(1));
    assert_eq!(plc.macs, [mac(20)]);
    assert_eq!(plc.mac_vendor, Some("TELEMECANIQUE ELECTRIQUE"));
    assert_eq!(plc.field("vendor"), Some("Schneider Electric"));
    assert_eq!(plc.field("firmware"), Some("v5.1.9"));
    let evidence = &plc.identity["product_code"];
    assert_eq!(
        (evidence.source, evidence.first_seen.packet),
        (Protocol::Modbus, 7)
    );
    assert_eq!((plc.packets_sent, plc.bytes_sent), (10, 2000));
    let hmi = asset(&assets, "10.0.0.5");
    assert_eq!(hmi.role, Role::Hmi);
    assert_eq!(
        hmi.role_reason,
        "polls 1 field device over modbus (read, write)"
    );
    assert!(hmi.peers.contains(&HostKey::Ip(ip("10.0.0.20"))));
}

#[test]
fn a_client_that_programs_is_an_engineering_workstation() {
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.9", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(9), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read, FunctionClass::Program],
    );
    let assets = inv.assets();
    let ews = asset(&assets, "10.0.0.9");
    assert_eq!(ews.role, Role::EngineeringWorkstation);
    assert_eq!(ews.role_reason, "sends program requests over modbus");
}

#[test]
fn a_client_reading_from_many_devices_is_a_historian() {
    let mut inv = Inventory::new();
    for n in 0..5u8 {
        let server = format!("10.0.1.{}", 10 + n);
        let c = conversation(
            u64::from(n) + 1,
            ("10.0.0.7", 40000 + u16::from(n)),
            (&server, 502),
        );
        talk(
            &mut inv,
            &c,
            (mac(7), mac(10 + n)),
            Some(Protocol::Modbus),
            &[FunctionClass::Read],
        );
    }
    let assets = inv.assets();
    let historian = asset(&assets, "10.0.0.7");
    assert_eq!(historian.role, Role::Historian);
    assert_eq!(
        historian.role_reason,
        "only reads, from 5 field devices over modbus"
    );
}

#[test]
fn hosts_behind_a_router_share_its_mac_but_stay_apart() {
    let mut inv = Inventory::new();
    let router = [0x00, 0x00, 0x0c, 0x12, 0x34, 0x56];
    for n in 0..4u8 {
        let remote = format!("192.168.{n}.1");
        let c = conversation(u64::from(n) + 1, (&remote, 40000), ("10.0.0.20", 502));
        talk(
            &mut inv,
            &c,
            (router, mac(20)),
            Some(Protocol::Modbus),
            &[FunctionClass::Read],
        );
    }
    let assets = inv.assets();
    // Four remote hosts, the PLC, and the router itself.
    assert_eq!(assets.len(), 6);
    for n in 0..4 {
        let remote = asset(&assets, &format!("192.168.{n}.1"));
        assert!(remote.macs.is_empty(), "the router's MAC is not theirs");
    }
    let gateway = asset(&assets, "00:00:0c:12:34:56");
    assert_eq!(gateway.forwards_for, Some(4));
    assert_eq!(gateway.role, Role::NetworkDevice);
    assert_eq!(gateway.mac_vendor, Some("Cisco Systems, Inc"));
    let changes = inv.take_changes();
    assert!(
        !changes
            .iter()
            .any(|c| c.kind == ChangeKind::IpClaimedByOtherMac),
        "routing is not spoofing: {changes:?}"
    );
}

#[test]
fn a_device_readdressed_in_its_subnet_is_one_asset_with_a_change() {
    let mut inv = Inventory::new();
    let before = conversation(1, ("10.0.0.5", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &before,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    let after = conversation(2, ("10.0.0.5", 40001), ("10.0.0.21", 502));
    talk(
        &mut inv,
        &after,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    let assets = inv.assets();
    let plc = asset(&assets, "10.0.0.20");
    assert_eq!(plc.ips, [ip("10.0.0.20"), ip("10.0.0.21")]);
    let change = plc
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::NewIpForMac)
        .unwrap();
    assert_eq!(
        change.detail,
        "00:80:f4:00:00:14 now also uses 10.0.0.21 (was 10.0.0.20)"
    );
}

#[test]
fn another_mac_claiming_an_ip_is_a_change() {
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.5", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    inv.take_changes();
    let spoofed = conversation(2, ("10.0.0.5", 40001), ("10.0.0.20", 502));
    inv.flow_started(&spoofed.first_packet(false, mac(66), 30));
    let changes = inv.take_changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].kind, ChangeKind::IpClaimedByOtherMac);
    assert_eq!(changes[0].host, HostKey::Ip(ip("10.0.0.20")));
    assert_eq!(
        changes[0].detail,
        "10.0.0.20 now at 00:80:f4:00:00:42 (was 00:80:f4:00:00:14)"
    );
}

#[test]
fn a_firmware_change_is_recorded_and_the_latest_value_kept() {
    let mut inv = Inventory::new();
    let id = |fw: &str| Identity {
        vendor: Some("Siemens".into()),
        firmware: Some(fw.into()),
        ..Identity::default()
    };
    inv.event(&identity_event("10.0.0.20", id("V3.2.6"), 5));
    inv.event(&identity_event("10.0.0.20", id("V3.2.6"), 6));
    inv.take_changes();
    inv.event(&identity_event("10.0.0.20", id("V3.3.0"), 9));
    let changes = inv.take_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, ChangeKind::FirmwareChanged);
    assert_eq!(changes[0].detail, "firmware V3.2.6 → V3.3.0 (modbus)");
    assert_eq!(changes[0].seen.packet, 9);
    let assets = inv.assets();
    assert_eq!(assets[0].field("firmware"), Some("V3.3.0"));
}

#[test]
fn a_web_server_banner_does_not_overrule_the_devices_own_identification() {
    let mut inv = Inventory::new();
    let id = |fw: &str| Identity {
        firmware: Some(fw.into()),
        ..Identity::default()
    };
    let banner = |fw: &str, at| {
        let mut event = identity_event("10.0.0.20", id(fw), at);
        event.pdu.protocol = Protocol::Http;
        event
    };
    // The banner comes first; Modbus then says what the firmware is.
    inv.event(&banner("0.94.13", 5));
    inv.event(&identity_event("10.0.0.20", id("v5.1.9"), 6));
    // The two keep alternating, as a PLC polled and browsed does.
    inv.event(&banner("0.94.13", 7));
    inv.event(&identity_event("10.0.0.20", id("v5.1.9"), 8));
    let changes = inv.take_changes();
    assert!(
        changes
            .iter()
            .all(|c| c.kind != ChangeKind::FirmwareChanged),
        "{changes:?}"
    );
    let assets = inv.assets();
    assert_eq!(assets[0].field("firmware"), Some("v5.1.9"));
}

#[test]
fn a_device_is_new_once_whether_seen_first_by_mac_or_by_ip() {
    let mut inv = Inventory::new();
    // ARP first: a flow keyed by MAC pair and ethertype.
    let arp = Packet {
        network: Network::Arp,
        ether_type: 0x0806,
        src_mac: Some(mac(20)),
        dst_mac: Some([0xff; 6]),
        ..Packet::default()
    };
    let (key, side) = FlowKey::of(&arp).unwrap();
    inv.flow_started(&FlowStart {
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
        src_mac: Some(mac(20)),
        dst_mac: Some([0xff; 6]),
    });
    let c = conversation(2, ("10.0.0.5", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    let new: Vec<HostKey> = inv
        .take_changes()
        .into_iter()
        .filter(|c| c.kind == ChangeKind::NewAsset)
        .map(|c| c.host)
        .collect();
    assert_eq!(new, [HostKey::Mac(mac(20)), HostKey::Ip(ip("10.0.0.5"))]);
    let assets = inv.assets();
    assert_eq!(
        assets.len(),
        2,
        "the MAC-only host and the PLC's IP are one asset"
    );
    assert_eq!(asset(&assets, "10.0.0.20").macs, [mac(20)]);
}

#[test]
fn multicast_and_broadcast_addresses_are_not_assets() {
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.5", 5000), ("239.1.1.1", 5000));
    talk(
        &mut inv,
        &c,
        (mac(5), [0x01, 0x00, 0x5e, 0x01, 0x01, 0x01]),
        None,
        &[],
    );
    let assets = inv.assets();
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0].id, "10.0.0.5");
}

/// An ARP packet from `mac` saying `sender` is at `mac`.
fn arp_event(sender: &str, mac: Mac, opcode: u16, at: i64) -> Event {
    let sender_ip = match ip(sender) {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(_) => panic!("ARP is IPv4"),
    };
    Event {
        header: Header {
            ts: t(at),
            capture: 0,
            packet: at as u64,
            seq: at as u64,
            flow: 1,
            src_mac: Some(mac),
            dst_mac: Some([0xff; 6]),
            src_ip: None,
            dst_ip: None,
            src_port: None,
            dst_port: None,
            transport: Transport::Ethernet,
        },
        pdu: Pdu {
            protocol: Protocol::Arp,
            is_response: opcode == 2,
            function_code: Some(opcode.into()),
            function: "reply",
            class: FunctionClass::Discovery,
            anomalies: Anomalies::new(),
            fields: Fields::Arp(crate::protocols::arp::ArpFields {
                hardware_type: 1,
                protocol_type: 0x0800,
                opcode,
                sender_mac: Some(mac),
                sender_ip: Some(sender_ip),
                target_mac: Some([0; 6]),
                target_ip: Some(std::net::Ipv4Addr::new(10, 0, 0, 1)),
            }),
            identity: None,
        },
    }
}

#[test]
fn arp_binds_an_address_and_sees_it_claimed_by_another_mac() {
    let mut inv = Inventory::new();
    inv.arp(&arp_event("10.0.0.20", mac(20), 2, 1));
    let assets = inv.assets();
    let plc = asset(&assets, "10.0.0.20");
    assert_eq!(plc.macs, [mac(20)]);
    assert_eq!(inv.take_changes().len(), 1, "one new asset");
    // The same binding again changes nothing.
    inv.arp(&arp_event("10.0.0.20", mac(20), 1, 2));
    assert!(inv.take_changes().is_empty());
    // Another MAC answers for the address: spoofing, or a replaced device.
    inv.arp(&arp_event("10.0.0.20", mac(66), 2, 3));
    let changes = inv.take_changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].kind, ChangeKind::IpClaimedByOtherMac);
    assert_eq!(changes[0].host, HostKey::Ip(ip("10.0.0.20")));
    assert_eq!(
        changes[0].detail,
        "10.0.0.20 now at 00:80:f4:00:00:42 (was 00:80:f4:00:00:14)"
    );
}

#[test]
fn arp_probes_and_group_senders_bind_nothing() {
    let mut inv = Inventory::new();
    inv.arp(&arp_event("0.0.0.0", mac(20), 1, 1));
    inv.arp(&arp_event("10.0.0.20", [0xff; 6], 2, 2));
    assert!(inv.assets().is_empty());
    assert!(inv.take_changes().is_empty());
}

#[test]
fn arp_of_a_device_known_by_its_mac_is_not_a_new_asset() {
    let mut inv = Inventory::new();
    let mut lldp = identity_event(
        "10.0.0.1",
        Identity {
            hostname: Some("sw1".into()),
            ..Identity::default()
        },
        1,
    );
    lldp.header.src_ip = None;
    lldp.header.src_mac = Some(mac(20));
    inv.event(&lldp);
    assert_eq!(inv.take_changes().len(), 1);
    inv.arp(&arp_event("10.0.0.20", mac(20), 1, 2));
    assert!(inv.take_changes().is_empty(), "known by its MAC already");
    let assets = inv.assets();
    assert_eq!(assets.len(), 1, "the MAC and the IP are one device");
    assert_eq!(assets[0].id, "10.0.0.20");
    assert_eq!(assets[0].field("hostname"), Some("sw1"));
}

#[test]
fn a_client_without_an_address_is_known_by_its_mac() {
    let mut inv = Inventory::new();
    let mut discover = identity_event(
        "0.0.0.0",
        Identity {
            hostname: Some("hmi-3".into()),
            device_type: Some("MSFT 5.0".into()),
            ..Identity::default()
        },
        1,
    );
    discover.header.src_mac = Some(mac(33));
    inv.event(&discover);
    assert_eq!(inv.take_changes().len(), 1, "a new asset, by its MAC");
    // Later the client talks from its leased address: the same device.
    let c = conversation(2, ("10.0.0.33", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(33), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    let assets = inv.assets();
    let hmi = asset(&assets, "10.0.0.33");
    assert_eq!(hmi.macs, [mac(33)]);
    assert_eq!(hmi.field("hostname"), Some("hmi-3"));
    assert!(
        !inv.take_changes()
            .iter()
            .any(|c| c.host == HostKey::Ip(ip("10.0.0.33"))),
        "known by its MAC, its IP is not a new asset"
    );
}

/// A layer-2 discovery announcement (LLDP/CDP) from `mac` saying `device_type`.
fn announces(inv: &mut Inventory, mac: Mac, protocol: Protocol, device_type: &str) {
    let mut e = identity_event(
        "10.0.0.1",
        Identity {
            device_type: Some(device_type.into()),
            ..Identity::default()
        },
        5,
    );
    e.header.src_ip = None;
    e.header.src_mac = Some(mac);
    e.pdu.protocol = protocol;
    inv.event(&e);
}

#[test]
fn switches_and_routers_announcing_themselves_are_network_devices() {
    let mut inv = Inventory::new();
    announces(&mut inv, mac(1), Protocol::Cdp, "switch");
    announces(&mut inv, mac(2), Protocol::Lldp, "router");
    announces(&mut inv, mac(3), Protocol::Lldp, "phone");
    let assets = inv.assets();
    let switch = asset(&assets, "00:80:f4:00:00:01");
    assert_eq!(switch.role, Role::NetworkDevice);
    assert_eq!(switch.role_reason, "announces itself as a switch over cdp");
    assert_eq!(
        asset(&assets, "00:80:f4:00:00:02").role,
        Role::NetworkDevice
    );
    assert_eq!(asset(&assets, "00:80:f4:00:00:03").role, Role::Unknown);
    // A PLC with an integrated switch stays a PLC.
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.5", 40000), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    announces(&mut inv, mac(20), Protocol::Lldp, "switch");
    assert_eq!(asset(&inv.assets(), "10.0.0.20").role, Role::Plc);
}

#[test]
fn decoded_it_protocols_count_as_it_services() {
    let mut inv = Inventory::new();
    let c = conversation(1, ("10.0.0.5", 40000), ("10.0.0.53", 53));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(53)),
        Some(Protocol::Dns),
        &[FunctionClass::Discovery],
    );
    let assets = inv.assets();
    let server = asset(&assets, "10.0.0.53");
    assert_eq!(
        (server.role, server.role_reason.as_str()),
        (Role::ItHost, "serves dns")
    );
    let client = asset(&assets, "10.0.0.5");
    assert_eq!(
        (client.role, client.role_reason.as_str()),
        (Role::ItHost, "uses only IT services (dns)")
    );
    // An IT protocol next to an industrial one does not make an HMI an IT host.
    let c = conversation(2, ("10.0.0.5", 40001), ("10.0.0.20", 502));
    talk(
        &mut inv,
        &c,
        (mac(5), mac(20)),
        Some(Protocol::Modbus),
        &[FunctionClass::Read],
    );
    assert_eq!(asset(&inv.assets(), "10.0.0.5").role, Role::Hmi);
}

#[test]
fn host_names_differing_in_case_only_are_the_same_name() {
    let mut inv = Inventory::new();
    let named = |name: &str, at: i64| {
        identity_event(
            "10.0.0.33",
            Identity {
                hostname: Some(name.into()),
                ..Identity::default()
            },
            at,
        )
    };
    inv.event(&named("KW-VLIPC", 1));
    inv.event(&named("kw-vlipc", 2));
    let changes = inv.take_changes();
    assert!(
        !changes
            .iter()
            .any(|c| c.kind == ChangeKind::IdentityChanged),
        "{changes:?}"
    );
    inv.event(&named("kw-other", 3));
    assert!(
        inv.take_changes()
            .iter()
            .any(|c| c.kind == ChangeKind::IdentityChanged)
    );
}

#[test]
fn a_device_reporting_another_status_or_state_has_not_changed_identity() {
    let mut inv = Inventory::new();
    let reporting = |status: &str, state: &str, serial: &str, at: i64| {
        identity_event(
            "10.0.0.40",
            Identity {
                serial: Some(serial.into()),
                device_status: Some(status.into()),
                device_state: Some(state.into()),
                ..Identity::default()
            },
            at,
        )
    };
    inv.event(&reporting("0x0030", "3", "0x00524d8e", 1));
    inv.event(&reporting("0x0034", "4", "0x00524d8e", 2));
    let changes = inv.take_changes();
    assert!(
        !changes
            .iter()
            .any(|c| c.kind == ChangeKind::IdentityChanged),
        "{changes:?}"
    );
    // The asset keeps what lasts, not the status of the moment.
    let assets = inv.assets();
    let a = asset(&assets, "10.0.0.40");
    assert!(
        !a.identity.contains_key("device_status"),
        "{:?}",
        a.identity
    );
    assert_eq!(a.identity["serial"].value, "0x00524d8e");
    // Another serial number is another device.
    inv.event(&reporting("0x0034", "4", "0x00aa0001", 3));
    assert!(
        inv.take_changes()
            .iter()
            .any(|c| c.kind == ChangeKind::IdentityChanged)
    );
}

#[test]
fn a_hosts_role_judged_in_place_is_the_role_of_its_asset_alone() {
    let mut inv = Inventory::new();
    // A PLC with an HMI, an engineering workstation, a DNS server and its
    // client, a historian reading from five devices, and a switch.
    let flows = [
        (
            ("10.0.0.5", 40000),
            ("10.0.0.20", 502),
            Protocol::Modbus,
            FunctionClass::Write,
        ),
        (
            ("10.0.0.9", 40001),
            ("10.0.0.20", 502),
            Protocol::Modbus,
            FunctionClass::Program,
        ),
        (
            ("10.0.0.6", 40002),
            ("10.0.0.53", 53),
            Protocol::Dns,
            FunctionClass::Discovery,
        ),
    ];
    for (id, (client, server, protocol, class)) in (1u8..).zip(flows) {
        let c = conversation(id.into(), client, server);
        let macs = (mac(id), mac(100 + id));
        talk(
            &mut inv,
            &c,
            macs,
            Some(protocol),
            &[FunctionClass::Read, class],
        );
    }
    for n in 0..5u8 {
        let server = format!("10.0.1.{n}");
        let c = conversation(10 + u64::from(n), ("10.0.0.7", 41000), (&server, 502));
        talk(
            &mut inv,
            &c,
            (mac(7), mac(200 + n)),
            Some(Protocol::Modbus),
            &[FunctionClass::Read],
        );
    }
    announces(&mut inv, mac(150), Protocol::Lldp, "switch");
    let mut roles = Vec::new();
    for host in &inv.hosts {
        let (ip, mac) = match host.key {
            HostKey::Ip(ip) => (Some(ip), None),
            HostKey::Mac(mac) => (None, Some(mac)),
        };
        let role = inv.role_of(ip, mac);
        assert_eq!(role, Some(assets::single(host).role), "{:?}", host.key);
        roles.push(role.unwrap_or(Role::Unknown));
    }
    for role in [
        Role::Plc,
        Role::Hmi,
        Role::EngineeringWorkstation,
        Role::ItHost,
        Role::Historian,
        Role::NetworkDevice,
    ] {
        assert!(roles.contains(&role), "{role:?} among {roles:?}");
    }
}
