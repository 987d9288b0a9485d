//! The mapped-ICMP DSR (`0x34`): an ICMP error that quoted a packet of the
//! flow, so `ra` shows it in the third `Flgs` character.

use std::net::IpAddr;

use naudit_engine::flow::IcmpError;

use super::header::put_dsr_header;

const MAPPED_ICMP_DSR: u8 = 0x34;
/// Length in words, header included, as argus 3.0.8 writes it.
const LENGTH_WORDS: u8 = 8;

/// ICMP types and the qualifier bit ra reads for each (`U`, `R`, `T`).
const ICMP_UNREACHABLE: u8 = 3;
const ICMP_REDIRECT: u8 = 5;
const ICMP_TIME_EXCEEDED: u8 = 11;
const QUALIFIER_UNREACHABLE: u8 = 0x01;
const QUALIFIER_REDIRECT: u8 = 0x02;
const QUALIFIER_TIME_EXCEEDED: u8 = 0x04;

fn ipv4_octets(address: IpAddr) -> Option<[u8; 4]> {
    match address {
        IpAddr::V4(address) => Some(address.octets()),
        IpAddr::V6(_) => None,
    }
}

/// Appends the DSR for an IPv4 ICMP error. The layout has room for IPv4
/// addresses only, so ICMPv6 errors are not written.
pub fn put_mapped_icmp_dsr(out: &mut Vec<u8>, error: &IcmpError) {
    if error.is_icmpv6 {
        return;
    }
    let addresses = [error.reporter, error.receiver, error.quoted_src, error.quoted_dst].map(ipv4_octets);
    let [Some(reporter), Some(receiver), Some(quoted_src), Some(quoted_dst)] = addresses else {
        return;
    };
    let qualifier = match error.icmp_type {
        ICMP_UNREACHABLE => QUALIFIER_UNREACHABLE,
        ICMP_REDIRECT => QUALIFIER_REDIRECT,
        ICMP_TIME_EXCEEDED => QUALIFIER_TIME_EXCEEDED,
        _ => 0,
    };
    put_dsr_header(out, MAPPED_ICMP_DSR, 0, qualifier, LENGTH_WORDS);
    out.extend_from_slice(&[error.icmp_type, error.code, 0, 0]);
    for address in [reporter, receiver, quoted_src, quoted_dst] {
        out.extend_from_slice(&address);
    }
    // The gateway of a redirect is not kept in the record; both words stay 0.
    out.extend_from_slice(&[0; 8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(icmp_type: u8, code: u8) -> IcmpError {
        IcmpError {
            icmp_type,
            code,
            is_icmpv6: false,
            reporter: IpAddr::from([192, 168, 1, 102]),
            receiver: IpAddr::from([192, 168, 1, 1]),
            quoted_src: IpAddr::from([192, 168, 1, 1]),
            quoted_dst: IpAddr::from([192, 168, 1, 102]),
            time_ns: 1,
        }
    }

    #[test]
    fn port_unreachable_layout() {
        let mut out = Vec::new();
        put_mapped_icmp_dsr(&mut out, &error(3, 3));
        assert_eq!(out.len(), 32);
        assert_eq!(&out[..8], &[0x34, 0, 0x01, 8, 3, 3, 0, 0]);
        assert_eq!(&out[8..12], &[192, 168, 1, 102]);
        assert_eq!(&out[20..24], &[192, 168, 1, 102]);
        assert_eq!(&out[24..32], &[0; 8]);
    }

    #[test]
    fn qualifier_by_type() {
        for (icmp_type, qualifier) in [(5, 0x02), (11, 0x04), (12, 0x00)] {
            let mut out = Vec::new();
            put_mapped_icmp_dsr(&mut out, &error(icmp_type, 0));
            assert_eq!(out[2], qualifier, "type {icmp_type}");
        }
    }

    #[test]
    fn icmpv6_not_written() {
        let mut out = Vec::new();
        put_mapped_icmp_dsr(&mut out, &IcmpError { is_icmpv6: true, ..error(1, 4) });
        assert!(out.is_empty());
    }
}
