//! RFC 3339 timestamps in UTC with nanoseconds, for the JSON output.

use crate::fast_text::{push_ascii, put_fixed_decimal};

/// Writes `time_ns` (nanoseconds since the Unix epoch) as
/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn write_rfc3339_ns(out: &mut String, time_ns: u64) {
    let seconds = time_ns / 1_000_000_000;
    let nanos = time_ns % 1_000_000_000;
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_date(days);
    // The year has four digits, because u64 nanoseconds since the epoch end
    // in the year 2554.
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    put_fixed_decimal(&mut text, 0, year, 4);
    put_fixed_decimal(&mut text, 5, month, 2);
    put_fixed_decimal(&mut text, 8, day, 2);
    put_fixed_decimal(&mut text, 11, second_of_day / 3600, 2);
    put_fixed_decimal(&mut text, 14, second_of_day % 3600 / 60, 2);
    put_fixed_decimal(&mut text, 17, second_of_day % 60, 2);
    put_fixed_decimal(&mut text, 20, nanos, 9);
    push_ascii(out, &text);
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date, counting
/// in 400-year eras of 146 097 days that start on March 1, so that the leap
/// day ends each era-year.
fn civil_date(days_since_epoch: u64) -> (u64, u64, u64) {
    // 719 468 days from 0000-03-01 to 1970-01-01.
    let days = days_since_epoch + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(time_ns: u64) -> String {
        let mut out = String::new();
        write_rfc3339_ns(&mut out, time_ns);
        out
    }

    #[test]
    fn epoch_start() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn leap_day_and_nanoseconds() {
        // 2024-02-29T12:34:56.000000789Z, as `date -u -d @1709210096` prints it.
        assert_eq!(format(1_709_210_096_000_000_789), "2024-02-29T12:34:56.000000789Z");
    }

    #[test]
    fn end_of_year() {
        // 1300475167 is 2011-03-18T19:06:07Z; 1704067199 is 2023-12-31T23:59:59Z.
        assert_eq!(format(1_300_475_167_096_535_000), "2011-03-18T19:06:07.096535000Z");
        assert_eq!(format(1_704_067_199_999_999_999), "2023-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn last_u64_time() {
        // 18446744073 is 2554-07-21T23:34:33Z (`date -u -d @18446744073`).
        assert_eq!(format(u64::MAX), "2554-07-21T23:34:33.709551615Z");
    }
}
