//! Helpers shared by the decoders of the IT protocols that identify assets
//! (ARP, DHCP, DNS/LLMNR/mDNS, LLDP, CDP, SNMP, NetBIOS): a bounds-checked
//! reader over a byte slice, bounded text from the wire, addresses written
//! without allocating, and the reading of free-text system descriptions.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{Mac, Value, Visitor};

/// A cursor over a byte slice: every read checks the bounds and gives `None`
/// past the end (after which the cursor stays where it was).
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }

    pub fn ipv4(&mut self) -> Option<Ipv4Addr> {
        self.array::<4>().map(Ipv4Addr::from)
    }

    pub fn mac(&mut self) -> Option<Mac> {
        self.array::<6>()
    }
}

/// Big-endian u16 at `at`, if the slice holds it.
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Big-endian u32 at `at`, if the slice holds it.
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// An IP address from 4 or 16 bytes.
pub fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|a| IpAddr::V4(a.into())),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    }
}

/// Text from the wire, at most `max` bytes of it (cut on a character
/// boundary), invalid UTF-8 replaced, trailing NULs and whitespace removed.
pub fn text(bytes: &[u8], max: usize) -> String {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let bytes = bytes.get(..end).unwrap_or_default();
    let bytes = bytes.get(..max.min(bytes.len())).unwrap_or_default();
    let mut s = String::from_utf8_lossy(bytes).into_owned();
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// A short string built on the stack (addresses, OIDs for display), cut
/// silently at `N` bytes.
#[derive(Clone, Copy)]
pub struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    pub fn new() -> Self {
        StackText {
            bytes: [0; N],
            len: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole `str`s are ever appended, so this never fails.
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> std::fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = N - self.len;
        if s.len() > room {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

/// `00:80:f4:0a:bc:ff`.
pub fn mac_text(mac: &Mac) -> StackText<17> {
    let mut t = StackText::new();
    for (i, b) in mac.iter().enumerate() {
        let _ = write!(t, "{}{b:02x}", if i == 0 { "" } else { ":" });
    }
    t
}

/// An IP address as text (IPv6 as RFC 5952).
pub fn ip_text(ip: IpAddr) -> StackText<45> {
    let mut t = StackText::new();
    let _ = write!(t, "{ip}");
    t
}

/// Writes `value` as a string field, if present.
pub fn put_str(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        v.field(name, Value::Str(value));
    }
}

/// Writes `value` as an integer field, if present.
pub fn put_u64(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
    if let Some(value) = value {
        v.field(name, Value::U64(value.into()));
    }
}

/// Writes a MAC address field, if present.
pub fn put_mac(v: &mut dyn Visitor, name: &str, mac: Option<&Mac>) {
    if let Some(mac) = mac {
        v.field(name, Value::Str(mac_text(mac).as_str()));
    }
}

/// Writes an IP address field, if present.
pub fn put_ip(v: &mut dyn Visitor, name: &str, ip: Option<IpAddr>) {
    if let Some(ip) = ip {
        v.field(name, Value::Str(ip_text(ip).as_str()));
    }
}

/// Writes a list of IP addresses, if not empty.
pub fn put_ips(v: &mut dyn Visitor, name: &str, ips: &[IpAddr]) {
    if ips.is_empty() {
        return;
    }
    v.begin(name, crate::event::Nest::List);
    for ip in ips {
        v.field("", Value::Str(ip_text(*ip).as_str()));
    }
    v.end();
}

/// Writes a list of strings, if not empty.
pub fn put_strs(v: &mut dyn Visitor, name: &str, items: &[impl AsRef<str>]) {
    if items.is_empty() {
        return;
    }
    v.begin(name, crate::event::Nest::List);
    for item in items {
        v.field("", Value::Str(item.as_ref()));
    }
    v.end();
}

/// Longest product or firmware string kept from a description.
const MAX_IDENTITY_TEXT: usize = 128;

/// What a free-text system description (LLDP system description, SNMP
/// sysDescr, CDP software version) says: the product is its first line, the
/// firmware the version it names. Versions are looked for after a firmware
/// label first (`FW: V2.8.3`, `Firmware Version 1.2`), then after the word
/// `Version` (`Cisco IOS Software, … Version 12.2(25)SEG4, RELEASE…`), then
/// as a `V` followed by a digit (`SCALANCE X208 V4.2.1`).
pub fn describe_system(description: &str) -> (Option<String>, Option<String>) {
    let first_line = description
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| text(l.as_bytes(), MAX_IDENTITY_TEXT));
    (
        first_line.filter(|l| !l.is_empty()),
        firmware_in(description),
    )
}

/// The firmware version a description names, by the rules of [`describe_system`].
pub fn firmware_in(description: &str) -> Option<String> {
    let words: Vec<&str> = description
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let is_version = |w: &str| {
        let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
        w.starts_with(|c: char| c.is_ascii_digit()) && w.contains(|c: char| c.is_ascii_digit())
    };
    // The version token after position `at`, skipping one "version" word.
    let after = |at: usize| -> Option<&str> {
        let mut i = at + 1;
        if lower
            .get(i)
            .is_some_and(|w| w.trim_end_matches(':') == "version")
        {
            i += 1;
        }
        words.get(i).copied().filter(|w| is_version(w))
    };
    let label = lower.iter().position(|w| {
        matches!(
            w.trim_end_matches(':'),
            "fw" | "firmware" | "sw" | "software"
        )
    });
    let found = label
        .and_then(after)
        .or_else(|| {
            lower
                .iter()
                .position(|w| w.trim_end_matches(':') == "version")
                .and_then(|at| words.get(at + 1).copied().filter(|w| is_version(w)))
        })
        .or_else(|| {
            words
                .iter()
                .copied()
                .find(|w| w.starts_with(['V', 'v']) && is_version(w) && w.len() > 1)
        })?;
    let found = found.trim_end_matches(['.', ')', ':']);
    let found = if found.contains('(') && !found.contains(')') {
        // `12.2(25)SEG4` keeps its parentheses; a lone `(` was punctuation.
        found.split('(').next().unwrap_or(found)
    } else {
        found
    };
    (!found.is_empty()).then(|| text(found.as_bytes(), MAX_IDENTITY_TEXT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_bounded() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None, "one byte left");
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.take(usize::MAX), None);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn text_is_bounded_and_trimmed() {
        assert_eq!(text(b"Ns5gt\0\0", 64), "Ns5gt");
        assert_eq!(text("héllo".as_bytes(), 2), "h");
        assert_eq!(text(b"\xffab", 8), "\u{fffd}ab");
    }

    #[test]
    fn addresses_are_written_without_allocating() {
        assert_eq!(
            mac_text(&[0, 0x1e, 0xf6, 0x73, 0x59, 0x81]).as_str(),
            "00:1e:f6:73:59:81"
        );
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(ip_text(v6).as_str(), "fe80::1");
    }

    #[test]
    fn system_descriptions_give_product_and_firmware() {
        let cisco = "Cisco IOS Software, CE500 Software (CE500-LANBASE-M), Version 12.2(25)SEG4, RELEASE SOFTWARE (fc1)\nCopyright (c) 1986-2007 by Cisco Systems, Inc.";
        let (product, firmware) = describe_system(cisco);
        assert_eq!(firmware.as_deref(), Some("12.2(25)SEG4"));
        assert!(product.unwrap().starts_with("Cisco IOS Software, CE500"));
        let siemens =
            "Siemens, SIMATIC S7, CPU-1500, 6ES7 511-1AK02-0AB0, HW: Version 2, FW: Version V2.8.3";
        assert_eq!(firmware_in(siemens).as_deref(), Some("V2.8.3"));
        assert_eq!(
            firmware_in("SCALANCE X208 V4.2.1").as_deref(),
            Some("V4.2.1")
        );
        assert_eq!(
            firmware_in("Siemens AG SIMATIC S7 MULTIPORT SCALANCE X 200 FAM"),
            None
        );
        assert_eq!(
            firmware_in("Linux 5.10.0 version: 3.1 (build 7)").as_deref(),
            Some("3.1")
        );
    }
}

/// Helpers for the unit tests of the IT decoders: running a parser on bytes
/// as the pipeline would, and reading an event's fields as JSON.
#[cfg(test)]
pub mod testing {
    use std::net::IpAddr;

    use crate::event::{Event, Fields, Header, Mac, Pdu, Transport};
    use crate::output::json::JsonWriter;
    use crate::protocols::{DatagramParser, Direction, Emitter, FrameParser, StreamParser};
    use crate::time::Timestamp;

    /// The header of a packet from `src` to `dst` (IP and MAC as given).
    pub fn header(
        src: (Option<&str>, Option<Mac>),
        dst: (Option<&str>, Option<Mac>),
        transport: Transport,
    ) -> Header {
        let ip = |s: Option<&str>| s.map(|s| s.parse::<IpAddr>().expect("an IP address"));
        Header {
            ts: Timestamp::from_secs(1_700_000_000),
            capture: 0,
            packet: 1,
            seq: 1,
            flow: 1,
            src_mac: src.1,
            dst_mac: dst.1,
            src_ip: ip(src.0),
            dst_ip: ip(dst.0),
            src_port: (transport != Transport::Ethernet).then_some(40000),
            dst_port: (transport != Transport::Ethernet).then_some(53),
            transport,
        }
    }

    /// A layer-2 header from `src` MAC to broadcast.
    pub fn l2(src: Mac) -> Header {
        header(
            (None, Some(src)),
            (None, Some([0xff; 6])),
            Transport::Ethernet,
        )
    }

    /// A UDP header from `src` to `dst` IP, with `src_mac` as the source MAC.
    pub fn udp(src: &str, dst: &str, src_mac: Mac) -> Header {
        header(
            (Some(src), Some(src_mac)),
            (Some(dst), Some([0xff; 6])),
            Transport::Udp,
        )
    }

    fn run(header: Header, dir: Direction, f: impl FnOnce(&mut Emitter<'_>)) -> Vec<Pdu> {
        let mut events: Vec<Event> = Vec::new();
        let mut out = Emitter::new(header, dir, &mut events);
        f(&mut out);
        events.into_iter().map(|e| e.pdu).collect()
    }

    /// The events of one layer-2 frame's payload.
    pub fn frame(parser: &mut impl FrameParser, header: Header, payload: &[u8]) -> Vec<Pdu> {
        run(header, Direction::ToServer, |out| {
            parser.parse(payload, out)
        })
    }

    /// The events of one datagram.
    pub fn datagram(
        parser: &mut impl DatagramParser,
        header: Header,
        dir: Direction,
        datagram: &[u8],
    ) -> Vec<Pdu> {
        run(header, dir, |out| parser.parse(datagram, out))
    }

    /// The events of stream bytes, and how many were consumed.
    pub fn stream(
        parser: &mut impl StreamParser,
        header: Header,
        dir: Direction,
        data: &[u8],
    ) -> (Vec<Pdu>, usize) {
        let mut consumed = 0;
        let pdus = run(header, dir, |out| consumed = parser.parse(data, out));
        (pdus, consumed)
    }

    /// The one event of a call that must give exactly one.
    pub fn one(pdus: Vec<Pdu>) -> Pdu {
        assert_eq!(pdus.len(), 1, "not exactly one event: {pdus:#?}");
        pdus.into_iter().next().expect("an event")
    }

    /// An event's protocol-specific fields as JSON, secrets shown.
    pub fn json(fields: &Fields) -> serde_json::Value {
        let mut out = Vec::new();
        let mut w = JsonWriter::object(&mut out).show_secrets(true);
        fields.visit(&mut w);
        w.finish();
        serde_json::from_slice(&out).expect("valid JSON")
    }

    /// An event's anomaly names.
    pub fn anomalies(pdu: &Pdu) -> Vec<&'static str> {
        pdu.anomalies.iter().collect()
    }

    /// Bytes from hex text (whitespace ignored).
    pub fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
            .collect()
    }

    /// xorshift64*: a deterministic stream of pseudo-random numbers.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n.max(1)
        }

        pub fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next_u64() as u8).collect()
        }

        /// `base` with a few bytes changed, cut or extended at random.
        pub fn mutate(&mut self, base: &[u8]) -> Vec<u8> {
            let mut v = base.to_vec();
            for _ in 0..1 + self.below(4) {
                if v.is_empty() {
                    break;
                }
                let at = self.below(v.len() as u64) as usize;
                v[at] = self.next_u64() as u8;
            }
            match self.below(4) {
                0 => v.truncate(self.below(v.len() as u64 + 1) as usize),
                1 => {
                    let extra = self.below(16) as usize;
                    v.extend(self.bytes(extra));
                }
                _ => {}
            }
            v
        }
    }
}
