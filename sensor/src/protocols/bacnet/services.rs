//! Service parameters (clauses 13–17 and 21): a walk over the tagged
//! encoding, guided by a small schema per service that says which context
//! tags hold object identifiers, property identifiers, array indexes,
//! priorities, vendor ids, property values, constructed parameters, and the
//! few scalars reported (process ids, limits, passwords…).
//!
//! Everything not in a schema is still walked, so that tags are checked and
//! nesting balanced: application-tagged object identifiers anywhere are
//! collected (as Wireshark lists them), other primitives are skipped, and
//! constructed values the schema does not describe are walked the same way.
//! The few services whose parameters are application-tagged in a fixed
//! order (I-Am, I-Have, time synchronization, file access) are read in that
//! order.

use super::anomaly::*;
use super::names;
use super::tags::{self, Class, Element, ObjectId, Reader, Shape, TagError, app};
use super::{MAX_DEPTH, Out, PropertyValue, vendor_name};
use crate::event::Identity;

/// Where a context-tagged parameter's value goes.
#[derive(Clone, Copy, Debug)]
enum Slot {
    ProcessId,
    Lifetime,
    TimeRemaining,
    Duration,
    EnableDisable,
    ReinitializedState,
    Password,
    LowLimit,
    HighLimit,
    ObjectName,
    ServiceNumber,
    ConfirmedNotifications,
}

/// What a context tag of a schema holds.
#[derive(Clone, Copy, Debug)]
enum K {
    /// A BACnetObjectIdentifier.
    Object,
    /// A BACnetPropertyIdentifier: starts a new property.
    Property,
    /// The current property's array index.
    Index,
    /// A write priority (1–16).
    Priority,
    /// A vendor identifier.
    Vendor,
    Scalar(Slot),
    /// Opening tag: the value of the current property.
    Value,
    /// Opening tag: a constructed parameter, walked with its own schema.
    Seq(Schema),
    /// Opening tag: an error (class and code, application enumerations).
    Error,
}

type Schema = &'static [(u8, K)];

use K::*;
use Slot::*;

/// BACnetPropertyReference.
const PROPERTY_REFERENCE: Schema = &[(0, Property), (1, Index)];
/// BACnetPropertyValue.
const PROPERTY_VALUE: Schema = &[(0, Property), (1, Index), (2, Value), (3, Priority)];
/// BACnetObjectPropertyReference.
const OBJECT_PROPERTY_REFERENCE: Schema = &[(0, Object), (1, Property), (2, Index)];
/// ReadAccessSpecification (ReadPropertyMultiple requests).
const READ_ACCESS_SPECIFICATION: Schema = &[(0, Object), (1, Seq(PROPERTY_REFERENCE))];
/// WriteAccessSpecification (WritePropertyMultiple requests).
const WRITE_ACCESS_SPECIFICATION: Schema = &[(0, Object), (1, Seq(PROPERTY_VALUE))];
/// ReadAccessResult (ReadPropertyMultiple and ReadPropertyConditional ACKs).
const READ_ACCESS_RESULT: Schema = &[(0, Object), (1, Seq(READ_RESULT))];
const READ_RESULT: Schema = &[(2, Property), (3, Index), (4, Value), (5, Error)];
/// BACnetRecipientProcess (GetEnrollmentSummary).
const RECIPIENT_PROCESS: Schema = &[(0, Seq(RECIPIENT)), (1, Scalar(ProcessId))];
const RECIPIENT: Schema = &[(0, Object)];

const ACKNOWLEDGE_ALARM: Schema = &[(0, Scalar(ProcessId)), (1, Object)];
const COV_NOTIFICATION: Schema = &[
    (0, Scalar(ProcessId)),
    (1, Object),
    (2, Object),
    (3, Scalar(TimeRemaining)),
    (4, Seq(PROPERTY_VALUE)),
];
const EVENT_NOTIFICATION: Schema = &[(0, Scalar(ProcessId)), (1, Object), (2, Object)];
const GET_ENROLLMENT_SUMMARY: Schema = &[(1, Seq(RECIPIENT_PROCESS))];
const SUBSCRIBE_COV: Schema = &[
    (0, Scalar(ProcessId)),
    (1, Object),
    (2, Scalar(ConfirmedNotifications)),
    (3, Scalar(Lifetime)),
];
const LIST_ELEMENT: Schema = &[(0, Object), (1, Property), (2, Index), (3, Value)];
const CREATE_OBJECT: Schema = &[(0, Seq(OBJECT_SPECIFIER)), (1, Seq(PROPERTY_VALUE))];
const OBJECT_SPECIFIER: Schema = &[(1, Object)];
const READ_PROPERTY: Schema = &[(0, Object), (1, Property), (2, Index)];
const WRITE_PROPERTY: Schema = &[
    (0, Object),
    (1, Property),
    (2, Index),
    (3, Value),
    (4, Priority),
];
const DEVICE_COMMUNICATION_CONTROL: Schema = &[
    (0, Scalar(Duration)),
    (1, Scalar(EnableDisable)),
    (2, Scalar(Password)),
];
const PRIVATE_TRANSFER: Schema = &[(0, Vendor), (1, Scalar(ServiceNumber))];
const TEXT_MESSAGE: Schema = &[(0, Object)];
const REINITIALIZE_DEVICE: Schema = &[(0, Scalar(ReinitializedState)), (1, Scalar(Password))];
const LIFE_SAFETY_OPERATION: Schema = &[(0, Scalar(ProcessId)), (3, Object)];
const SUBSCRIBE_COV_PROPERTY: Schema = &[
    (0, Scalar(ProcessId)),
    (1, Object),
    (2, Scalar(ConfirmedNotifications)),
    (3, Scalar(Lifetime)),
    (4, Seq(PROPERTY_REFERENCE)),
];
const GET_EVENT_INFORMATION: Schema = &[(0, Object)];
const SUBSCRIBE_COV_PROPERTY_MULTIPLE: Schema = &[
    (0, Scalar(ProcessId)),
    (1, Scalar(ConfirmedNotifications)),
    (2, Scalar(Lifetime)),
    (4, Seq(COV_SUBSCRIPTION)),
];
const COV_SUBSCRIPTION: Schema = &[(0, Object), (1, Seq(COV_REFERENCE))];
const COV_REFERENCE: Schema = &[(0, Seq(PROPERTY_REFERENCE))];
const COV_NOTIFICATION_MULTIPLE: Schema = &[
    (0, Scalar(ProcessId)),
    (1, Object),
    (2, Scalar(TimeRemaining)),
    (4, Seq(COV_NOTIFICATIONS)),
];
const COV_NOTIFICATIONS: Schema = &[(0, Object), (1, Seq(COV_VALUE))];
const COV_VALUE: Schema = &[(0, Property), (1, Index), (2, Value)];
const WHO_HAS: Schema = &[
    (0, Scalar(LowLimit)),
    (1, Scalar(HighLimit)),
    (2, Object),
    (3, Scalar(ObjectName)),
];
const WHO_IS: Schema = &[(0, Scalar(LowLimit)), (1, Scalar(HighLimit))];
const WRITE_GROUP: Schema = &[(1, Priority)];
const READ_PROPERTY_ACK: Schema = &[(0, Object), (1, Property), (2, Index), (3, Value)];
const EVENT_SUMMARIES: Schema = &[(0, Seq(EVENT_SUMMARY))];
const EVENT_SUMMARY: Schema = &[(0, Object)];
const ERROR: Schema = &[(0, Error)];
const WRITE_PROPERTY_MULTIPLE_ERROR: Schema = &[(0, Error), (1, Seq(OBJECT_PROPERTY_REFERENCE))];
const PRIVATE_TRANSFER_ERROR: Schema = &[(0, Error), (1, Vendor), (2, Scalar(ServiceNumber))];
const SUBSCRIBE_COV_PROPERTY_MULTIPLE_ERROR: Schema = &[(0, Error), (1, Seq(COV_FAILURE))];
const COV_FAILURE: Schema = &[
    (0, Object),
    (1, Seq(PROPERTY_REFERENCE)),
    (2, Index),
    (3, Error),
];
const NONE: Schema = &[];

/// The walk cannot go on (the anomaly is recorded).
struct Stop;

/// State of one service's walk.
struct Walker<'o> {
    out: &'o mut Out,
    depth: u8,
    /// The object identifier and property seen last: what a value belongs to.
    object: Option<ObjectId>,
    property: Option<u32>,
    index: Option<u32>,
    /// Application enumerations are an error class and code.
    in_error: bool,
    /// Values of device properties describe the sender (ReadProperty ACKs).
    identity: bool,
    /// Property values walked so far.
    values: u32,
}

impl<'o> Walker<'o> {
    fn new(out: &'o mut Out) -> Self {
        Walker {
            out,
            depth: 0,
            object: None,
            property: None,
            index: None,
            in_error: false,
            identity: false,
            values: 0,
        }
    }

    fn anomaly(&mut self, name: &'static str) {
        self.out.a.add(name);
    }

    /// Walks `body` with `schema`; whether it was walked to its end.
    fn run(&mut self, body: &[u8], schema: Schema) -> bool {
        let mut r = Reader::new(body);
        self.walk(&mut r, schema, None).is_ok()
    }

    /// The next element; `Ok(None)` at the end of the data.
    fn next<'a>(&mut self, r: &mut Reader<'a>) -> Result<Option<Element<'a>>, Stop> {
        match r.next_element() {
            None => Ok(None),
            Some(Ok(e)) => Ok(Some(e)),
            Some(Err(TagError::Truncated)) => {
                self.anomaly(TRUNCATED_TAG);
                Err(Stop)
            }
            Some(Err(TagError::Invalid)) => {
                self.anomaly(INVALID_TAG);
                Err(Stop)
            }
        }
    }

    /// Walks elements up to the closing tag `closing` (or the end of the
    /// data when `None`), with `schema` for the context tags.
    fn walk(
        &mut self,
        r: &mut Reader<'_>,
        schema: Schema,
        closing: Option<u8>,
    ) -> Result<(), Stop> {
        loop {
            let Some(e) = self.next(r)? else {
                if closing.is_some() {
                    self.anomaly(UNBALANCED_TAGS);
                    return Err(Stop);
                }
                return Ok(());
            };
            let kind = schema
                .iter()
                .find(|(n, _)| *n == e.number && e.class == Class::Context)
                .map(|&(_, k)| k);
            match e.shape {
                Shape::Closing if Some(e.number) == closing => return Ok(()),
                Shape::Closing => {
                    self.anomaly(UNBALANCED_TAGS);
                    return Err(Stop);
                }
                Shape::Opening => self.constructed(r, kind, e.number)?,
                Shape::Primitive => match (e.class, kind) {
                    (Class::Application, _) => self.application(&e),
                    (Class::Context, Some(kind)) => self.context(kind, &e),
                    (Class::Context, None) => {}
                },
            }
        }
    }

    /// A constructed value opened by tag `number`.
    fn constructed(&mut self, r: &mut Reader<'_>, kind: Option<K>, number: u8) -> Result<(), Stop> {
        if self.depth >= MAX_DEPTH {
            self.anomaly(NESTING_TOO_DEEP);
            return Err(Stop);
        }
        self.depth += 1;
        let result = match kind {
            Some(Seq(inner)) => self.walk(r, inner, Some(number)),
            Some(Value) => self.value(r, number),
            Some(Error) => {
                let outer = std::mem::replace(&mut self.in_error, true);
                let result = self.walk(r, NONE, Some(number));
                self.in_error = outer;
                result
            }
            _ => self.walk(r, NONE, Some(number)),
        };
        self.depth -= 1;
        result
    }

    fn push_object(&mut self, data: &[u8]) {
        match tags::object_id(data) {
            Some(id) => {
                self.out.f.objects.push(id);
                self.object = Some(id);
            }
            None => self.anomaly(INVALID_VALUE),
        }
    }

    /// An application-tagged primitive outside a property value.
    fn application(&mut self, e: &Element<'_>) {
        if e.number == app::OBJECT_IDENTIFIER {
            self.push_object(e.data);
        } else if self.in_error && e.number == app::ENUMERATED {
            let f = &mut self.out.f;
            let slot = if f.error_class.is_none() {
                &mut f.error_class
            } else if f.error_code.is_none() {
                &mut f.error_code
            } else {
                return;
            };
            *slot = tags::unsigned32(e.data);
            if slot.is_none() {
                self.anomaly(INVALID_VALUE);
            }
        }
    }

    /// A context-tagged primitive the schema describes.
    fn context(&mut self, kind: K, e: &Element<'_>) {
        let valid = match kind {
            Object => {
                self.push_object(e.data);
                true
            }
            Property => match tags::unsigned32(e.data) {
                Some(p) => {
                    self.out.f.properties.push(p);
                    self.property = Some(p);
                    self.index = None;
                    true
                }
                None => false,
            },
            Index => match tags::unsigned32(e.data) {
                Some(i) => {
                    self.index = Some(i);
                    // The array index of the first property.
                    if self.out.f.array_index.is_none() && self.out.f.properties.len() == 1 {
                        self.out.f.array_index = Some(i);
                    }
                    true
                }
                None => false,
            },
            Priority => match tags::unsigned(e.data) {
                Some(p) => {
                    self.out.f.priority.get_or_insert(p);
                    if !(1..=16).contains(&p) {
                        self.anomaly(INVALID_PRIORITY);
                    }
                    true
                }
                None => false,
            },
            Vendor => match tags::unsigned32(e.data) {
                Some(v) => {
                    self.out.f.vendor_id.get_or_insert(v);
                    true
                }
                None => false,
            },
            Scalar(slot) => self.slot(slot, e),
            Value | Seq(_) | Error => {
                self.anomaly(UNEXPECTED_TAG);
                true
            }
        };
        if !valid {
            self.anomaly(INVALID_VALUE);
        }
    }

    /// Stores a scalar parameter (the first of its kind); whether its
    /// content was valid.
    fn slot(&mut self, slot: Slot, e: &Element<'_>) -> bool {
        let f = &mut self.out.f;
        let number = |target: &mut Option<u64>| match tags::unsigned(e.data) {
            Some(v) => {
                target.get_or_insert(v);
                true
            }
            None => false,
        };
        let text = |target: &mut Option<String>| match tags::character_string(e.data) {
            Some(t) => {
                target.get_or_insert(t);
                true
            }
            None => false,
        };
        match slot {
            ProcessId => number(&mut f.process_id),
            Lifetime => number(&mut f.lifetime),
            TimeRemaining => number(&mut f.time_remaining),
            Duration => number(&mut f.duration),
            LowLimit => number(&mut f.low_limit),
            HighLimit => number(&mut f.high_limit),
            ServiceNumber => number(&mut f.service_number),
            EnableDisable => {
                f.enable_disable = tags::unsigned32(e.data);
                f.enable_disable.is_some()
            }
            ReinitializedState => {
                f.reinitialized_state = tags::unsigned32(e.data);
                f.reinitialized_state.is_some()
            }
            Password => text(&mut f.password),
            ObjectName => text(&mut f.object_name),
            ConfirmedNotifications => {
                f.confirmed_notifications = e.boolean();
                f.confirmed_notifications.is_some()
            }
        }
    }

    /// The value of the current property, up to the closing tag `closing`:
    /// checked against the property's type, kept in `value` when it is the
    /// PDU's first value and a single primitive, and read into the identity
    /// when it is an identifying property of a device.
    fn value(&mut self, r: &mut Reader<'_>, closing: u8) -> Result<(), Stop> {
        let mut first: Option<Element<'_>> = None;
        let mut count = 0u32;
        loop {
            let Some(e) = self.next(r)? else {
                self.anomaly(UNBALANCED_TAGS);
                return Err(Stop);
            };
            match e.shape {
                Shape::Closing if e.number == closing => break,
                Shape::Closing => {
                    self.anomaly(UNBALANCED_TAGS);
                    return Err(Stop);
                }
                Shape::Opening => {
                    count += 1;
                    first.get_or_insert(e);
                    self.constructed(r, None, e.number)?;
                }
                Shape::Primitive => {
                    count += 1;
                    first.get_or_insert(e);
                    if e.class == Class::Application && e.number == app::OBJECT_IDENTIFIER {
                        self.push_object(e.data);
                    }
                }
            }
        }
        self.values += 1;
        let Some(first) = first else {
            return Ok(());
        };
        // An array index of 0 reads the array's length (an Unsigned).
        let expected = self
            .property
            .filter(|_| self.index != Some(0))
            .and_then(names::property_value_tag);
        if let Some(tag) = expected
            && !(first.class == Class::Application
                && first.shape == Shape::Primitive
                && first.number == tag)
        {
            self.anomaly(INVALID_PROPERTY_VALUE);
        }
        if count == 1 && first.class == Class::Application {
            if self.values == 1 {
                self.out.f.value = primitive(&first);
            }
            if self.identity {
                self.learn(&first);
            }
        }
        Ok(())
    }

    /// What a device's own identifying property says about the sender.
    fn learn(&mut self, e: &Element<'_>) {
        let (Some(object), Some(property)) = (self.object, self.property) else {
            return;
        };
        if object.object_type != ObjectId::DEVICE {
            return;
        }
        let id = &mut self.out.identity;
        let text = || {
            (e.number == app::CHARACTER_STRING)
                .then(|| tags::character_string(e.data))
                .flatten()
                .filter(|t| !t.trim().is_empty())
        };
        let learnt = match property {
            77 => text().map(|t| id.station_name = Some(t)),
            121 => text().map(|t| id.vendor = Some(t)),
            70 => text().map(|t| id.product = Some(t)),
            44 => text().map(|t| id.firmware = Some(t)),
            372 => text().map(|t| id.serial = Some(t)),
            120 if e.number == app::UNSIGNED => tags::unsigned32(e.data).map(|v| {
                id.vendor_id = Some(v);
                id.vendor = vendor_name(v).map(str::to_string);
            }),
            _ => None,
        };
        if learnt.is_some() {
            id.device_type = Some(DEVICE_TYPE.to_string());
        }
    }

    /// The next element, which must be application tag `tag`.
    fn expect<'a>(&mut self, r: &mut Reader<'a>, tag: u8) -> Option<Element<'a>> {
        match self.next(r) {
            Ok(Some(e)) if e.class == Class::Application && e.number == tag => Some(e),
            Ok(Some(_)) => {
                self.anomaly(UNEXPECTED_TAG);
                None
            }
            Ok(None) => {
                self.anomaly(MISSING_PARAMETER);
                None
            }
            Err(Stop) => None,
        }
    }

    /// The next element, which must be the opening tag `0` or `1` (the
    /// CHOICE of stream or record file access); its number.
    fn access<'a>(&mut self, r: &mut Reader<'a>) -> Option<u8> {
        match self.next(r) {
            Ok(Some(e)) if e.shape == Shape::Opening && e.number <= 1 => {
                self.out.f.file_access = Some(if e.number == 0 { "stream" } else { "record" });
                Some(e.number)
            }
            Ok(Some(_)) => {
                self.anomaly(UNEXPECTED_TAG);
                None
            }
            Ok(None) => {
                self.anomaly(MISSING_PARAMETER);
                None
            }
            Err(Stop) => None,
        }
    }

    /// Flags a required parameter that is absent (after a complete walk).
    fn require(&mut self, walked: bool, present: bool) {
        if walked && !present {
            self.anomaly(MISSING_PARAMETER);
        }
    }
}

/// `device_type` of identities learnt from BACnet.
pub const DEVICE_TYPE: &str = "bacnet_device";

/// A single application-tagged primitive as a reported value.
fn primitive(e: &Element<'_>) -> Option<PropertyValue> {
    Some(match e.number {
        app::NULL => PropertyValue::Null,
        app::BOOLEAN => PropertyValue::Bool(e.lvt != 0),
        app::UNSIGNED => PropertyValue::Unsigned(tags::unsigned(e.data)?),
        app::SIGNED => PropertyValue::Signed(tags::signed(e.data)?),
        app::REAL => PropertyValue::Real(f64::from(tags::real(e.data)?)),
        app::DOUBLE => PropertyValue::Real(tags::double(e.data)?),
        app::ENUMERATED => PropertyValue::Enumerated(tags::unsigned(e.data)?),
        app::CHARACTER_STRING => PropertyValue::Text(tags::character_string(e.data)?),
        app::OBJECT_IDENTIFIER => PropertyValue::Object(tags::object_id(e.data)?),
        _ => return None,
    })
}

/// Parameters of a confirmed service request.
pub(super) fn confirmed_request(service: u8, body: &[u8], out: &mut Out) {
    let mut w = Walker::new(out);
    let schema = match service {
        6 | 7 => return file_request(&mut w, body, service == 7),
        0 => ACKNOWLEDGE_ALARM,
        1 => COV_NOTIFICATION,
        2 => EVENT_NOTIFICATION,
        4 => GET_ENROLLMENT_SUMMARY,
        5 => SUBSCRIBE_COV,
        8 | 9 => LIST_ELEMENT,
        10 => CREATE_OBJECT,
        12 | 26 => READ_PROPERTY,
        14 => READ_ACCESS_SPECIFICATION,
        15 => WRITE_PROPERTY,
        16 => WRITE_ACCESS_SPECIFICATION,
        17 => DEVICE_COMMUNICATION_CONTROL,
        18 => PRIVATE_TRANSFER,
        19 => TEXT_MESSAGE,
        20 => REINITIALIZE_DEVICE,
        27 => LIFE_SAFETY_OPERATION,
        28 => SUBSCRIBE_COV_PROPERTY,
        29 => GET_EVENT_INFORMATION,
        30 => SUBSCRIBE_COV_PROPERTY_MULTIPLE,
        31 => COV_NOTIFICATION_MULTIPLE,
        _ => NONE,
    };
    let walked = w.run(body, schema);
    let f = &w.out.f;
    let (object, property) = (!f.objects.is_empty(), !f.properties.is_empty());
    let present = match service {
        5 => f.process_id.is_some() && object,
        8 | 9 | 12 | 14 | 16 | 26 => object && property,
        11 => object,
        15 => object && property && w.values > 0,
        17 => f.enable_disable.is_some(),
        20 => f.reinitialized_state.is_some(),
        _ => true,
    };
    w.require(walked, present);
    if matches!(service, 17 | 20) {
        w.out.f.password_present = Some(w.out.f.password.is_some());
    }
}

/// AtomicReadFile / AtomicWriteFile requests: the file, then stream access
/// (start position, octet count or data) or record access (start record,
/// record count, and for writes the records).
fn file_request(w: &mut Walker<'_>, body: &[u8], write: bool) {
    let mut r = Reader::new(body);
    let Some(file) = w.expect(&mut r, app::OBJECT_IDENTIFIER) else {
        return;
    };
    w.push_object(file.data);
    let Some(access) = w.access(&mut r) else {
        return;
    };
    let Some(start) = w.expect(&mut r, app::SIGNED) else {
        return;
    };
    w.out.f.file_start = tags::signed(start.data);
    let length = if write && access == 0 {
        w.expect(&mut r, app::OCTET_STRING)
            .map(|data| data.data.len() as u64)
    } else {
        w.expect(&mut r, app::UNSIGNED)
            .and_then(|count| tags::unsigned(count.data))
    };
    let Some(length) = length else {
        return;
    };
    w.out.f.file_length = Some(length);
    if w.walk(&mut r, NONE, Some(access)).is_ok() {
        let _ = w.walk(&mut r, NONE, None);
    }
}

/// Parameters of an unconfirmed service request.
pub(super) fn unconfirmed_request(service: u8, body: &[u8], out: &mut Out) {
    let mut w = Walker::new(out);
    let schema = match service {
        0 => return i_am(&mut w, body),
        1 => return i_have(&mut w, body),
        6 | 9 => return time_synchronization(&mut w, body),
        13 | 14 => return who_am_i(&mut w, body, service == 13),
        2 => COV_NOTIFICATION,
        3 => EVENT_NOTIFICATION,
        4 => PRIVATE_TRANSFER,
        5 => TEXT_MESSAGE,
        7 => WHO_HAS,
        8 => WHO_IS,
        10 => WRITE_GROUP,
        11 => COV_NOTIFICATION_MULTIPLE,
        _ => NONE,
    };
    w.run(body, schema);
}

/// Who-Am-I (vendor id, model name, serial number) and You-Are (the same,
/// then the device identifier and MAC address assigned), all
/// application-tagged. Who-Am-I is sent by an unconfigured device asking
/// for its identifier: what it gives describes its sender. You-Are carries
/// those of the device it configures, not of its sender.
fn who_am_i(w: &mut Walker<'_>, body: &[u8], asking: bool) {
    let mut r = Reader::new(body);
    let Some(vendor) = w.expect(&mut r, app::UNSIGNED) else {
        return;
    };
    w.out.f.vendor_id = tags::unsigned32(vendor.data);
    let Some(model) = w.expect(&mut r, app::CHARACTER_STRING) else {
        return;
    };
    w.out.f.model_name = tags::character_string(model.data);
    let Some(serial) = w.expect(&mut r, app::CHARACTER_STRING) else {
        return;
    };
    w.out.f.serial_number = tags::character_string(serial.data);
    if asking {
        let f = &w.out.f;
        w.out.identity = Identity {
            vendor_id: f.vendor_id,
            vendor: f.vendor_id.and_then(vendor_name).map(str::to_string),
            product: f.model_name.clone(),
            serial: f.serial_number.clone(),
            device_type: Some(DEVICE_TYPE.to_string()),
            ..Identity::default()
        };
    } else if let Some(device) = w.expect(&mut r, app::OBJECT_IDENTIFIER) {
        w.push_object(device.data);
        w.expect(&mut r, app::OCTET_STRING);
    }
    if !r.is_empty() {
        w.anomaly(TRAILING_BYTES);
    }
}

/// I-Am: device identifier, max APDU length accepted, segmentation
/// supported, vendor identifier (all application-tagged).
fn i_am(w: &mut Walker<'_>, body: &[u8]) {
    let mut r = Reader::new(body);
    let Some(device) = w.expect(&mut r, app::OBJECT_IDENTIFIER) else {
        return;
    };
    w.push_object(device.data);
    let Some(max_apdu) = w.expect(&mut r, app::UNSIGNED) else {
        return;
    };
    w.out.f.max_apdu = tags::unsigned32(max_apdu.data);
    let Some(segmentation) = w.expect(&mut r, app::ENUMERATED) else {
        return;
    };
    w.out.f.segmentation = tags::unsigned32(segmentation.data);
    let Some(vendor) = w.expect(&mut r, app::UNSIGNED) else {
        return;
    };
    let vendor_id = tags::unsigned32(vendor.data);
    if w.out.f.max_apdu.is_none() || w.out.f.segmentation.is_none() || vendor_id.is_none() {
        w.anomaly(INVALID_VALUE);
    }
    w.out.f.vendor_id = vendor_id;
    let f = &w.out.f;
    w.out.identity = Identity {
        vendor_id,
        vendor: vendor_id.and_then(vendor_name).map(str::to_string),
        device_type: Some(DEVICE_TYPE.to_string()),
        device_instance: tags::object_id(device.data).map(|id| id.instance.to_string()),
        max_apdu: f.max_apdu.map(|n| n.to_string()),
        segmentation: f
            .segmentation
            .and_then(names::segmentation)
            .map(str::to_string),
        ..Identity::default()
    };
    if !r.is_empty() {
        w.anomaly(TRAILING_BYTES);
    }
}

/// I-Have: device identifier, object identifier, object name.
fn i_have(w: &mut Walker<'_>, body: &[u8]) {
    let mut r = Reader::new(body);
    for _ in 0..2 {
        let Some(id) = w.expect(&mut r, app::OBJECT_IDENTIFIER) else {
            return;
        };
        w.push_object(id.data);
    }
    let Some(name) = w.expect(&mut r, app::CHARACTER_STRING) else {
        return;
    };
    w.out.f.object_name = tags::character_string(name.data);
    if !r.is_empty() {
        w.anomaly(TRAILING_BYTES);
    }
}

/// TimeSynchronization and UTCTimeSynchronization: a date and a time.
fn time_synchronization(w: &mut Walker<'_>, body: &[u8]) {
    let mut r = Reader::new(body);
    let Some(date) = w.expect(&mut r, app::DATE) else {
        return;
    };
    let Some(time) = w.expect(&mut r, app::TIME) else {
        return;
    };
    w.out.f.time = tags::date_time(date.data, time.data);
    if !r.is_empty() {
        w.anomaly(TRAILING_BYTES);
    }
}

/// Parameters of a ComplexACK.
pub(super) fn complex_ack(service: u8, body: &[u8], out: &mut Out) {
    let mut w = Walker::new(out);
    let schema = match service {
        6 => return read_file_ack(&mut w, body),
        7 => return write_file_ack(&mut w, body),
        12 => READ_PROPERTY_ACK,
        13 | 14 => READ_ACCESS_RESULT,
        18 => PRIVATE_TRANSFER,
        26 => READ_PROPERTY,
        29 => EVENT_SUMMARIES,
        _ => NONE,
    };
    w.identity = matches!(service, 12 | 14);
    let walked = w.run(body, schema);
    let f = &w.out.f;
    let present = match service {
        12 => !f.objects.is_empty() && !f.properties.is_empty() && w.values > 0,
        14 | 26 => !f.objects.is_empty(),
        _ => true,
    };
    w.require(walked, present);
}

/// AtomicReadFile-ACK: end of file, then stream access (start, data) or
/// record access (start record, record count, records).
fn read_file_ack(w: &mut Walker<'_>, body: &[u8]) {
    let mut r = Reader::new(body);
    let Some(eof) = w.expect(&mut r, app::BOOLEAN) else {
        return;
    };
    w.out.f.end_of_file = eof.boolean();
    let Some(access) = w.access(&mut r) else {
        return;
    };
    let Some(start) = w.expect(&mut r, app::SIGNED) else {
        return;
    };
    w.out.f.file_start = tags::signed(start.data);
    let length = if access == 0 {
        w.expect(&mut r, app::OCTET_STRING)
            .map(|data| data.data.len() as u64)
    } else {
        w.expect(&mut r, app::UNSIGNED)
            .and_then(|count| tags::unsigned(count.data))
    };
    let Some(length) = length else {
        return;
    };
    w.out.f.file_length = Some(length);
    if w.walk(&mut r, NONE, Some(access)).is_ok() {
        let _ = w.walk(&mut r, NONE, None);
    }
}

/// AtomicWriteFile-ACK: the start position ([0]) or record ([1]) written.
fn write_file_ack(w: &mut Walker<'_>, body: &[u8]) {
    let mut r = Reader::new(body);
    match w.next(&mut r) {
        Ok(Some(e))
            if e.class == Class::Context && e.shape == Shape::Primitive && e.number <= 1 =>
        {
            w.out.f.file_access = Some(if e.number == 0 { "stream" } else { "record" });
            w.out.f.file_start = tags::signed(e.data);
            if w.out.f.file_start.is_none() {
                w.anomaly(INVALID_VALUE);
            }
            if !r.is_empty() {
                w.anomaly(TRAILING_BYTES);
            }
        }
        Ok(Some(_)) => w.anomaly(UNEXPECTED_TAG),
        Ok(None) => w.anomaly(MISSING_PARAMETER),
        Err(Stop) => {}
    }
}

/// Parameters of an Error PDU: the error class and code (application
/// enumerations, wrapped in [0] for the services whose errors say more),
/// and what some services add.
pub(super) fn error(service: u8, body: &[u8], out: &mut Out) {
    let mut w = Walker::new(out);
    let schema = match service {
        16 => WRITE_PROPERTY_MULTIPLE_ERROR,
        18 => PRIVATE_TRANSFER_ERROR,
        30 => SUBSCRIBE_COV_PROPERTY_MULTIPLE_ERROR,
        _ => ERROR,
    };
    w.in_error = true;
    let walked = w.run(body, schema);
    let present = w.out.f.error_class.is_some() && w.out.f.error_code.is_some();
    w.require(walked, present);
}
