//! MMS over the OSI upper layers: every PDU kind decoded, the session,
//! presentation and ACSE exchanges, pairing and classes, malformed input,
//! the probe, and a pseudo-random input loop.
//!
//! Vectors are taken from the shared captures where those have them
//! (`iec61850_get_name_list.pcap`, `iec61850_mms_sample.pcap`); the others
//! are built here with [`t`], which only computes BER lengths, a comment per
//! field. Each was checked against `tshark -V` (Wireshark 4.0).

use super::*;
use crate::event::{Event, Header, Transport};
use crate::protocols::iso_on_tcp::{self, IsoOnTcpParser};
use crate::protocols::{Probe, StreamParser};
use crate::time::Timestamp;

use Direction::{ToClient, ToServer};

// ---------------------------------------------------------------- helpers

/// A BER TLV: identifier octets, then the definite length of the parts.
fn t(id: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let content: Vec<u8> = parts.concat();
    let mut out = id.to_vec();
    match content.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend(content);
    out
}

/// A VisibleString (an MMS Identifier).
fn vs(s: &str) -> Vec<u8> {
    t(&[0x1a], &[s.as_bytes()])
}

/// A domain-specific `ObjectName` `[1] { domainId, itemId }`.
fn domain_name(domain: &str, item: &str) -> Vec<u8> {
    t(&[0xa1], &[&vs(domain), &vs(item)])
}

/// The entries `SEQUENCE { variableSpecification: name [0] ObjectName }`
/// of a list of variables.
fn variable_entries(names: &[Vec<u8>]) -> Vec<u8> {
    names
        .iter()
        .flat_map(|n| t(&[0x30], &[&t(&[0xa0], &[n])]))
        .collect()
}

/// A list of variables `[0]`.
fn list_of_variable(names: &[Vec<u8>]) -> Vec<u8> {
    t(&[0xa0], &[&variable_entries(names)])
}

/// A confirmed request: invoke id, then the service.
fn request(invoke_id: u8, service: &[u8]) -> Vec<u8> {
    t(&[0xa0], &[&[0x02, 0x01, invoke_id], service])
}

/// A confirmed response: invoke id, then the service.
fn response(invoke_id: u8, service: &[u8]) -> Vec<u8> {
    t(&[0xa1], &[&[0x02, 0x01, invoke_id], service])
}

/// Fully-encoded presentation user data: one PDV of context `context`.
fn user_data(context: u8, apdu: &[u8]) -> Vec<u8> {
    t(
        &[0x61], // fully-encoded-data
        &[&t(
            &[0x30], // PDV-list
            &[
                &[0x02, 0x01, context], // presentation-context-identifier
                &t(&[0xa0], &[apdu]),   // single-ASN1-type
            ],
        )],
    )
}

/// The TSDU of an MMS PDU in a data transfer: give tokens, data transfer,
/// presentation context 3 (MMS).
fn data_tsdu(mms: &[u8]) -> Vec<u8> {
    let mut tsdu = vec![
        0x01, 0x00, // GIVE TOKENS, no parameters
        0x01, 0x00, // DATA TRANSFER, no parameters
    ];
    tsdu.extend(user_data(3, mms));
    tsdu
}

/// A TPKT with one DT TPDU (end of TSDU) carrying `tsdu`.
fn tpkt(tsdu: &[u8]) -> Vec<u8> {
    let len = (tsdu.len() + 7) as u16;
    let mut out = vec![0x03, 0x00];
    out.extend(len.to_be_bytes());
    out.extend([0x02, 0xf0, 0x80]); // LI 2, DT, EOT
    out.extend(tsdu);
    out
}

fn header(packet: u64) -> Header {
    Header {
        ts: Timestamp::from_secs(1_700_000_000),
        capture: 0,
        packet,
        seq: packet,
        flow: 1,
        src_mac: None,
        dst_mac: None,
        src_ip: None,
        dst_ip: None,
        src_port: Some(40000),
        dst_port: Some(iso_on_tcp::PORT),
        transport: Transport::Tcp,
    }
}

/// One ISO-on-TCP connection through the real stream decoder.
#[derive(Default)]
struct Conn {
    parser: IsoOnTcpParser,
    events: Vec<Event>,
    packet: u64,
}

impl Conn {
    fn feed(&mut self, dir: Direction, data: &[u8]) -> usize {
        self.packet += 1;
        let mut out = Emitter::new(header(self.packet), dir, &mut self.events);
        self.parser.parse(data, &mut out)
    }

    /// The events of one TSDU sent in `dir`.
    fn tsdu(&mut self, dir: Direction, tsdu: &[u8]) -> Vec<Pdu> {
        let before = self.events.len();
        let data = tpkt(tsdu);
        assert_eq!(self.feed(dir, &data), data.len());
        self.events[before..]
            .iter()
            .map(|e| e.pdu.clone())
            .collect()
    }

    /// The one event of an MMS PDU sent in a data transfer.
    fn mms(&mut self, dir: Direction, mms: &[u8]) -> Pdu {
        let events = self.tsdu(dir, &data_tsdu(mms));
        assert_eq!(events.len(), 1, "{events:#?}");
        events.into_iter().next().unwrap()
    }
}

fn fields(pdu: &Pdu) -> &MmsFields {
    match &pdu.fields {
        Fields::Mms(f) => f,
        other => panic!("not MMS fields: {other:?}"),
    }
}

fn assoc(pdu: &Pdu) -> &Association {
    fields(pdu)
        .association
        .as_deref()
        .expect("association fields")
}

fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
    pdu.anomalies.iter().collect()
}

fn domain(d: &str, i: &str) -> ObjectName {
    ObjectName::Domain {
        domain_id: d.into(),
        item_id: i.into(),
    }
}

// ---------------------------------------------------------------- connect

/// iec61850_get_name_list frame 8: CONNECT, CP-type, AARQ, initiate request.
const CONNECT: &[u8] = &[
    0x0d, 0xb2, // CONNECT, length 178
    0x05, 0x06, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02, // connect accept item: options, version 2
    0x14, 0x02, 0x00, 0x02, // session requirement: duplex
    0x33, 0x02, 0x00, 0x01, // calling session selector 0001
    0x34, 0x02, 0x00, 0x01, // called session selector 0001
    0xc1, 0x9c, // session user data, 156 octets
    0x31, 0x81, 0x99, // CP-type
    0xa0, 0x03, 0x80, 0x01, 0x01, // mode-selector: normal mode
    0xa2, 0x81, 0x91, // normal-mode-parameters
    0x81, 0x04, 0x00, 0x00, 0x00, 0x01, // calling presentation selector
    0x82, 0x04, 0x00, 0x00, 0x00, 0x01, // called presentation selector
    0xa4, 0x23, // presentation-context-definition-list
    0x30, 0x0f, 0x02, 0x01, 0x01, 0x06, 0x04, 0x52, 0x01, 0x00, 0x01, // 1: ACSE
    0x30, 0x04, 0x06, 0x02, 0x51, 0x01, //    transfer syntax BER
    0x30, 0x10, 0x02, 0x01, 0x03, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x01, // 3: MMS
    0x30, 0x04, 0x06, 0x02, 0x51, 0x01, //    transfer syntax BER
    0x88, 0x02, 0x06, 0x00, // presentation-requirements
    0x61, 0x5a, // fully-encoded user data
    0x30, 0x58, 0x02, 0x01, 0x01, // PDV, context 1 (ACSE)
    0xa0, 0x53, // single-ASN1-type
    0x60, 0x51, // AARQ
    0x80, 0x02, 0x07, 0x80, // protocol-version 1
    0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03, // context 1.0.9506.2.3
    0xa2, 0x06, 0x06, 0x04, 0x2b, 0xce, 0x0f, 0x02, // called AP title 1.3.9999.2
    0xa3, 0x03, 0x02, 0x01, 0x17, // called AE qualifier 23
    0xbe, 0x35, 0x28, 0x33, // user-information: EXTERNAL
    0x06, 0x02, 0x51, 0x01, // direct-reference BER
    0x02, 0x01, 0x03, // indirect-reference 3
    0xa0, 0x2a, // single-ASN1-type
    0xa8, 0x28, // initiate-RequestPDU
    0x80, 0x02, 0x75, 0x30, // localDetailCalling 30000
    0x81, 0x02, 0x03, 0xe8, // proposedMaxServOutstandingCalling 1000
    0x82, 0x02, 0x03, 0xe8, // proposedMaxServOutstandingCalled 1000
    0x83, 0x01, 0x05, // proposedDataStructureNestingLevel 5
    0xa4, 0x17, // mmsInitRequestDetail
    0x80, 0x01, 0x01, // proposedVersionNumber 1
    0x81, 0x03, 0x05, 0xfb, 0x00, // proposedParameterCBB
    0x82, 0x0d, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, // servicesSupportedCalling
];

/// iec61850_mms_sample frame 14: ACCEPT, CPA-PPDU, AARE, initiate response.
const ACCEPT: &[u8] = &[
    0x0e, 0x95, // ACCEPT, length 149
    0x05, 0x06, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02, // connect accept item
    0x14, 0x02, 0x00, 0x02, // session requirement: duplex
    0xc1, 0x87, // session user data, 135 octets
    0x31, 0x81, 0x84, // CPA-PPDU
    0xa0, 0x03, 0x80, 0x01, 0x01, // mode-selector: normal mode
    0xa2, 0x7d, // normal-mode-parameters
    0x80, 0x02, 0x07, 0x80, // protocol-version
    0x83, 0x04, 0x00, 0x00, 0x00, 0x02, // responding presentation selector
    0xa5, 0x12, // presentation-context-definition-result-list
    0x30, 0x07, 0x80, 0x01, 0x00, 0x81, 0x02, 0x51, 0x01, // acceptance, BER
    0x30, 0x07, 0x80, 0x01, 0x00, 0x81, 0x02, 0x51, 0x01, // acceptance, BER
    0x61, 0x5d, // fully-encoded user data
    0x30, 0x5b, 0x02, 0x01, 0x01, // PDV, context 1 (ACSE)
    0xa0, 0x56, // single-ASN1-type
    0x61, 0x54, // AARE
    0x80, 0x02, 0x07, 0x80, // protocol-version 1
    0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x01, 0x01, // context 1.0.9506.1.1
    0xa2, 0x03, 0x02, 0x01, 0x00, // result: accepted
    0xa3, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x00, // result-source-diagnostic: service-user null
    0xa4, 0x04, 0x06, 0x02, 0x29, 0x02, // responding AP title 1.1.2
    0xa5, 0x03, 0x02, 0x01, 0x02, // responding AE qualifier 2
    0xbe, 0x2e, 0x28, 0x2c, // user-information: EXTERNAL
    0x02, 0x01, 0x03, // indirect-reference 3
    0xa0, 0x27, // single-ASN1-type
    0xa9, 0x25, // initiate-ResponsePDU
    0x80, 0x02, 0x7d, 0x00, // localDetailCalled 32000
    0x81, 0x01, 0x14, // negotiatedMaxServOutstandingCalling 20
    0x82, 0x01, 0x14, // negotiatedMaxServOutstandingCalled 20
    0x83, 0x01, 0x04, // negotiatedDataStructureNestingLevel 4
    0xa4, 0x16, // mmsInitResponseDetail
    0x80, 0x01, 0x01, // negotiatedVersionNumber 1
    0x81, 0x03, 0x05, 0xfb, 0x00, // negotiatedParameterCBB
    0x82, 0x0c, 0x03, 0x6e, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x01,
    0x98, // servicesSupportedCalled
];

#[test]
fn connect_carries_aarq_and_initiate_request() {
    let mut c = Conn::default();
    let e = &c.tsdu(ToServer, CONNECT)[0];
    assert_eq!(e.protocol, Protocol::Mms);
    assert_eq!(e.function, "initiate_request");
    assert_eq!(e.class, FunctionClass::Session);
    assert_eq!(e.function_code, None);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    let f = fields(e);
    assert_eq!(f.spdu_type, Some(spdu::CN));
    assert_eq!(f.pdu_type, Some("initiate_request"));
    assert_eq!(f.presentation_context_id, Some(1));
    let a = assoc(e);
    assert_eq!(
        a.calling_session_selector.as_deref(),
        Some(&[0x00, 0x01][..])
    );
    assert_eq!(
        a.called_session_selector.as_deref(),
        Some(&[0x00, 0x01][..])
    );
    assert_eq!(
        a.calling_presentation_selector.as_deref(),
        Some(&[0, 0, 0, 1][..])
    );
    assert_eq!(a.acse_apdu, Some("aarq"));
    assert_eq!(a.application_context.as_deref(), Some("1.0.9506.2.3"));
    assert_eq!(a.called_ap_title.as_deref(), Some("1.3.9999.2"));
    assert_eq!(a.called_ae_qualifier, Some(23));
    let init = f.initiate.as_deref().unwrap();
    assert_eq!(init.local_detail, Some(30000));
    assert_eq!(init.max_serv_outstanding_calling, Some(1000));
    assert_eq!(init.max_serv_outstanding_called, Some(1000));
    assert_eq!(init.nesting_level, Some(5));
    assert_eq!(init.version, Some(1));
    assert_eq!(init.parameter_cbb.as_deref(), Some(&[0xfb, 0x00][..]));
    assert_eq!(
        init.services_supported.as_deref(),
        Some(
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00
            ][..]
        )
    );
    assert_eq!(c.parser.protocol(), Protocol::Mms);
}

#[test]
fn accept_carries_aare_and_initiate_response() {
    let mut c = Conn::default();
    let e = &c.tsdu(ToClient, ACCEPT)[0];
    assert_eq!(e.function, "initiate_response");
    assert_eq!(e.class, FunctionClass::Session);
    assert!(e.is_response);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    let a = assoc(e);
    assert_eq!(a.acse_apdu, Some("aare"));
    assert_eq!(
        a.responding_presentation_selector.as_deref(),
        Some(&[0, 0, 0, 2][..])
    );
    assert_eq!(a.application_context.as_deref(), Some("1.0.9506.1.1"));
    assert_eq!(a.association_result, Some(0));
    assert_eq!(a.responding_ap_title.as_deref(), Some("1.1.2"));
    assert_eq!(a.responding_ae_qualifier, Some(2));
    let init = fields(e).initiate.as_deref().unwrap();
    assert_eq!(init.local_detail, Some(32000));
    assert_eq!(init.max_serv_outstanding_calling, Some(20));
    assert_eq!(init.nesting_level, Some(4));
    assert_eq!(
        init.services_supported.as_deref(),
        Some(&[0x6e, 0x1d, 0, 0, 0, 0, 0, 0x64, 0x00, 0x01, 0x98][..])
    );
}

/// A CONNECT carrying an AARQ built here: password authentication.
fn connect_with_password() -> Vec<u8> {
    let aarq = t(
        &[0x60], // AARQ
        &[
            &[0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03], // context 1.0.9506.2.3
            &[0xa6, 0x06, 0x06, 0x04, 0x2b, 0xce, 0x0f, 0x01],       // calling AP title 1.3.9999.1
            &[0xa7, 0x03, 0x02, 0x01, 0x0c],                         // calling AE qualifier 12
            &[0x8a, 0x02, 0x06, 0x80], // sender-acse-requirements: authentication
            &[0x8b, 0x03, 0x52, 0x03, 0x01], // mechanism 2.2.3.1 (password)
            &t(&[0xac], &[&t(&[0x80], &[b"s3cret"])]), // calling-authentication-value: charstring
        ],
    );
    let cp = t(
        &[0x31], // CP-type
        &[
            &[0xa0, 0x03, 0x80, 0x01, 0x01], // mode-selector: normal mode
            &t(
                &[0xa2], // normal-mode-parameters
                &[
                    &[0x81, 0x02, 0x00, 0x07], // calling presentation selector
                    &[0x82, 0x02, 0x00, 0x08], // called presentation selector
                    &user_data(1, &aarq),
                ],
            ),
        ],
    );
    let mut tsdu = vec![0x0d]; // CONNECT
    let params = t(&[0xc1], &[&cp]); // session user data
    tsdu.push(params.len() as u8);
    tsdu.extend(params);
    tsdu
}

#[test]
fn an_aarq_without_mms_is_an_associate_request_with_its_password_secret() {
    let mut c = Conn::default();
    let e = &c.tsdu(ToServer, &connect_with_password())[0];
    assert_eq!(e.function, "associate_request");
    assert_eq!(e.class, FunctionClass::Session);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    let a = assoc(e);
    assert_eq!(a.calling_ap_title.as_deref(), Some("1.3.9999.1"));
    assert_eq!(a.calling_ae_qualifier, Some(12));
    assert_eq!(a.authentication_mechanism.as_deref(), Some("2.2.3.1"));
    assert_eq!(a.password.as_deref(), Some("s3cret"));
    assert_eq!(
        a.called_presentation_selector.as_deref(),
        Some(&[0x00, 0x08][..])
    );
    // Outputs see the password as a secret.
    struct Find(Option<bool>);
    impl Visitor for Find {
        fn field(&mut self, name: &str, value: Value<'_>) {
            if name == "password" {
                self.0 = Some(matches!(value, Value::Secret("s3cret")));
            }
        }
        fn begin(&mut self, _: &str, _: Nest) {}
        fn end(&mut self) {}
    }
    let mut find = Find(None);
    e.fields.visit(&mut find);
    assert_eq!(find.0, Some(true));
}

#[test]
fn release_and_abort_are_session_events() {
    let mut c = Conn::default();
    // FINISH carrying RLRQ (reason normal).
    let finish = [
        0x09, 0x10, // FINISH, length 16
        0xc1, 0x0e, // session user data
        0x61, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01, // fully-encoded, PDV context 1
        0xa0, 0x05, // single-ASN1-type
        0x62, 0x03, 0x80, 0x01, 0x00, // RLRQ, reason normal
    ];
    let e = &c.tsdu(ToServer, &finish)[0];
    assert_eq!(e.function, "release_request");
    assert_eq!(e.class, FunctionClass::Session);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    assert_eq!(fields(e).spdu_type, Some(spdu::FN));
    assert_eq!(assoc(e).acse_apdu, Some("rlrq"));
    assert_eq!(assoc(e).release_reason, Some(0));
    // DISCONNECT carrying RLRE.
    let disconnect = [
        0x0a, 0x10, // DISCONNECT, length 16
        0xc1, 0x0e, // session user data
        0x61, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01, // fully-encoded, PDV context 1
        0xa0, 0x05, // single-ASN1-type
        0x63, 0x03, 0x80, 0x01, 0x00, // RLRE, reason normal
    ];
    let e = &c.tsdu(ToClient, &disconnect)[0];
    assert_eq!(e.function, "release_response");
    assert_eq!(assoc(e).acse_apdu, Some("rlre"));
    // ABORT carrying an ARU-PPDU with an ABRT.
    let abort = [
        0x19, 0x15, // ABORT, length 21
        0x11, 0x01, 0x03, // transport disconnect: released, user abort
        0xc1, 0x10, // session user data
        0xa0, 0x0e, // ARU-PPDU normal mode
        0x61, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01, // fully-encoded, PDV context 1
        0xa0, 0x05, // single-ASN1-type
        0x64, 0x03, 0x80, 0x01, 0x00, // ABRT, source: service user
    ];
    let e = &c.tsdu(ToServer, &abort)[0];
    assert_eq!(e.function, "abort");
    assert_eq!(e.class, FunctionClass::Session);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    assert_eq!(assoc(e).abort_source, Some(0));
    // REFUSE with a reason code and no user data.
    let refuse = [
        0x0c, 0x03, // REFUSE, length 3
        0x32, 0x01, 0x02, // reason code 2: rejected by the called SS-user
    ];
    let e = &c.tsdu(ToClient, &refuse)[0];
    assert_eq!(e.function, "associate_reject");
    assert_eq!(assoc(e).session_reason, Some(2));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(e));
    // ABORT ACCEPT.
    let e = &c.tsdu(ToClient, &[0x1a, 0x00])[0];
    assert_eq!(e.function, "abort_accept");
}

#[test]
fn a_rejected_aare_is_an_associate_reject() {
    let aare = t(
        &[0x61], // AARE
        &[
            &[0xa1, 0x07, 0x06, 0x05, 0x28, 0xca, 0x22, 0x02, 0x03], // context
            &[0xa2, 0x03, 0x02, 0x01, 0x01],                         // result: rejected (permanent)
        ],
    );
    let cpa = t(
        &[0x31], // CPA-PPDU
        &[
            &[0xa0, 0x03, 0x80, 0x01, 0x01], // mode-selector: normal mode
            &t(&[0xa2], &[&user_data(1, &aare)]),
        ],
    );
    let mut tsdu = vec![0x0e]; // ACCEPT
    let params = t(&[0xc1], &[&cpa]);
    tsdu.push(params.len() as u8);
    tsdu.extend(params);
    let e = &Conn::default().tsdu(ToClient, &tsdu)[0];
    assert_eq!(e.function, "associate_reject");
    assert_eq!(assoc(e).association_result, Some(1));
}

// ---------------------------------------------------------------- confirmed services

#[test]
fn get_name_list_request_and_response() {
    let mut c = Conn::default();
    // iec61850_get_name_list frame 12.
    let e = c.mms(
        ToServer,
        &[
            0xa0, 0x0e, // confirmed-RequestPDU
            0x02, 0x01, 0x00, // invokeID 0
            0xa1, 0x09, // getNameList
            0xa0, 0x03, 0x80, 0x01, 0x00, // objectClass: namedVariable
            0xa1, 0x02, 0x80, 0x00, // objectScope: vmdSpecific
        ],
    );
    assert_eq!(e.function, "get_name_list");
    assert_eq!(e.function_code, Some(1));
    assert_eq!(e.class, FunctionClass::Read);
    let f = fields(&e);
    assert_eq!(f.pdu_type, Some("confirmed_request"));
    assert_eq!(f.invoke_id, Some(0));
    assert_eq!(f.service, Some(1));
    assert_eq!(f.object_class, Some(0));
    assert_eq!(f.object_scope, Some("vmd_specific"));
    // Logical nodes of a logical device, after a name.
    let e = c.mms(
        ToServer,
        &request(
            5, // invokeID 5
            &t(
                &[0xa1], // getNameList
                &[
                    &[0xa0, 0x03, 0x80, 0x01, 0x09],        // objectClass: domain
                    &t(&[0xa1], &[&t(&[0x81], &[b"LD0"])]), // objectScope: domainSpecific LD0
                    &t(&[0x82], &[b"LLN0"]),                // continueAfter
                ],
            ),
        ),
    );
    let f = fields(&e);
    assert_eq!(f.object_class, Some(9));
    assert_eq!(f.object_scope, Some("domain_specific"));
    assert_eq!(f.domain_name.as_deref(), Some("LD0"));
    assert_eq!(f.continue_after.as_deref(), Some("LLN0"));
    let e = c.mms(
        ToClient,
        &response(
            5, // invokeID 5
            &t(
                &[0xa1], // getNameList
                &[
                    &t(&[0xa0], &[&vs("LLN0"), &vs("XCBR1")]), // listOfIdentifier
                    &[0x81, 0x01, 0x00],                       // moreFollows false
                ],
            ),
        ),
    );
    assert_eq!(e.function, "get_name_list");
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = fields(&e);
    assert_eq!(f.pdu_type, Some("confirmed_response"));
    assert_eq!(f.names, ["LLN0", "XCBR1"]);
    assert_eq!(f.name_count, Some(2));
    assert_eq!(f.more_follows, Some(false));
    assert_eq!(f.request_packet, Some(2));
}

#[test]
fn identify_response_gives_the_identity_of_its_sender() {
    let mut c = Conn::default();
    let e = c.mms(
        ToServer,
        &[
            0xa0, 0x05, // confirmed-RequestPDU
            0x02, 0x01, 0x07, // invokeID 7
            0x82, 0x00, // identify
        ],
    );
    assert_eq!(e.function, "identify");
    assert_eq!(e.class, FunctionClass::Discovery);
    assert!(e.identity.is_none());
    let e = c.mms(
        ToClient,
        &response(
            7, // invokeID 7
            &t(
                &[0xa2], // identify
                &[
                    &t(&[0x80], &[b"ACME"]),  // vendorName
                    &t(&[0x81], &[b"IED-7"]), // modelName
                    &t(&[0x82], &[b"1.2.3"]), // revision
                ],
            ),
        ),
    );
    assert_eq!(e.function, "identify");
    assert_eq!(e.class, FunctionClass::Discovery);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let id = e.identity.as_deref().unwrap();
    assert_eq!(id.vendor.as_deref(), Some("ACME"));
    assert_eq!(id.product.as_deref(), Some("IED-7"));
    assert_eq!(id.firmware.as_deref(), Some("1.2.3"));
}

#[test]
fn read_names_domain_and_item_with_the_iec61850_reference() {
    let mut c = Conn::default();
    let e = c.mms(
        ToServer,
        &request(
            10, // invokeID 10
            &t(
                &[0xa4], // read
                &[&t(
                    &[0xa1], // variableAccessSpecification
                    &[&list_of_variable(&[domain_name(
                        "LD0",
                        "LLN0$ST$Mod$stVal",
                    )])],
                )],
            ),
        ),
    );
    assert_eq!(e.function, "read");
    assert_eq!(e.function_code, Some(4));
    assert_eq!(e.class, FunctionClass::Read);
    let f = fields(&e);
    assert_eq!(f.variables, [domain("LD0", "LLN0$ST$Mod$stVal")]);
    assert_eq!(f.variable_count, 1);
    assert_eq!(f.domain_item(), Some(("LD0", "LLN0$ST$Mod$stVal")));
    assert_eq!(
        f.variables[0].reference().as_deref(),
        Some("LD0/LLN0.Mod.stVal")
    );
    assert_eq!(f.variables[0].fc(), Some("ST"));
    // The response: one integer.
    let e = c.mms(
        ToClient,
        &response(
            10, // invokeID 10
            &t(
                &[0xa4],                                // read
                &[&t(&[0xa1], &[&[0x85, 0x01, 0x01]])], // listOfAccessResult: integer 1
            ),
        ),
    );
    assert_eq!(e.class, FunctionClass::Read);
    let f = fields(&e);
    assert_eq!(f.access_results, Some(1));
    assert_eq!(f.access_failures, Some(0));
    assert_eq!(f.request_packet, Some(1));
    // A read that fails: object non-existent.
    c.mms(
        ToServer,
        &request(
            11,
            &t(
                &[0xa4],
                &[&t(
                    &[0xa1],
                    &[&list_of_variable(&[domain_name("LD0", "XCBR9$ST$Pos")])],
                )],
            ),
        ),
    );
    let e = c.mms(
        ToClient,
        &response(11, &t(&[0xa4], &[&t(&[0xa1], &[&[0x80, 0x01, 0x0a]])])), // failure 10
    );
    let f = fields(&e);
    assert_eq!(f.access_failures, Some(1));
    assert_eq!(f.data_access_error, Some(10));
}

#[test]
fn several_variables_are_listed_in_pdu_order() {
    // iec61850_mms_sample frame 20: one domain-specific, two vmd-specific names.
    let e = Conn::default().mms(
        ToClient,
        &request(
            0x4f, // invokeID
            &t(
                &[0xa4], // read
                &[&t(
                    &[0xa1],
                    &[&list_of_variable(&[
                        domain_name("KIRKLAND", "Bilateral_Table_ID"),
                        t(&[0x80], &[b"TASE2_Version"]), // vmd-specific
                        t(&[0x80], &[b"Supported_Features"]),
                    ])],
                )],
            ),
        ),
    );
    let f = fields(&e);
    assert_eq!(f.variable_count, 3);
    assert_eq!(
        f.variables,
        [
            domain("KIRKLAND", "Bilateral_Table_ID"),
            ObjectName::Vmd("TASE2_Version".into()),
            ObjectName::Vmd("Supported_Features".into()),
        ]
    );
    // Not an IEC 61850 item id: no reference, no functional constraint.
    assert_eq!(f.variables[0].reference(), None);
    assert_eq!(f.variables[0].fc(), None);
}

/// A write request of a boolean to one domain-specific variable.
fn write(invoke_id: u8, domain: &str, item: &str) -> Vec<u8> {
    request(
        invoke_id,
        &t(
            &[0xa5], // write
            &[
                &list_of_variable(&[domain_name(domain, item)]), // variableAccessSpecification
                &[0xa0, 0x03, 0x83, 0x01, 0xff],                 // listOfData: boolean true
            ],
        ),
    )
}

#[test]
fn a_write_to_a_control_object_is_control() {
    let mut c = Conn::default();
    let e = c.mms(ToServer, &write(8, "LD0", "CSWI1$CO$Pos$Oper"));
    assert_eq!(e.function, "write");
    assert_eq!(e.function_code, Some(5));
    assert_eq!(e.class, FunctionClass::Control);
    let f = fields(&e);
    assert_eq!(
        f.variables[0].reference().as_deref(),
        Some("LD0/CSWI1.Pos.Oper")
    );
    assert_eq!(f.variables[0].fc(), Some("CO"));
    // Its response is control too.
    let e = c.mms(
        ToClient,
        &[
            0xa1, 0x07, // confirmed-ResponsePDU
            0x02, 0x01, 0x08, // invokeID 8
            0xa5, 0x02, 0x81, 0x00, // write: success
        ],
    );
    assert_eq!(e.function, "write");
    assert_eq!(e.class, FunctionClass::Control);
    assert_eq!(fields(&e).access_results, Some(1));
    assert_eq!(fields(&e).access_failures, Some(0));
    // Enabling a report is a write.
    let e = c.mms(ToServer, &write(9, "LD0", "LLN0$BR$brcbST01$RptEna"));
    assert_eq!(e.class, FunctionClass::Write);
    assert_eq!(
        fields(&e).variables[0].reference().as_deref(),
        Some("LD0/LLN0.brcbST01.RptEna")
    );
    let e = c.mms(
        ToClient,
        &[
            0xa1, 0x08, // confirmed-ResponsePDU
            0x02, 0x01, 0x09, // invokeID 9
            0xa5, 0x03, 0x80, 0x01, 0x03, // write: failure, object-access-denied
        ],
    );
    assert_eq!(e.class, FunctionClass::Write);
    assert_eq!(fields(&e).access_failures, Some(1));
    assert_eq!(fields(&e).data_access_error, Some(3));
}

#[test]
fn information_report_with_a_named_variable_list() {
    // An IEC 61850 report: variable list "RPT" (vmd-specific), two values.
    let e = Conn::default().mms(
        ToClient,
        &t(
            &[0xa3], // unconfirmed-PDU
            &[&t(
                &[0xa0], // informationReport
                &[
                    &t(&[0xa1], &[&t(&[0x80], &[b"RPT"])]), // variableListName: vmd-specific
                    &t(
                        &[0xa0], // listOfAccessResult
                        &[
                            &t(&[0x8a], &[b"RPT1"]),   // visible-string
                            &[0x84, 0x02, 0x06, 0x40], // bit-string
                        ],
                    ),
                ],
            )],
        ),
    );
    assert_eq!(e.function, "information_report");
    assert_eq!(e.function_code, Some(0));
    assert_eq!(e.class, FunctionClass::Read);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = fields(&e);
    assert_eq!(f.pdu_type, Some("unconfirmed"));
    assert_eq!(f.unconfirmed_service, Some(0));
    assert_eq!(f.service, None);
    assert_eq!(f.variables, [ObjectName::Vmd("RPT".into())]);
    assert_eq!(f.access_results, Some(2));
}

#[test]
fn named_variable_list_services() {
    let mut c = Conn::default();
    let dataset = domain_name("LD0", "LLN0$DS1");
    let e = c.mms(
        ToServer,
        &request(12, &t(&[0xac], &[&dataset])), // getNamedVariableListAttributes
    );
    assert_eq!(e.function, "get_named_variable_list_attributes");
    assert_eq!(e.function_code, Some(12));
    assert_eq!(e.class, FunctionClass::Read);
    let f = fields(&e);
    assert_eq!(f.variables, [domain("LD0", "LLN0$DS1")]);
    // A data set name has no functional constraint.
    assert_eq!(f.variables[0].reference(), None);
    let e = c.mms(
        ToClient,
        &response(
            12,
            &t(
                &[0xac], // getNamedVariableListAttributes
                &[
                    &[0x80, 0x01, 0x00], // mmsDeletable false
                    &t(
                        &[0xa1], // listOfVariable
                        &[&variable_entries(&[
                            domain_name("LD0", "LLN0$ST$Mod$stVal"),
                            domain_name("LD0", "XCBR1$ST$Pos$stVal"),
                        ])],
                    ),
                ],
            ),
        ),
    );
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = fields(&e);
    assert_eq!(f.variable_count, 2);
    assert_eq!(f.variables[1], domain("LD0", "XCBR1$ST$Pos$stVal"));
    // Define and delete: writes.
    let e = c.mms(
        ToServer,
        &request(
            13,
            &t(
                &[0xab], // defineNamedVariableList
                &[
                    &dataset,
                    &list_of_variable(&[domain_name("LD0", "LLN0$ST$Mod$stVal")]),
                ],
            ),
        ),
    );
    assert_eq!(e.function, "define_named_variable_list");
    assert_eq!(e.class, FunctionClass::Write);
    assert_eq!(fields(&e).variable_count, 2);
    let e = c.mms(
        ToServer,
        &request(
            14,
            &t(&[0xad], &[&t(&[0xa1], &[&dataset])]), // deleteNamedVariableList
        ),
    );
    assert_eq!(e.function, "delete_named_variable_list");
    assert_eq!(e.class, FunctionClass::Write);
    assert_eq!(fields(&e).variables, [domain("LD0", "LLN0$DS1")]);
}

#[test]
fn get_variable_access_attributes_request() {
    let e = Conn::default().mms(
        ToServer,
        &request(
            15,
            &t(
                &[0xa6],                                            // getVariableAccessAttributes (explicit)
                &[&t(&[0xa0], &[&domain_name("LD0", "MMXU1$MX")])], // name
            ),
        ),
    );
    assert_eq!(e.function, "get_variable_access_attributes");
    assert_eq!(e.class, FunctionClass::Read);
    let f = fields(&e);
    assert_eq!(f.variables, [domain("LD0", "MMXU1$MX")]);
    assert_eq!(f.variables[0].reference().as_deref(), Some("LD0/MMXU1"));
    assert_eq!(f.variables[0].fc(), Some("MX"));
}

#[test]
fn file_services_are_program() {
    let mut c = Conn::default();
    let file = |name: &str| t(&[0x19], &[name.as_bytes()]); // GraphicString
    // fileOpen [72]
    let e = c.mms(
        ToServer,
        &request(
            20,
            &t(
                &[0xbf, 0x48], // fileOpen
                &[
                    &t(&[0xa0], &[&file("/COMTRADE/rec1.cfg")]), // fileName
                    &[0x81, 0x01, 0x00],                         // initialPosition 0
                ],
            ),
        ),
    );
    assert_eq!(e.function, "file_open");
    assert_eq!(e.function_code, Some(72));
    assert_eq!(e.class, FunctionClass::Program);
    assert_eq!(fields(&e).file_name.as_deref(), Some("/COMTRADE/rec1.cfg"));
    assert_eq!(fields(&e).file_position, Some(0));
    let e = c.mms(
        ToClient,
        &response(
            20,
            &t(
                &[0xbf, 0x48], // fileOpen
                &[
                    &[0x80, 0x01, 0x05], // frsmID 5
                    &t(
                        &[0xa1], // fileAttributes
                        &[
                            &[0x80, 0x02, 0x10, 0x00],          // sizeOfFile 4096
                            &t(&[0x81], &[b"20240101120000Z"]), // lastModified
                        ],
                    ),
                ],
            ),
        ),
    );
    assert_eq!(e.class, FunctionClass::Program);
    assert_eq!(fields(&e).frsm_id, Some(5));
    assert_eq!(fields(&e).file_size, Some(4096));
    // fileRead [73], fileClose [74]: the FRSM id.
    let e = c.mms(ToServer, &request(21, &[0x9f, 0x49, 0x01, 0x05]));
    assert_eq!(e.function, "file_read");
    assert_eq!(fields(&e).frsm_id, Some(5));
    let e = c.mms(
        ToClient,
        &response(
            21,
            &t(
                &[0xbf, 0x49],                                      // fileRead
                &[&t(&[0x80], &[&[0xaa; 8]]), &[0x81, 0x01, 0x00]], // fileData, moreFollows false
            ),
        ),
    );
    assert_eq!(fields(&e).file_data_length, Some(8));
    assert_eq!(fields(&e).more_follows, Some(false));
    let e = c.mms(ToServer, &request(22, &[0x9f, 0x4a, 0x01, 0x05]));
    assert_eq!(e.function, "file_close");
    assert_eq!(e.class, FunctionClass::Program);
    // fileDirectory [77]
    let e = c.mms(
        ToServer,
        &request(
            23,
            &t(&[0xbf, 0x4d], &[&t(&[0xa0], &[&file("/COMTRADE/")])]),
        ),
    );
    assert_eq!(e.function, "file_directory");
    assert_eq!(fields(&e).file_name.as_deref(), Some("/COMTRADE/"));
    let entry = |name: &str| {
        t(
            &[0x30], // DirectoryEntry
            &[
                &t(&[0xa0], &[&file(name)]),               // filename
                &t(&[0xa1], &[&[0x80, 0x02, 0x10, 0x00]]), // fileAttributes: size
            ],
        )
    };
    let e = c.mms(
        ToClient,
        &response(
            23,
            &t(
                &[0xbf, 0x4d], // fileDirectory
                &[
                    &t(
                        &[0xa0],
                        &[&t(&[0x30], &[&entry("rec1.cfg"), &entry("rec1.dat")])],
                    ),
                    &[0x81, 0x01, 0x00], // moreFollows false
                ],
            ),
        ),
    );
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    assert_eq!(fields(&e).names, ["rec1.cfg", "rec1.dat"]);
    assert_eq!(fields(&e).name_count, Some(2));
    // fileDelete [76], fileRename [75], obtainFile [46].
    let e = c.mms(
        ToServer,
        &request(24, &t(&[0xbf, 0x4c], &[&file("rec1.cfg")])),
    );
    assert_eq!(e.function, "file_delete");
    assert_eq!(fields(&e).file_name.as_deref(), Some("rec1.cfg"));
    let e = c.mms(
        ToServer,
        &request(
            25,
            &t(
                &[0xbf, 0x4b], // fileRename
                &[
                    &t(&[0xa0], &[&file("rec1.cfg")]),
                    &t(&[0xa1], &[&file("rec2.cfg")]),
                ],
            ),
        ),
    );
    assert_eq!(e.function, "file_rename");
    assert_eq!(fields(&e).new_file_name.as_deref(), Some("rec2.cfg"));
    let e = c.mms(
        ToServer,
        &request(
            26,
            &t(
                &[0xbf, 0x2e], // obtainFile
                &[
                    &t(&[0xa1], &[&file("/tmp/"), &file("fw.bin")]), // sourceFile
                    &t(&[0xa2], &[&file("fw.bin")]),                 // destinationFile
                ],
            ),
        ),
    );
    assert_eq!(e.function, "obtain_file");
    assert_eq!(e.function_code, Some(46));
    assert_eq!(e.class, FunctionClass::Program);
    assert_eq!(fields(&e).file_name.as_deref(), Some("/tmp//fw.bin"));
    assert_eq!(fields(&e).new_file_name.as_deref(), Some("fw.bin"));
}

#[test]
fn program_invocation_and_domain_services() {
    let mut c = Conn::default();
    let e = c.mms(
        ToServer,
        &request(30, &t(&[0xbf, 0x29], &[&t(&[0x80], &[b"PI1"])])), // stop [41]
    );
    assert_eq!(e.function, "stop");
    assert_eq!(e.class, FunctionClass::Control);
    assert_eq!(fields(&e).program_invocation.as_deref(), Some("PI1"));
    let e = c.mms(
        ToServer,
        &request(31, &t(&[0xbf, 0x24], &[b"LD9"])), // deleteDomain [36]
    );
    assert_eq!(e.function, "delete_domain");
    assert_eq!(e.class, FunctionClass::Program);
    assert_eq!(fields(&e).domain_name.as_deref(), Some("LD9"));
}

// ---------------------------------------------------------------- errors, reject, cancel, conclude

#[test]
fn confirmed_error_takes_its_request_service() {
    let mut c = Conn::default();
    c.mms(ToServer, &write(10, "LD0", "CSWI1$CO$Pos$Oper"));
    let e = c.mms(
        ToClient,
        &[
            0xa2, 0x0a, // confirmed-ErrorPDU
            0x80, 0x01, 0x0a, // invokeID 10
            0xa2, 0x05, // serviceError
            0xa0, 0x03, 0x87, 0x01, 0x02, // errorClass: access, object-non-existent
        ],
    );
    assert_eq!(e.function, "write");
    assert_eq!(e.function_code, Some(5));
    assert_eq!(e.class, FunctionClass::Control);
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    let f = fields(&e);
    assert_eq!(f.pdu_type, Some("confirmed_error"));
    assert_eq!(f.invoke_id, Some(10));
    assert_eq!(f.service, None);
    assert_eq!(f.error_class, Some(7));
    assert_eq!(f.error_code, Some(2));
    assert_eq!(f.request_packet, Some(1));
    // Unpaired, it is named after its kind.
    let e = c.mms(
        ToClient,
        &[
            0xa2, 0x0a, 0x80, 0x01, 0x63, // confirmed-ErrorPDU, invokeID 99
            0xa2, 0x05, 0xa0, 0x03, 0x84, 0x01, 0x03, // service, pdu-size
        ],
    );
    assert_eq!(e.function, "confirmed_error");
    assert_eq!(e.class, FunctionClass::Other);
    assert_eq!(anomalies(&e), ["response_without_request"]);
}

#[test]
fn reject_cancel_and_conclude() {
    let mut c = Conn::default();
    let e = c.mms(
        ToClient,
        &[
            0xa4, 0x06, // rejectPDU
            0x80, 0x01, 0x0a, // originalInvokeID 10
            0x81, 0x01, 0x01, // confirmed-requestPDU: unrecognized-service
        ],
    );
    assert_eq!(e.function, "reject");
    assert_eq!(e.class, FunctionClass::Other);
    assert_eq!(e.function_code, None);
    let f = fields(&e);
    assert_eq!(f.pdu_type, Some("reject"));
    assert_eq!(f.invoke_id, Some(10));
    assert_eq!(f.reject_reason, Some(1));
    assert_eq!(f.reject_code, Some(1));
    let e = c.mms(ToServer, &[0x85, 0x01, 0x0a]); // cancel-RequestPDU, invokeID 10
    assert_eq!(e.function, "cancel_request");
    assert_eq!(e.class, FunctionClass::Session);
    assert_eq!(fields(&e).invoke_id, Some(10));
    let e = c.mms(ToServer, &[0x8b, 0x00]); // conclude-RequestPDU
    assert_eq!(e.function, "conclude_request");
    assert_eq!(e.class, FunctionClass::Session);
    let e = c.mms(ToClient, &[0x8c, 0x00]); // conclude-ResponsePDU
    assert_eq!(e.function, "conclude_response");
    assert_eq!(fields(&e).pdu_type, Some("conclude_response"));
    // initiate-ErrorPDU: a service error.
    let e = c.mms(ToClient, &[0xaa, 0x05, 0xa0, 0x03, 0x88, 0x01, 0x01]); // initiate, version-incompatible
    assert_eq!(e.function, "initiate_error");
    assert_eq!(fields(&e).error_class, Some(8));
    assert_eq!(fields(&e).error_code, Some(1));
}

// ---------------------------------------------------------------- pairing

#[test]
fn pairing_by_invoke_id_per_direction() {
    let mut c = Conn::default();
    // The server requests too (ICCP, IEC 61850 clients answering identify).
    c.mms(ToClient, &request(1, &[0x82, 0x00])); // identify, from the server
    c.mms(ToServer, &request(1, &[0x82, 0x00])); // identify, from the client
    let e = c.mms(
        ToServer,
        &response(
            1,
            &t(
                &[0xa2],
                &[
                    &t(&[0x80], &[b"A"]),
                    &t(&[0x81], &[b"B"]),
                    &t(&[0x82], &[b"C"]),
                ],
            ),
        ),
    );
    assert_eq!(fields(&e).request_packet, Some(1));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
    // A response with another service than its request's.
    let e = c.mms(ToClient, &response(1, &[0xa5, 0x02, 0x81, 0x00]));
    assert_eq!(anomalies(&e), ["service_mismatch"]);
    assert_eq!(fields(&e).request_packet, Some(2));
    // A request reusing a pending invoke id.
    c.mms(ToServer, &request(2, &[0x82, 0x00]));
    let e = c.mms(ToServer, &request(2, &[0x82, 0x00]));
    assert_eq!(anomalies(&e), ["duplicate_invoke_id"]);
    // After a gap, answers to requests that may have been lost are not flagged.
    c.parser.gap(ToServer);
    let e = c.mms(ToClient, &response(77, &[0xa5, 0x02, 0x81, 0x00]));
    assert!(e.anomalies.is_empty(), "{:?}", anomalies(&e));
}

// ---------------------------------------------------------------- several PDVs, segments

#[test]
fn each_pdv_is_an_event() {
    let mut tsdu = vec![0x01, 0x00, 0x01, 0x00]; // GIVE TOKENS, DATA TRANSFER
    let pdv = |apdu: &[u8]| {
        t(
            &[0x30],
            &[&[0x02, 0x01, 0x03], &t(&[0xa0], &[apdu])], // context 3, single-ASN1-type
        )
    };
    tsdu.extend(t(
        &[0x61],
        &[&pdv(&[0x8b, 0x00]), &pdv(&request(3, &[0x82, 0x00]))],
    ));
    let events = Conn::default().tsdu(ToServer, &tsdu);
    let functions: Vec<_> = events.iter().map(|e| e.function).collect();
    assert_eq!(functions, ["conclude_request", "identify"]);
}

#[test]
fn a_tsdu_in_several_dt_tpdus_is_one_event() {
    let tsdu = data_tsdu(&write(8, "LD0", "CSWI1$CO$Pos$Oper"));
    let (first, second) = tsdu.split_at(20);
    let mut data = tpkt(first);
    data[6] = 0x00; // not the end of the TSDU
    data.extend(tpkt(second));
    let mut c = Conn::default();
    assert_eq!(c.feed(ToServer, &data), data.len());
    assert_eq!(c.events.len(), 1);
    let e = &c.events[0].pdu;
    assert_eq!(e.class, FunctionClass::Control);
    assert_eq!(fields(e).cotp_segments, Some(2));
}

// ---------------------------------------------------------------- malformed input

/// The anomalies of an MMS PDU's event.
fn mms_anomalies(mms: &[u8]) -> Vec<&'static str> {
    let e = Conn::default().mms(ToServer, mms);
    anomalies(&e)
}

#[test]
fn malformed_mms_pdus_are_events_with_anomalies() {
    // A length past the data.
    assert_eq!(
        mms_anomalies(&[0xa0, 0x10, 0x02, 0x01, 0x00]),
        ["invalid_mms_pdu"]
    );
    // An indefinite length.
    assert_eq!(
        mms_anomalies(&[0xa0, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00]),
        ["invalid_mms_pdu", "indefinite_length"]
    );
    // A long-form length of five octets.
    assert_eq!(
        mms_anomalies(&[0xa0, 0x85, 0, 0, 0, 0, 1, 0]),
        ["invalid_mms_pdu"]
    );
    // An MMSpdu tag that does not exist.
    assert_eq!(mms_anomalies(&[0x8e, 0x00]), ["unknown_pdu_type"]);
    // A service number that does not exist (90).
    let e = Conn::default().mms(ToServer, &request(1, &[0xbf, 0x5a, 0x00]));
    assert_eq!(anomalies(&e), ["unknown_service"]);
    assert_eq!(e.function, "unknown");
    assert_eq!(e.function_code, Some(90));
    // A request without its service; a response without it (as in
    // iec61850_get_name_list frame 14).
    assert_eq!(
        mms_anomalies(&[0xa0, 0x03, 0x02, 0x01, 0x00]),
        ["missing_service"]
    );
    // Octets after the PDU.
    assert_eq!(mms_anomalies(&[0x8b, 0x00, 0x00]), ["trailing_bytes"]);
    // A conclude request that is not NULL.
    assert_eq!(mms_anomalies(&[0x8b, 0x01, 0x00]), ["trailing_bytes"]);
    // A domain-specific name with one identifier.
    let e = Conn::default().mms(
        ToServer,
        &request(1, &t(&[0xac], &[&t(&[0xa1], &[&vs("LD0")])])),
    );
    assert_eq!(anomalies(&e), ["invalid_mms_pdu"]);
    assert!(fields(&e).variables.is_empty());
    // An identify response without its revision.
    let mut c = Conn::default();
    c.mms(ToServer, &request(1, &[0x82, 0x00]));
    let e = c.mms(
        ToClient,
        &response(
            1,
            &t(&[0xa2], &[&t(&[0x80], &[b"A"]), &t(&[0x81], &[b"B"])]),
        ),
    );
    assert_eq!(anomalies(&e), ["invalid_mms_pdu"]);
    assert_eq!(e.identity.as_deref().unwrap().vendor.as_deref(), Some("A"));
}

#[test]
fn nesting_is_bounded() {
    // A type specification of arrays nested far deeper than any device uses.
    let mut spec = vec![0x83, 0x00]; // boolean
    for _ in 0..40 {
        let element = t(&[0xa2], &[&spec]); // elementType
        spec = t(&[0xa1], &[&[0x81, 0x01, 0x02], &element]); // array of 2
    }
    let e = Conn::default().mms(
        ToClient,
        &response(
            1,
            &t(
                &[0xa6],                                       // getVariableAccessAttributes
                &[&[0x80, 0x01, 0x00], &t(&[0xa2], &[&spec])], // mmsDeletable, typeSpecification
            ),
        ),
    );
    assert!(
        e.anomalies.contains("nesting_too_deep"),
        "{:?}",
        anomalies(&e)
    );
}

#[test]
fn long_lists_are_bounded_and_counted() {
    let names: Vec<Vec<u8>> = (0..100)
        .map(|i| domain_name("LD0", &format!("GGIO{i}$ST$Ind$stVal")))
        .collect();
    let e = Conn::default().mms(
        ToServer,
        &request(1, &t(&[0xa4], &[&t(&[0xa1], &[&list_of_variable(&names)])])),
    );
    let f = fields(&e);
    assert_eq!(f.variable_count, 100);
    assert_eq!(f.variables.len(), MAX_VARIABLES);
    // Identifiers longer than the bound are cut.
    let long = "X".repeat(1000);
    let e = Conn::default().mms(
        ToServer,
        &request(
            1,
            &t(
                &[0xa4],
                &[&t(
                    &[0xa1],
                    &[&list_of_variable(&[domain_name("LD0", &long)])],
                )],
            ),
        ),
    );
    assert!(
        matches!(&fields(&e).variables[0], ObjectName::Domain { item_id, .. } if item_id.len() == MAX_TEXT)
    );
}

#[test]
fn malformed_session_and_presentation_are_events_with_anomalies() {
    let mut c = Conn::default();
    // A DATA TRANSFER without user data.
    let e = &c.tsdu(ToServer, &[0x01, 0x00, 0x01, 0x00])[0];
    assert_eq!(e.function, "data");
    assert_eq!(anomalies(e), ["missing_user_data"]);
    // An SPDU length past the TSDU (iec61850_get_name_list frame 10 has one).
    let e = &c.tsdu(ToServer, &[0x0e, 0x09, 0x14, 0x02, 0x00, 0x02])[0];
    assert_eq!(e.function, "associate_response");
    assert_eq!(anomalies(e), ["truncated_spdu", "missing_user_data"]);
    // A session parameter past its SPDU.
    let e = &c.tsdu(ToServer, &[0x09, 0x02, 0xc1, 0x05])[0];
    assert_eq!(
        anomalies(e),
        ["invalid_session_parameter", "missing_user_data"]
    );
    // Presentation user data that is not fully or simply encoded.
    let e = &c.tsdu(ToServer, &[0x01, 0x00, 0x01, 0x00, 0x30, 0x00])[0];
    assert_eq!(e.function, "data");
    assert_eq!(anomalies(e), ["invalid_presentation_pdu"]);
    // A PDV without data values.
    let e = &c.tsdu(
        ToServer,
        &[
            0x01, 0x00, 0x01, 0x00, 0x61, 0x05, 0x30, 0x03, 0x02, 0x01, 0x03,
        ],
    )[0];
    assert_eq!(anomalies(e), ["invalid_presentation_pdu"]);
    // A CONNECT whose CP-type is truncated.
    let e = &c.tsdu(ToServer, &[0x0d, 0x04, 0xc1, 0x02, 0x31, 0x10])[0];
    assert_eq!(e.function, "associate_request");
    assert_eq!(anomalies(e), ["invalid_presentation_pdu"]);
    // An ACSE APDU whose user information is not an EXTERNAL.
    let mut tsdu = vec![0x09, 0x10, 0xc1, 0x0e];
    tsdu.extend(user_data(1, &[0x62, 0x03, 0xbe, 0x01, 0x05]));
    let e = &c.tsdu(ToServer, &tsdu)[0];
    assert_eq!(e.function, "release_request");
    assert_eq!(anomalies(e), ["invalid_acse_apdu"]);
    // One octet: not even an SPDU header.
    let events = Conn::default().tsdu(ToServer, &[0x01, 0x00, 0x01]);
    assert_eq!(events.len(), 1);
}

#[test]
fn simply_encoded_data_is_decoded() {
    let mut tsdu = vec![0x01, 0x00, 0x01, 0x00]; // GIVE TOKENS, DATA TRANSFER
    tsdu.extend(t(&[0x40], &[&[0x8b, 0x00]])); // simply-encoded: conclude request
    let e = &Conn::default().tsdu(ToServer, &tsdu)[0];
    assert_eq!(e.function, "conclude_request");
    assert_eq!(fields(e).presentation_context_id, None);
}

// ---------------------------------------------------------------- routing and probe

#[test]
fn routing_takes_session_spdus_only() {
    assert!(is_session(&[0x0d, 0xb2]));
    assert!(is_session(&[0x01, 0x00, 0x01, 0x00]));
    assert!(!is_session(&[0x01])); // no length octet
    assert!(!is_session(&[0x40, 0x00])); // unit data: not on a connection
    assert!(!is_session(&[0x99, 0x00]));
}

#[test]
fn probe_accepts_mms_on_a_non_standard_port() {
    // The CONNECT of iec61850_get_name_list, whole, on port 10102.
    let connect = tpkt(CONNECT);
    assert_eq!(iso_on_tcp::probe(&connect, ToServer, false), Probe::Match);
    // Too little of it to tell.
    assert_eq!(
        iso_on_tcp::probe(&connect[..12], ToServer, false),
        Probe::NeedMore
    );
    // Data transfer picked up mid-connection.
    let data = tpkt(&data_tsdu(&request(1, &[0x82, 0x00])));
    assert_eq!(iso_on_tcp::probe(&data, ToServer, false), Probe::Match);
    // Its start, the TPDU not whole yet: more is needed.
    assert_eq!(
        probe_spdu(&data_tsdu(&request(1, &[0x82, 0x00]))[..6], None),
        None
    );
    // A CONNECT whose length disagrees with the TPDU, or with a bad parameter.
    let mut bad = CONNECT.to_vec();
    bad[1] = 0xb0;
    assert_eq!(
        iso_on_tcp::probe(&tpkt(&bad), ToServer, false),
        Probe::NoMatch
    );
    let mut bad = CONNECT.to_vec();
    bad[15] = 0x40; // calling session selector length past the parameters
    assert_eq!(
        iso_on_tcp::probe(&tpkt(&bad), ToServer, false),
        Probe::NoMatch
    );
    // Data whose presentation length disagrees.
    let mut bad = data_tsdu(&request(1, &[0x82, 0x00]));
    bad[5] += 1;
    assert_eq!(
        iso_on_tcp::probe(&tpkt(&bad), ToServer, false),
        Probe::NoMatch
    );
    assert_eq!(probe_spdu(&[0x01, 0x00], None), None);
    assert_eq!(probe_spdu(&[0x09, 0x00], None), Some(false));
}

#[test]
fn probe_rejects_other_protocols_on_port_102() {
    let others: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: ied\r\n\r\n",
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ], // TLS
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x01,
        ], // Modbus
        &[0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21], // DNP3
    ];
    for data in others {
        assert_eq!(iso_on_tcp::probe(data, ToServer, true), Probe::NoMatch);
        assert_eq!(iso_on_tcp::probe(data, ToServer, false), Probe::NoMatch);
    }
}

// ---------------------------------------------------------------- names

#[test]
fn function_names_cover_every_event() {
    let names = function_names();
    for name in [
        "read",
        "write",
        "get_name_list",
        "identify",
        "file_open",
        "obtain_file",
        "information_report",
        "initiate_request",
        "conclude_response",
        "reject",
        "cancel_error",
        "confirmed_error",
        "associate_request",
        "release_response",
        "abort",
        "data",
        "unknown",
        "invalid",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    assert!(!names.contains(&"unconfirmed"));
    assert_eq!(Service(77).name(), Some("file_directory"));
    assert_eq!(Service(78).name(), None);
    assert!(Service::FILE_DELETE.is_file() && Service::OBTAIN_FILE.is_file());
    let names = crate::protocols::anomaly_names(Protocol::Mms);
    assert!(names.starts_with(anomaly::ALL));
    // Found by fuzzing: MMS events carry the anomalies of their TPDUs' framing,
    // so rules on `mms` may name them.
    assert!(names.contains(&crate::protocols::cotp::anomaly::TPKT_RESERVED_NONZERO));
}

// ---------------------------------------------------------------- robustness

/// xorshift64: deterministic pseudo-random bytes without a dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 24) as u8
    }
}

/// Pseudo-random TSDUs biased towards what the layers look at: session
/// headers, presentation user data, MMS tags, lengths near the truth, and
/// mutations of valid PDUs.
fn random_tsdu(rng: &mut XorShift, seeds: &[Vec<u8>]) -> Vec<u8> {
    if rng.next().is_multiple_of(2) {
        let mut data = seeds[(rng.next() % seeds.len() as u64) as usize].clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() % data.len() as u64) as usize;
            data[at] = rng.byte();
        }
        let keep = (rng.next() % (data.len() as u64 + 1)) as usize;
        data.truncate(keep.max(2));
        return data;
    }
    let len = (rng.next() % 200) as usize;
    let mut data: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
    let head = [spdu::CN, spdu::AC, spdu::DT, spdu::FN, spdu::AB][(rng.next() % 5) as usize];
    if let Some(b) = data.get_mut(0) {
        *b = head;
    }
    data
}

#[test]
fn random_bytes_never_panic_and_always_progress() {
    let seeds = vec![
        CONNECT.to_vec(),
        ACCEPT.to_vec(),
        connect_with_password(),
        data_tsdu(&write(8, "LD0", "CSWI1$CO$Pos$Oper")),
        data_tsdu(&request(
            12,
            &t(&[0xac], &[&domain_name("LD0", "LLN0$DS1")]),
        )),
        data_tsdu(&[
            0xa2, 0x0a, 0x80, 0x01, 0x0a, 0xa2, 0x05, 0xa0, 0x03, 0x87, 0x01, 0x02,
        ]),
    ];
    let mut rng = XorShift(0x5eed_0061_8500_0001);
    let mut c = Conn::default();
    for round in 0..20_000 {
        let dir = if rng.next().is_multiple_of(2) {
            ToServer
        } else {
            ToClient
        };
        let tsdu = random_tsdu(&mut rng, &seeds);
        let before = c.events.len();
        let data = tpkt(&tsdu);
        assert_eq!(c.feed(dir, &data), data.len(), "round {round}");
        assert!(
            c.events.len() > before,
            "round {round}: no event for {tsdu:02x?}"
        );
        if round % 97 == 0 {
            c.parser.gap(dir);
        }
        // Pure entry points, as a fuzzer would call them.
        decode_tsdu(&tsdu, Anomalies::new(), |_| {});
        let mut f = MmsFields::default();
        let mut a = Anomalies::new();
        pdu::decode(tsdu.get(4..).unwrap_or_default(), &mut f, &mut a);
        let _ = probe_spdu(&tsdu, Some(tsdu.len()));
        let _ = ber::oid(&tsdu);
    }
}

#[test]
fn ber_reader_is_total() {
    assert_eq!(ber::read(&[]), Err(ber::BerError::Truncated));
    assert_eq!(ber::read(&[0x1f]), Err(ber::BerError::Truncated));
    assert_eq!(
        ber::read(&[0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00]),
        Err(ber::BerError::TooLong)
    );
    let (tlv, rest) = ber::read(&[0xbf, 0x48, 0x81, 0x01, 0xaa, 0xbb]).unwrap();
    assert_eq!(
        (tlv.class, tlv.constructed, tlv.tag),
        (ber::CONTEXT, true, 72)
    );
    assert_eq!(tlv.value, [0xaa]);
    assert_eq!(rest, [0xbb]);
    assert_eq!(ber::unsigned(&[0x00, 0xff]), Some(255));
    assert_eq!(ber::unsigned(&[0xff]), None);
    assert_eq!(ber::signed(&[0xff, 0x38]), Some(-200));
    assert_eq!(
        ber::oid(&[0x28, 0xca, 0x22, 0x02, 0x03]).as_deref(),
        Some("1.0.9506.2.3")
    );
    assert_eq!(
        ber::oid(&[0x52, 0x01, 0x00, 0x01]).as_deref(),
        Some("2.2.1.0.1")
    );
    assert_eq!(ber::oid(&[0x28, 0xca]), None);
    assert_eq!(
        ber::bit_string(&[0x03, 0xfb, 0x00]),
        Some(&[0xfb, 0x00][..])
    );
    assert_eq!(ber::bit_string(&[0x08]), None);
}
