#!/usr/bin/env bash
# Installs what the live capture needs beyond stable Rust: tcpreplay, libpcap
# and iproute2 (Debian packages), rust-src for nightly and bpf-linker 0.13.0
# built against nightly's own LLVM (Debian's LLVM is too old), then builds the
# eBPF prefilter (`cargo xtask build-ebpf`). Any step that fails stops the
# script with a message saying which: it never leaves a half-set-up machine
# looking ready. Run as yourself (apt-get goes through sudo) or as root:
#
#   scripts/setup.sh            # everything
#   scripts/setup.sh --no-apt   # the Rust side only (packages already there)
#
# `.ci/run` calls it too. Versions: ../shared/EBPF.md and the README.
set -euo pipefail
cd "$(dirname "$0")/.."

BPF_LINKER_VERSION=0.13.0
# bpf-linker's LLVM feature must match the nightly toolchain's LLVM.
LLVM_MAJOR=22

fail() {
    printf '\nSETUP FAILED: %s\n' "$*" >&2
    exit 1
}
say() { printf '=== %s\n' "$*"; }

apt=1
[ "${1:-}" = --no-apt ] && apt=0

if [ "$apt" = 1 ]; then
    say "Debian packages: tcpreplay libpcap-dev iproute2"
    SUDO=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || fail "not root and no sudo: install tcpreplay libpcap-dev iproute2 yourself, then run with --no-apt"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq || fail "apt-get update"
    "${SUDO[@]}" apt-get install -y -qq tcpreplay libpcap-dev iproute2 || fail "apt-get install tcpreplay libpcap-dev iproute2"
fi

say "nightly toolchain with rust-src (builds the kernel programs)"
if ! rustc +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal --component rust-src || fail "rustup toolchain install nightly"
fi
rustup component add rust-src --toolchain nightly || fail "rustup component add rust-src --toolchain nightly"
llvm=$(rustc +nightly -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
[ "$llvm" = "$LLVM_MAJOR" ] ||
    fail "nightly uses LLVM ${llvm:-?}, bpf-linker is built here for LLVM $LLVM_MAJOR: install a nightly with LLVM $LLVM_MAJOR (1.97, May 2026) as 'nightly'"

say "bpf-linker $BPF_LINKER_VERSION (LLVM $LLVM_MAJOR from the nightly toolchain)"
if bpf-linker --version 2>/dev/null | grep -qF "$BPF_LINKER_VERSION"; then
    echo "already installed: $(command -v bpf-linker)"
else
    SYS=$(rustc +nightly --print sysroot) || fail "rustc +nightly --print sysroot"
    SO=$(cd "$SYS/lib" && ls libLLVM.so.* 2>/dev/null | head -1)
    [ -n "$SO" ] || fail "no libLLVM.so.* in $SYS/lib"
    # bpf-linker's build looks for LLVM under a prefix: point one at nightly's
    # library, under both the plain and the versioned name.
    P=$HOME/.cache/bpf-linker-llvm
    mkdir -p "$P/lib"
    ln -sf "$SYS/lib/$SO" "$P/lib/libLLVM.so"
    ln -sf "$SYS/lib/$SO" "$P/lib/$SO"
    LLVM_PREFIX=$P cargo install "bpf-linker@$BPF_LINKER_VERSION" --locked \
        --no-default-features --features "llvm-$LLVM_MAJOR" ||
        fail "cargo install bpf-linker@$BPF_LINKER_VERSION"
fi
bpf-linker --version | grep -qF "$BPF_LINKER_VERSION" ||
    fail "bpf-linker on PATH is not $BPF_LINKER_VERSION (is ~/.cargo/bin on PATH?)"

say "eBPF prefilter (cargo xtask build-ebpf)"
cargo xtask build-ebpf || fail "cargo xtask build-ebpf"
say "ready: target/bpf/otsensor-prefilter.o"
