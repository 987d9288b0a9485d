//! The AF_PACKET socket of one queue: creation, socket options, binding,
//! statistics and readiness. Every system call of the driver except mmap
//! and munmap (in `ring`) is made here.

use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Result of waiting for the socket to become readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// The kernel has handed over a block, or one may be ready.
    Readable,
    /// The timeout passed with nothing to read.
    TimedOut,
    /// The socket has a pending error, such as ENETDOWN after the interface
    /// went down. [`PacketSocket::take_error`] reads and clears it.
    Error,
}

/// An AF_PACKET raw socket, closed on drop.
pub(crate) struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Creates an AF_PACKET raw socket that receives nothing yet.
    ///
    /// The protocol is 0 rather than `htons(ETH_P_ALL)`: a socket created
    /// with ETH_P_ALL receives from every interface until `bind` narrows it,
    /// and those frames would land in the ring. [`PacketSocket::bind`] sets
    /// ETH_P_ALL together with the interface.
    pub(crate) fn open() -> io::Result<PacketSocket> {
        // SAFETY: socket has no memory arguments; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(PacketSocket { fd })
    }

    /// Returns the descriptor, for mmap.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Attaches a one-instruction classic BPF filter that returns
    /// `keep_bytes` for every packet: 0 drops every packet, any other value
    /// is the snapshot length. A new filter replaces the previous one.
    pub(crate) fn set_filter_keep_bytes(&self, keep_bytes: u32) -> io::Result<()> {
        let mut program = [libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: keep_bytes,
        }];
        // The kernel copies the program through this pointer during the
        // setsockopt call, and `program` outlives that call.
        let filter = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_mut_ptr(),
        };
        self.set_option(libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &filter)
    }

    /// Selects the TPACKET_V3 ring format. Must precede `set_rx_ring`.
    pub(crate) fn set_tpacket_v3(&self) -> io::Result<()> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        self.set_option(libc::SOL_PACKET, libc::PACKET_VERSION, &version)
    }

    /// Allocates the receive ring in the kernel.
    pub(crate) fn set_rx_ring(&self, request: &libc::tpacket_req3) -> io::Result<()> {
        self.set_option(libc::SOL_PACKET, libc::PACKET_RX_RING, request)
    }

    /// Binds the socket to interface `index` for every protocol.
    pub(crate) fn bind(&self, interface_index: u32) -> io::Result<()> {
        let address = link_address(interface_index)?;
        // SAFETY: `address` is a complete sockaddr_ll and the length passed
        // is its size, so the kernel reads only within it.
        let result = unsafe {
            libc::bind(
                self.raw_fd(),
                std::ptr::addr_of!(address).cast::<libc::sockaddr>(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(result)
    }

    /// Returns the `ARPHRD_*` hardware type of the bound interface.
    pub(crate) fn hardware_type(&self) -> io::Result<u16> {
        let mut address = link_address(0)?;
        let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: the kernel writes at most `len` bytes into `address`,
        // which is a sockaddr_ll of exactly that size.
        let result = unsafe {
            libc::getsockname(
                self.raw_fd(),
                std::ptr::addr_of_mut!(address).cast::<libc::sockaddr>(),
                &mut len,
            )
        };
        check(result)?;
        Ok(address.sll_hatype)
    }

    /// Adds a `PACKET_MR_PROMISC` membership on interface `index`. The
    /// kernel counts memberships and drops this one when the socket closes.
    pub(crate) fn add_promiscuous_membership(&self, interface_index: u32) -> io::Result<()> {
        let request = libc::packet_mreq {
            mr_ifindex: interface_index_as_c_int(interface_index)?,
            mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        self.set_option(libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &request)
    }

    /// Joins a fanout group; `option` comes from `sys::fanout_option`.
    pub(crate) fn join_fanout(&self, option: u32) -> io::Result<()> {
        self.set_option(libc::SOL_PACKET, libc::PACKET_FANOUT, &option)
    }

    /// Reads the kernel's packet and drop counts for this socket. The kernel
    /// resets them on every read.
    pub(crate) fn take_statistics(&self) -> io::Result<libc::tpacket_stats_v3> {
        let mut stats = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        self.get_option(libc::SOL_PACKET, libc::PACKET_STATISTICS, &mut stats)?;
        Ok(stats)
    }

    /// Reads and clears the socket's pending error.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut code: libc::c_int = 0;
        self.get_option(libc::SOL_SOCKET, libc::SO_ERROR, &mut code)?;
        Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
    }

    /// Waits up to `timeout_ms` for the socket to become readable.
    pub(crate) fn wait_readable(&self, timeout_ms: i32) -> io::Result<Readiness> {
        let mut poll_fd = libc::pollfd {
            fd: self.raw_fd(),
            events: libc::POLLIN | libc::POLLRDNORM,
            revents: 0,
        };
        // SAFETY: `poll_fd` is one valid pollfd and the count passed is 1.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, timeout_ms) };
        if ready < 0 {
            return Err(io::Error::last_os_error());
        }
        if ready == 0 {
            return Ok(Readiness::TimedOut);
        }
        if poll_fd.revents & libc::POLLNVAL != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        if poll_fd.revents & libc::POLLERR != 0 {
            return Ok(Readiness::Error);
        }
        Ok(Readiness::Readable)
    }

    /// Sets a socket option whose value is `value`.
    fn set_option<T>(&self, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
        // SAFETY: `value` is a live, initialised T and the length passed is
        // size_of::<T>(), so the kernel reads only within it. Callers pass
        // the struct or integer type that the option is documented to take.
        let result = unsafe {
            libc::setsockopt(
                self.raw_fd(),
                level,
                name,
                (value as *const T).cast::<libc::c_void>(),
                size_of::<T>() as libc::socklen_t,
            )
        };
        check(result)
    }

    /// Reads a socket option into `value`.
    fn get_option<T>(
        &self,
        level: libc::c_int,
        name: libc::c_int,
        value: &mut T,
    ) -> io::Result<()> {
        let mut len = size_of::<T>() as libc::socklen_t;
        // SAFETY: the kernel writes at most `len` = size_of::<T>() bytes into
        // `value`. Callers pass plain integer structs for which any bytes
        // the kernel writes are a valid value.
        let result = unsafe {
            libc::getsockopt(
                self.raw_fd(),
                level,
                name,
                (value as *mut T).cast::<libc::c_void>(),
                &mut len,
            )
        };
        check(result)
    }
}

/// Returns the index of the interface named `name` in this thread's network
/// namespace.
pub(crate) fn interface_index(name: &str) -> io::Result<u32> {
    let c_name = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c_name` is a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(index)
}

/// Returns whether an interface with index `index` exists in this thread's
/// network namespace.
pub(crate) fn interface_exists(index: u32) -> bool {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has the IF_NAMESIZE bytes that if_indextoname may write.
    let result = unsafe { libc::if_indextoname(index, name.as_mut_ptr()) };
    !result.is_null()
}

/// Builds the sockaddr_ll for interface `index` and every protocol.
fn link_address(interface_index: u32) -> io::Result<libc::sockaddr_ll> {
    Ok(libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: (libc::ETH_P_ALL as u16).to_be(),
        sll_ifindex: interface_index_as_c_int(interface_index)?,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    })
}

fn interface_index_as_c_int(index: u32) -> io::Result<libc::c_int> {
    libc::c_int::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))
}

/// Turns a -1 return into the thread's errno.
fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
