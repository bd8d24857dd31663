//! ISO transport on TCP: TPKT framing (RFC 1006) and COTP, the connection
//! oriented transport protocol of ISO 8073 / ITU-T X.224, as Siemens S7
//! (port 102) and IEC 61850 MMS carry it. This layer is shared: it knows
//! nothing of what the transport carries.
//!
//! - [`tpkt_framing`] cuts the byte stream into TPKTs (version 3, a 16-bit
//!   length that counts the 4-byte header).
//! - [`parse_tpdu`] decodes one COTP TPDU (a TPKT's payload) into a zero-copy
//!   [`Tpdu`]: CR, CC, DR, DC, DT, ED, AK, EA, RJ, ER; [`ConnectionParams`]
//!   reads a CR/CC's parameters (TSAPs, TPDU size).
//! - [`CotpStream`] is the per-connection state: it frames, decodes, and
//!   reassembles segmented DT TPDUs (end-of-TSDU bit clear) into one bounded
//!   TSDU per direction, which it hands to a [`CotpUser`] (the decoder of the
//!   session or application layer above). TPDUs other than DT become `cotp`
//!   events of their own ([`CotpFields`]), as do bytes that cannot be TPKT.
//!
//! Events: one per connection-management or error TPDU (CR, CC, DR, DC, ER,
//! ED, AK, EA, RJ), one per run of bytes that cannot start a TPKT, and, through
//! [`data_event`], one per TSDU no upper decoder claims. DT TPDUs are not
//! events themselves: their TSDU is the upper layer's PDU.

#[cfg(test)]
mod tests;

use super::{Direction, Emitter};
use crate::event::{Anomalies, Fields, FunctionClass, Pdu, Protocol, Value, Visitor};

/// The ISO-TSAP port (RFC 1006).
pub const PORT: u16 = 102;

/// TPKT header: version, reserved, 16-bit length.
pub const TPKT_HEADER_LEN: usize = 4;
pub const TPKT_VERSION: u8 = 3;
/// RFC 1006: the smallest TPKT (header, LI, TPDU code, one more octet).
pub const MIN_TPKT_LEN: usize = 7;
/// Largest TSDU reassembled from segmented DT TPDUs. S7 negotiates PDUs of at
/// most 960 bytes and S7comm-plus fragments above the COTP layer, so a TSDU of
/// this size is already far out of the ordinary.
pub const MAX_TSDU: usize = 64 * 1024;
/// TSAPs longer than this are cut (S7-1500 string TSAPs are 16 characters).
pub const MAX_TSAP: usize = 32;

/// Stable anomaly names of this layer. Anomalies of a DT TPDU's framing are
/// reported on the upper layer's event for its TSDU.
/// Every `function` name `cotp` events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=0xff_u8).filter_map(|c| TpduCode(c).name()).collect();
    names.extend(["data", "unknown", "invalid"]);
    names.sort_unstable();
    names.dedup();
    names
}

pub mod anomaly {
    /// Bytes that cannot start a TPKT (always with one of the next two).
    pub const INVALID_TPKT_HEADER: &str = "invalid_tpkt_header";
    /// TPKT version other than 3.
    pub const INVALID_TPKT_VERSION: &str = "invalid_tpkt_version";
    /// TPKT length below 7 (RFC 1006 minimum).
    pub const TPKT_LENGTH_TOO_SHORT: &str = "tpkt_length_too_short";
    /// TPKT reserved octet not zero.
    pub const TPKT_RESERVED_NONZERO: &str = "tpkt_reserved_nonzero";
    /// COTP length indicator 0, 255, or beyond the TPKT.
    pub const INVALID_LENGTH_INDICATOR: &str = "invalid_length_indicator";
    /// A TPDU code ISO 8073 does not define.
    pub const UNKNOWN_TPDU_TYPE: &str = "unknown_tpdu_type";
    /// The fixed part of the TPDU is longer than its length indicator allows.
    pub const TRUNCATED_TPDU: &str = "truncated_tpdu";
    /// A variable-part parameter runs past the header.
    pub const INVALID_PARAMETER: &str = "invalid_parameter";
    /// User data in a TPDU that carries none (DR/DC/AK/EA/RJ/ER).
    pub const UNEXPECTED_USER_DATA: &str = "unexpected_user_data";
    /// A segmented TSDU grew beyond the reassembly bound; it was dropped.
    pub const TSDU_TOO_LONG: &str = "tsdu_too_long";
    /// The TPDU size parameter is outside 2^7..2^13.
    pub const INVALID_TPDU_SIZE: &str = "invalid_tpdu_size";

    /// Every anomaly name, for rule validation. COTP data events also carry
    /// S7comm's `invalid_s7comm_header` (a TSDU starting 0x32 that is not
    /// S7comm: see `iso_on_tcp`), so rules on `cotp` may name it.
    pub const ALL: &[&str] = &[
        INVALID_TPKT_HEADER,
        INVALID_TPKT_VERSION,
        TPKT_LENGTH_TOO_SHORT,
        TPKT_RESERVED_NONZERO,
        INVALID_LENGTH_INDICATOR,
        UNKNOWN_TPDU_TYPE,
        TRUNCATED_TPDU,
        INVALID_PARAMETER,
        UNEXPECTED_USER_DATA,
        TSDU_TOO_LONG,
        INVALID_TPDU_SIZE,
        crate::protocols::s7comm::anomaly::INVALID_S7COMM_HEADER,
    ];
}
use anomaly::*;

/// Big-endian helpers over slices: `None` when the bytes are not there.
pub(crate) mod bytes {
    pub fn u8_at(d: &[u8], at: usize) -> Option<u8> {
        d.get(at).copied()
    }

    pub fn be16(d: &[u8], at: usize) -> Option<u16> {
        d.get(at..)?
            .first_chunk::<2>()
            .map(|b| u16::from_be_bytes(*b))
    }

    pub fn be24(d: &[u8], at: usize) -> Option<u32> {
        d.get(at..)?
            .first_chunk::<3>()
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn be32(d: &[u8], at: usize) -> Option<u32> {
        d.get(at..)?
            .first_chunk::<4>()
            .map(|b| u32::from_be_bytes(*b))
    }

    /// Bytes as text for an event: printable ASCII kept, anything else as
    /// `?`, trailing NULs and spaces trimmed, at most `max` characters.
    pub fn text(d: &[u8], max: usize) -> String {
        let end = d
            .iter()
            .rposition(|&b| b != 0 && b != b' ')
            .map_or(0, |p| p + 1);
        d.iter()
            .take(end.min(max))
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '?'
                }
            })
            .collect()
    }
}
use bytes::{be16, u8_at};

/// How the bytes at the start of a buffer frame as TPKT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpktFraming {
    /// A whole TPKT of this many bytes (header included).
    Frame(usize),
    /// Possibly a TPKT: more bytes are needed to tell or to complete it.
    Incomplete,
    /// Not a TPKT header; the anomaly says why.
    Invalid(&'static str),
}

/// Frames the TPKT at the start of `b`.
pub fn tpkt_framing(b: &[u8]) -> TpktFraming {
    match u8_at(b, 0) {
        None => return TpktFraming::Incomplete,
        Some(TPKT_VERSION) => {}
        Some(_) => return TpktFraming::Invalid(INVALID_TPKT_VERSION),
    }
    let Some(length) = be16(b, 2) else {
        return TpktFraming::Incomplete;
    };
    let length = usize::from(length);
    if length < MIN_TPKT_LEN {
        return TpktFraming::Invalid(TPKT_LENGTH_TOO_SHORT);
    }
    if b.len() < length {
        TpktFraming::Incomplete
    } else {
        TpktFraming::Frame(length)
    }
}

/// A COTP TPDU code: the high nibble of the second octet, as Wireshark's
/// `cotp.type` shows it. Open: unknown codes are kept and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TpduCode(pub u8);

impl TpduCode {
    pub const ED: TpduCode = TpduCode(0x1);
    pub const EA: TpduCode = TpduCode(0x2);
    pub const RJ: TpduCode = TpduCode(0x5);
    pub const AK: TpduCode = TpduCode(0x6);
    pub const ER: TpduCode = TpduCode(0x7);
    pub const DR: TpduCode = TpduCode(0x8);
    pub const DC: TpduCode = TpduCode(0xc);
    pub const CC: TpduCode = TpduCode(0xd);
    pub const CR: TpduCode = TpduCode(0xe);
    pub const DT: TpduCode = TpduCode(0xf);

    /// The code of a TPDU whose second octet is `octet`.
    pub fn of(octet: u8) -> TpduCode {
        TpduCode(octet >> 4)
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            TpduCode::CR => "connection_request",
            TpduCode::CC => "connection_confirm",
            TpduCode::DR => "disconnect_request",
            TpduCode::DC => "disconnect_confirm",
            TpduCode::DT => "data",
            TpduCode::ED => "expedited_data",
            TpduCode::AK => "data_ack",
            TpduCode::EA => "expedited_data_ack",
            TpduCode::RJ => "reject",
            TpduCode::ER => "tpdu_error",
            _ => return None,
        })
    }

    pub fn class(self) -> FunctionClass {
        match self {
            TpduCode::CR | TpduCode::CC | TpduCode::DR | TpduCode::DC => FunctionClass::Session,
            _ => FunctionClass::Other,
        }
    }

    /// Fixed-part octets after the LI and code octet, for the normal format
    /// (extended formats are longer; see [`parse_tpdu`]).
    fn fixed_len(self) -> usize {
        match self {
            // dst-ref, src-ref, class/option
            TpduCode::CR | TpduCode::CC => 5,
            // dst-ref, src-ref, reason
            TpduCode::DR => 5,
            // dst-ref, src-ref
            TpduCode::DC => 4,
            // EOT + TPDU-NR (class 0/1 format)
            TpduCode::DT => 1,
            // dst-ref, EOT + NR / YR-TU-NR
            TpduCode::ED | TpduCode::AK | TpduCode::EA | TpduCode::RJ => 3,
            // dst-ref, reject cause
            TpduCode::ER => 3,
            _ => 0,
        }
    }
}

/// What a TPDU's fixed part says, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpduKind {
    /// CR or CC; `params` in [`Tpdu::params`].
    Connection {
        /// Initial credit (low nibble of the code octet).
        credit: u8,
        dst_ref: u16,
        src_ref: u16,
        /// Preferred class (high nibble of the class/option octet).
        class: u8,
        /// Options (low nibble): extended formats 0x2, no explicit flow control 0x1.
        options: u8,
    },
    /// DR (with its reason) or DC.
    Disconnect {
        dst_ref: u16,
        src_ref: u16,
        reason: Option<u8>,
    },
    /// DT or ED: whether this TPDU ends the TSDU, and its sequence number.
    Data {
        dst_ref: Option<u16>,
        eot: bool,
        number: u32,
    },
    /// AK, EA or RJ.
    Ack { dst_ref: u16, number: u8 },
    /// ER: the reject cause.
    Error { dst_ref: u16, cause: u8 },
    /// An unknown TPDU code or a fixed part that is not all there.
    Unknown,
}

/// One decoded TPDU, borrowing the TPKT payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tpdu<'a> {
    pub code: TpduCode,
    /// Length indicator: header octets after the LI octet itself.
    pub li: u8,
    pub kind: TpduKind,
    /// Variable part of the header (parameters), if any.
    pub params: &'a [u8],
    /// The octets after the header.
    pub user_data: &'a [u8],
}

/// Decodes one COTP TPDU: `cotp` is a TPKT payload. Structural oddities go to
/// `a`; an `Err` (with its anomaly) means there is no TPDU header to speak of
/// (no LI and code, or an LI that does not fit).
pub fn parse_tpdu<'a>(cotp: &'a [u8], a: &mut Anomalies) -> Result<Tpdu<'a>, &'static str> {
    let (Some(li), Some(octet)) = (u8_at(cotp, 0), u8_at(cotp, 1)) else {
        return Err(INVALID_LENGTH_INDICATOR);
    };
    let header_end = usize::from(li) + 1;
    if li == 0 || li == 255 || header_end > cotp.len() {
        return Err(INVALID_LENGTH_INDICATOR);
    }
    let code = TpduCode::of(octet);
    let header = cotp.get(..header_end).unwrap_or_default();
    let user_data = cotp.get(header_end..).unwrap_or_default();
    // The octets of the fixed part after the code octet, as the LI delimits them.
    let fixed = header.get(2..).unwrap_or_default();
    let mut tpdu = Tpdu {
        code,
        li,
        kind: TpduKind::Unknown,
        params: &[],
        user_data,
    };
    if code.name().is_none() {
        a.add(UNKNOWN_TPDU_TYPE);
        return Ok(tpdu);
    }
    let mut fixed_len = code.fixed_len();
    if code == TpduCode::DT && fixed.len() >= 3 {
        // Classes 2-4 carry a destination reference before the number.
        fixed_len = 3;
    }
    if fixed.len() < fixed_len {
        a.add(TRUNCATED_TPDU);
        return Ok(tpdu);
    }
    let ref_at = |at: usize| be16(fixed, at).unwrap_or_default();
    let byte_at = |at: usize| u8_at(fixed, at).unwrap_or_default();
    tpdu.kind = match code {
        TpduCode::CR | TpduCode::CC => TpduKind::Connection {
            credit: octet & 0x0f,
            dst_ref: ref_at(0),
            src_ref: ref_at(2),
            class: byte_at(4) >> 4,
            options: byte_at(4) & 0x0f,
        },
        TpduCode::DR => TpduKind::Disconnect {
            dst_ref: ref_at(0),
            src_ref: ref_at(2),
            reason: Some(byte_at(4)),
        },
        TpduCode::DC => TpduKind::Disconnect {
            dst_ref: ref_at(0),
            src_ref: ref_at(2),
            reason: None,
        },
        TpduCode::DT if fixed_len == 1 => TpduKind::Data {
            dst_ref: None,
            eot: byte_at(0) & 0x80 != 0,
            number: u32::from(byte_at(0) & 0x7f),
        },
        TpduCode::DT | TpduCode::ED => TpduKind::Data {
            dst_ref: Some(ref_at(0)),
            eot: byte_at(2) & 0x80 != 0,
            number: u32::from(byte_at(2) & 0x7f),
        },
        TpduCode::AK | TpduCode::EA | TpduCode::RJ => TpduKind::Ack {
            dst_ref: ref_at(0),
            number: byte_at(2),
        },
        TpduCode::ER => TpduKind::Error {
            dst_ref: ref_at(0),
            cause: byte_at(2),
        },
        _ => TpduKind::Unknown,
    };
    tpdu.params = fixed.get(fixed_len..).unwrap_or_default();
    if matches!(
        code,
        TpduCode::CR | TpduCode::CC | TpduCode::DR | TpduCode::ER
    ) {
        // Only these carry parameters worth reading; check they are well formed.
        if Params(tpdu.params).any(|p| p.is_err()) {
            a.add(INVALID_PARAMETER);
        }
    }
    let carries_data = matches!(
        code,
        TpduCode::CR | TpduCode::CC | TpduCode::DT | TpduCode::ED | TpduCode::DR
    );
    if !carries_data && !user_data.is_empty() {
        a.add(UNEXPECTED_USER_DATA);
    }
    Ok(tpdu)
}

/// The variable-part parameters of a TPDU header: `(code, value)` pairs;
/// an `Err` for a parameter that runs past the header, after which the
/// iteration stops.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a>(pub &'a [u8]);

impl<'a> Iterator for Params<'a> {
    type Item = Result<(u8, &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&code, rest) = self.0.split_first()?;
        let Some((&len, rest)) = rest.split_first() else {
            self.0 = &[];
            return Some(Err(()));
        };
        let Some(value) = rest.get(..usize::from(len)) else {
            self.0 = &[];
            return Some(Err(()));
        };
        self.0 = rest.get(usize::from(len)..).unwrap_or_default();
        Some(Ok((code, value)))
    }
}

/// Parameter codes of the CR/CC variable part (ISO 8073, 13.3.4).
pub mod param {
    pub const TPDU_SIZE: u8 = 0xc0;
    pub const CALLING_TSAP: u8 = 0xc1;
    pub const CALLED_TSAP: u8 = 0xc2;
    pub const PREFERRED_MAX_TPDU_SIZE: u8 = 0xf0;
}

/// What a CR or CC says about the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionParams<'a> {
    /// Calling TSAP (Wireshark `cotp.src-tsap`): the initiator's.
    pub calling_tsap: Option<&'a [u8]>,
    /// Called TSAP (Wireshark `cotp.dst-tsap`): the responder's; for S7 it
    /// names the connection type, rack and slot of the PLC.
    pub called_tsap: Option<&'a [u8]>,
    /// Maximum TPDU size in octets (Wireshark `cotp.tpdu_size`), from 2^value.
    pub tpdu_size: Option<u32>,
    /// Preferred maximum TPDU size in octets (multiples of 128).
    pub preferred_max_tpdu_size: Option<u32>,
}

impl<'a> ConnectionParams<'a> {
    /// Reads the parameters of a CR/CC; an invalid TPDU size goes to `a`.
    pub fn of(params: &'a [u8], a: &mut Anomalies) -> Self {
        let mut c = ConnectionParams::default();
        for (code, value) in Params(params).map_while(Result::ok) {
            match code {
                param::CALLING_TSAP => c.calling_tsap = Some(value),
                param::CALLED_TSAP => c.called_tsap = Some(value),
                param::TPDU_SIZE => match value.first() {
                    Some(&n @ 7..=13) => c.tpdu_size = Some(1 << n),
                    _ => a.add(INVALID_TPDU_SIZE),
                },
                param::PREFERRED_MAX_TPDU_SIZE => {
                    let units = value
                        .iter()
                        .take(4)
                        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
                    c.preferred_max_tpdu_size = Some(units.saturating_mul(128));
                }
                _ => {}
            }
        }
        c
    }
}

/// The meaning of a two-octet Siemens S7 TSAP: connection type, rack, slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S7Tsap {
    /// First octet: 1 PG (programming device), 2 OP (HMI), 3 S7 basic, other values for
    /// other resources.
    pub connection_type: u8,
    /// Second octet, bits 7-5.
    pub rack: u8,
    /// Second octet, bits 4-0.
    pub slot: u8,
}

impl S7Tsap {
    /// Reads `tsap` as an S7 TSAP if it has the two-octet form with a
    /// connection type of 1 to 3 (PG, OP, S7 basic); string TSAPs
    /// (S7-1500 `SIMATIC-ROOT-…`) and others give `None`.
    pub fn of(tsap: &[u8]) -> Option<S7Tsap> {
        match *tsap {
            [connection_type @ 1..=3, b] => Some(S7Tsap {
                connection_type,
                rack: b >> 5,
                slot: b & 0x1f,
            }),
            _ => None,
        }
    }

    pub fn connection_type_name(self) -> &'static str {
        match self.connection_type {
            1 => "pg",
            2 => "op",
            _ => "s7_basic",
        }
    }
}

/// Fields of a `cotp` event (absent values are not written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CotpFields {
    /// TPDU code (Wireshark `cotp.type`): 0x0e CR, 0x0d CC, 0x08 DR…
    pub tpdu_type: Option<u8>,
    /// Wireshark `cotp.destref`.
    pub dst_ref: Option<u16>,
    /// Wireshark `cotp.srcref`.
    pub src_ref: Option<u16>,
    /// Preferred transport class of a CR/CC (Wireshark `cotp.class`).
    pub transport_class: Option<u8>,
    /// Wireshark `cotp.src-tsap` (bounded copy).
    pub calling_tsap: Option<Vec<u8>>,
    /// Wireshark `cotp.dst-tsap` (bounded copy).
    pub called_tsap: Option<Vec<u8>>,
    /// The called TSAP read as an S7 TSAP.
    pub s7_tsap: Option<S7Tsap>,
    /// Wireshark `cotp.tpdu_size`.
    pub tpdu_size: Option<u32>,
    pub preferred_max_tpdu_size: Option<u32>,
    /// DR reason (Wireshark `cotp.cause`).
    pub disconnect_reason: Option<u8>,
    /// ER reject cause (Wireshark `cotp.reject_cause`).
    pub reject_cause: Option<u8>,
    /// DT/ED: user data octets (the whole TSDU for a reassembled one).
    pub data_length: Option<u32>,
    /// DT: TPDUs the TSDU was carried in, when more than one.
    pub segments: Option<u16>,
    /// Bytes skipped as not TPKT (on `invalid` events only).
    pub skipped_bytes: Option<u32>,
}

impl CotpFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        fn tsap(v: &mut dyn Visitor, name: &str, text_name: &str, value: Option<&[u8]>) {
            let Some(value) = value else { return };
            v.field(name, Value::Hex(value));
            if value.len() > 2 && value.iter().all(|b| b.is_ascii_graphic()) {
                v.field(
                    text_name,
                    Value::Str(std::str::from_utf8(value).unwrap_or("")),
                );
            }
        }
        u(v, "tpdu_type", self.tpdu_type);
        u(v, "dst_ref", self.dst_ref);
        u(v, "src_ref", self.src_ref);
        u(v, "transport_class", self.transport_class);
        tsap(
            v,
            "calling_tsap",
            "calling_tsap_name",
            self.calling_tsap.as_deref(),
        );
        tsap(
            v,
            "called_tsap",
            "called_tsap_name",
            self.called_tsap.as_deref(),
        );
        if let Some(s7) = self.s7_tsap {
            v.field("connection_type", Value::Str(s7.connection_type_name()));
            v.field("rack", Value::U64(s7.rack.into()));
            v.field("slot", Value::U64(s7.slot.into()));
        }
        u(v, "tpdu_size", self.tpdu_size);
        u(v, "preferred_max_tpdu_size", self.preferred_max_tpdu_size);
        u(v, "disconnect_reason", self.disconnect_reason);
        u(v, "reject_cause", self.reject_cause);
        u(v, "data_length", self.data_length);
        u(v, "segments", self.segments);
        u(v, "skipped_bytes", self.skipped_bytes);
    }

    /// The fields of a TPDU other than DT.
    pub fn of(tpdu: &Tpdu<'_>, a: &mut Anomalies) -> CotpFields {
        let mut f = CotpFields {
            tpdu_type: Some(tpdu.code.0),
            ..CotpFields::default()
        };
        let bounded = |t: &[u8]| t.get(..MAX_TSAP).unwrap_or(t).to_vec();
        match tpdu.kind {
            TpduKind::Connection {
                dst_ref,
                src_ref,
                class,
                ..
            } => {
                f.dst_ref = Some(dst_ref);
                f.src_ref = Some(src_ref);
                f.transport_class = Some(class);
                let c = ConnectionParams::of(tpdu.params, a);
                f.calling_tsap = c.calling_tsap.map(bounded);
                f.called_tsap = c.called_tsap.map(bounded);
                f.s7_tsap = c.called_tsap.and_then(S7Tsap::of);
                f.tpdu_size = c.tpdu_size;
                f.preferred_max_tpdu_size = c.preferred_max_tpdu_size;
            }
            TpduKind::Disconnect {
                dst_ref,
                src_ref,
                reason,
            } => {
                f.dst_ref = Some(dst_ref);
                f.src_ref = Some(src_ref);
                f.disconnect_reason = reason;
            }
            TpduKind::Data { dst_ref, .. } => {
                f.dst_ref = dst_ref;
                f.data_length = Some(len32(tpdu.user_data.len()));
            }
            TpduKind::Ack { dst_ref, .. } => f.dst_ref = Some(dst_ref),
            TpduKind::Error { dst_ref, cause } => {
                f.dst_ref = Some(dst_ref);
                f.reject_cause = Some(cause);
            }
            TpduKind::Unknown => {}
        }
        f
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A complete TSDU: the user data of one DT TPDU with the end-of-TSDU bit,
/// or of several reassembled.
#[derive(Clone, Copy, Debug)]
pub struct Tsdu<'a> {
    pub data: &'a [u8],
    /// DT TPDUs it came in (1 when not segmented).
    pub segments: u16,
    /// Oddities of the TPKT/COTP framing of its TPDUs, for the upper layer's event.
    pub anomalies: Anomalies,
}

/// The decoder of what COTP carries.
pub trait CotpUser {
    /// A complete TSDU travelling in `out.direction()`: decode it and emit
    /// its event(s), or hand it to [`data_event`].
    fn tsdu(&mut self, tsdu: &Tsdu<'_>, out: &mut Emitter<'_>);

    /// A connection-management TPDU (CR, CC, DR, DC) was seen, before its
    /// own `cotp` event is emitted. Default: nothing.
    fn connection(&mut self, _tpdu: &Tpdu<'_>, _direction: Direction) {}
}

/// Reassembly of one direction's segmented TSDU.
#[derive(Debug, Default)]
struct Reassembly {
    buf: Vec<u8>,
    /// DT TPDUs seen for the TSDU in progress (0: none in progress).
    segments: u16,
    /// The TSDU outgrew [`MAX_TSDU`]: its bytes were dropped.
    overflowed: bool,
    anomalies: Anomalies,
}

impl Reassembly {
    fn reset(&mut self) {
        self.buf.clear();
        self.segments = 0;
        self.overflowed = false;
        self.anomalies = Anomalies::new();
    }
}

/// Per-connection COTP state: one reassembly per direction. It keeps no
/// partial TPKT: an incomplete one is left unconsumed for the caller to present
/// again. Bytes that cannot start a TPKT are reported as one `invalid` event
/// and skipped up to the next offset where a plausible TPKT starts.
#[derive(Debug, Default)]
pub struct CotpStream {
    reassembly: [Reassembly; 2],
}

impl CotpStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the whole TPKTs at the start of `data` (bytes that travelled
    /// in `out.direction()`), handing complete TSDUs to `user`; returns the
    /// bytes consumed (see [`super::StreamParser::parse`]).
    pub fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>, user: &mut impl CotpUser) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match tpkt_framing(rest) {
                TpktFraming::Incomplete => break,
                TpktFraming::Frame(size) => {
                    self.tpkt(rest.get(..size).unwrap_or(rest), out, user);
                    consumed += size;
                }
                TpktFraming::Invalid(reason) => {
                    let skip = (1..rest.len())
                        .find(|&at| rest.get(at..).is_some_and(plausible_start))
                        .unwrap_or(rest.len());
                    garbage(rest.get(..skip).unwrap_or(rest), reason, out);
                    consumed += skip;
                }
            }
        }
        consumed
    }

    /// Bytes were lost in `dir`: a TSDU being reassembled there is abandoned.
    pub fn gap(&mut self, dir: Direction) {
        self.reassembly[dir.index()].reset();
    }

    /// One whole TPKT (at least [`MIN_TPKT_LEN`] bytes).
    fn tpkt(&mut self, tpkt: &[u8], out: &mut Emitter<'_>, user: &mut impl CotpUser) {
        let mut a = Anomalies::new();
        if u8_at(tpkt, 1) != Some(0) {
            a.add(TPKT_RESERVED_NONZERO);
        }
        let cotp = tpkt.get(TPKT_HEADER_LEN..).unwrap_or_default();
        let tpdu = match parse_tpdu(cotp, &mut a) {
            Ok(tpdu) => tpdu,
            Err(reason) => {
                a.add(reason);
                emit(
                    CotpFields::default(),
                    None,
                    "invalid",
                    FunctionClass::Other,
                    a,
                    out,
                );
                return;
            }
        };
        match (tpdu.code, tpdu.kind) {
            (TpduCode::DT, TpduKind::Data { eot, .. }) => self.data(&tpdu, eot, a, out, user),
            _ => {
                if matches!(
                    tpdu.code,
                    TpduCode::CR | TpduCode::CC | TpduCode::DR | TpduCode::DC
                ) {
                    user.connection(&tpdu, out.direction());
                }
                let fields = CotpFields::of(&tpdu, &mut a);
                let function = tpdu.code.name().unwrap_or("unknown");
                emit(
                    fields,
                    Some(tpdu.code.0),
                    function,
                    tpdu.code.class(),
                    a,
                    out,
                );
            }
        }
    }

    /// A DT TPDU: its user data ends a TSDU (`eot`) or continues one.
    fn data(
        &mut self,
        tpdu: &Tpdu<'_>,
        eot: bool,
        a: Anomalies,
        out: &mut Emitter<'_>,
        user: &mut impl CotpUser,
    ) {
        let r = &mut self.reassembly[out.direction().index()];
        if r.segments == 0 && eot {
            // The common case: a TSDU in one TPDU, handed over without copying.
            let tsdu = Tsdu {
                data: tpdu.user_data,
                segments: 1,
                anomalies: a,
            };
            user.tsdu(&tsdu, out);
            return;
        }
        r.segments = r.segments.saturating_add(1);
        for name in a.iter() {
            r.anomalies.add(name);
        }
        if !r.overflowed {
            if r.buf.len() + tpdu.user_data.len() > MAX_TSDU {
                r.overflowed = true;
                r.anomalies.add(TSDU_TOO_LONG);
                r.buf = Vec::new();
            } else {
                r.buf.extend_from_slice(tpdu.user_data);
            }
        }
        if !eot {
            return;
        }
        let segments = r.segments;
        let anomalies = r.anomalies;
        if r.overflowed {
            let fields = CotpFields {
                tpdu_type: Some(TpduCode::DT.0),
                segments: Some(segments),
                ..CotpFields::default()
            };
            r.reset();
            emit(
                fields,
                Some(TpduCode::DT.0),
                "data",
                FunctionClass::Other,
                anomalies,
                out,
            );
            return;
        }
        let buf = std::mem::take(&mut r.buf);
        r.reset();
        let tsdu = Tsdu {
            data: &buf,
            segments,
            anomalies,
        };
        user.tsdu(&tsdu, out);
        // Keep the allocation for the next segmented TSDU.
        let r = &mut self.reassembly[out.direction().index()];
        if r.buf.capacity() == 0 {
            r.buf = buf;
            r.buf.clear();
        }
    }
}

/// Whether a TPKT carrying a COTP TPDU with a known code could start at `b`:
/// used to resynchronise after garbage and by probes.
pub fn plausible_start(b: &[u8]) -> bool {
    let header_ok = match tpkt_framing(b) {
        TpktFraming::Invalid(_) => false,
        _ => u8_at(b, 1) == Some(0),
    };
    header_ok && plausible_cotp(b)
}

/// Whether the COTP LI and code after a TPKT header at `b` are plausible, as
/// far as the bytes go (a missing LI or code is not evidence against).
pub fn plausible_cotp(b: &[u8]) -> bool {
    let tpkt_len = be16(b, 2).map_or(usize::MAX, usize::from);
    let li_ok = u8_at(b, 4)
        .is_none_or(|li| li != 0 && li != 255 && usize::from(li) + 1 + TPKT_HEADER_LEN <= tpkt_len);
    let code_ok = u8_at(b, 5).is_none_or(|c| TpduCode::of(c).name().is_some());
    li_ok && code_ok
}

/// Emits a `cotp` event.
fn emit(
    fields: CotpFields,
    function_code: Option<u8>,
    function: &'static str,
    class: FunctionClass,
    anomalies: Anomalies,
    out: &mut Emitter<'_>,
) {
    out.emit(Pdu {
        protocol: Protocol::Cotp,
        is_response: out.direction() == Direction::ToClient,
        function_code: function_code.map(u32::from),
        function,
        class,
        anomalies,
        fields: Fields::Cotp(fields),
        identity: None,
    });
}

/// Reports `skipped` bytes that are not TPKT, with what their header said.
fn garbage(skipped: &[u8], reason: &'static str, out: &mut Emitter<'_>) {
    let mut a = Anomalies::new();
    a.add(INVALID_TPKT_HEADER);
    a.add(reason);
    let fields = CotpFields {
        skipped_bytes: Some(len32(skipped.len())),
        ..CotpFields::default()
    };
    emit(fields, None, "invalid", FunctionClass::Other, a, out);
}

/// The `cotp` event of a TSDU no upper decoder claims: a `data` event with
/// its length (and the framing anomalies of its TPDUs).
pub fn data_event(tsdu: &Tsdu<'_>, extra: Option<&'static str>, out: &mut Emitter<'_>) {
    let mut a = tsdu.anomalies;
    if let Some(name) = extra {
        a.add(name);
    }
    let fields = CotpFields {
        tpdu_type: Some(TpduCode::DT.0),
        data_length: Some(len32(tsdu.data.len())),
        segments: (tsdu.segments > 1).then_some(tsdu.segments),
        ..CotpFields::default()
    };
    emit(
        fields,
        Some(TpduCode::DT.0),
        "data",
        FunctionClass::Other,
        a,
        out,
    );
}
