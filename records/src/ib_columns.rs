//! The InfiniBand columns of the text formats: the queue pairs and
//! partition of an InfiniBand or RoCE flow and each side's transport
//! metrics.

use std::fmt::Write;

use naudit_engine::decode::ib::aeth::Nak;
use naudit_engine::decode::ib::opcode::OpClass;
use naudit_engine::decode::ib::IbLink;
use naudit_engine::flow::ib::IbDirection;
use naudit_engine::flow::{FlowKey, FlowRecord};

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

/// Writes a queue pair number as `0x` and six hex digits.
pub fn write_qp(out: &mut String, qp: Option<u32>) {
    if let Some(qp) = qp {
        let _ = write!(out, "0x{qp:06x}");
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
        let columns = 5 + 2 * (OpClass::ALL.len() + Nak::ALL.len() + DIRECTION_COUNTERS.len());
        out.extend(std::iter::repeat(',').take(columns));
        return;
    };
    let _ = write!(out, ",{},0x{:04x},", fields.link.name(), fields.pkey);
    write_qp(out, fields.src_qp);
    out.push(',');
    write_qp(out, fields.dst_qp);
    let _ = write!(out, ",{}", u8::from(fields.is_unpaired()));
    for side in [&ib.src, &ib.dst] {
        for count in side.op_pkts.iter().chain(side.naks.iter()) {
            let _ = write!(out, ",{count}");
        }
        for (_, counter) in DIRECTION_COUNTERS {
            let _ = write!(out, ",{}", counter(side));
        }
    }
}

/// Appends `"ib":{...},` with the key fields and one object per side.
pub fn write_json_object(out: &mut String, record: &FlowRecord) {
    let (Some(fields), Some(ib)) = (IbKeyFields::of(&record.key), record.ib.as_ref()) else {
        return;
    };
    let _ = write!(out, "\"ib\":{{\"link\":\"{}\",\"pkey\":{},", fields.link.name(), fields.pkey);
    if let Some(qp) = fields.src_qp {
        let _ = write!(out, "\"sqp\":{qp},");
    }
    if let Some(qp) = fields.dst_qp {
        let _ = write!(out, "\"dqp\":{qp},");
    }
    let _ = write!(out, "\"unpaired\":{},", fields.is_unpaired());
    write_json_direction(out, "src", &ib.src);
    out.push(',');
    write_json_direction(out, "dst", &ib.dst);
    out.push_str("},");
}

fn write_json_direction(out: &mut String, name: &str, side: &IbDirection) {
    let _ = write!(out, "\"{name}\":{{");
    for class in OpClass::ALL {
        let _ = write!(out, "\"{}\":{},", class.name(), side.ops(class));
    }
    out.push_str("\"naks\":{");
    for (index, nak) in Nak::ALL.into_iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        let _ = write!(out, "{separator}\"{}\":{}", nak.name(), side.nak_count(nak));
    }
    out.push('}');
    for (name, counter) in DIRECTION_COUNTERS {
        let _ = write!(out, ",\"{name}\":{}", counter(side));
    }
    if side.udp_src_port != 0 {
        let _ = write!(out, ",\"udp_sport\":{}", side.udp_src_port);
    }
    out.push('}');
}
