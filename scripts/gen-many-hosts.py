#!/usr/bin/env python3
"""Writes a pcap of N hosts, each sending an ARP request and one Modbus/TCP
read to a single PLC (and getting its answer): an inventory of N + 1 assets,
for measuring the inventory's memory and speed at scale.

    scripts/gen-many-hosts.py OUT.pcap [N]    (N defaults to 100000)
"""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ipv4(src, dst, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def tcp(sport, dport, seq, ack, payload):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, 0x18, 65535, 0, 0) + payload


def main():
    path = sys.argv[1]
    hosts = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    plc_mac, plc_ip = bytes.fromhex("0080f4000001"), bytes([10, 0, 0, 1])
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

        def record(frame, ts):
            out.write(struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(frame), len(frame)))
            out.write(frame)

        for i in range(hosts):
            mac = bytes([0x00, 0x1B, 0x1B, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            ip = bytes([10, 1 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF])
            ts = 1_700_000_000 + i * 0.001
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, ip, b"\0" * 6, plc_ip)
            record(b"\xff" * 6 + mac + b"\x08\x06" + arp, ts)
            request = struct.pack("!HHHBBHH", i & 0xFFFF, 0, 6, 1, 3, 0, 10)
            answer = struct.pack("!HHHBBB", i & 0xFFFF, 0, 23, 1, 3, 20) + b"\0" * 20
            port = 20_000 + i % 40_000
            record(plc_mac + mac + b"\x08\x00" + ipv4(ip, plc_ip, tcp(port, 502, 1, 1, request)), ts + 1e-4)
            record(mac + plc_mac + b"\x08\x00" + ipv4(plc_ip, ip, tcp(502, port, 1, 1 + len(request), answer)), ts + 2e-4)


if __name__ == "__main__":
    main()
