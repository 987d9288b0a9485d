//! Running workers: one on the calling thread, or several, one per core,
//! each owning one driver queue and one flow shard and sending its records
//! through a single-producer ring to the output on the calling thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use naudit_engine::fanout::{fanout, FanoutConfig};
use naudit_engine::flow::{FlowRecord, RecordSink, ShardConfig, ShardCounters};
use naudit_engine::latency::BatchLatency;
use naudit_engine::stats::WorkerStats;
use naudit_engine::worker::{RunEnd, Worker};
use naudit_engine::{PacketSource, SourceCounters, SourceError};
use naudit_records::stream::{CounterTotals, SensorCounters};

use crate::eviction_warning::EvictionWarning;

/// Records a worker can have in flight to the output before it waits.
const RECORD_RING_CAPACITY: usize = 16 * 1024;
/// How long the output first sleeps when every record ring is empty. Each
/// further empty pass doubles the sleep, up to [`OUTPUT_IDLE_SLEEP_MAX`].
const OUTPUT_IDLE_SLEEP_MIN: Duration = Duration::from_micros(50);
/// The maximum sleep of the output. A worker whose ring is full yields
/// until the output wakes and drains it. So a long sleep can delay a burst
/// of records by at most this much, as at the end of a file, when every
/// flow is flushed. A short one costs CPU that workers need: with 2 workers
/// on 2 cores, a fixed 200 µs sleep took about 1.5 % of the CPU time of a
/// run over the IMIX benchmark capture.
const OUTPUT_IDLE_SLEEP_MAX: Duration = Duration::from_millis(2);
/// How many times a worker yields on a full record ring before it sleeps,
/// and for how long it then sleeps between checks.
const FULL_RING_YIELDS: u32 = 16;
const FULL_RING_SLEEP: Duration = Duration::from_micros(50);
/// The maximum number of records the output reads from one ring before it
/// hands their places back to the worker.
const DRAIN_CHUNK_RECORDS: usize = 256;
/// A worker's shard holds its share of the flow limit plus this fraction
/// of it (1/8).
const SHARD_HEADROOM_DIVISOR: usize = 8;
/// How often the output adds up the workers' totals for the stream's
/// management records.
const TOTALS_INTERVAL: coarsetime::Duration = coarsetime::Duration::from_millis(100);

/// What every run of workers needs.
pub struct RunContext<'a> {
    /// Shard configuration; the flow capacity is shared among workers.
    pub config: ShardConfig,
    /// Raised by SIGINT and SIGTERM.
    pub stop: &'a AtomicBool,
    /// Totals for the record stream's management records.
    pub totals: &'a SensorCounters,
    /// True for live capture: an idle worker advances flow time from the
    /// clock, so flows time out on a quiet link.
    pub live: bool,
    /// Time the processing of every batch.
    pub batch_latency: bool,
}

/// What the workers of one run counted.
#[derive(Debug, Default)]
pub struct WorkersSummary {
    /// Counters of the capture driver, all queues together.
    pub source: SourceCounters,
    /// Packet statistics of all workers.
    pub packets: WorkerStats,
    /// Flow events of all shards.
    pub flows: ShardCounters,
    /// Batch processing times of all workers, when timed.
    pub batch_latency: Option<BatchLatency>,
}

impl WorkersSummary {
    /// Adds one worker's batch processing times.
    fn add_batch_latency(&mut self, worker: Option<&BatchLatency>) {
        match (&mut self.batch_latency, worker) {
            (Some(total), Some(worker)) => {
                if let Err(error) = total.add(worker) {
                    tracing::warn!(%error, "a worker's batch latency could not be added to the total");
                }
            }
            (total @ None, Some(worker)) => *total = Some(worker.clone()),
            (_, None) => {}
        }
    }
}

/// Creates a worker, timing its batches when the run is configured to.
fn new_worker(config: ShardConfig, context: &RunContext<'_>) -> Worker {
    let mut worker = Worker::new(config);
    if context.batch_latency {
        worker.enable_batch_latency();
    }
    worker
}

/// The current wall-clock time in nanoseconds since the Unix epoch.
pub fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

fn totals_of(worker: &Worker, source: &SourceCounters) -> CounterTotals {
    let stats = worker.stats();
    let flows = worker.shard().counters();
    CounterTotals {
        packets: stats.packets,
        bytes: stats.wire_bytes,
        dropped_packets: source.dropped_pkts(),
        flows: flows.flows_created,
        records: flows.records_emitted,
        active_flows: worker.shard().active_flows() as u64,
    }
}

/// Publishes a worker's totals after a batch and warns if it evicted flows.
fn report_batch(worker: &Worker, source: &SourceCounters, totals: &SensorCounters, eviction_warning: &mut EvictionWarning) {
    totals.store(&totals_of(worker, source));
    eviction_warning.check(worker.shard().counters().flows_evicted);
}

fn add_totals(total: &mut CounterTotals, other: &CounterTotals) {
    total.packets += other.packets;
    total.bytes += other.bytes;
    total.dropped_packets += other.dropped_packets;
    total.flows += other.flows;
    total.records += other.records;
    total.active_flows += other.active_flows;
}

/// Runs one worker on the calling thread, writing straight to `output`.
pub fn run_single<S: PacketSource>(
    source: &mut S,
    context: &RunContext<'_>,
    output: &mut impl RecordSink,
) -> (WorkersSummary, Result<RunEnd, SourceError>) {
    let mut worker = new_worker(context.config, context);
    let live = context.live;
    let mut eviction_warning = EvictionWarning::new(0, context.config.capacity_flows);
    let result = worker.run_with(
        source,
        output,
        context.stop,
        || live.then(wall_clock_ns),
        |worker, counters| report_batch(worker, counters, context.totals, &mut eviction_warning),
    );
    eviction_warning.finish(worker.shard().counters().flows_evicted);
    let summary = WorkersSummary {
        source: source.counters(),
        packets: *worker.stats(),
        flows: worker.shard().counters(),
        batch_latency: worker.batch_latency().cloned(),
    };
    (summary, result)
}

/// Reads one source with `workers` workers: a classifier thread spreads its
/// packets over them by flow, as the tilera-compat model does for capture
/// files.
pub fn run_classified<S: PacketSource + Send>(
    source: S,
    workers: usize,
    context: &RunContext<'_>,
    output: &mut impl RecordSink,
) -> (WorkersSummary, Result<RunEnd, SourceError>) {
    let (mut classifier, queues) = fanout(source, workers, FanoutConfig::default());
    let stop = context.stop;
    let mut classify = move || classifier.run(stop).map(|()| classifier.counters());
    run_queues(queues, context, output, Some(&mut classify))
}

/// A worker's record sink: the producer end of its ring to the output. A
/// full ring makes the worker wait, so no record is lost.
struct RingSink {
    ring: rtrb::Producer<FlowRecord>,
}

impl RecordSink for RingSink {
    fn emit(&mut self, record: &FlowRecord) {
        let mut waits = 0u32;
        while self.ring.push(*record).is_err() {
            // A yield lets the output run if it waits on this core. After a
            // few, the worker sleeps instead, so that its core goes idle and
            // the scheduler moves the output there rather than leave it to
            // share the other worker's core.
            if waits < FULL_RING_YIELDS {
                std::thread::yield_now();
            } else {
                std::thread::sleep(FULL_RING_SLEEP);
            }
            waits += 1;
        }
    }
}

/// Pins the calling thread to the `index`-th core, if the system lets it.
fn pin_to_core(index: usize) {
    let Some(cores) = core_affinity::get_core_ids() else {
        tracing::warn!(worker = index, "cannot list the cores; the worker is not pinned");
        return;
    };
    if cores.is_empty() {
        return;
    }
    let core = cores[index % cores.len()];
    if !core_affinity::set_for_current(core) {
        tracing::warn!(worker = index, core = core.id, "pinning the worker to its core failed");
    }
}

/// The classifier run on its own thread: returns the source's counters.
type Classify<'a> = dyn FnMut() -> Result<SourceCounters, SourceError> + Send + 'a;

/// Runs one worker per queue, each pinned to its own core, until every
/// queue ends or `stop` is raised, writing every record to `output`.
pub fn run_queues<Q: PacketSource + Send>(
    queues: Vec<Q>,
    context: &RunContext<'_>,
    output: &mut impl RecordSink,
    classify: Option<&mut Classify<'_>>,
) -> (WorkersSummary, Result<RunEnd, SourceError>) {
    let worker_count = queues.len().max(1);
    let running = AtomicUsize::new(queues.len());
    // The flow hash never splits flows exactly evenly, and a shard filled to
    // its share would evict active flows over and over, so each worker gets
    // an eighth more than its share of --max-flows.
    let share = context.config.capacity_flows / worker_count;
    let shard_config = ShardConfig { capacity_flows: (share + share / SHARD_HEADROOM_DIVISOR).max(1), ..context.config };
    let worker_totals: Vec<SensorCounters> = (0..worker_count).map(|_| SensorCounters::new()).collect();
    let (stop, live) = (context.stop, context.live);

    std::thread::scope(|scope| {
        let classifier = classify.map(|classify| scope.spawn(classify));

        let mut consumers = Vec::with_capacity(queues.len());
        let mut handles = Vec::with_capacity(queues.len());
        for (index, mut queue) in queues.into_iter().enumerate() {
            let (producer, consumer) = rtrb::RingBuffer::new(RECORD_RING_CAPACITY);
            consumers.push(consumer);
            let (running, totals) = (&running, &worker_totals[index]);
            handles.push(scope.spawn(move || {
                pin_to_core(index);
                tracing::info!(worker = index, queue = queue.name(), "worker started");
                let mut worker = new_worker(ShardConfig { worker_id: index as u16, ..shard_config }, context);
                let mut sink = RingSink { ring: producer };
                let mut eviction_warning = EvictionWarning::new(index, shard_config.capacity_flows);
                let result = worker.run_with(
                    &mut queue,
                    &mut sink,
                    stop,
                    || live.then(wall_clock_ns),
                    |worker, counters| report_batch(worker, counters, totals, &mut eviction_warning),
                );
                eviction_warning.finish(worker.shard().counters().flows_evicted);
                running.fetch_sub(1, Ordering::Release);
                let counters = queue.counters();
                tracing::info!(
                    worker = index,
                    packets = worker.stats().packets,
                    dropped = counters.dropped_pkts(),
                    "worker stopped"
                );
                (*worker.stats(), worker.shard().counters(), counters, worker.batch_latency().cloned(), result)
            }));
        }

        drain_records(&mut consumers, output, &running, &worker_totals, context.totals);

        let mut summary = WorkersSummary::default();
        let mut result = Ok(RunEnd::EndOfInput);
        for handle in handles {
            let (stats, flows, counters, latency, worker_result) = handle.join().expect("a worker thread panicked");
            summary.packets.add(&stats);
            summary.add_batch_latency(latency.as_ref());
            summary.flows.add(&flows);
            summary.source.add(&counters);
            match worker_result {
                Err(error) => result = Err(error),
                Ok(RunEnd::Stopped) if result.is_ok() => result = Ok(RunEnd::Stopped),
                Ok(_) => {}
            }
        }
        if let Some(classifier) = classifier {
            match classifier.join().expect("the classifier thread panicked") {
                Ok(counters) => summary.source = counters,
                Err(error) => result = Err(error),
            }
        }
        (summary, result)
    })
}

/// Moves records from every worker's ring to `output` until all workers
/// have stopped and their rings are empty, adding up the workers' totals
/// for the stream every [`TOTALS_INTERVAL`].
fn drain_records(
    consumers: &mut [rtrb::Consumer<FlowRecord>],
    output: &mut impl RecordSink,
    running: &AtomicUsize,
    worker_totals: &[SensorCounters],
    totals: &SensorCounters,
) {
    let mut last_totals = coarsetime::Instant::now();
    let mut idle_sleep = OUTPUT_IDLE_SLEEP_MIN;
    loop {
        let all_stopped = running.load(Ordering::Acquire) == 0;
        let mut moved = 0;
        for consumer in consumers.iter_mut() {
            // Records are encoded where they lie in the ring, without a
            // copy, and their places are handed back a chunk at a time.
            loop {
                let available = consumer.slots().min(DRAIN_CHUNK_RECORDS);
                if available == 0 {
                    break;
                }
                // Only this thread reads the ring, so the records counted
                // above are all still there.
                let Ok(chunk) = consumer.read_chunk(available) else {
                    break;
                };
                let (first, second) = chunk.as_slices();
                for record in first.iter().chain(second) {
                    output.emit(record);
                }
                chunk.commit_all();
                moved += available;
            }
        }
        if all_stopped || last_totals.elapsed() >= TOTALS_INTERVAL {
            let mut sum = CounterTotals::default();
            for worker in worker_totals {
                add_totals(&mut sum, &worker.load());
            }
            totals.store(&sum);
            last_totals = coarsetime::Instant::now();
        }
        if moved == 0 {
            if all_stopped {
                return;
            }
            output.idle();
            std::thread::sleep(idle_sleep);
            idle_sleep = (idle_sleep * 2).min(OUTPUT_IDLE_SLEEP_MAX);
        } else {
            idle_sleep = OUTPUT_IDLE_SLEEP_MIN;
        }
    }
}
