//! `framelens train`: fit a classifier on labelled documents and save it.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

use super::args::*;
use super::output::*;
use framelens::model;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
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
    let mut inputs = vec![a.data.as_path()];
    inputs.extend(a.input.labels.labels_file.as_deref());
    check_not_input(&a.out, &inputs)?;

    let (docs, report) = read(&a.data, &a.input.options(true))?;
    let read_s = t0.elapsed().as_secs_f64();
    let quiet = a.options.quiet;
    let skipped = params.rates_skipped(&docs.iter().collect::<Vec<_>>());
    match &skipped {
        Some(why) if params.rate_folds >= 2 && !quiet => eprintln!(
            "note: no error rates for analyze's acc and pacc: {why}; cc, pcc and emq still work"
        ),
        _ => {}
    }
    let what = format!(
        "training on {} documents{}",
        docs.len(),
        if skipped.is_none() {
            format!(
                " (then {} out-of-fold refits for the error rates)",
                params.rate_folds
            )
        } else {
            String::new()
        }
    );
    let (clf, times) = with_spinner(&what, quiet, &params.logistic.progress, || {
        params.fit_owned(docs)
    })?;
    let t_save = Instant::now();
    model::save(&clf, &a.out)?;
    let save_s = t_save.elapsed().as_secs_f64();

    if quiet {
        if !clf.summary.converged() {
            eprintln!("warning: the solver did not converge; raise --max-iter or lower --c");
        }
        std::mem::forget(clf);
        return Ok(());
    }
    eprintln!("framelens train: {}", a.data.display());
    report_skips(&report);
    for line in clf.overview().to_string().lines() {
        eprintln!("  {line}");
    }
    eprintln!(
        "  time        read {:.2}s, vectorize {:.2}s, fit {:.2}s, tune {:.2}s, rates {:.2}s, save {:.2}s, total {:.2}s",
        read_s,
        times.vectorize_s,
        times.fit_s,
        times.tune_s,
        times.rates_s,
        save_s,
        t0.elapsed().as_secs_f64()
    );
    eprintln!("  model       {}", a.out.display());
    if !clf.summary.converged() {
        eprintln!("warning: the solver did not converge; raise --max-iter or lower --c");
    }
    // The process ends here: freeing the model's hundreds of thousands of terms one by one
    // would only delay the exit (the operating system reclaims the memory at once).
    std::mem::forget(clf);
    Ok(())
}
