//! The traffic generator: synthetic captures of many concurrent flows or of
//! complete TCP and UDP sessions, deterministic for a seed.
//!
//! Each flow's addresses, ports, IP version, VLAN tag and tunnel are a pure
//! function of (seed, flow number), so nothing per flow is stored except
//! TCP sequence numbers. Frames are built in one reused buffer and written
//! through the caller's writer; nothing is allocated per packet.
//!
//! Address plan (all private or documentation ranges): IPv4 clients in
//! 10.0.0.0/8, servers in 172.16.0.0/12; IPv6 clients in 2001:db8:c::/48,
//! servers in 2001:db8:5::/48; VXLAN tunnel endpoints in 192.0.2.0/24
//! (client side) and 198.51.100.0/24 (server side).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::frame::{tcp_flags, Direction, DnsHeader, Endpoints, Segment, Transport, VxlanTunnel, DNS_HEADER_BYTES, MAX_FRAME_BYTES};
use crate::pcap::PcapWriter;
use crate::rng::{below, hash3, mix64, unit_interval, SplitMix64};

/// Most flows or sessions in one capture: each client address encodes its
/// flow number in 24 bits, which keeps every flow key distinct.
pub const MAX_FLOWS: u32 = 1 << 24;
/// Capture time of the first packet: 2024-01-01 00:00:00 UTC, in
/// nanoseconds since the Unix epoch.
pub const START_TIME_NS: u64 = 1_704_067_200 * 1_000_000_000;
/// Output buffer of [`write_capture_file`].
const WRITE_BUFFER_BYTES: usize = 8 << 20;
/// Server ports of TCP flows, drawn uniformly (443 three times as often).
const TCP_SERVER_PORTS: [u16; 8] = [443, 443, 443, 80, 8080, 22, 25, 993];
/// Server ports of UDP flows outside sessions: DNS, NTP, QUIC, syslog.
const UDP_SERVER_PORTS: [u16; 4] = [53, 123, 443, 514];
/// Server port of UDP sessions: DNS.
const DNS_PORT: u16 = 53;
/// Distinct server addresses: flows share servers, as real traffic does.
const SERVER_POOL: u64 = 1 << 16;
/// Distinct VTEPs on each side of the VXLAN tunnels.
const VTEP_POOL: u64 = 64;
/// Clients send with this TTL, and servers' packets arrive with the other
/// (as if seven routers away).
const CLIENT_TTL: u8 = 64;
const SERVER_TTL: u8 = 57;

/// Multiplier of the per-round permutation of flows. It is a prime above
/// [`MAX_FLOWS`], so it is coprime with every flow count and the map
/// `position -> (position * STRIDE + offset) mod flows` is a bijection.
const PERMUTATION_STRIDE: u64 = 2_654_435_761;

/// The rule that picks frame sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeMix {
    /// Every frame 64 bytes, or as long as its headers when IPv6, a VLAN
    /// tag or a tunnel make them longer.
    Small64,
    /// Simple IMIX: 64, 576 and 1500-byte frames in the ratio 7:4:1.
    Imix,
    /// Complete sessions: TCP with handshake, data both ways and FIN/ACK
    /// teardown, and DNS queries with their responses over UDP. Sizes
    /// follow from each packet's role.
    Sessions,
}

impl SizeMix {
    /// Returns the name used on command lines and in capture file names.
    pub fn name(self) -> &'static str {
        match self {
            SizeMix::Small64 => "small64",
            SizeMix::Imix => "imix",
            SizeMix::Sessions => "sessions",
        }
    }

    /// Parses a name returned by [`SizeMix::name`].
    pub fn from_name(name: &str) -> Option<SizeMix> {
        match name {
            "small64" => Some(SizeMix::Small64),
            "imix" => Some(SizeMix::Imix),
            "sessions" => Some(SizeMix::Sessions),
            _ => None,
        }
    }
}

/// Generator settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrafficConfig {
    /// Packets to write. A sessions capture ends earlier when every
    /// session has finished.
    pub packets: u64,
    /// Flows (in sessions mode: sessions), at most [`MAX_FLOWS`].
    pub flows: u32,
    /// Sessions open at once, in sessions mode; `None` opens all of them
    /// at the start. Flow mixes keep every flow open throughout.
    pub concurrent_sessions: Option<u32>,
    /// The rule that picks frame sizes.
    pub size_mix: SizeMix,
    /// Share of flows over IPv6, from 0 to 1.
    pub ipv6_share: f64,
    /// Share of flows with an 802.1Q tag.
    pub vlan_share: f64,
    /// Share of flows inside a VXLAN tunnel.
    pub vxlan_share: f64,
    /// Share of flows (sessions) over UDP; the rest is TCP.
    pub udp_share: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Packets per second of capture time, which spaces the timestamps.
    pub rate_pps: u64,
}

impl TrafficConfig {
    /// Checks every field; the message names the field and its limit.
    pub fn validate(&self) -> Result<(), String> {
        if self.flows == 0 || self.flows > MAX_FLOWS {
            return Err(format!("invalid flow count {}: must be 1 to {MAX_FLOWS}", self.flows));
        }
        if self.concurrent_sessions == Some(0) {
            return Err("invalid concurrent session count 0: must be at least 1".to_string());
        }
        if self.rate_pps == 0 {
            return Err("invalid packet rate 0: must be at least 1 packet per second".to_string());
        }
        for (name, share) in [
            ("IPv6 share", self.ipv6_share),
            ("VLAN share", self.vlan_share),
            ("VXLAN share", self.vxlan_share),
            ("UDP share", self.udp_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("invalid {name} {share}: must be between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// Counts of what one generator run wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficSummary {
    /// Packets written.
    pub packets: u64,
    /// Frame bytes written, record headers excluded.
    pub frame_bytes: u64,
    /// Bytes of the capture file, headers included.
    pub file_bytes: u64,
    /// Distinct flows (in sessions mode: sessions started).
    pub flows: u64,
    /// Sessions that sent their last packet (sessions mode only).
    pub sessions_completed: u64,
    /// Packets over IPv6.
    pub ipv6_packets: u64,
    /// Packets with an 802.1Q tag.
    pub vlan_packets: u64,
    /// Packets inside a VXLAN tunnel.
    pub vxlan_packets: u64,
    /// TCP packets.
    pub tcp_packets: u64,
    /// UDP packets (VXLAN's outer UDP aside).
    pub udp_packets: u64,
    /// Packets sent by the client, per direction: `[to server, to client]`.
    pub direction_packets: [u64; 2],
    /// Time of the first packet, in nanoseconds since the epoch.
    pub first_timestamp_ns: u64,
    /// Time of the last packet.
    pub last_timestamp_ns: u64,
}

/// Writes a capture to `path` through a large buffer. The file appears
/// under its name only when complete: it is written next to it first.
pub fn write_capture_file(config: &TrafficConfig, path: &Path) -> io::Result<TrafficSummary> {
    let partial = path.with_extension("pcap.partial");
    let file = File::create(&partial)?;
    let summary = write_capture(config, BufWriter::with_capacity(WRITE_BUFFER_BYTES, file))?;
    fs::rename(&partial, path)?;
    Ok(summary)
}

/// Writes a capture as a classic pcap stream to `out`.
pub fn write_capture<W: Write>(config: &TrafficConfig, out: W) -> io::Result<TrafficSummary> {
    config.validate().map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
    let mut output = FrameOutput::new(config, PcapWriter::new(out)?);
    match config.size_mix {
        SizeMix::Small64 | SizeMix::Imix => write_flows(config, &mut output)?,
        SizeMix::Sessions => write_sessions(config, &mut output)?,
    }
    let mut summary = output.summary;
    summary.file_bytes = output.writer.bytes_written();
    output.writer.finish()?;
    Ok(summary)
}

/// Derives a flow's endpoints and framing from (seed, flow number).
pub fn flow_endpoints(config: &TrafficConfig, flow: u32, transport: Option<Transport>) -> Endpoints {
    let seed = config.seed;
    let index = u64::from(flow);
    let draw = |stream: u64| hash3(seed, stream, index);

    let transport = transport.unwrap_or(if unit_interval(draw(1)) < config.udp_share { Transport::Udp } else { Transport::Tcp });
    let ipv6 = unit_interval(draw(2)) < config.ipv6_share;
    let vlan_id = (unit_interval(draw(3)) < config.vlan_share).then(|| 1 + below(draw(4), 4094) as u16);
    let vxlan = (unit_interval(draw(5)) < config.vxlan_share).then(|| vxlan_tunnel(draw(6)));

    // A bijection on 24 bits (odd multiplier, then xor-shift) scatters
    // consecutive flow numbers over the client range without collisions.
    let multiplied = index.wrapping_mul(0x9e_3779) & 0xff_ffff;
    let scrambled = (multiplied ^ (multiplied >> 12)) as u32;
    let server = below(draw(7), SERVER_POOL) as u32;
    let (client_ip, server_ip) = if ipv6 {
        (ipv6_address(0x000c, scrambled), ipv6_address(0x0005, server))
    } else {
        let client = 0x0a00_0000 | scrambled;
        let server = 0xac10_0000 | server;
        (ipv4_address(client), ipv4_address(server))
    };
    let server_port = match transport {
        Transport::Tcp => TCP_SERVER_PORTS[below(draw(8), TCP_SERVER_PORTS.len() as u64) as usize],
        Transport::Udp => UDP_SERVER_PORTS[below(draw(8), UDP_SERVER_PORTS.len() as u64) as usize],
    };
    // Ephemeral ports (RFC 6335 section 6: 49152 to 65535).
    let client_port = 49_152 + below(draw(9), 16_384) as u16;
    let client_mac = [0x02, 0x00, (scrambled >> 16) as u8, (scrambled >> 8) as u8, scrambled as u8, 0x01];
    let server_mac = [0x02, 0x01, 0x00, (server >> 8) as u8, server as u8, 0x01];

    Endpoints { ipv6, client_ip, server_ip, client_port, server_port, client_mac, server_mac, transport, vlan_id, vxlan }
}

fn vxlan_tunnel(bits: u64) -> VxlanTunnel {
    let client_vtep = [192, 0, 2, 1 + below(bits, VTEP_POOL) as u8];
    let server_vtep = [198, 51, 100, 1 + below(mix64(bits), VTEP_POOL) as u8];
    let entropy = mix64(bits ^ 0x5a5a);
    VxlanTunnel {
        vni: (bits >> 40) as u32 & 0x00ff_ffff,
        client_vtep,
        server_vtep,
        source_ports: [49_152 + (entropy & 0x3fff) as u16, 49_152 + ((entropy >> 16) & 0x3fff) as u16],
    }
}

fn ipv4_address(address: u32) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&address.to_be_bytes());
    bytes
}

/// 2001:db8:SUBNET::HOST, in the documentation prefix of RFC 3849.
fn ipv6_address(subnet: u16, host: u32) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    bytes[4..6].copy_from_slice(&subnet.to_be_bytes());
    bytes[12..16].copy_from_slice(&host.to_be_bytes());
    bytes
}

/// The pcap writer, the frame buffer and the running counts.
struct FrameOutput<W: Write> {
    writer: PcapWriter<W>,
    buffer: Box<[u8; MAX_FRAME_BYTES]>,
    summary: TrafficSummary,
    rate_pps: u64,
}

impl<W: Write> FrameOutput<W> {
    fn new(config: &TrafficConfig, writer: PcapWriter<W>) -> FrameOutput<W> {
        FrameOutput { writer, buffer: Box::new([0; MAX_FRAME_BYTES]), summary: TrafficSummary::default(), rate_pps: config.rate_pps }
    }

    /// Capture time of the next packet: evenly spaced at the configured rate.
    fn next_timestamp_ns(&self) -> u64 {
        let offset = u128::from(self.summary.packets) * 1_000_000_000 / u128::from(self.rate_pps);
        START_TIME_NS + offset as u64
    }

    fn write(&mut self, flow: &Endpoints, direction: Direction, segment: &Segment) -> io::Result<()> {
        let length = flow.write_frame(direction, segment, &mut self.buffer[..]);
        let timestamp_ns = self.next_timestamp_ns();
        self.writer.write_frame(timestamp_ns, &self.buffer[..length])?;

        let summary = &mut self.summary;
        if summary.packets == 0 {
            summary.first_timestamp_ns = timestamp_ns;
        }
        summary.last_timestamp_ns = timestamp_ns;
        summary.packets += 1;
        summary.frame_bytes += length as u64;
        summary.ipv6_packets += u64::from(flow.ipv6);
        summary.vlan_packets += u64::from(flow.vlan_id.is_some());
        summary.vxlan_packets += u64::from(flow.vxlan.is_some());
        match flow.transport {
            Transport::Tcp => summary.tcp_packets += 1,
            Transport::Udp => summary.udp_packets += 1,
        }
        summary.direction_packets[direction.index()] += 1;
        Ok(())
    }
}

/// Payload that makes a frame `frame_len` bytes long, or none when the
/// headers alone are longer.
fn payload_for_frame(flow: &Endpoints, frame_len: usize) -> usize {
    frame_len.saturating_sub(flow.header_len(false))
}

/// Frame length of the simple IMIX: 64, 576 or 1500 bytes, 7:4:1.
fn imix_frame_len(bits: u64) -> usize {
    match below(bits, 12) {
        0..=6 => 64,
        7..=10 => 576,
        _ => 1500,
    }
}

/// Flow mixes: every flow stays open for the whole capture.
///
/// Packets go out in rounds; each round sends one packet of every flow, in
/// an order that a fresh permutation per round shuffles. Even rounds go
/// from client to server and odd rounds back, so a flow with two or more
/// packets has both directions, and its packets are spread evenly over the
/// capture.
fn write_flows<W: Write>(config: &TrafficConfig, output: &mut FrameOutput<W>) -> io::Result<()> {
    let flows = u64::from(config.flows);
    // Next sequence number of each flow's client and server.
    let mut next_seq: Vec<[u32; 2]> = vec![[0, 0]; config.flows as usize];
    let mut rng = SplitMix64::new(config.seed ^ 0x00f1_0775);
    output.summary.flows = flows.min(config.packets);

    for packet in 0..config.packets {
        let round = packet / flows;
        let position = packet % flows;
        let round_offset = hash3(config.seed, 100, round) % flows;
        let flow_number = ((position * PERMUTATION_STRIDE + round_offset) % flows) as u32;
        let direction = if round % 2 == 0 { Direction::ToServer } else { Direction::ToClient };

        let flow = flow_endpoints(config, flow_number, None);
        let frame_len = match config.size_mix {
            SizeMix::Imix => imix_frame_len(rng.next_u64()),
            _ => 64,
        };
        let payload_len = payload_for_frame(&flow, frame_len);

        let seqs = &mut next_seq[flow_number as usize];
        if round == 0 {
            let initial = hash3(config.seed, 101, u64::from(flow_number));
            *seqs = [initial as u32, (initial >> 32) as u32];
        }
        let sender = direction.index();
        let segment = Segment {
            tcp_flags: if payload_len > 0 { tcp_flags::PSH | tcp_flags::ACK } else { tcp_flags::ACK },
            seq: seqs[sender],
            ack: seqs[1 - sender],
            syn_options: false,
            payload_len,
            dns: None,
            ip_id: packet as u16,
            ttl: if direction == Direction::ToServer { CLIENT_TTL } else { SERVER_TTL },
        };
        seqs[sender] = seqs[sender].wrapping_add(payload_len as u32);
        output.write(&flow, direction, &segment)?;
    }
    Ok(())
}

/// The next packet a session sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Syn,
    SynAck,
    HandshakeAck,
    /// Requests, responses and acknowledgments; `data_left` counts them.
    Data,
    ClientFin,
    ServerFin,
    LastAck,
    DnsQuery,
    DnsResponse,
    Done,
}

/// One open session. Small and `Copy`: the open set is a plain vector.
#[derive(Clone, Copy, Debug)]
struct Session {
    number: u32,
    phase: Phase,
    data_left: u32,
    responses_left: u8,
    ack_pending: bool,
    /// Next sequence number of client and server.
    seq: [u32; 2],
    /// Transaction id of a DNS session's query and response.
    dns_id: u16,
}

/// Sessions mode: `flows` sessions, up to `concurrent_sessions` open at
/// once; each packet comes from an open session picked at random.
fn write_sessions<W: Write>(config: &TrafficConfig, output: &mut FrameOutput<W>) -> io::Result<()> {
    let mut rng = SplitMix64::new(config.seed ^ 0x5e55_1075);
    let concurrent = config.concurrent_sessions.unwrap_or(config.flows).min(config.flows);
    let mean_data_packets = mean_data_packets(config);
    let mut open: Vec<Session> = Vec::with_capacity(concurrent as usize);
    let mut next_number = 0u32;
    while next_number < concurrent {
        open.push(start_session(config, next_number, mean_data_packets));
        next_number += 1;
    }

    while output.summary.packets < config.packets && !open.is_empty() {
        let slot = rng.below(open.len() as u64) as usize;
        let session = &mut open[slot];
        let flow = session_endpoints(config, session.number);
        let (direction, segment) = next_session_packet(session, &flow, &mut rng, output.summary.packets);
        output.write(&flow, direction, &segment)?;

        if session.phase == Phase::Done {
            output.summary.sessions_completed += 1;
            if next_number < config.flows {
                open[slot] = start_session(config, next_number, mean_data_packets);
                next_number += 1;
            } else {
                open.swap_remove(slot);
            }
        }
    }
    output.summary.flows = u64::from(next_number);
    Ok(())
}

/// Returns the mean data packets per TCP session. TCP sessions send six
/// control packets (three to open, three to close) and UDP sessions send
/// two, so the data packets of TCP sessions make up the rest of the
/// configured packets per session.
fn mean_data_packets(config: &TrafficConfig) -> f64 {
    let per_session = config.packets as f64 / f64::from(config.flows);
    let tcp_share = 1.0 - config.udp_share;
    if tcp_share <= 0.0 {
        return 0.0;
    }
    ((per_session - 2.0 * config.udp_share) / tcp_share - 6.0).max(0.0)
}

/// Returns a session's endpoints: those of the flow with its number,
/// except that UDP sessions are DNS exchanges with port 53.
fn session_endpoints(config: &TrafficConfig, number: u32) -> Endpoints {
    let mut flow = flow_endpoints(config, number, Some(session_transport(config, number)));
    if flow.transport == Transport::Udp {
        flow.server_port = DNS_PORT;
    }
    flow
}

fn session_transport(config: &TrafficConfig, number: u32) -> Transport {
    if unit_interval(hash3(config.seed, 1, u64::from(number))) < config.udp_share {
        Transport::Udp
    } else {
        Transport::Tcp
    }
}

fn start_session(config: &TrafficConfig, number: u32, mean_data_packets: f64) -> Session {
    let bits = hash3(config.seed, 200, u64::from(number));
    let (phase, data_left) = match session_transport(config, number) {
        Transport::Udp => (Phase::DnsQuery, 0),
        // Uniform on 0 ..= 2 * mean, so the mean is as configured.
        Transport::Tcp => (Phase::Syn, below(bits, (2.0 * mean_data_packets).round() as u64 + 1) as u32),
    };
    let initial = mix64(bits);
    Session {
        number,
        phase,
        data_left,
        responses_left: 0,
        ack_pending: false,
        seq: [initial as u32, (initial >> 32) as u32],
        dns_id: (bits >> 48) as u16,
    }
}

/// Returns the next packet of `session` and moves it on.
fn next_session_packet(session: &mut Session, flow: &Endpoints, rng: &mut SplitMix64, packet_number: u64) -> (Direction, Segment) {
    use Direction::{ToClient, ToServer};
    let mss = flow.mss();
    let (direction, flags, payload_len, next) = match session.phase {
        Phase::Syn => (ToServer, tcp_flags::SYN, 0, Phase::SynAck),
        Phase::SynAck => (ToClient, tcp_flags::SYN | tcp_flags::ACK, 0, Phase::HandshakeAck),
        Phase::HandshakeAck => (ToServer, tcp_flags::ACK, 0, if session.data_left > 0 { Phase::Data } else { Phase::ClientFin }),
        Phase::Data => {
            let (direction, flags, payload_len) = next_data_packet(session, mss, rng);
            session.data_left -= 1;
            (direction, flags, payload_len, if session.data_left > 0 { Phase::Data } else { Phase::ClientFin })
        }
        Phase::ClientFin => (ToServer, tcp_flags::FIN | tcp_flags::ACK, 0, Phase::ServerFin),
        Phase::ServerFin => (ToClient, tcp_flags::FIN | tcp_flags::ACK, 0, Phase::LastAck),
        Phase::LastAck => (ToServer, tcp_flags::ACK, 0, Phase::Done),
        Phase::DnsQuery => (ToServer, 0, DNS_HEADER_BYTES + 17 + rng.below(40) as usize, Phase::DnsResponse),
        Phase::DnsResponse => (ToClient, 0, DNS_HEADER_BYTES + 33 + rng.below(300) as usize, Phase::Done),
        Phase::Done => unreachable!("a finished session is replaced before its next packet"),
    };

    let sender = direction.index();
    let dns = match session.phase {
        Phase::DnsQuery | Phase::DnsResponse => Some(DnsHeader { id: session.dns_id, response: direction == ToClient }),
        _ => None,
    };
    let segment = Segment {
        tcp_flags: flags,
        seq: session.seq[sender],
        ack: if session.phase == Phase::Syn { 0 } else { session.seq[1 - sender] },
        syn_options: matches!(session.phase, Phase::Syn | Phase::SynAck),
        payload_len,
        dns,
        ip_id: packet_number as u16,
        ttl: if direction == ToServer { CLIENT_TTL } else { SERVER_TTL },
    };
    // SYN and FIN take one sequence number each (RFC 9293 section 3.4).
    let control = u32::from(flags & (tcp_flags::SYN | tcp_flags::FIN) != 0);
    session.seq[sender] = session.seq[sender].wrapping_add(payload_len as u32 + control);
    session.phase = next;
    (direction, segment)
}

/// Returns the next packet of the data phase. The phase repeats a request
/// from the client, one to four response segments from the server (all
/// full-sized but the last), and the client's acknowledgment.
fn next_data_packet(session: &mut Session, mss: usize, rng: &mut SplitMix64) -> (Direction, u8, usize) {
    if session.responses_left > 0 {
        session.responses_left -= 1;
        if session.responses_left > 0 {
            return (Direction::ToClient, tcp_flags::ACK, mss);
        }
        session.ack_pending = true;
        return (Direction::ToClient, tcp_flags::PSH | tcp_flags::ACK, 1 + rng.below(mss as u64) as usize);
    }
    if session.ack_pending {
        session.ack_pending = false;
        return (Direction::ToServer, tcp_flags::ACK, 0);
    }
    session.responses_left = 1 + rng.below(4) as u8;
    (Direction::ToServer, tcp_flags::PSH | tcp_flags::ACK, 64 + rng.below(600) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(size_mix: SizeMix, packets: u64, flows: u32) -> TrafficConfig {
        TrafficConfig {
            packets,
            flows,
            concurrent_sessions: None,
            size_mix,
            ipv6_share: 0.25,
            vlan_share: 0.25,
            vxlan_share: 0.1,
            udp_share: 0.3,
            seed: 9,
            rate_pps: 1_000_000,
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let first = write_capture(&config(SizeMix::Imix, 500, 50), Vec::new()).unwrap();
        let mut one = Vec::new();
        let mut two = Vec::new();
        write_capture(&config(SizeMix::Sessions, 500, 50), &mut one).unwrap();
        write_capture(&config(SizeMix::Sessions, 500, 50), &mut two).unwrap();
        assert_eq!(one, two);
        assert_eq!(first.packets, 500);
    }

    #[test]
    fn other_seed_other_bytes() {
        let mut one = Vec::new();
        let mut two = Vec::new();
        write_capture(&config(SizeMix::Small64, 100, 10), &mut one).unwrap();
        write_capture(&TrafficConfig { seed: 10, ..config(SizeMix::Small64, 100, 10) }, &mut two).unwrap();
        assert_ne!(one, two);
    }

    #[test]
    fn flow_endpoints_distinct() {
        let config = config(SizeMix::Small64, 0, 1 << 16);
        let mut clients: Vec<[u8; 16]> = (0..1 << 16).map(|flow| flow_endpoints(&config, flow, Some(Transport::Tcp)).client_ip).collect();
        clients.sort_unstable();
        clients.dedup();
        assert_eq!(clients.len(), 1 << 16);
    }

    #[test]
    fn invalid_config_rejected() {
        let mut bad = config(SizeMix::Imix, 10, 0);
        assert!(bad.validate().unwrap_err().contains("flow count 0"));
        bad.flows = 10;
        bad.vlan_share = 1.5;
        assert!(bad.validate().unwrap_err().contains("VLAN share"));
        assert!(write_capture(&bad, Vec::new()).is_err());
    }

    #[test]
    fn timestamps_follow_rate() {
        let summary = write_capture(&TrafficConfig { rate_pps: 1000, ..config(SizeMix::Small64, 11, 4) }, Vec::new()).unwrap();
        assert_eq!(summary.first_timestamp_ns, START_TIME_NS);
        assert_eq!(summary.last_timestamp_ns, START_TIME_NS + 10_000_000);
    }

    #[test]
    fn mean_session_length_as_configured() {
        let config = TrafficConfig { udp_share: 0.2, ..config(SizeMix::Sessions, 10_000, 1000) };
        assert!((mean_data_packets(&config) - 6.0).abs() < 1e-9);
    }
}
