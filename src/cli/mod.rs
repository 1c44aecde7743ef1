//! The `framelens` command line: clap definitions, one file per subcommand, and the glue between
//! files, the library and the terminal (`output`). No computation lives here.

mod analyze;
mod args;
mod compare;
mod cv;
mod eval;
mod inspect;
mod output;
mod score;
mod serve;
mod train;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "framelens",
    version,
    about = "Frame and topic classification of news, with an explanation of every score"
)]
pub struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier from labelled documents and save it as one model file.
    Train(train::TrainArgs),
    /// Score documents: labels, probabilities and the terms behind each score (JSON lines).
    Score(score::ScoreArgs),
    /// Evaluate a model on labelled documents: a test report as text, JSON and HTML.
    Eval(eval::EvalArgs),
    /// Show a model's settings, labels, training summary and top terms per label.
    Inspect(inspect::InspectArgs),
    /// Cross-validate the training settings: stratified k-fold, each metric's mean and standard
    /// deviation over the folds.
    Cv(cv::CvArgs),
    /// Compare groups of documents (outlets, periods, labels): the terms that set one apart from
    /// the other, by the informative-Dirichlet log-odds ("Fightin' Words"), chi2, G2 or PMI.
    Compare(compare::CompareArgs),
    /// Frame prevalence by group and period: the share of documents with each label, corrected
    /// for the classifier's errors (CC, PCC, ACC, PACC, EMQ), with bootstrap intervals.
    Analyze(analyze::AnalyzeArgs),
    /// Serve a model over HTTP: POST /v1/score, GET /v1/model, /healthz, /metrics.
    Serve(serve::ServeArgs),
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        // The work is computation: threads beyond the cores only add switching (and thousands of
        // them take minutes to start), so the count is capped at the cores, and said so.
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let n = if n > cores {
            eprintln!("--threads {n}: using {cores}, the cores available");
            cores
        } else {
            n.max(1)
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("setting up the thread pool")?;
    }
    match cli.command {
        Command::Train(a) => train::run(a),
        Command::Score(a) => score::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Cv(a) => cv::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Serve(a) => serve::run(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use framelens::ClassifierParams;

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        // The flags spell their defaults out for --help; they must be the library's.
        let cli = Cli::try_parse_from(["framelens", "train", "--data", "d", "--out", "m"]).unwrap();
        let Command::Train(a) = cli.command else {
            panic!("not train")
        };
        let mut params = a.options.params().unwrap();
        // The one setting the binary fills from the machine (where it can read it), not from a
        // flag.
        params.logistic.memory_limit = None;
        assert_eq!(params, ClassifierParams::default());
    }
}
