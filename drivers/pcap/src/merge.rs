//! Several capture files read as one input in timestamp order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;

use memmap2::Mmap;
use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceCounters, SourceError};

use crate::mapped::{log_input_end, map_file, FileCursor};
use crate::records::{count_packet, PacketRecord};

/// Memory-mapped capture files merged by timestamp.
///
/// Packets come in timestamp order: each delivered packet is the earliest of
/// the next packets of all files. Of packets with equal timestamps, the one
/// from the file given first comes first. Within one file the file's order is kept, even where
/// its timestamps go backwards, so such a file makes the output unsorted
/// there too.
///
/// The first damaged file ends the merge: the packets delivered before its
/// damage are kept, `next_batch` returns the error, and after that
/// [`BatchStatus::End`].
pub struct MergeSource {
    name: String,
    maps: Vec<Mmap>,
    inputs: Vec<MergeInput>,
    /// Timestamp and input index of the next packet of every input that has one.
    queue: BinaryHeap<Reverse<(u64, usize)>>,
    pending_error: Option<SourceError>,
    finished: bool,
}

/// One file of a merge.
struct MergeInput {
    name: String,
    cursor: FileCursor,
    /// The file's next packet and its offset, parsed ahead to compare timestamps.
    head: Option<(usize, PacketRecord)>,
    counters: SourceCounters,
}

impl MergeSource {
    /// Maps every file in `paths`, reads their file headers and the first
    /// packet of each.
    pub fn open(paths: &[PathBuf]) -> Result<MergeSource, SourceError> {
        let names: Vec<String> = paths
            .iter()
            .map(|path| path.to_string_lossy().into_owned())
            .collect();
        let mut source = MergeSource {
            name: names.join(", "),
            maps: Vec::with_capacity(paths.len()),
            inputs: Vec::with_capacity(paths.len()),
            queue: BinaryHeap::with_capacity(paths.len()),
            pending_error: None,
            finished: false,
        };

        for (path, name) in paths.iter().zip(names) {
            let (map, cursor) = map_file(path, &name)?;
            source.maps.push(map);
            source.inputs.push(MergeInput {
                name,
                cursor,
                head: None,
                counters: SourceCounters::default(),
            });
        }
        tracing::info!(inputs = paths.len(), "merging capture files by timestamp");

        // An error in a first packet is returned by the first `next_batch`.
        for index in 0..source.inputs.len() {
            if let Err(error) = source.advance(index) {
                source.pending_error = Some(error);
                break;
            }
        }
        Ok(source)
    }

    /// Parses the next packet of input `index` and queues it.
    fn advance(&mut self, index: usize) -> Result<(), SourceError> {
        advance_input(
            &mut self.inputs[index],
            &self.maps[index],
            index,
            &mut self.queue,
        )
    }
}

/// Parses the next packet of `input` into its head and queues it. Logs the
/// end of the input when it has no more packets.
fn advance_input(
    input: &mut MergeInput,
    file_bytes: &[u8],
    index: usize,
    queue: &mut BinaryHeap<Reverse<(u64, usize)>>,
) -> Result<(), SourceError> {
    match input.cursor.next_packet(&input.name, file_bytes)? {
        Some(head) => {
            queue.push(Reverse((head.1.timestamp_ns, index)));
            input.head = Some(head);
        }
        None => log_input_end(&input.name, &input.counters, input.cursor.offset() as u64),
    }
    Ok(())
}

impl PacketSource for MergeSource {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        if let Some(error) = self.pending_error.take() {
            self.finished = true;
            return Err(error);
        }
        if self.finished {
            return Ok(BatchStatus::End);
        }

        let maps = &self.maps;
        let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let mut count = 0;
        while count < MAX_BATCH_PACKETS {
            let Some(Reverse((_, index))) = self.queue.pop() else {
                self.finished = true;
                break;
            };
            let input = &mut self.inputs[index];
            // Every queued input has a head, so this never skips a packet.
            let Some((start, record)) = input.head.take() else {
                continue;
            };
            let packet = record.view(&maps[index][start..]);
            count_packet(&mut input.counters, &packet);
            batch[count] = packet;
            count += 1;

            if let Err(error) = advance_input(input, &maps[index], index, &mut self.queue) {
                self.finished = true;
                self.pending_error = Some(error);
                break;
            }
        }

        if count > 0 {
            process(&batch[..count]);
            return Ok(BatchStatus::Packets(count));
        }
        match self.pending_error.take() {
            Some(error) => Err(error),
            None => Ok(BatchStatus::End),
        }
    }

    fn counters(&self) -> SourceCounters {
        let mut total = SourceCounters::default();
        for input in &self.inputs {
            total.add(&input.counters);
        }
        total
    }

    /// Returns the paths as given, joined by ", ".
    fn name(&self) -> &str {
        &self.name
    }
}
