//! The generator's captures read back through nauditd's own decoder: every
//! packet decodes to the end, flows and sessions come out as configured,
//! and both directions of every flow are present.

use std::collections::HashMap;

use naudit_engine::decode::{decode_packet, tcp_flag, Decoded, Network, Transport};
use naudit_engine::flow::{FlowKey, KeyDirection};
use naudit_engine::LinkType;
use naudit_perf::pcap::Records;
use naudit_perf::traffic::{write_capture, SizeMix, TrafficConfig, TrafficSummary};

fn generate(config: &TrafficConfig) -> (Vec<u8>, TrafficSummary) {
    let mut file = Vec::new();
    let summary = write_capture(config, &mut file).expect("capture written to memory");
    (file, summary)
}

fn config(size_mix: SizeMix, packets: u64, flows: u32) -> TrafficConfig {
    TrafficConfig {
        packets,
        flows,
        concurrent_sessions: None,
        size_mix,
        ipv6_share: 0.3,
        vlan_share: 0.3,
        vxlan_share: 0.2,
        udp_share: 0.3,
        seed: 77,
        rate_pps: 1_000_000,
    }
}

/// Returns the Ethernet frame inside a VXLAN packet (IPv4 outer header
/// without options, UDP to port 4789), or `None` outside a tunnel.
fn vxlan_inner(frame: &[u8]) -> Option<&[u8]> {
    let mut offset = 12;
    if frame[offset..offset + 2] == [0x81, 0x00] {
        offset += 4;
    }
    let ip = &frame[offset + 2..];
    let is_vxlan = frame[offset..offset + 2] == [0x08, 0x00] && ip[9] == 17 && ip[22..24] == 4789u16.to_be_bytes();
    is_vxlan.then(|| &ip[20 + 8 + 8..])
}

/// Decodes a frame with the engine, looking into a VXLAN tunnel by hand, so
/// the test passes whether or not the engine decodes VXLAN itself.
fn decode_innermost(frame: &[u8]) -> (Decoded, bool) {
    match vxlan_inner(frame) {
        Some(inner) => (decode_packet(LinkType::ETHERNET, inner), true),
        None => (decode_packet(LinkType::ETHERNET, frame), false),
    }
}

fn canonical_key(decoded: &Decoded) -> (FlowKey, KeyDirection) {
    FlowKey::from_decoded(decoded).expect("every generated packet has a flow key").canonical()
}

#[test]
fn flow_mix_decodes_with_engine() {
    let config = config(SizeMix::Imix, 3000, 200);
    let (file, summary) = generate(&config);
    let mut directions: HashMap<FlowKey, [u64; 2]> = HashMap::new();
    let (mut vlan_packets, mut vxlan_packets, mut ipv6_packets) = (0, 0, 0);

    for record in Records::new(&file).unwrap() {
        let (decoded, in_vxlan) = decode_innermost(record.data);
        assert_eq!(decoded.stop, None, "decoding stopped early");
        assert!(matches!(decoded.transport, Transport::Tcp(_) | Transport::Udp(_)));
        vxlan_packets += u64::from(in_vxlan);
        ipv6_packets += u64::from(matches!(decoded.network, Network::Ipv6(_)));
        // The tag sits on the outermost frame.
        vlan_packets += u64::from(record.data[12..14] == [0x81, 0x00]);
        if !in_vxlan {
            assert_eq!(decoded.link.vlan_count > 0, record.data[12..14] == [0x81, 0x00], "engine sees the VLAN tag");
        }

        let (key, direction) = canonical_key(&decoded);
        let index = usize::from(direction == KeyDirection::Reverse);
        directions.entry(key).or_default()[index] += 1;
    }

    assert_eq!(directions.len(), 200, "flows");
    for (key, counts) in &directions {
        assert!(counts[0] > 0, "no packet to the server in {key:?}");
        assert!(counts[1] > 0, "no packet to the client in {key:?}");
    }
    assert_eq!(vlan_packets, summary.vlan_packets);
    assert_eq!(vxlan_packets, summary.vxlan_packets);
    assert_eq!(ipv6_packets, summary.ipv6_packets);
}

#[test]
fn flow_shares_near_configured() {
    let config = TrafficConfig { packets: 4000, flows: 2000, ..config(SizeMix::Small64, 0, 0) };
    let (_, summary) = generate(&config);
    let share = |packets: u64| packets as f64 / summary.packets as f64;
    // Shares are drawn per flow, so 2000 flows put them within a few percent.
    assert!((share(summary.vlan_packets) - 0.3).abs() < 0.05, "VLAN share {}", share(summary.vlan_packets));
    assert!((share(summary.vxlan_packets) - 0.2).abs() < 0.05, "VXLAN share {}", share(summary.vxlan_packets));
    assert!((share(summary.ipv6_packets) - 0.3).abs() < 0.05, "IPv6 share {}", share(summary.ipv6_packets));
    assert!((share(summary.udp_packets) - 0.3).abs() < 0.05, "UDP share {}", share(summary.udp_packets));
}

#[test]
fn small64_frames_minimal() {
    let (file, _) = generate(&config(SizeMix::Small64, 1000, 100));
    for record in Records::new(&file).unwrap() {
        let (decoded, in_vxlan) = decode_innermost(record.data);
        if in_vxlan {
            // Outer headers alone take 50 bytes, so the frame is as short as its headers.
            assert!(record.data.len() > 64);
            assert_eq!(decoded.app_bytes, 0);
        } else if matches!(decoded.network, Network::Ipv4(_)) {
            assert_eq!(record.data.len(), 64, "IPv4 frames are 64 bytes");
        } else {
            // IPv6 with TCP needs 74 bytes of headers, 78 with a VLAN tag.
            assert!((64..=78).contains(&record.data.len()), "IPv6 frame of {} bytes", record.data.len());
        }
    }
}

#[test]
fn imix_sizes_in_ratio() {
    let config = TrafficConfig { ipv6_share: 0.0, vlan_share: 0.0, vxlan_share: 0.0, ..config(SizeMix::Imix, 12_000, 100) };
    let (file, _) = generate(&config);
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    for record in Records::new(&file).unwrap() {
        *sizes.entry(record.data.len()).or_default() += 1;
    }
    assert_eq!(sizes.len(), 3, "three sizes: {sizes:?}");
    // 7:4:1 of 12000 is 7000, 4000 and 1000.
    for (size, expected) in [(64, 7000.0), (576, 4000.0), (1500, 1000.0)] {
        let count = sizes[&size] as f64;
        assert!((count - expected).abs() < expected * 0.1, "{size}-byte frames: {count}");
    }
}

/// What one session showed, per canonical key.
#[derive(Default, Debug)]
struct SessionSeen {
    packets: u64,
    first_flags: Option<u8>,
    syn_ack: bool,
    fins: [bool; 2],
    data_both_ways: [bool; 2],
    dns_ids: [Option<u16>; 2],
}

#[test]
fn sessions_decode_with_engine() {
    let config = TrafficConfig { vxlan_share: 0.0, udp_share: 0.2, ..config(SizeMix::Sessions, 20_000, 1000) };
    let (file, summary) = generate(&config);
    let mut sessions: HashMap<FlowKey, SessionSeen> = HashMap::new();

    for record in Records::new(&file).unwrap() {
        let decoded = decode_packet(LinkType::ETHERNET, record.data);
        assert_eq!(decoded.stop, None, "decoding stopped early");
        let (key, direction) = canonical_key(&decoded);
        let side = usize::from(direction == KeyDirection::Reverse);
        let seen = sessions.entry(key).or_default();
        seen.packets += 1;
        match decoded.transport {
            Transport::Tcp(tcp) => {
                seen.first_flags.get_or_insert(tcp.flags);
                seen.syn_ack |= tcp.flags & (tcp_flag::SYN | tcp_flag::ACK) == tcp_flag::SYN | tcp_flag::ACK;
                seen.fins[side] |= tcp.flags & tcp_flag::FIN != 0;
                seen.data_both_ways[side] |= decoded.app_bytes > 0;
            }
            Transport::Udp(udp) => {
                assert!(udp.src_port == 53 || udp.dst_port == 53, "UDP sessions are DNS");
                let dns = decoded.dns.expect("DNS header decoded");
                seen.dns_ids[usize::from(dns.is_response)] = Some(dns.id);
            }
            other => panic!("unexpected transport {other:?}"),
        }
    }

    assert_eq!(sessions.len() as u64, summary.flows, "sessions");
    let mut completed = 0;
    let mut with_data_both_ways = 0;
    for (key, seen) in &sessions {
        match seen.first_flags {
            Some(flags) => {
                assert_eq!(flags, tcp_flag::SYN, "TCP session {key:?} opens with a SYN");
                if seen.fins == [true, true] {
                    assert!(seen.syn_ack, "closed session {key:?} had a SYN-ACK");
                    completed += 1;
                }
                with_data_both_ways += u64::from(seen.data_both_ways == [true, true]);
            }
            None => {
                if let [Some(query), Some(response)] = seen.dns_ids {
                    assert_eq!(query, response, "DNS response answers its query");
                    completed += 1;
                }
            }
        }
    }
    // The generator counts a session as completed after its final ACK. Both
    // FINs come one packet earlier, so the test also counts the sessions
    // that the end of the capture cut off just before that ACK.
    assert!(completed >= summary.sessions_completed, "completed {completed} < {}", summary.sessions_completed);
    // The packet count is the expected total of all sessions, so the
    // capture ends with the longest sessions still open.
    assert!(summary.sessions_completed > 700, "most sessions complete: {}", summary.sessions_completed);
    assert!(with_data_both_ways > 500, "sessions with data both ways: {with_data_both_ways}");
}

#[test]
fn same_seed_same_capture() {
    let config = config(SizeMix::Sessions, 2000, 100);
    assert_eq!(generate(&config).0, generate(&config).0);
    let other = TrafficConfig { seed: 78, ..config };
    assert_ne!(generate(&config).0, generate(&other).0);
}
