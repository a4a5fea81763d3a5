//! Go's `time` printing: `Time.String()`, `Time.Format(layout)` with Go's
//! reference-time layouts (`2006-01-02 15:04:05`), and `Duration.String()`.

use jiff::Zoned;

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration_string(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1u64)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac(u, div));
    }
    let secs_total = u / 1_000_000_000;
    let sub = u % 1_000_000_000;
    let h = secs_total / 3600;
    let m = (secs_total / 60) % 60;
    let s = secs_total % 60;
    let secs = frac(s * 1_000_000_000 + sub, 1_000_000_000);
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h{m}m"));
    } else if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&secs);
    out.push('s');
    out
}

/// `v / div` with the fraction printed without trailing zeros.
fn frac(v: u64, div: u64) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
pub fn time_string(t: &Zoned) -> String {
    format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
}

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

enum Chunk {
    Lit(String),
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    /// Tz abbreviation.
    Tz,
    /// Offset: with `Z` for UTC, colons, seconds, hours only.
    Offset {
        z: bool,
        colon: bool,
        seconds: bool,
        hours_only: bool,
    },
    /// Fractional seconds: digits, trim zeros (`9`), separator.
    Frac(usize, bool, char),
}

fn parse_layout(layout: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut s = layout;
    while !s.is_empty() {
        let (chunk, len) = std_chunk(s);
        match chunk {
            Some(c) => {
                if !lit.is_empty() {
                    out.push(Chunk::Lit(std::mem::take(&mut lit)));
                }
                out.push(c);
                s = &s[len..];
            }
            None => {
                let c = s.chars().next().unwrap_or(' ');
                lit.push(c);
                s = &s[c.len_utf8()..];
            }
        }
    }
    if !lit.is_empty() {
        out.push(Chunk::Lit(lit));
    }
    out
}

fn std_chunk(s: &str) -> (Option<Chunk>, usize) {
    let p = |x: &str| s.starts_with(x);
    let offsets: [(&str, bool, bool, bool); 5] = [
        ("070000", false, true, false),
        ("07:00:00", true, true, false),
        ("0700", false, false, false),
        ("07:00", true, false, false),
        ("07", false, false, true),
    ];
    let first = s.as_bytes()[0];
    match first {
        b'J' if p("January") => (Some(Chunk::LongMonth), 7),
        b'J' if p("Jan") => (Some(Chunk::Month), 3),
        b'M' if p("Monday") => (Some(Chunk::LongWeekDay), 6),
        b'M' if p("Mon") => (Some(Chunk::WeekDay), 3),
        b'M' if p("MST") => (Some(Chunk::Tz), 3),
        b'0' if p("002") => (Some(Chunk::ZeroYearDay), 3),
        b'0' if s.len() >= 2 && (b'1'..=b'6').contains(&s.as_bytes()[1]) => {
            let c = match s.as_bytes()[1] {
                b'1' => Chunk::ZeroMonth,
                b'2' => Chunk::ZeroDay,
                b'3' => Chunk::ZeroHour12,
                b'4' => Chunk::ZeroMinute,
                b'5' => Chunk::ZeroSecond,
                _ => Chunk::Year,
            };
            (Some(c), 2)
        }
        b'1' if p("15") => (Some(Chunk::Hour), 2),
        b'1' => (Some(Chunk::NumMonth), 1),
        b'2' if p("2006") => (Some(Chunk::LongYear), 4),
        b'2' => (Some(Chunk::Day), 1),
        b'_' if p("_2006") => (Some(Chunk::Lit("_".into())), 1),
        b'_' if p("__2") => (Some(Chunk::UnderYearDay), 3),
        b'_' if p("_2") => (Some(Chunk::UnderDay), 2),
        b'3' => (Some(Chunk::Hour12), 1),
        b'4' => (Some(Chunk::Minute), 1),
        b'5' => (Some(Chunk::Second), 1),
        b'P' if p("PM") => (Some(Chunk::PM), 2),
        b'p' if p("pm") => (Some(Chunk::Pm), 2),
        b'-' | b'Z' => {
            for (o, colon, seconds, hours_only) in offsets {
                if s[1..].starts_with(o) {
                    return (
                        Some(Chunk::Offset {
                            z: first == b'Z',
                            colon,
                            seconds,
                            hours_only,
                        }),
                        1 + o.len(),
                    );
                }
            }
            (None, 0)
        }
        b'.' | b',' if s.len() >= 2 && (s.as_bytes()[1] == b'0' || s.as_bytes()[1] == b'9') => {
            let d = s.as_bytes()[1];
            let n = s[1..].bytes().take_while(|&b| b == d).count();
            let next = s.as_bytes().get(1 + n);
            if next.is_some_and(u8::is_ascii_digit) {
                return (None, 0);
            }
            (Some(Chunk::Frac(n, d == b'9', first as char)), 1 + n)
        }
        _ => (None, 0),
    }
}

/// Go's `Time.Format(layout)`.
pub fn format(t: &Zoned, layout: &str) -> String {
    let mut out = String::new();
    let year = t.year() as i64;
    let month = t.month() as usize;
    let day = t.day();
    let hour = t.hour();
    let minute = t.minute();
    let second = t.second();
    let nanos = t.subsec_nanosecond();
    let wd = t.weekday().to_sunday_zero_offset() as usize;
    let yday = t.day_of_year();
    let offset = t.offset().seconds();
    for chunk in parse_layout(layout) {
        match chunk {
            Chunk::Lit(s) => out.push_str(&s),
            Chunk::LongMonth => out.push_str(LONG_MONTHS[(month + 11) % 12]),
            Chunk::Month => out.push_str(&LONG_MONTHS[(month + 11) % 12][..3]),
            Chunk::NumMonth => out.push_str(&month.to_string()),
            Chunk::ZeroMonth => out.push_str(&format!("{month:02}")),
            Chunk::LongWeekDay => out.push_str(LONG_DAYS[wd]),
            Chunk::WeekDay => out.push_str(&LONG_DAYS[wd][..3]),
            Chunk::Day => out.push_str(&day.to_string()),
            Chunk::UnderDay => out.push_str(&format!("{day:>2}")),
            Chunk::ZeroDay => out.push_str(&format!("{day:02}")),
            Chunk::UnderYearDay => out.push_str(&format!("{yday:>3}")),
            Chunk::ZeroYearDay => out.push_str(&format!("{yday:03}")),
            Chunk::Hour => out.push_str(&format!("{hour:02}")),
            Chunk::Hour12 | Chunk::ZeroHour12 => {
                let h = match hour % 12 {
                    0 => 12,
                    h => h,
                };
                if matches!(chunk, Chunk::Hour12) {
                    out.push_str(&h.to_string());
                } else {
                    out.push_str(&format!("{h:02}"));
                }
            }
            Chunk::Minute => out.push_str(&minute.to_string()),
            Chunk::ZeroMinute => out.push_str(&format!("{minute:02}")),
            Chunk::Second => out.push_str(&second.to_string()),
            Chunk::ZeroSecond => out.push_str(&format!("{second:02}")),
            Chunk::LongYear => out.push_str(&format!("{year:04}")),
            Chunk::Year => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Chunk::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Chunk::Tz => {
                let abbr = t.strftime("%Z").to_string();
                if abbr.is_empty() || abbr.starts_with(['+', '-']) {
                    // Go prints -0700 style when the zone has no name.
                    let a = offset.unsigned_abs();
                    let sign = if offset < 0 { '-' } else { '+' };
                    out.push_str(&format!("{sign}{:02}{:02}", a / 3600, (a / 60) % 60));
                } else {
                    out.push_str(&abbr);
                }
            }
            Chunk::Offset {
                z,
                colon,
                seconds,
                hours_only,
            } => {
                if z && offset == 0 {
                    out.push('Z');
                    continue;
                }
                let a = offset.unsigned_abs();
                out.push(if offset < 0 { '-' } else { '+' });
                out.push_str(&format!("{:02}", a / 3600));
                if !hours_only {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", (a / 60) % 60));
                }
                if seconds {
                    if colon {
                        out.push(':');
                    }
                    out.push_str(&format!("{:02}", a % 60));
                }
            }
            Chunk::Frac(n, trim, sep) => {
                let digits = format!("{nanos:09}");
                let mut d = digits[..n.min(9)].to_string();
                if trim {
                    while d.ends_with('0') {
                        d.pop();
                    }
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(sep);
                out.push_str(&d);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_string(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(-2_000), "-2µs");
        assert_eq!(duration_string(60_000_000_000), "1m0s");
    }

    #[test]
    fn layouts() {
        let ts = jiff::Timestamp::from_millisecond(1_257_894_000_123)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let t = ts.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(time_string(&t), "2009-11-10 23:00:00.123 +0000 UTC");
        assert_eq!(
            format(&t, "Mon Jan _2 3:04PM 2006 Z07:00"),
            "Tue Nov 10 11:00PM 2009 Z"
        );
    }
}
