//! A reader of the OPC UA Binary encoding (OPC 10000-6 §5.2) over a byte
//! slice: little-endian integers, length-prefixed strings and byte strings
//! (length -1 is null), NodeIds in their six encodings, and skipping of the
//! structures the decoder does not report. Every read is bounds-checked and
//! never allocates.

/// Why a read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes end before the value does.
    Truncated,
    /// A value no encoder produces: a negative length other than -1, an
    /// undefined encoding mask, nesting beyond its bound.
    Invalid,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Diagnostic infos nest; deeper than this is treated as invalid.
const MAX_DIAGNOSTIC_DEPTH: u8 = 8;

/// A NodeId with the parts the decoder uses: namespace, and the identifier
/// when numeric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId {
    pub namespace: u16,
    /// `None` for string, GUID and opaque identifiers.
    pub numeric: Option<u32>,
}

/// A cursor over encoded bytes.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Error::Truncated)?;
        let b = self.buf.get(self.pos..end).ok_or(Error::Truncated)?;
        self.pos = end;
        Ok(b)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.bytes(N)?;
        b.try_into().map_err(|_| Error::Truncated)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// A length prefix: `None` for -1 (null), an error for other negatives.
    fn length(&mut self) -> Result<Option<usize>> {
        match self.i32()? {
            -1 => Ok(None),
            n => usize::try_from(n).map(Some).map_err(|_| Error::Invalid),
        }
    }

    /// A String or ByteString: `None` when null.
    pub fn string(&mut self) -> Result<Option<&'a [u8]>> {
        match self.length()? {
            None => Ok(None),
            Some(n) => self.bytes(n).map(Some),
        }
    }

    /// The element count of an array (null counts as empty).
    pub fn array_len(&mut self) -> Result<usize> {
        Ok(self.length()?.unwrap_or(0))
    }

    /// An array of Strings, skipped.
    pub fn skip_strings(&mut self) -> Result<()> {
        for _ in 0..self.array_len()? {
            self.string()?;
        }
        Ok(())
    }

    /// A NodeId: its encoding byte (the ExpandedNodeId flags, 0x80 and
    /// 0x40, are left to [`Reader::expanded_node_id`]).
    pub fn node_id(&mut self) -> Result<NodeId> {
        let mask = self.u8()?;
        self.node_id_body(mask & 0x3F)
    }

    fn node_id_body(&mut self, encoding: u8) -> Result<NodeId> {
        Ok(match encoding {
            // Two-byte: namespace 0, identifier 0–255.
            0x00 => NodeId {
                namespace: 0,
                numeric: Some(self.u8()?.into()),
            },
            // Four-byte: namespace 0–255, identifier 0–65535.
            0x01 => NodeId {
                namespace: self.u8()?.into(),
                numeric: Some(self.u16()?.into()),
            },
            0x02 => NodeId {
                namespace: self.u16()?,
                numeric: Some(self.u32()?),
            },
            // String and opaque (ByteString) identifiers.
            0x03 | 0x05 => {
                let namespace = self.u16()?;
                self.string()?;
                NodeId {
                    namespace,
                    numeric: None,
                }
            }
            // GUID.
            0x04 => {
                let namespace = self.u16()?;
                self.skip(16)?;
                NodeId {
                    namespace,
                    numeric: None,
                }
            }
            _ => return Err(Error::Invalid),
        })
    }

    /// An ExpandedNodeId: a NodeId, then a namespace URI (flag 0x80) and a
    /// server index (flag 0x40), which are skipped.
    pub fn expanded_node_id(&mut self) -> Result<NodeId> {
        let mask = self.u8()?;
        let id = self.node_id_body(mask & 0x3F)?;
        if mask & 0x80 != 0 {
            self.string()?;
        }
        if mask & 0x40 != 0 {
            self.u32()?;
        }
        Ok(id)
    }

    /// A LocalizedText: its text (the locale is skipped), `None` when absent.
    pub fn localized_text(&mut self) -> Result<Option<&'a [u8]>> {
        let mask = self.u8()?;
        if mask & 0x01 != 0 {
            self.string()?;
        }
        if mask & 0x02 != 0 {
            return self.string();
        }
        Ok(None)
    }

    /// A DiagnosticInfo, skipped.
    pub fn skip_diagnostic_info(&mut self) -> Result<()> {
        self.diagnostic_info(0)
    }

    fn diagnostic_info(&mut self, depth: u8) -> Result<()> {
        if depth > MAX_DIAGNOSTIC_DEPTH {
            return Err(Error::Invalid);
        }
        let mask = self.u8()?;
        // Symbolic id, namespace URI, localized text and locale: Int32 each.
        let ints = (mask & 0x0F).count_ones() as usize;
        self.skip(4 * ints)?;
        if mask & 0x10 != 0 {
            // Additional info.
            self.string()?;
        }
        if mask & 0x20 != 0 {
            // Inner status code.
            self.u32()?;
        }
        if mask & 0x40 != 0 {
            self.diagnostic_info(depth + 1)?;
        }
        Ok(())
    }

    /// An ExtensionObject: its type id and, when binary-encoded (encoding
    /// byte 1), its body. XML bodies (2) are skipped; 0 has no body.
    pub fn extension_object(&mut self) -> Result<(NodeId, Option<&'a [u8]>)> {
        let type_id = self.node_id()?;
        match self.u8()? {
            0x00 => Ok((type_id, None)),
            0x01 => Ok((type_id, self.string()?)),
            0x02 => {
                self.string()?;
                Ok((type_id, None))
            }
            _ => Err(Error::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_in_every_encoding() {
        let bytes = [
            0x00, 0x55, // two-byte: 85
            0x01, 0x00, 0x77, 0x02, // four-byte: ns 0, 631
            0x02, 0x02, 0x00, 0x10, 0x27, 0x00, 0x00, // numeric: ns 2, 10000
            0x03, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, b'a', b'b', // string: ns 1, "ab"
            0x04, 0x03, 0x00, // GUID: ns 3 ...
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, // ... 16 bytes
            0x05, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, // opaque: ns 0, null
        ];
        let mut r = Reader::new(&bytes);
        let numeric = |namespace, n| NodeId {
            namespace,
            numeric: Some(n),
        };
        let other = |namespace| NodeId {
            namespace,
            numeric: None,
        };
        assert_eq!(r.node_id(), Ok(numeric(0, 85)));
        assert_eq!(r.node_id(), Ok(numeric(0, 631)));
        assert_eq!(r.node_id(), Ok(numeric(2, 10000)));
        assert_eq!(r.node_id(), Ok(other(1)));
        assert_eq!(r.node_id(), Ok(other(3)));
        assert_eq!(r.node_id(), Ok(other(0)));
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.node_id(), Err(Error::Truncated));
        assert_eq!(Reader::new(&[0x06, 0, 0]).node_id(), Err(Error::Invalid));
    }

    #[test]
    fn expanded_node_id_skips_uri_and_server_index() {
        let bytes = [
            0xC1, 0x00, 0x77, 0x02, // four-byte with namespace URI and server index flags
            0x01, 0x00, 0x00, 0x00, b'u', // namespace URI "u"
            0x05, 0x00, 0x00, 0x00, // server index 5
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.expanded_node_id(),
            Ok(NodeId {
                namespace: 0,
                numeric: Some(631)
            })
        );
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn strings_null_negative_and_truncated() {
        assert_eq!(
            Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF]).string(),
            Ok(None),
            "-1 is null"
        );
        assert_eq!(
            Reader::new(&[0xFE, 0xFF, 0xFF, 0xFF]).string(),
            Err(Error::Invalid),
            "-2 is invalid"
        );
        assert_eq!(
            Reader::new(&[0x05, 0x00, 0x00, 0x00, b'a']).string(),
            Err(Error::Truncated)
        );
        assert_eq!(
            Reader::new(&[0xFF, 0xFF, 0xFF, 0x7F]).string(),
            Err(Error::Truncated),
            "a huge length is bounded by the bytes there"
        );
    }

    #[test]
    fn diagnostic_info_nesting_is_bounded() {
        // Every level says an inner diagnostic info follows.
        let deep = [0x40u8; 64];
        assert_eq!(
            Reader::new(&deep).skip_diagnostic_info(),
            Err(Error::Invalid)
        );
        let flat = [
            0x3F, // every field but the inner diagnostic info
            1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, // four Int32
            0x00, 0x00, 0x00, 0x00, // additional info ""
            0x00, 0x00, 0x34, 0x80, // inner status code
        ];
        let mut r = Reader::new(&flat);
        assert_eq!(r.skip_diagnostic_info(), Ok(()));
        assert_eq!(r.remaining(), 0);
    }
}
