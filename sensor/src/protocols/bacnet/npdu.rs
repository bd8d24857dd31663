//! The BACnet network layer (clause 6.2): version, control octet,
//! destination (DNET, DLEN, DADR) and source (SNET, SLEN, SADR) specifiers,
//! hop count, then either a network layer message (type, vendor id for the
//! proprietary ones, and its data) or an APDU.

use super::anomaly::*;
use super::names::{network_message, network_message_is_response};
use super::{Mac, NPDU_VERSION, Out, apdu, be16};

/// Control octet bits.
pub mod control {
    /// The NSDU is a network layer message (else an APDU).
    pub const NETWORK_MESSAGE: u8 = 0x80;
    pub const RESERVED_6: u8 = 0x40;
    /// DNET, DLEN, DADR and the hop count are present.
    pub const DESTINATION: u8 = 0x20;
    pub const RESERVED_4: u8 = 0x10;
    /// SNET, SLEN and SADR are present.
    pub const SOURCE: u8 = 0x08;
    pub const EXPECTING_REPLY: u8 = 0x04;
    pub const PRIORITY: u8 = 0x03;
}

/// A cursor over the NPDU header's octets.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    fn u16(&mut self) -> Option<u16> {
        let v = be16(self.b, self.at)?;
        self.at += 2;
        Some(v)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(v)
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.at..).unwrap_or_default()
    }
}

/// Decodes an NPDU and what it carries.
pub(super) fn decode(b: &[u8], out: &mut Out) {
    if header(b, out).is_none() {
        out.a.add(TRUNCATED_NPDU);
    }
}

/// The header and the NSDU; `None` when the header is cut short.
fn header(b: &[u8], out: &mut Out) -> Option<()> {
    let mut c = Cursor { b, at: 0 };
    let version = c.u8()?;
    if version != NPDU_VERSION {
        out.f.npdu_version = Some(version);
        out.a.add(INVALID_NPDU_VERSION);
    }
    let ctl = c.u8()?;
    out.f.control = Some(ctl);
    out.f.expecting_reply = ctl & control::EXPECTING_REPLY != 0;
    out.f.network_priority = ctl & control::PRIORITY;
    if ctl & (control::RESERVED_6 | control::RESERVED_4) != 0 {
        out.a.add(NPDU_RESERVED_BITS);
    }
    if ctl & control::DESTINATION != 0 {
        let dnet = c.u16()?;
        let dlen = c.u8()?;
        out.f.dnet = Some(dnet);
        out.f.dadr = Some(Mac::new(c.take(usize::from(dlen))?));
        if dnet == 0 {
            out.a.add(INVALID_NETWORK_ADDRESS);
        }
    }
    if ctl & control::SOURCE != 0 {
        let snet = c.u16()?;
        let slen = c.u8()?;
        out.f.snet = Some(snet);
        out.f.sadr = Some(Mac::new(c.take(usize::from(slen))?));
        if slen == 0 || snet == 0 || snet == 0xffff {
            out.a.add(INVALID_NETWORK_ADDRESS);
        }
        // A router relays this NPDU from a device on another network:
        // identities in it are not the IP sender's.
        out.identity_from_sender = false;
    }
    if ctl & control::DESTINATION != 0 {
        out.f.hop_count = Some(c.u8()?);
    }
    if ctl & control::NETWORK_MESSAGE != 0 {
        let kind = c.u8()?;
        out.f.network_message_type = Some(kind);
        if kind >= 0x80 {
            out.f.nlm_vendor_id = Some(c.u16()?);
        }
        let (name, class) = network_message(kind);
        out.named(name, class);
        out.is_response = network_message_is_response(kind);
        if name == "unknown_network_message" {
            out.a.add(UNKNOWN_NETWORK_MESSAGE);
        }
        if message(kind, c.rest(), out).is_none() {
            out.a.add(TRUNCATED_NPDU);
        }
        return Some(());
    }
    let rest = c.rest();
    if rest.is_empty() {
        out.a.add(MISSING_APDU);
    } else {
        apdu::decode(rest, out);
    }
    Some(())
}

/// A network layer message's data; `None` when it is cut short.
fn message(kind: u8, data: &[u8], out: &mut Out) -> Option<()> {
    let mut c = Cursor { b: data, at: 0 };
    let networks = |c: &mut Cursor<'_>, out: &mut Out| {
        while let Some(net) = c.u16() {
            out.f.networks.push(net);
        }
    };
    match kind {
        // Who-Is-Router-To-Network: an optional network number.
        0x00 => {
            if let Some(net) = c.u16() {
                out.f.networks.push(net);
            }
        }
        // I-Am-Router, Router-Busy, Router-Available: network numbers.
        0x01 | 0x04 | 0x05 => networks(&mut c, out),
        // I-Could-Be-Router-To-Network: network, performance index.
        0x02 => {
            out.f.networks.push(c.u16()?);
            out.f.performance_index = Some(c.u8()?);
        }
        // Reject-Message-To-Network: reason, network.
        0x03 => {
            out.f.nlm_reject_reason = Some(c.u8()?);
            out.f.networks.push(c.u16()?);
        }
        // Initialize-Routing-Table (and its ACK): port mappings.
        0x06 | 0x07 => {
            let count = c.u8()?;
            for _ in 0..count {
                out.f.networks.push(c.u16()?);
                let _port_id = c.u8()?;
                let info_len = c.u8()?;
                c.take(usize::from(info_len))?;
            }
        }
        // Establish-Connection-To-Network: network, termination time.
        0x08 => {
            out.f.networks.push(c.u16()?);
            out.f.termination_time = Some(c.u8()?);
        }
        // Disconnect-Connection-To-Network.
        0x09 => out.f.networks.push(c.u16()?),
        // Network-Number-Is: network, learned (0) or configured (1).
        0x13 => {
            out.f.networks.push(c.u16()?);
            out.f.network_number_status = Some(c.u8()?);
        }
        // What-Is-Network-Number has no data; the security messages and
        // proprietary ones are not decoded.
        _ => return Some(()),
    }
    if !c.rest().is_empty() {
        out.a.add(TRAILING_BYTES);
    }
    Some(())
}
