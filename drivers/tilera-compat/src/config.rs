//! Configuration of an AF_PACKET capture: the interface, the number of
//! queues and the size of each queue's ring.

/// Default block size: 4 MiB. With 4 KiB pages this is the largest
/// physically contiguous piece the page allocator hands out on x86-64
/// (order 10, `MAX_PAGE_ORDER` in `include/linux/mmzone.h`), and large
/// blocks mean fewer block hand-overs per packet.
pub const DEFAULT_BLOCK_SIZE_BYTES: u32 = 4 << 20;

/// Default blocks per queue: 64, so each queue's ring is 256 MiB. At
/// 10 Gbit/s (1.25 GB/s) that stores about 215 ms of traffic even if every
/// packet hashed to one queue, which gives a worker time to catch up after
/// a stall such as a burst of flow expiry. Memory is `queues` times the
/// ring size, so hosts with many queues and little memory should lower it.
pub const DEFAULT_BLOCK_COUNT: u32 = 64;

/// Default snapshot length: 262144 bytes, the default of tcpdump's `-s`.
/// It keeps whole packets, including the up-to-64 KiB packets that GRO and
/// TSO build before the capture point.
pub const DEFAULT_SNAPLEN_BYTES: u32 = 262_144;

/// Default block timeout: 10 ms. On a quiet link the kernel hands over a
/// partly filled block after this long, which bounds how late a packet
/// reaches its worker. A shorter timeout hands over more, emptier blocks.
pub const DEFAULT_BLOCK_TIMEOUT_MS: u32 = 10;

/// Maximum number of queues. A fanout group joined with the integer form of
/// `PACKET_FANOUT` accepts at most 256 sockets (`fanout_add` in
/// `net/packet/af_packet.c`, Linux 6.x).
pub const MAX_QUEUES: usize = 256;

/// Minimum number of blocks per ring. With one block the kernel must wait
/// for the worker to return it before it can store another packet.
pub const MIN_BLOCK_COUNT: u32 = 2;

/// Maximum length of an interface name in bytes: `IFNAMSIZ` (16) less the
/// terminating NUL.
pub const MAX_INTERFACE_NAME_BYTES: usize = libc::IFNAMSIZ - 1;

/// Room the kernel may need in front of the captured bytes of each frame,
/// beyond `TPACKET3_HDRLEN`. The kernel places the link-layer header so that
/// the network header after it is 16-byte aligned. For link headers of up
/// to 16 bytes (Ethernet uses 14) that costs at most 32 bytes.
// NOTE: longer link headers (radiotap) can need more, and then the kernel
// trims the snapshot length of the largest packets to fit the block.
const FRAME_LINK_HEADROOM_BYTES: usize = 32;

/// Settings of an AF_PACKET capture on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AfPacketConfig {
    /// Network interface to capture from, such as `eth0`.
    pub interface: String,
    /// Number of queues (sockets in the fanout group), one per worker.
    /// Default 1; the binary sets it to its worker count.
    pub queues: usize,
    /// Size of one ring block in bytes. A multiple of the page size, and a
    /// power of two to avoid wasting the kernel's allocation.
    pub block_size_bytes: u32,
    /// Number of blocks in each queue's ring.
    pub block_count: u32,
    /// Snapshot length: the most bytes kept of each packet, counted from the
    /// link-layer header. Longer packets are cut and counted as truncated.
    /// A VLAN tag that the driver writes back into a frame adds 4 bytes to
    /// both the captured and the wire length. It also sets the ring's
    /// nominal `tp_frame_size`.
    pub frame_size_bytes: u32,
    /// Time in milliseconds after which the kernel hands over a block that
    /// is not full. Must be at least 1.
    pub block_timeout_ms: u32,
    /// Puts the interface in promiscuous mode while the capture is open, so
    /// frames addressed to other hosts (a mirror port) are captured.
    pub promiscuous: bool,
    /// `PACKET_FANOUT` group id. `None` derives it from the process id, so
    /// two nauditd processes on one host use different groups unless their
    /// ids agree in the low 16 bits.
    pub fanout_group_id: Option<u16>,
    /// Sets `PACKET_FANOUT_FLAG_DEFRAG`: the kernel reassembles IPv4
    /// fragments before hashing, so every fragment reaches the queue of its
    /// flow. The worker then receives one reassembled datagram instead of
    /// the fragments. Without it, non-first fragments carry no ports and may
    /// hash to another queue than the rest of their flow.
    pub fanout_defrag: bool,
}

impl Default for AfPacketConfig {
    fn default() -> Self {
        AfPacketConfig {
            interface: String::new(),
            queues: 1,
            block_size_bytes: DEFAULT_BLOCK_SIZE_BYTES,
            block_count: DEFAULT_BLOCK_COUNT,
            frame_size_bytes: DEFAULT_SNAPLEN_BYTES,
            block_timeout_ms: DEFAULT_BLOCK_TIMEOUT_MS,
            promiscuous: true,
            fanout_group_id: None,
            fanout_defrag: true,
        }
    }
}

/// A setting of an [`AfPacketConfig`] that Linux or the kernel would reject.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No interface was named.
    #[error("no capture interface was given; name one, such as eth0 (nauditd -D lists them)")]
    InterfaceMissing,
    /// The interface name is longer than Linux allows.
    #[error(
        "interface name {name:?} is {len_bytes} bytes long, but Linux interface names have at most {max_bytes} bytes"
    )]
    InterfaceNameTooLong {
        /// The name as given.
        name: String,
        /// Its length in bytes.
        len_bytes: usize,
        /// The maximum length Linux accepts.
        max_bytes: usize,
    },
    /// The interface name contains a character Linux rejects in names.
    #[error(
        "interface name {name:?} is invalid: Linux interface names cannot be . or .. and cannot contain /, :, whitespace or NUL"
    )]
    InterfaceNameInvalid {
        /// The name as given.
        name: String,
    },
    /// The queue count is 0 or above [`MAX_QUEUES`].
    #[error("queue count {queues} is invalid; use 1 to {max} queues")]
    QueueCount {
        /// The count as given.
        queues: usize,
        /// The largest count allowed.
        max: usize,
    },
    /// The block size is not a multiple of the page size.
    #[error(
        "block size of {block_size_bytes} bytes is not a multiple of the {page_size_bytes}-byte page size; use a power of two such as {suggested_bytes}"
    )]
    BlockSizeNotPageMultiple {
        /// The block size as given.
        block_size_bytes: u32,
        /// The system's page size.
        page_size_bytes: usize,
        /// The default block size, offered as a fix.
        suggested_bytes: u32,
    },
    /// A block cannot hold one frame of the snapshot length.
    #[error(
        "block size of {block_size_bytes} bytes cannot hold one {frame_bytes}-byte frame (snapshot length {snaplen_bytes} bytes plus headers); raise the block size or lower the snapshot length"
    )]
    BlockTooSmall {
        /// The block size as given.
        block_size_bytes: u32,
        /// Bytes one frame of the snapshot length needs with the block header.
        frame_bytes: usize,
        /// The snapshot length as given.
        snaplen_bytes: u32,
    },
    /// Too few blocks per ring.
    #[error("block count {block_count} is too small; use at least {min} blocks per queue")]
    BlockCountTooSmall {
        /// The count as given.
        block_count: u32,
        /// The smallest count allowed.
        min: u32,
    },
    /// The ring is larger than the kernel's 32-bit fields or the address space can describe.
    #[error(
        "a ring of {block_count} blocks of {block_size_bytes} bytes is too large to map; lower the block count"
    )]
    RingTooLarge {
        /// The block size as given.
        block_size_bytes: u32,
        /// The block count as given.
        block_count: u32,
    },
    /// The snapshot length is 0, which would keep no byte of any packet.
    #[error("snapshot length (frame size) of 0 bytes keeps nothing; use at least 1 byte, such as {suggested_bytes}")]
    SnaplenZero {
        /// The default snapshot length, offered as a fix.
        suggested_bytes: u32,
    },
    /// The block timeout is 0.
    #[error(
        "block timeout of 0 ms is invalid (the kernel would pick one from the link speed); use at least 1 ms, such as {suggested_ms}"
    )]
    BlockTimeoutZero {
        /// The default timeout, offered as a fix.
        suggested_ms: u32,
    },
}

impl AfPacketConfig {
    /// Returns a configuration for `interface` with every other setting at
    /// its default.
    pub fn for_interface(interface: impl Into<String>) -> AfPacketConfig {
        AfPacketConfig {
            interface: interface.into(),
            ..AfPacketConfig::default()
        }
    }

    /// Checks every setting against the kernel's rules and this system's
    /// page size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_with_page_size(crate::ring::page_size())
    }

    /// Checks every setting, with the page size given.
    pub(crate) fn validate_with_page_size(
        &self,
        page_size_bytes: usize,
    ) -> Result<(), ConfigError> {
        validate_interface_name(&self.interface)?;

        if self.queues == 0 || self.queues > MAX_QUEUES {
            return Err(ConfigError::QueueCount {
                queues: self.queues,
                max: MAX_QUEUES,
            });
        }
        if self.frame_size_bytes == 0 {
            return Err(ConfigError::SnaplenZero {
                suggested_bytes: DEFAULT_SNAPLEN_BYTES,
            });
        }
        if self.block_timeout_ms == 0 {
            return Err(ConfigError::BlockTimeoutZero {
                suggested_ms: DEFAULT_BLOCK_TIMEOUT_MS,
            });
        }

        let block_size = self.block_size_bytes as usize;
        if block_size == 0 || block_size % page_size_bytes != 0 {
            return Err(ConfigError::BlockSizeNotPageMultiple {
                block_size_bytes: self.block_size_bytes,
                page_size_bytes,
                suggested_bytes: DEFAULT_BLOCK_SIZE_BYTES,
            });
        }
        let frame_bytes = crate::sys::block_desc::SIZE + self.frame_slot_bytes();
        if frame_bytes > block_size {
            return Err(ConfigError::BlockTooSmall {
                block_size_bytes: self.block_size_bytes,
                frame_bytes,
                snaplen_bytes: self.frame_size_bytes,
            });
        }

        if self.block_count < MIN_BLOCK_COUNT {
            return Err(ConfigError::BlockCountTooSmall {
                block_count: self.block_count,
                min: MIN_BLOCK_COUNT,
            });
        }
        if self.ring_bytes_per_queue().is_none() || self.frame_count().is_none() {
            return Err(ConfigError::RingTooLarge {
                block_size_bytes: self.block_size_bytes,
                block_count: self.block_count,
            });
        }
        Ok(())
    }

    /// Bytes of one queue's ring, or `None` when that overflows `usize`.
    pub fn ring_bytes_per_queue(&self) -> Option<usize> {
        (self.block_size_bytes as usize).checked_mul(self.block_count as usize)
    }

    /// Returns the `tp_frame_size` given to the kernel: the frame header,
    /// the link header room and the snapshot length, rounded up to
    /// `TPACKET_ALIGNMENT`. TPACKET_V3 packs frames by their real length, so
    /// this only sizes the kernel's checks.
    pub(crate) fn frame_slot_bytes(&self) -> usize {
        let unaligned =
            libc::TPACKET3_HDRLEN + FRAME_LINK_HEADROOM_BYTES + self.frame_size_bytes as usize;
        unaligned.next_multiple_of(libc::TPACKET_ALIGNMENT)
    }

    /// Returns the `tp_frame_nr` given to the kernel (frames per block times
    /// blocks), or `None` when it does not fit its 32-bit field.
    pub(crate) fn frame_count(&self) -> Option<u32> {
        let frames_per_block = self.block_size_bytes as usize / self.frame_slot_bytes();
        let total = frames_per_block.checked_mul(self.block_count as usize)?;
        u32::try_from(total).ok()
    }
}

/// Applies the rules of the kernel's `dev_valid_name`.
fn validate_interface_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::InterfaceMissing);
    }
    if name.len() > MAX_INTERFACE_NAME_BYTES {
        return Err(ConfigError::InterfaceNameTooLong {
            name: name.to_owned(),
            len_bytes: name.len(),
            max_bytes: MAX_INTERFACE_NAME_BYTES,
        });
    }
    let has_bad_char = name
        .chars()
        .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace());
    if name == "." || name == ".." || has_bad_char {
        return Err(ConfigError::InterfaceNameInvalid {
            name: name.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    fn valid() -> AfPacketConfig {
        AfPacketConfig::for_interface("eth0")
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(valid().validate_with_page_size(PAGE), Ok(()));
        assert_eq!(valid().validate_with_page_size(16 * 1024), Ok(()));
        assert_eq!(valid().validate_with_page_size(64 * 1024), Ok(()));
    }

    #[test]
    fn defaults_ring_is_256_mib() {
        assert_eq!(valid().ring_bytes_per_queue(), Some(256 << 20));
    }

    #[test]
    fn default_interface_is_missing() {
        let error = AfPacketConfig::default().validate_with_page_size(PAGE);
        assert_eq!(error, Err(ConfigError::InterfaceMissing));
    }

    #[test]
    fn interface_name_of_15_bytes_is_valid() {
        let config = AfPacketConfig::for_interface("a".repeat(15));
        assert_eq!(config.validate_with_page_size(PAGE), Ok(()));
    }

    #[test]
    fn interface_name_of_16_bytes_is_too_long() {
        let config = AfPacketConfig::for_interface("a".repeat(16));
        assert_eq!(
            config.validate_with_page_size(PAGE),
            Err(ConfigError::InterfaceNameTooLong {
                name: "a".repeat(16),
                len_bytes: 16,
                max_bytes: 15
            })
        );
    }

    #[test]
    fn interface_names_linux_rejects() {
        for name in [".", "..", "eth/0", "eth0:1", "eth 0", "eth\t0", "eth\u{0}0"] {
            let config = AfPacketConfig::for_interface(name);
            assert_eq!(
                config.validate_with_page_size(PAGE),
                Err(ConfigError::InterfaceNameInvalid {
                    name: name.to_owned()
                }),
                "name {name:?}"
            );
        }
    }

    #[test]
    fn queue_count_bounds() {
        for (queues, expected) in [
            (
                0,
                Err(ConfigError::QueueCount {
                    queues: 0,
                    max: MAX_QUEUES,
                }),
            ),
            (1, Ok(())),
            (MAX_QUEUES, Ok(())),
            (
                MAX_QUEUES + 1,
                Err(ConfigError::QueueCount {
                    queues: MAX_QUEUES + 1,
                    max: MAX_QUEUES,
                }),
            ),
        ] {
            let config = AfPacketConfig { queues, ..valid() };
            assert_eq!(
                config.validate_with_page_size(PAGE),
                expected,
                "queues {queues}"
            );
        }
    }

    #[test]
    fn block_size_must_be_page_multiple() {
        for block_size_bytes in [0, 4095, 4096 + 1024, 3 << 19] {
            let config = AfPacketConfig {
                block_size_bytes,
                frame_size_bytes: 64,
                ..valid()
            };
            let page_size_bytes = if block_size_bytes == 3 << 19 {
                1 << 20
            } else {
                PAGE
            };
            assert_eq!(
                config.validate_with_page_size(page_size_bytes),
                Err(ConfigError::BlockSizeNotPageMultiple {
                    block_size_bytes,
                    page_size_bytes,
                    suggested_bytes: DEFAULT_BLOCK_SIZE_BYTES,
                }),
                "block size {block_size_bytes}"
            );
        }
    }

    #[test]
    fn block_must_hold_one_frame() {
        let config = AfPacketConfig {
            block_size_bytes: 4096,
            frame_size_bytes: 4096,
            ..valid()
        };
        let frame_bytes = 48 + (68 + 32 + 4096usize).next_multiple_of(16);
        assert_eq!(
            config.validate_with_page_size(PAGE),
            Err(ConfigError::BlockTooSmall {
                block_size_bytes: 4096,
                frame_bytes,
                snaplen_bytes: 4096
            })
        );
    }

    #[test]
    fn largest_snaplen_that_fits_a_page() {
        // 4096 = 48 (block descriptor) + 68 (TPACKET3_HDRLEN) + 32 (headroom) + 3948.
        let fits = AfPacketConfig {
            block_size_bytes: 4096,
            frame_size_bytes: 3948,
            ..valid()
        };
        assert_eq!(fits.validate_with_page_size(PAGE), Ok(()));
        let too_big = AfPacketConfig {
            frame_size_bytes: 3949,
            ..fits
        };
        assert!(matches!(
            too_big.validate_with_page_size(PAGE),
            Err(ConfigError::BlockTooSmall { .. })
        ));
    }

    #[test]
    fn block_count_minimum() {
        let one = AfPacketConfig {
            block_count: 1,
            ..valid()
        };
        assert_eq!(
            one.validate_with_page_size(PAGE),
            Err(ConfigError::BlockCountTooSmall {
                block_count: 1,
                min: MIN_BLOCK_COUNT
            })
        );
        let two = AfPacketConfig {
            block_count: 2,
            ..valid()
        };
        assert_eq!(two.validate_with_page_size(PAGE), Ok(()));
    }

    #[test]
    fn frame_count_overflow_is_rejected() {
        // 4 KiB blocks of one 112-byte frame slot hold 36 frames; u32::MAX
        // blocks would need more than 2^32 frames.
        let config = AfPacketConfig {
            block_size_bytes: 4096,
            frame_size_bytes: 1,
            block_count: u32::MAX,
            ..valid()
        };
        assert_eq!(
            config.validate_with_page_size(PAGE),
            Err(ConfigError::RingTooLarge {
                block_size_bytes: 4096,
                block_count: u32::MAX
            })
        );
    }

    #[test]
    fn snaplen_zero_is_rejected() {
        let config = AfPacketConfig {
            frame_size_bytes: 0,
            ..valid()
        };
        assert_eq!(
            config.validate_with_page_size(PAGE),
            Err(ConfigError::SnaplenZero {
                suggested_bytes: DEFAULT_SNAPLEN_BYTES
            })
        );
    }

    #[test]
    fn block_timeout_zero_is_rejected() {
        let config = AfPacketConfig {
            block_timeout_ms: 0,
            ..valid()
        };
        assert_eq!(
            config.validate_with_page_size(PAGE),
            Err(ConfigError::BlockTimeoutZero {
                suggested_ms: DEFAULT_BLOCK_TIMEOUT_MS
            })
        );
    }

    #[test]
    fn frame_slot_is_aligned() {
        let config = AfPacketConfig {
            frame_size_bytes: 1,
            ..valid()
        };
        assert_eq!(config.frame_slot_bytes(), 112);
        assert_eq!(valid().frame_slot_bytes() % libc::TPACKET_ALIGNMENT, 0);
    }

    #[test]
    fn error_messages_name_value_and_fix() {
        let message = ConfigError::QueueCount {
            queues: 0,
            max: 256,
        }
        .to_string();
        assert_eq!(message, "queue count 0 is invalid; use 1 to 256 queues");
        let message = ConfigError::BlockCountTooSmall {
            block_count: 1,
            min: 2,
        }
        .to_string();
        assert_eq!(
            message,
            "block count 1 is too small; use at least 2 blocks per queue"
        );
    }
}
