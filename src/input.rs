//! Opens the packet input the command line names: capture files, or a live
//! interface through libpcap, AF_PACKET, DPDK or the InfiniBand verbs
//! sniffer, with the filter expression applied where the driver allows.

use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceCounters, SourceError};
use naudit_engine::fanout::FlowShare;
use naudit_pcap::{CaptureSource, FilteredSource, LiveConfig, LiveSource};
use naudit_tilera_compat::{AfPacketConfig, AfPacketDriver, AfPacketQueue};

use crate::cli::{Cli, DriverKind};

/// Milliseconds an AF_PACKET block waits for more packets before the kernel
/// hands it over on a quiet link.
const AFPACKET_BLOCK_TIMEOUT_MS: u32 = 10;

/// The opened input.
pub enum Input {
    /// Capture files, read by a software classifier when there are several
    /// workers.
    Files(FilteredOrPlain<CaptureSource>),
    /// libpcap live capture: one queue, its filter in the kernel.
    Pcap(LiveSource),
    /// AF_PACKET rings, one per worker; the filter runs in user space.
    AfPacket(Vec<FilteredOrPlain<AfPacketQueue>>),
    /// DPDK queues, one per worker; the filter runs in user space.
    #[cfg(feature = "dpdk")]
    Dpdk {
        /// The queues.
        queues: Vec<FilteredOrPlain<naudit_dpdk::DpdkQueue>>,
        /// False when every port replays a capture file, whose packet times
        /// are not the clock's.
        live: bool,
    },
    /// The InfiniBand verbs sniffer: one queue; the filter runs in user
    /// space.
    #[cfg(feature = "ibverbs")]
    Ibverbs(FilteredOrPlain<naudit_infiniband::IbverbsQueue>),
}

impl Input {
    /// True when packets arrive live, so an idle worker may advance flow
    /// time from the clock.
    pub fn is_live(&self, cli: &Cli) -> bool {
        match self {
            #[cfg(feature = "dpdk")]
            Input::Dpdk { live, .. } => *live,
            _ => cli.interface.is_some(),
        }
    }
}

/// A source with or without a user-space filter in front of it.
pub enum FilteredOrPlain<S: PacketSource> {
    /// Packets pass the filter expression first.
    Filtered(FilteredSource<S>),
    /// Every packet is delivered.
    Plain(S),
}

impl<S: PacketSource> PacketSource for FilteredOrPlain<S> {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        match self {
            FilteredOrPlain::Filtered(source) => source.next_batch(process),
            FilteredOrPlain::Plain(source) => source.next_batch(process),
        }
    }

    fn next_batch_kept<K, F>(&mut self, keep: K, process: F) -> Result<BatchStatus, SourceError>
    where
        K: FnMut(&PacketView<'_>) -> bool,
        F: FnOnce(&[PacketView<'_>]),
    {
        match self {
            FilteredOrPlain::Filtered(source) => source.next_batch_kept(keep, process),
            FilteredOrPlain::Plain(source) => source.next_batch_kept(keep, process),
        }
    }

    fn counters(&self) -> SourceCounters {
        match self {
            FilteredOrPlain::Filtered(source) => source.counters(),
            FilteredOrPlain::Plain(source) => source.counters(),
        }
    }

    fn name(&self) -> &str {
        match self {
            FilteredOrPlain::Filtered(source) => source.name(),
            FilteredOrPlain::Plain(source) => source.name(),
        }
    }
}

/// Returns advice for a filter expression that failed to compile when one
/// of its words looks like an option: everything after the first filter
/// word is read as the filter, so an option placed there becomes part of it.
fn option_in_filter_hint(expression: &str) -> String {
    let looks_like_option = |word: &&str| {
        let mut chars = word.chars();
        chars.next() == Some('-') && chars.next().is_some_and(|next| next == '-' || next.is_ascii_alphabetic())
    };
    match expression.split_whitespace().find(looks_like_option) {
        Some(word) => format!(
            ". \"{word}\" was read as part of the filter: put options before the filter expression"
        ),
        None => String::new(),
    }
}

/// The driver that live capture on `cli.interface` uses.
pub fn live_driver(cli: &Cli) -> DriverKind {
    cli.driver.unwrap_or(if cfg!(target_os = "linux") && cli.worker_count() > 1 {
        DriverKind::Afpacket
    } else {
        DriverKind::Pcap
    })
}

fn with_filter<S: PacketSource>(source: S, filter: Option<&str>) -> Result<FilteredOrPlain<S>, String> {
    match filter {
        Some(expression) => FilteredSource::new(source, expression)
            .map(FilteredOrPlain::Filtered)
            .map_err(|error| format!("{error}{}", option_in_filter_hint(expression))),
        None => Ok(FilteredOrPlain::Plain(source)),
    }
}

/// Opens what the command line asks for.
pub fn open(cli: &Cli) -> Result<Input, String> {
    let filter = cli.filter_expression();
    if cli.driver == Some(DriverKind::Dpdk) || cli.dpdk_args.is_some() {
        return open_dpdk(cli, filter.as_deref());
    }
    let Some(interface) = &cli.interface else {
        let files = naudit_pcap::open_inputs(&cli.read).map_err(|error| error.to_string())?;
        return with_filter(files, filter.as_deref()).map(Input::Files);
    };

    match live_driver(cli) {
        DriverKind::Pcap => {
            let config = LiveConfig {
                snaplen_bytes: cli.snaplen,
                promiscuous: !cli.no_promiscuous,
                immediate_mode: cli.immediate,
                buffer_size_bytes: cli.buffer_size_bytes,
                filter: filter.clone(),
                ..LiveConfig::new(interface.clone())
            };
            LiveSource::open(&config).map(Input::Pcap).map_err(|error| describe(&error))
        }
        DriverKind::Afpacket => {
            let config = AfPacketConfig {
                queues: cli.worker_count(),
                block_size_bytes: cli.ring_block_bytes,
                block_count: cli.ring_block_count(total_memory_bytes()),
                frame_size_bytes: cli.snaplen,
                block_timeout_ms: AFPACKET_BLOCK_TIMEOUT_MS,
                promiscuous: !cli.no_promiscuous,
                ..AfPacketConfig::for_interface(interface.clone())
            };
            let queues = AfPacketDriver::open(&config).map_err(|error| describe(&error))?;
            // NOTE: the filter runs in user space here, because the kernel
            // takes the outer VLAN tag out of the frame before a socket filter
            // sees it, so `vlan` expressions would not match in the kernel.
            let queues = queues
                .into_iter()
                .map(|queue| with_filter(queue, filter.as_deref()))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Input::AfPacket(queues))
        }
        DriverKind::Dpdk => open_dpdk(cli, filter.as_deref()),
        DriverKind::Ibverbs => open_ibverbs(cli, interface, filter.as_deref()),
    }
}

/// Message for the DPDK driver in a build without it.
#[cfg(not(feature = "dpdk"))]
const NO_DPDK: &str = "built without DPDK; build with --features dpdk";

/// The DPDK settings of the command line: --dpdk-args, and -i as a
/// comma-separated list of ports.
#[cfg(feature = "dpdk")]
fn dpdk_config(cli: &Cli) -> Result<naudit_dpdk::DpdkConfig, String> {
    let Some(eal_args) = &cli.dpdk_args else {
        return Err("the DPDK driver needs --dpdk-args, for example --dpdk-args '-l 0 -a 0000:3b:00.0'".to_string());
    };
    let ports = cli.interface.iter().flat_map(|list| list.split(',')).map(str::trim).filter(|port| !port.is_empty());
    Ok(naudit_dpdk::DpdkConfig {
        ports: ports.map(str::to_string).collect(),
        workers: cli.worker_count().max(1),
        promiscuous: !cli.no_promiscuous,
        ..naudit_dpdk::DpdkConfig::new(eal_args.clone())
    })
}

#[cfg(feature = "dpdk")]
fn open_dpdk(cli: &Cli, filter: Option<&str>) -> Result<Input, String> {
    if cli.driver.is_some_and(|driver| driver != DriverKind::Dpdk) {
        return Err("--dpdk-args needs --driver dpdk".to_string());
    }
    let opened = naudit_dpdk::open(&dpdk_config(cli)?).map_err(|error| error.to_string())?;
    let queues = opened.queues.into_iter().map(|queue| with_filter(queue, filter)).collect::<Result<Vec<_>, String>>()?;
    Ok(Input::Dpdk { queues, live: !opened.replays_capture_files })
}

#[cfg(not(feature = "dpdk"))]
fn open_dpdk(_cli: &Cli, _filter: Option<&str>) -> Result<Input, String> {
    Err(NO_DPDK.to_string())
}

/// Message for the verbs sniffer in a build without it.
#[cfg(not(feature = "ibverbs"))]
const NO_IBVERBS: &str = "built without the InfiniBand verbs sniffer; build with --features ibverbs";

#[cfg(feature = "ibverbs")]
fn open_ibverbs(cli: &Cli, interface: &str, filter: Option<&str>) -> Result<Input, String> {
    let port: naudit_infiniband::PortName = interface.parse().map_err(|error| format!("{error}"))?;
    let config = naudit_infiniband::IbverbsConfig { snaplen_bytes: cli.snaplen, ..naudit_infiniband::IbverbsConfig::new(port) };
    let queue = naudit_infiniband::open(&config).map_err(|error| error.to_string())?;
    // The user-space filter drops every packet of a link type the
    // expression does not compile for, and libpcap compiles few expressions
    // for InfiniBand, so a filter that cannot apply is an error up front.
    if let Some(expression) = filter {
        naudit_pcap::BpfFilter::compile(expression, queue.link_type(), naudit_pcap::MAX_CAPTURED_LEN_BYTES).map_err(
            |error| format!("invalid filter for the packets of {interface} (link type {}): {error}", queue.link_type().0),
        )?;
    }
    with_filter(queue, filter).map(Input::Ibverbs)
}

#[cfg(not(feature = "ibverbs"))]
fn open_ibverbs(_cli: &Cli, _interface: &str, _filter: Option<&str>) -> Result<Input, String> {
    Err(NO_IBVERBS.to_string())
}

fn describe(error: &SourceError) -> String {
    error.to_string()
}

/// Opens the capture files once per worker, each copy keeping the flows of
/// one worker, or `None` when an input is standard input or a pipe, which
/// can be read only once.
pub fn open_file_shares(cli: &Cli, workers: usize) -> Result<Option<Vec<FlowShare<FilteredOrPlain<CaptureSource>>>>, String> {
    let replayable = cli.read.iter().all(|path| path.as_os_str() != "-" && path.is_file());
    if !replayable {
        return Ok(None);
    }
    let filter = cli.filter_expression();
    let first = naudit_pcap::open_inputs(&cli.read).map_err(|error| error.to_string())?;
    let mut sources = Vec::with_capacity(workers);
    for _ in 1..workers {
        // One mapped file is mapped once for all workers; merged files are
        // opened again for each worker.
        let source = match first.share() {
            Some(source) => source,
            None => naudit_pcap::open_inputs(&cli.read).map_err(|error| error.to_string())?,
        };
        sources.push(source);
    }
    sources.insert(0, first);
    let mut shares = Vec::with_capacity(workers);
    for (index, source) in sources.into_iter().enumerate() {
        shares.push(FlowShare::new(with_filter(source, filter.as_deref())?, index, workers));
    }
    Ok(Some(shares))
}

/// Prints the interfaces the chosen driver can capture from.
pub fn list_interfaces(cli: &Cli) -> Result<(), String> {
    // The same driver `-i` would use, so the list shows what can be captured.
    let driver = if cli.dpdk_args.is_some() { DriverKind::Dpdk } else { live_driver(cli) };
    match driver {
        DriverKind::Dpdk => list_dpdk_ports(cli)?,
        DriverKind::Ibverbs => list_rdma_devices()?,
        DriverKind::Pcap => {
            let devices = naudit_pcap::list_devices().map_err(|error| error.to_string())?;
            for device in devices {
                println!("{device}");
            }
        }
        DriverKind::Afpacket => {
            let interfaces = naudit_tilera_compat::list_interfaces().map_err(|error| error.to_string())?;
            for interface in interfaces {
                let state = if interface.admin_up { "up" } else { "down" };
                let link = interface.link_type.map_or("not capturable".to_string(), |link| format!("link type {}", link.0));
                println!("{} (index {}, {state}, {link})", interface.name, interface.index);
            }
        }
    }
    Ok(())
}

#[cfg(feature = "dpdk")]
fn list_dpdk_ports(cli: &Cli) -> Result<(), String> {
    let config = dpdk_config(cli)?;
    for port in naudit_dpdk::list_ports(&config.eal_args).map_err(|error| error.to_string())? {
        println!("{port}");
    }
    Ok(())
}

#[cfg(not(feature = "dpdk"))]
fn list_dpdk_ports(_cli: &Cli) -> Result<(), String> {
    Err(NO_DPDK.to_string())
}

#[cfg(feature = "ibverbs")]
fn list_rdma_devices() -> Result<(), String> {
    for device in naudit_infiniband::list_devices().map_err(|error| error.to_string())? {
        println!("{device}");
    }
    Ok(())
}

#[cfg(not(feature = "ibverbs"))]
fn list_rdma_devices() -> Result<(), String> {
    Err(NO_IBVERBS.to_string())
}

/// Total memory of the machine from /proc/meminfo, or 4 GiB where it cannot
/// be read, which gives modest AF_PACKET rings.
fn total_memory_bytes() -> u64 {
    const FALLBACK_BYTES: u64 = 4 << 30;
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK_BYTES;
    };
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(FALLBACK_BYTES, |kibibytes| kibibytes * 1024)
}
