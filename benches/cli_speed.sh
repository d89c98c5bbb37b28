#!/usr/bin/env bash
# Measures the whole `ffu plan` process (start, read, parse, validate, plan, write JSON,
# exit) on synthetic catalogs, against the targets of issue 2, item 8:
#   - medium catalog (40 releases x 200 services x 12 migrations, 93,600 migrations,
#     about 13 MB of JSON): at most 0.15 s wall time and 300 MB peak RSS;
#   - ten times the input (40 x 2000 x 12, 936,000 migrations): at most 12 times the time.
#
# Usage: benches/cli_speed.sh            (from anywhere; builds in release mode first)
# Environment: RUNS (default 5, the best wall time is kept; the peak RSS is the largest
# seen), STRICT=1 to exit 1 when a target is missed, MEDIUM / BIG as "R S M" to change the
# sizes (the targets stay those of the default sizes).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA="$ROOT/target/bench-data"
RUNS=${RUNS:-5}
read -r MR MS MM <<<"${MEDIUM:-40 200 12}"
read -r BR BS BM <<<"${BIG:-40 2000 12}"

cargo build --release --quiet --bin ffu --example gen_catalog
FFU="$ROOT/target/release/ffu"
GEN="$ROOT/target/release/examples/gen_catalog"
mkdir -p "$DATA"

# gen NAME R S M: writes $DATA/NAME.json unless it is there and newer than the generator.
gen() {
    local file="$DATA/$1.json"
    if [[ ! -s "$file" || "$GEN" -nt "$file" ]]; then
        "$GEN" --releases "$2" --services "$3" --migrations "$4" --out "$file.tmp"
        mv "$file.tmp" "$file"
    fi
}
gen medium "$MR" "$MS" "$MM"
gen big "$BR" "$BS" "$BM"

# One run of the whole process: prints "WALL_SECONDS PEAK_RSS_KB".
if [[ -x /usr/bin/time ]]; then
    run_once() {
        local rss_file start end
        rss_file=$(mktemp)
        start=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$rss_file" "$FFU" plan --catalog "$1" --from r000 --to "$2" --format json >/dev/null
        end=$(date +%s%N)
        # GNU time prints wall time with only two decimals: take it from the clock instead.
        awk -v ns=$((end - start)) -v rss="$(tail -n 1 "$rss_file")" 'BEGIN { printf "%.3f %d\n", ns / 1e9, rss }'
        rm -f "$rss_file"
    }
else
    # Without GNU time (`apt-get install time` brings it): wait4 gives the child's rusage.
    run_once() {
        python3 - "$FFU" "$1" "$2" <<'EOF'
import os, subprocess, sys, time
ffu, catalog, last = sys.argv[1:]
start = time.perf_counter()
child = subprocess.Popen([ffu, "plan", "--catalog", catalog, "--from", "r000", "--to", last, "--format", "json"],
                         stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - start
if status != 0:
    sys.exit(f"ffu plan failed with status {status}")
print(f"{wall:.3f} {usage.ru_maxrss}")
EOF
    }
fi

# measure NAME LAST_RELEASE: prints "BEST_WALL PEAK_RSS_KB" over $RUNS runs.
measure() {
    local best="" peak=0 wall rss
    for _ in $(seq "$RUNS"); do
        read -r wall rss < <(run_once "$DATA/$1.json" "$2")
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; fi
        if ((rss > peak)); then peak=$rss; fi
    done
    echo "$best $peak"
}

last_medium=$(printf 'r%03d' $((MR - 1)))
last_big=$(printf 'r%03d' $((BR - 1)))
read -r medium_wall medium_rss < <(measure medium "$last_medium")
read -r big_wall big_rss < <(measure big "$last_big")

migrations_medium=$(((MR - 1) * MS * MM))
migrations_big=$(((BR - 1) * BS * BM))
size() { du -h "$DATA/$1.json" | cut -f1; }
missed=0
# check LABEL CONDITION (an awk expression): prints the verdict, remembers a miss.
check() {
    if awk "BEGIN { exit !($2) }"; then
        echo "target: $1: ok"
    else
        echo "target: $1: MISSED"
        missed=1
    fi
}

echo "ffu plan --catalog FILE --from r000 --to LAST --format json > /dev/null  (best of $RUNS)"
printf '%-7s %-12s %10s %6s %10s %12s\n' size RxSxM migrations JSON "wall (s)" "peak RSS (MB)"
printf '%-7s %-12s %10d %6s %10.3f %12.1f\n' medium "${MR}x${MS}x${MM}" "$migrations_medium" "$(size medium)" \
    "$medium_wall" "$(awk -v k="$medium_rss" 'BEGIN { print k / 1024 }')"
printf '%-7s %-12s %10d %6s %10.3f %12.1f\n' big "${BR}x${BS}x${BM}" "$migrations_big" "$(size big)" \
    "$big_wall" "$(awk -v k="$big_rss" 'BEGIN { print k / 1024 }')"
input_ratio=$(awk -v a="$migrations_big" -v b="$migrations_medium" 'BEGIN { printf "%.1f", a / b }')
time_ratio=$(awk -v a="$big_wall" -v b="$medium_wall" 'BEGIN { printf "%.2f", a / b }')
echo "input ratio ${input_ratio}x, time ratio ${time_ratio}x"
check "medium wall <= 0.15 s" "$medium_wall <= 0.15"
check "medium peak RSS <= 300 MB" "$medium_rss <= 300 * 1024"
check "time ratio <= 12 for ${input_ratio}x the input" "$time_ratio <= 12"
if [[ "${STRICT:-0}" == 1 && $missed == 1 ]]; then
    exit 1
fi
