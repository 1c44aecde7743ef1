//! What prevalence correction needs to know about a classifier's errors: its out-of-fold
//! confusion rates on the training data, estimated at train time and stored in the model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A classifier's error rates, from out-of-fold predictions of its own training data (each
/// document scored by a model that did not see it: see
/// [`HeldOut`](crate::logistic::HeldOut)). Rows of `hard` and `soft` are the true labels.
///
/// - Single-label models: `hard[j][i]` = share of the documents of label j predicted as label i;
///   `soft[j][i]` = mean probability of label i over the documents of label j. A column of
///   observed shares `q` is then `q = Mᵀ π` for the true shares `π` (Forman's ACC with `hard`,
///   Bella et al.'s PACC with `soft`).
/// - One-vs-rest models: `hard[l] = [tpr, fpr]` of label l under the model's own decision rule
///   (thresholds, forced label), `soft[l] = [mean p | positive, mean p | negative]`; each label is
///   corrected on its own: `π = (q − fpr) / (tpr − fpr)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceRates {
    /// Folds of the out-of-fold predictions.
    pub folds: usize,
    /// Seed of the folds.
    pub seed: u64,
    /// Training documents.
    pub n_documents: usize,
    /// Training documents of each label, in model order.
    pub positives: Vec<usize>,
    /// The label shares the calibrated probabilities are calibrated to: the training shares. EMQ
    /// re-weights probabilities from this prior to the corpus's.
    pub calibration_prior: Vec<f64>,
    /// The map from the model's probabilities to calibrated ones, fitted on the out-of-fold
    /// probabilities; PCC, PACC (`soft`) and EMQ use calibrated probabilities.
    pub calibration: Calibration,
    /// Classify-and-count rates (see the type's description).
    pub hard: Vec<Vec<f64>>,
    /// Probabilistic rates (see the type's description).
    pub soft: Vec<Vec<f64>>,
}

impl PrevalenceRates {
    /// The rates from out-of-fold probabilities `probs` (n × `k` labels, row-major), the labels
    /// each document's probabilities lead to (`decided`), and its true labels (`truth`, label
    /// indices).
    pub fn estimate(
        multi_label: bool,
        k: usize,
        raw: &[f64],
        decided: &[Vec<usize>],
        truth: &[Vec<usize>],
        folds: usize,
        seed: u64,
    ) -> PrevalenceRates {
        let n = truth.len();
        let mut positives = vec![0usize; k];
        for t in truth {
            for &l in t {
                positives[l] += 1;
            }
        }
        let calibration = Calibration::fit(multi_label, k, raw, truth);
        let mut probs = raw.to_vec();
        for row in probs.chunks_mut(k) {
            calibration.apply(multi_label, row);
        }
        let probs = &probs[..];
        let calibration_prior: Vec<f64> = positives
            .iter()
            .map(|&c| (c as f64 / n.max(1) as f64).clamp(1e-6, 1.0 - 1e-6))
            .collect();
        let (hard, soft) = if multi_label {
            // [positives, negatives] sums per label.
            let mut hit = vec![[0.0f64; 2]; k];
            let mut mass = vec![[0.0f64; 2]; k];
            for ((p, d), t) in probs.chunks(k).zip(decided).zip(truth) {
                for l in 0..k {
                    let side = if t.contains(&l) { 0 } else { 1 };
                    if d.contains(&l) {
                        hit[l][side] += 1.0;
                    }
                    mass[l][side] += p[l];
                }
            }
            let rate = |sums: &[[f64; 2]]| -> Vec<Vec<f64>> {
                sums.iter()
                    .zip(&positives)
                    .map(|(s, &pos)| {
                        let neg = n - pos;
                        vec![s[0] / pos.max(1) as f64, s[1] / neg.max(1) as f64]
                    })
                    .collect()
            };
            (rate(&hit), rate(&mass))
        } else {
            let mut hard = vec![vec![0.0; k]; k];
            let mut soft = vec![vec![0.0; k]; k];
            for ((p, d), t) in probs.chunks(k).zip(decided).zip(truth) {
                let j = t[0];
                hard[j][d[0]] += 1.0;
                for (s, &pi) in soft[j].iter_mut().zip(p) {
                    *s += pi;
                }
            }
            for (j, &pos) in positives.iter().enumerate() {
                let div = pos.max(1) as f64;
                hard[j].iter_mut().for_each(|x| *x /= div);
                soft[j].iter_mut().for_each(|x| *x /= div);
            }
            (hard, soft)
        };
        PrevalenceRates {
            folds,
            seed,
            n_documents: n,
            positives,
            calibration_prior,
            calibration,
            hard,
            soft,
        }
    }

    /// Check the shapes and ranges scoring-side correction relies on, for `n_labels` labels.
    pub fn validate(&self, n_labels: usize, multi_label: bool) -> std::result::Result<(), String> {
        let width = if multi_label { 2 } else { n_labels };
        if self.positives.len() != n_labels || self.calibration_prior.len() != n_labels {
            return Err(format!(
                "{} positive counts and {} prior shares for {n_labels} labels",
                self.positives.len(),
                self.calibration_prior.len()
            ));
        }
        for (name, m) in [("hard", &self.hard), ("soft", &self.soft)] {
            if m.len() != n_labels || m.iter().any(|r| r.len() != width) {
                return Err(format!("the {name} rates are not {n_labels} × {width}"));
            }
            if m.iter().flatten().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(format!("a {name} rate is outside [0, 1]"));
            }
        }
        if self
            .calibration_prior
            .iter()
            .any(|x| !(x.is_finite() && *x > 0.0 && *x < 1.0 + 1e-9))
        {
            return Err("a calibration prior share is outside (0, 1]".into());
        }
        let c = &self.calibration;
        let slopes = if multi_label { n_labels } else { 1 };
        if c.slopes.len() != slopes || c.offsets.len() != n_labels {
            return Err("the calibration does not fit the labels".into());
        }
        if c.slopes
            .iter()
            .chain(&c.offsets)
            .any(|x| !(x.is_finite() && x.abs() <= 1e6))
        {
            return Err("a calibration parameter is not finite or beyond ±1e6".into());
        }
        Ok(())
    }
}

/// Probabilities are clipped to [FLOOR, 1 − FLOOR] before their logarithm.
const FLOOR: f64 = 1e-12;

/// Calibration of a model's probabilities, fitted by maximum likelihood on out-of-fold
/// probabilities of the training data: single-label, bias-corrected temperature scaling
/// `p'_l ∝ exp(a · ln p_l + b_l)` (one slope a, an offset per label; Alexandari et al. 2020);
/// one-vs-rest, Platt scaling of each label, `p'_l = σ(a_l · logit p_l + b_l)`.
///
/// Why: EMQ and PCC take probabilities at face value, and a model trained with C = 10 and
/// balanced class weights is calibrated to neither the training shares nor its own confidence;
/// with free offsets the calibrated probabilities average to the training shares, which is the
/// prior EMQ starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The slope a (single-label: one; one-vs-rest: one per label).
    pub slopes: Vec<f64>,
    /// The offsets b, one per label.
    pub offsets: Vec<f64>,
}

impl Calibration {
    /// No change: slope 1, offsets 0.
    pub fn identity(multi_label: bool, k: usize) -> Calibration {
        Calibration {
            slopes: vec![1.0; if multi_label { k } else { 1 }],
            offsets: vec![0.0; k],
        }
    }

    /// Calibrate one document's probabilities (model order) in place.
    pub fn apply(&self, multi_label: bool, p: &mut [f64]) {
        if multi_label {
            for ((x, &a), &b) in p.iter_mut().zip(&self.slopes).zip(&self.offsets) {
                let c = x.clamp(FLOOR, 1.0 - FLOOR);
                *x = crate::logistic::sigmoid(a * (c.ln() - (1.0 - c).ln()) + b);
            }
        } else {
            let a = self.slopes[0];
            for (x, &b) in p.iter_mut().zip(&self.offsets) {
                *x = a * x.max(FLOOR).ln() + b;
            }
            let m = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let mut s = 0.0;
            for x in p.iter_mut() {
                *x = (*x - m).exp();
                s += *x;
            }
            p.iter_mut().for_each(|x| *x /= s);
        }
    }

    /// The maximum-likelihood calibration of `probs` (n × k) against `truth`.
    fn fit(multi_label: bool, k: usize, probs: &[f64], truth: &[Vec<usize>]) -> Calibration {
        if multi_label {
            // Each label on its own, in parallel.
            let fits: Vec<(f64, f64)> = (0..k)
                .into_par_iter()
                .map(|l| {
                    let x: Vec<f64> = probs
                        .chunks(k)
                        .map(|p| {
                            let c = p[l].clamp(FLOOR, 1.0 - FLOOR);
                            c.ln() - (1.0 - c).ln()
                        })
                        .collect();
                    let y: Vec<usize> = truth.iter().map(|t| t.contains(&l) as usize).collect();
                    // Binary softmax over (negative, positive) with features (0, x): z = a x + b.
                    let (a, b) = newton(&x, &y, 1, |x, _| [0.0, x]);
                    (a, b[1] - b[0])
                })
                .collect();
            Calibration {
                slopes: fits.iter().map(|f| f.0).collect(),
                offsets: fits.iter().map(|f| f.1).collect(),
            }
        } else {
            let x: Vec<f64> = probs.iter().map(|p| p.max(FLOOR).ln()).collect();
            let y: Vec<usize> = truth.iter().map(|t| t[0]).collect();
            let (a, b) = if k <= NEWTON_LABELS {
                newton(&x, &y, k, |x, _| [x, 0.0])
            } else {
                temperature_scaling(&x, &y, k)
            };
            Calibration {
                slopes: vec![a],
                offsets: b,
            }
        }
    }
}

/// Newton's method with backtracking for `z_i = a · x_i + b_i` under the softmax likelihood of
/// labels `y`, with a ridge of 1e-6 per document on b (softmax is blind to a shift of every b).
/// `x` holds `width` features per document, unless `width` is 1, in which case `feature` maps a
/// document's one value to the features of its two classes (binary calibration). Returns (a, b);
/// the identity (1, 0) when there is nothing to fit or no step improves.
#[allow(clippy::needless_range_loop)] // i indexes x (through `feats`) and y together.
fn newton(
    x: &[f64],
    y: &[usize],
    width: usize,
    feature: impl Fn(f64, usize) -> [f64; 2],
) -> (f64, Vec<f64>) {
    let n = y.len();
    let k = if width == 1 { 2 } else { width };
    let ridge = 1e-6 * n as f64;
    let feats = |i: usize, l: usize| -> f64 {
        if width == 1 {
            feature(x[i], l)[l]
        } else {
            x[i * k + l]
        }
    };
    // Per-document buffers, reused: the fit runs once per label on every document. The
    // likelihood keeps its own logits buffer; the Newton steps use the three below.
    let mut logits = vec![0.0; k];
    let mut nll = move |a: f64, b: &[f64]| -> f64 {
        let z = &mut logits;
        let mut f = 0.5 * ridge * b.iter().map(|v| v * v).sum::<f64>();
        for i in 0..n {
            for l in 0..k {
                z[l] = a * feats(i, l) + b[l];
            }
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            f += lse - z[y[i]];
        }
        f
    };
    let (mut a, mut b) = (1.0, vec![0.0; k]);
    if n == 0 {
        return (a, b);
    }
    let mut f = nll(a, &b);
    let (mut xs, mut z, mut q) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    for _ in 0..50 {
        // Gradient and Hessian over (a, b_0..b_{k-1}).
        let d = k + 1;
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for i in 0..n {
            for l in 0..k {
                xs[l] = feats(i, l);
                z[l] = a * xs[l] + b[l];
            }
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            for l in 0..k {
                q[l] = (z[l] - m).exp();
            }
            let s: f64 = q.iter().sum();
            q.iter_mut().for_each(|v| *v /= s);
            let qx: f64 = (0..k).map(|l| q[l] * xs[l]).sum();
            for l in 0..k {
                let r = q[l] - (y[i] == l) as u8 as f64;
                g[0] += r * xs[l];
                g[1 + l] += r;
                h[0][1 + l] += q[l] * (xs[l] - qx);
                for j in 0..k {
                    h[1 + l][1 + j] += q[l] * ((l == j) as u8 as f64 - q[j]);
                }
            }
            h[0][0] += (0..k).map(|l| q[l] * xs[l] * xs[l]).sum::<f64>() - qx * qx;
        }
        for l in 0..k {
            g[1 + l] += ridge * b[l];
            h[1 + l][1 + l] += ridge;
            h[1 + l][0] = h[0][1 + l];
        }
        h[0][0] += 1e-12 * n as f64;
        let Some(step) = crate::linalg::solve(h, &g) else {
            break;
        };
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let na = a - t * step[0];
            let nb: Vec<f64> = (0..k).map(|l| b[l] - t * step[1 + l]).collect();
            let nf = nll(na, &nb);
            if nf.is_finite() && nf <= f {
                let gain = f - nf;
                (a, b, f) = (na, nb, nf);
                improved = gain > 1e-12 * f.abs().max(1.0);
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    (a, b)
}

/// Most labels calibrated by [`newton`]: its Hessian costs n k² per iteration, which at a thousand
/// labels takes minutes; beyond, [`temperature_scaling`] costs n k.
const NEWTON_LABELS: usize = 32;

/// The same fit as [`newton`] for single-label calibration (`z_il = a · x_il + b_l`, softmax
/// likelihood, the ridge on b) in O(n k) per step: Newton steps whose system `H s = g` is solved
/// by conjugate gradients preconditioned by H's diagonal, each product `H v` one pass over the
/// stored probabilities q: `H v = Σ_i J_iᵀ (diag q_i − q_i q_iᵀ) J_i v` with `J_i v = v_a x_i + v_b`.
/// The same stopping rule as [`newton`]. Deterministic: sums over fixed blocks of rows, in order.
fn temperature_scaling(x: &[f64], y: &[usize], k: usize) -> (f64, Vec<f64>) {
    const ROWS: usize = 256;
    let n = y.len();
    let (mut a, mut b) = (1.0, vec![0.0; k]);
    if n == 0 {
        return (a, b);
    }
    let ridge = 1e-6 * n as f64;
    let add = |t: &mut [f64], p: &[f64]| t.iter_mut().zip(p).for_each(|(t, p)| *t += p);
    // The objective at (a, b); with `q`, also its gradient and Hessian diagonal (slope first),
    // the probabilities written to q.
    let eval = |a: f64, b: &[f64], q: Option<&mut [f64]>| -> (f64, Vec<f64>, Vec<f64>) {
        let blocks: Vec<Option<&mut [f64]>> = match q {
            Some(q) => q.chunks_mut(ROWS * k).map(Some).collect(),
            None => (0..n.div_ceil(ROWS)).map(|_| None).collect(),
        };
        let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = blocks
            .into_par_iter()
            .zip(x.par_chunks(ROWS * k))
            .zip(y.par_chunks(ROWS))
            .map(|((mut qs, xs), ys)| {
                let (mut f, mut g, mut d) = (0.0, vec![0.0; k + 1], vec![0.0; k + 1]);
                let mut row = vec![0.0; k];
                let full = qs.is_some();
                for (r, (xi, &yi)) in xs.chunks(k).zip(ys).enumerate() {
                    let q = match qs.as_deref_mut() {
                        Some(qs) => &mut qs[r * k..(r + 1) * k],
                        None => &mut row[..],
                    };
                    let m = xi
                        .iter()
                        .zip(b)
                        .map(|(x, b)| a * x + b)
                        .fold(f64::NEG_INFINITY, f64::max);
                    let mut s = 0.0;
                    for ((q, x), b) in q.iter_mut().zip(xi).zip(b) {
                        *q = (a * x + b - m).exp();
                        s += *q;
                    }
                    f += m + s.ln() - (a * xi[yi] + b[yi]);
                    if !full {
                        continue;
                    }
                    let (mut qx, mut qxx) = (0.0, 0.0);
                    for (l, (q, x)) in q.iter_mut().zip(xi).enumerate() {
                        *q /= s;
                        qx += *q * x;
                        qxx += *q * x * x;
                        g[1 + l] += *q;
                        d[1 + l] += *q * (1.0 - *q);
                    }
                    g[0] += qx - xi[yi];
                    g[1 + yi] -= 1.0;
                    d[0] += qxx - qx * qx;
                }
                (f, g, d)
            })
            .collect();
        let mut f = 0.5 * ridge * b.iter().map(|v| v * v).sum::<f64>();
        let (mut g, mut d) = (vec![0.0; k + 1], vec![0.0; k + 1]);
        for (pf, pg, pd) in &parts {
            f += pf;
            add(&mut g, pg);
            add(&mut d, pd);
        }
        for l in 0..k {
            g[1 + l] += ridge * b[l];
            d[1 + l] += ridge;
        }
        d[0] += 1e-12 * n as f64;
        (f, g, d)
    };
    // H v from the probabilities q.
    let hessian_times = |q: &[f64], v: &[f64]| -> Vec<f64> {
        let parts: Vec<Vec<f64>> = q
            .par_chunks(ROWS * k)
            .zip(x.par_chunks(ROWS * k))
            .map(|(qs, xs)| {
                let mut out = vec![0.0; k + 1];
                for (q, xi) in qs.chunks(k).zip(xs.chunks(k)) {
                    let qu: f64 = (0..k).map(|l| q[l] * (v[0] * xi[l] + v[1 + l])).sum();
                    for l in 0..k {
                        let w = q[l] * (v[0] * xi[l] + v[1 + l] - qu);
                        out[0] += w * xi[l];
                        out[1 + l] += w;
                    }
                }
                out
            })
            .collect();
        let mut out = vec![0.0; k + 1];
        for p in &parts {
            add(&mut out, p);
        }
        for l in 0..k {
            out[1 + l] += ridge * v[1 + l];
        }
        out[0] += 1e-12 * n as f64 * v[0];
        out
    };
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(u, v)| u * v).sum::<f64>();
    let mut q = vec![0.0; x.len()];
    for _ in 0..50 {
        let (f, g, d) = eval(a, &b, Some(&mut q));
        // Conjugate gradients for H s = g, to a relative residual of 1e-10.
        let mut step = vec![0.0; k + 1];
        let mut r = g.clone();
        let mut z: Vec<f64> = r.iter().zip(&d).map(|(r, d)| r / d).collect();
        let mut p = z.clone();
        let mut rz = dot(&r, &z);
        let g_norm = dot(&g, &g).sqrt();
        for _ in 0..(k + 1).min(200) {
            if dot(&r, &r).sqrt() <= 1e-10 * g_norm {
                break;
            }
            let hp = hessian_times(&q, &p);
            let alpha = rz / dot(&p, &hp);
            if !alpha.is_finite() {
                break;
            }
            step.iter_mut().zip(&p).for_each(|(s, p)| *s += alpha * p);
            r.iter_mut().zip(&hp).for_each(|(r, h)| *r -= alpha * h);
            z = r.iter().zip(&d).map(|(r, d)| r / d).collect();
            let rz_new = dot(&r, &z);
            let beta = rz_new / rz;
            rz = rz_new;
            p.iter_mut().zip(&z).for_each(|(p, z)| *p = z + beta * *p);
        }
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let na = a - t * step[0];
            let nb: Vec<f64> = (0..k).map(|l| b[l] - t * step[1 + l]).collect();
            let (nf, _, _) = eval(na, &nb, None);
            if nf.is_finite() && nf <= f {
                improved = f - nf > 1e-12 * nf.abs().max(1.0);
                (a, b) = (na, nb);
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_scaling_finds_the_newton_fit() {
        // Over-confident, prior-shifted probabilities of 12 labels: both fits must agree.
        let (n, k) = (900, 12);
        let mut rnd = crate::test_rng::uniform(7);
        let mut x = Vec::with_capacity(n * k);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let label = (i * i + i / 3) % k;
            let z: Vec<f64> = (0..k)
                .map(|l| 3.0 * (rnd() - 0.5) + if l == label { 2.5 } else { 0.0 } + l as f64 * 0.2)
                .collect();
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
            x.extend(z.iter().map(|v| (3.0 * (v - m - s.ln())).max(FLOOR.ln())));
            y.push(label);
        }
        let (a1, b1) = newton(&x, &y, k, |x, _| [x, 0.0]);
        let (a2, b2) = temperature_scaling(&x, &y, k);
        assert!(
            (a1 - 1.0).abs() > 0.1,
            "the data must need calibrating: a = {a1}"
        );
        let nll = |a: f64, b: &[f64]| -> f64 {
            let mut f = 0.5 * 1e-6 * n as f64 * b.iter().map(|v| v * v).sum::<f64>();
            for (xi, &yi) in x.chunks(k).zip(&y) {
                let z: Vec<f64> = xi.iter().zip(b).map(|(x, b)| a * x + b).collect();
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                f += m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[yi];
            }
            f
        };
        let (f1, f2) = (nll(a1, &b1), nll(a2, &b2));
        assert!(f2 <= f1 * (1.0 + 1e-10), "objective {f1} vs {f2}");
        assert!((a1 - a2).abs() < 1e-5, "slope {a1} vs {a2}");
        // Offsets are defined up to a common shift.
        let (m1, m2) = (
            b1.iter().sum::<f64>() / k as f64,
            b2.iter().sum::<f64>() / k as f64,
        );
        for (p, q) in b1.iter().zip(&b2) {
            assert!(((p - m1) - (q - m2)).abs() < 1e-4, "offset {p} vs {q}");
        }
    }
}
