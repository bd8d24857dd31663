//! SSH (port 22, and wherever an `SSH-` identification line is seen): the
//! cleartext start of the protocol only.
//!
//! **Events**: one per identification line (`SSH-2.0-OpenSSH_8.9p1
//! Ubuntu-3`, from each side; it names the sender's software, which becomes
//! its `identity`), and one per KEXINIT message (the first algorithm of each
//! list). After its KEXINIT a direction is not decoded any more: key
//! exchange follows, then everything is encrypted.
//!
//! Lines a server sends before its identification line (RFC 4253 allows
//! them) are skipped, at most [`MAX_PRE_LINES`]. Bytes that break the
//! structure give one `invalid` event, and the direction is not decoded any
//! more.

#[cfg(test)]
mod tests;

use super::text::{self, be32, bounded};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Visitor};

pub const PORT: u16 = 22;

/// Longest identification line (RFC 4253: 255 bytes with CR LF).
pub const MAX_BANNER: usize = 255;
/// Lines a server may send before its identification line.
pub const MAX_PRE_LINES: u32 = 16;
/// Longest binary packet read (RFC 4253: implementations handle 35000).
pub const MAX_PACKET: usize = 35_000;
/// Packets before KEXINIT that are skipped (SSH_MSG_IGNORE and the like).
const MAX_PACKETS_BEFORE_KEXINIT: u8 = 4;
/// Message number of KEXINIT (Wireshark `ssh.message_code`).
pub const MSG_KEXINIT: u8 = 20;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// A client's first line, or a server's line after the allowed
    /// pre-identification lines, that is not `SSH-`.
    pub const MISSING_BANNER: &str = "missing_banner";
    /// An identification line over 255 bytes.
    pub const BANNER_TOO_LONG: &str = "banner_too_long";
    /// An identification line without protocol or software version.
    pub const INVALID_BANNER: &str = "invalid_banner";
    /// Protocol version 1 (`SSH-1.x`, other than the compatible `1.99`).
    pub const SSH1: &str = "ssh1";
    /// A binary packet length out of range, or padding longer than the packet.
    pub const INVALID_PACKET: &str = "invalid_packet";
    /// A KEXINIT whose name-lists run past the packet.
    pub const TRUNCATED: &str = "truncated";
    /// A KEXINIT that offers `none` encryption or MAC.
    pub const NONE_ALGORITHM: &str = "none_algorithm";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        MISSING_BANNER,
        BANNER_TOO_LONG,
        INVALID_BANNER,
        SSH1,
        INVALID_PACKET,
        TRUNCATED,
        NONE_ALGORITHM,
    ];
}
use anomaly::*;

/// Every `function` name SSH events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    vec!["banner", "invalid", "kexinit"]
}

/// SSH fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SshFields {
    /// The identification line (Wireshark `ssh.protocol`).
    pub banner: Option<String>,
    /// `2.0`, `1.99`.
    pub proto_version: Option<String>,
    /// Software version (`OpenSSH_8.9p1`).
    pub software: Option<String>,
    /// Comments after the software version (`Ubuntu-3`).
    pub comments: Option<String>,
    /// KEXINIT: the first key exchange algorithm (Wireshark `ssh.kex_algorithms`).
    pub kex: Option<String>,
    /// KEXINIT: the first server host key algorithm.
    pub host_key: Option<String>,
    /// KEXINIT: the first client-to-server encryption algorithm.
    pub encryption: Option<String>,
    /// KEXINIT: the first client-to-server MAC algorithm.
    pub mac: Option<String>,
    /// KEXINIT: the first client-to-server compression algorithm.
    pub compression: Option<String>,
    /// KEXINIT: how many key exchange algorithms are offered.
    pub kex_count: Option<u32>,
    /// On `invalid` events: bytes skipped.
    pub skipped_bytes: Option<u32>,
}

impl SshFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{s, u};
        s(v, "banner", self.banner.as_deref());
        s(v, "proto_version", self.proto_version.as_deref());
        s(v, "software", self.software.as_deref());
        s(v, "comments", self.comments.as_deref());
        s(v, "kex", self.kex.as_deref());
        s(v, "host_key", self.host_key.as_deref());
        s(v, "encryption", self.encryption.as_deref());
        s(v, "mac", self.mac.as_deref());
        s(v, "compression", self.compression.as_deref());
        u(v, "kex_count", self.kex_count);
        u(v, "skipped_bytes", self.skipped_bytes);
    }
}

/// Product and version from an SSH software version: `OpenSSH_8.9p1` →
/// (`OpenSSH`, `8.9p1`), `Cisco-1.25` → (`Cisco`, `1.25`), `ROSSSH` →
/// (`ROSSSH`, none).
pub fn software_identity(software: &str) -> Option<Box<Identity>> {
    if software.is_empty() {
        return None;
    }
    let split = software
        .split_once('_')
        .filter(|(p, v)| !p.is_empty() && !v.is_empty())
        .or_else(|| {
            software
                .rsplit_once('-')
                .filter(|(p, v)| !p.is_empty() && v.starts_with(|c: char| c.is_ascii_digit()))
        });
    let (product, firmware) = match split {
        Some((p, v)) => (p.to_string(), Some(v.to_string())),
        None => (software.to_string(), None),
    };
    Some(Box::new(Identity {
        product: Some(product),
        firmware,
        ..Identity::default()
    }))
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Waiting for the identification line.
    #[default]
    Banner,
    /// Binary packets, up to KEXINIT.
    Packets,
    /// Nothing more is decoded.
    Done,
}

#[derive(Debug, Default)]
struct Side {
    phase: Phase,
    pre_lines: u32,
    packets: u8,
}

/// Per-connection SSH state.
#[derive(Debug, Default)]
pub struct SshParser {
    sides: [Side; 2],
}

impl SshParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(
        &mut self,
        f: SshFields,
        a: Anomalies,
        function: &'static str,
        identity: Option<Box<Identity>>,
        out: &mut Emitter<'_>,
    ) {
        out.emit(Pdu {
            protocol: Protocol::Ssh,
            is_response: out.direction() == Direction::ToClient,
            function_code: (function == "kexinit").then_some(MSG_KEXINIT.into()),
            function,
            class: FunctionClass::Session,
            anomalies: a,
            fields: Fields::Ssh(Box::new(f)),
            identity,
        });
    }

    /// Reports bytes that break the structure; the direction stops.
    fn invalid(&mut self, skipped: usize, reason: &'static str, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(reason);
        let f = SshFields {
            skipped_bytes: Some(u32::try_from(skipped).unwrap_or(u32::MAX)),
            ..SshFields::default()
        };
        self.emit(f, a, "invalid", None, out);
        self.sides[out.direction().index()].phase = Phase::Done;
    }

    fn banner(&mut self, line: &[u8], out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        let text = bounded(line, MAX_BANNER);
        let rest = text.strip_prefix("SSH-").unwrap_or_default();
        let (version, software_and_comments) = rest.split_once('-').unwrap_or((rest, ""));
        let (software, comments) = software_and_comments
            .split_once(' ')
            .map_or((software_and_comments, None), |(s, c)| (s, Some(c)));
        if version.is_empty() || software.is_empty() {
            a.add(INVALID_BANNER);
        }
        if version.starts_with("1.") && version != "1.99" {
            a.add(SSH1);
        }
        let f = SshFields {
            banner: Some(text.clone()),
            proto_version: (!version.is_empty()).then(|| version.to_string()),
            software: (!software.is_empty()).then(|| software.to_string()),
            comments: comments.map(str::to_string),
            ..SshFields::default()
        };
        let identity = software_identity(software);
        self.emit(f, a, "banner", identity, out);
    }

    /// One binary packet (length, padding length, payload, padding).
    fn packet(&mut self, packet: &[u8], out: &mut Emitter<'_>) {
        let d = out.direction().index();
        let len = packet.len().saturating_sub(4);
        let padding = usize::from(packet.get(4).copied().unwrap_or_default());
        let Some(payload) = packet.get(5..(4 + len).saturating_sub(padding)) else {
            self.invalid(packet.len(), INVALID_PACKET, out);
            return;
        };
        if payload.first() != Some(&MSG_KEXINIT) {
            self.sides[d].packets += 1;
            if self.sides[d].packets >= MAX_PACKETS_BEFORE_KEXINIT {
                self.sides[d].phase = Phase::Done;
            }
            return;
        }
        let mut f = SshFields::default();
        let mut a = Anomalies::new();
        // type, cookie, then the name-lists
        let mut at = 17usize;
        let mut lists: [Option<&[u8]>; 10] = [None; 10];
        for list in lists.iter_mut() {
            let Some(n) = be32(payload, at) else { break };
            let start = at + 4;
            let Some(names) = start
                .checked_add(n as usize)
                .and_then(|end| payload.get(start..end))
            else {
                break;
            };
            *list = Some(names);
            at = start + n as usize;
        }
        if lists.iter().any(Option::is_none) {
            a.add(TRUNCATED);
        }
        let first = |l: Option<&[u8]>| {
            l.and_then(|l| l.split(|&b| b == b',').next())
                .filter(|n| !n.is_empty())
                .map(|n| bounded(n, 64))
        };
        f.kex = first(lists[0]);
        f.kex_count = lists[0].map(|l| l.split(|&b| b == b',').count() as u32);
        f.host_key = first(lists[1]);
        f.encryption = first(lists[2]);
        f.mac = first(lists[4]);
        f.compression = first(lists[6]);
        let offers_none =
            |l: Option<&[u8]>| l.is_some_and(|l| l.split(|&b| b == b',').any(|n| n == b"none"));
        if offers_none(lists[2])
            || offers_none(lists[3])
            || offers_none(lists[4])
            || offers_none(lists[5])
        {
            a.add(NONE_ALGORITHM);
        }
        self.emit(f, a, "kexinit", None, out);
        self.sides[d].phase = Phase::Done;
    }

    /// Decodes from `data` what the phase expects; `None` when more bytes are needed.
    fn step(&mut self, data: &[u8], out: &mut Emitter<'_>) -> Option<usize> {
        let d = out.direction().index();
        match self.sides[d].phase {
            Phase::Done => Some(data.len()),
            Phase::Banner => {
                let Some((line, used)) = text::line(data) else {
                    if data.len() > MAX_BANNER {
                        self.invalid(data.len(), BANNER_TOO_LONG, out);
                        return Some(data.len());
                    }
                    return None;
                };
                if line.starts_with(b"SSH-") {
                    if used > MAX_BANNER {
                        self.invalid(used, BANNER_TOO_LONG, out);
                        return Some(used);
                    }
                    self.banner(line, out);
                    self.sides[d].phase = Phase::Packets;
                    return Some(used);
                }
                let server = out.direction() == Direction::ToClient;
                self.sides[d].pre_lines += 1;
                if !server || self.sides[d].pre_lines > MAX_PRE_LINES {
                    self.invalid(data.len(), MISSING_BANNER, out);
                    return Some(data.len());
                }
                Some(used)
            }
            Phase::Packets => {
                let len = be32(data, 0)? as usize;
                if !(5..=MAX_PACKET).contains(&len) {
                    self.invalid(data.len(), INVALID_PACKET, out);
                    return Some(data.len());
                }
                let packet = data.get(..4 + len)?;
                self.packet(packet, out);
                Some(4 + len)
            }
        }
    }
}

impl StreamParser for SshParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            match self.step(rest, out) {
                Some(used) => consumed += used,
                None => break,
            }
        }
        consumed
    }

    /// Bytes lost: the packet boundaries are lost with them; stop decoding
    /// this direction (what follows the banner exchange is soon encrypted).
    fn gap(&mut self, dir: Direction) {
        self.sides[dir.index()].phase = Phase::Done;
    }
}

/// Recognises SSH by its identification line, `SSH-` then a version and a
/// dash, from either side, on any port. On port 22 a server may send other
/// text lines first: they give `NeedMore` until the identification line
/// comes. HTTP, TLS, Modbus, TPKT and DNP3 fail the prefix test at once.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    const PREFIX: &[u8] = b"SSH-";
    let n = data.len().min(PREFIX.len());
    if data.get(..n) == PREFIX.get(..n) {
        return identification(data);
    }
    if !on_known_port || direction != Direction::ToClient || !text::is_text(data) {
        return Probe::NoMatch;
    }
    if text::starts_like_http_or_ssh(data) {
        return Probe::NoMatch;
    }
    // Pre-identification lines of a server.
    let mut rest = data;
    while let Some((_, used)) = text::line(rest) {
        rest = rest.get(used..).unwrap_or_default();
        let n = rest.len().min(PREFIX.len());
        if !rest.is_empty() && rest.get(..n) == PREFIX.get(..n) {
            return identification(rest);
        }
    }
    Probe::NeedMore
}

/// `SSH-` followed by a version made of digits and dots, then `-`.
fn identification(data: &[u8]) -> Probe {
    let after = data.get(4..).unwrap_or_default();
    let version = after
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    match after.get(version) {
        None => Probe::NeedMore,
        Some(b'-') if version > 0 => Probe::Match,
        Some(_) => Probe::NoMatch,
    }
}
