//! The `framelens` command line: clap definitions and the glue between files, the library and the
//! terminal. No computation lives here.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use framelens::classifier::{ClassifierParams, LabelMode, Prediction, ThresholdMode};
use framelens::classify::{ClassWeight, LogisticParams, Solver};
use framelens::dataset::{self, InputFormat, JsonlReader, ReadOptions, ReadReport};
use framelens::eval;
use framelens::explain::top_weights;
use framelens::features::{DfLimit, Norm, TfidfParams};
use framelens::model;
use framelens::text::{AnalyzerConfig, AnalyzerKind, Language};
use framelens::{Classifier, Document};

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
    Train(TrainArgs),
    /// Score documents: labels, probabilities and the terms behind each score (JSON lines).
    Score(ScoreArgs),
    /// Evaluate a model on labelled documents: a test report as text, JSON and HTML.
    Eval(EvalArgs),
    /// Show a model's settings, labels, training summary and top terms per label.
    Inspect(InspectArgs),
    /// Cross-validate the training settings: stratified k-fold, each metric's mean and standard
    /// deviation over the folds.
    Cv(CvArgs),
}

/// Where fields are in input records, and what to do with bad ones (every command that reads
/// documents).
#[derive(Args, Clone)]
struct RecordArgs {
    /// JSONL field / CSV column holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// JSONL field / CSV column holding the labels (JSONL: a list or a string; CSV: `a|b`).
    #[arg(long, default_value = "labels")]
    label_field: String,
    /// JSONL field / CSV column holding the document id.
    #[arg(long, default_value = "id")]
    id_field: String,
    /// Labels file of the SemEval layout (`<ID><TAB>label1,label2`).
    #[arg(long = "labels")]
    labels_file: Option<PathBuf>,
    /// Skip malformed records (counted in the summary) instead of stopping at the first one.
    #[arg(long)]
    skip_invalid: bool,
}

impl RecordArgs {
    fn options(&self, format: InputFormat, labels_required: bool) -> ReadOptions {
        ReadOptions {
            format,
            text_field: self.text_field.clone(),
            label_field: self.label_field.clone(),
            id_field: self.id_field.clone(),
            labels_required,
            skip_invalid: self.skip_invalid,
            labels_file: self.labels_file.clone(),
            ..ReadOptions::default()
        }
    }
}

/// How labelled input files are read (train, cv, eval).
#[derive(Args, Clone)]
struct InputArgs {
    /// Input layout: auto (by extension; a folder is one sub-folder per label), jsonl, csv, dir,
    /// txt, semeval.
    #[arg(long, default_value = "auto")]
    format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
}

impl InputArgs {
    fn options(&self, labels_required: bool) -> ReadOptions {
        self.records.options(self.format, labels_required)
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Training data: JSONL(.gz), CSV/TSV, a folder per label, or a SemEval folder.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the model file.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    options: TrainOptions,
}

#[derive(Args)]
struct CvArgs {
    /// Labelled data: JSONL(.gz), CSV/TSV, a folder per label, or a SemEval folder.
    #[arg(long)]
    data: PathBuf,
    /// Number of folds.
    #[arg(long, default_value = "5")]
    folds: usize,
    /// Seed of the fold assignment: the same seed, data and settings give the same output.
    #[arg(long, default_value = "0")]
    seed: u64,
    /// Also write the summary (and each fold's full report) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    options: TrainOptions,
}

/// How a classifier is trained (shared by train and cv): [`TrainOptions::params`] is the one place
/// that turns these flags into library parameters.
#[derive(Args)]
struct TrainOptions {
    /// Analyzer: word n-grams, or char_wb (character n-grams inside words).
    #[arg(long, default_value = "word")]
    analyzer: AnalyzerKind,
    /// Smallest and largest n-gram length, e.g. `1,2` (default 1,2 for words, 2,5 for char_wb).
    #[arg(long, value_parser = parse_range)]
    ngram_range: Option<(usize, usize)>,
    /// Drop terms in fewer documents: a count (`2`) or a fraction (`0.01`).
    #[arg(long, default_value = "2")]
    min_df: DfLimit,
    /// Drop terms in more documents: a count or a fraction (`1.0` keeps all).
    #[arg(long, default_value = "1.0")]
    max_df: DfLimit,
    /// Keep only the N most frequent terms.
    #[arg(long)]
    max_features: Option<usize>,
    /// Sublinear tf (1 + ln tf).
    #[arg(long, default_value = "true", action = clap::ArgAction::Set)]
    sublinear_tf: bool,
    /// Inverse regularisation strength, as scikit-learn's C (linfa's alpha = 1/C).
    #[arg(long = "c", default_value = "10")]
    c: f64,
    /// Class weights: none or balanced [default: balanced; in one-vs-rest models, per label: its
    /// positives against its negatives].
    #[arg(long)]
    class_weight: Option<ClassWeight>,
    /// Language for stop words and stemming (name or ISO code, e.g. english, ru, fa).
    #[arg(long)]
    language: Option<Language>,
    /// Remove the language's stop words (needs --language).
    #[arg(long)]
    stop_words: bool,
    /// Stem tokens with the language's Snowball stemmer (needs --language).
    #[arg(long)]
    stem: bool,
    /// Solver iteration limit (non-convergence is reported).
    #[arg(long, default_value = "1000")]
    max_iter: usize,
    /// Convergence: stop when the objective fell by less than this fraction over the last 10
    /// iterations (with --solver linfa: its gradient tolerance).
    #[arg(long, default_value = "1e-3")]
    tol: f64,
    /// Solver: lbfgs (sparse, default) or linfa (dense linfa-logistic, small data only).
    #[arg(long, default_value = "lbfgs")]
    solver: Solver,
    /// Train one-vs-rest even if every document has one label.
    #[arg(long, conflicts_with = "single_label")]
    multi_label: bool,
    /// Refuse documents with several labels (multinomial model).
    #[arg(long)]
    single_label: bool,
    /// One-vs-rest thresholds: fixed (--threshold for every label) or tuned (per label, maximising
    /// its F1 on out-of-fold probabilities of the training data, --threshold-folds folds)
    /// [default: fixed].
    #[arg(long)]
    thresholds: Option<ThresholdMode>,
    /// The fixed one-vs-rest threshold of every label [default: 0.5].
    #[arg(long)]
    threshold: Option<f64>,
    /// Cross-validation folds for tuning thresholds.
    #[arg(long, default_value = "5")]
    threshold_folds: usize,
    /// Let a one-vs-rest prediction be empty when no label reaches its threshold (default: the
    /// most probable label is predicted).
    #[arg(long)]
    allow_empty: bool,
}

impl TrainOptions {
    /// The library parameters these flags ask for, checked.
    fn params(&self) -> Result<ClassifierParams> {
        if (self.stop_words || self.stem) && self.language.is_none() {
            bail!("--stop-words and --stem need --language (e.g. --language english)");
        }
        let threshold_mode = match (self.thresholds, self.threshold) {
            (Some(ThresholdMode::Tuned), Some(t)) => {
                bail!("--threshold {t} sets a fixed threshold; it cannot be used with --thresholds tuned")
            }
            (Some(mode), _) => mode,
            (None, _) => ThresholdMode::default(),
        };
        let ngram_range = self.ngram_range.unwrap_or(match self.analyzer {
            AnalyzerKind::Word => (1, 2),
            AnalyzerKind::CharWb => (2, 5),
        });
        let defaults = ClassifierParams::default();
        let params = ClassifierParams {
            tfidf: TfidfParams {
                analyzer: AnalyzerConfig {
                    kind: self.analyzer,
                    ngram_range,
                    lowercase: true,
                    language: self.language,
                    stem: self.stem,
                    stop_words: match (self.stop_words, self.language) {
                        (true, Some(l)) => l.stop_words(),
                        _ => Vec::new(),
                    },
                },
                min_df: self.min_df,
                max_df: self.max_df,
                max_features: self.max_features,
                sublinear_tf: self.sublinear_tf,
                smooth_idf: true,
                norm: Norm::L2,
            },
            logistic: LogisticParams {
                c: self.c,
                class_weight: self.class_weight.unwrap_or(defaults.logistic.class_weight),
                max_iter: self.max_iter,
                tol: self.tol,
                solver: self.solver,
            },
            label_mode: if self.multi_label {
                LabelMode::Multi
            } else if self.single_label {
                LabelMode::Single
            } else {
                LabelMode::Auto
            },
            threshold: self.threshold,
            threshold_mode,
            threshold_folds: self.threshold_folds,
            threshold_seed: defaults.threshold_seed,
            one_vs_rest_class_weight: match self.class_weight {
                Some(w) => Some(w),
                None => defaults.one_vs_rest_class_weight,
            },
            allow_empty: self.allow_empty,
        };
        // Check parameters before spending time on reading.
        params.validate()?;
        Ok(params)
    }
}

#[derive(Args)]
struct ScoreArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// JSONL files, .txt files (one document each) or folders of .txt files; none or `-` reads
    /// JSONL from standard input.
    paths: Vec<PathBuf>,
    /// Terms listed per predicted label, each way.
    #[arg(long, default_value = "10")]
    top_terms: usize,
    /// Output: json (one JSON object per line) or table (a readable summary).
    #[arg(long, visible_alias = "output", default_value = "json", value_parser = ["json", "table"])]
    format: String,
    /// Input layout of the PATHs: auto (by extension), jsonl or txt.
    #[arg(long, default_value = "auto")]
    input_format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Labelled test data.
    #[arg(long)]
    data: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the report as a self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Top terms by weight per label, each way.
    #[arg(long, default_value = "10")]
    top_terms: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let parts: Vec<&str> = s.split([',', ':']).map(str::trim).collect();
    match parts.as_slice() {
        [a, b] => match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            _ => Err(format!("expected two whole numbers like 1,2; got {s:?}")),
        },
        [a] => a
            .parse()
            .map(|a| (a, a))
            .map_err(|_| format!("expected MIN,MAX like 1,2; got {s:?}")),
        _ => Err(format!("expected MIN,MAX like 1,2; got {s:?}")),
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("setting up the thread pool")?;
    }
    match cli.command {
        Command::Train(a) => train(a),
        Command::Score(a) => score(a),
        Command::Eval(a) => evaluate(a),
        Command::Inspect(a) => inspect(a),
        Command::Cv(a) => cross_validate(a),
    }
}

fn read(path: &Path, opts: &ReadOptions) -> Result<(Vec<Document>, ReadReport)> {
    Ok(dataset::read_documents(path, opts)?)
}

fn report_skips(report: &ReadReport) {
    if report.skipped > 0 {
        eprintln!("  skipped {} invalid record(s):", report.skipped);
        for m in &report.skipped_examples {
            eprintln!("    {m}");
        }
    }
}

fn train(a: TrainArgs) -> Result<()> {
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

/// Documents to score, streamed from files or standard input.
fn stream_inputs(
    paths: &[PathBuf],
    input_format: InputFormat,
    records: &RecordArgs,
    tx: mpsc::SyncSender<Result<Document>>,
) {
    let opts = records.options(input_format, false);
    let send_all = |reader: Box<dyn BufRead + Send>, name: String| -> bool {
        for item in JsonlReader::new(reader, name, &opts) {
            if tx.send(item.map_err(Into::into)).is_err() {
                return false;
            }
        }
        true
    };
    if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.len() > 1 {
            let _ = tx.send(Err(anyhow::anyhow!(
                "`-` (standard input) cannot be mixed with file paths"
            )));
            return;
        }
        let stdin = Box::new(std::io::BufReader::new(std::io::stdin()));
        send_all(stdin, "<stdin>".into());
        return;
    }
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut v: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                    .collect(),
                Err(e) => {
                    let _ = tx.send(Err(
                        anyhow::Error::new(e).context(path.display().to_string())
                    ));
                    return;
                }
            };
            v.sort();
            v
        } else {
            vec![path.clone()]
        };
        for file in files {
            let format = match input_format {
                InputFormat::Auto => dataset::detect_format(&file),
                f => f,
            };
            let ok = match format {
                InputFormat::Txt => tx
                    .send(
                        dataset::read_documents(
                            &file,
                            &ReadOptions {
                                format: InputFormat::Txt,
                                ..opts.clone()
                            },
                        )
                        .map(|(mut d, _)| d.remove(0))
                        .map_err(Into::into),
                    )
                    .is_ok(),
                InputFormat::Jsonl => match dataset::open_text(&file) {
                    Ok(r) => send_all(r, file.display().to_string()),
                    Err(e) => tx.send(Err(e.into())).is_ok(),
                },
                InputFormat::Auto => tx
                    .send(Err(anyhow::anyhow!(
                        "{}: cannot tell the format from the name; use .jsonl/.txt or --format",
                        file.display()
                    )))
                    .is_ok(),
                other => tx
                    .send(Err(anyhow::anyhow!(
                        "{}: score reads JSONL or .txt files, not {other}",
                        file.display()
                    )))
                    .is_ok(),
            };
            if !ok {
                return;
            }
        }
    }
}

fn score(a: ScoreArgs) -> Result<()> {
    let clf = model::load(&a.model)?;
    let (tx, rx) = mpsc::sync_channel::<Result<Document>>(4096);
    let paths = a.paths.clone();
    let (input_format, records) = (a.input_format, a.records.clone());
    let reader = std::thread::spawn(move || stream_inputs(&paths, input_format, &records, tx));

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let table = a.format == "table";
    let mut scored = 0usize;
    let mut errors = 0usize;
    let mut first_error: Option<anyhow::Error> = None;
    // Take whatever has arrived (at least one document, at most 1024), score it in parallel,
    // write it in input order and flush: a stream filter when input trickles, full speed on files.
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let mut docs = Vec::with_capacity(batch.len());
        for item in batch {
            match item {
                Ok(d) => docs.push(d),
                Err(e) if a.records.skip_invalid => {
                    errors += 1;
                    eprintln!("skipped: {e:#}");
                }
                Err(e) => {
                    first_error = Some(e);
                    break;
                }
            }
        }
        let predictions: Vec<Prediction> = {
            use rayon::prelude::*;
            docs.par_iter()
                .map(|d| clf.predict(&d.id, &d.text, a.top_terms))
                .collect()
        };
        for p in &predictions {
            let r = if table {
                write_table_row(&mut out, p)
            } else {
                serde_json::to_writer(&mut out, &prediction_json(&clf, p))
                    .map_err(std::io::Error::from)
                    .and_then(|_| out.write_all(b"\n"))
            };
            if let Err(e) = r {
                return handle_write_error(e);
            }
        }
        scored += predictions.len();
        if let Err(e) = out.flush() {
            return handle_write_error(e);
        }
        if first_error.is_some() {
            break;
        }
    }
    drop(rx);
    let _ = reader.join();
    if let Some(e) = first_error {
        return Err(e.context(format!(
            "stopped after {scored} document(s); use --skip-invalid to skip bad records"
        )));
    }
    if errors > 0 {
        eprintln!("framelens score: {scored} scored, {errors} skipped");
    }
    Ok(())
}

fn handle_write_error(e: std::io::Error) -> Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(e).context("writing to standard output")
}

/// A line of output into `$buf` (a `String`), as `println!` would print it.
macro_rules! outln {
    ($buf:expr) => {
        $buf.push('\n')
    };
    ($buf:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($buf, $($arg)*);
    }};
}

/// Write `text` to standard output. A reader that stopped reading (`| head`) ends the output
/// quietly, as it does for `score`; `println!` panicked there.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => handle_write_error(e),
    }
}

/// One output line: id, labels, every label's probability, and the explanation of each
/// predicted label.
fn prediction_json(clf: &Classifier, p: &Prediction) -> serde_json::Value {
    let probabilities: serde_json::Map<String, serde_json::Value> = p
        .probabilities
        .iter()
        .map(|(l, v)| (l.clone(), serde_json::json!(v)))
        .collect();
    let explanation: serde_json::Map<String, serde_json::Value> = p
        .explanation
        .iter()
        .map(|e| {
            (
                e.label.clone(),
                serde_json::to_value(e).expect("explanations serialise"),
            )
        })
        .collect();
    let mut v = serde_json::json!({
        "id": p.id,
        "labels": p.labels,
        "probabilities": probabilities,
        "explanation": explanation,
        "known_terms": p.known_terms,
    });
    if p.no_known_terms {
        v["no_known_terms"] = serde_json::json!(true);
    }
    if clf.is_multi_label() {
        v["multi_label"] = serde_json::json!(true);
    }
    v
}

fn write_table_row(out: &mut impl Write, p: &Prediction) -> std::io::Result<()> {
    writeln!(out, "{}", p.id)?;
    let mut probs = p.probabilities.clone();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown: Vec<String> = probs
        .iter()
        .take(5)
        .map(|(l, v)| format!("{l} {v:.3}"))
        .collect();
    writeln!(out, "  labels:  {}", p.labels.join(", "))?;
    writeln!(out, "  probs:   {}", shown.join("  "))?;
    if p.no_known_terms {
        writeln!(
            out,
            "  note:    no known term: probabilities come from the biases alone"
        )?;
    }
    for e in &p.explanation {
        let fmt = |cs: &[framelens::explain::TermContribution]| {
            cs.iter()
                .map(|c| format!("{} ({:+.3})", c.term, c.contribution))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "  {} up:    {}", e.label, fmt(&e.up))?;
        writeln!(out, "  {} down:  {}", e.label, fmt(&e.down))?;
    }
    writeln!(out)
}

fn evaluate(a: EvalArgs) -> Result<()> {
    let clf = model::load(&a.model)?;
    let (docs, read_report) = read(&a.data, &a.input.options(true))?;
    report_skips(&read_report);
    let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    let predicted = clf.predict_labels(&texts);
    let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
    let report = eval::evaluate(&clf.labels, &truth, &predicted, clf.is_multi_label())?;
    emit(&format!("{report}\n"))?;
    if let Some(path) = &a.json {
        let json = serde_json::to_vec_pretty(&report)?;
        model::write_atomic(path, &json)?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(path) = &a.html {
        let title = format!("framelens: {} on {}", a.model.display(), a.data.display());
        model::write_atomic(path, report.to_html(&title).as_bytes())?;
        eprintln!("HTML report written to {}", path.display());
    }
    Ok(())
}

fn cross_validate(a: CvArgs) -> Result<()> {
    let t0 = Instant::now();
    let params = a.options.params()?;
    let (docs, report) = read(&a.data, &a.input.options(true))?;
    let cv = params.cross_validate(&docs, a.folds, a.seed)?;
    // Standard output carries only what the data, settings and seed determine (no timings), so
    // two runs can be compared byte for byte.
    let mut out = String::new();
    outln!(
        out,
        "framelens cv: {} ({} documents, {}, {} folds of {}, seed {})",
        a.data.display(),
        docs.len(),
        if cv.multi_label {
            "multi-label: one-vs-rest"
        } else {
            "single-label: multinomial"
        },
        a.folds,
        cv.fold_sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("/"),
        a.seed
    );
    outln!(out);
    out.push_str(&cv.summary.to_string());
    emit(&out)?;
    report_skips(&report);
    if let Some(path) = &a.json {
        let v = serde_json::json!({
            "data": a.data.display().to_string(),
            "n_documents": docs.len(),
            "multi_label": cv.multi_label,
            "folds": a.folds,
            "seed": a.seed,
            "fold_sizes": cv.fold_sizes,
            "params": params,
            "metrics": serde_json::to_value(&cv.summary)?["metrics"],
            "fold_reports": cv.reports,
        });
        model::write_atomic(path, serde_json::to_string_pretty(&v)?.as_bytes())?;
        eprintln!("cross-validation written to {}", path.display());
    }
    eprintln!("  time        {:.2}s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn inspect(a: InspectArgs) -> Result<()> {
    let (version, header) = model::load_header(&a.model)?;
    let clf = model::load(&a.model)?;
    let vocab = clf.vectorizer.vocabulary();
    let tops: Vec<_> = (0..clf.labels.len())
        .map(|k| top_weights(&clf.model, vocab, k, a.top_terms))
        .collect();
    if a.json {
        let labels: Vec<serde_json::Value> = clf
            .labels
            .iter()
            .enumerate()
            .map(|(k, l)| {
                serde_json::json!({
                    "label": l,
                    "bias": clf.model.bias[k],
                    "threshold": clf.thresholds.as_ref().map(|t| t[k]),
                    "top_positive": tops[k].0,
                    "top_negative": tops[k].1,
                })
            })
            .collect();
        let v = serde_json::json!({
            "format": "framelens-model",
            "format_version": version,
            "kind": header.kind,
            "n_features": header.n_features,
            "params": header.params,
            "training": header.training,
            "labels": labels,
        });
        return emit(&format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let p = &header.params;
    let an = &p.tfidf.analyzer;
    let mut out = String::new();
    outln!(out, "model        {}", a.model.display());
    outln!(out, "format       framelens-model version {version}");
    outln!(
        out,
        "kind         {}",
        if clf.is_multi_label() {
            "one-vs-rest (multi-label)"
        } else {
            "multinomial (single-label)"
        }
    );
    outln!(
        out,
        "analyzer     {:?}, ngram_range {}..{}, lowercase {}, language {}, stem {}, {} stop words",
        an.kind,
        an.ngram_range.0,
        an.ngram_range.1,
        an.lowercase,
        an.language.map_or("none".into(), |l| l.to_string()),
        an.stem,
        an.stop_words.len()
    );
    outln!(
        out,
        "tf-idf       min_df {}, max_df {}, max_features {}, sublinear_tf {}, smooth_idf {}, norm {:?}",
        p.tfidf.min_df,
        p.tfidf.max_df,
        p.tfidf.max_features.map_or("none".into(), |m| m.to_string()),
        p.tfidf.sublinear_tf,
        p.tfidf.smooth_idf,
        p.tfidf.norm
    );
    let logistic = p.logistic_for(clf.model.kind);
    outln!(
        out,
        "classifier   C {}, class_weight {:?}, solver {:?}, max_iter {}, tol {:e}",
        logistic.c,
        logistic.class_weight,
        logistic.solver,
        logistic.max_iter,
        logistic.tol
    );
    let t = &header.training;
    if clf.is_multi_label() {
        let how = match &t.threshold_tuning {
            Some(tt) => format!(
                "tuned per label by {}-fold cross-validation (seed {})",
                tt.folds, tt.seed
            ),
            None => "fixed".to_string(),
        };
        let empty = if p.allow_empty {
            "a document may get no label"
        } else {
            "at least one label per document"
        };
        outln!(out, "thresholds   {how}; {empty}");
    }
    outln!(
        out,
        "training     {} documents, {} terms kept of {} seen, framelens {}",
        t.n_documents,
        t.vocabulary.n_terms_kept,
        t.vocabulary.n_terms_seen,
        t.framelens_version
    );
    for r in &t.solver {
        outln!(out, "  solver     {r}");
    }
    outln!(out, "labels       {}", clf.labels.len());
    for (k, l) in clf.labels.iter().enumerate() {
        let n = t.label_counts.get(l).copied().unwrap_or(0);
        let tuned = t
            .threshold_tuning
            .as_ref()
            .and_then(|tt| tt.labels.iter().find(|x| &x.label == l))
            .map(|x| format!(" (out-of-fold F1 {:.3}; {:.3} at 0.5)", x.f1, x.f1_at_half))
            .unwrap_or_default();
        let thr = clf
            .thresholds
            .as_ref()
            .map(|t| format!(", threshold {:.3}{tuned}", t[k]))
            .unwrap_or_default();
        outln!(
            out,
            "\n{l}  ({n} training documents, bias {:+.3}{thr})",
            clf.model.bias[k]
        );
        let fmt = |v: &[(String, f64)]| {
            v.iter()
                .map(|(t, w)| format!("{t} ({w:+.2})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        outln!(out, "  up:   {}", fmt(&tops[k].0));
        outln!(out, "  down: {}", fmt(&tops[k].1));
    }
    emit(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        // The flags spell their defaults out for --help; they must be the library's.
        let cli = Cli::try_parse_from(["framelens", "train", "--data", "d", "--out", "m"]).unwrap();
        let Command::Train(a) = cli.command else {
            panic!("not train")
        };
        assert_eq!(a.options.params().unwrap(), ClassifierParams::default());
    }
}
