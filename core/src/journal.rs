//! The run journal: append-only JSON-lines files that survive a crash at any moment.
//!
//! Layout of a run directory:
//! - `config.yaml`: the resolved config (every default filled in);
//! - `evaluations.jsonl`: one [`EvaluationRecord`] per tell, in the order told, synced to disk
//!   before the evaluation counts as done;
//! - `iterations.jsonl`: one [`IterationRecord`] per ask (strategy iterations, and hand-outs
//!   of initial-design points as iteration 0), written right after the ask and before its
//!   points are evaluated (it carries the asked points and trial ids, so a resumed run
//!   evaluates exactly what the dead run had asked, and the count of tells the ask had seen,
//!   so the replay tells the strategy the same batches: see [`crate::study`]);
//! - `summary.json`: written at the end (and rewritten by a resumed run);
//! - `lock`: the one writer's advisory lock ([`crate::lock`]).
//!
//! A process killed mid-write leaves at most one torn last line; readers detect it (no final
//! newline, or not valid JSON), drop it and truncate the file to the last whole line.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// File name of the resolved config in a run directory.
pub const CONFIG_FILE: &str = "config.yaml";
/// File name of the evaluation journal.
pub const EVALUATIONS_FILE: &str = "evaluations.jsonl";
/// File name of the iteration journal.
pub const ITERATIONS_FILE: &str = "iterations.jsonl";
/// File name of the run summary.
pub const SUMMARY_FILE: &str = "summary.json";

/// One objective evaluation, or one observation told without being asked (warm start).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    /// 0-based position in the journal: records are journaled in completion order.
    pub index: usize,
    /// The trial this evaluation answers (trial ids are given out in the order points are
    /// asked or observations told). Absent in journals of older versions, where it equals
    /// `index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<usize>,
    /// Where an observation that was never asked came from (`initial_data:FILE:LINE`, or
    /// `told` for one told through the library or `les tell --x`); absent for the
    /// evaluations of asked trials, which are the ones the budget counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Strategy iteration that proposed the point (0 = initial design).
    pub iteration: usize,
    /// The point in the objective's native coordinates.
    pub x: Vec<f64>,
    /// Observed value (noise included); absent when the evaluation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<f64>,
    /// Noise-free value, when the objective knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<f64>,
    /// Failure message, when the evaluation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the evaluation in seconds.
    pub seconds: f64,
}

/// One ask: a strategy iteration (1, 2, …), or a hand-out of initial-design points
/// (iteration 0, written by asks that are served from the initial design).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    /// Iteration number: 0 for the initial design, strategy iterations from 1.
    pub iteration: usize,
    /// The trial id of each asked point (same order as `points`). Empty in journals of older
    /// versions, where trials were numbered in asking order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trials: Vec<usize>,
    /// How many evaluation records had been told before this ask (the strategy saw exactly
    /// those). Absent in journals of older versions, where it is the number of evaluations of
    /// earlier iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told: Option<usize>,
    /// The trials in flight (asked, not yet told) when this ask was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<usize>,
    /// Set on a retry (`les resume --retry-failed`): the failed trial whose point this ask
    /// hands out again. A retry is not a strategy iteration; `iteration` is the failed trial's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<usize>,
    /// Wall time of `ask` in seconds.
    pub ask_seconds: f64,
    /// Wall time of the strategy's `tell` of the observations this ask builds on (the previous
    /// iteration's, or the initial design's), in seconds: work a strategy may do there (GIBO
    /// and TuRBO update their state, GIBO refits) instead of in `ask`. Absent when there were
    /// none (the first ask of a run without initial design), when the tell ran in an earlier
    /// process of a resumed run, and in journals of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tell_seconds: Option<f64>,
    /// Wall time per phase of `ask` (phase name → seconds; a JSON object, so keys in name
    /// order, not in the order measured).
    pub phases: Map<String, Value>,
    /// The asked points in the unit cube (what a resumed run evaluates).
    pub points: Vec<Vec<f64>>,
    /// Strategy diagnostics.
    #[serde(default)]
    pub diagnostics: Map<String, Value>,
    /// Set when the strategy's stopping rule fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// The run-time arithmetic choices of the process that asked ([`crate::arithmetic`]).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub arithmetic: std::collections::BTreeMap<String, String>,
}

/// Why a journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An I/O failure on a journal file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// A line that is not the last one does not parse: the journal was edited or damaged.
    #[error(
        "{path}:{line}: damaged journal line ({message}); only a torn last line is repaired automatically: run `les repair` on the run directory to keep the records before this line (the dropped lines are saved beside the journal), then resume"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Parser message.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_owned(), source }
}

/// An append-only JSON-lines file; every line is on disk (`fsync`) before `append` returns, so
/// an evaluation reported done survives a power cut as well as a crash.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    file: File,
}

impl JournalWriter {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_error(path))?;
        Ok(Self { path: path.to_owned(), file })
    }

    /// Appends one record as a line and flushes it.
    pub fn append<T: Serialize>(&mut self, record: &T) -> Result<(), JournalError> {
        let mut line = serde_json::to_string(record).expect("invariant: journal records serialize to JSON");
        line.push('\n');
        // One write call per line keeps a torn write confined to the last line.
        self.file.write_all(line.as_bytes()).map_err(io_error(&self.path))?;
        self.file.sync_data().map_err(io_error(&self.path))
    }
}

/// What reading a journal found.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalContents<T> {
    /// The whole records, in file order.
    pub records: Vec<T>,
    /// Whether a torn last line was dropped (and the file truncated).
    pub repaired_torn_line: bool,
}

/// Reads a JSON-lines journal. A missing file is empty. A torn last line (no final newline, or
/// not valid JSON) is dropped and the file truncated to the last whole line; damage anywhere
/// else is an error. Only the process that holds the run's lock may call this; readers use
/// [`read_journal_unchanged`].
pub fn read_journal<T: DeserializeOwned>(path: &Path) -> Result<JournalContents<T>, JournalError> {
    read_journal_impl(path, true)
}

/// Reads a journal like [`read_journal`] but never modifies the file: a torn last line is
/// skipped (and reported in `repaired_torn_line`), for readers that do not own the run.
pub fn read_journal_unchanged<T: DeserializeOwned>(path: &Path) -> Result<JournalContents<T>, JournalError> {
    read_journal_impl(path, false)
}

fn read_journal_impl<T: DeserializeOwned>(path: &Path, repair: bool) -> Result<JournalContents<T>, JournalError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(JournalContents { records: Vec::new(), repaired_torn_line: false });
        }
        Err(e) => return Err(io_error(path)(e)),
    };
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut good_bytes: u64 = 0;
    let mut torn = false;
    let mut line_no = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io_error(path))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str::<T>(s.trim_end()).map_err(|e| e.to_string()));
        match (parsed, complete) {
            (Ok(record), true) => {
                records.push(record);
                good_bytes += n as u64;
            }
            (_, false) => {
                torn = true;
                break;
            }
            (Err(message), true) => {
                // A complete but unparsable line is tolerated only as the very last line (a
                // write that tore inside a line but still reached a newline cannot happen with
                // one write per line, yet a partially flushed page might look like this).
                let mut rest = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut rest).map_err(io_error(path))?;
                if rest.iter().all(|b| b.is_ascii_whitespace()) {
                    torn = true;
                    break;
                }
                return Err(JournalError::Damaged { path: path.to_owned(), line: line_no, message });
            }
        }
    }
    if torn && repair {
        let file = OpenOptions::new().write(true).open(path).map_err(io_error(path))?;
        file.set_len(good_bytes).map_err(io_error(path))?;
        file.sync_all().map_err(io_error(path))?;
    }
    Ok(JournalContents { records, repaired_torn_line: torn })
}

/// Writes `value` as pretty JSON to `path` atomically (temporary file + rename), so a reader
/// never sees half a summary.
pub fn write_json_atomic(path: &Path, value: &Value) -> Result<(), JournalError> {
    let text = serde_json::to_string_pretty(value).expect("invariant: JSON values serialize");
    write_atomic(path, (text + "\n").as_bytes())
}

/// Writes `bytes` to `path` atomically and durably: a temporary file beside it, synced, renamed
/// over `path`, then the directory synced so the rename itself survives a power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
        file.write_all(bytes).map_err(io_error(&tmp))?;
        file.sync_all().map_err(io_error(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io_error(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Syncs a directory, so that files created or renamed in it are on disk. A no-op where the
/// platform cannot open directories (Windows).
pub fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    #[cfg(unix)]
    {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(index: usize) -> EvaluationRecord {
        EvaluationRecord { index, iteration: 0, x: vec![0.1 * index as f64], y: Some(1.0), ..Default::default() }
    }

    #[test]
    fn torn_last_line_is_dropped_and_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        let mut w = JournalWriter::open(&path).unwrap();
        w.append(&record(0)).unwrap();
        w.append(&record(1)).unwrap();
        drop(w);
        let whole = std::fs::read(&path).unwrap();
        // Every possible cut inside the second line.
        let first_len = whole.iter().position(|&b| b == b'\n').unwrap() + 1;
        for cut in first_len + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let c: JournalContents<EvaluationRecord> = read_journal(&path).unwrap();
            assert_eq!(c.records, vec![record(0)], "cut at {cut}");
            assert!(c.repaired_torn_line);
            assert_eq!(std::fs::read(&path).unwrap(), &whole[..first_len]);
        }
        std::fs::write(&path, &whole).unwrap();
        let c: JournalContents<EvaluationRecord> = read_journal(&path).unwrap();
        assert_eq!(c.records.len(), 2);
        assert!(!c.repaired_torn_line);
    }

    #[test]
    fn damage_before_the_last_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        let good = serde_json::to_string(&record(1)).unwrap();
        std::fs::write(&path, format!("{{broken\n{good}\n")).unwrap();
        let err = read_journal::<EvaluationRecord>(&path).unwrap_err();
        assert!(matches!(err, JournalError::Damaged { line: 1, .. }), "{err}");
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let c = read_journal::<EvaluationRecord>(&dir.path().join("none.jsonl")).unwrap();
        assert!(c.records.is_empty());
    }
}

#[cfg(test)]
mod round_trip {
    /// Resume rebuilds the data from the journal: every f64 must come back bit for bit
    /// (serde_json's `float_roundtrip` feature; its default parser may be off by an ulp).
    #[test]
    fn floats_round_trip_exactly_through_json() {
        use rand::{Rng, SeedableRng};
        let mut rng = crate::StreamRng::seed_from_u64(1);
        for _ in 0..20_000 {
            let v = f64::from_bits(rng.next_u64());
            if !v.is_finite() {
                continue;
            }
            let back: f64 = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e}");
            let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let back: f64 = serde_json::from_str(&serde_json::to_string(&unit).unwrap()).unwrap();
            assert_eq!(back.to_bits(), unit.to_bits(), "{unit:e}");
        }
    }
}
