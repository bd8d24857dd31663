//! Modbus/TCP against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/modbus/`: the frames that carry Modbus, and per PDU the
//! function code, exception code, unit id and transaction id.

mod common;

use common::*;

/// Frames where the sensor decodes Modbus and Wireshark, by design, does not.
///
/// Wireshark takes the highest sequence number seen so far as the stream's
/// position, so the forged segment in frame 12 of this fuzzed capture
/// (sequence number 131153) makes it call the server's next real responses
/// retransmissions and skip them. The sensor reassembles within a window and
/// decodes them: one injected segment must not blind it to what follows.
const DECODED_ONLY_BY_US: &[(&str, u64)] = &[
    ("zeek_modbus_fuzz72.pcap", 19),
    ("zeek_modbus_fuzz72.pcap", 21),
];

/// One PDU's identifying values, as strings in Wireshark's format.
fn ours(event: &serde_json::Value) -> (String, String, String) {
    (
        event["transaction_id"].to_string(),
        event["unit_id"].to_string(),
        event["function_code"].to_string(),
    )
}

#[test]
fn modbus_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("modbus") else {
        return;
    };
    let mut pdus_compared = 0;
    for capture in captures_in(&dir) {
        let oracle = Oracle::for_capture(&capture);
        let run = replay(&[&capture], &[]);
        let events = run.events();
        let ours_by_packet = events_by_packet(&events, "modbus");
        let theirs = oracle.records("modbus");
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let mut mismatches = Vec::new();
        for (frame, record) in &theirs {
            let tids = field_values(record, "mbtcp.trans_id");
            let units = field_values(record, "mbtcp.unit_id");
            let funcs = field_values(record, "modbus.func_code");
            let expected: Vec<_> = tids
                .iter()
                .zip(&units)
                .zip(&funcs)
                .map(|((t, u), f)| (t.clone(), u.clone(), f.clone()))
                .collect();
            let got: Vec<_> = ours_by_packet
                .get(frame)
                .map_or(Vec::new(), |es| es.iter().map(|e| ours(e)).collect());
            if got != expected {
                mismatches.push(format!(
                    "frame {frame}: wireshark {expected:?}, otsensor {got:?}"
                ));
                continue;
            }
            let mut expected_exceptions = field_values(record, "modbus.exception_code");
            let mut got_exceptions: Vec<String> = ours_by_packet[frame]
                .iter()
                .filter(|e| !e["exception_code"].is_null())
                .map(|e| e["exception_code"].to_string())
                .collect();
            expected_exceptions.sort();
            got_exceptions.sort();
            if got_exceptions != expected_exceptions {
                mismatches.push(format!(
                    "frame {frame}: exception codes wireshark {expected_exceptions:?}, otsensor {got_exceptions:?}"
                ));
            }
            pdus_compared += expected.len();
        }
        for (frame, events) in ours_by_packet
            .iter()
            .filter(|(f, _)| !theirs.contains_key(f))
        {
            // Bytes that cannot be an MBAP header: Wireshark shows plain TCP data,
            // the sensor reports them as a Modbus anomaly rather than dropping them.
            let only_invalid_framing = events.iter().all(|e| {
                e["function_code"].is_null() && e["anomalies"][0] == "invalid_mbap_header"
            });
            if !only_invalid_framing && !DECODED_ONLY_BY_US.contains(&(name.as_str(), *frame)) {
                mismatches.push(format!(
                    "frame {frame}: otsensor decodes Modbus where Wireshark does not"
                ));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(pdus_compared > 300, "only {pdus_compared} PDUs compared");
}
