//! Cross-validation folds: the assignment of documents to folds (stratified, deterministic for a
//! seed) and the summary of the per-fold reports (mean, standard deviation, per-fold values).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::metrics::Report;
use super::render::{cells, Cell};
use crate::error::{Error, Result};

/// splitmix64 (Steele, Lea & Flood 2014): a tiny, well-mixed PRNG; enough for shuffling and tie
/// breaks, and it keeps fold assignment reproducible without a `rand` dependency.
pub(super) struct SplitMix64(pub(super) u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for any realistic `n`).
    pub(super) fn below(&mut self, n: usize) -> usize {
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
/// [`Error::BadFoldCount`] when `k < 2` or `k` exceeds the number of documents.
pub fn stratified_folds(labels: &[Vec<String>], k: usize, seed: u64) -> Result<Vec<usize>> {
    if k < 2 {
        return Err(Error::BadFoldCount {
            name: "folds",
            k,
            rule: "cross-validation needs at least 2 folds".into(),
        });
    }
    let n = labels.len();
    if k > n {
        return Err(Error::BadFoldCount {
            name: "folds",
            k,
            rule: format!("cannot exceed the number of documents ({n})"),
        });
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
