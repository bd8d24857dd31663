#!/usr/bin/env bash
# Frame-level agreement with Wireshark, per protocol and field: runs the
# corpus tests (tests/*_corpus.rs, which replay ../shared/pcaps and compare
# with Wireshark's reading of each capture) and turns their AGREEMENT lines
# (tests/common/agreement.rs) into Markdown: agree/total per protocol and
# field, summed over captures, then every difference with its reason.
#
#   scripts/wireshark-agreement.sh            prints the Markdown
#   scripts/wireshark-agreement.sh FILE       puts it between FILE's lines
#                                             <!-- agreement:begin --> and
#                                             <!-- agreement:end -->
#
# Exits non-zero if a test fails or no test compared anything (corpus absent).
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
md=$(mktemp)
trap 'rm -f "$log" "$md"' EXIT

if ! cargo test --locked --test '*_corpus' -- --nocapture >"$log" 2>&1; then
    grep -v '^AGREEMENT' "$log" | tail -n 80 >&2
    echo "wireshark-agreement: a corpus test failed" >&2
    exit 1
fi
if ! grep -q '^AGREEMENT ' "$log"; then
    grep '^SKIPPED' "$log" | sort -u >&2 || true
    echo "wireshark-agreement: nothing compared" >&2
    exit 1
fi

{
    echo '| protocol | field | agree/total | % |'
    echo '|---|---|--:|--:|'
    # AGREEMENT <protocol> <field> <agree>/<total> <capture>
    grep '^AGREEMENT ' "$log" |
        awk '{ split($4, n, "/"); key = $2 " " $3; a[key] += n[1]; t[key] += n[2] }
             END { for (k in a) print k, a[k], t[k] }' |
        sort -k1,1 -k2,2 |
        awk '{ pct = $3 == $4 ? "100" : sprintf("%.1f", int(1000 * $3 / $4) / 10)
               printf "| %s | `%s` | %d/%d | %s |\n", $1, $2, $3, $4, pct }'
    echo
    echo '| protocol | capture | fields | frames | differences | reason |'
    echo '|---|---|---|---|--:|---|'
    # AGREEMENT-DIFF <protocol> <field> <capture> frame <n>: <reason>, grouped
    # by protocol, capture and reason; consecutive frames as ranges.
    grep '^AGREEMENT-DIFF ' "$log" |
        sed -E 's/^AGREEMENT-DIFF ([^ ]+) ([^ ]+) ([^ ]+) frame ([0-9]+): (.*)$/\1\t\3\t\5\t\2\t\4/' |
        sort -t $'\t' -k1,1 -k2,2 -k3,3 -k5,5n |
        awk -F '\t' '
            function range() { if (first != "") frames = frames (frames == "" ? "" : ", ") first (last > first ? "–" last : "") }
            function flush() {
                if (key == "") return
                range()
                printf "| %s | %s | %s | %s | %d | %s |\n", p, c, fields, frames, pairs, r
            }
            $1 FS $2 FS $3 != key {
                flush()
                key = $1 FS $2 FS $3; p = $1; c = $2; r = $3
                fields = ""; frames = ""; first = ""; last = ""; pairs = 0; delete seen
            }
            {
                pairs++
                if (!seen[$4]++) fields = fields (fields == "" ? "" : " ") "`" $4 "`"
                if (first == "") { first = $5; last = $5 }
                else if ($5 > last + 1) { range(); first = $5; last = $5 }
                else last = $5
            }
            END { flush() }'
} >"$md"

if [ $# -eq 0 ]; then
    cat "$md"
    exit 0
fi
file=$1
grep -q '^<!-- agreement:begin -->$' "$file" && grep -q '^<!-- agreement:end -->$' "$file" || {
    echo "wireshark-agreement: $file lacks the agreement:begin/end lines" >&2
    exit 1
}
awk -v md="$md" '
    /^<!-- agreement:end -->$/ { skip = 0 }
    !skip { print }
    /^<!-- agreement:begin -->$/ { while ((getline line < md) > 0) print line; skip = 1 }
' "$file" >"$file.tmp"
mv "$file.tmp" "$file"
