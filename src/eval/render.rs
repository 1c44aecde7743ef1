//! The report rendered for people: aligned text tables (`Display`, aligned by terminal cells) and
//! one self-contained HTML page (inline CSS, no script, no external resource).

use std::fmt;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::metrics::{ratio, ConfusionMatrix, Report};

impl Report {
    /// Renders the report as one self-contained HTML page: inline CSS, no script, no external
    /// resource. It shows the summary figures, the per-label table and the confusion matrix as a
    /// heat map whose cell shade is the row-normalised value (share of the gold row; for
    /// multi-label reports, share of the label's negatives for TN/FP and of its positives for FN/TP).
    /// `title` and every label are HTML-escaped.
    pub fn to_html(&self, title: &str) -> String {
        self.to_html_with(title, "")
    }

    /// [`Report::to_html`] with `extra` HTML (more sections) inserted before the footer.
    pub fn to_html_with(&self, title: &str, extra: &str) -> String {
        use std::fmt::Write;
        let mut h = String::new();
        let t = html_escape(title);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{t}</title>\n<style>\n{HTML_CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n"
        );
        let _ = writeln!(
            h,
            "<p class=\"meta\">{} documents · {} · {} labels{}</p>",
            self.n_documents,
            if self.multi_label {
                "multi-label"
            } else {
                "single-label"
            },
            self.labels.len(),
            if self.n_empty_predictions > 0 {
                format!(" · {} without prediction", self.n_empty_predictions)
            } else {
                String::new()
            }
        );
        h.push_str("<div class=\"cards\">\n");
        for (name, value) in self.summary_rows() {
            let _ = writeln!(
                h,
                "<div class=\"card\"><div class=\"v\">{value:.3}</div><div class=\"k\">{name}</div></div>"
            );
        }
        h.push_str(
            "</div>\n<h2>Per label</h2>\n<table class=\"num\">\n<thead><tr><th>label</th>\
                    <th>precision</th><th>recall</th><th>F1</th><th>support</th><th>TP</th>\
                    <th>FP</th><th>FN</th></tr></thead>\n<tbody>\n",
        );
        for m in &self.per_label {
            let _ = writeln!(
                h,
                "<tr{}><th>{}{}</th><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if m.unknown { " class=\"unknown\"" } else { "" },
                html_escape(&m.label),
                if m.unknown { " *" } else { "" },
                m.precision,
                m.recall,
                m.f1,
                m.support,
                m.tp,
                m.fp,
                m.fn_
            );
        }
        h.push_str("</tbody>\n<tbody class=\"avg\">\n");
        let support = self.total_support();
        for (name, p, r, f) in self.average_rows() {
            let _ = writeln!(
                h,
                "<tr><th>{name}</th><td>{p:.3}</td><td>{r:.3}</td><td>{f:.3}</td><td>{support}</td><td></td><td></td><td></td></tr>"
            );
        }
        h.push_str("</tbody>\n</table>\n");
        if !self.unknown_labels.is_empty() {
            let list: Vec<String> = self
                .unknown_labels
                .iter()
                .map(|(l, c)| format!("{} ({c} document{})", html_escape(l), plural(*c)))
                .collect();
            let _ = writeln!(
                h,
                "<p class=\"note\">* not a model label, so never predicted: {}.</p>",
                list.join(", ")
            );
        }
        h.push_str("<h2>Confusion matrix</h2>\n");
        match &self.confusion_matrix {
            ConfusionMatrix::SingleLabel(matrix) if matrix.len() > MATRIX_LABELS => {
                // A thousand-label square would be a million cells.
                h.push_str(&format!(
                    "<p>Not shown for {} labels (a {0} × {0} table; <code>eval --json</code> has it).</p>\n",
                    matrix.len()
                ));
            }
            ConfusionMatrix::SingleLabel(matrix) => {
                let columns = self
                    .confusion_columns
                    .clone()
                    .unwrap_or_else(|| self.labels.clone());
                h.push_str("<p class=\"note\">Rows: gold label; columns: predicted label. Shade: share of the row.</p>\n");
                h.push_str(
                    "<table class=\"cm\">\n<thead><tr><th class=\"corner\">gold \\ predicted</th>",
                );
                for c in &columns {
                    let _ = write!(h, "<th class=\"col\">{}</th>", html_escape(c));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for (label, row) in self.labels.iter().zip(matrix) {
                    let total: usize = row.iter().sum();
                    let _ = write!(h, "<tr><th>{}</th>", html_escape(label));
                    for (j, &count) in row.iter().enumerate() {
                        let label_j = columns.get(j).map(String::as_str).unwrap_or("");
                        heat_cell(&mut h, count, total, label == label_j);
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            ConfusionMatrix::MultiLabel(matrices) => {
                h.push_str("<p class=\"note\">One 2×2 matrix per label, [[TN, FP], [FN, TP]] as sklearn's \
                            multilabel_confusion_matrix. Shade: TN and FP as a share of the label's negatives, \
                            FN and TP as a share of its positives.</p>\n");
                h.push_str("<table class=\"cm\">\n<thead><tr><th class=\"corner\">label</th><th>TN</th><th>FP</th>\
                            <th>FN</th><th>TP</th></tr></thead>\n<tbody>\n");
                for (label, m) in self.labels.iter().zip(matrices) {
                    let _ = write!(h, "<tr><th>{}</th>", html_escape(label));
                    let negatives = m[0][0] + m[0][1];
                    let positives = m[1][0] + m[1][1];
                    heat_cell(&mut h, m[0][0], negatives, true);
                    heat_cell(&mut h, m[0][1], negatives, false);
                    heat_cell(&mut h, m[1][0], positives, false);
                    heat_cell(&mut h, m[1][1], positives, true);
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
        }
        h.push_str(extra);
        h.push_str("<p class=\"foot\">Generated by framelens. Undefined ratios count as 0 (scikit-learn zero_division=0).</p>\n</body>\n</html>\n");
        h
    }
}

const HTML_CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em}
.meta,.note,.foot{color:#555;font-size:.9em}.foot{margin-top:2em}
.cards{display:flex;flex-wrap:wrap;gap:.6em}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:7em}
.card .v{font-size:1.4em;font-variant-numeric:tabular-nums}.card .k{color:#555;font-size:.85em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.25em .6em;border-bottom:1px solid #eee}
td{text-align:right}th{text-align:left;font-weight:600}
thead th{border-bottom:2px solid #bbb;vertical-align:bottom}
tbody.avg th,tbody.avg td{border-top:2px solid #bbb;font-style:italic}
tr.unknown th{color:#a33}
table.cm td{min-width:3em;text-align:center;border:1px solid #fff}
table.cm th.col{max-width:9em;overflow-wrap:anywhere;text-align:center}
td.hit{outline:2px solid #2a6;outline-offset:-2px}
";

/// Most labels whose single-label confusion matrix the text report and the page show (and the
/// page draws as a heat map): past it the square is labels² cells.
pub(crate) const MATRIX_LABELS: usize = 30;

/// One heat-map cell: background alpha = count / row_total; diagonal (correct) cells are outlined.
fn heat_cell(h: &mut String, count: usize, row_total: usize, correct: bool) {
    use std::fmt::Write;
    let share = ratio(count, row_total);
    let text = if share > 0.55 { "#fff" } else { "#222" };
    let _ = write!(
        h,
        "<td{} style=\"background:rgba(31,94,180,{share:.3});color:{text}\" title=\"{count} of {row_total} ({:.1}%)\">{count}</td>",
        if correct { " class=\"hit\"" } else { "" },
        share * 100.0
    );
}

/// Escapes `&`, `<`, `>`, `"` and `'` so any string is safe as HTML text or attribute value.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Shortens `s` to at most `width` terminal cells (an ellipsis marks the cut) and blanks control
/// characters, so a label cannot break a text table.
pub(super) fn truncate_cells(s: &str, width: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cells(&clean) <= width {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The width of `s` in terminal cells: a CJK character takes two, a combining mark none.
pub(super) fn cells(s: &str) -> usize {
    s.width()
}

/// Text in a table column padded by terminal cells, not characters, so that `{:<w$}` and `{:>w$}`
/// line up Chinese, accented and Latin labels alike.
pub(super) struct Cell<'a>(pub(super) &'a str);

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pad = f.width().unwrap_or(0).saturating_sub(cells(self.0));
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Right) => (pad, 0),
            Some(fmt::Alignment::Center) => (pad / 2, pad - pad / 2),
            _ => (0, pad),
        };
        write!(f, "{:before$}{}{:after$}", "", self.0, "")
    }
}

/// Longest label (in terminal cells) shown in full in the text tables; longer ones are cut with
/// an ellipsis.
const MAX_LABEL_WIDTH: usize = 32;
/// Confusion-matrix columns are headed by label names when every name fits in this many
/// terminal cells, by the labels' numbers otherwise (the rows then show number and name).
const MAX_COLUMN_HEADER: usize = 12;

/// Text report in the layout of sklearn's `classification_report` (3 decimals): the per-label table
/// with tp/fp/fn, the averages, the multi-label figures, notes on unknown labels and empty
/// predictions, then the confusion matrix with label names as row and column headers. Columns are
/// measured in terminal cells (a CJK character takes two), labels wider than 32 cells are cut, and
/// when some column name is wider than 12 cells the columns are numbered instead and the rows
/// carry the same numbers.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} documents, {}, {} labels",
            self.n_documents,
            if self.multi_label {
                "multi-label"
            } else {
                "single-label"
            },
            self.labels.len()
        )?;
        writeln!(f)?;
        let shown: Vec<String> = self
            .per_label
            .iter()
            .map(|m| {
                let name = truncate_cells(&m.label, MAX_LABEL_WIDTH);
                if m.unknown {
                    format!("{name} *")
                } else {
                    name
                }
            })
            .collect();
        let w = shown
            .iter()
            .map(|s| cells(s))
            .chain(["weighted avg".len(), "subset accuracy".len()])
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "{:<w$}  {:>9}  {:>9}  {:>9}  {:>7}  {:>6}  {:>6}  {:>6}",
            "", "precision", "recall", "f1-score", "support", "tp", "fp", "fn"
        )?;
        writeln!(f)?;
        for (name, m) in shown.iter().zip(&self.per_label) {
            writeln!(
                f,
                "{:<w$}  {:>9.3}  {:>9.3}  {:>9.3}  {:>7}  {:>6}  {:>6}  {:>6}",
                Cell(name),
                m.precision,
                m.recall,
                m.f1,
                m.support,
                m.tp,
                m.fp,
                m.fn_
            )?;
        }
        writeln!(f)?;
        let support = self.total_support();
        let accuracy_name = if self.multi_label {
            "subset accuracy"
        } else {
            "accuracy"
        };
        writeln!(
            f,
            "{accuracy_name:<w$}  {:>9}  {:>9}  {:>9.3}  {:>7}",
            "", "", self.accuracy, self.n_documents
        )?;
        for (name, p, r, f1) in self.average_rows() {
            writeln!(f, "{name:<w$}  {p:>9.3}  {r:>9.3}  {f1:>9.3}  {support:>7}")?;
        }
        if let (Some(h), Some(ct), Some(cp)) = (
            self.hamming_loss,
            self.label_cardinality_true,
            self.label_cardinality_pred,
        ) {
            writeln!(f)?;
            writeln!(f, "hamming loss: {h:.4}")?;
            writeln!(f, "labels per document: {ct:.3} gold, {cp:.3} predicted")?;
        }
        if !self.unknown_labels.is_empty() {
            let list: Vec<String> = self
                .unknown_labels
                .iter()
                .map(|(l, c)| {
                    format!(
                        "{} ({c} document{})",
                        truncate_cells(l, MAX_LABEL_WIDTH),
                        plural(*c)
                    )
                })
                .collect();
            writeln!(f)?;
            writeln!(
                f,
                "* not a model label, so never predicted: {}",
                list.join(", ")
            )?;
        }
        if self.n_empty_predictions > 0 {
            writeln!(f)?;
            writeln!(
                f,
                "{} document{} got no predicted label{}",
                self.n_empty_predictions,
                plural(self.n_empty_predictions),
                if self.multi_label {
                    ""
                } else {
                    " (confusion-matrix column \"(none)\")"
                }
            )?;
        }
        writeln!(f)?;
        match &self.confusion_matrix {
            ConfusionMatrix::SingleLabel(matrix) if matrix.len() > MATRIX_LABELS => {
                // A thousand-label square would be megabytes of terminal.
                writeln!(
                    f,
                    "confusion matrix: not shown for {} labels (a {0} × {0} table; --json has it)",
                    matrix.len()
                )?;
            }
            ConfusionMatrix::SingleLabel(matrix) => {
                let columns = self
                    .confusion_columns
                    .clone()
                    .unwrap_or_else(|| self.labels.clone());
                let numbered = columns.iter().any(|c| cells(c) > MAX_COLUMN_HEADER);
                let headers: Vec<String> = columns
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        if !numbered {
                            truncate_cells(c, MAX_COLUMN_HEADER)
                        } else if j == self.labels.len() {
                            c.clone()
                        } else {
                            format!("[{j}]")
                        }
                    })
                    .collect();
                let rows: Vec<String> = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if numbered {
                            format!("[{i}] {}", truncate_cells(l, MAX_LABEL_WIDTH))
                        } else {
                            truncate_cells(l, MAX_LABEL_WIDTH)
                        }
                    })
                    .collect();
                let max_count = matrix.iter().flatten().copied().max().unwrap_or(0);
                let cw = headers
                    .iter()
                    .map(|h| cells(h))
                    .chain([max_count.to_string().len()])
                    .max()
                    .unwrap_or(1);
                let rw = rows
                    .iter()
                    .map(|r| cells(r))
                    .chain(["gold \\ predicted".len()])
                    .max()
                    .unwrap_or(0);
                writeln!(
                    f,
                    "confusion matrix (rows: gold label, columns: predicted label)"
                )?;
                write!(f, "{:<rw$}", "gold \\ predicted")?;
                for h in &headers {
                    write!(f, "  {:>cw$}", Cell(h))?;
                }
                writeln!(f)?;
                for (r, row) in rows.iter().zip(matrix) {
                    write!(f, "{:<rw$}", Cell(r))?;
                    for c in row {
                        write!(f, "  {c:>cw$}")?;
                    }
                    writeln!(f)?;
                }
            }
            ConfusionMatrix::MultiLabel(matrices) => {
                let rw = shown.iter().map(|s| cells(s)).chain([5]).max().unwrap_or(5);
                let max_count = matrices
                    .iter()
                    .flatten()
                    .flatten()
                    .copied()
                    .max()
                    .unwrap_or(0);
                let cw = max_count.to_string().len().max(2);
                writeln!(f, "confusion matrix per label (sklearn multilabel_confusion_matrix: [[TN, FP], [FN, TP]])")?;
                writeln!(
                    f,
                    "{:<rw$}  {:>cw$}  {:>cw$}  {:>cw$}  {:>cw$}",
                    "label", "TN", "FP", "FN", "TP"
                )?;
                for (name, m) in shown.iter().zip(matrices) {
                    writeln!(
                        f,
                        "{:<rw$}  {:>cw$}  {:>cw$}  {:>cw$}  {:>cw$}",
                        Cell(name),
                        m[0][0],
                        m[0][1],
                        m[1][0],
                        m[1][1]
                    )?;
                }
            }
        }
        Ok(())
    }
}
