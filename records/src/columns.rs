//! The columns every text format shares, derived from a flow record the way
//! the Argus client `ra` derives them from an Argus record, so that a CSV
//! line of nauditd reads like `ra -c ,` output of the same flow.

use std::net::IpAddr;

use naudit_engine::decode::ib::{IbLink, ROCE_V2_PORT};
use naudit_engine::flow::record::tcp_status;
use naudit_engine::flow::{FlowKey, FlowRecord};

use crate::argus::ArgusCause;
use crate::fast_text;

use crate::names::{ethertype_name, IP_PROTOCOL_NAMES};

/// The Argus cause of a record (the high nibble of the record header's
/// second byte), as the Argus encoder writes it. The State column depends
/// on it, so text output and `ra` on nauditd's Argus files agree.
pub fn argus_cause(record: &FlowRecord) -> u8 {
    ArgusCause::from(record.cause) as u8
}

/// Writes the protocol name: the IP protocol, `arp`, or the EtherType name
/// (the number when it has none).
pub fn write_proto(out: &mut String, record: &FlowRecord) {
    match record.key {
        FlowKey::Ip { protocol, .. } => out.push_str(IP_PROTOCOL_NAMES[usize::from(protocol)]),
        FlowKey::Icmp { src: IpAddr::V4(_), .. } => out.push_str("icmp"),
        FlowKey::Icmp { src: IpAddr::V6(_), .. } => out.push_str("ipv6-icmp"),
        FlowKey::Arp { .. } => out.push_str("arp"),
        FlowKey::Layer2 { ethertype, .. } => match ethertype_name(ethertype) {
            Some(name) => out.push_str(name),
            None => fast_text::write_int(out, ethertype),
        },
        // RoCEv2 is shown as the UDP flow it is, as ra shows its Argus record.
        FlowKey::Infiniband { link: IbLink::RoceV2, .. } => out.push_str("udp"),
        FlowKey::Infiniband { link, .. } => out.push_str(link.name()),
    }
}

/// Writes the source (`source` true) or destination address.
pub fn write_addr(out: &mut String, record: &FlowRecord, source: bool) {
    match record.key {
        FlowKey::Ip { src, dst, .. } | FlowKey::Icmp { src, dst, .. } => {
            fast_text::write_ip(out, if source { src } else { dst });
        }
        FlowKey::Arp { sender_ip, target_ip } => fast_text::write_ipv4(out, if source { sender_ip } else { target_ip }),
        FlowKey::Layer2 { src_mac, dst_mac, .. } => {
            fast_text::write_mac(out, if source { &src_mac } else { &dst_mac });
        }
        FlowKey::Infiniband { src, dst, .. } => {
            crate::ib_columns::write_endpoint(out, if source { src } else { dst });
        }
    }
}

/// Writes the source (`source` true) or destination port: TCP and UDP
/// ports in decimal; for ICMP the type and code as `0xCCTT` and the query
/// identifier in hex; for ICMPv6 the type and the code in decimal; the LLC
/// service access points of 802.3 frames; the queue pairs of native
/// InfiniBand and RoCEv1 flows, and the UDP ports of RoCEv2 flows (the
/// source's UDP source port, and 4791); nothing for other protocols.
pub fn write_port(out: &mut String, record: &FlowRecord, source: bool) {
    match record.key {
        FlowKey::Ip { protocol: 6 | 17, src_port, dst_port, .. } => {
            fast_text::write_int(out, if source { src_port } else { dst_port });
        }
        // ESP: the SPI, whose halves the key keeps in the port fields, in
        // the destination port column, as ra shows it.
        FlowKey::Ip { protocol: 50, src_port, dst_port, .. } if !source => {
            out.push_str("0x");
            fast_text::write_hex_zero_padded(out, u32::from(src_port) << 16 | u32::from(dst_port), 8);
        }
        FlowKey::Icmp { src: IpAddr::V4(_), icmp_type, code, id, .. } => {
            let value = if source { u16::from(code) << 8 | u16::from(icmp_type) } else { id };
            out.push_str("0x");
            fast_text::write_hex_zero_padded(out, u32::from(value), 4);
        }
        FlowKey::Icmp { src: IpAddr::V6(_), icmp_type, code, .. } => {
            fast_text::write_int(out, if source { icmp_type } else { code });
        }
        FlowKey::Layer2 { ssap, dsap, .. } => fast_text::write_int(out, if source { ssap } else { dsap }),
        FlowKey::Infiniband { link: IbLink::RoceV2, .. } => {
            let port = if source { record.ib.map_or(0, |ib| ib.src.udp_src_port) } else { ROCE_V2_PORT };
            fast_text::write_int(out, port);
        }
        FlowKey::Infiniband { src_qp, dst_qp, .. } => {
            crate::ib_columns::write_qp(out, if source { src_qp } else { dst_qp });
        }
        _ => {}
    }
}

/// Returns the direction indicator: `<->`, `->` or `<-` by which sides
/// sent packets; for TCP without a SYN or SYN-ACK seen the middle becomes
/// `?`, and with one seen the connection is shown as `->`; ARP shows `who`.
pub fn dir(record: &FlowRecord) -> &'static str {
    if let FlowKey::Arp { .. } = record.key {
        return "who";
    }
    let (src_sent, dst_sent) = (record.src.pkts > 0, record.dst.pkts > 0);
    if let Some(tcp) = record.tcp {
        if tcp.status & (tcp_status::SAW_SYN | tcp_status::SAW_SYN_ACK) != 0 {
            return "->";
        }
        return match (src_sent, dst_sent) {
            (true, true) => "<?>",
            (true, false) => "?>",
            (false, true) => "<?",
            (false, false) => "?",
        };
    }
    match (src_sent, dst_sent) {
        (true, true) => "<->",
        (true, false) => "->",
        (false, true) => "<-",
        (false, false) => "",
    }
}

/// Returns the flow state as ra prints it (`CON`, `FIN`, `RST`, `INT`,
/// `ECO`, `URP`, ...).
pub fn state(record: &FlowRecord) -> &'static str {
    let both = record.src.pkts > 0 && record.dst.pkts > 0;
    let cause = argus_cause(record);
    match record.key {
        FlowKey::Icmp { src: IpAddr::V4(_), icmp_type, code, .. } => icmp_state(icmp_type, code),
        FlowKey::Icmp { src: IpAddr::V6(_), icmp_type, code, .. } => icmpv6_state(icmp_type, code),
        FlowKey::Arp { .. } => {
            if both {
                "CON"
            } else if record.src.pkts > 0 {
                "INT"
            } else {
                "RSP"
            }
        }
        _ => match record.tcp {
            Some(tcp) => tcp_state(tcp.status, cause, both),
            None => {
                if both {
                    "CON"
                } else if record.src.pkts > 0 {
                    if cause & 0x10 != 0 {
                        "INT"
                    } else {
                        "REQ"
                    }
                } else {
                    "RSP"
                }
            }
        },
    }
}

fn tcp_state(status: u32, cause: u8, both: bool) -> &'static str {
    // ra reads the cause only for a non-zero status: a TCP flow with no
    // state at all (its headers were cut short) is `CON` or `INT`.
    if status == 0 {
        return if both { "CON" } else { "INT" };
    }
    if status & (tcp_status::SRC_RESET | tcp_status::DST_RESET) != 0 {
        "RST"
    } else if status & (tcp_status::FIN | tcp_status::FIN_ACKED) != 0 {
        "FIN"
    } else if status & tcp_status::NORMAL_CLOSE != 0 {
        "CLO"
    } else if cause & 0x40 != 0 {
        "TIM"
    } else if status & tcp_status::ESTABLISHED != 0 {
        "CON"
    } else if status & tcp_status::SAW_SYN_ACK != 0 {
        "ACC"
    } else if status & tcp_status::SAW_SYN != 0 {
        "REQ"
    } else {
        "CON"
    }
}

/// Returns the state ra prints for an ICMP (IPv4) flow of this type and code.
fn icmp_state(icmp_type: u8, code: u8) -> &'static str {
    const UNREACHABLE: [&str; 16] = [
        "URN", "URH", "URO", "URP", "URF", "URS", "URNU", "URHU", "URISO", "URNPRO", "URHPRO", "URNTOS",
        "URHTOS", "URFIL", "URPRE", "URCUT",
    ];
    match icmp_type {
        0 => "ECR",
        3 => UNREACHABLE.get(usize::from(code)).copied().unwrap_or("UR"),
        4 => "SRC",
        5 => "RED",
        6 => "AHA",
        8 => "ECO",
        9 => "RTA",
        10 => "RTS",
        11 => "TXD",
        12 => "PAR",
        13 => "TST",
        14 => "TSR",
        15 => "IRQ",
        16 => "IRR",
        17 => "MAS",
        18 => "MSR",
        // Types 19 to 45 take ra 3.0.8's own names, which for 41 to 44 are
        // the ICMPv6 neighbour discovery names.
        19 => "SEC",
        20..=29 => "ROB",
        30 => "TRC",
        31 => "DCE",
        32 => "MHR",
        33 => "WAY",
        34 => "IAH",
        35 => "MRQ",
        36 => "MRP",
        37 => "DNQ",
        38 => "DNP",
        39 => "SKP",
        40 => "PHO",
        41 => "NRS",
        42 => "NRA",
        43 => "NNS",
        44 => "NNA",
        45 => "PTB",
        _ => "UNK",
    }
}

fn icmpv6_state(icmp_type: u8, code: u8) -> &'static str {
    const UNREACHABLE: [&str; 8] = ["URNR", "URAD", "URBS", "URAR", "URP", "URSF", "URRR", "URES"];
    match icmp_type {
        1 => UNREACHABLE.get(usize::from(code)).copied().unwrap_or("UNK"),
        2 => "PTB",
        3 if code == 0 => "TXT",
        3 => "TXR",
        4 => ["PPH", "PPNH", "PPO"].get(usize::from(code)).copied().unwrap_or("UNK"),
        128 => "ECO",
        129 => "ECR",
        130 => "MRQ",
        131 | 143 => "MHR",
        133 => "NRS",
        134 => "NRA",
        135 => "NNS",
        136 => "NNA",
        137 => "RED",
        _ => "UNK",
    }
}

/// Writes a time in nanoseconds as epoch seconds with six decimals
/// (microseconds, truncated as argus truncates).
pub fn write_epoch_us(out: &mut String, time_ns: u64) {
    fast_text::write_epoch_us(out, time_ns);
}

/// Writes an optional MAC address, nothing when absent.
pub fn write_optional_mac(out: &mut String, mac: Option<[u8; 6]>) {
    if let Some(mac) = mac {
        fast_text::write_mac(out, &mac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: u8 = 0x40;
    const START: u8 = 0x10;

    #[test]
    fn tcp_state_follows_ra() {
        // No state at all: ra ignores the cause.
        assert_eq!(tcp_state(0, TIMEOUT, false), "INT");
        assert_eq!(tcp_state(0, TIMEOUT, true), "CON");
        assert_eq!(tcp_state(tcp_status::ESTABLISHED, TIMEOUT, true), "TIM");
        assert_eq!(tcp_state(tcp_status::ESTABLISHED, START, true), "CON");
        assert_eq!(tcp_state(tcp_status::SAW_SYN, START, false), "REQ");
        assert_eq!(tcp_state(tcp_status::SAW_SYN | tcp_status::SRC_RESET, TIMEOUT, true), "RST");
    }
}
