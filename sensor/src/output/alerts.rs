//! `alerts.jsonl`: one JSON object per alert, in the order they first happened.

use std::io::{self, Write};

use crate::analysis::policy::Alert;

pub fn write_jsonl(alerts: &[Alert], out: &mut impl Write) -> io::Result<()> {
    for alert in alerts {
        serde_json::to_writer(&mut *out, alert)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
