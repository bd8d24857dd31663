//! `events.jsonl`: one JSON object per application PDU, in packet order.
//! The field names and order are the contract documented in `docs/events.md`.

use std::io::{self, Write};

use super::json::JsonWriter;
use crate::event::Event;
use crate::pipeline::Sink;

/// Writes events as JSON lines to `out`, formatting into one reused buffer.
pub struct EventLog<W: Write + Send> {
    out: W,
    line: Vec<u8>,
    /// Capture file names, written per event only when the timeline has several.
    captures: Option<Vec<String>>,
    written: u64,
}

impl<W: Write + Send> EventLog<W> {
    /// `captures` are the names of the timeline's files, in order.
    pub fn new(out: W, captures: Vec<String>) -> EventLog<W> {
        EventLog {
            out,
            line: Vec::with_capacity(1024),
            captures: (captures.len() > 1).then_some(captures),
            written: 0,
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.line.clear();
        render(event, self.captures.as_deref(), &mut self.line);
        self.line.push(b'\n');
        self.written += 1;
        self.out.write_all(&self.line)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Sink for EventLog<W> {
    fn events(&mut self, events: &[Event]) -> io::Result<()> {
        for event in events {
            self.write(event)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Appends the JSON object for `event` to `out`.
pub fn render(event: &Event, captures: Option<&[String]>, out: &mut Vec<u8>) {
    let h = &event.header;
    let pdu = &event.pdu;
    let mut w = JsonWriter::object(out);
    let mut ts = [0u8; 27];
    w.str("ts", h.ts.write_rfc3339_micros(&mut ts));
    w.u64("packet", h.packet);
    if let Some(name) = captures.and_then(|names| names.get(usize::from(h.capture))) {
        w.str("capture", name);
    }
    w.u64("flow", h.flow);
    w.ip("src_ip", h.src_ip);
    w.ip("dst_ip", h.dst_ip);
    match (h.src_port, h.dst_port) {
        (Some(src), Some(dst)) => {
            w.u64("src_port", src.into());
            w.u64("dst_port", dst.into());
        }
        _ => {
            w.null("src_port");
            w.null("dst_port");
        }
    }
    w.mac("src_mac", h.src_mac);
    w.mac("dst_mac", h.dst_mac);
    w.str("transport", h.transport.name());
    w.str("protocol", pdu.protocol.name());
    w.bool("is_response", pdu.is_response);
    match pdu.function_code {
        Some(code) => w.u64("function_code", code.into()),
        None => w.null("function_code"),
    }
    w.str("function", pdu.function);
    w.str("class", pdu.class.name());
    if !pdu.anomalies.is_empty() {
        let overflow = pdu
            .anomalies
            .overflowed()
            .then_some(crate::event::Anomalies::OVERFLOW);
        w.strs("anomalies", pdu.anomalies.iter().chain(overflow));
    }
    pdu.fields.visit(&mut w);
    w.finish();
}
