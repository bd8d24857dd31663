//! pcapng interface clocks: the resolution (`if_tsresol`) and offset
//! (`if_tsoffset`) of an Interface Description Block, and the packet time of
//! a block's 64-bit timestamp on that interface.
//!
//! Decoded here rather than with pcap-parser's helpers: its `ts_resolution`
//! refuses every power-of-two resolution (bit 7 set), and its offset is read
//! little-endian even in big-endian sections.

use pcap_parser::pcapng::{InterfaceDescriptionBlock, OptionCode};

use crate::time::Timestamp;

/// How an interface counts time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Timestamp units per second.
    pub units_per_sec: u64,
    /// Seconds added to every timestamp.
    pub offset_secs: i64,
}

impl Clock {
    /// The clock an Interface Description Block describes, or why its
    /// resolution is impossible.
    pub fn of_interface(
        idb: &InterfaceDescriptionBlock<'_>,
        big_endian: bool,
    ) -> Result<Clock, String> {
        // pcap-parser keeps the option's raw byte (6, µs, when absent).
        let tsresol = idb.if_tsresol;
        let units_per_sec = units_per_second(tsresol).ok_or_else(|| {
            format!(
                "corrupt interface description: if_tsresol {tsresol:#04x} gives more than 2^64 units per second"
            )
        })?;
        let offset_secs = idb
            .options
            .iter()
            .find(|o| o.code == OptionCode::IfTsoffset)
            .and_then(|o| <[u8; 8]>::try_from(o.as_bytes().ok()?).ok())
            .map_or(0, |b| {
                if big_endian {
                    i64::from_be_bytes(b)
                } else {
                    i64::from_le_bytes(b)
                }
            });
        Ok(Clock {
            units_per_sec,
            offset_secs,
        })
    }

    /// The packet time of a timestamp given as its high and low 32 bits.
    pub fn ts(&self, high: u32, low: u32) -> Timestamp {
        let units = (u64::from(high) << 32) | u64::from(low);
        let per_sec = self.units_per_sec.max(1);
        let secs = (units / per_sec) as i64;
        let frac = units % per_sec;
        // Truncated to the nanosecond, as Wireshark does.
        let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(per_sec)) as u32;
        Timestamp::from_parts(secs.saturating_add(self.offset_secs), nanos)
    }
}

/// Units per second of an `if_tsresol` value: bit 7 clear, 10^value; set,
/// 2^(value & 0x7f). `None` when that does not fit in 64 bits.
pub fn units_per_second(tsresol: u8) -> Option<u64> {
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        1u64.checked_shl(exponent)
    } else {
        10u64.checked_pow(exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_binary_resolutions() {
        assert_eq!(units_per_second(6), Some(1_000_000));
        assert_eq!(units_per_second(9), Some(1_000_000_000));
        assert_eq!(units_per_second(0), Some(1));
        assert_eq!(units_per_second(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units_per_second(20), None);
        // 0x94: 2^-20 s.
        assert_eq!(units_per_second(0x94), Some(1 << 20));
        assert_eq!(units_per_second(0x80), Some(1));
        assert_eq!(units_per_second(0xBF), Some(1 << 63));
        assert_eq!(units_per_second(0xC0), None);
        assert_eq!(units_per_second(0xFF), None);
    }

    #[test]
    fn timestamps_are_truncated_to_the_nanosecond() {
        let clock = Clock {
            units_per_sec: 1 << 20,
            offset_secs: 0,
        };
        // 3 × 2^11 units of 2^-20 s = 3/512 s = 5 859 375 ns exactly.
        assert_eq!(clock.ts(0, 3 << 11), Timestamp::from_parts(0, 5_859_375));
        // 1 unit = 953.67431640625 ns.
        assert_eq!(clock.ts(0, 1), Timestamp::from_parts(0, 953));
        let offset = Clock {
            units_per_sec: 1_000_000,
            offset_secs: -3600,
        };
        assert_eq!(offset.ts(1, 1), Timestamp::from_parts(694, 967_297_000));
    }
}
