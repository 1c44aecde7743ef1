//! Evaluation: metrics, confusion matrix, the test report (text, JSON, HTML) and fold assignment for
//! cross-validation.
//!
//! Everything here works on label *strings* (the gold labels of a data set and the labels a model
//! predicted), so it needs nothing from training and can score predictions made by any tool.
//!
//! * [`evaluate`] turns gold and predicted labels into a [`Report`]: per-label precision, recall, F1
//!   and counts, micro / macro / weighted (and, for multi-label data, samples) averages, the
//!   confusion matrix. The figures follow scikit-learn's `classification_report`,
//!   `precision_recall_fscore_support(..., zero_division=0)`, `hamming_loss`, `accuracy_score` and
//!   `(multilabel_)confusion_matrix`; the unit tests compare them with numbers sklearn produced.
//!   A [`Report`] is serde data (the JSON report), prints as aligned text tables (`Display`) and
//!   renders as one self-contained HTML page ([`Report::to_html`]).
//! * [`stratified_folds`] assigns documents to `k` cross-validation folds (stratified k-fold for
//!   single-label data, iterative stratification for multi-label data), deterministically for a seed.
//! * [`summarize_folds`] folds the per-fold reports into a [`CvSummary`] (mean, sample standard
//!   deviation and per-fold values of each scalar metric).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::error::{Error, Result};

/// Name of the extra confusion-matrix column that counts single-label documents for which the model
/// predicted no label at all (an abstention, e.g. every probability below its threshold). Where a
/// label already has this name, the column takes it with asterisks added (`(none)*`, ...).
pub const NO_PREDICTION: &str = "(none)";

/// The name of the no-prediction column: [`NO_PREDICTION`], with asterisks added until it is no
/// label's name.
fn no_prediction_column(labels: &[String]) -> String {
    let mut name = NO_PREDICTION.to_string();
    while labels.contains(&name) {
        name.push('*');
    }
    name
}

/// Precision, recall, F1 and the underlying counts of one label.
///
/// Undefined ratios are 0, as with scikit-learn's `zero_division=0`: precision is 0 when the label
/// was never predicted, recall is 0 when it has no support, F1 is `2·tp / (2·tp + fp + fn)` and 0
/// when that denominator is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    /// The label.
    pub label: String,
    /// `tp / (tp + fp)`, 0 when the label was never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when no document carries the label.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Number of documents whose gold labels include this one (`tp + fn`).
    pub support: usize,
    /// Documents that carry the label and were predicted with it.
    pub tp: usize,
    /// Documents predicted with the label that do not carry it.
    pub fp: usize,
    /// Documents that carry the label but were not predicted with it (JSON key `fn`).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Documents that neither carry nor were predicted with the label.
    pub tn: usize,
    /// True when the label is not one of the model's labels (it only appears in the gold data, so
    /// the model can never predict it: its recall is 0 and it lowers the macro average).
    pub unknown: bool,
}

/// The confusion matrix of a [`Report`]; its JSON key is `confusion_matrix` in both modes and the
/// shape tells them apart (serde `untagged`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfusionMatrix {
    /// Single-label: `matrix[t][p]` = number of documents whose gold label is `labels[t]` and whose
    /// predicted label is `confusion_columns[p]`. Rows follow [`Report::labels`]; the columns are
    /// the same labels plus, only when some document got no prediction, a last column
    /// [`NO_PREDICTION`] (see [`Report::confusion_columns`]). Like sklearn's `confusion_matrix`.
    SingleLabel(Vec<Vec<usize>>),
    /// Multi-label: one 2×2 matrix `[[TN, FP], [FN, TP]]` per label, in the order of
    /// [`Report::labels`]. Like sklearn's `multilabel_confusion_matrix`.
    MultiLabel(Vec<[[usize; 2]; 2]>),
}

/// The test report of a model on labelled documents: what [`evaluate`] returns.
///
/// Label order ([`Report::labels`]): the model's labels in the model's order, then every gold label
/// the model does not know, sorted. Those unknown labels are listed in [`Report::unknown_labels`]
/// and scored like labels the model never predicts (recall 0), so they pull the macro and weighted
/// averages down instead of being silently dropped.
///
/// JSON: every field below under its own name; the multi-label-only fields (`samples_*`,
/// `hamming_loss`, `subset_accuracy`, `label_cardinality_*`) are omitted from single-label reports,
/// and `confusion_columns` is omitted from multi-label reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Whether the documents were evaluated as multi-label (sets of labels) or single-label.
    pub multi_label: bool,
    /// Number of evaluated documents.
    pub n_documents: usize,
    /// The report's label order (model labels, then unknown gold labels sorted).
    pub labels: Vec<String>,
    /// Gold labels the model does not know → number of documents carrying them. In single-label
    /// mode only the (first) gold label that is evaluated counts.
    pub unknown_labels: BTreeMap<String, usize>,
    /// Single-label: share of documents whose predicted label equals the gold label (an empty
    /// prediction is wrong). Multi-label: subset accuracy (predicted set == gold set).
    pub accuracy: f64,
    /// Micro-averaged precision: Σtp / (Σtp + Σfp) over all labels. Single-label: a document with
    /// no prediction adds no false positive, so this exceeds `accuracy` when some are empty.
    pub micro_precision: f64,
    /// Micro-averaged recall: Σtp / (Σtp + Σfn); equals `accuracy` for single-label data.
    pub micro_recall: f64,
    /// Micro-averaged F1: 2Σtp / (2Σtp + Σfp + Σfn).
    pub micro_f1: f64,
    /// Unweighted mean of the per-label precisions (every label of `labels` counts, unknown ones too).
    pub macro_precision: f64,
    /// Unweighted mean of the per-label recalls.
    pub macro_recall: f64,
    /// Unweighted mean of the per-label F1 (not the F1 of the macro precision and recall, as sklearn).
    pub macro_f1: f64,
    /// Mean of the per-label precisions weighted by support.
    pub weighted_precision: f64,
    /// Mean of the per-label recalls weighted by support.
    pub weighted_recall: f64,
    /// Mean of the per-label F1 weighted by support.
    pub weighted_f1: f64,
    /// Multi-label only: mean over documents of |gold ∩ predicted| / |predicted| (0 when nothing
    /// was predicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_precision: Option<f64>,
    /// Multi-label only: mean over documents of |gold ∩ predicted| / |gold| (0 when no gold label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_recall: Option<f64>,
    /// Multi-label only: mean over documents of 2|gold ∩ predicted| / (|gold| + |predicted|); a
    /// document with neither gold nor predicted labels counts 0, as sklearn's
    /// `f1_score(average="samples", zero_division=0)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_f1: Option<f64>,
    /// Multi-label only: share of wrong (document, label) decisions, Σ(fp + fn) / (documents × labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hamming_loss: Option<f64>,
    /// Multi-label only: share of documents whose predicted set equals the gold set (= `accuracy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset_accuracy: Option<f64>,
    /// Multi-label only: mean number of gold labels per document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_cardinality_true: Option<f64>,
    /// Multi-label only: mean number of predicted labels per document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_cardinality_pred: Option<f64>,
    /// Number of documents for which the model predicted no label.
    pub n_empty_predictions: usize,
    /// One entry per label of `labels`, same order.
    pub per_label: Vec<LabelMetrics>,
    /// Single-label only: the column names of `confusion_matrix` (`labels`, plus a last column
    /// named [`NO_PREDICTION`], or that with asterisks where a label has the name, when some
    /// prediction was empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_columns: Option<Vec<String>>,
    /// See [`ConfusionMatrix`] for the two shapes.
    pub confusion_matrix: ConfusionMatrix,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn label_metrics(
    label: &str,
    tp: usize,
    fp: usize,
    fn_: usize,
    n: usize,
    unknown: bool,
) -> LabelMetrics {
    LabelMetrics {
        label: label.to_string(),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        support: tp + fn_,
        tp,
        fp,
        fn_,
        tn: n - tp - fp - fn_,
        unknown,
    }
}

/// Evaluates predicted labels against gold labels.
///
/// * `model_labels`: every label the model can predict, in the model's order (must be unique).
/// * `truth[i]`, `predicted[i]`: gold and predicted labels of document `i`; both slices must have
///   the same, non-zero length.
/// * `multi_label`: `false` evaluates one label per document: the first gold label is used (a
///   document without gold label is an error) and a prediction holds at most one label (empty =
///   the model abstained, counted in the [`NO_PREDICTION`] column). `true` compares label sets
///   (duplicates inside one document are ignored; empty gold or predicted sets are allowed).
///
/// Gold labels missing from `model_labels` are added to the report (see [`Report`]); a *predicted*
/// label missing from `model_labels` means the caller passed the wrong label list and is an
/// [`Error::Label`].
///
/// # Errors
/// [`Error::InvalidParameter`] when the lengths differ or there are no documents; [`Error::Label`]
/// for duplicate model labels, an unknown predicted label, a single-label document without gold
/// label or with several predictions, or when there is no label at all to evaluate.
pub fn evaluate(
    model_labels: &[String],
    truth: &[Vec<String>],
    predicted: &[Vec<String>],
    multi_label: bool,
) -> Result<Report> {
    if truth.len() != predicted.len() {
        return Err(Error::param(
            "predicted",
            format!("{} documents", predicted.len()),
            format!("needs one entry per gold document ({})", truth.len()),
        ));
    }
    let n = truth.len();
    if n == 0 {
        return Err(Error::param(
            "truth",
            "0 documents",
            "evaluation needs at least one document",
        ));
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, label) in model_labels.iter().enumerate() {
        if index.insert(label.as_str(), i).is_some() {
            return Err(Error::Label(format!(
                "model label {label:?} is listed twice; labels must be unique"
            )));
        }
    }
    for (i, doc) in predicted.iter().enumerate() {
        if !multi_label && doc.len() > 1 {
            return Err(Error::Label(format!(
                "document {i} has {} predicted labels {doc:?}; single-label evaluation expects at most one (evaluate as multi-label?)",
                doc.len()
            )));
        }
        if let Some(label) = doc.iter().find(|l| !index.contains_key(l.as_str())) {
            return Err(Error::Label(format!(
                "document {i}: predicted label {label:?} is not one of the model's labels {model_labels:?}"
            )));
        }
    }
    // The gold labels that are evaluated: all of them (multi-label) or the first (single-label).
    let evaluated: Vec<&[String]> = truth
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            if multi_label {
                Ok(doc.as_slice())
            } else if doc.is_empty() {
                Err(Error::Label(format!(
                    "document {i} has no gold label; single-label evaluation needs one per document"
                )))
            } else {
                Ok(&doc[..1])
            }
        })
        .collect::<Result<_>>()?;

    let mut unknown_labels: BTreeMap<String, usize> = BTreeMap::new();
    for doc in &evaluated {
        let mut seen: Vec<&str> = doc
            .iter()
            .map(String::as_str)
            .filter(|l| !index.contains_key(l))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for label in seen {
            *unknown_labels.entry(label.to_string()).or_default() += 1;
        }
    }
    let mut labels: Vec<String> = model_labels.to_vec();
    labels.extend(unknown_labels.keys().cloned());
    if labels.is_empty() {
        return Err(Error::Label(
            "nothing to evaluate: the model has no labels and no document has a gold label".into(),
        ));
    }
    let n_known = model_labels.len();
    for (i, label) in labels.iter().enumerate().skip(n_known) {
        index.insert(label.as_str(), i);
    }
    let to_ids = |doc: &[String]| -> Vec<usize> {
        let mut ids: Vec<usize> = doc.iter().map(|l| index[l.as_str()]).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let gold: Vec<Vec<usize>> = evaluated.iter().map(|d| to_ids(d)).collect();
    let pred: Vec<Vec<usize>> = predicted.iter().map(|d| to_ids(d)).collect();
    let n_empty_predictions = pred.iter().filter(|p| p.is_empty()).count();
    let n_labels = labels.len();

    let mut tp = vec![0usize; n_labels];
    let mut fp = vec![0usize; n_labels];
    let mut fn_ = vec![0usize; n_labels];
    for (g, p) in gold.iter().zip(&pred) {
        for &l in g {
            if p.binary_search(&l).is_ok() {
                tp[l] += 1;
            } else {
                fn_[l] += 1;
            }
        }
        for &l in p {
            if g.binary_search(&l).is_err() {
                fp[l] += 1;
            }
        }
    }
    let per_label: Vec<LabelMetrics> = (0..n_labels)
        .map(|l| label_metrics(&labels[l], tp[l], fp[l], fn_[l], n, l >= n_known))
        .collect();
    let (sum_tp, sum_fp, sum_fn): (usize, usize, usize) =
        (tp.iter().sum(), fp.iter().sum(), fn_.iter().sum());
    let total_support: usize = per_label.iter().map(|m| m.support).sum();
    let macro_of =
        |f: fn(&LabelMetrics) -> f64| per_label.iter().map(f).sum::<f64>() / n_labels as f64;
    let weighted_of = |f: fn(&LabelMetrics) -> f64| {
        if total_support == 0 {
            0.0
        } else {
            per_label
                .iter()
                .map(|m| f(m) * m.support as f64)
                .sum::<f64>()
                / total_support as f64
        }
    };
    let exact = gold.iter().zip(&pred).filter(|(g, p)| g == p).count();
    let accuracy = exact as f64 / n as f64;

    let mut report = Report {
        multi_label,
        n_documents: n,
        labels,
        unknown_labels,
        accuracy,
        micro_precision: ratio(sum_tp, sum_tp + sum_fp),
        micro_recall: ratio(sum_tp, sum_tp + sum_fn),
        micro_f1: ratio(2 * sum_tp, 2 * sum_tp + sum_fp + sum_fn),
        macro_precision: macro_of(|m| m.precision),
        macro_recall: macro_of(|m| m.recall),
        macro_f1: macro_of(|m| m.f1),
        weighted_precision: weighted_of(|m| m.precision),
        weighted_recall: weighted_of(|m| m.recall),
        weighted_f1: weighted_of(|m| m.f1),
        samples_precision: None,
        samples_recall: None,
        samples_f1: None,
        hamming_loss: None,
        subset_accuracy: None,
        label_cardinality_true: None,
        label_cardinality_pred: None,
        n_empty_predictions,
        per_label: Vec::new(),
        confusion_columns: None,
        confusion_matrix: ConfusionMatrix::SingleLabel(Vec::new()),
    };

    if multi_label {
        let (mut sp, mut sr, mut sf) = (0.0, 0.0, 0.0);
        for (g, p) in gold.iter().zip(&pred) {
            let common = g.iter().filter(|l| p.binary_search(l).is_ok()).count();
            sp += ratio(common, p.len());
            sr += ratio(common, g.len());
            sf += ratio(2 * common, g.len() + p.len());
        }
        let nf = n as f64;
        report.samples_precision = Some(sp / nf);
        report.samples_recall = Some(sr / nf);
        report.samples_f1 = Some(sf / nf);
        report.hamming_loss = Some((sum_fp + sum_fn) as f64 / (nf * n_labels as f64));
        report.subset_accuracy = Some(accuracy);
        report.label_cardinality_true = Some(gold.iter().map(Vec::len).sum::<usize>() as f64 / nf);
        report.label_cardinality_pred = Some(pred.iter().map(Vec::len).sum::<usize>() as f64 / nf);
        report.confusion_matrix = ConfusionMatrix::MultiLabel(
            per_label
                .iter()
                .map(|m| [[m.tn, m.fp], [m.fn_, m.tp]])
                .collect(),
        );
    } else {
        let none_column = (n_empty_predictions > 0).then_some(n_labels);
        let n_cols = n_labels + usize::from(none_column.is_some());
        let mut matrix = vec![vec![0usize; n_cols]; n_labels];
        for (g, p) in gold.iter().zip(&pred) {
            // `none_column` is Some whenever a prediction is empty, so the fallback is never used.
            let col = p.first().copied().or(none_column).unwrap_or(0);
            matrix[g[0]][col] += 1;
        }
        let mut columns = report.labels.clone();
        if none_column.is_some() {
            columns.push(no_prediction_column(&report.labels));
        }
        report.confusion_columns = Some(columns);
        report.confusion_matrix = ConfusionMatrix::SingleLabel(matrix);
    }
    report.per_label = per_label;
    Ok(report)
}

impl Report {
    /// The metrics of one label, if it is in the report.
    pub fn label(&self, label: &str) -> Option<&LabelMetrics> {
        self.per_label.iter().find(|m| m.label == label)
    }

    /// The scalar metrics a cross-validation summary aggregates, in display order: `accuracy`,
    /// `micro_f1`, `macro_f1`, `weighted_f1`, then for multi-label reports `samples_f1`,
    /// `hamming_loss` and `subset_accuracy`.
    pub fn scalar_metrics(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![
            ("accuracy", self.accuracy),
            ("micro_f1", self.micro_f1),
            ("macro_f1", self.macro_f1),
            ("weighted_f1", self.weighted_f1),
        ];
        for (name, value) in [
            ("samples_f1", self.samples_f1),
            ("hamming_loss", self.hamming_loss),
            ("subset_accuracy", self.subset_accuracy),
        ] {
            if let Some(v) = value {
                out.push((name, v));
            }
        }
        out
    }

    /// The summary figures shown at the top of the HTML page: (name, value).
    fn summary_rows(&self) -> Vec<(&'static str, f64)> {
        let mut rows = vec![("accuracy", self.accuracy)];
        if self.multi_label {
            rows[0].0 = "subset accuracy";
        }
        rows.extend([
            ("micro F1", self.micro_f1),
            ("macro F1", self.macro_f1),
            ("weighted F1", self.weighted_f1),
        ]);
        if let Some(v) = self.samples_f1 {
            rows.push(("samples F1", v));
        }
        if let Some(v) = self.hamming_loss {
            rows.push(("hamming loss", v));
        }
        if let Some(v) = self.label_cardinality_true {
            rows.push(("labels per doc (gold)", v));
        }
        if let Some(v) = self.label_cardinality_pred {
            rows.push(("labels per doc (predicted)", v));
        }
        rows
    }

    /// The average rows of the per-label table: (name, precision, recall, f1).
    fn average_rows(&self) -> Vec<(&'static str, f64, f64, f64)> {
        let mut rows = vec![
            (
                "micro avg",
                self.micro_precision,
                self.micro_recall,
                self.micro_f1,
            ),
            (
                "macro avg",
                self.macro_precision,
                self.macro_recall,
                self.macro_f1,
            ),
            (
                "weighted avg",
                self.weighted_precision,
                self.weighted_recall,
                self.weighted_f1,
            ),
        ];
        if let (Some(p), Some(r), Some(f)) =
            (self.samples_precision, self.samples_recall, self.samples_f1)
        {
            rows.push(("samples avg", p, r, f));
        }
        rows
    }

    fn total_support(&self) -> usize {
        self.per_label.iter().map(|m| m.support).sum()
    }

    /// Renders the report as one self-contained HTML page: inline CSS, no script, no external
    /// resource. It shows the summary figures, the per-label table and the confusion matrix as a
    /// heat map whose cell shade is the row-normalised value (share of the gold row; for
    /// multi-label reports, share of the label's negatives for TN/FP and of its positives for FN/TP).
    /// `title` and every label are HTML-escaped.
    pub fn to_html(&self, title: &str) -> String {
        use std::fmt::Write;
        let mut h = String::new();
        let t = html_escape(title);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{t}</title>\n<style>\n{HTML_CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n"
        );
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} documents · {} · {} labels{}</p>",
            self.n_documents,
            if self.multi_label {
                "multi-label"
            } else {
                "single-label"
            },
            self.labels.len(),
            if self.n_empty_predictions > 0 {
                format!(" · {} without prediction", self.n_empty_predictions)
            } else {
                String::new()
            }
        );
        h.push_str("<div class=\"cards\">\n");
        for (name, value) in self.summary_rows() {
            let _ = writeln!(
                h,
                "<div class=\"card\"><div class=\"v\">{value:.3}</div><div class=\"k\">{name}</div></div>"
            );
        }
        h.push_str(
            "</div>\n<h2>Per label</h2>\n<table class=\"num\">\n<thead><tr><th>label</th>\
                    <th>precision</th><th>recall</th><th>F1</th><th>support</th><th>TP</th>\
                    <th>FP</th><th>FN</th></tr></thead>\n<tbody>\n",
        );
        for m in &self.per_label {
            let _ = writeln!(
                h,
                "<tr{}><th>{}{}</th><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if m.unknown { " class=\"unknown\"" } else { "" },
                html_escape(&m.label),
                if m.unknown { " *" } else { "" },
                m.precision,
                m.recall,
                m.f1,
                m.support,
                m.tp,
                m.fp,
                m.fn_
            );
        }
        h.push_str("</tbody>\n<tbody class=\"avg\">\n");
        let support = self.total_support();
        for (name, p, r, f) in self.average_rows() {
            let _ = writeln!(
                h,
                "<tr><th>{name}</th><td>{p:.3}</td><td>{r:.3}</td><td>{f:.3}</td><td>{support}</td><td></td><td></td><td></td></tr>"
            );
        }
        h.push_str("</tbody>\n</table>\n");
        if !self.unknown_labels.is_empty() {
            let list: Vec<String> = self
                .unknown_labels
                .iter()
                .map(|(l, c)| format!("{} ({c} document{})", html_escape(l), plural(*c)))
                .collect();
            let _ = writeln!(
                h,
                "<p class=\"note\">* not a model label, so never predicted: {}.</p>",
                list.join(", ")
            );
        }
        h.push_str("<h2>Confusion matrix</h2>\n");
        match &self.confusion_matrix {
            ConfusionMatrix::SingleLabel(matrix) => {
                let columns = self
                    .confusion_columns
                    .clone()
                    .unwrap_or_else(|| self.labels.clone());
                h.push_str("<p class=\"note\">Rows: gold label; columns: predicted label. Shade: share of the row.</p>\n");
                h.push_str(
                    "<table class=\"cm\">\n<thead><tr><th class=\"corner\">gold \\ predicted</th>",
                );
                for c in &columns {
                    let _ = write!(h, "<th class=\"col\">{}</th>", html_escape(c));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for (label, row) in self.labels.iter().zip(matrix) {
                    let total: usize = row.iter().sum();
                    let _ = write!(h, "<tr><th>{}</th>", html_escape(label));
                    for (j, &count) in row.iter().enumerate() {
                        let label_j = columns.get(j).map(String::as_str).unwrap_or("");
                        heat_cell(&mut h, count, total, label == label_j);
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            ConfusionMatrix::MultiLabel(matrices) => {
                h.push_str("<p class=\"note\">One 2×2 matrix per label, [[TN, FP], [FN, TP]] as sklearn's \
                            multilabel_confusion_matrix. Shade: TN and FP as a share of the label's negatives, \
                            FN and TP as a share of its positives.</p>\n");
                h.push_str("<table class=\"cm\">\n<thead><tr><th class=\"corner\">label</th><th>TN</th><th>FP</th>\
                            <th>FN</th><th>TP</th></tr></thead>\n<tbody>\n");
                for (label, m) in self.labels.iter().zip(matrices) {
                    let _ = write!(h, "<tr><th>{}</th>", html_escape(label));
                    let negatives = m[0][0] + m[0][1];
                    let positives = m[1][0] + m[1][1];
                    heat_cell(&mut h, m[0][0], negatives, true);
                    heat_cell(&mut h, m[0][1], negatives, false);
                    heat_cell(&mut h, m[1][0], positives, false);
                    heat_cell(&mut h, m[1][1], positives, true);
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
        }
        h.push_str("<p class=\"foot\">Generated by framelens. Undefined ratios count as 0 (scikit-learn zero_division=0).</p>\n</body>\n</html>\n");
        h
    }
}

const HTML_CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em}
.meta,.note,.foot{color:#555;font-size:.9em}.foot{margin-top:2em}
.cards{display:flex;flex-wrap:wrap;gap:.6em}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:7em}
.card .v{font-size:1.4em;font-variant-numeric:tabular-nums}.card .k{color:#555;font-size:.85em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.25em .6em;border-bottom:1px solid #eee}
td{text-align:right}th{text-align:left;font-weight:600}
thead th{border-bottom:2px solid #bbb;vertical-align:bottom}
tbody.avg th,tbody.avg td{border-top:2px solid #bbb;font-style:italic}
tr.unknown th{color:#a33}
table.cm td{min-width:3em;text-align:center;border:1px solid #fff}
table.cm th.col{max-width:9em;overflow-wrap:anywhere;text-align:center}
td.hit{outline:2px solid #2a6;outline-offset:-2px}
";

/// One heat-map cell: background alpha = count / row_total; diagonal (correct) cells are outlined.
fn heat_cell(h: &mut String, count: usize, row_total: usize, correct: bool) {
    use std::fmt::Write;
    let share = ratio(count, row_total);
    let text = if share > 0.55 { "#fff" } else { "#222" };
    let _ = write!(
        h,
        "<td{} style=\"background:rgba(31,94,180,{share:.3});color:{text}\" title=\"{count} of {row_total} ({:.1}%)\">{count}</td>",
        if correct { " class=\"hit\"" } else { "" },
        share * 100.0
    );
}

/// Escapes `&`, `<`, `>`, `"` and `'` so any string is safe as HTML text or attribute value.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Shortens `s` to at most `width` terminal cells (an ellipsis marks the cut) and blanks control
/// characters, so a label cannot break a text table.
fn fit(s: &str, width: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cells(&clean) <= width {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The width of `s` in terminal cells: a CJK character takes two, a combining mark none.
fn cells(s: &str) -> usize {
    s.width()
}

/// Text in a table column padded by terminal cells, not characters, so that `{:<w$}` and `{:>w$}`
/// line up Chinese, accented and Latin labels alike.
struct Cell<'a>(&'a str);

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pad = f.width().unwrap_or(0).saturating_sub(cells(self.0));
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Right) => (pad, 0),
            Some(fmt::Alignment::Center) => (pad / 2, pad - pad / 2),
            _ => (0, pad),
        };
        write!(f, "{:before$}{}{:after$}", "", self.0, "")
    }
}

/// Longest label (in terminal cells) shown in full in the text tables; longer ones are cut with
/// an ellipsis.
const MAX_LABEL_WIDTH: usize = 32;
/// Confusion-matrix columns are headed by label names when every name fits in this many
/// terminal cells, by the labels' numbers otherwise (the rows then show number and name).
const MAX_COLUMN_HEADER: usize = 12;

/// Text report in the layout of sklearn's `classification_report` (3 decimals): the per-label table
/// with tp/fp/fn, the averages, the multi-label figures, notes on unknown labels and empty
/// predictions, then the confusion matrix with label names as row and column headers. Columns are
/// measured in terminal cells (a CJK character takes two), labels wider than 32 cells are cut, and
/// when some column name is wider than 12 cells the columns are numbered instead and the rows
/// carry the same numbers.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} documents, {}, {} labels",
            self.n_documents,
            if self.multi_label {
                "multi-label"
            } else {
                "single-label"
            },
            self.labels.len()
        )?;
        writeln!(f)?;
        let shown: Vec<String> = self
            .per_label
            .iter()
            .map(|m| {
                let name = fit(&m.label, MAX_LABEL_WIDTH);
                if m.unknown {
                    format!("{name} *")
                } else {
                    name
                }
            })
            .collect();
        let w = shown
            .iter()
            .map(|s| cells(s))
            .chain(["weighted avg".len(), "subset accuracy".len()])
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "{:<w$}  {:>9}  {:>9}  {:>9}  {:>7}  {:>6}  {:>6}  {:>6}",
            "", "precision", "recall", "f1-score", "support", "tp", "fp", "fn"
        )?;
        writeln!(f)?;
        for (name, m) in shown.iter().zip(&self.per_label) {
            writeln!(
                f,
                "{:<w$}  {:>9.3}  {:>9.3}  {:>9.3}  {:>7}  {:>6}  {:>6}  {:>6}",
                Cell(name),
                m.precision,
                m.recall,
                m.f1,
                m.support,
                m.tp,
                m.fp,
                m.fn_
            )?;
        }
        writeln!(f)?;
        let support = self.total_support();
        let accuracy_name = if self.multi_label {
            "subset accuracy"
        } else {
            "accuracy"
        };
        writeln!(
            f,
            "{accuracy_name:<w$}  {:>9}  {:>9}  {:>9.3}  {:>7}",
            "", "", self.accuracy, self.n_documents
        )?;
        for (name, p, r, f1) in self.average_rows() {
            writeln!(f, "{name:<w$}  {p:>9.3}  {r:>9.3}  {f1:>9.3}  {support:>7}")?;
        }
        if let (Some(h), Some(ct), Some(cp)) = (
            self.hamming_loss,
            self.label_cardinality_true,
            self.label_cardinality_pred,
        ) {
            writeln!(f)?;
            writeln!(f, "hamming loss: {h:.4}")?;
            writeln!(f, "labels per document: {ct:.3} gold, {cp:.3} predicted")?;
        }
        if !self.unknown_labels.is_empty() {
            let list: Vec<String> = self
                .unknown_labels
                .iter()
                .map(|(l, c)| format!("{} ({c} document{})", fit(l, MAX_LABEL_WIDTH), plural(*c)))
                .collect();
            writeln!(f)?;
            writeln!(
                f,
                "* not a model label, so never predicted: {}",
                list.join(", ")
            )?;
        }
        if self.n_empty_predictions > 0 {
            writeln!(f)?;
            writeln!(
                f,
                "{} document{} got no predicted label{}",
                self.n_empty_predictions,
                plural(self.n_empty_predictions),
                if self.multi_label {
                    ""
                } else {
                    " (confusion-matrix column \"(none)\")"
                }
            )?;
        }
        writeln!(f)?;
        match &self.confusion_matrix {
            ConfusionMatrix::SingleLabel(matrix) => {
                let columns = self
                    .confusion_columns
                    .clone()
                    .unwrap_or_else(|| self.labels.clone());
                let numbered = columns.iter().any(|c| cells(c) > MAX_COLUMN_HEADER);
                let headers: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        if !numbered {
                            fit(c, MAX_COLUMN_HEADER)
                        } else if j == self.labels.len() {
                            c.clone()
                        } else {
                            format!("[{j}]")
                        }
                    })
                    .collect();
                let rows: Vec<String> = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if numbered {
                            format!("[{i}] {}", fit(l, MAX_LABEL_WIDTH))
                        } else {
                            fit(l, MAX_LABEL_WIDTH)
                        }
                    })
                    .collect();
                let max_count = matrix.iter().flatten().copied().max().unwrap_or(0);
                let cw = headers
                    .iter()
                    .map(|h| cells(h))
                    .chain([max_count.to_string().len()])
                    .max()
                    .unwrap_or(1);
                let rw = rows
                    .iter()
                    .map(|r| cells(r))
                    .chain(["gold \\ predicted".len()])
                    .max()
                    .unwrap_or(0);
                writeln!(
                    f,
                    "confusion matrix (rows: gold label, columns: predicted label)"
                )?;
                write!(f, "{:<rw$}", "gold \\ predicted")?;
                for h in &headers {
                    write!(f, "  {:>cw$}", Cell(h))?;
                }
                writeln!(f)?;
                for (r, row) in rows.iter().zip(matrix) {
                    write!(f, "{:<rw$}", Cell(r))?;
                    for c in row {
                        write!(f, "  {c:>cw$}")?;
                    }
                    writeln!(f)?;
                }
            }
            ConfusionMatrix::MultiLabel(matrices) => {
                let rw = shown.iter().map(|s| cells(s)).chain([5]).max().unwrap_or(5);
                let max_count = matrices
                    .iter()
                    .flatten()
                    .flatten()
                    .copied()
                    .max()
                    .unwrap_or(0);
                let cw = max_count.to_string().len().max(2);
                writeln!(f, "confusion matrix per label (sklearn multilabel_confusion_matrix: [[TN, FP], [FN, TP]])")?;
                writeln!(
                    f,
                    "{:<rw$}  {:>cw$}  {:>cw$}  {:>cw$}  {:>cw$}",
                    "label", "TN", "FP", "FN", "TP"
                )?;
                for (name, m) in shown.iter().zip(matrices) {
                    writeln!(
                        f,
                        "{:<rw$}  {:>cw$}  {:>cw$}  {:>cw$}  {:>cw$}",
                        Cell(name),
                        m[0][0],
                        m[0][1],
                        m[1][0],
                        m[1][1]
                    )?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-validation folds
// ---------------------------------------------------------------------------------------------

/// splitmix64 (Steele, Lea & Flood 2014): a tiny, well-mixed PRNG; enough for shuffling and tie
/// breaks, and it keeps fold assignment reproducible without a `rand` dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for any realistic `n`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Assigns each document to one of `k` cross-validation folds; returns the fold (`0..k`) of every
/// document, in input order. Fold `f`'s test set is the documents with fold `f`.
///
/// * Single-label data (no document has more than one distinct label): stratified k-fold. The
///   members of each class (documents without label form a class of their own) are shuffled with
///   `seed`, then dealt round-robin to the folds, continuing from class to class (classes in sorted
///   order), so fold sizes differ by at most one and each class is spread over the folds as evenly
///   as its size allows.
/// * Multi-label data: iterative stratification (Sechidis, Tsoumakas & Vlahavas 2011, as
///   scikit-multilearn's `IterativeStratification` with order 1). Each fold wants `n/k` documents
///   and `n_l/k` documents of each label `l`. Repeatedly, the label with the fewest remaining
///   documents (ties: the alphabetically first) is taken and its documents (shuffled with `seed`)
///   each go to the fold that still wants the most of that label; ties go to the fold that wants the most documents overall, then to a
///   random one. Documents without labels are dealt last to the folds that want the most documents.
///   Label proportions per fold end close to the global ones; fold sizes are close to, but not
///   always within one of, `n/k`.
///
/// Deterministic: the same labels, `k` and `seed` always give the same folds, on every platform.
///
/// # Errors
/// [`Error::InvalidParameter`] when `k < 2` or `k` exceeds the number of documents.
pub fn stratified_folds(labels: &[Vec<String>], k: usize, seed: u64) -> Result<Vec<usize>> {
    if k < 2 {
        return Err(Error::param(
            "k",
            k,
            "cross-validation needs at least 2 folds",
        ));
    }
    let n = labels.len();
    if k > n {
        return Err(Error::param(
            "k",
            k,
            format!("cannot exceed the number of documents ({n})"),
        ));
    }
    // Distinct label ids per document, ids in sorted label order so the result does not depend on
    // hash order.
    let names: Vec<&str> = {
        let mut v: Vec<&str> = labels.iter().flatten().map(String::as_str).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let docs: Vec<Vec<usize>> = labels
        .iter()
        .map(|doc| {
            let mut ids: Vec<usize> = doc
                .iter()
                .map(|l| names.binary_search(&l.as_str()).unwrap_or(0))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        })
        .collect();
    let mut rng = SplitMix64(seed);
    if docs.iter().all(|d| d.len() <= 1) {
        Ok(stratified_single(&docs, names.len(), k, &mut rng))
    } else {
        Ok(iterative_stratification(&docs, names.len(), k, &mut rng))
    }
}

fn stratified_single(
    docs: &[Vec<usize>],
    n_labels: usize,
    k: usize,
    rng: &mut SplitMix64,
) -> Vec<usize> {
    // Class n_labels (last) holds the unlabelled documents.
    let mut classes: Vec<Vec<usize>> = vec![Vec::new(); n_labels + 1];
    for (i, d) in docs.iter().enumerate() {
        classes[d.first().copied().unwrap_or(n_labels)].push(i);
    }
    let mut folds = vec![0; docs.len()];
    let mut next = 0;
    for members in &mut classes {
        rng.shuffle(members);
        for &i in members.iter() {
            folds[i] = next % k;
            next += 1;
        }
    }
    folds
}

fn iterative_stratification(
    docs: &[Vec<usize>],
    n_labels: usize,
    k: usize,
    rng: &mut SplitMix64,
) -> Vec<usize> {
    let n = docs.len();
    let share = 1.0 / k as f64;
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); n_labels];
    for (i, d) in docs.iter().enumerate() {
        for &l in d {
            by_label[l].push(i);
        }
    }
    // desired[l][f]: how many more documents of label l fold f should receive; wanted[f]: in total.
    let mut desired: Vec<Vec<f64>> = by_label
        .iter()
        .map(|m| vec![m.len() as f64 * share; k])
        .collect();
    let mut wanted = vec![n as f64 * share; k];
    let mut remaining: Vec<usize> = by_label.iter().map(Vec::len).collect();
    let mut fold_of: Vec<Option<usize>> = vec![None; n];

    // Among the folds in `candidates`, the one with the largest `wanted`, ties broken at random.
    fn pick(candidates: &[usize], wanted: &[f64], rng: &mut SplitMix64) -> usize {
        let best = candidates
            .iter()
            .map(|&f| wanted[f])
            .fold(f64::NEG_INFINITY, f64::max);
        let top: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&f| wanted[f] == best)
            .collect();
        if top.len() == 1 {
            top[0]
        } else {
            top[rng.below(top.len())]
        }
    }

    // Each round empties one label (the rarest still present), so there are at most n_labels rounds.
    while let Some(label) = (0..n_labels)
        .filter(|&l| remaining[l] > 0)
        .min_by_key(|&l| remaining[l])
    {
        let mut members: Vec<usize> = by_label[label]
            .iter()
            .copied()
            .filter(|&i| fold_of[i].is_none())
            .collect();
        rng.shuffle(&mut members);
        for i in members {
            let row = &desired[label];
            let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let candidates: Vec<usize> = (0..k).filter(|&f| row[f] == best).collect();
            let fold = pick(&candidates, &wanted, rng);
            fold_of[i] = Some(fold);
            wanted[fold] -= 1.0;
            for &l in &docs[i] {
                desired[l][fold] -= 1.0;
                remaining[l] -= 1;
            }
        }
    }
    let all: Vec<usize> = (0..k).collect();
    let mut unlabelled: Vec<usize> = (0..n).filter(|&i| fold_of[i].is_none()).collect();
    rng.shuffle(&mut unlabelled);
    for i in unlabelled {
        let fold = pick(&all, &wanted, rng);
        fold_of[i] = Some(fold);
        wanted[fold] -= 1.0;
    }
    fold_of.into_iter().map(|f| f.unwrap_or(0)).collect()
}

// ---------------------------------------------------------------------------------------------
// Cross-validation summary
// ---------------------------------------------------------------------------------------------

/// Mean, spread and per-fold values of one scalar metric over the folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Arithmetic mean of `values`.
    pub mean: f64,
    /// Sample standard deviation of `values` (divisor n − 1); 0 for a single fold.
    pub std: f64,
    /// The metric of each fold, in fold order.
    pub values: Vec<f64>,
}

impl MetricSummary {
    fn new(values: Vec<f64>) -> Self {
        let n = values.len() as f64;
        let mean = if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / n
        };
        let std = if values.len() < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        MetricSummary { mean, std, values }
    }
}

/// Cross-validation results: each scalar metric of [`Report::scalar_metrics`] over the folds.
///
/// JSON: `{"folds": k, "metrics": {"accuracy": {"mean": .., "std": .., "values": [..]}, ...}}`,
/// metrics in the order of [`Report::scalar_metrics`]. `Display` prints the aligned table
/// `metric  mean  std  fold1 fold2 ...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// Number of folds (reports) summarised.
    pub folds: usize,
    /// (metric name, summary), in display order.
    #[serde(
        serialize_with = "metrics_as_map",
        deserialize_with = "metrics_from_map"
    )]
    pub metrics: Vec<(String, MetricSummary)>,
}

fn metrics_as_map<S: serde::Serializer>(
    metrics: &[(String, MetricSummary)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_map(metrics.iter().map(|(k, v)| (k, v)))
}

fn metrics_from_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<(String, MetricSummary)>, D::Error> {
    const ORDER: [&str; 7] = [
        "accuracy",
        "micro_f1",
        "macro_f1",
        "weighted_f1",
        "samples_f1",
        "hamming_loss",
        "subset_accuracy",
    ];
    let map = BTreeMap::<String, MetricSummary>::deserialize(d)?;
    let mut v: Vec<(String, MetricSummary)> = map.into_iter().collect();
    // Known metrics in display order, anything else after them alphabetically.
    v.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    Ok(v)
}

impl CvSummary {
    /// The summary of one metric by name (`"accuracy"`, `"macro_f1"`, ...).
    pub fn get(&self, metric: &str) -> Option<&MetricSummary> {
        self.metrics
            .iter()
            .find(|(k, _)| k == metric)
            .map(|(_, v)| v)
    }
}

/// Summarises the reports of the folds of a cross-validation. A metric is included when every
/// report has it (so the multi-label metrics appear only when all folds are multi-label). No
/// reports give `folds = 0` and no metrics.
pub fn summarize_folds(reports: &[Report]) -> CvSummary {
    let Some(first) = reports.first() else {
        return CvSummary {
            folds: 0,
            metrics: Vec::new(),
        };
    };
    let per_report: Vec<Vec<(&'static str, f64)>> =
        reports.iter().map(Report::scalar_metrics).collect();
    let metrics = first
        .scalar_metrics()
        .into_iter()
        .filter_map(|(name, _)| {
            let values: Option<Vec<f64>> = per_report
                .iter()
                .map(|m| m.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
                .collect();
            values.map(|v| (name.to_string(), MetricSummary::new(v)))
        })
        .collect();
    CvSummary {
        folds: reports.len(),
        metrics,
    }
}

impl fmt::Display for CvSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .metrics
            .iter()
            .map(|(k, _)| cells(k))
            .chain(["metric".len()])
            .max()
            .unwrap_or(6);
        write!(f, "{:<w$}  {:>6}  {:>6}", "metric", "mean", "std")?;
        for i in 1..=self.folds {
            write!(f, "  {:>6}", format!("fold{i}"))?;
        }
        writeln!(f)?;
        for (name, m) in &self.metrics {
            write!(f, "{:<w$}  {:>6.3}  {:>6.3}", Cell(name), m.mean, m.std)?;
            for v in &m.values {
                write!(f, "  {v:>6.3}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = |r: Result<Report>| r.unwrap_err();
        assert!(matches!(
            err(evaluate(&labels, &one, &docs(&[&["a"], &["b"]]), false)),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(evaluate(&labels, &[], &[], true)),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(evaluate(&labels, &one, &docs(&[&["zzz"]]), true)),
            Error::Label(_)
        ));
        assert!(matches!(
            err(evaluate(&s(&["a", "a"]), &one, &one, false)),
            Error::Label(_)
        ));
        assert!(matches!(
            err(evaluate(&labels, &docs(&[&[]]), &one, false)),
            Error::Label(_)
        ));
        assert!(matches!(
            err(evaluate(&labels, &one, &docs(&[&["a", "b"]]), false)),
            Error::Label(_)
        ));
        assert!(matches!(
            err(evaluate(&[], &docs(&[&[]]), &docs(&[&[]]), true)),
            Error::Label(_)
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
        assert_eq!(fit("经济经济经济", 6), "经济…");
        assert_eq!(cells(&fit("经济经济经济", 6)), 5);
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
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            stratified_folds(&d, 101, 0),
            Err(Error::InvalidParameter { .. })
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
        assert!(
            lines[0].contains("mean") && lines[0].contains("std") && lines[0].contains("fold2")
        );
        assert!(lines[1].starts_with("accuracy") && lines[1].contains("0.600"));
        assert!(lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count()));
    }
}
