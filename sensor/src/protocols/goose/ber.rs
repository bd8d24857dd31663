//! A total BER (ITU-T X.690) reader, just enough for the GOOSE, GSE
//! management and Sampled Values PDUs: tag-length-value triples with
//! definite lengths, read from slices without copying.
//!
//! Nothing here recurses: a caller walks nested values with [`Tlvs`] and
//! decides how deep it goes. Short input is never a panic: a header that does
//! not fit is an error, a value that does not fit is returned cut short with
//! [`Tlv::truncated`] set, so that a truncated frame still yields the fields
//! it does hold.

/// The class bits of an identifier octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// An identifier: class, primitive or constructed, tag number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

impl Tag {
    /// A context-specific tag `[number]`.
    pub fn is_context(self, number: u32) -> bool {
        self.class == Class::Context && self.number == number
    }
}

/// One tag-length-value triple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    /// The contents octets (fewer than the length said when `truncated`).
    pub value: &'a [u8],
    /// The length ran past the end of the input: `value` is what there was.
    pub truncated: bool,
}

/// Why a TLV header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The input ends inside the identifier or length octets.
    TruncatedHeader,
    /// Length octet 0x80: indefinite lengths are not allowed in these PDUs.
    IndefiniteLength,
    /// A long-form length of more than four octets (or the reserved 0xff).
    LengthTooLong,
    /// A high tag number of more than four octets.
    TagTooLong,
}

/// Tag numbers above this need more than four octets: refused.
const MAX_TAG_OCTETS: usize = 4;
/// Long-form lengths of up to four octets (any Ethernet frame fits in two).
const MAX_LENGTH_OCTETS: usize = 4;

/// Reads the TLV at the start of `data`; returns it and the bytes after it.
pub fn read(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let (&first, mut rest) = data.split_first().ok_or(Error::TruncatedHeader)?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        let mut octets = 0;
        loop {
            let (&b, after) = rest.split_first().ok_or(Error::TruncatedHeader)?;
            rest = after;
            octets += 1;
            if octets > MAX_TAG_OCTETS {
                return Err(Error::TagTooLong);
            }
            number = number << 7 | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let (&len_octet, after) = rest.split_first().ok_or(Error::TruncatedHeader)?;
    rest = after;
    let length = match len_octet {
        0..=0x7f => usize::from(len_octet),
        0x80 => return Err(Error::IndefiniteLength),
        _ => {
            let n = usize::from(len_octet & 0x7f);
            if n > MAX_LENGTH_OCTETS {
                return Err(Error::LengthTooLong);
            }
            let (octets, after) = rest.split_at_checked(n).ok_or(Error::TruncatedHeader)?;
            rest = after;
            octets
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
        }
    };
    let tag = Tag {
        class,
        constructed,
        number,
    };
    Ok(match rest.split_at_checked(length) {
        Some((value, after)) => (
            Tlv {
                tag,
                value,
                truncated: false,
            },
            after,
        ),
        None => (
            Tlv {
                tag,
                value: rest,
                truncated: true,
            },
            &[],
        ),
    })
}

/// The TLVs one after another in `data` (the contents of a constructed
/// value). Stops at the end or at the first header it cannot read, which it
/// keeps in [`Tlvs::error`].
#[derive(Clone, Debug)]
pub struct Tlvs<'a> {
    rest: &'a [u8],
    pub error: Option<Error>,
}

impl<'a> Tlvs<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Tlvs {
            rest: data,
            error: None,
        }
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Tlv<'a>;

    fn next(&mut self) -> Option<Tlv<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(tlv)
            }
            Err(e) => {
                self.error = Some(e);
                self.rest = &[];
                None
            }
        }
    }
}

/// A non-negative INTEGER of at most 64 bits (leading zero octets allowed);
/// `None` for an empty, negative or larger value.
pub fn unsigned(value: &[u8]) -> Option<u64> {
    let (&first, _) = value.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let start = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let significant = &value[start..];
    if significant.len() > 8 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u64, |acc, &b| acc << 8 | u64::from(b)),
    )
}

/// An INTEGER of one to eight octets, two's complement.
pub fn signed(value: &[u8]) -> Option<i64> {
    if value.is_empty() || value.len() > 8 {
        return None;
    }
    let negative = value[0] & 0x80 != 0;
    let init = if negative { -1i64 } else { 0 };
    Some(value.iter().fold(init, |acc, &b| acc << 8 | i64::from(b)))
}

/// A BOOLEAN: exactly one octet, zero for false.
pub fn boolean(value: &[u8]) -> Option<bool> {
    match value {
        [b] => Some(*b != 0),
        _ => None,
    }
}

/// A VisibleString as text, at most `cap` octets of it; also whether every
/// octet taken was visible ASCII (0x20–0x7e) and whether it fit in `cap`.
pub fn visible_string(value: &[u8], cap: usize) -> (String, bool, bool) {
    let taken = value.get(..cap).unwrap_or(value);
    let visible = taken.iter().all(|b| (0x20..=0x7e).contains(b));
    (
        String::from_utf8_lossy(taken).into_owned(),
        visible,
        taken.len() == value.len(),
    )
}
