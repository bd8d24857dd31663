//! Modbus/TCP against Wireshark, frame by frame, on every capture of
//! `../shared/pcaps/modbus/`: the frames that carry Modbus, and per PDU the
//! function code, exception code, unit id and transaction id.

mod common;

use common::*;

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
            let got: Vec<_> = ours_by_packet.get(frame).map_or(Vec::new(), |es| es.iter().map(|e| ours(e)).collect());
            if got != expected {
                mismatches.push(format!("frame {frame}: wireshark {expected:?}, otsensor {got:?}"));
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
        for frame in ours_by_packet.keys().filter(|f| !theirs.contains_key(f)) {
            mismatches.push(format!("frame {frame}: otsensor decodes Modbus where Wireshark does not"));
        }
        assert!(mismatches.is_empty(), "{name}:\n  {}", mismatches.join("\n  "));
    }
    assert!(pdus_compared > 300, "only {pdus_compared} PDUs compared");
}
