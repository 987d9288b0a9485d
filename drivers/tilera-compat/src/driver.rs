//! Opening a capture: one socket and ring per queue, all joined in one
//! `PACKET_FANOUT_HASH` group on the interface.

use std::io;

use naudit_engine::SourceError;

use crate::config::AfPacketConfig;
use crate::link::link_type_for_arphrd;
use crate::queue::{AfPacketQueue, QueueParts};
use crate::ring::MappedRing;
use crate::socket::{self, PacketSocket};
use crate::sys::fanout_option;

/// The AF_PACKET capture driver.
pub struct AfPacketDriver;

impl AfPacketDriver {
    /// Opens `config.queues` queues on `config.interface`, one per worker.
    ///
    /// Every queue is a TPACKET_V3 ring on its own socket, and the sockets
    /// form one fanout group in which the kernel sends both directions of a
    /// flow to the same queue. Each socket drops every packet until all
    /// queues have joined the group, so from the moment this returns every
    /// packet on the interface reaches exactly one queue. The interface must
    /// be up. Needs CAP_NET_RAW, and CAP_NET_ADMIN for promiscuous mode.
    ///
    /// An invalid configuration is returned as [`SourceError::Unsupported`]
    /// with the [`crate::ConfigError`] message; a failed system call as
    /// [`SourceError::Io`] naming the step.
    pub fn open(config: &AfPacketConfig) -> Result<Vec<AfPacketQueue>, SourceError> {
        config
            .validate()
            .map_err(|error| SourceError::Unsupported {
                input: config.interface.clone(),
                what: error.to_string(),
            })?;
        let interface_index =
            socket::interface_index(&config.interface).map_err(|source| SourceError::Io {
                input: config.interface.clone(),
                context: "network interface not found (nauditd -D lists the interfaces)",
                source,
            })?;
        let fanout_group_id = config
            .fanout_group_id
            .unwrap_or_else(default_fanout_group_id);

        let mut queues = Vec::with_capacity(config.queues);
        for queue_index in 0..config.queues {
            // MAX_QUEUES (256) fits a u16; validate() checked the count.
            let queue_index = queue_index as u16;
            let queue = open_queue(config, interface_index, fanout_group_id, queue_index)?;
            tracing::debug!(interface = %config.interface, queue = queue_index, "opened AF_PACKET queue");
            queues.push(queue);
        }
        for queue in &queues {
            queue
                .start_capture(config.frame_size_bytes)
                .map_err(|source| SourceError::Io {
                    input: config.interface.clone(),
                    context: "failed to attach the snapshot-length socket filter",
                    source,
                })?;
        }

        if !config.block_size_bytes.is_power_of_two() {
            tracing::warn!(
                interface = %config.interface,
                block_size_bytes = config.block_size_bytes,
                "block size is not a power of two; the kernel rounds each block's allocation up to one"
            );
        }
        let ring_bytes_per_queue = config.ring_bytes_per_queue().unwrap_or(usize::MAX);
        tracing::info!(
            interface = %config.interface,
            interface_index,
            queues = config.queues,
            link_type = queues[0].link_type().0,
            ring_bytes_per_queue,
            ring_bytes_total = ring_bytes_per_queue.saturating_mul(config.queues),
            block_size_bytes = config.block_size_bytes,
            block_count = config.block_count,
            snaplen_bytes = config.frame_size_bytes,
            block_timeout_ms = config.block_timeout_ms,
            fanout_group_id,
            fanout_defrag = config.fanout_defrag,
            promiscuous = config.promiscuous,
            "opened AF_PACKET capture"
        );
        Ok(queues)
    }
}

/// Returns the fanout group id derived from the process id: its low 16 bits.
pub fn default_fanout_group_id() -> u16 {
    std::process::id() as u16
}

/// Sets up one queue's socket and ring and joins it to the fanout group.
/// The socket keeps its drop-all filter; `open` replaces it once every queue
/// has joined.
fn open_queue(
    config: &AfPacketConfig,
    interface_index: u32,
    fanout_group_id: u16,
    queue_index: u16,
) -> Result<AfPacketQueue, SourceError> {
    let failed = |context: &'static str| {
        move |source: io::Error| SourceError::Io {
            input: format!("{} queue {queue_index}", config.interface),
            context,
            source,
        }
    };

    let socket = PacketSocket::open().map_err(failed(
        "failed to open an AF_PACKET socket (this needs CAP_NET_RAW: run as root or grant the capability)",
    ))?;

    // Between bind and joining the group, the socket would receive every
    // packet of the interface by itself, so it drops all of them until
    // `open` switches every queue on together.
    socket
        .set_filter_keep_bytes(0)
        .map_err(failed("failed to attach the drop-all socket filter"))?;
    socket
        .bind(interface_index)
        .map_err(failed("failed to bind the socket to the interface"))?;
    if let Some(error) = socket
        .take_error()
        .map_err(failed("failed to read the socket error after bind"))?
    {
        return Err(failed(if error.raw_os_error() == Some(libc::ENETDOWN) {
            "the interface is down; bring it up (ip link set <interface> up) and start again"
        } else {
            "binding the socket to the interface reported an error"
        })(error));
    }

    let arphrd = socket
        .hardware_type()
        .map_err(failed("failed to read the interface's hardware type"))?;
    let Some(link_type) = link_type_for_arphrd(arphrd) else {
        return Err(SourceError::Unsupported {
            input: config.interface.clone(),
            what: format!(
                "the interface's hardware type is ARPHRD {arphrd}, whose raw frames the AF_PACKET driver cannot hand over; \
                 capture it with the pcap driver instead"
            ),
        });
    };

    socket.set_tpacket_v3().map_err(failed(
        "failed to select the TPACKET_V3 ring format (the kernel may be too old for it)",
    ))?;
    socket.set_rx_ring(&ring_request(config)).map_err(failed(
        "failed to allocate the receive ring; the kernel may lack memory for block_count blocks of block_size_bytes",
    ))?;
    let ring = MappedRing::map(
        &socket,
        config.block_size_bytes as usize,
        config.block_count as usize,
    )
    .map_err(failed("failed to memory-map the receive ring"))?;

    if config.promiscuous {
        socket
            .add_promiscuous_membership(interface_index)
            .map_err(failed(
                "failed to enable promiscuous mode (this needs CAP_NET_ADMIN)",
            ))?;
    }

    let mut fanout_mode = libc::PACKET_FANOUT_HASH;
    if config.fanout_defrag {
        fanout_mode |= libc::PACKET_FANOUT_FLAG_DEFRAG;
    }
    socket.join_fanout(fanout_option(fanout_group_id, fanout_mode)).map_err(failed(
        "failed to join the PACKET_FANOUT group; another socket may hold this group id with other settings \
         or on another interface (set a different fanout group id)",
    ))?;

    Ok(AfPacketQueue::new(QueueParts {
        ring,
        socket,
        interface: config.interface.clone(),
        interface_index,
        queue_index,
        fanout_group_id,
        link_type,
        skip_outgoing: arphrd == libc::ARPHRD_LOOPBACK,
    }))
}

/// Builds the `PACKET_RX_RING` request for a validated configuration.
fn ring_request(config: &AfPacketConfig) -> libc::tpacket_req3 {
    libc::tpacket_req3 {
        tp_block_size: config.block_size_bytes,
        tp_block_nr: config.block_count,
        tp_frame_size: config.frame_slot_bytes() as u32,
        tp_frame_nr: config.frame_count().unwrap_or(0),
        tp_retire_blk_tov: config.block_timeout_ms,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_request_for_defaults() {
        let config = AfPacketConfig::for_interface("eth0");
        let request = ring_request(&config);
        assert_eq!(request.tp_block_size, 4 << 20);
        assert_eq!(request.tp_block_nr, 64);
        assert_eq!(request.tp_frame_size % 16, 0);
        assert_eq!(request.tp_frame_nr, (4 << 20) / request.tp_frame_size * 64);
        assert_eq!(request.tp_retire_blk_tov, 10);
    }

    #[test]
    fn invalid_config_is_reported_before_any_socket() {
        let config = AfPacketConfig {
            queues: 0,
            ..AfPacketConfig::for_interface("eth0")
        };
        let error = AfPacketDriver::open(&config)
            .err()
            .expect("queues = 0 must fail");
        assert_eq!(
            error.to_string(),
            "eth0: queue count 0 is invalid; use 1 to 256 queues"
        );
    }
}
