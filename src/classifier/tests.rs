//! Unit tests of the pipeline: exact explanations, thresholds, cross-validation.

use super::thresholds::rule_counts;
use super::*;
use crate::error::Error;
use crate::features::{DfLimit, TfidfParams};
use crate::logistic::{ClassWeight, ModelKind};
use crate::Document;

fn doc(id: &str, text: &str, labels: &[&str]) -> Document {
    Document {
        id: id.into(),
        text: text.into(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn small_corpus() -> Vec<Document> {
    let mut docs = Vec::new();
    for i in 0..20 {
        docs.push(doc(
            &format!("s{i}"),
            &format!("missile strike on the border base {i} troops drone"),
            &["security"],
        ));
        docs.push(doc(
            &format!("d{i}"),
            &format!("foreign minister talks summit envoy {i} delegation"),
            &["diplomacy"],
        ));
        docs.push(doc(
            &format!("e{i}"),
            &format!("oil exports inflation sanctions currency {i} trade"),
            &["economy"],
        ));
    }
    docs
}

#[test]
fn contributions_add_up_to_the_logit_exactly() {
    let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
    let text = "The envoy spoke of sanctions after a drone strike; the summit talks went on.";
    let row = clf.vectorizer.transform(text);
    let logits = clf.model.logits(&row.indices, &row.values);
    for (k, &logit) in logits.iter().enumerate() {
        let all = clf.explainer().contributions(&row.indices, &row.values, k);
        let sum: f64 = clf.model.bias[k] + all.iter().map(|c| c.contribution).sum::<f64>();
        assert!((sum - logit).abs() < 1e-9, "label {k}: {sum} vs {logit}");
    }
    let p = clf.predict("x", text, 3);
    for e in &p.explanation {
        assert!(e.up.len() <= 3 && e.down.len() <= 3);
        assert!(e
            .up
            .windows(2)
            .all(|w| w[0].contribution >= w[1].contribution));
    }
}

#[test]
fn predicts_the_right_frame_and_explains_with_its_words() {
    let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
    let p = clf.predict("x", "A drone and a missile hit the border.", 5);
    assert_eq!(p.labels, ["security"]);
    let terms: Vec<&str> = p.explanation[0]
        .up
        .iter()
        .map(|c| c.term.as_str())
        .collect();
    assert!(
        terms.contains(&"drone") && terms.contains(&"missile"),
        "{terms:?}"
    );
    let s: f64 = p.probabilities.iter().map(|(_, p)| p).sum();
    assert!((s - 1.0).abs() < 1e-12);
}

#[test]
fn empty_document_is_scored_from_the_biases() {
    let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
    for text in ["", "   ", "zzz unknown words only"] {
        let p = clf.predict("e", text, 5);
        assert!(p.no_known_terms);
        assert_eq!(p.labels.len(), 1);
        assert!(p.explanation[0].up.is_empty());
    }
}

#[test]
fn too_few_labels_and_empty_vocabulary_are_clear_errors() {
    let one: Vec<Document> = (0..5)
        .map(|i| doc(&i.to_string(), "some text here", &["a"]))
        .collect();
    assert!(matches!(
        ClassifierParams::default().fit(&one),
        Err(Error::TooFewLabels { found: 1, .. })
    ));
    let distinct = vec![doc("1", "alpha", &["a"]), doc("2", "beta", &["b"])];
    let err = ClassifierParams::default().fit(&distinct).unwrap_err();
    assert!(matches!(err, Error::EmptyVocabulary { .. }), "{err}");
    let ok = ClassifierParams {
        tfidf: TfidfParams {
            min_df: DfLimit::Count(1),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(ok.fit(&distinct).is_ok());
}

#[test]
fn multi_label_documents_train_one_vs_rest() {
    let mut docs = small_corpus();
    for i in 0..10 {
        docs.push(doc(
            &format!("m{i}"),
            &format!("sanctions talks envoy oil exports summit {i}"),
            &["diplomacy", "economy"],
        ));
    }
    let (clf, _) = ClassifierParams::default().fit(&docs).unwrap();
    assert!(clf.is_multi_label());
    let p = clf.predict(
        "x",
        "sanctions on oil exports discussed at the summit talks",
        5,
    );
    assert!(p.labels.contains(&"economy".to_string()), "{:?}", p.labels);
    for e in &p.explanation {
        assert_eq!(e.threshold, Some(0.5));
    }
    let single = ClassifierParams {
        label_mode: LabelMode::Single,
        ..Default::default()
    };
    assert!(single.fit(&docs).is_err());
}

fn multi_label_corpus() -> Vec<Document> {
    let mut docs = small_corpus();
    for i in 0..15 {
        docs.push(doc(
            &format!("m{i}"),
            &format!("sanctions talks envoy oil exports summit {i}"),
            &["diplomacy", "economy"],
        ));
        docs.push(doc(
            &format!("n{i}"),
            &format!("drone strike near the summit venue envoy {i}"),
            &["diplomacy", "security"],
        ));
    }
    docs
}

#[test]
fn best_f1_threshold_picks_the_midpoint_that_maximises_f1() {
    // Positives at 0.9, 0.8, 0.3; negatives at 0.6, 0.2. Predicting the top 3 (t in
    // (0.3, 0.6]) gives F1 4/6; the top 2 (t in (0.6, 0.8]): 4/5; the top 4: 6/7, the best.
    let p = [0.9, 0.8, 0.6, 0.3, 0.2];
    let y = [true, true, false, true, false];
    let (t, f1) = best_f1_threshold(&p, &y, (0.05, 0.95));
    assert!((t - 0.25).abs() < 1e-12, "{t}");
    assert!((f1 - 6.0 / 7.0).abs() < 1e-12);
}

#[test]
fn best_f1_threshold_ties_go_to_the_candidate_closest_to_half() {
    // Perfect separation between 0.7 and 0.2: every threshold in (0.2, 0.7] has F1 1, and
    // 0.5 is one of them, so it is kept.
    let (t, f1) = best_f1_threshold(
        &[0.9, 0.7, 0.2, 0.1],
        &[true, true, false, false],
        (0.05, 0.95),
    );
    assert_eq!((t, f1), (0.5, 1.0));
    // Separation between 0.9 and 0.8 only: the midpoint 0.85 is the one threshold with F1 1.
    let (t, _) = best_f1_threshold(&[0.9, 0.8, 0.7], &[true, false, false], (0.05, 0.95));
    assert!((t - 0.85).abs() < 1e-12, "{t}");
}

#[test]
fn best_f1_threshold_stays_in_range_and_defaults_to_half_without_signal() {
    // The best split is at 0.035, below the range; inside it, the lower bound catches one of
    // the two positives (F1 2/3) and wins.
    let (t, f1) = best_f1_threshold(&[0.06, 0.04, 0.03], &[true, true, false], (0.05, 0.95));
    assert!((f1 - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(t, 0.05);
    // No positive at all: every F1 is 0, the threshold stays 0.5.
    assert_eq!(
        best_f1_threshold(&[0.3, 0.2], &[false, false], (0.05, 0.95)),
        (0.5, 0.0)
    );
    assert_eq!(best_f1_threshold(&[], &[], (0.05, 0.95)), (0.5, 0.0));
}

#[test]
fn tuning_counts_documents_the_at_least_one_rule_already_labels() {
    // Label 0 alone: a positive at 0.3 pulls its threshold below 0.3. But that document's
    // other label is lower still, so the at-least-one rule gives it label 0 at any threshold;
    // label 0 then keeps 0.5.
    let probs = vec![
        vec![0.9, 0.1],
        vec![0.3, 0.1],
        vec![0.4, 0.8],
        vec![0.1, 0.9],
    ];
    let truth = vec![
        vec![true, false],
        vec![true, false],
        vec![false, true],
        vec![false, true],
    ];
    let independent = tune_on_probabilities(&probs, &truth, true);
    assert!(independent[0].0 < 0.3, "{independent:?}");
    let with_rule = tune_on_probabilities(&probs, &truth, false);
    assert_eq!(with_rule[0], (0.5, 1.0));
    assert_eq!(with_rule[1], (0.5, 1.0));
}

#[test]
fn defaults_are_evidence_thresholds_and_balanced_weights_for_both_kinds() {
    let p = ClassifierParams::default();
    assert_eq!(p.threshold_mode, ThresholdMode::Evidence);
    assert_eq!(
        p.logistic_for(ModelKind::OneVsRest).class_weight,
        ClassWeight::Balanced
    );
    assert_eq!(
        p.logistic_for(ModelKind::Multinomial).class_weight,
        ClassWeight::Balanced
    );
}

#[test]
fn params_saved_before_threshold_tuning_load_with_what_those_models_did() {
    let mut v = serde_json::to_value(ClassifierParams::default()).unwrap();
    let m = v.as_object_mut().unwrap();
    for k in [
        "threshold_mode",
        "threshold_folds",
        "threshold_seed",
        "one_vs_rest_class_weight",
        "allow_empty",
    ] {
        assert!(m.remove(k).is_some(), "{k}");
    }
    let old: ClassifierParams = serde_json::from_value(v).unwrap();
    assert_eq!(old.threshold_mode, ThresholdMode::Fixed);
    assert_eq!(old.one_vs_rest_class_weight, None);
    assert!(!old.allow_empty);
    assert_eq!(old.threshold_folds, 5);
}

#[test]
fn tuned_thresholds_are_deterministic_in_range_and_recorded() {
    let params = ClassifierParams {
        threshold_mode: ThresholdMode::Tuned,
        threshold_folds: 3,
        ..Default::default()
    };
    let docs = multi_label_corpus();
    let (a, _) = params.fit(&docs).unwrap();
    let (b, _) = params.fit(&docs).unwrap();
    let ta = a.thresholds.clone().unwrap();
    assert_eq!(Some(ta.clone()), b.thresholds);
    let (lo, hi) = TUNED_THRESHOLD_RANGE;
    assert!(ta.iter().all(|&t| (lo..=hi).contains(&t)), "{ta:?}");
    let tuning = a.summary.threshold_tuning.as_ref().unwrap();
    assert_eq!((tuning.folds, tuning.labels.len()), (3, a.labels.len()));
    for (l, t) in tuning.labels.iter().zip(&ta) {
        assert_eq!(l.threshold, *t);
        assert!(l.f1 >= 0.0 && l.f1 <= 1.0);
    }
    // The tuned model still predicts the obvious frames.
    let p = a.predict("x", "a drone strike on the border base", 3);
    assert!(p.labels.contains(&"security".to_string()), "{:?}", p.labels);
}

#[test]
fn tuning_with_more_folds_than_documents_is_a_clear_error() {
    let params = ClassifierParams {
        threshold_mode: ThresholdMode::Tuned,
        threshold_folds: 500,
        ..Default::default()
    };
    let err = params.fit(&multi_label_corpus()).unwrap_err().to_string();
    assert!(err.contains("threshold"), "{err}");
    // One fold is refused for one-vs-rest thresholds (before any work, with --multi-label),
    // and ignored by a single-label model, which has no thresholds.
    for mode in [ThresholdMode::Tuned, ThresholdMode::Evidence] {
        let one = ClassifierParams {
            threshold_mode: mode,
            threshold_folds: 1,
            ..Default::default()
        };
        let err = one.fit(&multi_label_corpus()).unwrap_err().to_string();
        assert!(err.contains("threshold_folds"), "{err}");
        let err = one.cross_validate(&multi_label_corpus(), 2, 0).unwrap_err();
        assert!(err.to_string().contains("threshold_folds"), "{err}");
        let multi = ClassifierParams {
            label_mode: LabelMode::Multi,
            ..one.clone()
        };
        assert!(multi.validate().is_err());
        let (clf, _) = one.fit(&small_corpus()).unwrap();
        assert!(!clf.is_multi_label());
    }
}

#[test]
fn allow_empty_lets_a_document_get_no_label() {
    let docs = multi_label_corpus();
    let strict = ClassifierParams {
        threshold: Some(0.99),
        threshold_mode: ThresholdMode::Fixed,
        ..Default::default()
    };
    let lenient = ClassifierParams {
        allow_empty: true,
        ..strict.clone()
    };
    let text = "nothing this model has seen";
    let (a, _) = strict.fit(&docs).unwrap();
    let (b, _) = lenient.fit(&docs).unwrap();
    assert_eq!(a.predict("x", text, 3).labels.len(), 1);
    let p = b.predict("x", text, 3);
    assert!(p.labels.is_empty() && p.explanation.is_empty());
    assert_eq!(b.predict_labels(&[text]), vec![Vec::<String>::new()]);
}

#[test]
fn cross_validation_is_deterministic_per_seed_for_both_kinds() {
    for (docs, multi) in [(small_corpus(), false), (multi_label_corpus(), true)] {
        let p = ClassifierParams::default();
        let a = p.cross_validate(&docs, 3, 7).unwrap();
        let b = p.cross_validate(&docs, 3, 7).unwrap();
        assert_eq!(a, b);
        // Freeing the texts once counted changes nothing.
        assert_eq!(a, p.cross_validate_owned(docs.clone(), 3, 7).unwrap());
        assert_eq!(a.multi_label, multi);
        assert_eq!(a.summary.folds, 3);
        assert_eq!(a.fold_sizes.iter().sum::<usize>(), docs.len());
        assert_eq!(a.summary.get("samples_f1").is_some(), multi);
        let acc = a.summary.get("accuracy").unwrap();
        assert!(acc.mean > 0.8, "{}", a.summary);
        assert_ne!(a.folds, p.cross_validate(&docs, 3, 8).unwrap().folds);
    }
}

#[test]
fn highlights_add_up_to_the_logit_minus_the_bias() {
    // Word 1-2-grams with stop words (the demo model), and char_wb n-grams.
    let demo = crate::model::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/demo.flm"
    )))
    .unwrap();
    let texts: Vec<String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/demo/test.jsonl"
    ))
    .unwrap()
    .lines()
    .take(30)
    .map(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    let mut params = ClassifierParams::default();
    params.tfidf.analyzer.kind = crate::text::AnalyzerKind::CharWb;
    params.tfidf.analyzer.ngram_range = (2, 4);
    let docs: Vec<Document> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Document {
            id: i.to_string(),
            text: t.clone(),
            labels: vec![if i % 2 == 0 { "a" } else { "b" }.to_string()],
            ..Default::default()
        })
        .collect();
    let (char_wb, _) = params.fit(&docs).unwrap();
    for clf in [&demo, &char_wb] {
        for text in &texts {
            let p = clf.predict("x", text, 3);
            for e in &p.explanation {
                let k = clf.labels.iter().position(|l| *l == e.label).unwrap();
                let h = clf.highlight(text, k);
                let sum: f64 = h.iter().map(|h| h.contribution).sum();
                assert!(
                    (sum - (e.logit - e.bias)).abs() < 1e-9,
                    "{sum} vs {}",
                    e.logit - e.bias
                );
                assert!(h
                    .iter()
                    .all(|h| text.is_char_boundary(h.start) && h.end <= text.len()));
            }
        }
    }
}

/// `n` documents of one label: probabilities from `p(i)`, positive when `y(i)`.
fn one_label(
    n: usize,
    p: impl Fn(usize) -> f64,
    y: impl Fn(usize) -> bool,
) -> (Vec<Vec<f64>>, Vec<Vec<bool>>) {
    (
        (0..n).map(|i| vec![p(i)]).collect(),
        (0..n).map(|i| vec![y(i)]).collect(),
    )
}

#[test]
fn evidence_moves_a_threshold_only_for_a_gain_beyond_its_noise() {
    // 300 documents, 100 positives, all below 0.5 but ranked perfectly: at 0.5 the label is
    // never predicted (F1 0); below 0.3 it is perfect. A large, certain gain: moved.
    let (p, y) = one_label(
        300,
        |i| {
            if i < 100 {
                0.35 + i as f64 * 1e-3
            } else {
                0.05 + (i % 100) as f64 * 1e-3
            }
        },
        |i| i < 100,
    );
    let t = &evidence_thresholds(&p, &y, true).0[0];
    assert!(t.threshold > 0.15 && t.threshold < 0.35, "{t:?}");
    assert_eq!((t.f1_at_half, t.f1, t.positives), (0.0, 1.0, Some(100)));
    assert!(t.gain.unwrap() > t.noise.unwrap());
    assert!(t.reason().unwrap().starts_with("moved"), "{t:?}");

    // Separated at 0.5 already: nothing to gain, 0.5 is kept as the best.
    let (p, y) = one_label(300, |i| if i < 100 { 0.7 } else { 0.2 }, |i| i < 100);
    let t = &evidence_thresholds(&p, &y, true).0[0];
    assert_eq!((t.threshold, t.proposed, t.f1), (0.5, Some(0.5), 1.0));
    assert_eq!(t.reason().unwrap(), "0.5 is already best out of fold");

    // 20 positives: 15 above 0.5, 5 at 0.45 among 40 negatives at 0.45 too (and 140 more far
    // below). Lowering the threshold to catch the five costs 40 false positives; the best
    // proposal is at most a one-document gain, within the noise of 20 positives: kept at 0.5.
    let (p, y) = one_label(
        200,
        |i| match i {
            0..=14 => 0.8,
            15..=59 => 0.45,
            _ => 0.1,
        },
        |i| i < 20,
    );
    let t = &evidence_thresholds(&p, &y, true).0[0];
    assert_eq!(t.threshold, 0.5, "{t:?}");
    assert!(t.gain.unwrap() <= t.noise.unwrap(), "{t:?}");
}

#[test]
fn evidence_counts_the_documents_the_fallback_hands_a_label() {
    // Label 0's 100 positives sit at 0.4 and label 1 at 0.1 on them: no label passes 0.5 there,
    // so the model hands them label 0 anyway and its F1 at 0.5 is already 1. Counted without
    // that rule (as with --allow-empty) the label looks never predicted and its threshold moves.
    let probs: Vec<Vec<f64>> = (0..300)
        .map(|i| {
            if i < 100 {
                vec![0.4, 0.1]
            } else {
                vec![0.1, 0.8]
            }
        })
        .collect();
    let truth: Vec<Vec<bool>> = (0..300).map(|i| vec![i < 100, i >= 100]).collect();
    let with_rule = &evidence_thresholds(&probs, &truth, false).0[0];
    assert_eq!(
        (with_rule.threshold, with_rule.f1_at_half),
        (0.5, 1.0),
        "{with_rule:?}"
    );
    let empty_allowed = &evidence_thresholds(&probs, &truth, true).0[0];
    assert_eq!(empty_allowed.f1_at_half, 0.0, "{empty_allowed:?}");
    assert!(empty_allowed.threshold < 0.4, "{empty_allowed:?}");
}

/// Micro-F1 of per-label (true positives, predicted) counts against `all` positives.
fn micro_f1(counts: &[(usize, usize)], all: usize) -> f64 {
    let (tp, pred) = counts.iter().fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
    2.0 * tp as f64 / (pred + all) as f64
}

#[test]
fn evidence_proposals_are_coordinatewise_best_for_the_models_decision_rule() {
    let mut rng = crate::test_rng::uniform(11);
    let (n, k) = (300, 5);
    let truth: Vec<Vec<bool>> = (0..n)
        .map(|_| (0..k).map(|j| rng() < 0.15 + 0.1 * j as f64).collect())
        .collect();
    // Weak, shifted scores: many documents pass no label at 0.5.
    let probs: Vec<Vec<f64>> = truth
        .iter()
        .map(|y| {
            y.iter()
                .map(|&t| 0.5 * rng() + if t { 0.2 } else { 0.0 })
                .collect()
        })
        .collect();
    let positives: Vec<usize> = (0..k)
        .map(|j| truth.iter().filter(|y| y[j]).count())
        .collect();
    let all: usize = positives.iter().sum();
    let objective = |th: &[f64]| {
        let st = rule_counts(&probs, &truth, th, false);
        let f1 = |tp: usize, pred: usize, pos: usize| 2.0 * tp as f64 / (pred + pos) as f64;
        let (tp, pred) = st.iter().fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
        let macro_sum: f64 = st
            .iter()
            .zip(&positives)
            .map(|(s, &p)| f1(s.0, s.1, p))
            .sum();
        (1.0 - MACRO_WEIGHT) * f1(tp, pred, all) + MACRO_WEIGHT * macro_sum / k as f64
    };
    let micro = |th: &[f64]| micro_f1(&rule_counts(&probs, &truth, th, false), all);
    let (chosen, _) = evidence_thresholds(&probs, &truth, false);
    let proposed: Vec<f64> = chosen.iter().map(|t| t.proposed.unwrap()).collect();
    let at_proposed = rule_counts(&probs, &truth, &proposed, false);
    let at_half = rule_counts(&probs, &truth, &[0.5; 5], false);
    let best = objective(&proposed);
    let (lo, hi) = TUNED_THRESHOLD_RANGE;
    for (j, t) in chosen.iter().enumerate() {
        let f1 = |s: (usize, usize)| crate::eval::f1(s.0, s.1 + positives[j] - 2 * s.0);
        assert!(
            (t.f1_proposed.unwrap() - f1(at_proposed[j])).abs() < 1e-12,
            "{t:?}"
        );
        assert!((t.f1_at_half - f1(at_half[j])).abs() < 1e-12, "{t:?}");
        // The micro-F1 floor: micro-F1 with label j at the common threshold, the others held.
        let mut at_base = proposed.clone();
        at_base[j] = t.baseline.unwrap_or(0.5);
        let floor = micro(&at_base);
        assert!(
            micro(&proposed) >= floor - 1e-12,
            "label {j} under its floor: {t:?}"
        );
        // No threshold of label j alone that keeps the floor does better (every probability,
        // shifted a hair either way, covers every distinct decision).
        for p in probs.iter().map(|p| p[j]) {
            for c in [p - 1e-9, p + 1e-9] {
                if (lo..=hi).contains(&c) {
                    let mut th = proposed.clone();
                    th[j] = c;
                    if micro(&th) >= floor - 1e-12 {
                        assert!(objective(&th) <= best + 1e-9, "label {j} at {c}: {t:?}");
                    }
                }
            }
        }
    }
    assert!(
        at_half.iter().zip(&at_proposed).any(|(a, b)| a != b),
        "some label moves"
    );
}

/// Six labels whose out-of-fold probabilities sit low for every label: each label's positives
/// spread over `lo..lo + 0.3`, its negatives over `0.0..0.3`, with `pos` positives of `n`.
fn shifted_labels(n: usize, pos: usize, lo: f64) -> (Vec<Vec<f64>>, Vec<Vec<bool>>) {
    let mut rng = crate::test_rng::uniform(5);
    let truth: Vec<Vec<bool>> = (0..n)
        .map(|i| (0..6).map(|j| (i * 7 + j * 13) % n < pos).collect())
        .collect();
    let probs = truth
        .iter()
        .map(|y| {
            y.iter()
                .map(|&t| if t { lo + 0.3 * rng() } else { 0.3 * rng() })
                .collect()
        })
        .collect();
    (probs, truth)
}

#[test]
fn a_shift_every_label_shares_moves_the_common_threshold() {
    // 60 documents, 12 positives per label, positives at 0.2–0.5 and negatives below 0.3: each
    // label's own gain may be within its noise, but all six agree, and their pooled evidence
    // moves every label together.
    let (probs, truth) = shifted_labels(60, 12, 0.2);
    let (labels, common) = evidence_thresholds(&probs, &truth, true);
    let c = common.expect("several labels have a common step");
    assert!(c.threshold < 0.35 && c.threshold == c.proposed, "{c:?}");
    assert!(c.gain > c.noise, "{c:?}");
    assert!(c.reason().starts_with("moved"), "{c:?}");
    for t in &labels {
        assert_eq!(t.baseline, Some(c.threshold), "{t:?}");
        assert!(t.threshold < 0.5 && t.f1 > t.f1_at_half, "{t:?}");
        assert!(t.reason().unwrap().contains("common"), "{t:?}");
    }
    // One label alone: no common step, and the same data moves it by its own evidence or not.
    let one: Vec<Vec<f64>> = probs.iter().map(|p| vec![p[0]]).collect();
    let one_truth: Vec<Vec<bool>> = truth.iter().map(|y| vec![y[0]]).collect();
    let (alone, common) = evidence_thresholds(&one, &one_truth, true);
    assert!(common.is_none());
    assert_eq!(alone[0].baseline, None);
}

#[test]
fn the_common_threshold_never_trades_micro_f1_for_macro_f1() {
    // Label 0 is frequent and right at 0.5 (positives 0.6–0.9, negatives 0.35–0.48); labels 1–5
    // are rare, positives at 0.2–0.35 and negatives below 0.2. A common threshold low enough for
    // the rare labels lets all of label 0's negatives in: macro-F1 rises, micro-F1 falls, so the
    // common step may only take thresholds that keep micro-F1.
    let mut rng = crate::test_rng::uniform(9);
    let n = 300;
    let truth: Vec<Vec<bool>> = (0..n)
        .map(|i| {
            (0..6)
                .map(|j| {
                    if j == 0 {
                        i % 3 != 0
                    } else {
                        (i + j) % 25 == 0
                    }
                })
                .collect()
        })
        .collect();
    let probs: Vec<Vec<f64>> = truth
        .iter()
        .map(|y| {
            y.iter()
                .enumerate()
                .map(|(j, &t)| match (j, t) {
                    (0, true) => 0.6 + 0.3 * rng(),
                    (0, false) => 0.35 + 0.13 * rng(),
                    (_, true) => 0.2 + 0.15 * rng(),
                    (_, false) => 0.2 * rng(),
                })
                .collect()
        })
        .collect();
    let (labels, common) = evidence_thresholds(&probs, &truth, true);
    let c = common.unwrap();
    // The common threshold is never below what label 0's negatives need (0.48).
    assert!(c.proposed >= 0.48, "{c:?}");
    // Label 0 keeps its perfect F1; the rare labels can still move on their own evidence.
    assert_eq!(labels[0].f1, 1.0, "{:?}", labels[0]);
}

#[test]
fn the_common_threshold_keeps_micro_f1_within_a_standard_error_of_its_best() {
    // 2,000 documents, probabilities evenly spread. Label 0 (every other document): positives
    // over 0.3–0.9, negatives over 0–0.4. Label 1 (one in 20): positives over 0.1–0.3, negatives
    // over 0–0.15. Micro-F1 is 0.755 at 0.5, best (0.86) near 0.4 and still 0.768 at 0.15,
    // where label 1's F1, and so macro-F1, is best. A floor at micro-F1 at 0.5 alone lets the
    // common threshold go down to 0.15; within one standard error of the best micro-F1 it stays
    // near 0.4.
    let n = 2000;
    let spread =
        |k: usize, of: usize, lo: f64, hi: f64| lo + (hi - lo) * (k as f64 + 0.5) / of as f64;
    let truth: Vec<Vec<bool>> = (0..n).map(|i| vec![i % 2 == 0, i % 20 == 3]).collect();
    let probs: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let p0 = if i % 2 == 0 {
                spread(i / 2, n / 2, 0.3, 0.9)
            } else {
                spread(i / 2, n / 2, 0.0, 0.4)
            };
            let p1 = if i % 20 == 3 {
                spread(i / 20, n / 20, 0.1, 0.3)
            } else {
                spread(i - i / 20 - usize::from(i % 20 > 3), n - n / 20, 0.0, 0.15)
            };
            vec![p0, p1]
        })
        .collect();
    let all: usize = truth.iter().flatten().filter(|&&y| y).count();
    let micro = |t: f64| micro_f1(&rule_counts(&probs, &truth, &[t; 2], true), all);
    let top = (5..=95)
        .map(|c| micro(c as f64 / 100.0))
        .fold(0.0, f64::max);
    assert!(
        micro(0.15) > micro(0.5) && top > 0.85,
        "{} {} {top}",
        micro(0.15),
        micro(0.5)
    );
    let (_, common) = evidence_thresholds(&probs, &truth, true);
    let c = common.unwrap();
    let se = (top * (1.0 - top) / all as f64).sqrt();
    assert!(c.threshold == c.proposed && c.proposed > 0.3, "{c:?}");
    assert!(
        micro(c.proposed) >= top - EVIDENCE_Z * se,
        "{c:?}: top {top}"
    );
}

#[test]
fn a_label_never_trades_micro_f1_for_its_own_f1() {
    // 3,000 documents. Label 0: 2,000 positives at 0.8, negatives at 0.2 (perfect at 0.5).
    // Label 1: 200 positives, 10 at 0.8 and 190 at 0.3 among 400 negatives at 0.3 too, the rest
    // at 0.1. Lowering label 1 below 0.3 lifts its F1 from 0.095 to 0.5 (precision 0.32 among
    // the 590 it admits, above its F1 / 2) but costs micro-F1 (below micro-F1 / 2): without the
    // floor the objective takes it; with it label 1 stays where the common step left it.
    let n = 3000;
    let truth: Vec<Vec<bool>> = (0..n).map(|i| vec![i < 2000, i % 15 == 0]).collect();
    let mut grouped_negatives = 0;
    let probs: Vec<Vec<f64>> = truth
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let p0 = if y[0] { 0.8 } else { 0.2 };
            let p1 = if y[1] {
                if i % 300 == 0 {
                    0.8
                } else {
                    0.3
                }
            } else if grouped_negatives < 400 {
                grouped_negatives += 1;
                0.3
            } else {
                0.1
            };
            vec![p0, p1]
        })
        .collect();
    assert_eq!(truth.iter().filter(|y| y[1]).count(), 200);
    let (labels, common) = evidence_thresholds(&probs, &truth, true);
    assert_eq!(common.unwrap().threshold, 0.5);
    let t = &labels[1];
    assert!(t.proposed.unwrap() > 0.3, "{t:?}");
    assert_eq!((t.threshold, t.f1), (0.5, t.f1_at_half), "{t:?}");
    assert!((t.f1_at_half - 20.0 / 210.0).abs() < 1e-12, "{t:?}");
    assert_eq!(labels[0].f1, 1.0);
}

#[test]
fn evidence_is_deterministic_and_in_range_on_many_labels() {
    let mut rng = crate::test_rng::uniform(7);
    let probs: Vec<Vec<f64>> = (0..400).map(|_| (0..6).map(|_| rng()).collect()).collect();
    let truth: Vec<Vec<bool>> = probs
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .map(|(j, &x)| x > 0.3 + 0.05 * j as f64)
                .collect()
        })
        .collect();
    let (a, _) = evidence_thresholds(&probs, &truth, true);
    assert_eq!(a, evidence_thresholds(&probs, &truth, true).0);
    let (lo, hi) = TUNED_THRESHOLD_RANGE;
    for t in &a {
        assert!((lo..=hi).contains(&t.threshold), "{t:?}");
        let base = t.baseline.unwrap_or(0.5);
        assert_eq!(
            t.threshold != base,
            t.gain > t.noise && t.proposed != Some(base),
            "{t:?}"
        );
    }
    // Truth is p > 0.3 + 0.05 j: with 400 documents, each label's evidence finds that boundary.
    for (j, t) in a.iter().enumerate() {
        assert!(
            (t.threshold - (0.3 + 0.05 * j as f64)).abs() < 0.01,
            "{j}: {t:?}"
        );
    }
}

#[test]
fn threshold_records_saved_before_the_evidence_rule_still_load() {
    let old = r#"{"folds": 5, "seed": 0, "labels": [{"label": "a", "threshold": 0.4, "f1": 0.8, "f1_at_half": 0.7}]}"#;
    let t: ThresholdTuning = serde_json::from_str(old).unwrap();
    assert_eq!(t.unavailable, None);
    assert_eq!((t.labels[0].positives, t.labels[0].reason()), (None, None));
    assert!(t.describe().starts_with("tuned per label"));
}

#[test]
fn evidence_records_saved_before_the_common_threshold_still_load() {
    // An evidence record of 2026-12-03 before the common step: no `common`, no `baseline`.
    let old = r#"{"folds": 5, "seed": 0, "labels": [
        {"label": "a", "threshold": 0.3, "f1": 0.8, "f1_at_half": 0.6, "positives": 40,
         "proposed": 0.3, "f1_proposed": 0.8, "gain": 0.05, "noise": 0.01},
        {"label": "b", "threshold": 0.5, "f1": 0.7, "f1_at_half": 0.7, "positives": 30,
         "proposed": 0.4, "f1_proposed": 0.71, "gain": 0.001, "noise": 0.01}]}"#;
    let t: ThresholdTuning = serde_json::from_str(old).unwrap();
    assert_eq!(t.common, None);
    assert!(
        t.describe().contains("1 of 2 moved from 0.5"),
        "{}",
        t.describe()
    );
    assert!(t.labels[0].reason().unwrap().starts_with("moved: 0.300"));
    assert!(t.labels[1].reason().unwrap().starts_with("kept 0.5: 0.400"));
    // Saved again, it reads back the same, still without the new fields.
    let again = serde_json::to_string(&t).unwrap();
    assert!(
        !again.contains("common") && !again.contains("baseline"),
        "{again}"
    );
    assert_eq!(serde_json::from_str::<ThresholdTuning>(&again).unwrap(), t);
}

#[test]
fn evidence_without_enough_documents_for_the_folds_keeps_half() {
    let docs = vec![
        doc("a", "war and siege", &["war", "siege"]),
        doc("b", "peace talks", &["peace"]),
        doc("c", "siege of the city", &["siege"]),
    ];
    let params = ClassifierParams {
        tfidf: TfidfParams {
            min_df: DfLimit::Count(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let (clf, _) = params.fit(&docs).unwrap();
    assert!(clf.thresholds.as_ref().unwrap().iter().all(|&t| t == 0.5));
    let tuning = clf.summary.threshold_tuning.as_ref().unwrap();
    let why = tuning.unavailable.as_deref().unwrap();
    assert!(why.contains("no out-of-fold evidence"), "{why}");
    assert_eq!(tuning.describe(), why);
}

#[test]
fn multi_label_rates_come_from_the_threshold_folds() {
    let docs = multi_label_corpus();
    let params = ClassifierParams {
        threshold_folds: 3,
        ..Default::default()
    };
    let (clf, _) = params.fit(&docs).unwrap();
    assert_eq!(clf.summary.threshold_tuning.as_ref().unwrap().folds, 3);
    assert_eq!(clf.summary.rates.as_ref().unwrap().folds, 3);
    // Fixed thresholds: the rates come from the model's own refits, --rate-folds of them.
    let fixed = ClassifierParams {
        threshold_mode: ThresholdMode::Fixed,
        ..params
    };
    let (clf, _) = fixed.fit(&docs).unwrap();
    assert!(clf.summary.threshold_tuning.is_none());
    assert_eq!(clf.summary.rates.as_ref().unwrap().folds, 5);
}

#[test]
fn a_warm_start_maps_weights_by_term_and_label() {
    use super::params::WarmStart;
    use crate::features::TfidfVectorizer;
    use crate::logistic::LogisticModel;
    let vocab = |terms: &[&str]| terms.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    let from = TfidfVectorizer::from_parts(
        TfidfParams::default(),
        vocab(&["a", "b", "c"]),
        vec![1.0, 2.0, 4.0],
    )
    .unwrap();
    // Weights of (term, label): 10 × term + label, labels x and y.
    let model = LogisticModel {
        kind: ModelKind::OneVsRest,
        n_features: 3,
        n_labels: 2,
        weights: vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0],
        bias: vec![-1.0, -2.0],
    };
    let from_labels = vec!["x".to_string(), "y".to_string()];
    let start = WarmStart {
        vectorizer: &from,
        model: &model,
        labels: &from_labels,
    };
    let to = TfidfVectorizer::from_parts(
        TfidfParams::default(),
        vocab(&["c", "d", "a"]),
        vec![2.0, 1.0, 1.0],
    )
    .unwrap();
    let m = start.onto(&to, &["y".to_string(), "z".to_string()]);
    assert_eq!((m.n_features, m.n_labels), (3, 2));
    // c: y's weight 21 × idf 4 / 2; d: unknown; a: y's 1 × 1 / 1; label z unknown.
    assert_eq!(m.weights, vec![42.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(m.bias, vec![-2.0, 0.0]);
}
