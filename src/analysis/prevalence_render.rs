//! Prevalence estimates rendered: an aligned table, tidy CSV, JSON, and a self-contained HTML
//! page with two SVG charts (shares over time with interval bands; shares by group with interval
//! whiskers), drawn by plotters with no script and no font download.

use plotters::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::prevalence::{PrevalenceRow, PrevalenceSpec};
use super::quantify::Method;
use crate::error::{Error, Result};
use crate::eval::html_escape;

/// A finished analysis: the estimates and what they were made with.
#[derive(Debug, Clone)]
pub struct PrevalenceReport {
    /// The state's settings.
    pub spec: PrevalenceSpec,
    /// The method behind `share`.
    pub method: Method,
    /// The interval's coverage.
    pub ci: f64,
    /// Documents counted.
    pub documents: u64,
    /// Records left out, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// One row per group (and period) and label.
    pub rows: Vec<PrevalenceRow>,
    /// The same estimates pooled over periods (by group only), for the by-group chart; equal
    /// to `rows` without `--time`.
    pub pooled: Vec<PrevalenceRow>,
}

impl PrevalenceRow {
    /// cc, pcc, acc, pacc, emq, share, share_low, share_high: the estimate columns, in order.
    pub fn estimates(&self) -> [Option<f64>; 8] {
        [
            Some(self.cc),
            self.pcc,
            self.acc,
            self.pacc,
            self.emq,
            Some(self.share),
            self.share_low,
            self.share_high,
        ]
    }
}

/// The numeric columns of the CSV after the grouping ones, in order.
pub const PREVALENCE_COLUMNS: [&str; 10] = [
    "label",
    "documents",
    "cc",
    "pcc",
    "acc",
    "pacc",
    "emq",
    "share",
    "share_low",
    "share_high",
];

impl PrevalenceReport {
    /// The grouping columns: each `--by` field, then `period` with `--time`.
    pub fn group_columns(&self) -> Vec<String> {
        let mut c = self.spec.by.clone();
        if self.spec.time.is_some() {
            c.push("period".into());
        }
        c
    }

    /// Tidy CSV: the grouping columns, then [`PREVALENCE_COLUMNS`]; an absent estimate is an
    /// empty field. Numbers in shortest round-trip form.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| Error::Render {
            what: "CSV",
            reason: e.to_string(),
        };
        let mut header = self.group_columns();
        header.extend(PREVALENCE_COLUMNS.iter().map(|s| s.to_string()));
        w.write_record(&header).map_err(io)?;
        let mut b = ryu::Buffer::new();
        for r in &self.rows {
            let mut rec: Vec<String> = r.group.clone();
            rec.extend(r.period.clone());
            rec.push(r.label.clone());
            rec.push(r.documents.to_string());
            for x in r.estimates() {
                rec.push(x.map_or(String::new(), |x| b.format(x).to_string()));
            }
            w.write_record(&rec).map_err(io)?;
        }
        w.into_inner().map_err(|e| Error::Render {
            what: "CSV",
            reason: e.to_string(),
        })
    }

    /// JSON: settings, counts and one object per row (grouping fields by name).
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut o = Map::new();
                for (f, v) in self.spec.by.iter().zip(&r.group) {
                    o.insert(f.clone(), json!(v));
                }
                if let Some(p) = &r.period {
                    o.insert("period".into(), json!(p));
                }
                o.insert("label".into(), json!(r.label));
                o.insert("documents".into(), json!(r.documents));
                o.insert("cc".into(), json!(r.cc));
                o.insert("pcc".into(), json!(r.pcc));
                o.insert("acc".into(), json!(r.acc));
                o.insert("pacc".into(), json!(r.pacc));
                o.insert("emq".into(), json!(r.emq));
                o.insert("share".into(), json!(r.share));
                o.insert("share_low".into(), json!(r.share_low));
                o.insert("share_high".into(), json!(r.share_high));
                Value::Object(o)
            })
            .collect();
        json!({
            "method": self.method.as_str(),
            "ci": self.ci,
            "bootstrap": self.spec.bootstrap,
            "seed": self.spec.seed,
            "by": self.spec.by,
            "time": self.spec.time,
            "every": self.spec.every.map(|p| p.to_string()),
            "gold": self.spec.gold,
            "multi_label": self.spec.multi_label,
            "labels": self.spec.labels,
            "documents": self.documents,
            "skipped": self.skipped,
            "rows": rows,
        })
    }

    /// An aligned text table, one line per row, shares as percentages.
    pub fn to_text(&self) -> String {
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}", 100.0 * x));
        let mut header = self.group_columns();
        header.extend(
            ["label", "docs", "cc%", "pcc%", "acc%", "pacc%", "emq%"]
                .iter()
                .map(|s| s.to_string()),
        );
        header.push(format!("share% ({})", self.method));
        header.push(format!("{:.0}% interval", 100.0 * self.ci));
        let mut lines: Vec<Vec<String>> = vec![header];
        for r in &self.rows {
            let mut l: Vec<String> = r.group.clone();
            l.extend(r.period.clone());
            l.push(r.label.clone());
            l.push(r.documents.to_string());
            for x in [Some(r.cc), r.pcc, r.acc, r.pacc, r.emq, Some(r.share)] {
                l.push(pct(x));
            }
            l.push(match (r.share_low, r.share_high) {
                (Some(a), Some(b)) => format!("{}–{}", pct(Some(a)), pct(Some(b))),
                _ => "-".into(),
            });
            lines.push(l);
        }
        let cols = lines[0].len();
        let width: Vec<usize> = (0..cols)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let text_cols = self.group_columns().len() + 1;
        let mut out = String::new();
        for l in &lines {
            let mut s = String::new();
            for (c, cell) in l.iter().enumerate() {
                let pad = width[c] - cell.chars().count();
                if c > 0 {
                    s.push_str("  ");
                }
                if c < text_cols {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out
    }

    /// A self-contained HTML page: the settings, the charts and the full table.
    pub fn to_html(&self, title: &str) -> Result<String> {
        let mut h = super::render::page_start(title, CSS);
        let skipped: u64 = self.skipped.values().sum();
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} documents{}; share = <b>{}</b>, with {:.0}% intervals from {} \
             bootstrap replicates (seed {}).{}</p>",
            self.documents,
            if skipped > 0 {
                format!(
                    " ({skipped} records left out: {})",
                    html_escape(
                        &self
                            .skipped
                            .iter()
                            .map(|(r, n)| format!("{r}: {n}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                )
            } else {
                String::new()
            },
            self.method.as_str().to_uppercase(),
            100.0 * self.ci,
            self.spec.bootstrap,
            self.spec.seed,
            if self.spec.gold {
                " Counted from the records' own labels (--gold)."
            } else {
                ""
            }
        );
        if self.spec.time.is_some() {
            h.push_str("<h2>Shares over time</h2>\n<div class=\"charts\">\n");
            for label in &self.spec.labels {
                let (svg, note) = self.time_chart(label)?;
                let _ = writeln!(
                    h,
                    "<figure class=\"over-time\">\n{svg}\n<figcaption>{}: share per {} with its \
                     interval (band). {note}</figcaption>\n</figure>",
                    html_escape(label),
                    self.spec.every.map_or("period".into(), |p| p.to_string())
                );
            }
            h.push_str("</div>\n");
        }
        h.push_str("<h2>Shares by group</h2>\n<div class=\"charts\">\n");
        for label in &self.spec.labels {
            let (svg, note) = self.group_chart(label)?;
            let _ = writeln!(
                h,
                "<figure class=\"by-group\">\n{svg}\n<figcaption>{}: share per group{} with its \
                 interval (whiskers). {note}</figcaption>\n</figure>",
                html_escape(label),
                if self.spec.time.is_some() {
                    ", all periods together,"
                } else {
                    ""
                }
            );
        }
        h.push_str("</div>\n<h2>All estimates</h2>\n<table>\n<thead><tr>");
        let mut header = self.group_columns();
        header.extend(PREVALENCE_COLUMNS.iter().map(|s| s.to_string()));
        for c in &header {
            let _ = write!(h, "<th>{}</th>", html_escape(c));
        }
        h.push_str("</tr></thead>\n<tbody>\n");
        let num = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.4}"));
        for r in &self.rows {
            h.push_str("<tr>");
            for g in r.group.iter().chain(&r.period) {
                let _ = write!(h, "<td>{}</td>", html_escape(g));
            }
            let _ = write!(
                h,
                "<td>{}</td><td>{}</td>",
                html_escape(&r.label),
                r.documents
            );
            for x in r.estimates() {
                let _ = write!(h, "<td>{}</td>", num(x));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody>\n</table>\n</body>\n</html>\n");
        Ok(h)
    }

    /// The name of a row's group: its `--by` values joined, or "all documents".
    fn group_name(group: &[String]) -> String {
        if group.is_empty() {
            "all documents".into()
        } else {
            group.join(" / ")
        }
    }

    /// Groups by documents, largest first, at most `max`; and a note when some were left out.
    fn largest_groups(&self, rows: &[&PrevalenceRow], max: usize) -> (Vec<Vec<String>>, String) {
        let mut docs: BTreeMap<&Vec<String>, u64> = BTreeMap::new();
        for r in rows {
            *docs.entry(&r.group).or_insert(0) += r.documents;
        }
        let mut groups: Vec<(&Vec<String>, u64)> = docs.into_iter().collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let total = groups.len();
        let shown: Vec<Vec<String>> = groups.iter().take(max).map(|g| g.0.clone()).collect();
        let note = if total > max {
            format!("The {max} largest of {total} groups are drawn; the table has them all.")
        } else {
            String::new()
        };
        (shown, note)
    }

    /// Shares of `label` per period, a line and an interval band per group.
    fn time_chart(&self, label: &str) -> Result<(String, String)> {
        let rows: Vec<&PrevalenceRow> = self.rows.iter().filter(|r| r.label == label).collect();
        let mut periods: Vec<&str> = rows.iter().filter_map(|r| r.period.as_deref()).collect();
        periods.sort_unstable();
        periods.dedup();
        let (groups, note) = self.largest_groups(&rows, MAX_LINES);
        let x_of = |p: &str| periods.binary_search(&p).unwrap_or(0) as f64;
        let top = rows
            .iter()
            .filter(|r| groups.contains(&r.group))
            .map(|r| r.share_high.unwrap_or(r.share).max(r.share))
            .fold(0.0f64, f64::max);
        let y1 = nice_top(top);
        let x1 = (periods.len().max(2) - 1) as f64;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (620, 340)).into_drawing_area();
            root.fill(&WHITE).map_err(render)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(48)
                .build_cartesian_2d(-0.3..x1 + 0.3, 0.0..y1)
                .map_err(render)?;
            let period_names: Vec<String> = periods.iter().map(|s| s.to_string()).collect();
            chart
                .configure_mesh()
                .x_labels(periods.len().min(12))
                .x_label_formatter(&|x: &f64| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 {
                        period_names.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|y: &f64| format!("{:.0}%", 100.0 * y))
                .y_desc("share")
                .light_line_style(RGBColor(238, 238, 238))
                .draw()
                .map_err(render)?;
            for (gi, group) in groups.iter().enumerate() {
                let colour = PALETTE[gi % PALETTE.len()];
                let mut pts: Vec<&&PrevalenceRow> =
                    rows.iter().filter(|r| &r.group == group).collect();
                pts.sort_by(|a, b| a.period.cmp(&b.period));
                let band: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|r| Some((x_of(r.period.as_deref()?), r.share_high?)))
                    .chain(
                        pts.iter()
                            .rev()
                            .filter_map(|r| Some((x_of(r.period.as_deref()?), r.share_low?))),
                    )
                    .collect();
                if band.len() >= 4 {
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15))))
                        .map_err(render)?;
                }
                let line: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|r| Some((x_of(r.period.as_deref()?), r.share)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
                    .map_err(render)?
                    .label(Self::group_name(group))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                    });
                chart
                    .draw_series(line.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                    .map_err(render)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(render)?;
            root.present().map_err(render)?;
        }
        Ok((svg, note))
    }

    /// Shares of `label` per group (pooled over periods): a dot and interval whiskers each.
    fn group_chart(&self, label: &str) -> Result<(String, String)> {
        let rows: Vec<&PrevalenceRow> = self.pooled.iter().filter(|r| r.label == label).collect();
        let (groups, note) = self.largest_groups(&rows, MAX_ROWS);
        let shown: Vec<&PrevalenceRow> = groups
            .iter()
            .filter_map(|g| rows.iter().find(|r| &r.group == g).copied())
            .collect();
        let top = shown
            .iter()
            .map(|r| r.share_high.unwrap_or(r.share).max(r.share))
            .fold(0.0f64, f64::max);
        let x1 = nice_top(top);
        let n = shown.len().max(1);
        let names: Vec<String> = shown.iter().map(|r| Self::group_name(&r.group)).collect();
        let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(8);
        let left = (7 * longest.min(40) as u32 + 16).max(60);
        let mut svg = String::new();
        {
            let height = 70 + 22 * n as u32;
            let root = SVGBackend::with_string(&mut svg, (620, height)).into_drawing_area();
            root.fill(&WHITE).map_err(render)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(left)
                .build_cartesian_2d(0.0..x1, -0.5..(n as f64 - 0.5))
                .map_err(render)?;
            chart
                .configure_mesh()
                .y_labels(n)
                .y_label_formatter(&|y: &f64| {
                    let i = y.round();
                    if (y - i).abs() < 1e-6 && i >= 0.0 {
                        names
                            .get(n - 1 - i as usize)
                            .map(|s| s.chars().take(40).collect())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .x_label_formatter(&|x: &f64| format!("{:.0}%", 100.0 * x))
                .x_desc("share")
                .disable_y_mesh()
                .light_line_style(RGBColor(238, 238, 238))
                .draw()
                .map_err(render)?;
            let colour = PALETTE[0];
            for (i, r) in shown.iter().enumerate() {
                let y = (n - 1 - i) as f64;
                if let (Some(lo), Some(hi)) = (r.share_low, r.share_high) {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(lo, y), (hi, y)],
                            colour.stroke_width(2),
                        )))
                        .map_err(render)?;
                    for x in [lo, hi] {
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                vec![(x, y - 0.2), (x, y + 0.2)],
                                colour.stroke_width(2),
                            )))
                            .map_err(render)?;
                    }
                }
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (r.share, y),
                        4,
                        RGBColor(217, 95, 2).filled(),
                    )))
                    .map_err(render)?;
            }
            root.present().map_err(render)?;
        }
        Ok((svg, note))
    }
}

/// Lines drawn in one over-time chart.
const MAX_LINES: usize = 6;
/// Groups drawn in one by-group chart.
const MAX_ROWS: usize = 30;

const PALETTE: [RGBColor; 6] = [
    RGBColor(27, 110, 179),
    RGBColor(217, 95, 2),
    RGBColor(27, 158, 119),
    RGBColor(117, 112, 179),
    RGBColor(231, 41, 138),
    RGBColor(102, 102, 102),
];

/// The axis top for shares up to `x`: the next tenth above it (at least 0.1, at most 1).
fn nice_top(x: f64) -> f64 {
    ((x * 10.0).floor() + 1.0).clamp(1.0, 10.0) / 10.0
}

fn render(e: impl std::fmt::Display) -> Error {
    Error::Render {
        what: "SVG chart",
        reason: e.to_string(),
    }
}

const CSS: &str =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;\
max-width:80rem;padding:0 1rem;color:#222}\nh1{font-size:1.5rem}\nh2{font-size:1.2rem;\
margin-top:2.5rem}\n.meta{color:#555}\n.charts{display:flex;flex-wrap:wrap;gap:1rem}\n\
figure{margin:0;flex:1 1 36rem}\nfigure svg{max-width:100%;height:auto;border:1px solid #ddd}\n\
figcaption{color:#555;font-size:.9rem}\ntable{border-collapse:collapse;\
font-variant-numeric:tabular-nums;font-size:.9rem}\nth,td{padding:.2rem .6rem;\
border-bottom:1px solid #eee;text-align:right}\nth:first-child,td:first-child{text-align:left}\n";
