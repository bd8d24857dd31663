//! MMS PDUs (ISO 9506-2, BER): the `MMSpdu` choice, the confirmed services
//! with what a user checks of them (object names, object class and scope,
//! file names, identity, access results), unconfirmed reports, errors,
//! rejects, cancel, initiate and conclude.
//!
//! Decoding follows the ASN.1 schema for the services it names and reads
//! nothing else; every TLV is bounded by its parent, and the only recursive
//! types (type specifications, scattered access) are walked to at most
//! [`ber::MAX_DEPTH`] levels.

use std::cell::Cell;

use super::anomaly::*;
use super::ber::{self, BerError, CONTEXT, Seq, Tlv, universal};
use super::names::{PduType, Service, UnconfirmedService};
use super::presentation::ber_error;
use super::{Initiate, MAX_HEX, MAX_NAMES, MAX_TEXT, MAX_VARIABLES, MmsFields, ObjectName};
use crate::event::{Anomalies, Identity};
use crate::protocols::cotp::bytes::text;

/// What decoding an MMS PDU found beyond its fields.
#[derive(Debug, Default)]
pub struct Decoded {
    pub pdu_type: Option<PduType>,
    /// A write names an IEC 61850 control object (`$CO$` in an item id).
    pub control: bool,
    /// The identify response's vendor, model and revision.
    pub identity: Option<Box<Identity>>,
}

/// Decoding state of one PDU.
struct Ctx<'f> {
    f: &'f mut MmsFields,
    a: &'f mut Anomalies,
    /// The first BER error met while iterating children (see [`Kids`]).
    err: &'f Cell<Option<BerError>>,
    control: bool,
    identity: Option<Box<Identity>>,
}

/// The TLVs inside a constructed value. An error ends the iteration and is
/// kept in the decoding state, to be reported once the PDU is decoded (the
/// iterator does not borrow the state, so the loop body can use it).
struct Kids<'a, 'e> {
    seq: Seq<'a>,
    err: &'e Cell<Option<BerError>>,
}

impl<'a> Iterator for Kids<'a, '_> {
    type Item = Tlv<'a>;

    fn next(&mut self) -> Option<Tlv<'a>> {
        match self.seq.next()? {
            Ok(t) => Some(t),
            Err(e) => {
                if self.err.get().is_none() {
                    self.err.set(Some(e));
                }
                None
            }
        }
    }
}

/// Decodes the MMS PDU encoded in `data` into `f`, reporting oddities in `a`.
pub fn decode(data: &[u8], f: &mut MmsFields, a: &mut Anomalies) -> Decoded {
    let err = Cell::new(None);
    let mut cx = Ctx {
        f,
        a,
        err: &err,
        control: false,
        identity: None,
    };
    let pdu_type = cx.pdu(data);
    let (control, identity) = (cx.control, cx.identity);
    if let Some(e) = err.get() {
        ber_error(e, INVALID_MMS_PDU, a);
    }
    Decoded {
        pdu_type,
        control,
        identity,
    }
}

impl<'f> Ctx<'f> {
    fn ber(&mut self, e: BerError) {
        ber_error(e, INVALID_MMS_PDU, self.a);
    }

    fn malformed(&mut self) {
        self.a.add(INVALID_MMS_PDU);
    }

    /// The children of a constructed TLV (see [`Kids`]).
    fn children<'a>(&self, tlv: &Tlv<'a>) -> Kids<'a, 'f> {
        Kids {
            seq: Seq(tlv.value),
            err: self.err,
        }
    }

    /// The one TLV inside an explicit tag.
    fn inner<'a>(&mut self, tlv: &Tlv<'a>) -> Option<Tlv<'a>> {
        match tlv.inner() {
            Ok(t) => Some(t),
            Err(e) => {
                self.ber(e);
                None
            }
        }
    }

    fn pdu(&mut self, data: &[u8]) -> Option<PduType> {
        let tlv = match ber::read(data) {
            Ok((tlv, rest)) => {
                if !rest.is_empty() {
                    self.a.add(TRAILING_BYTES);
                }
                tlv
            }
            Err(e) => {
                self.ber(e);
                return None;
            }
        };
        let kind = PduType(tlv.tag);
        if tlv.class != CONTEXT || kind.name().is_none() {
            self.a.add(UNKNOWN_PDU_TYPE);
            return None;
        }
        self.f.pdu_type = kind.name();
        match kind {
            PduType::CONFIRMED_REQUEST | PduType::CONFIRMED_RESPONSE => {
                self.confirmed(&tlv, kind == PduType::CONFIRMED_REQUEST)
            }
            PduType::CONFIRMED_ERROR => {
                for item in self.children(&tlv) {
                    match item.tag {
                        0 => self.f.invoke_id = ber::unsigned(item.value),
                        1 => self.f.modifier_position = ber::unsigned(item.value),
                        2 => self.service_error(&item),
                        _ => {}
                    }
                }
                if self.f.invoke_id.is_none() {
                    self.malformed();
                }
            }
            PduType::UNCONFIRMED => self.unconfirmed(&tlv),
            PduType::REJECT => self.reject(&tlv),
            PduType::CANCEL_REQUEST | PduType::CANCEL_RESPONSE => {
                self.f.invoke_id = ber::unsigned(tlv.value);
                if self.f.invoke_id.is_none() {
                    self.malformed();
                }
            }
            PduType::CANCEL_ERROR => {
                for item in self.children(&tlv) {
                    match item.tag {
                        0 => self.f.invoke_id = ber::unsigned(item.value),
                        1 => self.service_error(&item),
                        _ => {}
                    }
                }
            }
            PduType::INITIATE_REQUEST | PduType::INITIATE_RESPONSE => self.initiate(&tlv),
            PduType::INITIATE_ERROR | PduType::CONCLUDE_ERROR => self.service_error(&tlv),
            _ => {
                // Conclude request and response are NULL.
                if !tlv.value.is_empty() {
                    self.a.add(TRAILING_BYTES);
                }
            }
        }
        Some(kind)
    }

    /// Confirmed-RequestPDU or Confirmed-ResponsePDU: invoke id, (request)
    /// modifiers, the service.
    fn confirmed(&mut self, tlv: &Tlv<'_>, request: bool) {
        let mut service = None;
        for item in self.children(tlv) {
            if item.is_universal(universal::INTEGER) && self.f.invoke_id.is_none() {
                self.f.invoke_id = ber::unsigned(item.value);
                if self.f.invoke_id.is_none() {
                    self.malformed();
                }
            } else if item.is_universal(universal::SEQUENCE) && request {
                // listOfModifier: attach to event condition or semaphore.
            } else if item.class == CONTEXT && item.tag != 79 && service.is_none() {
                service = Some(item);
            }
        }
        if self.f.invoke_id.is_none() {
            self.malformed();
        }
        let Some(item) = service else {
            self.a.add(MISSING_SERVICE);
            return;
        };
        let s = Service(item.tag);
        self.f.service = Some(s.0);
        self.f.service_name = s.name();
        if s.name().is_none() {
            self.a.add(UNKNOWN_SERVICE);
            return;
        }
        if request {
            self.request(s, &item);
        } else {
            self.response(s, &item);
        }
    }

    fn request(&mut self, s: Service, item: &Tlv<'_>) {
        match s {
            Service::GET_NAME_LIST => {
                for part in self.children(item) {
                    match part.tag {
                        0 => {
                            // extendedObjectClass: objectClass [0] (explicit choice).
                            if let Some(class) = self.inner(&part).filter(|c| c.is_context(0)) {
                                self.f.object_class = ber::unsigned(class.value);
                            }
                        }
                        1 => {
                            if let Some(scope) = self.inner(&part) {
                                self.f.object_scope = super::names::object_scope_name(scope.tag);
                                if scope.tag == 1 {
                                    self.f.domain_name = Some(text(scope.value, MAX_TEXT));
                                }
                            }
                        }
                        2 => self.f.continue_after = Some(text(part.value, MAX_TEXT)),
                        _ => {}
                    }
                }
            }
            Service::RENAME => {
                for part in self.children(item) {
                    if part.tag == 1 {
                        self.explicit_object_name(&part);
                    }
                }
            }
            Service::READ => {
                for part in self.children(item) {
                    if part.tag == 1
                        && let Some(spec) = self.inner(&part)
                    {
                        self.variable_access(&spec);
                    }
                }
            }
            Service::WRITE => {
                // The access specification, then listOfData [0].
                if let Some(spec) = self.children(item).next() {
                    self.variable_access(&spec);
                }
            }
            Service::GET_VARIABLE_ACCESS_ATTRIBUTES => {
                // Explicit [6]: name [0] ObjectName, or address [1].
                if let Some(choice) = self.inner(item)
                    && choice.is_context(0)
                {
                    self.explicit_object_name(&choice);
                }
            }
            Service::DEFINE_NAMED_VARIABLE_LIST => {
                let mut parts = self.children(item);
                if let Some(name) = parts.next() {
                    self.object_name(&name);
                }
                for part in parts.filter(|p| p.is_context(0)) {
                    self.list_of_variable(&part, 0);
                }
            }
            Service::DELETE_NAMED_VARIABLE_LIST
            | Service::DELETE_NAMED_TYPE
            | Service::DELETE_VARIABLE_ACCESS => {
                for part in self.children(item) {
                    match part.tag {
                        1 => {
                            for name in self.children(&part) {
                                self.object_name(&name);
                            }
                        }
                        2 => self.f.domain_name = Some(text(part.value, MAX_TEXT)),
                        _ => {}
                    }
                }
            }
            Service::DEFINE_NAMED_TYPE => {
                if let Some(name) = self.children(item).next() {
                    self.object_name(&name);
                }
            }
            Service::OBTAIN_FILE => {
                for part in self.children(item) {
                    match part.tag {
                        1 => self.f.file_name = Some(self.file_name(&part)),
                        2 => self.f.new_file_name = Some(self.file_name(&part)),
                        _ => {}
                    }
                }
            }
            Service::FILE_OPEN => {
                for part in self.children(item) {
                    match part.tag {
                        0 => self.f.file_name = Some(self.file_name(&part)),
                        1 => self.f.file_position = ber::unsigned(part.value),
                        _ => {}
                    }
                }
            }
            Service::FILE_READ | Service::FILE_CLOSE => {
                self.f.frsm_id = ber::signed(item.value);
                if self.f.frsm_id.is_none() {
                    self.malformed();
                }
            }
            Service::FILE_RENAME => {
                for part in self.children(item) {
                    match part.tag {
                        0 => self.f.file_name = Some(self.file_name(&part)),
                        1 => self.f.new_file_name = Some(self.file_name(&part)),
                        _ => {}
                    }
                }
            }
            Service::FILE_DELETE => self.f.file_name = Some(self.file_name(item)),
            Service::FILE_DIRECTORY => {
                for part in self.children(item) {
                    match part.tag {
                        0 => self.f.file_name = Some(self.file_name(&part)),
                        1 => self.f.continue_after = Some(self.file_name(&part)),
                        _ => {}
                    }
                }
            }
            // Domain services: the domain name.
            Service(26 | 28 | 32..=35) => {
                for part in self.children(item) {
                    match (s.0, part.tag) {
                        (_, 0) => self.f.domain_name = Some(text(part.value, MAX_TEXT)),
                        (32 | 34, 4) | (33 | 35, 1) => {
                            self.f.file_name = Some(self.file_name(&part));
                        }
                        _ => {}
                    }
                }
            }
            Service(27 | 29 | 36 | 37) => self.f.domain_name = Some(text(item.value, MAX_TEXT)),
            // Program invocation services: the program invocation name.
            Service(38 | 40..=44) => {
                if let Some(name) = self.children(item).find(|p| p.is_context(0)) {
                    self.f.program_invocation = Some(text(name.value, MAX_TEXT));
                }
            }
            Service(39 | 45) => self.f.program_invocation = Some(text(item.value, MAX_TEXT)),
            // Arguments that are an ObjectName (an explicit tag, ObjectName
            // being a choice): named variable list, type, scattered access,
            // semaphore, event condition/action/enrollment, journal.
            Service(9 | 12 | 15 | 22 | 23 | 49 | 50 | 55 | 56 | 60 | 68) => {
                self.explicit_object_name(item);
            }
            // Sequences whose first element is `[0] ObjectName`.
            Service(
                7 | 8 | 19..=21 | 24 | 25 | 47 | 51..=53 | 57 | 59 | 62 | 65..=67 | 69 | 70,
            ) => {
                if let Some(name) = self.children(item).find(|p| p.is_context(0)) {
                    self.explicit_object_name(&name);
                }
            }
            _ => {}
        }
    }

    fn response(&mut self, s: Service, item: &Tlv<'_>) {
        match s {
            Service::GET_NAME_LIST => {
                let mut more = true;
                for part in self.children(item) {
                    match part.tag {
                        0 => {
                            for id in self.children(&part) {
                                self.listed_name(text(id.value, MAX_TEXT));
                            }
                        }
                        1 => more = ber::boolean(part.value).unwrap_or(true),
                        _ => {}
                    }
                }
                self.f.more_follows = Some(more);
            }
            Service::IDENTIFY => {
                let mut id = Identity::default();
                for part in self.children(item) {
                    let value = Some(text(part.value, MAX_TEXT));
                    match part.tag {
                        0 => id.vendor = value,
                        1 => id.product = value,
                        2 => id.firmware = value,
                        _ => {}
                    }
                }
                if id.vendor.is_none() || id.product.is_none() || id.firmware.is_none() {
                    self.malformed();
                }
                if !id.is_empty() {
                    self.identity = Some(Box::new(id));
                }
            }
            Service::READ => {
                for part in self.children(item) {
                    match part.tag {
                        0 => {
                            if let Some(spec) = self.inner(&part) {
                                self.variable_access(&spec);
                            }
                        }
                        1 => self.access_results(&part),
                        _ => {}
                    }
                }
            }
            Service::WRITE => self.access_results(item),
            Service::GET_VARIABLE_ACCESS_ATTRIBUTES | Service::GET_NAMED_TYPE_ATTRIBUTES => {
                let tag = if s == Service::GET_NAMED_TYPE_ATTRIBUTES {
                    None
                } else {
                    Some(2)
                };
                for part in self.children(item) {
                    if tag.is_none_or(|t| part.is_context(t)) && !part.is_context(0) {
                        let spec = if tag.is_some() {
                            self.inner(&part)
                        } else {
                            Some(part)
                        };
                        if let Some(spec) = spec {
                            self.type_specification(&spec, 0);
                        }
                    }
                }
            }
            Service::GET_NAMED_VARIABLE_LIST_ATTRIBUTES => {
                for part in self.children(item) {
                    if part.is_context(1) {
                        self.list_of_variable(&part, 0);
                    }
                }
            }
            Service::FILE_OPEN => {
                for part in self.children(item) {
                    match part.tag {
                        0 => self.f.frsm_id = ber::signed(part.value),
                        1 => self.file_attributes(&part),
                        _ => {}
                    }
                }
            }
            Service::FILE_READ => {
                let mut more = true;
                for part in self.children(item) {
                    match part.tag {
                        0 => {
                            self.f.file_data_length =
                                Some(u32::try_from(part.value.len()).unwrap_or(u32::MAX));
                        }
                        1 => more = ber::boolean(part.value).unwrap_or(true),
                        _ => {}
                    }
                }
                self.f.more_follows = Some(more);
            }
            Service::FILE_DIRECTORY => {
                let mut more = false;
                for part in self.children(item) {
                    match part.tag {
                        0 => {
                            // listOfDirectoryEntry [0] (explicit) SEQUENCE OF DirectoryEntry.
                            let Some(list) = self.inner(&part) else {
                                continue;
                            };
                            for entry in self.children(&list) {
                                for field in self.children(&entry) {
                                    if field.is_context(0) {
                                        let name = self.file_name(&field);
                                        self.listed_name(name);
                                    }
                                }
                            }
                        }
                        1 => more = ber::boolean(part.value).unwrap_or(false),
                        _ => {}
                    }
                }
                self.f.more_follows = Some(more);
            }
            _ => {}
        }
    }

    fn unconfirmed(&mut self, tlv: &Tlv<'_>) {
        let Some(service) = self
            .children(tlv)
            .find(|t| t.class == CONTEXT && t.tag != 79)
        else {
            self.a.add(MISSING_SERVICE);
            return;
        };
        let u = UnconfirmedService(service.tag);
        self.f.unconfirmed_service = Some(u.0);
        self.f.service_name = u.name();
        match u.0 {
            0 => {
                // informationReport: the access specification, then the results [0].
                let mut parts = self.children(&service);
                if let Some(spec) = parts.next() {
                    self.variable_access(&spec);
                }
                if let Some(results) = parts.next().filter(|p| p.is_context(0)) {
                    self.access_results(&results);
                }
            }
            1 => {}
            2 => {
                // eventNotification: enrollment [0], condition [1] { [0] name }.
                for part in self.children(&service) {
                    match part.tag {
                        0 => self.explicit_object_name(&part),
                        1 => {
                            if let Some(choice) = self.inner(&part).filter(|c| c.is_context(0)) {
                                self.explicit_object_name(&choice);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => self.a.add(UNKNOWN_SERVICE),
        }
    }

    fn reject(&mut self, tlv: &Tlv<'_>) {
        for item in self.children(tlv) {
            match item.tag {
                0 => self.f.invoke_id = ber::unsigned(item.value),
                reason => {
                    self.f.reject_reason = Some(reason);
                    self.f.reject_code = ber::signed(item.value);
                }
            }
        }
        if self
            .f
            .reject_reason
            .is_none_or(|r| super::names::reject_reason_name(r).is_none())
        {
            self.malformed();
        }
    }

    /// `ServiceError`: the error class choice and its code, the description.
    fn service_error(&mut self, tlv: &Tlv<'_>) {
        for item in self.children(tlv) {
            match item.tag {
                0 => {
                    if let Some(class) = self.inner(&item) {
                        self.f.error_class = Some(class.tag);
                        self.f.error_code = ber::signed(class.value);
                    }
                }
                1 => self.f.additional_code = ber::signed(item.value),
                2 => self.f.error_description = Some(text(item.value, MAX_TEXT)),
                _ => {}
            }
        }
        if self.f.error_class.is_none() {
            self.malformed();
        }
    }

    fn initiate(&mut self, tlv: &Tlv<'_>) {
        let mut p = Initiate::default();
        for item in self.children(tlv) {
            let int = || ber::signed(item.value);
            match item.tag {
                0 => p.local_detail = int(),
                1 => p.max_serv_outstanding_calling = int(),
                2 => p.max_serv_outstanding_called = int(),
                3 => p.nesting_level = int(),
                4 => {
                    for detail in self.children(&item) {
                        match detail.tag {
                            0 => p.version = ber::signed(detail.value),
                            1 => p.parameter_cbb = bits(detail.value),
                            2 => p.services_supported = bits(detail.value),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if p.max_serv_outstanding_calling.is_none() || p.max_serv_outstanding_called.is_none() {
            self.malformed();
        }
        self.f.initiate = Some(Box::new(p));
    }

    /// `AccessResult`s (read response, information report) or write results:
    /// counts, and the first failure's `DataAccessError`.
    fn access_results(&mut self, list: &Tlv<'_>) {
        let mut results = 0u32;
        let mut failures = 0u32;
        for r in self.children(list) {
            results = results.saturating_add(1);
            if r.is_context(0) && !r.constructed {
                failures = failures.saturating_add(1);
                if self.f.data_access_error.is_none() {
                    self.f.data_access_error = ber::unsigned(r.value);
                }
            }
        }
        self.f.access_results = Some(results);
        self.f.access_failures = Some(failures);
    }

    /// `VariableAccessSpecification`: a list of variables `[0]`, or a named
    /// variable list `[1]`.
    fn variable_access(&mut self, spec: &Tlv<'_>) {
        match spec.tag {
            0 if spec.class == CONTEXT => self.list_of_variable(spec, 0),
            1 if spec.class == CONTEXT => self.explicit_object_name(spec),
            _ => self.malformed(),
        }
    }

    /// A list of `SEQUENCE { VariableSpecification, alternateAccess [5] }`.
    fn list_of_variable(&mut self, list: &Tlv<'_>, depth: u8) {
        for entry in self.children(list) {
            if let Some(spec) = self.children(&entry).next() {
                self.variable_specification(&spec, depth);
            }
        }
    }

    /// `VariableSpecification`: a name `[0]`, a description `[2]` with a
    /// type, or a scattered access description `[3]`.
    fn variable_specification(&mut self, spec: &Tlv<'_>, depth: u8) {
        if depth >= ber::MAX_DEPTH {
            self.a.add(NESTING_TOO_DEEP);
            return;
        }
        match spec.tag {
            0 => self.explicit_object_name(spec),
            2 => {
                if let Some(t) = self.children(spec).nth(1) {
                    self.type_specification(&t, depth + 1);
                }
            }
            3 => {
                for entry in self.children(spec) {
                    for part in self.children(&entry) {
                        if part.is_context(1)
                            && let Some(inner) = self.inner(&part)
                        {
                            self.variable_specification(&inner, depth + 1);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `TypeSpecification`: the type names it refers to.
    fn type_specification(&mut self, t: &Tlv<'_>, depth: u8) {
        if depth >= ber::MAX_DEPTH {
            self.a.add(NESTING_TOO_DEEP);
            return;
        }
        match (t.tag, t.constructed) {
            (0, true) => self.explicit_object_name(t),
            (1, true) => {
                // array: elementType [2].
                let element = self.children(t).find(|p| p.is_context(2));
                if let Some(element) = element
                    && let Some(inner) = self.inner(&element)
                {
                    self.type_specification(&inner, depth + 1);
                }
            }
            (2, true) => {
                // structure: components [1] of { name [0], type [1] }.
                for components in self.children(t).filter(|p| p.is_context(1)) {
                    for component in self.children(&components) {
                        for part in self.children(&component) {
                            if part.is_context(1)
                                && let Some(inner) = self.inner(&part)
                            {
                                self.type_specification(&inner, depth + 1);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// An explicit tag around an `ObjectName`.
    fn explicit_object_name(&mut self, tlv: &Tlv<'_>) {
        if let Some(name) = self.inner(tlv) {
            self.object_name(&name);
        }
    }

    /// `ObjectName`: vmd-specific `[0]`, domain-specific `[1] { domainId,
    /// itemId }` or aa-specific `[2]`.
    fn object_name(&mut self, tlv: &Tlv<'_>) {
        let name = match (tlv.class, tlv.tag) {
            (CONTEXT, 0) => ObjectName::Vmd(text(tlv.value, MAX_TEXT)),
            (CONTEXT, 1) => {
                let mut ids = self
                    .children(tlv)
                    .filter(|p| p.is_universal(universal::VISIBLE_STRING));
                match (ids.next(), ids.next(), ids.next()) {
                    (Some(domain), Some(item), None) => ObjectName::Domain {
                        domain_id: text(domain.value, MAX_TEXT),
                        item_id: text(item.value, MAX_TEXT),
                    },
                    _ => {
                        self.malformed();
                        return;
                    }
                }
            }
            (CONTEXT, 2) => ObjectName::Aa(text(tlv.value, MAX_TEXT)),
            _ => {
                self.malformed();
                return;
            }
        };
        if let ObjectName::Domain { item_id, .. } = &name
            && item_id.contains("$CO$")
        {
            self.control = true;
        }
        self.f.variable_count = self.f.variable_count.saturating_add(1);
        if self.f.variables.len() < MAX_VARIABLES {
            self.f.variables.push(name);
        }
    }

    /// A name listed in a response (identifiers, directory entries).
    fn listed_name(&mut self, name: String) {
        self.f.name_count = Some(self.f.name_count.unwrap_or(0).saturating_add(1));
        if self.f.names.len() < MAX_NAMES {
            self.f.names.push(name);
        }
    }

    /// `FileName`: a sequence of graphic strings, joined with `/`.
    fn file_name(&mut self, tlv: &Tlv<'_>) -> String {
        let mut name = String::new();
        for part in self.children(tlv) {
            if !name.is_empty() {
                name.push('/');
            }
            let room = MAX_TEXT.saturating_sub(name.len());
            name.push_str(&text(part.value, room));
            if name.len() >= MAX_TEXT {
                break;
            }
        }
        name
    }

    /// `FileAttributes`: the size.
    fn file_attributes(&mut self, tlv: &Tlv<'_>) {
        for part in self.children(tlv) {
            if part.is_context(0) {
                self.f.file_size = ber::unsigned(part.value);
            }
        }
    }
}

/// The bits of a BIT STRING, bounded, for an event.
fn bits(value: &[u8]) -> Option<Vec<u8>> {
    ber::bit_string(value).map(|b| b.get(..MAX_HEX).unwrap_or(b).to_vec())
}
