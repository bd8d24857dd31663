//! Application payloads for crafted captures: just enough of each protocol
//! for the sensor's decoder to read what a test needs.

/// A DNS query for `name` (A, IN), or with `answer` the response giving
/// its address.
pub fn dns(id: u16, name: &str, answer: Option<[u8; 4]>) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(if answer.is_some() {
        &[0x81, 0x80] // response, recursion desired and available
    } else {
        &[0x01, 0x00] // query, recursion desired
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    if let Some(ip) = answer {
        // The question's name (pointer), A, IN, TTL 3600, 4 bytes.
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        m.extend_from_slice(&ip);
    }
    m
}

/// An MQTT string: length, then UTF-8.
fn mqtt_str(text: &str) -> Vec<u8> {
    let mut s = (text.len() as u16).to_be_bytes().to_vec();
    s.extend_from_slice(text.as_bytes());
    s
}

/// An MQTT control packet of `first_byte` (type and flags) around `body`
/// (shorter than 128 bytes).
fn mqtt_packet(first_byte: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut p = vec![first_byte, body.len() as u8];
    p.extend_from_slice(body);
    p
}

/// An MQTT 3.1.1 CONNECT with a clean session, and a user name and
/// password when given.
pub fn mqtt_connect(client_id: &str, login: Option<(&str, &str)>) -> Vec<u8> {
    let mut body = mqtt_str("MQTT");
    let flags = if login.is_some() { 0xc2 } else { 0x02 };
    body.extend_from_slice(&[4, flags, 0, 60]); // level 4, flags, keep alive 60 s
    body.extend(mqtt_str(client_id));
    if let Some((user, password)) = login {
        body.extend(mqtt_str(user));
        body.extend(mqtt_str(password));
    }
    mqtt_packet(0x10, &body)
}

/// CONNACK: session not present, accepted.
pub const MQTT_CONNACK: &[u8] = &[0x20, 0x02, 0x00, 0x00];

/// A QoS 0 PUBLISH of `payload` to `topic`.
pub fn mqtt_publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = mqtt_str(topic);
    body.extend_from_slice(payload);
    mqtt_packet(0x30, &body)
}

/// A BER TLV with a short or long definite length.
pub fn tlv(tag: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let content = parts.concat();
    let mut out = tag.to_vec();
    match content.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend(content);
    out
}

/// A GOOSE frame (after the ethertype) of control block `gocb` with
/// `st_num`, `sq_num` and one boolean, allowed to live 2 s; `simulation`
/// sets the simulation flag (a test message).
pub fn goose(gocb: &str, st_num: u8, sq_num: u8, value: bool, simulation: bool) -> Vec<u8> {
    let pdu = tlv(
        &[0x61], // goosePdu
        &[
            &tlv(&[0x80], &[gocb.as_bytes()]),     // gocbRef
            &[0x81, 0x02, 0x07, 0xd0],             // timeAllowedtoLive 2000 ms
            &tlv(&[0x82], &[b"IED1LD0/LLN0$DS1"]), // datSet
            &tlv(&[0x83], &[b"goose1"]),           // goID
            &[0x84, 0x08, 0x65, 0x53, 0xf1, 0x00, 0x80, 0x00, 0x00, 0x0a], // t
            &[0x85, 0x01, st_num],                 // stNum
            &[0x86, 0x01, sq_num],                 // sqNum
            &[0x87, 0x01, u8::from(simulation)],   // simulation flag
            &[0x88, 0x01, 0x01],                   // confRev 1
            &[0x89, 0x01, 0x00],                   // ndsCom false
            &[0x8a, 0x01, 0x01],                   // numDatSetEntries 1
            &tlv(&[0xab], &[&[0x83, 0x01, u8::from(value)]]), // allData: one boolean
        ],
    );
    let mut frame = vec![0x00, 0x01]; // APPID 1
    frame.extend_from_slice(&((pdu.len() + 8) as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]); // reserved 1 and 2
    frame.extend(pdu);
    frame
}

/// An MMS confirmed request (invoke id, `service`) in an ISO session data
/// transfer: session give tokens and data transfer, presentation context 3.
/// It goes into a COTP DT (`craft::tpkt_dt`).
pub fn mms_request(invoke_id: u8, service: &[u8]) -> Vec<u8> {
    let mms = tlv(&[0xa0], &[&[0x02, 0x01, invoke_id], service]);
    let presentation = tlv(
        &[0x61], // fully-encoded data
        &[&tlv(
            &[0x30],                                        // PDV list
            &[&[0x02, 0x01, 0x03], &tlv(&[0xa0], &[&mms])], // context 3, single ASN.1 type
        )],
    );
    let mut tsdu = vec![0x01, 0x00, 0x01, 0x00]; // give tokens, data transfer
    tsdu.extend(presentation);
    tsdu
}

/// The PDU of a Modbus FC 43/14 answer (basic device identification) in
/// which the device names its vendor, product code and firmware revision.
pub fn modbus_identification(vendor: &str, product: &str, revision: &str) -> Vec<u8> {
    let mut pdu = vec![0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 0x03]; // code 1, conformity, more, next, 3 objects
    for (id, value) in [(0u8, vendor), (1, product), (2, revision)] {
        pdu.extend_from_slice(&[id, value.len() as u8]);
        pdu.extend_from_slice(value.as_bytes());
    }
    pdu
}
