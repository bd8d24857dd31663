//! ISO 8327-1 (X.225) session layer, kernel and duplex functional units as
//! MMS uses them: the SPDUs of one TSDU, their parameters, and the user data
//! they carry up to presentation.
//!
//! An SPDU is a type octet (SI), a length (one octet, or 0xff and two
//! octets) and that many octets of parameters; a DATA TRANSFER's user
//! information follows its parameters up to the end of the TSDU. A category 0
//! SPDU (GIVE TOKENS, PLEASE TOKENS: type 1 or 2, usually empty) may precede
//! another SPDU in the same TSDU — MMS data travels as `01 00 01 00` followed
//! by the presentation PDU. Connection SPDUs (CONNECT, ACCEPT, REFUSE, FINISH,
//! DISCONNECT, NOT FINISHED, ABORT) carry their user data in parameter 193
//! (or 194, extended).

use super::anomaly::*;
use super::names::spdu;
use crate::event::Anomalies;

/// Parameter codes read here.
mod param {
    pub const CONNECTION_IDENTIFIER: u8 = 1;
    pub const CONNECT_ACCEPT_ITEM: u8 = 5;
    pub const TRANSPORT_DISCONNECT: u8 = 17;
    pub const REASON_CODE: u8 = 50;
    pub const CALLING_SESSION_SELECTOR: u8 = 51;
    pub const CALLED_SESSION_SELECTOR: u8 = 52;
    pub const USER_DATA: u8 = 193;
    pub const EXTENDED_USER_DATA: u8 = 194;
}

/// What the session layer says about one TSDU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Session<'a> {
    /// Type of the SPDU that carries the data (Wireshark `ses.type`): after
    /// a category 0 token SPDU, the one that follows it.
    pub spdu_type: u8,
    /// The presentation PDU: a DATA TRANSFER's user information or a
    /// connection SPDU's user data parameter.
    pub user_data: Option<&'a [u8]>,
    /// Parameters 51 and 52 of a CONNECT (Wireshark
    /// `ses.calling_session_selector`, `ses.called_session_selector`).
    pub calling_selector: Option<&'a [u8]>,
    pub called_selector: Option<&'a [u8]>,
    /// Parameter 50 of a REFUSE (Wireshark `ses.reason_code`): its first octet.
    pub reason_code: Option<u8>,
    /// Parameter 17 of an ABORT (Wireshark `ses.transport_flags`).
    pub transport_disconnect: Option<u8>,
}

/// Whether `tsdu` starts like an SPDU: a type octet ISO 8327 defines for
/// connections, followed by a length octet. Used to route TSDUs here; the
/// lengths are checked (and reported) by [`parse`].
pub fn looks_like_spdu(tsdu: &[u8]) -> bool {
    match tsdu {
        [si, _, ..] => spdu::name(*si).is_some(),
        _ => false,
    }
}

/// One SPDU's header: its type, its parameter field, and what follows it.
struct Header<'a> {
    si: u8,
    params: &'a [u8],
    rest: &'a [u8],
}

/// Reads the SPDU header at the start of `d`; a length beyond the data is
/// reported and cut to what is there.
fn header<'a>(d: &'a [u8], a: &mut Anomalies) -> Option<Header<'a>> {
    let (&si, rest) = d.split_first()?;
    let (&li, rest) = rest.split_first()?;
    let (len, rest) = if li == 0xff {
        let (len, r) = rest.split_first_chunk::<2>()?;
        (usize::from(u16::from_be_bytes(*len)), r)
    } else {
        (usize::from(li), rest)
    };
    let params = rest.get(..len).unwrap_or_else(|| {
        a.add(TRUNCATED_SPDU);
        rest
    });
    Some(Header {
        si,
        params,
        rest: rest.get(len..).unwrap_or_default(),
    })
}

/// The parameter units (PI or PGI) of an SPDU: `(code, value)`; an `Err`
/// for a unit that runs past the field, after which the iteration stops.
struct Units<'a>(&'a [u8]);

impl<'a> Iterator for Units<'a> {
    type Item = Result<(u8, &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&code, rest) = self.0.split_first()?;
        let unit = (|| {
            let (&li, rest) = rest.split_first()?;
            let (len, rest) = if li == 0xff {
                let (len, r) = rest.split_first_chunk::<2>()?;
                (usize::from(u16::from_be_bytes(*len)), r)
            } else {
                (usize::from(li), rest)
            };
            Some((rest.get(..len)?, rest.get(len..).unwrap_or_default()))
        })();
        match unit {
            Some((value, rest)) => {
                self.0 = rest;
                Some(Ok((code, value)))
            }
            None => {
                self.0 = &[];
                Some(Err(()))
            }
        }
    }
}

/// The well-formed units of `d`, reporting one that is not.
fn units<'a>(d: &'a [u8], a: &mut Anomalies) -> impl Iterator<Item = (u8, &'a [u8])> + use<'a> {
    if Units(d).any(|u| u.is_err()) {
        a.add(INVALID_SESSION_PARAMETER);
    }
    Units(d).filter_map(Result::ok)
}

/// Decodes the SPDUs of one TSDU (see the module documentation). Returns
/// `None` when the TSDU does not even hold an SPDU header.
pub fn parse<'a>(tsdu: &'a [u8], a: &mut Anomalies) -> Option<Session<'a>> {
    let mut h = header(tsdu, a)?;
    // A category 0 token SPDU followed by another SPDU: the second is the one.
    if matches!(h.si, spdu::DT | spdu::PT)
        && h.rest.first().is_some_and(|&si| spdu::name(si).is_some())
        && let Some(next) = header(h.rest, a)
    {
        h = next;
    }
    let mut s = Session {
        spdu_type: h.si,
        ..Session::default()
    };
    if spdu::name(h.si).is_none() || h.si == spdu::UD {
        a.add(UNKNOWN_SPDU_TYPE);
        return Some(s);
    }
    for (code, value) in units(h.params, a) {
        match code {
            param::CONNECTION_IDENTIFIER | param::CONNECT_ACCEPT_ITEM => {
                for (inner, _) in units(value, a) {
                    if !spdu::known_parameter(inner) {
                        a.add(UNKNOWN_SESSION_PARAMETER);
                    }
                }
            }
            param::CALLING_SESSION_SELECTOR => s.calling_selector = Some(value),
            param::CALLED_SESSION_SELECTOR => s.called_selector = Some(value),
            param::REASON_CODE => s.reason_code = value.first().copied(),
            param::TRANSPORT_DISCONNECT => s.transport_disconnect = value.first().copied(),
            param::USER_DATA | param::EXTENDED_USER_DATA => s.user_data = Some(value),
            c if !spdu::known_parameter(c) => a.add(UNKNOWN_SESSION_PARAMETER),
            _ => {}
        }
    }
    if h.si == spdu::DT {
        s.user_data = Some(h.rest);
    }
    if s.user_data.is_some_and(<[u8]>::is_empty) {
        s.user_data = None;
    }
    let needs_data = matches!(h.si, spdu::CN | spdu::AC | spdu::FN | spdu::DN | spdu::DT);
    if needs_data && s.user_data.is_none() {
        a.add(MISSING_USER_DATA);
    }
    Some(s)
}
