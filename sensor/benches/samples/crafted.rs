//! Small hand-made messages of the protocols the demo capture lacks, one
//! short conversation each, so that every decoder target starts from a valid
//! input of every protocol. Field by field, as the specifications lay them out.

use otsensor::protocols::Direction::{self, ToClient, ToServer};

use super::{Carrier, Conversation};

/// A BER TLV with a short or one-octet long length.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        out.extend_from_slice(&[0x81, value.len() as u8]);
    }
    out.extend_from_slice(value);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn conv(carrier: Carrier, server_port: u16, pieces: &[(Direction, &[u8])]) -> Conversation {
    Conversation {
        carrier,
        server_port,
        pieces: pieces.iter().map(|(d, b)| (*d, b.to_vec())).collect(),
    }
}

/// TPKT and a COTP data TPDU (last unit) around `tsdu`.
fn iso(tsdu: &[u8]) -> Vec<u8> {
    let len = (4 + 3 + tsdu.len()) as u16;
    cat(&[&[0x03, 0x00], &len.to_be_bytes(), &[0x02, 0xf0, 0x80], tsdu])
}

/// A TPKT carrying a COTP connection request with calling/called TSAPs.
fn cotp_connect() -> Vec<u8> {
    let cr = [
        0x11, 0xe0, // length, CR
        0x00, 0x00, 0x00, 0x01, 0x00, // dst ref, src ref, class 0
        0xc1, 0x02, 0x00, 0x01, // calling TSAP
        0xc2, 0x02, 0x00, 0x01, // called TSAP
        0xc0, 0x01, 0x0a, // TPDU size 1024
    ];
    cat(&[&[0x03, 0x00, 0x00, (4 + cr.len()) as u8], &cr])
}

/// An MMS getNameList request (domains of the VMD), invoke id 1.
pub fn mms_get_name_list() -> Vec<u8> {
    let object_class = tlv(0xa0, &[0x80, 0x01, 0x09]);
    let scope = tlv(0xa1, &[0x80, 0x00]);
    let service = tlv(0xa1, &cat(&[&object_class, &scope]));
    tlv(0xa0, &cat(&[&[0x02, 0x01, 0x01], &service]))
}

/// A session Give-Tokens + Data SPDU and fully encoded presentation user
/// data (context 3) around an MMS PDU: a TSDU after association.
pub fn mms_tsdu(mms: &[u8]) -> Vec<u8> {
    let pdv = tlv(0x30, &cat(&[&[0x02, 0x01, 0x03], &tlv(0xa0, mms)]));
    cat(&[&[0x01, 0x00, 0x01, 0x00], &tlv(0x61, &pdv)])
}

/// An SNMPv2c GetRequest for sysDescr.0 with community "public".
pub fn snmp_get() -> Vec<u8> {
    let oid = [0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00];
    let varbind = tlv(0x30, &cat(&[&tlv(0x06, &oid), &[0x05, 0x00]]));
    let pdu = tlv(
        0xa0,
        &cat(&[
            &[0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00],
            &tlv(0x30, &varbind),
        ]),
    );
    tlv(
        0x30,
        &cat(&[&[0x02, 0x01, 0x01], &tlv(0x04, b"public"), &pdu]),
    )
}

/// GOOSE `allData`: a boolean, a bit string quality, a structure of an
/// integer and a float, and a UTC time.
pub fn goose_all_data() -> Vec<u8> {
    let structure = tlv(
        0xa2,
        &cat(&[&[0x85, 0x01, 0x05], &[0x87, 0x05, 0x08, 0x41, 0x20, 0, 0]]),
    );
    cat(&[
        &[0x83, 0x01, 0x01],
        &[0x84, 0x03, 0x03, 0x00, 0x00],
        &structure,
        &[0x91, 0x08, 0x65, 0x5f, 0x00, 0x00, 0x10, 0x00, 0x00, 0x0a],
    ])
}

/// A GOOSE frame's payload (after the ethertype): APPID 1, a goosePdu.
pub fn goose_frame() -> Vec<u8> {
    let pdu = tlv(
        0x61,
        &cat(&[
            &tlv(0x80, b"IED1LD0/LLN0$GO$gcb1"),
            &[0x81, 0x02, 0x07, 0xd0],
            &tlv(0x82, b"IED1LD0/LLN0$DataSet1"),
            &tlv(0x83, b"IED1_GOOSE1"),
            &[0x84, 0x08, 0x65, 0x5f, 0x00, 0x00, 0x10, 0x00, 0x00, 0x0a],
            &[0x85, 0x01, 0x01, 0x86, 0x01, 0x00, 0x87, 0x01, 0x00],
            &[0x88, 0x01, 0x01, 0x89, 0x01, 0x00, 0x8a, 0x01, 0x04],
            &tlv(0xab, &goose_all_data()),
        ]),
    );
    cat(&[
        &[0x00, 0x01],
        &((8 + pdu.len()) as u16).to_be_bytes(),
        &[0, 0, 0, 0],
        &pdu,
    ])
}

/// A sampled values frame's payload: APPID 0x4000, one ASDU of 8 samples.
fn sv_frame() -> Vec<u8> {
    let samples: Vec<u8> = (0..64).map(|i| (i * 3) as u8).collect();
    let asdu = tlv(
        0x30,
        &cat(&[
            &tlv(0x80, b"MU01"),
            &[0x82, 0x02, 0x00, 0x10],
            &[0x83, 0x04, 0x00, 0x00, 0x00, 0x01],
            &[0x85, 0x01, 0x02],
            &tlv(0x87, &samples),
        ]),
    );
    let pdu = tlv(0x60, &cat(&[&[0x80, 0x01, 0x01], &tlv(0xa2, &asdu)]));
    cat(&[
        &[0x40, 0x00],
        &((8 + pdu.len()) as u16).to_be_bytes(),
        &[0, 0, 0, 0],
        &pdu,
    ])
}

/// A DNP3 link-layer request for link status, from master 1 to outstation
/// 10, with its CRC (CRC-16/DNP: reflected 0x3d65, complemented, low octet first).
fn dnp3_link_status() -> Vec<u8> {
    let mut frame = vec![0x05, 0x64, 0x05, 0xc9, 0x0a, 0x00, 0x01, 0x00];
    let mut crc: u16 = 0;
    for &b in &frame {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xa6bc
            } else {
                crc >> 1
            };
        }
    }
    frame.extend_from_slice(&(!crc).to_le_bytes());
    frame
}

/// A DNS query (id 0x1234, recursion desired) for `name` of `qtype`.
pub fn dns_query(name: &[&str], qtype: u16) -> Vec<u8> {
    let mut out = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&[0x00, 0x01]);
    out
}

/// The answer to [`dns_query`] for an A record, the name compressed.
pub fn dns_answer(name: &[&str]) -> Vec<u8> {
    let mut out = dns_query(name, 1);
    out[2..8].copy_from_slice(&[0x81, 0x80, 0, 1, 0, 1]);
    out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 10, 0, 0, 7]);
    out
}

/// A NetBIOS name in first-level encoding (RFC 1001 14.1), 15 characters
/// padded with spaces and a suffix.
fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    raw[..name.len()].copy_from_slice(name.as_bytes());
    raw[15] = suffix;
    let mut out = vec![32];
    for b in raw {
        out.extend_from_slice(&[b'A' + (b >> 4), b'A' + (b & 0x0f)]);
    }
    out.push(0);
    out
}

/// A DHCPDISCOVER from 00:1b:1b:00:00:05 with a host name.
fn dhcp_discover() -> Vec<u8> {
    let mut out = vec![1, 1, 6, 0, 0x39, 0x03, 0xf3, 0x26];
    out.resize(28, 0);
    out.extend_from_slice(&[0x00, 0x1b, 0x1b, 0x00, 0x00, 0x05]);
    out.resize(236, 0);
    out.extend_from_slice(&[99, 130, 83, 99]);
    out.extend_from_slice(&[53, 1, 1, 12, 4, b'p', b'l', b'c', b'1', 55, 3, 1, 3, 6, 255]);
    out
}

/// A DCE/RPC request header (80 bytes, little-endian) for the PROFINET IO
/// device interface, opnum 0 (connect), with an empty NDR body.
fn pnio_cm_request() -> Vec<u8> {
    let mut out = vec![4, 0, 0x20, 0, 0x10, 0, 0, 0];
    out.extend_from_slice(&[0; 16]); // object
    out.extend_from_slice(&[
        0x01, 0x00, 0xa0, 0xde, 0x97, 0x6c, 0xd1, 0x11, 0x82, 0x71, 0x00, 0xa0, 0x24, 0x42, 0xdf,
        0x7d,
    ]); // interface: DEA00001-6C97-11D1-8271-00A02442DF7D
    out.extend_from_slice(&[7; 16]); // activity
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]); // boot, version, seq
    out.extend_from_slice(&[0, 0, 0xff, 0xff, 0, 0, 20, 0, 0, 0, 0, 0]); // opnum…serial
    out.extend_from_slice(&[
        0x40, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    out
}

/// The conversations of the protocols the demo capture does not carry.
pub fn conversations() -> Vec<Conversation> {
    let tcp = Carrier::Tcp;
    let udp = Carrier::Udp;
    let hello_body = tls_client_hello_body();
    let mut client_hello = vec![0x16, 0x03, 0x01];
    client_hello.extend_from_slice(&((hello_body.len() + 4) as u16).to_be_bytes());
    client_hello.extend_from_slice(&[0x01, 0x00]);
    client_hello.extend_from_slice(&(hello_body.len() as u16).to_be_bytes());
    client_hello.extend_from_slice(&hello_body);
    let server_hello = {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x5a; 32]);
        body.extend_from_slice(&[
            0x00, 0x13, 0x01, 0x00, 0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04,
        ]);
        let mut rec = vec![
            0x16,
            0x03,
            0x03,
            0x00,
            (body.len() + 4) as u8,
            0x02,
            0x00,
            0x00,
            body.len() as u8,
        ];
        rec.extend_from_slice(&body);
        rec
    };
    let dns_tcp = |m: Vec<u8>| cat(&[&(m.len() as u16).to_be_bytes(), &m]);
    let nbns_query = cat(&[
        &[0x80, 0x01, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0],
        &netbios_name("WORKSTATION", 0x00),
        &[0x00, 0x20, 0x00, 0x01],
    ]);
    let smb = b"\xffSMB\x25\x00\x00\x00\x00";
    let nbdgm_body = cat(&[
        &netbios_name("PLC1", 0x00),
        &netbios_name("WORKGROUP", 0x1d),
        smb,
    ]);
    let nbdgm = cat(&[
        &[0x11, 0x02, 0x80, 0x01, 10, 0, 0, 5, 0x00, 0x8a],
        &(nbdgm_body.len() as u16).to_be_bytes(),
        &[0, 0],
        &nbdgm_body,
    ]);
    let opc_hello = {
        let url = b"opc.tcp://10.0.0.20:4840";
        let mut m = b"HELF".to_vec();
        m.extend_from_slice(&((32 + url.len()) as u32).to_le_bytes());
        for v in [0u32, 65536, 65536, 0, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        m.extend_from_slice(&(url.len() as u32).to_le_bytes());
        m.extend_from_slice(url);
        m
    };
    let opc_ack = {
        let mut m = b"ACKF".to_vec();
        m.extend_from_slice(&28u32.to_le_bytes());
        for v in [0u32, 65536, 65536, 0, 0] {
            m.extend_from_slice(&v.to_le_bytes());
        }
        m
    };
    let s7plus = iso(&[
        0x72, 0x01, 0x00, 0x14, // S7comm-plus v1, data length 20
        0x31, 0x00, 0x00, 0x04, 0xca, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x20, 0x36, 0x00,
        0x00, 0x01, 0x1d, 0x00, 0x04, // request, create object, session 0x120…
        0x72, 0x01, 0x00, 0x00, // trailer
    ]);
    vec![
        conv(
            tcp,
            102,
            &[
                (ToServer, &cotp_connect()),
                (ToServer, &iso(&mms_tsdu(&mms_get_name_list()))),
            ],
        ),
        conv(
            tcp,
            102,
            &[(ToServer, &cotp_connect()), (ToServer, &s7plus)],
        ),
        conv(tcp, 4840, &[(ToServer, &opc_hello), (ToClient, &opc_ack)]),
        conv(
            tcp,
            1883,
            &[
                (ToServer, b"\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03abc"),
                (ToClient, b"\x20\x02\x00\x00"),
                (ToServer, b"\x30\x0b\x00\x05plant\x31\x2e\x35\x30"),
            ],
        ),
        conv(
            tcp,
            443,
            &[(ToServer, &client_hello), (ToClient, &server_hello)],
        ),
        conv(
            tcp,
            22,
            &[
                (ToClient, b"SSH-2.0-OpenSSH_8.9p1\r\n"),
                (ToServer, b"SSH-2.0-PuTTY_Release_0.78\r\n"),
            ],
        ),
        conv(
            tcp,
            23,
            &[
                (ToClient, b"\xff\xfd\x18\xff\xfb\x01"),
                (ToServer, b"\xff\xfc\x18"),
                (ToClient, b"login: "),
                (ToServer, b"admin\r\n"),
            ],
        ),
        conv(
            tcp,
            21,
            &[
                (ToClient, b"220 FTP server ready\r\n"),
                (ToServer, b"USER anonymous\r\n"),
                (ToClient, b"331 Password required\r\n"),
                (ToServer, b"PASS guest\r\n"),
                (ToClient, b"230 Logged in\r\n"),
                (ToServer, b"RETR plc.cfg\r\n"),
            ],
        ),
        conv(
            tcp,
            53,
            &[
                (ToServer, &dns_tcp(dns_query(&["historian", "plant"], 1))),
                (ToClient, &dns_tcp(dns_answer(&["historian", "plant"]))),
            ],
        ),
        conv(
            tcp,
            80,
            &[
                (
                    ToServer,
                    b"GET /status HTTP/1.1\r\nHost: plc1\r\nUser-Agent: curl/8.0\r\n\r\n",
                ),
                (
                    ToClient,
                    b"HTTP/1.1 200 OK\r\nServer: GoAhead-Webs\r\nContent-Length: 2\r\n\r\nok",
                ),
            ],
        ),
        conv(
            tcp,
            44818,
            &[
                // RegisterSession (protocol version 1), and its reply with session 0x11223344.
                (
                    ToServer,
                    &[
                        0x65, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0,
                        1, 0, 0, 0,
                    ],
                ),
                (
                    ToClient,
                    &[
                        0x65, 0, 4, 0, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
                        0, 0, 0, 0, 1, 0, 0, 0,
                    ],
                ),
            ],
        ),
        conv(
            udp,
            44818,
            &[(
                ToServer,
                &[
                    0x63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
            )],
        ),
        conv(
            udp,
            2222,
            &[(
                ToClient,
                &[
                    0x02, 0x00, // two items
                    0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00,
                    0x00, // sequenced address
                    0xb1, 0x00, 0x06, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00,
                    0x00, // connected data
                ],
            )],
        ),
        conv(udp, 20000, &[(ToServer, &dnp3_link_status())]),
        conv(udp, 34964, &[(ToServer, &pnio_cm_request())]),
        conv(
            udp,
            47808,
            &[(
                ToServer,
                &[
                    0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08,
                ],
            )],
        ),
        conv(udp, 67, &[(ToServer, &dhcp_discover())]),
        conv(
            udp,
            53,
            &[
                (ToServer, &dns_query(&["historian", "plant"], 1)),
                (ToClient, &dns_answer(&["historian", "plant"])),
            ],
        ),
        conv(
            udp,
            5353,
            &[(
                ToServer,
                &dns_query(&["_services", "_dns-sd", "_udp", "local"], 12),
            )],
        ),
        conv(udp, 5355, &[(ToServer, &dns_query(&["hmi1"], 1))]),
        conv(udp, 161, &[(ToServer, &snmp_get())]),
        conv(udp, 137, &[(ToServer, &nbns_query)]),
        conv(udp, 138, &[(ToServer, &nbdgm)]),
        conv(Carrier::Frames(0x88b8), 0, &[(ToServer, &goose_frame())]),
        conv(Carrier::Frames(0x88ba), 0, &[(ToServer, &sv_frame())]),
        conv(
            Carrier::Frames(0x8892),
            0,
            &[
                // DCP identify-all request, then a cyclic RT frame.
                (
                    ToServer,
                    &[
                        0xfe, 0xfe, 0x05, 0x00, 0, 0, 0, 1, 0, 1, 0, 4, 0xff, 0xff, 0, 0,
                    ],
                ),
                (
                    ToServer,
                    &cat(&[&[0x80, 0x00], &[0x55; 40], &[0x12, 0x34, 0x35, 0x00]]),
                ),
            ],
        ),
        conv(
            Carrier::Frames(0x88cc),
            0,
            &[(
                ToServer,
                &cat(&[
                    &[0x02, 0x07, 0x04, 0x00, 0x1b, 0x1b, 0x00, 0x00, 0x05],
                    &[0x04, 0x05, 0x05],
                    b"eth0",
                    &[0x06, 0x02, 0x00, 0x78, 0x0a, 0x03],
                    b"sw1",
                    &[0x00, 0x00],
                ]),
            )],
        ),
        conv(
            Carrier::Frames(0x0024),
            0,
            &[(
                ToServer,
                &cat(&[
                    &[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00],
                    &[0x02, 0xb4, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0a],
                    b"switch",
                    &[0x00, 0x03, 0x00, 0x08],
                    b"Gi01",
                ]),
            )],
        ),
    ]
}

/// A ClientHello body: TLS 1.2 legacy version, two suites, SNI, ALPN h2,
/// supported versions TLS 1.3, signature algorithms.
pub fn tls_client_hello_body() -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[0x11; 32]);
    b.push(0);
    b.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f, 0x01, 0x00]);
    let sni = cat(&[
        &[0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09],
        b"localhost",
    ]);
    let alpn = [0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'2'];
    let versions = [0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04];
    let algorithms = [0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04];
    let extensions = cat(&[&sni, &alpn, &versions, &algorithms]);
    b.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    b.extend_from_slice(&extensions);
    b
}
