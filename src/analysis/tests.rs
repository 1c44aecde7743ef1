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
