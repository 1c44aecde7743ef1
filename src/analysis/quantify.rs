//! The quantification methods: from a group's observed label shares (and, for EMQ, the
//! distribution of its documents' probabilities) to an estimate of its true label shares.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A prevalence estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Classify and count: the share of documents predicted with each label.
    Cc,
    /// Probabilistic classify and count: the mean probability of each label.
    Pcc,
    /// Adjusted classify and count (Forman 2008): CC corrected by the model's out-of-fold
    /// confusion rates.
    Acc,
    /// Probabilistic ACC (Bella et al. 2010): PCC corrected by the mean out-of-fold probabilities
    /// per true label.
    Pacc,
    /// Expectation maximisation of the label shares (Saerens, Latinne & Decaestecker 2002):
    /// re-weights every document's probabilities from the training prior to the estimate until it
    /// stops moving.
    Emq,
}

impl Method {
    /// Every method, in output order.
    pub const ALL: [Method; 5] = [
        Method::Cc,
        Method::Pcc,
        Method::Acc,
        Method::Pacc,
        Method::Emq,
    ];

    /// The lower-case name: cc, pcc, acc, pacc, emq.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cc => "cc",
            Method::Pcc => "pcc",
            Method::Acc => "acc",
            Method::Pacc => "pacc",
            Method::Emq => "emq",
        }
    }

    /// Whether the method needs the model's out-of-fold rates.
    pub fn needs_rates(self) -> bool {
        matches!(self, Method::Acc | Method::Pacc)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown method {s:?}: expected cc, pcc, acc, pacc or emq"))
    }
}

/// Single-label correction (ACC with hard rates, PACC with soft ones): the shares `π` on the
/// simplex minimising `‖Mᵀπ − q‖²`, where `m[j][i]` is the rate of label i given true label j
/// and `q` the observed shares. Exact for the active set it ends on: the equality-constrained
/// least squares is solved on the labels still in play, and the most negative is dropped until
/// none is; dropped labels whose gradient says they should come back are added again.
pub fn simplex_least_squares(m: &[Vec<f64>], q: &[f64]) -> Vec<f64> {
    let k = q.len();
    // a[i][j] = m[j][i]: observed share i = Σ_j a[i][j] π_j.
    let a = |i: usize, j: usize| m[j][i];
    // AᵀA and Aᵀq once (k³): every active set's system is cut from them.
    let gram: Vec<Vec<f64>> = (0..k)
        .map(|r| {
            (0..k)
                .map(|c| (0..k).map(|i| m[r][i] * m[c][i]).sum())
                .collect()
        })
        .collect();
    let atq: Vec<f64> = (0..k)
        .map(|r| (0..k).map(|i| m[r][i] * q[i]).sum())
        .collect();
    let mut active: Vec<bool> = vec![true; k];
    let mut x = vec![0.0; k];
    for _ in 0..4 * k + 4 {
        let s: Vec<usize> = (0..k).filter(|&j| active[j]).collect();
        let sol = constrained_solve(&gram, &atq, &s);
        let most_negative = s
            .iter()
            .zip(&sol)
            .filter(|(_, &v)| v < 0.0)
            .min_by(|x, y| x.1.total_cmp(y.1))
            .map(|(&j, _)| j);
        if let Some(j) = most_negative {
            active[j] = false;
            continue;
        }
        x.iter_mut().for_each(|v| *v = 0.0);
        for (&j, &v) in s.iter().zip(&sol) {
            x[j] = v;
        }
        // KKT: the gradient 2Aᵀ(Ax − q) of an excluded label must not be below the common value
        // of the included ones, or moving share onto it lowers the objective.
        let resid: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| a(i, j) * x[j]).sum::<f64>() - q[i])
            .collect();
        let grad = |j: usize| (0..k).map(|i| a(i, j) * resid[i]).sum::<f64>();
        let level = s.iter().map(|&j| grad(j)).sum::<f64>() / s.len() as f64;
        let back = (0..k)
            .filter(|&j| !active[j])
            .map(|j| (j, grad(j)))
            .filter(|&(_, g)| g < level - 1e-12)
            .min_by(|x, y| x.1.total_cmp(&y.1));
        match back {
            Some((j, _)) => active[j] = true,
            None => break,
        }
    }
    clip_normalise(x)
}

/// The equality-constrained least squares on the labels `s`: `min ‖A_S x − q‖²` with `Σx = 1`,
/// through its KKT system `[AᵀA 1; 1ᵀ 0][x; μ] = [Aᵀq; 1]` cut from `gram` = AᵀA and `atq` = Aᵀq
/// (a tiny ridge keeps it solvable when a label is never predicted).
fn constrained_solve(gram: &[Vec<f64>], atq: &[f64], s: &[usize]) -> Vec<f64> {
    let m = s.len();
    let mut sys = vec![vec![0.0; m + 1]; m + 1];
    let mut rhs = vec![0.0; m + 1];
    for (r, &jr) in s.iter().enumerate() {
        for (c, &jc) in s.iter().enumerate() {
            sys[r][c] = gram[jr][jc];
        }
        sys[r][m] = 1.0;
        rhs[r] = atq[jr];
    }
    let trace: f64 = (0..m).map(|r| sys[r][r]).sum();
    for (r, row) in sys.iter_mut().enumerate().take(m) {
        row[r] += 1e-12 * trace.max(1e-300);
    }
    sys[m][..m].fill(1.0);
    rhs[m] = 1.0;
    match crate::linalg::solve(sys, &rhs) {
        Some(mut x) => {
            x.truncate(m);
            x
        }
        None => vec![1.0 / m as f64; m],
    }
}

fn clip_normalise(mut x: Vec<f64>) -> Vec<f64> {
    x.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    let s: f64 = x.iter().sum();
    if s > 0.0 {
        x.iter_mut().for_each(|v| *v /= s);
    }
    x
}

/// One-vs-rest correction of one label: `(q − fpr) / (tpr − fpr)` clipped to [0, 1]. When the
/// rates barely separate (`tpr − fpr` below 0.01) the observed share is returned unchanged.
pub fn binary_adjust(q: f64, tpr: f64, fpr: f64) -> f64 {
    let d = tpr - fpr;
    if d < 0.01 {
        return q.clamp(0.0, 1.0);
    }
    ((q - fpr) / d).clamp(0.0, 1.0)
}

/// EMQ iterations of a point estimate stop when no share moves by more than this.
pub const EM_TOLERANCE: f64 = 1e-9;
/// ... and those of a bootstrap replicate (an interval's end needs no more digits).
pub const EM_REPLICATE_TOLERANCE: f64 = 1e-6;
/// ... or after this many.
const EM_ITERATIONS: usize = 1000;

/// Single-label EMQ over probability vectors `probs` with weights `weights`, from the prior
/// `prior` the probabilities are calibrated to, starting at `start` (default: the prior). Each
/// round re-weights every vector by `π_l / π0_l`, renormalises it and takes the weighted mean as
/// the new `π`. The log-likelihood `Σ w log Σ_l p_l π_l / π0_l` is concave in `π`, so the start
/// changes the rounds needed, not the result.
pub fn em_shares(
    probs: &[Vec<f64>],
    weights: &[f64],
    prior: &[f64],
    start: Option<&[f64]>,
    tolerance: f64,
) -> Vec<f64> {
    let k = prior.len();
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return vec![f64::NAN; k];
    }
    let mut pi = start.unwrap_or(prior).to_vec();
    let mut post = vec![0.0; k];
    let mut ratio = vec![0.0; k];
    let mut next = vec![0.0; k];
    for _ in 0..EM_ITERATIONS {
        for l in 0..k {
            ratio[l] = pi[l] / prior[l];
        }
        next.iter_mut().for_each(|v| *v = 0.0);
        for (p, &w) in probs.iter().zip(weights) {
            if w == 0.0 {
                continue;
            }
            let mut s = 0.0;
            for l in 0..k {
                post[l] = p[l] * ratio[l];
                s += post[l];
            }
            if s > 0.0 {
                let f = w / s;
                for l in 0..k {
                    next[l] += f * post[l];
                }
            }
        }
        let mut moved = 0.0f64;
        for l in 0..k {
            let v = next[l] / total;
            moved = moved.max((v - pi[l]).abs());
            pi[l] = v;
        }
        if moved < tolerance {
            break;
        }
    }
    pi
}

/// Binary EMQ of one one-vs-rest label: probabilities `probs` with weights `weights`, `prior`
/// the positive share the probabilities are calibrated to; as [`em_shares`] with two labels.
pub fn em_binary(
    probs: &[f64],
    weights: &[f64],
    prior: f64,
    start: Option<f64>,
    tolerance: f64,
) -> f64 {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return f64::NAN;
    }
    let mut pi = start.unwrap_or(prior);
    for _ in 0..EM_ITERATIONS {
        let (r1, r0) = (pi / prior, (1.0 - pi) / (1.0 - prior));
        let mut next = 0.0;
        for (&p, &w) in probs.iter().zip(weights) {
            let (a, b) = (p * r1, (1.0 - p) * r0);
            if a + b > 0.0 {
                next += w * a / (a + b);
            }
        }
        let next = next / total;
        let moved = (next - pi).abs();
        pi = next;
        if moved < tolerance {
            break;
        }
    }
    pi
}

/// The `q`-quantile (0..=1) of sorted values, linearly interpolated.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplex_least_squares_inverts_a_confusion_matrix() {
        // Rows: true label; a classifier that calls 20% of label 0 "1", 10% of 1 "0".
        let m = vec![vec![0.8, 0.2], vec![0.1, 0.9]];
        let truth = [0.3, 0.7];
        let q: Vec<f64> = (0..2)
            .map(|i| (0..2).map(|j| m[j][i] * truth[j]).sum())
            .collect();
        let est = simplex_least_squares(&m, &q);
        assert!(
            (est[0] - 0.3).abs() < 1e-9 && (est[1] - 0.7).abs() < 1e-9,
            "{est:?}"
        );
        // Observed shares outside what the rates can produce end on the simplex's edge.
        let est = simplex_least_squares(&m, &[0.05, 0.95]);
        assert!(
            est[0].abs() < 1e-12 && (est[1] - 1.0).abs() < 1e-12,
            "{est:?}"
        );
        let m3 = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.1, 0.8, 0.1],
            vec![0.2, 0.2, 0.6],
        ];
        let truth = [0.5, 0.0, 0.5];
        let q: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| m3[j][i] * truth[j]).sum())
            .collect();
        let est = simplex_least_squares(&m3, &q);
        for (e, t) in est.iter().zip(truth) {
            assert!((e - t).abs() < 1e-9, "{est:?}");
        }
        assert!((est.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn binary_adjust_corrects_and_clips() {
        assert!((binary_adjust(0.38, 0.8, 0.1) - 0.4).abs() < 1e-12);
        assert_eq!(binary_adjust(0.05, 0.8, 0.1), 0.0);
        assert_eq!(binary_adjust(0.95, 0.8, 0.1), 1.0);
        assert_eq!(binary_adjust(0.3, 0.5, 0.495), 0.3);
    }

    #[test]
    fn em_recovers_a_shifted_prior() {
        // Documents whose calibrated (prior 0.5) probability is 0.8 for positives and 0.2 for
        // negatives; a corpus with 90% positives.
        let est = em_binary(&[0.8, 0.2], &[0.9, 0.1], 0.5, None, EM_TOLERANCE);
        assert!(est > 0.9, "{est}");
        // Unchanged prior: EM stays put, from any start.
        for start in [None, Some(0.1), Some(0.9)] {
            let est = em_binary(&[0.8, 0.2], &[0.5, 0.5], 0.5, start, EM_TOLERANCE);
            assert!((est - 0.5).abs() < 1e-6, "{est}");
        }
        // The single-label form agrees with the binary one.
        let probs = vec![vec![0.8, 0.2], vec![0.2, 0.8]];
        let multi = em_shares(&probs, &[0.9, 0.1], &[0.5, 0.5], None, EM_TOLERANCE);
        assert!((multi[0] - est_binary_check()).abs() < 1e-6, "{multi:?}");
    }

    fn est_binary_check() -> f64 {
        em_binary(&[0.8, 0.2], &[0.9, 0.1], 0.5, None, EM_TOLERANCE)
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!((quantile(&v, 0.125) - 1.5).abs() < 1e-12);
        assert!("PACC".parse::<Method>() == Ok(Method::Pacc));
        assert!("median".parse::<Method>().is_err());
    }
}
