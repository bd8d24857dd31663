//! ISO 8823-1 (X.226) presentation layer, normal mode, BER: which PPDU a
//! session SPDU carries, the presentation selectors of a connection, and the
//! presentation data values (PDVs) of its user data.
//!
//! - CONNECT carries a CP-type (SET), ACCEPT a CPA-PPDU (SET), REFUSE a
//!   CPR-PPDU (SEQUENCE), ABORT an ARU-PPDU (`[0]`) or ARP-PPDU (SEQUENCE);
//!   their normal-mode parameters end with the user data.
//! - FINISH, DISCONNECT, NOT FINISHED and DATA TRANSFER carry the user data
//!   alone.
//!
//! User data is fully encoded (`[APPLICATION 1]`, a list of PDVs, each with
//! its presentation context id and one encoded APDU) or, rarely, simply
//! encoded (`[APPLICATION 0]`, one octet string without a context).

use super::anomaly::*;
use super::ber::{self, APPLICATION, BerError, CONTEXT, Seq, Tlv, universal};
use super::names::spdu;
use crate::event::Anomalies;

/// PDVs of one user data decoded beyond this many are ignored.
pub const MAX_PDVS: usize = 8;

/// What a PPDU says, borrowing the TSDU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presentation<'a> {
    /// CP-type (Wireshark `pres.calling_presentation_selector`).
    pub calling_selector: Option<&'a [u8]>,
    /// CP-type (Wireshark `pres.called_presentation_selector`).
    pub called_selector: Option<&'a [u8]>,
    /// CPA-PPDU, CPR-PPDU (Wireshark `pres.responding_presentation_selector`).
    pub responding_selector: Option<&'a [u8]>,
    /// CPR-PPDU or ARP-PPDU provider reason.
    pub provider_reason: Option<u64>,
    /// The user data, if any.
    pub user_data: Option<UserData<'a>>,
}

/// The user data of a PPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserData<'a> {
    /// Fully-encoded data: the contents of the PDV-list sequence.
    Full(&'a [u8]),
    /// Simply-encoded data: the octets of the APDU(s).
    Simple(&'a [u8]),
}

/// One presentation data value: the context it belongs to and the encoding
/// of the APDU it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdv<'a> {
    /// Wireshark `pres.presentation_context_identifier`; `None` for simply
    /// encoded data.
    pub context_id: Option<u64>,
    pub data: &'a [u8],
}

/// Reports a BER error of this layer.
pub(super) fn ber_error(e: BerError, layer: &'static str, a: &mut Anomalies) {
    a.add(layer);
    if e == BerError::IndefiniteLength {
        a.add(INDEFINITE_LENGTH);
    }
}

/// Decodes the PPDU in the user data of an SPDU of type `spdu_type`.
pub fn parse<'a>(spdu_type: u8, data: &'a [u8], a: &mut Anomalies) -> Presentation<'a> {
    let mut p = Presentation::default();
    let tlv = match ber::read(data) {
        Ok((tlv, rest)) => {
            if !rest.is_empty() {
                a.add(TRAILING_BYTES);
            }
            tlv
        }
        Err(e) => {
            ber_error(e, INVALID_PRESENTATION_PDU, a);
            return p;
        }
    };
    let normal_mode = match spdu_type {
        spdu::CN | spdu::AC if tlv.is_universal(universal::SET) && tlv.constructed => {
            connect_normal_mode(tlv, a)
        }
        // CPR-PPDU normal mode, or ARP-PPDU.
        spdu::RF | spdu::AB if tlv.is_universal(universal::SEQUENCE) && tlv.constructed => {
            Some(tlv)
        }
        // ARU-PPDU normal mode.
        spdu::AB if tlv.is_context(0) && tlv.constructed => Some(tlv),
        spdu::FN | spdu::DN | spdu::NF | spdu::DT => {
            p.user_data = user_data(&tlv);
            if p.user_data.is_none() {
                a.add(INVALID_PRESENTATION_PDU);
            }
            return p;
        }
        _ => {
            a.add(INVALID_PRESENTATION_PDU);
            return p;
        }
    };
    let Some(params) = normal_mode else {
        return p;
    };
    for item in params.children() {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                ber_error(e, INVALID_PRESENTATION_PDU, a);
                break;
            }
        };
        if item.class == APPLICATION {
            p.user_data = user_data(&item);
            continue;
        }
        if item.class != CONTEXT {
            continue;
        }
        match (spdu_type, item.tag) {
            (spdu::CN, 1) => p.calling_selector = Some(item.value),
            (spdu::CN, 2) => p.called_selector = Some(item.value),
            (spdu::AC | spdu::RF, 3) => p.responding_selector = Some(item.value),
            (spdu::RF, 10) | (spdu::AB, 0) if !item.constructed => {
                p.provider_reason = ber::unsigned(item.value);
            }
            _ => {}
        }
    }
    p
}

/// The normal-mode parameters (`[2] IMPLICIT SEQUENCE`) of a CP-type or
/// CPA-PPDU set; `None` (quietly) in X.410 mode.
fn connect_normal_mode<'a>(set: Tlv<'a>, a: &mut Anomalies) -> Option<Tlv<'a>> {
    for item in set.children() {
        match item {
            Ok(item) if item.is_context(2) && item.constructed => return Some(item),
            Ok(_) => {}
            Err(e) => {
                ber_error(e, INVALID_PRESENTATION_PDU, a);
                return None;
            }
        }
    }
    None
}

/// The user data of a TLV that is one.
fn user_data<'a>(tlv: &Tlv<'a>) -> Option<UserData<'a>> {
    match (tlv.class, tlv.tag, tlv.constructed) {
        (APPLICATION, 1, true) => Some(UserData::Full(tlv.value)),
        (APPLICATION, 0, false) => Some(UserData::Simple(tlv.value)),
        _ => None,
    }
}

/// The PDVs of user data, at most [`MAX_PDVS`] of them; an `Err` (the BER
/// error, if that was the reason) for a PDV that is not one, after which the
/// iteration stops.
pub fn pdvs(data: UserData<'_>) -> Pdvs<'_> {
    match data {
        UserData::Simple(data) => Pdvs {
            simple: Some(data),
            list: Seq(&[]),
            count: 0,
        },
        UserData::Full(list) => Pdvs {
            simple: None,
            list: Seq(list),
            count: 0,
        },
    }
}

/// Iterator over the PDVs of user data (see [`pdvs`]).
pub struct Pdvs<'a> {
    simple: Option<&'a [u8]>,
    list: Seq<'a>,
    count: usize,
}

impl<'a> Iterator for Pdvs<'a> {
    type Item = Result<Pdv<'a>, Option<BerError>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(data) = self.simple.take() {
            return Some(Ok(Pdv {
                context_id: None,
                data,
            }));
        }
        if self.count == MAX_PDVS {
            return None;
        }
        self.count += 1;
        let pdv = match self.list.next()? {
            Ok(pdv) if pdv.is_universal(universal::SEQUENCE) => pdv,
            Ok(_) => return self.fail(None),
            Err(e) => return self.fail(Some(e)),
        };
        let mut context_id = None;
        let mut data = None;
        for item in pdv.children() {
            match item {
                Ok(i) if i.is_universal(universal::INTEGER) => {
                    context_id = ber::unsigned(i.value);
                }
                // single-ASN1-type (explicit) or octet-aligned: the APDU's encoding.
                Ok(i) if i.class == CONTEXT && matches!(i.tag, 0 | 1) => data = Some(i.value),
                Ok(_) => {}
                Err(e) => return self.fail(Some(e)),
            }
        }
        match data {
            Some(data) => Some(Ok(Pdv { context_id, data })),
            None => self.fail(None),
        }
    }
}

impl<'a> Pdvs<'a> {
    fn fail(&mut self, e: Option<BerError>) -> Option<Result<Pdv<'a>, Option<BerError>>> {
        self.list = Seq(&[]);
        Some(Err(e))
    }
}
