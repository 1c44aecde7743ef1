//! `framelens train`: fit a classifier on labelled documents and save it.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

use super::args::*;
use super::output::*;
use framelens::model;

#[derive(Args)]
pub(super) struct TrainArgs {
    /// Training data: JSONL(.gz), CSV/TSV, a folder per label, or a SemEval folder.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the model file.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    pub(super) options: TrainOptions,
}

pub(super) fn run(a: TrainArgs) -> Result<()> {
    let t0 = Instant::now();
    let params = a.options.params()?;

    let (docs, report) = read(&a.data, &a.input.options(true))?;
    let read_s = t0.elapsed().as_secs_f64();
    let (clf, times) = params.fit_owned(docs)?;
    let t_save = Instant::now();
    model::save(&clf, &a.out)?;
    let save_s = t_save.elapsed().as_secs_f64();

    let s = &clf.summary;
    eprintln!("framelens train: {}", a.data.display());
    eprintln!(
        "  documents   {} ({})",
        s.n_documents,
        if clf.is_multi_label() {
            "multi-label: one-vs-rest"
        } else {
            "single-label: multinomial"
        }
    );
    report_skips(&report);
    eprintln!("  labels      {}", s.label_counts.len());
    for (k, (l, c)) in s.label_counts.iter().enumerate() {
        let thr = match (&s.threshold_tuning, &clf.thresholds) {
            (Some(t), _) => format!(
                "  threshold {:.3} (out-of-fold F1 {:.3}; {:.3} at 0.5)",
                t.labels[k].threshold, t.labels[k].f1, t.labels[k].f1_at_half
            ),
            (None, Some(t)) => format!("  threshold {:.3}", t[k]),
            (None, None) => String::new(),
        };
        eprintln!("    {c:>7}  {l}{thr}");
    }
    if let Some(t) = &s.threshold_tuning {
        eprintln!(
            "  thresholds  tuned by {}-fold cross-validation on the training data (seed {})",
            t.folds, t.seed
        );
    }
    eprintln!(
        "  vocabulary  {} terms kept of {} seen; {} non-zeros",
        s.vocabulary.n_terms_kept, s.vocabulary.n_terms_seen, s.vocabulary.nnz
    );
    for r in &s.solver {
        eprintln!("  solver      {r}");
    }
    eprintln!(
        "  time        read {:.2}s, vectorize {:.2}s, fit {:.2}s, tune {:.2}s, save {:.2}s, total {:.2}s",
        read_s,
        times.vectorize_s,
        times.fit_s,
        times.tune_s,
        save_s,
        t0.elapsed().as_secs_f64()
    );
    eprintln!("  model       {}", a.out.display());
    if !s.converged() {
        eprintln!("warning: the solver did not converge; raise --max-iter or lower --c");
    }
    // The process ends here: freeing the model's hundreds of thousands of terms one by one
    // would only delay the exit (the operating system reclaims the memory at once).
    std::mem::forget(clf);
    Ok(())
}
