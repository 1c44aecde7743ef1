//! Unit tests of evaluation: golden numbers from scikit-learn, rendering, folds.

use super::folds::SplitMix64;
use super::render::{cells, truncate_cells};
use super::*;
use crate::error::Error;
use std::collections::BTreeMap;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn docs(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter().map(|d| s(d)).collect()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn model() -> Vec<String> {
    s(&["resistance", "occupation", "terrorism"])
}

// from sklearn.metrics import *  (scikit-learn 1.9.1)
// L = ["resistance", "occupation", "terrorism", "martyrdom"]
// y_true = ["resistance","resistance","occupation","occupation","terrorism","martyrdom",
//           "terrorism","resistance","occupation"]
// y_pred = ["resistance","occupation","occupation","(none)","terrorism","resistance",
//           "resistance","resistance","terrorism"]
// accuracy_score(y_true, y_pred)
// precision_recall_fscore_support(y_true, y_pred, labels=L, average=avg, zero_division=0)
//   for avg in None, "micro", "macro", "weighted"
// confusion_matrix(y_true, y_pred, labels=L + ["(none)"])[:4]
#[test]
fn golden_single_label_matches_sklearn() {
    let truth = docs(&[
        &["resistance"],
        &["resistance"],
        &["occupation"],
        &["occupation"],
        &["terrorism"],
        &["martyrdom"],
        &["terrorism"],
        &["resistance"],
        // several gold labels: single-label evaluation uses the first
        &["occupation", "terrorism"],
    ]);
    let predicted = docs(&[
        &["resistance"],
        &["occupation"],
        &["occupation"],
        &[],
        &["terrorism"],
        &["resistance"],
        &["resistance"],
        &["resistance"],
        &["terrorism"],
    ]);
    let r = evaluate(&model(), &truth, &predicted, false).unwrap();
    assert_eq!(
        r.labels,
        s(&["resistance", "occupation", "terrorism", "martyrdom"])
    );
    assert_eq!(
        r.unknown_labels,
        BTreeMap::from([("martyrdom".to_string(), 1)])
    );
    assert_eq!(r.n_documents, 9);
    assert_eq!(r.n_empty_predictions, 1);
    close(r.accuracy, 0.4444444444444444);
    close(r.micro_precision, 0.5);
    close(r.micro_recall, 0.4444444444444444);
    close(r.micro_f1, 0.47058823529411764);
    close(r.macro_precision, 0.375);
    close(r.macro_recall, 0.375);
    close(r.macro_f1, 0.3678571428571429);
    close(r.weighted_precision, 0.4444444444444444);
    close(r.weighted_recall, 0.4444444444444444);
    close(r.weighted_f1, 0.43492063492063493);
    let want = [
        (0.5, 0.6666666666666666, 0.5714285714285714, 3),
        (0.5, 0.3333333333333333, 0.4, 3),
        (0.5, 0.5, 0.5, 2),
        (0.0, 0.0, 0.0, 1),
    ];
    for (m, (p, rc, f, sup)) in r.per_label.iter().zip(want) {
        close(m.precision, p);
        close(m.recall, rc);
        close(m.f1, f);
        assert_eq!(m.support, sup);
        assert_eq!(m.tp + m.fp + m.fn_ + m.tn, 9);
    }
    assert!(r.label("martyrdom").unwrap().unknown);
    assert!(!r.label("terrorism").unwrap().unknown);
    assert_eq!(
        r.confusion_matrix,
        ConfusionMatrix::SingleLabel(vec![
            vec![2, 1, 0, 0, 0],
            vec![0, 1, 1, 0, 1],
            vec![1, 0, 1, 0, 0],
            vec![1, 0, 0, 0, 0],
        ])
    );
    assert_eq!(
        r.confusion_columns.as_deref().unwrap().last().unwrap(),
        NO_PREDICTION
    );
    assert!(r.samples_f1.is_none() && r.hamming_loss.is_none() && r.subset_accuracy.is_none());
}

// from sklearn.metrics import *; from sklearn.preprocessing import MultiLabelBinarizer
// (scikit-learn 1.9.1)
// L = ["resistance", "occupation", "terrorism", "martyrdom"]
// T, P = the gold and predicted sets below
// mlb = MultiLabelBinarizer(classes=L); Y = mlb.fit_transform(T); Yp = mlb.transform(P)
// precision_recall_fscore_support(Y, Yp, average=avg, zero_division=0)
//   for avg in None, "micro", "macro", "weighted", "samples"
// hamming_loss(Y, Yp); accuracy_score(Y, Yp); multilabel_confusion_matrix(Y, Yp)
#[test]
fn golden_multi_label_matches_sklearn() {
    let truth = docs(&[
        &["resistance", "occupation"],
        &["terrorism"],
        &[],
        &["martyrdom", "resistance"],
        &["occupation"],
        &["resistance", "terrorism"],
        &["occupation", "terrorism"],
    ]);
    let predicted = docs(&[
        &["resistance"],
        &["terrorism", "occupation"],
        &[],
        &["resistance"],
        &["occupation"],
        &[],
        &["occupation", "terrorism", "resistance"],
    ]);
    let r = evaluate(&model(), &truth, &predicted, true).unwrap();
    assert!(r.multi_label);
    assert_eq!(r.labels.last().unwrap(), "martyrdom");
    close(r.micro_precision, 0.75);
    close(r.micro_recall, 0.6);
    close(r.micro_f1, 0.6666666666666666);
    close(r.macro_precision, 0.5833333333333333);
    close(r.macro_recall, 0.5);
    close(r.macro_f1, 0.5333333333333333);
    close(r.weighted_precision, 0.7);
    close(r.weighted_recall, 0.6);
    close(r.weighted_f1, 0.64);
    close(r.samples_precision.unwrap(), 0.5952380952380952);
    close(r.samples_recall.unwrap(), 0.5714285714285714);
    close(r.samples_f1.unwrap(), 0.5428571428571428);
    close(r.hamming_loss.unwrap(), 0.21428571428571427);
    close(r.subset_accuracy.unwrap(), 0.2857142857142857);
    close(r.accuracy, 0.2857142857142857);
    // Y.sum(axis=1).mean(), Yp.sum(axis=1).mean()
    close(r.label_cardinality_true.unwrap(), 10.0 / 7.0);
    close(r.label_cardinality_pred.unwrap(), 8.0 / 7.0);
    let f1: Vec<f64> = r.per_label.iter().map(|m| m.f1).collect();
    for (a, b) in f1
        .iter()
        .zip([0.6666666666666666, 0.6666666666666666, 0.8, 0.0])
    {
        close(*a, b);
    }
    assert_eq!(
        r.confusion_matrix,
        ConfusionMatrix::MultiLabel(vec![
            [[3, 1], [1, 2]],
            [[3, 1], [1, 2]],
            [[4, 0], [1, 2]],
            [[6, 0], [1, 0]],
        ])
    );
    assert!(r.confusion_columns.is_none());
    assert_eq!(r.n_empty_predictions, 2);
}

// sklearn f1_score([[0,0],[1,0]], [[0,0],[1,0]], average="samples", zero_division=0) == 0.5:
// a document with neither gold nor predicted labels scores 0, not 1.
#[test]
fn empty_vs_empty_document_counts_zero_in_samples_average() {
    let labels = s(&["a", "b"]);
    let r = evaluate(&labels, &docs(&[&[], &["a"]]), &docs(&[&[], &["a"]]), true).unwrap();
    close(r.samples_f1.unwrap(), 0.5);
    close(r.samples_precision.unwrap(), 0.5);
    close(r.samples_recall.unwrap(), 0.5);
    close(r.subset_accuracy.unwrap(), 1.0);
    close(r.hamming_loss.unwrap(), 0.0);
}

#[test]
fn duplicate_labels_inside_a_document_count_once() {
    let labels = s(&["a", "b"]);
    let r = evaluate(&labels, &docs(&[&["a", "a"]]), &docs(&[&["a"]]), true).unwrap();
    close(r.subset_accuracy.unwrap(), 1.0);
    assert_eq!(r.label("a").unwrap().tp, 1);
}

#[test]
fn no_none_column_without_empty_predictions() {
    let labels = s(&["a", "b"]);
    let r = evaluate(
        &labels,
        &docs(&[&["a"], &["b"]]),
        &docs(&[&["a"], &["a"]]),
        false,
    )
    .unwrap();
    assert_eq!(r.confusion_columns, Some(labels.clone()));
    assert_eq!(
        r.confusion_matrix,
        ConfusionMatrix::SingleLabel(vec![vec![1, 0], vec![1, 0]])
    );
    assert!(!r.to_string().contains(NO_PREDICTION));
}

#[test]
fn evaluate_rejects_bad_input() {
    let labels = s(&["a", "b"]);
    let one = docs(&[&["a"]]);
    let err = |r: crate::Result<Report>| r.unwrap_err();
    assert!(matches!(
        err(evaluate(&labels, &one, &docs(&[&["a"], &["b"]]), false)),
        Error::TargetMismatch { .. }
    ));
    assert!(matches!(
        err(evaluate(&labels, &[], &[], true)),
        Error::EmptyCorpus { .. }
    ));
    assert!(matches!(
        err(evaluate(&labels, &one, &docs(&[&["zzz"]]), true)),
        Error::UnknownPrediction { .. }
    ));
    assert!(matches!(
        err(evaluate(&s(&["a", "a"]), &one, &one, false)),
        Error::DuplicateLabel { .. }
    ));
    assert!(matches!(
        err(evaluate(&labels, &docs(&[&[]]), &one, false)),
        Error::MissingGoldLabel { .. }
    ));
    assert!(matches!(
        err(evaluate(&labels, &one, &docs(&[&["a", "b"]]), false)),
        Error::SeveralPredictions { .. }
    ));
    assert!(matches!(
        err(evaluate(&[], &docs(&[&[]]), &docs(&[&[]]), true)),
        Error::NothingToEvaluate
    ));
}

#[test]
fn unknown_gold_labels_are_sorted_after_model_labels_and_never_crash() {
    let labels = s(&["b", "a"]);
    let truth = docs(&[&["z"], &["y"], &["z"], &["a"]]);
    let pred = docs(&[&["a"], &["b"], &[], &["a"]]);
    let r = evaluate(&labels, &truth, &pred, false).unwrap();
    assert_eq!(r.labels, s(&["b", "a", "y", "z"]));
    assert_eq!(r.unknown_labels["z"], 2);
    assert_eq!(r.label("z").unwrap().fn_, 2);
    close(r.label("z").unwrap().recall, 0.0);
}

#[test]
fn json_has_the_documented_keys() {
    let single = evaluate(&s(&["a", "b"]), &docs(&[&["a"]]), &docs(&[&["a"]]), false).unwrap();
    let v = serde_json::to_value(&single).unwrap();
    for key in [
        "accuracy",
        "micro_f1",
        "macro_f1",
        "weighted_f1",
        "labels",
        "per_label",
        "confusion_matrix",
        "confusion_columns",
        "n_documents",
        "unknown_labels",
        "multi_label",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["samples_f1", "hamming_loss", "subset_accuracy"] {
        assert!(v.get(key).is_none(), "single-label report has {key}");
    }
    let row = &v["per_label"][0];
    for key in [
        "label",
        "precision",
        "recall",
        "f1",
        "support",
        "tp",
        "fp",
        "fn",
    ] {
        assert!(row.get(key).is_some(), "per_label lacks {key}");
    }
    assert_eq!(v["confusion_matrix"], serde_json::json!([[1, 0], [0, 0]]));

    let multi = evaluate(
        &s(&["a", "b"]),
        &docs(&[&["a", "b"]]),
        &docs(&[&["a"]]),
        true,
    )
    .unwrap();
    let v = serde_json::to_value(&multi).unwrap();
    for key in [
        "samples_f1",
        "hamming_loss",
        "subset_accuracy",
        "confusion_matrix",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert!(v.get("confusion_columns").is_none());
    assert_eq!(
        v["confusion_matrix"],
        serde_json::json!([[[0, 0], [0, 1]], [[0, 0], [1, 0]]])
    );

    for r in [single, multi] {
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

#[test]
fn the_no_prediction_column_never_takes_a_labels_name() {
    let labels = s(&["(none)", "(none)*", "other"]);
    let truth = docs(&[&["(none)"], &["other"], &["(none)*"]]);
    let pred = docs(&[&["(none)"], &[], &["other"]]);
    let r = evaluate(&labels, &truth, &pred, false).unwrap();
    let columns = r.confusion_columns.as_deref().unwrap();
    assert_eq!(columns, ["(none)", "(none)*", "other", "(none)**"]);
    // The abstention is counted in the last column, not in the label "(none)"'s.
    let ConfusionMatrix::SingleLabel(m) = &r.confusion_matrix else {
        panic!("single-label matrix expected")
    };
    assert_eq!(m[2], [0, 0, 0, 1]);
    assert_eq!(m[0], [1, 0, 0, 0]);
}

#[test]
fn tables_line_up_by_terminal_cells() {
    // Chinese characters take two cells, a combining accent none: padding by characters
    // would shift the numbers of these rows against the Latin one.
    let labels = s(&["经济", "se\u{301}curite\u{301}", "economy"]);
    let truth = docs(&[
        &["经济"],
        &["se\u{301}curite\u{301}"],
        &["economy"],
        &["经济"],
    ]);
    let pred = docs(&[
        &["经济"],
        &["economy"],
        &["economy"],
        &["se\u{301}curite\u{301}"],
    ]);
    let text = evaluate(&labels, &truth, &pred, false).unwrap().to_string();
    // Where the first figure of each per-label row starts, in cells.
    let start = |label: &str| {
        let line = text.lines().find(|l| l.starts_with(label)).unwrap();
        let figure = line.find(|c: char| c.is_ascii_digit()).unwrap();
        cells(&line[..figure])
    };
    let starts: Vec<usize> = labels.iter().map(|l| start(l)).collect();
    assert!(
        starts.iter().all(|&c| c == starts[0]),
        "{starts:?} in\n{text}"
    );
    // Every row of the confusion matrix is as wide as its header row.
    let matrix: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("gold"))
        .collect();
    assert_eq!(matrix.len(), 4, "{text}");
    assert!(
        matrix.iter().all(|l| cells(l) == cells(matrix[0])),
        "{text}"
    );
    // A label cut to fit is cut by cells too.
    assert_eq!(truncate_cells("经济经济经济", 6), "经济…");
    assert_eq!(cells(&truncate_cells("经济经济经济", 6)), 5);
}

#[test]
fn display_shows_tables_notes_and_matrix() {
    let truth = docs(&[&["resistance"], &["martyrdom"], &["occupation"]]);
    let pred = docs(&[&["resistance"], &["resistance"], &[]]);
    let text = evaluate(&model(), &truth, &pred, false)
        .unwrap()
        .to_string();
    for needle in [
        "precision",
        "weighted avg",
        "macro avg",
        "micro avg",
        "accuracy",
        "martyrdom *",
        "not a model label",
        "(none)",
        "gold \\ predicted",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Every row of the confusion matrix has the same width.
    let matrix: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("gold"))
        .collect();
    assert_eq!(matrix.len(), 5);
    assert!(matrix
        .iter()
        .all(|l| l.chars().count() == matrix[0].chars().count()));
}

#[test]
fn display_numbers_columns_when_labels_are_long() {
    let long = "foreign interference in domestic affairs of sovereign states".to_string();
    let labels = vec![long.clone(), "short".to_string()];
    let truth = vec![vec![long.clone()], vec!["short".to_string()]];
    let text = evaluate(&labels, &truth, &truth, false)
        .unwrap()
        .to_string();
    assert!(!text.contains(&long), "long label printed in full:\n{text}");
    assert!(text.contains('…'));
    assert!(
        text.contains("[0] foreign") && text.contains("[1]"),
        "{text}"
    );
}

#[test]
fn display_multi_label_shows_per_label_2x2() {
    let text = evaluate(
        &s(&["a", "b"]),
        &docs(&[&["a", "b"]]),
        &docs(&[&["a"]]),
        true,
    )
    .unwrap()
    .to_string();
    for needle in ["samples avg", "subset accuracy", "hamming loss", "TN", "TP"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn html_escape_escapes_markup_and_ampersands() {
    assert_eq!(
        html_escape("<script>alert('x & \"y\"')</script>"),
        "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;"
    );
    assert_eq!(html_escape("&amp;"), "&amp;amp;");
    assert_eq!(html_escape("مقاومة"), "مقاومة");
}

#[test]
fn html_is_self_contained_and_escaped() {
    let labels = s(&["<script>alert(1)</script>", "war & peace"]);
    let truth = vec![
        vec![labels[0].clone()],
        vec![labels[1].clone()],
        vec!["<b>".into()],
    ];
    let pred = vec![vec![labels[0].clone()], vec![labels[0].clone()], vec![]];
    let r = evaluate(&labels, &truth, &pred, false).unwrap();
    let html = r.to_html("Test <report> & co");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "unescaped label");
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("war &amp; peace"));
    assert!(html.contains("<title>Test &lt;report&gt; &amp; co</title>"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains(" src="));
    // Row-normalised shading: the first row is 1 of 1 → full intensity.
    assert!(html.contains("rgba(31,94,180,1.000)"));
    let multi = evaluate(&labels, &truth, &pred, true).unwrap().to_html("m");
    assert!(multi.contains("TN") && !multi.contains("<script"));
}

// ----- folds -----

fn fold_sizes(folds: &[usize], k: usize) -> Vec<usize> {
    let mut sizes = vec![0; k];
    for &f in folds {
        sizes[f] += 1;
    }
    sizes
}

fn single_label_data() -> Vec<Vec<String>> {
    // 50 / 30 / 13 / 4 documents, plus 3 without label.
    let mut d = Vec::new();
    for (label, n) in [
        ("resistance", 50),
        ("occupation", 30),
        ("terrorism", 13),
        ("martyrdom", 4),
    ] {
        d.extend((0..n).map(|_| vec![label.to_string()]));
    }
    d.extend((0..3).map(|_| Vec::new()));
    d
}

#[test]
fn stratified_folds_rejects_bad_k() {
    let d = single_label_data();
    assert!(matches!(
        stratified_folds(&d, 1, 0),
        Err(Error::BadFoldCount { .. })
    ));
    assert!(matches!(
        stratified_folds(&d, 101, 0),
        Err(Error::BadFoldCount { .. })
    ));
    assert!(stratified_folds(&d, 100, 0).is_ok());
    assert!(stratified_folds(&[], 2, 0).is_err());
}

#[test]
fn stratified_folds_single_label_balanced_and_proportional() {
    let d = single_label_data();
    for k in [2, 3, 5, 7] {
        let folds = stratified_folds(&d, k, 42).unwrap();
        assert_eq!(folds.len(), d.len());
        let sizes = fold_sizes(&folds, k);
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        for label in ["resistance", "occupation", "terrorism", "martyrdom"] {
            let mut per_fold = vec![0usize; k];
            for (doc, &f) in d.iter().zip(&folds) {
                if doc.first().map(String::as_str) == Some(label) {
                    per_fold[f] += 1;
                }
            }
            let (lo, hi) = (
                per_fold.iter().min().unwrap(),
                per_fold.iter().max().unwrap(),
            );
            assert!(hi - lo <= 1, "{label} spread {per_fold:?} for k={k}");
        }
    }
}

#[test]
fn stratified_folds_is_deterministic_per_seed() {
    let d = single_label_data();
    assert_eq!(
        stratified_folds(&d, 5, 7).unwrap(),
        stratified_folds(&d, 5, 7).unwrap()
    );
    assert_ne!(
        stratified_folds(&d, 5, 7).unwrap(),
        stratified_folds(&d, 5, 8).unwrap()
    );
    let m = multi_label_data();
    assert_eq!(
        stratified_folds(&m, 5, 7).unwrap(),
        stratified_folds(&m, 5, 7).unwrap()
    );
    assert_ne!(
        stratified_folds(&m, 5, 7).unwrap(),
        stratified_folds(&m, 5, 8).unwrap()
    );
}

/// 400 documents over 6 labels with skewed frequencies and co-occurrences; some without label.
fn multi_label_data() -> Vec<Vec<String>> {
    let names = [
        "resistance",
        "occupation",
        "terrorism",
        "martyrdom",
        "sanctions",
        "zionism",
    ];
    let mut rng = SplitMix64(2024);
    (0..400)
        .map(|_| {
            let mut doc = Vec::new();
            for (j, name) in names.iter().enumerate() {
                // P(label j) = 0.6, 0.4, 0.27, 0.18, 0.12, 0.08
                if rng.below(1000) < (600.0 / 1.5f64.powi(j as i32)) as usize {
                    doc.push(name.to_string());
                }
            }
            doc
        })
        .collect()
}

#[test]
fn stratified_folds_multi_label_keeps_label_proportions() {
    let d = multi_label_data();
    assert!(d.iter().any(|x| x.len() > 1) && d.iter().any(|x| x.is_empty()));
    for k in [3, 5] {
        let folds = stratified_folds(&d, k, 1).unwrap();
        let sizes = fold_sizes(&folds, k);
        let target = d.len() as f64 / k as f64;
        assert!(
            sizes
                .iter()
                .all(|&s| (s as f64 - target).abs() <= 0.05 * target + 1.0),
            "{sizes:?}"
        );
        let mut labels: Vec<&String> = d.iter().flatten().collect();
        labels.sort();
        labels.dedup();
        for label in labels {
            let total = d.iter().filter(|x| x.contains(label)).count() as f64;
            for fold in 0..k {
                let in_fold = d
                    .iter()
                    .zip(&folds)
                    .filter(|(x, &f)| f == fold && x.contains(label))
                    .count() as f64;
                // Iterative stratification keeps each label's count per fold within a
                // document or two of its share.
                assert!(
                    (in_fold - total / k as f64).abs() <= 2.0,
                    "{label}: {in_fold} in fold {fold}, want {}",
                    total / k as f64
                );
            }
        }
    }
}

#[test]
fn stratified_folds_multi_label_rare_label_is_spread() {
    // The rare label "x" (3 documents) must land in 3 different folds.
    let mut d = docs(&[
        &["a", "b"],
        &["a"],
        &["b"],
        &["a", "x"],
        &["b", "x"],
        &["x"],
    ]);
    d.extend((0..6).map(|i| vec![if i % 2 == 0 { "a" } else { "b" }.to_string()]));
    let folds = stratified_folds(&d, 3, 9).unwrap();
    let mut x_folds: Vec<usize> = d
        .iter()
        .zip(&folds)
        .filter(|(x, _)| x.contains(&"x".to_string()))
        .map(|(_, &f)| f)
        .collect();
    x_folds.sort_unstable();
    assert_eq!(x_folds, vec![0, 1, 2]);
    // Per-label targets take precedence over fold size, so sizes may drift from n/k a little.
    assert!(fold_sizes(&folds, 3).iter().all(|&n| (3..=5).contains(&n)));
}

// ----- summaries -----

fn report_with(accuracy: f64, macro_f1: f64) -> Report {
    let mut r = evaluate(&s(&["a", "b"]), &docs(&[&["a"]]), &docs(&[&["a"]]), false).unwrap();
    r.accuracy = accuracy;
    r.macro_f1 = macro_f1;
    r
}

#[test]
fn summarize_folds_mean_and_sample_std() {
    let reports = [
        report_with(0.5, 0.2),
        report_with(0.7, 0.4),
        report_with(0.9, 0.9),
    ];
    let cv = summarize_folds(&reports);
    assert_eq!(cv.folds, 3);
    let acc = cv.get("accuracy").unwrap();
    close(acc.mean, 0.7);
    // sample std of [0.5, 0.7, 0.9] = sqrt((0.04 + 0 + 0.04) / 2) = 0.2
    close(acc.std, 0.2);
    assert_eq!(acc.values, vec![0.5, 0.7, 0.9]);
    close(cv.get("macro_f1").unwrap().mean, 0.5);
    assert!(cv.get("samples_f1").is_none());
    let names: Vec<&str> = cv.metrics.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["accuracy", "micro_f1", "macro_f1", "weighted_f1"]);

    let one = summarize_folds(&reports[..1]);
    close(one.get("accuracy").unwrap().std, 0.0);
    assert_eq!(summarize_folds(&[]).folds, 0);
}

#[test]
fn summarize_folds_multi_label_metrics_only_when_all_folds_have_them() {
    let multi = evaluate(
        &s(&["a", "b"]),
        &docs(&[&["a", "b"]]),
        &docs(&[&["a"]]),
        true,
    )
    .unwrap();
    let cv = summarize_folds(&[multi.clone(), multi.clone()]);
    for name in ["samples_f1", "hamming_loss", "subset_accuracy"] {
        assert!(cv.get(name).is_some(), "missing {name}");
    }
    let mixed = summarize_folds(&[multi, report_with(1.0, 1.0)]);
    assert!(mixed.get("hamming_loss").is_none());
    assert!(mixed.get("accuracy").is_some());
}

#[test]
fn cv_summary_json_and_display() {
    let cv = summarize_folds(&[report_with(0.5, 0.2), report_with(0.7, 0.4)]);
    let v = serde_json::to_value(&cv).unwrap();
    assert_eq!(v["folds"], 2);
    assert_eq!(
        v["metrics"]["accuracy"]["values"],
        serde_json::json!([0.5, 0.7])
    );
    assert!(v["metrics"]["accuracy"]["mean"].is_number());
    assert!(v["metrics"]["accuracy"]["std"].is_number());
    let json = serde_json::to_string(&cv).unwrap();
    assert!(json.find("\"accuracy\"").unwrap() < json.find("\"weighted_f1\"").unwrap());
    let back: CvSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cv);

    let text = cv.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("mean") && lines[0].contains("std") && lines[0].contains("fold2"));
    assert!(lines[1].starts_with("accuracy") && lines[1].contains("0.600"));
    assert!(lines
        .iter()
        .all(|l| l.chars().count() == lines[0].chars().count()));
}
