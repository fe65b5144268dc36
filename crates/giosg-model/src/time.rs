//! The API's date-time format.
//!
//! giosg writes `2015-08-31T16:32:17.879Z`; its reference page shows the same without the `Z`,
//! and other services add an offset. [`parse`] takes all of them: a date, `T`, a time, 0 to 9
//! fraction digits, then `Z`, `+HH:MM`, `-HH:MM` or nothing (UTC). [`format`](fn@format)
//! writes UTC with exactly three fraction digits and `Z`, or more digits when the value has
//! sub-millisecond precision, so that formatting never loses anything.
//!
//! The documented forms are fixed-width, so the parser reads digits by position instead of
//! going through a general format string.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// Why a string is not an API date-time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTimeError {
    reason: &'static str,
}

impl fmt::Display for ParseTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (expected YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM])",
            self.reason
        )
    }
}

impl std::error::Error for ParseTimeError {}

const fn err(reason: &'static str) -> ParseTimeError {
    ParseTimeError { reason }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Parses an API date-time into UTC.
///
/// ```
/// use giosg_model::time::parse;
/// let a = parse("2015-02-13T11:31:36.042").unwrap();
/// assert_eq!(a, parse("2015-02-13T13:31:36.042+02:00").unwrap());
/// assert_eq!(a, parse("2015-02-13T11:31:36.042Z").unwrap());
/// assert!(parse("2015-02-30T00:00:00").is_err());
/// ```
pub fn parse(s: &str) -> Result<DateTime<Utc>, ParseTimeError> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return Err(err("too short for a date-time"));
    }
    let sep = |i: usize, c: u8| b[i] == c;
    if !(sep(4, b'-')
        && sep(7, b'-')
        && (b[10] == b'T' || b[10] == b't')
        && sep(13, b':')
        && sep(16, b':'))
    {
        return Err(err("separators out of place"));
    }
    let num = |r: std::ops::Range<usize>| digits(&b[r]).ok_or(err("expected a digit"));
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);

    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(err("a fraction needs 1 to 9 digits"));
        }
        nanos = digits(&frac[..n]).ok_or(err("expected a digit"))? * 10u32.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset_seconds: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2]).ok_or(err("expected a digit"))?;
            let minutes = digits(&[*m1, *m2]).ok_or(err("expected a digit"))?;
            if hours > 23 || minutes > 59 {
                return Err(err("offset out of range"));
            }
            let total = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(err("unexpected text after the time")),
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(err("no such date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(err("no such time of day"));
    }
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_seconds;
    DateTime::from_timestamp(seconds, nanos).ok_or(err("out of range"))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), so parsing needs no calendar tables.
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats a date-time the way the API writes it: UTC, `.mmm`, `Z`.
///
/// A value with sub-millisecond precision keeps it (6 or 9 digits), so that
/// `parse(&format(t)) == Ok(t)` for every `t` in years 0 to 9999.
///
/// ```
/// let t = giosg_model::time::parse("2015-02-13T13:31:36+02:00").unwrap();
/// assert_eq!(giosg_model::time::format(&t), "2015-02-13T11:31:36.000Z");
/// ```
pub fn format(t: &DateTime<Utc>) -> String {
    let precision = if t.timestamp_subsec_nanos() % 1_000_000 == 0 {
        SecondsFormat::Millis
    } else {
        SecondsFormat::AutoSi
    };
    t.to_rfc3339_opts(precision, true)
}

/// Serde adapter for `Option<DateTime<Utc>>` fields in the API's format (`null` is `None`).
///
/// Use with `#[serde(default, with = "giosg_model::time::option")]`.
pub mod option {
    use super::{format, parse};
    use chrono::{DateTime, Utc};
    use serde::{de, Deserializer, Serializer};
    use std::fmt;

    /// Writes the value with [`format`](fn@super::format), or `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }

    /// Reads a value with [`parse`], or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;
    struct TimeVisitor;

    impl<'de> de::Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date-time string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(TimeVisitor).map(Some)
        }
    }

    impl de::Visitor<'_> for TimeVisitor {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date-time string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse(v).map_err(|e| E::custom(format_args!("invalid date-time {v:?}: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_chrono_on_every_day_of_four_centuries() {
        let mut date = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
        while chrono::Datelike::year(&date) < 2200 {
            let s = format!("{}T23:59:58.5+01:00", date.format("%Y-%m-%d"));
            let want = date.and_hms_milli_opt(22, 59, 58, 500).unwrap().and_utc();
            assert_eq!(parse(&s), Ok(want), "{s}");
            date = date.succ_opt().unwrap();
        }
        assert!(parse("1900-02-29T00:00:00").is_err());
        assert!(parse("2000-02-29T00:00:00").is_ok());
        assert!(parse("2023-04-31T00:00:00").is_err());
    }

    #[test]
    fn every_documented_form() {
        let want = parse("2015-02-13T11:31:36.042Z").unwrap();
        for s in [
            "2015-02-13T11:31:36.042",
            "2015-02-13T11:31:36.042z",
            "2015-02-13T11:31:36.042000",
            "2015-02-13T11:31:36.042000000Z",
            "2015-02-13T13:31:36.042+02:00",
            "2015-02-13T09:01:36.042-02:30",
        ] {
            assert_eq!(parse(s), Ok(want), "{s}");
        }
        assert_eq!(
            format(&parse("2015-02-13T11:31:36").unwrap()),
            "2015-02-13T11:31:36.000Z"
        );
        assert_eq!(
            format(&parse("2015-02-13T11:31:36.1Z").unwrap()),
            "2015-02-13T11:31:36.100Z"
        );
        assert_eq!(
            format(&parse("2015-02-13T11:31:36.123456789Z").unwrap()),
            "2015-02-13T11:31:36.123456789Z"
        );
        assert_eq!(
            format(&parse("2000-01-01T00:30:00+01:00").unwrap()),
            "1999-12-31T23:30:00.000Z"
        );
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for s in [
            "",
            "2015-02-13",
            "2015-02-13 11:31:36",
            "2015-02-13T11:31:36.",
            "2015-02-13T11:31:36.1234567890",
            "2015-02-13T11:31:36+2:00",
            "2015-02-13T11:31:36+24:00",
            "2015-13-13T11:31:36",
            "2015-02-13T25:31:36",
            "2015-02-13T11:31:36ZZ",
            "2015-02-13T11:31:3x",
            "2015-02-13T11:31:36.04é",
            "+015-02-13T11:31:36",
        ] {
            assert!(parse(s).is_err(), "{s:?} parsed");
        }
    }
}
