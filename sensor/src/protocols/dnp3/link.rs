//! Data link layer (IEEE 1815 FT3 frames): start bytes `05 64`, length,
//! control, destination and source addresses, header CRC, then the user data
//! in blocks of up to 16 bytes, each followed by its own CRC.
//!
//! [`framing`] says where a frame ends without copying anything;
//! [`user_data`] strips the block CRCs into a caller's buffer, counting the
//! blocks whose CRC is wrong.

/// The two start bytes of every frame.
pub const START: [u8; 2] = [0x05, 0x64];
/// Start bytes, length, control, destination, source, header CRC.
pub const HEADER_LEN: usize = 10;
/// The length byte counts control, addresses and user data (not CRCs):
/// a frame without user data has length 5.
pub const MIN_LENGTH: u8 = 5;
/// User data bytes per CRC block.
pub const BLOCK_LEN: usize = 16;
/// Most user data a frame carries (length 255).
pub const MAX_USER_DATA: usize = 255 - MIN_LENGTH as usize;
/// Largest frame on the wire: header, 250 data bytes, 16 block CRCs.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_USER_DATA + 2 * MAX_USER_DATA.div_ceil(BLOCK_LEN);

/// Field offsets of the header.
mod field {
    pub const LENGTH: usize = 2;
    pub const CONTROL: usize = 3;
    pub const DESTINATION: usize = 4;
    pub const SOURCE: usize = 6;
    pub const CRC: usize = 8;
}

/// Bits of the control byte.
pub mod control {
    /// Set in frames from the master.
    pub const DIR: u8 = 0x80;
    /// Set in frames from the primary (initiating) station.
    pub const PRM: u8 = 0x40;
    /// Frame count bit (primary frames).
    pub const FCB: u8 = 0x20;
    /// Frame count valid (primary frames); data flow control (secondary).
    pub const FCV_DFC: u8 = 0x10;
    pub const FUNCTION: u8 = 0x0F;
}

/// CRC-16/DNP (polynomial 0x3D65, reflected, complemented), as a table.
const CRC_TABLE: [u16; 256] = crc_table();

const fn crc_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The DNP3 CRC of `bytes` (sent little-endian after them).
pub fn crc(bytes: &[u8]) -> u16 {
    let crc = bytes.iter().fold(0u16, |crc, &b| {
        (crc >> 8) ^ CRC_TABLE[usize::from((crc ^ u16::from(b)) & 0xFF)]
    });
    !crc
}

/// Whether the two bytes after `data` in `frame` hold the CRC of `data`.
fn crc_ok(data: &[u8], stored: Option<&[u8]>) -> bool {
    matches!(stored, Some(&[lo, hi]) if u16::from_le_bytes([lo, hi]) == crc(data))
}

fn le16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

/// The fixed header of a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkHeader {
    /// Control, addresses and user data bytes (Wireshark `dnp3.len`).
    pub length: u8,
    /// Control byte (Wireshark `dnp3.ctl`).
    pub control: u8,
    /// Wireshark `dnp3.dst`.
    pub destination: u16,
    /// Wireshark `dnp3.src`.
    pub source: u16,
}

impl LinkHeader {
    /// Reads the header fields of `b` (at least [`HEADER_LEN`] bytes, else zeros).
    pub fn read(b: &[u8]) -> LinkHeader {
        LinkHeader {
            length: b.get(field::LENGTH).copied().unwrap_or_default(),
            control: b.get(field::CONTROL).copied().unwrap_or_default(),
            destination: le16(b, field::DESTINATION),
            source: le16(b, field::SOURCE),
        }
    }

    /// Sent by the master (DIR bit).
    pub fn from_master(&self) -> bool {
        self.control & control::DIR != 0
    }

    /// Sent by the primary station (PRM bit).
    pub fn primary(&self) -> bool {
        self.control & control::PRM != 0
    }

    pub fn function(&self) -> LinkFunction {
        LinkFunction {
            primary: self.primary(),
            code: self.control & control::FUNCTION,
        }
    }

    /// User data bytes the frame carries (length minus 5; 0 when shorter).
    pub fn user_data_len(&self) -> usize {
        usize::from(self.length.saturating_sub(MIN_LENGTH))
    }

    /// Bytes of the whole frame on the wire.
    pub fn frame_len(&self) -> usize {
        let data = self.user_data_len();
        HEADER_LEN + data + 2 * data.div_ceil(BLOCK_LEN)
    }
}

/// A data link function: the low nibble of the control byte, read as a
/// primary or a secondary function according to the PRM bit. Open: codes
/// nobody named still parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkFunction {
    pub primary: bool,
    pub code: u8,
}

impl LinkFunction {
    pub const RESET_LINK_STATES: u8 = 0;
    pub const RESET_USER_PROCESS: u8 = 1;
    pub const TEST_LINK_STATES: u8 = 2;
    pub const CONFIRMED_USER_DATA: u8 = 3;
    pub const UNCONFIRMED_USER_DATA: u8 = 4;
    pub const REQUEST_LINK_STATUS: u8 = 9;
    pub const ACK: u8 = 0;
    pub const NACK: u8 = 1;
    pub const LINK_STATUS: u8 = 11;
    pub const NOT_FUNCTIONING: u8 = 14;
    pub const NOT_SUPPORTED: u8 = 15;

    /// Stable snake_case name, `None` for codes the standard does not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match (self.primary, self.code) {
            (true, Self::RESET_LINK_STATES) => "reset_link_states",
            (true, Self::RESET_USER_PROCESS) => "reset_user_process",
            (true, Self::TEST_LINK_STATES) => "test_link_states",
            (true, Self::CONFIRMED_USER_DATA) => "confirmed_user_data",
            (true, Self::UNCONFIRMED_USER_DATA) => "unconfirmed_user_data",
            (true, Self::REQUEST_LINK_STATUS) => "request_link_status",
            (false, Self::ACK) => "ack",
            (false, Self::NACK) => "nack",
            (false, Self::LINK_STATUS) => "link_status",
            (false, Self::NOT_FUNCTIONING) => "not_functioning",
            (false, Self::NOT_SUPPORTED) => "not_supported",
            _ => return None,
        })
    }

    /// The `function` of an event for a frame that completes no application
    /// fragment: `link_` and the link function's name.
    pub fn event_name(self) -> &'static str {
        match (self.primary, self.code) {
            (true, Self::RESET_LINK_STATES) => "link_reset_link_states",
            (true, Self::RESET_USER_PROCESS) => "link_reset_user_process",
            (true, Self::TEST_LINK_STATES) => "link_test_link_states",
            (true, Self::CONFIRMED_USER_DATA) => "link_confirmed_user_data",
            (true, Self::UNCONFIRMED_USER_DATA) => "link_unconfirmed_user_data",
            (true, Self::REQUEST_LINK_STATUS) => "link_request_link_status",
            (false, Self::ACK) => "link_ack",
            (false, Self::NACK) => "link_nack",
            (false, Self::LINK_STATUS) => "link_status",
            (false, Self::NOT_FUNCTIONING) => "link_not_functioning",
            (false, Self::NOT_SUPPORTED) => "link_not_supported",
            _ => "link_unknown",
        }
    }

    /// Whether frames of this function carry transport segments.
    pub fn carries_user_data(self) -> bool {
        self.primary
            && matches!(
                self.code,
                Self::CONFIRMED_USER_DATA | Self::UNCONFIRMED_USER_DATA
            )
    }
}

/// How the bytes at the start of a buffer frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A whole frame of this many bytes, with its header.
    Frame(usize, LinkHeader),
    /// Possibly a frame: more bytes are needed to tell or to complete it.
    Incomplete,
    /// Not a frame; the anomaly says why. The header is given when its CRC
    /// held (the length was the problem).
    Invalid(&'static str, Option<LinkHeader>),
}

/// Frames the start of `b`: start bytes, then (with 10 bytes) the header
/// CRC, then the length.
pub fn framing(b: &[u8]) -> Framing {
    use super::anomaly::{HEADER_CRC_MISMATCH, INVALID_START_BYTES, LINK_LENGTH_TOO_SHORT};
    let start_ok = b.iter().zip(START).all(|(&x, y)| x == y);
    if !start_ok {
        return Framing::Invalid(INVALID_START_BYTES, None);
    }
    let Some(head) = b.get(..HEADER_LEN) else {
        return Framing::Incomplete;
    };
    if !crc_ok(&head[..field::CRC], head.get(field::CRC..)) {
        return Framing::Invalid(HEADER_CRC_MISMATCH, None);
    }
    let header = LinkHeader::read(head);
    if header.length < MIN_LENGTH {
        return Framing::Invalid(LINK_LENGTH_TOO_SHORT, Some(header));
    }
    let size = header.frame_len();
    if b.len() < size {
        Framing::Incomplete
    } else {
        Framing::Frame(size, header)
    }
}

/// Whether a frame could start at `b`: a header with its CRC, or the
/// beginning of one cut short by the end of `b`. Used to resynchronise.
pub fn plausible_start(b: &[u8]) -> bool {
    match framing(b) {
        Framing::Frame(..) | Framing::Incomplete => true,
        // A header whose CRC holds is a frame start, even with a bad length:
        // it is reported on its own.
        Framing::Invalid(_, header) => header.is_some(),
    }
}

/// Copies the user data of a whole `frame` (as [`framing`] found it) into
/// `out` without the block CRCs; returns its length and the number of blocks
/// whose CRC is wrong.
pub fn user_data(frame: &[u8], out: &mut [u8; MAX_USER_DATA]) -> (usize, u8) {
    let header = LinkHeader::read(frame);
    let mut left = header.user_data_len();
    let mut at = HEADER_LEN;
    let mut len = 0;
    let mut bad = 0u8;
    while left > 0 {
        let take = left.min(BLOCK_LEN);
        let Some(block) = frame.get(at..at + take) else {
            break;
        };
        if !crc_ok(block, frame.get(at + take..at + take + 2)) {
            bad = bad.saturating_add(1);
        }
        if let Some(dest) = out.get_mut(len..len + take) {
            dest.copy_from_slice(block);
        }
        len += take;
        at += take + 2;
        left -= take;
    }
    (len.min(MAX_USER_DATA), bad)
}

/// Builds a frame around `user_data` (at most 250 bytes), with correct CRCs.
/// For tests and tools; the decoder never builds frames.
pub fn build(control: u8, destination: u16, source: u16, user_data: &[u8]) -> Vec<u8> {
    let data = &user_data[..user_data.len().min(MAX_USER_DATA)];
    let mut frame = Vec::with_capacity(MAX_FRAME_LEN);
    frame.extend_from_slice(&START);
    frame.push(MIN_LENGTH + data.len() as u8);
    frame.push(control);
    frame.extend_from_slice(&destination.to_le_bytes());
    frame.extend_from_slice(&source.to_le_bytes());
    let header_crc = crc(&frame);
    frame.extend_from_slice(&header_crc.to_le_bytes());
    for block in data.chunks(BLOCK_LEN) {
        frame.extend_from_slice(block);
        frame.extend_from_slice(&crc(block).to_le_bytes());
    }
    frame
}
