//! IEC 60870-5-104 code values as open newtypes (a value nobody has named
//! still parses and is reported), with their standard mnemonics, stable
//! snake_case names, the function class policy uses, and the size of their
//! information elements (what it takes to walk an ASDU's objects).
//!
//! Type identifications and causes of transmission follow IEC 60870-5-101
//! §7.2.1 and §7.2.3 (as IEC 60870-5-104 uses them), the security types
//! IEC 60870-5-7; element sizes follow the information element definitions
//! of IEC 60870-5-101 §7.2.6 and §7.3.

use crate::event::FunctionClass;

/// The APCI format of an APDU, from the low bits of its first control octet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApciType {
    /// Numbered information transfer: carries an ASDU.
    I,
    /// Numbered supervisory: acknowledges I-frames.
    S,
    /// Unnumbered control: STARTDT, STOPDT, TESTFR.
    U,
}

impl ApciType {
    pub fn of(control: u8) -> ApciType {
        if control & 0x01 == 0 {
            ApciType::I
        } else if control & 0x03 == 0x01 {
            ApciType::S
        } else {
            ApciType::U
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ApciType::I => "I",
            ApciType::S => "S",
            ApciType::U => "U",
        }
    }

    /// Wireshark's `iec60870_104.type`: 0 (I), 1 (S), 3 (U).
    pub fn code(self) -> u8 {
        match self {
            ApciType::I => 0,
            ApciType::S => 1,
            ApciType::U => 3,
        }
    }
}

/// The function bits of a U-frame: the first control octet shifted right by
/// two (Wireshark's `iec60870_104.utype`). Exactly one bit is set in a valid
/// frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UFunction(pub u8);

impl UFunction {
    pub const STARTDT_ACT: UFunction = UFunction(0x01);
    pub const STARTDT_CON: UFunction = UFunction(0x02);
    pub const STOPDT_ACT: UFunction = UFunction(0x04);
    pub const STOPDT_CON: UFunction = UFunction(0x08);
    pub const TESTFR_ACT: UFunction = UFunction(0x10);
    pub const TESTFR_CON: UFunction = UFunction(0x20);
    /// The activation bits; each confirmation is its activation shifted left by one.
    pub const ACTIVATIONS: u8 = 0x01 | 0x04 | 0x10;

    pub fn of(control: u8) -> UFunction {
        UFunction(control >> 2)
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::STARTDT_ACT => "startdt_act",
            Self::STARTDT_CON => "startdt_con",
            Self::STOPDT_ACT => "stopdt_act",
            Self::STOPDT_CON => "stopdt_con",
            Self::TESTFR_ACT => "testfr_act",
            Self::TESTFR_CON => "testfr_con",
            _ => return None,
        })
    }

    pub fn is_activation(self) -> bool {
        self.name().is_some() && self.0 & Self::ACTIVATIONS != 0
    }

    pub fn is_confirmation(self) -> bool {
        self.name().is_some() && self.0 & Self::ACTIVATIONS == 0
    }
}

/// How the information elements of one object are sized, after its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementSize {
    /// Every object has this many octets.
    Fixed(u8),
    /// F_SG_NA_1: four octets (file name, section, segment length) plus the
    /// segment length given by the fourth.
    FileSegment,
    /// Security (IEC 60870-5-7) types whose layout depends on their content:
    /// only the first address is read.
    Variable,
}

/// What a type identification is: its mnemonic, function name, class and element size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// The standard mnemonic (`M_ME_NC_1`).
    pub mnemonic: &'static str,
    /// Stable snake_case name used as the event's `function`.
    pub function: &'static str,
    pub class: FunctionClass,
    pub size: ElementSize,
}

/// An ASDU type identification as on the wire (Wireshark `iec60870_asdu.typeid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(pub u8);

impl TypeId {
    pub const M_SP_NA_1: TypeId = TypeId(1);
    pub const M_DP_NA_1: TypeId = TypeId(3);
    pub const M_ME_NC_1: TypeId = TypeId(13);
    pub const M_SP_TB_1: TypeId = TypeId(30);
    pub const C_SC_NA_1: TypeId = TypeId(45);
    pub const C_DC_NA_1: TypeId = TypeId(46);
    pub const C_SE_NC_1: TypeId = TypeId(50);
    pub const C_SC_TA_1: TypeId = TypeId(58);
    pub const M_EI_NA_1: TypeId = TypeId(70);
    pub const C_IC_NA_1: TypeId = TypeId(100);
    pub const C_RD_NA_1: TypeId = TypeId(102);
    pub const C_CS_NA_1: TypeId = TypeId(103);
    pub const C_TS_NA_1: TypeId = TypeId(104);
    pub const C_RP_NA_1: TypeId = TypeId(105);

    /// The fixed test bit pattern of C_TS_NA_1 (FBP).
    pub const TEST_PATTERN: u16 = 0x55AA;

    pub fn info(self) -> Option<TypeInfo> {
        use ElementSize::{FileSegment, Fixed, Variable};
        use FunctionClass::{Control, Diagnostic, Other, Program, Read, Session, Write};
        let (mnemonic, function, class, size) = match self.0 {
            // Process information in monitor direction.
            1 => ("M_SP_NA_1", "single_point", Read, Fixed(1)),
            2 => ("M_SP_TA_1", "single_point_cp24", Read, Fixed(4)),
            3 => ("M_DP_NA_1", "double_point", Read, Fixed(1)),
            4 => ("M_DP_TA_1", "double_point_cp24", Read, Fixed(4)),
            5 => ("M_ST_NA_1", "step_position", Read, Fixed(2)),
            6 => ("M_ST_TA_1", "step_position_cp24", Read, Fixed(5)),
            7 => ("M_BO_NA_1", "bitstring", Read, Fixed(5)),
            8 => ("M_BO_TA_1", "bitstring_cp24", Read, Fixed(8)),
            9 => ("M_ME_NA_1", "measured_normalized", Read, Fixed(3)),
            10 => ("M_ME_TA_1", "measured_normalized_cp24", Read, Fixed(6)),
            11 => ("M_ME_NB_1", "measured_scaled", Read, Fixed(3)),
            12 => ("M_ME_TB_1", "measured_scaled_cp24", Read, Fixed(6)),
            13 => ("M_ME_NC_1", "measured_float", Read, Fixed(5)),
            14 => ("M_ME_TC_1", "measured_float_cp24", Read, Fixed(8)),
            15 => ("M_IT_NA_1", "integrated_totals", Read, Fixed(5)),
            16 => ("M_IT_TA_1", "integrated_totals_cp24", Read, Fixed(8)),
            17 => ("M_EP_TA_1", "protection_event_cp24", Read, Fixed(6)),
            18 => ("M_EP_TB_1", "protection_start_events_cp24", Read, Fixed(7)),
            19 => (
                "M_EP_TC_1",
                "protection_output_circuit_cp24",
                Read,
                Fixed(7),
            ),
            20 => ("M_PS_NA_1", "packed_single_point", Read, Fixed(5)),
            21 => (
                "M_ME_ND_1",
                "measured_normalized_no_quality",
                Read,
                Fixed(2),
            ),
            30 => ("M_SP_TB_1", "single_point_cp56", Read, Fixed(8)),
            31 => ("M_DP_TB_1", "double_point_cp56", Read, Fixed(8)),
            32 => ("M_ST_TB_1", "step_position_cp56", Read, Fixed(9)),
            33 => ("M_BO_TB_1", "bitstring_cp56", Read, Fixed(12)),
            34 => ("M_ME_TD_1", "measured_normalized_cp56", Read, Fixed(10)),
            35 => ("M_ME_TE_1", "measured_scaled_cp56", Read, Fixed(10)),
            36 => ("M_ME_TF_1", "measured_float_cp56", Read, Fixed(12)),
            37 => ("M_IT_TB_1", "integrated_totals_cp56", Read, Fixed(12)),
            38 => ("M_EP_TD_1", "protection_event_cp56", Read, Fixed(10)),
            39 => ("M_EP_TE_1", "protection_start_events_cp56", Read, Fixed(11)),
            40 => (
                "M_EP_TF_1",
                "protection_output_circuit_cp56",
                Read,
                Fixed(11),
            ),
            41 => ("S_IT_TC_1", "security_statistics", Read, Variable),
            // Process information in control direction.
            45 => ("C_SC_NA_1", "single_command", Control, Fixed(1)),
            46 => ("C_DC_NA_1", "double_command", Control, Fixed(1)),
            47 => ("C_RC_NA_1", "regulating_step_command", Control, Fixed(1)),
            48 => ("C_SE_NA_1", "setpoint_normalized", Control, Fixed(3)),
            49 => ("C_SE_NB_1", "setpoint_scaled", Control, Fixed(3)),
            50 => ("C_SE_NC_1", "setpoint_float", Control, Fixed(5)),
            51 => ("C_BO_NA_1", "bitstring_command", Control, Fixed(4)),
            58 => ("C_SC_TA_1", "single_command_cp56", Control, Fixed(8)),
            59 => ("C_DC_TA_1", "double_command_cp56", Control, Fixed(8)),
            60 => (
                "C_RC_TA_1",
                "regulating_step_command_cp56",
                Control,
                Fixed(8),
            ),
            61 => ("C_SE_TA_1", "setpoint_normalized_cp56", Control, Fixed(10)),
            62 => ("C_SE_TB_1", "setpoint_scaled_cp56", Control, Fixed(10)),
            63 => ("C_SE_TC_1", "setpoint_float_cp56", Control, Fixed(12)),
            64 => ("C_BO_TA_1", "bitstring_command_cp56", Control, Fixed(11)),
            // System information in monitor direction.
            70 => ("M_EI_NA_1", "end_of_initialization", Other, Fixed(1)),
            // Security (IEC 60870-5-7).
            81 => ("S_CH_NA_1", "authentication_challenge", Session, Variable),
            82 => ("S_RP_NA_1", "authentication_reply", Session, Variable),
            83 => ("S_AR_NA_1", "aggressive_mode_request", Session, Variable),
            84 => ("S_KR_NA_1", "session_key_status_request", Session, Variable),
            85 => ("S_KS_NA_1", "session_key_status", Session, Variable),
            86 => ("S_KC_NA_1", "session_key_change", Session, Variable),
            87 => ("S_ER_NA_1", "authentication_error", Session, Variable),
            88 => ("S_UC_NA_1", "user_certificate", Session, Variable),
            90 => ("S_US_NA_1", "user_status_change", Session, Variable),
            91 => ("S_UQ_NA_1", "update_key_change_request", Session, Variable),
            92 => ("S_UR_NA_1", "update_key_change_reply", Session, Variable),
            93 => (
                "S_UK_NA_1",
                "update_key_change_symmetric",
                Session,
                Variable,
            ),
            94 => (
                "S_UA_NA_1",
                "update_key_change_asymmetric",
                Session,
                Variable,
            ),
            95 => (
                "S_UF_NA_1",
                "update_key_change_confirmation",
                Session,
                Variable,
            ),
            // System information in control direction.
            100 => ("C_IC_NA_1", "interrogation", Read, Fixed(1)),
            101 => ("C_CI_NA_1", "counter_interrogation", Read, Fixed(1)),
            102 => ("C_RD_NA_1", "read", Read, Fixed(0)),
            103 => ("C_CS_NA_1", "clock_synchronization", Control, Fixed(7)),
            104 => ("C_TS_NA_1", "test_command", Diagnostic, Fixed(2)),
            105 => ("C_RP_NA_1", "reset_process", Control, Fixed(1)),
            106 => ("C_CD_NA_1", "delay_acquisition", Diagnostic, Fixed(2)),
            107 => ("C_TS_TA_1", "test_command_cp56", Diagnostic, Fixed(9)),
            // Parameters in control direction.
            110 => ("P_ME_NA_1", "parameter_normalized", Write, Fixed(3)),
            111 => ("P_ME_NB_1", "parameter_scaled", Write, Fixed(3)),
            112 => ("P_ME_NC_1", "parameter_float", Write, Fixed(5)),
            113 => ("P_AC_NA_1", "parameter_activation", Write, Fixed(1)),
            // File transfer.
            120 => ("F_FR_NA_1", "file_ready", Program, Fixed(6)),
            121 => ("F_SR_NA_1", "section_ready", Program, Fixed(7)),
            122 => ("F_SC_NA_1", "file_call", Program, Fixed(4)),
            123 => ("F_LS_NA_1", "last_section", Program, Fixed(5)),
            124 => ("F_AF_NA_1", "file_ack", Program, Fixed(4)),
            125 => ("F_SG_NA_1", "file_segment", Program, FileSegment),
            126 => ("F_DR_TA_1", "directory", Program, Fixed(13)),
            127 => ("F_SC_NB_1", "query_log", Program, Fixed(16)),
            _ => return None,
        };
        Some(TypeInfo {
            mnemonic,
            function,
            class,
            size,
        })
    }

    /// The element layout of the type, for decoding object values.
    pub fn layout(self) -> Layout {
        use Layout::*;
        match self.0 {
            1 | 2 | 30 => SinglePoint,
            3 | 4 | 31 => DoublePoint,
            5 | 6 | 32 => StepPosition,
            7 | 8 | 33 => Bitstring,
            9 | 10 | 34 => Normalized,
            11 | 12 | 35 => Scaled,
            13 | 14 | 36 => Float,
            15 | 16 | 37 => IntegratedTotals,
            17 | 38 => ProtectionEvent,
            18 | 19 | 39 | 40 => ProtectionPacked,
            20 => PackedSinglePoint,
            21 => NormalizedNoQuality,
            45 | 58 => SingleCommand,
            46 | 59 => DoubleCommand,
            47 | 60 => RegulatingStep,
            48 | 61 => SetpointNormalized,
            49 | 62 => SetpointScaled,
            50 | 63 => SetpointFloat,
            51 | 64 => BitstringCommand,
            70 | 100 | 101 | 105 | 113 => Qualifier,
            103 => ClockSync,
            104 => TestPattern,
            106 => Delay,
            107 => TestCounter,
            110 => ParameterNormalized,
            111 => ParameterScaled,
            112 => ParameterFloat,
            _ => Opaque,
        }
    }

    /// The time tag that ends each object of the type.
    pub fn time_tag(self) -> TimeTag {
        match self.0 {
            2 | 4 | 6 | 8 | 10 | 12 | 14 | 16 | 17 | 18 | 19 => TimeTag::Cp24,
            30..=40 | 58..=64 | 103 | 107 => TimeTag::Cp56,
            _ => TimeTag::None,
        }
    }

    /// Command types whose qualifier has a select/execute bit.
    pub fn has_select(self) -> bool {
        matches!(self.0, 45..=50 | 58..=63)
    }
}

/// What the information elements of a type hold, before its time tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// SIQ.
    SinglePoint,
    /// DIQ.
    DoublePoint,
    /// VTI + QDS.
    StepPosition,
    /// BSI + QDS.
    Bitstring,
    /// NVA + QDS.
    Normalized,
    /// SVA + QDS.
    Scaled,
    /// IEEE 754 short float + QDS.
    Float,
    /// BCR.
    IntegratedTotals,
    /// SEP + CP16 elapsed time.
    ProtectionEvent,
    /// SPE or OCI + QDP + CP16 duration.
    ProtectionPacked,
    /// SCD + QDS.
    PackedSinglePoint,
    /// NVA.
    NormalizedNoQuality,
    /// SCO.
    SingleCommand,
    /// DCO.
    DoubleCommand,
    /// RCO.
    RegulatingStep,
    /// NVA + QOS.
    SetpointNormalized,
    /// SVA + QOS.
    SetpointScaled,
    /// Float + QOS.
    SetpointFloat,
    /// BSI.
    BitstringCommand,
    /// One qualifier octet: COI, QOI, QCC, QRP, QPA.
    Qualifier,
    /// The CP56Time2a to set.
    ClockSync,
    /// FBP, the fixed test pattern.
    TestPattern,
    /// CP16Time2a delay.
    Delay,
    /// TSC test sequence counter.
    TestCounter,
    /// NVA + QPM.
    ParameterNormalized,
    /// SVA + QPM.
    ParameterScaled,
    /// Float + QPM.
    ParameterFloat,
    /// Nothing decoded (read command, file transfer, security).
    Opaque,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeTag {
    None,
    /// Three octets: milliseconds and minutes.
    Cp24,
    /// Seven octets: a full date.
    Cp56,
}

/// A cause of transmission, without its P/N and test bits (Wireshark
/// `iec60870_asdu.causetx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cause(pub u8);

impl Cause {
    pub const SPONTANEOUS: Cause = Cause(3);
    pub const ACTIVATION: Cause = Cause(6);
    pub const ACTIVATION_CON: Cause = Cause(7);
    pub const ACTIVATION_TERMINATION: Cause = Cause(10);
    pub const INTERROGATED_BY_STATION: Cause = Cause(20);

    /// Mask of the cause in the first COT octet; 0x40 is P/N, 0x80 is T.
    pub const MASK: u8 = 0x3F;
    pub const NEGATIVE: u8 = 0x40;
    pub const TEST: u8 = 0x80;

    pub fn name(self) -> Option<&'static str> {
        const GROUPS: [&str; 16] = [
            "interrogated_by_group_1",
            "interrogated_by_group_2",
            "interrogated_by_group_3",
            "interrogated_by_group_4",
            "interrogated_by_group_5",
            "interrogated_by_group_6",
            "interrogated_by_group_7",
            "interrogated_by_group_8",
            "interrogated_by_group_9",
            "interrogated_by_group_10",
            "interrogated_by_group_11",
            "interrogated_by_group_12",
            "interrogated_by_group_13",
            "interrogated_by_group_14",
            "interrogated_by_group_15",
            "interrogated_by_group_16",
        ];
        const COUNTER_GROUPS: [&str; 4] = [
            "counter_interrogated_by_group_1",
            "counter_interrogated_by_group_2",
            "counter_interrogated_by_group_3",
            "counter_interrogated_by_group_4",
        ];
        Some(match self.0 {
            1 => "periodic",
            2 => "background_scan",
            3 => "spontaneous",
            4 => "initialized",
            5 => "request",
            6 => "activation",
            7 => "activation_con",
            8 => "deactivation",
            9 => "deactivation_con",
            10 => "activation_termination",
            11 => "return_remote_command",
            12 => "return_local_command",
            13 => "file_transfer",
            // IEC 60870-5-7 secure authentication.
            14 => "authentication",
            15 => "session_key_maintenance",
            16 => "update_key_maintenance",
            20 => "interrogated_by_station",
            21..=36 => return GROUPS.get(usize::from(self.0 - 21)).copied(),
            37 => "counter_interrogated_general",
            38..=41 => return COUNTER_GROUPS.get(usize::from(self.0 - 38)).copied(),
            44 => "unknown_type_id",
            45 => "unknown_cause",
            46 => "unknown_common_address",
            47 => "unknown_ioa",
            _ => return None,
        })
    }
}

/// Quality flags of an object, in one layout whatever descriptor they came
/// from (QDS, SIQ, DIQ, QDP, SEP, BCR): the bits of QDS where they exist,
/// and otherwise unused QDS bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Quality(pub u8);

impl Quality {
    pub const OVERFLOW: u8 = 0x01;
    /// BCR CY: the counter overflowed in the period.
    pub const CARRY: u8 = 0x02;
    /// BCR CA: the counter was adjusted in the period.
    pub const ADJUSTED: u8 = 0x04;
    /// QDP/SEP EI: the elapsed time is invalid.
    pub const ELAPSED_TIME_INVALID: u8 = 0x08;
    pub const BLOCKED: u8 = 0x10;
    pub const SUBSTITUTED: u8 = 0x20;
    pub const NOT_TOPICAL: u8 = 0x40;
    pub const INVALID: u8 = 0x80;

    const NAMES: [(u8, &'static str); 8] = [
        (Self::OVERFLOW, "overflow"),
        (Self::CARRY, "carry"),
        (Self::ADJUSTED, "adjusted"),
        (Self::ELAPSED_TIME_INVALID, "elapsed_time_invalid"),
        (Self::BLOCKED, "blocked"),
        (Self::SUBSTITUTED, "substituted"),
        (Self::NOT_TOPICAL, "not_topical"),
        (Self::INVALID, "invalid"),
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, flag: u8) -> bool {
        self.0 & flag == flag
    }

    /// The names of the flags set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |&(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| name)
    }
}

/// Name of a double point (DPI), double command (DCS) or event state (ES).
pub fn double_state(value: u8) -> &'static str {
    match value & 0x03 {
        0 => "intermediate",
        1 => "off",
        2 => "on",
        _ => "indeterminate",
    }
}

/// Name of a regulating step command state (RCS).
pub fn step_state(value: u8) -> &'static str {
    match value & 0x03 {
        1 => "lower",
        2 => "higher",
        _ => "not_permitted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_type_has_a_consistent_layout() {
        for id in 0..=255u8 {
            let t = TypeId(id);
            let Some(info) = t.info() else {
                assert_eq!(t.layout(), Layout::Opaque, "{id}");
                continue;
            };
            assert!(info.mnemonic.len() == 9, "{}", info.mnemonic);
            let time = match t.time_tag() {
                TimeTag::None => 0,
                TimeTag::Cp24 => 3,
                TimeTag::Cp56 => 7,
            };
            let element = match t.layout() {
                Layout::SinglePoint
                | Layout::DoublePoint
                | Layout::SingleCommand
                | Layout::DoubleCommand
                | Layout::RegulatingStep
                | Layout::Qualifier => 1,
                Layout::StepPosition
                | Layout::NormalizedNoQuality
                | Layout::TestPattern
                | Layout::Delay
                | Layout::TestCounter => 2,
                Layout::Normalized
                | Layout::Scaled
                | Layout::SetpointNormalized
                | Layout::SetpointScaled
                | Layout::ParameterNormalized
                | Layout::ParameterScaled
                | Layout::ProtectionEvent => 3,
                Layout::BitstringCommand | Layout::ProtectionPacked => 4,
                Layout::Bitstring
                | Layout::Float
                | Layout::IntegratedTotals
                | Layout::PackedSinglePoint
                | Layout::SetpointFloat
                | Layout::ParameterFloat => 5,
                Layout::ClockSync => 0,
                Layout::Opaque => continue,
            };
            assert_eq!(
                info.size,
                ElementSize::Fixed(element + time),
                "{}",
                info.mnemonic
            );
        }
    }

    #[test]
    fn u_functions() {
        assert_eq!(UFunction::of(0x07), UFunction::STARTDT_ACT);
        assert_eq!(UFunction::of(0x83).name(), Some("testfr_con"));
        assert!(UFunction::STOPDT_ACT.is_activation());
        assert!(UFunction::STOPDT_CON.is_confirmation());
        assert_eq!(UFunction(0x05).name(), None);
        assert!(!UFunction(0x05).is_activation());
    }

    #[test]
    fn cause_names() {
        assert_eq!(Cause(20).name(), Some("interrogated_by_station"));
        assert_eq!(Cause(36).name(), Some("interrogated_by_group_16"));
        assert_eq!(Cause(41).name(), Some("counter_interrogated_by_group_4"));
        assert_eq!(Cause(0).name(), None);
        assert_eq!(Cause(42).name(), None);
    }
}
