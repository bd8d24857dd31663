//! The subset of BER (X.690) that SNMP uses: single-byte tags, definite
//! lengths of up to four bytes, integers of up to eight bytes, object
//! identifiers. Total: every read is bounds-checked and fails with the
//! reason instead of panicking.

use std::fmt::Write as _;

use crate::protocols::itwire::StackText;

pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;
/// SNMP application types (RFC 2578).
pub const IP_ADDRESS: u8 = 0x40;
pub const COUNTER32: u8 = 0x41;
pub const GAUGE32: u8 = 0x42;
pub const TIMETICKS: u8 = 0x43;
pub const OPAQUE: u8 = 0x44;
pub const COUNTER64: u8 = 0x46;
/// Varbind exceptions (RFC 3416).
pub const NO_SUCH_OBJECT: u8 = 0x80;
pub const NO_SUCH_INSTANCE: u8 = 0x81;
pub const END_OF_MIB_VIEW: u8 = 0x82;

/// Why an element could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The data ends inside the element.
    Truncated,
    /// Not valid BER for SNMP: a multi-byte tag, an indefinite or oversized
    /// length, an integer longer than 8 bytes.
    Invalid,
    /// Another tag than the one expected.
    UnexpectedTag(u8),
}

/// One element: its tag and contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

/// A cursor over BER elements.
#[derive(Clone, Copy, Debug)]
pub struct Ber<'a> {
    data: &'a [u8],
}

impl<'a> Ber<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Ber { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self) -> Result<Tlv<'a>, Error> {
        match self.any_cut()? {
            (tlv, false) => Ok(tlv),
            (_, true) => Err(Error::Truncated),
        }
    }

    /// The next element; when the data ends inside its contents, what there
    /// is of them, and `true` (the cursor is then at the end).
    pub fn any_cut(&mut self) -> Result<(Tlv<'a>, bool), Error> {
        let (&tag, rest) = self.data.split_first().ok_or(Error::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(Error::Invalid);
        }
        let (&first, rest) = rest.split_first().ok_or(Error::Truncated)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(Error::Invalid);
            }
            let bytes = rest.get(..n).ok_or(Error::Truncated)?;
            let len = bytes.iter().fold(0usize, |l, &b| l << 8 | usize::from(b));
            (len, rest.get(n..).unwrap_or_default())
        };
        match rest.get(..len) {
            Some(value) => {
                self.data = rest.get(len..).unwrap_or_default();
                Ok((Tlv { tag, value }, false))
            }
            None => {
                self.data = &[];
                Ok((Tlv { tag, value: rest }, true))
            }
        }
    }

    /// The next element, which must have `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        let saved = self.data;
        let tlv = self.any()?;
        if tlv.tag != tag {
            self.data = saved;
            return Err(Error::UnexpectedTag(tlv.tag));
        }
        Ok(tlv.value)
    }

    pub fn integer(&mut self) -> Result<i64, Error> {
        integer(self.expect(INTEGER)?)
    }
}

/// A two's complement integer of 1 to 8 bytes.
pub fn integer(bytes: &[u8]) -> Result<i64, Error> {
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(Error::Invalid);
    }
    let negative = bytes[0] & 0x80 != 0;
    let start = if negative { -1i64 } else { 0 };
    Ok(bytes.iter().fold(start, |v, &b| v << 8 | i64::from(b)))
}

/// An unsigned integer (counters, gauges, time ticks) of up to 9 bytes (a
/// leading zero may precede 8 value bytes).
pub fn unsigned(bytes: &[u8]) -> Result<u64, Error> {
    let bytes = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    };
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(Error::Invalid);
    }
    Ok(bytes.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)))
}

/// Longest OID text written.
pub const MAX_OID_TEXT: usize = 256;

/// An object identifier as dotted text (`1.3.6.1.2.1.1.1.0`), or `None` if
/// it is not valid (empty, an arc that does not end, an arc over 64 bits).
/// Text beyond [`MAX_OID_TEXT`] bytes is cut.
pub fn oid_text(bytes: &[u8]) -> Option<StackText<MAX_OID_TEXT>> {
    let mut text = StackText::new();
    let mut arc: u64 = 0;
    let mut first = true;
    if bytes.is_empty() || bytes.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    for &b in bytes {
        if arc > (u64::MAX >> 7) {
            return None;
        }
        arc = arc << 7 | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            continue;
        }
        let written = if first {
            first = false;
            let (x, y) = match arc {
                0..=39 => (0, arc),
                40..=79 => (1, arc - 40),
                _ => (2, arc - 80),
            };
            write!(text, "{x}.{y}")
        } else {
            write!(text, ".{arc}")
        };
        if written.is_err() {
            break;
        }
        arc = 0;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_long_and_bad() {
        let mut b = Ber::new(&[0x04, 0x82, 0x00, 0x02, b'h', b'i', 0x05, 0x00]);
        assert_eq!(b.expect(OCTET_STRING), Ok(&b"hi"[..]));
        assert_eq!(b.expect(NULL), Ok(&[][..]));
        assert!(b.is_empty());
        assert_eq!(
            Ber::new(&[0x30, 0x80]).any(),
            Err(Error::Invalid),
            "indefinite"
        );
        assert_eq!(Ber::new(&[0x30, 0x05, 1]).any(), Err(Error::Truncated));
        assert_eq!(Ber::new(&[0x1f, 0x01, 0]).any(), Err(Error::Invalid));
        assert_eq!(
            Ber::new(&[0x04, 0x00]).integer(),
            Err(Error::UnexpectedTag(0x04))
        );
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(integer(&[0xff]), Ok(-1));
        assert_eq!(integer(&[0x2b, 0x13, 0x85, 0x85]), Ok(0x2b13_8585));
        assert_eq!(integer(&[0x00, 0x80]), Ok(128));
        assert_eq!(integer(&[0x80]), Ok(-128));
        assert_eq!(integer(&[0; 9]), Err(Error::Invalid));
        assert_eq!(unsigned(&[0x00, 0xff, 0xff, 0xff, 0xff]), Ok(0xffff_ffff));
        let sys_descr = [0x2b, 6, 1, 2, 1, 1, 1, 0];
        assert_eq!(oid_text(&sys_descr).unwrap().as_str(), "1.3.6.1.2.1.1.1.0");
        assert_eq!(oid_text(&[0x01]).unwrap().as_str(), "0.1");
        assert_eq!(
            oid_text(&[0x28, 0xc4, 0x62, 1, 1, 1, 1, 1, 1, 0])
                .unwrap()
                .as_str(),
            "1.0.8802.1.1.1.1.1.1.0"
        );
        assert!(oid_text(&[0x2b, 0x86]).is_none(), "arc without its end");
        assert!(oid_text(&[0xff; 12]).is_none(), "arc over 64 bits");
    }
}
