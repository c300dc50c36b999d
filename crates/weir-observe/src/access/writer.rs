//! The writer thread: a bounded queue in, a buffered file or stdout out. Blocking writes
//! happen here only, so a slow disk fills the queue and costs dropped lines, not latency.
//!
//! Requests never wake the thread for a line: it wakes on its own every
//! [`TICK`], or when the queue is a quarter full, drains everything queued and writes it
//! with one flush. Waking it per line (a futex call, a context switch and a `write` for
//! each request) cost more than the rest of the proxying.
//!
//! Under load the file is written in whole [`CHUNK`]s that start and end on a multiple of
//! the chunk size in the file: the page cache then takes each write as whole large pages,
//! and the kernel's part of writing a line costs about half of what 64 KiB writes at
//! arbitrary offsets cost (`dd` of 1 GiB to ext4 here: 0.21 s of system time aligned,
//! 0.38 s in unaligned 64 KiB writes). Lines that do not fill a chunk wait for the next
//! wake-up, which writes everything when little came in (at most two ticks).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use super::{Record, Settings, format};

/// The longest a line waits in the queue when traffic is light.
const TICK: Duration = Duration::from_millis(50);

/// Lines are formatted into one buffer and written in pieces of this size (aligned to it
/// in the file), or whole when little traffic came in.
const CHUNK: usize = 256 * 1024;

/// Handle to the writer thread; the thread ends when every handle is dropped.
pub struct Writer {
    tx: SyncSender<Box<Record>>,
    signals: Arc<Signals>,
    /// Queued lines that make a request wake the thread before its tick.
    wake_at: usize,
    thread: Thread,
    handle: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Opens the output and starts the thread.
    pub fn start(settings: Arc<Settings>) -> io::Result<Writer> {
        let out = open(&settings)?;
        let wake_at = (settings.queue / 4).max(1);
        let (tx, rx) = sync_channel(settings.queue);
        let signals = Arc::new(Signals::default());
        let theirs = signals.clone();
        let handle = std::thread::Builder::new()
            .name("weir-accesslog".into())
            .spawn(move || run(&settings, out, &rx, &theirs))?;
        Ok(Writer {
            tx,
            signals,
            wake_at,
            thread: handle.thread().clone(),
            handle: std::sync::Mutex::new(Some(handle)),
        })
    }

    /// Writes every queued line and stops the thread (at shutdown: lines wait up to a tick
    /// in the queue). Later lines are dropped.
    pub fn finish(&self) {
        self.signals.closing.store(true, Ordering::Release);
        self.thread.unpark();
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// Queues a line; false when the queue is full (the line is dropped).
    pub(crate) fn send(&self, record: Box<Record>) -> bool {
        match self.tx.try_send(record) {
            Ok(()) => {
                if self.signals.pending.fetch_add(1, Ordering::Relaxed) + 1 == self.wake_at {
                    self.thread.unpark();
                }
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// Asks the thread to reopen the file before its next write.
    pub fn reopen(&self) {
        self.signals.reopen.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

fn open(settings: &Settings) -> io::Result<Output> {
    Ok(match &settings.file {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            // rw-rw-r-- before the umask, as Traefik creates it.
            let f: File = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o664)
                .open(path)?;
            let offset = f.metadata().map_or(0, |m| m.len());
            Output {
                out: Box::new(f),
                offset,
            }
        }
        None => Output {
            out: Box::new(io::stdout()),
            offset: 0,
        },
    })
}

/// Where lines go, and how far into it the writes have come (the file's size when it was
/// opened plus what was written since: another writer appending to the same file only
/// makes the chunks unaligned, not wrong).
struct Output {
    out: Box<dyn Write + Send>,
    offset: u64,
}

impl Output {
    /// Writes and removes from `buf` the longest prefix that ends on a chunk boundary in
    /// the output (none when `buf` does not reach one).
    fn write_chunks(&mut self, buf: &mut Vec<u8>) {
        let len = aligned_len(self.offset, buf.len());
        if len > 0 {
            self.write(&buf[..len]);
            buf.copy_within(len.., 0);
            buf.truncate(buf.len() - len);
        }
    }

    /// Writes and empties `buf`.
    fn write_all(&mut self, buf: &mut Vec<u8>) {
        if !buf.is_empty() {
            self.write(buf);
            buf.clear();
        }
    }

    /// A failed write loses those lines; reported once per write.
    fn write(&mut self, bytes: &[u8]) {
        match self.out.write_all(bytes).and_then(|()| self.out.flush()) {
            Ok(()) => self.offset += bytes.len() as u64,
            Err(e) => tracing::warn!("access log: write failed: {e}"),
        }
    }
}

/// The longest length up to `len` that, written at `offset`, ends on a multiple of
/// [`CHUNK`].
fn aligned_len(offset: u64, len: usize) -> usize {
    let chunk = CHUNK as u64;
    let end = (offset + len as u64) / chunk * chunk;
    usize::try_from(end.saturating_sub(offset)).unwrap_or(0)
}

/// What the requests and the control calls tell the thread.
#[derive(Default)]
struct Signals {
    /// Reopen the file before the next write (SIGUSR1).
    reopen: AtomicBool,
    /// Lines queued since the thread last drained.
    pending: AtomicUsize,
    /// Set by [`Writer::finish`]: write what is queued, then end.
    closing: AtomicBool,
}

fn run(settings: &Settings, mut out: Output, rx: &Receiver<Box<Record>>, signals: &Signals) {
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK + 4096);
    let mut formatter = format::Formatter::default();
    loop {
        std::thread::park_timeout(TICK);
        let closing = signals.closing.load(Ordering::Acquire);
        if signals.reopen.swap(false, Ordering::AcqRel) {
            // What is buffered belongs to the old file (logrotate renamed it).
            out.write_all(&mut buf);
            match open(settings) {
                Ok(o) => out = o,
                Err(e) => tracing::error!("access log: cannot reopen: {e}"),
            }
        }
        signals.pending.store(0, Ordering::Relaxed);
        let clock = WallClock::now();
        // Bytes formatted in this round.
        let mut added = 0;
        // Drain what is queued, writing in whole chunks.
        let closed = loop {
            match rx.try_recv() {
                Ok(mut record) => {
                    record.start = clock.at(record.arrived);
                    let at = buf.len();
                    formatter.line(settings, &record, &mut buf);
                    added += buf.len() - at;
                    if buf.len() >= CHUNK {
                        out.write_chunks(&mut buf);
                    }
                }
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Disconnected) => break true,
            }
        };
        if closed || closing || added < CHUNK {
            // Little came in: nothing waits for a chunk to fill.
            out.write_all(&mut buf);
        } else {
            out.write_chunks(&mut buf);
        }
        if closed || closing {
            return;
        }
    }
}

/// The wall clock at a monotonic instant, read once per batch: a request's arrival time
/// is converted instead of read from the wall clock on the request's path.
struct WallClock {
    instant: Instant,
    wall: SystemTime,
}

impl WallClock {
    fn now() -> WallClock {
        WallClock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// The wall-clock time of `t`.
    fn at(&self, t: Instant) -> SystemTime {
        match self.instant.checked_duration_since(t) {
            Some(before) => self.wall.checked_sub(before).unwrap_or(self.wall),
            None => self.wall + t.duration_since(self.instant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_on_multiples_of_the_chunk_size() {
        assert_eq!(aligned_len(0, CHUNK - 1), 0);
        assert_eq!(aligned_len(0, CHUNK + 5), CHUNK);
        assert_eq!(aligned_len(100, CHUNK), CHUNK - 100);
        assert_eq!(aligned_len(100, 2 * CHUNK + 50), 2 * CHUNK - 100);
        assert_eq!(aligned_len(CHUNK as u64 * 3, 10), 0);
    }

    /// Records every write's bytes.
    #[derive(Clone, Default)]
    struct Recorder(Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(bytes.to_vec());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_keep_the_bytes_in_order_and_align_after_the_first() {
        let recorder = Recorder::default();
        // A file that already holds 100 bytes.
        let mut out = Output {
            out: Box::new(recorder.clone()),
            offset: 100,
        };
        let bytes: Vec<u8> = (0..3 * CHUNK + 7).map(|i| (i % 251) as u8).collect();
        let mut buf = bytes.clone();
        out.write_chunks(&mut buf);
        assert_eq!(buf.len(), 107, "the tail past the last boundary waits");
        out.write_all(&mut buf);
        assert!(buf.is_empty());
        let writes = recorder.0.lock().unwrap().clone();
        assert_eq!(writes[0].len(), 3 * CHUNK - 100);
        assert_eq!(writes.concat(), bytes);
        assert_eq!(out.offset, 100 + bytes.len() as u64);
    }

    #[test]
    fn arrival_instants_map_to_the_wall_clock() {
        let clock = WallClock::now();
        let second = Duration::from_secs(1);
        let earlier = clock.instant.checked_sub(second).unwrap();
        assert_eq!(clock.at(earlier), clock.wall - second);
        assert_eq!(clock.at(clock.instant + second), clock.wall + second);
    }
}
