//! A total BER (X.690) reader over byte slices, for the ISO presentation,
//! ACSE and MMS layers: definite lengths only (short form, or long form of at
//! most four octets), tags of at most four octets after the first, every
//! value checked to lie inside its enclosing slice. Nothing allocates; the
//! callers bound their own nesting (see [`MAX_DEPTH`]).

/// How deep the walkers of recursive types (type specifications, alternate
/// access, scattered access) go before giving up with `nesting_too_deep`.
pub const MAX_DEPTH: u8 = 16;

/// Tag classes (the top two bits of the identifier octet).
pub const UNIVERSAL: u8 = 0;
pub const APPLICATION: u8 = 1;
pub const CONTEXT: u8 = 2;

/// Universal tag numbers used here.
pub mod universal {
    pub const BOOLEAN: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const BIT_STRING: u32 = 3;
    pub const OCTET_STRING: u32 = 4;
    pub const NULL: u32 = 5;
    pub const OID: u32 = 6;
    pub const EXTERNAL: u32 = 8;
    pub const SEQUENCE: u32 = 16;
    pub const SET: u32 = 17;
    pub const VISIBLE_STRING: u32 = 26;
    pub const GRAPHIC_STRING: u32 = 25;
}

/// Why a TLV could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BerError {
    /// The identifier, length or value runs past the data.
    Truncated,
    /// Length octet 0x80: indefinite lengths are not used by these protocols.
    IndefiniteLength,
    /// A long-form length of more than four octets, or a tag number of more
    /// than four octets.
    TooLong,
}

/// One TLV, borrowing its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub class: u8,
    pub constructed: bool,
    pub tag: u32,
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Whether this is `[tag]` of the context class.
    pub fn is_context(&self, tag: u32) -> bool {
        self.class == CONTEXT && self.tag == tag
    }

    /// Whether this is the universal type `tag`.
    pub fn is_universal(&self, tag: u32) -> bool {
        self.class == UNIVERSAL && self.tag == tag
    }

    /// The TLVs inside this one's value.
    pub fn children(&self) -> Seq<'a> {
        Seq(self.value)
    }

    /// The single TLV inside an explicit tag (the first one).
    pub fn inner(&self) -> Result<Tlv<'a>, BerError> {
        read(self.value).map(|(tlv, _)| tlv)
    }
}

/// Reads the TLV at the start of `data`; returns it and the bytes after it.
pub fn read(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let (&id, mut rest) = data.split_first().ok_or(BerError::Truncated)?;
    let class = id >> 6;
    let constructed = id & 0x20 != 0;
    let mut tag = u32::from(id & 0x1f);
    if tag == 0x1f {
        tag = 0;
        let mut octets = 0;
        loop {
            let (&b, r) = rest.split_first().ok_or(BerError::Truncated)?;
            rest = r;
            octets += 1;
            if octets > 4 {
                return Err(BerError::TooLong);
            }
            tag = (tag << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let (&first, r) = rest.split_first().ok_or(BerError::Truncated)?;
    rest = r;
    let len = match first {
        0x80 => return Err(BerError::IndefiniteLength),
        l if l < 0x80 => usize::from(l),
        l => {
            let n = usize::from(l & 0x7f);
            if n > 4 {
                return Err(BerError::TooLong);
            }
            let octets = rest.get(..n).ok_or(BerError::Truncated)?;
            rest = rest.get(n..).unwrap_or_default();
            octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        }
    };
    let value = rest.get(..len).ok_or(BerError::Truncated)?;
    let after = rest.get(len..).unwrap_or_default();
    Ok((
        Tlv {
            class,
            constructed,
            tag,
            value,
        },
        after,
    ))
}

/// The consecutive TLVs of a slice. After an error the iteration stops.
#[derive(Clone, Copy, Debug)]
pub struct Seq<'a>(pub &'a [u8]);

impl<'a> Iterator for Seq<'a> {
    type Item = Result<Tlv<'a>, BerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        match read(self.0) {
            Ok((tlv, rest)) => {
                self.0 = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.0 = &[];
                Some(Err(e))
            }
        }
    }
}

/// A non-negative INTEGER of at most 8 value octets (leading zero octets
/// allowed); `None` when empty, negative or too large.
pub fn unsigned(value: &[u8]) -> Option<u64> {
    let (&first, _) = value.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let significant = value
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |p| value.get(p..).unwrap_or_default());
    if significant.len() > 8 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// A signed INTEGER of 1 to 8 octets; `None` when empty or too large.
pub fn signed(value: &[u8]) -> Option<i64> {
    let (&first, _) = value.split_first()?;
    if value.len() > 8 {
        return None;
    }
    let start: i64 = if first & 0x80 != 0 { -1 } else { 0 };
    Some(
        value
            .iter()
            .fold(start, |acc, &b| (acc << 8) | i64::from(b)),
    )
}

/// A BOOLEAN's value (any non-zero octet is true); `None` unless one octet.
pub fn boolean(value: &[u8]) -> Option<bool> {
    match value {
        [b] => Some(*b != 0),
        _ => None,
    }
}

/// A BIT STRING's bits without its unused-bits octet; `None` when empty or
/// when the unused-bits count is above 7.
pub fn bit_string(value: &[u8]) -> Option<&[u8]> {
    let (&unused, bits) = value.split_first()?;
    (unused <= 7 && !(bits.is_empty() && unused != 0)).then_some(bits)
}

/// Arcs of an OBJECT IDENTIFIER written after this many are cut (with "…").
const MAX_OID_ARCS: usize = 24;

/// An OBJECT IDENTIFIER in dotted form (`1.0.9506.2.3`); `None` when empty,
/// when an arc does not end, or when an arc exceeds 64 bits.
pub fn oid(value: &[u8]) -> Option<String> {
    use std::fmt::Write as _;
    if value.is_empty() || value.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let mut out = String::new();
    let mut arc: u64 = 0;
    let mut arcs = 0usize;
    for &b in value {
        if arc > (u64::MAX >> 7) {
            return None;
        }
        arc = (arc << 7) | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            continue;
        }
        if arcs == 0 {
            let (x, y) = match arc {
                0..40 => (0, arc),
                40..80 => (1, arc - 40),
                _ => (2, arc - 80),
            };
            let _ = write!(out, "{x}.{y}");
            arcs = 2;
        } else if arcs < MAX_OID_ARCS {
            let _ = write!(out, ".{arc}");
            arcs += 1;
        } else {
            out.push_str(".…");
            break;
        }
        arc = 0;
    }
    Some(out)
}
