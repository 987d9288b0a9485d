//! JSON lines: one object per record, with the CSV column names as keys.

use std::fmt::Write;

use naudit_engine::flow::FlowRecord;

use crate::columns;

/// Appends `text` as a JSON string, escaping what RFC 8259 requires.
fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `"name":"value"` where the value is produced by `write_value`.
fn write_string_field(out: &mut String, scratch: &mut String, name: &str, write_value: impl FnOnce(&mut String)) {
    scratch.clear();
    write_value(scratch);
    let _ = write!(out, "\"{name}\":");
    write_json_string(out, scratch);
    out.push(',');
}

/// Appends one record as a JSON object on one line, newline included.
/// Times are epoch seconds with microseconds (`stime`, `ltime`) and
/// nanoseconds since the epoch (`stime_ns`, `ltime_ns`), and RFC 3339
/// UTC text with nanoseconds (`stime_rfc3339`, `ltime_rfc3339`).
pub fn write_json_line(out: &mut String, scratch: &mut String, record: &FlowRecord) {
    out.push('{');
    let _ = write!(out, "\"stime_ns\":{},\"ltime_ns\":{},", record.start_ns, record.last_ns);
    scratch.clear();
    columns::write_epoch_us(scratch, record.start_ns);
    let _ = write!(out, "\"stime\":{scratch},");
    scratch.clear();
    columns::write_epoch_us(scratch, record.last_ns);
    let _ = write!(out, "\"ltime\":{scratch},");
    write_string_field(out, scratch, "stime_rfc3339", |s| crate::rfc3339::write_rfc3339_ns(s, record.start_ns));
    write_string_field(out, scratch, "ltime_rfc3339", |s| crate::rfc3339::write_rfc3339_ns(s, record.last_ns));
    write_string_field(out, scratch, "proto", |s| columns::write_proto(s, record));
    write_string_field(out, scratch, "saddr", |s| columns::write_addr(s, record, true));
    write_string_field(out, scratch, "sport", |s| columns::write_port(s, record, true));
    write_string_field(out, scratch, "dir", |s| s.push_str(columns::dir(record)));
    write_string_field(out, scratch, "daddr", |s| columns::write_addr(s, record, false));
    write_string_field(out, scratch, "dport", |s| columns::write_port(s, record, false));
    let (src, dst) = (&record.src, &record.dst);
    let _ = write!(
        out,
        "\"spkts\":{},\"dpkts\":{},\"sbytes\":{},\"dbytes\":{},\"sappbytes\":{},\"dappbytes\":{},",
        src.pkts, dst.pkts, src.bytes, dst.bytes, src.app_bytes, dst.app_bytes
    );
    write_string_field(out, scratch, "state", |s| s.push_str(columns::state(record)));
    if record.key.ip_protocol().is_some() {
        if src.pkts > 0 {
            let _ = write!(out, "\"sttl\":{},\"stos\":{},", src.ttl, src.tos);
        }
        if dst.pkts > 0 {
            let _ = write!(out, "\"dttl\":{},\"dtos\":{},", dst.ttl, dst.tos);
        }
    }
    if src.mac.is_some() {
        write_string_field(out, scratch, "smac", |s| columns::write_optional_mac(s, src.mac));
    }
    if dst.mac.is_some() {
        write_string_field(out, scratch, "dmac", |s| columns::write_optional_mac(s, dst.mac));
    }
    if let Some(tci) = src.vlan_tci {
        let _ = write!(out, "\"svid\":{},", tci & 0x0fff);
    }
    if let Some(tci) = dst.vlan_tci {
        let _ = write!(out, "\"dvid\":{},", tci & 0x0fff);
    }
    if let Some(tunnel) = &record.tunnel {
        // Nested, so that a pipeline can test or drop the tunnel as one key.
        let _ = write!(
            out,
            "\"tunnel\":{{\"kind\":\"{}\",\"src\":\"{}\",\"dst\":\"{}\",\"id\":{},\"depth\":{}}},",
            tunnel.kind.name(),
            tunnel.outer_src,
            tunnel.outer_dst,
            tunnel.id,
            tunnel.depth
        );
    }
    crate::ib_columns::write_json_object(out, record);
    let _ = write!(out, "\"cause\":\"{}\"}}", record.cause.name());
    out.push('\n');
}
