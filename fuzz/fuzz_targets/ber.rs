//! The BER readers behind MMS, GOOSE/SV and SNMP, and the decoders built on
//! them, hit directly (reaching them through TPKT/COTP/session/presentation
//! or a GOOSE header would cost the fuzzer most of its inputs).
//!
//! Input layout: byte 0 selects the reader (modulo 3): MMS
//! (`mms::ber`, then the whole TSDU through `mms::decode_tsdu`), GOOSE
//! (`goose::ber`, then `goose::data::walk` of the bytes as `allData`, cut or
//! not by bit 7), SNMP (`snmp::ber`, then `snmp::decode` of the message).
//! The rest is the encoding.
//!
//! Checks: a TLV read from a slice lies within it, its value directly before
//! what it says follows; a header takes 2 to 10 octets; a truncated GOOSE
//! TLV holds the rest of the input and leaves nothing after it; the value
//! readers (integers, booleans, bit strings, OIDs) accept only what they
//! document, and OID text is dotted decimal; walking every constructed value
//! down to 16 levels ends; the decoders do not panic and their anomalies are
//! the ones their protocol declares.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::event::{Anomalies, Protocol};
use otsensor::protocols::{self, goose, mms, snmp};

const MAX_DEPTH: usize = 16;

/// `inner` lies within `outer`.
fn within(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

/// A TLV read from `data`: its value, then `after`, which ends `data`.
fn check_tlv(data: &[u8], value: &[u8], after: &[u8]) {
    assert!(within(value, data) && within(after, data));
    assert_eq!(
        after.as_ptr() as usize + after.len(),
        data.as_ptr() as usize + data.len(),
        "what follows a TLV ends its input"
    );
    let header = data.len() - value.len() - after.len();
    assert!((2..=10).contains(&header), "a {header}-octet header");
    assert_eq!(
        value.as_ptr() as usize,
        data.as_ptr() as usize + header,
        "the value follows the header"
    );
}

fn check_oid(text: &str) {
    assert!(
        text.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '…'),
        "OID text {text:?}"
    );
    assert!(text.starts_with(['0', '1', '2']), "OID text {text:?}");
}

fn check_anomalies(protocol: Protocol, anomalies: &Anomalies) {
    let declared = protocols::anomaly_names(protocol);
    for name in anomalies.iter() {
        assert!(
            declared.contains(&name),
            "{protocol:?}: undeclared {name:?}"
        );
    }
}

fn mms_values(value: &[u8]) {
    if let Some(v) = mms::ber::unsigned(value) {
        // Leading zero octets are allowed; the value is the octets after them.
        let significant = value.iter().skip_while(|&&b| b == 0);
        assert_eq!(v, significant.fold(0, |acc, &b| acc << 8 | u64::from(b)));
    }
    if mms::ber::boolean(value).is_some() {
        assert_eq!(value.len(), 1);
    }
    if let Some(bits) = mms::ber::bit_string(value) {
        assert!(within(bits, value) && bits.len() + 1 == value.len());
    }
    let _ = mms::ber::signed(value);
    if let Some(text) = mms::ber::oid(value) {
        check_oid(&text);
    }
}

fn walk_mms(mut data: &[u8], depth: usize) {
    while !data.is_empty() {
        let Ok((tlv, after)) = mms::ber::read(data) else {
            return;
        };
        check_tlv(data, tlv.value, after);
        mms_values(tlv.value);
        if tlv.constructed && depth < MAX_DEPTH {
            walk_mms(tlv.value, depth + 1);
        }
        data = after;
    }
}

fn walk_goose(data: &[u8], depth: usize) {
    let mut tlvs = goose::ber::Tlvs::new(data);
    let mut rest = data;
    for tlv in tlvs.by_ref() {
        let after = if tlv.truncated {
            assert_eq!(
                tlv.value.as_ptr() as usize + tlv.value.len(),
                rest.as_ptr() as usize + rest.len(),
                "a truncated value holds the rest"
            );
            &rest[rest.len()..]
        } else {
            let (read, after) = goose::ber::read(rest).expect("read again");
            assert_eq!(read, tlv);
            after
        };
        check_tlv(rest, tlv.value, after);
        let _ = goose::ber::unsigned(tlv.value);
        let _ = goose::ber::signed(tlv.value);
        if goose::ber::boolean(tlv.value).is_some() {
            assert_eq!(tlv.value.len(), 1);
        }
        let (text, _, _) = goose::ber::visible_string(tlv.value, 64);
        assert!(text.chars().count() <= 64, "{text:?}");
        if tlv.tag.constructed && depth < MAX_DEPTH {
            walk_goose(tlv.value, depth + 1);
        }
        rest = after;
    }
    assert!(tlvs.error.is_none() || !rest.is_empty());
}

fn walk_snmp(data: &[u8], depth: usize) {
    let mut ber = snmp::ber::Ber::new(data);
    while !ber.is_empty() {
        let before = ber.rest();
        let Ok((tlv, cut)) = ber.any_cut() else {
            assert_eq!(ber.rest(), before, "a failed read moves nothing");
            return;
        };
        if cut {
            assert!(ber.is_empty());
            assert!(within(tlv.value, before));
        } else {
            check_tlv(before, tlv.value, ber.rest());
        }
        if let Ok(v) = snmp::ber::unsigned(tlv.value) {
            assert!(
                tlv.value.len() <= 9,
                "{} octets read as u64 {v}",
                tlv.value.len()
            );
        }
        let _ = snmp::ber::integer(tlv.value);
        if let Some(text) = snmp::ber::oid_text(tlv.value) {
            check_oid(text.as_str());
            assert!(text.as_str().len() <= snmp::ber::MAX_OID_TEXT);
        }
        if tlv.tag & 0x20 != 0 && depth < MAX_DEPTH {
            walk_snmp(tlv.value, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            walk_mms(rest, 0);
            mms::decode_tsdu(rest, Anomalies::new(), |decoded| {
                check_anomalies(Protocol::Mms, &decoded.anomalies);
            });
        }
        1 => {
            walk_goose(rest, 0);
            let all = goose::data::walk(rest, selector & 0x80 != 0);
            assert!(all.values.len() <= goose::data::MAX_VALUES);
            assert!(!all.values_truncated || all.values.len() == goose::data::MAX_VALUES);
        }
        _ => {
            walk_snmp(rest, 0);
            let (_, anomalies) = snmp::decode(rest);
            check_anomalies(Protocol::Snmp, &anomalies);
        }
    }
});
