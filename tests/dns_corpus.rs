//! DNS against Wireshark, frame by frame, on every capture of the shared
//! corpus that holds it (`dns/`, malformed responses from nDPI's tests, and
//! the mixed capture's queries): id, response flag, opcode, rcode, question
//! names and types, answer names, A records. Every frame Wireshark calls
//! malformed, or whose names it cannot show, is an event with anomalies.

mod common;
mod itcorpus;

use itcorpus::*;
use serde_json::Value;

const COMPARED: &[&str] = &[
    "dns.id",
    "dns.flags.response",
    "dns.flags.opcode",
    "dns.flags.rcode",
    "dns.qry.name",
    "dns.qry.type",
    "dns.resp.name",
    "dns.a",
    "dns.aaaa",
];

/// What Wireshark writes in place of a name longer than 255 bytes.
const NAME_TOO_LONG: &str = "<Name too long>";

/// A name as Wireshark shows it: too long ones replaced (the sensor keeps
/// their first 255 bytes and flags `name_too_long`), the root as `<Root>`.
fn shown(name: &str) -> String {
    match name {
        "." => "<Root>".to_string(),
        n if n.len() >= 255 => NAME_TOO_LONG.to_string(),
        n => n.to_string(),
    }
}

fn ours(events: &[&Value], field: &str) -> Vec<String> {
    let list = |name: &str| -> Vec<Value> {
        events
            .iter()
            .flat_map(|e| e[name].as_array().cloned().unwrap_or_default())
            .collect()
    };
    let data = |rtype: &str| -> Vec<String> {
        list("answers")
            .iter()
            .filter(|a| a["type"] == rtype)
            .filter_map(|a| a["data"].as_str().map(str::to_string))
            .collect()
    };
    match field {
        "dns.id" => events
            .iter()
            .filter_map(|e| e["id"].as_u64())
            .map(|id| format!("0x{id:04x}"))
            .collect(),
        "dns.flags.response" => events
            .iter()
            .filter(|e| e["function_code"].is_u64())
            .map(|e| flag(e["is_response"] == true))
            .collect(),
        "dns.flags.opcode" => numbers(events, "function_code"),
        "dns.flags.rcode" => numbers(events, "rcode"),
        "dns.qry.name" => list("questions")
            .iter()
            .map(|q| shown(q["name"].as_str().unwrap()))
            .collect(),
        "dns.qry.type" => list("questions")
            .iter()
            .map(|q| {
                otsensor::protocols::dns::type_number(q["type"].as_str().unwrap())
                    .unwrap()
                    .to_string()
            })
            .collect(),
        "dns.resp.name" => list("answers")
            .iter()
            .map(|a| shown(a["name"].as_str().unwrap()))
            .collect(),
        "dns.a" => data("A"),
        "dns.aaaa" => data("AAAA"),
        _ => Vec::new(),
    }
}

const DNS: Comparison = Comparison {
    family: "dns",
    protocols: &["dns"],
    fields: COMPARED,
    ours,
    not_ours: all_ours,
    theirs: same,
};

#[test]
fn dns_matches_wireshark_frame_by_frame() {
    let Some(captures) = captures_with("dns") else {
        return;
    };
    let mut frames = 0;
    let mut mismatches = Vec::new();
    for capture in &captures {
        let outcome = compare(capture, &DNS, &[]);
        frames += outcome.frames;
        let oracle = common::Oracle::for_capture(capture);
        let malformed: Vec<u64> = oracle.json["malformed_frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap())
            .collect();
        for event in outcome.events.iter().filter(|e| e["protocol"] == "dns") {
            let packet = event["packet"].as_u64().unwrap();
            let names = ["questions", "answers"]
                .iter()
                .flat_map(|list| event[*list].as_array().cloned().unwrap_or_default());
            let too_long = names
                .into_iter()
                .any(|n| shown(n["name"].as_str().unwrap()) == NAME_TOO_LONG);
            if malformed.contains(&packet) || too_long {
                assert!(event.get("anomalies").is_some(), "{event}");
            }
        }
        mismatches.extend(
            outcome
                .mismatches
                .iter()
                .map(|m| format!("{}: {m}", outcome.capture)),
        );
    }
    assert!(mismatches.is_empty(), "\n  {}", mismatches.join("\n  "));
    assert!(frames >= 149, "only {frames} DNS frames compared");
}

/// nDPI's malformed DNS: the four responses carry a second question and a
/// CNAME whose names run past 255 bytes; each is an event flagged
/// `name_too_long`, with what could be read. The queries are clean.
#[test]
fn malformed_responses_are_events_with_anomalies() {
    let Some(dir) = common::shared_pcaps("dns") else {
        return;
    };
    let events = common::replay(&[&dir.join("ndpi_malformed_dns.pcap")], &[]).events();
    assert_eq!(events.len(), 6);
    for event in &events {
        if event["is_response"] == true {
            assert_eq!(event["anomalies"], serde_json::json!(["name_too_long"]));
            assert_eq!(event["answers"][0]["data"], "66.66.66.66");
        } else {
            assert!(event.get("anomalies").is_none());
        }
    }
}

/// LLMNR has no family of its own in the oracles: the frames Wireshark 4.0.17
/// shows as LLMNR (`tshark -Y llmnr`: 136 in the PROFINET capture, 8 in the
/// mixed one) are `llmnr` events, queries for single-label names.
#[test]
fn llmnr_frames_are_llmnr_events() {
    let Some(root) = common::shared_pcaps("") else {
        return;
    };
    for (capture, count) in [
        ("profinet/profinet_io_cm_mixed_2.pcapng", 136),
        ("mixed/c37118_1100_unclean_dns_netbios.pcap", 8),
    ] {
        let events = common::replay(&[&root.join(capture)], &[]).events();
        let llmnr: Vec<&Value> = events.iter().filter(|e| e["protocol"] == "llmnr").collect();
        assert_eq!(llmnr.len(), count, "{capture}");
        for event in llmnr {
            assert!(event.get("anomalies").is_none(), "{event}");
            let name = event["questions"][0]["name"].as_str().unwrap();
            assert!(!name.contains('.'), "{name}");
        }
    }
}

/// DNS over TCP through the pipeline: two length-prefixed messages, the
/// second split over two segments; and an mDNS announcement naming its
/// sender.
#[test]
fn dns_over_tcp_and_mdns_through_the_pipeline() {
    use etherparse::PacketBuilder;
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("dns.pcap");
    let (client, server) = (
        ([0x00, 0x14, 0x22, 0x2e, 0xd9, 0x1e], [10, 10, 1, 10]),
        ([0x00, 0x50, 0x56, 0x00, 0x00, 0x35], [10, 10, 1, 53]),
    );
    let query: &[u8] = &[
        0x00, 0x1b, // length 27
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
        0x03, b'p', b'l', b'c', 0x05, b'p', b'l', b'a', b'n', b't', 0x00, // plc.plant
        0x00, 0x01, 0x00, 0x01, // A, IN
    ];
    let mut response = query.to_vec();
    response[1] = 0x2b; // length 43
    response[4] = 0x81;
    response[5] = 0x80; // response, RD, RA
    response[9] = 0x01; // one answer
    response.extend_from_slice(&[
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, // plc.plant A IN 3600
        0x00, 0x04, 10, 10, 2, 1, // 10.10.2.1
    ]);
    let tcp = |from: ([u8; 6], [u8; 4]),
               to: ([u8; 6], [u8; 4]),
               ports: (u16, u16),
               seq: u32,
               flags: u8,
               payload: &[u8]| {
        let b = PacketBuilder::ethernet2(from.0, to.0)
            .ipv4(from.1, to.1, 64)
            .tcp(ports.0, ports.1, seq, 8192);
        let b = match flags {
            0 => b.syn(),
            1 => b.syn().ack(1001),
            _ => b.ack(5001).psh(),
        };
        let mut f = Vec::new();
        b.write(&mut f, payload).unwrap();
        f
    };
    let mdns = {
        let announcement = [
            0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // header
            0x07, b'h', b'm', b'i', b'-', b'o', b'p', b'1', 0x05, b'l', b'o', b'c', b'a', b'l',
            0x00, 0x00, 0x01, 0x80, 0x01, 0x00, 0x00, 0x00, 0x78, 0x00, 0x04, 10, 10, 1,
            10, // A
        ];
        let b = PacketBuilder::ethernet2(client.0, [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb])
            .ipv4(client.1, [224, 0, 0, 251], 255)
            .udp(5353, 5353);
        let mut f = Vec::new();
        b.write(&mut f, &announcement).unwrap();
        f
    };
    let frames = vec![
        tcp(client, server, (40000, 53), 1000, 0, &[]),
        tcp(server, client, (53, 40000), 5000, 1, &[]),
        tcp(client, server, (40000, 53), 1001, 2, query),
        tcp(server, client, (53, 40000), 5001, 2, &response[..20]),
        tcp(server, client, (53, 40000), 5021, 2, &response[20..]),
        mdns,
    ];
    write_capture(&capture, &frames);
    let events = common::replay(&[&capture], &[]).events();
    let summary: Vec<(&str, u64, bool)> = events
        .iter()
        .map(|e| {
            (
                e["protocol"].as_str().unwrap(),
                e["packet"].as_u64().unwrap(),
                e["is_response"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("dns", 3, false), ("dns", 5, true), ("mdns", 6, true)]
    );
    assert_eq!(events[1]["transport"], "tcp");
    assert_eq!(events[1]["answers"][0]["data"], "10.10.2.1");
    assert_eq!(events[2]["identity"]["hostname"], "hmi-op1");
}
