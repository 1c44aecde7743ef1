#!/usr/bin/env bash
# Multi-label thresholds: fixed 0.5, tuned (per-label F1) and evidence (the default) side by side.
#
#   benches/thresholds.sh [--no-build] [--peers] [CORPUS...]
#
# CORPUS: demo demo_stop gvfc arxiv_ml arxiv_433 arxiv_1500 frames_150 frames_433 subjects_600
# subjects_1500 (default: all).
# For each corpus and each `--thresholds` mode, one after the other: `framelens train` (wall
# time) on the training file, then `framelens eval --json` on the test file (micro-F1 / macro-F1).
#   demo        datasets/demo (default settings); demo_stop: with --language english --stop-words,
#               as models/demo.flm is trained
#   gvfc        $SHARED/datasets/gvfc; arxiv_ml: $SHARED/datasets/arxiv_ml
#   arxiv_433, arxiv_1500: the first 433 / 1,500 documents of arxiv_ml's training file after a
#               fixed shuffle (seed 3), tested on its whole test file: the few-documents regime
#               of issue 11's news-frames corpora. Written to target/bench/thresholds/.
#   frames_150, frames_433: news-frames-like corpora made from arxiv_ml's training file (seed 1
#               shuffle): 14 "frames", each the union of 5 random subjects (seed 99), about 4.8
#               labels per document, text cut to its first 40 words; the first 150 / 433
#               documents train, the next 2,000 test. Many frequent labels on a weak signal: the
#               regime where the issue's corpora gain from moving thresholds.
#   subjects_600, subjects_1500: arxiv_ml without its two selection labels (cs.LG, stat.ML, which
#               every document has one of): 33 subject labels, about 1.5 per document, most of
#               them rare; documents left without a label are dropped. The first 600 / 1,500 of
#               the training file after a seeded shuffle (seed 5) train; the test file, filtered
#               the same way, tests. The newswire-topics regime (few labels per document, many
#               rare labels).
# --peers: also scikit-learn's one-vs-rest liblinear on gvfc and arxiv_ml (../shared/bench/peers.py,
#   vectorize + fit time), in the venv target/peers (created if missing).
# --no-build: use the existing target/release/framelens.
# Data: $FRAMELENS_SHARED/datasets (default ../shared next to the repository); missing data sets
# are skipped with a message. Table on stdout and in target/bench/thresholds/latest.md.
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${FRAMELENS_SHARED:-$ROOT/../shared}
OUT=$ROOT/target/bench/thresholds
VENV=$ROOT/target/peers
build=1
peers=0
sets=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        --peers) peers=1 ;;
        -h | --help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $arg" >&2; exit 2 ;;
        *) sets+=("$arg") ;;
    esac
done
[ ${#sets[@]} -gt 0 ] || sets=(demo demo_stop gvfc arxiv_ml arxiv_433 arxiv_1500 frames_150 frames_433 subjects_600
    subjects_1500)
mkdir -p "$OUT"
if [ $build = 1 ]; then (cd "$ROOT" && cargo build --release --quiet); fi
FL=$OUT/framelens
cp "$ROOT/target/release/framelens" "$FL"

subsample() { # N OUT: the first N documents of arxiv_ml's training file after a seeded shuffle
    python3 - "$SHARED/datasets/arxiv_ml/train.jsonl.gz" "$1" "$2" <<'PY'
import gzip, json, random, sys
docs = [json.loads(l) for l in gzip.open(sys.argv[1], "rt") if l.strip()]
random.Random(3).shuffle(docs)
with open(sys.argv[3], "w") as f:
    for d in docs[: int(sys.argv[2])]:
        f.write(json.dumps(d) + "\n")
PY
}

frames() { # N OUT_TRAIN OUT_TEST: a news-frames-like corpus made from arxiv_ml's training file
    python3 - "$SHARED/datasets/arxiv_ml/train.jsonl.gz" "$1" "$2" "$3" <<'PY'
import gzip, json, random, sys
docs = [json.loads(l) for l in gzip.open(sys.argv[1], "rt") if l.strip()]
subjects = sorted({l for d in docs for l in d["labels"]})
rng = random.Random(99)
# 14 "frames", each the union of 5 random subjects: about 4.8 labels per document, most of
# them frequent, and the text cut to its first 40 words: a weak signal on many labels.
frames = {"frame%02d" % k: set(rng.sample(subjects, 5)) for k in range(14)}
random.Random(1).shuffle(docs)
n = int(sys.argv[2])
for path, part in ((sys.argv[3], docs[:n]), (sys.argv[4], docs[n : n + 2000])):
    with open(path, "w") as f:
        for d in part:
            labels = sorted(k for k, s in frames.items() if s & set(d["labels"]))
            if labels:
                text = " ".join(d["text"].split()[:40])
                f.write(json.dumps({"id": d.get("id"), "text": text, "labels": labels}) + "\n")
PY
}

subjects() { # N OUT_TRAIN OUT_TEST: arxiv_ml's subjects without its two selection labels
    python3 - "$SHARED/datasets/arxiv_ml" "$1" "$2" "$3" <<'PY'
import gzip, json, random, sys
drop = {"Computer Science - Learning", "Statistics - Machine Learning"}
def subjects(name):
    out = []
    for line in gzip.open(sys.argv[1] + "/" + name, "rt"):
        if line.strip():
            d = json.loads(line)
            labels = [l for l in d["labels"] if l not in drop]
            if labels:
                out.append({"id": d["id"], "text": d["text"], "labels": labels})
    return out
train = subjects("train.jsonl.gz")
random.Random(5).shuffle(train)
for path, part in ((sys.argv[3], train[: int(sys.argv[2])]), (sys.argv[4], subjects("test.jsonl.gz"))):
    with open(path, "w") as f:
        for d in part:
            f.write(json.dumps(d) + "\n")
PY
}

corpus() { # NAME -> "TRAIN TEST EXTRA..." or nothing when missing
    local a=$SHARED/datasets/arxiv_ml
    case $1 in
        demo) echo "$ROOT/datasets/demo/train.jsonl $ROOT/datasets/demo/test.jsonl" ;;
        demo_stop) echo "$ROOT/datasets/demo/train.jsonl $ROOT/datasets/demo/test.jsonl --language english --stop-words" ;;
        gvfc) [ -d "$SHARED/datasets/gvfc" ] && echo "$SHARED/datasets/gvfc/train.jsonl $SHARED/datasets/gvfc/test.jsonl" ;;
        arxiv_ml) [ -d "$a" ] && echo "$a/train.jsonl.gz $a/test.jsonl.gz" ;;
        arxiv_433 | arxiv_1500)
            [ -d "$a" ] || return 0
            local n=${1#arxiv_}
            [ -f "$OUT/$1.jsonl" ] || subsample "$n" "$OUT/$1.jsonl"
            echo "$OUT/$1.jsonl $a/test.jsonl.gz" ;;
        frames_150 | frames_433)
            [ -d "$a" ] || return 0
            local n=${1#frames_}
            [ -f "$OUT/$1-train.jsonl" ] || frames "$n" "$OUT/$1-train.jsonl" "$OUT/$1-test.jsonl"
            echo "$OUT/$1-train.jsonl $OUT/$1-test.jsonl" ;;
        subjects_600 | subjects_1500)
            [ -d "$a" ] || return 0
            local n=${1#subjects_}
            [ -f "$OUT/$1-train.jsonl" ] || subjects "$n" "$OUT/$1-train.jsonl" "$OUT/$1-test.jsonl"
            echo "$OUT/$1-train.jsonl $OUT/$1-test.jsonl" ;;
        *) echo "unknown corpus $1" >&2; exit 2 ;;
    esac
}

{
echo "| corpus | fixed 0.5: µF1 / macro-F1 (train s) | tuned | evidence (default) | evidence: labels moved |"
echo "|---|---|---|---|---|"
} | tee "$OUT/latest.md"
for name in "${sets[@]}"; do
    spec=$(corpus "$name" || true)
    if [ -z "$spec" ]; then echo "skipping $name: data not found under $SHARED/datasets" >&2; continue; fi
    read -r train test extra <<<"$spec"
    row="| $name |"
    moved=""
    for mode in fixed tuned evidence; do
        model=$OUT/$name-$mode.flm
        start=$EPOCHREALTIME
        # shellcheck disable=SC2086
        "$FL" train -q --multi-label --thresholds "$mode" --data "$train" --out "$model" $extra
        end=$EPOCHREALTIME
        secs=$(python3 -c "print(f'{$end - $start:.2f}')")
        scores=$("$FL" eval --model "$model" --data "$test" --json - |
            python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f / %.3f" % (d["micro_f1"], d["macro_f1"]))')
        row="$row $scores ($secs s) |"
        if [ $mode = evidence ]; then
            moved=$("$FL" inspect --model "$model" --format json | python3 -c '
import json, sys
t = json.load(sys.stdin)["training"]["threshold_tuning"]
base = (t.get("common") or {}).get("threshold", 0.5)
moved = "%d of %d" % (sum(l["threshold"] != base for l in t["labels"]), len(t["labels"]))
print(moved if base == 0.5 else "common %.3f, then %s" % (base, moved))')
        fi
    done
    echo "$row $moved |" | tee -a "$OUT/latest.md"
done
if [ $peers = 1 ]; then
    [ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q scikit-learn fasttext; }
    for name in gvfc arxiv_ml; do
        spec=$(corpus "$name" || true)
        [ -n "$spec" ] || continue
        read -r train test _ <<<"$spec"
        echo "scikit-learn one-vs-rest liblinear, $name:" | tee -a "$OUT/latest.md"
        "$VENV/bin/python" "$SHARED/bench/peers.py" "$train" "$test" --only sklearn | tee -a "$OUT/latest.md"
    done
fi
