//! Warm start: observations a run starts from, read from a file (`initial_data:` in the config).
//!
//! Two formats, chosen by the file's extension:
//! - `.csv`: a header row naming the inputs `x0, x1, …, x{d-1}` and `y`, in any order, then one
//!   row per observation;
//! - `.jsonl` (or `.json`): one `{"x": [...], "y": number}` per line.
//!
//! Points are in the objective's native coordinates. A row outside the bounds, with the wrong
//! number of coordinates or with a value that is not a finite number is an error that names the
//! file and the line. Blank lines are skipped.

use std::path::{Path, PathBuf};

use crate::Bounds;

/// One observation read from the file.
#[derive(Clone, Debug, PartialEq)]
pub struct DataRow {
    /// The point, native coordinates.
    pub x: Vec<f64>,
    /// Its observed value.
    pub y: f64,
    /// `initial_data:FILE:LINE`, journaled beside the observation.
    pub source: String,
}

/// Why the file could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct InitialDataError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when the fault is in one.
    pub line: Option<usize>,
    /// What was wrong and what was expected.
    pub message: String,
}

/// The name of input `i` in CSV headers.
pub fn input_name(i: usize) -> String {
    format!("x{i}")
}

/// Reads and checks the observations in `file` against `bounds`.
pub fn read_initial_data(file: &Path, bounds: &Bounds) -> Result<Vec<DataRow>, InitialDataError> {
    let err = |line: Option<usize>, message: String| InitialDataError { file: file.to_owned(), line, message };
    let text =
        std::fs::read_to_string(file).map_err(|e| err(None, format!("cannot read the initial data file: {e}")))?;
    let ext = file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let raw = match ext.as_deref() {
        Some("csv") => read_csv(&text, bounds.dim()).map_err(|(line, m)| err(line, m))?,
        Some("jsonl" | "json" | "ndjson") => read_jsonl(&text).map_err(|(line, m)| err(Some(line), m))?,
        _ => {
            return Err(err(
                None,
                "unknown format: expected a file ending in .csv (header x0, x1, …, y) or .jsonl ({\"x\": [...], \"y\": …} per line)"
                    .to_owned(),
            ));
        }
    };
    let display = file.display().to_string();
    let mut rows = Vec::with_capacity(raw.len());
    for (line, x, y) in raw {
        if x.len() != bounds.dim() {
            return Err(err(
                Some(line),
                format!("the point has {} coordinates: expected {} (the objective's dimension)", x.len(), bounds.dim()),
            ));
        }
        for (i, &v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(err(Some(line), format!("{} = {v} is not valid: expected a finite number", input_name(i))));
            }
            if v < bounds.lower[i] || v > bounds.upper[i] {
                return Err(err(
                    Some(line),
                    format!(
                        "{} = {v} is outside the bounds [{}, {}] of the objective",
                        input_name(i),
                        bounds.lower[i],
                        bounds.upper[i]
                    ),
                ));
            }
        }
        if !y.is_finite() {
            return Err(err(Some(line), format!("y = {y} is not valid: expected a finite number")));
        }
        rows.push(DataRow { x, y, source: format!("initial_data:{display}:{line}") });
    }
    if rows.is_empty() {
        return Err(err(None, "holds no observation: expected at least one row".to_owned()));
    }
    Ok(rows)
}

type Raw = Vec<(usize, Vec<f64>, f64)>;

fn read_csv(text: &str, dim: usize) -> Result<Raw, (Option<usize>, String)> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| (Some(1), format!("cannot read the header row: {e}")))?.clone();
    let names: Vec<String> = (0..dim).map(input_name).collect();
    let expected = format!("{}, y", names.join(", "));
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut x_columns = Vec::with_capacity(dim);
    for name in &names {
        x_columns.push(column(name).ok_or_else(|| {
            (Some(1), format!("the header has no column `{name}`: expected the columns {expected} (in any order)"))
        })?);
    }
    let y_column = column("y")
        .ok_or_else(|| (Some(1), format!("the header has no column `y`: expected the columns {expected}")))?;
    if let Some(extra) = headers.iter().find(|h| *h != "y" && !names.iter().any(|n| n == h)) {
        return Err((Some(1), format!("unknown column `{extra}`: expected the columns {expected}")));
    }
    // The csv crate's own line numbers skip blank lines; count from the byte offset instead.
    // The csv crate's own line numbers skip blank lines; count from the byte offset instead.
    let line_of = |p: &csv::Position| {
        // A record's position may point at blank lines before it; skip them.
        let bytes = text.as_bytes();
        let mut at = (p.byte() as usize).min(bytes.len());
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| (e.position().map(line_of), e.to_string()))?;
        let line = record.position().map_or(0, line_of);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let number = |c: usize, name: &str| -> Result<f64, (Option<usize>, String)> {
            let field = record.get(c).unwrap_or("");
            field
                .parse::<f64>()
                .map_err(|_| (Some(line), format!("{name} = `{field}` is not valid: expected a number")))
        };
        let x = x_columns.iter().zip(&names).map(|(&c, n)| number(c, n)).collect::<Result<Vec<_>, _>>()?;
        let y = number(y_column, "y")?;
        rows.push((line, x, y));
    }
    Ok(rows)
}

fn read_jsonl(text: &str) -> Result<Raw, (usize, String)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Row {
        x: Vec<f64>,
        y: f64,
    }
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(line).map_err(|e| {
            (i + 1, format!("not a valid observation ({e}): expected {{\"x\": [numbers], \"y\": number}}"))
        })?;
        rows.push((i + 1, row.x, row.y));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds::new(vec![-1.0, 0.0], vec![1.0, 10.0]).unwrap()
    }

    fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn csv_columns_in_any_order() {
        let (_d, path) = write("a.csv", "y, x1, x0\n3.5, 2, -0.5\n\n1e-3, 10, 1\n");
        let rows = read_initial_data(&path, &bounds()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].x, vec![-0.5, 2.0]);
        assert_eq!(rows[0].y, 3.5);
        assert!(rows[0].source.ends_with("a.csv:2"), "{}", rows[0].source);
        assert_eq!(rows[1].x, vec![1.0, 10.0]);
        assert!(rows[1].source.ends_with(":4"), "{}", rows[1].source);
    }

    #[test]
    fn jsonl_rows() {
        let (_d, path) = write("a.jsonl", "{\"x\": [0, 1], \"y\": 2}\n\n{\"x\": [0.5, 5], \"y\": -1}\n");
        let rows = read_initial_data(&path, &bounds()).unwrap();
        assert_eq!(rows.iter().map(|r| r.y).collect::<Vec<_>>(), vec![2.0, -1.0]);
        assert!(rows[1].source.ends_with(":3"));
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let cases = [
            ("b.csv", "x0,x1,y\n0,1,2\n2,1,0\n", ":3: x0 = 2 is outside the bounds [-1, 1]"),
            ("b.csv", "x0,y\n0,1\n", ":1: the header has no column `x1`"),
            ("b.csv", "x0,x1,y,z\n0,1,2,3\n", ":1: unknown column `z`"),
            ("b.csv", "x0,x1,y\n0,1,nan\n", ":2: y = NaN is not valid"),
            ("b.csv", "x0,x1,y\n0,abc,1\n", ":2: x1 = `abc` is not valid: expected a number"),
            (
                "b.jsonl",
                "{\"x\": [0, 1], \"y\": 2}\n{\"x\": [0], \"y\": 2}\n",
                ":2: the point has 1 coordinates: expected 2",
            ),
            ("b.jsonl", "{\"x\": [0, 1]}\n", ":1: not a valid observation"),
            ("b.txt", "0 1 2\n", "unknown format"),
            ("b.csv", "x0,x1,y\n", "holds no observation"),
        ];
        for (name, text, expected) in cases {
            let (_d, path) = write(name, text);
            let message = read_initial_data(&path, &bounds()).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(message.starts_with(&path.display().to_string()), "{message}");
        }
    }
}
