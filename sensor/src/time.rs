//! Packet time. The sensor never reads the wall clock for decisions: timeouts,
//! rates and baselines all run on capture timestamps (DESIGN.md, "Time is packet time").

use std::fmt;

/// Nanoseconds since the Unix epoch, as stamped by the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);
    const NANOS_PER_SEC: i64 = 1_000_000_000;

    pub fn from_parts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp(
            secs.saturating_mul(Self::NANOS_PER_SEC)
                .saturating_add(nanos as i64),
        )
    }

    pub fn from_secs(secs: i64) -> Timestamp {
        Timestamp::from_parts(secs, 0)
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::NANOS_PER_SEC)
    }

    pub fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(Self::NANOS_PER_SEC) as u32
    }

    /// Whole seconds elapsed from `earlier` to `self` (0 if `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> u64 {
        (self.0.saturating_sub(earlier.0).max(0) / Self::NANOS_PER_SEC) as u64
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::NANOS_PER_SEC as f64
    }

    /// Writes RFC 3339 UTC with microseconds, e.g. `2024-01-15T08:00:00.123456Z`,
    /// into `out` without allocating. Returns the 27 bytes written.
    pub fn write_rfc3339_micros(self, out: &mut [u8; 27]) -> &str {
        let (year, month, day) = civil_from_days(self.secs().div_euclid(86_400));
        let sod = self.secs().rem_euclid(86_400) as u32;
        let micros = self.subsec_nanos() / 1_000;
        // Years outside 0..=9999 cannot be written in RFC 3339; clamp rather than fail.
        let year = year.clamp(0, 9999) as u32;
        put_digits(&mut out[0..4], year);
        out[4] = b'-';
        put_digits(&mut out[5..7], month);
        out[7] = b'-';
        put_digits(&mut out[8..10], day);
        out[10] = b'T';
        put_digits(&mut out[11..13], sod / 3600);
        out[13] = b':';
        put_digits(&mut out[14..16], sod / 60 % 60);
        out[16] = b':';
        put_digits(&mut out[17..19], sod % 60);
        out[19] = b'.';
        put_digits(&mut out[20..26], micros);
        out[26] = b'Z';
        // Every byte written above is an ASCII digit or separator.
        std::str::from_utf8(out).unwrap_or("")
    }
}

/// Serialised as RFC 3339 text, as events show time.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 27];
        s.serialize_str(self.write_rfc3339_micros(&mut buf))
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 UTC time: {text:?}")))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 27];
        f.write_str(self.write_rfc3339_micros(&mut buf))
    }
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, as [`Timestamp::write_rfc3339_micros`] writes it.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = text.get(range)?;
            digits
                .bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| digits.parse().ok())?
        };
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let rest = text.get(19..)?.strip_suffix('Z')?;
        let nanos = match rest.strip_prefix('.') {
            None if rest.is_empty() => 0,
            Some(fraction) if !fraction.is_empty() && fraction.len() <= 9 => {
                let value: i64 = number(20..20 + fraction.len())?;
                value * 10i64.pow(9 - fraction.len() as u32)
            }
            _ => return None,
        };
        let days = days_from_civil(year, month as u32, day as u32);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
        Some(Timestamp::from_parts(secs, nanos as u32))
    }
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_microseconds() {
        // 1705305600 = 2024-01-15T08:00:00Z (gen-ot-pcap's default start).
        let ts = Timestamp::from_parts(1_705_305_600, 123_456_789);
        assert_eq!(ts.to_string(), "2024-01-15T08:00:00.123456Z");
        assert_eq!(Timestamp::ZERO.to_string(), "1970-01-01T00:00:00.000000Z");
        // Leap day and end of a leap year.
        assert_eq!(
            Timestamp::from_secs(951_782_400).to_string(),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(
            Timestamp::from_parts(1_230_767_999, 999_999_000).to_string(),
            "2008-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn times_before_the_epoch_are_formatted() {
        assert_eq!(
            Timestamp::from_parts(-1, 500_000_000).to_string(),
            "1969-12-31T23:59:59.500000Z"
        );
    }

    #[test]
    fn rfc3339_round_trips() {
        for ts in [
            Timestamp::from_parts(1_705_305_600, 123_456_000),
            Timestamp::ZERO,
            Timestamp::from_parts(951_782_400, 0),
            Timestamp::from_parts(-1, 500_000_000),
        ] {
            assert_eq!(Timestamp::parse_rfc3339(&ts.to_string()), Some(ts), "{ts}");
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2024-01-15T08:00:00Z"),
            Some(Timestamp::from_secs(1_705_305_600))
        );
        for bad in [
            "",
            "2024-01-15",
            "2024-13-01T00:00:00Z",
            "2024-01-15T08:00:00",
            "2024-01-15T08:00:00.Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn secs_since_saturates() {
        let a = Timestamp::from_secs(100);
        let b = Timestamp::from_secs(130);
        assert_eq!(b.secs_since(a), 30);
        assert_eq!(a.secs_since(b), 0);
    }
}
