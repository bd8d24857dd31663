//! Object headers of an application fragment: group, variation, qualifier
//! and range, for every header in the fragment. To reach the next header the
//! data of each object must be skipped, so this module knows the size of the
//! objects of the common groups ([`layout`]); when a size is unknown and the
//! qualifier does not give it, the walk stops with `unknown_object_size`.
//!
//! While walking, the values an analyst acts on are kept: the control
//! blocks of select/operate requests and their echoes (CROB g12v1, analog
//! output blocks g41), and the device attributes (g0) that identify the
//! device.

use super::anomaly::*;
use crate::event::{Anomalies, Identity};

/// Object headers kept per fragment; further ones are counted only.
pub const MAX_HEADERS: usize = 64;
/// Control blocks kept per fragment.
pub const MAX_CONTROLS: usize = 16;
/// Longest device attribute string kept (a VSTR holds at most 255 bytes).
const MAX_ATTRIBUTE_LEN: usize = 255;

/// One object header as it was read: fields are present only if the
/// fragment was long enough to hold them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectHeader {
    pub group: u8,
    pub variation: u8,
    /// Qualifier byte: prefix code in bits 4–6, range code in bits 0–3.
    pub qualifier: Option<u8>,
    /// Range codes 0–2: first and last index (Wireshark `dnp3.al.range.start`/`stop`).
    pub start: Option<u32>,
    pub stop: Option<u32>,
    /// Range codes 7–9 and 11: object count (Wireshark `dnp3.al.range.quantity`).
    pub quantity: Option<u32>,
    /// Range codes 3–5: absolute address (Wireshark `dnp3.al.range.abs`).
    pub address: Option<u32>,
}

impl ObjectHeader {
    /// Index prefix / object size prefix code (Wireshark `dnp3.al.objq.prefix`).
    pub fn prefix_code(&self) -> Option<u8> {
        self.qualifier.map(|q| (q >> 4) & 0x07)
    }

    /// Range specifier code (Wireshark `dnp3.al.objq.range`).
    pub fn range_code(&self) -> Option<u8> {
        self.qualifier.map(|q| q & 0x0F)
    }

    /// `g30v1`, written into `buf`.
    pub fn name<'b>(&self, buf: &'b mut [u8; 8]) -> &'b str {
        let mut len = 0;
        let mut put = |byte: u8| {
            if let Some(slot) = buf.get_mut(len) {
                *slot = byte;
                len += 1;
            }
        };
        put(b'g');
        for d in decimal(self.group) {
            put(d);
        }
        put(b'v');
        for d in decimal(self.variation) {
            put(d);
        }
        std::str::from_utf8(buf.get(..len).unwrap_or_default()).unwrap_or_default()
    }
}

/// The decimal digits of `n`, most significant first.
fn decimal(n: u8) -> impl Iterator<Item = u8> {
    let digits = [n / 100, n / 10 % 10, n % 10];
    let skip = if n >= 100 {
        0
    } else if n >= 10 {
        1
    } else {
        2
    };
    digits.into_iter().skip(skip).map(|d| b'0' + d)
}

/// A control block of a select/operate request or of its echo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Control {
    pub group: u8,
    pub variation: u8,
    /// Point index: the prefix, or the range start plus the position.
    pub index: u32,
    pub kind: ControlKind,
    /// Control status (echoed by the outstation; 0 = success).
    pub status: u8,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ControlKind {
    /// CROB (g12v1) or pattern control block (g12v2).
    Relay {
        /// Control code: operation in bits 0–3, queue/clear in 4–5, trip/close in 6–7.
        code: u8,
        count: u8,
        on_time: u32,
        off_time: u32,
    },
    /// Analog output block, integer value (g41v1, g41v2).
    AnalogInt(i32),
    /// Analog output block, floating point value (g41v3, g41v4).
    AnalogFloat(f64),
}

impl ControlKind {
    /// CROB operation name (bits 0–3 of the control code).
    pub fn operation(code: u8) -> &'static str {
        match code & 0x0F {
            0 => "nul",
            1 => "pulse_on",
            2 => "pulse_off",
            3 => "latch_on",
            4 => "latch_off",
            _ => "undefined",
        }
    }

    /// CROB trip/close field (bits 6–7 of the control code).
    pub fn trip_close(code: u8) -> &'static str {
        match code >> 6 {
            0 => "nul",
            1 => "close",
            2 => "trip",
            _ => "reserved",
        }
    }
}

/// Name of a control status code.
pub fn control_status_name(status: u8) -> &'static str {
    match status & 0x7F {
        0 => "success",
        1 => "timeout",
        2 => "no_select",
        3 => "format_error",
        4 => "not_supported",
        5 => "already_active",
        6 => "hardware_error",
        7 => "local",
        8 => "too_many_objs",
        9 => "not_authorized",
        10 => "automation_inhibit",
        11 => "processing_limited",
        12 => "out_of_range",
        13 => "downstream_local",
        14 => "already_complete",
        15 => "blocked",
        16 => "canceled",
        17 => "blocked_other_master",
        18 => "downstream_fail",
        126 => "non_participating",
        _ => "undefined",
    }
}

impl Control {
    /// A placeholder for unused slots.
    const EMPTY: Control = Control {
        group: 0,
        variation: 0,
        index: 0,
        kind: ControlKind::AnalogInt(0),
        status: 0,
    };
}

/// What the walk of a fragment found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Objects {
    pub headers: Box<[ObjectHeader]>,
    /// Headers read, including those beyond [`MAX_HEADERS`].
    pub count: u16,
    pub controls: Box<[Control]>,
    /// Device attributes that identify the sender (g0 strings).
    pub identity: Option<Box<Identity>>,
}

/// [`Objects`] while the walk fills them: fixed arrays on the stack, so that
/// a fragment costs one allocation per non-empty list.
struct Walk {
    headers: Stack<ObjectHeader, MAX_HEADERS>,
    count: u16,
    controls: Stack<Control, MAX_CONTROLS>,
    identity: Option<Box<Identity>>,
}

/// At most `N` values, in order.
struct Stack<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy, const N: usize> Stack<T, N> {
    fn new(empty: T) -> Self {
        Stack {
            items: [empty; N],
            len: 0,
        }
    }

    /// Appends `item` and returns its position, or `None` when full.
    fn push(&mut self, item: T) -> Option<usize> {
        let slot = self.items.get_mut(self.len)?;
        *slot = item;
        self.len += 1;
        Some(self.len - 1)
    }

    fn is_full(&self) -> bool {
        self.len >= N
    }

    fn get(&self, at: usize) -> Option<&T> {
        self.as_slice().get(at)
    }

    fn get_mut(&mut self, at: usize) -> Option<&mut T> {
        self.items.get_mut(..self.len)?.get_mut(at)
    }

    fn as_slice(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

/// How the objects of a fragment carry data, by function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Responses and requests that carry object values (write, select,
    /// operate, file, authentication).
    Data,
    /// Requests that name objects without values (read, freeze, enable or
    /// disable unsolicited, assign class…): only index prefixes follow the
    /// headers, and objects whose qualifier gives their size.
    HeadersOnly,
    /// Freeze at time: the time object (g50) carries its value, the others do not.
    FreezeAtTime,
}

/// How the data of one object is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// No data: default variations (variation 0) and class objects (g60).
    Empty,
    /// This many bytes per object.
    Fixed(u16),
    /// This many bits per object, packed into bytes when there is no prefix.
    Packed(u8),
    /// Device attribute (g0): data type, length, value.
    Attribute,
    /// File command (g70v3): 26 bytes, then the name, whose length is at offset 2.
    FileCommand,
    /// Unknown: only an object size prefix tells how long it is.
    Unknown,
}

/// The data layout of group `g`, variation `v` (IEEE 1815 object library).
fn layout(g: u8, v: u8) -> Layout {
    use Layout::*;
    match (g, v) {
        (0, _) => Attribute,
        // Binary inputs, double-bit inputs and their events.
        (1, 1) | (10, 1) | (12, 3) | (80, 1) => Packed(1),
        (3, 1) => Packed(2),
        (1, 2) | (2, 1) | (3, 2) | (4, 1) | (10, 2) | (11, 1) | (13, 1) => Fixed(1),
        (2, 2) | (4, 2) | (11, 2) | (13, 2) => Fixed(7),
        (2, 3) | (4, 3) => Fixed(3),
        // CROB and pattern control block.
        (12, 1) | (12, 2) => Fixed(11),
        // Counters, frozen counters and their events.
        (20..=23, 1 | 3) => Fixed(5),
        (20..=23, 2 | 4) => Fixed(3),
        (20, 5 | 7) | (21, 9 | 11) => Fixed(4),
        (20, 6 | 8) | (21, 10 | 12) => Fixed(2),
        (21..=23, 5 | 7) => Fixed(11),
        (21..=23, 6 | 8) => Fixed(9),
        // Analog inputs, frozen analog inputs, events, deadbands.
        (30, 1) | (30, 5) | (31, 1) | (31, 7) => Fixed(5),
        (30, 2) | (31, 2) => Fixed(3),
        (30, 3) | (31, 5) => Fixed(4),
        (30, 4) | (31, 6) => Fixed(2),
        (30, 6) | (31, 8) => Fixed(9),
        (31, 3) => Fixed(11),
        (31, 4) => Fixed(9),
        (32 | 33 | 42 | 43, 1 | 5) => Fixed(5),
        (32 | 33 | 42 | 43, 2) => Fixed(3),
        (32 | 33 | 42 | 43, 3 | 7) => Fixed(11),
        (32 | 33 | 42 | 43, 4 | 6) => Fixed(9),
        (32 | 33 | 42 | 43, 8) => Fixed(15),
        (34, 1) => Fixed(2),
        (34, 2 | 3) => Fixed(4),
        // Analog output status and analog output blocks.
        (40 | 41, 1 | 3) => Fixed(5),
        (40 | 41, 2) => Fixed(3),
        (40 | 41, 4) => Fixed(9),
        // Time: absolute, with interval, CTO, delay.
        (50, 1 | 3) | (51, 1 | 2) => Fixed(6),
        (50, 2) => Fixed(10),
        (50, 4) => Fixed(11),
        (52, 1 | 2) => Fixed(2),
        // Class data, and the default variations of the groups whose
        // default is requested by reads and freezes: no data follows.
        (60, 1..=4) | (1 | 2 | 3 | 4 | 11 | 20 | 22 | 30 | 32 | 34 | 42, 0) => Empty,
        (70, 3) => FileCommand,
        // BCD, unsigned integer.
        (101, 1) => Fixed(2),
        (101, 2) => Fixed(4),
        (101, 3) => Fixed(8),
        (102, 1) => Fixed(1),
        // Octet strings and virtual terminal blocks: the variation is the length.
        (110..=113, v) => Fixed(u16::from(v)),
        // Secure authentication: aggressive mode request, key status request,
        // security statistics.
        (120, 3) => Fixed(6),
        (120, 4) => Fixed(2),
        (121, 1) | (122, 1) => Fixed(7),
        (122, 2) => Fixed(13),
        _ => Unknown,
    }
}

/// Bytes of an index or object size prefix, by prefix code.
fn prefix_len(code: u8) -> usize {
    match code {
        1 | 4 => 1,
        2 | 5 => 2,
        3 | 6 => 4,
        _ => 0,
    }
}

fn le(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(len)?)?;
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u32, |acc, &x| (acc << 8) | u32::from(x)),
    )
}

/// The device attributes (g0 variations) that identify a device.
mod attribute {
    pub const SOFTWARE_VERSION: u8 = 242;
    pub const HARDWARE_VERSION: u8 = 243;
    pub const DEVICE_NAME: u8 = 247;
    pub const SERIAL_NUMBER: u8 = 248;
    pub const PRODUCT_NAME_AND_MODEL: u8 = 250;
    pub const MANUFACTURER_NAME: u8 = 252;
    /// Data type code of a visible string.
    pub const VSTR: u8 = 1;
}

/// Records a device attribute string in the identity.
fn identify(objects: &mut Walk, variation: u8, value: &[u8]) {
    use attribute::*;
    if !matches!(
        variation,
        SOFTWARE_VERSION
            | HARDWARE_VERSION
            | DEVICE_NAME
            | SERIAL_NUMBER
            | PRODUCT_NAME_AND_MODEL
            | MANUFACTURER_NAME
    ) {
        return;
    }
    let value = value.get(..MAX_ATTRIBUTE_LEN).unwrap_or(value);
    let text = String::from_utf8_lossy(value);
    let text = text.trim_end_matches('\0').trim();
    if text.is_empty() {
        return;
    }
    let id = objects.identity.get_or_insert_with(Box::default);
    let slot = match variation {
        SOFTWARE_VERSION => &mut id.firmware,
        HARDWARE_VERSION => &mut id.hardware,
        DEVICE_NAME => &mut id.station_name,
        SERIAL_NUMBER => &mut id.serial,
        PRODUCT_NAME_AND_MODEL => &mut id.product,
        _ => &mut id.vendor,
    };
    if slot.is_none() {
        *slot = Some(text.to_string());
    }
}

/// Why a walk stopped early.
struct Stop;

/// Walks the object headers of `body` (the fragment after its application
/// header and IIN), filling `objects` and `a`.
///
/// Like Wireshark, headers are read while at least two bytes remain; a
/// header is recorded as soon as its group and variation are read, and its
/// qualifier and range fields as far as they were present.
pub fn walk(body: &[u8], context: Context, a: &mut Anomalies) -> Objects {
    let mut walk = Walk {
        headers: Stack::new(ObjectHeader::default()),
        count: 0,
        controls: Stack::new(Control::EMPTY),
        identity: None,
    };
    let mut at = 0usize;
    let mut complete = true;
    while body.len().saturating_sub(at) >= 2 {
        if header(body, &mut at, context, &mut walk, a).is_err() {
            complete = false;
            break;
        }
    }
    if complete && at < body.len() {
        a.add(TRAILING_BYTES);
    }
    Objects {
        headers: walk.headers.as_slice().into(),
        count: walk.count,
        controls: walk.controls.as_slice().into(),
        identity: walk.identity,
    }
}

/// Reads the header at `*at` and skips its objects, advancing `*at`.
fn header(
    body: &[u8],
    at: &mut usize,
    context: Context,
    objects: &mut Walk,
    a: &mut Anomalies,
) -> Result<(), Stop> {
    let (Some(&group), Some(&variation)) = (body.get(*at), body.get(*at + 1)) else {
        return Err(Stop);
    };
    *at += 2;
    objects.count = objects.count.saturating_add(1);
    let slot = objects
        .headers
        .push(ObjectHeader {
            group,
            variation,
            ..ObjectHeader::default()
        })
        .unwrap_or(usize::MAX);
    let mut record = |update: &dyn Fn(&mut ObjectHeader)| {
        if let Some(h) = objects.headers.get_mut(slot) {
            update(h);
        }
    };

    let Some(&qualifier) = body.get(*at) else {
        a.add(TRUNCATED_OBJECT_HEADER);
        return Err(Stop);
    };
    *at += 1;
    record(&|h| h.qualifier = Some(qualifier));
    let prefix = (qualifier >> 4) & 0x07;
    let range = qualifier & 0x0F;
    if qualifier & 0x80 != 0 || prefix == 7 {
        a.add(RESERVED_QUALIFIER);
    }

    // The range field and the number of objects it announces.
    let count: u64 = match range {
        0..=2 => {
            let width = 1usize << range;
            let (Some(start), Some(stop)) = (le(body, *at, width), le(body, *at + width, width))
            else {
                a.add(TRUNCATED_OBJECT_HEADER);
                return Err(Stop);
            };
            *at += 2 * width;
            record(&|h| {
                h.start = Some(start);
                h.stop = Some(stop);
            });
            if stop < start {
                a.add(INVALID_RANGE);
                // One less than the start means no objects; below that the
                // range is nonsense and nothing after it can be trusted.
                if stop.wrapping_add(1) != start {
                    return Err(Stop);
                }
                0
            } else {
                u64::from(stop - start) + 1
            }
        }
        3..=5 => {
            let width = 1usize << (range - 3);
            let Some(address) = le(body, *at, width) else {
                a.add(TRUNCATED_OBJECT_HEADER);
                return Err(Stop);
            };
            *at += width;
            record(&|h| h.address = Some(address));
            1
        }
        6 => 0,
        7..=9 | 11 => {
            let width = if range == 11 {
                1
            } else {
                1usize << (range - 7)
            };
            let Some(quantity) = le(body, *at, width) else {
                a.add(TRUNCATED_OBJECT_HEADER);
                return Err(Stop);
            };
            *at += width;
            record(&|h| h.quantity = Some(quantity));
            u64::from(quantity)
        }
        _ => {
            a.add(RESERVED_QUALIFIER);
            0
        }
    };
    let first_index = match range {
        0..=2 => objects.headers.get(slot).and_then(|h| h.start).unwrap_or(0),
        _ => 0,
    };
    skip_objects(
        body,
        at,
        Items {
            group,
            variation,
            prefix,
            count,
            first_index,
        },
        context,
        objects,
        a,
    )
}

/// The objects announced by one header.
#[derive(Clone, Copy)]
struct Items {
    group: u8,
    variation: u8,
    prefix: u8,
    count: u64,
    first_index: u32,
}

/// Skips the prefixes and data of the objects of one header.
fn skip_objects(
    body: &[u8],
    at: &mut usize,
    items: Items,
    context: Context,
    objects: &mut Walk,
    a: &mut Anomalies,
) -> Result<(), Stop> {
    let Items {
        group,
        variation,
        prefix,
        count,
        ..
    } = items;
    if count == 0 {
        return Ok(());
    }
    let prefix_bytes = prefix_len(prefix);
    // Prefix codes 4–6 give each object's size: that is authoritative.
    let size_prefixed = matches!(prefix, 4..=6);
    let has_data = match context {
        Context::Data => true,
        Context::HeadersOnly => false,
        Context::FreezeAtTime => group == 50,
    } || size_prefixed
        // Secure authentication objects that precede any request (aggressive
        // mode) or end it (MAC) always carry their values.
        || (group == 120 && matches!(variation, 3 | 9));
    let per_object = |size: u64| count.saturating_mul(prefix_bytes as u64 + size);
    let total = if !has_data {
        // Index prefixes only.
        Some(per_object(0))
    } else if size_prefixed {
        None
    } else {
        match layout(group, variation) {
            Layout::Empty => Some(per_object(0)),
            Layout::Fixed(size) => Some(per_object(u64::from(size))),
            Layout::Packed(bits) if prefix_bytes == 0 => {
                Some(count.saturating_mul(u64::from(bits)).div_ceil(8))
            }
            // With an index prefix, each object takes a byte of its own.
            Layout::Packed(_) => Some(per_object(1)),
            Layout::Attribute | Layout::FileCommand => None,
            Layout::Unknown => {
                a.add(UNKNOWN_OBJECT_SIZE);
                return Err(Stop);
            }
        }
    };
    let left = body.len().saturating_sub(*at) as u64;
    if let Some(total) = total {
        if total > left {
            a.add(TRUNCATED_OBJECT_DATA);
            return Err(Stop);
        }
        if has_data {
            keep_controls(body, *at, items, prefix_bytes, objects);
        }
        *at += total as usize;
        return Ok(());
    }
    // Objects of variable size, one at a time. Each takes at least one byte
    // or the walk stops, so this ends within the fragment.
    let layout = layout(group, variation);
    for _ in 0..count {
        let data_at = *at + prefix_bytes;
        if data_at > body.len() {
            a.add(TRUNCATED_OBJECT_DATA);
            return Err(Stop);
        }
        let data_len = if size_prefixed {
            le(body, *at, prefix_bytes).map(|size| size as usize)
        } else if layout == Layout::Attribute {
            attribute_len(body, data_at, variation, objects, a)
        } else {
            // File command: 26 bytes, then the name whose length is at offset 2.
            le(body, data_at + 2, 2).map(|name| 26 + name as usize)
        };
        let end = data_len.map(|len| data_at.saturating_add(len));
        match end {
            Some(end) if end <= body.len() => *at = end,
            _ => {
                a.add(TRUNCATED_OBJECT_DATA);
                return Err(Stop);
            }
        }
    }
    Ok(())
}

/// Length of the device attribute at `at` (data type, length, value), or
/// `None` if the fragment ends inside it. Keeps identifying strings.
fn attribute_len(
    body: &[u8],
    at: usize,
    variation: u8,
    objects: &mut Walk,
    a: &mut Anomalies,
) -> Option<usize> {
    let data_type = *body.get(at)?;
    match data_type {
        // Visible string, unsigned and signed integer, float, octet string,
        // bit string, time, Unicode string, and the two lists.
        1..=8 | 254 | 255 => {
            let len = usize::from(*body.get(at + 1)?);
            let value = body.get(at + 2..at + 2 + len)?;
            if data_type == attribute::VSTR {
                identify(objects, variation, value);
            }
            Some(2 + len)
        }
        _ => {
            // No length follows a data type the standard does not define;
            // like Wireshark, only the type byte is taken.
            a.add(UNKNOWN_ATTRIBUTE_TYPE);
            Some(1)
        }
    }
}

/// Keeps the control blocks (g12v1/v2, g41) of one header whose objects are
/// known to lie whole in `body` from `at`.
fn keep_controls(body: &[u8], at: usize, items: Items, prefix_bytes: usize, objects: &mut Walk) {
    let Items {
        group,
        variation,
        prefix,
        count,
        first_index,
    } = items;
    let size = match (group, variation) {
        (12, 1 | 2) => 11,
        (41, 1 | 3) => 5,
        (41, 2) => 3,
        (41, 4) => 9,
        _ => return,
    };
    let mut pos = at;
    for n in 0..count {
        if objects.controls.is_full() {
            return;
        }
        let index = match prefix {
            1..=3 => le(body, pos, prefix_bytes).unwrap_or(0),
            _ => first_index.wrapping_add(n as u32),
        };
        let data = pos + prefix_bytes;
        let Some(d) = body.get(data..data + size) else {
            return;
        };
        let byte = |i: usize| d.get(i).copied().unwrap_or(0);
        let u32_at = |i: usize| le(d, i, 4).unwrap_or(0);
        let (kind, status) = match (group, variation) {
            (12, _) => (
                ControlKind::Relay {
                    code: byte(0),
                    count: byte(1),
                    on_time: u32_at(2),
                    off_time: u32_at(6),
                },
                byte(10),
            ),
            (_, 1) => (ControlKind::AnalogInt(u32_at(0) as i32), byte(4)),
            (_, 2) => (
                ControlKind::AnalogInt(i32::from(le(d, 0, 2).unwrap_or(0) as u16 as i16)),
                byte(2),
            ),
            (_, 3) => (
                ControlKind::AnalogFloat(f64::from(f32::from_bits(u32_at(0)))),
                byte(4),
            ),
            _ => {
                let bits = d
                    .get(..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
                    .unwrap_or(0);
                (ControlKind::AnalogFloat(f64::from_bits(bits)), byte(8))
            }
        };
        let _ = objects.controls.push(Control {
            group,
            variation,
            index,
            kind,
            status,
        });
        pos = data + size;
    }
}
