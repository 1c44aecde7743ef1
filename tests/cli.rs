//! The `framelens` binary end to end: every test runs the real executable in a temp dir on the
//! demo corpus (datasets/demo) or a tiny corpus written on the spot, and checks what a user sees:
//! files written, stdout, stderr and the exit code. Bad input must end in a clear error, never a
//! panic, and never in a damaged or half-written model.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// What one run of the binary produced.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_framelens"));
    c.args(args);
    c
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Out {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the framelens binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // Written from a thread so a child that fills its stdout pipe before reading all of stdin
    // cannot deadlock the test.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("framelens runs");
    writer.join().unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn run(args: &[&str]) -> Out {
    run_with_stdin(args, b"")
}

/// Runs and requires success.
fn ok(args: &[&str]) -> Out {
    let out = run(args);
    assert_eq!(
        out.code,
        Some(0),
        "framelens {args:?} failed\nstderr:\n{}",
        out.stderr
    );
    out
}

/// `framelens eval --model MODEL --data DATA` with `extra` flags; requires success.
fn eval(model: &Path, data: &Path, extra: &[&str]) -> Out {
    let mut args = vec!["eval", "--model", s(model), "--data", s(data)];
    args.extend_from_slice(extra);
    ok(&args)
}

/// Runs and requires a clean failure: exit code 1 (not a panic's 101), an `error:` message, and
/// no "panicked" anywhere.
fn fails(args: &[&str]) -> Out {
    let out = run(args);
    assert_clean_failure(&out, args);
    out
}

fn assert_clean_failure(out: &Out, args: &[&str]) {
    assert!(
        !out.stderr.contains("panicked"),
        "framelens {args:?} panicked:\n{}",
        out.stderr
    );
    assert_eq!(
        out.code,
        Some(1),
        "framelens {args:?} should fail with exit code 1\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains("error"),
        "no error message: {}",
        out.stderr
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn demo_train() -> PathBuf {
    repo("datasets/demo/train.jsonl")
}

fn demo_test() -> PathBuf {
    repo("datasets/demo/test.jsonl")
}

/// 40 single-label documents, 3 labels (the frozen model-v1 corpus: it never changes).
fn small_corpus() -> PathBuf {
    repo("tests/fixtures/model-v1/corpus.jsonl")
}

/// Trains on `data` into `dir/name` and returns the model path.
fn train(dir: &Path, data: &Path, name: &str, extra: &[&str]) -> (PathBuf, Out) {
    let model = dir.join(name);
    let mut args = vec!["train", "--data", s(data), "--out", s(&model)];
    args.extend_from_slice(extra);
    let out = ok(&args);
    assert!(model.is_file(), "{} was not written", model.display());
    (model, out)
}

/// The demo model (multi-label, 6 labels).
fn demo_model(dir: &Path) -> PathBuf {
    train(dir, &demo_train(), "demo.flm", &[]).0
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    json_lines(&fs::read_to_string(path).unwrap())
}

/// Documents per label in a JSONL file with `labels` lists.
fn label_counts(path: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for d in read_jsonl(path) {
        for l in d["labels"].as_array().unwrap() {
            *counts.entry(l.as_str().unwrap().to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// Every piece a reader could call a word of `text`, lower-cased: split on anything but letters,
/// digits and in-word punctuation (apostrophes, `.`, `,` as in "3.5"), then again on those too.
fn words_of(text: &str) -> HashSet<String> {
    let lower = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    let mut words = HashSet::new();
    let inner = |c: char| c == '\'' || c == '.' || c == ',';
    for piece in lower.split(|c: char| !(c.is_alphanumeric() || inner(c))) {
        let piece = piece.trim_matches(inner);
        words.insert(piece.strip_suffix("'s").unwrap_or(piece).to_string());
        words.insert(piece.to_string());
        words.extend(
            piece
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_string),
        );
    }
    words
}

/// Whether the training summary has a `COUNT  LABEL ...` line.
fn has_count_line(stderr: &str, count: usize, label: &str) -> bool {
    let want = [count.to_string(), label.to_string()];
    stderr.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some(&want[0]) && words.next() == Some(&want[1])
    })
}

fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// Checks the shape of one `score` output line for a model with `labels`, listing at most
/// `top_terms` terms each way.
fn check_prediction(p: &Value, labels: &[String], top_terms: usize) {
    let id = p["id"].as_str().expect("id is a string");
    let probs = p["probabilities"]
        .as_object()
        .expect("probabilities object");
    let prob_labels: Vec<&String> = probs.keys().collect();
    let mut want: Vec<&String> = labels.iter().collect();
    want.sort();
    assert_eq!(prob_labels, want, "{id}: a probability for every label");
    for (l, v) in probs {
        assert!((0.0..=1.0).contains(&f(v)), "{id}: P({l}) = {v}");
    }
    let predicted: Vec<&str> = p["labels"]
        .as_array()
        .expect("labels list")
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(!predicted.is_empty(), "{id}: no predicted label");
    let explanation = p["explanation"].as_object().expect("explanation object");
    let explained: BTreeSet<&str> = explanation.keys().map(String::as_str).collect();
    assert_eq!(
        explained,
        predicted.iter().copied().collect(),
        "{id}: one explanation per predicted label"
    );
    for (label, e) in explanation {
        for key in ["logit", "bias", "probability"] {
            assert!(e[key].is_number(), "{id}/{label}: `{key}` missing: {e}");
        }
        assert!(
            (f(&e["probability"]) - f(&probs[label])).abs() < 1e-12,
            "{id}/{label}: explanation probability differs from probabilities"
        );
        for (dir, sign) in [("up", 1.0), ("down", -1.0)] {
            let terms = e[dir]
                .as_array()
                .unwrap_or_else(|| panic!("{id}/{label}: `{dir}` list missing"));
            assert!(
                terms.len() <= top_terms,
                "{id}/{label}/{dir}: > {top_terms}"
            );
            let mut previous = f64::INFINITY;
            for t in terms {
                assert!(t["term"].is_string(), "{t}");
                let (c, x, w) = (f(&t["contribution"]), f(&t["tfidf"]), f(&t["weight"]));
                assert!(c * sign > 0.0, "{id}/{label}/{dir}: sign of {t}");
                assert!(x > 0.0 && x <= 1.0 + 1e-12, "tf-idf of an l2 row: {t}");
                assert!(
                    (c - x * w).abs() <= 1e-12 * c.abs().max(1.0),
                    "contribution = tfidf × weight: {t}"
                );
                // `up` largest first, `down` most negative first: |c| never grows.
                assert!(c.abs() <= previous, "{id}/{label}/{dir}: not sorted at {t}");
                previous = c.abs();
            }
        }
    }
}

fn model_labels(model: &Path) -> Vec<String> {
    let out = ok(&["inspect", "--model", s(model), "--json"]);
    let v: Value = serde_json::from_str(&out.stdout).expect("inspect --json parses");
    v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// train
// ---------------------------------------------------------------------------------------------

#[test]
fn train_writes_model_and_prints_summary() {
    // Users judge a training run by its summary: counts, vocabulary, convergence, time per stage.
    let dir = tempfile::tempdir().unwrap();
    let (model, out) = train(dir.path(), &demo_train(), "demo.flm", &[]);
    assert!(fs::metadata(&model).unwrap().len() > 1000);
    let e = &out.stderr;
    assert!(e.contains("documents") && e.contains("480"), "{e}");
    assert!(
        e.contains("multi-label"),
        "demo data has two-label documents: {e}"
    );
    for (label, count) in label_counts(&demo_train()) {
        assert!(
            has_count_line(e, count, &label),
            "no `{count} {label}`: {e}"
        );
    }
    let vocab = e
        .lines()
        .find(|l| l.trim_start().starts_with("vocabulary"))
        .unwrap_or_else(|| panic!("no vocabulary line: {e}"));
    let n_terms: usize = vocab
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("vocabulary size is not a number: {vocab}"));
    assert!(n_terms > 100, "{vocab}");
    assert!(e.contains("iterations") && e.contains("converged"), "{e}");
    let time = e
        .lines()
        .find(|l| l.trim_start().starts_with("time"))
        .unwrap_or_else(|| panic!("no time line: {e}"));
    for stage in ["read", "vectorize", "fit", "save", "total"] {
        assert!(time.contains(stage), "no `{stage}` time: {time}");
    }
    assert!(!e.contains("warning"), "the demo model converges: {e}");
}

#[test]
fn csv_training_with_renamed_columns_and_multi_label_cells() {
    // CSV users name their own columns and put several frames in one cell as `a|b`.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("frames.csv");
    let mut body = String::from("doc,body,frames\n");
    for i in 0..12 {
        body.push_str(&format!(
            "s{i},\"Troops, tanks and a missile strike near the border, day {i}.\",security\n"
        ));
        body.push_str(&format!(
            "e{i},Inflation and oil exports hit the currency in week {i},economy\n"
        ));
    }
    for i in 0..6 {
        body.push_str(&format!(
            "m{i},Sanctions after the missile strike hit oil exports in round {i},security|economy\n"
        ));
    }
    fs::write(&csv, body).unwrap();
    let (model, out) = train(
        dir.path(),
        &csv,
        "csv.flm",
        &[
            "--text-field",
            "body",
            "--label-field",
            "frames",
            "--id-field",
            "doc",
        ],
    );
    let e = &out.stderr;
    assert!(e.contains("30") && e.contains("multi-label"), "{e}");
    for label in ["security", "economy"] {
        assert!(has_count_line(e, 18, label), "no `18 {label}`: {e}");
    }
    let info: Value =
        serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"]).stdout).unwrap();
    assert_eq!(info["kind"], "one_vs_rest");
    let scored = run_with_stdin(
        &["score", "--model", s(&model)],
        b"{\"id\": \"q\", \"text\": \"A missile strike on the border.\"}\n",
    );
    assert_eq!(scored.code, Some(0), "{}", scored.stderr);
    assert_eq!(json_lines(&scored.stdout)[0]["labels"][0], "security");
}

#[test]
fn directory_per_label_training() {
    // A folder per label is the simplest layout for hand-sorted articles.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sorted");
    let texts = [
        (
            "diplomacy",
            "The envoy held talks with the foreign minister on the summit.",
        ),
        (
            "economy",
            "Inflation rose as the currency fell and oil exports slowed.",
        ),
    ];
    for (label, text) in texts {
        fs::create_dir_all(root.join(label)).unwrap();
        for i in 0..8 {
            fs::write(
                root.join(label).join(format!("{i}.txt")),
                format!("{text} {i}"),
            )
            .unwrap();
        }
    }
    let (model, out) = train(dir.path(), &root, "dir.flm", &[]);
    assert!(out.stderr.contains("16"), "{}", out.stderr);
    for label in ["diplomacy", "economy"] {
        assert!(has_count_line(&out.stderr, 8, label), "{}", out.stderr);
    }
    assert_eq!(model_labels(&model), ["diplomacy", "economy"]);
}

#[test]
fn training_twice_gives_identical_model_bytes() {
    // Reproducible research: the same data and settings must give the same model file.
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = train(dir.path(), &demo_train(), "a.flm", &[]);
    let (b, _) = train(dir.path(), &demo_train(), "b.flm", &[]);
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "model bytes differ"
    );
}

#[test]
fn thread_count_does_not_change_the_model() {
    // `--threads` is documented as not changing results; parallel sums must not reorder.
    let dir = tempfile::tempdir().unwrap();
    for (data, kind) in [(demo_train(), "ovr"), (small_corpus(), "multinomial")] {
        let (one, _) = train(
            dir.path(),
            &data,
            &format!("{kind}1.flm"),
            &["--threads", "1"],
        );
        let (two, _) = train(
            dir.path(),
            &data,
            &format!("{kind}2.flm"),
            &["--threads", "2"],
        );
        assert!(
            fs::read(&one).unwrap() == fs::read(&two).unwrap(),
            "{kind}: --threads 1 and --threads 2 give different models"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// score
// ---------------------------------------------------------------------------------------------

#[test]
fn score_writes_one_explained_json_line_per_document() {
    // The JSON line is the contract with every downstream script.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let labels = model_labels(&model);
    assert_eq!(labels.len(), 6);
    let out = ok(&[
        "score",
        "--model",
        s(&model),
        "--top-terms",
        "3",
        s(&demo_test()),
    ]);
    let lines = json_lines(&out.stdout);
    let docs = read_jsonl(&demo_test());
    assert_eq!(lines.len(), docs.len(), "one line per document");
    let mut longest = 0;
    for (p, d) in lines.iter().zip(&docs) {
        assert_eq!(p["id"], d["id"], "output keeps input order and ids");
        check_prediction(p, &labels, 3);
        assert!(p.get("no_known_terms").is_none_or(|v| v == false), "{p}");
        for e in p["explanation"].as_object().unwrap().values() {
            longest = longest.max(e["up"].as_array().unwrap().len());
        }
    }
    assert_eq!(longest, 3, "--top-terms 3 should fill some list");
}

#[test]
fn single_label_probabilities_sum_to_one() {
    // A multinomial model's probabilities are a softmax: they sum to 1 and one label wins.
    let dir = tempfile::tempdir().unwrap();
    let (model, out) = train(dir.path(), &small_corpus(), "m.flm", &[]);
    assert!(out.stderr.contains("single-label"), "{}", out.stderr);
    let labels = model_labels(&model);
    let out = ok(&["score", "--model", s(&model), s(&small_corpus())]);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 40);
    for p in &lines {
        check_prediction(p, &labels, 10);
        let probs = p["probabilities"].as_object().unwrap();
        let sum: f64 = probs.values().map(f).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{}: sum {sum}", p["id"]);
        let best = probs
            .iter()
            .max_by(|a, b| f(a.1).total_cmp(&f(b.1)))
            .unwrap()
            .0;
        assert_eq!(p["labels"], serde_json::json!([best]), "{p}");
    }
}

#[test]
fn explanation_terms_are_words_of_the_scored_text_lower_cased() {
    // An explanation that cites words the article does not contain would mislead the analyst.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let mut input = fs::read_to_string(demo_test()).unwrap();
    input.push_str(
        "{\"id\": \"shouting\", \"text\": \"THE RESISTANCE VOWED TO END THE OCCUPATION; \
         THE ENVOY’S TALKS WITH THE MINISTER FAILED.\"}\n",
    );
    let texts: BTreeMap<String, String> = json_lines(&input)
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let out = run_with_stdin(&["score", "--model", s(&model)], input.as_bytes());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut checked = 0;
    for p in json_lines(&out.stdout) {
        let id = p["id"].as_str().unwrap();
        let words = words_of(&texts[id]);
        for e in p["explanation"].as_object().unwrap().values() {
            for t in e["up"]
                .as_array()
                .unwrap()
                .iter()
                .chain(e["down"].as_array().unwrap())
            {
                let term = t["term"].as_str().unwrap();
                assert_eq!(term, term.to_lowercase(), "{id}: term not lower-cased");
                for w in term.split(' ') {
                    assert!(
                        words.contains(w),
                        "{id}: `{term}` is not made of words of the text"
                    );
                }
                checked += 1;
            }
        }
        if id == "shouting" {
            let up = &p["explanation"]["resistance_occupation"]["up"];
            assert!(
                up.as_array()
                    .is_some_and(|a| a.iter().any(|t| t["term"] == "resistance")),
                "an upper-case text is explained with its lower-cased words: {p}"
            );
        }
    }
    assert!(checked > 1000, "only {checked} terms checked");
}

#[test]
fn score_reads_txt_files_with_the_file_name_as_id() {
    // Analysts score folders of plain-text articles and must be able to tell which is which.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let a = dir.path().join("talks.txt");
    let b = dir.path().join("strike.txt");
    fs::write(&a, "The envoy held talks with the foreign minister.").unwrap();
    fs::write(
        &b,
        "Militants attacked an army base; the military said troops repelled them.",
    )
    .unwrap();
    let out = ok(&["score", "--model", s(&model), s(&a), s(&b)]);
    let lines = json_lines(&out.stdout);
    let ids: Vec<&str> = lines.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["talks.txt", "strike.txt"]);
    assert_eq!(lines[0]["labels"], serde_json::json!(["diplomacy"]));
    assert_eq!(lines[1]["labels"], serde_json::json!(["security_defence"]));
}

#[test]
fn score_reads_jsonl_from_stdin_without_path_and_with_dash() {
    // `cat articles.jsonl | framelens score --model m` is the pipeline use documented for score.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let input = b"{\"id\": \"1\", \"text\": \"The envoy held talks.\"}\n\
                  {\"id\": \"2\", \"text\": \"Inflation rose and the currency fell.\"}\n\
                  \n\
                  {\"id\": \"3\", \"text\": \"Aid convoys reached the displaced families.\"}\n";
    let implicit = run_with_stdin(&["score", "--model", s(&model)], input);
    let dash = run_with_stdin(&["score", "--model", s(&model), "-"], input);
    for out in [&implicit, &dash] {
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let ids: Vec<Value> = json_lines(&out.stdout)
            .iter()
            .map(|p| p["id"].clone())
            .collect();
        assert_eq!(ids, ["1", "2", "3"]);
    }
    assert_eq!(implicit.stdout, dash.stdout);
}

#[test]
fn score_is_a_stream_filter() {
    // In a pipeline each article must come out as soon as it is scored, not when input ends.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let mut child = command(&["score", "--model", s(&model)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    stdin
        .write_all(b"{\"id\": \"first\", \"text\": \"The envoy held talks.\"}\n")
        .unwrap();
    stdin.flush().unwrap();
    let first = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(line) => line,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no output line within 20 s while stdin stays open ({e:?})");
        }
    };
    let p: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(p["id"], "first");
    stdin
        .write_all(b"{\"id\": \"second\", \"text\": \"Inflation rose.\"}\n")
        .unwrap();
    drop(stdin);
    let second = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("second line");
    assert!(second.contains("\"second\""), "{second}");
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
}

#[test]
fn score_table_output_is_a_readable_summary() {
    // `--format table` (alias `--output table`) is for people: labels, probabilities and terms, no JSON.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let out = run_with_stdin(
        &["score", "--model", s(&model), "--format", "table"],
        b"{\"id\": \"art-7\", \"text\": \"The envoy held talks with the foreign minister.\"}\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let t = &out.stdout;
    assert!(!t.contains('{'), "table output is not JSON: {t}");
    assert!(t.lines().next() == Some("art-7"), "{t}");
    assert!(t.contains("labels:") && t.contains("diplomacy"), "{t}");
    assert!(t.contains("up:") && t.contains("envoy"), "{t}");
    assert!(t.contains("0."), "probabilities shown: {t}");
}

#[test]
fn empty_and_unknown_word_documents_are_scored_from_the_biases() {
    // Real feeds contain empty bodies and foreign-language items: flag them, never crash.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let labels = model_labels(&model);
    let empty_txt = dir.path().join("empty.txt");
    fs::write(&empty_txt, "").unwrap();
    let jsonl = dir.path().join("odd.jsonl");
    fs::write(
        &jsonl,
        "{\"id\": \"empty\", \"text\": \"\"}\n\
         {\"id\": \"blank\", \"text\": \"  \\n\\t \"}\n\
         {\"id\": \"unknown\", \"text\": \"Zxqv blorptang quuxify.\"}\n\
         {\"id\": \"punct\", \"text\": \"!!! ... ??? 🙂\"}\n\
         {\"id\": \"known\", \"text\": \"The envoy held talks.\"}\n",
    )
    .unwrap();
    let out = ok(&["score", "--model", s(&model), s(&jsonl), s(&empty_txt)]);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 6);
    for p in &lines {
        check_prediction(p, &labels, 10);
        let flagged = p["no_known_terms"] == true;
        assert_eq!(flagged, p["id"] != "known", "{p}");
        if flagged {
            for e in p["explanation"].as_object().unwrap().values() {
                assert!(e["up"].as_array().unwrap().is_empty(), "{p}");
                assert!(
                    (f(&e["logit"]) - f(&e["bias"])).abs() < 1e-12,
                    "logit = bias: {p}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// eval
// ---------------------------------------------------------------------------------------------

#[test]
fn eval_prints_accuracy_per_label_table_and_confusion_matrix() {
    // The text report is what users paste into their notes.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let out = eval(&model, &demo_test(), &[]);
    let t = &out.stdout;
    for word in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "support",
        "micro",
        "macro",
    ] {
        assert!(t.contains(word), "no `{word}`: {t}");
    }
    assert!(t.to_lowercase().contains("confusion matrix"), "{t}");
    for (label, support) in label_counts(&demo_test()) {
        let row = t
            .lines()
            .find(|l| l.split_whitespace().next() == Some(label.as_str()))
            .unwrap_or_else(|| panic!("no row for {label}: {t}"));
        assert!(
            row.split_whitespace().any(|c| c == support.to_string()),
            "{label}: support {support} missing in `{row}`"
        );
    }
    assert!(t.contains("120"), "document count: {t}");
}

#[test]
fn eval_json_report_has_the_documented_keys() {
    // Scripts read these keys; the issue lists them as the minimum.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let report = dir.path().join("report.json");
    eval(&model, &demo_test(), &["--json", s(&report)]);
    let v: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    for key in [
        "accuracy",
        "micro_f1",
        "macro_f1",
        "weighted_f1",
        "labels",
        "per_label",
        "confusion_matrix",
        "n_documents",
    ] {
        assert!(v.get(key).is_some(), "no `{key}` in {v}");
    }
    assert_eq!(v["n_documents"], 120);
    for key in ["accuracy", "micro_f1", "macro_f1", "weighted_f1"] {
        let x = f(&v[key]);
        assert!(x > 0.5 && x <= 1.0, "{key} = {x}");
    }
    assert_eq!(v["labels"].as_array().unwrap().len(), 6);
}

#[test]
fn eval_html_report_is_a_self_contained_page() {
    // The HTML report is mailed around: it must open offline, with nothing fetched.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let html = dir.path().join("report.html");
    eval(&model, &demo_test(), &["--html", s(&html)]);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page
        .trim_start()
        .to_lowercase()
        .starts_with("<!doctype html"));
    assert!(page.trim_end().ends_with("</html>"));
    for outside in [
        "<script src",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
    ] {
        assert!(!page.contains(outside), "page loads `{outside}`");
    }
    for label in label_counts(&demo_test()).keys() {
        assert!(page.contains(label.as_str()), "{label} not in the page");
    }
}

#[test]
fn eval_with_a_label_the_model_does_not_know_reports_it() {
    // Test sets drift from training sets; an unknown gold label is a finding, not a crash.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let data = dir.path().join("drift.jsonl");
    let mut text = fs::read_to_string(demo_test()).unwrap();
    text.push_str(
        "{\"id\": \"new\", \"text\": \"The envoy held talks.\", \"labels\": [\"cyber_warfare\"]}\n",
    );
    fs::write(&data, text).unwrap();
    let report = dir.path().join("drift.json");
    let out = eval(&model, &data, &["--json", s(&report)]);
    assert!(out.stdout.contains("cyber_warfare"), "{}", out.stdout);
    let v: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["n_documents"], 121);
    assert!(
        v.to_string().contains("cyber_warfare"),
        "not in the JSON report"
    );
}

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    // `framelens inspect ... | head` closes the pipe early: that is not an error, and never a
    // panic (println! panicked there).
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    for args in [
        vec!["inspect", "--model", s(&model), "--top-terms", "100000"],
        vec!["score", "--model", s(&model), s(&demo_train())],
    ] {
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close: far more than a pipe holds is still to come.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn inspect_prints_version_settings_labels_summary_and_top_terms() {
    // `inspect` is how a user finds out what an old model file is.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let info: Value =
        serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"]).stdout).unwrap();
    let n_features = info["n_features"].as_u64().expect("n_features");
    let out = ok(&["inspect", "--model", s(&model), "--top-terms", "4"]);
    let t = &out.stdout;
    assert!(t.contains("version 3"), "{t}");
    for setting in ["ngram_range", "min_df", "max_df", "sublinear_tf", "solver"] {
        assert!(t.contains(setting), "no `{setting}`: {t}");
    }
    assert!(t.contains("documents   480 (multi-label"), "{t}");
    assert!(
        t.contains(&n_features.to_string()),
        "vocabulary size {n_features}: {t}"
    );
    assert!(t.contains("converged"), "{t}");
    for label in label_counts(&demo_train()).keys() {
        assert!(t.contains(label.as_str()), "{label}: {t}");
    }
    let up = t
        .lines()
        .find(|l| l.trim_start().starts_with("up:"))
        .unwrap();
    assert_eq!(up.matches('(').count(), 4, "--top-terms 4: {up}");
    assert!(
        t.contains("resistance"),
        "top term of resistance_occupation: {t}"
    );
}

#[test]
fn inspect_json_parses_and_carries_the_summary() {
    // Tools that catalogue models read `inspect --json`.
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let out = ok(&[
        "inspect",
        "--model",
        s(&model),
        "--json",
        "--top-terms",
        "2",
    ]);
    let v: Value = serde_json::from_str(&out.stdout).expect("inspect --json is JSON");
    assert_eq!(v["format_version"], 3);
    assert_eq!(v["training"]["n_documents"], 480);
    assert!(v["n_features"].as_u64().unwrap() > 100);
    let labels = v["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 6);
    for l in labels {
        assert_eq!(l["top_positive"].as_array().unwrap().len(), 2, "{l}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

/// The small corpus with `bad` inserted as line 5.
fn corpus_with_bad_line(dir: &Path, name: &str, bad: &[u8]) -> PathBuf {
    let good = fs::read(small_corpus()).unwrap();
    let mut lines: Vec<&[u8]> = good.split_inclusive(|&b| b == b'\n').collect();
    let mut bad_line = bad.to_vec();
    bad_line.push(b'\n');
    lines.insert(4, &bad_line);
    let path = dir.join(name);
    fs::write(&path, lines.concat()).unwrap();
    path
}

#[test]
fn malformed_jsonl_line_names_file_and_line() {
    // With 10⁵ records, "invalid JSON" without a line number is useless.
    let dir = tempfile::tempdir().unwrap();
    let data = corpus_with_bad_line(dir.path(), "broken.jsonl", b"{\"text\": \"cut off");
    let out = dir.path().join("m.flm");
    let err = fails(&["train", "--data", s(&data), "--out", s(&out)]).stderr;
    assert!(err.contains("broken.jsonl:5"), "{err}");
    assert!(!out.exists(), "no model from bad data");
    let err = fails(&["eval", "--model", s(&out), "--data", s(&data)]).stderr;
    assert!(err.contains("m.flm"), "{err}");
}

#[test]
fn skip_invalid_trains_and_reports_the_skipped_count() {
    // `--skip-invalid` lets a messy scrape train, but the user must see how much was dropped.
    let dir = tempfile::tempdir().unwrap();
    let data = corpus_with_bad_line(dir.path(), "messy.jsonl", b"not json at all");
    let (_, out) = train(dir.path(), &data, "m.flm", &["--skip-invalid"]);
    let e = &out.stderr;
    assert!(e.contains("skipped 1"), "{e}");
    assert!(e.contains("messy.jsonl:5"), "which record was skipped: {e}");
    assert!(e.contains("40"), "40 documents kept: {e}");
}

#[test]
fn invalid_utf8_names_file_and_line() {
    // Latin-1 exports are common; the user needs to know where the bad byte is.
    let dir = tempfile::tempdir().unwrap();
    let data = corpus_with_bad_line(
        dir.path(),
        "latin1.jsonl",
        b"{\"text\": \"caf\xe9 prices\", \"labels\": [\"economy\"]}",
    );
    let out = dir.path().join("m.flm");
    let err = fails(&["train", "--data", s(&data), "--out", s(&out)]).stderr;
    assert!(
        err.contains("latin1.jsonl:5") && err.contains("UTF-8"),
        "{err}"
    );

    let model = train(dir.path(), &small_corpus(), "ok.flm", &[]).0;
    let txt = dir.path().join("article.txt");
    fs::write(&txt, b"first line\nsecond \xff line\n").unwrap();
    let err = fails(&["score", "--model", s(&model), s(&txt)]).stderr;
    assert!(
        err.contains("article.txt:2") && err.contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn csv_missing_column_is_named() {
    // The most common CSV mistake is a differently named column: say which, and which flag.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("articles.csv");
    fs::write(
        &csv,
        "id,body,labels\n1,Talks resumed,diplomacy\n2,Prices rose,economy\n",
    )
    .unwrap();
    let out = dir.path().join("m.flm");
    let err = fails(&["train", "--data", s(&csv), "--out", s(&out)]).stderr;
    assert!(err.contains("articles.csv"), "{err}");
    assert!(
        err.contains("`text`") && err.contains("--text-field"),
        "{err}"
    );
    assert!(err.contains("body"), "lists the columns there are: {err}");
    let err = fails(&[
        "train",
        "--data",
        s(&csv),
        "--out",
        s(&out),
        "--text-field",
        "body",
        "--label-field",
        "frame",
    ])
    .stderr;
    assert!(
        err.contains("`frame`") && err.contains("--label-field"),
        "{err}"
    );
}

#[test]
fn training_data_with_one_label_is_a_clear_error() {
    // A wrong --label-field often yields one label; a "classifier" of one class is meaningless.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("one.jsonl");
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!(
            "{{\"text\": \"talks with the envoy {i}\", \"labels\": [\"diplomacy\"]}}\n"
        ));
    }
    fs::write(&data, text).unwrap();
    let out = dir.path().join("m.flm");
    let err = fails(&["train", "--data", s(&data), "--out", s(&out)]).stderr;
    assert!(err.contains("label"), "{err}");
    assert!(err.contains("diplomacy") && err.contains('2'), "{err}");
    assert!(!out.exists());
}

#[test]
fn pruning_everything_names_min_df() {
    // An empty vocabulary must point at the setting that emptied it.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.flm");
    let err = fails(&[
        "train",
        "--data",
        s(&demo_train()),
        "--out",
        s(&out),
        "--min-df",
        "1000",
    ])
    .stderr;
    assert!(err.contains("min_df") || err.contains("--min-df"), "{err}");
    assert!(err.contains("1000"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_data_file_given_as_model_is_a_clear_error() {
    // `--model data.jsonl` is an easy slip; it must not be parsed as weights or panic.
    let dir = tempfile::tempdir().unwrap();
    let data = demo_test();
    let empty = dir.path().join("empty.flm");
    fs::write(&empty, b"").unwrap();
    for model in [&data, &empty] {
        for args in [
            vec!["score", "--model", s(model), s(&data)],
            vec!["inspect", "--model", s(model)],
            vec!["eval", "--model", s(model), "--data", s(&data)],
        ] {
            let err = fails(&args).stderr;
            assert!(err.contains(s(model)), "names the file: {err}");
            assert!(err.contains("not a framelens model"), "{err}");
        }
    }
    let missing = dir.path().join("missing.flm");
    let err = fails(&["inspect", "--model", s(&missing)]).stderr;
    assert!(err.contains("missing.flm"), "{err}");
    // The operating system's reason is said once, not once per level of the error chain.
    let os_reason = err.trim().rsplit(": ").next().unwrap();
    assert_eq!(err.matches(os_reason).count(), 1, "{err}");
}

#[test]
fn truncated_or_damaged_model_is_a_clear_error() {
    // A partial download or copy must be reported as such, never half-loaded.
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path(), &small_corpus(), "m.flm", &[]).0;
    let bytes = fs::read(&model).unwrap();
    let n = bytes.len();
    for cut in [18, 24, 40, n / 2, n - 9, n - 1] {
        let path = dir.path().join(format!("cut{cut}.flm"));
        fs::write(&path, &bytes[..cut]).unwrap();
        for args in [
            vec!["score", "--model", s(&path), s(&small_corpus())],
            vec!["inspect", "--model", s(&path)],
        ] {
            let err = fails(&args).stderr;
            assert!(err.contains(&format!("cut{cut}.flm")), "{err}");
            assert!(
                err.contains("truncated") || err.contains("corrupt"),
                "cut at {cut} of {n}: {err}"
            );
        }
    }
    let mut flipped = bytes.clone();
    flipped[n / 2] ^= 0x10;
    let path = dir.path().join("flipped.flm");
    fs::write(&path, flipped).unwrap();
    let err = fails(&["score", "--model", s(&path), s(&small_corpus())]).stderr;
    assert!(err.contains("corrupt") || err.contains("damaged"), "{err}");
}

#[test]
fn model_with_a_newer_format_version_is_a_clear_error() {
    // A model from a newer framelens must say "upgrade", not fail obscurely.
    let dir = tempfile::tempdir().unwrap();
    let model = train(dir.path(), &small_corpus(), "m.flm", &[]).0;
    let bytes = fs::read(&model).unwrap();
    assert_eq!(&bytes[..16], b"FRAMELENS-MODEL\n");
    assert_eq!(
        &bytes[16..20],
        &3u32.to_le_bytes(),
        "version 3, little-endian u32"
    );
    for version in [4u32, 0, u32::MAX] {
        let mut newer = bytes.clone();
        newer[16..20].copy_from_slice(&version.to_le_bytes());
        let path = dir.path().join(format!("v{version}.flm"));
        fs::write(&path, newer).unwrap();
        for args in [
            vec!["score", "--model", s(&path), s(&small_corpus())],
            vec!["inspect", "--model", s(&path)],
        ] {
            let err = fails(&args).stderr;
            assert!(
                err.contains(&format!("version {version}")),
                "names the version: {err}"
            );
            assert!(err.contains(&format!("v{version}.flm")), "{err}");
        }
    }
}

#[test]
fn out_into_a_missing_directory_fails_without_stray_files() {
    // A typo in --out must not cost the user a silent loss or leave debris behind.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    fs::copy(small_corpus(), &data).unwrap();
    let out = dir.path().join("no/such/dir/m.flm");
    let err = fails(&["train", "--data", s(&data), "--out", s(&out)]).stderr;
    assert!(err.contains("no/such/dir/m.flm"), "names the path: {err}");
    assert_eq!(
        entries(dir.path()),
        BTreeSet::from(["data.jsonl".to_string()])
    );
}

#[test]
fn failed_write_leaves_no_temp_file_and_the_target_untouched() {
    // The model is written to a temp file and renamed; a failed rename must clean up after itself.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("models");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep.txt"), "user file").unwrap();
    let err = fails(&["train", "--data", s(&small_corpus()), "--out", s(&target)]).stderr;
    assert!(err.contains("models"), "{err}");
    assert_eq!(entries(dir.path()), BTreeSet::from(["models".to_string()]));
    assert_eq!(entries(&target), BTreeSet::from(["keep.txt".to_string()]));
}

#[test]
fn failed_train_leaves_the_existing_model_untouched() {
    // Retraining over a working model with bad data must not destroy the working model.
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &small_corpus(), "prod.flm", &[]);
    let before = fs::read(&model).unwrap();
    let bad = corpus_with_bad_line(dir.path(), "bad.jsonl", b"{oops");
    fails(&["train", "--data", s(&bad), "--out", s(&model)]);
    fails(&[
        "train",
        "--data",
        s(&demo_train()),
        "--out",
        s(&model),
        "--min-df",
        "1000",
    ]);
    assert!(
        fs::read(&model).unwrap() == before,
        "the model file changed"
    );
    let names = entries(dir.path());
    assert!(
        names.iter().all(|n| !n.contains("tmp")),
        "temp files left: {names:?}"
    );
}

#[cfg(unix)]
#[test]
fn retraining_replaces_the_model_atomically() {
    // A scorer that opened the old model while training rewrites it must still read a whole
    // model: the new file is renamed over the old one, never written into it.
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train(dir.path(), &small_corpus(), "live.flm", &[]);
    let before = fs::read(&model).unwrap();
    let mut open = fs::File::open(&model).unwrap();
    train(dir.path(), &demo_train(), "live.flm", &[]);
    let after = fs::read(&model).unwrap();
    assert!(
        after != before,
        "retraining on other data changes the model"
    );
    let mut seen = Vec::new();
    open.read_to_end(&mut seen).unwrap();
    assert!(seen == before, "the old model was overwritten in place");
    let names = entries(dir.path());
    assert_eq!(
        names,
        BTreeSet::from(["live.flm".to_string()]),
        "temp files left"
    );
}

#[test]
fn a_model_trained_with_the_linfa_solver_loads_scores_and_inspects() {
    // linfa reports no objective or gradient; the model header once stored them as NaN, which
    // JSON writes as null and could not read back: every linfa model failed to load.
    let dir = tempfile::tempdir().unwrap();
    let (model, out) = train(
        dir.path(),
        &small_corpus(),
        "linfa.flm",
        &["--solver", "linfa", "--class-weight", "none"],
    );
    assert!(out.stderr.contains("(linfa)"), "{}", out.stderr);
    let scored = ok(&["score", "--model", s(&model), s(&small_corpus())]);
    assert!(!json_lines(&scored.stdout).is_empty());
    let inspect = ok(&["inspect", "--model", s(&model)]);
    assert!(
        inspect.stdout.contains("solver's own rule"),
        "{}",
        inspect.stdout
    );
}

#[test]
fn compare_outlets_within_a_frame_of_the_model() {
    // The README's example: how the four demo outlets word the resistance frame, selecting the
    // articles by the model's prediction.
    let dir = tempfile::tempdir().unwrap();
    let model = repo("models/demo.flm");
    let train = demo_train();
    let args = [
        "compare",
        s(&train),
        "--by",
        "source",
        "--label",
        "resistance_occupation",
        "--model",
        s(&model),
        "--top",
        "5",
    ];
    let out = ok(&args);
    assert!(
        out.stderr
            .contains("without the label resistance_occupation (the model's prediction)"),
        "{}",
        out.stderr
    );
    let sources: BTreeSet<String> = read_jsonl(&train)
        .iter()
        .map(|r| r["source"].as_str().unwrap().to_string())
        .collect();
    assert!(sources.len() >= 2);
    for source in &sources {
        assert!(
            out.stdout.contains(&format!("source = \"{source}\"")),
            "{source}: {}",
            out.stdout
        );
    }
    // The same as CSV into a file: the tidy columns, and as many rows as terms compared.
    let csv_path = dir.path().join("terms.csv");
    let mut csv_args = args.to_vec();
    csv_args.extend(["--format", "csv", "--out", s(&csv_path)]);
    ok(&csv_args);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let header = text.lines().next().unwrap();
    for column in [
        "term",
        "target_count",
        "reference_count",
        "target_total",
        "reference_total",
        "prior",
        "prior_total",
        "delta",
        "z",
        "chi2",
        "g2",
        "pmi",
    ] {
        assert!(header.split(',').any(|c| c == column), "{column}: {header}");
    }
    assert!(text.lines().count() > 100, "{} rows", text.lines().count());
}

#[test]
fn compare_two_labels_as_json_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let train = demo_train();
    let base = [
        "compare",
        s(&train),
        "--by",
        "labels",
        "--target",
        "economy",
        "--reference",
        "humanitarian",
    ];
    let mut json_args = base.to_vec();
    json_args.extend(["--format", "json", "--top", "3"]);
    let json: Value = serde_json::from_str(&ok(&json_args).stdout).unwrap();
    let c = &json[0];
    assert_eq!(c["target"], "economy");
    assert_eq!(c["reference"], "humanitarian");
    assert_eq!(c["top_target"].as_array().unwrap().len(), 3);
    let counts = label_counts(&train);
    assert_eq!(c["target_documents"], counts["economy"] as u64);
    let top = c["top_target"][0]["term"].as_str().unwrap();
    assert!(
        [
            "percent",
            "economists",
            "prices",
            "currency",
            "inflation",
            "year"
        ]
        .iter()
        .any(|w| top.contains(w)),
        "{top}"
    );
    let html = dir.path().join("c.html");
    let mut html_args = base.to_vec();
    html_args.extend(["--format", "html", "--out", s(&html)]);
    ok(&html_args);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Leaning to “economy”"));
}

#[test]
fn compare_bad_input_is_a_clear_error() {
    let train = demo_train();
    let t = s(&train);
    let out = fails(&["compare", t, "--by", "outlet"]);
    assert!(
        out.stderr
            .contains("no document has a string field \"outlet\""),
        "{}",
        out.stderr
    );
    let out = fails(&["compare", t, "--by", "source", "--target", "Nowhere Times"]);
    assert!(
        out.stderr
            .contains("no document has source = \"Nowhere Times\"")
            && out.stderr.contains("(1"),
        "{}",
        out.stderr
    );
    let out = fails(&[
        "compare",
        t,
        "--by",
        "labels",
        "--target",
        "economy",
        "--min-count",
        "100000",
    ]);
    assert!(out.stderr.contains("lower --min-count"), "{}", out.stderr);
    let out = fails(&[
        "compare",
        t,
        "--by",
        "labels",
        "--target",
        "economy",
        "--reference",
        "economy",
    ]);
    assert!(
        out.stderr.contains("compare two different groups"),
        "{}",
        out.stderr
    );
    let model = repo("models/demo.flm");
    let out = fails(&[
        "compare",
        t,
        "--by",
        "source",
        "--label",
        "sports",
        "--model",
        s(&model),
    ]);
    assert!(
        out.stderr.contains("the model does not predict it"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = fails(&["compare", s(&empty), "--by", "source"]);
    assert!(out.stderr.contains("nothing to compare"), "{}", out.stderr);
}

#[test]
fn score_html_page_shows_every_document_highlighted() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("scores.html");
    let model = repo("models/demo.flm");
    let test = demo_test();
    let out = ok(&[
        "score",
        "--model",
        s(&model),
        s(&test),
        "--format",
        "html",
        "--out",
        s(&page),
    ]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let html = std::fs::read_to_string(&page).unwrap();
    let n = read_jsonl(&test).len();
    assert_eq!(html.matches("<article class=\"doc\"").count(), n);
    assert!(html.contains(&format!("{n} documents in {} page(s)", n.div_ceil(100))));
    assert!(html.contains("data-a=p"), "no highlighted word");
    assert!(!html.contains("<script"), "the page needs no script");
    // Nothing is left behind but the page.
    assert_eq!(
        entries(dir.path()),
        BTreeSet::from(["scores.html".to_string()])
    );
}

#[test]
fn score_table_escapes_control_characters_in_ids() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("evil.jsonl");
    std::fs::write(
        &data,
        "{\"id\": \"x\\u001b[2Jy\", \"text\": \"talks resumed\"}\n",
    )
    .unwrap();
    let model = repo("models/demo.flm");
    let out = ok(&["score", "--model", s(&model), s(&data), "--format", "table"]);
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(out.stdout.contains("x\\u{1b}[2Jy"), "{}", out.stdout);
}

#[test]
fn an_output_that_names_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.jsonl");
    std::fs::copy(demo_train(), &data).unwrap();
    let before = std::fs::read(&data).unwrap();
    let spelled_otherwise = dir.path().join(".").join("train.jsonl");
    let out = fails(&["train", "--data", s(&data), "--out", s(&spelled_otherwise)]);
    assert!(
        out.stderr.contains("this is also an input"),
        "{}",
        out.stderr
    );
    let model = train(dir.path(), &data, "m.flm", &[]).0;
    let model_bytes = std::fs::read(&model).unwrap();
    for flag in ["--json", "--html"] {
        fails(&[
            "eval",
            "--model",
            s(&model),
            "--data",
            s(&data),
            flag,
            s(&model),
        ]);
    }
    fails(&["score", "--model", s(&model), s(&data), "--out", s(&data)]);
    fails(&["cv", "--data", s(&data), "--json", s(&data)]);
    fails(&["compare", s(&data), "--by", "source", "--out", s(&data)]);
    assert_eq!(
        std::fs::read(&data).unwrap(),
        before,
        "the training data changed"
    );
    assert_eq!(
        std::fs::read(&model).unwrap(),
        model_bytes,
        "the model changed"
    );
}

#[test]
fn outputs_follow_symlinks_keep_devices_and_clean_killed_runs_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    // A report written to a link replaces the file it names; the link stays a link.
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    eval(&model, &demo_test(), &["--json", s(&link)]);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let real: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("real.json")).unwrap()).unwrap();
    assert_eq!(real["n_documents"], 120);
    // A device is written in place, never replaced by a regular file.
    ok(&["train", "--data", s(&demo_train()), "--out", "/dev/null"]);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // The temporary file of a killed run (its process is gone) is removed by the next write.
    let stale = dir.path().join(".demo.flm.4194303.tmp");
    std::fs::write(&stale, b"half a model").unwrap();
    demo_model(dir.path());
    assert!(!stale.exists(), "a stale temporary file was left");
}

#[test]
fn a_dash_means_standard_output_for_every_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let json = eval(&model, &demo_test(), &["--json", "-"]);
    let v: Value = serde_json::from_str(&json.stdout).expect("stdout is the JSON report alone");
    assert_eq!(v["n_documents"], 120);
    let cv = ok(&[
        "cv",
        "--data",
        s(&demo_train()),
        "--folds",
        "3",
        "--json",
        "-",
    ]);
    let v: Value = serde_json::from_str(&cv.stdout).expect("stdout is the JSON alone");
    assert_eq!(v["folds"], 3);
    let html = ok(&[
        "score",
        "--model",
        s(&model),
        s(&demo_test()),
        "--format",
        "html",
        "--out",
        "-",
    ]);
    assert!(html.stdout.starts_with("<!DOCTYPE html>"));
    assert!(!dir.path().join("-").exists() && !Path::new("-").exists());
}

#[test]
fn csv_crlf_line_numbers_duplicate_columns_number_labels_and_empty_texts() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases = [
        // CR LF files: the bad row is on line 7, as in an LF file.
        ("crlf.csv", "id,text,labels\r\n1,war,x\r\n2,peace,y\r\n3,a,x\r\n4,b,y\r\n5,c,x\r\n6,d,e,f\r\n", "crlf.csv:7:"),
        ("lf.csv", "id,text,labels\n1,war,x\n2,peace,y\n3,a,x\n4,b,y\n5,c,x\n6,d,e,f\n", "lf.csv:7:"),
        ("dup.csv", "id,text,text,labels\n1,war,w,x\n", "dup.csv:1: field `text`: the header names this column twice"),
        ("empty.csv", "id,text,labels\n1,war,x\n2, ,y\n", "empty.csv:3: field `text`: empty"),
        ("number.jsonl", "{\"text\": \"war\", \"labels\": [\"x\"]}\n{\"text\": \"peace\", \"labels\": 5}\n", "number.jsonl:2: field `labels`: expected a list of strings or a string, found a number"),
        ("empty.jsonl", "{\"text\": \"war\", \"labels\": [\"x\"]}\n{\"text\": \"\", \"labels\": [\"y\"]}\n", "empty.jsonl:2: field `text`: empty"),
    ];
    for (name, text, expected) in cases {
        let path = write(name, text);
        let out = fails(&[
            "train",
            "--data",
            s(&path),
            "--out",
            s(&dir.path().join("m.flm")),
        ]);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
    }
}

#[test]
fn a_fifo_in_a_folder_is_an_error_not_a_hang_and_threads_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("docs");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), "Ceasefire talks resumed.").unwrap();
    let fifo = folder.join("b.txt");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let model = repo("models/demo.flm");
    let start = std::time::Instant::now();
    let out = fails(&["score", "--model", s(&model), s(&folder)]);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let out = ok(&[
        "--threads",
        "100000",
        "score",
        "--model",
        s(&model),
        s(&folder.join("a.txt")),
    ]);
    assert!(
        out.stderr.contains("--threads 100000: using"),
        "{}",
        out.stderr
    );
    assert_eq!(json_lines(&out.stdout).len(), 1);
}

#[test]
fn a_folder_inside_a_label_folder_is_an_error_and_repeated_ids_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    std::fs::create_dir_all(root.join("war/more")).unwrap();
    std::fs::create_dir_all(root.join("peace")).unwrap();
    std::fs::write(root.join("war/a.txt"), "war and siege").unwrap();
    std::fs::write(root.join("war/more/b.txt"), "more war").unwrap();
    std::fs::write(root.join("peace/c.txt"), "peace talks").unwrap();
    let model = dir.path().join("m.flm");
    let out = fails(&[
        "train",
        "--data",
        s(&root),
        "--out",
        s(&model),
        "--min-df",
        "1",
    ]);
    assert!(
        out.stderr
            .contains("is a folder inside the label folder `war`"),
        "{}",
        out.stderr
    );

    let data = dir.path().join("dup.jsonl");
    let lines: Vec<String> = (0..3)
        .flat_map(|i| {
            [
                format!(r#"{{"id": "same", "text": "war and siege {i}", "labels": ["war"]}}"#),
                format!(r#"{{"id": "p{i}", "text": "peace talks {i}", "labels": ["peace"]}}"#),
            ]
        })
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let out = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--min-df",
        "1",
    ]);
    assert!(out.stderr.contains("\"same\" (3 times)"), "{}", out.stderr);
}

#[test]
fn a_forced_label_is_marked_in_json_lines() {
    let model = repo("models/demo.flm");
    let out = ok(&[
        "score",
        "--model",
        s(&model),
        s(&demo_test()),
        "--top-terms",
        "1",
    ]);
    let lines = json_lines(&out.stdout);
    let mut forced = 0;
    for p in &lines {
        let labels = p["labels"].as_array().unwrap();
        let below = labels.iter().all(|l| {
            let l = l.as_str().unwrap();
            f(&p["probabilities"][l]) < f(&p["explanation"][l]["threshold"])
        });
        let is_forced = labels.len() == 1 && below;
        assert_eq!(
            p.get("forced") == Some(&Value::Bool(true)),
            is_forced,
            "{p}"
        );
        forced += usize::from(is_forced);
    }
    assert!(
        forced > 0,
        "the demo test set has forced labels (demo-test-0001)"
    );
}

#[test]
fn a_missing_input_is_not_a_bad_record() {
    // Neither the --skip-invalid hint nor --skip-invalid applies to a file that is not there.
    let model = repo("models/demo.flm");
    for extra in [&[][..], &["--skip-invalid"][..]] {
        let mut args = vec!["score", "--model", s(&model), "/nonexistent/input.jsonl"];
        args.extend_from_slice(extra);
        let out = fails(&args);
        assert!(
            out.stderr
                .contains("/nonexistent/input.jsonl: No such file"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("--skip-invalid"), "{}", out.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// analyze
// ---------------------------------------------------------------------------------------------

/// The tidy CSV columns `analyze --format csv` promises after the grouping columns.
const PREVALENCE_CSV: &str = "label,documents,cc,pcc,acc,pacc,emq,share,share_low,share_high";

#[test]
fn analyze_by_source_and_month_as_csv_json_table_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let csv = ok(&[
        "analyze",
        "--model",
        s(&model),
        s(&demo_test()),
        "--by",
        "source",
        "--time",
        "date",
        "--every",
        "quarter",
        "--format",
        "csv",
    ])
    .stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("source,period,{PREVALENCE_CSV}")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 6 * 4, "{} rows", rows.len());
    for r in &rows {
        assert_eq!(r.len(), 12, "{r:?}");
        assert!(r[1].starts_with("2024-Q"), "{r:?}");
        let share: f64 = r[9].parse().unwrap();
        let (lo, hi): (f64, f64) = (r[10].parse().unwrap(), r[11].parse().unwrap());
        assert!((0.0..=1.0).contains(&share) && lo <= hi, "{r:?}");
        // The model stores out-of-fold rates: every method has a value.
        assert!(r[2..11].iter().all(|v| !v.is_empty()), "{r:?}");
        // share is EMQ, the default.
        assert_eq!(r[8], r[9], "{r:?}");
    }
    let docs: u64 = rows
        .iter()
        .filter(|r| r[2] == "diplomacy")
        .map(|r| r[3].parse::<u64>().unwrap())
        .sum();
    assert_eq!(docs, 120, "every test document is counted once per label");

    let json: Value = serde_json::from_str(
        &ok(&[
            "analyze",
            "--model",
            s(&model),
            s(&demo_test()),
            "--by",
            "source",
            "--format",
            "json",
            "--method",
            "pacc",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["method"], "pacc");
    assert_eq!(json["documents"], 120);
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4 * 6, "4 outlets × 6 labels");
    assert_eq!(rows[0]["source"], "Crescent Press Agency");
    assert_eq!(rows[0]["share"], rows[0]["pacc"]);

    let table = ok(&["analyze", "--model", s(&model), s(&demo_test())]).stdout;
    assert!(
        table.contains("share% (emq)") && table.contains("resistance_occupation"),
        "{table}"
    );

    let html = dir.path().join("prevalence.html");
    ok(&[
        "analyze",
        "--model",
        s(&model),
        s(&demo_train()),
        s(&demo_test()),
        "--by",
        "source",
        "--time",
        "date",
        "--every",
        "month",
        "--format",
        "html",
        "--out",
        s(&html),
    ]);
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.contains("Shares over time") && page.contains("Shares by group"));
    assert_eq!(page.matches("<svg").count(), 12, "6 labels × 2 charts");
    assert!(!page.contains("<script"), "no script");
}

#[test]
fn analyze_partial_states_merge_into_the_one_pass_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let common = [
        "--by", "source", "--time", "date", "--every", "month", "--seed", "7",
    ];
    let (train_data, test_data) = (demo_train(), demo_test());
    let mut one = vec![
        "analyze",
        "--model",
        s(&model),
        s(&train_data),
        s(&test_data),
    ];
    one.extend(common);
    one.extend(["--format", "csv"]);
    let whole = ok(&one).stdout;
    let (pa, pb) = (dir.path().join("a.state"), dir.path().join("b.state"));
    for (input, part) in [(&test_data, &pb), (&train_data, &pa)] {
        let mut args = vec!["analyze", "--model", s(&model), s(input)];
        args.extend(common);
        args.extend(["--partial", s(part)]);
        ok(&args);
    }
    let merged = ok(&["analyze", "--merge", s(&pa), s(&pb), "--format", "csv"]).stdout;
    assert_eq!(
        merged, whole,
        "merge of the parts = one pass over both files"
    );
    let merged_other_order = ok(&["analyze", "--merge", s(&pb), s(&pa), "--format", "csv"]).stdout;
    assert_eq!(merged_other_order, whole);

    // States of other settings do not merge.
    let pc = dir.path().join("c.state");
    ok(&[
        "analyze",
        "--model",
        s(&model),
        s(&demo_test()),
        "--by",
        "source",
        "--partial",
        s(&pc),
    ]);
    let out = fails(&["analyze", "--merge", s(&pa), s(&pc)]);
    assert!(out.stderr.contains("group differently"), "{}", out.stderr);
    // Something that is not a state.
    let out = fails(&["analyze", "--merge", s(&pa), s(&demo_test())]);
    assert!(
        out.stderr.contains("not a prevalence state") && out.stderr.contains("test.jsonl"),
        "{}",
        out.stderr
    );
}

#[test]
fn analyze_counts_what_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let model = demo_model(dir.path());
    let data = dir.path().join("messy.jsonl");
    fs::write(
        &data,
        concat!(
            "{\"id\":\"1\",\"text\":\"Resistance fighters vowed to end the occupation.\",\"source\":\"A\",\"date\":\"2024-03-01\"}\n",
            "{\"id\":\"2\",\"text\":\"The ministers met for talks on the truce.\",\"source\":\"A\",\"date\":\"3/2/2024\"}\n",
            "{\"id\":\"3\",\"text\":\"Aid convoys reached the camps.\",\"source\":\"B\",\"date\":\"2 March 2024\"}\n",
            "{\"id\":\"4\",\"text\":\"Prices rose again.\",\"date\":\"2024-03-04\"}\n",
            "{\"id\":\"5\",\"text\":\"Prices rose again.\",\"source\":[\"B\"],\"date\":\"2024-03-04\"}\n",
            "{\"id\":\"6\",\"text\":\"Prices rose again.\",\"source\":\"B\",\"date\":\"next week\"}\n",
            "{\"id\":\"7\",\"text\":\"Prices rose again.\",\"source\":\"B\",\"date\":\"2050-01-01\"}\n",
            "{\"id\":\"8\",\"text\":\"Prices rose again.\",\"source\":\"B\"}\n",
            "{\"id\":\"9\",\"text\":\"Prices rose again.\",\"source\":\"\",\"date\":\"2024-03-04\"}\n",
        ),
    )
    .unwrap();
    let out = ok(&[
        "analyze",
        "--model",
        s(&model),
        s(&data),
        "--by",
        "source",
        "--time",
        "date",
        "--every",
        "month",
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["documents"], 3);
    let skipped = &json["skipped"];
    assert_eq!(
        skipped["field \"source\" missing or not a string"], 2,
        "{skipped}"
    );
    assert_eq!(skipped["field \"source\" empty"], 1, "{skipped}");
    assert_eq!(skipped["date field \"date\" unparseable"], 1, "{skipped}");
    assert_eq!(skipped["date field \"date\" out of range"], 1, "{skipped}");
    assert_eq!(skipped["date field \"date\" missing"], 1, "{skipped}");
    assert!(
        out.stderr.contains("6 record(s) left out"),
        "{}",
        out.stderr
    );

    // Nothing left: a clear error naming the reasons.
    let out = fails(&["analyze", "--model", s(&model), s(&data), "--by", "outlet"]);
    assert!(
        out.stderr.contains("no document to analyse") && out.stderr.contains("\"outlet\" missing"),
        "{}",
        out.stderr
    );
    // Empty input.
    let empty = dir.path().join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let out = fails(&["analyze", "--model", s(&model), s(&empty)]);
    assert!(out.stderr.contains("no document"), "{}", out.stderr);
    // Bad settings.
    fails(&["analyze", "--model", s(&model), s(&data), "--ci", "95"]);
    let out = run(&["analyze", "--model", s(&model), s(&data), "--time", "date"]);
    assert_eq!(out.code, Some(2), "a usage error: {}", out.stderr);
    let out = run(&[
        "analyze",
        "--model",
        s(&model),
        s(&data),
        "--method",
        "median",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn analyze_with_a_model_without_rates_corrects_only_what_it_can() {
    let old = repo("tests/fixtures/model-v2/model.flm");
    let data = small_corpus();
    let out = fails(&["analyze", "--model", s(&old), s(&data), "--method", "pacc"]);
    assert!(
        out.stderr.contains("does not store") && out.stderr.contains("retrain"),
        "{}",
        out.stderr
    );
    let csv = ok(&["analyze", "--model", s(&old), s(&data), "--format", "csv"]).stdout;
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert!(
        row[4].is_empty() && row[5].is_empty(),
        "no ACC/PACC: {row:?}"
    );
    assert!(
        !row[6].is_empty() && !row[7].is_empty(),
        "EMQ and share: {row:?}"
    );
    // --gold counts the records' own labels: the shares are the label counts.
    let json: Value = serde_json::from_str(
        &ok(&[
            "analyze",
            "--model",
            s(&old),
            s(&data),
            "--gold",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let rows = json["rows"].as_array().unwrap();
    let total: f64 = rows.iter().map(|r| r["share"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    assert!(rows
        .iter()
        .all(|r| r["pcc"].is_null() && r["emq"].is_null()));
}

// ---------------------------------------------------------------------------------------------
// Interface regressions (issue 14)
// ---------------------------------------------------------------------------------------------

#[test]
fn negative_numbers_reach_the_checks_of_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.flm");
    let out = fails(&[
        "train",
        "--data",
        s(&small_corpus()),
        "--out",
        s(&model),
        "--c",
        "-1",
    ]);
    assert!(out.stderr.contains("invalid C = -1"), "{}", out.stderr);
    let out = fails(&[
        "analyze",
        "--model",
        s(&repo("models/demo.flm")),
        s(&demo_test()),
        "--ci",
        "-0.5",
    ]);
    assert!(out.stderr.contains("--ci -0.5"), "{}", out.stderr);
}

#[test]
fn solver_linfa_trains_with_its_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (model, out) = train(
        dir.path(),
        &small_corpus(),
        "linfa.flm",
        &["--solver", "linfa"],
    );
    assert!(
        out.stderr.contains("without class weights"),
        "{}",
        out.stderr
    );
    assert!(model.is_file());
}

#[test]
fn writing_to_a_closed_standard_output_is_an_error() {
    let bin = env!("CARGO_BIN_EXE_framelens");
    for args in [
        format!(
            "score --model {} {}",
            s(&repo("models/demo.flm")),
            s(&demo_test())
        ),
        format!("inspect --model {}", s(&repo("models/demo.flm"))),
    ] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {bin} {args} >&-"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args}: {stderr}");
        assert!(stderr.contains("standard output is closed"), "{stderr}");
    }
    // > /dev/null is not closed.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {bin} inspect --model {} > /dev/null",
            s(&repo("models/demo.flm"))
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_lines_start_with_the_id_and_flag_few_known_terms() {
    let out = run_with_stdin(
        &["score", "--model", s(&repo("models/demo.flm"))],
        b"{\"id\":\"short\",\"text\":\"resistance\"}\n{\"id\":\"none\",\"text\":\"zzz\"}\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("{\"id\":\"short\""), "{}", lines[0]);
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    let second: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(first["few_known_terms"], true);
    assert_eq!(second["no_known_terms"], true);
    assert!(second.get("few_known_terms").is_none());
    assert!(
        out.stderr
            .contains("2 document(s) with fewer than 5 known terms"),
        "{}",
        out.stderr
    );
}

#[test]
fn score_reads_csv_and_tsv_and_its_help_has_no_label_options() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("docs.csv");
    fs::write(
        &csv,
        "id,text\nc1,\"Resistance fighters vowed to end the occupation, the statement said.\"\n",
    )
    .unwrap();
    let tsv = dir.path().join("docs.tsv");
    fs::write(
        &tsv,
        "id\ttext\nt1\tAid convoys reached the camps after the shelling stopped.\n",
    )
    .unwrap();
    let out = ok(&[
        "score",
        "--model",
        s(&repo("models/demo.flm")),
        s(&csv),
        s(&tsv),
    ]);
    let ids: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["c1", "t1"]);
    let help = ok(&["score", "--help"]).stdout;
    assert!(
        !help.contains("--label-field") && !help.contains("--labels"),
        "{help}"
    );
    assert!(help.contains("--input-format"), "{help}");
    // The input layout is --input-format in every command; train keeps --format as an alias.
    let model = dir.path().join("m.flm");
    ok(&[
        "train",
        "--data",
        s(&small_corpus()),
        "--out",
        s(&model),
        "--input-format",
        "jsonl",
    ]);
    ok(&[
        "train",
        "--data",
        s(&small_corpus()),
        "--out",
        s(&model),
        "--format",
        "jsonl",
    ]);
    let json: Value =
        serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--format", "json"]).stdout)
            .unwrap();
    assert!(json["labels"].is_array());
}

#[test]
fn quiet_training_prints_nothing_and_no_progress_reaches_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("q.flm");
    let out = ok(&[
        "train",
        "--data",
        s(&small_corpus()),
        "--out",
        s(&model),
        "--quiet",
    ]);
    assert_eq!(out.stderr, "", "quiet");
    assert!(model.is_file());
    // Without --quiet, stderr (a pipe here, not a terminal) gets the summary and no spinner.
    let out = ok(&["train", "--data", s(&small_corpus()), "--out", s(&model)]);
    assert!(out.stderr.starts_with("framelens train:"), "{}", out.stderr);
    assert!(!out.stderr.contains("training on"), "{}", out.stderr);
    let out = ok(&["cv", "--data", s(&small_corpus()), "--folds", "2", "-q"]);
    assert_eq!(out.stderr, "");
    assert!(out.stdout.contains("framelens cv:"), "{}", out.stdout);
}

#[test]
fn a_multinomial_fit_beyond_the_memory_limit_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.flm");
    let corpus = small_corpus();
    let args = [
        "train",
        "--data",
        s(&corpus),
        "--out",
        s(&model),
        "--max-memory",
        "1K",
    ];
    let out = fails(&args);
    assert!(
        out.stderr
            .contains("a multinomial fit of 40 documents × 3 labels")
            && out
                .stderr
                .contains("of memory and may use 1.0 kB (--max-memory")
            && out.stderr.contains("--max-features"),
        "{}",
        out.stderr
    );
    assert!(!model.exists(), "no model after a refusal");
    // A limit it fits in trains; a limit that is not a size is a usage error.
    train(
        dir.path(),
        &small_corpus(),
        "m.flm",
        &["--max-memory", "1G"],
    );
    let out = run(&[
        "train",
        "--data",
        s(&corpus),
        "--out",
        s(&model),
        "--max-memory",
        "lots",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

/// `docs` single-label documents in `dir/labels.jsonl`, document i of label `l{i % labels}` with
/// two words of its own label.
fn one_label_each(dir: &Path, docs: usize, labels: usize) -> PathBuf {
    let data = dir.join("labels.jsonl");
    let lines: Vec<String> = (0..docs)
        .map(|i| {
            let l = i % labels;
            format!(
                r#"{{"id": "d{i}", "text": "mark{l} sign{l} common words {}", "label": "l{l}"}}"#,
                i % 7
            )
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).unwrap();
    data
}

#[test]
fn many_labels_are_summarised_and_too_few_documents_per_label_store_no_rates() {
    // 80 documents of 40 labels (2 each): the summary lists the 30 most frequent labels, and
    // 5 folds × 40 labels is more than the documents, so no rates are estimated, with a note.
    let dir = tempfile::tempdir().unwrap();
    let data = one_label_each(dir.path(), 80, 40);
    let (model, out) = train(dir.path(), &data, "m.flm", &[]);
    assert!(
        out.stderr.contains("note: no error rates for analyze's acc and pacc: 80 documents are fewer than 5 folds × 40 labels"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("... and 10 more (the 30 most frequent are listed"),
        "{}",
        out.stderr
    );
    let listed = out
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("2  l"))
        .count();
    assert_eq!(listed, 30, "{}", out.stderr);
    assert!(
        out.stderr.contains("rates       none stored"),
        "{}",
        out.stderr
    );
    // eval: no 40 × 40 confusion square in the text or the page (per-label bars instead).
    let html = dir.path().join("eval.html");
    let out = eval(&model, &data, &["--html", s(&html)]);
    assert!(
        out.stdout
            .contains("confusion matrix: not shown for 40 labels (a 40 × 40 table; --json has it)"),
        "{}",
        out.stdout
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<p>Not shown for 40 labels"),
        "no note in the page"
    );
    assert!(
        !page.contains("table class=\"cm\""),
        "a confusion table in the page"
    );
    // With fewer folds there are enough documents: 2 × 40 = 80.
    let out = ok(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&model),
        "--rate-folds",
        "2",
    ]);
    assert!(
        !out.stderr.contains("note: no error rates"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("recall mean"), "{}", out.stderr);
}

#[test]
fn acc_and_pacc_past_a_hundred_single_labels_are_refused_at_once_not_a_hang() {
    // 101 labels × 5 documents: rates are stored (505 = 5 folds × 101), but ACC and PACC would
    // invert a 101 × 101 matrix per group and replicate: refused before the input is read, and
    // left empty by the default method.
    let dir = tempfile::tempdir().unwrap();
    let data = one_label_each(dir.path(), 505, 101);
    let (model, out) = train(dir.path(), &data, "m.flm", &[]);
    assert!(
        out.stderr.contains("recall mean"),
        "rates stored: {}",
        out.stderr
    );
    let started = std::time::Instant::now();
    let out = fails(&[
        "analyze",
        "--model",
        s(&model),
        s(&data),
        "--method",
        "pacc",
    ]);
    assert!(
        out.stderr
            .contains("cc, pcc or emq for a single-label model of more than 100 labels"),
        "{}",
        out.stderr
    );
    assert!(started.elapsed().as_secs() < 10);
    let out = ok(&["analyze", "--model", s(&model), s(&data), "--format", "csv"]);
    let header: Vec<&str> = out.stdout.lines().next().unwrap().split(',').collect();
    let acc = header.iter().position(|c| *c == "acc").unwrap();
    let first: Vec<&str> = out.stdout.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[acc], "", "{}", out.stdout.lines().nth(1).unwrap());
}
