//! Where lines go: the thread that ends a request formats its line (with a formatter of
//! its own) and appends it to one shared buffer; a writer thread takes the buffer and
//! writes it to the file or stdout. Blocking writes happen on that thread only, so a slow
//! disk fills the buffer and costs dropped lines, not latency.
//!
//! Why lines and not records cross threads: handing each request's record to the writer
//! thread to format kept about a thousand records in flight, allocated on the worker and
//! freed on the writer, so every new record landed in memory no cache held. Measured side
//! by side (`scripts/bench-ab accesslog`), that handoff cost more CPU per request than
//! formatting the line did. A line formatted where the request ends uses warm memory, and
//! the shared buffer's lock is held only to copy it in, so lines stay in the order their
//! requests ended, as Traefik writes them.
//!
//! Requests never wake the thread for a line: it wakes on its own every [`TICK`], or when
//! the buffer holds a quarter of its line limit or [`WAKE_AT`] bytes, swaps the buffer for
//! an empty one and writes what it took. The buffer holds whole lines, so a second process
//! appending to the same file (an overlapping restart) or a write that fails half-way
//! never splits one.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use super::{Record, Settings, format};

/// The longest a line waits in the buffer when traffic is light.
const TICK: Duration = Duration::from_millis(50);

/// A buffer this large wakes the writer before its tick: 256 KiB writes cost the kernel
/// less per line than 64 KiB ones (`scripts/bench-log-writes`: 1 GiB to ext4 here in
/// 0.25–0.28 s of system time against 0.37–0.39 s).
const WAKE_AT: usize = 256 * 1024;

/// How long a thread converts arrival instants to wall-clock time with one pair of clock
/// readings before it reads both clocks again.
const CLOCK_RENEW: Duration = Duration::from_secs(1);

/// Tells writers apart in the threads' formatters.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Handle to the writer thread; the thread ends at [`Writer::finish`] or when the handle
/// is dropped.
pub struct Writer {
    shared: Arc<Shared>,
    thread: Thread,
    handle: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the logging threads and the writer thread share.
struct Shared {
    id: u64,
    settings: Arc<Settings>,
    /// Lines the buffer holds before new ones are dropped (`bufferingSize`).
    limit: usize,
    /// Lines in the buffer that wake the writer before its tick.
    wake_lines: usize,
    batch: Mutex<Batch>,
    /// Reopen the file before the next write (SIGUSR1).
    reopen: AtomicBool,
    /// Set by [`Writer::finish`]: write what is buffered, then end; later lines are
    /// dropped.
    closing: AtomicBool,
}

/// Lines not yet written.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    lines: usize,
    /// The writer was woken for what the buffer holds.
    woke: bool,
}

/// What a thread formats lines for one writer with.
struct Local {
    writer: Arc<Shared>,
    formatter: format::Formatter,
    /// Arrival instants to wall-clock time, renewed every [`CLOCK_RENEW`].
    clock: WallClock,
    line: Vec<u8>,
}

impl Local {
    fn new(writer: Arc<Shared>) -> Local {
        Local {
            writer,
            formatter: format::Formatter::default(),
            clock: WallClock::now(),
            line: Vec::new(),
        }
    }

    /// Formats `record` into `self.line`.
    fn format(&mut self, record: &Record) -> &[u8] {
        if record
            .arrived
            .checked_duration_since(self.clock.instant)
            .is_some_and(|d| d > CLOCK_RENEW)
        {
            self.clock = WallClock::now();
        }
        self.line.clear();
        let start = self.clock.at(record.arrived);
        self.formatter
            .line(&self.writer.settings, record, start, &mut self.line);
        &self.line
    }
}

thread_local! {
    /// The current thread's formatters, one per writer it has logged to.
    static LOCAL: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

impl Writer {
    /// Opens the output and starts the thread.
    pub fn start(settings: Arc<Settings>) -> io::Result<Writer> {
        let out = open(&settings)?;
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            limit: settings.buffered_lines.max(1),
            wake_lines: (settings.buffered_lines / 4).max(1),
            settings,
            batch: Mutex::new(Batch::default()),
            reopen: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        });
        let theirs = shared.clone();
        let handle = std::thread::Builder::new()
            .name("weir-accesslog".into())
            .spawn(move || run(&theirs, out))?;
        Ok(Writer {
            shared,
            thread: handle.thread().clone(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Writes every buffered line and stops the thread (at shutdown: lines wait up to a
    /// tick in the buffer). Later lines are dropped.
    pub fn finish(&self) {
        self.shared.closing.store(true, Ordering::Release);
        self.thread.unpark();
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// Formats `record` and appends it to the buffer; false when the line is dropped (the
    /// buffer is full because the output is behind, or the writer has finished).
    pub(crate) fn log(&self, record: &Record) -> bool {
        if self.shared.closing.load(Ordering::Relaxed) {
            return false;
        }
        let id = self.shared.id;
        let appended = LOCAL.try_with(|locals| {
            let mut locals = locals.try_borrow_mut().ok()?;
            let at = match locals.iter().position(|l| l.writer.id == id) {
                Some(at) => at,
                None => {
                    // Forget the formatters of writers that have finished.
                    locals.retain(|l| !l.writer.closing.load(Ordering::Relaxed));
                    locals.push(Local::new(self.shared.clone()));
                    locals.len() - 1
                }
            };
            Some(self.append(locals[at].format(record)))
        });
        match appended {
            Ok(Some(appended)) => appended,
            // The thread is ending (its formatters are gone): one for this line only.
            _ => self.append(Local::new(self.shared.clone()).format(record)),
        }
    }

    /// Appends one formatted line unless the buffer is full; wakes the writer when the
    /// buffer has become worth a write.
    fn append(&self, line: &[u8]) -> bool {
        let mut batch = self
            .shared
            .batch
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if batch.lines >= self.shared.limit {
            return false;
        }
        batch.buf.extend_from_slice(line);
        batch.lines += 1;
        let wake =
            !batch.woke && (batch.lines >= self.shared.wake_lines || batch.buf.len() >= WAKE_AT);
        batch.woke |= wake;
        drop(batch);
        if wake {
            self.thread.unpark();
        }
        true
    }

    /// Asks the thread to reopen the file before its next write.
    pub fn reopen(&self) {
        self.shared.reopen.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.finish();
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

fn run(shared: &Shared, mut out: Box<dyn Write + Send>) {
    let mut taken: Vec<u8> = Vec::with_capacity(WAKE_AT + 4096);
    loop {
        std::thread::park_timeout(TICK);
        let closing = shared.closing.load(Ordering::Acquire);
        if shared.reopen.swap(false, Ordering::AcqRel) {
            match open(&shared.settings) {
                Ok(o) => out = o,
                Err(e) => tracing::error!("access log: cannot reopen: {e}"),
            }
        }
        {
            let mut batch = shared.batch.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::swap(&mut batch.buf, &mut taken);
            batch.lines = 0;
            batch.woke = false;
        }
        write(&mut out, &mut taken);
        if closing {
            return;
        }
    }
}

/// Writes and empties `buf` (a failed write loses those lines, reported once per batch).
fn write(out: &mut Box<dyn Write + Send>, buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    if let Err(e) = out.write_all(buf).and_then(|()| out.flush()) {
        tracing::warn!("access log: write failed: {e}");
    }
    buf.clear();
}

/// The wall clock at a monotonic instant: a request's arrival time is converted with a
/// pair of readings instead of read from the wall clock for each line.
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

    fn settings(file: &std::path::Path, buffering: i64) -> Arc<Settings> {
        let c = AccessLogConfig {
            format: "json".into(),
            file_path: file.display().to_string(),
            buffering_size: buffering,
            ..Default::default()
        };
        Arc::new(Settings::from_static(&c).0)
    }

    #[test]
    fn arrival_instants_map_to_the_wall_clock() {
        let clock = WallClock::now();
        let second = Duration::from_secs(1);
        let earlier = clock.instant.checked_sub(second).unwrap();
        assert_eq!(clock.at(earlier), clock.wall - second);
        assert_eq!(clock.at(clock.instant + second), clock.wall + second);
    }

    /// Four threads log at once; every line arrives whole and once, each thread's in its
    /// order; after `finish`, lines are dropped.
    #[test]
    fn every_threads_lines_arrive_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("access.json");
        let writer = Arc::new(Writer::start(settings(&file, 0)).unwrap());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    let mut r = sample_record();
                    for i in 0..300 {
                        r.count = t * 1000 + i;
                        assert!(writer.log(&r));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        writer.finish();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut seen: Vec<Vec<u64>> = vec![Vec::new(); 4];
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let count = v["RequestCount"].as_u64().unwrap();
            seen[usize::try_from(count / 1000).unwrap()].push(count % 1000);
        }
        for counts in &seen {
            assert_eq!(*counts, (0..300).collect::<Vec<u64>>());
        }
        assert!(!writer.log(&sample_record()));
    }

    /// Two threads take turns: the lines come out in the order they were logged, not
    /// grouped by thread.
    #[test]
    fn lines_keep_the_order_their_requests_ended_in() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("access.json");
        let writer = Arc::new(Writer::start(settings(&file, 0)).unwrap());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let turns: Vec<_> = (0..2)
            .map(|_| {
                let (tx, rx) = std::sync::mpsc::channel::<u64>();
                let (writer, done) = (writer.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    let mut r = sample_record();
                    for count in rx {
                        r.count = count;
                        assert!(writer.log(&r));
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
        let counts: Vec<u64> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["RequestCount"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(counts, [0, 1, 2, 3, 4, 5]);
    }

    /// A buffer the writer has not emptied takes `bufferingSize` lines, then drops.
    #[test]
    fn a_full_buffer_drops_lines() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(settings(&dir.path().join("a.log"), 3)).unwrap();
        // With the writer thread stopped, nothing empties the buffer.
        writer.finish();
        let kept: Vec<bool> = (0..5).map(|_| writer.append(b"{}\n")).collect();
        assert_eq!(kept, [true, true, true, false, false]);
        assert_eq!(writer.shared.batch.lock().unwrap().buf, b"{}\n{}\n{}\n");
    }
}
