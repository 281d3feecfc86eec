//! A user's limits: the day its password expires (`VALID UNTIL`) and how
//! many sessions it may open at once (`CONNECTION LIMIT`).

use std::fmt;

/// The day a user's password stops working: from 00:00 UTC that day, it
/// can no longer log in with it. A calendar date from 2000 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    year: u16,
    month: u8,
    day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("Expires must be a date written YYYY-MM-DD, such as 2027-01-31.")]
    Format,
    #[error("Expires must be a date between 2000-01-01 and 9999-12-31.")]
    Range,
    #[error("Expires is not a day of the calendar ({0}).")]
    NoSuchDay(String),
    #[error(
        "Expires must be a later day than today ({0} is not): from 00:00 UTC that day the password no longer works, so the user could never log in with it. Leave it empty for no expiry."
    )]
    Past(String),
}

impl Expiry {
    /// A date written `YYYY-MM-DD` (what a browser's date field sends).
    pub fn parse(text: &str) -> Result<Self, ExpiryError> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !digits(0..4)
            || !digits(5..7)
            || !digits(8..10)
        {
            return Err(ExpiryError::Format);
        }
        let number = |range: std::ops::Range<usize>| -> u16 {
            bytes[range]
                .iter()
                .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'))
        };
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        if !(2000..=9999).contains(&year) {
            return Err(ExpiryError::Range);
        }
        let month = u8::try_from(month).map_err(|_| ExpiryError::NoSuchDay(text.to_owned()))?;
        let day = u8::try_from(day).map_err(|_| ExpiryError::NoSuchDay(text.to_owned()))?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(ExpiryError::NoSuchDay(text.to_owned()));
        }
        Ok(Self { year, month, day })
    }

    /// [`Expiry::parse`], refusing `today` and the days before: from
    /// 00:00 UTC of its day a password has expired, so a new user with such
    /// an expiry could never log in, which is a typo, not a wish.
    pub fn parse_after(text: &str, today: Expiry) -> Result<Self, ExpiryError> {
        let expiry = Self::parse(text)?;
        if expiry <= today {
            return Err(ExpiryError::Past(expiry.to_string()));
        }
        Ok(expiry)
    }

    /// The day it is now, in UTC.
    pub fn today() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self::from_days(i64::try_from(seconds / 86_400).unwrap_or(0))
    }

    /// The date `days` after 1970-01-01 (the civil calendar's arithmetic:
    /// eras of 400 years, years starting in March so the leap day is last).
    fn from_days(days: i64) -> Self {
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self {
            year: u16::try_from(year.clamp(2000, 9999)).unwrap_or(2000),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// How many sessions a user may have open at once: 1 to 10,000. (0 would
/// let nobody in: that is what deleting a user does while it runs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimit(u16);

pub const CONNECTION_LIMIT_MAX: u16 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionLimitError {
    #[error("Connection limit must be a whole number from 1 to 10000, or empty for no limit.")]
    NotANumber,
    #[error(
        "Connection limit must be at least 1: with 0 nobody could log in as the user. Delete it, or reset its password, to keep an application out."
    )]
    Zero,
    #[error("Connection limit must be at most 10000.")]
    TooHigh,
}

impl ConnectionLimit {
    pub fn parse(text: &str) -> Result<Self, ConnectionLimitError> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectionLimitError::NotANumber);
        }
        // More digits than any allowed limit has: too high, whatever they say.
        if text.trim_start_matches('0').len() > 5 {
            return Err(ConnectionLimitError::TooHigh);
        }
        let n: u32 = text.parse().map_err(|_| ConnectionLimitError::NotANumber)?;
        Self::new(n)
    }

    pub fn new(n: u32) -> Result<Self, ConnectionLimitError> {
        match u16::try_from(n) {
            Ok(0) => Err(ConnectionLimitError::Zero),
            Ok(n) if n <= CONNECTION_LIMIT_MAX => Ok(Self(n)),
            _ => Err(ConnectionLimitError::TooHigh),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ConnectionLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a user's limits are to be: `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub expires: Option<Expiry>,
    pub connection_limit: Option<ConnectionLimit>,
}

/// A change of a user's limits: for each, `None` keeps it as it is,
/// `Some(None)` removes it, `Some(Some(_))` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitsChange {
    pub expires: Option<Option<Expiry>>,
    pub connection_limit: Option<Option<ConnectionLimit>>,
}

impl LimitsChange {
    /// Both limits set to `limits`.
    pub fn all(limits: Limits) -> Self {
        Self {
            expires: Some(limits.expires),
            connection_limit: Some(limits.connection_limit),
        }
    }

    /// The day the change sets when it is today or earlier: from 00:00 UTC
    /// of that day the password has expired, so saving cuts the user off
    /// at once.
    pub fn cuts_off(&self, today: Expiry) -> Option<Expiry> {
        match self.expires {
            Some(Some(day)) if day <= today => Some(day),
            _ => None,
        }
    }

    /// A change as given: each limit `None` to keep, empty to remove, else
    /// its new value (any day: a past one cuts a user off).
    pub fn from_entry(
        expires: Option<&str>,
        connection_limit: Option<&str>,
    ) -> Result<Self, LimitProblems> {
        let expires = expires
            .map(|text| match text.trim() {
                "" => Ok(None),
                text => Expiry::parse(text).map(Some),
            })
            .transpose();
        let connection_limit = connection_limit
            .map(|text| match text.trim() {
                "" => Ok(None),
                text => ConnectionLimit::parse(text).map(Some),
            })
            .transpose();
        match (expires, connection_limit) {
            (Ok(expires), Ok(connection_limit)) => Ok(Self {
                expires,
                connection_limit,
            }),
            (expires, connection_limit) => Err(LimitProblems {
                expires: expires.err(),
                connection_limit: connection_limit.err(),
            }),
        }
    }
}

/// Why limits as typed were refused, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitProblems {
    pub expires: Option<ExpiryError>,
    pub connection_limit: Option<ConnectionLimitError>,
}

impl Limits {
    /// Limits as a person typed them, each empty for none. A day before
    /// `not_before` (today, for a new user) is refused.
    pub fn from_entry(
        expires: &str,
        connection_limit: &str,
        not_before: Option<Expiry>,
    ) -> Result<Self, LimitProblems> {
        let expires = match (expires.trim(), not_before) {
            ("", _) => Ok(None),
            (text, Some(today)) => Expiry::parse_after(text, today).map(Some),
            (text, None) => Expiry::parse(text).map(Some),
        };
        let connection_limit = match connection_limit.trim() {
            "" => Ok(None),
            text => ConnectionLimit::parse(text).map(Some),
        };
        match (expires, connection_limit) {
            (Ok(expires), Ok(connection_limit)) => Ok(Self {
                expires,
                connection_limit,
            }),
            (expires, connection_limit) => Err(LimitProblems {
                expires: expires.err(),
                connection_limit: connection_limit.err(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_of_the_calendar_is_an_expiry_and_prints_as_typed() {
        for text in ["2027-01-31", "2028-02-29", "2000-02-29", "9999-12-31"] {
            assert_eq!(Expiry::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Expiry::parse(" 2027-03-01 ").unwrap().to_string(),
            "2027-03-01"
        );
    }

    #[test]
    fn dates_that_are_not_in_the_calendar_or_not_written_yyyy_mm_dd_are_refused() {
        for text in [
            "2027-02-29",
            "2100-02-29",
            "2027-04-31",
            "2027-13-01",
            "2027-00-10",
            "2027-01-00",
        ] {
            assert_eq!(
                Expiry::parse(text),
                Err(ExpiryError::NoSuchDay(text.to_owned())),
                "{text}"
            );
        }
        for text in [
            "",
            "27-01-31",
            "2027/01/31",
            "2027-1-31",
            "2027-01-31T00:00",
            "２０２７-01-31",
            "2027-01-3a",
        ] {
            assert_eq!(Expiry::parse(text), Err(ExpiryError::Format), "{text}");
        }
        assert_eq!(Expiry::parse("1999-12-31"), Err(ExpiryError::Range));
    }

    #[test]
    fn a_new_users_expiry_must_be_a_later_day_than_today() {
        let today = Expiry::parse("2026-11-27").unwrap();
        assert!(Expiry::parse_after("2026-11-28", today).is_ok());
        for day in ["2026-11-27", "2026-11-26"] {
            assert_eq!(
                Expiry::parse_after(day, today),
                Err(ExpiryError::Past(day.to_owned()))
            );
        }
        assert!(Expiry::parse("2026-12-01").unwrap() > today);
        assert!(Expiry::parse("2027-01-01").unwrap() > Expiry::parse("2026-12-31").unwrap());
    }

    #[test]
    fn days_since_1970_become_the_civil_date() {
        assert_eq!(Expiry::from_days(10_957).to_string(), "2000-01-01");
        assert_eq!(Expiry::from_days(11_016).to_string(), "2000-02-29");
        assert_eq!(Expiry::from_days(20_784).to_string(), "2026-11-27");
        assert_eq!(Expiry::from_days(20_819).to_string(), "2027-01-01");
        assert!(Expiry::today() >= Expiry::parse("2026-01-01").unwrap());
    }

    #[test]
    fn a_connection_limit_is_a_whole_number_from_1_to_10000() {
        assert_eq!(ConnectionLimit::parse("1").unwrap().get(), 1);
        assert_eq!(ConnectionLimit::parse(" 10000 ").unwrap().get(), 10_000);
        assert_eq!(ConnectionLimit::parse("0007").unwrap().get(), 7);
        assert_eq!(ConnectionLimit::parse("0"), Err(ConnectionLimitError::Zero));
        assert_eq!(
            ConnectionLimit::parse("10001"),
            Err(ConnectionLimitError::TooHigh)
        );
        assert_eq!(
            ConnectionLimit::parse("99999999999999999999999"),
            Err(ConnectionLimitError::TooHigh)
        );
        for text in ["", "-1", "1.5", "ten", "+3", "1e3"] {
            assert_eq!(
                ConnectionLimit::parse(text),
                Err(ConnectionLimitError::NotANumber),
                "{text}"
            );
        }
    }

    #[test]
    fn limits_typed_in_a_form_are_read_with_every_problem_at_its_field() {
        let today = Expiry::parse("2026-11-27").unwrap();
        assert_eq!(
            Limits::from_entry(" ", "", Some(today)),
            Ok(Limits::default())
        );
        assert_eq!(
            Limits::from_entry("2027-01-31", " 4 ", Some(today)).unwrap(),
            Limits {
                expires: Some(Expiry::parse("2027-01-31").unwrap()),
                connection_limit: Some(ConnectionLimit::new(4).unwrap()),
            }
        );
        assert_eq!(
            Limits::from_entry("2020-01-01", "0", Some(today)),
            Err(LimitProblems {
                expires: Some(ExpiryError::Past("2020-01-01".to_owned())),
                connection_limit: Some(ConnectionLimitError::Zero),
            })
        );
        assert!(
            Limits::from_entry("2020-01-01", "", None).is_ok(),
            "a user's expiry may be set in the past, to cut it off"
        );
    }

    #[test]
    fn a_change_keeps_what_is_not_given_removes_what_is_empty_and_sets_the_rest() {
        let keep = LimitsChange::from_entry(None, None).unwrap();
        assert_eq!(keep, LimitsChange::default());
        let change = LimitsChange::from_entry(None, Some("3")).unwrap();
        assert_eq!(change.expires, None);
        assert_eq!(change.connection_limit, Some(ConnectionLimit::new(3).ok()));
        let change = LimitsChange::from_entry(Some(""), Some(" ")).unwrap();
        assert_eq!(
            (change.expires, change.connection_limit),
            (Some(None), Some(None))
        );
        let change = LimitsChange::from_entry(Some("2001-01-01"), None).unwrap();
        assert_eq!(change.expires, Some(Expiry::parse("2001-01-01").ok()));
        assert_eq!(change.connection_limit, None);
        assert_eq!(
            LimitsChange::from_entry(Some("2001-02-30"), Some("0")),
            Err(LimitProblems {
                expires: Some(ExpiryError::NoSuchDay("2001-02-30".to_owned())),
                connection_limit: Some(ConnectionLimitError::Zero),
            })
        );
    }
}
