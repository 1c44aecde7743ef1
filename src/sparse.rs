//! Neutral sparse types that every stage may use: a sparse row, a CSR matrix, and a matrix in
//! factored form (`X = N⁻¹ T S`). They carry numbers only: no vocabulary, no labels, and no
//! stage's internal layout (the solver builds its own from a [`FactoredMatrix`]).

use rayon::prelude::*;

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

/// A compressed sparse row matrix with f64 values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsrMatrix {
    /// Number of columns.
    pub n_cols: usize,
    /// Row `i` is stored at `indptr[i]..indptr[i + 1]`.
    pub indptr: Vec<usize>,
    /// Column of each stored value, increasing within a row.
    pub indices: Vec<u32>,
    /// The stored values.
    pub values: Vec<f64>,
}

impl CsrMatrix {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of stored values.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `i` as (column ids, values).
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

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

/// A matrix in factored form, `X[i][j] = T[i][j] · S[j] / N[i]`: T as rows of (column, value)
/// entries in any order, S a scale per column, N a divisor per row.
///
/// A TF-IDF matrix factors so: T holds each term's tf in each document, S the idf and N each
/// document's norm. Kept apart, T is mostly ones (a term counted once), which a consumer can store
/// as indices alone; T's values are f32 (exact for counts below 2²⁴, 7 digits for sublinear tf).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactoredMatrix {
    /// T: row i's (column, value) entries, each column at most once, in any order.
    pub rows: Vec<Vec<(u32, f32)>>,
    /// N: each row's divisor (1 for an unnormalised or empty row).
    pub row_divisor: Vec<f64>,
    /// S: each column's scale.
    pub column_scale: Vec<f64>,
    /// The number of entries of each column (for TF-IDF: the document frequencies).
    pub column_nnz: Vec<u32>,
}

impl FactoredMatrix {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.column_scale.len()
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.column_nnz.iter().map(|&c| c as usize).sum()
    }

    /// The factors of a CSR matrix: `T = X`, rounded to f32, with `N` and `S` all ones.
    pub fn from_csr(x: &CsrMatrix) -> FactoredMatrix {
        let mut column_nnz = vec![0u32; x.n_cols];
        for &j in &x.indices {
            column_nnz[j as usize] += 1;
        }
        FactoredMatrix {
            rows: (0..x.n_rows())
                .map(|i| {
                    let (ix, v) = x.row(i);
                    ix.iter().zip(v).map(|(&j, &v)| (j, v as f32)).collect()
                })
                .collect(),
            row_divisor: vec![1.0; x.n_rows()],
            column_scale: vec![1.0; x.n_cols],
            column_nnz,
        }
    }

    /// X as sorted CSR rows, each value `t · S[j] / N[i]` in f64.
    pub fn to_csr(&self) -> CsrMatrix {
        let rows = self
            .rows
            .par_iter()
            .zip(&self.row_divisor)
            .map(|(row, &norm)| {
                let mut row: Vec<(u32, f64)> = row
                    .iter()
                    .map(|&(j, t)| (j, t as f64 * self.column_scale[j as usize] / norm))
                    .collect();
                row.sort_unstable_by_key(|&(j, _)| j);
                SparseRow {
                    indices: row.iter().map(|e| e.0).collect(),
                    values: row.iter().map(|e| e.1).collect(),
                }
            })
            .collect();
        CsrMatrix::from_rows(rows, self.n_cols())
    }
}

impl From<&CsrMatrix> for FactoredMatrix {
    fn from(x: &CsrMatrix) -> Self {
        FactoredMatrix::from_csr(x)
    }
}

impl From<CsrMatrix> for FactoredMatrix {
    fn from(x: CsrMatrix) -> Self {
        FactoredMatrix::from_csr(&x)
    }
}

/// Consecutive ranges of items with about equal total length, at most `parts` of them (at least
/// one, possibly empty): how parallel passes split work so that each thread gets a fair share.
pub(crate) fn balanced_ranges(
    lengths: impl ExactSizeIterator<Item = u64>,
    parts: usize,
) -> Vec<(usize, usize)> {
    let n = lengths.len();
    let lengths: Vec<u64> = lengths.collect();
    let total: u64 = lengths.iter().sum();
    let per = total.div_ceil(parts.max(1) as u64).max(1);
    let mut ranges = Vec::with_capacity(parts + 1);
    let (mut lo, mut acc) = (0, 0u64);
    for (j, &len) in lengths.iter().enumerate() {
        acc += len;
        if acc >= per {
            ranges.push((lo, j + 1));
            (lo, acc) = (j + 1, 0);
        }
    }
    if lo < n || ranges.is_empty() {
        ranges.push((lo, n));
    }
    ranges
}

/// `len` zeros, written in parallel (zeroing fresh memory is mostly page faults, which then
/// happen on every core).
pub(crate) fn zeroed<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.par_extend(rayon::iter::repeat_n(T::default(), len));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_ranges_cover_every_item_once() {
        for (lengths, parts) in [
            (vec![5u64, 0, 0, 9, 1, 1, 1, 30], 3),
            (vec![], 2),
            (vec![0, 0], 4),
            (vec![1; 10], 1),
        ] {
            let ranges = balanced_ranges(lengths.iter().copied(), parts);
            let mut next = 0;
            for &(lo, hi) in &ranges {
                assert_eq!(lo, next);
                assert!(hi >= lo);
                next = hi;
            }
            assert_eq!(next, lengths.len());
            assert!(ranges.len() <= parts.max(1) + 1);
        }
    }

    #[test]
    fn factors_of_a_csr_matrix_give_it_back() {
        // Values exact in f32, so the round trip is exact.
        let x = CsrMatrix::from_rows(
            vec![
                SparseRow {
                    indices: vec![0, 3],
                    values: vec![0.5, -2.0],
                },
                SparseRow::default(),
                SparseRow {
                    indices: vec![1, 2, 3],
                    values: vec![1.0, 0.25, 8.0],
                },
            ],
            4,
        );
        let f = FactoredMatrix::from_csr(&x);
        assert_eq!((f.n_rows(), f.n_cols(), f.nnz()), (3, 4, 5));
        assert_eq!(f.column_nnz, vec![1, 1, 1, 2]);
        assert_eq!(f.to_csr(), x);
    }
}
