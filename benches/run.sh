#!/usr/bin/env bash
# Side-by-side benchmark of framelens, scikit-learn and fastText on the same train/test files.
#
#   benches/run.sh [--no-build] [--scaling] [DATA_SET...]
#
# DATA_SET: bbc_news imdb article_bias gvfc frac (default: bbc_news imdb). For each one, one after
# the other so they never compete for the two cores:
#   framelens train   wall time + peak RSS (GNU time)
#   framelens eval    accuracy / micro-F1 / macro-F1 from --json
#   framelens score   the test file, JSON lines with explanations (10 terms each way) to /dev/null
#   peers.py --only sklearn, then --only fasttext   (../shared/bench/peers.py), under GNU time
# --scaling: framelens train on the first 1k, 4k, 16k and all 26,590 documents of article_bias
#   (subsets written to target/bench/scaling/, never into the repository). With --scaling and no
#   data set, only the scaling curve runs.
# --no-build: use the existing target/release/framelens instead of running cargo build --release.
#
# Data comes from $FRAMELENS_SHARED/datasets (default: ../shared next to the repository); a missing
# folder or data set is skipped with a message. The peers' venv is target/peers (created if missing).
# Results: Markdown tables on stdout and in target/bench/latest.md, raw figures in
# target/bench/results.jsonl, logs and eval reports in target/bench/<data set>/.
#
# Absolute times on shared machines drift with the load; compare the ratios of one run.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${FRAMELENS_SHARED:-$ROOT/../shared}
OUT=$ROOT/target/bench
VENV=$ROOT/target/peers

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

build=1
scaling=0
sets=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        --scaling) scaling=1 ;;
        -h | --help) usage; exit 0 ;;
        bbc_news | imdb | article_bias | gvfc | frac) sets+=("$arg") ;;
        *) echo "benches/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
if [ ${#sets[@]} -eq 0 ] && [ $scaling -eq 0 ]; then
    sets=(bbc_news imdb)
fi

if [ ! -d "$SHARED/datasets" ]; then
    echo "benches/run.sh: no data at $SHARED/datasets (set FRAMELENS_SHARED); nothing to benchmark, skipped."
    exit 0
fi

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Tools: GNU time, the release binary, the peers' venv.

if [ ! -x /usr/bin/time ]; then
    log "/usr/bin/time is missing: installing GNU time with apt-get"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -qq time >&2
    else
        sudo apt-get install -y -qq time >&2
    fi
fi

mkdir -p "$OUT"
if [ $build -eq 1 ]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet)
fi
# Pin the binary: other work in this checkout may rebuild target/release while the bench runs.
cp "$ROOT/target/release/framelens" "$OUT/framelens"
FL=$OUT/framelens

if [ ${#sets[@]} -gt 0 ]; then
    if ! "$VENV/bin/python" -c 'import sklearn, fasttext' 2>/dev/null; then
        log "creating the peers' venv at $VENV (scikit-learn, fasttext)"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet scikit-learn fasttext
    fi
    PEERS=$SHARED/bench/peers.py
    if [ ! -f "$PEERS" ]; then
        echo "benches/run.sh: $PEERS not found; cannot run the peers." >&2
        exit 1
    fi
fi

# measure LOG CMD...: runs CMD under GNU time, stdout+stderr of CMD go to LOG unless CMD redirects
# itself (use `sh -c`). Sets WALL (seconds, 3 decimals, measured here: GNU time's %e has only 2)
# and RSS_MB (peak resident set of the process, MB).
measure() {
    local logfile=$1
    shift
    local tf t0 t1
    tf=$(mktemp)
    t0=$EPOCHREALTIME
    if ! /usr/bin/time -f '%e %M' -o "$tf" "$@" >>"$logfile" 2>&1; then
        echo "benches/run.sh: failed: $*" >&2
        tail -n 20 "$logfile" >&2
        rm -f "$tf"
        exit 1
    fi
    t1=$EPOCHREALTIME
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    RSS_MB=$(tail -n 1 "$tf" | awk '{ printf "%.1f", $2 / 1024 }')
    rm -f "$tf"
}

data_file() { # data_file SET SPLIT -> path of SPLIT.jsonl or SPLIT.jsonl.gz, or nothing
    local f
    for f in "$SHARED/datasets/$1/$2.jsonl" "$SHARED/datasets/$1/$2.jsonl.gz"; do
        if [ -f "$f" ]; then
            echo "$f"
            return
        fi
    done
}

COMMIT=$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)
LOAD_BEFORE=$(uptime)
: >"$OUT/results.jsonl"
ran_sets=()

# ---------------------------------------------------------------------------------------------
# Side by side.

for set in "${sets[@]}"; do
    train=$(data_file "$set" train)
    test=$(data_file "$set" test)
    if [ -z "$train" ] || [ -z "$test" ]; then
        log "$set: no train/test files under $SHARED/datasets/$set, skipped"
        continue
    fi
    dir=$OUT/$set
    rm -rf "$dir"
    mkdir -p "$dir"
    n_test=$(python3 -c 'import gzip, sys
p = sys.argv[1]
with (gzip.open if p.endswith(".gz") else open)(p, "rt", encoding="utf-8") as f:
    print(sum(1 for l in f if l.strip()))' "$test")

    log "$set: framelens train"
    measure "$dir/train.log" "$FL" train --data "$train" --out "$dir/model.flm"
    train_s=$WALL train_rss=$RSS_MB

    log "$set: framelens eval"
    measure "$dir/eval.log" "$FL" eval --model "$dir/model.flm" --data "$test" --json "$dir/eval.json"
    eval_s=$WALL

    log "$set: framelens score ($n_test documents, explanations to /dev/null)"
    measure "$dir/score.log" sh -c '"$0" score --model "$1" "$2" >/dev/null' "$FL" "$dir/model.flm" "$test"
    score_s=$WALL score_rss=$RSS_MB

    python3 - "$set" "$dir/eval.json" "$dir/train.log" "$n_test" "$train_s" "$train_rss" \
        "$score_s" "$score_rss" "$eval_s" >>"$OUT/results.jsonl" <<'EOF'
import json, re, sys
name, report, train_log, n_test, train_s, train_rss, score_s, score_rss, eval_s = sys.argv[1:]
r = json.load(open(report))
log = open(train_log, encoding="utf-8", errors="replace").read()
m = re.search(r"documents\s+(\d+)", log)
out = {"data": name, "system": "framelens", "multilabel": bool(r.get("multi_label")),
       "train_docs": int(m.group(1)) if m else None, "test_docs": int(n_test),
       "train_s": float(train_s), "train_rss_mb": float(train_rss),
       "score_s": float(score_s), "score_rss_mb": float(score_rss), "eval_s": float(eval_s),
       "accuracy": r.get("accuracy"), "micro_f1": r.get("micro_f1"), "macro_f1": r.get("macro_f1"),
       "converged": "did not converge" not in log}
print(json.dumps(out))
EOF

    for peer in sklearn fasttext; do
        log "$set: peers.py --only $peer"
        measure "$dir/$peer.log" sh -c '"$0" "$1" "$2" "$3" --only "$4" >"$5"' \
            "$VENV/bin/python" "$PEERS" "$train" "$test" "$peer" "$dir/$peer.json"
        python3 - "$set" "$peer" "$dir/$peer.json" "$WALL" "$RSS_MB" "$n_test" \
            >>"$OUT/results.jsonl" <<'EOF'
import json, sys
name, peer, path, wall, rss, n_test = sys.argv[1:]
p = json.loads(open(path).read().strip().splitlines()[-1])
out = {"data": name, "system": peer, "label": p["system"], "multilabel": p["multilabel"],
       "train_docs": p["train_docs"], "test_docs": p["test_docs"],
       "train_s": p["train_total_s"], "score_s": p["predict_s"], "process_s": float(wall),
       "rss_mb": float(rss), "accuracy": p.get("accuracy", p.get("subset_acc")),
       "micro_f1": p.get("micro_f1"), "macro_f1": p.get("macro_f1")}
print(json.dumps(out))
EOF
    done
    ran_sets+=("$set")
done

# ---------------------------------------------------------------------------------------------
# Scaling curve on article_bias.

if [ $scaling -eq 1 ]; then
    src=$(data_file article_bias train)
    if [ -z "$src" ]; then
        log "scaling: no article_bias train file under $SHARED/datasets, skipped"
        scaling=0
    else
        sdir=$OUT/scaling
        mkdir -p "$sdir"
        for n in 1000 4000 16000 all; do
            f=$sdir/train_$n.jsonl.gz
            if [ ! -f "$f" ] || [ "$src" -nt "$f" ]; then
                log "scaling: writing $f"
                # Every size gets the same kind of file (gzip, level 1), so reading costs alike.
                python3 - "$src" "$f" "$n" <<'EOF'
import gzip, sys
src, dst, n = sys.argv[1], sys.argv[2], sys.argv[3]
limit = None if n == "all" else int(n)
with gzip.open(src, "rt", encoding="utf-8") as f, gzip.open(dst + ".tmp", "wt", encoding="utf-8", compresslevel=1) as g:
    k = 0
    for line in f:
        if not line.strip():
            continue
        if limit is not None and k >= limit:
            break
        g.write(line)
        k += 1
import os
os.replace(dst + ".tmp", dst)
EOF
            fi
            log "scaling: framelens train on $n documents"
            rm -f "$sdir/train_$n.log"
            measure "$sdir/train_$n.log" "$FL" train --data "$f" --out "$sdir/model_$n.flm"
            python3 - "$n" "$WALL" "$RSS_MB" "$sdir/train_$n.log" >>"$OUT/results.jsonl" <<'EOF'
import json, re, sys
n, wall, rss, train_log = sys.argv[1:]
log = open(train_log, encoding="utf-8", errors="replace").read()
docs = re.search(r"documents\s+(\d+)", log)
voc = re.search(r"vocabulary\s+(\d+) terms kept of (\d+) seen; (\d+) non-zeros", log)
stage = lambda name: (lambda m: float(m.group(1)) if m else None)(re.search(name + r" ([\d.]+)s", log))
iters = [int(x) for x in re.findall(r"solver\s+.*?(\d+) iterations", log)]
print(json.dumps({"system": "framelens-scaling", "subset": n,
                  "vectorize_s": stage("vectorize"), "fit_s": stage("fit"),
                  "iterations": sum(iters) if iters else None,
                  "n_docs": int(docs.group(1)) if docs else None,
                  "train_s": float(wall), "train_rss_mb": float(rss),
                  "terms": int(voc.group(1)) if voc else None,
                  "nnz": int(voc.group(3)) if voc else None,
                  "converged": "did not converge" not in log}))
EOF
            rm -f "$sdir/model_$n.flm"
        done
    fi
fi

# ---------------------------------------------------------------------------------------------
# Tables.

LOAD_AFTER=$(uptime)
python3 - "$OUT/results.jsonl" "$COMMIT" "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" "$*" \
    >"$OUT/latest.md" <<'EOF'
import datetime, json, platform, sys
path, commit, load_before, load_after, nproc, args = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print(f"framelens benchmark, {now}, commit {commit}")
print(f"command: benches/run.sh {args}".rstrip())
print(f"machine: {nproc} cores ({cpu}), {platform.system()} {platform.release()}")
print(f"load before: {load_before.strip()}")
print(f"load after:  {load_after.strip()}")
print()

def f3(x):
    return "—" if x is None else f"{x:.3f}"

def secs(x):
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"

def quality(r):
    if r["multilabel"]:
        return f"µF1 {f3(r['micro_f1'])}"
    return f3(r["accuracy"])

side = [r for r in rows if r["system"] in ("framelens", "sklearn", "fasttext")]
if side:
    print("| data set | system | train s | score s | docs/s (score) | peak RSS MB | accuracy (µF1 if multi-label) | macro F1 | train s ÷ framelens | score s ÷ framelens |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in dict.fromkeys(r["data"] for r in side):
        fl = next((r for r in side if r["data"] == name and r["system"] == "framelens"), None)
        for r in (x for x in side if x["data"] == name):
            docs_s = r["test_docs"] / r["score_s"] if r["score_s"] > 0 else float("inf")
            if r["system"] == "framelens":
                system = "**framelens**" + ("" if r["converged"] else " (not converged)")
                rss = f"{r['train_rss_mb']:.0f} train, {r['score_rss_mb']:.0f} score"
                rt = rs = "1"
            else:
                system = r["label"]
                rss = f"{r['rss_mb']:.0f}"
                rt = f"{r['train_s'] / fl['train_s']:.1f}×" if fl else "—"
                rs = f"{r['score_s'] / fl['score_s']:.1f}×" if fl else "—"
            label = f"{name} ({r['train_docs']}→{r['test_docs']})"
            print(f"| {label} | {system} | {secs(r['train_s'])} | {secs(r['score_s'])} | {docs_s:,.0f} | {rss} "
                  f"| {quality(r)} | {f3(r['macro_f1'])} | {rt} | {rs} |")
    print()
    print("framelens: wall time of the whole `framelens train` / `framelens score` process (reading the "
          "files, loading the model and writing JSON lines with 10 explanation terms each way included), "
          "peak RSS of each process. Peers: peers.py's own timers (train = vectorize + fit, score = "
          "transform + predict, data already in memory), peak RSS of the whole Python process "
          "(train + predict). Ratios > 1 mean framelens is faster.")
    print()

scal = [r for r in rows if r["system"] == "framelens-scaling"]
if scal:
    print("Scaling: `framelens train` on the first N documents of article_bias train")
    print()
    print("| n_docs | train s | peak RSS MB | s per 1k docs | MB per 1k docs | vectorize s | fit s | solver iterations | terms kept | non-zeros |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in scal:
        n = r["n_docs"] or 0
        per = r["train_s"] / n * 1000 if n else float("nan")
        mb = r["train_rss_mb"] / n * 1000 if n else float("nan")
        conv = "" if r["converged"] else " (not converged)"
        opt = lambda x, f: "—" if x is None else f(x)
        print(f"| {n:,} | {secs(r['train_s'])}{conv} | {r['train_rss_mb']:.0f} | {per:.3f} | {mb:.1f} "
              f"| {opt(r.get('vectorize_s'), secs)} | {opt(r.get('fit_s'), secs)} | {opt(r.get('iterations'), str)} "
              f"| {r['terms'] or 0:,} | {r['nnz'] or 0:,} |")
    print()
    print("train s: wall time of the whole process (GNU time for peak RSS); vectorize s and fit s: the "
          "stages as framelens reports them. The fit time follows the solver's iteration count, "
          "which varies with the data; s per 1k docs of the vectorize stage shows the linear part.")
    print()
EOF
cat "$OUT/latest.md"
log "written to $OUT/latest.md"
