//! BACnet code values, their stable names and, for functions, their classes
//! (ASHRAE 135: Annex J for BVLC, clause 6 for the network layer, clauses
//! 20 and 21 for the application layer).

use crate::event::FunctionClass;
use FunctionClass::*;

/// BVLC functions (BACnet/IP, Annex J.2).
pub mod bvlc {
    pub const RESULT: u8 = 0x00;
    pub const WRITE_BDT: u8 = 0x01;
    pub const READ_BDT: u8 = 0x02;
    pub const READ_BDT_ACK: u8 = 0x03;
    pub const FORWARDED_NPDU: u8 = 0x04;
    pub const REGISTER_FOREIGN_DEVICE: u8 = 0x05;
    pub const READ_FDT: u8 = 0x06;
    pub const READ_FDT_ACK: u8 = 0x07;
    pub const DELETE_FDT_ENTRY: u8 = 0x08;
    pub const DISTRIBUTE_BROADCAST: u8 = 0x09;
    pub const ORIGINAL_UNICAST: u8 = 0x0a;
    pub const ORIGINAL_BROADCAST: u8 = 0x0b;
    pub const SECURE_BVLL: u8 = 0x0c;

    /// Whether the function carries an NPDU.
    pub fn carries_npdu(function: u8) -> bool {
        matches!(
            function,
            FORWARDED_NPDU | DISTRIBUTE_BROADCAST | ORIGINAL_UNICAST | ORIGINAL_BROADCAST
        )
    }

    pub fn name(function: u8) -> Option<&'static str> {
        Some(match function {
            RESULT => "bvlc_result",
            WRITE_BDT => "write_broadcast_distribution_table",
            READ_BDT => "read_broadcast_distribution_table",
            READ_BDT_ACK => "read_broadcast_distribution_table_ack",
            FORWARDED_NPDU => "forwarded_npdu",
            REGISTER_FOREIGN_DEVICE => "register_foreign_device",
            READ_FDT => "read_foreign_device_table",
            READ_FDT_ACK => "read_foreign_device_table_ack",
            DELETE_FDT_ENTRY => "delete_foreign_device_table_entry",
            DISTRIBUTE_BROADCAST => "distribute_broadcast_to_network",
            ORIGINAL_UNICAST => "original_unicast_npdu",
            ORIGINAL_BROADCAST => "original_broadcast_npdu",
            SECURE_BVLL => "secure_bvll",
            _ => return None,
        })
    }

    /// Class of a BVLC message that carries no NPDU: reading the BBMD's
    /// tables is discovery (it lists the BBMDs and foreign devices of the
    /// internetwork); registering, deleting entries, writing the broadcast
    /// distribution table and results are session management of the
    /// BACnet/IP broadcast domain.
    pub fn class(function: u8) -> super::FunctionClass {
        match function {
            READ_BDT | READ_BDT_ACK | READ_FDT | READ_FDT_ACK => super::Discovery,
            _ => super::Session,
        }
    }

    /// BVLC-Result codes.
    pub fn result_name(code: u16) -> Option<&'static str> {
        Some(match code {
            0x0000 => "successful_completion",
            0x0010 => "write_broadcast_distribution_table_nak",
            0x0020 => "read_broadcast_distribution_table_nak",
            0x0030 => "register_foreign_device_nak",
            0x0040 => "read_foreign_device_table_nak",
            0x0050 => "delete_foreign_device_table_entry_nak",
            0x0060 => "distribute_broadcast_to_network_nak",
            _ => return None,
        })
    }
}

/// Network layer message types (clause 6.2.4), with their class: router and
/// network-number discovery is `discovery`; connection establishment and the
/// network security messages are `session`.
pub fn network_message(kind: u8) -> (&'static str, FunctionClass) {
    match kind {
        0x00 => ("who_is_router_to_network", Discovery),
        0x01 => ("i_am_router_to_network", Discovery),
        0x02 => ("i_could_be_router_to_network", Discovery),
        0x03 => ("reject_message_to_network", Discovery),
        0x04 => ("router_busy_to_network", Discovery),
        0x05 => ("router_available_to_network", Discovery),
        0x06 => ("initialize_routing_table", Discovery),
        0x07 => ("initialize_routing_table_ack", Discovery),
        0x08 => ("establish_connection_to_network", Session),
        0x09 => ("disconnect_connection_to_network", Session),
        0x0a => ("challenge_request", Session),
        0x0b => ("security_payload", Session),
        0x0c => ("security_response", Session),
        0x0d => ("request_key_update", Session),
        0x0e => ("update_key_set", Session),
        0x0f => ("update_distribution_key", Session),
        0x10 => ("request_master_key", Session),
        0x11 => ("set_master_key", Session),
        0x12 => ("what_is_network_number", Discovery),
        0x13 => ("network_number_is", Discovery),
        0x80..=0xff => ("proprietary_network_message", Other),
        _ => ("unknown_network_message", Other),
    }
}

/// Network layer messages that answer another one.
pub fn network_message_is_response(kind: u8) -> bool {
    matches!(kind, 0x01 | 0x03 | 0x07 | 0x0c | 0x13)
}

/// APDU types (clause 20.1).
pub mod apdu {
    pub const CONFIRMED_REQUEST: u8 = 0;
    pub const UNCONFIRMED_REQUEST: u8 = 1;
    pub const SIMPLE_ACK: u8 = 2;
    pub const COMPLEX_ACK: u8 = 3;
    pub const SEGMENT_ACK: u8 = 4;
    pub const ERROR: u8 = 5;
    pub const REJECT: u8 = 6;
    pub const ABORT: u8 = 7;

    pub fn name(kind: u8) -> Option<&'static str> {
        Some(match kind {
            CONFIRMED_REQUEST => "confirmed_request",
            UNCONFIRMED_REQUEST => "unconfirmed_request",
            SIMPLE_ACK => "simple_ack",
            COMPLEX_ACK => "complex_ack",
            SEGMENT_ACK => "segment_ack",
            ERROR => "error",
            REJECT => "reject",
            ABORT => "abort",
            _ => return None,
        })
    }
}

/// Confirmed services (BACnetConfirmedServiceChoice), with their class.
///
/// Reads of properties, ranges and files, alarm and event queries, COV
/// subscriptions and the notifications they bring are `read`; writes of
/// properties and lists and object creation or deletion are `write`;
/// device communication control, reinitialization, alarm acknowledgement
/// and life safety operations are `control`; file writes (how programs and
/// configurations are loaded) are `program`; virtual terminal sessions and
/// the removed authentication services are `session`; audit services are
/// `diagnostic`; private transfers and text messages `other`.
pub fn confirmed_service(service: u8) -> Option<(&'static str, FunctionClass)> {
    Some(match service {
        0 => ("acknowledge_alarm", Control),
        1 => ("confirmed_cov_notification", Read),
        2 => ("confirmed_event_notification", Read),
        3 => ("get_alarm_summary", Read),
        4 => ("get_enrollment_summary", Read),
        5 => ("subscribe_cov", Read),
        6 => ("atomic_read_file", Read),
        7 => ("atomic_write_file", Program),
        8 => ("add_list_element", Write),
        9 => ("remove_list_element", Write),
        10 => ("create_object", Write),
        11 => ("delete_object", Write),
        12 => ("read_property", Read),
        13 => ("read_property_conditional", Read),
        14 => ("read_property_multiple", Read),
        15 => ("write_property", Write),
        16 => ("write_property_multiple", Write),
        17 => ("device_communication_control", Control),
        18 => ("confirmed_private_transfer", Other),
        19 => ("confirmed_text_message", Other),
        20 => ("reinitialize_device", Control),
        21 => ("vt_open", Session),
        22 => ("vt_close", Session),
        23 => ("vt_data", Session),
        24 => ("authenticate", Session),
        25 => ("request_key", Session),
        26 => ("read_range", Read),
        27 => ("life_safety_operation", Control),
        28 => ("subscribe_cov_property", Read),
        29 => ("get_event_information", Read),
        30 => ("subscribe_cov_property_multiple", Read),
        31 => ("confirmed_cov_notification_multiple", Read),
        32 => ("confirmed_audit_notification", Diagnostic),
        33 => ("audit_log_query", Diagnostic),
        _ => return None,
    })
}

/// Unconfirmed services (BACnetUnconfirmedServiceChoice), with their class:
/// device and object discovery is `discovery` (You-Are, which assigns a
/// device its identifier and address, is `write`); COV and event
/// notifications `read`; time synchronization `control`; WriteGroup `write`.
pub fn unconfirmed_service(service: u8) -> Option<(&'static str, FunctionClass)> {
    Some(match service {
        0 => ("i_am", Discovery),
        1 => ("i_have", Discovery),
        2 => ("unconfirmed_cov_notification", Read),
        3 => ("unconfirmed_event_notification", Read),
        4 => ("unconfirmed_private_transfer", Other),
        5 => ("unconfirmed_text_message", Other),
        6 => ("time_synchronization", Control),
        7 => ("who_has", Discovery),
        8 => ("who_is", Discovery),
        9 => ("utc_time_synchronization", Control),
        10 => ("write_group", Write),
        11 => ("unconfirmed_cov_notification_multiple", Read),
        12 => ("unconfirmed_audit_notification", Diagnostic),
        13 => ("who_am_i", Discovery),
        14 => ("you_are", Write),
        _ => return None,
    })
}

/// Unconfirmed services that answer another PDU (I-Am answers Who-Is,
/// I-Have answers Who-Has).
pub fn unconfirmed_is_response(service: u8) -> bool {
    matches!(service, 0 | 1)
}

/// Object types (BACnetObjectType).
pub fn object_type(t: u16) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "analog_input",
        "analog_output",
        "analog_value",
        "binary_input",
        "binary_output",
        "binary_value",
        "calendar",
        "command",
        "device",
        "event_enrollment",
        "file",
        "group",
        "loop",
        "multi_state_input",
        "multi_state_output",
        "notification_class",
        "program",
        "schedule",
        "averaging",
        "multi_state_value",
        "trend_log",
        "life_safety_point",
        "life_safety_zone",
        "accumulator",
        "pulse_converter",
        "event_log",
        "global_group",
        "trend_log_multiple",
        "load_control",
        "structured_view",
        "access_door",
        "timer",
        "access_credential",
        "access_point",
        "access_rights",
        "access_user",
        "access_zone",
        "credential_data_input",
        "network_security",
        "bitstring_value",
        "characterstring_value",
        "date_pattern_value",
        "date_value",
        "datetime_pattern_value",
        "datetime_value",
        "integer_value",
        "large_analog_value",
        "octetstring_value",
        "positive_integer_value",
        "time_pattern_value",
        "time_value",
        "notification_forwarder",
        "alert_enrollment",
        "channel",
        "lighting_output",
        "binary_lighting_output",
        "network_port",
        "elevator_group",
        "escalator",
        "lift",
        "staging",
        "audit_log",
        "audit_reporter",
        "color",
        "color_temperature",
    ];
    NAMES.get(usize::from(t)).copied()
}

/// Property identifiers 0–210 of the standard, plus property-list (371) and
/// serial-number (372); others are left unnamed. Numbers the standard
/// deleted have no name.
pub fn property(p: u32) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "acked_transitions",
        "ack_required",
        "action",
        "action_text",
        "active_text",
        "active_vt_sessions",
        "alarm_value",
        "alarm_values",
        "all",
        "all_writes_successful",
        "apdu_segment_timeout",
        "apdu_timeout",
        "application_software_version",
        "archive",
        "bias",
        "change_of_state_count",
        "change_of_state_time",
        "notification_class",
        "",
        "controlled_variable_reference",
        "controlled_variable_units",
        "controlled_variable_value",
        "cov_increment",
        "date_list",
        "daylight_savings_status",
        "deadband",
        "derivative_constant",
        "derivative_constant_units",
        "description",
        "description_of_halt",
        "device_address_binding",
        "device_type",
        "effective_period",
        "elapsed_active_time",
        "error_limit",
        "event_enable",
        "event_state",
        "event_type",
        "exception_schedule",
        "fault_values",
        "feedback_value",
        "file_access_method",
        "file_size",
        "file_type",
        "firmware_revision",
        "high_limit",
        "inactive_text",
        "in_process",
        "instance_of",
        "integral_constant",
        "integral_constant_units",
        "",
        "limit_enable",
        "list_of_group_members",
        "list_of_object_property_references",
        "",
        "local_date",
        "local_time",
        "location",
        "low_limit",
        "manipulated_variable_reference",
        "maximum_output",
        "max_apdu_length_accepted",
        "max_info_frames",
        "max_master",
        "max_pres_value",
        "minimum_off_time",
        "minimum_on_time",
        "minimum_output",
        "min_pres_value",
        "model_name",
        "modification_date",
        "notify_type",
        "number_of_apdu_retries",
        "number_of_states",
        "object_identifier",
        "object_list",
        "object_name",
        "object_property_reference",
        "object_type",
        "optional",
        "out_of_service",
        "output_units",
        "event_parameters",
        "polarity",
        "present_value",
        "priority",
        "priority_array",
        "priority_for_writing",
        "process_identifier",
        "program_change",
        "program_location",
        "program_state",
        "proportional_constant",
        "proportional_constant_units",
        "",
        "protocol_object_types_supported",
        "protocol_services_supported",
        "protocol_version",
        "read_only",
        "reason_for_halt",
        "",
        "recipient_list",
        "reliability",
        "relinquish_default",
        "required",
        "resolution",
        "segmentation_supported",
        "setpoint",
        "setpoint_reference",
        "state_text",
        "status_flags",
        "system_status",
        "time_delay",
        "time_of_active_time_reset",
        "time_of_state_count_reset",
        "time_synchronization_recipients",
        "units",
        "update_interval",
        "utc_offset",
        "vendor_identifier",
        "vendor_name",
        "vt_classes_supported",
        "weekly_schedule",
        "attempted_samples",
        "average_value",
        "buffer_size",
        "client_cov_increment",
        "cov_resubscription_interval",
        "",
        "event_time_stamps",
        "log_buffer",
        "log_device_object_property",
        "enable",
        "log_interval",
        "maximum_value",
        "minimum_value",
        "notification_threshold",
        "",
        "protocol_revision",
        "records_since_notification",
        "record_count",
        "start_time",
        "stop_time",
        "stop_when_full",
        "total_record_count",
        "valid_samples",
        "window_interval",
        "window_samples",
        "maximum_value_timestamp",
        "minimum_value_timestamp",
        "variance_value",
        "active_cov_subscriptions",
        "backup_failure_timeout",
        "configuration_files",
        "database_revision",
        "direct_reading",
        "last_restore_time",
        "maintenance_required",
        "member_of",
        "mode",
        "operation_expected",
        "setting",
        "silenced",
        "tracking_value",
        "zone_members",
        "life_safety_alarm_values",
        "max_segments_accepted",
        "profile_name",
        "auto_slave_discovery",
        "manual_slave_address_binding",
        "slave_address_binding",
        "slave_proxy_enable",
        "last_notify_record",
        "schedule_default",
        "accepted_modes",
        "adjust_value",
        "count",
        "count_before_change",
        "count_change_time",
        "cov_period",
        "input_reference",
        "limit_monitoring_interval",
        "logging_object",
        "logging_record",
        "prescale",
        "pulse_rate",
        "scale",
        "scale_factor",
        "update_time",
        "value_before_change",
        "value_set",
        "value_change_time",
        "align_intervals",
        "group_member_names",
        "interval_offset",
        "last_restart_reason",
        "logging_type",
        "member_status_flags",
        "notification_period",
        "previous_notify_record",
        "requested_update_interval",
        "restart_notification_recipients",
        "time_of_device_restart",
        "time_synchronization_interval",
        "trigger",
        "utc_time_synchronization_recipients",
        "node_subtype",
        "node_type",
        "structured_object_list",
        "subordinate_annotations",
    ];
    match p {
        371 => Some("property_list"),
        372 => Some("serial_number"),
        _ => usize::try_from(p)
            .ok()
            .and_then(|i| NAMES.get(i))
            .copied()
            .filter(|n| !n.is_empty()),
    }
}

/// Well-known properties whose value is always of one application type:
/// the tag a value (or a list or array element) of the property must have.
/// Used to flag values that cannot belong to the property they are written
/// to or read from.
pub fn property_value_tag(p: u32) -> Option<u8> {
    use super::tags::app;
    Some(match p {
        // CharacterString
        12 | 28 | 31 | 44 | 58 | 70 | 77 | 121 | 168 => app::CHARACTER_STRING,
        // BACnetObjectIdentifier
        75 | 76 => app::OBJECT_IDENTIFIER,
        // Enumerated: event-state, notify-type, object-type, reliability,
        // segmentation-supported, system-status, units
        36 | 72 | 79 | 103 | 107 | 112 | 117 => app::ENUMERATED,
        // Unsigned: apdu-timeout, max-apdu-length-accepted,
        // number-of-apdu-retries, protocol-version, vendor-identifier,
        // protocol-revision, database-revision
        11 | 62 | 73 | 98 | 120 | 139 | 155 => app::UNSIGNED,
        // Boolean: out-of-service
        81 => app::BOOLEAN,
        // Bit strings: acked-transitions, event-enable,
        // protocol-object-types-supported, protocol-services-supported,
        // status-flags; recipient-list elements (BACnetDestination) start
        // with their valid-days bit string.
        0 | 35 | 96 | 97 | 102 | 111 => app::BIT_STRING,
        _ => return None,
    })
}

/// Segmentation support (BACnetSegmentation), in I-Am.
pub fn segmentation(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "segmented_both",
        1 => "segmented_transmit",
        2 => "segmented_receive",
        3 => "no_segmentation",
        _ => return None,
    })
}

/// DeviceCommunicationControl enable-disable.
pub fn enable_disable(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "enable",
        1 => "disable",
        2 => "disable_initiation",
        _ => return None,
    })
}

/// ReinitializeDevice reinitialized-state-of-device.
pub fn reinitialized_state(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "coldstart",
        1 => "warmstart",
        2 => "start_backup",
        3 => "end_backup",
        4 => "start_restore",
        5 => "end_restore",
        6 => "abort_restore",
        7 => "activate_changes",
        _ => return None,
    })
}

pub fn error_class(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "device",
        1 => "object",
        2 => "property",
        3 => "resources",
        4 => "security",
        5 => "services",
        6 => "vt",
        7 => "communication",
        _ => return None,
    })
}

/// Error codes (BACnetErrorCode) 0–50 and the later ones most often seen.
pub fn error_code(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "other",
        1 => "authentication_failed",
        2 => "configuration_in_progress",
        3 => "device_busy",
        4 => "dynamic_creation_not_supported",
        5 => "file_access_denied",
        6 => "incompatible_security_levels",
        7 => "inconsistent_parameters",
        8 => "inconsistent_selection_criterion",
        9 => "invalid_data_type",
        10 => "invalid_file_access_method",
        11 => "invalid_file_start_position",
        12 => "invalid_operator_name",
        13 => "invalid_parameter_data_type",
        14 => "invalid_time_stamp",
        15 => "key_generation_error",
        16 => "missing_required_parameter",
        17 => "no_objects_of_specified_type",
        18 => "no_space_for_object",
        19 => "no_space_to_add_list_element",
        20 => "no_space_to_write_property",
        21 => "no_vt_sessions_available",
        22 => "property_is_not_a_list",
        23 => "object_deletion_not_permitted",
        24 => "object_identifier_already_exists",
        25 => "operational_problem",
        26 => "password_failure",
        27 => "read_access_denied",
        28 => "security_not_supported",
        29 => "service_request_denied",
        30 => "timeout",
        31 => "unknown_object",
        32 => "unknown_property",
        34 => "unknown_vt_class",
        35 => "unknown_vt_session",
        36 => "unsupported_object_type",
        37 => "value_out_of_range",
        38 => "vt_session_already_closed",
        39 => "vt_session_termination_failure",
        40 => "write_access_denied",
        41 => "character_set_not_supported",
        42 => "invalid_array_index",
        43 => "cov_subscription_failed",
        44 => "not_cov_property",
        45 => "optional_functionality_not_supported",
        46 => "invalid_configuration_data",
        47 => "datatype_not_supported",
        48 => "duplicate_name",
        49 => "duplicate_object_id",
        50 => "property_is_not_an_array",
        73 => "invalid_event_state",
        74 => "no_alarm_configured",
        75 => "log_buffer_full",
        76 => "logged_value_purged",
        77 => "no_property_specified",
        78 => "not_configured_for_triggered_logging",
        79 => "unknown_subscription",
        80 => "parameter_out_of_range",
        81 => "list_element_not_found",
        82 => "busy",
        83 => "communication_disabled",
        84 => "success",
        85 => "access_denied",
        122 => "unknown_file_size",
        _ => return None,
    })
}

pub fn reject_reason(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "other",
        1 => "buffer_overflow",
        2 => "inconsistent_parameters",
        3 => "invalid_parameter_data_type",
        4 => "invalid_tag",
        5 => "missing_required_parameter",
        6 => "parameter_out_of_range",
        7 => "too_many_arguments",
        8 => "undefined_enumeration",
        9 => "unrecognized_service",
        10 => "invalid_data_encoding",
        _ => return None,
    })
}

pub fn abort_reason(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "other",
        1 => "buffer_overflow",
        2 => "invalid_apdu_in_this_state",
        3 => "preempted_by_higher_priority_task",
        4 => "segmentation_not_supported",
        5 => "security_error",
        6 => "insufficient_security",
        7 => "window_size_out_of_range",
        8 => "application_exceeded_reply_time",
        9 => "out_of_resources",
        10 => "tsm_timeout",
        11 => "apdu_too_long",
        _ => return None,
    })
}

/// Max APDU length accepted (confirmed request header code) in octets.
pub fn max_apdu(code: u8) -> Option<u32> {
    Some(match code {
        0 => 50,
        1 => 128,
        2 => 206,
        3 => 480,
        4 => 1024,
        5 => 1476,
        _ => return None,
    })
}

/// Max segments accepted (confirmed request header code): `None` for 0
/// (unspecified); 65 stands for "more than 64".
pub fn max_segments(code: u8) -> Option<u32> {
    match code {
        0 => None,
        1..=6 => Some(1 << code),
        _ => Some(65),
    }
}
