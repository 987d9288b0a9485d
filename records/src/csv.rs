//! CSV lines: the Argus field names and meanings first, then nauditd's
//! additional columns.

use naudit_engine::flow::FlowRecord;

use crate::columns;
use crate::fast_text::{write_int, write_ip};

/// The header row. The first thirteen columns are the fields of
/// `ra -s stime ltime proto saddr sport dir daddr dport spkts dpkts sbytes
/// dbytes state`, with the same meanings and formats.
pub const CSV_HEADER: &str = "stime,ltime,proto,saddr,sport,dir,daddr,dport,spkts,dpkts,sbytes,dbytes,state,\
sappbytes,dappbytes,sttl,dttl,stos,dtos,smac,dmac,svid,dvid,cause,tunnel,tunnel_src,tunnel_dst,tunnel_id,tunnel_depth";

/// The header row with the InfiniBand columns after [`CSV_HEADER`]'s.
pub fn csv_header() -> String {
    let mut header = String::from(CSV_HEADER);
    crate::ib_columns::write_csv_header(&mut header);
    header
}

/// Appends one record as a CSV line, newline included.
pub fn write_csv_line(out: &mut String, record: &FlowRecord) {
    columns::write_epoch_us(out, record.start_ns);
    out.push(',');
    columns::write_epoch_us(out, record.last_ns);
    out.push(',');
    columns::write_proto(out, record);
    out.push(',');
    columns::write_addr(out, record, true);
    out.push(',');
    columns::write_port(out, record, true);
    out.push(',');
    out.push_str(columns::dir(record));
    out.push(',');
    columns::write_addr(out, record, false);
    out.push(',');
    columns::write_port(out, record, false);
    let (src, dst) = (&record.src, &record.dst);
    for count in [src.pkts, dst.pkts, src.bytes, dst.bytes] {
        out.push(',');
        write_int(out, count);
    }
    out.push(',');
    out.push_str(columns::state(record));
    for count in [src.app_bytes, dst.app_bytes] {
        out.push(',');
        write_int(out, count);
    }
    out.push(',');
    write_ip_attribute(out, src.pkts > 0 && record.key.ip_protocol().is_some(), src.ttl);
    write_ip_attribute(out, dst.pkts > 0 && record.key.ip_protocol().is_some(), dst.ttl);
    write_ip_attribute(out, src.pkts > 0 && record.key.ip_protocol().is_some(), src.tos);
    write_ip_attribute(out, dst.pkts > 0 && record.key.ip_protocol().is_some(), dst.tos);
    columns::write_optional_mac(out, src.mac);
    out.push(',');
    columns::write_optional_mac(out, dst.mac);
    out.push(',');
    if let Some(tci) = src.vlan_tci {
        write_int(out, tci & 0x0fff);
    }
    out.push(',');
    if let Some(tci) = dst.vlan_tci {
        write_int(out, tci & 0x0fff);
    }
    out.push(',');
    out.push_str(record.cause.name());
    match &record.tunnel {
        Some(tunnel) => {
            out.push(',');
            out.push_str(tunnel.kind.name());
            out.push(',');
            write_ip(out, tunnel.outer_src);
            out.push(',');
            write_ip(out, tunnel.outer_dst);
            out.push(',');
            write_int(out, tunnel.id);
            out.push(',');
            write_int(out, tunnel.depth);
        }
        None => out.push_str(",,,,,"),
    }
    crate::ib_columns::write_csv_fields(out, record);
    out.push('\n');
}

fn write_ip_attribute(out: &mut String, present: bool, value: u8) {
    if present {
        write_int(out, value);
    }
    out.push(',');
}
