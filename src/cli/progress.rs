//! A progress line on stderr for long runs: shown only when stderr is a terminal and the run
//! has lasted long enough to be worth it; nothing at all when piped (CI logs stay clean).

use crate::scan::ScanProgress;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Runs shorter than this print no progress at all.
const QUIET_FOR: Duration = Duration::from_millis(700);
const TICK: Duration = Duration::from_millis(120);

pub struct Progress {
    counter: Option<Arc<ScanProgress>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// A progress line labelled `label`, or an inert one when stderr is not a terminal.
    pub fn on_stderr(label: &'static str) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress {
                counter: None,
                stop,
                thread: None,
            };
        }
        let counter = Arc::new(ScanProgress::default());
        let thread = {
            let counter = Arc::clone(&counter);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || draw_until_stopped(label, &counter, &stop))
        };
        Progress {
            counter: Some(counter),
            stop,
            thread: Some(thread),
        }
    }

    /// The counter the scan advances, when progress is shown.
    pub fn counter(&self) -> Option<Arc<ScanProgress>> {
        self.counter.clone()
    }

    /// Stops drawing and clears the line.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn draw_until_stopped(label: &str, counter: &ScanProgress, stop: &AtomicBool) {
    let started = Instant::now();
    let mut drawn = false;
    let mut err = std::io::stderr();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if started.elapsed() < QUIET_FOR {
            continue;
        }
        let done = counter.done.load(Ordering::Relaxed);
        let total = counter.total.load(Ordering::Relaxed);
        let line = if total == 0 && done > 0 {
            // Counting without a known total (an import walking a dump).
            format!("{label}: {done} records")
        } else if total == 0 {
            format!("{label}: listing files…")
        } else {
            let width = 30;
            let filled = (done.min(total) * width) / total.max(1);
            format!(
                "{label}: [{}{}] {done}/{total} files",
                "=".repeat(filled),
                " ".repeat(width - filled)
            )
        };
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }
}
