#!/usr/bin/env bash
# Prevalence accuracy, APP protocol (QuaPy's): test documents drawn into samples whose label
# shares come from a flat Dirichlet (../shared/bench/prevalence.py make: 100 samples × 200
# documents, seed 1), analysed with `--by sample`; the mean absolute error of every framelens
# method and of QuaPy's CC, PACC and EMQ over scikit-learn's LogisticRegression(C=10) on the same
# samples, and the share of (sample, label) pairs whose true share lies in framelens' interval.
# Then the speed and memory check on article_bias: analyze against score on the same file, and
# analyze on the file repeated 10 times.
#
#   benches/prevalence.sh [--no-build] [--no-speed] [CORPUS...]   (default: bbc_news frac)
#
# Needs $FRAMELENS_SHARED (default ../shared next to the repository; skipped with a message when
# absent), GNU time, and a Python with scikit-learn and quapy: $PYTHON, or a venv made here at
# target/bench/venv (python3 -m venv; pip install scikit-learn quapy).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${FRAMELENS_SHARED:-$ROOT/../shared}
BIN=$ROOT/target/release/framelens
OUT=$ROOT/target/bench/prevalence
build=1
speed=1
corpora=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        --no-speed) speed=0 ;;
        -*) echo "benches/prevalence.sh: unknown option '$arg'" >&2; exit 2 ;;
        *) corpora+=("$arg") ;;
    esac
done
[ ${#corpora[@]} -gt 0 ] || corpora=(bbc_news frac)
if [ ! -f "$SHARED/bench/prevalence.py" ]; then
    echo "benches/prevalence.sh: no $SHARED/bench/prevalence.py (set FRAMELENS_SHARED); skipped."
    exit 0
fi
mkdir -p "$OUT"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    PY=$ROOT/target/bench/venv/bin/python
    if ! "$PY" -c "import quapy, sklearn" 2>/dev/null; then
        python3 -m venv "$ROOT/target/bench/venv"
        "$PY" -m pip install --quiet scikit-learn quapy
    fi
fi
[ $build -eq 0 ] || (cd "$ROOT" && cargo build --release --quiet)
echo "load before: $(uptime)"

# Coverage of the intervals: share of (sample, label) pairs with the truth inside.
cover() {
    "$PY" - "$1" "$2" <<'PYEOF'
import csv, json, sys
truth = json.load(open(sys.argv[1]))["truth"]
rows = list(csv.DictReader(open(sys.argv[2])))
inside = sum(float(r["share_low"]) - 1e-12 <= truth[r["sample"]][r["label"]] <= float(r["share_high"]) + 1e-12 for r in rows)
width = sum(float(r["share_high"]) - float(r["share_low"]) for r in rows) / len(rows)
print(json.dumps({"coverage": round(inside / len(rows), 3), "mean_width": round(width, 3)}))
PYEOF
}

for c in "${corpora[@]}"; do
    data=$SHARED/datasets/$c
    [ -d "$data" ] || { echo "$c: no $data; skipped"; continue; }
    train=$data/train.jsonl; [ -f "$train" ] || train=$train.gz
    test=$data/test.jsonl; [ -f "$test" ] || test=$test.gz
    if [ ! -f "$train" ] || [ ! -f "$test" ]; then
        echo "$c: needs train.jsonl(.gz) and test.jsonl(.gz) in $data; skipped"
        continue
    fi
    dir=$OUT/$c
    mkdir -p "$dir"
    echo "== $c"
    echo "QuaPy over scikit-learn (mean absolute error): $("$PY" "$SHARED/bench/prevalence.py" make "$train" "$test" "$dir" --samples 100 --size 200 --seed 1 | tail -1)"
    "$BIN" train --data "$train" --out "$dir/model.flm" 2>"$dir/train.err"
    "$BIN" analyze --model "$dir/model.flm" "$dir/samples.jsonl" --by sample --format csv \
        --out "$dir/framelens.csv" 2>"$dir/analyze.err"
    echo "framelens (mean absolute error; share = the default, EMQ): $("$PY" "$SHARED/bench/prevalence.py" score "$dir" "$dir/framelens.csv")"
    echo "framelens interval (95%): $(cover "$dir/truth.json" "$dir/framelens.csv")"
    # The tidy CSV as pandas reads it.
    "$PY" -c "import pandas as pd, sys; d = pd.read_csv(sys.argv[1]); print('pandas:', d.shape, list(d.columns))" "$dir/framelens.csv"
done

if [ $speed -eq 1 ]; then
    ab=$SHARED/datasets/article_bias/train.jsonl.gz
    if [ -f "$ab" ]; then
        echo "== article_bias: analyze against score (wall s, peak MB)"
        zcat "$ab" >"$OUT/ab.jsonl"
        "$BIN" train --data "$OUT/ab.jsonl" --out "$OUT/ab.flm" 2>/dev/null
        measure() {
            local name=$1; shift
            /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>"$OUT/$name.err"
            read -r secs kb <"$OUT/time"
            printf '%-32s %7.2f s %7d MB\n' "$name" "$secs" "$((kb / 1024))"
        }
        measure score "$BIN" score --model "$OUT/ab.flm" "$OUT/ab.jsonl"
        measure analyze "$BIN" analyze --model "$OUT/ab.flm" "$OUT/ab.jsonl" --by source --time date --every year
        for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$OUT/ab.jsonl"; done >"$OUT/ab10.jsonl"
        measure "analyze (input ×10)" "$BIN" analyze --model "$OUT/ab.flm" "$OUT/ab10.jsonl" --by source --time date --every year
        rm -f "$OUT/ab10.jsonl"
    fi
fi
echo "load after: $(uptime)"
