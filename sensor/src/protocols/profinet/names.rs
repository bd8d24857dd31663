//! Names of PROFINET code values (IEC 61158-6-10), as stable snake_case.

/// The name of a DCP option/suboption pair.
pub fn dcp_block_name(option: u8, suboption: u8) -> &'static str {
    match (option, suboption) {
        (1, 1) => "mac_address",
        (1, 2) => "ip_parameter",
        (1, 3) => "full_ip_suite",
        (1, _) => "ip_reserved",
        (2, 1) => "type_of_station",
        (2, 2) => "name_of_station",
        (2, 3) => "device_id",
        (2, 4) => "device_role",
        (2, 5) => "device_options",
        (2, 6) => "alias_name",
        (2, 7) => "device_instance",
        (2, 8) => "oem_device_id",
        (2, 10) => "rsi_properties",
        (2, _) => "device_reserved",
        (3, 12) => "dhcp_host_name",
        (3, 43) => "dhcp_vendor_specific",
        (3, 54) => "dhcp_server_identifier",
        (3, 55) => "dhcp_parameter_request_list",
        (3, 60) => "dhcp_class_identifier",
        (3, 61) => "dhcp_client_identifier",
        (3, 81) => "dhcp_fqdn",
        (3, 97) => "dhcp_uuid_client_identifier",
        (3, 255) => "dhcp_control",
        (3, _) => "dhcp_reserved",
        (5, 1) => "start_transaction",
        (5, 2) => "end_transaction",
        (5, 3) => "signal",
        (5, 4) => "response",
        (5, 5) => "reset_factory_settings",
        (5, 6) => "reset_to_factory",
        (5, _) => "control_reserved",
        (6, 1) => "device_initiative",
        (0xFF, 0xFF) => "all_selector",
        (0x80..=0xFE, _) => "manufacturer_specific",
        _ => "reserved",
    }
}

/// The roles set in a DCP device role: (event name, human name).
pub fn device_role_names(role: u8) -> impl Iterator<Item = (&'static str, &'static str)> {
    [
        (0x01, "io_device", "PROFINET IO device"),
        (0x02, "io_controller", "PROFINET IO controller"),
        (0x04, "io_multidevice", "PROFINET IO multidevice"),
        (0x08, "pn_supervisor", "PROFINET supervisor"),
    ]
    .into_iter()
    .filter(move |(bit, _, _)| role & bit != 0)
    .map(|(_, name, human)| (name, human))
}

/// PNIO CM operations (DCE/RPC opnums of the PNIO interfaces).
pub fn opnum_name(opnum: u16) -> Option<&'static str> {
    Some(match opnum {
        0 => "connect",
        1 => "release",
        2 => "read",
        3 => "write",
        4 => "control",
        5 => "read_implicit",
        _ => return None,
    })
}

/// DCE/RPC connectionless packet types.
pub fn packet_type_name(ptype: u8) -> Option<&'static str> {
    Some(match ptype {
        0 => "request",
        1 => "ping",
        2 => "response",
        3 => "fault",
        4 => "working",
        5 => "nocall",
        6 => "reject",
        7 => "ack",
        8 => "cl_cancel",
        9 => "fack",
        10 => "cancel_ack",
        _ => return None,
    })
}

/// AR types.
pub fn ar_type_name(ar_type: u16) -> Option<&'static str> {
    Some(match ar_type {
        0x0001 => "iocar_single",
        0x0003 => "iocar_cir",
        0x0006 => "iosar",
        0x0010 => "iocar_single_rtc3",
        0x0020 => "iocar_sysred",
        _ => return None,
    })
}

/// IOCR types.
pub fn iocr_type_name(iocr_type: u16) -> Option<&'static str> {
    Some(match iocr_type {
        1 => "input",
        2 => "output",
        3 => "multicast_provider",
        4 => "multicast_consumer",
        _ => return None,
    })
}

/// Module states of a module diff block.
pub fn module_state_name(state: u16) -> Option<&'static str> {
    Some(match state {
        0 => "no_module",
        1 => "wrong_module",
        2 => "proper_module",
        3 => "substitute",
        _ => return None,
    })
}

/// The commands set in a control block's ControlCommand.
pub fn control_command_names(command: u16) -> impl Iterator<Item = &'static str> {
    [
        (0x0001, "prm_end"),
        (0x0002, "application_ready"),
        (0x0004, "release"),
        (0x0008, "done"),
        (0x0010, "ready_for_companion"),
        (0x0020, "ready_for_rt_class_3"),
        (0x0040, "prm_begin"),
    ]
    .into_iter()
    .filter(move |(bit, _)| command & bit != 0)
    .map(|(_, name)| name)
}

/// PNIO block types (the ones this decoder meets; others stay unnamed).
pub fn block_type_name(block_type: u16) -> Option<&'static str> {
    Some(match block_type {
        0x0001 => "alarm_notification_high",
        0x0002 => "alarm_notification_low",
        0x8001 => "alarm_ack_high",
        0x8002 => "alarm_ack_low",
        0x0008 => "iod_write_req_header",
        0x8008 => "iod_write_res_header",
        0x0009 => "iod_read_req_header",
        0x8009 => "iod_read_res_header",
        0x0010 => "diagnosis_data",
        0x0012 => "expected_identification_data",
        0x0013 => "real_identification_data",
        0x0018 => "ar_data",
        0x0019 => "log_data",
        0x001A => "api_data",
        0x0020 => "im0",
        0x0021 => "im1",
        0x0022 => "im2",
        0x0023 => "im3",
        0x0024 => "im4",
        0x0030 => "im0_filter_data_submodule",
        0x0031 => "im0_filter_data_module",
        0x0032 => "im0_filter_data_device",
        0x0101 => "ar_block_req",
        0x8101 => "ar_block_res",
        0x0102 => "iocr_block_req",
        0x8102 => "iocr_block_res",
        0x0103 => "alarm_cr_block_req",
        0x8103 => "alarm_cr_block_res",
        0x0104 => "expected_submodule_block_req",
        0x8104 => "module_diff_block",
        0x0105 => "prm_server_block_req",
        0x8105 => "prm_server_block_res",
        0x0106 => "mcr_block_req",
        0x8106 => "ar_server_block_res",
        0x0108 => "ar_vendor_block_req",
        0x8108 => "ar_vendor_block_res",
        0x0109 => "ir_info_block",
        0x010A => "sr_info_block",
        0x010B => "ar_fsu_block",
        0x010C => "rs_info_block",
        0x0110 => "iod_control_req_prm_end",
        0x8110 => "iod_control_res_prm_end",
        0x0111 => "iod_control_req_plug_prm_end",
        0x8111 => "iod_control_res_plug_prm_end",
        0x0112 => "iox_control_req_application_ready",
        0x8112 => "iox_control_res_application_ready",
        0x0113 => "iox_control_req_plug_application_ready",
        0x8113 => "iox_control_res_plug_application_ready",
        0x0114 => "iod_release_req",
        0x8114 => "iod_release_res",
        0x0116 => "iox_control_req_ready_for_companion",
        0x8116 => "iox_control_res_ready_for_companion",
        0x0117 => "iox_control_req_ready_for_rt_class_3",
        0x8117 => "iox_control_res_ready_for_rt_class_3",
        0x0118 => "prm_begin_req",
        0x8118 => "prm_begin_res",
        0x0119 => "submodule_list_block",
        0x0200 => "pd_port_data_check",
        0x0201 => "pdev_data",
        0x0202 => "pd_port_data_adjust",
        0x0203 => "pd_sync_data",
        0x0204 => "isochronous_mode_data",
        0x0205 => "pd_ir_data",
        0x020F => "pd_port_data_real",
        0x0212 => "pd_interface_mrp_data_real",
        0x0215 => "pd_port_mrp_data_real",
        0x0240 => "pd_interface_data_real",
        0x0250 => "pd_interface_adjust",
        0x0251 => "pd_port_statistic",
        0x0400 => "multiple_block_header",
        0x0401 => "co_container_content",
        0x0500 => "record_data_read_query",
        0x0600 => "fs_hello_block",
        0x0601 => "fs_parameter_block",
        0x0602 => "fast_startup_block",
        _ => return None,
    })
}

/// Record indices with a name (the common ones; others stay unnamed).
pub fn index_name(index: u16) -> Option<&'static str> {
    Some(match index {
        0x8000 => "expected_identification_data_subslot",
        0x8001 => "real_identification_data_subslot",
        0x800A => "diagnosis_subslot",
        0x8028 => "record_input_data_object_element",
        0x8029 => "record_output_data_object_element",
        0x802A => "pd_port_data_real",
        0x802B => "pd_port_data_check",
        0x802F => "pd_port_data_adjust",
        0x8060 => "pd_port_fo_data_real",
        0x8080 => "pd_interface_data_real",
        0xAFF0 => "im0",
        0xAFF1 => "im1",
        0xAFF2 => "im2",
        0xAFF3 => "im3",
        0xAFF4 => "im4",
        0xC000 => "expected_identification_data_slot",
        0xC001 => "real_identification_data_slot",
        0xE000 => "expected_identification_data_ar",
        0xE001 => "real_identification_data_ar",
        0xE002 => "module_diff_block_ar",
        0xE040 => "multiple_write",
        0xF000 => "real_identification_data_api",
        0xF80C => "diagnosis_device",
        0xF820 => "ar_data",
        0xF821 => "api_data",
        0xF830 => "log_data",
        0xF831 => "pdev_data",
        0xF840 => "im0_filter_data",
        0xF841 => "pd_real_data",
        0xF842 => "pd_expected_data",
        _ => return None,
    })
}

/// Alarm types of alarm notifications.
pub fn alarm_type_name(alarm_type: u16) -> Option<&'static str> {
    Some(match alarm_type {
        0x0001 => "diagnosis",
        0x0002 => "process",
        0x0003 => "pull",
        0x0004 => "plug",
        0x0005 => "status",
        0x0006 => "update",
        0x0007 => "media_redundancy",
        0x0008 => "controlled_by_supervisor",
        0x0009 => "released",
        0x000A => "plug_wrong_submodule",
        0x000B => "return_of_submodule",
        0x000C => "diagnosis_disappears",
        0x000D => "multicast_communication_mismatch",
        0x000E => "port_data_change",
        0x000F => "sync_data_changed",
        0x0010 => "isochronous_mode_problem",
        0x0011 => "network_component_problem",
        0x0012 => "time_data_changed",
        0x0013 => "dynamic_frame_packing_problem",
        0x0014 => "mrpd_problem",
        0x001E => "upload_and_retrieval",
        0x001F => "pull_module",
        _ => return None,
    })
}
