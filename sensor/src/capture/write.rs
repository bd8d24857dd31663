//! Writing captures: classic pcap and pcapng, in either byte order. Used to
//! build test and benchmark inputs, and to save traffic the sensor selects.

use std::io::{self, Write};

use super::clock::units_per_second;
use crate::time::Timestamp;

/// Writes a classic pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
    big_endian: bool,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: link type `dlt`, nanosecond or microsecond timestamps.
    pub fn new(mut out: W, dlt: u32, nanos: bool, big_endian: bool) -> io::Result<PcapWriter<W>> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut header = Vec::with_capacity(24);
        put_u32(&mut header, magic, big_endian);
        put_u16(&mut header, 2, big_endian);
        put_u16(&mut header, 4, big_endian);
        put_u32(&mut header, 0, big_endian); // thiszone
        put_u32(&mut header, 0, big_endian); // sigfigs
        put_u32(&mut header, 262_144, big_endian); // snaplen
        put_u32(&mut header, dlt, big_endian);
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            big_endian,
            nanos,
        })
    }

    /// Writes one record; `orig_len` may exceed `frame.len()` (a snaplen cut).
    pub fn packet(&mut self, ts: Timestamp, frame: &[u8], orig_len: u32) -> io::Result<()> {
        let be = self.big_endian;
        let frac = if self.nanos {
            ts.subsec_nanos()
        } else {
            ts.subsec_nanos() / 1000
        };
        let mut header = Vec::with_capacity(16);
        put_u32(&mut header, ts.secs() as u32, be);
        put_u32(&mut header, frac, be);
        put_u32(&mut header, frame.len() as u32, be);
        put_u32(&mut header, orig_len.max(frame.len() as u32), be);
        self.out.write_all(&header)?;
        self.out.write_all(frame)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes a pcapng file: a section header, then interfaces and packets.
pub struct PcapNgWriter<W: Write> {
    out: W,
    big_endian: bool,
    /// Units per second and offset (seconds) of each interface, to encode timestamps.
    clocks: Vec<(u64, i64)>,
}

impl<W: Write> PcapNgWriter<W> {
    pub fn new(mut out: W, big_endian: bool) -> io::Result<PcapNgWriter<W>> {
        let mut body = Vec::new();
        put_u32(&mut body, 0x1A2B_3C4D, big_endian); // byte-order magic
        put_u16(&mut body, 1, big_endian);
        put_u16(&mut body, 0, big_endian);
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: unknown
        write_block(&mut out, 0x0A0D_0D0A, &body, big_endian)?;
        Ok(PcapNgWriter {
            out,
            big_endian,
            clocks: Vec::new(),
        })
    }

    /// Describes an interface; `tsresol` is the if_tsresol option: 6 = µs,
    /// 9 = ns, bit 7 set for a power of two (0x94 = 2^-20 s). Returns its
    /// interface id.
    pub fn interface(&mut self, dlt: u16, snaplen: u32, tsresol: u8) -> io::Result<u32> {
        self.interface_with_offset(dlt, snaplen, tsresol, 0)
    }

    /// [`interface`](Self::interface) with an if_tsoffset option too
    /// (seconds added to every timestamp) when `tsoffset` is not 0.
    pub fn interface_with_offset(
        &mut self,
        dlt: u16,
        snaplen: u32,
        tsresol: u8,
        tsoffset: i64,
    ) -> io::Result<u32> {
        let be = self.big_endian;
        let mut body = Vec::new();
        put_u16(&mut body, dlt, be);
        put_u16(&mut body, 0, be);
        put_u32(&mut body, snaplen, be);
        if tsresol != 6 {
            put_u16(&mut body, 9, be); // if_tsresol
            put_u16(&mut body, 1, be);
            body.extend_from_slice(&[tsresol, 0, 0, 0]);
        }
        if tsoffset != 0 {
            put_u16(&mut body, 14, be); // if_tsoffset
            put_u16(&mut body, 8, be);
            body.extend_from_slice(&if be {
                tsoffset.to_be_bytes()
            } else {
                tsoffset.to_le_bytes()
            });
        }
        if tsresol != 6 || tsoffset != 0 {
            put_u16(&mut body, 0, be); // opt_endofopt
            put_u16(&mut body, 0, be);
        }
        write_block(&mut self.out, 1, &body, be)?;
        // An impossible resolution is written as asked (readers must refuse
        // it); packets on that interface are then encoded in microseconds.
        let per_sec = units_per_second(tsresol).unwrap_or(1_000_000);
        self.clocks.push((per_sec, tsoffset));
        Ok((self.clocks.len() - 1) as u32)
    }

    /// Writes an Enhanced Packet Block.
    pub fn packet(
        &mut self,
        interface: u32,
        ts: Timestamp,
        frame: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let be = self.big_endian;
        let (per_sec, offset) = self
            .clocks
            .get(interface as usize)
            .copied()
            .unwrap_or((1_000_000, 0));
        let per_sec = u128::from(per_sec);
        let secs = ts.secs().saturating_sub(offset).max(0) as u128;
        let units =
            (secs * per_sec + u128::from(ts.subsec_nanos()) * per_sec / 1_000_000_000) as u64;
        let mut body = Vec::with_capacity(20 + frame.len() + 3);
        put_u32(&mut body, interface, be);
        put_u32(&mut body, (units >> 32) as u32, be);
        put_u32(&mut body, units as u32, be);
        put_u32(&mut body, frame.len() as u32, be);
        put_u32(&mut body, orig_len.max(frame.len() as u32), be);
        body.extend_from_slice(frame);
        write_block(&mut self.out, 6, &body, be)
    }

    /// Writes a Simple Packet Block (interface 0, no timestamp).
    pub fn simple_packet(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut body = Vec::with_capacity(4 + frame.len() + 3);
        put_u32(&mut body, frame.len() as u32, self.big_endian);
        body.extend_from_slice(frame);
        write_block(&mut self.out, 3, &body, self.big_endian)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Writes a pcapng block: type, total length, body padded to 32 bits, total length.
fn write_block(
    out: &mut impl Write,
    block_type: u32,
    body: &[u8],
    big_endian: bool,
) -> io::Result<()> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut block = Vec::with_capacity(total as usize);
    put_u32(&mut block, block_type, big_endian);
    put_u32(&mut block, total, big_endian);
    block.extend_from_slice(body);
    block.resize(8 + padded, 0);
    put_u32(&mut block, total, big_endian);
    out.write_all(&block)
}

fn put_u32(out: &mut Vec<u8>, v: u32, big_endian: bool) {
    out.extend_from_slice(&if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn put_u16(out: &mut Vec<u8>, v: u16, big_endian: bool) {
    out.extend_from_slice(&if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}
