//! The BACnet Virtual Link Control of BACnet/IP (Annex J.2): type (0x81),
//! function, length (of the whole message, header included), then the
//! function's data: a result code, a broadcast distribution table, a
//! foreign device registration, or an NPDU (Forwarded-NPDU puts the B/IP
//! address of the device that sent it first).

use std::net::{Ipv4Addr, SocketAddrV4};

use super::anomaly::*;
use super::names::bvlc::*;
use super::{MAX_TABLE, Out, TableEntry, be16, npdu};
use crate::event::FunctionClass;

/// Type, function, length.
pub const HEADER_LEN: usize = 4;
/// A B/IP address: IPv4 address and UDP port.
const ADDRESS_LEN: usize = 6;
/// A BDT or FDT entry.
const ENTRY_LEN: usize = 10;

fn address(b: &[u8]) -> Option<SocketAddrV4> {
    let ip: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(ip), be16(b, 4)?))
}

/// Decodes a datagram that starts with the BVLC type octet.
pub(super) fn decode(datagram: &[u8], out: &mut Out) {
    let (Some(&function), Some(length)) = (datagram.get(1), be16(datagram, 2)) else {
        out.f.bvlc_function = datagram.get(1).copied();
        out.a.add(TRUNCATED_BVLC);
        return;
    };
    out.f.bvlc_function = Some(function);
    out.f.bvlc_length = Some(length);
    // Receivers, like Wireshark, take the datagram's length: a BVLC length
    // that disagrees is reported, and the whole datagram decoded.
    if usize::from(length) != datagram.len() {
        out.a.add(BVLC_LENGTH_MISMATCH);
    }
    let body = datagram.get(HEADER_LEN..).unwrap_or_default();
    let Some(name) = name(function) else {
        out.a.add(UNKNOWN_BVLC_FUNCTION);
        out.named("unknown_bvlc_function", FunctionClass::Other);
        return;
    };
    if carries_npdu(function) {
        let npdu = if function == FORWARDED_NPDU {
            out.f.original_address = address(body);
            // The NPDU's sender is the original device, not the BBMD that
            // forwards it: what it says about itself is not about the sender.
            out.identity_from_sender = false;
            match body.get(ADDRESS_LEN..) {
                Some(rest) => rest,
                None => {
                    out.a.add(TRUNCATED_BVLC);
                    return;
                }
            }
        } else {
            body
        };
        npdu::decode(npdu, out);
        return;
    }
    out.named(name, class(function));
    out.is_response = matches!(function, RESULT | READ_BDT_ACK | READ_FDT_ACK);
    let expected = match function {
        RESULT => {
            out.f.bvlc_result = be16(body, 0);
            2
        }
        REGISTER_FOREIGN_DEVICE => {
            out.f.ttl = be16(body, 0);
            2
        }
        DELETE_FDT_ENTRY => {
            out.f.fdt_address = address(body);
            ADDRESS_LEN
        }
        WRITE_BDT | READ_BDT_ACK | READ_FDT_ACK => {
            table(function, body, out);
            body.len() - body.len() % ENTRY_LEN
        }
        // Read-BDT, Read-FDT: no data. Secure-BVLL: a security wrapper
        // whose content is not decoded.
        SECURE_BVLL => body.len(),
        _ => 0,
    };
    if body.len() < expected {
        out.a.add(TRUNCATED_BVLC);
    } else if body.len() > expected {
        out.a.add(TRAILING_BYTES);
    }
}

/// A broadcast distribution table (address, mask) or a foreign device
/// table (address, time-to-live, remaining seconds).
fn table(function: u8, body: &[u8], out: &mut Out) {
    let entries = body.chunks_exact(ENTRY_LEN);
    out.f.table_entries = Some(u16::try_from(entries.len()).unwrap_or(u16::MAX));
    for entry in entries.take(MAX_TABLE) {
        let Some(address) = address(entry) else {
            continue;
        };
        let mut e = TableEntry {
            address,
            ..TableEntry::default()
        };
        if function == READ_FDT_ACK {
            e.ttl = be16(entry, 6);
            e.remaining = be16(entry, 8);
        } else {
            e.mask = entry.get(6..10).and_then(|m| m.try_into().ok());
        }
        out.f.table.push(e);
    }
}
