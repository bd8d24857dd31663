//! IEC 61850 / ISO 9506 MMS over the OSI upper layers on ISO-on-TCP (port
//! 102): ISO 8327 session, ISO 8823 presentation, ISO 8650 ACSE and MMS
//! PDUs, with request/response pairing per connection.
//!
//! The TPKT/COTP layer below is [`super::cotp`]; [`super::iso_on_tcp`] hands
//! this decoder every TSDU whose first octet is an ISO session SPDU type
//! ([`is_session`]). What is an event: **one per MMS PDU**, which in practice
//! is one per TSDU — a TSDU carries one SPDU (after an optional token SPDU),
//! that one presentation PPDU, and each of its presentation data values one
//! APDU (several PDVs give several events). The MMS PDU is the PDV itself
//! (data transfer) or the user information of the ACSE APDU in it (initiate
//! in AARQ/AARE). A TSDU that carries no MMS PDU — a connect or release whose
//! ACSE APDU has no MMS inside, a refuse, an abort, a session SPDU whose
//! presentation data is missing or broken — is an event of its own, named
//! after the ACSE APDU or session SPDU (`associate_request`,
//! `release_request`, `abort`…).
//!
//! Layout: [`ber`] the BER reader, [`session`], [`presentation`], [`acse`]
//! and [`pdu`] one layer each, [`names`] the code tables; this file the
//! event fields, the pairing state and the routing and probe helpers.
//!
//! Parser entry points, pure functions over `&[u8]` (fuzz targets):
//! [`session::parse`], [`presentation::parse`] and [`presentation::pdvs`],
//! [`acse::parse`], [`pdu::decode`], and [`decode_tsdu`] for the whole stack.

pub mod acse;
pub mod ber;
pub mod names;
pub mod pdu;
pub mod presentation;
pub mod session;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::cotp::Tsdu;
use super::{Direction, Emitter};
use crate::event::{
    Anomalies, Fields, FunctionClass, Identity, Nest, Pdu, Protocol, Value, Visitor,
};
use names::{FUNCTIONAL_CONSTRAINTS, PduType, Service, UnconfirmedService, spdu};

/// Strings written into events (identifiers, file names, identity) are cut
/// to this many characters.
pub const MAX_TEXT: usize = 128;
/// Bit strings (services supported, parameter CBB) are cut to this many octets.
pub const MAX_HEX: usize = 16;
/// Object names listed per event; `variable_count` counts them all.
pub const MAX_VARIABLES: usize = 64;
/// Identifiers or file names listed from a response; `name_count` counts them all.
pub const MAX_NAMES: usize = 32;
/// Requests awaiting their answer, per direction. MMS negotiates at most a few
/// dozen outstanding requests; beyond this the oldest is forgotten quietly.
pub const MAX_PENDING: usize = 64;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// The SPDU's length runs past the TSDU (or the TSDU is too short for one).
    pub const TRUNCATED_SPDU: &str = "truncated_spdu";
    /// An SPDU type ISO 8327 does not define for connections.
    pub const UNKNOWN_SPDU_TYPE: &str = "unknown_spdu_type";
    /// A session parameter runs past its SPDU or group.
    pub const INVALID_SESSION_PARAMETER: &str = "invalid_session_parameter";
    /// A session parameter code ISO 8327 does not define.
    pub const UNKNOWN_SESSION_PARAMETER: &str = "unknown_session_parameter";
    /// A CONNECT, ACCEPT, FINISH, DISCONNECT or DATA TRANSFER without user data.
    pub const MISSING_USER_DATA: &str = "missing_user_data";
    /// The presentation PDU is not the one the SPDU calls for, or its BER is broken.
    pub const INVALID_PRESENTATION_PDU: &str = "invalid_presentation_pdu";
    /// The ACSE APDU's BER is broken or its tag is not an ACSE one.
    pub const INVALID_ACSE_APDU: &str = "invalid_acse_apdu";
    /// The MMS PDU's BER is broken, or a mandatory field is missing or malformed.
    pub const INVALID_MMS_PDU: &str = "invalid_mms_pdu";
    /// A BER indefinite length (with one of the `invalid_*` above).
    pub const INDEFINITE_LENGTH: &str = "indefinite_length";
    /// Octets after the PDU in its enclosing value.
    pub const TRAILING_BYTES: &str = "trailing_bytes";
    /// An `MMSpdu` tag ISO 9506 does not define.
    pub const UNKNOWN_PDU_TYPE: &str = "unknown_pdu_type";
    /// A confirmed or unconfirmed service number ISO 9506 does not define.
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    /// A confirmed request or response, or an unconfirmed PDU, without its service.
    pub const MISSING_SERVICE: &str = "missing_service";
    /// Type specifications or scattered access nested beyond the bound.
    pub const NESTING_TOO_DEEP: &str = "nesting_too_deep";
    /// No pending request with this invoke id (expected when the capture
    /// starts mid-connection).
    pub const RESPONSE_WITHOUT_REQUEST: &str = "response_without_request";
    /// The response's service differs from its request's.
    pub const SERVICE_MISMATCH: &str = "service_mismatch";
    /// A request reuses the invoke id of a request still unanswered.
    pub const DUPLICATE_INVOKE_ID: &str = "duplicate_invoke_id";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        TRUNCATED_SPDU,
        UNKNOWN_SPDU_TYPE,
        INVALID_SESSION_PARAMETER,
        UNKNOWN_SESSION_PARAMETER,
        MISSING_USER_DATA,
        INVALID_PRESENTATION_PDU,
        INVALID_ACSE_APDU,
        INVALID_MMS_PDU,
        INDEFINITE_LENGTH,
        TRAILING_BYTES,
        UNKNOWN_PDU_TYPE,
        UNKNOWN_SERVICE,
        MISSING_SERVICE,
        NESTING_TOO_DEEP,
        RESPONSE_WITHOUT_REQUEST,
        SERVICE_MISMATCH,
        DUPLICATE_INVOKE_ID,
    ];
}
use anomaly::*;

/// Names of events that carry no MMS PDU, by what carried them.
mod function {
    pub const ASSOCIATE_REQUEST: &str = "associate_request";
    pub const ASSOCIATE_RESPONSE: &str = "associate_response";
    pub const ASSOCIATE_REJECT: &str = "associate_reject";
    pub const RELEASE_REQUEST: &str = "release_request";
    pub const RELEASE_RESPONSE: &str = "release_response";
    pub const RELEASE_REJECT: &str = "release_reject";
    pub const ABORT: &str = "abort";
    pub const ABORT_ACCEPT: &str = "abort_accept";
    pub const DATA: &str = "data";
    pub const CONFIRMED_ERROR: &str = "confirmed_error";
    pub const UNKNOWN: &str = "unknown";
    pub const INVALID: &str = "invalid";
}

/// Every `function` name MMS events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = (0..=Service::LAST)
        .filter_map(|s| Service(s).name())
        .chain((0..3).filter_map(|u| UnconfirmedService(u).name()))
        .chain(
            (3..=13)
                .filter_map(|t| PduType(t).name())
                .filter(|&n| n != "unconfirmed"),
        )
        .chain((0..=u8::MAX).filter_map(spdu::name))
        .chain([
            function::ASSOCIATE_REQUEST,
            function::ASSOCIATE_RESPONSE,
            function::ASSOCIATE_REJECT,
            function::RELEASE_REQUEST,
            function::RELEASE_RESPONSE,
            function::RELEASE_REJECT,
            function::ABORT,
            function::ABORT_ACCEPT,
            function::DATA,
            function::CONFIRMED_ERROR,
            function::UNKNOWN,
            function::INVALID,
        ])
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Whether a TSDU is for this decoder: it starts with an ISO 8327 SPDU type
/// (and a length octet). The lengths are checked, and reported, by the decoder.
pub fn is_session(tsdu: &[u8]) -> bool {
    session::looks_like_spdu(tsdu)
}

/// The stricter probe of the ISO-on-TCP decoder on a non-standard port, for
/// the user data of a first DT TPDU: `Some(true)` for a session CONNECT whose
/// parameters are well formed, fill the TSDU exactly (`total`, when the TPDU
/// is whole) and carry a presentation CP-type, or for data (`01 00 01 00`)
/// carrying fully-encoded presentation user data whose BER length fills the
/// TSDU; `None` when there are too few octets to tell.
pub fn probe_spdu(user_data: &[u8], total: Option<usize>) -> Option<bool> {
    match user_data {
        [spdu::CN, ..] => {
            let mut a = Anomalies::new();
            let fits = match *user_data.get(1)? {
                0xff => {
                    let len =
                        usize::from(u16::from_be_bytes([*user_data.get(2)?, *user_data.get(3)?]));
                    total.is_none_or(|t| t == len + 4)
                }
                li => total.is_none_or(|t| t == usize::from(li) + 2),
            };
            let whole = total.is_some_and(|t| user_data.len() >= t);
            if !fits {
                return Some(false);
            }
            if !whole {
                return None;
            }
            let s = session::parse(user_data, &mut a)?;
            let cp = s.user_data.and_then(|d| d.first()) == Some(&0x31);
            Some(a.is_empty() && cp)
        }
        [spdu::DT, 0, spdu::DT, 0, 0x61, ..] => {
            let head = user_data.get(4..)?;
            match ber::read(head) {
                Ok((_, rest)) => {
                    let encoded = head.len() - rest.len();
                    Some(total.is_none_or(|t| t == 4 + encoded))
                }
                Err(ber::BerError::Truncated) if total.is_none() => None,
                Err(_) => Some(false),
            }
        }
        [] | [_] | [spdu::DT, 0] | [spdu::DT, 0, spdu::DT] | [spdu::DT, 0, spdu::DT, 0] => None,
        _ => Some(false),
    }
}

/// An MMS `ObjectName`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectName {
    /// Wireshark `mms.vmd_specific`.
    Vmd(String),
    /// Wireshark `mms.domainId`, `mms.itemId`.
    Domain { domain_id: String, item_id: String },
    /// Wireshark `mms.aa_specific`.
    Aa(String),
}

impl ObjectName {
    /// The IEC 61850 functional constraint of an item id `LN$FC$…` (the
    /// second `$` component, when it is one of IEC 61850-8-1's).
    pub fn fc(&self) -> Option<&str> {
        let ObjectName::Domain { item_id, .. } = self else {
            return None;
        };
        let mut parts = item_id.split('$');
        let (_, fc) = (parts.next()?, parts.next()?);
        FUNCTIONAL_CONSTRAINTS.contains(&fc).then_some(fc)
    }

    /// The IEC 61850 object reference `LD/LN.DO.DA` of a domain-specific
    /// name whose item id has a functional constraint (`LLN0$ST$Mod$stVal` in
    /// domain `LD` → `LD/LLN0.Mod.stVal`).
    pub fn reference(&self) -> Option<String> {
        let ObjectName::Domain { domain_id, item_id } = self else {
            return None;
        };
        self.fc()?;
        let mut parts = item_id.split('$');
        let ln = parts.next()?;
        let _fc = parts.next()?;
        let mut reference = format!("{domain_id}/{ln}");
        for part in parts {
            reference.push('.');
            reference.push_str(part);
        }
        Some(reference)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        match self {
            ObjectName::Vmd(name) => v.field("vmd_specific", Value::Str(name)),
            ObjectName::Aa(name) => v.field("aa_specific", Value::Str(name)),
            ObjectName::Domain { domain_id, item_id } => {
                v.field("domain_id", Value::Str(domain_id));
                v.field("item_id", Value::Str(item_id));
                if let Some(reference) = self.reference() {
                    v.field("reference", Value::Str(&reference));
                }
                if let Some(fc) = self.fc() {
                    v.field("fc", Value::Str(fc));
                }
            }
        }
    }
}

/// The negotiated parameters of an initiate request or response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Initiate {
    /// Wireshark `mms.localDetailCalling` / `mms.localDetailCalled`: the
    /// largest PDU, in octets.
    pub local_detail: Option<i64>,
    /// `mms.proposedMaxServOutstandingCalling` / `negociated…`.
    pub max_serv_outstanding_calling: Option<i64>,
    /// `mms.proposedMaxServOutstandingCalled` / `negociated…`.
    pub max_serv_outstanding_called: Option<i64>,
    /// `mms.proposedDataStructureNestingLevel` / `negociated…`.
    pub nesting_level: Option<i64>,
    /// `mms.proposedVersionNumber` / `mms.negociatedVersionNumber`.
    pub version: Option<i64>,
    /// `mms.proposedParameterCBB` / `negociatedParameterCBB` (bits).
    pub parameter_cbb: Option<Vec<u8>>,
    /// `mms.servicesSupportedCalling` / `servicesSupportedCalled` (bits).
    pub services_supported: Option<Vec<u8>>,
}

impl Initiate {
    fn visit(&self, v: &mut dyn Visitor) {
        let ints = [
            ("local_detail", self.local_detail),
            (
                "max_serv_outstanding_calling",
                self.max_serv_outstanding_calling,
            ),
            (
                "max_serv_outstanding_called",
                self.max_serv_outstanding_called,
            ),
            ("nesting_level", self.nesting_level),
            ("version", self.version),
        ];
        for (name, value) in ints {
            if let Some(value) = value {
                v.field(name, Value::I64(value));
            }
        }
        if let Some(bits) = &self.parameter_cbb {
            v.field("parameter_cbb", Value::Hex(bits));
        }
        if let Some(bits) = &self.services_supported {
            v.field("services_supported", Value::Hex(bits));
        }
    }
}

/// What the session, presentation and ACSE layers say of an association
/// (on connect, accept, refuse, release and abort).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Association {
    /// Wireshark `ses.calling_session_selector`, `ses.called_session_selector`.
    pub calling_session_selector: Option<Vec<u8>>,
    pub called_session_selector: Option<Vec<u8>>,
    /// REFUSE reason code (Wireshark `ses.reason_code`).
    pub session_reason: Option<u8>,
    /// Wireshark `pres.calling_presentation_selector` and the others.
    pub calling_presentation_selector: Option<Vec<u8>>,
    pub called_presentation_selector: Option<Vec<u8>>,
    pub responding_presentation_selector: Option<Vec<u8>>,
    /// CPR-PPDU or ARP-PPDU provider reason.
    pub presentation_reason: Option<u64>,
    /// `aarq`, `aare`, `rlrq`, `rlre`, `abrt`.
    pub acse_apdu: Option<&'static str>,
    /// Wireshark `acse.aSO_context_name` (MMS: `1.0.9506.2.3`).
    pub application_context: Option<String>,
    pub called_ap_title: Option<String>,
    pub called_ae_qualifier: Option<i64>,
    pub calling_ap_title: Option<String>,
    pub calling_ae_qualifier: Option<i64>,
    pub responding_ap_title: Option<String>,
    pub responding_ae_qualifier: Option<i64>,
    /// Wireshark `acse.mechanism_name` (password: `2.2.3.1`).
    pub authentication_mechanism: Option<String>,
    /// The calling authentication value when it is a character string.
    pub password: Option<String>,
    /// AARE result (Wireshark `acse.result`): 0 accepted, 1 rejected
    /// (permanent), 2 rejected (transient).
    pub association_result: Option<u64>,
    /// RLRQ/RLRE reason (Wireshark `acse.reason`).
    pub release_reason: Option<u64>,
    /// ABRT source: 0 service user, 1 service provider.
    pub abort_source: Option<u64>,
}

impl Association {
    fn is_empty(&self) -> bool {
        *self == Association::default()
    }

    fn visit(&self, v: &mut dyn Visitor) {
        let hex = [
            ("calling_session_selector", &self.calling_session_selector),
            ("called_session_selector", &self.called_session_selector),
        ];
        for (name, value) in hex {
            if let Some(value) = value {
                v.field(name, Value::Hex(value));
            }
        }
        if let Some(reason) = self.session_reason {
            v.field("session_reason", Value::U64(reason.into()));
        }
        let hex = [
            (
                "calling_presentation_selector",
                &self.calling_presentation_selector,
            ),
            (
                "called_presentation_selector",
                &self.called_presentation_selector,
            ),
            (
                "responding_presentation_selector",
                &self.responding_presentation_selector,
            ),
        ];
        for (name, value) in hex {
            if let Some(value) = value {
                v.field(name, Value::Hex(value));
            }
        }
        if let Some(reason) = self.presentation_reason {
            v.field("presentation_reason", Value::U64(reason));
        }
        if let Some(apdu) = self.acse_apdu {
            v.field("acse_apdu", Value::Str(apdu));
        }
        let text = [
            ("application_context", &self.application_context),
            ("called_ap_title", &self.called_ap_title),
        ];
        for (name, value) in text {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        let titles = [
            ("called_ae_qualifier", None, self.called_ae_qualifier),
            (
                "calling_ap_title",
                self.calling_ap_title.as_deref(),
                self.calling_ae_qualifier,
            ),
            (
                "responding_ap_title",
                self.responding_ap_title.as_deref(),
                self.responding_ae_qualifier,
            ),
        ];
        for (name, title, qualifier) in titles {
            if let Some(title) = title {
                v.field(name, Value::Str(title));
            }
            if let Some(q) = qualifier {
                let q_name = match name {
                    "calling_ap_title" => "calling_ae_qualifier",
                    "responding_ap_title" => "responding_ae_qualifier",
                    other => other,
                };
                v.field(q_name, Value::I64(q));
            }
        }
        if let Some(m) = &self.authentication_mechanism {
            v.field("authentication_mechanism", Value::Str(m));
        }
        if let Some(p) = &self.password {
            v.field("password", Value::Secret(p));
        }
        if let Some(r) = self.association_result {
            v.field("association_result", Value::U64(r));
        }
        if let Some(r) = self.release_reason {
            v.field("release_reason", Value::U64(r));
        }
        if let Some(s) = self.abort_source {
            v.field("abort_source", Value::U64(s));
        }
    }
}

/// MMS fields of one event. Absent (`None`, empty) fields are not written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MmsFields {
    /// The session SPDU that carried the PDU (Wireshark `ses.type`): 1 data
    /// transfer, 13 connect, 14 accept, 9 finish, 10 disconnect, 25 abort…
    pub spdu_type: Option<u8>,
    /// The DT TPDUs the TSDU came in, when more than one.
    pub cotp_segments: Option<u16>,
    /// Wireshark `pres.presentation_context_identifier` of the PDV.
    pub presentation_context_id: Option<u64>,
    /// Session, presentation and ACSE parameters (connection management only).
    pub association: Option<Box<Association>>,
    /// `confirmed_request`, `confirmed_response`, `confirmed_error`,
    /// `unconfirmed`, `reject`, `cancel_*`, `initiate_*`, `conclude_*`
    /// (Wireshark `mms.confirmed_RequestPDU_element`…).
    pub pdu_type: Option<&'static str>,
    /// Wireshark `mms.invokeID` (a reject's or cancel's original invoke id).
    pub invoke_id: Option<u64>,
    /// Confirmed service number as on the wire (Wireshark
    /// `mms.confirmedServiceRequest` / `mms.confirmedServiceResponse`).
    pub service: Option<u32>,
    /// Wireshark `mms.unconfirmedService`.
    pub unconfirmed_service: Option<u32>,
    /// Name of `service` or `unconfirmed_service`.
    pub service_name: Option<&'static str>,
    /// Object names in PDU order (Wireshark `mms.domainId`, `mms.itemId`,
    /// `mms.vmd_specific`, `mms.aa_specific`), at most [`MAX_VARIABLES`].
    pub variables: Vec<ObjectName>,
    /// Object names seen, listed or not.
    pub variable_count: u32,
    /// GetNameList request (Wireshark `mms.objectClass`).
    pub object_class: Option<u64>,
    /// GetNameList request scope: `vmd_specific`, `domain_specific`, `aa_specific`.
    pub object_scope: Option<&'static str>,
    /// A domain named on its own: GetNameList scope, domain services,
    /// deletions by domain (Wireshark `mms.domainSpecific`, `mms.domainName`).
    pub domain_name: Option<String>,
    /// GetNameList / FileDirectory request `continueAfter`.
    pub continue_after: Option<String>,
    /// GetNameList response identifiers or FileDirectory response file
    /// names, at most [`MAX_NAMES`].
    pub names: Vec<String>,
    pub name_count: Option<u32>,
    /// GetNameList, FileRead, FileDirectory responses.
    pub more_follows: Option<bool>,
    /// Program invocation services: its name.
    pub program_invocation: Option<String>,
    /// File services (components joined with `/`): the file opened, read,
    /// deleted, renamed (its current name), obtained (the source), or the
    /// directory listed; domain download/upload files.
    pub file_name: Option<String>,
    /// FileRename new name; ObtainFile destination.
    pub new_file_name: Option<String>,
    /// FileOpen initial position.
    pub file_position: Option<u64>,
    /// File read state machine id: FileOpen response, FileRead and FileClose requests.
    pub frsm_id: Option<i64>,
    /// FileOpen response file size.
    pub file_size: Option<u64>,
    /// FileRead response: octets of file data.
    pub file_data_length: Option<u32>,
    /// Read response, write response, information report: results, failures.
    pub access_results: Option<u32>,
    pub access_failures: Option<u32>,
    /// The first failure's `DataAccessError`.
    pub data_access_error: Option<u64>,
    /// Service error class (Wireshark `mms.errorClass`), its code within the
    /// class, `mms.additionalCode`, `mms.additionalDescription`.
    pub error_class: Option<u32>,
    pub error_code: Option<i64>,
    pub additional_code: Option<i64>,
    pub error_description: Option<String>,
    /// Confirmed error `modifierPosition`.
    pub modifier_position: Option<u64>,
    /// Reject reason (which PDU kind was rejected) and its problem code.
    pub reject_reason: Option<u32>,
    pub reject_code: Option<i64>,
    /// Initiate request/response parameters.
    pub initiate: Option<Box<Initiate>>,
    /// Packet of the paired request (on confirmed responses and errors).
    pub request_packet: Option<u64>,
}

impl MmsFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        fn u(v: &mut dyn Visitor, name: &str, value: Option<impl Into<u64>>) {
            if let Some(value) = value {
                v.field(name, Value::U64(value.into()));
            }
        }
        fn i(v: &mut dyn Visitor, name: &str, value: Option<i64>) {
            if let Some(value) = value {
                v.field(name, Value::I64(value));
            }
        }
        fn s(v: &mut dyn Visitor, name: &str, value: Option<&str>) {
            if let Some(value) = value {
                v.field(name, Value::Str(value));
            }
        }
        u(v, "spdu_type", self.spdu_type);
        u(v, "cotp_segments", self.cotp_segments);
        u(v, "presentation_context_id", self.presentation_context_id);
        if let Some(assoc) = &self.association {
            assoc.visit(v);
        }
        s(v, "pdu_type", self.pdu_type);
        u(v, "invoke_id", self.invoke_id);
        u(v, "service", self.service);
        u(v, "unconfirmed_service", self.unconfirmed_service);
        s(v, "service_name", self.service_name);
        if let Some(first) = self.variables.first() {
            first.visit(v);
        }
        if self.variable_count > 1 {
            u(v, "variable_count", Some(self.variable_count));
            v.begin("variables", Nest::List);
            for name in &self.variables {
                v.begin("", Nest::Object);
                name.visit(v);
                v.end();
            }
            v.end();
        }
        u(v, "object_class", self.object_class);
        s(v, "object_scope", self.object_scope);
        s(v, "domain_name", self.domain_name.as_deref());
        s(v, "continue_after", self.continue_after.as_deref());
        u(v, "name_count", self.name_count);
        if !self.names.is_empty() {
            v.begin("names", Nest::List);
            for name in &self.names {
                v.field("", Value::Str(name));
            }
            v.end();
        }
        if let Some(more) = self.more_follows {
            v.field("more_follows", Value::Bool(more));
        }
        s(v, "program_invocation", self.program_invocation.as_deref());
        s(v, "file_name", self.file_name.as_deref());
        s(v, "new_file_name", self.new_file_name.as_deref());
        u(v, "file_position", self.file_position);
        i(v, "frsm_id", self.frsm_id);
        u(v, "file_size", self.file_size);
        u(v, "file_data_length", self.file_data_length);
        u(v, "access_results", self.access_results);
        u(v, "access_failures", self.access_failures);
        u(v, "data_access_error", self.data_access_error);
        s(
            v,
            "data_access_error_name",
            self.data_access_error
                .and_then(names::data_access_error_name),
        );
        u(v, "error_class", self.error_class);
        s(
            v,
            "error_class_name",
            self.error_class.and_then(names::error_class_name),
        );
        i(v, "error_code", self.error_code);
        i(v, "additional_code", self.additional_code);
        s(v, "error_description", self.error_description.as_deref());
        u(v, "modifier_position", self.modifier_position);
        u(v, "reject_reason", self.reject_reason);
        s(
            v,
            "reject_reason_name",
            self.reject_reason.and_then(names::reject_reason_name),
        );
        i(v, "reject_code", self.reject_code);
        if let Some(init) = &self.initiate {
            init.visit(v);
        }
        u(v, "request_packet", self.request_packet);
    }

    /// The first domain-specific name (the domain and item a user filters on).
    pub fn domain_item(&self) -> Option<(&str, &str)> {
        self.variables.iter().find_map(|n| match n {
            ObjectName::Domain { domain_id, item_id } => {
                Some((domain_id.as_str(), item_id.as_str()))
            }
            _ => None,
        })
    }
}

/// A confirmed request awaiting its response.
#[derive(Clone, Copy, Debug)]
struct Pending {
    invoke_id: u64,
    service: u32,
    class: FunctionClass,
    packet: u64,
}

/// What one PDV (or a TSDU without one) decodes to, before pairing.
#[derive(Debug)]
pub struct Decoded {
    pub fields: MmsFields,
    pub anomalies: Anomalies,
    pub pdu_type: Option<PduType>,
    /// A write of an IEC 61850 control object.
    pub control: bool,
    pub identity: Option<Box<Identity>>,
    /// The ACSE APDU tag, when the PDV held one.
    pub acse: Option<u32>,
}

/// Decodes a whole TSDU: session, presentation, ACSE and MMS; hands `sink`
/// one [`Decoded`] per PDV (at most [`presentation::MAX_PDVS`]), or one for
/// the TSDU when it carries none. `framing` holds the anomalies of the
/// transport below.
pub fn decode_tsdu(tsdu: &[u8], framing: Anomalies, mut sink: impl FnMut(Decoded)) {
    let mut a = framing;
    let Some(s) = session::parse(tsdu, &mut a) else {
        a.add(TRUNCATED_SPDU);
        return sink(Decoded {
            fields: MmsFields::default(),
            anomalies: a,
            pdu_type: None,
            control: false,
            identity: None,
            acse: None,
        });
    };
    let bounded = |d: &[u8]| d.get(..MAX_HEX).unwrap_or(d).to_vec();
    let mut assoc = Association {
        calling_session_selector: s.calling_selector.map(bounded),
        called_session_selector: s.called_selector.map(bounded),
        session_reason: s.reason_code,
        ..Association::default()
    };
    let base = MmsFields {
        spdu_type: Some(s.spdu_type),
        ..MmsFields::default()
    };
    let pres = s
        .user_data
        .map(|d| presentation::parse(s.spdu_type, d, &mut a))
        .unwrap_or_default();
    assoc.calling_presentation_selector = pres.calling_selector.map(bounded);
    assoc.called_presentation_selector = pres.called_selector.map(bounded);
    assoc.responding_presentation_selector = pres.responding_selector.map(bounded);
    assoc.presentation_reason = pres.provider_reason;
    let mut pdvs = [None; presentation::MAX_PDVS];
    if let Some(ud) = pres.user_data {
        for (slot, pdv) in pdvs.iter_mut().zip(presentation::pdvs(ud)) {
            match pdv {
                Ok(pdv) => *slot = Some(pdv),
                Err(e) => {
                    a.add(INVALID_PRESENTATION_PDU);
                    if e == Some(ber::BerError::IndefiniteLength) {
                        a.add(INDEFINITE_LENGTH);
                    }
                }
            }
        }
    }
    let mut any = false;
    for pdv in pdvs.iter().flatten() {
        let mut f = base.clone();
        let mut a = a;
        let mut assoc = assoc.clone();
        f.presentation_context_id = pdv.context_id;
        let (acse, mms) = if acse::is_acse(pdv.data) {
            acse::parse(pdv.data, &mut assoc, &mut a)
        } else {
            (None, Some(pdv.data))
        };
        let d = mms.map(|data| pdu::decode(data, &mut f, &mut a));
        if !assoc.is_empty() {
            f.association = Some(Box::new(assoc));
        }
        let d = d.unwrap_or_default();
        any = true;
        sink(Decoded {
            fields: f,
            anomalies: a,
            pdu_type: d.pdu_type,
            control: d.control,
            identity: d.identity,
            acse,
        });
    }
    if !any {
        let mut f = base;
        if !assoc.is_empty() {
            f.association = Some(Box::new(assoc));
        }
        sink(Decoded {
            fields: f,
            anomalies: a,
            pdu_type: None,
            control: false,
            identity: None,
            acse: None,
        });
    }
}

/// The `function` and `class` of a PDU without MMS, from its ACSE APDU or,
/// lacking one, its session SPDU.
fn association_function(d: &Decoded) -> (&'static str, FunctionClass) {
    let accepted = d
        .fields
        .association
        .as_ref()
        .and_then(|a| a.association_result)
        .is_none_or(|r| r == 0);
    let name = match d.acse {
        Some(acse::apdu::AARQ) => function::ASSOCIATE_REQUEST,
        Some(acse::apdu::AARE) if accepted => function::ASSOCIATE_RESPONSE,
        Some(acse::apdu::AARE) => function::ASSOCIATE_REJECT,
        Some(acse::apdu::RLRQ) => function::RELEASE_REQUEST,
        Some(acse::apdu::RLRE) => function::RELEASE_RESPONSE,
        Some(acse::apdu::ABRT) => function::ABORT,
        _ => match d.fields.spdu_type {
            Some(spdu::CN) => function::ASSOCIATE_REQUEST,
            Some(spdu::AC) => function::ASSOCIATE_RESPONSE,
            Some(spdu::RF) => function::ASSOCIATE_REJECT,
            Some(spdu::FN) => function::RELEASE_REQUEST,
            Some(spdu::DN) => function::RELEASE_RESPONSE,
            Some(spdu::NF) => function::RELEASE_REJECT,
            Some(spdu::AB) => function::ABORT,
            Some(spdu::AA) => function::ABORT_ACCEPT,
            Some(spdu::DT) => return (function::DATA, FunctionClass::Other),
            Some(si) => {
                return (
                    spdu::name(si).unwrap_or(function::INVALID),
                    FunctionClass::Other,
                );
            }
            None => return (function::INVALID, FunctionClass::Other),
        },
    };
    (name, FunctionClass::Session)
}

/// Per-connection MMS state: confirmed requests awaiting their answer, by
/// the direction they travelled (both sides may request: IEC 61850 servers
/// and ICCP peers do).
#[derive(Debug, Default)]
pub struct MmsState {
    pending: [VecDeque<Pending>; 2],
    /// Requests that travelled this way may have been lost in a gap: their
    /// answers are not reported as unsolicited.
    lost: [bool; 2],
}

impl MmsState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes were lost in `dir`: the requests whose answers travel in `dir`
    /// are forgotten, and answers to requests sent in `dir` may come
    /// without them.
    pub fn gap(&mut self, dir: Direction) {
        self.pending[dir.reverse().index()].clear();
        self.lost[dir.index()] = true;
    }

    /// Decodes one TSDU and emits its event(s).
    pub fn tsdu(&mut self, tsdu: &Tsdu<'_>, out: &mut Emitter<'_>) {
        decode_tsdu(tsdu.data, tsdu.anomalies, |mut d| {
            if tsdu.segments > 1 {
                d.fields.cotp_segments = Some(tsdu.segments);
            }
            self.emit(d, out);
        });
    }

    fn emit(&mut self, mut d: Decoded, out: &mut Emitter<'_>) {
        let dir = out.direction();
        let mut function_code = None;
        let (function, class) = match d.pdu_type {
            None => association_function(&d),
            Some(kind) => match kind {
                PduType::CONFIRMED_REQUEST => {
                    let service = d.fields.service.map(Service);
                    function_code = d.fields.service;
                    let mut class = service.map_or(FunctionClass::Other, Service::class);
                    if service == Some(Service::WRITE) && d.control {
                        class = FunctionClass::Control;
                    }
                    if let (Some(invoke_id), Some(service)) = (d.fields.invoke_id, service) {
                        self.request(dir, invoke_id, service.0, class, out, &mut d.anomalies);
                    }
                    let name = service.and_then(Service::name);
                    (name.unwrap_or(function::UNKNOWN), class)
                }
                PduType::CONFIRMED_RESPONSE | PduType::CONFIRMED_ERROR => {
                    let request = self.answer(dir, &mut d);
                    let service = d.fields.service.or(request.map(|r| r.service));
                    function_code = service;
                    let class = match request {
                        Some(r) if d.fields.service.is_none_or(|s| s == r.service) => r.class,
                        _ => service.map_or(FunctionClass::Other, |s| Service(s).class()),
                    };
                    match service.and_then(|s| Service(s).name()) {
                        Some(name) => (name, class),
                        None if kind == PduType::CONFIRMED_ERROR => {
                            (function::CONFIRMED_ERROR, FunctionClass::Other)
                        }
                        None => (function::UNKNOWN, FunctionClass::Other),
                    }
                }
                PduType::UNCONFIRMED => {
                    let service = d.fields.unconfirmed_service.map(UnconfirmedService);
                    function_code = d.fields.unconfirmed_service;
                    (
                        service
                            .and_then(UnconfirmedService::name)
                            .unwrap_or(function::UNKNOWN),
                        service.map_or(FunctionClass::Other, UnconfirmedService::class),
                    )
                }
                PduType::REJECT => (kind.name().unwrap_or_default(), FunctionClass::Other),
                _ => (kind.name().unwrap_or_default(), FunctionClass::Session),
            },
        };
        out.emit(Pdu {
            protocol: Protocol::Mms,
            is_response: dir == Direction::ToClient,
            function_code,
            function,
            class,
            anomalies: d.anomalies,
            fields: Fields::Mms(Box::new(d.fields)),
            identity: d.identity,
        });
    }

    /// Records a confirmed request travelling in `dir`.
    fn request(
        &mut self,
        dir: Direction,
        invoke_id: u64,
        service: u32,
        class: FunctionClass,
        out: &Emitter<'_>,
        a: &mut Anomalies,
    ) {
        let pending = &mut self.pending[dir.index()];
        if super::take_pending(pending, |p| p.invoke_id == invoke_id).is_some() {
            a.add(DUPLICATE_INVOKE_ID);
        }
        if pending.len() >= MAX_PENDING {
            pending.pop_front();
        }
        pending.push_back(Pending {
            invoke_id,
            service,
            class,
            packet: out.header().packet,
        });
    }

    /// Pairs a confirmed response or error travelling in `dir` with its request.
    fn answer(&mut self, dir: Direction, d: &mut Decoded) -> Option<Pending> {
        let invoke_id = d.fields.invoke_id?;
        let requests = dir.reverse().index();
        let pending = &mut self.pending[requests];
        let request = super::take_pending(pending, |p| p.invoke_id == invoke_id);
        match request {
            Some(r) => {
                d.fields.request_packet = Some(r.packet);
                if d.fields.service.is_some_and(|s| s != r.service) {
                    d.anomalies.add(SERVICE_MISMATCH);
                }
            }
            None if !self.lost[requests] => d.anomalies.add(RESPONSE_WITHOUT_REQUEST),
            None => {}
        }
        request
    }
}
