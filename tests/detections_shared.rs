//! The default rule pack on the shared captures of real devices and real
//! attacks (`../shared/pcaps/`): each built-in detection that a capture
//! exercises fires on the packet Wireshark shows doing it, and captures of
//! ordinary traffic raise nothing. Skips where the corpus is absent.

mod common;

use common::*;
use serde_json::Value;

/// One alert, flattened to what the assertions look at.
#[derive(Debug)]
struct Seen {
    rule: String,
    capture: String,
    packet: u64,
    src: String,
    dst: String,
    function: String,
    count: u64,
    raw: Value,
}

/// Replays the shared folder `sub` with the default pack; `None` where absent.
fn alerts_of(sub: &str) -> Option<Vec<Seen>> {
    let dir = shared_pcaps(sub)?;
    let run = replay(&[&dir], &["--quiet"]);
    let stats = run.stats();
    let captures = stats["captures"].as_array().unwrap();
    let text = std::fs::read_to_string(run.dir.path().join("alerts.jsonl")).unwrap();
    let end = |e: &Value| {
        e["ip"]
            .as_str()
            .or(e["mac"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    Some(
        text.lines()
            .map(|line| {
                let a: Value = serde_json::from_str(line).unwrap();
                let capture =
                    captures[a["evidence"]["capture"].as_u64().unwrap_or(0) as usize]["file"]
                        .as_str()
                        .unwrap();
                Seen {
                    rule: a["rule"].as_str().unwrap().into(),
                    capture: capture.rsplit('/').next().unwrap().into(),
                    packet: a["evidence"]["packets"][0].as_u64().unwrap_or(0),
                    src: end(&a["src"]),
                    dst: end(&a["dst"]),
                    function: a["function"].as_str().unwrap_or_default().into(),
                    count: a["count"].as_u64().unwrap(),
                    raw: a,
                }
            })
            .collect(),
    )
}

fn of<'a>(alerts: &'a [Seen], rule: &str) -> Vec<&'a Seen> {
    alerts.iter().filter(|a| a.rule == rule).collect()
}

/// The one alert of `rule` raised first at `packet` of `capture`.
fn at<'a>(alerts: &'a [Seen], rule: &str, capture: &str, packet: u64) -> &'a Seen {
    let found: Vec<_> = alerts
        .iter()
        .filter(|a| a.rule == rule && a.capture == capture && a.packet == packet)
        .collect();
    assert_eq!(found.len(), 1, "{rule} at {capture}#{packet}: {alerts:#?}");
    found[0]
}

#[test]
fn s7_plc_stop_cpu_control_and_block_upload() {
    let Some(alerts) = alerts_of("s7comm") else {
        return;
    };
    let capture = "snap7_s300_everything.pcap";
    let stop = at(&alerts, "OT-CPU-001", capture, 57);
    assert_eq!(
        (stop.src.as_str(), stop.dst.as_str()),
        ("134.217.61.131", "134.217.61.211")
    );
    assert_eq!(stop.function, "plc_stop");
    assert_eq!(stop.raw["severity"], "critical");
    assert_eq!(
        at(&alerts, "OT-CPU-002", capture, 59).function,
        "plc_control"
    );
    for (packet, function) in [(17, "start_upload"), (19, "upload"), (21, "end_upload")] {
        assert_eq!(
            at(&alerts, "OT-PROG-001", capture, packet).function,
            function
        );
    }
}

#[test]
fn dnp3_restarts_stop_application_unsolicited_disabled_and_malformed_bursts() {
    let Some(alerts) = alerts_of("dnp3") else {
        return;
    };
    let capture = "ndpi_dnp3.pcapng";
    let cold = at(&alerts, "OT-DNP3-001", capture, 208);
    assert_eq!(
        (cold.src.as_str(), cold.dst.as_str()),
        ("10.0.0.8", "10.0.0.3")
    );
    assert_eq!(cold.function, "cold_restart");
    assert_eq!(
        at(&alerts, "OT-DNP3-001", capture, 427).function,
        "warm_restart"
    );
    assert_eq!(
        at(&alerts, "OT-CPU-006", capture, 487).function,
        "stop_application"
    );
    assert_eq!(
        at(&alerts, "OT-DNP3-002", capture, 31).function,
        "disable_unsolicited"
    );
    // Nearly every frame of this capture is malformed: one burst alert per source.
    let burst = of(&alerts, "OT-MAL-001");
    assert_eq!(burst.len(), 1, "{burst:#?}");
    assert_eq!(burst[0].capture, "openics_dnp3_malformed.pcap");
    assert_eq!(burst[0].src, "192.168.0.1");
}

#[test]
fn iec104_commands_and_clock_synchronisation() {
    let Some(alerts) = alerts_of("iec104") else {
        return;
    };
    let commands: Vec<&str> = of(&alerts, "OT-104-001")
        .iter()
        .filter(|a| a.capture == "iec104_090813_diverse.pcap")
        .map(|a| a.function.as_str())
        .collect();
    for command in [
        "single_command",
        "double_command",
        "setpoint_float",
        "single_command_cp56",
    ] {
        assert!(commands.contains(&command), "{command}: {commands:?}");
    }
    let sync = at(
        &alerts,
        "OT-104-002",
        "wireshark_test_dissect_iec104.pcap",
        139,
    );
    assert_eq!(sync.function, "clock_synchronization");
    assert_eq!(sync.raw["severity"], "low");
}

#[test]
fn goose_state_number_anomalies_without_calling_publishers_commanders() {
    let Some(alerts) = alerts_of("goose") else {
        return;
    };
    let sequence = of(&alerts, "OT-GOOSE-001");
    let publishers: Vec<&str> = sequence.iter().map(|a| a.src.as_str()).collect();
    assert!(publishers.contains(&"0a:bb:fe:10:c9:06"), "{publishers:?}");
    assert!(
        sequence
            .iter()
            .all(|a| a.capture == "sample_file_goose.pcap" && a.dst == "01:0c:cd:01:00:00")
    );
    assert!(
        of(&alerts, "OT-CMD-001").is_empty(),
        "IEDs publishing GOOSE are not commanders"
    );
}

#[test]
fn profinet_dcp_set_readdresses_a_device() {
    let Some(alerts) = alerts_of("profinet") else {
        return;
    };
    let set = at(&alerts, "OT-PN-001", "profinet_dcp_change_ip.pcap", 3);
    assert_eq!(
        (set.src.as_str(), set.dst.as_str()),
        ("00:0c:29:ba:09:ea", "08:00:06:93:cf:32")
    );
    assert!(
        of(&alerts, "OT-CMD-001")
            .iter()
            .all(|a| a.raw["protocol"] != "profinet_dcp"),
        "a DCP Set is one alert, not two"
    );
}

#[test]
fn cleartext_credentials_in_opc_ua_snmp_mqtt_and_bacnet() {
    let Some(opcua) = alerts_of("opcua") else {
        return;
    };
    let token = at(
        &opcua,
        "OT-CRED-003",
        "opcua_with_gap_with_handshake.pcapng",
        302,
    );
    assert_eq!(token.function, "activate_session");

    let Some(snmp) = alerts_of("snmp") else {
        return;
    };
    let community = at(&snmp, "OT-CRED-001", "snmpv2c_get_requests.pcap", 1);
    assert_eq!(
        (community.src.as_str(), community.dst.as_str()),
        ("10.144.246.184", "10.144.246.161")
    );
    assert!(community.count >= 3, "{community:?}");
    assert!(
        of(&snmp, "OT-CRED-001")
            .iter()
            .all(|a| a.raw["function"] != "get_response"),
        "the agent echoing the community is the same exposure"
    );

    let Some(mqtt) = alerts_of("mqtt") else {
        return;
    };
    assert_eq!(
        at(&mqtt, "OT-CRED-001", "mqtt311_sub_userpass.pcap", 4).function,
        "connect"
    );

    let Some(bacnet) = alerts_of("bacnet") else {
        return;
    };
    let dcc = at(
        &bacnet,
        "OT-CRED-001",
        "icsnpp_bacnet_error_reject_abort.pcap",
        17,
    );
    assert_eq!(dcc.function, "device_communication_control");
    let reinit = at(&bacnet, "OT-CRED-001", "icsnpp_bacnet_example.pcap", 572);
    assert_eq!(reinit.function, "reinitialize_device");
    let file = at(
        &bacnet,
        "OT-PROG-001",
        "icsnpp_bacnet_error_reject_abort.pcap",
        8,
    );
    assert_eq!(file.function, "atomic_write_file");
}

#[test]
fn modbus_function_code_sweep_and_writes_from_an_unknown_client() {
    let Some(alerts) = alerts_of("modbus") else {
        return;
    };
    let sweeps: Vec<_> = of(&alerts, "OT-SCAN-004")
        .into_iter()
        .filter(|a| a.capture == "digitalbond_modbus_test_data_part2.pcap")
        .collect();
    assert!(!sweeps.is_empty());
    assert!(
        sweeps
            .iter()
            .all(|a| a.src == "192.168.66.235" && a.dst == "166.161.16.230")
    );
    assert!(
        sweeps[0].raw["evidence"]["detail"]
            .as_str()
            .unwrap()
            .ends_with("10 different function_code within 60s per pair")
    );
    let write = at(&alerts, "OT-CMD-001", "icsnpp_modbus_example.pcap", 36);
    assert_eq!(write.function, "write_single_coil");
}

#[test]
fn captures_of_ordinary_traffic_raise_nothing() {
    for sub in ["dhcp", "dns", "lldp_cdp", "netbios", "sv", "s7commplus"] {
        let Some(alerts) = alerts_of(sub) else { return };
        assert!(alerts.is_empty(), "{sub}: {alerts:#?}");
    }
}

/// Wireshark's reading of `capture` in the shared folder `sub`.
fn oracle(sub: &str, capture: &str) -> Oracle {
    Oracle::for_capture(&shared_pcaps(sub).unwrap().join(capture))
}

/// The frames of `family` in which Wireshark shows `field` with `value`.
fn frames_with(oracle: &Oracle, family: &str, field: &str, value: &str) -> Vec<u64> {
    oracle
        .records(family)
        .into_iter()
        .filter(|(_, r)| field_values(r, field).iter().any(|v| v == value))
        .map(|(frame, _)| frame)
        .collect()
}

#[test]
fn internet_hosts_reaching_ot_assets_raise_ext_002_alone() {
    let Some(s7) = alerts_of("s7comm") else {
        return;
    };
    // Both ends on public addresses, the client opening the connection at frame 1.
    let capture = "snap7_s300_everything.pcap";
    let inbound = at(&s7, "OT-EXT-002", capture, 1);
    assert_eq!(
        (inbound.src.as_str(), inbound.dst.as_str()),
        ("134.217.61.131", "134.217.61.211")
    );
    assert!(of(&s7, "OT-EXT-001").is_empty(), "{s7:#?}");

    let Some(bacnet) = alerts_of("bacnet") else {
        return;
    };
    // Internet scanners sending ReadProperty to BACnet devices on public
    // addresses: each probe raises EXT-002, none EXT-001 (the scanner is
    // not an OT asset reaching out, though it polls like an HMI).
    let capture = "ndpi_bacnet.pcapng";
    let wireshark = oracle("bacnet", capture);
    let requests = frames_with(&wireshark, "bacnet", "bacapp.type", "0");
    let probes: Vec<u64> = frames_with(&wireshark, "bacnet", "bacapp.confirmed_service", "12")
        .into_iter()
        .filter(|frame| requests.contains(frame))
        .collect();
    assert_eq!(probes, (1..=9).collect::<Vec<u64>>());
    for frame in probes {
        at(&bacnet, "OT-EXT-002", capture, frame);
    }
    assert!(of(&bacnet, "OT-EXT-001").is_empty(), "{bacnet:#?}");
}

#[test]
fn bacnet_polling_of_many_devices_is_no_host_sweep() {
    let Some(alerts) = alerts_of("bacnet") else {
        return;
    };
    // 172.20.32.200 reads properties of many devices, and each answers.
    let wireshark = oracle("bacnet", "icsnpp_bacnet_example.pcap");
    let records = wireshark.records("bacnet");
    let polled: std::collections::BTreeSet<&str> = records
        .values()
        .filter(|r| {
            r["ip.src"] == "172.20.32.200" && r.get("bacapp.type").is_some_and(|t| t == "0")
        })
        .map(|r| r["ip.dst"].as_str().unwrap())
        .collect();
    let answering: std::collections::BTreeSet<&str> = records
        .values()
        .filter(|r| {
            r["ip.dst"] == "172.20.32.200" && r.get("bacapp.type").is_some_and(|t| t == "3")
        })
        .map(|r| r["ip.src"].as_str().unwrap())
        .collect();
    assert!(polled.len() >= 32, "{polled:?}");
    assert!(polled.is_subset(&answering), "{polled:?} {answering:?}");
    assert!(of(&alerts, "OT-SCAN-001").is_empty(), "{alerts:#?}");
}

#[test]
fn profinet_io_connection_setup_is_not_a_process_command() {
    let Some(alerts) = alerts_of("profinet") else {
        return;
    };
    // Frames 479 (Write of the parameter records), 496 (PrmEnd) and 503
    // (ApplicationReady): the IO controller 192.168.1.3 setting up its
    // device 192.168.1.2, as Wireshark shows them.
    let capture = "profinet_io_cm_mixed_2.pcapng";
    let from_setup: Vec<_> = alerts.iter().filter(|a| a.capture == capture).collect();
    assert!(from_setup.is_empty(), "{from_setup:#?}");
}

#[test]
fn select_before_operate_is_not_direct_operate() {
    let Some(alerts) = alerts_of("dnp3") else {
        return;
    };
    let capture = "dnp3_select_operate_and_responses.pcap";
    let wireshark = oracle("dnp3", capture);
    let select = frames_with(&wireshark, "dnp3", "dnp3.al.func", "3");
    let operate = frames_with(&wireshark, "dnp3", "dnp3.al.func", "4");
    assert!(!select.is_empty() && !operate.is_empty());
    for direct in ["5", "6"] {
        assert!(frames_with(&wireshark, "dnp3", "dnp3.al.func", direct).is_empty());
    }
    let raised: Vec<_> = alerts.iter().filter(|a| a.capture == capture).collect();
    assert!(raised.is_empty(), "{raised:#?}");
}

#[test]
fn iec104_clock_sync_where_wireshark_shows_it_and_no_reset_process() {
    let Some(alerts) = alerts_of("iec104") else {
        return;
    };
    for capture in [
        "iec104_090813_diverse.pcap",
        "wireshark_test_dissect_iec104.pcap",
    ] {
        let wireshark = oracle("iec104", capture);
        let records = wireshark.records("iec104");
        // C_CS_NA_1 (103) activations; C_RP_NA_1 (105) nowhere.
        let activations: Vec<u64> =
            frames_with(&wireshark, "iec104", "iec60870_asdu.typeid", "103")
                .into_iter()
                .filter(|f| {
                    field_values(records[f], "iec60870_asdu.causetx").contains(&"6".to_string())
                })
                .collect();
        assert!(frames_with(&wireshark, "iec104", "iec60870_asdu.typeid", "105").is_empty());
        let syncs: Vec<u64> = of(&alerts, "OT-104-002")
            .iter()
            .filter(|a| a.capture == capture)
            .map(|a| a.packet)
            .collect();
        assert_eq!(
            syncs,
            activations.first().copied().into_iter().collect::<Vec<_>>(),
            "{capture}"
        );
    }
    assert!(of(&alerts, "OT-104-003").is_empty());
}

#[test]
fn s7_status_reads_and_identification_raise_no_cpu_alert() {
    let Some(alerts) = alerts_of("s7comm") else {
        return;
    };
    for capture in ["s7comm_reading_plc_status.pcap", "icsnpp_s7ident.pcap"] {
        // No PLC control (0x28), stop (0x29) or mode transition (userdata group 0) in Wireshark's reading.
        let wireshark = oracle("s7comm", capture);
        for func in ["0x28", "0x29"] {
            assert!(frames_with(&wireshark, "s7comm", "s7comm.param.func", func).is_empty());
        }
        assert!(
            frames_with(&wireshark, "s7comm", "s7comm.param.userdata.funcgroup", "0").is_empty()
        );
        let cpu: Vec<_> = alerts
            .iter()
            .filter(|a| a.capture == capture && a.rule.starts_with("OT-CPU-"))
            .collect();
        assert!(cpu.is_empty(), "{cpu:#?}");
    }
}

#[test]
fn an_encrypted_opc_ua_session_raises_nothing() {
    let Some(alerts) = alerts_of("opcua") else {
        return;
    };
    // GetEndpoints over None, then a Basic256Sha256 channel (frame 31 on).
    let capture = "python_opcua_client_server_encrypted.pcapng";
    let wireshark = oracle("opcua", capture);
    let secured = frames_with(
        &wireshark,
        "opcua",
        "opcua.security.spu",
        "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256",
    );
    assert_eq!(secured.first(), Some(&31));
    let raised: Vec<_> = alerts.iter().filter(|a| a.capture == capture).collect();
    assert!(raised.is_empty(), "{raised:#?}");
}

#[test]
fn goose_data_changed_without_a_new_state_where_wireshark_shows_it() {
    let Some(alerts) = alerts_of("goose") else {
        return;
    };
    // Frames 85 and 86 of 0a:bb:fe:10:c9:06 carry stNum 35893 (sqNum 1, 2);
    // Wireshark shows different allData in them: a change without a new state.
    let capture = "sample_file_goose.pcap";
    let wireshark = oracle("goose", capture);
    let records = wireshark.records("goose");
    for frame in [85, 86] {
        assert_eq!(records[&frame]["eth.src"], "0a:bb:fe:10:c9:06");
        assert_eq!(records[&frame]["goose.stNum"], "35893");
    }
    let alert = at(&alerts, "OT-GOOSE-001", capture, 86);
    assert_eq!(alert.src, "0a:bb:fe:10:c9:06");
    assert_eq!(
        alert.raw["evidence"]["detail"],
        "goose publish: data_changed_without_state_change"
    );
}

#[test]
fn an_address_answered_by_a_second_mac_is_arp_spoofing() {
    let Some(alerts) = alerts_of("mixed") else {
        return;
    };
    // Wireshark: frame 10 on, ARP replies say 192.168.0.18 is at
    // 74:86:7a:07:28:94; from frame 219 192.168.0.18 sends from
    // 00:25:65:00:2b:c2 (a C37.118 PMU answering a SYN).
    let capture = "c37118_1100_unclean_dns_netbios.pcap";
    let wireshark = oracle("mixed", capture);
    let claims = frames_with(&wireshark, "arp", "arp.src.proto_ipv4", "192.168.0.18");
    assert_eq!(claims.first(), Some(&10));
    for frame in &claims {
        assert_eq!(
            wireshark.records("arp")[frame]["arp.src.hw_mac"],
            "74:86:7a:07:28:94"
        );
    }
    let spoof = at(&alerts, "OT-ARP-001", capture, 219);
    assert_eq!(spoof.src, "192.168.0.18");
    assert_eq!(
        spoof.raw["evidence"]["detail"],
        "192.168.0.18 now at 00:25:65:00:2b:c2 (was 74:86:7a:07:28:94)"
    );
    assert_eq!(of(&alerts, "OT-ARP-001").len(), 1);
}
