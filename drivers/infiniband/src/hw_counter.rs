//! The port's `out_of_buffer` hardware counter: packets the adapter dropped
//! because a receive queue had no posted buffer.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::device::PortName;

/// Minimum time between two reads of the counter file.
const READ_INTERVAL: Duration = Duration::from_millis(100);

/// The counter file of a port and its value when the sniffer opened.
///
/// NOTE: the counter covers every receive queue of the port, so drops of
/// another RDMA application on the same port are counted too.
#[derive(Debug)]
pub(crate) struct OutOfBufferCounter {
    path: PathBuf,
    start_value: u64,
    /// The last read: when, and the packets counted since the start.
    last: Cell<(Instant, u64)>,
}

fn read_counter(path: &PathBuf) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl OutOfBufferCounter {
    /// Opens the counter of `port` under `sysfs_root` (normally `/sys`).
    /// Returns `None` when the provider does not expose it (mlx5 does).
    pub(crate) fn open(sysfs_root: &str, port: &PortName) -> Option<OutOfBufferCounter> {
        let path = PathBuf::from(format!(
            "{sysfs_root}/class/infiniband/{}/ports/{}/hw_counters/out_of_buffer",
            port.device, port.port
        ));
        let start_value = read_counter(&path)?;
        Some(OutOfBufferCounter { path, start_value, last: Cell::new((Instant::now(), 0)) })
    }

    /// Packets dropped for want of a receive buffer since the sniffer
    /// opened, read again when the last read is older than [`READ_INTERVAL`].
    pub(crate) fn dropped_pkts(&self) -> u64 {
        let (read_at, dropped) = self.last.get();
        if read_at.elapsed() < READ_INTERVAL {
            return dropped;
        }
        let dropped = match read_counter(&self.path) {
            Some(value) => value.saturating_sub(self.start_value),
            None => dropped,
        };
        self.last.set((Instant::now(), dropped));
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_the_value_at_open() {
        let root = std::env::temp_dir().join(format!("naudit-ib-sysfs-{}", std::process::id()));
        let folder = root.join("class/infiniband/mlx5_0/ports/1/hw_counters");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("out_of_buffer"), "1200\n").unwrap();

        let port = PortName { device: "mlx5_0".to_string(), port: 1 };
        let counter = OutOfBufferCounter::open(root.to_str().unwrap(), &port).expect("counter file");
        std::fs::write(folder.join("out_of_buffer"), "1275\n").unwrap();
        counter.last.set((Instant::now() - READ_INTERVAL, 0));
        assert_eq!(counter.dropped_pkts(), 75);

        let other_port = PortName { device: "mlx5_0".to_string(), port: 2 };
        assert!(OutOfBufferCounter::open(root.to_str().unwrap(), &other_port).is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
