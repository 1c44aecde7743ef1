//! TF-IDF with scikit-learn's formulas:
//!
//! - tf = raw count, or `1 + ln(count)` with `sublinear_tf`;
//! - idf = `ln((1 + n) / (1 + df)) + 1` with `smooth_idf` (default), else `ln(n / df) + 1`;
//! - value = tf × idf, then each row scaled to unit l2 norm (`norm = l2`, default).
//!
//! The vocabulary is sorted by term (code point order, as scikit-learn's) and the idf of the
//! training corpus is stored with it: scoring one article never recomputes idf from the batch.

use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use super::counting::{Counted, Prune};
use crate::error::{Error, Result};
use crate::sparse::{zeroed, CsrMatrix, FactoredMatrix, SparseRow};
use crate::text::{Analyzer, AnalyzerConfig};

/// A document-frequency bound: an absolute number of documents or a fraction of them
/// (scikit-learn's int / float `min_df` and `max_df`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DfLimit {
    /// At least / at most this many documents.
    Count(usize),
    /// At least / at most this fraction of the documents, in [0, 1].
    Fraction(f64),
}

impl DfLimit {
    /// The bound in documents for a corpus of `n` documents.
    pub fn documents(self, n: usize) -> f64 {
        match self {
            DfLimit::Count(c) => c as f64,
            DfLimit::Fraction(f) => f * n as f64,
        }
    }
}

impl fmt::Display for DfLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DfLimit::Count(c) => write!(f, "{c}"),
            DfLimit::Fraction(x) => write!(f, "{x:?}"),
        }
    }
}

impl FromStr for DfLimit {
    type Err = Error;
    /// `"2"` is a count, `"0.9"` or `"1.0"` a fraction (as in scikit-learn, where the float 1.0
    /// means "all documents").
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Ok(c) = s.parse::<usize>() {
            return Ok(DfLimit::Count(c));
        }
        match s.parse::<f64>() {
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(DfLimit::Fraction(f)),
            _ => Err(Error::UnknownChoice {
                name: "df limit",
                value: s.to_string(),
                expected: "a whole number of documents or a fraction between 0.0 and 1.0".into(),
            }),
        }
    }
}

/// Row normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// Unit euclidean length (default).
    #[default]
    L2,
    /// No normalisation.
    None,
}

/// Unfitted TF-IDF settings; [`TfidfParams::fit_transform`] turns them into a [`TfidfVectorizer`].
///
/// Defaults: word 1–2-grams, `min_df = 2` documents, `max_df = 1.0`, no `max_features`,
/// `sublinear_tf = true`, `smooth_idf = true`, l2 norm. `min_df = 2` and sublinear tf are the
/// settings that scored best on the reference corpora (BENCHMARKS.md); scikit-learn's defaults are
/// `min_df = 1` and `sublinear_tf = False`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TfidfParams {
    /// How text becomes terms.
    pub analyzer: AnalyzerConfig,
    /// Drop terms found in fewer documents. Default: 2 documents.
    pub min_df: DfLimit,
    /// Drop terms found in more documents. Default: 1.0 (keep all).
    pub max_df: DfLimit,
    /// Keep only the most frequent terms (by count over the corpus). Default: all.
    pub max_features: Option<usize>,
    /// Use `1 + ln(tf)` instead of the raw count. Default: true.
    pub sublinear_tf: bool,
    /// Add one to document frequencies, as if a document held every term once. Default: true.
    pub smooth_idf: bool,
    /// Row normalisation. Default: l2.
    pub norm: Norm,
}

impl Default for TfidfParams {
    fn default() -> Self {
        TfidfParams {
            analyzer: AnalyzerConfig::default(),
            min_df: DfLimit::Count(2),
            max_df: DfLimit::Fraction(1.0),
            max_features: None,
            sublinear_tf: true,
            smooth_idf: true,
            norm: Norm::L2,
        }
    }
}
/// What fitting saw, for the training summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocabularyStats {
    /// Documents fitted on.
    pub n_documents: usize,
    /// Distinct terms before pruning.
    pub n_terms_seen: usize,
    /// Terms kept.
    pub n_terms_kept: usize,
    /// Non-zeros of the training matrix.
    pub nnz: usize,
}

/// A fitted TF-IDF vectorizer: analyzer, vocabulary and idf.
#[derive(Debug, Clone)]
pub struct TfidfVectorizer {
    params: TfidfParams,
    analyzer: Analyzer,
    vocabulary: Vec<String>,
    idf: Vec<f64>,
    /// Term ids by the hash of their term (the terms themselves live only in `vocabulary`),
    /// built on first use: fitting never looks a term up.
    index: OnceLock<HashTable<u32>>,
    /// The tf weight of the counts 0..TF_TABLE: a logarithm per non-zero (twice, with the row's
    /// norm) was most of the time it took to weigh a training matrix.
    tf: Vec<f64>,
}

const TF_TABLE: u32 = 64;

impl TfidfParams {
    /// Check the parameters (each broken rule its own message).
    pub fn validate(&self) -> Result<()> {
        self.analyzer.validate()?;
        if let DfLimit::Fraction(f) = self.min_df {
            if !(0.0..=1.0).contains(&f) {
                return Err(Error::OutOfRange {
                    name: "min_df",
                    value: f.to_string(),
                    range: "a fraction in [0, 1]",
                });
            }
        }
        if let DfLimit::Fraction(f) = self.max_df {
            if !(0.0..=1.0).contains(&f) {
                return Err(Error::OutOfRange {
                    name: "max_df",
                    value: f.to_string(),
                    range: "a fraction in [0, 1]",
                });
            }
        }
        if self.max_features == Some(0) {
            return Err(Error::OutOfRange {
                name: "max_features",
                value: "0".into(),
                range: "at least 1",
            });
        }
        Ok(())
    }

    /// Learn the vocabulary and idf from `docs` and return the vectorizer with the training matrix.
    pub fn fit_transform<S: AsRef<str> + Sync>(
        &self,
        docs: &[S],
    ) -> Result<(TfidfVectorizer, CsrMatrix, VocabularyStats)> {
        let mut refs: Vec<&str> = docs.iter().map(|d| d.as_ref()).collect();
        Ok(self
            .fit_impl(&mut refs, Prune::AsParams, |_| {})?
            .into_rows())
    }

    /// As [`TfidfParams::fit_transform`], freeing each text as soon as it has been analysed, so
    /// the corpus is not held beside its term counts and matrix.
    pub fn fit_transform_owned(
        &self,
        mut docs: Vec<String>,
    ) -> Result<(TfidfVectorizer, CsrMatrix, VocabularyStats)> {
        Ok(self
            .fit_impl(&mut docs, Prune::AsParams, |d| *d = String::new())?
            .into_rows())
    }

    /// As [`TfidfParams::fit_transform`], with the matrix in factored form (tf, idf and row
    /// norms apart, see [`FactoredMatrix`]), written without the document rows in between.
    /// [`FactoredMatrix::to_csr`] gives `fit_transform`'s matrix back, to f32 rounding of the tf
    /// values other than 1 and the order in which each row's norm is summed.
    pub fn fit_factored<S: AsRef<str> + Sync>(
        &self,
        docs: &[S],
    ) -> Result<(TfidfVectorizer, FactoredMatrix, VocabularyStats)> {
        let mut refs: Vec<&str> = docs.iter().map(|d| d.as_ref()).collect();
        Ok(self
            .fit_impl(&mut refs, Prune::AsParams, |_| {})?
            .into_factored())
    }

    /// As [`TfidfParams::fit_factored`], freeing each text as soon as it has been analysed.
    pub fn fit_factored_owned(
        &self,
        mut docs: Vec<String>,
    ) -> Result<(TfidfVectorizer, FactoredMatrix, VocabularyStats)> {
        Ok(self
            .fit_impl(&mut docs, Prune::AsParams, |d| *d = String::new())?
            .into_factored())
    }
}

impl Counted {
    fn stats(&self, nnz: usize) -> VocabularyStats {
        VocabularyStats {
            n_documents: self.rows.len(),
            n_terms_seen: self.n_terms_seen,
            n_terms_kept: self.vectorizer.n_features(),
            nnz,
        }
    }

    /// The matrix as document rows, each filled in place in parallel.
    fn into_rows(mut self) -> (TfidfVectorizer, CsrMatrix, VocabularyStats) {
        self.rows
            .par_iter_mut()
            .for_each(|terms| terms.sort_unstable_by_key(|&(id, _)| id));
        let indptr = indptr_of(self.rows.iter().map(Vec::len));
        let nnz = indptr[self.rows.len()];
        let stats = self.stats(nnz);
        let (mut indices, mut values) = (zeroed::<u32>(nnz), zeroed::<f64>(nnz));
        let slices = split_lengths(self.rows.iter().map(Vec::len), &mut indices, &mut values);
        let vectorizer = self.vectorizer;
        self.rows
            .into_par_iter()
            .zip(slices)
            .for_each(|(terms, (ix, val))| vectorizer.weigh_into(&terms, ix, val));
        let matrix = CsrMatrix {
            n_cols: vectorizer.n_features(),
            indptr,
            indices,
            values,
        };
        (vectorizer, matrix, stats)
    }

    /// The matrix in factored form: the tf of each count (T), the idf (S) and the row norms
    /// (N), the divisors [`TfidfVectorizer::weigh_into`] uses. Each row's counts become its tf
    /// values in place, in the same parallel pass that takes its norm.
    pub(super) fn into_factored(self) -> (TfidfVectorizer, FactoredMatrix, VocabularyStats) {
        // Every entry is one document holding one kept term.
        let stats = self.stats(self.doc_freq.iter().map(|&d| d as usize).sum());
        let Counted {
            vectorizer,
            rows,
            doc_freq,
            ..
        } = self;
        let (row_divisor, rows): (Vec<f64>, Vec<Vec<(u32, f32)>>) = rows
            .into_par_iter()
            .map(|terms| {
                let norm = vectorizer.row_norm(&terms);
                let tf = terms
                    .into_iter()
                    .map(|(j, c)| (j, vectorizer.tf(c) as f32))
                    .collect();
                (norm, tf)
            })
            .unzip();
        let matrix = FactoredMatrix {
            rows,
            row_divisor,
            column_scale: vectorizer.idf.clone(),
            column_nnz: doc_freq,
        };
        (vectorizer, matrix, stats)
    }
}

/// Row pointers of rows with the given lengths: 0, then the running sums.
fn indptr_of(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut indptr = vec![0usize];
    for len in lengths {
        indptr.push(indptr[indptr.len() - 1] + len);
    }
    indptr
}

/// The ids and values arrays of a matrix cut into consecutive pieces of the given lengths, so
/// that each piece can be filled on its own thread.
fn split_lengths<'a, U>(
    lengths: impl Iterator<Item = usize>,
    indices: &'a mut [u32],
    values: &'a mut [U],
) -> Vec<(&'a mut [u32], &'a mut [U])> {
    let (mut ix_rest, mut val_rest) = (indices, values);
    lengths
        .map(|len| {
            let (ix, ix_tail) = std::mem::take(&mut ix_rest).split_at_mut(len);
            let (val, val_tail) = std::mem::take(&mut val_rest).split_at_mut(len);
            (ix_rest, val_rest) = (ix_tail, val_tail);
            (ix, val)
        })
        .collect()
}

/// The tf of a term counted `c` times: `1 + ln(c)` with sublinear tf, else `c`.
fn tf_weight(sublinear: bool, c: u32) -> f64 {
    if sublinear {
        1.0 + (c as f64).ln()
    } else {
        c as f64
    }
}

/// scikit-learn's idf.
pub(super) fn idf_value(df: f64, n: f64, smooth: bool) -> f64 {
    if smooth {
        ((1.0 + n) / (1.0 + df)).ln() + 1.0
    } else {
        (n / df).ln() + 1.0
    }
}

/// Interning tables: 2^SHARD_BITS of them per n-gram length, chosen by the top bits of a key's
pub(super) fn hash_term(t: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(t)
}

impl TfidfVectorizer {
    /// Assemble a vectorizer; its index is built when first needed.
    pub(super) fn build(
        params: TfidfParams,
        analyzer: Analyzer,
        vocabulary: Vec<String>,
        idf: Vec<f64>,
    ) -> Self {
        let tf = (0..TF_TABLE)
            .map(|c| tf_weight(params.sublinear_tf, c))
            .collect();
        TfidfVectorizer {
            params,
            analyzer,
            vocabulary,
            idf,
            index: OnceLock::new(),
            tf,
        }
    }

    /// The index of `vocabulary`, and a term found twice in it, if any.
    fn build_index(vocabulary: &[String]) -> (HashTable<u32>, Option<String>) {
        let mut index = HashTable::with_capacity(vocabulary.len());
        let mut duplicate = None;
        let hashes: Vec<u64> = vocabulary.par_iter().map(|t| hash_term(t)).collect();
        for (i, t) in vocabulary.iter().enumerate() {
            let h = hashes[i];
            if index
                .find(h, |&id: &u32| vocabulary[id as usize] == *t)
                .is_some()
            {
                duplicate.get_or_insert_with(|| t.clone());
                continue;
            }
            index.insert_unique(h, i as u32, |&id| hashes[id as usize]);
        }
        (index, duplicate)
    }

    /// Rebuild a vectorizer from saved parts, checking every invariant: the analyzer config is
    /// valid, vocabulary and idf have equal length, terms are unique, idf values finite and ≥ 1.
    pub fn from_parts(params: TfidfParams, vocabulary: Vec<String>, idf: Vec<f64>) -> Result<Self> {
        params.validate()?;
        let analyzer = Analyzer::new(params.analyzer.clone())?;
        if vocabulary.len() != idf.len() {
            return Err(Error::inconsistent(format!(
                "vocabulary and idf differ in length ({} and {})",
                vocabulary.len(),
                idf.len()
            )));
        }
        if let Some(i) = idf.iter().position(|x| !x.is_finite() || *x < 1.0 - 1e-12) {
            return Err(Error::inconsistent(format!(
                "idf of term {:?} is {}; it must be finite and >= 1",
                vocabulary[i], idf[i]
            )));
        }
        let (index, duplicate) = Self::build_index(&vocabulary);
        if let Some(term) = duplicate {
            return Err(Error::inconsistent(format!(
                "term {term:?} occurs twice in the vocabulary; terms must be unique"
            )));
        }
        let v = Self::build(params, analyzer, vocabulary, idf);
        v.index.get_or_init(|| index);
        Ok(v)
    }

    /// Its vocabulary, dropping the rest.
    pub(super) fn into_vocabulary(self) -> Vec<String> {
        self.vocabulary
    }

    /// The parameters it was fitted with.
    pub fn params(&self) -> &TfidfParams {
        &self.params
    }

    /// The analyzer.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Terms by id.
    pub fn vocabulary(&self) -> &[String] {
        &self.vocabulary
    }

    /// Inverse document frequency by term id.
    pub fn idf(&self) -> &[f64] {
        &self.idf
    }

    /// Number of features (terms).
    pub fn n_features(&self) -> usize {
        self.vocabulary.len()
    }

    /// The id of a term, if it is in the vocabulary.
    pub fn term_id(&self, term: &str) -> Option<u32> {
        self.index
            .get_or_init(|| Self::build_index(&self.vocabulary).0)
            .find(hash_term(term), |&id| self.vocabulary[id as usize] == term)
            .copied()
    }

    /// The TF-IDF row of one document. Terms outside the vocabulary are ignored; a document with
    /// no known term gives an empty row.
    pub fn transform(&self, text: &str) -> SparseRow {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        self.analyzer.for_each_term(text, |t| {
            if let Some(id) = self.term_id(t) {
                *counts.entry(id).or_insert(0) += 1;
            }
        });
        self.weigh(counts.into_iter().collect())
    }

    /// TF-IDF rows of many documents, in parallel, in input order.
    pub fn transform_many<S: AsRef<str> + Sync>(&self, docs: &[S]) -> CsrMatrix {
        let rows: Vec<SparseRow> = docs
            .par_iter()
            .map(|d| self.transform(d.as_ref()))
            .collect();
        CsrMatrix::from_rows(rows, self.n_features())
    }

    /// Term counts → sorted, weighted, normalised row.
    pub(super) fn weigh(&self, mut counts: Vec<(u32, u32)>) -> SparseRow {
        counts.sort_unstable_by_key(|&(id, _)| id);
        let mut row = SparseRow {
            indices: vec![0; counts.len()],
            values: vec![0.0; counts.len()],
        };
        self.weigh_into(&counts, &mut row.indices, &mut row.values);
        row
    }

    /// The tf of a term counted `c` times.
    fn tf(&self, c: u32) -> f64 {
        match self.tf.get(c as usize) {
            Some(&tf) => tf,
            None => tf_weight(self.params.sublinear_tf, c),
        }
    }

    /// tf × idf of a term counted `c` times, before normalisation.
    fn raw_weight(&self, id: u32, c: u32) -> f64 {
        self.tf(c) * self.idf[id as usize]
    }

    /// The divisor of a row of term counts (in any order; summed in that order): its l2 norm, or 1
    /// without normalisation or for an empty row.
    fn row_norm(&self, counts: &[(u32, u32)]) -> f64 {
        if self.params.norm != Norm::L2 {
            return 1.0;
        }
        let norm = counts
            .iter()
            .map(|&(id, c)| {
                let w = self.raw_weight(id, c);
                w * w
            })
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            norm
        } else {
            1.0
        }
    }

    /// The value of a term counted `c` times in a row with divisor `norm`.
    fn term_value(&self, id: u32, c: u32, norm: f64) -> f64 {
        self.raw_weight(id, c) / norm
    }

    /// Weigh term counts (sorted by id) into a row's ids and values.
    fn weigh_into(&self, counts: &[(u32, u32)], ix: &mut [u32], val: &mut [f64]) {
        let norm = self.row_norm(counts);
        for ((&(id, c), i), v) in counts.iter().zip(ix.iter_mut()).zip(val.iter_mut()) {
            *i = id;
            *v = self.term_value(id, c, norm);
        }
    }
}
