//! The writer thread: a bounded queue in, a buffered file or stdout out. Blocking writes
//! happen here only, so a slow disk fills the queue and costs dropped lines, not latency.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use super::{Record, Settings, format};

enum Msg {
    Line(Box<Record>),
    Wake,
}

/// Handle to the writer thread; the thread ends when every handle is dropped.
pub struct Writer {
    tx: SyncSender<Msg>,
    reopen: Arc<AtomicBool>,
}

impl Writer {
    /// Opens the output and starts the thread.
    pub fn start(settings: Arc<Settings>) -> io::Result<Writer> {
        let out = open(&settings)?;
        let (tx, rx) = sync_channel(settings.queue);
        let reopen = Arc::new(AtomicBool::new(false));
        let flag = reopen.clone();
        std::thread::Builder::new()
            .name("weir-accesslog".into())
            .spawn(move || run(&settings, out, &rx, &flag))?;
        Ok(Writer { tx, reopen })
    }

    /// Queues a line; false when the queue is full (the line is dropped).
    pub(crate) fn send(&self, record: Box<Record>) -> bool {
        match self.tx.try_send(Msg::Line(record)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }

    /// Asks the thread to reopen the file before its next write.
    pub fn reopen(&self) {
        self.reopen.store(true, Ordering::Release);
        let _ = self.tx.try_send(Msg::Wake);
    }
}

fn open(settings: &Settings) -> io::Result<Box<dyn Write + Send>> {
    Ok(match &settings.file {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let f: File = OpenOptions::new().create(true).append(true).open(path)?;
            Box::new(BufWriter::with_capacity(64 * 1024, f))
        }
        None => Box::new(BufWriter::with_capacity(64 * 1024, io::stdout())),
    })
}

fn run(
    settings: &Settings,
    mut out: Box<dyn Write + Send>,
    rx: &Receiver<Msg>,
    reopen: &AtomicBool,
) {
    let mut line = String::with_capacity(512);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        // Drain what is queued, then flush once: batches writes under load.
        while let Some(msg) = next.take() {
            if reopen.swap(false, Ordering::AcqRel) {
                let _ = out.flush();
                match open(settings) {
                    Ok(o) => out = o,
                    Err(e) => tracing::error!("access log: cannot reopen: {e}"),
                }
            }
            if let Msg::Line(record) = msg {
                line.clear();
                format::line(settings, &record, &mut line);
                if let Err(e) = out.write_all(line.as_bytes()) {
                    tracing::warn!("access log: write failed: {e}");
                }
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
    }
    let _ = out.flush();
}
