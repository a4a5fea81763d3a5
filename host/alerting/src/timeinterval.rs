//! Time intervals as Alertmanager 0.25 has them (`timeinterval` package):
//! `times` (`HH:MM` to `HH:MM`, end exclusive, `24:00` allowed as an end),
//! `weekdays` (`monday:friday`, `sunday`), `days_of_month` (`1:5`, `-3:-1`
//! for the last three days, `1:-1`), `months` (`january:march` or `1:3`),
//! `years` (`2020:2022`) and `location` (an IANA zone name, `UTC` or
//! `Local`). Every field that is set must contain the instant; a field left
//! out does not restrict. A named interval is a list of these, matched when
//! any of them contains the instant.
//!
//! Parsing validates as Alertmanager does and refuses with its messages
//! (`start day cannot be before end day`, `-50 is not a valid day of the
//! month: out of range`, …). Time zones come from jiff's database (the
//! system's `/usr/share/zoneinfo`).

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Minutes of the day, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First minute inside the range (0..1440).
    pub start_minute: u32,
    /// First minute after the range (1..=1440).
    pub end_minute: u32,
}

/// An inclusive range of integers: weekdays (0 = Sunday), days of the month
/// (negative counts from the end), months (1 = January) or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InclusiveRange {
    /// First member.
    pub begin: i32,
    /// Last member.
    pub end: i32,
}

/// A time zone named in the config.
#[derive(Debug, Clone)]
pub struct Location {
    /// The name as written.
    pub name: String,
    /// The zone.
    pub tz: TimeZone,
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// One time interval: the instant must fall into every field that is set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    /// Times of day.
    pub times: Option<Vec<TimeRange>>,
    /// Days of the week.
    pub weekdays: Option<Vec<WeekdayRange>>,
    /// Days of the month.
    pub days_of_month: Option<Vec<DayOfMonthRange>>,
    /// Months.
    pub months: Option<Vec<MonthRange>>,
    /// Years.
    pub years: Option<Vec<YearRange>>,
    /// The zone the other fields are read in; UTC when absent.
    pub location: Option<Location>,
}

/// A range of weekdays, 0 = Sunday … 6 = Saturday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekdayRange(pub InclusiveRange);
/// A range of days of the month, negative ones counted from the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayOfMonthRange(pub InclusiveRange);
/// A range of months, 1 = January.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange(pub InclusiveRange);
/// A range of years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearRange(pub InclusiveRange);

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Parses `a` or `a:b` (lower-cased) with `member` for each end.
fn parse_range(
    input: &str,
    member: impl Fn(&str) -> Result<i32, String>,
) -> Result<InclusiveRange, String> {
    let lower = input.to_lowercase();
    match lower.split_once(':') {
        Some((a, b)) => {
            if b.contains(':') {
                return Err(format!("couldn't parse range {lower}, invalid format"));
            }
            Ok(InclusiveRange {
                begin: member(a)?,
                end: member(b)?,
            })
        }
        None => {
            let v = member(&lower)?;
            Ok(InclusiveRange { begin: v, end: v })
        }
    }
}

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i32, String> {
    s.parse::<i32>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

impl WeekdayRange {
    /// Parses `monday`, `monday:friday`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let r = parse_range(s, |m| {
            WEEKDAYS
                .iter()
                .position(|d| *d == m)
                .map(|p| p as i32)
                .ok_or_else(|| format!("{m} is not a valid weekday"))
        })?;
        if r.begin > r.end {
            return Err("start day cannot be before end day".into());
        }
        Ok(WeekdayRange(r))
    }
}

impl DayOfMonthRange {
    /// Parses `1`, `1:5`, `-3:-1`, `1:-1`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let r = parse_range(s, atoi)?;
        for v in [r.begin, r.end] {
            if v == 0 || !(-31..=31).contains(&v) {
                return Err(format!("{v} is not a valid day of the month: out of range"));
            }
        }
        if r.begin < 0 && r.end > 0 {
            return Err("end day must be negative if start day is negative".into());
        }
        // With 28 days, the shortest month, a range that is empty there is
        // refused; longer months are clamped when matching.
        let on28 = |v: i32| if v < 0 { 28 + v } else { v };
        if on28(r.begin) > on28(r.end) {
            return Err(format!(
                "end day {} is always before start day {}",
                r.end, r.begin
            ));
        }
        Ok(DayOfMonthRange(r))
    }
}

impl MonthRange {
    /// Parses `january`, `1`, `january:march`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let r = parse_range(s, |m| match MONTHS.iter().position(|x| *x == m) {
            Some(p) => Ok(p as i32 + 1),
            None => match m.parse::<i32>() {
                Ok(n) => Ok(n),
                _ => Err(format!("{m} is not a valid month")),
            },
        })?;
        if r.begin > r.end {
            let name = |v: i32| MONTHS.get((v - 1) as usize).copied().unwrap_or("");
            return Err(format!(
                "end month {} is before start month {}",
                name(r.end),
                name(r.begin)
            ));
        }
        Ok(MonthRange(r))
    }
}

impl YearRange {
    /// Parses `2020`, `2020:2022`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let r = parse_range(s, atoi)?;
        if r.begin > r.end {
            return Err(format!(
                "end year {} is before start year {}",
                r.end, r.begin
            ));
        }
        Ok(YearRange(r))
    }
}

/// `HH:MM` (00:00 to 23:59, or 24:00) into minutes of the day.
fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    let b = s.as_bytes();
    if s == "24:00" {
        return Ok(1440);
    }
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl TimeRange {
    /// Builds a range from its two clock times.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Result<Self, String> {
        let (Some(start), Some(end)) = (
            start.filter(|s| !s.is_empty()),
            end.filter(|s| !s.is_empty()),
        ) else {
            return Err("both start and end times must be provided".into());
        };
        let (start_minute, end_minute) = (parse_clock(start)?, parse_clock(end)?);
        if start_minute >= end_minute {
            return Err("start time cannot be equal or greater than end time".into());
        }
        Ok(TimeRange {
            start_minute,
            end_minute,
        })
    }
}

impl Location {
    /// Looks a zone up by name (`Local` is the system's zone).
    pub fn parse(name: &str) -> Result<Self, String> {
        let tz = match name {
            "" | "UTC" => TimeZone::UTC,
            "Local" => TimeZone::system(),
            other => TimeZone::get(other).map_err(|_| format!("unknown time zone {other}"))?,
        };
        Ok(Location {
            name: name.to_owned(),
            tz,
        })
    }
}

/// Deserializes a range from a string, or an integer for the numeric kinds.
struct RangeVisitor<T>(fn(&str) -> Result<T, String>);

impl<T> Visitor<'_> for RangeVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a range string such as \"1:5\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.0)(&v.to_string()).map_err(E::custom)
    }
}

macro_rules! range_deserialize {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(RangeVisitor(<$t>::parse))
            }
        }
    };
}
range_deserialize!(WeekdayRange);
range_deserialize!(DayOfMonthRange);
range_deserialize!(MonthRange);
range_deserialize!(YearRange);

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Location::parse(&name).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            start_time: Option<String>,
            end_time: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        TimeRange::parse(raw.start_time.as_deref(), raw.end_time.as_deref())
            .map_err(de::Error::custom)
    }
}

fn weekday_index(w: Weekday) -> i32 {
    i32::from(w.to_sunday_zero_offset())
}

impl TimeInterval {
    /// Whether the instant lies in this interval.
    pub fn contains(&self, t: Timestamp) -> bool {
        let tz = self
            .location
            .as_ref()
            .map_or(TimeZone::UTC, |l| l.tz.clone());
        let zoned = t.to_zoned(tz);
        let dt = zoned.datetime();
        if let Some(times) = &self.times {
            let minute =
                u32::from(dt.hour().unsigned_abs()) * 60 + u32::from(dt.minute().unsigned_abs());
            if !times
                .iter()
                .any(|r| minute >= r.start_minute && minute < r.end_minute)
            {
                return false;
            }
        }
        if let Some(days) = &self.days_of_month {
            let in_month = i32::from(dt.date().days_in_month());
            let day = i32::from(dt.day());
            let hit = days.iter().any(|DayOfMonthRange(r)| {
                let abs = |v: i32| if v < 0 { in_month + v + 1 } else { v };
                let (begin, end) = (abs(r.begin), abs(r.end));
                // A range that starts after this month's last day is skipped
                // (`30:31` in February); the rest is clamped to the month.
                if begin > in_month {
                    return false;
                }
                let begin = begin.clamp(-in_month, in_month);
                let end = end.clamp(-in_month, in_month);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        let within = |v: i32, r: &InclusiveRange| v >= r.begin && v <= r.end;
        if let Some(months) = &self.months {
            let m = i32::from(dt.month());
            if !months.iter().any(|MonthRange(r)| within(m, r)) {
                return false;
            }
        }
        if let Some(days) = &self.weekdays {
            let w = weekday_index(dt.weekday());
            if !days.iter().any(|WeekdayRange(r)| within(w, r)) {
                return false;
            }
        }
        if let Some(years) = &self.years {
            let y = i32::from(dt.year());
            if !years.iter().any(|YearRange(r)| within(y, r)) {
                return false;
            }
        }
        true
    }
}

/// Whether any of the intervals contains the instant.
pub fn any_contains(intervals: &[TimeInterval], t: Timestamp) -> bool {
    intervals.iter().any(|i| i.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_parsing() {
        assert_eq!(parse_clock("00:00"), Ok(0));
        assert_eq!(parse_clock("24:00"), Ok(1440));
        assert_eq!(parse_clock("17:39"), Ok(1059));
        assert!(parse_clock("24:01").is_err());
        assert!(parse_clock("1:00").is_err());
        assert!(parse_clock("é1:00").is_err());
    }
}
