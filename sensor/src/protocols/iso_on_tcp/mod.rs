//! ISO-on-TCP (port 102): the stream decoder that stacks the shared COTP
//! layer ([`super::cotp`]) and what it carries, chosen per TSDU by its first
//! octet:
//!
//! - 0x32: S7comm ([`super::s7comm`]), events with protocol `s7comm`, if
//!   the header is one (ROSCTR 1 to 7, 10 octets at least), as Wireshark
//!   decides; else a `cotp` `data` event with `invalid_s7comm_header`;
//! - 0x72: S7comm-plus ([`super::s7commplus`]), protocol `s7commplus`;
//! - an ISO 8327 session SPDU type (0x0d CONNECT, 0x0e ACCEPT, 0x01 DATA…):
//!   IEC 61850 MMS with its session, presentation and ACSE layers
//!   ([`super::mms`]), protocol `mms`;
//! - anything else: a `cotp` `data` event with the TSDU's length.
//!
//! COTP connection management (CR, CC, DR, DC) and errors are `cotp` events
//! of their own, as Wireshark shows them: a CR/CC names the calling and
//! called TSAPs, and for S7 the called TSAP gives the connection type, rack
//! and slot of the PLC, which the asset inventory wants.

#[cfg(test)]
mod tests;

use super::cotp::{
    self, ConnectionParams, CotpStream, CotpUser, TpduCode, TpduKind, TpktFraming, Tsdu,
};
use super::mms::{self, MmsState};
use super::s7comm::{self, S7commState};
use super::s7commplus::{self, S7commPlusState};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Protocol};

pub use super::cotp::PORT;

/// The decoders above COTP, and which protocol the connection turned out to carry.
#[derive(Debug, Default)]
struct Upper {
    s7comm: S7commState,
    s7commplus: S7commPlusState,
    mms: MmsState,
    /// The first application protocol seen on the connection.
    first: Option<Protocol>,
}

impl CotpUser for Upper {
    fn tsdu(&mut self, tsdu: &Tsdu<'_>, out: &mut Emitter<'_>) {
        match tsdu.data.first() {
            Some(&s7comm::PROTOCOL_ID) if s7comm::is_s7comm(tsdu.data) => {
                self.first.get_or_insert(Protocol::S7comm);
                self.s7comm.pdu(tsdu, out);
            }
            Some(&s7comm::PROTOCOL_ID) => {
                cotp::data_event(tsdu, Some(s7comm::anomaly::INVALID_S7COMM_HEADER), out);
            }
            Some(&s7commplus::PROTOCOL_ID) => {
                self.first.get_or_insert(Protocol::S7commPlus);
                self.s7commplus.telegram(tsdu, out);
            }
            Some(_) if mms::is_session(tsdu.data) => {
                self.first.get_or_insert(Protocol::Mms);
                self.mms.tsdu(tsdu, out);
            }
            _ => cotp::data_event(tsdu, None, out),
        }
    }
}

/// Per-connection state of the ISO-on-TCP decoder.
#[derive(Debug, Default)]
pub struct IsoOnTcpParser {
    cotp: CotpStream,
    upper: Upper,
}

impl IsoOnTcpParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The protocol the connection carries: the first application protocol
    /// seen (S7comm, S7comm-plus or MMS), else COTP.
    pub fn protocol(&self) -> Protocol {
        self.upper.first.unwrap_or(Protocol::Cotp)
    }
}

impl StreamParser for IsoOnTcpParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        self.cotp.parse(data, out, &mut self.upper)
    }

    fn gap(&mut self, dir: Direction) {
        self.cotp.gap(dir);
        self.upper.s7comm.gap(dir);
        self.upper.s7commplus.gap(dir);
        self.upper.mms.gap(dir);
    }
}

/// Recognises ISO-on-TCP by structure: a TPKT header (version 3, reserved 0,
/// length of at least 7) followed by a COTP length indicator that fits the
/// TPKT and a TPDU code ISO 8073 defines. Fewer than 6 octets give
/// `NeedMore` unless they already rule it out.
///
/// On the well-known port (102) that is enough, even for a TPKT still
/// incomplete. Elsewhere the first TPKT must be whole (or, for a DT, hold the
/// start of its user data; a CR or CC, a few dozen octets, must be whole) and
/// say more: a CR or CC with well-formed
/// parameters including a TSAP, or a DT whose user data starts with a valid
/// S7comm header (0x32, a known ROSCTR, lengths that fit) or S7comm-plus
/// header (0x72 and a known version), or an ISO session CONNECT or data
/// SPDU that fits ([`mms::probe_spdu`]). HTTP, TLS, Modbus, DNP3 fail the TPKT
/// test; RDP's CR carries no TSAP and H.225's TPKT payload is not COTP.
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    if data.first().is_some_and(|&v| v != cotp::TPKT_VERSION)
        || data.get(1).is_some_and(|&r| r != 0)
    {
        return Probe::NoMatch;
    }
    if let TpktFraming::Invalid(_) = cotp::tpkt_framing(data) {
        return Probe::NoMatch;
    }
    if data.len() < 6 {
        return Probe::NeedMore;
    }
    if !cotp::plausible_cotp(data) {
        return Probe::NoMatch;
    }
    if on_known_port {
        return Probe::Match;
    }
    strong_evidence(data)
}

/// The stricter test for a non-standard port (see [`probe`]).
fn strong_evidence(data: &[u8]) -> Probe {
    let tpkt_len = match cotp::tpkt_framing(data) {
        TpktFraming::Frame(len) => Some(len),
        TpktFraming::Incomplete => None,
        TpktFraming::Invalid(_) => return Probe::NoMatch,
    };
    let code = TpduCode::of(data.get(5).copied().unwrap_or_default());
    let available = data.get(..tpkt_len.unwrap_or(data.len())).unwrap_or(data);
    let cotp_bytes = available.get(cotp::TPKT_HEADER_LEN..).unwrap_or_default();
    let mut a = Anomalies::new();
    match code {
        TpduCode::CR | TpduCode::CC => {
            // A CR or CC is a few dozen octets: it comes whole in the first segment.
            if tpkt_len.is_none() {
                return Probe::NoMatch;
            }
            let Ok(tpdu) = cotp::parse_tpdu(cotp_bytes, &mut a) else {
                return Probe::NoMatch;
            };
            let TpduKind::Connection { .. } = tpdu.kind else {
                return Probe::NoMatch;
            };
            let params = ConnectionParams::of(tpdu.params, &mut a);
            let has_tsap = params.calling_tsap.is_some() || params.called_tsap.is_some();
            if a.is_empty() && has_tsap {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        TpduCode::DT => {
            let li = usize::from(data.get(4).copied().unwrap_or_default());
            let user_data = cotp_bytes.get(li + 1..).unwrap_or_default();
            let expected = tpkt_len.map(|len| len.saturating_sub(cotp::TPKT_HEADER_LEN + li + 1));
            match upper_header(user_data, expected) {
                Some(true) => Probe::Match,
                Some(false) => Probe::NoMatch,
                None if tpkt_len.is_none() => Probe::NeedMore,
                None => Probe::NoMatch,
            }
        }
        _ => Probe::NoMatch,
    }
}

/// Whether `user_data` starts with a valid S7comm, S7comm-plus or session header;
/// `None` if there are too few octets to tell. `total` is the TSDU's size
/// when the whole TPDU is there.
fn upper_header(user_data: &[u8], total: Option<usize>) -> Option<bool> {
    match *user_data.first()? {
        s7comm::PROTOCOL_ID => {
            let rosctr = s7comm::names::Rosctr(*user_data.get(1)?);
            let header = if rosctr.has_error_field() { 12 } else { 10 };
            let head = user_data.get(..header)?;
            let param = usize::from(u16::from_be_bytes([head[6], head[7]]));
            let data = usize::from(u16::from_be_bytes([head[8], head[9]]));
            let fits = total.is_none_or(|t| header + param + data == t);
            Some(rosctr.is_known() && fits)
        }
        s7commplus::PROTOCOL_ID => {
            let ver = *user_data.get(1)?;
            Some(matches!(ver, 1..=3 | 0xfe | 0xff))
        }
        _ => mms::probe_spdu(user_data, total),
    }
}
