//! What an asset is, inferred from what it does, with the reason stated.

use serde::Serialize;

use std::collections::{BTreeMap, BTreeSet};

use super::{Asset, Evidence, Service, UsageMap};
use crate::event::{FunctionClass, Protocol};

/// What a role is inferred from, borrowed: an asset's, or a single host's,
/// which need not be copied into an asset to be judged.
pub struct RoleInputs<'a> {
    pub served: &'a UsageMap,
    pub used: &'a UsageMap,
    pub identity: &'a BTreeMap<String, Evidence>,
    pub services_served: &'a BTreeSet<Service>,
    pub services_used: &'a BTreeSet<Service>,
    pub forwards_for: Option<usize>,
    pub flows: u64,
}

impl<'a> RoleInputs<'a> {
    pub fn of(asset: &'a Asset) -> Self {
        RoleInputs {
            served: &asset.served,
            used: &asset.used,
            identity: &asset.identity,
            services_served: &asset.services_served,
            services_used: &asset.services_used,
            forwards_for: asset.forwards_for,
            flows: asset.flows,
        }
    }

    /// A single host's own records: what an asset of that host alone would
    /// hold, so its role is judged without building the asset.
    pub fn of_host(host: &'a super::Host) -> Self {
        RoleInputs {
            served: &host.served,
            used: &host.used,
            identity: &host.identity,
            services_served: &host.services_served,
            services_used: &host.services_used,
            forwards_for: None,
            flows: host.flows,
        }
    }

    fn field(&self, name: &str) -> Option<&'a str> {
        self.identity.get(name).map(|e| e.value.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// PLC or other controller: serves a controller protocol.
    Plc,
    /// RTU or outstation: serves a telecontrol protocol (DNP3, IEC 104).
    Rtu,
    /// Intelligent electronic device of a substation (MMS server, GOOSE/SV publisher).
    Ied,
    /// Programs controllers: downloads, uploads, firmware, vendor engineering services.
    EngineeringWorkstation,
    /// HMI or SCADA server: polls and commands field devices.
    Hmi,
    /// Historian: polls many field devices and only reads.
    Historian,
    /// Switch, router or other network device.
    NetworkDevice,
    /// Speaks only IT protocols.
    ItHost,
    Unknown,
}

/// Field devices a client polls before it counts as a historian when it only reads.
const HISTORIAN_MIN_SERVERS: usize = 5;

/// What part a protocol plays in a plant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Spoken between controllers and the stations that poll and program them.
    Controller,
    /// Telecontrol between a master station and RTUs/outstations.
    Telecontrol,
    /// Substation automation.
    Substation,
    /// IT services: addressing, name resolution, management (DHCP, DNS,
    /// LLMNR, mDNS, NetBIOS, SNMP).
    It,
    /// Link-layer discovery, which network devices send (LLDP, CDP).
    Network,
}

impl Kind {
    /// Spoken to run or supervise the process.
    fn industrial(self) -> bool {
        matches!(
            self,
            Kind::Controller | Kind::Telecontrol | Kind::Substation
        )
    }
}

fn kind(protocol: Protocol) -> Option<Kind> {
    match protocol {
        Protocol::Modbus => Some(Kind::Controller),
        Protocol::Iec104 | Protocol::Dnp3 => Some(Kind::Telecontrol),
        Protocol::Cip | Protocol::S7comm | Protocol::S7commPlus => Some(Kind::Controller),
        // IEC 61850 MMS servers are IEDs (ICCP peers too: control-centre links).
        Protocol::Mms => Some(Kind::Substation),
        // The transport under S7 and MMS: its own events are connection management.
        Protocol::Cotp => None,
        // Encapsulation alone: sessions and discovery, no process data.
        Protocol::Enip => None,
        // Published by IEDs and merging units to their subscribers.
        Protocol::Goose | Protocol::Sv => Some(Kind::Substation),
        // PROFINET: DCP is discovery and addressing; RT data flows both ways
        // between controller and device, so neither end "serves"; in CM the
        // IO controller (the PLC) initiates and the IO device responds, the
        // reverse of the client/server reading that makes servers PLCs. The
        // roles PROFINET states (DCP device role, CM AR type) go to
        // `identity.device_type` instead.
        Protocol::ProfinetDcp | Protocol::ProfinetRt | Protocol::ProfinetIo => None,
        // Building automation controllers serve it; workstations poll and command them.
        Protocol::Bacnet => Some(Kind::Controller),
        // Between controllers (many PLCs serve OPC UA) and the HMIs, SCADA
        // and historians that read and command them.
        Protocol::Opcua => Some(Kind::Controller),
        // IT protocols: their servers' banners feed the identity, not the role.
        Protocol::Mqtt
        | Protocol::Http
        | Protocol::Tls
        | Protocol::Ssh
        | Protocol::Telnet
        | Protocol::Ftp => None,
        Protocol::Dhcp
        | Protocol::Dns
        | Protocol::Llmnr
        | Protocol::Mdns
        | Protocol::Snmp
        | Protocol::Nbns
        | Protocol::Nbdgm => Some(Kind::It),
        Protocol::Lldp | Protocol::Cdp => Some(Kind::Network),
        // Every host speaks it.
        Protocol::Arp => None,
    }
}

/// Protocols a device publishes to a multicast group. The sender of a
/// layer-2 flow is taken for its client, so a publisher *uses* them; it is
/// the one that serves them.
fn published(protocol: Protocol) -> bool {
    matches!(protocol, Protocol::Goose | Protocol::Sv)
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Plc,
        Role::Rtu,
        Role::Ied,
        Role::EngineeringWorkstation,
        Role::Hmi,
        Role::Historian,
        Role::NetworkDevice,
        Role::ItHost,
        Role::Unknown,
    ];

    /// The role named `name` (as [`Role::name`] writes it).
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// The Purdue level this role usually sits at (0 is the process itself).
    pub fn purdue_level(self) -> Option<u8> {
        match self {
            Role::Plc | Role::Rtu | Role::Ied => Some(1),
            Role::Hmi | Role::EngineeringWorkstation => Some(2),
            Role::Historian => Some(3),
            Role::ItHost => Some(4),
            Role::NetworkDevice | Role::Unknown => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Plc => "plc",
            Role::Rtu => "rtu",
            Role::Ied => "ied",
            Role::EngineeringWorkstation => "engineering_workstation",
            Role::Hmi => "hmi",
            Role::Historian => "historian",
            Role::NetworkDevice => "network_device",
            Role::ItHost => "it_host",
            Role::Unknown => "unknown",
        }
    }
}

/// The role of `asset` and the reason, from the first rule that applies:
/// programming beats polling, serving beats using.
pub fn infer_role(asset: &Asset) -> (Role, String) {
    infer_role_from(&RoleInputs::of(asset))
}

/// [`infer_role`] from borrowed inputs.
pub fn infer_role_from(asset: &RoleInputs<'_>) -> (Role, String) {
    let served = |k: Kind| {
        asset
            .served
            .keys()
            .copied()
            .filter(move |p| kind(*p) == Some(k))
    };
    let names = |protocols: Vec<Protocol>| {
        protocols
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let engineering = FunctionClass::Program.bit() | FunctionClass::Firmware.bit();
    let industrial_use: Vec<(Protocol, &super::Usage)> = asset
        .used
        .iter()
        .filter(|(p, _)| kind(**p).is_some() && !published(**p))
        .filter(|(p, _)| kind(**p).is_some_and(Kind::industrial))
        .map(|(p, u)| (*p, u))
        .collect();

    if let Some((protocol, _)) = industrial_use
        .iter()
        .find(|(_, u)| u.classes.0 & engineering != 0)
    {
        let what: Vec<&str> = FunctionClass::from_bits(
            industrial_use
                .iter()
                .map(|(_, u)| u.classes.0)
                .fold(0, |a, b| a | b)
                & engineering,
        )
        .map(FunctionClass::name)
        .collect();
        return (
            Role::EngineeringWorkstation,
            format!(
                "sends {} requests over {}",
                what.join(" and "),
                protocol.name()
            ),
        );
    }
    let telecontrol: Vec<Protocol> = served(Kind::Telecontrol).collect();
    if !telecontrol.is_empty() {
        return (
            Role::Rtu,
            format!("serves {} as an outstation", names(telecontrol)),
        );
    }
    let publishes = asset.used.keys().copied().filter(|p| published(*p));
    let mut substation: Vec<Protocol> = served(Kind::Substation).chain(publishes).collect();
    substation.sort();
    substation.dedup();
    if !substation.is_empty() {
        return (Role::Ied, format!("serves {}", names(substation)));
    }
    let controller: Vec<Protocol> = served(Kind::Controller).collect();
    if !controller.is_empty() {
        let clients: usize = controller.iter().map(|p| asset.served[p].peers.len()).sum();
        return (
            Role::Plc,
            format!(
                "serves {} to {clients} client{}",
                names(controller),
                plural(clients)
            ),
        );
    }
    let device_type = asset.field("device_type");
    if device_type.is_some_and(|t| {
        t.to_ascii_lowercase()
            .contains("programmable logic controller")
    }) {
        let source = asset
            .identity
            .get("device_type")
            .map_or("identity", |e| e.source.name());
        return (
            Role::Plc,
            format!("identifies as a programmable logic controller ({source})"),
        );
    }
    if !industrial_use.is_empty() {
        let classes = industrial_use
            .iter()
            .map(|(_, u)| u.classes.0)
            .fold(0, |a, b| a | b);
        let servers: usize = industrial_use.iter().map(|(_, u)| u.peers.len()).sum();
        let protocols = names(industrial_use.iter().map(|(p, _)| *p).collect());
        let acts = FunctionClass::Write.bit() | FunctionClass::Control.bit();
        if classes & acts == 0 && servers >= HISTORIAN_MIN_SERVERS {
            return (
                Role::Historian,
                format!("only reads, from {servers} field devices over {protocols}"),
            );
        }
        let what: Vec<&str> = FunctionClass::from_bits(classes)
            .map(FunctionClass::name)
            .collect();
        return (
            Role::Hmi,
            format!(
                "polls {servers} field device{} over {protocols} ({})",
                plural(servers),
                what.join(", ")
            ),
        );
    }
    // A switch or router by its own account, in the discovery protocol it sends.
    if let Some(evidence) = asset.identity.get("device_type")
        && kind(evidence.source) == Some(Kind::Network)
        && matches!(evidence.value.as_str(), "switch" | "router")
    {
        return (
            Role::NetworkDevice,
            format!(
                "announces itself as a {} over {}",
                evidence.value,
                evidence.source.name()
            ),
        );
    }
    if let Some(addresses) = asset.forwards_for {
        return (
            Role::NetworkDevice,
            format!("forwards traffic for {addresses} IP addresses"),
        );
    }
    // IT services seen undecoded (by port) and decoded (by protocol).
    let it_protocols = |usage: &super::UsageMap| {
        usage
            .keys()
            .filter(|p| kind(**p) == Some(Kind::It))
            .map(|p| p.name().to_string())
            .collect::<Vec<_>>()
    };
    let mut it_served: Vec<String> = asset
        .services_served
        .iter()
        .filter_map(|s| it_service(*s))
        .collect();
    let undecoded_served = it_served.len();
    it_served.extend(it_protocols(asset.served));
    if !it_served.is_empty() && undecoded_served == asset.services_served.len() {
        return (Role::ItHost, format!("serves {}", it_served.join(", ")));
    }
    let mut it_used: Vec<String> = asset
        .services_used
        .iter()
        .filter_map(|s| it_service(*s))
        .collect();
    let undecoded_used = it_used.len();
    it_used.extend(it_protocols(asset.used));
    if asset.services_served.is_empty()
        && !it_used.is_empty()
        && undecoded_used == asset.services_used.len()
    {
        return (
            Role::ItHost,
            format!("uses only IT services ({})", it_used.join(", ")),
        );
    }
    if let Some(kind) = device_type {
        return (Role::Unknown, format!("identifies as {kind}"));
    }
    if asset.flows > 0 {
        return (Role::Unknown, "no industrial protocol seen".into());
    }
    (Role::Unknown, "not enough seen".into())
}

/// `name (transport/port)` for the well-known ports of IT services.
fn it_service(service: Service) -> Option<String> {
    it_service_name(service)
        .map(|name| format!("{name} ({}/{})", service.transport.name(), service.port))
}

/// The IT service usually found at a port.
pub fn it_service_name(service: Service) -> Option<&'static str> {
    Some(match (service.transport.name(), service.port) {
        (_, 53) => "dns",
        ("udp", 67 | 68) => "dhcp",
        ("udp", 123) => "ntp",
        ("udp", 137 | 138) | ("tcp", 139) => "netbios",
        ("udp", 161 | 162) => "snmp",
        ("udp", 514) => "syslog",
        ("udp", 5353) => "mdns",
        ("udp", 5355) => "llmnr",
        ("tcp", 21) => "ftp",
        ("tcp", 22) => "ssh",
        ("tcp", 23) => "telnet",
        ("tcp", 25 | 587) => "smtp",
        ("tcp", 80 | 8080) => "http",
        ("tcp", 88) | ("udp", 88) => "kerberos",
        ("tcp", 389 | 636) => "ldap",
        ("tcp", 443 | 8443) => "https",
        ("tcp", 445) => "smb",
        ("tcp", 1433) => "mssql",
        ("tcp", 3389) => "rdp",
        ("tcp", 5900) => "vnc",
        _ => return None,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
