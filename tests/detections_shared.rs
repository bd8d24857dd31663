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
