#!/usr/bin/env bash
# Live capture benchmark (not a test): tcpreplay into a veth pair between two
# network namespaces made here, `otsensor live` on the other end, with and
# without the eBPF prefilter; for each rate, what tcpreplay achieved and what
# the sensor received, dropped (ring, worker queue, kernel) and had removed
# by the prefilter. Run as root after `cargo build --release` and
# `scripts/setup.sh` (or `cargo xtask build-ebpf`):
#
#   scripts/bench-live.sh [RATES...]     # default: 20000 50000 100000 200000 topspeed
#   RING_MB=2 scripts/bench-live.sh topspeed            # smaller rings (default 64 MiB per socket)
#   CAPTURE=/work/bench/ot.pcap scripts/bench-live.sh topspeed   # any capture, sent once
#   THREADS=2 ...                                        # sensor threads (default 1)
#
# Default traffic: the demo capture looped 10 times (134,650 OT frames), then
# a bulk capture (50,000 UDP and 50,000 TCP frames of 1,442 bytes on ports no
# decoder handles), in two tcpreplay runs. With CAPTURE, that file alone.
# Only the two namespaces made here are involved; they are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=("${@:-20000 50000 100000 200000 topspeed}")
read -r -a RATES <<<"${RATES[*]}"
BIN=target/release/otsensor
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -f target/bpf/otsensor-prefilter.o ] || { echo "build first: cargo xtask build-ebpf" >&2; exit 1; }
WORK=$(mktemp -d)
TX=otsb-tx-$$ RX=otsb-rx-$$
cleanup() { ip netns del "$TX" 2>/dev/null || true; ip netns del "$RX" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for ns in "$TX" "$RX"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add snd0 netns "$TX" type veth peer name cap0 netns "$RX"
ip -n "$TX" link set snd0 mtu 9000 up
ip -n "$RX" link set cap0 mtu 9000 up

python3 - "$WORK/bulk.pcap" <<'PY'
import struct, sys
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
payload = b"\x5a" * 1400
for i in range(50000):
    for tcp in (False, True):
        l4 = (struct.pack(">HHIIBBHHH", 40000, 5001, 1 + i * 1400, 1, 0x50, 0x18, 0xffff, 0, 0) if tcp
              else struct.pack(">HHHH", 40001, 9000, 8 + 1400, 0))
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4) + 1400, 0, 0x4000, 64,
                         6 if tcp else 17, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + l4 + payload
        out.write(struct.pack("<IIII", 1700000000, i, len(frame), len(frame)) + frame)
PY
BULK_FRAMES=100000

run() { # run MODE RATE
    local mode=$1 rate=$2 out=$WORK/out-$1-$2 args=(--ring-mb "${RING_MB:-64}")
    [ "$mode" = xdp ] && args+=(--xdp --xdp-mode skb)
    ip netns exec "$RX" "$BIN" live -i cap0 --threads "${THREADS:-1}" --out "$out" "${args[@]}" 2>"$out.err" &
    local pid=$!
    until grep -q "capturing on" "$out.err" 2>/dev/null; do sleep 0.1; done
    local speed=(--pps "$rate"); [ "$rate" = topspeed ] && speed=(--topspeed --preload-pcap)
    local sent sent_bulk=""
    if [ -n "${CAPTURE:-}" ]; then
        sent=$(ip netns exec "$TX" tcpreplay -i snd0 "${speed[@]}" "$CAPTURE" 2>&1)
    else
        sent=$(ip netns exec "$TX" tcpreplay -i snd0 "${speed[@]}" --loop 10 captures/demo-plant.pcap 2>&1)
        sent_bulk=$(ip netns exec "$TX" tcpreplay -i snd0 "${speed[@]}" "$WORK/bulk.pcap" 2>&1)
    fi
    # Until the sensor has caught up: its count unchanged over two seconds.
    local seen=-1 now
    while :; do
        sleep 2
        now=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["live"]; print(l["packets"] + l["drops"]["prefilter_policy"])' "$out/stats.json" 2>/dev/null) ||
            now=unreadable # caught while being rewritten
        [ "$now" = "$seen" ] && break
        seen=$now
    done
    # The sensor's CPU time (user + system), from /proc, in seconds.
    local cpu
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat")
    kill -TERM "$pid"; wait "$pid"
    python3 - "$out/stats.json" "$mode" "$rate" "$sent" "$sent_bulk" "$cpu" <<'PY'
import json, re, sys
live = json.load(open(sys.argv[1]))["live"]
mode, rate, sent, sent_bulk, cpu = sys.argv[2:7]
def tcpreplay(report):  # frames sent and the rate achieved, from tcpreplay's summary
    if not report:
        return 0, ""
    frames = int(re.search(r"Actual: (\d+) packets", report).group(1))
    pps = re.search(r"Rated: [^,]*, [^,]*, ([0-9.]+) pps", report).group(1)
    return frames, f"{float(pps):,.0f} pps"
ot, ot_rate = tcpreplay(sent)
bulk, bulk_rate = tcpreplay(sent_bulk)
achieved = f"{ot:,} at {ot_rate}" + (f"; bulk {bulk:,} at {bulk_rate}" if bulk else "")
d = live["drops"]
# Frames dropped before reaching the sensor's sockets; worker queue drops
# are among the frames received.
before_sensor = d["ring"] + d["kernel"] + d["nic"]
removed = live.get("prefilter", {}).get("dropped_packets", 0)
share = f" ({100 * removed / bulk:.0f} % of bulk)" if bulk else ""
missing = ot + bulk - live["packets"] - removed - before_sensor
print(f"| {mode} | {rate} | {achieved} | {live['packets']:,} | "
      f"{d['ring']:,} / {d['worker_queue']:,} / {d['kernel']:,} / {d['nic']:,} | {removed:,}{share} | "
      f"{missing:,} | {cpu} |")
PY
}

echo "| mode | tcpreplay rate | sent (achieved rate) | frames received | drops ring / queue / kernel / nic | removed by prefilter | sent but not seen | sensor CPU s |"
echo "|---|---|---|---:|---|---|---:|---:|"
for rate in "${RATES[@]}"; do
    for mode in afpacket xdp; do
        run "$mode" "$rate"
    done
done
