//! Numbers and times as the dashboard writes them: short, and from packet
//! time only, so that the same capture always draws the same screen.

use crate::time::Timestamp;

pub use crate::output::summary::{bytes, count};

/// 1234 → "1.2k", 5_600_000 → "5.6M".
pub fn short(n: f64) -> String {
    let (value, unit) = if n >= 1e9 {
        (n / 1e9, "G")
    } else if n >= 1e6 {
        (n / 1e6, "M")
    } else if n >= 1e4 {
        (n / 1e3, "k")
    } else {
        return format!("{n:.0}");
    };
    format!("{value:.1}{unit}")
}

/// Megabits per second from bytes in one second.
pub fn mbits(bytes: u64) -> String {
    let mbit = bytes as f64 * 8.0 / 1e6;
    if mbit >= 100.0 {
        format!("{mbit:.0}")
    } else if mbit >= 1.0 {
        format!("{mbit:.1}")
    } else {
        format!("{mbit:.2}")
    }
}

/// How long before `now` something happened: "4s", "12m", "3h", "2d".
pub fn age(now: Option<Timestamp>, then: Timestamp) -> String {
    let Some(now) = now else {
        return String::new();
    };
    let secs = now.secs_since(then);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// "2024-01-15 08:00:01" (UTC).
pub fn datetime(ts: Timestamp) -> String {
    let text = ts.to_string();
    format!("{} {}", &text[..10], &text[11..19])
}

/// "08:00:01" (UTC).
pub fn clock(ts: Timestamp) -> String {
    ts.to_string()[11..19].to_string()
}

/// At most `width` characters, with "…" when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ages_read_short() {
        assert_eq!(short(512.0), "512");
        assert_eq!(short(12_345.0), "12.3k");
        assert_eq!(short(2_630_606.0), "2.6M");
        assert_eq!(mbits(125_000), "1.0");
        assert_eq!(mbits(12_500), "0.10");
        let now = Some(Timestamp::from_secs(10_000));
        assert_eq!(age(now, Timestamp::from_secs(9_996)), "4s");
        assert_eq!(age(now, Timestamp::from_secs(10_000 - 720)), "12m");
        assert_eq!(age(now, Timestamp::from_secs(0)), "2h");
        assert_eq!(age(None, Timestamp::from_secs(0)), "");
        assert_eq!(
            datetime(Timestamp::from_secs(1_705_305_601)),
            "2024-01-15 08:00:01"
        );
        assert_eq!(fit("Schneider Electric", 9), "Schneide…");
        assert_eq!(fit("WAGO", 9), "WAGO");
    }
}
