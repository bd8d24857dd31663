#!/usr/bin/env bash
# Short fuzzing run for CI: builds every fuzz target (as `cargo fuzz list`
# names them, so a new target runs without editing this) and runs each for
# SECONDS (default 40: ten targets take about 7 minutes), one after the
# other. Exits non-zero if any target finds a crash, panic, hang (over 5 s)
# or out-of-memory (over 1 GiB); the input is left in fuzz/artifacts/TARGET/.
#
#   fuzz/smoke.sh [SECONDS]
#
# Inputs that reach new code are kept in fuzz/corpus/TARGET (not committed);
# the committed seeds in fuzz/seeds/TARGET are read, never written. The reader
# target also reads the shared captures (../shared/pcaps) when they are there.
set -euo pipefail

seconds="${1:-40}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS]  (a whole number of seconds per target, default 40)" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: installing the nightly toolchain (cargo-fuzz needs it)" >&2
    if ! rustup toolchain install nightly --profile minimal; then
        echo "fuzz: no nightly toolchain and it could not be installed" >&2
        exit 1
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
mapfile -t targets < <(cargo +nightly fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz: no targets found" >&2
    exit 1
fi

passed=0
failed=0
for target in "${targets[@]}"; do
    corpus=("fuzz/corpus/$target" "fuzz/seeds/$target")
    extra=()
    if [ "$target" = capture_reader ]; then
        # Real captures as extra seeds; files beyond 64 KiB are read truncated.
        [ -d ../shared/pcaps ] && corpus+=(../shared/pcaps)
        extra+=(-max_len=65536)
    fi
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/artifacts/$target.log"
    mkdir -p fuzz/artifacts
    echo "fuzz: $target for ${seconds}s" >&2
    if cargo +nightly fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 \
        -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
        passed=$((passed + 1))
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" >&2 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" >&2 || true
    else
        failed=$((failed + 1))
        echo "fuzz: $target FAILED; the end of its log ($log):" >&2
        tail -n 60 "$log" >&2
        ls "fuzz/artifacts/$target" >&2 2>/dev/null || true
    fi
done

echo "fuzz: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
