/*
 * C side of naudit-dpdk: DPDK's static inline functions and macros, which
 * Rust cannot call, and the calls that take DPDK's large configuration
 * structs, so that the Rust side declares only the small structs below and
 * never mirrors the layout of `struct rte_eth_conf` or
 * `struct rte_eth_dev_info`.
 *
 * Written against DPDK 22.11; the version check below stops the build on
 * any other release, because the Rust declarations in src/sys.rs follow
 * this file's structs and 22.11's exported functions.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_version.h>

#if RTE_VER_YEAR != 22 || RTE_VER_MONTH != 11
#error "naudit-dpdk is written for DPDK 22.11; install Debian 12's libdpdk-dev (22.11)"
#endif

/* Sizes of the symmetric RSS key, the bytes 0x6d 0x5a repeated. The key
 * repeats every 16 bits and addresses and ports are multiples of 16 bits,
 * so the Toeplitz hash of (src, dst) equals that of (dst, src) and both
 * directions of a flow land in the same queue. */
#define NAUDIT_MAX_RSS_KEY_BYTES 64
#define NAUDIT_DEFAULT_RSS_KEY_BYTES 40

/* Must match `PortInfo` in src/sys.rs. */
struct naudit_port_info {
    char name[RTE_ETH_NAME_MAX_LEN];
    char driver[64];
    uint8_t mac[6];
    uint8_t link_up;
    uint8_t full_duplex;
    uint32_t link_speed_mbps;
    int32_t socket_id;
    uint16_t max_rx_queues;
    uint16_t padding;
    uint64_t rx_offload_capa;
    uint64_t flow_type_rss_offloads;
};

/* Must match `PortStats` in src/sys.rs. */
struct naudit_port_stats {
    uint64_t ipackets;
    uint64_t imissed;
    uint64_t ierrors;
    uint64_t rx_nombuf;
};

/* Sources of a port's packet timestamps; the values must match
 * `TIMESTAMP_SOURCE_*` in src/sys.rs. */
#define NAUDIT_TIMESTAMP_NONE 0
/* The RX timestamp offload: the NIC writes ticks of its own clock. */
#define NAUDIT_TIMESTAMP_OFFLOAD 1
/* The driver fills the timestamp field without offering the offload, as
 * net_pcap does with each packet's capture time. */
#define NAUDIT_TIMESTAMP_DRIVER 2

/* Must match `PortSetup` in src/sys.rs. */
struct naudit_port_setup {
    uint16_t rx_queues;
    uint16_t rx_descriptors;
    uint8_t want_timestamp;
    uint8_t promiscuous;
    /* Outputs. */
    uint8_t timestamp_source; /* one of NAUDIT_TIMESTAMP_* */
    uint8_t rss_enabled;
    int32_t timestamp_offset;
    uint64_t timestamp_flag;
    /* Name of the DPDK call that failed, when the return value is negative. */
    const char *failed_call;
};

/* Must match `MbufView` in src/sys.rs. */
struct naudit_mbuf_view {
    const uint8_t *data;
    uint64_t timestamp;
    uint32_t pkt_len;
    uint16_t data_len;
    uint8_t has_timestamp;
    /* Segments in the mbuf chain, at most 255. */
    uint8_t segments;
};

int naudit_errno(void)
{
    return rte_errno;
}

uint64_t naudit_tsc_cycles(void)
{
    return rte_get_tsc_cycles();
}

unsigned int naudit_lcore_id(void)
{
    return rte_lcore_id();
}

/* Returns the first port at or after `port` that no application owns, or
 * RTE_MAX_ETHPORTS when there is none (the loop of RTE_ETH_FOREACH_DEV). */
uint16_t naudit_next_port(uint16_t port)
{
    return (uint16_t)rte_eth_find_next_owned_by(port, RTE_ETH_DEV_NO_OWNER);
}

uint16_t naudit_max_ports(void)
{
    return RTE_MAX_ETHPORTS;
}

int naudit_port_info(uint16_t port, struct naudit_port_info *info)
{
    struct rte_eth_dev_info dev_info;
    struct rte_ether_addr mac;
    struct rte_eth_link link;
    int ret;

    memset(info, 0, sizeof(*info));
    ret = rte_eth_dev_info_get(port, &dev_info);
    if (ret != 0)
        return ret;
    ret = rte_eth_dev_get_name_by_port(port, info->name);
    if (ret != 0)
        return ret;
    if (dev_info.driver_name != NULL)
        strncpy(info->driver, dev_info.driver_name, sizeof(info->driver) - 1);
    if (rte_eth_macaddr_get(port, &mac) == 0)
        memcpy(info->mac, mac.addr_bytes, sizeof(info->mac));
    memset(&link, 0, sizeof(link));
    if (rte_eth_link_get_nowait(port, &link) == 0) {
        info->link_up = link.link_status == RTE_ETH_LINK_UP;
        info->full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
        info->link_speed_mbps = link.link_speed;
    }
    info->socket_id = rte_eth_dev_socket_id(port);
    info->max_rx_queues = dev_info.max_rx_queues;
    info->rx_offload_capa = dev_info.rx_offload_capa;
    info->flow_type_rss_offloads = dev_info.flow_type_rss_offloads;
    return 0;
}

int naudit_port_stats(uint16_t port, struct naudit_port_stats *stats)
{
    struct rte_eth_stats eth_stats;
    int ret = rte_eth_stats_get(port, &eth_stats);

    if (ret != 0)
        return ret;
    stats->ipackets = eth_stats.ipackets;
    stats->imissed = eth_stats.imissed;
    stats->ierrors = eth_stats.ierrors;
    stats->rx_nombuf = eth_stats.rx_nombuf;
    return 0;
}

/* Configures `port` for receive only: `setup->rx_queues` queues, each
 * filled from `pools[queue]`, symmetric RSS when the port offers it, NIC
 * timestamps when requested and offered, then starts it. Returns 0, or a
 * negative errno with `setup->failed_call` naming the DPDK call. */
int naudit_port_start(uint16_t port, struct naudit_port_setup *setup, struct rte_mempool *const *pools)
{
    static uint8_t rss_key[NAUDIT_MAX_RSS_KEY_BYTES];
    struct rte_eth_dev_info dev_info;
    struct rte_eth_conf conf;
    struct rte_eth_rxconf rxconf;
    uint16_t rx_descriptors = setup->rx_descriptors;
    uint16_t tx_descriptors = 0;
    uint64_t offloads = 0;
    int socket = rte_eth_dev_socket_id(port);
    int ret;
    uint16_t queue;

    for (size_t i = 0; i < sizeof(rss_key); i += 2) {
        rss_key[i] = 0x6d;
        rss_key[i + 1] = 0x5a;
    }
    setup->timestamp_source = NAUDIT_TIMESTAMP_NONE;
    setup->rss_enabled = 0;
    setup->timestamp_offset = -1;
    setup->timestamp_flag = 0;

    ret = rte_eth_dev_info_get(port, &dev_info);
    if (ret != 0) {
        setup->failed_call = "rte_eth_dev_info_get";
        return ret;
    }

    memset(&conf, 0, sizeof(conf));
    if (dev_info.flow_type_rss_offloads != 0) {
        uint8_t key_bytes = dev_info.hash_key_size;

        if (key_bytes == 0 || key_bytes > NAUDIT_MAX_RSS_KEY_BYTES)
            key_bytes = NAUDIT_DEFAULT_RSS_KEY_BYTES;
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = rss_key;
        conf.rx_adv_conf.rss_conf.rss_key_len = key_bytes;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_SCTP) &
            dev_info.flow_type_rss_offloads;
        setup->rss_enabled = conf.rx_adv_conf.rss_conf.rss_hf != 0;
    }
    if (setup->want_timestamp && (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)) {
        ret = rte_mbuf_dyn_rx_timestamp_register(&setup->timestamp_offset, &setup->timestamp_flag);
        if (ret != 0) {
            setup->failed_call = "rte_mbuf_dyn_rx_timestamp_register";
            return -rte_errno;
        }
        offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
        setup->timestamp_source = NAUDIT_TIMESTAMP_OFFLOAD;
    }
    /* Packets larger than one mbuf arrive as a chain instead of being
     * dropped; the Rust side hands over the first segment and counts the
     * packet as truncated. */
    offloads |= dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
    conf.rxmode.offloads = offloads;

    ret = rte_eth_dev_configure(port, setup->rx_queues, 0, &conf);
    if (ret != 0) {
        setup->failed_call = "rte_eth_dev_configure";
        return ret;
    }
    ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors, &tx_descriptors);
    if (ret != 0) {
        setup->failed_call = "rte_eth_dev_adjust_nb_rx_tx_desc";
        return ret;
    }
    rxconf = dev_info.default_rxconf;
    rxconf.offloads = offloads;
    for (queue = 0; queue < setup->rx_queues; queue++) {
        ret = rte_eth_rx_queue_setup(port, queue, rx_descriptors, socket, &rxconf, pools[queue]);
        if (ret != 0) {
            setup->failed_call = "rte_eth_rx_queue_setup";
            return ret;
        }
    }
    ret = rte_eth_dev_start(port);
    if (ret != 0) {
        setup->failed_call = "rte_eth_dev_start";
        return ret;
    }
    if (setup->promiscuous) {
        ret = rte_eth_promiscuous_enable(port);
        /* Virtual devices such as net_pcap may not implement it. */
        if (ret != 0 && ret != -ENOTSUP) {
            setup->failed_call = "rte_eth_promiscuous_enable";
            return ret;
        }
    }
    if (setup->want_timestamp && setup->timestamp_source == NAUDIT_TIMESTAMP_NONE) {
        /* Drivers that stamp packets without offering the offload register
         * the field and flag themselves, when EAL probes them. */
        int field = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
        int flag = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);

        if (field >= 0 && flag >= 0) {
            setup->timestamp_offset = field;
            setup->timestamp_flag = UINT64_C(1) << flag;
            setup->timestamp_source = NAUDIT_TIMESTAMP_DRIVER;
        }
    }
    return 0;
}

/* Receives up to `count` packets from one queue into `mbufs` and describes
 * each in `views`. Returns the number received. */
uint16_t naudit_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **mbufs, struct naudit_mbuf_view *views,
                         uint16_t count, int32_t timestamp_offset, uint64_t timestamp_flag)
{
    uint16_t received = rte_eth_rx_burst(port, queue, mbufs, count);

    for (uint16_t i = 0; i < received; i++) {
        struct rte_mbuf *mbuf = mbufs[i];
        struct naudit_mbuf_view *view = &views[i];

        view->data = rte_pktmbuf_mtod(mbuf, const uint8_t *);
        view->pkt_len = rte_pktmbuf_pkt_len(mbuf);
        view->data_len = rte_pktmbuf_data_len(mbuf);
        view->segments = mbuf->nb_segs > UINT8_MAX ? UINT8_MAX : (uint8_t)mbuf->nb_segs;
        view->has_timestamp = timestamp_offset >= 0 && (mbuf->ol_flags & timestamp_flag) != 0;
        view->timestamp =
            view->has_timestamp ? *RTE_MBUF_DYNFIELD(mbuf, timestamp_offset, rte_mbuf_timestamp_t *) : 0;
    }
    return received;
}

/* Copies up to `length` bytes of the packet in `mbuf`, segment after
 * segment, to `destination`. Returns the number of bytes copied. */
uint32_t naudit_mbuf_copy(const struct rte_mbuf *mbuf, uint8_t *destination, uint32_t length)
{
    uint32_t copied = 0;

    for (const struct rte_mbuf *segment = mbuf; segment != NULL && copied < length; segment = segment->next) {
        uint32_t part = RTE_MIN((uint32_t)rte_pktmbuf_data_len(segment), length - copied);

        memcpy(destination + copied, rte_pktmbuf_mtod(segment, const uint8_t *), part);
        copied += part;
    }
    return copied;
}
