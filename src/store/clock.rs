//! The time of audit records. It comes from the system clock; a record is never dated before
//! the record it follows (a clock stepped back gives the previous record's time), so the times
//! along the chain never go backwards.
//!
//! Tests that need a fixed clock set `ASSAY_NOW` (RFC 3339). Only debug builds (what
//! `cargo test` builds) read it: a release build ignores the variable, so nobody chooses the
//! times of a real workspace's records from their environment.

use chrono::{DateTime, SecondsFormat, Utc};

/// The format every record's time is written in: RFC 3339, UTC, whole seconds (`…T10:00:00Z`).
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a record's time; `None` when it is not valid RFC 3339.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The clock's time now.
pub fn now() -> DateTime<Utc> {
    #[cfg(debug_assertions)]
    if let Some(t) = std::env::var("ASSAY_NOW")
        .ok()
        .filter(|v| !v.is_empty())
        .and_then(|v| parse(&v))
    {
        return t;
    }
    Utc::now()
}

/// The time for a record that follows one dated `previous`: now, or `previous` if the clock
/// reads earlier than that.
pub fn after(previous: Option<&str>) -> String {
    let now = now();
    match previous.and_then(parse) {
        Some(p) if p > now => format(p),
        _ => format(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_before_the_previous_record() {
        let later = "2999-01-01T00:00:00Z";
        assert_eq!(after(Some(later)), later);
        let t = after(Some("2000-01-01T00:00:00Z"));
        assert!(
            parse(&t).is_some() && t.as_str() > "2000-01-01T00:00:00Z",
            "{t}"
        );
        assert!(parse(&after(None)).is_some());
        // An unreadable previous time does not stop the clock.
        assert!(parse(&after(Some("yesterday"))).is_some());
    }

    #[test]
    fn parses_offsets_to_utc() {
        assert_eq!(
            parse("2026-10-12T12:00:00+02:00").map(format).as_deref(),
            Some("2026-10-12T10:00:00Z")
        );
        assert!(parse("2026-13-12T12:00:00Z").is_none());
        assert!(parse("").is_none());
    }
}
