#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through libfuzzer-sys) of framelens' input handling, on
# stable Rust: the model loader (model_load), the JSONL and CSV/TSV readers (readers), and the
# text analyzer, date reader and prevalence-state loader (analysis).
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]      (default: 10 minutes, every target, two at a time)
#
# Each target starts from its seed corpus in fuzz/corpus/TARGET and keeps what it learns in
# target/fuzz/corpus/TARGET (the seeds are never modified). A crash stops the target and leaves
# its input in target/fuzz/artifacts/TARGET/; add such inputs to fuzz/regressions/TARGET/ once
# fixed (`cargo test` replays every file there). Needs a C++ compiler (libFuzzer is built from
# source).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minutes=${1:-10}
[ "$minutes" -ge 1 ] || { echo "scripts/fuzz.sh: MINUTES must be at least 1" >&2; exit 2; }
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model_load readers analysis)
# Sanitizer coverage with stable flags only (cargo-fuzz's defaults, minus the address sanitizer,
# which needs nightly).
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR=$ROOT/target/fuzz/build
# An explicit --target keeps RUSTFLAGS off the build scripts (they must not link sancov).
HOST=$(rustc -vV | sed -n 's/^host: //p')
(cd "$ROOT/fuzz" && cargo build --release --quiet --bins --target "$HOST")
BIN=$CARGO_TARGET_DIR/$HOST/release
run() {
    local t=$1
    local corpus=$ROOT/target/fuzz/corpus/$t artifacts=$ROOT/target/fuzz/artifacts/$t/
    mkdir -p "$corpus" "$artifacts"
    local rc=0
    "$BIN/$t" "$corpus" "$ROOT/fuzz/corpus/$t" \
        -max_total_time=$((minutes * 60)) -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -artifact_prefix="$artifacts" -print_final_stats=1 >"$ROOT/target/fuzz/$t.log" 2>&1 || rc=$?
    echo "fuzz $t: exit $rc; $(grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$ROOT/target/fuzz/$t.log" | tr '\n' ' ')$(grep -c '^#.*NEW' "$ROOT/target/fuzz/$t.log") new inputs; crashes: $(find "$artifacts" -type f | wc -l)"
    return $rc
}
status=0
pids=()
for t in "${targets[@]}"; do
    run "$t" & pids+=($!)
    # Two at a time: one per core.
    if [ ${#pids[@]} -ge 2 ]; then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
