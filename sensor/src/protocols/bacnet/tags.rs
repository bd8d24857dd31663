//! The BACnet tagged encoding (ASHRAE 135 clause 20.2): a total reader over
//! a byte slice, and the primitive value decoders.
//!
//! Every tag starts with an initial octet: the tag number (high nibble; 15
//! means an extended tag number in the next octet), the class (bit 3: 1 for
//! context-specific) and a length/value/type field (bits 2..0). LVT 0..=4 is
//! the content length; 5 means an extended length in the next octet (254: a
//! 16-bit length follows, 255: a 32-bit one); for context tags, 6 opens and 7
//! closes a constructed value. An application Boolean carries its value in
//! the LVT and has no content octets.

/// Application tag numbers (clause 20.2.1.4).
pub mod app {
    pub const NULL: u8 = 0;
    pub const BOOLEAN: u8 = 1;
    pub const UNSIGNED: u8 = 2;
    pub const SIGNED: u8 = 3;
    pub const REAL: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const OCTET_STRING: u8 = 6;
    pub const CHARACTER_STRING: u8 = 7;
    pub const BIT_STRING: u8 = 8;
    pub const ENUMERATED: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const OBJECT_IDENTIFIER: u8 = 12;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Application,
    Context,
}

/// What a tag introduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A primitive value whose content octets follow.
    Primitive,
    /// Opens a constructed value (context tags only).
    Opening,
    /// Closes it.
    Closing,
}

/// One tagged element: its tag and its content octets (empty for openings,
/// closings and application Booleans).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<'a> {
    pub number: u8,
    pub class: Class,
    pub shape: Shape,
    /// The LVT field: for an application Boolean, its value.
    pub lvt: u8,
    pub data: &'a [u8],
}

impl Element<'_> {
    /// The value of an application Boolean (LVT) or a context one (content).
    pub fn boolean(&self) -> Option<bool> {
        match self.class {
            Class::Application => Some(self.lvt != 0),
            Class::Context => self.data.first().map(|&b| b != 0),
        }
    }
}

/// Why the bytes at the reader's position are not a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagError {
    /// The tag header or its content runs past the data.
    Truncated,
    /// An encoding the standard does not allow (an application tag marked
    /// opening/closing, a Boolean other than 0/1, extended tag number 255).
    Invalid,
}

/// Reads tagged elements one after the other from a slice.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next element, or `None` at the end of the data. After an error
    /// the reader stays where it was (callers stop there).
    pub fn next_element(&mut self) -> Option<Result<Element<'a>, TagError>> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        Some(match parse(rest) {
            Ok((element, size)) => {
                self.pos += size;
                Ok(element)
            }
            Err(e) => Err(e),
        })
    }
}

/// Parses the element at the start of `b` (non-empty); returns it and its size.
fn parse(b: &[u8]) -> Result<(Element<'_>, usize), TagError> {
    let first = *b.first().ok_or(TagError::Truncated)?;
    let mut at = 1;
    let mut number = first >> 4;
    let class = if first & 0x08 != 0 {
        Class::Context
    } else {
        Class::Application
    };
    let lvt = first & 0x07;
    if number == 0x0f {
        number = *b.get(at).ok_or(TagError::Truncated)?;
        at += 1;
        if number == 0xff {
            return Err(TagError::Invalid);
        }
    }
    let (shape, len) = match (class, lvt) {
        (Class::Context, 6) => (Shape::Opening, 0),
        (Class::Context, 7) => (Shape::Closing, 0),
        (Class::Application, 6 | 7) => return Err(TagError::Invalid),
        (Class::Application, _) if number == app::BOOLEAN => {
            if lvt > 1 {
                return Err(TagError::Invalid);
            }
            (Shape::Primitive, 0)
        }
        (_, 5) => {
            let ext = *b.get(at).ok_or(TagError::Truncated)?;
            at += 1;
            let len = match ext {
                254 => {
                    let v = be_uint(b.get(at..at + 2).ok_or(TagError::Truncated)?);
                    at += 2;
                    v
                }
                255 => {
                    let v = be_uint(b.get(at..at + 4).ok_or(TagError::Truncated)?);
                    at += 4;
                    v
                }
                n => u64::from(n),
            };
            (Shape::Primitive, usize::try_from(len).unwrap_or(usize::MAX))
        }
        (_, n) => (Shape::Primitive, usize::from(n)),
    };
    let end = at.checked_add(len).ok_or(TagError::Truncated)?;
    let data = b.get(at..end).ok_or(TagError::Truncated)?;
    Ok((
        Element {
            number,
            class,
            shape,
            lvt,
            data,
        },
        end,
    ))
}

/// A big-endian unsigned integer of up to 8 octets (longer input: the low 8).
fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x))
}

/// An Unsigned value: 1 to 8 content octets.
pub fn unsigned(data: &[u8]) -> Option<u64> {
    (1..=8).contains(&data.len()).then(|| be_uint(data))
}

/// An Unsigned value that fits in 32 bits (object instances, enumerations…).
pub fn unsigned32(data: &[u8]) -> Option<u32> {
    unsigned(data).and_then(|v| u32::try_from(v).ok())
}

/// A Signed value: 1 to 8 content octets, two's complement.
pub fn signed(data: &[u8]) -> Option<i64> {
    if !(1..=8).contains(&data.len()) {
        return None;
    }
    let shift = 64 - 8 * data.len() as u32;
    Some(((be_uint(data) << shift) as i64) >> shift)
}

pub fn real(data: &[u8]) -> Option<f32> {
    let bytes: [u8; 4] = data.try_into().ok()?;
    Some(f32::from_be_bytes(bytes))
}

pub fn double(data: &[u8]) -> Option<f64> {
    let bytes: [u8; 8] = data.try_into().ok()?;
    Some(f64::from_be_bytes(bytes))
}

/// A BACnet object identifier: 10-bit type, 22-bit instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectId {
    pub object_type: u16,
    pub instance: u32,
}

impl ObjectId {
    pub const DEVICE: u16 = 8;
}

pub fn object_id(data: &[u8]) -> Option<ObjectId> {
    let bytes: [u8; 4] = data.try_into().ok()?;
    let v = u32::from_be_bytes(bytes);
    Some(ObjectId {
        object_type: (v >> 22) as u16,
        instance: v & 0x3f_ffff,
    })
}

/// Longest text kept from a character string (in characters).
pub const MAX_TEXT: usize = 256;

/// A CharacterString (charset octet, then the characters): ANSI X3.4/UTF-8
/// (0), UCS-2 big-endian (4), UCS-4 (3) and ISO 8859-1 (5) are decoded; the
/// double-byte sets (1 DBCS, 2 JIS X 0208) are read as lossy UTF-8. Control
/// characters are kept (JSON escapes them); at most [`MAX_TEXT`] characters.
/// `None` without the charset octet.
pub fn character_string(data: &[u8]) -> Option<String> {
    let (&charset, text) = data.split_first()?;
    let wide = |width: usize| {
        text.chunks(width)
            .take(MAX_TEXT)
            .map(|c| char::from_u32(be_uint(c) as u32).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    Some(match charset {
        4 => wide(2),
        3 if text.len() % 4 == 0 => wide(4),
        5 => text.iter().take(MAX_TEXT).map(|&b| char::from(b)).collect(),
        _ => {
            let cut = text.get(..MAX_TEXT * 4).unwrap_or(text);
            String::from_utf8_lossy(cut)
                .chars()
                .take(MAX_TEXT)
                .collect()
        }
    })
}

/// A Date and a Time (four octets each) as `YYYY-MM-DDThh:mm:ss.cc` when
/// every field is specified and in range; `None` otherwise (wildcards).
pub fn date_time(date: &[u8], time: &[u8]) -> Option<String> {
    let (&[year, month, day, _weekday], &[hour, minute, second, hundredths]) = (
        <&[u8; 4]>::try_from(date).ok()?,
        <&[u8; 4]>::try_from(time).ok()?,
    );
    let valid = year != 0xff
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && hundredths < 100;
    valid.then(|| {
        format!(
            "{:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{hundredths:02}",
            1900 + u32::from(year)
        )
    })
}
