//! Where lines go: each thread that logs formats its lines into a buffer of its own (a
//! [`Slot`]), and one writer thread takes the filled buffers and writes them to the file
//! or stdout. Blocking writes happen on that thread only, so a slow disk fills the buffers
//! and costs dropped lines, not latency.
//!
//! Why a buffer per thread and no queue of records: handing each request's record to the
//! writer thread kept about a thousand records in flight, allocated on the worker and
//! freed on the writer, so every new record landed in memory no cache held. Measured side
//! by side (`scripts/bench-ab accesslog`), that handoff cost more CPU per request than
//! formatting the line did. A line formatted where the request ends reuses warm memory,
//! and the worker's buffer lock is never contended but for the writer's swap.
//!
//! Requests never wake the thread for a line: it wakes on its own every [`TICK`], or when
//! a buffer holds a quarter of its line limit or [`WAKE_AT`] bytes, swaps every buffer for
//! an empty one and writes what it took. Buffers hold whole lines, so a second process
//! appending to the same file (an overlapping restart) or a write that fails half-way
//! never splits one. Lines of different threads keep their order within a thread; across
//! threads they interleave by buffer, as nginx's per-worker `buffer=` does.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime};

use super::{Record, Settings, format};

/// The longest a line waits in its buffer when traffic is light.
const TICK: Duration = Duration::from_millis(50);

/// A buffer this large wakes the writer before its tick: 256 KiB writes cost the kernel
/// less per line than 64 KiB ones (`scripts/bench-log-writes`: 1 GiB to ext4 here in
/// 0.25–0.28 s of system time against 0.37–0.39 s).
const WAKE_AT: usize = 256 * 1024;

/// Tells writers apart in the threads' lists of slots.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Handle to the writer thread; the thread ends at [`Writer::finish`] or when every
/// handle is dropped.
pub struct Writer {
    shared: Arc<Shared>,
    thread: Thread,
    handle: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the logging threads and the writer thread share.
struct Shared {
    id: u64,
    settings: Arc<Settings>,
    /// Lines a slot holds before new ones are dropped (`bufferingSize`).
    limit: usize,
    /// Lines in a slot that wake the writer before its tick.
    wake_lines: usize,
    /// Every thread's slot, registered on its first line.
    slots: Mutex<Vec<Arc<Slot>>>,
    /// Reopen the file before the next write (SIGUSR1).
    reopen: AtomicBool,
    /// Set by [`Writer::finish`]: write what is buffered, then end; later lines are
    /// dropped.
    closing: AtomicBool,
}

/// One thread's lines not yet written, and what it formats them with.
struct Slot {
    state: Mutex<SlotState>,
    /// Its thread has ended: the writer drains it once more and forgets it.
    retired: AtomicBool,
}

struct SlotState {
    buf: Vec<u8>,
    lines: usize,
    /// The writer was woken for what the buffer holds.
    woke: bool,
    formatter: format::Formatter,
    /// Arrival instants to wall-clock time, renewed at each swap.
    clock: WallClock,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            state: Mutex::new(SlotState {
                buf: Vec::new(),
                lines: 0,
                woke: false,
                formatter: format::Formatter::default(),
                clock: WallClock::now(),
            }),
            retired: AtomicBool::new(false),
        }
    }
}

/// The slots of the current thread, one per writer it has logged to; marked retired when
/// the thread ends.
struct Local(Vec<(u64, Arc<Slot>)>);

impl Drop for Local {
    fn drop(&mut self) {
        for (_, slot) in &self.0 {
            slot.retired.store(true, Ordering::Release);
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const { RefCell::new(Local(Vec::new())) };
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
            slots: Mutex::new(Vec::new()),
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
    /// tick in their buffers). Later lines are dropped.
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

    /// Formats `record` into this thread's buffer; false when the line is dropped (the
    /// buffer is full because the output is behind, or the writer has finished).
    pub(crate) fn log(&self, record: &Record) -> bool {
        if self.shared.closing.load(Ordering::Relaxed) {
            return false;
        }
        let id = self.shared.id;
        let logged = LOCAL.try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            let at = match local.0.iter().position(|(i, _)| *i == id) {
                Some(at) => at,
                None => {
                    // Forget the slots of writers that have finished.
                    local.0.retain(|(_, s)| !s.retired.load(Ordering::Relaxed));
                    let slot = Arc::new(Slot::new());
                    self.register(&slot);
                    local.0.push((id, slot));
                    local.0.len() - 1
                }
            };
            Some(self.format_into(&local.0[at].1, record))
        });
        match logged {
            Ok(Some(kept)) => kept,
            _ => {
                // The thread is ending (its list is gone): a slot for this line only,
                // retired once the line is in, so the writer drains it once and forgets it.
                let slot = Arc::new(Slot::new());
                self.register(&slot);
                let kept = self.format_into(&slot, record);
                slot.retired.store(true, Ordering::Release);
                kept
            }
        }
    }

    /// Formats `record` into `slot`'s buffer unless it is full; wakes the writer when the
    /// buffer has become worth a write.
    fn format_into(&self, slot: &Slot, record: &Record) -> bool {
        let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.lines >= self.shared.limit {
            return false;
        }
        let SlotState {
            buf,
            lines,
            woke,
            formatter,
            clock,
        } = &mut *state;
        formatter.line(&self.shared.settings, record, clock.at(record.arrived), buf);
        *lines += 1;
        let wake = !*woke && (*lines >= self.shared.wake_lines || buf.len() >= WAKE_AT);
        *woke |= wake;
        drop(state);
        if wake {
            self.thread.unpark();
        }
        true
    }

    fn register(&self, slot: &Arc<Slot>) {
        self.shared
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(slot.clone());
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
        let slots = shared
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for slot in &slots {
            // Read before the swap: a slot retired by then has had its last line.
            let retired = slot.retired.load(Ordering::Acquire);
            {
                let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
                std::mem::swap(&mut state.buf, &mut taken);
                state.lines = 0;
                state.woke = false;
                state.clock = WallClock::now();
            }
            write(&mut out, &mut taken);
            if retired {
                shared
                    .slots
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|s| !Arc::ptr_eq(s, slot));
            }
        }
        if closing {
            // The threads' lists forget slots marked retired.
            for slot in &slots {
                slot.retired.store(true, Ordering::Release);
            }
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

/// The wall clock at a monotonic instant, read once per batch: a request's arrival time
/// is converted instead of read from the wall clock for each line.
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

    /// Four threads log through their own buffers; every line arrives whole, each
    /// thread's in its order, and the slots of threads that ended are forgotten.
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
        assert!(writer.shared.slots.lock().unwrap().is_empty());
        // Finished: later lines are dropped.
        assert!(!writer.log(&sample_record()));
    }

    /// A buffer the writer has not emptied takes `bufferingSize` lines, then drops.
    #[test]
    fn a_full_buffer_drops_lines() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::start(settings(&dir.path().join("a.log"), 3)).unwrap();
        // Not registered: the writer thread never empties it.
        let slot = Slot::new();
        let kept: Vec<bool> = (0..5)
            .map(|_| writer.format_into(&slot, &sample_record()))
            .collect();
        assert_eq!(kept, [true, true, true, false, false]);
        let state = slot.state.lock().unwrap();
        assert_eq!(state.buf.iter().filter(|&&b| b == b'\n').count(), 3);
    }
}
