//! The network DSR (`0x30`) with the TCP performance object (subtype `0x05`).
//!
//! ra's TCP State column (REQ, ACC, CON, FIN, CLO, RST) and the TCP Dir
//! column come from this DSR's status word. The shorter TCP subtypes are
//! avoided because the 3.0.8 tools corrupt subtype `0x04` when they rewrite
//! records (`ra -w`, `racluster -w`, `rasort -w`).

use naudit_engine::decode::tcp_option;
use naudit_engine::flow::record::tcp_status;
use naudit_engine::flow::record::TcpDirection;
use naudit_engine::flow::{DirectionStats, TcpSummary};

use super::header::put_dsr_header;
use super::time::ArgusTime;

const NETWORK_DSR: u8 = 0x30;
const SUBTYPE_TCP_PERFORMANCE: u8 = 0x05;
/// Length of the argus 3.0.8 TCP performance object in words. Argus 5.x
/// marks a longer layout with qualifier `0x02`; qualifier 0 is this one.
const TCP_PERFORMANCE_WORDS: u8 = 30;
/// Bytes of one direction block.
const DIRECTION_BLOCK_BYTES: usize = 48;

/// Argus TCP status bits, named as in argus's `include/argus_def.h`.
mod argus_status {
    pub const SAW_SYN: u32 = 0x0000_0001;
    pub const SAW_SYN_SENT: u32 = 0x0000_0002;
    pub const CON_ESTABLISHED: u32 = 0x0000_0004;
    pub const FIN: u32 = 0x0000_0008;
    pub const FIN_ACK: u32 = 0x0000_0010;
    pub const NORMAL_CLOSE: u32 = 0x0000_0020;
    pub const CLOSE_WAITING: u32 = 0x0000_0040;
    pub const SRC_PKTS_RETRANS: u32 = 0x0000_0100;
    pub const DST_PKTS_RETRANS: u32 = 0x0000_0200;
    pub const SRC_WINDOW_SHUT: u32 = 0x0000_0400;
    pub const DST_WINDOW_SHUT: u32 = 0x0000_0800;
    pub const SRC_RESET: u32 = 0x0000_1000;
    pub const DST_RESET: u32 = 0x0000_2000;
    pub const SRC_CONGESTED: u32 = 0x0000_4000;
    pub const DST_CONGESTED: u32 = 0x0000_8000;
    pub const SRC_OUTOFORDER: u32 = 0x0001_0000;
    pub const DST_OUTOFORDER: u32 = 0x0002_0000;
}

/// Engine status bits and the Argus bits they set. The values happen to be
/// equal, but the table keeps a future engine bit from reaching the file
/// unchecked.
const STATUS_MAP: [(u32, u32); 17] = [
    (tcp_status::SAW_SYN, argus_status::SAW_SYN),
    (tcp_status::SAW_SYN_ACK, argus_status::SAW_SYN_SENT),
    (tcp_status::ESTABLISHED, argus_status::CON_ESTABLISHED),
    (tcp_status::FIN, argus_status::FIN),
    (tcp_status::FIN_ACKED, argus_status::FIN_ACK),
    (tcp_status::NORMAL_CLOSE, argus_status::NORMAL_CLOSE),
    (tcp_status::CLOSE_WAITING, argus_status::CLOSE_WAITING),
    (tcp_status::SRC_RETRANSMITTED, argus_status::SRC_PKTS_RETRANS),
    (tcp_status::DST_RETRANSMITTED, argus_status::DST_PKTS_RETRANS),
    (tcp_status::SRC_WINDOW_SHUT, argus_status::SRC_WINDOW_SHUT),
    (tcp_status::DST_WINDOW_SHUT, argus_status::DST_WINDOW_SHUT),
    (tcp_status::SRC_RESET, argus_status::SRC_RESET),
    (tcp_status::DST_RESET, argus_status::DST_RESET),
    (tcp_status::SRC_CONGESTED, argus_status::SRC_CONGESTED),
    (tcp_status::DST_CONGESTED, argus_status::DST_CONGESTED),
    (tcp_status::SRC_OUT_OF_ORDER, argus_status::SRC_OUTOFORDER),
    (tcp_status::DST_OUT_OF_ORDER, argus_status::DST_OUTOFORDER),
];

/// Engine status bits that belong in the source direction block, with their
/// Argus values.
const SRC_BLOCK_STATUS: [(u32, u32); 4] = [
    (tcp_status::SRC_RESET, argus_status::SRC_RESET),
    (tcp_status::SRC_RETRANSMITTED, argus_status::SRC_PKTS_RETRANS),
    (tcp_status::SRC_WINDOW_SHUT, argus_status::SRC_WINDOW_SHUT),
    (tcp_status::SRC_OUT_OF_ORDER, argus_status::SRC_OUTOFORDER),
];

/// Engine status bits that belong in the destination direction block.
const DST_BLOCK_STATUS: [(u32, u32); 4] = [
    (tcp_status::DST_RESET, argus_status::DST_RESET),
    (tcp_status::DST_RETRANSMITTED, argus_status::DST_PKTS_RETRANS),
    (tcp_status::DST_WINDOW_SHUT, argus_status::DST_WINDOW_SHUT),
    (tcp_status::DST_OUT_OF_ORDER, argus_status::DST_OUTOFORDER),
];

/// Engine TCP option bits and the Argus option bits they set.
const OPTION_MAP: [(u16, u32); 5] = [
    (tcp_option::MSS, 0x0010_0000),
    (tcp_option::WINDOW_SCALE, 0x0020_0000),
    (tcp_option::SACK_PERMITTED, 0x0040_0000),
    (tcp_option::SACK, 0x0080_0000),
    (tcp_option::TIMESTAMP, 0x0400_0000),
];

/// Returns the Argus TCP status word for the engine's status bits.
pub fn argus_tcp_status(status: u32) -> u32 {
    map_bits(status, &STATUS_MAP)
}

fn map_bits(bits: u32, map: &[(u32, u32)]) -> u32 {
    map.iter().filter(|(engine, _)| bits & engine != 0).fold(0, |argus, (_, bit)| argus | bit)
}

fn argus_tcp_options(options: u16) -> u32 {
    OPTION_MAP.iter().filter(|(engine, _)| options & engine != 0).fold(0, |argus, (_, bit)| argus | bit)
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Converts an optional nanosecond duration to microseconds, 0 when absent.
fn microseconds(duration_ns: Option<u64>) -> u32 {
    saturating_u32(duration_ns.unwrap_or(0) / 1_000)
}

/// Appends the network DSR with the TCP performance object.
///
/// `src` and `dst` are the record's per-direction counts: a direction that
/// sent no packets in the record's interval gets an all-zero block, as the
/// reader expects.
pub fn put_tcp_dsr(out: &mut Vec<u8>, tcp: &TcpSummary, src: &DirectionStats, dst: &DirectionStats) {
    put_dsr_header(out, NETWORK_DSR, SUBTYPE_TCP_PERFORMANCE, 0, TCP_PERFORMANCE_WORDS);
    out.extend_from_slice(&argus_tcp_status(tcp.status).to_be_bytes());
    // The sensor's TCP state machine value; ra does not use it.
    out.extend_from_slice(&0u32.to_be_bytes());
    let options = argus_tcp_options(tcp.src.options | tcp.dst.options);
    out.extend_from_slice(&options.to_be_bytes());
    out.extend_from_slice(&microseconds(tcp.syn_to_syn_ack_ns).to_be_bytes());
    out.extend_from_slice(&microseconds(tcp.syn_ack_to_ack_ns).to_be_bytes());

    put_direction_block(out, &tcp.src, src, map_bits(tcp.status, &SRC_BLOCK_STATUS));
    put_direction_block(out, &tcp.dst, dst, map_bits(tcp.status, &DST_BLOCK_STATUS));
}

fn put_direction_block(out: &mut Vec<u8>, side: &TcpDirection, stats: &DirectionStats, status: u32) {
    if stats.pkts == 0 {
        out.extend_from_slice(&[0; DIRECTION_BLOCK_BYTES]);
        return;
    }

    ArgusTime::from_unix_ns(side.last_ns).put(out);
    out.extend_from_slice(&status.to_be_bytes());
    out.extend_from_slice(&side.base_seq.to_be_bytes());
    out.extend_from_slice(&side.next_seq.to_be_bytes());
    out.extend_from_slice(&side.last_ack.to_be_bytes());
    // NOTE: the record model has no window sequence number, acknowledged
    // bytes or window bytes, so those fields are 0. ra prints none of them
    // in its TCP columns.
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&saturating_u32(stats.app_bytes).to_be_bytes());
    out.extend_from_slice(&side.retransmitted_pkts.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&side.window.to_be_bytes());
    out.push(side.flags);
    out.push(side.window_scale.unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn ns(seconds: u64, microseconds: u64) -> u64 {
        seconds * 1_000_000_000 + microseconds * 1_000
    }

    #[test]
    fn every_engine_status_bit_has_its_argus_value() {
        let expected = [
            (tcp_status::SAW_SYN, 0x0000_0001),
            (tcp_status::SAW_SYN_ACK, 0x0000_0002),
            (tcp_status::ESTABLISHED, 0x0000_0004),
            (tcp_status::FIN, 0x0000_0008),
            (tcp_status::FIN_ACKED, 0x0000_0010),
            (tcp_status::NORMAL_CLOSE, 0x0000_0020),
            (tcp_status::CLOSE_WAITING, 0x0000_0040),
            (tcp_status::SRC_RETRANSMITTED, 0x0000_0100),
            (tcp_status::DST_RETRANSMITTED, 0x0000_0200),
            (tcp_status::SRC_WINDOW_SHUT, 0x0000_0400),
            (tcp_status::DST_WINDOW_SHUT, 0x0000_0800),
            (tcp_status::SRC_RESET, 0x0000_1000),
            (tcp_status::DST_RESET, 0x0000_2000),
            (tcp_status::SRC_CONGESTED, 0x0000_4000),
            (tcp_status::DST_CONGESTED, 0x0000_8000),
            (tcp_status::SRC_OUT_OF_ORDER, 0x0001_0000),
            (tcp_status::DST_OUT_OF_ORDER, 0x0002_0000),
        ];
        for (engine, argus) in expected {
            assert_eq!(argus_tcp_status(engine), argus, "engine bit {engine:#x}");
        }
    }

    #[test]
    fn unknown_engine_status_bits_are_dropped() {
        assert_eq!(argus_tcp_status(0x8000_0000 | tcp_status::FIN), 0x0000_0008);
    }

    #[test]
    fn options_map_to_argus_bits() {
        let all = tcp_option::MSS | tcp_option::WINDOW_SCALE | tcp_option::SACK_PERMITTED | tcp_option::TIMESTAMP;
        assert_eq!(argus_tcp_options(all), 0x0470_0000);
        assert_eq!(argus_tcp_options(tcp_option::SACK), 0x0080_0000);
    }

    /// Returns the HTTP flow of tcpdump's tests/print-flags.pcap as argus
    /// 3.0.8.2 recorded it (record 1), in the engine's record model.
    fn print_flags_tcp() -> (TcpSummary, DirectionStats, DirectionStats) {
        let options = tcp_option::MSS | tcp_option::WINDOW_SCALE | tcp_option::SACK_PERMITTED | tcp_option::TIMESTAMP;
        let tcp = TcpSummary {
            status: tcp_status::SAW_SYN
                | tcp_status::SAW_SYN_ACK
                | tcp_status::ESTABLISHED
                | tcp_status::FIN
                | tcp_status::FIN_ACKED,
            syn_to_syn_ack_ns: Some(56_000),
            syn_ack_to_ack_ns: Some(45_400),
            src: TcpDirection {
                flags: 0x1b,
                options,
                base_seq: 0x3758_897e,
                next_seq: 0x3758_8a49,
                last_ack: 0x377a_a3a9,
                window: 0x305f,
                window_scale: Some(2),
                retransmitted_pkts: 0,
                out_of_order_pkts: 0,
                last_ns: ns(1_120_622_257, 230_900),
            },
            dst: TcpDirection {
                flags: 0x1b,
                options,
                base_seq: 0x377a_8df1,
                next_seq: 0x377a_a3a9,
                last_ack: 0x3758_8a49,
                window: 0x2000,
                window_scale: Some(2),
                retransmitted_pkts: 0,
                out_of_order_pkts: 0,
                last_ns: ns(1_120_622_257, 230_839),
            },
        };
        let src = DirectionStats { pkts: 6, bytes: 606, app_bytes: 202, ..DirectionStats::default() };
        let dst = DirectionStats { pkts: 4, bytes: 5831, app_bytes: 5559, ..DirectionStats::default() };
        (tcp, src, dst)
    }

    #[test]
    fn tcp_matches_argus_example() {
        // Argus 3.0.8.2 writes (tcpdump tests/print-flags.pcap, record 1):
        //   3005001e 0000001f 00000009 04700000 00000038 0000002d
        //   42cb56b1 000385f4 0000001c 3758897e 37588a49 377aa3a9
        //   00000002 000000ca 00000000 00000000 00000000 305f1b02
        //   42cb56b1 000385b7 0000001a 377a8df1 377aa3a9 37588a49
        //   00000002 000015b7 00000000 00000000 00000000 20001b02
        // This encoder differs in three fields. The state machine value (9)
        // and the window sequence number (2) are not in the record model,
        // so they are 0. In the per-direction status argus repeats
        // connection bits, but this encoder writes only the direction's
        // reset, retransmit, window and order bits, 0 here.
        let (tcp, src, dst) = print_flags_tcp();
        let mut out = Vec::new();
        put_tcp_dsr(&mut out, &tcp, &src, &dst);
        let expected = "3005001e 0000001f 00000000 04700000 00000038 0000002d
            42cb56b1 000385f4 00000000 3758897e 37588a49 377aa3a9
            00000000 000000ca 00000000 00000000 00000000 305f1b02
            42cb56b1 000385b7 00000000 377a8df1 377aa3a9 37588a49
            00000000 000015b7 00000000 00000000 00000000 20001b02";
        assert_eq!(out, hex(expected));
    }

    #[test]
    fn silent_direction_block_is_zero() {
        let (mut tcp, src, _) = print_flags_tcp();
        tcp.status = tcp_status::SAW_SYN | tcp_status::DST_RESET;
        let mut out = Vec::new();
        put_tcp_dsr(&mut out, &tcp, &src, &DirectionStats::default());
        assert_eq!(out.len(), 120);
        assert_eq!(&out[4..8], 0x0000_2001u32.to_be_bytes());
        assert!(out[72..].iter().all(|&byte| byte == 0), "destination block {:02x?}", &out[72..]);
    }

    #[test]
    fn direction_blocks_carry_their_own_status_bits() {
        let (mut tcp, src, dst) = print_flags_tcp();
        tcp.status = tcp_status::SRC_RESET | tcp_status::DST_RETRANSMITTED | tcp_status::DST_OUT_OF_ORDER;
        tcp.dst.retransmitted_pkts = 3;
        let mut out = Vec::new();
        put_tcp_dsr(&mut out, &tcp, &src, &dst);
        assert_eq!(&out[32..36], 0x0000_1000u32.to_be_bytes());
        assert_eq!(&out[80..84], 0x0002_0200u32.to_be_bytes());
        assert_eq!(&out[104..108], 3u32.to_be_bytes());
    }

    #[test]
    fn missing_handshake_times_are_zero() {
        let (mut tcp, src, dst) = print_flags_tcp();
        tcp.syn_to_syn_ack_ns = None;
        tcp.syn_ack_to_ack_ns = Some(u64::MAX);
        let mut out = Vec::new();
        put_tcp_dsr(&mut out, &tcp, &src, &dst);
        assert_eq!(&out[16..24], hex("00000000 ffffffff"));
    }
}
