//! Frozen model files of every format version (tests/fixtures/model-v1/, model-v2/, see their
//! READMEs) must keep loading and scoring the same way in every later framelens: users keep their
//! trained models for years. Each fixture is checked through the library (`framelens::model`) and
//! through the `framelens` binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use framelens::model::{load, load_header};
use framelens::Classifier;
use serde_json::Value;

/// One format version's frozen fixtures and what they answered when they were made.
struct Frozen {
    version: u32,
    /// (file, length, stored checksum) of the multinomial and of the one-vs-rest model.
    files: [(&'static str, usize, u64); 2],
    /// For each probe: P(diplomacy), P(economy), P(humanitarian) from each model.
    multinomial: [[f64; 3]; 3],
    one_vs_rest: [[f64; 3]; 3],
}

impl Frozen {
    fn path(&self, file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/model-v{}", self.version))
            .join(file)
    }

    /// The two models: (path, multi-label, the probes' expected probabilities).
    fn models(&self) -> [(PathBuf, bool, &[[f64; 3]; 3]); 2] {
        [
            (self.path(self.files[0].0), false, &self.multinomial),
            (self.path(self.files[1].0), true, &self.one_vs_rest),
        ]
    }
}

const FROZEN: [Frozen; 2] = [
    // framelens 0.1.0 at ea442d0: FNV-1a checksum.
    Frozen {
        version: 1,
        files: [
            ("model.flm", 4950, 0x838bcd4622d9087e),
            ("model-ovr.flm", 5246, 0xeb4aec2c6abd9186),
        ],
        multinomial: [
            [0.02793295730086591, 0.8985771168403544, 0.07348992585877973],
            [0.934705195040681, 0.04647576164779236, 0.01881904331152666],
            [
                0.007376789696769255,
                0.006248442657952492,
                0.9863747676452783,
            ],
        ],
        one_vs_rest: [
            [
                0.036489936484794074,
                0.8582984056013963,
                0.12433388681538243,
            ],
            [
                0.9054193458780734,
                0.09254754975629559,
                0.031241984100362472,
            ],
            [
                0.033282225240735985,
                0.023030099390514196,
                0.976675271776438,
            ],
        ],
    },
    // framelens 0.1.0, the commit that introduced version 2: XXH3-64 checksum.
    Frozen {
        version: 2,
        files: [
            ("model.flm", 5077, 0x9ac2053be1dbf2ad),
            ("model-ovr.flm", 5374, 0x15b3a8b5ca0c84ab),
        ],
        multinomial: [
            [0.02898333786095964, 0.8943269065294155, 0.07668975560962493],
            [
                0.9363865971960357,
                0.04507660394479701,
                0.018536798859167196,
            ],
            [
                0.007175880396097402,
                0.006011651426951757,
                0.9868124681769508,
            ],
        ],
        one_vs_rest: [
            [0.050555966410877916, 0.8989113747399488, 0.1723344379466317],
            [
                0.9390040095083803,
                0.12229342523418364,
                0.043583004421057676,
            ],
            [0.04607137366186105, 0.03027279240509711, 0.9861156268672372],
        ],
    },
];

const LABELS: [&str; 3] = ["diplomacy", "economy", "humanitarian"];

/// A probe text and the label every fixture predicts for it.
struct Probe {
    id: &'static str,
    text: &'static str,
    label: &'static str,
}

const PROBES: [Probe; 3] = [
    Probe {
        id: "econ",
        text: "Inflation and a weak currency pushed food prices up, the central bank said.",
        label: "economy",
    },
    Probe {
        id: "dipl",
        text: "The foreign minister held talks with the envoy on a new agreement.",
        label: "diplomacy",
    },
    Probe {
        id: "hum",
        text: "Displaced families in the camps need clean water, medicine and food.",
        label: "humanitarian",
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
fn fixture_files_are_frozen() {
    // Regenerating a fixture would hide exactly the incompatibility it exists to catch.
    for frozen in &FROZEN {
        for (file, len, checksum) in frozen.files {
            let path = frozen.path(file);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes.len(), len, "{} was regenerated", path.display());
            let stored = u64::from_le_bytes(bytes[len - 8..].try_into().unwrap());
            assert_eq!(stored, checksum, "{} was regenerated", path.display());
            assert!(len < 100_000, "fixtures stay small");
        }
    }
}

#[test]
fn fixtures_load_through_the_library() {
    // The loader must accept every version with all its invariants, for both model kinds.
    for frozen in &FROZEN {
        for (path, multi, _) in frozen.models() {
            let (version, header) = load_header(&path).unwrap();
            assert_eq!(version, frozen.version, "{}", path.display());
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
}

#[test]
fn fixtures_keep_their_predictions() {
    // Loading is not enough: an old model must score new text exactly as it did when saved.
    for frozen in &FROZEN {
        for (model, multi, expected) in frozen.models() {
            let clf = load_fixture(&model);
            for (probe, want) in PROBES.iter().zip(expected) {
                let (id, text) = (probe.id, probe.text);
                let p = clf.predict(id, text, usize::MAX);
                assert_eq!(p.labels, [probe.label], "{id}");
                assert!(!p.no_known_terms);
                for (got, want) in probabilities(&p).iter().zip(want) {
                    assert!(
                        (got - want).abs() < 1e-9,
                        "v{} {id}: {got} vs {want}",
                        frozen.version
                    );
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
}

#[test]
fn fixtures_score_unknown_words_from_the_biases() {
    // The bias-only path reads the stored biases directly; it must survive format changes too.
    for frozen in &FROZEN {
        for (model, _, _) in frozen.models() {
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
fn fixtures_score_and_inspect_through_the_binary() {
    // Users reach old models through the CLI, not the library.
    let mut input = String::new();
    for probe in &PROBES {
        input.push_str(&serde_json::json!({"id": probe.id, "text": probe.text}).to_string());
        input.push('\n');
    }
    for frozen in &FROZEN {
        for (model, _, expected) in frozen.models() {
            let m = model.to_str().unwrap();
            let (stdout, _) = framelens(&["score", "--model", m], input.as_bytes());
            let lines: Vec<Value> = stdout
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), PROBES.len());
            for ((line, probe), want) in lines.iter().zip(&PROBES).zip(expected) {
                let id = probe.id;
                assert_eq!(line["id"], id);
                assert_eq!(line["labels"], serde_json::json!([probe.label]));
                for (l, want) in LABELS.iter().zip(want) {
                    let got = line["probabilities"][l].as_f64().unwrap();
                    assert!((got - want).abs() < 1e-9, "{id}/{l}: {got} vs {want}");
                }
            }

            let (text, _) = framelens(&["inspect", "--model", m], b"");
            let version = format!("version {}", frozen.version);
            assert!(text.contains(&version), "{text}");
            for l in LABELS {
                assert!(text.contains(l), "{text}");
            }
            let (json, _) = framelens(&["inspect", "--model", m, "--json"], b"");
            let v: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["format_version"], frozen.version);
            assert_eq!(v["n_features"], 95);
        }
    }
}
