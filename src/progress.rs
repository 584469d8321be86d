//! Progress of a run on stderr: a bar when stderr is a terminal, plain lines otherwise.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use les_core::journal::{EvaluationRecord, IterationRecord};
use les_core::runner::RunObserver;

/// Shows evaluations done/total, the best value so far, the time of the last `ask`, and the
/// evaluations in flight with the time the oldest of them has been running (refreshed by the
/// bar's ticker: a hung evaluation shows as a growing number).
pub struct Progress {
    enabled: bool,
    bar: Option<ProgressBar>,
    last_ask: Option<f64>,
    best: Option<f64>,
    /// Start of each evaluation in flight, by trial.
    running: BTreeMap<usize, Instant>,
    ticker: Option<std::thread::JoinHandle<()>>,
    stop_ticker: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// What the ticker shows: the message without the elapsed time, and the oldest start.
    shown: std::sync::Arc<std::sync::Mutex<(String, Option<Instant>)>>,
}

impl Progress {
    /// `enabled`: show anything at all; `terminal`: stderr is a terminal (bar instead of lines).
    pub fn new(enabled: bool, terminal: bool) -> Self {
        let bar = (enabled && terminal).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} evaluations  {msg}")
                    .expect("invariant: the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let stop_ticker = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let shown = std::sync::Arc::new(std::sync::Mutex::new((String::new(), None)));
        let ticker = bar.clone().map(|bar| {
            let (stop, shown) = (stop_ticker.clone(), shown.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Ok(shown) = shown.lock() {
                        bar.set_message(with_elapsed(&shown.0, shown.1));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        });
        Self { enabled, bar, last_ask: None, best: None, running: BTreeMap::new(), ticker, stop_ticker, shown }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        self.stop_ticker.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn message(&self) -> String {
        let mut m = match self.best {
            Some(b) => format!("best {b:.6}"),
            None => "no successful evaluation yet".to_owned(),
        };
        if let Some(t) = self.last_ask {
            m.push_str(&format!("  last ask {t:.3}s"));
        }
        if self.running.len() > 1 {
            m.push_str(&format!("  {} in flight", self.running.len()));
        }
        m
    }

    /// Hands the message and the oldest running evaluation's start to the ticker.
    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            let oldest = self.running.values().min().copied();
            let message = self.message();
            bar.set_message(with_elapsed(&message, oldest));
            if let Ok(mut shown) = self.shown.lock() {
                *shown = (message, oldest);
            }
        }
    }
}

/// `message` plus how long the oldest evaluation in flight has been running.
fn with_elapsed(message: &str, oldest: Option<Instant>) -> String {
    match oldest {
        Some(start) => format!("{message}  evaluating for {:.0} s", start.elapsed().as_secs_f64()),
        None => message.to_owned(),
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl RunObserver for Progress {
    fn started(&mut self, budget: usize, already_done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(budget as u64);
        } else if self.enabled && already_done > 0 {
            eprintln!("resuming: {already_done} of {budget} evaluations are in the journal");
        }
    }

    fn evaluated(&mut self, record: &EvaluationRecord, best: Option<f64>) {
        self.best = best;
        if let Some(trial) = record.trial {
            self.running.remove(&trial);
        }
        let message = self.message();
        if let Some(bar) = &self.bar {
            bar.set_position(record.index as u64 + 1);
            self.refresh();
        } else if self.enabled {
            let outcome = match (&record.y, &record.error) {
                (Some(y), _) => format!("y {y:.6}"),
                (_, Some(e)) => format!("failed: {e}"),
                _ => String::new(),
            };
            eprintln!("evaluation {}: {outcome}  ({message})", record.index + 1);
        }
    }

    fn asked(&mut self, record: &IterationRecord) {
        self.last_ask = Some(record.ask_seconds);
    }

    fn evaluation_started(&mut self, trial: usize) {
        self.running.insert(trial, Instant::now());
        self.refresh();
    }
}
