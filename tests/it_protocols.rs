//! The IT decoders (HTTP, TLS, SSH, Telnet, FTP, and MQTT off its port)
//! through the whole pipeline, on captures built here packet by packet, and
//! on the repository's and the shared corpus's captures: what they decode,
//! what they must leave to other decoders.

mod common;

use std::net::Ipv4Addr;
use std::path::Path;

use common::*;
use etherparse::PacketBuilder;
use otsensor::capture::write::PcapWriter;
use otsensor::time::Timestamp;
use serde_json::Value;

const IT: &[&str] = &["mqtt", "http", "tls", "ssh", "telnet", "ftp"];

type Host = ([u8; 6], Ipv4Addr);

const CLIENT: Host = (
    [0x00, 0x14, 0x22, 0x01, 0x02, 0x03],
    Ipv4Addr::new(10, 10, 1, 50),
);
const SERVER: Host = (
    [0x00, 0x1b, 0x1b, 0x0a, 0x0b, 0x0c],
    Ipv4Addr::new(10, 10, 2, 17),
);

/// One TCP connection, written packet by packet: a handshake, then each
/// payload as one segment with consistent sequence numbers.
struct Tcp {
    frames: Vec<Vec<u8>>,
    ports: (u16, u16),
    seq: [u32; 2],
}

impl Tcp {
    fn new(client_port: u16, server_port: u16) -> Tcp {
        let mut tcp = Tcp {
            frames: Vec::new(),
            ports: (client_port, server_port),
            seq: [1000, 5000],
        };
        tcp.push(0, &[], true);
        tcp.push(1, &[], true);
        tcp
    }

    fn push(&mut self, from: usize, payload: &[u8], syn: bool) {
        let (src, dst) = if from == 0 {
            (CLIENT, SERVER)
        } else {
            (SERVER, CLIENT)
        };
        let (sport, dport) = if from == 0 {
            self.ports
        } else {
            (self.ports.1, self.ports.0)
        };
        let mut builder = PacketBuilder::ethernet2(src.0, dst.0)
            .ipv4(src.1.octets(), dst.1.octets(), 64)
            .tcp(sport, dport, self.seq[from], 8192);
        if syn {
            builder = builder.syn();
        }
        if from == 1 || !syn {
            builder = builder.ack(self.seq[1 - from]);
        }
        if !payload.is_empty() {
            builder = builder.psh();
        }
        let mut frame = Vec::new();
        builder.write(&mut frame, payload).unwrap();
        self.frames.push(frame);
        self.seq[from] = self.seq[from].wrapping_add(payload.len() as u32 + u32::from(syn));
    }

    fn client(mut self, payload: &[u8]) -> Tcp {
        self.push(0, payload, false);
        self
    }

    fn server(mut self, payload: &[u8]) -> Tcp {
        self.push(1, payload, false);
        self
    }

    fn write(&self, path: &Path) {
        let file = std::fs::File::create(path).unwrap();
        let mut pcap = PcapWriter::new(file, 1, false, false).unwrap();
        for (n, frame) in self.frames.iter().enumerate() {
            let ts = Timestamp::from_secs(1_705_400_000 + n as i64);
            pcap.packet(ts, frame, frame.len() as u32).unwrap();
        }
    }
}

/// Replays a built capture; returns its events of `protocol`.
fn events_of(tcp: &Tcp, protocol: &str, args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("built.pcap");
    tcp.write(&path);
    replay(&[&path], args)
        .events()
        .into_iter()
        .filter(|e| e["protocol"] == protocol)
        .collect()
}

fn functions(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["function"].as_str().unwrap())
        .collect()
}

#[test]
fn http_with_basic_credentials_and_a_server_identity() {
    for port in [80, 8080, 8081] {
        let tcp = Tcp::new(50000, port)
            .client(b"POST /cgi-bin/config HTTP/1.1\r\nHost: plc\r\nUser-Agent: curl/8.5\r\nAuthorization: Basic YWRtaW46czNjcmV0\r\nContent-Length: 4\r\n\r\na=12")
            .server(b"HTTP/1.1 200 OK\r\nServer: Siemens SIMATIC S7-1200 Web server\r\nContent-Length: 2\r\n\r\nok");
        let events = events_of(&tcp, "http", &[]);
        assert_eq!(functions(&events), ["post", "post"], "port {port}");
        let (request, response) = (&events[0], &events[1]);
        assert_eq!(request["class"], "write");
        assert_eq!(request["uri"], "/cgi-bin/config");
        assert_eq!(request["user_agent"], "curl/8.5");
        assert_eq!(request["basic_auth_user"], "admin");
        assert_eq!(request["basic_auth_password"], "<redacted>");
        assert_eq!(response["status"], 200);
        assert_eq!(response["request_packet"], request["packet"]);
        assert_eq!(
            response["identity"]["product"],
            "Siemens SIMATIC S7-1200 Web server"
        );
        assert_eq!(response["src_ip"], "10.10.2.17");
    }
}

/// The JA4 specification's example ClientHello (see the TLS unit tests).
fn client_hello() -> Vec<u8> {
    let ext = |kind: u16, data: &[u8]| {
        let mut e = kind.to_be_bytes().to_vec();
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
        e
    };
    let list16 = |values: &[u16]| {
        let mut l = ((values.len() * 2) as u16).to_be_bytes().to_vec();
        values
            .iter()
            .for_each(|v| l.extend_from_slice(&v.to_be_bytes()));
        l
    };
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend(list16(&[
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ]));
    body.extend_from_slice(&[0x01, 0x00]);
    let sni = [&[0x00, 0x0c, 0x00, 0x00, 0x09][..], b"opcua.plc"].concat();
    let alpn = [&[0x00, 0x03, 0x02][..], b"h2"].concat();
    let extensions = [
        ext(0x001b, &[0x02, 0x00, 0x02]),
        ext(0x0000, &sni),
        ext(0x0033, &[0x00, 0x00]),
        ext(0x0010, &alpn),
        ext(0x4469, &[0x00, 0x03, 0x02, b'h', b'2']),
        ext(0x0017, &[]),
        ext(0x002d, &[0x01, 0x01]),
        ext(
            0x000d,
            &list16(&[
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ]),
        ),
        ext(0x0005, &[0x01, 0x00, 0x00, 0x00, 0x00]),
        ext(0x0023, &[]),
        ext(0x0012, &[]),
        ext(0x002b, &[0x04, 0x03, 0x04, 0x03, 0x03]),
        ext(0xff01, &[0x00]),
        ext(0x000b, &[0x01, 0x00]),
        ext(0x000a, &list16(&[0x001d])),
        ext(0x0015, &[0x00, 0x00]),
    ]
    .concat();
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    let mut msg = vec![1];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    record.extend(msg);
    record
}

#[test]
fn tls_client_hello_fingerprint_on_opc_ua_and_elsewhere() {
    let server = [
        &[0x16, 0x03, 0x03, 0x00, 0x32][..], // record: handshake, length 50
        &[0x02, 0x00, 0x00, 0x2e, 0x03, 0x03], // ServerHello, length 46, legacy version
        &[0x44; 32],                         // random
        &[0x00, 0x13, 0x01, 0x00],           // no session id, TLS_AES_128_GCM_SHA256, null
        &[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04], // supported_versions: TLS 1.3
        &[0x14, 0x03, 0x03, 0x00, 0x01, 0x01], // ChangeCipherSpec
        &[0x17, 0x03, 0x03, 0x00, 0x03, 0xaa, 0xbb, 0xcc], // application data
    ]
    .concat();
    // 8883 is MQTT over TLS: the TLS decoder's, not MQTT's.
    for port in [443, 4843, 8883, 9443] {
        let tcp = Tcp::new(50001, port)
            .client(&client_hello())
            .server(&server);
        if port == 8883 {
            assert_eq!(events_of(&tcp, "mqtt", &[]), Vec::<Value>::new());
        }
        let events = events_of(&tcp, "tls", &[]);
        assert_eq!(
            functions(&events),
            ["client_hello", "server_hello"],
            "port {port}"
        );
        assert_eq!(events[0]["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(events[0]["sni"], "opcua.plc");
        assert_eq!(events[0]["class"], "session");
        assert_eq!(events[1]["version"], 0x0304);
        assert_eq!(events[1]["cipher"], 0x1301);
    }
}

#[test]
fn ssh_banners_identify_both_sides() {
    for port in [22, 2222] {
        let tcp = Tcp::new(50002, port)
            .server(b"SSH-2.0-dropbear_2019.78\r\n")
            .client(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n");
        let events = events_of(&tcp, "ssh", &[]);
        assert_eq!(functions(&events), ["banner", "banner"], "port {port}");
        assert_eq!(events[0]["src_ip"], "10.10.2.17");
        assert_eq!(events[0]["identity"]["product"], "dropbear");
        assert_eq!(events[0]["identity"]["firmware"], "2019.78");
        assert_eq!(events[1]["software"], "OpenSSH_8.9p1");
        assert_eq!(events[1]["is_response"], false);
    }
}

#[test]
fn telnet_login_with_a_redacted_password() {
    let mut tcp = Tcp::new(50003, 23)
        .server(&[0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01])
        .server(b"\r\nLantronix UDS1100 Version V6.6.0.2\r\nlogin: ");
    for &key in b"operator\r\n" {
        tcp = tcp.client(&[key]);
    }
    tcp = tcp.server(b"\r\nPassword: ");
    tcp = tcp.client(b"hunter2\r\n");
    let events = events_of(&tcp, "telnet", &[]);
    assert_eq!(
        functions(&events),
        [
            "negotiation",
            "banner",
            "login_prompt",
            "login",
            "password_prompt",
            "password"
        ]
    );
    assert_eq!(
        events[1]["identity"]["product"],
        "Lantronix UDS1100 Version V6.6.0.2"
    );
    assert_eq!(events[3]["user"], "operator");
    assert_eq!(events[5]["password"], "<redacted>");
    assert_eq!(events[5]["password_present"], true);
}

#[test]
fn ftp_session_on_its_port_and_elsewhere() {
    for port in [21, 2121] {
        let tcp = Tcp::new(50004, port)
            .server(b"220 VxWorks (5.4.2) FTP server ready\r\n")
            .client(b"USER target\r\n")
            .server(b"331 Password required\r\n")
            .client(b"PASS password\r\n")
            .server(b"230 User logged in\r\n")
            .client(b"STOR /ata0/PLC/app.bin\r\n");
        let events = events_of(&tcp, "ftp", &[]);
        assert_eq!(
            functions(&events),
            ["greeting", "user", "user", "pass", "pass", "stor"],
            "port {port}"
        );
        assert_eq!(
            events[0]["identity"]["product"],
            "VxWorks (5.4.2) FTP server ready"
        );
        assert_eq!(events[1]["user"], "target");
        assert_eq!(events[3]["password"], "<redacted>");
        assert_eq!(events[4]["reply_code"], 230);
        assert_eq!(events[5]["class"], "write");
    }
}

#[test]
fn mqtt_connect_is_recognised_off_its_port() {
    let connect = [
        &[0x10, 0x1a, 0x00, 0x04][..], // CONNECT, remaining length 26
        b"MQTT",
        &[0x04, 0x82, 0x00, 0x3c, 0x00, 0x04],
        b"plc1",
        &[0x00, 0x08],
        b"operator",
    ]
    .concat();
    let tcp = Tcp::new(50005, 11883)
        .client(&connect)
        .server(&[0x20, 0x02, 0x00, 0x05]);
    let events = events_of(&tcp, "mqtt", &[]);
    assert_eq!(functions(&events), ["connect", "connack"]);
    assert_eq!(events[0]["client_id"], "plc1");
    assert_eq!(events[0]["username"], "operator");
    assert_eq!(events[0]["password_present"], false);
    assert_eq!(events[1]["return_code"], 5);
}

#[test]
fn the_demo_captures_web_requests_decode() {
    let events = replay(&[&demo_capture()], &[]).events();
    let http: Vec<&Value> = events.iter().filter(|e| e["protocol"] == "http").collect();
    // Wireshark (demo-plant.tshark.json's frame counts, `tshark -Y http`):
    // requests in frames 15, 343, 11765. Wireshark shows each response on
    // the frame that completes its body (19, 347, 11768); the sensor reports
    // a response when its head is complete, and skips the body.
    let requests: Vec<(u64, &str, &str)> = http
        .iter()
        .filter(|e| e["is_response"] == false)
        .map(|e| {
            (
                e["packet"].as_u64().unwrap(),
                e["uri"].as_str().unwrap(),
                e["host"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        requests,
        [
            (15, "/index.html", "10.10.2.7"),
            (343, "/", "10.10.2.17"),
            (11765, "/webvisu.htm", "10.10.2.1")
        ]
    );
    let servers: Vec<(&str, &str)> = http
        .iter()
        .filter(|e| e["is_response"] == true)
        .map(|e| {
            assert_eq!(e["status"], 200);
            assert_eq!(e["content_type"], "text/html");
            (
                e["src_ip"].as_str().unwrap(),
                e["identity"]["product"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        servers,
        [
            ("10.10.2.7", "schneider-mb006"),
            ("10.10.2.17", "s7-016"),
            ("10.10.2.1", "schneider-mb000")
        ]
    );
    // Nothing else in the demo is IT traffic.
    let others: Vec<&Value> = events
        .iter()
        .filter(|e| IT.contains(&e["protocol"].as_str().unwrap()) && e["protocol"] != "http")
        .collect();
    assert!(others.is_empty(), "{others:?}");
}

/// HTTP in the shared corpus: the `mixed` capture's 93 WebSocket openings
/// (a GET to port 8765 answered by `101 Switching Protocols`), on the same
/// 186 frames as Wireshark 4.0's `http && tcp`. After the 101 both directions
/// are a tunnel: the WebSocket frames are not decoded as HTTP.
const SHARED_HTTP: &[(&str, usize)] = &[("c37118_1100_unclean_dns_netbios.pcap", 186)];

#[test]
fn no_it_decoder_claims_the_shared_corpus_industrial_traffic() {
    let Some(root) = shared_pcaps("") else {
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut replayed = 0;
    for dir in dirs {
        let family = dir.file_name().unwrap().to_string_lossy().into_owned();
        for capture in captures_in(&dir) {
            let name = capture.file_name().unwrap().to_string_lossy().into_owned();
            let events = replay(&[&capture], &[]).events();
            replayed += 1;
            let http: Vec<&Value> = events.iter().filter(|e| e["protocol"] == "http").collect();
            let expected_http = SHARED_HTTP
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, count)| *count);
            assert_eq!(http.len(), expected_http, "{name}: HTTP events");
            for e in &http {
                assert!(e.get("anomalies").is_none(), "{name}: {e}");
                if e["is_response"] == true {
                    assert_eq!(e["status"], 101, "{name}: {e}");
                } else {
                    assert_eq!(
                        (&e["method"], &e["dst_port"]),
                        (&"GET".into(), &8765.into())
                    );
                }
            }
            let claimed: Vec<String> = events
                .iter()
                .filter_map(|e| e["protocol"].as_str())
                .filter(|p| IT.contains(p) && *p != family && *p != "http")
                .map(str::to_string)
                .collect();
            assert!(
                claimed.is_empty(),
                "{name}: {} events of {:?}",
                claimed.len(),
                claimed.iter().collect::<std::collections::BTreeSet<_>>()
            );
        }
    }
    assert!(replayed > 20, "only {replayed} captures replayed");
}
