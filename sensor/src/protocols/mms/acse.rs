//! ISO 8650-1 (X.227) ACSE, the association control APDUs that open and
//! close an MMS association: AARQ and AARE (application context name, AP
//! titles, AE qualifiers, authentication, result), RLRQ and RLRE (reason),
//! ABRT (source). Their user information is a list of EXTERNALs; the first
//! one's single-ASN1-type (or octet-aligned) encoding is the MMS PDU
//! (initiate, or conclude-less release data).

use super::anomaly::*;
use super::ber::{self, APPLICATION, CONTEXT, Tlv, universal};
use super::presentation::ber_error;
use super::{Association, MAX_TEXT};
use crate::event::Anomalies;
use crate::protocols::cotp::bytes::text;

/// The APDU kinds: their `[APPLICATION n]` tag.
pub mod apdu {
    pub const AARQ: u32 = 0;
    pub const AARE: u32 = 1;
    pub const RLRQ: u32 = 2;
    pub const RLRE: u32 = 3;
    pub const ABRT: u32 = 4;

    /// Wireshark's name of the APDU (`acse.aarq_element`…).
    pub fn name(tag: u32) -> Option<&'static str> {
        Some(match tag {
            AARQ => "aarq",
            AARE => "aare",
            RLRQ => "rlrq",
            RLRE => "rlre",
            ABRT => "abrt",
            _ => return None,
        })
    }
}

/// Whether an APDU encoding starts with an ACSE APDU tag.
pub fn is_acse(data: &[u8]) -> bool {
    data.first().is_some_and(|&b| (0x60..=0x64).contains(&b))
}

/// Decodes an ACSE APDU into `assoc`; returns its tag and the encoding of the
/// MMS PDU in its user information, if any.
pub fn parse<'a>(
    data: &'a [u8],
    assoc: &mut Association,
    a: &mut Anomalies,
) -> (Option<u32>, Option<&'a [u8]>) {
    let tlv = match ber::read(data) {
        Ok((tlv, rest)) => {
            if !rest.is_empty() {
                a.add(TRAILING_BYTES);
            }
            tlv
        }
        Err(e) => {
            ber_error(e, INVALID_ACSE_APDU, a);
            return (None, None);
        }
    };
    let Some(name) = apdu::name(tlv.tag).filter(|_| tlv.class == APPLICATION && tlv.constructed)
    else {
        a.add(INVALID_ACSE_APDU);
        return (None, None);
    };
    assoc.acse_apdu = Some(name);
    let mut user = None;
    for item in tlv.children() {
        let item = match item {
            Ok(item) if item.class == CONTEXT => item,
            Ok(_) => continue,
            Err(e) => {
                ber_error(e, INVALID_ACSE_APDU, a);
                break;
            }
        };
        // user-information: the same tag in every APDU.
        if item.tag == 30 {
            user = user_information(item, a);
            continue;
        }
        match (tlv.tag, item.tag) {
            (apdu::AARQ | apdu::AARE, 1) => assoc.application_context = explicit_oid(item),
            (apdu::AARQ, 2) => assoc.called_ap_title = explicit_oid(item),
            (apdu::AARQ, 3) => assoc.called_ae_qualifier = explicit_integer(item),
            (apdu::AARQ, 6) => assoc.calling_ap_title = explicit_oid(item),
            (apdu::AARQ, 7) => assoc.calling_ae_qualifier = explicit_integer(item),
            (apdu::AARQ, 11) | (apdu::AARE, 9) => {
                assoc.authentication_mechanism = ber::oid(item.value);
            }
            (apdu::AARQ, 12) => assoc.password = password(item),
            (apdu::AARE, 2) => {
                assoc.association_result =
                    explicit_integer(item).and_then(|v| u64::try_from(v).ok());
            }
            (apdu::AARE, 4) => assoc.responding_ap_title = explicit_oid(item),
            (apdu::AARE, 5) => assoc.responding_ae_qualifier = explicit_integer(item),
            (apdu::RLRQ | apdu::RLRE, 0) => assoc.release_reason = ber::unsigned(item.value),
            (apdu::ABRT, 0) => assoc.abort_source = ber::unsigned(item.value),
            _ => {}
        }
    }
    (Some(tlv.tag), user)
}

/// An explicitly tagged OBJECT IDENTIFIER (application context name, AP
/// title form 2); other forms (AP title form 1, a directory name) give `None`.
fn explicit_oid(item: Tlv<'_>) -> Option<String> {
    item.inner()
        .ok()
        .filter(|t| t.is_universal(universal::OID))
        .and_then(|t| ber::oid(t.value))
}

/// An explicitly tagged INTEGER (AE qualifier form 2, result).
fn explicit_integer(item: Tlv<'_>) -> Option<i64> {
    item.inner()
        .ok()
        .filter(|t| t.is_universal(universal::INTEGER))
        .and_then(|t| ber::signed(t.value))
}

/// The calling authentication value when it is a password (charstring, `[0]`).
fn password(item: Tlv<'_>) -> Option<String> {
    item.inner()
        .ok()
        .filter(|t| t.is_context(0))
        .map(|t| text(t.value, MAX_TEXT))
}

/// The MMS PDU encoding in user information: the first EXTERNAL's
/// single-ASN1-type or octet-aligned encoding.
fn user_information<'a>(item: Tlv<'a>, a: &mut Anomalies) -> Option<&'a [u8]> {
    let external = match item.inner() {
        Ok(t) if t.is_universal(universal::EXTERNAL) && t.constructed => t,
        Ok(_) => {
            a.add(INVALID_ACSE_APDU);
            return None;
        }
        Err(e) => {
            ber_error(e, INVALID_ACSE_APDU, a);
            return None;
        }
    };
    for part in external.children() {
        match part {
            Ok(p) if p.class == CONTEXT && matches!(p.tag, 0 | 1) => return Some(p.value),
            Ok(_) => {}
            Err(e) => {
                ber_error(e, INVALID_ACSE_APDU, a);
                return None;
            }
        }
    }
    a.add(INVALID_ACSE_APDU);
    None
}
