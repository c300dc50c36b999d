//! The writer thread: a bounded queue in, a buffered file or stdout out. Blocking writes
//! happen here only, so a slow disk fills the queue and costs dropped lines, not latency.
//!
//! Requests never wake the thread for a line: it wakes on its own every
//! [`TICK`], or when the queue is a quarter full, drains everything queued and writes it
//! with one flush. Waking it per line (a futex call, a context switch and a `write` for
//! each request) cost more than the rest of the proxying.
//!
//! Lines are written in pieces of about [`WRITE_AT`], always whole lines: a second
//! process appending to the same file (an overlapping restart) or a write that fails
//! half-way then never splits a line. 256 KiB pieces cost the kernel less per line than
//! 64 KiB ones (`scripts/bench-log-writes`: 1 GiB to ext4 here in 0.25–0.28 s of system
//! time against 0.37–0.39 s). Pieces cut at multiples of 256 KiB in the file can cost less
//! still, the page cache taking them as whole large folios, but they split lines.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use super::{Record, Settings, format};
use crate::metrics::Metrics;

/// The longest a line waits in the queue when traffic is light.
const TICK: Duration = Duration::from_millis(50);

/// Lines are formatted into one buffer and written when it reaches this size, or when
/// the queue is drained.
const WRITE_AT: usize = 256 * 1024;

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
    /// Opens the output and starts the thread; lines a failed write loses are counted in
    /// `metrics`.
    pub fn start(settings: Arc<Settings>, metrics: Option<Arc<Metrics>>) -> io::Result<Writer> {
        let out = open(&settings)?;
        let wake_at = (settings.queue / 4).max(1);
        let (tx, rx) = sync_channel(settings.queue);
        let signals = Arc::new(Signals::default());
        let theirs = signals.clone();
        let handle = std::thread::Builder::new()
            .name("weir-accesslog".into())
            .spawn(move || run(&settings, out, &rx, &theirs, metrics.as_deref()))?;
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

fn open(settings: &Settings) -> io::Result<Box<dyn Write + Send>> {
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
            Box::new(f)
        }
        None => Box::new(io::stdout()),
    })
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

fn run(
    settings: &Settings,
    mut out: Box<dyn Write + Send>,
    rx: &Receiver<Box<Record>>,
    signals: &Signals,
    metrics: Option<&Metrics>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(WRITE_AT + 4096);
    let mut formatter = format::Formatter::default();
    let mut output = Output::default();
    loop {
        std::thread::park_timeout(TICK);
        let closing = signals.closing.load(Ordering::Acquire);
        if signals.reopen.swap(false, Ordering::AcqRel) {
            match open(settings) {
                Ok(o) => out = o,
                Err(e) => tracing::error!("access log: cannot reopen: {e}"),
            }
        }
        signals.pending.store(0, Ordering::Relaxed);
        let clock = WallClock::now();
        // Drain what is queued, writing in large pieces of whole lines.
        let closed = loop {
            match rx.try_recv() {
                Ok(record) => {
                    formatter.line(settings, &record, clock.at(record.arrived), &mut buf);
                    if buf.len() >= WRITE_AT {
                        output.write(&mut out, &mut buf, metrics);
                    }
                }
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Disconnected) => break true,
            }
        };
        output.write(&mut out, &mut buf, metrics);
        if closed || closing {
            return;
        }
    }
}

/// Whether the output is failing, so a full disk is reported when it starts failing and
/// when it works again, not at every batch.
#[derive(Default)]
struct Output {
    failing: bool,
}

impl Output {
    /// Writes and empties `buf`. Lines a failed write loses (the rest of the buffer from
    /// where it failed, a line cut in two included) are counted as dropped.
    fn write(
        &mut self,
        out: &mut Box<dyn Write + Send>,
        buf: &mut Vec<u8>,
        metrics: Option<&Metrics>,
    ) {
        if buf.is_empty() {
            return;
        }
        let mut written = 0;
        let mut error = None;
        while written < buf.len() {
            match out.write(&buf[written..]) {
                Ok(0) => {
                    error = Some(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if error.is_none()
            && let Err(e) = out.flush()
        {
            error = Some(e);
        }
        match error {
            Some(e) => {
                let rest = buf.get(written..).unwrap_or_default();
                let lost = rest.iter().filter(|&&b| b == b'\n').count();
                if let Some(m) = metrics {
                    m.log_lines_lost(u64::try_from(lost).unwrap_or(u64::MAX));
                }
                if !self.failing {
                    tracing::error!(
                        "access log: write failed: {e}; lines are lost (counted in accesslog_lines_dropped_total) until a write succeeds"
                    );
                }
                self.failing = true;
            }
            None if self.failing => {
                tracing::warn!("access log: writing again");
                self.failing = false;
            }
            None => {}
        }
        buf.clear();
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
    use crate::access::sample_record;
    use weir_config::static_config::AccessLog as AccessLogConfig;

    fn json_to(file: &std::path::Path) -> Arc<Settings> {
        let c = AccessLogConfig {
            format: "json".into(),
            file_path: file.display().to_string(),
            ..Default::default()
        };
        Arc::new(Settings::from_static(&c).0)
    }

    /// The `RequestCount` of every line of `file`, in file order.
    fn counts(file: &std::path::Path) -> Vec<u64> {
        std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["RequestCount"].as_u64().unwrap()
            })
            .collect()
    }

    #[test]
    fn arrival_instants_map_to_the_wall_clock() {
        let clock = WallClock::now();
        let second = Duration::from_secs(1);
        let earlier = clock.instant.checked_sub(second).unwrap();
        assert_eq!(clock.at(earlier), clock.wall - second);
        assert_eq!(clock.at(clock.instant + second), clock.wall + second);
    }

    /// Four threads log at once: every line arrives whole and once, each thread's in its
    /// order; after `finish`, lines are dropped.
    #[test]
    fn every_threads_lines_arrive_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("access.json");
        let writer = Arc::new(Writer::start(json_to(&file), None).unwrap());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..300 {
                        let mut r = sample_record();
                        r.count = t * 1000 + i;
                        assert!(writer.send(Box::new(r)));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        writer.finish();
        let mut seen: Vec<Vec<u64>> = vec![Vec::new(); 4];
        for count in counts(&file) {
            seen[usize::try_from(count / 1000).unwrap()].push(count % 1000);
        }
        for per_thread in &seen {
            assert_eq!(*per_thread, (0..300).collect::<Vec<u64>>());
        }
        assert!(!writer.send(Box::new(sample_record())));
    }

    /// Two threads take turns: the lines come out in the order they were logged, not
    /// grouped by thread.
    #[test]
    fn lines_keep_the_order_their_requests_ended_in() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("access.json");
        let writer = Arc::new(Writer::start(json_to(&file), None).unwrap());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let turns: Vec<_> = (0..2)
            .map(|_| {
                let (tx, rx) = std::sync::mpsc::channel::<u64>();
                let (writer, done) = (writer.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    for count in rx {
                        let mut r = sample_record();
                        r.count = count;
                        assert!(writer.send(Box::new(r)));
                        done.send(()).unwrap();
                    }
                });
                tx
            })
            .collect();
        for count in 0..6u64 {
            turns[usize::from(count % 2 == 1)].send(count).unwrap();
            done_rx.recv().unwrap();
        }
        writer.finish();
        assert_eq!(counts(&file), [0, 1, 2, 3, 4, 5]);
    }

    /// Accepts `room` bytes, then fails as a full disk does.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A write that fails part-way loses the lines from there on, the one cut in two
    /// included, and they are counted as dropped; a later good write ends the outage.
    #[test]
    fn lines_a_failed_write_loses_are_counted() {
        let metrics = Metrics::new(crate::MetricsConfig::default(), &[]);
        let mut output = Output::default();
        let mut out: Box<dyn Write + Send> = Box::new(Full { room: 7 });
        let mut buf = b"aaaa\nbbbb\ncccc\n".to_vec();
        output.write(&mut out, &mut buf, Some(&metrics));
        assert_eq!(metrics.log_lines_dropped(), 2);
        assert!(buf.is_empty() && output.failing);
        let mut buf = b"dddd\n".to_vec();
        output.write(&mut out, &mut buf, Some(&metrics));
        assert_eq!(metrics.log_lines_dropped(), 3);
        let mut out: Box<dyn Write + Send> = Box::new(Full { room: 100 });
        let mut buf = b"eeee\n".to_vec();
        output.write(&mut out, &mut buf, Some(&metrics));
        assert_eq!(metrics.log_lines_dropped(), 3);
        assert!(!output.failing);
    }
}
