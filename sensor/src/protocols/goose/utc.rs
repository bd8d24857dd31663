//! IEC 61850 `UtcTime` (IEC 61850-8-1 8.1.3.7): eight octets, seconds since
//! 1970 (32 bits), a binary fraction of the second (24 bits) and a quality
//! octet.

use crate::time::Timestamp;

/// Octets of a UtcTime.
pub const LEN: usize = 8;

/// Quality octet bits.
const LEAP_SECONDS_KNOWN: u8 = 0x80;
const CLOCK_FAILURE: u8 = 0x40;
const CLOCK_NOT_SYNCHRONIZED: u8 = 0x20;
const TIME_ACCURACY: u8 = 0x1f;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcTime {
    pub secs: u32,
    /// Fraction of the second in units of 2^-24 s.
    pub fraction: u32,
    pub quality: u8,
}

impl UtcTime {
    /// The time in `value`, which must be exactly eight octets.
    pub fn read(value: &[u8]) -> Option<UtcTime> {
        let b: &[u8; LEN] = value.try_into().ok()?;
        Some(UtcTime {
            secs: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            fraction: u32::from_be_bytes([0, b[4], b[5], b[6]]),
            quality: b[7],
        })
    }

    /// Nanoseconds of the fraction, rounded down (as Wireshark computes them).
    pub fn nanos(self) -> u32 {
        ((u64::from(self.fraction) * 1_000_000_000) >> 24) as u32
    }

    /// RFC 3339 UTC with nanoseconds (`2008-07-24T14:25:05.140625000Z`):
    /// nine digits, since the 24-bit fraction resolves about 60 ns.
    pub fn render(self, out: &mut [u8; 30]) -> &str {
        let nanos = self.nanos();
        let mut micros = [0u8; 27];
        Timestamp::from_parts(i64::from(self.secs), nanos).write_rfc3339_micros(&mut micros);
        out[..26].copy_from_slice(&micros[..26]);
        let sub_micro = nanos % 1000;
        out[26] = b'0' + (sub_micro / 100) as u8;
        out[27] = b'0' + (sub_micro / 10 % 10) as u8;
        out[28] = b'0' + (sub_micro % 10) as u8;
        out[29] = b'Z';
        std::str::from_utf8(out).unwrap_or("")
    }

    pub fn leap_seconds_known(self) -> bool {
        self.quality & LEAP_SECONDS_KNOWN != 0
    }

    pub fn clock_failure(self) -> bool {
        self.quality & CLOCK_FAILURE != 0
    }

    pub fn clock_not_synchronized(self) -> bool {
        self.quality & CLOCK_NOT_SYNCHRONIZED != 0
    }

    /// Bits of the fraction that are accurate (0–24; 31 unspecified).
    pub fn time_accuracy(self) -> u8 {
        self.quality & TIME_ACCURACY
    }
}
