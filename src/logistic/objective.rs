//! The logistic loss over the term matrix: the [`Objective`] L-BFGS minimises, with its two data
//! passes (margins `X d`, gradient `Xᵀ r`) parallel and deterministic.

use rayon::prelude::*;

use super::fitted::log1pexp;
use super::lbfgs::{lane_sums, Precond, VEC_BLOCK};
use super::term_matrix::{DocIndex, Run, TermLists};

/// once for the gradient at the accepted step.
pub(super) trait Objective: Sync {
    /// Length of the margins (rows × margins per row).
    fn margins_len(&self) -> usize;
    /// Number of weights; the parameters after them are the biases, which are not penalised.
    fn n_weights(&self) -> usize;
    /// `1 / (C S)`: the regulariser is `reg / 2 · ‖W‖²`.
    fn reg(&self) -> f64;
    /// `z = X W + b` for parameters (or a direction) `theta`: one pass over the data.
    fn margins(&self, theta: &[f64], z: &mut [f64]);
    /// The data term (loss / S) at margins `z + a·zd`: no data pass.
    fn line(&self, z: &[f64], zd: &[f64], a: f64) -> f64;
    /// The objective at parameters `theta` with margins `z`, and its gradient: one data pass.
    /// `scratch` (as long as `z`) takes the residuals: the caller lends a buffer it no longer
    /// needs (the line search's direction margins), so no n × k buffer is kept for them.
    fn gradient(&self, z: &[f64], theta: &[f64], grad: &mut [f64], scratch: &mut [f64]) -> f64;
    /// A diagonal preconditioner: the inverse of an estimate of the Hessian's diagonal.
    fn preconditioner(&self) -> Precond;
}

/// Rows per block when summing losses: fixed, so sums do not depend on the thread count.
pub(super) const ROW_BLOCK: usize = 1024;

/// A label type with its loss: `usize` (a class index, softmax loss over k margins) or `bool`
/// (binary logistic loss over one margin).
pub(super) trait Label: Copy + Sync {
    /// The loss of one example with margins `z`, and its derivative in `z` written to `dz`.
    fn loss(self, z: &[f64], dz: &mut [f64]) -> f64;
    /// The loss alone (the line search's), the same bits as [`Label::loss`]'s; `scratch` is as
    /// long as `z`.
    fn value(self, z: &[f64], scratch: &mut [f64]) -> f64 {
        self.loss(z, scratch)
    }
}

impl Label for usize {
    fn loss(self, z: &[f64], dz: &mut [f64]) -> f64 {
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut se = 0.0;
        for (o, &zk) in dz.iter_mut().zip(z) {
            *o = (zk - m).exp();
            se += *o;
        }
        dz.iter_mut().for_each(|o| *o /= se);
        dz[self] -= 1.0;
        m + se.ln() - z[self]
    }
}

impl Label for bool {
    /// `σ(z) − y` and `ln(1 + eᶻ) − y z` from one exponential `e = e^−|z|`: σ(z) = 1 / (1 + e)
    /// for z ≥ 0, e / (1 + e) below; ln(1 + eᶻ) = max(z, 0) + ln(1 + e) (as [`sigmoid`](super::fitted::sigmoid) and
    /// [`log1pexp`] compute them, so the same bits).
    fn loss(self, z: &[f64], dz: &mut [f64]) -> f64 {
        let (z, y) = (z[0], if self { 1.0 } else { 0.0 });
        let e = (-z.abs()).exp();
        dz[0] = if z >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        } - y;
        let l = if z > 0.0 { z + e.ln_1p() } else { e.ln_1p() };
        l - y * z
    }

    fn value(self, z: &[f64], _: &mut [f64]) -> f64 {
        let (z, y) = (z[0], if self { 1.0 } else { 0.0 });
        log1pexp(z) - y * z
    }
}

/// One logistic-regression problem over the training matrix's [`TermLists`]. `Problem<usize>`
/// is the multinomial loss (labels 0..k; parameters W, term-major n_terms × k, then b);
/// `Problem<bool>` the binary loss (k = 1; parameters w then b).
pub(super) struct Problem<'a, Y, I> {
    xt: &'a TermLists<I>,
    blocks: Vec<(usize, usize)>,
    /// Each block cut into runs of terms of one shape.
    runs: Vec<Vec<Run>>,
    /// The runs of consecutive blocks joined into [`margin_copies`] groups: the margins pass
    /// keeps one n × k copy of the margins per group.
    margin_runs: Vec<Vec<Run>>,
    y: &'a [Y],
    sw: &'a [f64],
    k: usize,
    inv_c: f64,
    s: f64,
    work: std::sync::Mutex<Workspace>,
}

impl<'a, Y, I: DocIndex> Problem<'a, Y, I> {
    pub(super) fn new(xt: &'a TermLists<I>, y: &'a [Y], sw: &'a [f64], k: usize, c: f64) -> Self {
        Self::grouped(xt, y, sw, k, c, usize::MAX)
    }

    /// [`Problem::new`] with the margins pass cut into at most `groups` groups (and at most
    /// [`margin_copies`]).
    pub(super) fn grouped(
        xt: &'a TermLists<I>,
        y: &'a [Y],
        sw: &'a [f64],
        k: usize,
        c: f64,
        groups: usize,
    ) -> Self {
        let blocks = term_blocks(xt);
        let runs: Vec<Vec<Run>> = blocks.iter().map(|&(lo, hi)| xt.runs(lo, hi)).collect();
        let groups = groups.clamp(1, margin_copies(xt.n_docs(), k, runs.len()));
        let margin_runs: Vec<Vec<Run>> = (0..groups)
            .map(|g| {
                let (lo, hi) = (g * runs.len() / groups, (g + 1) * runs.len() / groups);
                runs[lo..hi].concat()
            })
            .collect();
        let work = Workspace::new(xt.n_docs(), k, margin_runs.len());
        Problem {
            xt,
            blocks,
            runs,
            margin_runs,
            y,
            sw,
            k,
            inv_c: 1.0 / c,
            s: sw.iter().sum(),
            work,
        }
    }
}

impl<Y: Label, I: DocIndex> Objective for Problem<'_, Y, I> {
    fn margins_len(&self) -> usize {
        self.xt.n_docs() * self.k
    }

    fn n_weights(&self) -> usize {
        self.xt.n_terms() * self.k
    }

    fn reg(&self) -> f64 {
        self.inv_c / self.s
    }

    fn margins(&self, theta: &[f64], z: &mut [f64]) {
        let (w, b) = theta.split_at(self.n_weights());
        let mut guard = self.work.lock().unwrap_or_else(|e| e.into_inner());
        margins_into(
            self.xt,
            &self.margin_runs,
            w,
            b,
            self.k,
            &mut guard.partial,
            z,
        );
    }

    fn line(&self, z: &[f64], zd: &[f64], a: f64) -> f64 {
        let k = self.k;
        let sums: Vec<f64> = z
            .par_chunks(ROW_BLOCK * k)
            .zip(zd.par_chunks(ROW_BLOCK * k))
            .enumerate()
            .map(|(blk, (z, zd))| {
                let (mut zt, mut dz) = (vec![0.0; k], vec![0.0; k]);
                let mut f = 0.0;
                for (r, (z, zd)) in z.chunks(k).zip(zd.chunks(k)).enumerate() {
                    let i = blk * ROW_BLOCK + r;
                    zt.iter_mut()
                        .zip(z.iter().zip(zd))
                        .for_each(|(t, (z, d))| *t = z + a * d);
                    f += self.sw[i] * self.y[i].value(&zt, &mut dz);
                }
                f
            })
            .collect();
        sums.iter().sum::<f64>() / self.s
    }

    fn gradient(&self, z: &[f64], theta: &[f64], grad: &mut [f64], resid: &mut [f64]) -> f64 {
        let (loss, bias) = self.residuals(z, resid);
        let gw = &mut grad[..self.n_weights()];
        transpose_times(self.xt, &self.blocks, &self.runs, resid, self.k, gw);
        self.finish(theta, grad, loss, &bias)
    }

    /// `1 / (1/(C S) + ¼ Σ_i s_i x_ij² / S)` for every weight of term j (the Hessian's diagonal
    /// with every probability at ½, where p(1 − p) is largest), and 4 for the biases.
    fn preconditioner(&self) -> Precond {
        let k = self.k;
        let reg = self.reg();
        // x_ij² = t² S_j² / N_i²: the documents' part first.
        let q: Vec<f64> = self
            .sw
            .iter()
            .zip(self.xt.doc_norm())
            .map(|(s, n)| s / (n * n))
            .collect();
        // One value per term (its k weights share it), then the biases' 4.
        let mut p: Vec<f64> = (0..self.xt.n_terms())
            .into_par_iter()
            .map(|j| {
                let (ones, docs, vals) = self.xt.term(j);
                let t: f64 = ones.iter().map(|&i| q[i.index()]).sum::<f64>()
                    + docs
                        .iter()
                        .zip(vals)
                        .map(|(&i, &v)| (v as f64) * (v as f64) * q[i.index()])
                        .sum::<f64>();
                let scale = self.xt.term_scale()[j];
                let col = scale * scale * t;
                1.0 / (reg + 0.25 * col / self.s)
            })
            .collect();
        p.push(4.0);
        Precond {
            values: p,
            width: k,
        }
    }
}

impl<Y: Label, I: DocIndex> Problem<'_, Y, I> {
    /// The gradient's first half: residuals `r_ik = s_i ∂loss/∂z_ik / (S N_i)` into `resid`
    /// (what the terms' gradient sums), block by block; returns the summed weighted loss
    /// `Σ s_i loss_i` and the biases' gradient `Σ s_i ∂loss/∂z_ik / S`.
    pub(super) fn residuals(&self, z: &[f64], resid: &mut [f64]) -> (f64, Vec<f64>) {
        let k = self.k;
        let norm = self.xt.doc_norm();
        let parts: Vec<(f64, Vec<f64>)> = resid
            .par_chunks_mut(ROW_BLOCK * k)
            .zip(z.par_chunks(ROW_BLOCK * k))
            .enumerate()
            .map(|(blk, (out, z))| {
                let mut sum = 0.0;
                let mut bias = vec![0.0; k];
                for (r, (out, z)) in out.chunks_mut(k).zip(z.chunks(k)).enumerate() {
                    let i = blk * ROW_BLOCK + r;
                    let si = self.sw[i];
                    sum += si * self.y[i].loss(z, out);
                    let scale = si / self.s;
                    for (o, b) in out.iter_mut().zip(&mut bias) {
                        *o *= scale;
                        *b += *o;
                        *o /= norm[i];
                    }
                }
                (sum, bias)
            })
            .collect();
        let loss: f64 = parts.iter().map(|p| p.0).sum();
        let mut bias = vec![0.0; k];
        for (_, b) in &parts {
            bias.iter_mut().zip(b).for_each(|(g, b)| *g += b);
        }
        (loss, bias)
    }

    /// The gradient's second half, once `grad`'s weights hold `Xᵀ R`: adds the regulariser's
    /// `reg · w`, writes the biases' gradient, and returns the objective
    /// `loss / S + reg / 2 · ‖w‖²`.
    pub(super) fn finish(&self, theta: &[f64], grad: &mut [f64], loss: f64, bias: &[f64]) -> f64 {
        let (w, _) = theta.split_at(self.n_weights());
        let (gw, gb) = grad.split_at_mut(self.n_weights());
        let reg = self.reg();
        let sums: Vec<f64> = gw
            .par_chunks_mut(VEC_BLOCK)
            .zip(w.par_chunks(VEC_BLOCK))
            .map(|(g, w)| {
                g.iter_mut().zip(w).for_each(|(g, w)| *g += w * reg);
                lane_sums(w.len(), |i| [w[i] * w[i]])[0]
            })
            .collect();
        let ww: f64 = sums.iter().sum();
        gb.copy_from_slice(bias);
        loss / self.s + 0.5 * reg * ww
    }
}

#[cfg(test)]
impl<Y: Label, I: DocIndex> Problem<'_, Y, I> {
    /// Objective and gradient at `theta` (margins computed afresh).
    pub(super) fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut z = vec![0.0; self.margins_len()];
        self.margins(theta, &mut z);
        self.gradient(&z, theta, grad, &mut vec![0.0; z.len()])
    }
}

/// The most blocks of terms.
pub(super) const TERM_BLOCKS: usize = 32;

/// Term ranges of roughly equal non-zeros, at most `TERM_BLOCKS` of them. They depend only on
/// the data, never on the thread count, so the margins are summed in the same order always.
pub(super) fn term_blocks<I: DocIndex>(xt: &TermLists<I>) -> Vec<(usize, usize)> {
    crate::sparse::balanced_ranges(
        (0..xt.n_terms()).map(|j| xt.term_nnz(j) as u64),
        TERM_BLOCKS,
    )
}

/// Into how many groups the margins pass cuts the terms: one n × k copy of the margins per group
/// (scattered in parallel without locks, summed in group order), as many as there are blocks
/// while the copies fit in `MARGIN_BYTES` together. When not even two fit, one group adds
/// straight into Z (no copy; parallel over ranges of documents instead). So the pass's extra
/// memory is at most `MARGIN_BYTES` whatever the number of labels or threads, and, like the
/// blocks, depends only on the data.
pub(super) fn margin_copies(n: usize, k: usize, blocks: usize) -> usize {
    let copy = n.saturating_mul(k).saturating_mul(8).max(1);
    (MARGIN_BYTES / copy).clamp(1, blocks.max(1))
}

/// The memory the margins pass may take for its copies of the margins.
pub(super) const MARGIN_BYTES: usize = 128 << 20;

/// Margins `Z = X W + b = N⁻¹ T (S W) + b` (n × k, row-major) from the matrix's terms: W is read
/// in order and the scattered writes go to Z, which is small enough to stay in cache. Each block
/// of terms adds into its own copy of Z (`partial`); the copies are summed in block order
/// (deterministic), then divided by the documents' norms.
pub(super) fn margins_into<I: DocIndex>(
    xt: &TermLists<I>,
    runs: &[Vec<Run>],
    w: &[f64],
    b: &[f64],
    k: usize,
    partial: &mut [Vec<f64>],
    z: &mut [f64],
) {
    if partial.is_empty() {
        // One group: the documents cut into ranges, each range adding every term's entries of
        // its own documents into its own rows of Z (a term's documents are sorted, so a range's
        // entries are found by bisection). Every margin still adds its terms in stored order, as
        // one sequential pass would: the same bits in parallel, with no copy of Z.
        let rows = xt.n_docs().div_ceil(ROW_PARTS).max(ROW_BLOCK);
        z.par_chunks_mut(rows * k)
            .enumerate()
            .for_each(|(part, zc)| {
                zc.iter_mut().for_each(|v| *v = 0.0);
                let lo = part * rows;
                for runs in runs {
                    scatter_rows(xt, runs, w, k, lo..lo + zc.len() / k, zc);
                }
            });
    } else {
        partial.par_iter_mut().zip(runs).for_each(|(z, runs)| {
            z.iter_mut().for_each(|v| *v = 0.0);
            scatter_runs(xt, runs, w, k, z);
        });
    }
    let norm = xt.doc_norm();
    z.par_chunks_mut(ROW_BLOCK * k)
        .enumerate()
        .for_each(|(blk, zc)| {
            let (lo, len) = (blk * ROW_BLOCK * k, zc.len());
            if !partial.is_empty() {
                zc.iter_mut().for_each(|v| *v = 0.0);
            }
            for p in partial.iter() {
                zc.iter_mut()
                    .zip(&p[lo..lo + len])
                    .for_each(|(z, p)| *z += p);
            }
            for (r, zr) in zc.chunks_mut(k).enumerate() {
                let n = norm[blk * ROW_BLOCK + r];
                zr.iter_mut().zip(b).for_each(|(z, b)| *z = b + *z / n);
            }
        });
}

/// `z += T (S W)` over the terms of `runs` (no norms, no biases).
fn scatter_runs<I: DocIndex>(xt: &TermLists<I>, runs: &[Run], w: &[f64], k: usize, z: &mut [f64]) {
    for run in runs {
        match k {
            1 => pass_run(&mut Scatter::<1, I> { xt, w, z }, run),
            2 => pass_run(&mut Scatter::<2, I> { xt, w, z }, run),
            3 => pass_run(&mut Scatter::<3, I> { xt, w, z }, run),
            4 => pass_run(&mut Scatter::<4, I> { xt, w, z }, run),
            5 => pass_run(&mut Scatter::<5, I> { xt, w, z }, run),
            6 => pass_run(&mut Scatter::<6, I> { xt, w, z }, run),
            7 => pass_run(&mut Scatter::<7, I> { xt, w, z }, run),
            8 => pass_run(&mut Scatter::<8, I> { xt, w, z }, run),
            _ => {
                for j in run.start..run.end {
                    let wj = &w[j * k..(j + 1) * k];
                    if wj.iter().all(|&x| x == 0.0) {
                        continue;
                    }
                    let scale = xt.term_scale()[j];
                    let u: Vec<f64> = wj.iter().map(|w| w * scale).collect();
                    for (i, t) in xt.entries(j) {
                        let zi = &mut z[i.index() * k..(i.index() + 1) * k];
                        zi.iter_mut().zip(&u).for_each(|(z, u)| *z += t * u);
                    }
                }
            }
        }
    }
}

/// `z += T (S W)` over the terms of `runs` for the documents `docs` only; `z` holds their rows.
/// The general loop of [`scatter_runs`], entry for entry.
fn scatter_rows<I: DocIndex>(
    xt: &TermLists<I>,
    runs: &[Run],
    w: &[f64],
    k: usize,
    docs: std::ops::Range<usize>,
    z: &mut [f64],
) {
    let mut u = vec![0.0; k];
    let within = |list: &[I]| {
        list.partition_point(|i| i.index() < docs.start)
            ..list.partition_point(|i| i.index() < docs.end)
    };
    for run in runs {
        for j in run.start..run.end {
            let (ones, list, vals) = xt.term(j);
            let (a, b) = (within(ones), within(list));
            let wj = &w[j * k..(j + 1) * k];
            if (a.is_empty() && b.is_empty()) || wj.iter().all(|&x| x == 0.0) {
                continue;
            }
            let scale = xt.term_scale()[j];
            u.iter_mut().zip(wj).for_each(|(u, w)| *u = w * scale);
            let entries = ones[a].iter().map(|&i| (i, 1.0)).chain(
                list[b.clone()]
                    .iter()
                    .zip(&vals[b])
                    .map(|(&i, &v)| (i, v as f64)),
            );
            for (i, t) in entries {
                let r = i.index() - docs.start;
                let zi = &mut z[r * k..(r + 1) * k];
                zi.iter_mut().zip(&u).for_each(|(z, u)| *z += t * u);
            }
        }
    }
}

/// Most document ranges of the copy-free margins pass: a fixed number, so its work does not
/// depend on the thread count.
const ROW_PARTS: usize = 32;

/// Buffers reused by every evaluation of one problem: allocating them afresh each time cost more
/// (page faults) than the arithmetic.
pub(super) struct Workspace {
    /// One margin matrix per group of terms; none when there is one group (it adds into Z).
    partial: Vec<Vec<f64>>,
}

impl Workspace {
    fn new(n: usize, k: usize, groups: usize) -> std::sync::Mutex<Workspace> {
        let copies = if groups > 1 { groups } else { 0 };
        std::sync::Mutex::new(Workspace {
            partial: vec![vec![0.0; n * k]; copies],
        })
    }
}

/// One term's entries of T: documents where it is 1, documents and values of the others.
pub(super) type Term<'a, I> = (&'a [I], &'a [I], &'a [f32]);

/// One pass over the terms of a run, K values per term: with a loop of fixed length per term
/// where the run's terms have W ≤ 4 entries, all equal to 1 (most terms of a large corpus: the
/// long tail of rare n-grams), and term by term otherwise.
pub(super) trait RunPass {
    fn fixed<const W: usize>(&mut self, run: &Run);
    fn general(&mut self, run: &Run);
}

pub(super) fn pass_run(pass: &mut impl RunPass, run: &Run) {
    match (run.ones, run.vals) {
        (1, 0) => pass.fixed::<1>(run),
        (2, 0) => pass.fixed::<2>(run),
        (3, 0) => pass.fixed::<3>(run),
        (4, 0) => pass.fixed::<4>(run),
        _ => pass.general(run),
    }
}

/// The margins pass: `z[i] += t S_j w_j` for every entry (i, t) of every term j, K weights per
/// term (`w`) and K margins per document (`z`).
pub(super) struct Scatter<'a, const K: usize, I> {
    xt: &'a TermLists<I>,
    w: &'a [f64],
    z: &'a mut [f64],
}

impl<const K: usize, I: DocIndex> Scatter<'_, K, I> {
    #[inline(always)]
    fn add(&mut self, i: I, u: &[f64; K]) {
        let zi: &mut [f64; K] = (&mut self.z[i.index() * K..(i.index() + 1) * K])
            .try_into()
            .expect("K margins");
        for c in 0..K {
            zi[c] += u[c];
        }
    }
}

impl<const K: usize, I: DocIndex> RunPass for Scatter<'_, K, I> {
    #[inline(always)]
    fn fixed<const W: usize>(&mut self, run: &Run) {
        let xt = self.xt;
        let ones = xt.ones_of(run.start, run.end);
        let weights = &self.w[run.start * K..run.end * K];
        let scales = &xt.term_scale()[run.start..run.end];
        for ((docs, wj), &scale) in ones
            .chunks_exact(W)
            .zip(weights.chunks_exact(K))
            .zip(scales)
        {
            if wj.iter().all(|&x| x == 0.0) {
                continue;
            }
            let u: [f64; K] = std::array::from_fn(|c| wj[c] * scale);
            for &i in docs {
                self.add(i, &u);
            }
        }
    }

    fn general(&mut self, run: &Run) {
        let xt = self.xt;
        for j in run.start..run.end {
            let wj = &self.w[j * K..(j + 1) * K];
            if wj.iter().all(|&x| x == 0.0) {
                continue;
            }
            let scale = xt.term_scale()[j];
            let u: [f64; K] = std::array::from_fn(|c| wj[c] * scale);
            let (ones, docs, vals) = xt.term(j);
            for &i in ones {
                self.add(i, &u);
            }
            for (&i, &v) in docs.iter().zip(vals) {
                let uv: [f64; K] = std::array::from_fn(|c| v as f64 * u[c]);
                self.add(i, &uv);
            }
        }
    }
}

/// `out` (term-major, `width` values per term) cut at the blocks of terms: each block's first
/// term, its runs, and its own part of `out`, so the blocks (about equal entries) write in
/// parallel without locks.
fn block_parts<'o, 'r>(
    blocks: &[(usize, usize)],
    runs: &'r [Vec<Run>],
    width: usize,
    out: &'o mut [f64],
) -> Vec<(usize, &'r Vec<Run>, &'o mut [f64])> {
    let mut parts = Vec::with_capacity(blocks.len());
    let mut rest = out;
    for (&(lo, hi), runs) in blocks.iter().zip(runs) {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut((hi - lo) * width);
        rest = tail;
        parts.push((lo, runs, part));
    }
    parts
}

/// `out = Xᵀ R = S Tᵀ (N⁻¹ R)` for residuals already divided by the norms (n × k, row-major):
/// each output entry is a sum over one term's entries, so the pass is parallel over terms and
/// independent of the thread count.
pub(super) fn transpose_times<I: DocIndex>(
    xt: &TermLists<I>,
    blocks: &[(usize, usize)],
    runs: &[Vec<Run>],
    resid: &[f64],
    k: usize,
    out: &mut [f64],
) {
    block_parts(blocks, runs, k, out)
        .into_par_iter()
        .for_each(|(lo, runs, out)| {
            for run in runs {
                let out = &mut out[(run.start - lo) * k..(run.end - lo) * k];
                match k {
                    1 => pass_run(&mut Gather::<1, I> { xt, resid, out }, run),
                    2 => pass_run(&mut Gather::<2, I> { xt, resid, out }, run),
                    3 => pass_run(&mut Gather::<3, I> { xt, resid, out }, run),
                    4 => pass_run(&mut Gather::<4, I> { xt, resid, out }, run),
                    _ => {
                        for (r, g) in out.chunks_mut(k).enumerate() {
                            let j = run.start + r;
                            g.iter_mut().for_each(|g| *g = 0.0);
                            for (i, t) in xt.entries(j) {
                                let ri = &resid[i.index() * k..(i.index() + 1) * k];
                                g.iter_mut().zip(ri).for_each(|(g, r)| *g += t * r);
                            }
                            let scale = xt.term_scale()[j];
                            g.iter_mut().for_each(|g| *g *= scale);
                        }
                    }
                }
            }
        });
}

/// The gradient pass over one run: `out` (K per term of the run) `= S_j Σ t R[i, ·]` over the
/// entries (i, t) of each term j.
pub(super) struct Gather<'a, const K: usize, I> {
    xt: &'a TermLists<I>,
    resid: &'a [f64],
    out: &'a mut [f64],
}

impl<const K: usize, I: DocIndex> RunPass for Gather<'_, K, I> {
    /// Each term's W residual rows summed in document order.
    #[inline(always)]
    fn fixed<const W: usize>(&mut self, run: &Run) {
        let (xt, resid) = (self.xt, self.resid);
        let ones = xt.ones_of(run.start, run.end);
        let scales = &xt.term_scale()[run.start..run.end];
        for ((docs, g), &scale) in ones
            .chunks_exact(W)
            .zip(self.out.chunks_exact_mut(K))
            .zip(scales)
        {
            let mut acc = [0.0f64; K];
            for &i in docs {
                let r: &[f64; K] = (&resid[i.index() * K..(i.index() + 1) * K])
                    .try_into()
                    .expect("K residuals");
                for c in 0..K {
                    acc[c] += r[c];
                }
            }
            for c in 0..K {
                g[c] = acc[c] * scale;
            }
        }
    }

    fn general(&mut self, run: &Run) {
        let (xt, resid) = (self.xt, self.resid);
        for (r, g) in self.out.chunks_mut(K).enumerate() {
            let j = run.start + r;
            let term = xt.term(j);
            if K == 1 {
                g[0] = gather_term_1(term, resid);
            } else {
                gather_term::<K, I>(term, resid, g);
            }
            let scale = xt.term_scale()[j];
            g.iter_mut().for_each(|g| *g *= scale);
        }
    }
}

/// `Σ t r[i]` over one term's entries, each kind in four interleaved partial sums: one running
/// sum waits a full floating-point latency per term, four keep the core busy. The order is
/// fixed, so the result does not depend on threads.
#[inline(always)]
pub(super) fn gather_term_1<I: DocIndex>((ones, docs, vals): Term<'_, I>, resid: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let oc = ones.chunks_exact(4);
    let mut tail: f64 = oc.remainder().iter().map(|&i| resid[i.index()]).sum();
    for i in oc {
        for lane in 0..4 {
            acc[lane] += resid[i[lane].index()];
        }
    }
    let mut vacc = [0.0f64; 4];
    let (dc, vc) = (docs.chunks_exact(4), vals.chunks_exact(4));
    for (&i, &v) in dc.remainder().iter().zip(vc.remainder()) {
        tail += v as f64 * resid[i.index()];
    }
    for (i, v) in dc.zip(vc) {
        for lane in 0..4 {
            vacc[lane] += v[lane] as f64 * resid[i[lane].index()];
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((vacc[0] + vacc[1]) + (vacc[2] + vacc[3])) + tail
}

/// `g = Σ t R[i, ·]` over one term's entries for K classes.
#[inline(always)]
pub(super) fn gather_term<const K: usize, I: DocIndex>(
    (ones, docs, vals): Term<'_, I>,
    resid: &[f64],
    g: &mut [f64],
) {
    let r_of = |i: I| -> &[f64; K] {
        (&resid[i.index() * K..(i.index() + 1) * K])
            .try_into()
            .expect("K residuals")
    };
    // Two interleaved partial sums over the ones, then the others.
    let mut acc = [[0.0f64; K]; 2];
    let pairs = ones.chunks_exact(2);
    for &i in pairs.remainder() {
        let r = r_of(i);
        for c in 0..K {
            acc[1][c] += r[c];
        }
    }
    for i in pairs {
        for lane in 0..2 {
            let r = r_of(i[lane]);
            for c in 0..K {
                acc[lane][c] += r[c];
            }
        }
    }
    for (&i, &v) in docs.iter().zip(vals) {
        let r = r_of(i);
        for c in 0..K {
            acc[0][c] += v as f64 * r[c];
        }
    }
    for c in 0..K {
        g[c] = acc[0][c] + acc[1][c];
    }
}

/// The data passes of up to [`LANES`](super::lanes::LANES) binary problems over one matrix,
/// fitted together: their weights side by side (term-major, `width` per term), so each pass
/// reads the matrix once for all of them. Column c of either pass is computed as a one-problem
/// [`Problem`] computes it, addition for addition, as long as the margins' copies are as many
/// for the group's width as for one column (see [`margin_copies`]): the same bits.
pub(super) struct WidePasses<'a, I> {
    xt: &'a TermLists<I>,
    blocks: Vec<(usize, usize)>,
    runs: Vec<Vec<Run>>,
    margin_runs: Vec<Vec<Run>>,
    partial: Vec<Vec<f64>>,
}

impl<'a, I: DocIndex> WidePasses<'a, I> {
    /// Passes of at most `width` columns.
    pub(super) fn new(xt: &'a TermLists<I>, width: usize) -> Self {
        let blocks = term_blocks(xt);
        let runs: Vec<Vec<Run>> = blocks.iter().map(|&(lo, hi)| xt.runs(lo, hi)).collect();
        let groups = margin_copies(xt.n_docs(), width, runs.len());
        let margin_runs: Vec<Vec<Run>> = (0..groups)
            .map(|g| {
                let (lo, hi) = (g * runs.len() / groups, (g + 1) * runs.len() / groups);
                runs[lo..hi].concat()
            })
            .collect();
        let copies = if groups > 1 { groups } else { 0 };
        WidePasses {
            xt,
            blocks,
            runs,
            margin_runs,
            partial: vec![Vec::new(); copies],
        }
    }

    /// `z = X W + b` for `width` columns: `w` term-major (`width` per term), `z` n × width.
    pub(super) fn margins(&mut self, w: &[f64], b: &[f64], width: usize, z: &mut [f64]) {
        let len = self.xt.n_docs() * width;
        for p in &mut self.partial {
            p.resize(len, 0.0);
        }
        margins_into(
            self.xt,
            &self.margin_runs,
            w,
            b,
            width,
            &mut self.partial,
            z,
        );
    }

    /// `out = Xᵀ R` for `width` columns of residuals (n × width, already divided by the norms);
    /// `out` term-major.
    pub(super) fn transpose(&self, resid: &[f64], width: usize, out: &mut [f64]) {
        let xt = self.xt;
        let parts = block_parts(&self.blocks, &self.runs, width, out);
        parts.into_par_iter().for_each(|(lo, runs, out)| {
            for run in runs {
                let out = &mut out[(run.start - lo) * width..(run.end - lo) * width];
                macro_rules! lanes {
                    ($($k:literal)*) => {
                        match width {
                            $($k => pass_run(&mut GatherLanes::<$k, I>(Gather { xt, resid, out }), run),)*
                            _ => unreachable!("at most 8 columns"),
                        }
                    };
                }
                lanes!(1 2 3 4 5 6 7 8);
            }
        });
    }
}

/// [`Gather`] for side-by-side binary problems: where a term has entries other than ones, each
/// column is summed in [`gather_term_1`]'s order (four interleaved partial sums of each kind),
/// so a column is the one-problem pass's, bit for bit.
struct GatherLanes<'a, const K: usize, I>(Gather<'a, K, I>);

impl<const K: usize, I: DocIndex> RunPass for GatherLanes<'_, K, I> {
    #[inline(always)]
    fn fixed<const W: usize>(&mut self, run: &Run) {
        self.0.fixed::<W>(run)
    }

    fn general(&mut self, run: &Run) {
        let (xt, resid) = (self.0.xt, self.0.resid);
        for (r, g) in self.0.out.chunks_mut(K).enumerate() {
            let j = run.start + r;
            let (ones, docs, vals) = xt.term(j);
            let row = |i: I| -> &[f64; K] {
                (&resid[i.index() * K..(i.index() + 1) * K])
                    .try_into()
                    .expect("K residuals")
            };
            let oc = ones.chunks_exact(4);
            let mut tail: [f64; K] =
                std::array::from_fn(|c| oc.remainder().iter().map(|&i| row(i)[c]).sum());
            let mut acc = [[0.0f64; K]; 4];
            for i in oc {
                for lane in 0..4 {
                    let r = row(i[lane]);
                    for c in 0..K {
                        acc[lane][c] += r[c];
                    }
                }
            }
            let (dc, vc) = (docs.chunks_exact(4), vals.chunks_exact(4));
            for (&i, &v) in dc.remainder().iter().zip(vc.remainder()) {
                let r = row(i);
                for c in 0..K {
                    tail[c] += v as f64 * r[c];
                }
            }
            let mut vacc = [[0.0f64; K]; 4];
            for (i, v) in dc.zip(vc) {
                for lane in 0..4 {
                    let r = row(i[lane]);
                    for c in 0..K {
                        vacc[lane][c] += v[lane] as f64 * r[c];
                    }
                }
            }
            let scale = xt.term_scale()[j];
            for c in 0..K {
                let sum = ((acc[0][c] + acc[1][c]) + (acc[2][c] + acc[3][c]))
                    + ((vacc[0][c] + vacc[1][c]) + (vacc[2][c] + vacc[3][c]))
                    + tail[c];
                g[c] = sum * scale;
            }
        }
    }
}
