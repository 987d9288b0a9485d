//! A readable table for a terminal: one aligned line per record.

use std::fmt::Write;

use naudit_engine::flow::FlowRecord;

use crate::columns;

/// The header line of the table.
pub const TEXT_HEADER: &str = "StartTime (UTC)              Dur(s)  Proto      SrcAddr:Sport                              Dir  DstAddr:Dport                               SrcPkts  DstPkts    SrcBytes    DstBytes State";

/// Converts days since 1970-01-01 to a (year, month, day) civil date in the
/// proleptic Gregorian calendar (the algorithm of H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes a time in nanoseconds as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC.
pub fn write_utc(out: &mut String, time_ns: u64) {
    let seconds = (time_ns / 1_000_000_000) as i64;
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        time_ns % 1_000_000_000 / 1_000
    );
}

fn write_endpoint(out: &mut String, scratch: &mut String, record: &FlowRecord, source: bool) {
    scratch.clear();
    columns::write_addr(scratch, record, source);
    let address_len = scratch.len();
    columns::write_port(scratch, record, source);
    if scratch.len() > address_len {
        let separator = port_separator(&scratch[..address_len]);
        scratch.insert(address_len, separator);
    }
    let _ = write!(out, "{scratch:<42}");
}

/// Returns the character between an address and its port: `:`, or `.`
/// after an address that contains colons (IPv6, MAC), as ra prints it, so
/// the port cannot be read as part of the address.
fn port_separator(address: &str) -> char {
    if address.contains(':') {
        '.'
    } else {
        ':'
    }
}

/// Appends one record as a table line, newline included.
pub fn write_text_line(out: &mut String, scratch: &mut String, record: &FlowRecord) {
    write_utc(out, record.start_ns);
    let duration_ns = record.last_ns.saturating_sub(record.start_ns);
    let _ = write!(out, " {:>9.3}  ", duration_ns as f64 / 1e9);
    scratch.clear();
    columns::write_proto(scratch, record);
    let _ = write!(out, "{scratch:<10} ");
    write_endpoint(out, scratch, record, true);
    let _ = write!(out, " {:<4} ", columns::dir(record));
    write_endpoint(out, scratch, record, false);
    let _ = writeln!(
        out,
        " {:>8} {:>8} {:>11} {:>11} {}",
        record.src.pkts,
        record.dst.pkts,
        record.src.bytes,
        record.dst.bytes,
        columns::state(record)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_separator_keeps_addresses_readable() {
        assert_eq!(port_separator("192.168.1.1"), ':');
        assert_eq!(port_separator("fe80::217:f2ff:fed7:cf65"), '.');
        assert_eq!(port_separator("00:13:7f:4f:8e:f2"), '.');
    }

    #[test]
    fn utc_formatting() {
        let mut out = String::new();
        write_utc(&mut out, 1_300_475_167_096_535_123);
        assert_eq!(out, "2011-03-18 19:06:07.096535");
        out.clear();
        write_utc(&mut out, 951_782_400_000_000_000);
        assert_eq!(out, "2000-02-29 00:00:00.000000");
    }
}
