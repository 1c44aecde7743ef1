//! framelens: text classification and framing analysis of news, with an exact explanation of
//! every score.
//!
//! ```text
//! text ──text──▶ terms ──features──▶ TF-IDF row ──logistic──▶ logits ──▶ probabilities ──▶ labels
//!       (normalise, tokenise,   (vocabulary and idf     (one weight per          │
//!        stop words, stem,       of the training data,   term and label,         └─▶ explain: per term,
//!        word/char n-grams)      stored in the model)    + a bias per label)         tfidf × weight
//! ```
//!
//! Each stage is one module, and data flows one way. [`text`] turns text into terms;
//! [`features`] learns the vocabulary and idf and turns terms into TF-IDF rows, handing the
//! training matrix over as neutral [`sparse`] data; [`logistic`] fits one weight per term and
//! label on it; [`classifier`] holds the whole fitted pipeline with labels and thresholds, and
//! scores; [`explain`] splits each score into its terms' contributions, which add up to the
//! logit exactly; [`eval`] turns predictions into test reports; [`analysis`] answers questions
//! about whole corpora (label prevalence by group and period, corrected with the error rates the
//! classifier measured on its own training data out of fold; the terms that set groups apart);
//! [`dataset`] reads every input format; [`model`] saves and loads a classifier as one file. The
//! library never prints, never exits and never reads argv or the environment: the `framelens`
//! binary is the glue.
//!
//! Train, score, explain:
//!
//! ```
//! use framelens::{ClassifierParams, Document};
//!
//! let doc = |text: &str, label: &str| Document {
//!     text: text.into(),
//!     labels: vec![label.into()],
//!     ..Default::default()
//! };
//! let mut docs = Vec::new();
//! for i in 0..10 {
//!     // "occupation" appears under both labels, "resistance" under one.
//!     docs.push(doc(&format!("the resistance fought the occupation, day {i}"), "resistance"));
//!     docs.push(doc(&format!("the envoy opened talks on the occupation, round {i}"), "diplomacy"));
//! }
//! let (classifier, _times) = ClassifierParams::default().fit(&docs)?;
//! let text = "Resistance fighters rejected the occupation.";
//! let p = classifier.predict("a1", text, 3);
//! assert_eq!(p.labels, ["resistance"]);
//! let why = &p.explanation[0];
//! assert_eq!(why.label, "resistance");
//! assert_eq!(why.up[0].term, "resistance");
//! // The explanation is the model's own arithmetic: bias + Σ contributions = logit.
//! let k = classifier.labels.iter().position(|l| l == "resistance").unwrap();
//! let row = classifier.vectorizer.transform(text);
//! let all = classifier.explainer().contributions(&row.indices, &row.values, k);
//! let sum: f64 = classifier.model.bias[k] + all.iter().map(|c| c.contribution).sum::<f64>();
//! assert!((sum - why.logit).abs() < 1e-9);
//! # Ok::<(), framelens::Error>(())
//! ```

/// The README's Rust examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod analysis;
pub mod classifier;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod explain;
pub mod features;
#[doc(hidden)]
pub mod fuzzing;
mod linalg;
pub mod logistic;
pub mod model;
pub mod report;
pub mod sparse;
#[cfg(test)]
mod test_rng;
pub mod text;

pub use classifier::{
    Classifier, ClassifierParams, LabelMode, Prediction, ThresholdMode, TrainingSummary,
};
pub use dataset::Document;
pub use error::{Error, Result};
pub use eval::Report;
pub use explain::{Explainer, LabelExplanation, TermContribution};
pub use features::{TfidfParams, TfidfVectorizer};
pub use logistic::{LogisticModel, LogisticParams};
