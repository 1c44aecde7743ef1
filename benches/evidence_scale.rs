//! Time of the evidence rule (`framelens::classifier::evidence_thresholds`) on many documents and
//! labels, without training anything:
//!
//!   cargo bench --bench evidence_scale [-- DOCUMENTS LABELS]
//!
//! Out-of-fold probabilities are simulated (default 20,000 documents × 200 labels, label j in
//! 2% + 0.1 j% of the documents; a positive's probability uniform in 0.3–0.7, a negative's in
//! 0–0.4, from a fixed xorshift seed), so the figure is the rule's own cost, which grows with
//! documents × labels per round of its coordinate ascent.

use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, k) = (
        *args.first().unwrap_or(&20_000),
        *args.get(1).unwrap_or(&200),
    );
    let mut x: u64 = 12345;
    let mut rng = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let truth: Vec<Vec<bool>> = (0..n)
        .map(|_| (0..k).map(|j| rng() < 0.02 + 0.001 * j as f64).collect())
        .collect();
    let probs: Vec<Vec<f64>> = truth
        .iter()
        .map(|y| {
            y.iter()
                .map(|&t| 0.4 * rng() + if t { 0.3 } else { 0.0 })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let (labels, common) = framelens::classifier::evidence_thresholds(&probs, &truth, false);
    let moved = labels.iter().filter(|l| l.threshold != 0.5).count();
    println!(
        "{n} documents × {k} labels: {:.2} s; common threshold {:.3}; {moved} of {k} away from 0.5",
        start.elapsed().as_secs_f64(),
        common.map_or(0.5, |c| c.threshold)
    );
}
