#!/usr/bin/env bash
# Short fuzzing run for CI: builds every fuzz target (as `cargo fuzz list`
# names them, so a new target runs without editing this) and runs them one
# after the other. Exits non-zero if any target finds a crash, panic, hang
# (over 5 s) or out-of-memory (over 1 GiB), or overruns its time; the input
# is left in fuzz/artifacts/TARGET/ and the log in fuzz/artifacts/TARGET.log.
#
#   fuzz/smoke.sh [SECONDS]
#
# Each target runs for SECONDS (default 60) at most. The whole script, build
# included, keeps within FUZZ_BUDGET seconds (default 780, 13 minutes): what
# the build leaves is shared evenly among the targets, so adding targets
# shortens each run instead of lengthening CI. No target runs less than
# MIN_SECONDS, so a build that eats the budget overruns it by at most that
# much per target.
#
# Inputs that reach new code are kept in fuzz/corpus/TARGET (not committed);
# the committed seeds in fuzz/seeds/TARGET are read, never written. The reader
# target also reads the shared captures (../shared/pcaps) when they are there.
set -euo pipefail

usage() {
    echo "usage: $0 [SECONDS]  (whole seconds per target, default 60;" \
        "FUZZ_BUDGET: whole seconds for everything, default 780)" >&2
    exit 2
}
seconds="${1:-60}"
budget="${FUZZ_BUDGET:-780}"
for n in "$seconds" "$budget"; do
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -eq 0 ]; then
        usage
    fi
done
# Below this libFuzzer barely gets past loading the seeds.
MIN_SECONDS=5
# What `cargo fuzz run` adds to a run: a no-op build check, loading the corpus,
# and the final merge and report.
OVERHEAD_SECONDS=5

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
started=$SECONDS

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

left=$((budget - (SECONDS - started)))
share=$((left / ${#targets[@]} - OVERHEAD_SECONDS))
per=$((share < seconds ? share : seconds))
per=$((per > MIN_SECONDS ? per : MIN_SECONDS))
echo "fuzz: ${#targets[@]} targets, ${per}s each (${left}s of the ${budget}s budget left after the build)" >&2

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
    mkdir -p "fuzz/corpus/$target" fuzz/artifacts
    log="fuzz/artifacts/$target.log"
    echo "fuzz: $target for ${per}s" >&2
    # libFuzzer stops itself after -max_total_time; `timeout` is the backstop
    # if it does not (a run stuck outside the fuzzing loop fails, loudly).
    if timeout --kill-after=10 $((per + 60)) \
        cargo +nightly fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$per" -timeout=5 -rss_limit_mb=1024 \
        -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
        passed=$((passed + 1))
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" >&2 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" >&2 || true
    else
        status=$?
        failed=$((failed + 1))
        echo "fuzz: $target FAILED (exit status $status); what went wrong:" >&2
        # The panic or sanitizer report first: the backtrace after it is long.
        grep -m 5 -A 3 -E 'panicked at|==[0-9]+==ERROR|^ERROR: libFuzzer|^SUMMARY' "$log" >&2 || true
        echo "fuzz: the end of its log ($log):" >&2
        tail -n 25 "$log" >&2
        ls "fuzz/artifacts/$target" >&2 2>/dev/null || true
    fi
done

echo "fuzz: ${passed} passed, ${failed} failed in $((SECONDS - started))s"
[ "$failed" -eq 0 ]
