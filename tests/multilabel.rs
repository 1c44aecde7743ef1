//! Multi-label framing end to end through the binary: the SemEval-layout fixture trains, scores
//! and evaluates; thresholds are fixed or tuned and recorded in the model; `--allow-empty` is
//! honoured when scoring; `framelens cv` is deterministic per seed for multi- and single-label
//! data.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn semeval_dir() -> PathBuf {
    root().join("tests/fixtures/semeval")
}

fn demo_train() -> PathBuf {
    root().join("datasets/demo/train.jsonl")
}

fn demo_test() -> PathBuf {
    root().join("datasets/demo/test.jsonl")
}

/// (exit status success, stdout, stderr) of one run of the binary.
fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_framelens"))
        .args(args)
        .output()
        .expect("the framelens binary runs");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Run and insist on success, returning stdout.
fn ok(args: &[&str]) -> String {
    let (success, stdout, stderr) = run(args);
    assert!(success, "framelens {args:?} failed:\n{stderr}");
    stdout
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).expect("file written")).expect("valid JSON")
}

/// The labels file of the fixture: id → labels.
fn fixture_labels() -> Vec<(String, Vec<String>)> {
    fs::read_to_string(semeval_dir().join("labels.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (id, labels) = l.split_once('\t').unwrap();
            (
                id.to_string(),
                labels.split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

#[test]
fn semeval_fixture_trains_scores_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("semeval.model");
    let labels_file = semeval_dir().join("labels.tsv");
    let data = semeval_dir();
    let read_flags = ["--format", "semeval", "--labels", s(&labels_file)];

    let mut train = vec!["train", "--data", s(&data), "--out", s(&model)];
    train.extend(read_flags);
    // The fixture has 8 articles: keep every term.
    train.extend(["--min-df", "1"]);
    ok(&train);

    let inspect: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"]))
        .expect("inspect --json prints JSON");
    assert_eq!(inspect["kind"], "one_vs_rest");
    let mut all: Vec<String> = fixture_labels().into_iter().flat_map(|(_, l)| l).collect();
    all.sort();
    all.dedup();
    let model_labels: Vec<String> = inspect["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(model_labels, all);
    // Default thresholds follow the out-of-fold evidence: each label records it, and a label
    // away from where it started (0.5, or the common threshold when that moved) gained more
    // than its noise.
    assert_eq!(inspect["params"]["threshold_mode"], "evidence");
    let common = &inspect["training"]["threshold_tuning"]["common"];
    let base = match common["threshold"].as_f64() {
        Some(c) if c != 0.5 => {
            assert!(
                common["gain"].as_f64() > common["noise"].as_f64(),
                "{common}"
            );
            c
        }
        _ => 0.5,
    };
    for l in inspect["labels"].as_array().unwrap() {
        let t = l["threshold"].as_f64().unwrap();
        let e = &l["threshold_evidence"];
        assert_eq!(e["threshold"].as_f64(), Some(t), "{l}");
        assert_eq!(e["baseline"].as_f64().unwrap_or(0.5), base, "{l}");
        assert!(e["positives"].as_u64().unwrap() >= 1, "{l}");
        assert!(e["reason"].is_string(), "{l}");
        let (gain, noise) = (e["gain"].as_f64().unwrap(), e["noise"].as_f64().unwrap());
        assert_eq!(t != base, gain > noise && e["proposed"] != base, "{l}");
    }

    // Score one article: every predicted label carries its probability, threshold and terms.
    let article = data.join("article1002.txt");
    let out = ok(&[
        "score",
        "--model",
        s(&model),
        s(&article),
        "--top-terms",
        "5",
    ]);
    let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let predicted = line["labels"].as_array().unwrap();
    assert!(!predicted.is_empty());
    for l in predicted {
        let l = l.as_str().unwrap();
        let e = &line["explanation"][l];
        let stored = inspect["labels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["label"] == l)
            .map(|m| m["threshold"].clone());
        assert_eq!(Some(e["threshold"].clone()), stored);
        let t = e["threshold"].as_f64().unwrap();
        assert!(e["probability"].as_f64().unwrap() >= t || predicted.len() == 1);
        assert!(
            !e["up"].as_array().unwrap().is_empty(),
            "{l} has no terms up"
        );
    }
    assert_eq!(line["multi_label"], true);

    // Evaluate on the training articles: a multi-label report with the documented keys.
    let report_path = dir.path().join("report.json");
    let mut eval = vec![
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--json",
        s(&report_path),
    ];
    eval.extend(read_flags);
    let text = ok(&eval);
    assert!(text.contains("hamming loss"), "{text}");
    let r = read_json(&report_path);
    for key in [
        "micro_f1",
        "macro_f1",
        "samples_f1",
        "hamming_loss",
        "subset_accuracy",
        "per_label",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}");
    }
    assert_eq!(r["n_documents"], 8);
    assert_eq!(r["multi_label"], true);
    // Seen articles with every term kept: the model must at least recall most of its labels.
    assert!(r["micro_f1"].as_f64().unwrap() > 0.8, "{r}");
}

#[test]
fn semeval_fixture_tunes_thresholds_with_two_folds() {
    // Labels on a single article are missing from one training fold: tuning must cope (they keep
    // 0.5) instead of failing.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tuned.model");
    let labels_file = semeval_dir().join("labels.tsv");
    let data = semeval_dir();
    let (success, _, stderr) = run(&[
        "train",
        "--data",
        s(&data),
        "--format",
        "semeval",
        "--labels",
        s(&labels_file),
        "--min-df",
        "1",
        "--thresholds",
        "tuned",
        "--threshold-folds",
        "2",
        "--out",
        s(&model),
    ]);
    assert!(success, "{stderr}");
    assert!(
        stderr.contains("tuned per label (F1) on 2-fold out-of-fold probabilities"),
        "{stderr}"
    );
    let inspect: Value =
        serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"])).unwrap();
    for l in inspect["labels"].as_array().unwrap() {
        let t = l["threshold"].as_f64().unwrap();
        assert!((0.05..=0.95).contains(&t), "{t}");
    }
}

#[test]
fn tuned_thresholds_are_stored_shown_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.model"), dir.path().join("b.model"));
    for m in [&a, &b] {
        ok(&[
            "train",
            "--data",
            s(&demo_train()),
            "--thresholds",
            "tuned",
            "--out",
            s(m),
        ]);
    }
    // Same data, settings and (stored) seed: the same model bytes.
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());

    let text = ok(&["inspect", "--model", s(&a)]);
    assert!(
        text.contains("thresholds   tuned per label (F1) on 5-fold out-of-fold probabilities"),
        "{text}"
    );
    assert!(text.contains("out-of-fold F1"), "{text}");
    let v: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&a), "--json"])).unwrap();
    assert_eq!(v["params"]["threshold_mode"], "tuned");
    let tuning = &v["training"]["threshold_tuning"];
    assert_eq!(tuning["folds"], 5);
    let thresholds: Vec<f64> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["threshold"].as_f64().unwrap())
        .collect();
    let recorded: Vec<f64> = tuning["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["threshold"].as_f64().unwrap())
        .collect();
    assert_eq!(thresholds, recorded);
    assert!(
        thresholds.iter().any(|&t| t != 0.5),
        "tuning moved nothing: {thresholds:?}"
    );

    // The tuned model evaluates like any other.
    let report = dir.path().join("r.json");
    ok(&[
        "eval",
        "--model",
        s(&a),
        "--data",
        s(&demo_test()),
        "--json",
        s(&report),
    ]);
    assert!(read_json(&report)["micro_f1"].as_f64().unwrap() > 0.7);
}

#[test]
fn fixed_threshold_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    // --threshold means a fixed threshold; asking for tuning or evidence as well is a
    // contradiction.
    for mode in ["tuned", "evidence"] {
        let (success, _, stderr) = run(&[
            "train",
            "--data",
            s(&demo_train()),
            "--thresholds",
            mode,
            "--threshold",
            "0.3",
            "--out",
            s(&model),
        ]);
        assert!(!success);
        assert!(
            stderr.contains("--threshold") && stderr.contains(mode),
            "{stderr}"
        );
        assert!(!model.exists());
    }
    let (success, _, stderr) = run(&[
        "train",
        "--data",
        s(&demo_train()),
        "--threshold",
        "1.5",
        "--out",
        s(&model),
    ]);
    assert!(!success);
    assert!(stderr.contains("threshold"), "{stderr}");
    // A fixed threshold is applied to every label.
    ok(&[
        "train",
        "--data",
        s(&demo_train()),
        "--threshold",
        "0.3",
        "--out",
        s(&model),
    ]);
    let v: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"])).unwrap();
    assert!(v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["threshold"] == 0.3));
}

#[test]
fn allow_empty_is_stored_in_the_model_and_honoured_by_score_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let (strict, lenient) = (
        dir.path().join("strict.model"),
        dir.path().join("lenient.model"),
    );
    let train = demo_train();
    let base = ["train", "--data", s(&train), "--threshold", "0.95"];
    let mut a = base.to_vec();
    a.extend(["--out", s(&strict)]);
    ok(&a);
    let mut b = base.to_vec();
    b.extend(["--allow-empty", "--out", s(&lenient)]);
    ok(&b);

    let empty = |model: &Path| {
        ok(&["score", "--model", s(model), s(&demo_test())])
            .lines()
            .filter(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["labels"].as_array().unwrap().is_empty()
            })
            .count()
    };
    assert_eq!(
        empty(&strict),
        0,
        "at least one label per document by default"
    );
    assert!(
        empty(&lenient) > 0,
        "a 0.95 threshold leaves some articles without label"
    );

    let report = dir.path().join("r.json");
    ok(&[
        "eval",
        "--model",
        s(&lenient),
        "--data",
        s(&demo_test()),
        "--json",
        s(&report),
    ]);
    let r = read_json(&report);
    let gold = r["label_cardinality_true"].as_f64().unwrap();
    let predicted = r["label_cardinality_pred"].as_f64().unwrap();
    assert!(predicted < gold, "{predicted} vs {gold}");
}

/// Run `cv` and return (stdout, JSON written).
fn cv(data: &Path, extra: &[&str], json: &Path) -> (String, Value) {
    let mut args = vec!["cv", "--data", s(data), "--json", s(json)];
    args.extend(extra);
    let out = ok(&args);
    (out, read_json(json))
}

#[test]
fn cv_on_the_demo_data_is_identical_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let j = |n: &str| dir.path().join(n);
    let flags = ["--folds", "4", "--seed", "11"];
    let (out1, json1) = cv(&demo_train(), &flags, &j("a.json"));
    let (out2, json2) = cv(&demo_train(), &flags, &j("b.json"));
    assert_eq!(out1, out2, "same seed, same output");
    assert_eq!(json1, json2);
    let (out3, _) = cv(
        &demo_train(),
        &["--folds", "4", "--seed", "12"],
        &j("c.json"),
    );
    assert_ne!(out1, out3, "another seed, other folds");

    assert!(out1.contains("multi-label: one-vs-rest"), "{out1}");
    assert!(out1.contains("4 folds"), "{out1}");
    for metric in [
        "micro_f1",
        "macro_f1",
        "samples_f1",
        "hamming_loss",
        "subset_accuracy",
    ] {
        let line = out1
            .lines()
            .find(|l| l.starts_with(metric))
            .unwrap_or_else(|| panic!("no {metric} row in\n{out1}"));
        // name, mean, std, then one value per fold
        assert_eq!(line.split_whitespace().count(), 3 + 4, "{line}");
        let m = &json1["metrics"][metric];
        assert_eq!(m["values"].as_array().unwrap().len(), 4);
        assert!(m["std"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(json1["folds"], 4);
    assert_eq!(json1["multi_label"], true);
    let sizes: u64 = json1["fold_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sizes, 480);
    assert_eq!(json1["fold_reports"].as_array().unwrap().len(), 4);
    assert!(json1["metrics"]["micro_f1"]["mean"].as_f64().unwrap() > 0.8);
}

#[test]
fn cv_tunes_thresholds_inside_each_fold_and_takes_every_train_option() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--folds",
        "3",
        "--thresholds",
        "tuned",
        "--threshold-folds",
        "3",
        "--analyzer",
        "char_wb",
        "--c",
        "5",
    ];
    let (out, json) = cv(&demo_train(), &flags, &dir.path().join("a.json"));
    assert!(out.contains("micro_f1"), "{out}");
    assert_eq!(json["params"]["threshold_mode"], "tuned");
    assert_eq!(json["params"]["logistic"]["c"], 5.0);
    assert_eq!(json["params"]["tfidf"]["analyzer"]["type"], "char_wb");
    let (again, _) = cv(&demo_train(), &flags, &dir.path().join("b.json"));
    assert_eq!(out, again);
}

#[test]
fn cv_on_single_label_data_reports_accuracy_mean_and_std() {
    let dir = tempfile::tempdir().unwrap();
    // The demo corpus with only each article's first label: single-label data.
    let single = dir.path().join("single.jsonl");
    let lines: Vec<String> = fs::read_to_string(demo_train())
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let first = v["labels"][0].clone();
            v["labels"] = Value::Array(vec![first]);
            v.to_string()
        })
        .collect();
    fs::write(&single, lines.join("\n")).unwrap();
    let (out, json) = cv(
        &single,
        &["--folds", "5", "--seed", "3"],
        &dir.path().join("a.json"),
    );
    assert!(out.contains("single-label: multinomial"), "{out}");
    let acc = &json["metrics"]["accuracy"];
    assert!(acc["mean"].as_f64().unwrap() > 0.7, "{out}");
    assert!(acc["std"].as_f64().unwrap() > 0.0);
    assert!(json["metrics"].get("hamming_loss").is_none());
    let row = out.lines().find(|l| l.starts_with("accuracy")).unwrap();
    assert_eq!(row.split_whitespace().count(), 3 + 5, "{row}");
    let (again, _) = cv(
        &single,
        &["--folds", "5", "--seed", "3"],
        &dir.path().join("b.json"),
    );
    assert_eq!(out, again);
}

#[test]
fn cv_rejects_bad_fold_counts_clearly() {
    for folds in ["1", "100000"] {
        let (success, _, stderr) = run(&["cv", "--data", s(&demo_train()), "--folds", folds]);
        assert!(!success, "--folds {folds} accepted");
        assert!(stderr.contains("fold") || stderr.contains("k"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn evidence_thresholds_are_the_default_and_inspect_shows_why() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.model");
    let (success, _, stderr) = run(&["train", "--data", s(&demo_train()), "--out", s(&model)]);
    assert!(success, "{stderr}");
    assert!(
        stderr.contains("thresholds  by evidence from 5-fold"),
        "{stderr}"
    );
    let text = ok(&["inspect", "--model", s(&model)]);
    assert!(
        text.contains("thresholds   by evidence from 5-fold"),
        "{text}"
    );
    // Every label: its threshold, out-of-fold F1 at 0.5, positives and the reason.
    let v: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"])).unwrap();
    assert_eq!(v["params"]["threshold_mode"], "evidence");
    for l in v["labels"].as_array().unwrap() {
        let name = l["label"].as_str().unwrap();
        let e = &l["threshold_evidence"];
        let line = text
            .lines()
            .find(|x| x.starts_with(&format!("{name}  (")))
            .unwrap_or_else(|| panic!("no section for {name}: {text}"));
        let why = e["reason"].as_str().unwrap();
        assert!(line.contains(why), "{line}");
        assert!(
            line.contains(&format!("{} positives", e["positives"])),
            "{line}"
        );
        assert_eq!(
            v["training"]["label_counts"][name].as_u64(),
            e["positives"].as_u64()
        );
    }
    // A fixed threshold asks for no evidence.
    ok(&[
        "train",
        "--data",
        s(&demo_train()),
        "--thresholds",
        "fixed",
        "--out",
        s(&model),
    ]);
    let v: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&model), "--json"])).unwrap();
    assert!(v["training"]["threshold_tuning"].is_null());
    assert!(v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["threshold"] == 0.5 && l["threshold_evidence"].is_null()));
}
