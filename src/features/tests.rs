//! Unit tests of the TF-IDF stage.

use super::*;
use crate::error::Error;
use crate::text::{Analyzer, AnalyzerConfig, AnalyzerKind};
use rustc_hash::FxHashMap;

fn corpus() -> Vec<&'static str> {
    vec![
        "The resistance rejected the occupation.",
        "Occupation forces shelled the town; the resistance answered.",
        "Talks on a ceasefire resumed in Doha.",
        "The envoy said the talks were constructive.",
    ]
}

#[test]
fn golden_idf_and_row_match_sklearn() {
    // scikit-learn 1.9.1:
    //   v = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    //   X = v.fit_transform(corpus()); v.idf_[v.vocabulary_[t]]; X[1]
    let params = TfidfParams {
        min_df: DfLimit::Count(1),
        ..Default::default()
    };
    let (v, m, stats) = params.fit_transform(&corpus()).unwrap();
    assert_eq!(stats.n_documents, 4);
    assert_eq!(v.n_features(), 39);
    let idf = |t: &str| v.idf()[v.term_id(t).unwrap() as usize];
    for (term, expected) in [
        ("the", 1.2231435513142097),
        ("resistance", 1.5108256237659907),
        ("doha", 1.916290731874155),
        ("the resistance", 1.5108256237659907),
    ] {
        assert!((idf(term) - expected).abs() < 1e-12, "idf of {term:?}");
    }
    let expected_row = [
        ("answered", 0.27700171504921156),
        ("forces", 0.27700171504921156),
        ("forces shelled", 0.27700171504921156),
        ("occupation", 0.218391333821343),
        ("occupation forces", 0.27700171504921156),
        ("resistance", 0.218391333821343),
        ("resistance answered", 0.27700171504921156),
        ("shelled", 0.27700171504921156),
        ("shelled the", 0.27700171504921156),
        ("the", 0.29935960738409245),
        ("the resistance", 0.218391333821343),
        ("the town", 0.27700171504921156),
        ("town", 0.27700171504921156),
        ("town the", 0.27700171504921156),
    ];
    let (ix, vals) = m.row(1);
    assert_eq!(ix.len(), expected_row.len());
    for ((&j, &x), (term, expected)) in ix.iter().zip(vals).zip(expected_row) {
        assert_eq!(v.vocabulary()[j as usize], term);
        assert!((x - expected).abs() < 1e-12, "{term}: {x} vs {expected}");
    }
}

#[test]
fn transform_uses_training_idf_for_a_single_document() {
    // Regression guard for linfa-preprocessing's behaviour (idf recomputed per batch).
    let (v, m, _) = TfidfParams {
        min_df: DfLimit::Count(1),
        ..Default::default()
    }
    .fit_transform(&corpus())
    .unwrap();
    let one = v.transform(corpus()[2]);
    let (ix, vals) = m.row(2);
    assert_eq!(one.indices, ix);
    for (a, b) in one.values.iter().zip(vals) {
        assert!((a - b).abs() < 1e-15);
    }
    assert!(v.transform("").indices.is_empty());
    assert!(v.transform("zzz qqq").indices.is_empty());
}

#[test]
fn pruning_limits() {
    let docs = corpus();
    let fit = |p: TfidfParams| p.fit_transform(&docs);
    let base = TfidfParams {
        analyzer: AnalyzerConfig {
            ngram_range: (1, 1),
            ..Default::default()
        },
        ..Default::default()
    };
    // min_df = 2: the, resistance, occupation, talks.
    let (v, _, _) = fit(base.clone()).unwrap();
    assert_eq!(v.vocabulary(), ["occupation", "resistance", "talks", "the"]);
    // max_df = 0.5 drops "the" (4 of 4 documents).
    let (v, _, _) = fit(TfidfParams {
        max_df: DfLimit::Fraction(0.5),
        ..base.clone()
    })
    .unwrap();
    assert_eq!(v.vocabulary(), ["occupation", "resistance", "talks"]);
    // max_features = 1 keeps the most frequent term.
    let (v, _, _) = fit(TfidfParams {
        max_features: Some(1),
        ..base.clone()
    })
    .unwrap();
    assert_eq!(v.vocabulary(), ["the"]);
    // Nothing left: a clear error that names the settings.
    let err = fit(TfidfParams {
        min_df: DfLimit::Count(5),
        ..base
    })
    .unwrap_err();
    assert!(matches!(err, Error::EmptyVocabulary { .. }), "{err}");
    assert!(err.to_string().contains("min_df=5"));
}

#[test]
fn df_limit_parsing() {
    assert_eq!("2".parse::<DfLimit>().unwrap(), DfLimit::Count(2));
    assert_eq!("0.9".parse::<DfLimit>().unwrap(), DfLimit::Fraction(0.9));
    assert_eq!("1.0".parse::<DfLimit>().unwrap(), DfLimit::Fraction(1.0));
    assert!("1.5".parse::<DfLimit>().is_err());
    assert!("-1".parse::<DfLimit>().is_err());
}

#[test]
fn factored_matrix_is_the_rows_factored() {
    let docs = corpus();
    for (sublinear_tf, norm) in [(true, Norm::L2), (false, Norm::L2), (true, Norm::None)] {
        let params = TfidfParams {
            min_df: DfLimit::Count(1),
            sublinear_tf,
            norm,
            ..Default::default()
        };
        let (v1, rows, s1) = params.fit_transform(&docs).unwrap();
        let (v2, factored, s2) = params.fit_factored(&docs).unwrap();
        assert_eq!(v1.vocabulary(), v2.vocabulary());
        assert_eq!(s1, s2);
        let back = factored.to_csr();
        assert_eq!((back.indptr, back.indices), (rows.indptr, rows.indices));
        for (a, b) in back.values.iter().zip(&rows.values) {
            assert!((a - b).abs() <= 1e-7 * b.abs(), "{a} vs {b}");
        }
        // Raw counts are exact in f32: the same arithmetic, but for the order in which
        // each row's norm is summed.
        if !sublinear_tf {
            for (a, b) in back.values.iter().zip(&rows.values) {
                assert!((a - b).abs() <= 4.0 * f64::EPSILON * b.abs(), "{a} vs {b}");
            }
        }
    }
}

/// Random documents over a small vocabulary (so that n-grams repeat across documents), with
/// non-ASCII words, CJK, punctuation and one-letter words.
fn random_corpus(n: usize, seed: u64) -> Vec<String> {
    let words = [
        "the",
        "resistance",
        "occupation",
        "Axis",
        "of",
        "talks",
        "gaza",
        "دمشق",
        "москва",
        "ceasefire",
        "I",
        "a",
        "don't",
        "ab",
        "北京",
        "U.S.",
        "x1",
        "—",
        "Zionist",
        "the",
    ];
    let mut next = crate::text::xorshift(seed);
    (0..n)
        .map(|_| {
            let len = (next() % 40) as usize;
            let picked: Vec<&str> = (0..len)
                .map(|_| words[(next() % words.len() as u64) as usize])
                .collect();
            picked.join(" ")
        })
        .collect()
}

#[test]
fn fitted_counts_are_the_analyzers_terms() {
    // The fit interns n-grams as pairs of ids; the analyzer (used to score) builds them as
    // text. Both must give the same terms and counts: checked against a plain count of
    // `for_each_term`, for word and char_wb n-gram ranges, with and without pruning.
    let docs = random_corpus(300, 0x2545_F491_4F6C_DD1D);
    let configs = [
        (AnalyzerKind::Word, (1, 1)),
        (AnalyzerKind::Word, (1, 2)),
        (AnalyzerKind::Word, (2, 3)),
        (AnalyzerKind::Word, (1, 4)),
        (AnalyzerKind::Word, (3, 3)),
        (AnalyzerKind::CharWb, (2, 5)),
        (AnalyzerKind::CharWb, (1, 3)),
        (AnalyzerKind::CharWb, (4, 6)),
    ];
    for (kind, ngram_range) in configs {
        for (min_df, max_df) in [(1, 1.0), (2, 1.0), (2, 0.3), (1, 0.05)] {
            let params = TfidfParams {
                analyzer: AnalyzerConfig {
                    kind,
                    ngram_range,
                    ..Default::default()
                },
                min_df: DfLimit::Count(min_df),
                max_df: DfLimit::Fraction(max_df),
                ..Default::default()
            };
            let case = format!("{kind:?} {ngram_range:?} min_df {min_df} max_df {max_df}");
            let analyzer = Analyzer::new(params.analyzer.clone()).unwrap();
            let mut df: FxHashMap<String, usize> = FxHashMap::default();
            for d in &docs {
                let mut seen = rustc_hash::FxHashSet::default();
                analyzer.for_each_term(d, |t| {
                    if seen.insert(t.to_string()) {
                        *df.entry(t.to_string()).or_insert(0) += 1;
                    }
                });
            }
            let mut expected: Vec<&String> = df
                .iter()
                .filter(|(_, &c)| c >= min_df && c as f64 <= max_df * docs.len() as f64)
                .map(|(t, _)| t)
                .collect();
            expected.sort();
            if expected.is_empty() {
                let err = params.fit_transform(&docs).unwrap_err();
                assert!(matches!(err, Error::EmptyVocabulary { .. }), "{case}");
                continue;
            }
            let (v, m, stats) = params.fit_transform(&docs).unwrap();
            assert_eq!(stats.n_terms_seen, df.len(), "{case}");
            assert_eq!(
                v.vocabulary().iter().collect::<Vec<_>>(),
                expected,
                "{case}"
            );
            for (i, d) in docs.iter().enumerate() {
                let row = v.transform(d);
                let (ix, val) = m.row(i);
                assert_eq!(
                    (ix, val),
                    (&row.indices[..], &row.values[..]),
                    "{case}: doc {i}"
                );
            }
        }
    }
}

#[test]
fn counts_select_what_a_fit_on_the_subset_gives() {
    // Selecting a subset from counts made once must give, to the bit, the vectorizer, matrix and
    // held-out rows that fitting on the subset's texts gives: the folds of threshold tuning and
    // cross-validation rely on it.
    let docs = random_corpus(240, 0x9E37_79B9_7F4A_7C15);
    let word = |ngram_range| AnalyzerConfig {
        ngram_range,
        ..Default::default()
    };
    let variants = [
        TfidfParams::default(),
        TfidfParams {
            min_df: DfLimit::Fraction(0.03),
            max_df: DfLimit::Fraction(0.4),
            ..Default::default()
        },
        TfidfParams {
            min_df: DfLimit::Count(3),
            max_df: DfLimit::Count(60),
            max_features: Some(40),
            ..Default::default()
        },
        TfidfParams {
            analyzer: word((1, 3)),
            min_df: DfLimit::Count(1),
            sublinear_tf: false,
            norm: Norm::None,
            ..Default::default()
        },
        TfidfParams {
            analyzer: AnalyzerConfig {
                kind: AnalyzerKind::CharWb,
                ngram_range: (2, 4),
                ..Default::default()
            },
            smooth_idf: false,
            max_features: Some(300),
            ..Default::default()
        },
    ];
    let n = docs.len();
    let subsets: Vec<(&str, Vec<usize>)> = vec![
        ("all", (0..n).collect()),
        ("all, reversed", (0..n).rev().collect()),
        ("fold 2 of 5 out", (0..n).filter(|i| i % 5 != 2).collect()),
        ("every third", (0..n).step_by(3).collect()),
        ("three documents", vec![7, 100, 31]),
    ];
    for (p, params) in variants.iter().enumerate() {
        let counts = params.count_terms(&docs).unwrap();
        assert_eq!(counts.n_documents(), n);
        for (name, subset) in &subsets {
            let case = format!("variant {p}, {name}");
            let texts: Vec<&str> = subset.iter().map(|&i| docs[i].as_str()).collect();
            let (v, m, stats) = match (params.fit_factored(&texts), counts.select(subset)) {
                (Ok(fit), Ok(selected)) => {
                    assert_eq!(selected.0.vocabulary(), fit.0.vocabulary(), "{case}");
                    let bits = |v: &TfidfVectorizer| -> Vec<u64> {
                        v.idf().iter().map(|x| x.to_bits()).collect()
                    };
                    assert_eq!(bits(&selected.0), bits(&fit.0), "{case}");
                    assert_eq!(selected.1, fit.1, "{case}");
                    let (s, f) = (&selected.2, &fit.2);
                    assert_eq!(
                        (s.n_documents, s.n_terms_kept, s.nnz),
                        (f.n_documents, f.n_terms_kept, f.nnz),
                        "{case}"
                    );
                    if subset.len() == n {
                        assert_eq!(s.n_terms_seen, f.n_terms_seen, "{case}");
                    } else {
                        assert!(s.n_terms_seen <= f.n_terms_seen, "{case}");
                    }
                    selected
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string(), "{case}");
                    continue;
                }
                (a, b) => panic!("{case}: fit {:?}, select {:?}", a.err(), b.err()),
            };
            assert_eq!(m.n_rows(), subset.len(), "{case}");
            assert_eq!(stats.n_documents, subset.len(), "{case}");
            // Every document, in the subset or not, as the subset's vectorizer scores it.
            let everyone: Vec<usize> = (0..n).collect();
            let rows = counts.rows_under(&v, &everyone).unwrap();
            for (i, row) in rows.iter().enumerate() {
                let expected = v.transform(&docs[i]);
                assert_eq!(row.indices, expected.indices, "{case}: doc {i}");
                let bits = |r: &crate::sparse::SparseRow| -> Vec<u64> {
                    r.values.iter().map(|x| x.to_bits()).collect()
                };
                assert_eq!(bits(row), bits(&expected), "{case}: doc {i}");
            }
        }
    }
}

#[test]
fn counts_refuse_a_vectorizer_they_did_not_make() {
    let docs = random_corpus(50, 3);
    let counts = TfidfParams::default().count_terms(&docs).unwrap();
    let other = TfidfParams::default()
        .fit_factored(&["zebra crossing", "zebra stripes", "crossing guard"])
        .unwrap()
        .0;
    let err = counts.rows_under(&other, &[0, 1]).unwrap_err();
    assert!(
        err.to_string().contains("not among the counted terms"),
        "{err}"
    );
    assert!(matches!(counts.select(&[]), Err(Error::EmptyCorpus { .. })));
}
