//! Dates of records as people and feeds write them, and the periods analysis groups them by.
//!
//! A date is read as the calendar day written in the record, in the record's own time zone (a
//! time and zone, when present, are checked but do not move the day).

use chrono::{DateTime, Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a record's date could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateProblem {
    /// The field is absent or blank.
    Missing,
    /// No accepted form matches the text.
    Unparseable,
    /// A real date outside the accepted range (a typo such as the year 2050 or 1019).
    OutOfRange,
}

impl DateProblem {
    /// A short phrase: "missing", "unparseable", "out of range".
    pub fn as_str(self) -> &'static str {
        match self {
            DateProblem::Missing => "missing",
            DateProblem::Unparseable => "unparseable",
            DateProblem::OutOfRange => "out of range",
        }
    }
}

/// Formats tried after RFC 3339 and RFC 2822, in order, each on a prefix of the text followed by
/// nothing, a time (`T…` or ` …`) or a comma. Day-first numeric forms (`D/M/YYYY`) are not among
/// them: `3/4/2020` is read as March 4 (the US form the data sets we know use).
const DAY_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%Y%m%d",
    "%m/%d/%y",
];

/// The calendar day written in `text`, which must fall within `range` (both ends included).
///
/// Accepted: RFC 3339 and ISO 8601 dates with or without a time and zone (`2019-03-01`,
/// `2019-03-01T10:15:00Z`, `2019-03-01 10:15:00+02:00`), RFC 2822 (`Fri, 01 Mar 2019 10:15:00
/// +0000`), `M/D/YYYY`, `YYYY/MM/DD`, `D Month YYYY` and `Month D, YYYY` (full or abbreviated
/// English month names, any case), `DD-Mon-YYYY`, `YYYYMMDD` and `M/D/YY` (two-digit years 00–68 are
/// 2000–2068, 69–99 are 1969–1999).
pub fn parse_date(
    text: &str,
    range: (NaiveDate, NaiveDate),
) -> std::result::Result<NaiveDate, DateProblem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DateProblem::Missing);
    }
    let day = read_day(t).ok_or(DateProblem::Unparseable)?;
    if day < range.0 || day > range.1 {
        return Err(DateProblem::OutOfRange);
    }
    Ok(day)
}

fn read_day(t: &str) -> Option<NaiveDate> {
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.date_naive());
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.date_naive());
    }
    for f in DAY_FORMATS {
        if let Ok((day, rest)) = NaiveDate::parse_and_remainder(t, f) {
            // `%Y` takes any number of digits: "March 2019" is not March 20 of the year 19.
            let four_digit_year = !f.contains("%Y") || t.contains(&format!("{:04}", day.year()));
            let end_ok = rest.is_empty() || rest.starts_with(['T', ' ', ',']) && time_like(rest);
            if four_digit_year && end_ok {
                return Some(day);
            }
        }
    }
    None
}

/// After a date: a time such as `T10:15`, ` 10:15:00 +02:00`, `, 10:15 AM`: digits first, and
/// only digits, `:`, `.`, signs, spaces, `Z`, `AM`/`PM` and zone letters after.
fn time_like(rest: &str) -> bool {
    let r = rest.trim_start_matches(['T', ' ', ',']);
    r.starts_with(|c: char| c.is_ascii_digit())
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-' | ' '))
}

/// A calendar period that dates are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// `2019-03-01`
    Day,
    /// ISO 8601 week, Monday first: `2019-W09`
    Week,
    /// `2019-03`
    Month,
    /// `2019-Q1`
    Quarter,
    /// `2019`
    Year,
}

impl Period {
    /// The name of the period holding `day`; names of one kind sort in time order.
    pub fn label(self, day: NaiveDate) -> String {
        match self {
            Period::Day => day.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let w = day.iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
            Period::Month => format!("{:04}-{:02}", day.year(), day.month()),
            Period::Quarter => format!("{:04}-Q{}", day.year(), (day.month() - 1) / 3 + 1),
            Period::Year => format!("{:04}", day.year()),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            _ => Err(format!(
                "unknown period {s:?}: expected day, week, month, quarter or year"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range() -> (NaiveDate, NaiveDate) {
        (
            NaiveDate::from_ymd_opt(1800, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        )
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn reads_the_written_forms() {
        for (text, want) in [
            ("2019-03-01", day(2019, 3, 1)),
            ("2019-03-01T23:15:00Z", day(2019, 3, 1)),
            ("2019-03-01T23:15:00-05:00", day(2019, 3, 1)),
            ("2019-03-01 10:15:00", day(2019, 3, 1)),
            ("2019-03-01T10:15", day(2019, 3, 1)),
            ("Fri, 01 Mar 2019 10:15:00 +0000", day(2019, 3, 1)),
            ("3/1/2019", day(2019, 3, 1)),
            ("03/01/2019 10:15 AM", day(2019, 3, 1)),
            ("1 March 2019", day(2019, 3, 1)),
            ("1 mar 2019", day(2019, 3, 1)),
            ("March 1, 2019", day(2019, 3, 1)),
            ("Mar 1 2019", day(2019, 3, 1)),
            ("01-Mar-2019", day(2019, 3, 1)),
            ("2019/03/01", day(2019, 3, 1)),
            ("20190301", day(2019, 3, 1)),
            ("8/29/18", day(2018, 8, 29)),
            ("  2019-03-01  ", day(2019, 3, 1)),
        ] {
            assert_eq!(parse_date(text, range()), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn says_why_a_date_is_refused() {
        assert_eq!(parse_date("", range()), Err(DateProblem::Missing));
        assert_eq!(parse_date("  ", range()), Err(DateProblem::Missing));
        for bad in [
            "yesterday",
            "2019-02-30",
            "13/01/2019",
            "2019-03-01 and more",
            "March 2019",
        ] {
            assert_eq!(
                parse_date(bad, range()),
                Err(DateProblem::Unparseable),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_date("2050-01-01", range()),
            Err(DateProblem::OutOfRange)
        );
        assert_eq!(
            parse_date("1019-01-01", range()),
            Err(DateProblem::OutOfRange)
        );
    }

    #[test]
    fn periods_are_named_in_time_order() {
        let d = day(2019, 12, 30);
        assert_eq!(Period::Day.label(d), "2019-12-30");
        assert_eq!(Period::Week.label(d), "2020-W01");
        assert_eq!(Period::Month.label(d), "2019-12");
        assert_eq!(Period::Quarter.label(d), "2019-Q4");
        assert_eq!(Period::Year.label(d), "2019");
        assert_eq!(Period::Week.label(day(2019, 3, 1)), "2019-W09");
        assert_eq!("Month".parse::<Period>(), Ok(Period::Month));
        assert!("fortnight".parse::<Period>().is_err());
    }
}
