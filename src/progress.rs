//! Progress of a run on stderr: a bar when stderr is a terminal, plain lines otherwise.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use les_core::journal::{EvaluationRecord, IterationRecord};
use les_core::runner::RunObserver;

/// Shows evaluations done/total, the best value so far and the time of the last `ask`.
pub struct Progress {
    enabled: bool,
    bar: Option<ProgressBar>,
    last_ask: Option<f64>,
    in_flight: usize,
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
        Self { enabled, bar, last_ask: None, in_flight: 0 }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn message(&self, best: Option<f64>) -> String {
        let mut m = match best {
            Some(b) => format!("best {b:.6}"),
            None => "no successful evaluation yet".to_owned(),
        };
        if let Some(t) = self.last_ask {
            m.push_str(&format!("  last ask {t:.3}s"));
        }
        if self.in_flight > 1 {
            m.push_str(&format!("  {} in flight", self.in_flight));
        }
        m
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
        let message = self.message(best);
        if let Some(bar) = &self.bar {
            bar.set_position(record.index as u64 + 1);
            bar.set_message(message);
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

    fn in_flight(&mut self, evaluations: usize) {
        self.in_flight = evaluations;
    }
}
