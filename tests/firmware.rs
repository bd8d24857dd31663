//! Firmware updates over EtherNet/IP raise OT-FW-001: Rockwell's
//! Non-Volatile Storage object (ControlFLASH), and an Identity reset that
//! follows a File object download on the same connection. An ordinary reset
//! and reading a device's EDS file do not.

mod common;

use common::craft::{Craft, Tcp, host};
use common::*;
use serde_json::Value;

const EWS: &str = "10.0.1.50";
const HMI: &str = "10.0.1.10";
/// Updated with ControlFLASH (NVS object).
const FLASHED: &str = "10.0.2.1";
/// Sent a file, then reset.
const DOWNLOADED: &str = "10.0.2.2";
/// Reset with no download before.
const RESET_ONLY: &str = "10.0.2.3";
/// Asked for its EDS file.
const EDS_READ: &str = "10.0.2.4";

/// An encapsulation SendRRData (session 0x11020100) carrying `cip` as
/// unconnected data, with sender context `context`.
fn send_rr_data(context: u8, cip: &[u8]) -> Vec<u8> {
    let mut data = vec![
        0x00, 0x00, 0x00, 0x00, // interface handle: CIP
        0x0A, 0x00, // timeout
        0x02, 0x00, // item count
        0x00, 0x00, 0x00, 0x00, // null address item
        0xB2, 0x00, // unconnected data item
    ];
    data.extend_from_slice(&(cip.len() as u16).to_le_bytes()); // item length
    data.extend_from_slice(cip);
    let mut m = vec![0x6F, 0x00]; // command: SendRRData
    m.extend_from_slice(&(data.len() as u16).to_le_bytes()); // length
    m.extend_from_slice(&[0x00, 0x01, 0x02, 0x11]); // session handle
    m.extend_from_slice(&[0x00; 4]); // status
    m.extend_from_slice(&[context, 0, 0, 0, 0, 0, 0, 0]); // sender context
    m.extend_from_slice(&[0x00; 4]); // options
    m.extend_from_slice(&data);
    m
}

/// A CIP request and its success reply (no reply data).
fn cip(craft: &mut Craft, tcp: &mut Tcp, context: u8, request: &[u8]) {
    let reply = [request[0] | 0x80, 0x00, 0x00, 0x00];
    craft.exchange(
        tcp,
        &send_rr_data(context, request),
        &send_rr_data(context, &reply),
    );
}

/// Reset (type 0) of Identity instance 1.
const IDENTITY_RESET: &[u8] = &[
    0x05, // service: Reset
    0x02, // path size: 2 words
    0x20, 0x01, // class: identity
    0x24, 0x01, // instance 1
    0x00, // reset type
];

fn plant() -> Craft {
    let mut craft = Craft::new();
    // ControlFLASH: NVS Update, then the image chunk by chunk.
    let mut tcp = craft.connect(host(EWS), host(FLASHED), 40100, 44818);
    let nvs = |service: u8, data: &[u8]| {
        let mut m = vec![
            service, // service: 0x4B Update, 0x4D Transfer
            0x02,    // path size: 2 words
            0x20, 0xA1, // class: non-volatile storage
            0x24, 0x01, // instance 1
        ];
        m.extend_from_slice(data);
        m
    };
    cip(
        &mut craft,
        &mut tcp,
        1,
        &nvs(0x4B, &[0x00, 0x00, 0x08, 0x00]),
    );
    for chunk in 0..3u8 {
        let mut data = vec![chunk, 0, 0, 0]; // chunk number
        data.extend_from_slice(&[0x5A; 32]); // firmware bytes
        cip(&mut craft, &mut tcp, 2 + chunk, &nvs(0x4D, &data));
    }

    // A file sent into File object instance 1, then the Identity reset that
    // makes it take effect.
    let mut tcp = craft.connect(host(EWS), host(DOWNLOADED), 40200, 44818);
    let initiate_download = [
        0x4C, // service: Initiate_Download
        0x02, // path size: 2 words
        0x20, 0x37, // class: file object
        0x24, 0x01, // instance 1
        0x00, 0x10, 0x00, 0x00, // file size: 4096
        0x03, 0x02, // file revision 3.2
    ];
    cip(&mut craft, &mut tcp, 1, &initiate_download);
    for transfer in 0..2u8 {
        let download_transfer = [
            0x50, // service: Download_Transfer
            0x02, // path size: 2 words
            0x20, 0x37, // class: file object
            0x24, 0x01,     // instance 1
            transfer, // transfer number
            0x01,     // transfer packet type: middle
            0xDE, 0xAD, 0xBE, 0xEF, // file data
        ];
        cip(&mut craft, &mut tcp, 2 + transfer, &download_transfer);
    }
    cip(&mut craft, &mut tcp, 4, IDENTITY_RESET);

    // An ordinary reset.
    let mut tcp = craft.connect(host(EWS), host(RESET_ONLY), 40300, 44818);
    cip(&mut craft, &mut tcp, 1, IDENTITY_RESET);

    // A configuration tool reads the EDS file.
    let mut tcp = craft.connect(host(HMI), host(EDS_READ), 40400, 44818);
    let initiate_upload = [
        0x4B, // service: Initiate_Upload
        0x02, // path size: 2 words
        0x20, 0x37, // class: file object
        0x24, 0xC8, // instance 0xC8: the EDS file
        0xF0, // maximum transfer size
    ];
    cip(&mut craft, &mut tcp, 1, &initiate_upload);
    let upload_transfer = [
        0x4F, // service: Upload_Transfer
        0x02, // path size: 2 words
        0x20, 0x37, // class: file object
        0x24, 0xC8, // instance 0xC8
        0x00, // transfer number
    ];
    cip(&mut craft, &mut tcp, 2, &upload_transfer);
    craft
}

fn alerts(replay: &Replay) -> Vec<Value> {
    std::fs::read_to_string(replay.dir.path().join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The (device, function) pairs of one rule's alerts.
fn raised(alerts: &[Value], rule: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = alerts
        .iter()
        .filter(|a| a["rule"] == rule)
        .map(|a| {
            (
                a["dst"]["ip"].as_str().unwrap().to_string(),
                a["function"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

#[test]
fn firmware_updates_raise_ot_fw_001_and_ordinary_resets_and_eds_reads_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("firmware.pcap");
    plant().write(&path);
    let run = replay(&[&path], &[]);
    let alerts = alerts(&run);
    let pair = |ip: &str, function: &str| (ip.to_string(), function.to_string());
    assert_eq!(
        raised(&alerts, "OT-FW-001"),
        [
            pair(FLASHED, "nvs_transfer"),
            pair(FLASHED, "nvs_update"),
            pair(DOWNLOADED, "reset"),
        ],
        "{alerts:#?}"
    );
    // Both resets are still CIP resets; only the download's is firmware.
    assert_eq!(
        raised(&alerts, "OT-CPU-004"),
        [pair(DOWNLOADED, "reset"), pair(RESET_ONLY, "reset")]
    );
    // Reading the EDS file is discovery, not a program upload.
    assert!(
        raised(&alerts, "OT-PROG-001")
            .iter()
            .all(|(ip, _)| ip != EDS_READ),
        "{alerts:#?}"
    );

    // The firmware reset points at the download that it made take effect.
    let events = run.events();
    let to = |ip: &str, function: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["dst_ip"] == ip && e["function"] == function)
            .collect()
    };
    let download = to(DOWNLOADED, "initiate_download");
    let reset = to(DOWNLOADED, "reset");
    assert_eq!((download.len(), reset.len()), (1, 1));
    assert_eq!(reset[0]["class"], "firmware");
    assert_eq!(reset[0]["firmware_download_packet"], download[0]["packet"]);
    let fw = alerts
        .iter()
        .find(|a| a["rule"] == "OT-FW-001" && a["function"] == "reset")
        .unwrap();
    assert_eq!(fw["evidence"]["packets"][0], reset[0]["packet"]);
    let ordinary = to(RESET_ONLY, "reset");
    assert_eq!(ordinary[0]["class"], "control");
    assert!(ordinary[0].get("firmware_download_packet").is_none());
    for read in to(EDS_READ, "initiate_upload")
        .into_iter()
        .chain(to(EDS_READ, "upload_transfer"))
    {
        assert_eq!(read["class"], "discovery");
    }
}
