//! Code values of ISO 9506 (MMS), ISO 8327 (session) and ISO 8650 (ACSE),
//! their stable names and, for services, their function class. Code types
//! are open: a value nobody named still decodes and is reported.

use crate::event::FunctionClass;

/// A confirmed service: its context tag in `ConfirmedServiceRequest` /
/// `ConfirmedServiceResponse`, which is the value Wireshark shows as
/// `mms.confirmedServiceRequest` / `mms.confirmedServiceResponse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Service(pub u32);

impl Service {
    pub const STATUS: Service = Service(0);
    pub const GET_NAME_LIST: Service = Service(1);
    pub const IDENTIFY: Service = Service(2);
    pub const RENAME: Service = Service(3);
    pub const READ: Service = Service(4);
    pub const WRITE: Service = Service(5);
    pub const GET_VARIABLE_ACCESS_ATTRIBUTES: Service = Service(6);
    pub const DEFINE_NAMED_VARIABLE: Service = Service(7);
    pub const DEFINE_SCATTERED_ACCESS: Service = Service(8);
    pub const GET_SCATTERED_ACCESS_ATTRIBUTES: Service = Service(9);
    pub const DELETE_VARIABLE_ACCESS: Service = Service(10);
    pub const DEFINE_NAMED_VARIABLE_LIST: Service = Service(11);
    pub const GET_NAMED_VARIABLE_LIST_ATTRIBUTES: Service = Service(12);
    pub const DELETE_NAMED_VARIABLE_LIST: Service = Service(13);
    pub const DEFINE_NAMED_TYPE: Service = Service(14);
    pub const GET_NAMED_TYPE_ATTRIBUTES: Service = Service(15);
    pub const DELETE_NAMED_TYPE: Service = Service(16);
    pub const OBTAIN_FILE: Service = Service(46);
    pub const GET_CAPABILITY_LIST: Service = Service(71);
    pub const FILE_OPEN: Service = Service(72);
    pub const FILE_READ: Service = Service(73);
    pub const FILE_CLOSE: Service = Service(74);
    pub const FILE_RENAME: Service = Service(75);
    pub const FILE_DELETE: Service = Service(76);
    pub const FILE_DIRECTORY: Service = Service(77);

    /// The largest service number ISO 9506-2 defines.
    pub const LAST: u32 = 77;

    pub fn name(self) -> Option<&'static str> {
        SERVICES
            .get(usize::try_from(self.0).ok()?)
            .map(|&(name, _)| name)
    }

    pub fn class(self) -> FunctionClass {
        usize::try_from(self.0)
            .ok()
            .and_then(|i| SERVICES.get(i))
            .map_or(FunctionClass::Other, |&(_, class)| class)
    }

    /// File services (class `program`).
    pub fn is_file(self) -> bool {
        self == Service::OBTAIN_FILE || (72..=77).contains(&self.0)
    }
}

use FunctionClass::{Control, Diagnostic, Discovery, Program, Read, Session, Write};

/// Confirmed services by number: name and class. Reads of the object model
/// (`get_name_list`, attribute queries) are `read`, as is a report; the
/// identity query is `discovery`; definitions and deletions of named
/// objects are `write`; program invocation state changes are `control`;
/// domain transfer and every file service are `program`.
const SERVICES: [(&str, FunctionClass); 78] = [
    ("status", Diagnostic),
    ("get_name_list", Read),
    ("identify", Discovery),
    ("rename", Write),
    ("read", Read),
    ("write", Write),
    ("get_variable_access_attributes", Read),
    ("define_named_variable", Write),
    ("define_scattered_access", Write),
    ("get_scattered_access_attributes", Read),
    ("delete_variable_access", Write),
    ("define_named_variable_list", Write),
    ("get_named_variable_list_attributes", Read),
    ("delete_named_variable_list", Write),
    ("define_named_type", Write),
    ("get_named_type_attributes", Read),
    ("delete_named_type", Write),
    ("input", Read),
    ("output", Write),
    ("take_control", Session),
    ("relinquish_control", Session),
    ("define_semaphore", Write),
    ("delete_semaphore", Write),
    ("report_semaphore_status", Read),
    ("report_pool_semaphore_status", Read),
    ("report_semaphore_entry_status", Read),
    ("initiate_download_sequence", Program),
    ("download_segment", Program),
    ("terminate_download_sequence", Program),
    ("initiate_upload_sequence", Program),
    ("upload_segment", Program),
    ("terminate_upload_sequence", Program),
    ("request_domain_download", Program),
    ("request_domain_upload", Program),
    ("load_domain_content", Program),
    ("store_domain_content", Program),
    ("delete_domain", Program),
    ("get_domain_attributes", Read),
    ("create_program_invocation", Program),
    ("delete_program_invocation", Program),
    ("start", Control),
    ("stop", Control),
    ("resume", Control),
    ("reset", Control),
    ("kill", Control),
    ("get_program_invocation_attributes", Read),
    ("obtain_file", Program),
    ("define_event_condition", Write),
    ("delete_event_condition", Write),
    ("get_event_condition_attributes", Read),
    ("report_event_condition_status", Read),
    ("alter_event_condition_monitoring", Write),
    ("trigger_event", Control),
    ("define_event_action", Write),
    ("delete_event_action", Write),
    ("get_event_action_attributes", Read),
    ("report_event_action_status", Read),
    ("define_event_enrollment", Write),
    ("delete_event_enrollment", Write),
    ("alter_event_enrollment", Write),
    ("report_event_enrollment_status", Read),
    ("get_event_enrollment_attributes", Read),
    ("acknowledge_event_notification", Write),
    ("get_alarm_summary", Read),
    ("get_alarm_enrollment_summary", Read),
    ("read_journal", Read),
    ("write_journal", Write),
    ("initialize_journal", Write),
    ("report_journal_status", Read),
    ("create_journal", Write),
    ("delete_journal", Write),
    ("get_capability_list", Discovery),
    ("file_open", Program),
    ("file_read", Program),
    ("file_close", Program),
    ("file_rename", Program),
    ("file_delete", Program),
    ("file_directory", Program),
];

/// An unconfirmed service: its context tag in `UnconfirmedService`
/// (Wireshark `mms.unconfirmedService`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnconfirmedService(pub u32);

impl UnconfirmedService {
    pub const INFORMATION_REPORT: UnconfirmedService = UnconfirmedService(0);

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "information_report",
            1 => "unsolicited_status",
            2 => "event_notification",
            _ => return None,
        })
    }

    pub fn class(self) -> FunctionClass {
        match self.0 {
            0 | 2 => Read,
            1 => Diagnostic,
            _ => FunctionClass::Other,
        }
    }
}

/// The kinds of MMS PDU: the context tag of the `MMSpdu` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PduType(pub u32);

impl PduType {
    pub const CONFIRMED_REQUEST: PduType = PduType(0);
    pub const CONFIRMED_RESPONSE: PduType = PduType(1);
    pub const CONFIRMED_ERROR: PduType = PduType(2);
    pub const UNCONFIRMED: PduType = PduType(3);
    pub const REJECT: PduType = PduType(4);
    pub const CANCEL_REQUEST: PduType = PduType(5);
    pub const CANCEL_RESPONSE: PduType = PduType(6);
    pub const CANCEL_ERROR: PduType = PduType(7);
    pub const INITIATE_REQUEST: PduType = PduType(8);
    pub const INITIATE_RESPONSE: PduType = PduType(9);
    pub const INITIATE_ERROR: PduType = PduType(10);
    pub const CONCLUDE_REQUEST: PduType = PduType(11);
    pub const CONCLUDE_RESPONSE: PduType = PduType(12);
    pub const CONCLUDE_ERROR: PduType = PduType(13);

    /// The `pdu_type` of an event (Wireshark's `mms.<name>_element` without
    /// the suffix, in snake case).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "confirmed_request",
            1 => "confirmed_response",
            2 => "confirmed_error",
            3 => "unconfirmed",
            4 => "reject",
            5 => "cancel_request",
            6 => "cancel_response",
            7 => "cancel_error",
            8 => "initiate_request",
            9 => "initiate_response",
            10 => "initiate_error",
            11 => "conclude_request",
            12 => "conclude_response",
            13 => "conclude_error",
            _ => return None,
        })
    }

    /// Responses and errors answer a request of the other side.
    pub fn is_answer(self) -> bool {
        matches!(self.0, 1 | 2 | 6 | 7 | 9 | 10 | 12 | 13)
    }
}

/// `ServiceError.errorClass` choices (Wireshark `mms.errorClass`).
pub fn error_class_name(class: u32) -> Option<&'static str> {
    Some(match class {
        0 => "vmd_state",
        1 => "application_reference",
        2 => "definition",
        3 => "resource",
        4 => "service",
        5 => "service_preempt",
        6 => "time_resolution",
        7 => "access",
        8 => "initiate",
        9 => "conclude",
        10 => "cancel",
        11 => "file",
        12 => "others",
        _ => return None,
    })
}

/// `RejectPDU.rejectReason` choices: which kind of PDU was rejected.
pub fn reject_reason_name(reason: u32) -> Option<&'static str> {
    Some(match reason {
        1 => "confirmed_request",
        2 => "confirmed_response",
        3 => "confirmed_error",
        4 => "unconfirmed",
        5 => "pdu_error",
        6 => "cancel_request",
        7 => "cancel_response",
        8 => "cancel_error",
        9 => "conclude_request",
        10 => "conclude_response",
        11 => "conclude_error",
        _ => return None,
    })
}

/// `DataAccessError` values (a failed read or write of one variable).
pub fn data_access_error_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0 => "object_invalidated",
        1 => "hardware_fault",
        2 => "temporarily_unavailable",
        3 => "object_access_denied",
        4 => "object_undefined",
        5 => "invalid_address",
        6 => "type_unsupported",
        7 => "type_inconsistent",
        8 => "object_attribute_inconsistent",
        9 => "object_access_unsupported",
        10 => "object_non_existent",
        11 => "object_value_invalid",
        _ => return None,
    })
}

/// `ObjectScope` choices of a GetNameList request.
pub fn object_scope_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        0 => "vmd_specific",
        1 => "domain_specific",
        2 => "aa_specific",
        _ => return None,
    })
}

/// ISO 8327 SPDU type codes (SI), as Wireshark's `ses.type`.
pub mod spdu {
    /// DATA TRANSFER; also GIVE TOKENS when it precedes another SPDU.
    pub const DT: u8 = 1;
    /// PLEASE TOKENS (category 0 when it precedes another SPDU).
    pub const PT: u8 = 2;
    pub const NF: u8 = 8;
    pub const FN: u8 = 9;
    pub const DN: u8 = 10;
    pub const RF: u8 = 12;
    pub const CN: u8 = 13;
    pub const AC: u8 = 14;
    pub const AB: u8 = 25;
    pub const AA: u8 = 26;
    /// Not an SPDU of a connection (connectionless UNIT DATA shares this
    /// code with presentation's simply-encoded data): never taken for one.
    pub const UD: u8 = 64;

    /// The name of an SPDU type, if ISO 8327 defines it for connections.
    pub fn name(si: u8) -> Option<&'static str> {
        Some(match si {
            1 => "data_transfer",
            2 => "please_tokens",
            5 => "expedited_data",
            7 => "prepare",
            8 => "not_finished",
            9 => "finish",
            10 => "disconnect",
            12 => "refuse",
            13 => "connect",
            14 => "accept",
            15 => "connect_data_overflow",
            16 => "overflow_accept",
            21 => "give_tokens_confirm",
            22 => "give_tokens_ack",
            25 => "abort",
            26 => "abort_accept",
            29 => "activity_resume",
            33 => "typed_data",
            34 => "resynchronize_ack",
            41 => "major_sync_point",
            42 => "major_sync_ack",
            45 => "activity_start",
            48 => "exception_data",
            49 => "minor_sync_point",
            50 => "minor_sync_ack",
            53 => "resynchronize",
            57 => "activity_discard",
            58 => "activity_discard_ack",
            61 => "capability_data",
            62 => "capability_data_ack",
            _ => return None,
        })
    }

    /// Whether `code` is a parameter (PI or PGI) code ISO 8327 defines.
    pub fn known_parameter(code: u8) -> bool {
        matches!(
            code,
            1 | 5
                | 9..=12
                | 15..=17
                | 19..=27
                | 33
                | 41
                | 42
                | 49..=58
                | 60
                | 193
                | 194
        )
    }
}

/// IEC 61850-8-1 functional constraints, as the second `$` component of an
/// MMS item id names them.
pub const FUNCTIONAL_CONSTRAINTS: &[&str] = &[
    "ST", "MX", "SP", "SV", "CF", "DC", "SG", "SE", "SR", "OR", "BL", "EX", "CO", "US", "MS", "RP",
    "BR", "LG", "GO", "GS",
];
