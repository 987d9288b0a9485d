/*
 * C side of naudit-infiniband. It wraps rdma-core's static inline verbs and
 * macros, which Rust cannot call: ibv_get_device_list, ibv_query_device_ex,
 * ibv_query_port, ibv_reg_mr, ibv_create_cq_ex, ibv_create_flow,
 * ibv_destroy_flow, ibv_post_recv, ibv_poll_cq, the extended CQ poll calls
 * and ibv_query_rt_values_ex. It also makes the calls that take verbs'
 * large attribute structs, so the Rust side declares only the small
 * structs below.
 *
 * Written against rdma-core 44 (Debian 12's libibverbs-dev); every call
 * used here exists since rdma-core 25.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>

/* Work requests posted in one ibv_post_recv call. */
#define NAUDIT_POST_CHUNK 64

/* Packet clocks a CQ can stamp completions with. Must match `CqClock` in
 * src/sys.rs. */
#define NAUDIT_CLOCK_NONE 0
#define NAUDIT_CLOCK_CYCLES 1
#define NAUDIT_CLOCK_WALLCLOCK 2

/* Must match `DeviceInfo` in src/sys.rs. */
struct naudit_ib_device_info {
    uint64_t completion_timestamp_mask;
    uint64_t hca_core_clock_khz;
    uint32_t max_qp_wr;
    uint32_t max_cqe;
    uint32_t node_type;
    uint8_t phys_port_cnt;
    uint8_t padding[7];
    char fw_ver[64];
};

/* Must match `PortInfo` in src/sys.rs. */
struct naudit_ib_port_info {
    uint32_t state;
    uint32_t active_mtu;
    uint16_t lid;
    uint8_t link_layer;
    uint8_t padding;
};

/* Must match `Completion` in src/sys.rs. */
struct naudit_ib_completion {
    uint64_t wr_id;
    /* Device clock cycles or nanoseconds since the Unix epoch, as the CQ's
     * clock gives; 0 without a clock. */
    uint64_t timestamp;
    uint32_t byte_len;
    uint32_t status;
    uint32_t vendor_err;
    uint32_t padding;
};

/* The Rust declarations check the same sizes. */
_Static_assert(sizeof(struct naudit_ib_device_info) == 104, "DeviceInfo in src/sys.rs has 104 bytes");
_Static_assert(sizeof(struct naudit_ib_port_info) == 12, "PortInfo in src/sys.rs has 12 bytes");
_Static_assert(sizeof(struct naudit_ib_completion) == 32, "Completion in src/sys.rs has 32 bytes");

struct ibv_device **naudit_ib_device_list(int *count)
{
    return ibv_get_device_list(count);
}

int naudit_ib_query_device(struct ibv_context *context, struct naudit_ib_device_info *info)
{
    struct ibv_device_attr_ex attr;
    int ret;

    memset(info, 0, sizeof(*info));
    memset(&attr, 0, sizeof(attr));
    ret = ibv_query_device_ex(context, NULL, &attr);
    if (ret != 0)
        return ret;
    info->completion_timestamp_mask = attr.completion_timestamp_mask;
    info->hca_core_clock_khz = attr.hca_core_clock;
    info->max_qp_wr = (uint32_t)attr.orig_attr.max_qp_wr;
    info->max_cqe = (uint32_t)attr.orig_attr.max_cqe;
    info->node_type = (uint32_t)context->device->node_type;
    info->phys_port_cnt = attr.orig_attr.phys_port_cnt;
    /* Both are 64 bytes; the last byte of info->fw_ver stays 0. */
    memcpy(info->fw_ver, attr.orig_attr.fw_ver, sizeof(info->fw_ver) - 1);
    return 0;
}

int naudit_ib_query_port(struct ibv_context *context, uint8_t port, struct naudit_ib_port_info *info)
{
    struct ibv_port_attr attr;
    int ret;

    memset(info, 0, sizeof(*info));
    memset(&attr, 0, sizeof(attr));
    ret = ibv_query_port(context, port, &attr);
    if (ret != 0)
        return ret;
    info->state = (uint32_t)attr.state;
    info->active_mtu = (uint32_t)attr.active_mtu;
    info->lid = attr.lid;
    info->link_layer = attr.link_layer;
    return 0;
}

/* Reads the device's free-running clock, in cycles. Returns 0 or an errno
 * value. Providers put the cycle count in tv_nsec and 0 in tv_sec (mlx5);
 * adding both keeps any other split right. */
int naudit_ib_read_raw_clock(struct ibv_context *context, uint64_t *cycles)
{
    struct ibv_values_ex values;
    int ret;

    memset(&values, 0, sizeof(values));
    values.comp_mask = IBV_VALUES_MASK_RAW_CLOCK;
    ret = ibv_query_rt_values_ex(context, &values);
    if (ret != 0)
        return ret;
    if (!(values.comp_mask & IBV_VALUES_MASK_RAW_CLOCK))
        return EOPNOTSUPP;
    *cycles = (uint64_t)values.raw_clock.tv_sec * 1000000000u + (uint64_t)values.raw_clock.tv_nsec;
    return 0;
}

struct ibv_mr *naudit_ib_reg_mr(struct ibv_pd *pd, void *addr, size_t length, uint32_t *lkey)
{
    struct ibv_mr *mr = ibv_reg_mr(pd, addr, length, IBV_ACCESS_LOCAL_WRITE);

    if (mr != NULL)
        *lkey = mr->lkey;
    return mr;
}

static struct ibv_cq_ex *create_cq_ex(struct ibv_context *context, uint32_t entries, uint64_t clock_flag)
{
    struct ibv_cq_init_attr_ex attr;

    memset(&attr, 0, sizeof(attr));
    attr.cqe = entries;
    attr.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | clock_flag;
    attr.comp_mask = IBV_CQ_INIT_ATTR_MASK_FLAGS;
    attr.flags = IBV_CREATE_CQ_ATTR_SINGLE_THREADED;
    return ibv_create_cq_ex(context, &attr);
}

/* Creates a CQ of `entries` completions. It tries completion timestamps in
 * wall-clock nanoseconds, then in device cycles, each only when its
 * NAUDIT_CLOCK_* bit is set in `want_clock`, and uses the first the device
 * accepts, else a CQ without timestamps. `*clock` returns the clock used,
 * and `*cq_ex` the extended CQ when one was created, else NULL. Returns the
 * CQ, or NULL with errno set. */
struct ibv_cq *naudit_ib_create_cq(struct ibv_context *context, uint32_t entries, int want_clock, int *clock,
                                   struct ibv_cq_ex **cq_ex)
{
    struct ibv_cq_ex *extended;

    *clock = NAUDIT_CLOCK_NONE;
    *cq_ex = NULL;
    if (want_clock & (1 << NAUDIT_CLOCK_WALLCLOCK)) {
        extended = create_cq_ex(context, entries, IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK);
        if (extended != NULL) {
            *clock = NAUDIT_CLOCK_WALLCLOCK;
            *cq_ex = extended;
            return ibv_cq_ex_to_cq(extended);
        }
    }
    if (want_clock & (1 << NAUDIT_CLOCK_CYCLES)) {
        extended = create_cq_ex(context, entries, IBV_WC_EX_WITH_COMPLETION_TIMESTAMP);
        if (extended != NULL) {
            *clock = NAUDIT_CLOCK_CYCLES;
            *cq_ex = extended;
            return ibv_cq_ex_to_cq(extended);
        }
    }
    return ibv_create_cq(context, (int)entries, NULL, NULL, 0);
}

/* Creates a raw packet QP that receives into `cq`. Returns it, or NULL
 * with errno set. */
struct ibv_qp *naudit_ib_create_raw_qp(struct ibv_pd *pd, struct ibv_cq *cq, uint32_t receive_wrs)
{
    struct ibv_qp_init_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.send_cq = cq;
    attr.recv_cq = cq;
    attr.cap.max_recv_wr = receive_wrs;
    attr.cap.max_recv_sge = 1;
    attr.qp_type = IBV_QPT_RAW_PACKET;
    return ibv_create_qp(pd, &attr);
}

/* Moves `qp` to RESET (with `reset`), then INIT on `port`, then RTR, the
 * state in which it receives. Returns 0, or an errno value with
 * `*failed_state` naming the state that was rejected. */
int naudit_ib_ready_qp(struct ibv_qp *qp, uint8_t port, int reset, const char **failed_state)
{
    struct ibv_qp_attr attr;
    int ret;

    if (reset) {
        memset(&attr, 0, sizeof(attr));
        attr.qp_state = IBV_QPS_RESET;
        ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
        if (ret != 0) {
            *failed_state = "RESET";
            return ret;
        }
    }
    memset(&attr, 0, sizeof(attr));
    attr.qp_state = IBV_QPS_INIT;
    attr.port_num = port;
    ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PORT);
    if (ret != 0) {
        *failed_state = "INIT";
        return ret;
    }
    memset(&attr, 0, sizeof(attr));
    attr.qp_state = IBV_QPS_RTR;
    ret = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
    if (ret != 0) {
        *failed_state = "RTR";
        return ret;
    }
    return 0;
}

/* Attaches a sniffer steering rule for `port` to `qp`: a copy of every
 * packet the port sends or receives goes to the QP. Returns the rule, or
 * NULL with errno set. */
struct ibv_flow *naudit_ib_create_sniffer_flow(struct ibv_qp *qp, uint8_t port)
{
    struct ibv_flow_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.type = IBV_FLOW_ATTR_SNIFFER;
    attr.size = sizeof(attr);
    attr.port = port;
    attr.num_of_specs = 0;
    return ibv_create_flow(qp, &attr);
}

int naudit_ib_destroy_flow(struct ibv_flow *flow)
{
    return ibv_destroy_flow(flow);
}

/* Posts one receive work request per entry of `indexes`: buffer i starts
 * at `base + i * buffer_bytes`, and its work request id is i. Returns 0 or
 * an errno value; `*posted` counts the requests the QP took, which come
 * first in `indexes`. */
int naudit_ib_post_receives(struct ibv_qp *qp, uint32_t lkey, uint8_t *base, uint32_t buffer_bytes,
                            const uint32_t *indexes, uint32_t count, uint32_t *posted)
{
    struct ibv_recv_wr wrs[NAUDIT_POST_CHUNK];
    struct ibv_sge sges[NAUDIT_POST_CHUNK];
    uint32_t done = 0;

    *posted = 0;
    while (done < count) {
        uint32_t chunk = count - done < NAUDIT_POST_CHUNK ? count - done : NAUDIT_POST_CHUNK;
        struct ibv_recv_wr *bad_wr = NULL;
        int ret;

        for (uint32_t i = 0; i < chunk; i++) {
            uint32_t index = indexes[done + i];

            sges[i].addr = (uintptr_t)(base + (size_t)index * buffer_bytes);
            sges[i].length = buffer_bytes;
            sges[i].lkey = lkey;
            wrs[i].wr_id = index;
            wrs[i].sg_list = &sges[i];
            wrs[i].num_sge = 1;
            wrs[i].next = i + 1 < chunk ? &wrs[i + 1] : NULL;
        }
        ret = ibv_post_recv(qp, wrs, &bad_wr);
        if (ret != 0) {
            /* Requests before bad_wr were posted. */
            if (bad_wr != NULL)
                *posted = done + (uint32_t)(bad_wr - wrs);
            else
                *posted = done;
            return ret;
        }
        done += chunk;
        *posted = done;
    }
    return 0;
}

/* Polls up to `max` completions into `out`, through the extended CQ when
 * `cq_ex` is not NULL (reading the completion timestamp of `clock`), else
 * with ibv_poll_cq. Returns the number polled, or a negative errno value. */
int naudit_ib_poll(struct ibv_cq *cq, struct ibv_cq_ex *cq_ex, int clock, struct naudit_ib_completion *out, int max)
{
    struct ibv_poll_cq_attr attr;
    int polled = 0;
    int ret;

    if (max <= 0)
        return 0;
    if (cq_ex == NULL) {
        struct ibv_wc wcs[NAUDIT_POST_CHUNK];

        if (max > NAUDIT_POST_CHUNK)
            max = NAUDIT_POST_CHUNK;
        ret = ibv_poll_cq(cq, max, wcs);
        /* ibv_poll_cq reports a failure as some negative value, not an
         * errno value. */
        if (ret < 0)
            return -EIO;
        for (int i = 0; i < ret; i++) {
            memset(&out[i], 0, sizeof(out[i]));
            out[i].wr_id = wcs[i].wr_id;
            out[i].status = (uint32_t)wcs[i].status;
            out[i].vendor_err = wcs[i].vendor_err;
            out[i].byte_len = wcs[i].status == IBV_WC_SUCCESS ? wcs[i].byte_len : 0;
        }
        return ret;
    }

    memset(&attr, 0, sizeof(attr));
    ret = ibv_start_poll(cq_ex, &attr);
    if (ret == ENOENT)
        return 0;
    if (ret != 0)
        return -ret;
    for (;;) {
        struct naudit_ib_completion *completion = &out[polled];

        memset(completion, 0, sizeof(*completion));
        completion->wr_id = cq_ex->wr_id;
        completion->status = (uint32_t)cq_ex->status;
        if (cq_ex->status == IBV_WC_SUCCESS) {
            completion->byte_len = ibv_wc_read_byte_len(cq_ex);
            if (clock == NAUDIT_CLOCK_WALLCLOCK)
                completion->timestamp = ibv_wc_read_completion_wallclock_ns(cq_ex);
            else if (clock == NAUDIT_CLOCK_CYCLES)
                completion->timestamp = ibv_wc_read_completion_ts(cq_ex);
        } else {
            completion->vendor_err = ibv_wc_read_vendor_err(cq_ex);
        }
        polled++;
        if (polled == max)
            break;
        /* ENOENT: the CQ is empty. Any other error is returned by the
         * next call's ibv_start_poll. */
        if (ibv_next_poll(cq_ex) != 0)
            break;
    }
    ibv_end_poll(cq_ex);
    return polled;
}
