#!/usr/bin/env bash
# Renders every HTML page framelens writes in headless Chromium, on the project's own data:
#   score --format html (demo model on the demo test set), eval --html multi-label (demo model)
#   and single-label (a model trained here on tests/fixtures/model-v1/corpus.jsonl),
#   compare --format html (outlets within a frame), analyze --format html (frame shares by outlet
#   and month: both charts).
# For each page: the DOM Chromium built must hold the expected elements, the console must show
# no error, and a screenshot is written to target/browser/<page>.png.
#
#   scripts/browser-check.sh [--no-build]
#
# Needs chromium (Debian: apt-get install chromium); exits 1 on the first failed check.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/target/browser
BIN=$ROOT/target/release/framelens
cd "$ROOT"

CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ]; then
    echo "browser-check: chromium is not installed (apt-get install chromium)" >&2
    exit 1
fi
if [ "${1:-}" != "--no-build" ]; then
    cargo build --release --quiet
fi
mkdir -p "$OUT"

"$BIN" score --model models/demo.flm datasets/demo/test.jsonl --format html --out "$OUT/score.html" 2>/dev/null
"$BIN" eval --model models/demo.flm --data datasets/demo/test.jsonl --html "$OUT/eval.html" >/dev/null 2>&1
"$BIN" train --data tests/fixtures/model-v1/corpus.jsonl --out "$OUT/single.flm" --single-label 2>/dev/null
"$BIN" eval --model "$OUT/single.flm" --data tests/fixtures/model-v1/corpus.jsonl \
    --html "$OUT/eval-single.html" >/dev/null 2>&1
"$BIN" compare datasets/demo/train.jsonl datasets/demo/test.jsonl --by source \
    --label resistance_occupation --model models/demo.flm --format html --out "$OUT/compare.html" 2>/dev/null

"$BIN" analyze --model models/demo.flm datasets/demo/train.jsonl datasets/demo/test.jsonl \
    --by source --time date --every month --format html --out "$OUT/analyze.html" 2>/dev/null

fail() { echo "browser-check: $*" >&2; exit 1; }

# check PAGE PATTERN... : every PATTERN (an extended regex) must occur in the rendered DOM.
check() {
    local page=$1; shift
    local html=$OUT/$page.html dom=$OUT/$page.dom.html log=$OUT/$page.console.log
    local flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
                 --user-data-dir="$OUT/profile" --enable-logging=stderr --v=0)
    timeout 60 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$html" >"$dom" 2>"$log" \
        || fail "$page: chromium failed (see $log)"
    timeout 60 "$CHROMIUM" "${flags[@]}" --window-size=1280,1600 \
        --screenshot="$OUT/$page.png" "file://$html" >/dev/null 2>>"$log" \
        || fail "$page: screenshot failed (see $log)"
    if grep -E "CONSOLE|Uncaught|SyntaxError" "$log" >/dev/null; then
        fail "$page: console errors: $(grep -E 'CONSOLE|Uncaught|SyntaxError' "$log" | head -3)"
    fi
    for pattern in "$@"; do
        grep -Eq "$pattern" "$dom" || fail "$page: the rendered page has no match for /$pattern/"
    done
    local size
    size=$(stat -c %s "$OUT/$page.png")
    [ "$size" -gt 20000 ] || fail "$page: the screenshot is nearly empty ($size bytes)"
    echo "browser-check: $page ok ($(grep -c . "$dom") DOM lines, screenshot $OUT/$page.png, $size bytes)"
}

check score '<article class="doc"' 'type="radio"' 'data-a=p[1-5]' '<table class="terms' 'id="p2"' 'demo-test-0120'
check eval '<table' 'micro' 'resistance_occupation' '<h2>Model</h2>' '<svg' '<rect' '<h2>Errors</h2>' '<article class="doc"'
check eval-single '<svg' 'gold label \(rows\)' '<h2>Model</h2>' 'multinomial'
check compare '<svg' '<circle' '<text' 'Leaning to' 'Crescent Press Agency' 'ln\(count in both groups\)'
check analyze 'Shares over time' 'Shares by group' '<svg' '<polygon' '<polyline' '<circle' \
    'Crescent Press Agency' '2024-06' 'share_high'
n_svg=$(grep -o '<svg' "$OUT/analyze.dom.html" | wc -l)
[ "$n_svg" -eq 12 ] || fail "analyze: $n_svg charts in the rendered page, expected 12 (6 labels × 2)"
