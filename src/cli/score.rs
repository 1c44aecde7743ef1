//! `framelens score`: score and explain documents as a stream (JSON lines or a table).

use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

use super::args::*;
use super::output::*;
use framelens::dataset::InputFormat;
use framelens::report::{self, ScorePage};
use framelens::Document;
use framelens::{model, Prediction};
use std::sync::mpsc;

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct ScoreArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// JSONL files, .txt files (one document each) or folders of .txt files; none or `-` reads
    /// JSONL from standard input.
    paths: Vec<PathBuf>,
    /// Terms listed per predicted label, each way.
    #[arg(long, default_value = "10")]
    top_terms: usize,
    /// Output: json (one JSON object per line), table (a readable summary) or html (a page
    /// with every document's words highlighted by their contributions; best with --out).
    #[arg(long, visible_alias = "output", default_value = "json", value_parser = ["json", "table", "html"])]
    format: String,
    /// Write the output to this file (replaced only once complete) instead of standard output
    /// (`-`: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input layout of the PATHs: auto (by extension), jsonl, csv (CSV or TSV) or txt.
    #[arg(long, default_value = "auto")]
    input_format: InputFormat,
    #[command(flatten)]
    records: RecordArgs,
}

pub(super) fn run(a: ScoreArgs) -> Result<()> {
    if let Some(out) = &a.out {
        let mut inputs: Vec<&std::path::Path> = a.paths.iter().map(|p| p.as_path()).collect();
        inputs.push(&a.model);
        check_not_input(out, &inputs)?;
    }
    let clf = model::load(&a.model)?;
    let (rx, reader) = spawn_reader(
        &a.paths,
        a.records.options(a.input_format, None, false),
        4096,
    );

    let (scored, errors, first_error) = match a.out.as_deref().filter(|p| !is_stdout(p)) {
        // A file: written through a temporary file that replaces it only when complete (a stop
        // on a bad record leaves the old file, or none).
        Some(path) => {
            let mut outcome = None;
            let written = model::write_atomic_with(path, |f| {
                let result = score_stream(&a, &clf, rx, Box::new(f))?;
                let stopped = result.2.is_some();
                outcome = Some(result);
                if stopped {
                    return Err(std::io::Error::other("stopped on a bad record"));
                }
                Ok(())
            });
            let _ = reader.join();
            match (outcome, written) {
                (Some(o), Ok(())) => {
                    eprintln!("written to {}", path.display());
                    o
                }
                (Some(o), Err(_)) if o.2.is_some() => o,
                (_, Err(e)) => return Err(e.into()),
                // (write_atomic_with always runs the closure before it succeeds.)
                (None, Ok(())) => (0, 0, None),
            }
        }
        None => {
            stdout_open()?;
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let result = score_stream(&a, &clf, rx, Box::new(out));
            let _ = reader.join();
            match result {
                Ok(o) => o,
                Err(e) => return handle_write_error(e),
            }
        }
    };
    if let Some(e) = first_error {
        return Err(stopped(e, scored as u64));
    }
    if errors > 0 {
        eprintln!("framelens score: {scored} scored, {errors} skipped");
    }
    Ok(())
}

/// Where scored documents go.
enum Output<'a> {
    Lines(Box<dyn Write + 'a>),
    Html(ScorePage<Box<dyn Write + 'a>>),
}

/// Score the documents arriving on `rx` into `sink`, batch by batch. Returns the documents
/// scored, the records skipped and the first bad record (which ends the stream unless
/// --skip-invalid); an error only when writing fails.
fn score_stream<'a>(
    a: &ScoreArgs,
    clf: &framelens::Classifier,
    rx: mpsc::Receiver<framelens::Result<Document>>,
    sink: Box<dyn Write + 'a>,
) -> std::io::Result<(usize, usize, Option<framelens::Error>)> {
    let table = a.format == "table";
    let mut out = if a.format == "html" {
        Output::Html(ScorePage::new(sink, clf, &page_title("score", &a.paths))?)
    } else {
        Output::Lines(sink)
    };
    let mut scored = 0usize;
    let mut errors = 0usize;
    // Documents with few known terms: how many, and the first ids.
    let mut few: (usize, Vec<String>) = (0, Vec::new());
    let mut first_error: Option<framelens::Error> = None;
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
                Err(e) if a.records.skip_invalid && skippable(&e) => {
                    errors += 1;
                    eprintln!("skipped: {e:#}");
                }
                Err(e) => {
                    first_error = Some(e);
                    break;
                }
            }
        }
        let html = matches!(out, Output::Html(_));
        let scored_batch: Vec<(Prediction, String)> = {
            use rayon::prelude::*;
            docs.par_iter()
                .enumerate()
                .map(|(i, d)| {
                    let mut page = String::new();
                    if !html {
                        return (clf.predict(&d.id, &d.text, a.top_terms), page);
                    }
                    let (mut p, row) = clf.predict_with_row(&d.id, &d.text, a.top_terms, &[]);
                    report::explain_runners_up(clf, &mut p, &row, a.top_terms);
                    report::document_html(&mut page, clf, &p, &row, &d.text, scored + i + 1, None);
                    (p, page)
                })
                .collect()
        };
        for (p, page) in &scored_batch {
            match &mut out {
                Output::Html(h) => h.add(page)?,
                Output::Lines(w) if table => write_table_row(w, p)?,
                Output::Lines(w) => {
                    serde_json::to_writer(&mut *w, &prediction_json(clf, p))
                        .map_err(std::io::Error::from)?;
                    w.write_all(b"\n")?;
                }
            }
        }
        for (p, _) in &scored_batch {
            if p.known_terms < FEW_KNOWN_TERMS {
                few.0 += 1;
                if few.1.len() < 3 {
                    few.1.push(report::printable(&p.id).into_owned());
                }
            }
        }
        scored += scored_batch.len();
        if let Output::Lines(w) = &mut out {
            w.flush()?;
        }
        if first_error.is_some() {
            break;
        }
    }
    drop(rx);
    if few.0 > 0 {
        eprintln!(
            "framelens score: {} document(s) with fewer than {FEW_KNOWN_TERMS} known terms (their \
             scores rest mostly on the biases; flagged in the output), e.g. {}",
            few.0,
            few.1.join(", ")
        );
    }
    match out {
        Output::Html(h) => {
            let note = (errors > 0).then(|| format!("{errors} invalid record(s) skipped."));
            h.finish(note.as_deref())?;
        }
        Output::Lines(mut w) => w.flush()?,
    }
    Ok((scored, errors, first_error))
}

/// A document with fewer known terms than this (and at least one) is flagged: a score from one
/// or two words is mostly the labels' biases, and one stray word can decide it.
pub(super) const FEW_KNOWN_TERMS: usize = 5;

fn write_table_row(out: &mut impl Write, p: &Prediction) -> std::io::Result<()> {
    // Ids, labels and terms come from the input: control characters are shown escaped, never
    // sent to the terminal.
    let show = |s: &str| report::printable(s).into_owned();
    writeln!(out, "{}", show(&p.id))?;
    let mut probs = p.probabilities.clone();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let shown: Vec<String> = probs
        .iter()
        .take(5)
        .map(|(l, v)| format!("{} {v:.3}", show(l)))
        .collect();
    let labels: Vec<String> = p.labels.iter().map(|l| show(l)).collect();
    writeln!(out, "  labels:  {}", labels.join(", "))?;
    writeln!(out, "  probs:   {}", shown.join("  "))?;
    if p.no_known_terms {
        writeln!(
            out,
            "  note:    no known term: probabilities come from the biases alone"
        )?;
    } else if p.known_terms < FEW_KNOWN_TERMS {
        writeln!(
            out,
            "  note:    only {} known term(s): the probabilities rest mostly on the biases",
            p.known_terms
        )?;
    }
    for e in &p.explanation {
        let fmt = |cs: &[framelens::explain::TermContribution]| {
            cs.iter()
                .map(|c| format!("{} ({:+.3})", show(&c.term), c.contribution))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "  {} up:    {}", show(&e.label), fmt(&e.up))?;
        writeln!(out, "  {} down:  {}", show(&e.label), fmt(&e.down))?;
    }
    writeln!(out)
}
