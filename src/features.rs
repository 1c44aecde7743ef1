//! TF-IDF features: the vocabulary (term ↔ id), document frequencies, idf, pruning (min_df, max_df,
//! max_features) and the transform to sparse, l2-normalised rows, with scikit-learn's formulas:
//!
//! - tf = raw count, or `1 + ln(count)` with `sublinear_tf`;
//! - idf = `ln((1 + n) / (1 + df)) + 1` with `smooth_idf` (default), else `ln(n / df) + 1`;
//! - value = tf × idf, then each row scaled to unit l2 norm (`norm = l2`, default).
//!
//! The vocabulary is sorted by term (code point order, as scikit-learn's) and the idf of the
//! training corpus is stored with it: scoring one article never recomputes idf from the batch.
//!
//! Fitting analyses documents in parallel, in fixed blocks merged in document order, so the
//! vocabulary, the ids and every number are the same whatever the number of threads.

use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::columns::{balanced_ranges, Columns};
use crate::error::{Error, Result};
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
    fn documents(self, n: usize) -> f64 {
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
            _ => Err(Error::param(
                "df limit",
                s,
                "expected a whole number of documents or a fraction between 0.0 and 1.0",
            )),
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

/// A sparse row: column ids in increasing order and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
}

impl SparseRow {
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
}

/// A compressed sparse row matrix (also used transposed, as compressed columns). Values are f64;
/// the L-BFGS solver reads its own layout of the training matrix, [`Columns`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsrMatrix<T = f64> {
    /// Number of columns.
    pub n_cols: usize,
    /// Row `i` is stored at `indptr[i]..indptr[i + 1]`.
    pub indptr: Vec<usize>,
    /// Column of each stored value, increasing within a row.
    pub indices: Vec<u32>,
    /// The stored values.
    pub values: Vec<T>,
}

impl<T: Copy + Default + Send + Sync> CsrMatrix<T> {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of stored values.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `i` as (column ids, values).
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// The transpose (a CSR of the columns), with row ids increasing within each column.
    pub fn transpose(&self) -> CsrMatrix<T> {
        self.transpose_as(|x| x)
    }

    /// The transpose with every value converted by `convert`, written in parallel over blocks
    /// of columns (the result does not depend on the thread count).
    pub fn transpose_as<U: Copy + Default + Send + Sync>(
        &self,
        convert: impl Fn(T) -> U + Sync,
    ) -> CsrMatrix<U> {
        let mut counts = vec![0usize; self.n_cols];
        for &j in &self.indices {
            counts[j as usize] += 1;
        }
        let indptr = indptr_of(counts.into_iter());
        let (indices, values) = fill_transposed(
            &indptr,
            self.n_rows(),
            |i| self.row(i).0,
            |&j| j,
            |i, k| convert(self.values[self.indptr[i] + k]),
        );
        CsrMatrix {
            n_cols: self.n_rows(),
            indptr,
            indices,
            values,
        }
    }
}

impl CsrMatrix {
    /// Stack sparse rows into a matrix with `n_cols` columns.
    pub fn from_rows(rows: Vec<SparseRow>, n_cols: usize) -> CsrMatrix {
        let nnz = rows.iter().map(SparseRow::nnz).sum();
        let mut m = CsrMatrix {
            n_cols,
            indptr: Vec::with_capacity(rows.len() + 1),
            indices: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
        };
        m.indptr.push(0);
        for r in rows {
            m.indices.extend_from_slice(&r.indices);
            m.values.extend_from_slice(&r.values);
            m.indptr.push(m.indices.len());
        }
        m
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

/// Documents are analysed in parallel within blocks of this many, blocks merged in order.
const BLOCK: usize = 512;

impl TfidfParams {
    /// Check the parameters (each broken rule its own message).
    pub fn validate(&self) -> Result<()> {
        self.analyzer.validate()?;
        if let DfLimit::Fraction(f) = self.min_df {
            if !(0.0..=1.0).contains(&f) {
                return Err(Error::param("min_df", f, "a fraction must be in [0, 1]"));
            }
        }
        if let DfLimit::Fraction(f) = self.max_df {
            if !(0.0..=1.0).contains(&f) {
                return Err(Error::param("max_df", f, "a fraction must be in [0, 1]"));
            }
        }
        if self.max_features == Some(0) {
            return Err(Error::param("max_features", 0, "must be at least 1"));
        }
        Ok(())
    }

    /// Learn the vocabulary and idf from `docs` and return the vectorizer with the training matrix.
    pub fn fit_transform<S: AsRef<str> + Sync>(
        &self,
        docs: &[S],
    ) -> Result<(TfidfVectorizer, CsrMatrix, VocabularyStats)> {
        let mut refs: Vec<&str> = docs.iter().map(|d| d.as_ref()).collect();
        Ok(self.fit_impl(&mut refs, |_| {})?.into_rows())
    }

    /// As [`TfidfParams::fit_transform`], freeing each text as soon as it has been analysed, so
    /// the corpus is not held beside its term counts and matrix.
    pub fn fit_transform_owned(
        &self,
        mut docs: Vec<String>,
    ) -> Result<(TfidfVectorizer, CsrMatrix, VocabularyStats)> {
        Ok(self
            .fit_impl(&mut docs, |d| *d = String::new())?
            .into_rows())
    }

    /// As [`TfidfParams::fit_transform`], with the matrix as [`Columns`]: term by term, its tf,
    /// idf and row norms apart, the form the L-BFGS solver reads, written directly without the
    /// document rows in between. [`Columns::to_rows`] gives `fit_transform`'s matrix back (to
    /// f32 rounding of the tf values other than 1).
    pub fn fit_columns<S: AsRef<str> + Sync>(
        &self,
        docs: &[S],
    ) -> Result<(TfidfVectorizer, Columns, VocabularyStats)> {
        let mut refs: Vec<&str> = docs.iter().map(|d| d.as_ref()).collect();
        self.fit_impl(&mut refs, |_| {})?.into_columns()
    }

    /// As [`TfidfParams::fit_columns`], freeing each text as soon as it has been analysed.
    pub fn fit_columns_owned(
        &self,
        mut docs: Vec<String>,
    ) -> Result<(TfidfVectorizer, Columns, VocabularyStats)> {
        self.fit_impl(&mut docs, |d| *d = String::new())?
            .into_columns()
    }

    /// `release` is called on each document once it is no longer needed.
    fn fit_impl<S: AsRef<str> + Sync>(
        &self,
        docs: &mut [S],
        release: impl Fn(&mut S),
    ) -> Result<Counted> {
        self.validate()?;
        let analyzer = Analyzer::new(self.analyzer.clone())?;
        let n = docs.len();
        if n == 0 {
            return Err(Error::param(
                "documents",
                0,
                "cannot fit on an empty corpus",
            ));
        }

        // Pass 1: the distinct terms of each document and their counts, against a provisional
        // vocabulary. A term of k units (words; characters for char_wb) is a window of a
        // sequence, named at level k by the pair (its first k - 1 units' window, its last unit):
        // only single units are hashed and compared as text. Within each block of documents,
        // level after level, the keys are split by hash into SHARDS tables, each filled by one
        // task in document order, so provisional ids do not depend on the thread count.
        let levels = analyzer.config().ngram_range.1;
        let code = IdCode::new(levels);
        let count_totals = self.max_features.is_some();
        let mut units: Vec<Shard<UnitKey>> =
            (0..SHARDS).map(|_| Shard::new(count_totals)).collect();
        let mut pairs: Vec<Vec<Shard<u64>>> = (2..=levels)
            .map(|_| (0..SHARDS).map(|_| Shard::new(count_totals)).collect())
            .collect();
        let mut doc_terms: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
        let mut rows: Vec<Vec<(u32, u32)>> = Vec::with_capacity(BLOCK);
        for block in docs.chunks_mut(BLOCK) {
            let mut grams: Vec<DocGrams> = block
                .par_iter()
                .map_init(Scratch::default, |scratch, d| {
                    DocGrams::count(&analyzer, d.as_ref(), levels, scratch)
                })
                .collect();
            block.iter_mut().for_each(&release);
            for level in 1..=levels {
                grams.par_iter_mut().for_each(|g| g.group(level));
                // Where each document's part of each shard's list of ids starts.
                let mut starts: Vec<[usize; SHARDS]> = Vec::with_capacity(grams.len());
                let mut cursor = [0usize; SHARDS];
                for g in &grams {
                    starts.push(cursor);
                    for (s, c) in cursor.iter_mut().enumerate() {
                        *c += (g.bounds[s + 1] - g.bounds[s]) as usize;
                    }
                }
                let max = code.max_local();
                let local: Vec<Vec<u32>> = if level == 1 {
                    units
                        .par_iter_mut()
                        .enumerate()
                        .map(|(s, shard)| shard.intern_units(s, &grams, max))
                        .collect::<Result<_>>()?
                } else {
                    pairs[level - 2]
                        .par_iter_mut()
                        .enumerate()
                        .map(|(s, shard)| shard.intern_pairs(s, &grams, level, max))
                        .collect::<Result<_>>()?
                };
                grams
                    .par_iter_mut()
                    .zip(starts)
                    .for_each(|(g, cursor)| g.name(level, &local, cursor, code));
            }
            grams
                .par_iter()
                .map(DocGrams::row)
                .collect_into_vec(&mut rows);
            doc_terms.append(&mut rows);
        }
        units.par_iter_mut().for_each(Shard::finish);
        pairs.par_iter_mut().flatten().for_each(Shard::finish);
        // The df and totals of the shard of group g = (level - 1) * SHARDS + shard, as
        // provisional ids number them.
        let counts_of = |g: usize| -> (&[u32], &[u64]) {
            match g / SHARDS {
                0 => (&units[g].df, &units[g].total),
                l => {
                    let shard = &pairs[l - 1][g % SHARDS];
                    (&shard.df, &shard.total)
                }
            }
        };
        let df_of = |g: usize| counts_of(g).0;
        let n_groups = levels * SHARDS;
        // Terms interned only as the start of longer ones have df 0: they are not terms.
        let n_terms_seen: usize = (0..n_groups)
            .map(|g| df_of(g).iter().filter(|&&d| d > 0).count())
            .sum();

        // Pruning, as scikit-learn: keep min_df <= df <= max_df, then the max_features terms of
        // highest corpus count (ties by term order).
        let min_docs = self.min_df.documents(n);
        let max_docs = self.max_df.documents(n);
        let sep = analyzer.separator();
        // Each term with its first 8 bytes as a big-endian number (zero-padded): an order-
        // preserving key that settles most comparisons of the sort without reading the strings.
        let mut kept: Vec<(u64, String, u32)> = (0..n_groups)
            .into_par_iter()
            .flat_map_iter(|g| {
                let df = df_of(g);
                (0..df.len() as u32)
                    .filter(|&l| {
                        let d = df[l as usize] as f64;
                        d > 0.0 && d >= min_docs && d <= max_docs
                    })
                    .map(|l| {
                        let id = code.id(g, l);
                        let mut term = String::new();
                        write_term(&units, &pairs, code, sep, id, &mut term);
                        (order_prefix(&term), term, id)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let df = |id: u32| df_of(code.group(id))[code.local(id) as usize];
        let total = |id: u32| counts_of(code.group(id)).1[code.local(id) as usize];
        kept.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut kept: Vec<(String, u32)> = kept.into_par_iter().map(|(_, t, id)| (t, id)).collect();
        // Every term is one window of units joined by the separator, and units hold no
        // separator, so two distinct windows never give the same term.
        if let Some(w) = kept.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::param(
                "vocabulary",
                format!("{:?}", w[0].0),
                "the same term was counted as two different n-grams (a bug: please report it)",
            ));
        }
        if let Some(m) = self.max_features {
            if kept.len() > m {
                let mut order: Vec<usize> = (0..kept.len()).collect();
                order.sort_by(|&a, &b| total(kept[b].1).cmp(&total(kept[a].1)));
                let mut keep = vec![false; kept.len()];
                order[..m].iter().for_each(|&i| keep[i] = true);
                let mut i = 0;
                kept.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
            }
        }
        if kept.is_empty() {
            return Err(Error::EmptyVocabulary {
                min_df: self.min_df.to_string(),
                max_df: self.max_df.to_string(),
                max_features: self
                    .max_features
                    .map_or("none".to_string(), |m| m.to_string()),
                n_documents: n,
            });
        }

        let mut remap: Vec<Vec<u32>> = (0..n_groups)
            .into_par_iter()
            .map(|g| vec![u32::MAX; df_of(g).len()])
            .collect();
        for (new_id, &(_, old_id)) in kept.iter().enumerate() {
            remap[code.group(old_id)][code.local(old_id) as usize] = new_id as u32;
        }
        let doc_freq: Vec<u32> = kept.par_iter().map(|&(_, old_id)| df(old_id)).collect();
        let idf: Vec<f64> = doc_freq
            .par_iter()
            .map(|&d| idf_value(d as f64, n as f64, self.smooth_idf))
            .collect();
        let vocabulary: Vec<String> = kept.into_par_iter().map(|(term, _)| term).collect();
        drop((units, pairs));

        let vectorizer = TfidfVectorizer::build(self.clone(), analyzer, vocabulary, idf);
        // Each row is renumbered in place (pruned terms dropped), in parallel. Its order stays
        // that of the document's n-grams (which does not depend on the thread count): the
        // columns do not need it sorted, the rows sort it.
        let remapped = |id: u32| remap[code.group(id)][code.local(id) as usize];
        doc_terms.par_iter_mut().for_each(|terms| {
            terms.retain_mut(|(id, _)| {
                *id = remapped(*id);
                *id != u32::MAX
            });
        });
        Ok(Counted {
            vectorizer,
            rows: doc_terms,
            doc_freq,
            n_terms_seen,
        })
    }
}

/// A fitted vectorizer with the training documents' term counts (each row in the order of the
/// document's n-grams, not sorted): the training matrix before it is laid out as rows or as
/// columns.
struct Counted {
    vectorizer: TfidfVectorizer,
    rows: Vec<Vec<(u32, u32)>>,
    /// Documents holding each term: the length of each column.
    doc_freq: Vec<u32>,
    n_terms_seen: usize,
}

/// The ids and values of a transposed matrix whose row pointers are `indptr` (one output row per
/// column of the source), from the `n` source rows: `row(i)` is source row i as a slice of
/// entries sorted by column, `col` an entry's column and `value(i, k)` the value of entry k of
/// row i. Parallel over blocks of output rows with about equal non-zeros, one per thread: each
/// block scans every source row for its own columns (a binary search per row) and writes only its
/// own part of the output, so the result does not depend on the blocks.
fn fill_transposed<'r, E: Sync + 'r, U: Copy + Default + Send + Sync>(
    indptr: &[usize],
    n: usize,
    row: impl Fn(usize) -> &'r [E] + Sync,
    col: impl Fn(&E) -> u32 + Sync,
    value: impl Fn(usize, usize) -> U + Sync,
) -> (Vec<u32>, Vec<U>) {
    let d = indptr.len() - 1;
    let nnz = indptr[d];
    let (mut indices, mut values) = (zeroed::<u32>(nnz), zeroed::<U>(nnz));
    // Output rows lo..hi per block.
    let ranges = balanced_ranges(
        indptr.windows(2).map(|w| (w[1] - w[0]) as u64),
        rayon::current_num_threads(),
    );
    let lengths = ranges.iter().map(|&(lo, hi)| indptr[hi] - indptr[lo]);
    let parts = split_lengths(lengths, &mut indices, &mut values);
    ranges
        .into_par_iter()
        .zip(parts)
        .for_each(|((lo, hi), (ix, val))| {
            let base = indptr[lo];
            let mut next: Vec<usize> = indptr[lo..hi].iter().map(|p| p - base).collect();
            for i in 0..n {
                let entries = row(i);
                let a = entries.partition_point(|e| (col(e) as usize) < lo);
                let b = a + entries[a..].partition_point(|e| (col(e) as usize) < hi);
                for (k, e) in entries.iter().enumerate().take(b).skip(a) {
                    let slot = &mut next[col(e) as usize - lo];
                    ix[*slot] = i as u32;
                    val[*slot] = value(i, k);
                    *slot += 1;
                }
            }
        });
    (indices, values)
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

/// Output arrays of `len` zeros, zeroed in parallel (zeroing fresh memory is mostly page faults,
/// which then happen on every core).
pub(crate) fn zeroed<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.par_extend(rayon::iter::repeat_n(T::default(), len));
    v
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

    /// The matrix as [`Columns`]: the tf of each count, the idf and the row norms, the
    /// divisors [`TfidfVectorizer::weigh_into`] uses.
    fn into_columns(self) -> Result<(TfidfVectorizer, Columns, VocabularyStats)> {
        // Every entry is one document holding one kept term.
        let stats = self.stats(self.doc_freq.iter().map(|&d| d as usize).sum());
        let Counted {
            vectorizer,
            rows,
            doc_freq,
            ..
        } = self;
        let norms: Vec<f64> = rows
            .par_iter()
            .map(|terms| vectorizer.row_norm(terms))
            .collect();
        let staged = Columns::stage(
            norms,
            vectorizer.idf.clone(),
            &doc_freq,
            |i| &rows[i][..],
            |&(j, _)| j,
            |i, k| vectorizer.tf(rows[i][k].1) as f32,
        )?;
        // The counts are no longer needed: freed before the terms are copied into order.
        drop(rows);
        let columns = staged.finish();
        debug_assert_eq!(columns.nnz(), stats.nnz);
        Ok((vectorizer, columns, stats))
    }
}

/// The first 8 bytes of `term` (zero-padded) as a big-endian number: `a < b` as strings implies
/// `order_prefix(a) <= order_prefix(b)`.
fn order_prefix(term: &str) -> u64 {
    let bytes = term.as_bytes();
    let mut p = [0u8; 8];
    let n = bytes.len().min(8);
    p[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(p)
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
fn idf_value(df: f64, n: f64, smooth: bool) -> f64 {
    if smooth {
        ((1.0 + n) / (1.0 + df)).ln() + 1.0
    } else {
        (n / df).ln() + 1.0
    }
}

/// Interning tables: 2^SHARD_BITS of them per n-gram length, chosen by the top bits of a key's
/// hash.
const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;

fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// The hash a shard's table files a key under. The top bits of a key's hash chose its shard,
/// so within a shard they are all the same; hashbrown takes its 7-bit tags from the top bits, and
/// with 3 varying bits one probe in 8 compared a wrong entry. They are shifted out, and bits
/// from the middle fill the bottom.
fn table_hash(hash: u64) -> u64 {
    (hash << SHARD_BITS) | ((hash >> 32) & ((1 << SHARD_BITS) - 1))
}

/// Provisional term ids while fitting: n-gram length (the level), shard and the id local to
/// that shard, packed in a u32 as `((level - 1) * SHARDS + shard) << local_bits | local`, with
/// as few level bits as the longest n-gram needs (28 − 1 = 27 local bits for bigrams).
#[derive(Clone, Copy)]
struct IdCode {
    local_bits: u32,
}

impl IdCode {
    fn new(levels: usize) -> IdCode {
        let level_bits = usize::BITS - (levels - 1).leading_zeros();
        IdCode {
            local_bits: 32 - SHARD_BITS - level_bits,
        }
    }

    /// Local ids stay below this.
    fn max_local(self) -> u32 {
        (1 << self.local_bits) - 1
    }

    fn id(self, group: usize, local: u32) -> u32 {
        ((group as u32) << self.local_bits) | local
    }

    fn named(self, level: usize, shard: usize, local: u32) -> u32 {
        self.id((level - 1) * SHARDS + shard, local)
    }

    fn group(self, id: u32) -> usize {
        (id >> self.local_bits) as usize
    }

    fn local(self, id: u32) -> u32 {
        id & self.max_local()
    }
}

/// Append the text of provisional term `id` to `out`.
fn write_term(
    units: &[Shard<UnitKey>],
    pairs: &[Vec<Shard<u64>>],
    code: IdCode,
    sep: &str,
    id: u32,
    out: &mut String,
) {
    let (g, local) = (code.group(id), code.local(id) as usize);
    let s = g % SHARDS;
    match g / SHARDS {
        0 => out.push_str(units[s].keys[local].text(&units[s].arena)),
        l => {
            let key = pairs[l - 1][s].keys[local];
            write_term(units, pairs, code, sep, (key >> 32) as u32, out);
            out.push_str(sep);
            write_term(units, pairs, code, sep, key as u32, out);
        }
    }
}

/// A key of an interning table and its hash.
trait Key: Copy + Default {
    fn hash(&self) -> u64;
}

/// A unit's text, as its place in an arena.
#[derive(Clone, Copy, Default)]
struct UnitKey {
    hash: u64,
    start: u32,
    len: u32,
}

impl UnitKey {
    /// The unit's text in `arena`.
    fn text(self, arena: &str) -> &str {
        &arena[self.start as usize..(self.start + self.len) as usize]
    }
}

impl Key for UnitKey {
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// An n-gram of two or more units: `prefix id << 32 | last unit id`.
impl Key for u64 {
    fn hash(&self) -> u64 {
        mix(*self)
    }
}

/// A 64-bit integer hash (folded multiply): every input bit reaches the top and bottom bits.
fn mix(key: u64) -> u64 {
    let m = (key as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (m as u64) ^ ((m >> 64) as u64)
}

/// One interning table: the keys whose hash falls in this shard, in order of first appearance.
/// Units' bytes live in one arena (no allocation per term: a corpus meets millions of them), and
/// each table entry carries everything a lookup needs and updates, so a lookup touches the
/// table (and, for units, the arena) and nothing else.
#[derive(Default)]
struct Shard<K> {
    table: HashTable<Entry<K>>,
    /// The units' text (unit shards only).
    arena: String,
    /// Keys interned so far.
    n: u32,
    /// Whether to count each term's occurrences over the corpus (`max_features` ranks by it).
    /// They are kept beside the table, by id, so an entry of a bigram's table is 16 bytes.
    count_totals: bool,
    /// The total count of each term, by id, when `count_totals`.
    total: Vec<u64>,
    /// Filled by [`Shard::finish`]: key and df, by id.
    keys: Vec<K>,
    df: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Entry<K> {
    key: K,
    id: u32,
    df: u32,
}

/// The error for a corpus with more distinct n-grams than provisional ids can number (`max` of
/// one length in one shard) or more unit text than a shard's arena can address.
fn too_many(max: u32) -> Error {
    Error::param(
        "vocabulary",
        format!(
            "over {max} distinct n-grams of one length in one of {SHARDS} shards, or over 4 GB of word text in one"
        ),
        "the corpus has more distinct terms than framelens can count before pruning; lower the n-gram range (--ngram-range) or train on part of the corpus",
    )
}

impl<K: Key> Shard<K> {
    fn new(count_totals: bool) -> Self {
        Shard {
            count_totals,
            ..Shard::default()
        }
    }

    /// Count a key that one document holds `count` times as a term (0: only as the start of
    /// longer terms), found by `is` (given the arena) or else made by `new` (which may extend
    /// the arena); returns its local id.
    fn add(
        &mut self,
        hash: u64,
        count: u32,
        max: u32,
        is: impl Fn(&K, &str) -> bool,
        new: impl FnOnce(&mut String) -> Result<K>,
    ) -> Result<u32> {
        let Shard { table, arena, .. } = self;
        if let Some(e) = table.find_mut(table_hash(hash), |e| is(&e.key, arena.as_str())) {
            e.df += (count > 0) as u32;
            if self.count_totals {
                self.total[e.id as usize] += count as u64;
            }
            return Ok(e.id);
        }
        let id = self.n;
        if id >= max {
            return Err(too_many(max));
        }
        let key = new(&mut self.arena)?;
        self.n += 1;
        if self.count_totals {
            self.total.push(count as u64);
        }
        let entry = Entry {
            key,
            id,
            df: (count > 0) as u32,
        };
        self.table
            .insert_unique(table_hash(hash), entry, |e| table_hash(e.key.hash()));
        Ok(id)
    }

    /// Move the table's contents into arrays by id, and drop the table.
    fn finish(&mut self) {
        let n = self.n as usize;
        self.keys = vec![K::default(); n];
        self.df = vec![0; n];
        for e in std::mem::take(&mut self.table) {
            let i = e.id as usize;
            self.keys[i] = e.key;
            self.df[i] = e.df;
        }
    }
}

impl Shard<UnitKey> {
    /// Intern this shard's units of `docs`, in document order; returns their local ids in the
    /// order met.
    fn intern_units(&mut self, s: usize, docs: &[DocGrams], max: u32) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for g in docs {
            for &j in g.shard_part(s) {
                let k = g.units[j as usize];
                let term = k.text(&g.arena);
                let id = self.add(
                    k.hash,
                    g.counts[0][j as usize],
                    max,
                    |e, arena| e.hash == k.hash && e.text(arena) == term,
                    |arena| {
                        let start = u32::try_from(arena.len())
                            .ok()
                            .filter(|at| at.checked_add(k.len).is_some())
                            .ok_or_else(|| too_many(max))?;
                        arena.push_str(term);
                        Ok(UnitKey { start, ..k })
                    },
                )?;
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

impl Shard<u64> {
    /// Intern this shard's n-grams of length `level` of `docs`, in document order; returns their
    /// local ids in the order met.
    fn intern_pairs(
        &mut self,
        s: usize,
        docs: &[DocGrams],
        level: usize,
        max: u32,
    ) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for g in docs {
            for &j in g.shard_part(s) {
                let key = g.keys[j as usize];
                let count = g.counts[level - 1][j as usize];
                ids.push(self.add(mix(key), count, max, |&e, _| e == key, |_| Ok(key))?);
            }
        }
        Ok(ids)
    }
}

/// Per-thread buffers for [`DocGrams::count`], kept from one document to the next.
#[derive(Default)]
struct Scratch {
    units: HashTable<u32>,
    pairs: Vec<HashTable<u32>>,
    /// `at[k - 1][p]`: the local id of the window of k units at position p of the sequence.
    at: Vec<Vec<u32>>,
}

/// One document's distinct n-grams, by length (level), with local ids: level 1 holds the
/// distinct units, level k >= 2 the distinct windows of k units as pairs (window of the first
/// k - 1, last unit). Then, while the block is interned, their provisional ids.
struct DocGrams {
    /// The distinct units' text.
    arena: String,
    /// Level 1: each unit's place in `arena`.
    units: Vec<UnitKey>,
    /// Level k >= 2 at k - 2: `prefix local id << 32 | unit local id`, by local id.
    pairs: Vec<Vec<u64>>,
    /// Level k at k - 1: how many times each n-gram is a term of the document (0: it is only
    /// the start of longer ones), by local id.
    counts: Vec<Vec<u32>>,
    /// Level k at k - 1: provisional ids, by local id, once the level is interned.
    names: Vec<Vec<u32>>,
    /// The level being interned: its keys in provisional ids (levels >= 2), and its local ids
    /// grouped by shard, shard s's at `order[bounds[s]..bounds[s + 1]]`.
    keys: Vec<u64>,
    order: Vec<u32>,
    bounds: [u32; SHARDS + 1],
}

impl DocGrams {
    fn count(analyzer: &Analyzer, text: &str, levels: usize, scratch: &mut Scratch) -> DocGrams {
        let mut g = DocGrams {
            arena: String::with_capacity(text.len() / 2 + 16),
            units: Vec::new(),
            pairs: vec![Vec::new(); levels - 1],
            counts: vec![Vec::new(); levels],
            names: vec![Vec::new(); levels],
            keys: Vec::new(),
            order: Vec::new(),
            bounds: [0; SHARDS + 1],
        };
        let Scratch {
            units: unit_table,
            pairs: pair_tables,
            at,
        } = scratch;
        unit_table.clear();
        pair_tables.resize_with(levels - 1, HashTable::new);
        pair_tables.iter_mut().for_each(HashTable::clear);
        at.resize_with(levels, Vec::new);
        analyzer.for_each_sequence(text, |seq| {
            at[0].clear();
            for &u in seq {
                let hash = hash_term(u);
                let (arena, keys) = (&g.arena, &g.units);
                let found = unit_table.find(hash, |&id| {
                    let k = keys[id as usize];
                    k.hash == hash && k.text(arena) == u
                });
                let id = match found {
                    Some(&id) => id,
                    None => {
                        let id = g.units.len() as u32;
                        g.units.push(UnitKey {
                            hash,
                            start: g.arena.len() as u32,
                            len: u.len() as u32,
                        });
                        g.arena.push_str(u);
                        g.counts[0].push(0);
                        let keys = &g.units;
                        unit_table.insert_unique(hash, id, |&i| keys[i as usize].hash);
                        id
                    }
                };
                at[0].push(id);
            }
            for k in 2..=levels.min(seq.len()) {
                let (done, rest) = at.split_at_mut(k - 1);
                let (first, prev, cur) = (&done[0], &done[k - 2], &mut rest[0]);
                cur.clear();
                let table = &mut pair_tables[k - 2];
                let keys = &mut g.pairs[k - 2];
                let counts = &mut g.counts[k - 1];
                for p in 0..prev.len() - 1 {
                    let key = ((prev[p] as u64) << 32) | first[p + k - 1] as u64;
                    let h = mix(key);
                    let id = match table.find(h, |&id| keys[id as usize] == key) {
                        Some(&id) => id,
                        None => {
                            let id = keys.len() as u32;
                            keys.push(key);
                            counts.push(0);
                            table.insert_unique(h, id, |&i| mix(keys[i as usize]));
                            id
                        }
                    };
                    cur.push(id);
                }
            }
            let counts = &mut g.counts;
            analyzer.for_each_window(seq.len(), |k, p| counts[k - 1][at[k - 1][p] as usize] += 1);
        });
        g
    }

    /// Prepare `level` for interning: its keys in provisional ids, its ids grouped by shard.
    fn group(&mut self, level: usize) {
        let m = self.counts[level - 1].len();
        let shards: Vec<u8> = if level == 1 {
            self.units.iter().map(|k| shard_of(k.hash) as u8).collect()
        } else {
            let (names, first) = (&self.names[level - 2], &self.names[0]);
            self.keys.clear();
            self.keys.extend(self.pairs[level - 2].iter().map(|&p| {
                ((names[(p >> 32) as usize] as u64) << 32) | first[p as u32 as usize] as u64
            }));
            self.keys.iter().map(|&k| shard_of(mix(k)) as u8).collect()
        };
        let mut bounds = [0u32; SHARDS + 1];
        shards.iter().for_each(|&s| bounds[s as usize + 1] += 1);
        for s in 0..SHARDS {
            bounds[s + 1] += bounds[s];
        }
        let mut next = bounds;
        self.order.clear();
        self.order.resize(m, 0);
        for (j, &s) in shards.iter().enumerate() {
            self.order[next[s as usize] as usize] = j as u32;
            next[s as usize] += 1;
        }
        self.bounds = bounds;
    }

    /// The local ids of the level being interned that fall in shard `s`.
    fn shard_part(&self, s: usize) -> &[u32] {
        &self.order[self.bounds[s] as usize..self.bounds[s + 1] as usize]
    }

    /// Record the provisional ids of `level`: shard s's part takes `local[s][cursor[s]..]`.
    fn name(&mut self, level: usize, local: &[Vec<u32>], cursor: [usize; SHARDS], code: IdCode) {
        let names = &mut self.names[level - 1];
        names.clear();
        names.resize(self.counts[level - 1].len(), 0);
        for (s, ids) in local.iter().enumerate() {
            let part = &self.order[self.bounds[s] as usize..self.bounds[s + 1] as usize];
            for (&j, &l) in part.iter().zip(&ids[cursor[s]..]) {
                names[j as usize] = code.named(level, s, l);
            }
        }
    }

    /// The document's terms: (provisional id, count).
    fn row(&self) -> Vec<(u32, u32)> {
        let mut row = Vec::with_capacity(self.counts.iter().map(Vec::len).sum());
        for (counts, names) in self.counts.iter().zip(&self.names) {
            for (&c, &id) in counts.iter().zip(names) {
                if c > 0 {
                    row.push((id, c));
                }
            }
        }
        row
    }
}

fn hash_term(t: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(t)
}

impl TfidfVectorizer {
    /// Assemble a vectorizer; its index is built when first needed.
    fn build(
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
            return Err(Error::param(
                "vocabulary",
                vocabulary.len(),
                format!("vocabulary and idf differ in length ({})", idf.len()),
            ));
        }
        if let Some(i) = idf.iter().position(|x| !x.is_finite() || *x < 1.0 - 1e-12) {
            return Err(Error::param(
                "idf",
                idf[i],
                format!("idf of term {:?} must be finite and >= 1", vocabulary[i]),
            ));
        }
        let (index, duplicate) = Self::build_index(&vocabulary);
        if let Some(term) = duplicate {
            return Err(Error::param(
                "vocabulary",
                format!("{term:?}"),
                "terms must be unique; this one occurs twice",
            ));
        }
        let v = Self::build(params, analyzer, vocabulary, idf);
        v.index.get_or_init(|| index);
        Ok(v)
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
    fn weigh(&self, mut counts: Vec<(u32, u32)>) -> SparseRow {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::AnalyzerKind;

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
    fn columns_are_the_rows_factored() {
        let docs = corpus();
        for (sublinear_tf, norm) in [(true, Norm::L2), (false, Norm::L2), (true, Norm::None)] {
            let params = TfidfParams {
                min_df: DfLimit::Count(1),
                sublinear_tf,
                norm,
                ..Default::default()
            };
            let (v1, rows, s1) = params.fit_transform(&docs).unwrap();
            let (v2, columns, s2) = params.fit_columns(&docs).unwrap();
            assert_eq!(v1.vocabulary(), v2.vocabulary());
            assert_eq!(s1, s2);
            let back = columns.to_rows();
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
    fn transpose_round_trips() {
        let (_, m, _) = TfidfParams {
            min_df: DfLimit::Count(1),
            ..Default::default()
        }
        .fit_transform(&corpus())
        .unwrap();
        let t = m.transpose();
        assert_eq!(t.n_rows(), m.n_cols);
        assert_eq!(t.transpose(), m);
    }
}
