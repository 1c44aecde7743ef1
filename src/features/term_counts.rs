//! Term counts made once for many pipelines. Out-of-fold evidence (the threshold folds) and
//! cross-validation each train one pipeline per fold on a subset of the same documents; the
//! texts are analysed and counted once, and each subset's vectorizer and training matrix are
//! selected from the counts: the same, to the bit, as fitting on that subset's texts.

use rayon::prelude::*;

use super::counting::{keep_most_frequent, Counted, Prune};
use super::tfidf::{idf_value, DfLimit, TfidfParams, TfidfVectorizer, VocabularyStats};
use crate::error::{Error, Result};
use crate::sparse::{FactoredMatrix, SparseRow};
use crate::text::Analyzer;

/// Every document's term counts over a superset vocabulary: the terms found in at least the
/// `min_df` documents of a count (any term for a fractional `min_df`, whose bound shrinks with
/// the subset), without `max_df` or `max_features` pruning.
///
/// Invariant: any subset's vocabulary is part of this one. A term the subset keeps is in at
/// least `min_df` of the subset's documents, so in at least as many of all of them, and the floor
/// here is no higher than any subset's bound.
pub struct TermCounts {
    params: TfidfParams,
    /// Terms by id, sorted as a vectorizer's vocabulary is.
    vocabulary: Vec<String>,
    /// Each document's (term id, count) pairs, in the order of its n-grams: what a fit's
    /// counting pass leaves, so a subset's rows come out in the order its own fit gives them.
    rows: Vec<Vec<(u32, u32)>>,
    /// Distinct terms of all the documents before pruning.
    n_terms_seen: usize,
}

impl TfidfParams {
    /// Analyse and count `docs` once, for [`TermCounts::select`].
    pub fn count_terms<S: AsRef<str> + Sync>(&self, docs: &[S]) -> Result<TermCounts> {
        let mut refs: Vec<&str> = docs.iter().map(|d| d.as_ref()).collect();
        TermCounts::from_counted(self, self.fit_impl(&mut refs, self.floor(), |_| {})?)
    }

    /// As [`TfidfParams::count_terms`], freeing each text as soon as it has been analysed.
    pub fn count_terms_owned(&self, mut docs: Vec<String>) -> Result<TermCounts> {
        let counted = self.fit_impl(&mut docs, self.floor(), |d| *d = String::new())?;
        TermCounts::from_counted(self, counted)
    }

    /// The superset's pruning: the lowest `min_df` bound any subset can have.
    fn floor(&self) -> Prune {
        Prune::Floor(match self.min_df {
            DfLimit::Count(c) => c as f64,
            DfLimit::Fraction(_) => 0.0,
        })
    }
}

impl TermCounts {
    fn from_counted(params: &TfidfParams, counted: Counted) -> Result<TermCounts> {
        let mut rows = counted.rows;
        // Pruning dropped the rarest terms in place; the counts live as long as the folds do,
        // so their rows give that room back.
        rows.par_iter_mut().for_each(|r| r.shrink_to_fit());
        Ok(TermCounts {
            params: params.clone(),
            vocabulary: counted.vectorizer.into_vocabulary(),
            rows,
            n_terms_seen: counted.n_terms_seen,
        })
    }

    /// Documents counted.
    pub fn n_documents(&self) -> usize {
        self.rows.len()
    }

    /// The settings the documents were counted with.
    pub fn params(&self) -> &TfidfParams {
        &self.params
    }

    /// Fit on the documents `docs` (indices into the counted documents, in the order the
    /// matrix's rows take): the vectorizer, training matrix and figures that
    /// [`TfidfParams::fit_factored`] gives on their texts. The vocabulary is the superset's
    /// terms that the subset's own `min_df`, `max_df` and `max_features` keep; document
    /// frequencies, idf and rows are the subset's. `n_terms_seen` is exact when `docs` holds every
    /// document; for a proper subset it counts only the terms the superset kept.
    ///
    /// # Panics
    /// When an index is not below [`TermCounts::n_documents`].
    pub fn select(
        &self,
        docs: &[usize],
    ) -> Result<(TfidfVectorizer, FactoredMatrix, VocabularyStats)> {
        let n = docs.len();
        if n == 0 {
            return Err(Error::EmptyCorpus {
                what: "fitting TF-IDF",
            });
        }
        let v = self.vocabulary.len();
        let mut df = vec![0u32; v];
        for &d in docs {
            for &(t, _) in &self.rows[d] {
                df[t as usize] += 1;
            }
        }
        // The pruning of a fit (counting.rs), on the subset's document frequencies.
        let (min_docs, max_docs) = (
            self.params.min_df.documents(n),
            self.params.max_df.documents(n),
        );
        let mut kept: Vec<u32> = (0..v as u32)
            .filter(|&t| {
                let d = df[t as usize] as f64;
                d > 0.0 && d >= min_docs && d <= max_docs
            })
            .collect();
        if let Some(m) = self.params.max_features {
            if kept.len() > m {
                let mut total = vec![0u64; v];
                for &d in docs {
                    for &(t, c) in &self.rows[d] {
                        total[t as usize] += c as u64;
                    }
                }
                keep_most_frequent(&mut kept, m, |&t| total[t as usize]);
            }
        }
        if kept.is_empty() {
            return Err(self.params.empty_vocabulary(n));
        }
        let mut remap = vec![u32::MAX; v];
        for (new, &old) in kept.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        let doc_freq: Vec<u32> = kept.iter().map(|&t| df[t as usize]).collect();
        let idf = doc_freq
            .iter()
            .map(|&d| idf_value(d as f64, n as f64, self.params.smooth_idf))
            .collect();
        let vocabulary = kept
            .iter()
            .map(|&t| self.vocabulary[t as usize].clone())
            .collect();
        let analyzer = Analyzer::new(self.params.analyzer.clone())?;
        let vectorizer = TfidfVectorizer::build(self.params.clone(), analyzer, vocabulary, idf);
        let rows = docs
            .par_iter()
            .map(|&d| {
                self.rows[d]
                    .iter()
                    .filter_map(|&(t, c)| {
                        let j = remap[t as usize];
                        (j != u32::MAX).then_some((j, c))
                    })
                    .collect()
            })
            .collect();
        let every_document = n == self.rows.len() && {
            let mut seen = vec![false; n];
            docs.iter().all(|&d| !std::mem::replace(&mut seen[d], true))
        };
        let n_terms_seen = if every_document {
            self.n_terms_seen
        } else {
            df.iter().filter(|&&d| d > 0).count()
        };
        let counted = Counted {
            vectorizer,
            rows,
            doc_freq,
            n_terms_seen,
        };
        Ok(counted.into_factored())
    }

    /// The TF-IDF rows of documents `docs` under `vectorizer`, a vectorizer
    /// [`TermCounts::select`] made from these counts: what [`TfidfVectorizer::transform`] gives
    /// on their texts.
    ///
    /// A vectorizer with a term these counts do not hold (one not made from them) is an error:
    /// its rows could not be counted here.
    ///
    /// # Panics
    /// When an index is not below [`TermCounts::n_documents`].
    pub fn rows_under(
        &self,
        vectorizer: &TfidfVectorizer,
        docs: &[usize],
    ) -> Result<Vec<SparseRow>> {
        // Both vocabularies are sorted: one merge maps the superset's ids onto the vectorizer's.
        let mut remap = vec![u32::MAX; self.vocabulary.len()];
        let mut at = 0;
        for (j, term) in vectorizer.vocabulary().iter().enumerate() {
            while at < self.vocabulary.len() && self.vocabulary[at] < *term {
                at += 1;
            }
            if at == self.vocabulary.len() || self.vocabulary[at] != *term {
                return Err(Error::inconsistent(format!(
                    "term {term:?} of the vectorizer is not among the counted terms"
                )));
            }
            remap[at] = j as u32;
        }
        Ok(docs
            .par_iter()
            .map(|&d| {
                let counts = self.rows[d]
                    .iter()
                    .filter_map(|&(t, c)| {
                        let j = remap[t as usize];
                        (j != u32::MAX).then_some((j, c))
                    })
                    .collect();
                vectorizer.weigh(counts)
            })
            .collect())
    }
}
