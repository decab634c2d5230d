//! The workloads, modelled on mimalloc-bench's larson and xmalloc-test plus a no-sharing baseline.
//!
//! Each run does a fixed amount of work: `ops_per_thread` allocations in every thread (and as many
//! frees). Timing starts when the first thread leaves a barrier that all passed once set up, and
//! stops when the last one has finished (its final frees included); each thread reads the clock itself.

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::Config;
use crate::rng::Rng;

/// Live objects each thread keeps (larson's "chunks per thread", mimalloc-bench uses 1000).
const WINDOW: usize = 1000;
/// Allocations between two hand-overs of a larson window to the next thread.
const EPOCH_OPS: u64 = 10_000;
/// Objects per producer batch in xmalloc.
const BATCH: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Larson,
    Xmalloc,
    Baseline,
}

impl Workload {
    pub const ALL: [Workload; 3] = [Workload::Larson, Workload::Xmalloc, Workload::Baseline];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Larson => "larson",
            Workload::Xmalloc => "xmalloc",
            Workload::Baseline => "baseline",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub elapsed: Duration,
    /// Allocations performed by all threads together.
    pub ops: u64,
    /// Sum over freed objects of their tag byte and capacity: keeps the work observable and
    /// lets tests check that equal seeds do equal work.
    pub checksum: u64,
}

/// One allocation of a random size, touched so the allocator's memory is really used.
fn new_object(rng: &mut Rng) -> Vec<u8> {
    let size = rng.object_size();
    let mut object = Vec::with_capacity(size);
    object.push((rng.next_u64() & 0xff) as u8);
    object
}

fn release(object: Vec<u8>) -> u64 {
    let value = object[0] as u64 + object.capacity() as u64;
    drop(object);
    value
}

type Window = Vec<Option<Vec<u8>>>;

fn churn(window: &mut Window, rng: &mut Rng, ops: u64) -> u64 {
    let mut checksum = 0;
    for _ in 0..ops {
        let slot = rng.below(window.len() as u64) as usize;
        if let Some(old) = window[slot].take() {
            checksum += release(old);
        }
        window[slot] = Some(new_object(rng));
    }
    checksum
}

fn drain(window: Window) -> u64 {
    window.into_iter().flatten().map(release).sum()
}

fn window_size(ops_per_thread: u64) -> usize {
    (ops_per_thread as usize).clamp(1, WINDOW)
}

/// Run `body(thread_index, rng)` on `threads` threads, timing from a common start to the last end.
fn timed<F>(config: &Config, body: F) -> (Duration, u64)
where
    F: Fn(usize, Rng) -> u64 + Send + Sync + 'static,
{
    let body = Arc::new(body);
    let barrier = Arc::new(Barrier::new(config.threads + 1));
    let handles: Vec<_> = (0..config.threads)
        .map(|index| {
            let body = Arc::clone(&body);
            let barrier = Arc::clone(&barrier);
            let rng = Rng::new(config.seed, index as u64);
            thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let checksum = body(index, rng);
                (start, Instant::now(), checksum)
            })
        })
        .collect();
    barrier.wait();
    // Each worker times itself: a clock read here, after the barrier, could come late (this thread
    // descheduled on a busy machine) while the workers already run, and so undercount the time.
    let runs: Vec<(Instant, Instant, u64)> =
        handles.into_iter().map(|h| h.join().expect("worker thread panicked")).collect();
    let start = runs.iter().map(|r| r.0).min().expect("at least one thread");
    let end = runs.iter().map(|r| r.1).max().expect("at least one thread");
    (end.duration_since(start), runs.iter().map(|r| r.2).sum())
}

type Link<T> = Option<(mpsc::SyncSender<T>, mpsc::Receiver<T>)>;

/// Channels joining the threads in a ring: thread i sends to thread (i + 1) % n. Every thread
/// sends once, then receives once, so bounded channels (bound >= 1) cannot deadlock.
fn ring<T: Send>(threads: usize, bound: usize) -> Arc<std::sync::Mutex<Vec<Link<T>>>> {
    let (mut senders, receivers): (Vec<_>, Vec<_>) = (0..threads).map(|_| mpsc::sync_channel(bound)).unzip();
    senders.rotate_left(1);
    Arc::new(std::sync::Mutex::new(senders.into_iter().zip(receivers).map(Some).collect()))
}

fn take_link<T>(links: &std::sync::Mutex<Vec<Link<T>>>, index: usize) -> (mpsc::SyncSender<T>, mpsc::Receiver<T>) {
    links.lock().expect("links lock")[index].take().expect("each thread takes its link once")
}

fn larson(config: &Config) -> (Duration, u64) {
    let ops = config.ops_per_thread;
    let links = ring::<Window>(config.threads, 2);
    timed(config, move |index, mut rng| {
        let (to_next, from_prev) = take_link(&links, index);
        let mut window: Window = (0..window_size(ops)).map(|_| Some(new_object(&mut rng))).collect();
        let mut checksum = 0;
        let mut done = 0;
        while done < ops {
            let epoch = EPOCH_OPS.min(ops - done);
            checksum += churn(&mut window, &mut rng, epoch);
            done += epoch;
            // Hand the live objects to the next thread, which frees them in its next epoch.
            to_next.send(window).expect("next thread alive");
            window = from_prev.recv().expect("previous thread alive");
        }
        checksum + drain(window)
    })
}

fn xmalloc(config: &Config) -> (Duration, u64) {
    let ops = config.ops_per_thread;
    let links = ring::<Vec<Vec<u8>>>(config.threads, 4);
    timed(config, move |index, mut rng| {
        let (to_next, from_prev) = take_link(&links, index);
        let mut checksum = 0;
        let mut done = 0;
        while done < ops {
            let batch = BATCH.min(ops - done);
            let produced: Vec<Vec<u8>> = (0..batch).map(|_| new_object(&mut rng)).collect();
            done += batch;
            to_next.send(produced).expect("consumer alive");
            let consumed = from_prev.recv().expect("producer alive");
            checksum += consumed.into_iter().map(release).sum::<u64>();
        }
        checksum
    })
}

fn baseline(config: &Config) -> (Duration, u64) {
    let ops = config.ops_per_thread;
    timed(config, move |_, mut rng| {
        let mut window: Window = (0..window_size(ops)).map(|_| Some(new_object(&mut rng))).collect();
        churn(&mut window, &mut rng, ops) + drain(window)
    })
}

/// Run the configured workload once.
pub fn run(config: &Config) -> Outcome {
    let (elapsed, checksum) = match config.workload {
        Workload::Larson => larson(config),
        Workload::Xmalloc => xmalloc(config),
        Workload::Baseline => baseline(config),
    };
    Outcome { elapsed, ops: config.ops_per_thread * config.threads as u64, checksum }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(workload: Workload, threads: usize, ops: u64) -> Config {
        Config { workload, threads, ops_per_thread: ops, seed: 9 }
    }

    #[test]
    fn every_workload_runs_and_counts_its_ops() {
        for workload in Workload::ALL {
            for threads in [1, 3] {
                let outcome = run(&config(workload, threads, 2_345));
                assert_eq!(outcome.ops, 2_345 * threads as u64, "{workload:?} x{threads}");
                assert!(outcome.checksum > 0);
            }
        }
    }

    #[test]
    fn equal_seeds_do_equal_work() {
        for workload in Workload::ALL {
            let a = run(&config(workload, 2, 25_000));
            let b = run(&config(workload, 2, 25_000));
            assert_eq!(a.checksum, b.checksum, "{workload:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for workload in Workload::ALL {
            assert_eq!(Workload::parse(workload.name()), Some(workload));
        }
        assert_eq!(Workload::parse("LARSON"), None);
    }
}
