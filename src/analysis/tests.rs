//! Unit tests of the corpus analysis: golden keyness values, the CSV against the formulas,
//! counting independent of batches and threads, and the errors.

use super::*;
use crate::error::Error;
use crate::text::{Analyzer, AnalyzerConfig};

fn unigrams() -> Analyzer {
    Analyzer::new(AnalyzerConfig {
        ngram_range: (1, 1),
        ..AnalyzerConfig::default()
    })
    .unwrap()
}

/// A hand-countable corpus: group x {war 3, peace 1, talks 1, resistance 1}, group y {peace 3,
/// talks 2, war 1}, and one document of group z (weather) that only the prior sees.
fn corpus() -> Vec<(&'static str, Vec<String>)> {
    let g = |v: &str| vec![v.to_string()];
    vec![
        ("War war peace talks", g("x")),
        ("war resistance", g("x")),
        ("peace peace talks talks", g("y")),
        ("war, peace.", g("y")),
        ("weather", g("z")),
    ]
}

fn counted(docs: &[(&str, Vec<String>)], groups: Groups, batch: usize) -> TermCounter {
    let mut counter = TermCounter::new(unigrams(), groups);
    for chunk in docs.chunks(batch) {
        counter.add_batch(chunk);
    }
    counter
}

fn pair() -> Groups {
    Groups::Pair {
        target: "x".into(),
        reference: "y".into(),
    }
}

fn params(groups: Groups, min_count: u64) -> CompareParams {
    CompareParams {
        groups,
        min_count,
        prior_scale: 10.0,
        statistic: Statistic::LogOdds,
    }
}

#[test]
fn golden_values_of_a_hand_counted_corpus() {
    // Expected values from an independent Python script written from the formulas (Monroe et
    // al. 2008 eq. 16 and 20; quanteda.textstats' keyness.cpp for chi2, G2 and PMI):
    //   yt = a + α; yr = b + α; δ = ln(yt/(nt+α0-yt)) - ln(yr/(nr+α0-yr)); σ² = 1/yt + 1/yr
    //   with nt = nr = 6, α0 = 10 and α = 10 · corpus count / 13.
    // (term, a, b, prior, delta, variance, z, chi2, g2, pmi)
    let golden = [
        (
            "war",
            3.0,
            1.0,
            3.076923076923077,
            0.5827686514724741,
            0.40983998089324103,
            0.9103093860031577,
            0.375,
            0.37799913575149924,
            0.4054651087748311,
        ),
        (
            "peace",
            1.0,
            3.0,
            3.076923076923077,
            -0.5827686514724741,
            0.40983998089324103,
            -0.9103093860031577,
            -0.375,
            -0.37799913575149924,
            -0.6931471785599453,
        ),
        (
            "talks",
            1.0,
            2.0,
            2.3076923076923075,
            -0.346216528095891,
            0.534468438538206,
            -0.4735728156268611,
            0.0,
            -2.4000001973768902e-08,
            -0.4054651066081645,
        ),
        (
            "resistance",
            1.0,
            0.0,
            0.7692307692307693,
            0.9008203285513141,
            1.8652173913043477,
            0.6595890696362997,
            0.0,
            2.4000001973768902e-08,
            0.6931471810599453,
        ),
    ];
    let c = &counted(&corpus(), pair(), 2)
        .compare("group", &params(pair(), 1))
        .unwrap()[0];
    assert_eq!(
        (c.target_total, c.reference_total, c.corpus_documents),
        (6, 6, 5)
    );
    assert_eq!(c.terms.len(), 4, "weather is in neither group");
    for (term, a, b, prior, delta, variance, z, chi2, g2, pmi) in golden {
        let t = c.terms.iter().find(|t| t.term == term).unwrap();
        assert_eq!((t.counts.target, t.counts.reference), (a, b), "{term}");
        let close = |x: f64, y: f64, what: &str| {
            assert!((x - y).abs() < 1e-12, "{term} {what}: {x} vs {y}");
        };
        close(t.counts.prior, prior, "prior");
        close(t.keyness.delta, delta, "delta");
        close(t.keyness.variance, variance, "variance");
        close(t.keyness.z, z, "z");
        close(t.keyness.chi2, chi2, "chi2");
        close(t.keyness.g2, g2, "g2");
        close(t.keyness.pmi, pmi, "pmi");
    }
    // Ranked by z: war and resistance lean to x, peace most to y.
    let top: Vec<&str> = c.top_target(5).map(|t| t.term.as_str()).collect();
    assert_eq!(top, ["war", "resistance"]);
    let bottom: Vec<&str> = c.top_reference(5).map(|t| t.term.as_str()).collect();
    assert_eq!(bottom, ["peace", "talks"]);
}

#[test]
fn chi2_matches_r_chisq_test_with_yates_correction() {
    // quanteda's own test: d1 = "b b b b b b b a a a", d2 = "a a a a a a a b b"; for "a",
    // R's chisq.test(matrix(c(3, 7, 7, 2), 2), correct = TRUE) gives X-squared = 2.6324
    // (= 19 × (|3·2 − 7·7| − 9.5)² / (10·9·10·9)), negative here because "a" is rarer in d1.
    let counts = TermCounts {
        target: 3.0,
        reference: 7.0,
        target_total: 10.0,
        reference_total: 9.0,
        prior: 1.0,
        prior_total: 2.0,
    };
    let expected = 19.0 * (43.0f64 - 9.5).powi(2) / 8100.0;
    assert!(
        (counts.chi2() + expected).abs() < 1e-12,
        "{}",
        counts.chi2()
    );
    assert!((expected - 2.6324).abs() < 1e-4);
}

#[test]
fn csv_values_follow_the_formulas_from_the_csv_own_columns() {
    let docs: Vec<(String, Vec<String>)> = (0..60)
        .map(|i| {
            let words = ["war", "peace", "talks", "siege", "aid", "the", "of", "army"];
            let text: Vec<&str> = (0..12)
                .map(|j| words[(i * 7 + j * j + i * j) % 8])
                .collect();
            (text.join(" "), vec![["a", "b", "c"][i % 3].to_string()])
        })
        .collect();
    let docs: Vec<(&str, Vec<String>)> =
        docs.iter().map(|(t, g)| (t.as_str(), g.clone())).collect();
    let counter = counted(&docs, Groups::EachAgainstRest, 7);
    let comparisons = counter
        .compare("g", &params(Groups::EachAgainstRest, 1))
        .unwrap();
    assert_eq!(comparisons.len(), 3);
    let csv = comparisons_csv("g", &comparisons).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_COLUMNS);
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let x = |name: &str| r[col(name)].parse::<f64>().unwrap();
        let y_t = x("target_count") + x("prior");
        let y_r = x("reference_count") + x("prior");
        let delta = (y_t / (x("target_total") + x("prior_total") - y_t)).ln()
            - (y_r / (x("reference_total") + x("prior_total") - y_r)).ln();
        let variance = 1.0 / y_t + 1.0 / y_r;
        assert!((x("delta") - delta).abs() < 1e-9, "{r:?}");
        assert!((x("variance") - variance).abs() < 1e-9, "{r:?}");
        assert!((x("z") - delta / variance.sqrt()).abs() < 1e-9, "{r:?}");
        rows += 1;
    }
    assert_eq!(
        rows,
        comparisons.iter().map(|c| c.terms.len()).sum::<usize>()
    );
}

#[test]
fn counts_do_not_depend_on_batches_or_threads() {
    let docs = corpus();
    let one = counted(&docs, Groups::EachAgainstRest, docs.len());
    let expected = one
        .compare("g", &params(Groups::EachAgainstRest, 1))
        .unwrap();
    for batch in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(batch)
            .build()
            .unwrap();
        let got = pool.install(|| {
            counted(&docs, Groups::EachAgainstRest, batch)
                .compare("g", &params(Groups::EachAgainstRest, 1))
                .unwrap()
        });
        assert_eq!(got, expected, "batch {batch}");
    }
    // Against the rest: the reference is every document outside the target, z included.
    let rest = Groups::AgainstRest { target: "x".into() };
    let c = &counted(&docs, rest.clone(), 2)
        .compare("g", &params(rest, 1))
        .unwrap()[0];
    assert_eq!(c.reference, None);
    assert_eq!((c.reference_documents, c.reference_total), (3, 7));
    let war = c.terms.iter().find(|t| t.term == "war").unwrap();
    assert_eq!((war.counts.target, war.counts.reference), (3.0, 1.0));
    // Against the rest, only the terms the target uses are compared (not talks' rival "weather").
    assert!(c.terms.iter().all(|t| t.counts.target >= 1.0));
    assert!(c.terms.iter().all(|t| t.term != "weather"));
}

#[test]
fn a_document_in_several_groups_counts_in_each_and_once_in_the_corpus() {
    let docs = vec![
        (
            "war war",
            vec!["x".to_string(), "y".to_string(), "x".to_string()],
        ),
        ("peace", vec!["y".to_string()]),
    ];
    let counter = counted(&docs, pair(), 1);
    assert_eq!(counter.documents(), 2);
    let c = &counter.compare("g", &params(pair(), 1)).unwrap()[0];
    assert_eq!((c.target_documents, c.reference_documents), (1, 2));
    assert_eq!((c.target_total, c.reference_total), (2, 3));
}

#[test]
fn bad_comparisons_are_clear_errors() {
    let docs = corpus();
    let missing = Groups::Pair {
        target: "x".into(),
        reference: "nowhere".into(),
    };
    let err = counted(&docs, missing.clone(), 2)
        .compare("source", &params(missing, 1))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownGroup { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("\"nowhere\"") && msg.contains("\"x\" (2)"),
        "{msg}"
    );

    let err = counted(&docs, pair(), 2)
        .compare("source", &params(pair(), 100))
        .unwrap_err();
    assert!(
        matches!(err, Error::NoTermsToCompare { min_count: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("lower --min-count"), "{err}");

    let same = Groups::Pair {
        target: "x".into(),
        reference: "x".into(),
    };
    assert!(matches!(
        params(same, 1).validate().unwrap_err(),
        Error::SameGroups { .. }
    ));
    assert!(params(pair(), 0).validate().is_err());
    let mut p = params(pair(), 1);
    p.prior_scale = 0.0;
    assert!(p.validate().is_err());

    let err = TermCounter::new(unigrams(), pair())
        .compare("source", &params(pair(), 1))
        .unwrap_err();
    assert!(matches!(err, Error::EmptyGroup { .. }), "{err}");

    // Every document in the target: the rest is empty.
    let all_x = vec![
        ("war peace", vec!["x".to_string()]),
        ("talks", vec!["x".to_string()]),
    ];
    let rest = Groups::AgainstRest { target: "x".into() };
    let err = counted(&all_x, rest.clone(), 2)
        .compare("source", &params(rest, 1))
        .unwrap_err();
    assert!(matches!(err, Error::EmptyGroup { .. }), "{err}");
    assert!(err.to_string().contains("not x"), "{err}");
}

#[test]
fn html_escapes_terms_and_groups_and_draws_the_plot() {
    let docs = vec![
        (
            "<script>alert(1)</script> war war",
            vec!["<b>x</b>".to_string()],
        ),
        ("peace peace war", vec!["y".to_string()]),
    ];
    let groups = Groups::EachAgainstRest;
    let comparisons = counted(&docs, groups.clone(), 1)
        .compare("g", &params(groups, 1))
        .unwrap();
    let html = comparisons_html("t", "g", &comparisons, 5).unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("<b>x</b>"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
    assert!(html.contains("<svg") && html.contains("<circle"));
    let text = comparisons_text("g", &comparisons, 5);
    assert!(text.contains("leaning to \"y\""), "{text}");
}

#[test]
fn statistic_names_parse_and_rank() {
    for (name, stat) in [
        ("logodds", Statistic::LogOdds),
        ("CHI2", Statistic::Chi2),
        ("lr", Statistic::Lr),
        ("pmi", Statistic::Pmi),
    ] {
        assert_eq!(name.parse::<Statistic>().unwrap(), stat);
    }
    let err = "tfidf".parse::<Statistic>().unwrap_err().to_string();
    assert!(err.contains("logodds, chi2, lr or pmi"), "{err}");
    let mut p = params(pair(), 1);
    p.statistic = Statistic::Pmi;
    let c = &counted(&corpus(), pair(), 5).compare("g", &p).unwrap()[0];
    let pmis: Vec<f64> = c.terms.iter().map(|t| t.keyness.pmi).collect();
    assert!(pmis.windows(2).all(|w| w[0] >= w[1]), "{pmis:?}");
}

// ---- prevalence ----

fn prevalence_spec(multi_label: bool, bootstrap: usize) -> PrevalenceSpec {
    PrevalenceSpec {
        model: "test".into(),
        labels: vec!["a".into(), "b".into(), "c".into()],
        multi_label,
        by: vec!["source".into()],
        time: None,
        every: None,
        gold: false,
        bootstrap,
        seed: 1,
        rates: None,
    }
}

/// 300 synthetic documents in two groups, deterministic.
fn observations() -> Vec<(String, String, Vec<f64>, Vec<usize>)> {
    (0..300)
        .map(|i| {
            let x = ((i * 37) % 100) as f64 / 100.0;
            let p = [0.1 + 0.6 * x, 0.3 - 0.2 * x, 0.6 - 0.4 * x];
            let s: f64 = p.iter().sum();
            let p: Vec<f64> = p.iter().map(|v| v / s).collect();
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            let group = if i % 3 == 0 { "north" } else { "south" };
            (format!("doc-{i}"), group.to_string(), p, vec![best])
        })
        .collect()
}

fn fill(state: &mut PrevalenceState, obs: &[(String, String, Vec<f64>, Vec<usize>)]) {
    for (id, group, p, labels) in obs {
        state.add(
            std::slice::from_ref(group),
            Observation {
                id,
                probabilities: p,
                labels,
            },
        );
    }
}

#[test]
fn a_merged_state_is_the_same_bytes_and_estimates_as_one_pass() {
    let obs = observations();
    let mut one = PrevalenceState::new(prevalence_spec(false, 50));
    fill(&mut one, &obs);
    one.skip("field \"source\" missing or not a string", 1);
    // Split unevenly and in another order: the sums are exact, so nothing may change.
    let mut a = PrevalenceState::new(prevalence_spec(false, 50));
    let mut b = PrevalenceState::new(prevalence_spec(false, 50));
    let mut reversed = obs.clone();
    reversed.reverse();
    fill(&mut a, &reversed[..71]);
    fill(&mut b, &reversed[71..]);
    b.skip("field \"source\" missing or not a string", 1);
    let b = PrevalenceState::from_bytes(&b.to_bytes().unwrap(), "b.json").unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.to_bytes().unwrap(), one.to_bytes().unwrap());
    for method in Method::ALL.into_iter().filter(|m| !m.needs_rates()) {
        let x = a.report(method, 0.9).unwrap();
        let y = one.report(method, 0.9).unwrap();
        assert_eq!(x.to_csv().unwrap(), y.to_csv().unwrap(), "{method}");
    }
}

#[test]
fn estimates_follow_the_counts_and_intervals_hold_them() {
    let obs = observations();
    let mut state = PrevalenceState::new(prevalence_spec(false, 200));
    fill(&mut state, &obs);
    let rows = state.estimate(Method::Cc, 0.95).unwrap();
    assert_eq!(rows.len(), 6, "2 groups × 3 labels");
    for r in &rows {
        let group: Vec<_> = obs.iter().filter(|o| o.1 == r.group[0]).collect();
        let label = ["a", "b", "c"].iter().position(|l| *l == r.label).unwrap();
        let cc = group.iter().filter(|o| o.3 == vec![label]).count() as f64 / group.len() as f64;
        let pcc = group.iter().map(|o| o.2[label]).sum::<f64>() / group.len() as f64;
        assert_eq!(r.documents, group.len() as u64);
        assert!((r.cc - cc).abs() < 1e-12 && r.share == r.cc);
        assert!(
            (r.pcc.unwrap() - pcc).abs() < 1e-8,
            "{} {pcc}",
            r.pcc.unwrap()
        );
        assert!(
            r.acc.is_none() && r.pacc.is_none(),
            "no rates, no correction"
        );
        let (lo, hi) = (r.share_low.unwrap(), r.share_high.unwrap());
        assert!(
            lo <= r.share && r.share <= hi && hi - lo < 0.35,
            "{lo} {} {hi}",
            r.share
        );
    }
    // Shares of a single-label group sum to 1 under every method.
    for method in [Method::Cc, Method::Pcc, Method::Emq] {
        let rows = state.estimate(method, 0.95).unwrap();
        for g in rows.chunks(3) {
            let s: f64 = g.iter().map(|r| r.share).sum();
            assert!((s - 1.0).abs() < 1e-6, "{method}: {s}");
        }
    }
    // Another seed draws other replicates; the same seed the same ones.
    let mut again = PrevalenceState::new(prevalence_spec(false, 200));
    fill(&mut again, &obs);
    assert_eq!(
        again.estimate(Method::Emq, 0.95).unwrap(),
        state.estimate(Method::Emq, 0.95).unwrap()
    );
    let mut other = PrevalenceState::new(PrevalenceSpec {
        seed: 2,
        ..prevalence_spec(false, 200)
    });
    fill(&mut other, &obs);
    assert_ne!(
        other.estimate(Method::Cc, 0.95).unwrap(),
        state.estimate(Method::Cc, 0.95).unwrap()
    );
}

#[test]
fn correction_needs_rates_and_states_must_agree() {
    let mut state = PrevalenceState::new(prevalence_spec(false, 10));
    fill(&mut state, &observations());
    assert!(matches!(
        state.estimate(Method::Pacc, 0.95),
        Err(Error::NoRates { method: "pacc" })
    ));
    assert!(matches!(
        state.estimate(Method::Cc, 1.5),
        Err(Error::OutOfRange { name: "ci", .. })
    ));
    let other = PrevalenceState::new(PrevalenceSpec {
        bootstrap: 20,
        ..prevalence_spec(false, 10)
    });
    let err = state.merge(&other).unwrap_err().to_string();
    assert!(err.contains("bootstraps differ"), "{err}");
    let other = PrevalenceState::new(PrevalenceSpec {
        model: "another".into(),
        ..prevalence_spec(false, 10)
    });
    let err = state.merge(&other).unwrap_err().to_string();
    assert!(err.contains("different models"), "{err}");
    for (bytes, want) in [
        (&b"{not json"[..], "not a prevalence state"),
        (&b"{}"[..], "not a prevalence state"),
    ] {
        let err = PrevalenceState::from_bytes(bytes, "part.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("part.json") && err.contains(want), "{err}");
    }
    let mut v: serde_json::Value = serde_json::from_slice(&state.to_bytes().unwrap()).unwrap();
    v["version"] = 99.into();
    let err = PrevalenceState::from_bytes(&serde_json::to_vec(&v).unwrap(), "p.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("version 99"), "{err}");
    let mut v: serde_json::Value = serde_json::from_slice(&state.to_bytes().unwrap()).unwrap();
    v["groups"][0][1]["predicted"] = serde_json::json!([1]);
    let err = PrevalenceState::from_bytes(&serde_json::to_vec(&v).unwrap(), "p.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not have 3 labels"), "{err}");
}

#[test]
fn the_correction_undoes_known_confusion_rates() {
    use crate::classifier::{Calibration, PrevalenceRates};
    // A classifier that calls 30% of "a" documents "b" and 10% of "b" documents "a"; a corpus
    // of 40 a and 60 b documents is then predicted 0.7·40 + 0.1·60 = 34 a, 66 b.
    let rates = PrevalenceRates {
        folds: 5,
        seed: 0,
        n_documents: 100,
        positives: vec![50, 50],
        calibration_prior: vec![0.5, 0.5],
        calibration: Calibration::identity(false, 2),
        hard: vec![vec![0.7, 0.3], vec![0.1, 0.9]],
        soft: vec![vec![0.7, 0.3], vec![0.1, 0.9]],
    };
    let spec = PrevalenceSpec {
        labels: vec!["a".into(), "b".into()],
        by: Vec::new(),
        rates: Some(rates),
        ..prevalence_spec(false, 0)
    };
    let mut state = PrevalenceState::new(spec);
    for i in 0..100 {
        let predicted_a = i < 34;
        let p = if predicted_a { [0.7, 0.3] } else { [0.3, 0.7] };
        state.add(
            &[],
            Observation {
                id: &format!("d{i}"),
                probabilities: &p,
                labels: &[if predicted_a { 0 } else { 1 }],
            },
        );
    }
    let rows = state.estimate(Method::Acc, 0.95).unwrap();
    assert!((rows[0].cc - 0.34).abs() < 1e-12);
    assert!(
        (rows[0].acc.unwrap() - 0.4).abs() < 1e-9,
        "{:?}",
        rows[0].acc
    );
    assert!((rows[1].acc.unwrap() - 0.6).abs() < 1e-9);
    assert!(rows[0].share_low.is_none(), "no replicates, no interval");
}

#[test]
fn pooling_over_periods_sums_the_periods() {
    let spec = PrevalenceSpec {
        time: Some("date".into()),
        every: Some(crate::dataset::Period::Year),
        ..prevalence_spec(true, 20)
    };
    let mut state = PrevalenceState::new(spec);
    for (i, (id, group, p, labels)) in observations().iter().enumerate() {
        let key = vec![
            group.clone(),
            if i % 2 == 0 { "2020" } else { "2021" }.to_string(),
        ];
        state.add(
            &key,
            Observation {
                id,
                probabilities: p,
                labels,
            },
        );
    }
    let report = state.report(Method::Cc, 0.95).unwrap();
    assert_eq!(report.rows.len(), 12, "2 groups × 2 years × 3 labels");
    assert_eq!(report.pooled.len(), 6);
    assert_eq!(report.rows[0].period.as_deref(), Some("2020"));
    let north: u64 = report
        .rows
        .iter()
        .filter(|r| r.group[0] == "north" && r.label == "a")
        .map(|r| r.documents)
        .sum();
    assert_eq!(report.pooled[0].documents, north);
    let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
    assert!(
        csv.starts_with(
            "source,period,label,documents,cc,pcc,acc,pacc,emq,share,share_low,share_high\n"
        ),
        "{csv}"
    );
    let html = report.to_html("t").unwrap();
    assert!(
        html.contains("Shares over time") && html.matches("<svg").count() == 6,
        "3 labels × 2 charts"
    );
}
