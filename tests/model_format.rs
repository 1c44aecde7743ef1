//! Frozen format-version-1 model files (tests/fixtures/model-v1/, see its README) must keep
//! loading and scoring the same way in every later framelens: users keep their trained models for
//! years. Each fixture is checked through the library (`framelens::model`) and through the
//! `framelens` binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use framelens::model::{load, load_header};
use framelens::Classifier;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/model-v1")
        .join(name)
}

fn multinomial() -> PathBuf {
    fixture("model.flm")
}

fn one_vs_rest() -> PathBuf {
    fixture("model-ovr.flm")
}

const LABELS: [&str; 3] = ["diplomacy", "economy", "humanitarian"];

/// A probe text and what the fixtures answered when they were made (framelens 0.1.0).
struct Probe {
    id: &'static str,
    text: &'static str,
    /// The predicted label (both models agree).
    label: &'static str,
    /// P(diplomacy), P(economy), P(humanitarian) from `model.flm`.
    multinomial: [f64; 3],
    /// The same from `model-ovr.flm`.
    one_vs_rest: [f64; 3],
}

impl Probe {
    fn expected(&self, multi: bool) -> [f64; 3] {
        if multi {
            self.one_vs_rest
        } else {
            self.multinomial
        }
    }
}

const PROBES: [Probe; 3] = [
    Probe {
        id: "econ",
        text: "Inflation and a weak currency pushed food prices up, the central bank said.",
        label: "economy",
        multinomial: [0.02793295730086591, 0.8985771168403544, 0.07348992585877973],
        one_vs_rest: [
            0.036489936484794074,
            0.8582984056013963,
            0.12433388681538243,
        ],
    },
    Probe {
        id: "dipl",
        text: "The foreign minister held talks with the envoy on a new agreement.",
        label: "diplomacy",
        multinomial: [0.934705195040681, 0.04647576164779236, 0.01881904331152666],
        one_vs_rest: [
            0.9054193458780734,
            0.09254754975629559,
            0.031241984100362472,
        ],
    },
    Probe {
        id: "hum",
        text: "Displaced families in the camps need clean water, medicine and food.",
        label: "humanitarian",
        multinomial: [
            0.007376789696769255,
            0.006248442657952492,
            0.9863747676452783,
        ],
        one_vs_rest: [
            0.033282225240735985,
            0.023030099390514196,
            0.976675271776438,
        ],
    },
];

fn load_fixture(path: &Path) -> Classifier {
    load(path).unwrap_or_else(|e| panic!("frozen fixture no longer loads: {e}"))
}

fn probabilities(p: &framelens::Prediction) -> Vec<f64> {
    let labels: Vec<&str> = p.probabilities.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, LABELS);
    p.probabilities.iter().map(|(_, v)| *v).collect()
}

#[test]
fn v1_fixture_files_are_frozen() {
    // Regenerating a fixture would hide exactly the incompatibility it exists to catch.
    for (path, len, checksum) in [
        (multinomial(), 4950, 0x838bcd4622d9087e_u64),
        (one_vs_rest(), 5246, 0xeb4aec2c6abd9186_u64),
    ] {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), len, "{} was regenerated", path.display());
        let stored = u64::from_le_bytes(bytes[len - 8..].try_into().unwrap());
        assert_eq!(stored, checksum, "{} was regenerated", path.display());
        assert!(len < 100_000, "fixtures stay small");
    }
}

#[test]
fn v1_fixtures_load_through_the_library() {
    // The loader must accept version 1 with all its invariants, for both model kinds.
    for (path, multi) in [(multinomial(), false), (one_vs_rest(), true)] {
        let (version, header) = load_header(&path).unwrap();
        assert_eq!(version, 1, "{}", path.display());
        assert_eq!(header.labels, LABELS);
        assert_eq!(header.n_features, 95);
        assert_eq!(header.training.n_documents, 40);
        let clf = load_fixture(&path);
        assert_eq!(clf.labels, LABELS);
        assert_eq!(clf.is_multi_label(), multi, "{}", path.display());
        assert_eq!(clf.thresholds.is_some(), multi);
        assert_eq!(clf.vectorizer.n_features(), 95);
        assert_eq!(clf.params.tfidf.analyzer.ngram_range, (1, 2));
    }
}

#[test]
fn v1_fixtures_keep_their_predictions() {
    // Loading is not enough: an old model must score new text exactly as it did when saved.
    for (model, multi) in [(multinomial(), false), (one_vs_rest(), true)] {
        let clf = load_fixture(&model);
        for probe in &PROBES {
            let (id, text) = (probe.id, probe.text);
            let p = clf.predict(id, text, usize::MAX);
            assert_eq!(p.labels, [probe.label], "{id}");
            assert!(!p.no_known_terms);
            let want = probe.expected(multi);
            for (got, want) in probabilities(&p).iter().zip(want) {
                assert!((got - want).abs() < 1e-9, "{id}: {got} vs {want}");
            }
            if !multi {
                let sum: f64 = probabilities(&p).iter().sum();
                assert!((sum - 1.0).abs() < 1e-12, "{id}: {sum}");
            }
            // With every term listed, bias + all contributions is the logit.
            let e = &p.explanation[0];
            let total: f64 = e.bias
                + e.up
                    .iter()
                    .chain(&e.down)
                    .map(|c| c.contribution)
                    .sum::<f64>();
            assert!(
                (total - e.logit).abs() < 1e-9,
                "{id}: {total} vs {}",
                e.logit
            );
            assert!(e.up.iter().any(|c| text.to_lowercase().contains(&c.term)));
        }
    }
}

#[test]
fn v1_fixtures_score_unknown_words_from_the_biases() {
    // The bias-only path reads the stored biases directly; it must survive format changes too.
    for model in [multinomial(), one_vs_rest()] {
        let clf = load_fixture(&model);
        let p = clf.predict("none", "Zebra quokka", 10);
        assert!(p.no_known_terms);
        let bias = &clf.model.bias;
        let want: Vec<f64> = if clf.is_multi_label() {
            bias.iter().map(|b| 1.0 / (1.0 + (-b).exp())).collect()
        } else {
            let z: f64 = bias.iter().map(|b| b.exp()).sum();
            bias.iter().map(|b| b.exp() / z).collect()
        };
        for (got, want) in probabilities(&p).iter().zip(&want) {
            assert!(
                (got - want).abs() < 1e-12,
                "{}: {got} vs {want}",
                model.display()
            );
        }
    }
}

fn framelens(args: &[&str], stdin: &[u8]) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_framelens"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "framelens {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

#[test]
fn v1_fixtures_score_and_inspect_through_the_binary() {
    // Users reach old models through the CLI, not the library.
    let mut input = String::new();
    for probe in &PROBES {
        input.push_str(&serde_json::json!({"id": probe.id, "text": probe.text}).to_string());
        input.push('\n');
    }
    for (model, multi) in [(multinomial(), false), (one_vs_rest(), true)] {
        let m = model.to_str().unwrap();
        let (stdout, _) = framelens(&["score", "--model", m], input.as_bytes());
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), PROBES.len());
        for (line, probe) in lines.iter().zip(&PROBES) {
            let id = probe.id;
            assert_eq!(line["id"], id);
            assert_eq!(line["labels"], serde_json::json!([probe.label]));
            let want = probe.expected(multi);
            for (l, want) in LABELS.iter().zip(want) {
                let got = line["probabilities"][l].as_f64().unwrap();
                assert!((got - want).abs() < 1e-9, "{id}/{l}: {got} vs {want}");
            }
        }

        let (text, _) = framelens(&["inspect", "--model", m], b"");
        assert!(text.contains("version 1"), "{text}");
        for l in LABELS {
            assert!(text.contains(l), "{text}");
        }
        let (json, _) = framelens(&["inspect", "--model", m, "--json"], b"");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["n_features"], 95);
    }
}
