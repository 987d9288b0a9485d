//! Captures whose frames keep their Ethernet FCS: pcap files that state an
//! FCS length in the upper bits of the header's link-type field. nauditd
//! counts frames without the FCS, as it does for captures without one.

mod common;

use common::builder::{self, TestPacket, ACK, SYN};
use common::{csv_rows, nauditd_csv, scratch_file};

/// The link-type field for Ethernet with the FCS-length bits set: the P bit
/// (bit 26) and a length of 2 16-bit words (bits 28 to 31).
const ETHERNET_WITH_4_BYTE_FCS: u32 = 0x2400_0001;

fn handshake(with_fcs: bool) -> Vec<TestPacket> {
    let base_ns = 1_650_000_000_000_000_000;
    let frames = [
        builder::ipv4_frame([10, 9, 0, 1], [10, 9, 0, 2], 6, &builder::tcp(43000, 22, 1, 0, SYN, 0), false),
        builder::ipv4_frame([10, 9, 0, 2], [10, 9, 0, 1], 6, &builder::tcp(22, 43000, 7, 2, SYN | ACK, 0), true),
        builder::ipv4_frame([10, 9, 0, 1], [10, 9, 0, 2], 6, &builder::tcp(43000, 22, 2, 8, ACK, 10), false),
    ];
    frames
        .into_iter()
        .enumerate()
        .map(|(index, mut data)| {
            if with_fcs {
                data.extend_from_slice(&[0x5e, 0xa1, 0x0f, 0xc3]);
            }
            TestPacket { time_ns: base_ns + index as u64 * 1_000_000, data }
        })
        .collect()
}

#[test]
fn pcap_fcs_is_left_out_of_byte_counts() {
    let with_fcs = scratch_file("fcs-4.pcap", &builder::pcap_file(ETHERNET_WITH_4_BYTE_FCS, &handshake(true)));
    let without_fcs = scratch_file("fcs-none.pcap", &builder::pcap_file(1, &handshake(false)));

    let rows = csv_rows(&nauditd_csv(&with_fcs, &[]));
    assert_eq!(rows.len(), 2, "header and one record: {rows:?}");
    let field = |name: &str| {
        let index = rows[0].iter().position(|column| column == name).unwrap();
        rows[1][index].clone()
    };
    // tshark -r fcs-4.pcap -q -z conv,tcp: 10.9.0.1:43000 <-> 10.9.0.2:22,
    // 2 frames of 126 bytes from the client and 1 frame of 58 bytes from
    // the server, each frame with its 4 FCS bytes (tshark shows eth.fcs
    // 0x5ea10fc3 in each).
    assert_eq!((field("spkts"), field("dpkts")), ("2".to_string(), "1".to_string()));
    assert_eq!(field("sbytes"), (126 - 2 * 4).to_string());
    assert_eq!(field("dbytes"), (58 - 4).to_string());
    assert_eq!(field("sappbytes"), "10");
    assert_eq!(nauditd_csv(&with_fcs, &[]), nauditd_csv(&without_fcs, &[]));
}
