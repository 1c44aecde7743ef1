//! The whole pipeline as one fitted value: [`ClassifierParams::fit`] turns labelled documents into
//! a [`Classifier`] (vectorizer + logistic model + labels + thresholds + training summary), which
//! scores and explains new documents. Saving and loading are in [`crate::model`].

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::classify::{LogisticModel, LogisticParams, ModelKind, SolverReport};
use crate::error::{Error, Result};
use crate::explain::{explain_label, LabelExplanation};
use crate::features::{CsrMatrix, TfidfParams, TfidfVectorizer, VocabularyStats};
use crate::Document;

/// Single-label or multi-label training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LabelMode {
    /// Multi-label (one-vs-rest) when any training document has more than one label, else
    /// single-label (multinomial). The default.
    #[default]
    Auto,
    /// One label per document: documents with several labels are an error.
    Single,
    /// One-vs-rest, whatever the data.
    Multi,
}

/// Everything that defines how a classifier is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ClassifierParams {
    /// Text to TF-IDF rows.
    pub tfidf: TfidfParams,
    /// The logistic regression.
    pub logistic: LogisticParams,
    /// Single- or multi-label.
    pub label_mode: LabelMode,
    /// Decision threshold of every label in one-vs-rest models. Default 0.5.
    pub threshold: Option<f64>,
}

/// What training saw and did: saved in the model, shown by `inspect`. Deterministic (no clock
/// times), so the same data and settings give the same model bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Training documents.
    pub n_documents: usize,
    /// Documents per label.
    pub label_counts: BTreeMap<String, usize>,
    /// Vocabulary figures.
    pub vocabulary: VocabularyStats,
    /// One report per optimisation (one, or one per label in one-vs-rest).
    pub solver: Vec<SolverReport>,
    /// The framelens version that trained the model.
    pub framelens_version: String,
}

impl TrainingSummary {
    /// Whether every optimisation converged.
    pub fn converged(&self) -> bool {
        self.solver.iter().all(|r| r.converged)
    }
}

/// A trained classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// The training settings (the analyzer and TF-IDF settings also live in the vectorizer).
    pub params: ClassifierParams,
    /// Vocabulary, idf and analyzer.
    pub vectorizer: TfidfVectorizer,
    /// Weights and biases.
    pub model: LogisticModel,
    /// Label names, in model order.
    pub labels: Vec<String>,
    /// Per-label decision thresholds (one-vs-rest only).
    pub thresholds: Option<Vec<f64>>,
    /// What training saw.
    pub summary: TrainingSummary,
}

/// Wall-clock time of each training stage, in seconds (not saved in the model).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimes {
    pub vectorize_s: f64,
    pub fit_s: f64,
}

impl ClassifierParams {
    /// Train on labelled documents. Every document must carry at least one label.
    pub fn fit(&self, docs: &[Document]) -> Result<(Classifier, StageTimes)> {
        let mut times = StageTimes::default();
        if docs.is_empty() {
            return Err(Error::param("documents", 0, "no training documents"));
        }
        if let Some(d) = docs.iter().find(|d| d.labels.is_empty()) {
            return Err(Error::param(
                "labels",
                &d.id,
                "every training document needs a label",
            ));
        }
        let mut label_counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in docs {
            for l in &d.labels {
                *label_counts.entry(l.clone()).or_insert(0) += 1;
            }
        }
        let labels: Vec<String> = label_counts.keys().cloned().collect();
        if labels.len() < 2 {
            return Err(Error::TooFewLabels {
                found: labels.len(),
                labels,
            });
        }
        let any_multi = docs.iter().any(|d| d.labels.len() > 1);
        let kind = match self.label_mode {
            LabelMode::Auto if any_multi => ModelKind::OneVsRest,
            LabelMode::Auto | LabelMode::Single => ModelKind::Multinomial,
            LabelMode::Multi => ModelKind::OneVsRest,
        };
        if kind == ModelKind::Multinomial && any_multi {
            let d = docs.iter().find(|d| d.labels.len() > 1).expect("any_multi");
            return Err(Error::param(
                "labels",
                &d.id,
                format!(
                    "document has {} labels but single-label training was asked for; drop --single-label to train one-vs-rest",
                    d.labels.len()
                ),
            ));
        }
        let threshold = self.threshold.unwrap_or(0.5);
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(Error::param("threshold", threshold, "must be in (0, 1)"));
        }

        let t0 = std::time::Instant::now();
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        let (vectorizer, x, vocab_stats) = self.tfidf.fit_transform(&texts)?;
        times.vectorize_s = t0.elapsed().as_secs_f64();

        let t1 = std::time::Instant::now();
        let index: BTreeMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let (model, reports) = match kind {
            ModelKind::Multinomial => {
                let y: Vec<usize> = docs.iter().map(|d| index[d.labels[0].as_str()]).collect();
                self.logistic.fit_multiclass(&x, &y, labels.len())?
            }
            ModelKind::OneVsRest => {
                let y: Vec<Vec<usize>> = docs
                    .iter()
                    .map(|d| d.labels.iter().map(|l| index[l.as_str()]).collect())
                    .collect();
                self.logistic.fit_one_vs_rest(&x, &y, &labels)?
            }
        };
        times.fit_s = t1.elapsed().as_secs_f64();
        let thresholds = (kind == ModelKind::OneVsRest).then(|| vec![threshold; labels.len()]);
        let summary = TrainingSummary {
            n_documents: docs.len(),
            label_counts,
            vocabulary: vocab_stats,
            solver: reports,
            framelens_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        Ok((
            Classifier {
                params: self.clone(),
                vectorizer,
                model,
                labels,
                thresholds,
                summary,
            },
            times,
        ))
    }
}

/// How a document was scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The document's id.
    pub id: String,
    /// Predicted labels: the most probable one (multinomial), or those whose probability reaches
    /// their threshold, else the most probable one (one-vs-rest).
    pub labels: Vec<String>,
    /// Probability of every label, in model order.
    pub probabilities: Vec<(String, f64)>,
    /// For each predicted label, the terms that drove its score.
    pub explanation: Vec<LabelExplanation>,
    /// How many of the document's terms are in the vocabulary.
    pub known_terms: usize,
    /// True when no term of the document is in the vocabulary: the probabilities then come from
    /// the biases alone.
    pub no_known_terms: bool,
}

impl Classifier {
    /// Check that the parts fit together (used after loading).
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        let fail = |what: &str| Err(Error::param("model", what.to_string(), "inconsistent model"));
        if self.model.n_features != self.vectorizer.n_features() {
            return fail("weights and vocabulary differ in size");
        }
        if self.model.n_labels != self.labels.len() {
            return fail("weights and labels differ in number");
        }
        let mut seen = std::collections::HashSet::new();
        if !self.labels.iter().all(|l| seen.insert(l)) {
            return fail("labels are not unique");
        }
        match (&self.thresholds, self.model.kind) {
            (Some(t), ModelKind::OneVsRest) if t.len() == self.labels.len() => {
                if t.iter().any(|x| !(x.is_finite() && *x > 0.0 && *x < 1.0)) {
                    return fail("thresholds must be in (0, 1)");
                }
            }
            (None, ModelKind::Multinomial) => {}
            _ => return fail("thresholds do not match the model kind"),
        }
        Ok(())
    }

    /// Whether the model is one-vs-rest (multi-label).
    pub fn is_multi_label(&self) -> bool {
        self.model.kind == ModelKind::OneVsRest
    }

    /// Score and explain one document, listing `top_terms` terms each way per predicted label.
    pub fn predict(&self, id: &str, text: &str, top_terms: usize) -> Prediction {
        let row = self.vectorizer.transform(text);
        let logits = self.model.logits(&row.indices, &row.values);
        let probs = self.model.probabilities_from_logits(&logits);
        let predicted = self.decide(&probs);
        let explanation = predicted
            .iter()
            .map(|&k| {
                explain_label(
                    &self.model,
                    self.vectorizer.vocabulary(),
                    &self.labels,
                    &row.indices,
                    &row.values,
                    &logits,
                    &probs,
                    self.thresholds.as_ref().map(|t| t[k]),
                    k,
                    top_terms,
                )
            })
            .collect();
        Prediction {
            id: id.to_string(),
            labels: predicted.iter().map(|&k| self.labels[k].clone()).collect(),
            probabilities: self.labels.iter().cloned().zip(probs).collect(),
            explanation,
            known_terms: row.nnz(),
            no_known_terms: row.nnz() == 0,
        }
    }

    /// Predicted label indices from probabilities.
    fn decide(&self, probs: &[f64]) -> Vec<usize> {
        let best = argmax(probs);
        match &self.thresholds {
            None => vec![best],
            Some(t) => {
                let passing: Vec<usize> = (0..probs.len()).filter(|&k| probs[k] >= t[k]).collect();
                if passing.is_empty() {
                    vec![best]
                } else {
                    passing
                }
            }
        }
    }

    /// Predicted labels of many documents (no explanations), in parallel, in input order.
    pub fn predict_labels<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
        texts
            .par_iter()
            .map(|t| {
                let row = self.vectorizer.transform(t.as_ref());
                let probs = self.model.predict_proba(&row.indices, &row.values);
                self.decide(&probs)
                    .into_iter()
                    .map(|k| self.labels[k].clone())
                    .collect()
            })
            .collect()
    }

    /// The TF-IDF matrix of many documents under this model's vocabulary.
    pub fn transform(&self, texts: &[&str]) -> CsrMatrix {
        self.vectorizer.transform_many(texts)
    }
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::DfLimit;

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
        for k in 0..clf.labels.len() {
            let all = crate::explain::contributions(
                &clf.model,
                clf.vectorizer.vocabulary(),
                &row.indices,
                &row.values,
                k,
            );
            let sum: f64 = clf.model.bias[k] + all.iter().map(|c| c.contribution).sum::<f64>();
            assert!((sum - logits[k]).abs() < 1e-9, "label {k}: {sum} vs {}", logits[k]);
        }
        let p = clf.predict("x", text, 3);
        for e in &p.explanation {
            assert!(e.up.len() <= 3 && e.down.len() <= 3);
            assert!(e.up.windows(2).all(|w| w[0].contribution >= w[1].contribution));
        }
    }

    #[test]
    fn predicts_the_right_frame_and_explains_with_its_words() {
        let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
        let p = clf.predict("x", "A drone and a missile hit the border.", 5);
        assert_eq!(p.labels, ["security"]);
        let terms: Vec<&str> = p.explanation[0].up.iter().map(|c| c.term.as_str()).collect();
        assert!(terms.contains(&"drone") && terms.contains(&"missile"), "{terms:?}");
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
        let p = clf.predict("x", "sanctions on oil exports discussed at the summit talks", 5);
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
}
