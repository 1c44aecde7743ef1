#!/usr/bin/env bash
# framelens compare against framelens train on the same file: wall time and peak RSS (GNU time),
# alternating, RUNS rounds (default 2).
#
#   benches/compare.sh [--no-build] [RUNS]
#
# Data: $FRAMELENS_SHARED/datasets/article_bias/train.jsonl.gz (default ../shared next to the
# repository); skipped with a message when absent. Output: one line per run on stdout, and the
# load average before and after.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${FRAMELENS_SHARED:-$ROOT/../shared}
DATA=$SHARED/datasets/article_bias/train.jsonl.gz
BIN=$ROOT/target/release/framelens
OUT=$ROOT/target/bench/compare
build=1
runs=2
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        [0-9]*) runs=$arg ;;
        *) echo "benches/compare.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done
if [ ! -f "$DATA" ]; then
    echo "benches/compare.sh: no data at $DATA (set FRAMELENS_SHARED); skipped."
    exit 0
fi
[ -x /usr/bin/time ] || { echo "benches/compare.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
[ $build -eq 0 ] || (cd "$ROOT" && cargo build --release --quiet)
mkdir -p "$OUT"
measure() {
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    read -r secs kb <"$OUT/time"
    printf '%-40s %7.2f s %7d MB\n' "$name" "$secs" "$((kb / 1024))"
}
echo "load before: $(uptime)"
for i in $(seq "$runs"); do
    measure "train (run $i)" "$BIN" train --data "$DATA" --out "$OUT/model.flm"
    measure "compare Fox News vs CNN (run $i)" "$BIN" compare "$DATA" --by source \
        --target "Fox News" --reference "CNN (Web News)"
    measure "compare left vs right (run $i)" "$BIN" compare "$DATA" --by labels \
        --target left --reference right
    measure "compare each source, CSV (run $i)" "$BIN" compare "$DATA" --by source \
        --format csv --out "$OUT/each.csv"
done
echo "load after: $(uptime)"
