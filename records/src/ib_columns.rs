//! The InfiniBand columns of the text formats: the queue pairs and
//! partition of an InfiniBand or RoCE flow and each side's transport
//! metrics.

use std::fmt::Write;
use std::net::Ipv6Addr;

use naudit_engine::decode::ib::aeth::Nak;
use naudit_engine::decode::ib::opcode::OpClass;
use naudit_engine::decode::ib::{IbEndpoint, IbLink};
use naudit_engine::flow::ib::IbDirection;
use naudit_engine::flow::{FlowKey, FlowRecord};

use crate::fast_text::{write_hex_zero_padded, write_int};

/// Reads one counter of a side.
type CounterReader = fn(&IbDirection) -> u32;

/// Per-direction counters after the operation classes and NAK kinds, by
/// column suffix.
const DIRECTION_COUNTERS: [(&str, CounterReader); 7] = [
    ("psn_gaps", |side| side.psn_gap_pkts),
    ("psn_repeats", |side| side.psn_repeat_pkts),
    ("fecn", |side| side.fecn_pkts),
    ("becn", |side| side.becn_pkts),
    ("ecn_ce", |side| side.ecn_ce_pkts),
    ("mads", |side| side.mad_pkts),
    ("ipoib", |side| side.ipoib_pkts),
];

/// The number of InfiniBand CSV columns.
const CSV_COLUMNS: usize = 5 + 2 * (OpClass::ALL.len() + Nak::ALL.len() + DIRECTION_COUNTERS.len());

const CSV_COMMAS: [u8; CSV_COLUMNS] = [b','; CSV_COLUMNS];

/// The InfiniBand CSV fields of a flow of another kind: one comma for each
/// empty column.
const EMPTY_CSV_FIELDS: &str = match std::str::from_utf8(&CSV_COMMAS) {
    Ok(text) => text,
    Err(_) => panic!("commas are ASCII"),
};

/// The InfiniBand fields of a record's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IbKeyFields {
    /// The link the packets travelled on.
    pub link: IbLink,
    /// Partition key without the membership bit.
    pub pkey: u16,
    /// Source queue pair, when known.
    pub src_qp: Option<u32>,
    /// Destination queue pair, when the packets had a BTH.
    pub dst_qp: Option<u32>,
}

impl IbKeyFields {
    /// Returns the InfiniBand fields of an InfiniBand key.
    pub fn of(key: &FlowKey) -> Option<IbKeyFields> {
        match *key {
            FlowKey::Infiniband { link, pkey, src_qp, dst_qp, .. } => Some(IbKeyFields { link, pkey, src_qp, dst_qp }),
            _ => None,
        }
    }

    /// True for one half of a connection whose source queue pair is not
    /// known because the connection manager's exchange was not seen.
    pub fn is_unpaired(&self) -> bool {
        self.src_qp.is_none() && self.dst_qp.is_some()
    }
}

/// Writes a queue pair number as `0x` and at least six hex digits.
pub fn write_qp(out: &mut String, qp: Option<u32>) {
    if let Some(qp) = qp {
        out.push_str("0x");
        write_hex_zero_padded(out, qp, 6);
    }
}

/// Writes an endpoint as `IbEndpoint`'s `Display` does: a LID in decimal, a
/// GID in IPv6 notation and an IP address in its usual form.
pub fn write_endpoint(out: &mut String, endpoint: IbEndpoint) {
    match endpoint {
        IbEndpoint::Lid(lid) => write_int(out, lid),
        IbEndpoint::Gid(gid) => crate::ipv6_text::write_ipv6(out, Ipv6Addr::from(gid)),
        IbEndpoint::Ip(address) => crate::fast_text::write_ip(out, address),
    }
}

/// Appends the CSV header names of the InfiniBand columns, each after a
/// comma.
pub fn write_csv_header(out: &mut String) {
    out.push_str(",ib_link,ib_pkey,ib_sqp,ib_dqp,ib_unpaired");
    for prefix in ["s", "d"] {
        for class in OpClass::ALL {
            let _ = write!(out, ",{prefix}ib_{}", class.name());
        }
        for nak in Nak::ALL {
            let _ = write!(out, ",{prefix}ib_nak_{}", nak.name());
        }
        for (name, _) in DIRECTION_COUNTERS {
            let _ = write!(out, ",{prefix}ib_{name}");
        }
    }
}

/// Appends the InfiniBand columns of `record`, each after a comma, empty
/// for other flows.
pub fn write_csv_fields(out: &mut String, record: &FlowRecord) {
    let (Some(fields), Some(ib)) = (IbKeyFields::of(&record.key), record.ib.as_ref()) else {
        out.push_str(EMPTY_CSV_FIELDS);
        return;
    };
    out.push(',');
    out.push_str(fields.link.name());
    out.push_str(",0x");
    write_hex_zero_padded(out, u32::from(fields.pkey), 4);
    out.push(',');
    write_qp(out, fields.src_qp);
    out.push(',');
    write_qp(out, fields.dst_qp);
    out.push_str(if fields.is_unpaired() { ",1" } else { ",0" });
    for side in [&ib.src, &ib.dst] {
        for &count in side.op_pkts.iter().chain(side.naks.iter()) {
            out.push(',');
            write_int(out, count);
        }
        for (_, counter) in DIRECTION_COUNTERS {
            out.push(',');
            write_int(out, counter(side));
        }
    }
}

/// Appends `"ib":{...},` with the key fields and one object per side.
pub fn write_json_object(out: &mut String, record: &FlowRecord) {
    let (Some(fields), Some(ib)) = (IbKeyFields::of(&record.key), record.ib.as_ref()) else {
        return;
    };
    out.push_str("\"ib\":{\"link\":\"");
    out.push_str(fields.link.name());
    out.push_str("\",\"pkey\":");
    write_int(out, fields.pkey);
    out.push(',');
    if let Some(qp) = fields.src_qp {
        out.push_str("\"sqp\":");
        write_int(out, qp);
        out.push(',');
    }
    if let Some(qp) = fields.dst_qp {
        out.push_str("\"dqp\":");
        write_int(out, qp);
        out.push(',');
    }
    out.push_str(if fields.is_unpaired() { "\"unpaired\":true," } else { "\"unpaired\":false," });
    write_json_direction(out, "src", &ib.src);
    out.push(',');
    write_json_direction(out, "dst", &ib.dst);
    out.push_str("},");
}

fn write_json_direction(out: &mut String, name: &str, side: &IbDirection) {
    out.push('"');
    out.push_str(name);
    out.push_str("\":{");
    for class in OpClass::ALL {
        out.push('"');
        out.push_str(class.name());
        out.push_str("\":");
        write_int(out, side.ops(class));
        out.push(',');
    }
    out.push_str("\"naks\":{");
    for (index, nak) in Nak::ALL.into_iter().enumerate() {
        out.push_str(if index == 0 { "\"" } else { ",\"" });
        out.push_str(nak.name());
        out.push_str("\":");
        write_int(out, side.nak_count(nak));
    }
    out.push('}');
    for (name, counter) in DIRECTION_COUNTERS {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        write_int(out, counter(side));
    }
    if side.udp_src_port != 0 {
        out.push_str(",\"udp_sport\":");
        write_int(out, side.udp_src_port);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn endpoint_text_matches_display() {
        let mut gid = [0u8; 16];
        gid[..2].copy_from_slice(&[0xfe, 0x80]);
        gid[15] = 0x42;
        let endpoints = [
            (IbEndpoint::Lid(0), "0"),
            (IbEndpoint::Lid(0xbfff), "49151"),
            (IbEndpoint::Gid(gid), "fe80::42"),
            (IbEndpoint::Gid([0; 16]), "::"),
            (IbEndpoint::Ip(IpAddr::from([10, 0, 0, 1])), "10.0.0.1"),
            (IbEndpoint::Ip(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2])), "2001:db8::2"),
        ];
        for (endpoint, expected) in endpoints {
            let mut out = String::new();
            write_endpoint(&mut out, endpoint);
            assert_eq!(out, expected);
            assert_eq!(endpoint.to_string(), expected, "Display of {endpoint:?}");
        }
    }

    #[test]
    fn empty_csv_fields_fill_every_column() {
        let mut header = String::new();
        write_csv_header(&mut header);
        assert_eq!(EMPTY_CSV_FIELDS.len(), header.matches(',').count());
        assert!(EMPTY_CSV_FIELDS.bytes().all(|byte| byte == b','));
    }
}
