//! OPC UA Binary against Wireshark, frame by frame, through the whole
//! pipeline, on every capture of `../shared/pcaps/opcua/`: which frames carry
//! OPC UA and, per message, every field the `.tshark.json` oracle has
//! (message and chunk type, secure channel id, HEL endpoint URL, ERR and
//! abort error and reason, OPN security policy, service node id and result,
//! and the endpoint URLs and security policies of GetEndpoints and
//! CreateSession), as lists when a frame holds several messages.

mod common;

use common::*;
use serde_json::Value;

/// Frames where the sensor decodes OPC UA and Wireshark, by design, does not.
///
/// In this capture the client acknowledges the server's segments 10384 and
/// 13304 (frames 25 and 29) before they appear (frames 26 and 30): the
/// capture point saw them late. Wireshark then takes them for spurious
/// retransmissions and leaves them out of its reassembly, so the 14 KB
/// CreateSession response that ends in frame 30 is never dissected. The
/// sensor's reassembly keeps the bytes and decodes the response.
const DECODED_ONLY_BY_US: &[(&str, u64)] = &[("opcua_with_gap_with_handshake.pcapng", 30)];
const WHY_DECODED_ONLY_BY_US: &str = "the capture point saw two server segments after \
     the client acknowledged them; Wireshark takes them for spurious retransmissions and \
     never dissects the CreateSession response they end";

/// Why an intermediate chunk has no event of its own.
const WHY_INTERMEDIATE: &str = "an intermediate chunk: the sensor reports the message \
     once, on its final chunk";

/// Wireshark fields compared, one value per message (or per endpoint).
const COMPARED: &[&str] = &[
    "opcua.transport.type",
    "opcua.transport.chunk",
    "opcua.transport.scid",
    "opcua.transport.endpoint",
    "opcua.transport.error",
    "opcua.transport.reason",
    "opcua.security.spu",
    "opcua.servicenodeid.numeric",
    "opcua.ServiceResult",
    "opcua.EndpointUrl",
    "opcua.SecurityPolicyUri",
];

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The event's values of a Wireshark field, formatted as tshark shows them.
fn ours(event: &Value, field: &str) -> Vec<String> {
    let message_type = event["message_type"].as_str().unwrap_or_default();
    let connection = matches!(message_type, "HEL" | "RHE");
    let endpoints = event["endpoints"].as_array().cloned().unwrap_or_default();
    let one = |v: Option<String>| v.into_iter().collect::<Vec<_>>();
    match field {
        "opcua.transport.type" => one(str_of(&event["message_type"])),
        "opcua.transport.chunk" => one(str_of(&event["chunk_type"])),
        "opcua.transport.scid" => one(event["secure_channel_id"].as_u64().map(|v| v.to_string())),
        "opcua.transport.endpoint" if connection => one(str_of(&event["endpoint_url"])),
        "opcua.transport.error" => one(event["error_code"].as_u64().map(|v| format!("0x{v:08x}"))),
        "opcua.transport.reason" => one(str_of(&event["reason"])),
        "opcua.security.spu" => one(str_of(&event["security_policy_uri"])),
        "opcua.servicenodeid.numeric" => one(event["service_id"].as_u64().map(|v| v.to_string())),
        "opcua.ServiceResult" => one(event["status"].as_u64().map(|v| format!("0x{v:08x}"))),
        // The request's endpoint URL, then each endpoint's.
        "opcua.EndpointUrl" if !connection => one(str_of(&event["endpoint_url"]))
            .into_iter()
            .chain(endpoints.iter().filter_map(|e| str_of(&e["endpoint_url"])))
            .collect(),
        // Each endpoint's policy, then its user token policies' (empty when null).
        "opcua.SecurityPolicyUri" => endpoints
            .iter()
            .flat_map(|e| {
                let tokens = e["user_tokens"].as_array().cloned().unwrap_or_default();
                std::iter::once(str_of(&e["security_policy_uri"]).unwrap_or_default()).chain(
                    tokens
                        .into_iter()
                        .map(|t| str_of(&t["security_policy_uri"]).unwrap_or_default()),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn opcua_matches_wireshark_frame_by_frame() {
    let Some(dir) = shared_pcaps("opcua") else {
        return;
    };
    let mut agreement = Agreement::new("opcua");
    let mut messages_compared = 0;
    for capture in captures_in(&dir) {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        let events = replay(&[&capture], &[]).events();
        let stem = capture.file_stem().unwrap().to_string_lossy().into_owned();
        if !capture
            .with_file_name(format!("{stem}.tshark.json"))
            .exists()
        {
            // No oracle: replaying without failing is the check.
            continue;
        }
        agreement.capture(&capture);
        let oracle = Oracle::for_capture(&capture);
        let by_packet = events_by_packet(&events, "opcua");
        let theirs = oracle.records("opcua");
        let mut mismatches = Vec::new();
        for frame in either_frames(&theirs, &by_packet) {
            let record = theirs.get(&frame);
            // Bytes that cannot be a message: Wireshark shows plain TCP data,
            // the sensor reports them as an OPC UA anomaly rather than dropping them.
            let decoded: Vec<&Value> = by_packet.get(&frame).map_or(Vec::new(), |es| {
                es.iter()
                    .copied()
                    .filter(|e| e["function"] != "invalid")
                    .collect()
            });
            let chunks = record.map_or(Vec::new(), |r| field_values(r, "opcua.transport.chunk"));
            // Intermediate chunks: Wireshark lists each one, the sensor
            // reports the message once, on its final chunk. No capture of
            // the corpus has them; should one come, its frames are only
            // checked for carrying no event of ours but final ones.
            let intermediate = chunks.iter().any(|c| c == "C");
            if intermediate && decoded.iter().any(|e| e["chunk_type"] == "C") {
                mismatches.push(format!("frame {frame}: event on an intermediate chunk"));
            }
            let ours_only = DECODED_ONLY_BY_US.contains(&(name.as_str(), frame));
            match (record, decoded.is_empty()) {
                (Some(_), true) if !intermediate => mismatches.push(format!(
                    "frame {frame}: Wireshark decodes OPC UA, otsensor does not"
                )),
                (None, false) if !ours_only => mismatches.push(format!(
                    "frame {frame}: otsensor decodes OPC UA where Wireshark does not"
                )),
                (Some(_), _) if !intermediate => messages_compared += decoded.len(),
                _ => {}
            }
            let by_design = match record {
                Some(_) if intermediate => Some(WHY_INTERMEDIATE),
                None if ours_only => Some(WHY_DECODED_ONLY_BY_US),
                _ => None,
            };
            for field in COMPARED {
                let expected = record.map_or(Vec::new(), |r| field_values(r, field));
                let got: Vec<String> = decoded.iter().flat_map(|e| ours(e, field)).collect();
                mismatches.extend(agreement.compare(frame, field, &expected, &got, by_design));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{name}:\n  {}",
            mismatches.join("\n  ")
        );
    }
    assert!(
        messages_compared >= 430,
        "only {messages_compared} messages compared"
    );
}

/// The secured capture: its second connection opens a Basic256Sha256
/// channel, whose OPN messages are encrypted with the asymmetric keys
/// whatever the mode; the MSG bodies that follow are signed only (Wireshark
/// reads them too), so the sensor decodes them and says the mode is Sign.
#[test]
fn secured_channel_reports_encryption_and_inferred_mode() {
    let Some(dir) = shared_pcaps("opcua") else {
        return;
    };
    let capture = dir.join("python_opcua_client_server_encrypted.pcapng");
    let events = replay(&[&capture], &[]).events();
    let by_packet = events_by_packet(&events, "opcua");
    for frame in [31, 33] {
        let e = by_packet[&frame][0];
        assert_eq!(e["message_type"], "OPN");
        assert_eq!(e["encrypted"], true, "frame {frame}");
        assert_eq!(e["security_policy"], "Basic256Sha256");
        assert!(e["service_id"].is_null() && e["function_code"].is_null());
        assert_eq!(e["function"], "open_secure_channel");
    }
    for frame in [35, 37, 39, 41, 43, 45] {
        let e = by_packet[&frame][0];
        assert_eq!(e["encrypted"], false, "frame {frame}");
        assert_eq!(e["security_mode"], "Sign", "frame {frame}");
        assert_eq!(e["security_policy"], "Basic256Sha256");
    }
    // ActivateSession of the signed channel: an anonymous user.
    assert_eq!(
        by_packet[&39][0]["identity_token"],
        "AnonymousIdentityToken"
    );
    // The server's description, from the CreateSession response.
    let identity = &by_packet[&37][0]["identity"];
    assert_eq!(identity["device_type"], "OPC UA Client and Server");
    assert_eq!(identity["product"], "urn:freeopcua.github.io:python:server");
    assert_eq!(identity["vendor"], "freeopcua.github.io");
    assert_eq!(identity["station_name"], "FreeOpcUa Python Server");
    // The client describes itself in its CreateSession request.
    assert_eq!(
        by_packet[&35][0]["identity"]["station_name"],
        "Pure Python Client"
    );
}

/// The open62541 capture (BSD loopback link type): a user name token whose
/// password travels unencrypted, and the server identity.
#[test]
fn open62541_session_and_identity() {
    let Some(dir) = shared_pcaps("opcua") else {
        return;
    };
    let capture = dir.join("open62541_read_service_null_linktype.pcap");
    let events = replay(&[&capture], &[]).events();
    let by_packet = events_by_packet(&events, "opcua");
    let activate = by_packet[&21][0];
    assert_eq!(activate["function"], "activate_session");
    assert_eq!(activate["identity_token"], "UserNameIdentityToken");
    assert_eq!(activate["user_name"], "user1");
    assert_eq!(activate["password_present"], true);
    assert_eq!(activate["password_encrypted"], false);
    assert!(
        !events
            .iter()
            .any(|e| e.to_string().contains("\"password\"")),
        "the password is never written"
    );
    let endpoints = by_packet[&15][0];
    assert_eq!(endpoints["function"], "get_endpoints");
    assert_eq!(endpoints["identity"]["vendor"], "open62541.org");
    // Wireshark: ApplicationUri urn:open62541.server.application.
    assert_eq!(
        endpoints["identity"]["application_uri"],
        "urn:open62541.server.application"
    );
    assert_eq!(
        endpoints["identity"]["station_name"],
        "open62541-based OPC UA Application"
    );
    let reads = events.iter().filter(|e| e["function"] == "read").count();
    assert_eq!(reads, 172, "86 Read requests and their responses");
}
