//! `events.jsonl`: one JSON object per application PDU, in packet order.
//! The field names and order are the contract documented in `docs/events.md`.

use std::io::{self, Write};

use super::json::{JsonWriter, write_bool, write_ip, write_mac, write_name, write_str, write_u64};
use crate::event::{Anomalies, Event};
use crate::pipeline::Sink;
use crate::time::Timestamp;

/// Writes events as JSON lines to `out`, formatting straight into one reused
/// buffer that is handed to `out` in large writes.
pub struct EventLog<W: Write + Send> {
    out: W,
    buffer: Vec<u8>,
    renderer: Renderer,
    written: u64,
}

/// Bytes gathered before they are written out.
const FLUSH_AT: usize = 1 << 20;

impl<W: Write + Send> EventLog<W> {
    /// Writes events as `renderer` formats them.
    pub fn new(out: W, renderer: Renderer) -> EventLog<W> {
        EventLog {
            out,
            buffer: Vec::with_capacity(FLUSH_AT + 4096),
            renderer,
            written: 0,
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.renderer.render(event, &mut self.buffer);
        self.buffer.push(b'\n');
        self.written += 1;
        if self.buffer.len() >= FLUSH_AT {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Writes out what is buffered and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        self.out.flush()
    }
}

impl<W: Write + Send> Sink for EventLog<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.write(event)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Formats events as JSON objects. The fixed leading fields are written as
/// literal runs, and the date part of the timestamp is reused while the
/// second stays the same.
#[derive(Default)]
pub struct Renderer {
    /// Capture file names, written per event only when the timeline has several.
    captures: Option<Vec<String>>,
    /// Write cleartext credentials as seen (`--show-secrets`).
    show_secrets: bool,
    second: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SS.` of `second`.
    date: [u8; 20],
}

impl Renderer {
    /// `captures` are the names of the timeline's files, in order.
    pub fn new(captures: Vec<String>) -> Renderer {
        Renderer {
            captures: (captures.len() > 1).then_some(captures),
            ..Renderer::default()
        }
    }

    /// Cleartext credentials are redacted unless `show` is set.
    pub fn show_secrets(mut self, show: bool) -> Renderer {
        self.show_secrets = show;
        self
    }

    /// Appends the JSON object for `event` to `out`.
    pub fn render(&mut self, event: &Event, out: &mut Vec<u8>) {
        let h = &event.header;
        let pdu = &event.pdu;
        out.extend_from_slice(br#"{"ts":""#);
        self.timestamp(h.ts, out);
        out.extend_from_slice(br#"","packet":"#);
        write_u64(out, h.packet);
        if let Some(name) = self
            .captures
            .as_ref()
            .and_then(|names| names.get(usize::from(h.capture)))
        {
            out.extend_from_slice(br#","capture":"#);
            write_str(out, name);
        }
        out.extend_from_slice(br#","flow":"#);
        write_u64(out, h.flow);
        out.extend_from_slice(br#","src_ip":"#);
        write_ip(out, h.src_ip);
        out.extend_from_slice(br#","dst_ip":"#);
        write_ip(out, h.dst_ip);
        out.extend_from_slice(br#","src_port":"#);
        write_port(out, h.src_port);
        out.extend_from_slice(br#","dst_port":"#);
        write_port(out, h.dst_port);
        out.extend_from_slice(br#","src_mac":"#);
        write_mac(out, h.src_mac);
        out.extend_from_slice(br#","dst_mac":"#);
        write_mac(out, h.dst_mac);
        out.extend_from_slice(br#","transport":"#);
        write_name(out, h.transport.name());
        out.extend_from_slice(br#","protocol":"#);
        write_name(out, pdu.protocol.name());
        out.extend_from_slice(br#","is_response":"#);
        write_bool(out, pdu.is_response);
        out.extend_from_slice(br#","function_code":"#);
        match pdu.function_code {
            Some(code) => write_u64(out, code.into()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(br#","function":"#);
        write_str(out, pdu.function);
        out.extend_from_slice(br#","class":"#);
        write_name(out, pdu.class.name());
        let mut w = JsonWriter::resume(out).show_secrets(self.show_secrets);
        if !pdu.anomalies.is_empty() {
            let overflow = pdu.anomalies.overflowed().then_some(Anomalies::OVERFLOW);
            w.strs("anomalies", pdu.anomalies.iter().chain(overflow));
        }
        pdu.fields.visit(&mut w);
        if let Some(identity) = &pdu.identity {
            identity.visit(&mut w);
        }
        w.finish();
    }

    /// RFC 3339 with microseconds, without the quotes.
    fn timestamp(&mut self, ts: Timestamp, out: &mut Vec<u8>) {
        if self.second != Some(ts.secs()) {
            let mut full = [0u8; 27];
            ts.write_rfc3339_micros(&mut full);
            self.date.copy_from_slice(&full[..20]);
            self.second = Some(ts.secs());
        }
        let mut micros = [b'0', b'0', b'0', b'0', b'0', b'0', b'Z'];
        let mut value = ts.subsec_nanos() / 1000;
        for digit in micros[..6].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
        out.extend_from_slice(&self.date);
        out.extend_from_slice(&micros);
    }
}

fn write_port(out: &mut Vec<u8>, port: Option<u16>) {
    match port {
        Some(port) => write_u64(out, port.into()),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn event(ts: Timestamp, capture: u16) -> Event {
        let src = IpAddr::from([10, 0, 0, 5]);
        let mut event = Event::modbus_read_request(7, src, "fd00::20".parse().unwrap());
        let h = &mut event.header;
        (h.ts, h.capture, h.flow) = (ts, capture, 3);
        (h.src_mac, h.src_port) = (Some([0, 0x0c, 0x29, 0xaa, 0xbb, 0xcc]), Some(50000));
        event.pdu.anomalies.add("illegal_quantity");
        event
    }

    fn line(renderer: &mut Renderer, event: &Event) -> serde_json::Value {
        let mut out = Vec::new();
        renderer.render(event, &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn the_common_fields_are_written_in_contract_order() {
        let mut renderer = Renderer::new(vec!["only.pcap".into()]);
        let mut out = Vec::new();
        renderer.render(
            &event(Timestamp::from_parts(1_705_305_600, 4_429_000), 0),
            &mut out,
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{"ts":"2024-01-15T08:00:00.004429Z","packet":7,"flow":3,"src_ip":"10.0.0.5","dst_ip":"fd00::20","src_port":50000,"dst_port":502,"src_mac":"00:0c:29:aa:bb:cc","dst_mac":null,"transport":"tcp","protocol":"modbus","is_response":false,"function_code":3,"function":"read_holding_registers","class":"read","anomalies":["illegal_quantity"]}"#
        );
    }

    #[test]
    fn timestamps_stay_right_across_seconds_and_capture_names_appear_with_several_files() {
        let mut renderer = Renderer::new(vec!["a.pcap".into(), "b.pcap".into()]);
        let times = [
            (100, 999_999_000),
            (100, 5_000),
            (101, 0),
            (99, 250_000_000),
        ];
        let expected = [
            "1970-01-01T00:01:40.999999Z",
            "1970-01-01T00:01:40.000005Z",
            "1970-01-01T00:01:41.000000Z",
            "1970-01-01T00:01:39.250000Z",
        ];
        for ((secs, nanos), want) in times.into_iter().zip(expected) {
            let value = line(&mut renderer, &event(Timestamp::from_parts(secs, nanos), 1));
            assert_eq!(value["ts"], want);
            assert_eq!(value["capture"], "b.pcap");
        }
    }
}
