//! The training matrix as the L-BFGS solver reads it, built from a neutral
//! [`FactoredMatrix`] (`X = N⁻¹ T S`).
//!
//! T is stored term by term (X's transpose is what both of the solver's passes read) with the two
//! diagonals beside it, and an entry of T equal to 1 (a term counted once, by far the most common
//! entry of a TF-IDF matrix) as its document index alone. Document indices take 16 bits when the
//! corpus has at most 65,536 documents.
//!
//! The solver applies the diagonals per document and per term (`X w = N⁻¹ T (S w)`,
//! `Xᵀ r = S Tᵀ (N⁻¹ r)`), so nothing of X is rounded but the entries of T that are not 1 (f32:
//! exact for counts below 2²⁴, 7 digits for sublinear tf).
//!
//! The terms are stored fewest entries first: a pass's loop over a term's entries then runs the
//! same number of times as the loop before it, term after term, and the processor predicts where
//! it ends (BENCHMARKS.md has the measurements).

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::sparse::{balanced_ranges, zeroed, FactoredMatrix};
#[cfg(test)]
use crate::sparse::{CsrMatrix, SparseRow};

/// The type of a stored document index: `u16` while the corpus has at most 65,536 documents,
/// `u32` beyond.
pub(crate) trait DocIndex:
    Copy + Default + Send + Sync + PartialEq + std::fmt::Debug + 'static
{
    /// One more than the largest index this type stores.
    const LIMIT: u64;
    /// Index `i` (below `LIMIT`).
    fn from_index(i: usize) -> Self;
    /// The index as a `usize`.
    fn index(self) -> usize;
}

impl DocIndex for u16 {
    const LIMIT: u64 = 1 << 16;
    #[inline(always)]
    fn from_index(i: usize) -> Self {
        i as u16
    }
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

impl DocIndex for u32 {
    const LIMIT: u64 = 1 << 32;
    #[inline(always)]
    fn from_index(i: usize) -> Self {
        i as u32
    }
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

/// `X = N⁻¹ T S` stored term by term, with document indices of type `I`. The terms are stored in
/// order of their number of entries (then of their number of entries equal to 1, then of id):
/// position p holds term `order()[p]`, and the methods taking a position say so.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TermLists<I> {
    /// N: each document's divisor (1 for an empty row or without normalisation).
    doc_norm: Vec<f64>,
    /// The term at each position.
    order: Vec<u32>,
    /// S: the factor (idf) of the term at each position.
    term_scale: Vec<f64>,
    /// The entries of T equal to 1 of the term at position p are the documents
    /// `ones[ones_ptr[p]..ones_ptr[p + 1]]`.
    ones_ptr: Vec<u32>,
    ones: Vec<I>,
    /// Its other entries: documents `val_docs[r]` and values `vals[r]` for r in
    /// `vals_ptr[p]..vals_ptr[p + 1]`.
    vals_ptr: Vec<u32>,
    val_docs: Vec<I>,
    vals: Vec<f32>,
}

impl<I: DocIndex> TermLists<I> {
    /// Number of documents.
    pub fn n_docs(&self) -> usize {
        self.doc_norm.len()
    }

    /// Number of terms.
    pub fn n_terms(&self) -> usize {
        self.term_scale.len()
    }

    /// Number of stored entries.
    #[cfg(test)]
    pub fn nnz(&self) -> usize {
        self.ones.len() + self.vals.len()
    }

    /// Each document's divisor N.
    pub fn doc_norm(&self) -> &[f64] {
        &self.doc_norm
    }

    /// The id of the term at each position.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The factor S of the term at each position.
    pub fn term_scale(&self) -> &[f64] {
        &self.term_scale
    }

    /// The entries of T of the term at position p: the documents where it is 1, and the
    /// documents and values of the others, each in increasing document order.
    #[inline(always)]
    pub fn term(&self, p: usize) -> (&[I], &[I], &[f32]) {
        let (a, b) = (self.ones_ptr[p] as usize, self.ones_ptr[p + 1] as usize);
        let (c, d) = (self.vals_ptr[p] as usize, self.vals_ptr[p + 1] as usize);
        (&self.ones[a..b], &self.val_docs[c..d], &self.vals[c..d])
    }

    /// The entries equal to 1 of the terms at positions `lo..hi`, one term after the other.
    pub fn ones_of(&self, lo: usize, hi: usize) -> &[I] {
        &self.ones[self.ones_ptr[lo] as usize..self.ones_ptr[hi] as usize]
    }

    /// Positions `lo..hi` cut into [`Run`]s: maximal stretches of terms with the same numbers of
    /// entries equal to 1 and of others (the stored order, by those two counts, makes runs long
    /// and few).
    pub fn runs(&self, lo: usize, hi: usize) -> Vec<Run> {
        let shape = |p: usize| {
            (
                (self.ones_ptr[p + 1] - self.ones_ptr[p]) as usize,
                (self.vals_ptr[p + 1] - self.vals_ptr[p]) as usize,
            )
        };
        let mut runs: Vec<Run> = Vec::new();
        for p in lo..hi {
            let (ones, vals) = shape(p);
            match runs.last_mut() {
                Some(r) if (r.ones, r.vals) == (ones, vals) => r.end = p + 1,
                _ => runs.push(Run {
                    start: p,
                    end: p + 1,
                    ones,
                    vals,
                }),
            }
        }
        runs
    }

    /// The entries (document, value of T) of the term at position p: the ones, then the others.
    pub fn entries(&self, p: usize) -> impl Iterator<Item = (I, f64)> + '_ {
        let (ones, docs, vals) = self.term(p);
        ones.iter()
            .map(|&i| (i, 1.0))
            .chain(docs.iter().zip(vals).map(|(&i, &v)| (i, v as f64)))
    }

    /// Number of entries of the term at position p.
    pub fn term_nnz(&self, p: usize) -> usize {
        (self.ones_ptr[p + 1] - self.ones_ptr[p] + self.vals_ptr[p + 1] - self.vals_ptr[p]) as usize
    }

    /// X as document rows with f64 values `t · S_j / N_i`.
    #[cfg(test)]
    fn to_csr(&self) -> CsrMatrix {
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); self.n_docs()];
        for (p, &j) in self.order.iter().enumerate() {
            for (i, t) in self.entries(p) {
                let value = t * self.term_scale[p] / self.doc_norm[i.index()];
                rows[i.index()].push((j, value));
            }
        }
        let rows = rows
            .into_iter()
            .map(|mut row| {
                row.sort_unstable_by_key(|&(j, _)| j);
                SparseRow {
                    indices: row.iter().map(|e| e.0).collect(),
                    values: row.iter().map(|e| e.1).collect(),
                }
            })
            .collect();
        CsrMatrix::from_rows(rows, self.n_terms())
    }
}

/// Consecutive positions `start..end` whose terms all have `ones` entries equal to 1 and `vals`
/// others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub start: usize,
    pub end: usize,
    pub ones: usize,
    pub vals: usize,
}

/// The training matrix as the solver reads it: [`TermLists`] with 16-bit document indices when
/// they fit, 32-bit ones otherwise.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TermMatrix {
    /// At most 65,536 documents.
    Narrow(TermLists<u16>),
    /// More documents.
    Wide(TermLists<u32>),
}

/// `$body` with `$t` bound to the [`TermLists`] inside a [`TermMatrix`], whatever its index type.
macro_rules! with_lists {
    ($matrix:expr, $t:ident => $body:expr) => {
        match $matrix {
            TermMatrix::Narrow($t) => $body,
            TermMatrix::Wide($t) => $body,
        }
    };
}
pub(crate) use with_lists;

impl TermMatrix {
    /// The solver's layout of `x`. Its rows are read twice, then freed before the terms are put
    /// in their stored order, so the rows and the finished matrix are never held together.
    /// Written in parallel; the result does not depend on the thread count.
    pub(crate) fn new(x: FactoredMatrix) -> Result<TermMatrix> {
        let nnz = x.nnz() as u64;
        if nnz > u32::MAX as u64 {
            return Err(Error::MatrixTooLarge {
                what: "non-zeros",
                found: nnz,
                limit: u32::MAX as u64,
            });
        }
        if x.n_rows() as u64 <= u16::LIMIT {
            Ok(TermMatrix::Narrow(build(x)))
        } else if x.n_rows() as u64 <= u32::LIMIT {
            Ok(TermMatrix::Wide(build(x)))
        } else {
            Err(Error::MatrixTooLarge {
                what: "documents",
                found: x.n_rows() as u64,
                limit: u32::LIMIT,
            })
        }
    }

    /// Number of documents.
    #[cfg(test)]
    pub(crate) fn n_docs(&self) -> usize {
        with_lists!(self, t => t.n_docs())
    }

    /// Number of terms.
    pub(crate) fn n_terms(&self) -> usize {
        with_lists!(self, t => t.n_terms())
    }

    /// Number of stored entries.
    #[cfg(test)]
    pub(crate) fn nnz(&self) -> usize {
        with_lists!(self, t => t.nnz())
    }

    /// X as document rows (f64 values `t · S_j / N_i`).
    #[cfg(test)]
    pub(crate) fn to_csr(&self) -> CsrMatrix {
        with_lists!(self, t => t.to_csr())
    }
}

/// [`TermMatrix::new`] for one index type: the terms filled in id order, the rows freed, then
/// the terms copied into their stored order.
fn build<I: DocIndex>(x: FactoredMatrix) -> TermLists<I> {
    let FactoredMatrix {
        rows,
        row_divisor,
        column_scale,
        column_nnz,
    } = x;
    let staged = fill::<I>(row_divisor, column_scale, &column_nnz, &rows);
    drop(rows);
    staged.finish()
}

/// The entries of `rows` laid out term by term in term id order. Parallel over ranges of terms
/// with about equal non-zeros, one per thread: each range scans every row's entries twice for its
/// own terms, first counting its entries equal to 1, then writing its own part of the output in
/// document order ([`StagedTerms::finish`] puts the terms in their stored order).
fn fill<I: DocIndex>(
    doc_norm: Vec<f64>,
    term_scale: Vec<f64>,
    df: &[u32],
    rows: &[Vec<(u32, f32)>],
) -> StagedTerms<I> {
    let threads = rayon::current_num_threads();
    let ranges = balanced_ranges(df.iter().map(|&c| c as u64), threads);
    let ones_per_term: Vec<u32> = ranges
        .par_iter()
        .flat_map_iter(|&(lo, hi)| {
            let mut ones = vec![0u32; hi - lo];
            for row in rows {
                for &(term, value) in row {
                    let j = (term as usize).wrapping_sub(lo);
                    if j < hi - lo {
                        ones[j] += (value == 1.0) as u32;
                    }
                }
            }
            ones
        })
        .collect();
    let in_id_order = Entries::new(df, &ones_per_term);
    let mut by_id = in_id_order.zeroed();
    let parts = by_id.split(&in_id_order, &ranges);
    parts.into_par_iter().for_each(|((lo, hi), out)| {
        let mut next_one: Vec<u32> = in_id_order.ones_ptr[lo..hi].to_vec();
        let mut next_val: Vec<u32> = in_id_order.vals_ptr[lo..hi].to_vec();
        let (o_base, v_base) = (in_id_order.ones_ptr[lo], in_id_order.vals_ptr[lo]);
        for (i, row) in rows.iter().enumerate() {
            let doc = I::from_index(i);
            for &(term, t) in row {
                let j = (term as usize).wrapping_sub(lo);
                if j >= hi - lo {
                    continue;
                }
                if t == 1.0 {
                    out.ones[(next_one[j] - o_base) as usize] = doc;
                    next_one[j] += 1;
                } else {
                    let slot = (next_val[j] - v_base) as usize;
                    out.val_docs[slot] = doc;
                    out.vals[slot] = t;
                    next_val[j] += 1;
                }
            }
        }
    });

    StagedTerms {
        doc_norm,
        term_scale,
        df: df.to_vec(),
        ones_per_term,
        in_id_order,
        by_id,
    }
}

/// The matrix filled in term id order, from [`fill`].
struct StagedTerms<I> {
    doc_norm: Vec<f64>,
    term_scale: Vec<f64>,
    df: Vec<u32>,
    ones_per_term: Vec<u32>,
    in_id_order: Entries,
    by_id: Arrays<I>,
}

impl<I: DocIndex> StagedTerms<I> {
    /// The terms in their stored order, copied in parallel over ranges of positions.
    fn finish(self) -> TermLists<I> {
        let StagedTerms {
            doc_norm,
            term_scale,
            df,
            ones_per_term,
            in_id_order,
            by_id,
        } = self;
        // Fewest entries first (ties: fewer ones, then id; so no two terms tie).
        let mut order: Vec<u32> = (0..df.len() as u32).collect();
        order.par_sort_unstable_by_key(|&j| (df[j as usize], ones_per_term[j as usize], j));
        let sorted_df: Vec<u32> = order.iter().map(|&j| df[j as usize]).collect();
        let sorted_ones: Vec<u32> = order.iter().map(|&j| ones_per_term[j as usize]).collect();
        let stored = Entries::new(&sorted_df, &sorted_ones);
        let mut arrays = stored.zeroed();
        let ranges = balanced_ranges(
            sorted_df.iter().map(|&c| c as u64),
            rayon::current_num_threads(),
        );
        let parts = arrays.split(&stored, &ranges);
        parts.into_par_iter().for_each(|((lo, hi), out)| {
            let (mut o, mut v) = (0, 0);
            for &j in &order[lo..hi] {
                let j = j as usize;
                let (a, b) = (
                    in_id_order.ones_ptr[j] as usize,
                    in_id_order.ones_ptr[j + 1] as usize,
                );
                out.ones[o..o + b - a].copy_from_slice(&by_id.ones[a..b]);
                o += b - a;
                let (a, b) = (
                    in_id_order.vals_ptr[j] as usize,
                    in_id_order.vals_ptr[j + 1] as usize,
                );
                out.val_docs[v..v + b - a].copy_from_slice(&by_id.val_docs[a..b]);
                out.vals[v..v + b - a].copy_from_slice(&by_id.vals[a..b]);
                v += b - a;
            }
        });
        drop(by_id);
        TermLists {
            doc_norm,
            term_scale: order.iter().map(|&j| term_scale[j as usize]).collect(),
            order,
            ones_ptr: stored.ones_ptr,
            ones: arrays.ones,
            vals_ptr: stored.vals_ptr,
            val_docs: arrays.val_docs,
            vals: arrays.vals,
        }
    }
}

/// Where each term's entries go, from its number of entries and of those equal to 1.
struct Entries {
    ones_ptr: Vec<u32>,
    vals_ptr: Vec<u32>,
}

/// The entry arrays of [`TermLists`].
struct Arrays<I> {
    ones: Vec<I>,
    val_docs: Vec<I>,
    vals: Vec<f32>,
}

/// One range's part of [`Arrays`].
struct ArraysMut<'a, I> {
    ones: &'a mut [I],
    val_docs: &'a mut [I],
    vals: &'a mut [f32],
}

impl Entries {
    fn new(df: &[u32], ones: &[u32]) -> Entries {
        let mut ones_ptr = Vec::with_capacity(df.len() + 1);
        let mut vals_ptr = Vec::with_capacity(df.len() + 1);
        let (mut o, mut v) = (0u32, 0u32);
        ones_ptr.push(0);
        vals_ptr.push(0);
        for (&d, &c) in df.iter().zip(ones) {
            o += c;
            v += d - c;
            ones_ptr.push(o);
            vals_ptr.push(v);
        }
        Entries { ones_ptr, vals_ptr }
    }

    /// Arrays of the right lengths, zeroed.
    fn zeroed<I: DocIndex>(&self) -> Arrays<I> {
        let (o, v) = (
            self.ones_ptr[self.ones_ptr.len() - 1],
            self.vals_ptr[self.vals_ptr.len() - 1],
        );
        Arrays {
            ones: zeroed(o as usize),
            val_docs: zeroed(v as usize),
            vals: zeroed(v as usize),
        }
    }
}

impl<I: DocIndex> Arrays<I> {
    /// Each range of terms' part of the arrays laid out by `at`.
    fn split<'a>(
        &'a mut self,
        at: &Entries,
        ranges: &[(usize, usize)],
    ) -> Vec<((usize, usize), ArraysMut<'a, I>)> {
        let mut rest = ArraysMut {
            ones: &mut self.ones[..],
            val_docs: &mut self.val_docs[..],
            vals: &mut self.vals[..],
        };
        let mut parts = Vec::with_capacity(ranges.len());
        for &(lo, hi) in ranges {
            let a = (at.ones_ptr[hi] - at.ones_ptr[lo]) as usize;
            let b = (at.vals_ptr[hi] - at.vals_ptr[lo]) as usize;
            let (ones, ones_tail) = std::mem::take(&mut rest.ones).split_at_mut(a);
            let (val_docs, docs_tail) = std::mem::take(&mut rest.val_docs).split_at_mut(b);
            let (vals, vals_tail) = std::mem::take(&mut rest.vals).split_at_mut(b);
            rest = ArraysMut {
                ones: ones_tail,
                val_docs: docs_tail,
                vals: vals_tail,
            };
            parts.push((
                (lo, hi),
                ArraysMut {
                    ones,
                    val_docs,
                    vals,
                },
            ));
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> CsrMatrix {
        CsrMatrix::from_rows(
            vec![
                SparseRow {
                    indices: vec![0, 2, 3],
                    values: vec![1.0, 0.5, 2.0],
                },
                SparseRow::default(),
                SparseRow {
                    indices: vec![1, 2],
                    values: vec![1.0, 1.0],
                },
                SparseRow {
                    indices: vec![0, 3],
                    values: vec![-3.0, 1.0],
                },
            ],
            5,
        )
    }

    #[test]
    fn rows_round_trip_with_ones_stored_as_indices() {
        let x = rows();
        let c = TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap();
        assert_eq!(c.to_csr(), x);
        assert_eq!((c.n_docs(), c.n_terms(), c.nnz()), (4, 5, 7));
        let TermMatrix::Narrow(t) = &c else {
            panic!("4 documents take 16-bit indices")
        };
        // Fewest entries first, then fewest ones, then by id.
        assert_eq!(t.order(), &[4, 1, 0, 2, 3]);
        assert_eq!(t.term(0), (&[][..], &[][..], &[][..]));
        assert_eq!(t.term(1), (&[2u16][..], &[][..], &[][..]));
        assert_eq!(t.term(2), (&[0u16][..], &[3u16][..], &[-3.0f32][..]));
        assert_eq!(t.term(3), (&[2u16][..], &[0u16][..], &[0.5f32][..]));
        assert_eq!(t.term(4), (&[3u16][..], &[0u16][..], &[2.0f32][..]));
        assert_eq!((t.term_nnz(0), t.term_nnz(1), t.term_nnz(4)), (0, 1, 2));
    }

    #[test]
    fn the_same_with_any_thread_count_and_past_65536_documents() {
        // 70,000 documents: 32-bit indices.
        let n = 70_000;
        let x = CsrMatrix::from_rows(
            (0..n)
                .map(|i| SparseRow {
                    indices: vec![(i % 3) as u32, 3 + (i % 7) as u32],
                    values: vec![1.0, (i % 5) as f64],
                })
                .collect(),
            10,
        );
        let build = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap())
        };
        let (a, b) = (build(1), build(3));
        assert_eq!(a, b);
        assert!(matches!(a, TermMatrix::Wide(_)));
        assert_eq!(a.to_csr(), x);
    }
}
