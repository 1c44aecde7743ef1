//! Keyness statistics of one term between a target and a reference group, from counts alone.
//!
//! Notation: `a` = the term's count in the target, `b` in the reference, `n_t` and `n_r` the
//! groups' total term counts, `α_w` the term's prior and `α_0` the prior's total. Every statistic is
//! signed: positive when the term leans to the target.

use serde::Serialize;

/// One term's counts in the two groups, with its prior.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TermCounts {
    /// `a`: occurrences in the target group.
    pub target: f64,
    /// `b`: occurrences in the reference group.
    pub reference: f64,
    /// `n_t`: all term occurrences in the target group.
    pub target_total: f64,
    /// `n_r`: all term occurrences in the reference group.
    pub reference_total: f64,
    /// `α_w`: the term's Dirichlet prior.
    pub prior: f64,
    /// `α_0`: the prior summed over the vocabulary.
    pub prior_total: f64,
}

/// Every statistic of one term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Keyness {
    /// Monroe et al.'s δ (eq. 16): the difference of the posterior log-odds of the term.
    pub delta: f64,
    /// Its approximate variance σ² (eq. 20).
    pub variance: f64,
    /// δ / σ: the informative-Dirichlet z-score ("Fightin' Words").
    pub z: f64,
    /// Pearson's χ² of the 2×2 table, with Yates' correction where quanteda applies it.
    pub chi2: f64,
    /// The log-likelihood ratio G², with the same correction.
    pub g2: f64,
    /// Pointwise mutual information of the term and the target, ln(a / E).
    pub pmi: f64,
}

/// The small constant quanteda adds inside its logarithms, so that a zero cell gives a finite
/// value (kept for agreement with `textstat_keyness`).
const EPSILON: f64 = 1e-9;

impl TermCounts {
    /// All statistics of the term.
    pub fn keyness(&self) -> Keyness {
        let (delta, variance, z) = self.log_odds();
        Keyness {
            delta,
            variance,
            z,
            chi2: self.chi2(),
            g2: self.g2(),
            pmi: self.pmi(),
        }
    }

    /// Monroe, Colaresi & Quinn (2008), section 3.5, with `y_t = a + α_w`, `y_r = b + α_w`:
    ///
    /// δ = ln(y_t / (n_t + α_0 − y_t)) − ln(y_r / (n_r + α_0 − y_r))   (eq. 16)
    /// σ² ≈ 1 / y_t + 1 / y_r                                          (eq. 20)
    /// z = δ / σ
    ///
    /// The prior shrinks rare terms toward no difference, and dividing by σ keeps frequent
    /// function words from dominating by their counts alone.
    pub fn log_odds(&self) -> (f64, f64, f64) {
        let y_t = self.target + self.prior;
        let y_r = self.reference + self.prior;
        let delta = (y_t / (self.target_total + self.prior_total - y_t)).ln()
            - (y_r / (self.reference_total + self.prior_total - y_r)).ln();
        let variance = 1.0 / y_t + 1.0 / y_r;
        (delta, variance, delta / variance.sqrt())
    }

    /// The 2×2 table of quanteda's `textstat_keyness`: `a`, `b`, `c = n_t − a`, `d = n_r − b`.
    fn table(&self) -> (f64, f64, f64, f64) {
        (
            self.target,
            self.reference,
            self.target_total - self.target,
            self.reference_total - self.reference,
        )
    }

    /// +1 when the term is more frequent in the target than expected, −1 otherwise:
    /// a > E = (a + b)(a + c) / N.
    fn sign(&self) -> f64 {
        let (a, b, c, d) = self.table();
        let n = a + b + c + d;
        if a > (a + b) * (a + c) / n {
            1.0
        } else {
            -1.0
        }
    }

    /// Yates' continuity correction as quanteda applies it: 0.5 when |ad − bc| ≥ N/2 and some
    /// expected cell count is below 5, else 0.
    fn yates(&self) -> f64 {
        let (a, b, c, d) = self.table();
        let n = a + b + c + d;
        let small = (a + b) * (a + c) / n < 5.0
            || (a + b) * (b + d) / n < 5.0
            || (a + c) * (c + d) / n < 5.0
            || (c + d) * (b + d) / n < 5.0;
        if (a * d - b * c).abs() >= n / 2.0 && small {
            0.5
        } else {
            0.0
        }
    }

    /// χ² = N (|ad − bc| − N·y)² / ((a + b)(c + d)(a + c)(b + d)), y the Yates correction, signed.
    pub fn chi2(&self) -> f64 {
        let (a, b, c, d) = self.table();
        let n = a + b + c + d;
        let num = n * ((a * d - b * c).abs() - n * self.yates()).powi(2);
        let den = (a + b) * (c + d) * (a + c) * (b + d);
        self.sign() * num / den
    }

    /// G² = 2 Σ O ln(O / E + ε) over the four cells, each moved by the Yates correction toward
    /// independence first, signed.
    pub fn g2(&self) -> f64 {
        let (a, b, c, d) = self.table();
        let n = a + b + c + d;
        let y = self.yates();
        let s = if a * d - b * c > 0.0 { y } else { -y };
        let (a2, b2, c2, d2) = (a - s, b + s, c + s, d - s);
        let cell = |o: f64, row: f64, col: f64| o * (o / (row * col / n) + EPSILON).ln();
        let g = 2.0
            * (cell(a2, a2 + b2, a2 + c2)
                + cell(b2, a2 + b2, b2 + d2)
                + cell(c2, a2 + c2, c2 + d2)
                + cell(d2, b2 + d2, c2 + d2));
        self.sign() * g
    }

    /// PMI = ln(a / E + ε), E = (a + b)(a + c) / N.
    pub fn pmi(&self) -> f64 {
        let (a, b, c, d) = self.table();
        let n = a + b + c + d;
        (a / ((a + b) * (a + c) / n) + EPSILON).ln()
    }
}
