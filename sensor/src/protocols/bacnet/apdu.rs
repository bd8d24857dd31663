//! APDU headers (clause 20.1): the PDU type and flags, segmentation,
//! invoke id and service choice, then the service parameters (`services`).

use super::anomaly::*;
use super::names::{self, apdu::*};
use super::{Out, services};
use crate::event::FunctionClass;

/// PDU flags (low nibble of the first octet).
mod flag {
    /// Segmented message (confirmed requests, complex ACKs).
    pub const SEGMENTED: u8 = 0x08;
    /// More segments follow.
    pub const MORE_FOLLOWS: u8 = 0x04;
    /// Segmented response accepted (confirmed requests).
    pub const SEGMENTED_RESPONSE_ACCEPTED: u8 = 0x02;
    /// Negative ACK (segment ACK).
    pub const NEGATIVE_ACK: u8 = 0x02;
    /// Sent by the server (segment ACK, abort).
    pub const SERVER: u8 = 0x01;
}

/// Decodes an APDU (at least one octet).
pub(super) fn decode(b: &[u8], out: &mut Out) {
    let Some(&first) = b.first() else {
        out.a.add(MISSING_APDU);
        return;
    };
    let kind = first >> 4;
    let flags = first & 0x0f;
    out.f.apdu_type = Some(kind);
    let octet = |at: usize| b.get(at).copied();
    match kind {
        CONFIRMED_REQUEST => {
            let segmented = flags & flag::SEGMENTED != 0;
            set_segmentation(flags, out);
            out.f.segmented_response_accepted = flags & flag::SEGMENTED_RESPONSE_ACCEPTED != 0;
            if let Some(limits) = octet(1) {
                out.f.max_segments = names::max_segments((limits >> 4) & 0x07);
                out.f.max_apdu = names::max_apdu(limits & 0x0f);
                if out.f.max_apdu.is_none() {
                    out.a.add(INVALID_MAX_APDU);
                }
            }
            out.f.invoke_id = octet(2);
            let at = if segmented {
                out.f.sequence_number = octet(3);
                out.f.window_size = octet(4);
                5
            } else {
                3
            };
            service(kind, octet(at), b.get(at + 1..), segmented, out);
        }
        UNCONFIRMED_REQUEST => {
            if flags != 0 {
                out.a.add(INVALID_SEGMENTATION);
            }
            service(kind, octet(1), b.get(2..), false, out);
        }
        SIMPLE_ACK => {
            out.f.invoke_id = octet(1);
            service(kind, octet(2), b.get(3..), false, out);
        }
        COMPLEX_ACK => {
            let segmented = flags & flag::SEGMENTED != 0;
            set_segmentation(flags, out);
            out.f.invoke_id = octet(1);
            let at = if segmented {
                out.f.sequence_number = octet(2);
                out.f.window_size = octet(3);
                4
            } else {
                2
            };
            service(kind, octet(at), b.get(at + 1..), segmented, out);
        }
        SEGMENT_ACK => {
            out.f.negative_ack = flags & flag::NEGATIVE_ACK != 0;
            out.f.server = flags & flag::SERVER != 0;
            out.is_response = out.f.server;
            out.named("segment_ack", FunctionClass::Session);
            out.f.invoke_id = octet(1);
            out.f.sequence_number = octet(2);
            out.f.window_size = octet(3);
            fixed_length(b, 4, out);
        }
        ERROR => {
            out.f.invoke_id = octet(1);
            service(kind, octet(2), b.get(3..), false, out);
        }
        REJECT => {
            out.is_response = true;
            out.named("reject", FunctionClass::Other);
            out.f.invoke_id = octet(1);
            out.f.reject_reason = octet(2);
            fixed_length(b, 3, out);
        }
        ABORT => {
            out.f.server = flags & flag::SERVER != 0;
            out.is_response = out.f.server;
            out.named("abort", FunctionClass::Other);
            out.f.invoke_id = octet(1);
            out.f.abort_reason = octet(2);
            fixed_length(b, 3, out);
        }
        _ => {
            out.a.add(UNKNOWN_APDU_TYPE);
            out.named("unknown_apdu_type", FunctionClass::Other);
        }
    }
}

fn set_segmentation(flags: u8, out: &mut Out) {
    out.f.segmented = flags & flag::SEGMENTED != 0;
    out.f.more_follows = flags & flag::MORE_FOLLOWS != 0;
    if out.f.more_follows && !out.f.segmented {
        out.a.add(INVALID_SEGMENTATION);
    }
}

/// Checks the length of an APDU type without service parameters.
fn fixed_length(b: &[u8], len: usize, out: &mut Out) {
    if b.len() < len {
        out.a.add(TRUNCATED_APDU);
    } else if b.len() > len {
        out.a.add(TRAILING_BYTES);
    }
}

/// Names the PDU after its service and decodes the service parameters
/// (not those of a segment: it holds only a piece of them).
fn service(kind: u8, choice: Option<u8>, body: Option<&[u8]>, segmented: bool, out: &mut Out) {
    let Some(choice) = choice else {
        out.a.add(TRUNCATED_APDU);
        return;
    };
    out.f.service = Some(choice);
    out.function_code = Some(u32::from(choice));
    out.is_response = match kind {
        CONFIRMED_REQUEST => false,
        UNCONFIRMED_REQUEST => names::unconfirmed_is_response(choice),
        _ => true,
    };
    let described = if kind == UNCONFIRMED_REQUEST {
        names::unconfirmed_service(choice)
    } else {
        names::confirmed_service(choice)
    };
    let Some((name, class)) = described else {
        out.a.add(UNKNOWN_SERVICE);
        out.named("unknown_service", FunctionClass::Other);
        return;
    };
    out.named(name, class);
    if segmented {
        return;
    }
    let body = body.unwrap_or_default();
    match kind {
        CONFIRMED_REQUEST => services::confirmed_request(choice, body, out),
        UNCONFIRMED_REQUEST => services::unconfirmed_request(choice, body, out),
        COMPLEX_ACK => services::complex_ack(choice, body, out),
        ERROR => services::error(choice, body, out),
        _ => {
            if !body.is_empty() {
                out.a.add(TRAILING_BYTES);
            }
        }
    }
}
