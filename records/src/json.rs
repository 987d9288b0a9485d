//! JSON lines: one object per record, with the CSV column names as keys.

use naudit_engine::flow::FlowRecord;

use crate::columns;
use crate::fast_text::{write_hex_zero_padded, write_int, write_ip};

/// Returns true when `text` contains a character that a JSON string must
/// escape. It has no early exit, so the compiler can vectorize it.
fn needs_escape(text: &str) -> bool {
    text.bytes().fold(false, |found, byte| found | (byte < 0x20) | (byte == b'"') | (byte == b'\\'))
}

/// Appends the characters of `text` with what RFC 8259 requires escaped.
fn write_escaped(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                out.push_str("\\u");
                write_hex_zero_padded(out, u32::from(c), 4);
            }
            c => out.push(c),
        }
    }
}

/// Appends `"name":"value",` where `write_value` appends the value's text.
/// The text is written straight into `out` and moved through `scratch`
/// only when it needs escaping.
fn write_string_field(out: &mut String, scratch: &mut String, name: &str, write_value: impl FnOnce(&mut String)) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":\"");
    let value_start = out.len();
    write_value(out);
    if needs_escape(&out[value_start..]) {
        scratch.clear();
        scratch.push_str(&out[value_start..]);
        out.truncate(value_start);
        write_escaped(out, scratch);
    }
    out.push_str("\",");
}

/// Appends `"name":value,` for an integer value.
fn write_int_field<I: itoa::Integer>(out: &mut String, name: &str, value: I) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    write_int(out, value);
    out.push(',');
}

/// Appends one record as a JSON object on one line, newline included.
/// Times are epoch seconds with microseconds (`stime`, `ltime`) and
/// nanoseconds since the epoch (`stime_ns`, `ltime_ns`), and RFC 3339
/// UTC text with nanoseconds (`stime_rfc3339`, `ltime_rfc3339`).
pub fn write_json_line(out: &mut String, scratch: &mut String, record: &FlowRecord) {
    out.push('{');
    write_int_field(out, "stime_ns", record.start_ns);
    write_int_field(out, "ltime_ns", record.last_ns);
    out.push_str("\"stime\":");
    columns::write_epoch_us(out, record.start_ns);
    out.push_str(",\"ltime\":");
    columns::write_epoch_us(out, record.last_ns);
    out.push(',');
    write_string_field(out, scratch, "stime_rfc3339", |s| crate::rfc3339::write_rfc3339_ns(s, record.start_ns));
    write_string_field(out, scratch, "ltime_rfc3339", |s| crate::rfc3339::write_rfc3339_ns(s, record.last_ns));
    write_string_field(out, scratch, "proto", |s| columns::write_proto(s, record));
    write_string_field(out, scratch, "saddr", |s| columns::write_addr(s, record, true));
    write_string_field(out, scratch, "sport", |s| columns::write_port(s, record, true));
    write_string_field(out, scratch, "dir", |s| s.push_str(columns::dir(record)));
    write_string_field(out, scratch, "daddr", |s| columns::write_addr(s, record, false));
    write_string_field(out, scratch, "dport", |s| columns::write_port(s, record, false));
    let (src, dst) = (&record.src, &record.dst);
    write_int_field(out, "spkts", src.pkts);
    write_int_field(out, "dpkts", dst.pkts);
    write_int_field(out, "sbytes", src.bytes);
    write_int_field(out, "dbytes", dst.bytes);
    write_int_field(out, "sappbytes", src.app_bytes);
    write_int_field(out, "dappbytes", dst.app_bytes);
    write_string_field(out, scratch, "state", |s| s.push_str(columns::state(record)));
    if record.key.ip_protocol().is_some() {
        if src.pkts > 0 {
            write_int_field(out, "sttl", src.ttl);
            write_int_field(out, "stos", src.tos);
        }
        if dst.pkts > 0 {
            write_int_field(out, "dttl", dst.ttl);
            write_int_field(out, "dtos", dst.tos);
        }
    }
    if src.mac.is_some() {
        write_string_field(out, scratch, "smac", |s| columns::write_optional_mac(s, src.mac));
    }
    if dst.mac.is_some() {
        write_string_field(out, scratch, "dmac", |s| columns::write_optional_mac(s, dst.mac));
    }
    if let Some(tci) = src.vlan_tci {
        write_int_field(out, "svid", tci & 0x0fff);
    }
    if let Some(tci) = dst.vlan_tci {
        write_int_field(out, "dvid", tci & 0x0fff);
    }
    if let Some(tunnel) = &record.tunnel {
        // Nested, so that a pipeline can test or drop the tunnel as one key.
        out.push_str("\"tunnel\":{\"kind\":\"");
        out.push_str(tunnel.kind.name());
        out.push_str("\",\"src\":\"");
        write_ip(out, tunnel.outer_src);
        out.push_str("\",\"dst\":\"");
        write_ip(out, tunnel.outer_dst);
        out.push_str("\",\"id\":");
        write_int(out, tunnel.id);
        out.push_str(",\"depth\":");
        write_int(out, tunnel.depth);
        out.push_str("},");
    }
    crate::ib_columns::write_json_object(out, record);
    out.push_str("\"cause\":\"");
    out.push_str(record.cause.name());
    out.push_str("\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_field(value: &str) -> String {
        let (mut out, mut scratch) = (String::from("{"), String::from("left over"));
        write_string_field(&mut out, &mut scratch, "name", |text| text.push_str(value));
        out
    }

    #[test]
    fn string_field_plain_value() {
        assert_eq!(string_field("fe80::1"), r#"{"name":"fe80::1","#);
        assert_eq!(string_field(""), r#"{"name":"","#);
    }

    #[test]
    fn string_field_escapes_value() {
        assert_eq!(string_field("a\"b\\c"), r#"{"name":"a\"b\\c","#);
        assert_eq!(string_field("tab\there\u{1f}é"), r#"{"name":"tab\u0009here\u001fé","#);
    }
}
