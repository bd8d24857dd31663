//! `allData` of a GOOSE PDU: a sequence of MMS `Data` values (IEC 61850-8-1
//! Annex A), walked without recursion. It counts the entries (the members of
//! the data set) and keeps a bounded summary of the values: the first
//! [`MAX_VALUES`] leaves in document order, each with its type and the entry
//! it belongs to. Structures and arrays are entered, not listed.

use super::ber::{self, Class};
use super::utc::UtcTime;
use crate::event::{Nest, Value, Visitor};

/// Leaves kept in a summary.
pub const MAX_VALUES: usize = 32;
/// Nesting of structures and arrays followed; deeper ones are skipped.
pub const MAX_DEPTH: usize = 8;
/// Octets of a string value kept.
const MAX_TEXT: usize = 64;
/// Octets of an opaque value (octet string, long bit string, REAL…) kept.
const MAX_HEX: usize = 16;
/// Bits of a bit string written as `0`/`1` text; longer ones as hex.
const MAX_BITS: usize = 64;

/// The `Data` CHOICE alternatives, by context tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Array,
    Structure,
    Boolean,
    BitString,
    Integer,
    Unsigned,
    FloatingPoint,
    Real,
    OctetString,
    VisibleString,
    BinaryTime,
    Bcd,
    BooleanArray,
    ObjectId,
    MmsString,
    UtcTime,
    /// A tag the CHOICE does not have (0 and 11 are reserved).
    Unknown,
}

impl DataType {
    fn from_tag(number: u32) -> DataType {
        match number {
            1 => DataType::Array,
            2 => DataType::Structure,
            3 => DataType::Boolean,
            4 => DataType::BitString,
            5 => DataType::Integer,
            6 => DataType::Unsigned,
            7 => DataType::FloatingPoint,
            8 => DataType::Real,
            9 => DataType::OctetString,
            10 => DataType::VisibleString,
            12 => DataType::BinaryTime,
            13 => DataType::Bcd,
            14 => DataType::BooleanArray,
            15 => DataType::ObjectId,
            16 => DataType::MmsString,
            17 => DataType::UtcTime,
            _ => DataType::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DataType::Array => "array",
            DataType::Structure => "structure",
            DataType::Boolean => "boolean",
            DataType::BitString => "bit_string",
            DataType::Integer => "integer",
            DataType::Unsigned => "unsigned",
            DataType::FloatingPoint => "float",
            DataType::Real => "real",
            DataType::OctetString => "octet_string",
            DataType::VisibleString => "visible_string",
            DataType::BinaryTime => "binary_time",
            DataType::Bcd => "bcd",
            DataType::BooleanArray => "boolean_array",
            DataType::ObjectId => "object_id",
            DataType::MmsString => "mms_string",
            DataType::UtcTime => "utc_time",
            DataType::Unknown => "unknown",
        }
    }
}

/// What a leaf holds, decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A bit string of up to 64 bits, first bit in the most significant place of `bits`.
    Bits {
        bits: u64,
        len: u8,
    },
    Hex(Vec<u8>),
    Text(String),
    Time(UtcTime),
    /// The contents do not fit the type (wrong length, bad encoding).
    Invalid,
}

/// One leaf of `allData`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataValue {
    /// 0-based index of the data set member (top-level entry) it belongs to.
    pub entry: u32,
    pub kind: DataType,
    pub content: Content,
}

impl DataValue {
    pub fn visit(&self, v: &mut dyn Visitor) {
        v.begin("", Nest::Object);
        v.field("entry", Value::U64(self.entry.into()));
        v.field("type", Value::Str(self.kind.name()));
        match &self.content {
            Content::Bool(b) => v.field("value", Value::Bool(*b)),
            Content::Int(i) => v.field("value", Value::I64(*i)),
            Content::Uint(u) => v.field("value", Value::U64(*u)),
            Content::Float(x) => v.field("value", Value::F64(*x)),
            Content::Bits { bits, len } => {
                let mut text = [b'0'; MAX_BITS];
                let len = usize::from(*len).min(MAX_BITS);
                for (i, c) in text.iter_mut().take(len).enumerate() {
                    if bits >> (63 - i) & 1 == 1 {
                        *c = b'1';
                    }
                }
                let text = std::str::from_utf8(&text[..len]).unwrap_or("");
                v.field("value", Value::Str(text));
            }
            Content::Hex(bytes) => v.field("value", Value::Hex(bytes)),
            Content::Text(text) => v.field("value", Value::Str(text)),
            Content::Time(t) => {
                let mut buf = [0u8; 30];
                v.field("value", Value::Str(t.render(&mut buf)));
            }
            Content::Invalid => {}
        }
        v.end();
    }
}

/// What the walk of `allData` found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AllData {
    /// Top-level entries (data set members) whose header was read, including
    /// a last one cut short.
    pub entries: u32,
    /// The first [`MAX_VALUES`] leaves.
    pub values: Vec<DataValue>,
    /// More leaves than [`MAX_VALUES`] were present.
    pub values_truncated: bool,
    /// Whether a quality value has its `test` bit set; `None` when there is no
    /// quality-shaped value (a 13-bit bit string).
    pub test: Option<bool>,
    /// A value that is not valid `Data` (unknown tag, wrong length, bad BER).
    pub invalid: bool,
    /// Structures or arrays nested deeper than [`MAX_DEPTH`] (skipped).
    pub too_deep: bool,
    /// A value ran past the end of the frame.
    pub truncated: bool,
}

/// A quality (IEC 61850-8-1 8.1.3.4: a 13-bit bit string) and its `test`
/// bit (bit 11): a data set whose values are in test mode.
const QUALITY_BITS: usize = 13;
const QUALITY_TEST_BIT: usize = 11;

/// Walks the contents of `allData`; `cut` says the frame ended inside it
/// (so that a value or header cut short is truncation, not bad encoding).
pub fn walk(content: &[u8], cut: bool) -> AllData {
    let mut out = AllData::default();
    // The rest of each enclosing level, to resume when a nested one ends.
    let mut stack: [&[u8]; MAX_DEPTH] = [&[]; MAX_DEPTH];
    let mut depth = 0usize;
    let mut rest = content;
    let mut entry = 0u32;
    loop {
        if rest.is_empty() {
            if depth == 0 {
                break;
            }
            depth -= 1;
            rest = stack.get(depth).copied().unwrap_or_default();
            continue;
        }
        let (tlv, after) = match ber::read(rest) {
            Ok(read) => read,
            Err(ber::Error::TruncatedHeader) if cut => {
                out.truncated = true;
                break;
            }
            Err(_) => {
                out.invalid = true;
                break;
            }
        };
        rest = after;
        if depth == 0 {
            entry = out.entries;
            out.entries += 1;
        }
        if tlv.truncated {
            // A length past its container is bad encoding unless the frame ended there.
            if cut {
                out.truncated = true;
            } else {
                out.invalid = true;
            }
        }
        let kind = if tlv.tag.class == Class::Context {
            DataType::from_tag(tlv.tag.number)
        } else {
            DataType::Unknown
        };
        if matches!(kind, DataType::Array | DataType::Structure) && tlv.tag.constructed {
            match stack.get_mut(depth) {
                Some(slot) if depth + 1 < MAX_DEPTH => {
                    *slot = rest;
                    depth += 1;
                    rest = tlv.value;
                }
                _ => out.too_deep = true,
            }
            continue;
        }
        let content = if tlv.tag.constructed {
            Content::Invalid
        } else {
            leaf(kind, tlv.value, &mut out.test)
        };
        if kind == DataType::Unknown || (content == Content::Invalid && !tlv.truncated) {
            out.invalid = true;
        }
        if out.values.len() < MAX_VALUES {
            out.values.push(DataValue {
                entry,
                kind,
                content,
            });
        } else {
            out.values_truncated = true;
        }
    }
    out
}

/// Decodes a primitive value of `kind`, noting a quality's test bit.
fn leaf(kind: DataType, value: &[u8], test: &mut Option<bool>) -> Content {
    let hex = || Content::Hex(value.iter().copied().take(MAX_HEX).collect());
    match kind {
        DataType::Boolean => ber::boolean(value).map_or(Content::Invalid, Content::Bool),
        DataType::Integer => ber::signed(value).map_or(Content::Invalid, Content::Int),
        DataType::Unsigned => ber::unsigned(value).map_or(Content::Invalid, Content::Uint),
        DataType::BitString | DataType::BooleanArray => {
            let Some((&unused, data)) = value.split_first() else {
                return Content::Invalid;
            };
            if unused > 7 || (data.is_empty() && unused != 0) {
                return Content::Invalid;
            }
            let len = data.len() * 8 - usize::from(unused);
            if kind == DataType::BitString && len == QUALITY_BITS {
                let set = data
                    .get(QUALITY_TEST_BIT / 8)
                    .is_some_and(|b| b & (0x80 >> (QUALITY_TEST_BIT % 8)) != 0);
                *test = Some(test.unwrap_or(false) || set);
            }
            if len > MAX_BITS {
                return Content::Hex(data.iter().copied().take(MAX_HEX).collect());
            }
            let bits = data
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &b)| acc | u64::from(b) << (56 - 8 * i));
            Content::Bits {
                bits,
                len: len as u8,
            }
        }
        DataType::FloatingPoint => match value {
            // Exponent width 8: IEEE 754 single; 11: double.
            [8, b @ ..] if b.len() == 4 => {
                Content::Float(f32::from_be_bytes([b[0], b[1], b[2], b[3]]).into())
            }
            [11, b @ ..] if b.len() == 8 => {
                let mut d = [0u8; 8];
                d.copy_from_slice(b);
                Content::Float(f64::from_be_bytes(d))
            }
            _ => Content::Invalid,
        },
        DataType::VisibleString | DataType::MmsString => {
            let (text, _, _) = ber::visible_string(value, MAX_TEXT);
            Content::Text(text)
        }
        DataType::UtcTime => UtcTime::read(value).map_or(Content::Invalid, Content::Time),
        DataType::Bcd => ber::unsigned(value).map_or(Content::Invalid, Content::Uint),
        DataType::BinaryTime if !matches!(value.len(), 4 | 6) => Content::Invalid,
        DataType::Real
        | DataType::OctetString
        | DataType::BinaryTime
        | DataType::ObjectId
        | DataType::Unknown => hex(),
        DataType::Array | DataType::Structure => Content::Invalid,
    }
}
