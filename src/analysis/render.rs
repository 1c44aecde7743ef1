//! Comparisons rendered: an aligned text table, tidy CSV (one row per compared term), and a
//! self-contained HTML page with the Fightin' Words plot as inline SVG (no script, no font
//! download: the browser draws the SVG's text with its own sans-serif font).

use plotters::prelude::*;
use std::fmt::Write as _;

use super::compare::{Comparison, TermScore};
use crate::error::{Error, Result};
use crate::eval::html_escape;

/// The columns of [`comparisons_csv`], in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "field",
    "target",
    "reference",
    "term",
    "target_count",
    "reference_count",
    "target_total",
    "reference_total",
    "prior",
    "prior_total",
    "delta",
    "variance",
    "z",
    "chi2",
    "g2",
    "pmi",
];

/// Every compared term of every comparison, one CSV row each, most target-leaning first, written
/// to `out` as it goes. Counts are integers; the other numbers are in shortest round-trip form
/// (ryu), so reading them back gives the same `f64`.
pub fn write_comparisons_csv(
    field: &str,
    comparisons: &[Comparison],
    out: impl std::io::Write,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS)?;
    let mut float = ryu::Buffer::new();
    for c in comparisons {
        let reference = c.reference_name();
        for t in &c.terms {
            let n = &t.counts;
            let k = &t.keyness;
            w.write_field(field)?;
            w.write_field(&c.target)?;
            w.write_field(&reference)?;
            w.write_field(&t.term)?;
            for count in [n.target, n.reference, n.target_total, n.reference_total] {
                w.write_field((count as u64).to_string())?;
            }
            for x in [
                n.prior,
                n.prior_total,
                k.delta,
                k.variance,
                k.z,
                k.chi2,
                k.g2,
                k.pmi,
            ] {
                w.write_field(float.format(x))?;
            }
            w.write_record(None::<&[u8]>)?;
        }
    }
    w.flush()
}

/// [`write_comparisons_csv`] into memory.
pub fn comparisons_csv(field: &str, comparisons: &[Comparison]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_comparisons_csv(field, comparisons, &mut out).map_err(|e| Error::Render {
        what: "CSV",
        reason: e.to_string(),
    })?;
    Ok(out)
}

/// The statistic of a term as the ranking uses it.
fn stat(c: &Comparison, t: &TermScore) -> f64 {
    c.statistic.of(&t.keyness)
}

/// A readable table per comparison: the `top` terms leaning each way with their counts.
pub fn comparisons_text(field: &str, comparisons: &[Comparison], top: usize) -> String {
    let mut out = String::new();
    for (i, c) in comparisons.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let reference = c.reference_name();
        let _ = writeln!(
            out,
            "{field} = \"{}\" ({} documents, {} terms) against \"{reference}\" ({} documents, {} terms)",
            c.target, c.target_documents, c.target_total, c.reference_documents, c.reference_total
        );
        let _ = writeln!(
            out,
            "{} terms occur at least {} times in the two; ranked by {}; prior: {} documents, α0 = {}",
            c.terms.len(),
            c.min_count,
            stat_name(c),
            c.corpus_documents,
            c.prior_total
        );
        for (title, terms) in [
            (
                format!("leaning to \"{}\"", c.target),
                c.top_target(top).collect::<Vec<_>>(),
            ),
            (
                format!("leaning to \"{reference}\""),
                c.top_reference(top).collect::<Vec<_>>(),
            ),
        ] {
            let _ = writeln!(out, "\n  {title}");
            if terms.is_empty() {
                let _ = writeln!(out, "    (none)");
                continue;
            }
            let width = terms
                .iter()
                .map(|t| t.term.chars().count())
                .max()
                .unwrap_or(4)
                .clamp(4, 40);
            let _ = writeln!(
                out,
                "    {:<width$}  {:>9}  {:>8}  {:>9}  {:>9}",
                "term",
                stat_name(c),
                "delta",
                "target",
                "reference"
            );
            for t in terms {
                let term: String = t.term.chars().take(40).collect();
                let _ = writeln!(
                    out,
                    "    {term:<width$}  {:>9.3}  {:>8.3}  {:>9}  {:>9}",
                    stat(c, t),
                    t.keyness.delta,
                    t.counts.target,
                    t.counts.reference
                );
            }
        }
    }
    out
}

/// The column header of the ranking statistic.
fn stat_name(c: &Comparison) -> &'static str {
    match c.statistic {
        super::Statistic::LogOdds => "z",
        super::Statistic::Chi2 => "chi2",
        super::Statistic::Lr => "G2",
        super::Statistic::Pmi => "pmi",
    }
}

/// Most points drawn in one plot: beyond it, the strongest terms each way and an even sample of
/// the middle are drawn (a browser slows down on tens of thousands of SVG circles).
const MAX_POINTS: usize = 5000;
/// Terms considered for a label in the plot, each way (those that would overlap are not labelled).
const LABELLED: usize = 15;
/// |z| above this is drawn in colour: 1.96, a two-sided 5% level for one term.
const Z_SIGNIFICANT: f64 = 1.96;

/// A self-contained page: per comparison, the Fightin' Words plot (x: ln of the term's count in
/// both groups, y: z, the strongest terms labelled) and the two ranked lists.
pub fn comparisons_html(
    title: &str,
    field: &str,
    comparisons: &[Comparison],
    top: usize,
) -> Result<String> {
    let mut h = page_start(title, CSS);
    for (i, c) in comparisons.iter().enumerate() {
        let reference = c.reference_name();
        let _ = writeln!(
            h,
            "<section class=\"comparison\" id=\"c{i}\">\n<h2>{} = “{}” against “{}”</h2>",
            html_escape(field),
            html_escape(&c.target),
            html_escape(&reference)
        );
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} documents ({} terms) against {} documents ({} terms); {} terms \
             occur at least {} times in the two; ranked by {}; the prior is the term counts of \
             {} documents scaled to α0 = {}.</p>",
            c.target_documents,
            c.target_total,
            c.reference_documents,
            c.reference_total,
            c.terms.len(),
            c.min_count,
            stat_name(c),
            c.corpus_documents,
            c.prior_total
        );
        let (svg, drawn) = plot(c)?;
        let _ = writeln!(
            h,
            "<figure>\n{svg}\n<figcaption>Each point is a term: x is ln(its count in both groups), \
             y its z-score; coloured when |z| &gt; {Z_SIGNIFICANT} (orange: “{}”, blue: “{}”). \
             {drawn}</figcaption>\n</figure>",
            html_escape(&c.target),
            html_escape(&reference)
        );
        h.push_str("<div class=\"lists\">\n");
        for (heading, class, terms) in [
            (&c.target, "target", c.top_target(top).collect::<Vec<_>>()),
            (&reference, "reference", c.top_reference(top).collect()),
        ] {
            let _ = writeln!(
                h,
                "<table class=\"{class}\">\n<caption>Leaning to “{}”</caption>\n<thead><tr>\
                 <th>term</th><th>{}</th><th>delta</th><th>target</th><th>reference</th></tr>\
                 </thead>\n<tbody>",
                html_escape(heading),
                stat_name(c)
            );
            for t in terms {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
                    html_escape(&t.term),
                    stat(c, t),
                    t.keyness.delta,
                    t.counts.target,
                    t.counts.reference
                );
            }
            h.push_str("</tbody>\n</table>\n");
        }
        h.push_str("</div>\n</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    Ok(h)
}

/// The start of a self-contained page: doctype, head with `title` and the inline `css`, and the
/// title as its heading.
pub(super) fn page_start(title: &str, css: &str) -> String {
    let t = html_escape(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>\n{css}</style>\n</head>\n<body>\n<h1>{t}</h1>\n"
    )
}

/// The terms drawn: all of them, or beyond [`MAX_POINTS`] the strongest each way and an even
/// sample of the middle. Returns the terms and a sentence saying which were drawn.
fn drawn_terms(c: &Comparison) -> (Vec<&TermScore>, String) {
    let n = c.terms.len();
    if n <= MAX_POINTS {
        return (
            c.terms.iter().collect(),
            format!("All {n} terms are drawn."),
        );
    }
    let edge = MAX_POINTS * 3 / 10;
    let middle = n - 2 * edge;
    let step = middle.div_ceil(MAX_POINTS - 2 * edge);
    let mut terms: Vec<&TermScore> = c.terms[..edge].iter().collect();
    terms.extend(c.terms[edge..n - edge].iter().step_by(step));
    terms.extend(&c.terms[n - edge..]);
    let sentence = format!(
        "{} of {n} terms are drawn: the {edge} strongest each way and every {step}th of the rest.",
        terms.len()
    );
    (terms, sentence)
}

/// The Fightin' Words plot of one comparison as an SVG element.
fn plot(c: &Comparison) -> Result<(String, String)> {
    let (terms, sentence) = drawn_terms(c);
    let x = |t: &TermScore| (t.counts.target + t.counts.reference).ln();
    let y = |t: &TermScore| t.keyness.z;
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for t in &terms {
        x0 = x0.min(x(t));
        x1 = x1.max(x(t));
        y0 = y0.min(y(t));
        y1 = y1.max(y(t));
    }
    // Room for the labels, and a visible range when every point is at one place.
    let (xpad, ypad) = (((x1 - x0) * 0.08).max(0.5), ((y1 - y0) * 0.05).max(0.5));
    let err = |e: &dyn std::fmt::Display| Error::Render {
        what: "SVG chart",
        reason: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (880, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((x0 - 0.2)..(x1 + xpad), (y0 - ypad)..(y1 + ypad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("ln(count in both groups)")
            .y_desc("z (log-odds, informative Dirichlet prior)")
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(|e| err(&e))?;
        let target_colour = RGBColor(217, 95, 2);
        let reference_colour = RGBColor(27, 110, 179);
        let grey = RGBColor(190, 190, 190);
        let colour = |z: f64| {
            if z > Z_SIGNIFICANT {
                target_colour
            } else if z < -Z_SIGNIFICANT {
                reference_colour
            } else {
                grey
            }
        };
        chart
            .draw_series(
                terms
                    .iter()
                    .map(|t| Circle::new((x(t), y(t)), 2, colour(y(t)).filled())),
            )
            .map_err(|e| err(&e))?;
        let by_z = |a: &&TermScore, b: &&TermScore| b.keyness.z.total_cmp(&a.keyness.z);
        let mut ranked: Vec<&TermScore> = c.terms.iter().collect();
        ranked.sort_by(by_z);
        let candidates = ranked
            .iter()
            .take(LABELLED)
            .filter(|t| t.keyness.z > 0.0)
            .chain(
                ranked
                    .iter()
                    .rev()
                    .take(LABELLED)
                    .filter(|t| t.keyness.z < 0.0),
            );
        // Labels are placed strongest first and one that would overlap a placed one is left
        // out (the lists below the plot name every term): boxes estimated at 7 px a character.
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
        let mut labels = Vec::new();
        for t in candidates {
            let (px, py) = chart.backend_coord(&(x(t), y(t)));
            let w = 7 * t.term.chars().count().min(40) as i32;
            let b = (px + 3, py - 13, px + 3 + w, py + 1);
            let overlaps = placed
                .iter()
                .any(|p| b.0 < p.2 && p.0 < b.2 && b.1 < p.3 && p.1 < b.3);
            if !overlaps {
                placed.push(b);
                labels.push(*t);
            }
        }
        let side_colour = |z: f64| {
            if z > 0.0 {
                target_colour
            } else {
                reference_colour
            }
        };
        chart
            .draw_series(labels.iter().map(|t| {
                Text::new(
                    t.term.clone(),
                    (x(t), y(t)),
                    ("sans-serif", 12).into_font().color(&side_colour(y(t))),
                )
            }))
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok((svg, sentence))
}

const CSS: &str =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;\
max-width:72rem;padding:0 1rem;color:#222}\nh1{font-size:1.5rem}\nh2{font-size:1.2rem;\
margin-top:2.5rem}\n.meta{color:#555}\nfigure{margin:1rem 0}\nfigure svg{max-width:100%;\
height:auto;border:1px solid #ddd}\nfigcaption{color:#555;font-size:.9rem}\n.lists{display:flex;\
gap:2rem;flex-wrap:wrap}\ntable{border-collapse:collapse;font-variant-numeric:tabular-nums}\n\
caption{text-align:left;font-weight:600;padding:.3rem 0}\nth,td{padding:.2rem .6rem;\
border-bottom:1px solid #eee;text-align:right}\nth:first-child,td:first-child{text-align:left}\n\
table.target caption{color:#b34f00}\ntable.reference caption{color:#1b6eb3}\n";
