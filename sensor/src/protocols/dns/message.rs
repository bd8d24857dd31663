//! The DNS message format (RFC 1035 §4), as DNS, LLMNR, mDNS and NetBIOS
//! name service share it: the 12-byte header, names with compression, and
//! the fixed parts of questions and resource records. Total: every read is
//! bounds-checked, name decoding follows at most [`MAX_POINTERS`] compression
//! pointers and keeps at most [`MAX_NAME_TEXT`] bytes of text, so a message
//! costs time linear in its size whatever its pointers and counts say.

use crate::protocols::itwire::{Reader, be16};

pub const HEADER_LEN: usize = 12;
/// Longest name text kept (RFC 1035 limits names to 255 bytes on the wire,
/// which is at most 253 bytes of text).
pub const MAX_NAME_TEXT: usize = 255;
/// Compression pointers followed per name, which also stops pointer loops.
pub const MAX_POINTERS: usize = 64;

/// The message header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub questions: u16,
    pub answers: u16,
    pub authorities: u16,
    pub additionals: u16,
}

impl Header {
    pub fn parse(msg: &[u8]) -> Option<Header> {
        Some(Header {
            id: be16(msg, 0)?,
            flags: be16(msg, 2)?,
            questions: be16(msg, 4)?,
            answers: be16(msg, 6)?,
            authorities: be16(msg, 8)?,
            additionals: be16(msg, 10)?,
        })
    }

    /// The QR bit: a response.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }

    /// Authoritative answer (DNS), conflict (LLMNR).
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }

    /// Truncated: the answer did not fit.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }

    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }

    /// Resource records in the three record sections.
    pub fn records(&self) -> usize {
        usize::from(self.answers) + usize::from(self.authorities) + usize::from(self.additionals)
    }
}

/// Why a name could not be read whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The message ends inside the name.
    Truncated,
    /// A compression pointer beyond the message.
    BadPointer,
    /// More than [`MAX_POINTERS`] pointers: a loop, or an abuse.
    PointerLoop,
    /// A label type other than a length or a pointer (0x40, 0x80).
    BadLabelType,
    /// The text grew past [`MAX_NAME_TEXT`] bytes (what fits is kept).
    TooLong,
}

/// A name read from a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// Labels joined with dots, without the final dot; the root is `.`.
    /// Bytes other than printable ASCII and UTF-8 are escaped as `\DDD`,
    /// dots and backslashes inside a label as `\.` and `\\`.
    pub text: String,
    /// Where what follows the name starts (after its first pointer or its
    /// final zero), when that could be read.
    pub end: Option<usize>,
    pub error: Option<NameError>,
}

/// Reads the name at `at` in `msg`. With `keep_text` false only the end is
/// found (for records that are walked, not kept).
pub fn read_name(msg: &[u8], at: usize, keep_text: bool) -> Name {
    let mut name = Name::default();
    let mut pos = at;
    let mut collecting = keep_text;
    let mut pointers = 0usize;
    loop {
        let Some(&len) = msg.get(pos) else {
            name.error.get_or_insert(NameError::Truncated);
            break;
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                name.end.get_or_insert(pos + 1);
                break;
            }
            0x00 => {
                let Some(label) = msg.get(pos + 1..pos + 1 + usize::from(len)) else {
                    name.error.get_or_insert(NameError::Truncated);
                    break;
                };
                if collecting {
                    if !name.text.is_empty() {
                        name.text.push('.');
                    }
                    push_label(&mut name.text, label);
                    if name.text.len() > MAX_NAME_TEXT {
                        cut(&mut name.text, MAX_NAME_TEXT);
                        name.error = Some(NameError::TooLong);
                        collecting = false;
                    }
                }
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let Some(&low) = msg.get(pos + 1) else {
                    name.error.get_or_insert(NameError::Truncated);
                    break;
                };
                name.end.get_or_insert(pos + 2);
                if !collecting {
                    // The end is known and no more text is wanted.
                    break;
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    name.error = Some(NameError::PointerLoop);
                    break;
                }
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= msg.len() {
                    name.error = Some(NameError::BadPointer);
                    break;
                }
                pos = target;
            }
            _ => {
                name.error.get_or_insert(NameError::BadLabelType);
                break;
            }
        }
    }
    if keep_text && name.text.is_empty() && name.error.is_none() {
        name.text.push('.');
    }
    name
}

/// Appends a label's bytes: valid UTF-8 without control characters as is,
/// anything else escaped.
fn push_label(text: &mut String, label: &[u8]) {
    let plain = std::str::from_utf8(label)
        .ok()
        .filter(|s| !s.chars().any(|c| c.is_control() || c == '.' || c == '\\'));
    if let Some(s) = plain {
        text.push_str(s);
        return;
    }
    for &b in label {
        match b {
            b'.' => text.push_str("\\."),
            b'\\' => text.push_str("\\\\"),
            0x20..=0x7e => text.push(char::from(b)),
            _ => {
                use std::fmt::Write as _;
                let _ = write!(text, "\\{b:03}");
            }
        }
        if text.len() > MAX_NAME_TEXT + 4 {
            break;
        }
    }
}

fn cut(text: &mut String, max: usize) {
    let mut at = max.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.truncate(at);
}

/// A question: a name, a type and a class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawQuestion {
    pub name: Name,
    pub qtype: u16,
    pub qclass: u16,
}

/// Reads the question at `at`; returns it and where the next starts. A name
/// whose end is known is read past even if its text is bad (its `error`
/// says why); when the end is unknown or the fixed part is cut, the name is
/// returned as the error.
pub fn read_question(msg: &[u8], at: usize, keep_text: bool) -> Result<(RawQuestion, usize), Name> {
    let name = read_name(msg, at, keep_text);
    let Some(end) = name.end else {
        return Err(name);
    };
    let mut r = Reader::new(msg.get(end..).unwrap_or_default());
    match (r.u16(), r.u16()) {
        (Some(qtype), Some(qclass)) => Ok((
            RawQuestion {
                name,
                qtype,
                qclass,
            },
            end + 4,
        )),
        _ => Err(Name {
            error: Some(NameError::Truncated),
            ..name
        }),
    }
}

/// A resource record's fixed part, and where its data lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    pub name: Name,
    pub rtype: u16,
    pub rclass: u16,
    pub ttl: u32,
    /// Offset of the data within the message (names in it may point back).
    pub data_at: usize,
    pub data_len: usize,
}

impl RawRecord {
    pub fn data<'m>(&self, msg: &'m [u8]) -> &'m [u8] {
        msg.get(self.data_at..self.data_at + self.data_len)
            .unwrap_or_default()
    }
}

/// Reads the resource record at `at`; returns it and where the next starts
/// (errors as [`read_question`]).
pub fn read_record(msg: &[u8], at: usize, keep_text: bool) -> Result<(RawRecord, usize), Name> {
    let name = read_name(msg, at, keep_text);
    let Some(end) = name.end else {
        return Err(name);
    };
    let mut r = Reader::new(msg.get(end..).unwrap_or_default());
    let fixed = (r.u16(), r.u16(), r.u32(), r.u16());
    let (Some(rtype), Some(rclass), Some(ttl), Some(len)) = fixed else {
        return Err(Name {
            error: Some(NameError::Truncated),
            ..name
        });
    };
    let data_at = end + 10;
    if r.take(usize::from(len)).is_none() {
        return Err(Name {
            error: Some(NameError::Truncated),
            ..name
        });
    }
    Ok((
        RawRecord {
            name,
            rtype,
            rclass,
            ttl,
            data_at,
            data_len: usize::from(len),
        },
        data_at + usize::from(len),
    ))
}
