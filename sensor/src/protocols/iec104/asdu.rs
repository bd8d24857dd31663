//! The ASDU: data unit identifier (type, variable structure qualifier, cause
//! of transmission, originator and common addresses) and the walk over its
//! information objects, decoding the values of the monitoring, command,
//! system and parameter types.
//!
//! IEC 60870-5-104 fixes the field sizes the companion standard leaves open:
//! two octets of cause (cause, then originator address), two of common
//! address, three of information object address. All integers are little-endian.

use super::anomaly::*;
use super::names::{
    Cause, ElementSize, Layout, Quality, TimeTag, TypeId, double_state, step_state,
};
use super::{Iec104Fields, InfoObject, MAX_VALUES, ObjectValue};
use crate::event::Anomalies;

/// Type, VSQ, two octets of cause, two of common address.
pub const HEADER_LEN: usize = 6;
/// Octets of an information object address.
pub const IOA_LEN: usize = 3;

pub(super) fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        0,
    ]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// Decodes an ASDU (the APDU after its six APCI octets) into `f`, as far as
/// its bytes go: the header fields present, then the objects. Object values
/// beyond [`MAX_VALUES`] are not kept (`objects_truncated`); their addresses are.
pub fn decode(asdu: &[u8], f: &mut Iec104Fields, a: &mut Anomalies) {
    let Some(&type_id) = asdu.first() else {
        a.add(MISSING_ASDU);
        return;
    };
    let t = TypeId(type_id);
    f.type_id = Some(type_id);
    let info = t.info();
    if info.is_none() {
        a.add(UNKNOWN_TYPE_ID);
    }
    if let Some(&vsq) = asdu.get(1) {
        f.sq = Some(vsq & 0x80 != 0);
        f.num_objects = Some(vsq & 0x7F);
    }
    if let Some(&cot) = asdu.get(2) {
        let cause = cot & Cause::MASK;
        f.cause = Some(cause);
        f.negative = Some(cot & Cause::NEGATIVE != 0);
        f.test = Some(cot & Cause::TEST != 0);
        if Cause(cause).name().is_none() {
            a.add(UNKNOWN_CAUSE);
        }
    }
    f.originator_address = asdu.get(3).copied();
    f.common_address = le16(asdu, 4);
    if asdu.len() < HEADER_LEN {
        a.add(TRUNCATED_ASDU);
        return;
    }
    let (Some(info), Some(num), Some(sq)) = (info, f.num_objects, f.sq) else {
        // Unknown type: the objects cannot be walked, but the first address
        // sits at the same place whatever the type.
        f.ioa.extend(le24(asdu, HEADER_LEN));
        return;
    };
    let fixed = match info.size {
        ElementSize::Fixed(n) => Some(usize::from(n)),
        ElementSize::FileSegment => None,
        ElementSize::Variable => {
            f.ioa.extend(le24(asdu, HEADER_LEN));
            return;
        }
    };
    f.ioa.reserve_exact(usize::from(num));
    let mut at = HEADER_LEN;
    let mut first = 0;
    for i in 0..num {
        let ioa = if i == 0 || !sq {
            let Some(ioa) = le24(asdu, at) else {
                a.add(ASDU_LENGTH_MISMATCH);
                return;
            };
            at += IOA_LEN;
            if i == 0 {
                first = ioa;
            }
            ioa
        } else {
            // SQ=1: one address, then consecutive elements.
            first.wrapping_add(u32::from(i)) & 0x00FF_FFFF
        };
        f.ioa.push(ioa);
        let size = match fixed {
            Some(n) => n,
            // F_SG_NA_1: NOF (2), NOS (1), LOS (1), then LOS octets.
            None => match asdu.get(at + 3) {
                Some(&los) => 4 + usize::from(los),
                None => {
                    a.add(ASDU_LENGTH_MISMATCH);
                    return;
                }
            },
        };
        let Some(element) = asdu.get(at..at + size) else {
            a.add(ASDU_LENGTH_MISMATCH);
            return;
        };
        at += size;
        let object = element_value(t, ioa, element, a);
        if i == 0 && t.has_select() {
            f.select = object.select;
        }
        if f.values.len() < MAX_VALUES {
            f.values.push(object);
        } else {
            f.objects_truncated = true;
        }
    }
    if at != asdu.len() {
        a.add(ASDU_LENGTH_MISMATCH);
    }
}

/// Decodes one object's elements (exactly its size, as [`decode`] guarantees).
fn element_value(t: TypeId, ioa: u32, e: &[u8], a: &mut Anomalies) -> InfoObject {
    let mut o = InfoObject {
        ioa,
        ..InfoObject::default()
    };
    let byte = |at: usize| e.get(at).copied().unwrap_or_default();
    let i16_at = |at: usize| le16(e, at).map_or(0, |v| v as i16);
    let f32_at = |at: usize, a: &mut Anomalies| {
        let x = le32(e, at).map_or(0.0, f32::from_bits);
        if !x.is_finite() {
            a.add(NON_FINITE_VALUE);
        }
        ObjectValue::Short(x)
    };
    // QDS: OV and BL, SB, NT, IV (SIQ and DIQ have the last four).
    let qds = |q: u8| Quality(q & 0xF1);
    // QDP and SEP: EI and BL, SB, NT, IV.
    let qdp = |q: u8| Quality(q & 0xF8);
    let used = match t.layout() {
        Layout::SinglePoint => {
            o.value = Some(ObjectValue::Bool(byte(0) & 0x01 != 0));
            o.quality = qds(byte(0) & 0xF0);
            1
        }
        Layout::DoublePoint => {
            o.value = Some(ObjectValue::Unsigned((byte(0) & 0x03).into()));
            o.state = Some(double_state(byte(0)));
            o.quality = qds(byte(0) & 0xF0);
            1
        }
        Layout::StepPosition => {
            // VTI: a 7-bit two's complement value and the transient bit.
            let v = ((byte(0) << 1) as i8) >> 1;
            o.value = Some(ObjectValue::Signed(v.into()));
            o.transient = Some(byte(0) & 0x80 != 0);
            o.quality = qds(byte(1));
            2
        }
        Layout::Bitstring => {
            o.value = Some(ObjectValue::Unsigned(le32(e, 0).unwrap_or_default()));
            o.quality = qds(byte(4));
            5
        }
        Layout::Normalized => {
            o.value = Some(normalized(i16_at(0)));
            o.quality = qds(byte(2));
            3
        }
        Layout::Scaled => {
            o.value = Some(ObjectValue::Signed(i16_at(0).into()));
            o.quality = qds(byte(2));
            3
        }
        Layout::Float => {
            o.value = Some(f32_at(0, a));
            o.quality = qds(byte(4));
            5
        }
        Layout::IntegratedTotals => {
            let flags = byte(4);
            o.value = Some(ObjectValue::Signed(le32(e, 0).map_or(0, |v| v as i32)));
            o.counter_sequence = Some(flags & 0x1F);
            let mut q = 0;
            if flags & 0x20 != 0 {
                q |= Quality::CARRY;
            }
            if flags & 0x40 != 0 {
                q |= Quality::ADJUSTED;
            }
            q |= flags & Quality::INVALID;
            o.quality = Quality(q);
            5
        }
        Layout::ProtectionEvent => {
            o.value = Some(ObjectValue::Unsigned((byte(0) & 0x03).into()));
            o.state = Some(double_state(byte(0)));
            o.quality = qdp(byte(0));
            o.elapsed_ms = le16(e, 1);
            3
        }
        Layout::ProtectionPacked => {
            o.value = Some(ObjectValue::Unsigned(byte(0).into()));
            o.quality = qdp(byte(1));
            o.elapsed_ms = le16(e, 2);
            4
        }
        Layout::PackedSinglePoint => {
            o.value = Some(ObjectValue::Unsigned(le32(e, 0).unwrap_or_default()));
            o.quality = qds(byte(4));
            5
        }
        Layout::NormalizedNoQuality => {
            o.value = Some(normalized(i16_at(0)));
            2
        }
        Layout::SingleCommand => {
            o.value = Some(ObjectValue::Bool(byte(0) & 0x01 != 0));
            command_qualifier(&mut o, byte(0));
            1
        }
        Layout::DoubleCommand => {
            o.value = Some(ObjectValue::Unsigned((byte(0) & 0x03).into()));
            o.state = Some(double_state(byte(0)));
            command_qualifier(&mut o, byte(0));
            1
        }
        Layout::RegulatingStep => {
            o.value = Some(ObjectValue::Unsigned((byte(0) & 0x03).into()));
            o.state = Some(step_state(byte(0)));
            command_qualifier(&mut o, byte(0));
            1
        }
        Layout::SetpointNormalized => {
            o.value = Some(normalized(i16_at(0)));
            setpoint_qualifier(&mut o, byte(2));
            3
        }
        Layout::SetpointScaled => {
            o.value = Some(ObjectValue::Signed(i16_at(0).into()));
            setpoint_qualifier(&mut o, byte(2));
            3
        }
        Layout::SetpointFloat => {
            o.value = Some(f32_at(0, a));
            setpoint_qualifier(&mut o, byte(4));
            5
        }
        Layout::BitstringCommand => {
            o.value = Some(ObjectValue::Unsigned(le32(e, 0).unwrap_or_default()));
            4
        }
        Layout::Qualifier => {
            o.qualifier = Some(byte(0));
            1
        }
        Layout::ClockSync => 0,
        Layout::TestPattern => {
            let pattern = le16(e, 0).unwrap_or_default();
            o.value = Some(ObjectValue::Unsigned(pattern.into()));
            if pattern != TypeId::TEST_PATTERN {
                a.add(INVALID_TEST_PATTERN);
            }
            2
        }
        Layout::Delay => {
            o.elapsed_ms = le16(e, 0);
            2
        }
        Layout::TestCounter => {
            o.value = Some(ObjectValue::Unsigned(le16(e, 0).unwrap_or_default().into()));
            2
        }
        Layout::ParameterNormalized => {
            o.value = Some(normalized(i16_at(0)));
            o.qualifier = Some(byte(2));
            3
        }
        Layout::ParameterScaled => {
            o.value = Some(ObjectValue::Signed(i16_at(0).into()));
            o.qualifier = Some(byte(2));
            3
        }
        Layout::ParameterFloat => {
            o.value = Some(f32_at(0, a));
            o.qualifier = Some(byte(4));
            5
        }
        Layout::Opaque => return o,
    };
    let tag = e.get(used..).unwrap_or_default();
    o.time = match t.time_tag() {
        TimeTag::None => None,
        TimeTag::Cp24 => Some(Time::Cp24(Cp24Time::read(tag))),
        TimeTag::Cp56 => Some(Time::Cp56(Cp56Time::read(tag))),
    };
    if o.time.is_some_and(|time| !time.is_valid()) {
        a.add(INVALID_TIME);
    }
    o
}

/// NVA: a fraction of full scale, -1 to 1 - 2^-15 (exact in an f64).
fn normalized(raw: i16) -> ObjectValue {
    ObjectValue::Float(f64::from(raw) / 32768.0)
}

/// `x` as the f64 whose shortest decimal is the shortest decimal of the f32
/// (0.1f32 becomes 0.1, not 0.10000000149011612).
pub(super) fn shortest_f64(x: f32) -> f64 {
    use std::fmt::Write as _;
    struct Buf {
        bytes: [u8; 64],
        len: usize,
    }
    impl std::fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
            slot.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    if !x.is_finite() {
        return f64::from(x);
    }
    let mut buf = Buf {
        bytes: [0; 64],
        len: 0,
    };
    // f32 Display writes at most 48 characters (sign, 0., 45 digits).
    write!(buf, "{x}")
        .ok()
        .and_then(|()| std::str::from_utf8(buf.bytes.get(..buf.len)?).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(f64::from(x))
}

/// SCO, DCO, RCO: S/E bit and qualifier of command (pulse kind) in bits 2–6.
fn command_qualifier(o: &mut InfoObject, octet: u8) {
    o.select = Some(octet & 0x80 != 0);
    o.qualifier = Some((octet >> 2) & 0x1F);
}

/// QOS: S/E bit and the qualifier QL in bits 0–6.
fn setpoint_qualifier(o: &mut InfoObject, octet: u8) {
    o.select = Some(octet & 0x80 != 0);
    o.qualifier = Some(octet & 0x7F);
}

/// A time tag as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    Cp24(Cp24Time),
    Cp56(Cp56Time),
}

impl Time {
    pub fn is_valid(self) -> bool {
        match self {
            Time::Cp24(t) => t.is_valid(),
            Time::Cp56(t) => t.is_valid(),
        }
    }

    /// The IV bit: the sender marks the time as not trustworthy.
    pub fn invalid_flag(self) -> bool {
        match self {
            Time::Cp24(t) => t.invalid,
            Time::Cp56(t) => t.invalid,
        }
    }
}

/// CP24Time2a: milliseconds within the minute and the minute of the hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cp24Time {
    pub ms: u16,
    pub minute: u8,
    pub invalid: bool,
}

impl Cp24Time {
    fn read(b: &[u8]) -> Cp24Time {
        let minute = b.get(2).copied().unwrap_or_default();
        Cp24Time {
            ms: le16(b, 0).unwrap_or_default(),
            minute: minute & 0x3F,
            invalid: minute & 0x80 != 0,
        }
    }

    pub fn is_valid(self) -> bool {
        self.ms < 60_000 && self.minute < 60
    }

    /// `MM:SS.mmm` within the hour, or `None` when out of range.
    pub fn render(self, buf: &mut [u8; 9]) -> Option<&str> {
        if !self.is_valid() {
            return None;
        }
        let mut w = Digits { buf, len: 0 };
        w.num(self.minute.into(), 2);
        w.push(b':');
        w.num((self.ms / 1000).into(), 2);
        w.push(b'.');
        w.num((self.ms % 1000).into(), 3);
        w.text()
    }
}

/// CP56Time2a: a full date to the millisecond, in the sender's time base
/// (the wire carries no zone), years 2000 + 0..=99.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cp56Time {
    pub ms: u16,
    pub minute: u8,
    pub hour: u8,
    pub day: u8,
    /// Day of week, 1 (Monday) to 7; 0 when not used.
    pub weekday: u8,
    pub month: u8,
    /// 0..=127 on the wire; 0..=99 is valid (2000–2099).
    pub year: u8,
    /// IV: the time is invalid.
    pub invalid: bool,
    /// SU: summer time.
    pub summer_time: bool,
}

impl Cp56Time {
    pub fn read(b: &[u8]) -> Cp56Time {
        let byte = |at: usize| b.get(at).copied().unwrap_or_default();
        Cp56Time {
            ms: le16(b, 0).unwrap_or_default(),
            minute: byte(2) & 0x3F,
            invalid: byte(2) & 0x80 != 0,
            hour: byte(3) & 0x1F,
            summer_time: byte(3) & 0x80 != 0,
            day: byte(4) & 0x1F,
            weekday: byte(4) >> 5,
            month: byte(5) & 0x0F,
            year: byte(6) & 0x7F,
        }
    }

    /// All fields in range (a real calendar date, year 0..=99).
    pub fn is_valid(self) -> bool {
        self.year <= 99 && self.renderable()
    }

    /// Fields that make a calendar date, whatever the year.
    fn renderable(self) -> bool {
        let year = 2000 + u32::from(self.year);
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        self.ms < 60_000 && self.minute < 60 && self.hour < 24 && (1..=days).contains(&self.day)
    }

    /// RFC 3339 (`2009-08-13T19:23:00.008Z`). The wire has no zone: the time
    /// is written as UTC, which is what most IEC 104 systems use. Years past
    /// 99 (invalid) are still written, as 2100–2127; `None` when the fields
    /// are not a calendar date.
    pub fn render(self, buf: &mut [u8; 24]) -> Option<&str> {
        if !self.renderable() {
            return None;
        }
        let mut w = Digits { buf, len: 0 };
        w.num(2000 + u32::from(self.year), 4);
        w.push(b'-');
        w.num(self.month.into(), 2);
        w.push(b'-');
        w.num(self.day.into(), 2);
        w.push(b'T');
        w.num(self.hour.into(), 2);
        w.push(b':');
        w.num(self.minute.into(), 2);
        w.push(b':');
        w.num((self.ms / 1000).into(), 2);
        w.push(b'.');
        w.num((self.ms % 1000).into(), 3);
        w.push(b'Z');
        w.text()
    }
}

/// Writes fixed-width decimal fields into a stack buffer (no allocation).
struct Digits<'b, const N: usize> {
    buf: &'b mut [u8; N],
    len: usize,
}

impl<'b, const N: usize> Digits<'b, N> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `value` zero-padded to `width` digits (higher digits are dropped).
    fn num(&mut self, value: u32, width: u32) {
        for place in (0..width).rev() {
            let digit = (value / 10u32.pow(place)) % 10;
            self.push(b'0' + digit as u8);
        }
    }

    fn text(self) -> Option<&'b str> {
        std::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
}
