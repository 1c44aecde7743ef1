//! L-BFGS in compact form with a diagonal preconditioner and a line search on the margins.

use rayon::prelude::*;

use super::objective::Objective;
use super::params::{LogisticParams, SolverReport};

pub(super) const VEC_BLOCK: usize = 1 << 14;

/// A diagonal preconditioner stored once per run of `width` consecutive parameters that share
/// their value (a term's k weights, the k biases): dim / width values, not dim.
pub(super) struct Precond {
    pub(super) values: Vec<f64>,
    pub(super) width: usize,
}

impl Precond {
    /// One value per parameter.
    #[cfg(test)]
    pub(super) fn full(values: Vec<f64>) -> Precond {
        Precond { values, width: 1 }
    }

    /// Entries `lo..hi`: borrowed when stored one per parameter, else written into `buf`.
    fn slice<'a>(&'a self, lo: usize, hi: usize, buf: &'a mut Vec<f64>) -> &'a [f64] {
        if self.width == 1 {
            return &self.values[lo..hi];
        }
        // Runs of `width` equal entries: the first may be cut by `lo`, the last by `hi`.
        let w = self.width;
        buf.clear();
        let mut i = lo;
        while i < hi {
            let end = ((i / w + 1) * w).min(hi);
            buf.resize(buf.len() + (end - i), self.values[i / w]);
            i = end;
        }
        buf
    }

    /// Every entry, one per parameter.
    #[cfg(test)]
    pub(super) fn expanded(&self) -> Vec<f64> {
        let mut buf = Vec::new();
        self.slice(0, self.values.len() * self.width, &mut buf)
            .to_vec()
    }
}

/// L-BFGS history length.
pub(super) const M: usize = 5;

/// The L-BFGS curvature pairs `s = θ' − θ`, `y = g' − g` in compact form (Byrd, Nocedal &
/// Schnabel 1994, with the initial inverse Hessian `γ P`): the vectors (f32: they are streamed
/// every iteration, and 7 digits are plenty for them) and the small matrices of their inner
/// products. The direction `−H g` is then one
/// pass over the history, where the two-loop recursion made 4m passes over the direction, and
/// every inner product the next direction needs is taken in the pass that forms `y`.
pub(super) struct History {
    /// The diagonal preconditioner P: the initial inverse Hessian is γ P.
    pub(super) precond: Precond,
    pub(super) s: Vec<Vec<f32>>,
    pub(super) y: Vec<Vec<f32>>,
    /// Slots of the kept pairs, oldest first.
    pub(super) order: Vec<usize>,
    /// `sy[a][b] = s_aᵀ y_b` and `yy[a][b] = y_aᵀ P y_b`, by slot.
    pub(super) sy: [[f64; M]; M],
    pub(super) yy: [[f64; M]; M],
    /// `s_aᵀ g` and `y_aᵀ P g` for the current gradient g, by slot.
    pub(super) sg: [f64; M],
    pub(super) yg: [f64; M],
}

/// `−H g = P (−γ g + Σ cy_p y_p) + Σ cs_p s_p` over the kept pairs, oldest first.
pub(super) struct Coefficients {
    gamma: f64,
    cs: Vec<f64>,
    cy: Vec<f64>,
}

/// Inner products taken while forming a direction d (w: the weights part of θ).
#[derive(Default, Clone, Copy)]
pub(super) struct DirectionDots {
    /// gᵀd
    pub(super) slope: f64,
    /// wᵀd_w
    pub(super) wd: f64,
    /// d_wᵀd_w
    pub(super) dd: f64,
    /// wᵀw
    pub(super) ww: f64,
}

impl History {
    pub(super) fn new(precond: Precond) -> History {
        History {
            precond,
            s: Vec::new(),
            y: Vec::new(),
            order: Vec::new(),
            sy: [[0.0; M]; M],
            yy: [[0.0; M]; M],
            sg: [0.0; M],
            yg: [0.0; M],
        }
    }

    /// The coefficients of `−H g` (`pgnorm` = ‖P g‖). With no pairs, `H = P / ‖P g‖`: a first
    /// step of length one.
    pub(super) fn coefficients(&self, pgnorm: f64) -> Coefficients {
        let o = &self.order;
        let l = o.len();
        if l == 0 {
            return Coefficients {
                gamma: 1.0 / pgnorm.max(1e-12),
                cs: Vec::new(),
                cy: Vec::new(),
            };
        }
        let last = o[l - 1];
        let gamma = self.sy[last][last] / self.yy[last][last];
        // R (upper triangular): R_pq = s_pᵀ y_q for p ≤ q; its diagonal D is positive.
        let r = |p: usize, q: usize| self.sy[o[p]][o[q]];
        // u = R⁻¹ (Sᵀg)
        let mut u = vec![0.0; l];
        for p in (0..l).rev() {
            let t = (p + 1..l).fold(self.sg[o[p]], |t, q| t - r(p, q) * u[q]);
            u[p] = t / r(p, p);
        }
        // v = (D + γ YᵀPY) u − γ YᵀPg, then p1 = R⁻ᵀ v.
        let v: Vec<f64> = (0..l)
            .map(|p| {
                let yyu: f64 = (0..l).map(|q| self.yy[o[p]][o[q]] * u[q]).sum();
                r(p, p) * u[p] + gamma * (yyu - self.yg[o[p]])
            })
            .collect();
        let mut p1 = vec![0.0; l];
        for p in 0..l {
            let t = (0..p).fold(v[p], |t, q| t - r(q, p) * p1[q]);
            p1[p] = t / r(p, p);
        }
        // H g = γ P g + S p1 − γ P Y u.
        Coefficients {
            gamma,
            cs: p1.iter().map(|x| -x).collect(),
            cy: u.iter().map(|x| gamma * x).collect(),
        }
    }

    /// `dir = −H g` in one pass, with the inner products the line search needs.
    pub(super) fn direction(
        &self,
        c: &Coefficients,
        grad: &[f64],
        theta: &[f64],
        n_weights: usize,
        dir: &mut [f64],
    ) -> DirectionDots {
        let parts: Vec<DirectionDots> = dir
            .par_chunks_mut(VEC_BLOCK)
            .enumerate()
            .map(|(blk, d)| {
                let lo = blk * VEC_BLOCK;
                let hi = lo + d.len();
                let g = &grad[lo..hi];
                d.iter_mut().zip(g).for_each(|(d, g)| *d = -c.gamma * g);
                for (p, &slot) in self.order.iter().enumerate() {
                    let b = c.cy[p];
                    let y = &self.y[slot][lo..hi];
                    d.iter_mut().zip(y).for_each(|(d, &y)| *d += b * y as f64);
                }
                let mut buf = Vec::new();
                d.iter_mut()
                    .zip(self.precond.slice(lo, hi, &mut buf))
                    .for_each(|(d, p)| *d *= p);
                for (p, &slot) in self.order.iter().enumerate() {
                    let a = c.cs[p];
                    let s = &self.s[slot][lo..hi];
                    d.iter_mut().zip(s).for_each(|(d, &s)| *d += a * s as f64);
                }
                let [slope] = lane_sums(d.len(), |i| [d[i] * g[i]]);
                let weights = n_weights.clamp(lo, hi) - lo;
                let w = &theta[lo..lo + weights];
                let [wd, dd, ww] = lane_sums(weights, |i| [w[i] * d[i], d[i] * d[i], w[i] * w[i]]);
                DirectionDots { slope, wd, dd, ww }
            })
            .collect();
        parts
            .iter()
            .fold(DirectionDots::default(), |t, p| DirectionDots {
                slope: t.slope + p.slope,
                wd: t.wd + p.wd,
                dd: t.dd + p.dd,
                ww: t.ww + p.ww,
            })
    }

    /// A slot for the next pair: a new one while the history fills, then the oldest pair's
    /// (which is dropped).
    pub(super) fn take_slot(&mut self, dim: usize) -> usize {
        if self.order.len() == M {
            return self.order.remove(0);
        }
        match (0..self.s.len()).find(|a| !self.order.contains(a)) {
            Some(slot) => slot,
            None => {
                self.s.push(vec![0.0; dim]);
                self.y.push(vec![0.0; dim]);
                self.s.len() - 1
            }
        }
    }

    /// `y = g' − g` into `slot` (whose s is already written), every inner product of the new
    /// pair and of the new gradient with the history, in one pass; the pair is kept when its
    /// curvature sᵀy is positive. Returns `(max |g'|, ‖P g'‖)`.
    pub(super) fn update(&mut self, slot: usize, grad: &[f64], new_grad: &[f64]) -> (f64, f64) {
        let mut slots = self.order.clone();
        slots.push(slot);
        let l = slots.len();
        let mut y_new = std::mem::take(&mut self.y[slot]);
        // Per block: for each kept slot a, s_aᵀy', y_aᵀPy', s_aᵀg', y_aᵀPg'; then max |g'| and
        // ‖P g'‖².
        let parts: Vec<Vec<f64>> = y_new
            .par_chunks_mut(VEC_BLOCK)
            .enumerate()
            .map(|(blk, yc)| {
                let lo = blk * VEC_BLOCK;
                let hi = lo + yc.len();
                let (g, gn) = (&grad[lo..hi], &new_grad[lo..hi]);
                let mut buf = Vec::new();
                let pc = self.precond.slice(lo, hi, &mut buf);
                yc.iter_mut()
                    .zip(gn.iter().zip(g))
                    .for_each(|(y, (a, b))| *y = (a - b) as f32);
                let mut out = vec![0.0; 4 * l + 2];
                for (p, &a) in slots.iter().enumerate() {
                    let s = &self.s[a][lo..hi];
                    let y: &[f32] = if a == slot { yc } else { &self.y[a][lo..hi] };
                    let dots = lane_sums(yc.len(), |i| {
                        let (s, y, yn) = (s[i] as f64, y[i] as f64, yc[i] as f64);
                        let py = pc[i] * y;
                        [s * yn, py * yn, s * gn[i], py * gn[i]]
                    });
                    out[4 * p..4 * p + 4].copy_from_slice(&dots);
                }
                out[4 * l] = gn.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                out[4 * l + 1] = lane_sums(gn.len(), |i| [gn[i] * pc[i] * pc[i] * gn[i]])[0];
                out
            })
            .collect();
        self.y[slot] = y_new;
        let mut total = vec![0.0f64; 4 * l + 2];
        for part in &parts {
            for (t, (i, v)) in total.iter_mut().zip(part.iter().enumerate()) {
                *t = if i == 4 * l { t.max(*v) } else { *t + *v };
            }
        }
        for (p, &a) in slots.iter().enumerate() {
            self.sy[a][slot] = total[4 * p];
            self.yy[a][slot] = total[4 * p + 1];
            self.yy[slot][a] = total[4 * p + 1];
            self.sg[a] = total[4 * p + 2];
            self.yg[a] = total[4 * p + 3];
        }
        let (sy, yy) = (self.sy[slot][slot], self.yy[slot][slot]);
        // The objectives are strictly convex, so this holds but for round-off.
        if sy.is_finite() && sy > 1e-12 * yy.max(f64::MIN_POSITIVE) {
            self.order.push(slot);
        }
        (total[4 * l], total[4 * l + 1].sqrt())
    }
}

/// P sums of `term(i)` over `i < len`, each taken in LANES interleaved partial sums: a fixed
/// order (so deterministic), and independent additions that the compiler can vectorise, where
/// a single running sum waits a full floating-point latency per element.
#[inline(always)]
pub(super) fn lane_sums<const P: usize>(len: usize, term: impl Fn(usize) -> [f64; P]) -> [f64; P] {
    const LANES: usize = 8;
    // acc[lane][p]: the running sum of term p over the indices ≡ lane (mod LANES).
    let mut acc = [[0.0f64; P]; LANES];
    let full = len - len % LANES;
    for base in (0..full).step_by(LANES) {
        for (lane, sums) in acc.iter_mut().enumerate() {
            let t = term(base + lane);
            sums.iter_mut().zip(t).for_each(|(s, t)| *s += t);
        }
    }
    let mut lanes = [0.0f64; P];
    for sums in &acc {
        lanes.iter_mut().zip(sums).for_each(|(s, t)| *s += t);
    }
    let mut out = [0.0f64; P];
    for i in full..len {
        out.iter_mut().zip(term(i)).for_each(|(s, t)| *s += t);
    }
    out.iter_mut().zip(lanes).for_each(|(s, t)| *s += t);
    out
}

/// `max |g|` and `‖P g‖`.
pub(super) fn norms(g: &[f64], precond: &Precond) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = g
        .par_chunks(VEC_BLOCK)
        .enumerate()
        .map(|(blk, c)| {
            let mut buf = Vec::new();
            let lo = blk * VEC_BLOCK;
            let p = precond.slice(lo, lo + c.len(), &mut buf);
            c.iter().zip(p).fold((0.0f64, 0.0), |(m, s), (v, p)| {
                (m.max(v.abs()), s + v * p * p * v)
            })
        })
        .collect();
    let (m, s) = parts
        .iter()
        .fold((0.0f64, 0.0), |(m, s), p| (m.max(p.0), s + p.1));
    (m, s.sqrt())
}

/// A step length with sufficient decrease (Armijo, c1 = 1e-4), trying 1 first and then
/// backtracking to the minimiser of the quadratic through f(0), f'(0) and f(step), kept within
/// [0.1, 0.5] × step (halving when f(step) is not finite). `phi(a)` is the objective at step a,
/// `f0` and `slope < 0` its value and derivative at 0. Returns the step, None when no step
/// decreases the objective (the optimum at machine precision), and the number of trials.
///
/// Armijo rather than strong Wolfe: a bracketing, cubic-zoom search needed more iterations to the
/// same tolerance (BENCHMARKS.md, "Where the time goes").
pub(super) fn armijo_step(phi: impl Fn(f64) -> f64, f0: f64, slope: f64) -> (Option<f64>, usize) {
    if slope.is_nan() || slope >= 0.0 || !f0.is_finite() {
        return (None, 0);
    }
    let mut step = 1.0;
    for t in 0..50 {
        let f_new = phi(step);
        if f_new.is_finite() && f_new <= f0 + 1e-4 * step * slope {
            return (Some(step), t + 1);
        }
        let next = if f_new.is_finite() {
            -slope * step * step / (2.0 * (f_new - f0 - slope * step))
        } else {
            0.5 * step
        };
        step = next.clamp(0.1 * step, 0.5 * step);
    }
    (None, 50)
}

/// Preconditioned L-BFGS (history 5, compact form, initial inverse Hessian γ P with P the
/// objective's diagonal preconditioner) with an Armijo line search run on the margins, so an
/// iteration reads the data twice however many steps the line search tries. The objectives
/// here are strictly convex, so sᵀy > 0 but for round-off (pairs without it are not kept) and
/// the inverse-Hessian estimate stays positive definite. Stops when the objective fell by less
/// than `tol` (relative) over the last 10 iterations, when one iteration's relative decrease is
/// below 64 machine epsilons, or when no step decreases f. Nothing of the problem's size is
/// allocated per iteration.
///
/// Why the preconditioner: the curvature of a term's weights ranges from the regulariser alone
/// (rare terms) to thousands of times more (frequent ones), and an unscaled L-BFGS spends its
/// iterations learning that scale (BENCHMARKS.md, "Where the time goes").
pub(super) fn lbfgs<O: Objective>(
    obj: &O,
    mut theta: Vec<f64>,
    params: &LogisticParams,
    name: &str,
) -> (Vec<f64>, SolverReport) {
    const FTOL: f64 = 64.0 * f64::EPSILON;
    const WINDOW: usize = 10;
    let dim = theta.len();
    let (n_weights, reg) = (obj.n_weights(), obj.reg());
    let mut z = vec![0.0; obj.margins_len()];
    let mut zd = vec![0.0; obj.margins_len()];
    obj.margins(&theta, &mut z);
    let mut grad = vec![0.0; dim];
    let mut f = obj.gradient(&z, &theta, &mut grad, &mut zd);
    let mut evaluations = 1;
    let mut hist = History::new(obj.preconditioner());
    let (mut gmax, mut pgnorm) = norms(&grad, &hist.precond);
    let mut dir = vec![0.0; dim];
    let mut recent: Vec<f64> = vec![f];
    let mut converged = false;
    let mut iterations = 0;

    while !converged && iterations < params.max_iter {
        iterations += 1;
        let mut dots = hist.direction(
            &hist.coefficients(pgnorm),
            &grad,
            &theta,
            n_weights,
            &mut dir,
        );
        if dots.slope.is_nan() || dots.slope >= 0.0 {
            // Not a descent direction (round-off): restart from steepest descent.
            hist.order.clear();
            dots = hist.direction(
                &hist.coefficients(pgnorm),
                &grad,
                &theta,
                n_weights,
                &mut dir,
            );
        }
        obj.margins(&dir, &mut zd);
        // The objective along the line: the data term from the margins, the regulariser from
        // ‖w + a d‖² = wᵀw + 2a wᵀd + a² dᵀd.
        let phi = |a: f64| {
            obj.line(&z, &zd, a) + 0.5 * reg * (dots.ww + a * (2.0 * dots.wd + a * dots.dd))
        };
        // φ(0) is f: the same per-block loss sums at z + 0·zd = z and the same ‖w‖² (the
        // direction's wᵀw is summed over the gradient's blocks), so it is not evaluated again.
        let (step, trials) = armijo_step(phi, f, dots.slope);
        evaluations += trials;
        let Some(a) = step else {
            // No decrease possible at machine precision: we are at the optimum.
            converged = true;
            break;
        };
        let slot = hist.take_slot(dim);
        theta
            .par_chunks_mut(VEC_BLOCK)
            .zip(dir.par_chunks(VEC_BLOCK))
            .zip(hist.s[slot].par_chunks_mut(VEC_BLOCK))
            .for_each(|((t, d), s)| {
                for ((t, &d), s) in t.iter_mut().zip(d).zip(s) {
                    *t += a * d;
                    *s = (a * d) as f32;
                }
            });
        z.par_chunks_mut(VEC_BLOCK)
            .zip(zd.par_chunks(VEC_BLOCK))
            .for_each(|(z, d)| z.iter_mut().zip(d).for_each(|(z, d)| *z += a * d));
        // The direction and its margins are spent (s holds the step): the new gradient goes
        // into the direction's buffer and the residuals into its margins'.
        let new_grad = &mut dir;
        let f_new = obj.gradient(&z, &theta, new_grad, &mut zd);
        (gmax, pgnorm) = hist.update(slot, &grad, new_grad);
        std::mem::swap(&mut grad, new_grad);
        let f_old = f;
        f = f_new;
        // Converged when the objective has stopped moving: less than `tol` relative decrease
        // over the last WINDOW iterations. Not scikit-learn's test (the largest gradient entry
        // below tol): with millions of weights a small largest entry says little, and it stopped
        // far from the optimum (BENCHMARKS.md, "Where the time goes").
        params
            .progress
            .post(|| format!("{name}: iteration {iterations}, objective {f:.6}"));
        recent.push(f);
        let stalled = recent.len() > WINDOW
            && recent[recent.len() - 1 - WINDOW] - f <= params.tol * f.abs().max(f64::MIN_POSITIVE);
        if stalled || (f_old - f) / f_old.abs().max(f.abs()).max(1.0) <= FTOL {
            converged = true;
        }
    }
    let report = SolverReport {
        problem: name.to_string(),
        iterations,
        evaluations,
        converged,
        objective: Some(f),
        gradient_max: Some(gmax),
    };
    (theta, report)
}
