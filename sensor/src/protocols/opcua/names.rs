//! OPC UA code values and their names: transport message types, the
//! standard services (the numeric ids of their binary encodings in
//! namespace 0, OPC 10000-4 and the NodeIds registry of OPC 10000-6),
//! status codes, security policies and the enumerations the decoder reports.

use crate::event::FunctionClass;

/// The 3-byte ASCII message type of a UA TCP / UASC message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    Hello,
    Acknowledge,
    Error,
    ReverseHello,
    OpenSecureChannel,
    Message,
    CloseSecureChannel,
}

impl MessageType {
    pub const ALL: &'static [MessageType] = &[
        MessageType::Hello,
        MessageType::Acknowledge,
        MessageType::Error,
        MessageType::ReverseHello,
        MessageType::OpenSecureChannel,
        MessageType::Message,
        MessageType::CloseSecureChannel,
    ];

    /// The type spelled by the first three header bytes, if defined.
    pub fn from_bytes(b: &[u8]) -> Option<MessageType> {
        MessageType::ALL
            .iter()
            .copied()
            .find(|t| b.get(..3) == Some(t.code().as_bytes()))
    }

    /// The three letters on the wire (Wireshark `opcua.transport.type`).
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Hello => "HEL",
            MessageType::Acknowledge => "ACK",
            MessageType::Error => "ERR",
            MessageType::ReverseHello => "RHE",
            MessageType::OpenSecureChannel => "OPN",
            MessageType::Message => "MSG",
            MessageType::CloseSecureChannel => "CLO",
        }
    }

    /// OPN, MSG and CLO belong to a secure channel (UASC); the others are
    /// UA TCP connection messages.
    pub fn is_secure(self) -> bool {
        matches!(
            self,
            MessageType::OpenSecureChannel | MessageType::Message | MessageType::CloseSecureChannel
        )
    }

    /// The smallest size a whole message of this type can have: its header
    /// and fixed fields, with empty (length 0 or null) strings.
    pub fn min_size(self) -> u32 {
        match self {
            // Header, version, 4 sizes, endpoint URL length.
            MessageType::Hello => 32,
            // Header, version, 4 sizes.
            MessageType::Acknowledge => 28,
            // Header, error code, reason length.
            MessageType::Error => 16,
            // Header, server URI length, endpoint URL length.
            MessageType::ReverseHello => 16,
            // Header, channel id, 3 string lengths, sequence header.
            MessageType::OpenSecureChannel => 32,
            // Header, channel id, token id, sequence header.
            MessageType::Message | MessageType::CloseSecureChannel => 24,
        }
    }

    /// `function` of events of this type that carry no readable service.
    pub fn function(self) -> &'static str {
        match self {
            MessageType::Hello => "hello",
            MessageType::Acknowledge => "acknowledge",
            MessageType::Error => "error",
            MessageType::ReverseHello => "reverse_hello",
            MessageType::OpenSecureChannel => "open_secure_channel",
            MessageType::Message => "encrypted_message",
            MessageType::CloseSecureChannel => "close_secure_channel",
        }
    }

    pub fn class(self) -> FunctionClass {
        match self {
            MessageType::Message => FunctionClass::Other,
            _ => FunctionClass::Session,
        }
    }
}

/// Chunk types (the `IsFinal` byte).
pub mod chunk {
    /// An intermediate chunk.
    pub const CONTINUATION: u8 = b'C';
    /// The final chunk.
    pub const FINAL: u8 = b'F';
    /// The final chunk of an aborted message.
    pub const ABORT: u8 = b'A';

    pub fn is_valid(c: u8) -> bool {
        matches!(c, CONTINUATION | FINAL | ABORT)
    }

    /// The chunk type as a one-letter string (Wireshark `opcua.transport.chunk`).
    pub fn name(c: u8) -> &'static str {
        match c {
            CONTINUATION => "C",
            FINAL => "F",
            ABORT => "A",
            _ => "?",
        }
    }
}

/// A standard service: the binary encoding ids of its request and response
/// (`None` for ServiceFault, which answers any request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    pub request: u32,
    pub response: Option<u32>,
    pub request_name: &'static str,
    pub response_name: &'static str,
    /// Stable snake_case name, shared by request and response.
    pub function: &'static str,
    pub class: FunctionClass,
}

macro_rules! services {
    ($($req:literal, $resp:literal, $base:literal, $function:literal, $class:ident;)*) => {
        /// The standard services (OPC 10000-4), in node id order of requests.
        pub const SERVICES: &[Service] = &[
            $(Service {
                request: $req,
                response: Some($resp),
                request_name: concat!($base, "Request"),
                response_name: concat!($base, "Response"),
                function: $function,
                class: FunctionClass::$class,
            },)*
        ];
    };
}

services! {
    410, 413, "TestStack", "test_stack", Diagnostic;
    416, 419, "TestStackEx", "test_stack_ex", Diagnostic;
    422, 425, "FindServers", "find_servers", Discovery;
    428, 431, "GetEndpoints", "get_endpoints", Discovery;
    437, 440, "RegisterServer", "register_server", Discovery;
    446, 449, "OpenSecureChannel", "open_secure_channel", Session;
    452, 455, "CloseSecureChannel", "close_secure_channel", Session;
    461, 464, "CreateSession", "create_session", Session;
    467, 470, "ActivateSession", "activate_session", Session;
    473, 476, "CloseSession", "close_session", Session;
    479, 482, "Cancel", "cancel", Session;
    488, 491, "AddNodes", "add_nodes", Write;
    494, 497, "AddReferences", "add_references", Write;
    500, 503, "DeleteNodes", "delete_nodes", Write;
    506, 509, "DeleteReferences", "delete_references", Write;
    527, 530, "Browse", "browse", Read;
    533, 536, "BrowseNext", "browse_next", Read;
    554, 557, "TranslateBrowsePathsToNodeIds", "translate_browse_paths_to_node_ids", Read;
    560, 563, "RegisterNodes", "register_nodes", Read;
    566, 569, "UnregisterNodes", "unregister_nodes", Read;
    615, 618, "QueryFirst", "query_first", Read;
    621, 624, "QueryNext", "query_next", Read;
    631, 634, "Read", "read", Read;
    664, 667, "HistoryRead", "history_read", Read;
    673, 676, "Write", "write", Write;
    700, 703, "HistoryUpdate", "history_update", Write;
    712, 715, "Call", "call", Control;
    751, 754, "CreateMonitoredItems", "create_monitored_items", Read;
    763, 766, "ModifyMonitoredItems", "modify_monitored_items", Read;
    769, 772, "SetMonitoringMode", "set_monitoring_mode", Read;
    775, 778, "SetTriggering", "set_triggering", Read;
    781, 784, "DeleteMonitoredItems", "delete_monitored_items", Read;
    787, 790, "CreateSubscription", "create_subscription", Read;
    793, 796, "ModifySubscription", "modify_subscription", Read;
    799, 802, "SetPublishingMode", "set_publishing_mode", Read;
    826, 829, "Publish", "publish", Read;
    832, 835, "Republish", "republish", Read;
    841, 844, "TransferSubscriptions", "transfer_subscriptions", Read;
    847, 850, "DeleteSubscriptions", "delete_subscriptions", Read;
    12208, 12209, "FindServersOnNetwork", "find_servers_on_network", Discovery;
    12211, 12212, "RegisterServer2", "register_server2", Discovery;
}

/// The ServiceFault response (any request may get it instead of its own response).
pub const SERVICE_FAULT: Service = Service {
    request: 397,
    response: None,
    request_name: "ServiceFault",
    response_name: "ServiceFault",
    function: "service_fault",
    class: FunctionClass::Other,
};

/// Ids of the services this decoder reads beyond the request/response header.
pub mod id {
    pub const SERVICE_FAULT: u32 = 397;
    pub const FIND_SERVERS_REQUEST: u32 = 422;
    pub const FIND_SERVERS_RESPONSE: u32 = 425;
    pub const GET_ENDPOINTS_REQUEST: u32 = 428;
    pub const GET_ENDPOINTS_RESPONSE: u32 = 431;
    pub const REGISTER_SERVER_REQUEST: u32 = 437;
    pub const OPEN_SECURE_CHANNEL_REQUEST: u32 = 446;
    pub const OPEN_SECURE_CHANNEL_RESPONSE: u32 = 449;
    pub const CREATE_SESSION_REQUEST: u32 = 461;
    pub const CREATE_SESSION_RESPONSE: u32 = 464;
    pub const ACTIVATE_SESSION_REQUEST: u32 = 467;
    pub const REGISTER_SERVER2_REQUEST: u32 = 12211;
}

/// A service message type: which service, and whether the id is its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceType {
    pub service: Service,
    pub is_response: bool,
}

impl ServiceType {
    /// The standard service whose request or response binary encoding has
    /// this numeric id in namespace 0.
    pub fn lookup(id: u32) -> Option<ServiceType> {
        if id == SERVICE_FAULT.request {
            return Some(ServiceType {
                service: SERVICE_FAULT,
                is_response: true,
            });
        }
        SERVICES.iter().find_map(|s| {
            if s.request == id {
                Some(ServiceType {
                    service: *s,
                    is_response: false,
                })
            } else if s.response == Some(id) {
                Some(ServiceType {
                    service: *s,
                    is_response: true,
                })
            } else {
                None
            }
        })
    }

    /// The type name (`ReadRequest`, `ServiceFault`…), as Wireshark shows it.
    pub fn name(&self) -> &'static str {
        if self.is_response {
            self.service.response_name
        } else {
            self.service.request_name
        }
    }
}

/// Common status codes (OPC 10000-4 §7.39 and the StatusCode registry of
/// OPC 10000-6), by value. The low 16 bits (info bits) are ignored when
/// naming, as the name belongs to the upper half.
const STATUS_CODES: &[(u32, &str)] = &[
    (0x0000_0000, "Good"),
    (0x002D_0000, "GoodSubscriptionTransferred"),
    (0x002E_0000, "GoodCompletesAsynchronously"),
    (0x002F_0000, "GoodOverload"),
    (0x0030_0000, "GoodClamped"),
    (0x4000_0000, "Uncertain"),
    (0x8000_0000, "Bad"),
    (0x8001_0000, "BadUnexpectedError"),
    (0x8002_0000, "BadInternalError"),
    (0x8003_0000, "BadOutOfMemory"),
    (0x8004_0000, "BadResourceUnavailable"),
    (0x8005_0000, "BadCommunicationError"),
    (0x8006_0000, "BadEncodingError"),
    (0x8007_0000, "BadDecodingError"),
    (0x8008_0000, "BadEncodingLimitsExceeded"),
    (0x8009_0000, "BadUnknownResponse"),
    (0x800A_0000, "BadTimeout"),
    (0x800B_0000, "BadServiceUnsupported"),
    (0x800C_0000, "BadShutdown"),
    (0x800D_0000, "BadServerNotConnected"),
    (0x800E_0000, "BadServerHalted"),
    (0x800F_0000, "BadNothingToDo"),
    (0x8010_0000, "BadTooManyOperations"),
    (0x8011_0000, "BadDataTypeIdUnknown"),
    (0x8012_0000, "BadCertificateInvalid"),
    (0x8013_0000, "BadSecurityChecksFailed"),
    (0x8014_0000, "BadCertificateTimeInvalid"),
    (0x8015_0000, "BadCertificateIssuerTimeInvalid"),
    (0x8016_0000, "BadCertificateHostNameInvalid"),
    (0x8017_0000, "BadCertificateUriInvalid"),
    (0x8018_0000, "BadCertificateUseNotAllowed"),
    (0x8019_0000, "BadCertificateIssuerUseNotAllowed"),
    (0x801A_0000, "BadCertificateUntrusted"),
    (0x801B_0000, "BadCertificateRevocationUnknown"),
    (0x801C_0000, "BadCertificateIssuerRevocationUnknown"),
    (0x801D_0000, "BadCertificateRevoked"),
    (0x801E_0000, "BadCertificateIssuerRevoked"),
    (0x801F_0000, "BadUserAccessDenied"),
    (0x8020_0000, "BadIdentityTokenInvalid"),
    (0x8021_0000, "BadIdentityTokenRejected"),
    (0x8022_0000, "BadSecureChannelIdInvalid"),
    (0x8023_0000, "BadInvalidTimestamp"),
    (0x8024_0000, "BadNonceInvalid"),
    (0x8025_0000, "BadSessionIdInvalid"),
    (0x8026_0000, "BadSessionClosed"),
    (0x8027_0000, "BadSessionNotActivated"),
    (0x8028_0000, "BadSubscriptionIdInvalid"),
    (0x802A_0000, "BadRequestHeaderInvalid"),
    (0x802B_0000, "BadTimestampsToReturnInvalid"),
    (0x802C_0000, "BadRequestCancelledByClient"),
    (0x8031_0000, "BadNoCommunication"),
    (0x8032_0000, "BadWaitingForInitialData"),
    (0x8033_0000, "BadNodeIdInvalid"),
    (0x8034_0000, "BadNodeIdUnknown"),
    (0x8035_0000, "BadAttributeIdInvalid"),
    (0x8036_0000, "BadIndexRangeInvalid"),
    (0x8037_0000, "BadIndexRangeNoData"),
    (0x8038_0000, "BadDataEncodingInvalid"),
    (0x8039_0000, "BadDataEncodingUnsupported"),
    (0x803A_0000, "BadNotReadable"),
    (0x803B_0000, "BadNotWritable"),
    (0x803C_0000, "BadOutOfRange"),
    (0x803D_0000, "BadNotSupported"),
    (0x803E_0000, "BadNotFound"),
    (0x803F_0000, "BadObjectDeleted"),
    (0x8040_0000, "BadNotImplemented"),
    (0x8041_0000, "BadMonitoringModeInvalid"),
    (0x8042_0000, "BadMonitoredItemIdInvalid"),
    (0x8043_0000, "BadMonitoredItemFilterInvalid"),
    (0x8044_0000, "BadMonitoredItemFilterUnsupported"),
    (0x8045_0000, "BadFilterNotAllowed"),
    (0x8046_0000, "BadStructureMissing"),
    (0x8047_0000, "BadEventFilterInvalid"),
    (0x8048_0000, "BadContentFilterInvalid"),
    (0x8049_0000, "BadFilterOperandInvalid"),
    (0x804A_0000, "BadContinuationPointInvalid"),
    (0x804B_0000, "BadNoContinuationPoints"),
    (0x804C_0000, "BadReferenceTypeIdInvalid"),
    (0x804D_0000, "BadBrowseDirectionInvalid"),
    (0x804E_0000, "BadNodeNotInView"),
    (0x804F_0000, "BadServerUriInvalid"),
    (0x8050_0000, "BadServerNameMissing"),
    (0x8051_0000, "BadDiscoveryUrlMissing"),
    (0x8052_0000, "BadSemaphoreFileMissing"),
    (0x8053_0000, "BadRequestTypeInvalid"),
    (0x8054_0000, "BadSecurityModeRejected"),
    (0x8055_0000, "BadSecurityPolicyRejected"),
    (0x8056_0000, "BadTooManySessions"),
    (0x8057_0000, "BadUserSignatureInvalid"),
    (0x8058_0000, "BadApplicationSignatureInvalid"),
    (0x8059_0000, "BadNoValidCertificates"),
    (0x805A_0000, "BadRequestCancelledByRequest"),
    (0x805B_0000, "BadParentNodeIdInvalid"),
    (0x805C_0000, "BadReferenceNotAllowed"),
    (0x805D_0000, "BadNodeIdRejected"),
    (0x805E_0000, "BadNodeIdExists"),
    (0x805F_0000, "BadNodeClassInvalid"),
    (0x8060_0000, "BadBrowseNameInvalid"),
    (0x8061_0000, "BadBrowseNameDuplicated"),
    (0x8062_0000, "BadNodeAttributesInvalid"),
    (0x8063_0000, "BadTypeDefinitionInvalid"),
    (0x8064_0000, "BadSourceNodeIdInvalid"),
    (0x8065_0000, "BadTargetNodeIdInvalid"),
    (0x8066_0000, "BadDuplicateReferenceNotAllowed"),
    (0x8067_0000, "BadInvalidSelfReference"),
    (0x8068_0000, "BadReferenceLocalOnly"),
    (0x8069_0000, "BadNoDeleteRights"),
    (0x806A_0000, "BadServerIndexInvalid"),
    (0x806B_0000, "BadViewIdUnknown"),
    (0x806D_0000, "BadTooManyMatches"),
    (0x806E_0000, "BadQueryTooComplex"),
    (0x806F_0000, "BadNoMatch"),
    (0x8070_0000, "BadMaxAgeInvalid"),
    (0x8071_0000, "BadHistoryOperationInvalid"),
    (0x8072_0000, "BadHistoryOperationUnsupported"),
    (0x8073_0000, "BadWriteNotSupported"),
    (0x8074_0000, "BadTypeMismatch"),
    (0x8075_0000, "BadMethodInvalid"),
    (0x8076_0000, "BadArgumentsMissing"),
    (0x8077_0000, "BadTooManySubscriptions"),
    (0x8078_0000, "BadTooManyPublishRequests"),
    (0x8079_0000, "BadNoSubscription"),
    (0x807A_0000, "BadSequenceNumberUnknown"),
    (0x807B_0000, "BadMessageNotAvailable"),
    (0x807C_0000, "BadInsufficientClientProfile"),
    (0x807D_0000, "BadTcpServerTooBusy"),
    (0x807E_0000, "BadTcpMessageTypeInvalid"),
    (0x807F_0000, "BadTcpSecureChannelUnknown"),
    (0x8080_0000, "BadTcpMessageTooLarge"),
    (0x8081_0000, "BadTcpNotEnoughResources"),
    (0x8082_0000, "BadTcpInternalError"),
    (0x8083_0000, "BadTcpEndpointUrlInvalid"),
    (0x8084_0000, "BadRequestInterrupted"),
    (0x8085_0000, "BadRequestTimeout"),
    (0x8086_0000, "BadSecureChannelClosed"),
    (0x8087_0000, "BadSecureChannelTokenUnknown"),
    (0x8088_0000, "BadSequenceNumberInvalid"),
    (0x8089_0000, "BadConfigurationError"),
    (0x808A_0000, "BadNotConnected"),
    (0x808B_0000, "BadDeviceFailure"),
    (0x808C_0000, "BadSensorFailure"),
    (0x808D_0000, "BadOutOfService"),
    (0x808E_0000, "BadDeadbandFilterInvalid"),
    (0x80AB_0000, "BadInvalidArgument"),
    (0x80AC_0000, "BadConnectionRejected"),
    (0x80AD_0000, "BadDisconnect"),
    (0x80AE_0000, "BadConnectionClosed"),
    (0x80AF_0000, "BadInvalidState"),
    (0x80B0_0000, "BadEndOfStream"),
    (0x80B1_0000, "BadNoDataAvailable"),
    (0x80B2_0000, "BadWaitingForResponse"),
    (0x80B3_0000, "BadOperationAbandoned"),
    (0x80B4_0000, "BadExpectedStreamToBlock"),
    (0x80B5_0000, "BadWouldBlock"),
    (0x80B6_0000, "BadSyntaxError"),
    (0x80B7_0000, "BadMaxConnectionsReached"),
    (0x80B8_0000, "BadRequestTooLarge"),
    (0x80B9_0000, "BadResponseTooLarge"),
    (0x80BE_0000, "BadProtocolVersionUnsupported"),
    (0x80C6_0000, "BadIdentityChangeNotSupported"),
    (0x80DB_0000, "BadTooManyMonitoredItems"),
    (0x80E4_0000, "BadRequestNotAllowed"),
    (0x80E6_0000, "BadSecurityModeInsufficient"),
    (0x80EE_0000, "BadServerTooBusy"),
    (0x810D_0000, "BadCertificateChainIncomplete"),
    (0x8114_0000, "BadCertificatePolicyCheckFailed"),
];

/// The name of a status code (its upper 16 bits), if it is a common one.
pub fn status_name(code: u32) -> Option<&'static str> {
    let key = code & 0xFFFF_0000;
    STATUS_CODES
        .binary_search_by_key(&key, |&(c, _)| c)
        .ok()
        .and_then(|i| STATUS_CODES.get(i))
        .map(|&(_, name)| name)
}

/// The prefix of the standard security policy URIs (OPC 10000-7).
pub const SECURITY_POLICY_PREFIX: &str = "http://opcfoundation.org/UA/SecurityPolicy#";

/// The short name of a security policy URI: what follows `#` (`None`,
/// `Basic256Sha256`…), else the whole URI.
pub fn security_policy_name(uri: &str) -> &str {
    uri.rsplit_once('#').map_or(uri, |(_, name)| name)
}

/// Whether the policy named by this URI is `None` (no security).
pub fn is_policy_none(uri: &[u8]) -> bool {
    uri == b"http://opcfoundation.org/UA/SecurityPolicy#None"
}

/// Signature length of the symmetric algorithms of a standard policy
/// (HMAC-SHA1 for the deprecated RSA15/Basic256, HMAC-SHA256 since), or
/// `None` when the policy is not known.
pub fn signature_length(policy: &str) -> Option<usize> {
    match policy {
        "None" => Some(0),
        "Basic128Rsa15" | "Basic256" => Some(20),
        "Basic256Sha256" | "Aes128_Sha256_RsaOaep" | "Aes256_Sha256_RsaPss" => Some(32),
        _ => None,
    }
}

/// MessageSecurityMode (OPC 10000-4 §7.20).
pub fn security_mode_name(mode: u32) -> &'static str {
    match mode {
        0 => "Invalid",
        1 => "None",
        2 => "Sign",
        3 => "SignAndEncrypt",
        _ => "unknown",
    }
}

pub mod mode {
    pub const NONE: u32 = 1;
    pub const SIGN: u32 = 2;
    pub const SIGN_AND_ENCRYPT: u32 = 3;
}

/// SecurityTokenRequestType of an OpenSecureChannel request.
pub fn request_type_name(t: u32) -> &'static str {
    match t {
        0 => "issue",
        1 => "renew",
        _ => "unknown",
    }
}

/// UserTokenType of a UserTokenPolicy.
pub fn user_token_type_name(t: u32) -> &'static str {
    match t {
        0 => "Anonymous",
        1 => "UserName",
        2 => "Certificate",
        3 => "IssuedToken",
        _ => "unknown",
    }
}

/// ApplicationType of an ApplicationDescription.
pub fn application_type_name(t: u32) -> &'static str {
    match t {
        0 => "Server",
        1 => "Client",
        2 => "ClientAndServer",
        3 => "DiscoveryServer",
        _ => "unknown",
    }
}

/// An application type as an asset's device type.
pub fn application_type_device(t: u32) -> &'static str {
    match t {
        0 => "OPC UA Server",
        1 => "OPC UA Client",
        2 => "OPC UA Client and Server",
        3 => "OPC UA Discovery Server",
        _ => "OPC UA Application",
    }
}

/// The identity token types of ActivateSession, by the id of their binary encoding.
pub mod token {
    pub const ANONYMOUS: u32 = 321;
    pub const USER_NAME: u32 = 324;
    pub const X509: u32 = 327;
    pub const ISSUED: u32 = 940;

    pub fn name(id: u32) -> Option<&'static str> {
        Some(match id {
            ANONYMOUS => "AnonymousIdentityToken",
            USER_NAME => "UserNameIdentityToken",
            X509 => "X509IdentityToken",
            ISSUED => "IssuedIdentityToken",
            _ => return None,
        })
    }
}
