//! A plugin's parameter table, written once: a markdown table in a file next to the plugin
//! (`params/<name>.md` of its crate) that the crate docs include with
//! `#![doc = include_str!(…)]` and the registry entry's `details` includes with
//! `concat!(…, include_str!(…), …)`. `les describe` prints the details through [`render`],
//! which turns the table into aligned plain-text columns; [`check`] compares the documented
//! keys with a plugin's defaults (the test `tests/plugin_docs.rs` runs it on every registered
//! plugin).
//!
//! Why markdown and not a typed table: the same bytes are then readable in the source tree, in
//! rustdoc (a rendered table) and, after [`render`], in a terminal, and a plugin written outside
//! this workspace (`examples/plugin-crate`) needs no macro or type of ours to document itself.
//!
//! The table's first column is the key (in backticks; a nested key is written with dots,
//! `acq_optimizer.restarts`), the second the default, the third its meaning:
//!
//! ```text
//! | key | default | meaning |
//! |---|---|---|
//! | `steps` | `500` | number of updates `T` |
//! ```
//!
//! A default of `—` documents a key that has no default and is absent from the defaults unless
//! given (an alternative to another key, `gp_sample`'s `lengthscales`).

use serde_json::Value;

/// One row of a parameter table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamRow {
    /// The key path inside the plugin's params (`steps`, `acq_optimizer.restarts`).
    pub key: String,
    /// The documented default, backticks removed.
    pub default: String,
    /// What it means, backticks removed.
    pub meaning: String,
}

/// The cells of a table line (`| a | b \| c |` → `a`, `b | c`), or `None` for other lines.
fn cells(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().expect("invariant: never empty").push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            _ => out.last_mut().expect("invariant: never empty").push(c),
        }
    }
    Some(out.into_iter().map(|c| c.trim().to_owned()).collect())
}

fn is_separator(cells: &[String]) -> bool {
    cells.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

fn plain(cell: &str) -> String {
    cell.replace('`', "")
}

/// The rows of every parameter table in `doc` (header and separator lines skipped). A table is
/// a parameter table when its header's first cell is `key`.
pub fn rows(doc: &str) -> Vec<ParamRow> {
    let mut out = Vec::new();
    let mut in_param_table = false;
    let mut previous_was_table = false;
    for line in doc.lines() {
        let Some(cells) = cells(line) else {
            in_param_table = false;
            previous_was_table = false;
            continue;
        };
        if !previous_was_table {
            // A header line.
            in_param_table = cells.first().is_some_and(|c| c == "key");
        } else if in_param_table && !is_separator(&cells) {
            let cell = |i: usize| cells.get(i).map(|c| plain(c)).unwrap_or_default();
            out.push(ParamRow { key: cell(0), default: cell(1), meaning: cell(2) });
        }
        previous_was_table = true;
    }
    out
}

/// The default cell of a key that is absent from the defaults unless given.
const NO_DEFAULT: &str = "—";

/// Column width of the rendered meaning before it wraps.
const MEANING_WIDTH: usize = 72;
/// A default wider than this gets a line of its own in the rendered table.
const MAX_DEFAULT_WIDTH: usize = 16;

/// `doc` for a terminal: every parameter table as `Parameters (default):` and aligned columns,
/// the meaning wrapped; everything else unchanged.
pub fn render(doc: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = doc.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if cells(lines[i]).is_some() {
            let start = i;
            while i < lines.len() && cells(lines[i]).is_some() {
                i += 1;
            }
            let block = lines[start..i].join("\n");
            let table = rows(&block);
            if table.is_empty() {
                // Not a parameter table: as written.
                out.push_str(&block);
                out.push('\n');
            } else {
                render_table(&table, &mut out);
            }
            continue;
        }
        out.push_str(lines[i]);
        out.push('\n');
        i += 1;
    }
    out
}

fn render_table(table: &[ParamRow], out: &mut String) {
    let key_width = table.iter().map(|r| r.key.chars().count()).max().unwrap_or(0);
    let default_width =
        table.iter().map(|r| r.default.chars().count()).filter(|&w| w <= MAX_DEFAULT_WIDTH).max().unwrap_or(0);
    let indent = 2 + key_width + 2 + default_width + 2;
    out.push_str("Parameters (default):\n");
    for row in table {
        let mut line = format!("  {:<key_width$}  ", row.key);
        if row.default.chars().count() > MAX_DEFAULT_WIDTH {
            line.push_str(&row.default);
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
        } else {
            line.push_str(&format!("{:<default_width$}  ", row.default));
        }
        for (n, piece) in wrap(&row.meaning, MEANING_WIDTH).into_iter().enumerate() {
            if n > 0 {
                line = " ".repeat(indent);
            }
            line.push_str(&piece);
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("invariant: never empty");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A nested `{ name, params }` block: the named plugin documents its own params.
fn as_plugin_spec(value: &Value) -> Option<(&str, &Value)> {
    let object = value.as_object()?;
    if object.len() != 2 {
        return None;
    }
    Some((object.get("name")?.as_str()?, object.get("params")?))
}

/// The key paths of `defaults` a table must document: every key; inside a plain non-empty
/// object also its keys (`acq_optimizer.restarts`), not inside a `{ name, params }` block,
/// whose params belong to the named plugin (returned as `(path, name, params)` in `nested`).
fn key_paths<'a>(
    defaults: &'a Value,
    prefix: &str,
    keys: &mut Vec<(String, &'a Value)>,
    nested: &mut Vec<(String, &'a str, &'a Value)>,
) {
    let Some(object) = defaults.as_object() else { return };
    for (key, value) in object {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        keys.push((path.clone(), value));
        if let Some((name, params)) = as_plugin_spec(value) {
            nested.push((path, name, params));
        } else if value.as_object().is_some_and(|o| !o.is_empty()) {
            key_paths(value, &path, keys, nested);
        }
    }
}

/// What is wrong with a plugin's documentation of its defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocReport {
    /// Keys in the defaults without a row.
    pub undocumented: Vec<String>,
    /// Rows whose key is not in the defaults.
    pub unknown: Vec<String>,
    /// Rows whose default, when it is a literal, differs from the default params.
    pub wrong_default: Vec<String>,
    /// `{ name, params }` blocks in the defaults: (key path, plugin name, its params), for the
    /// caller to check against the named plugin's table.
    pub nested: Vec<(String, String, Value)>,
}

impl DocReport {
    /// No finding (nested blocks are not findings).
    pub fn is_clean(&self) -> bool {
        self.undocumented.is_empty() && self.unknown.is_empty() && self.wrong_default.is_empty()
    }
}

/// Compares the parameter tables of `doc` with `defaults`: every key (nested plain blocks
/// included; a block may be documented by its parent key alone or by its keys) needs a row,
/// every row a key, and a row whose default starts with a literal (a number, `true`, `false`,
/// `none`, or a name when the default is a string) must match the value.
pub fn check(doc: &str, defaults: &Value) -> DocReport {
    let table = rows(doc);
    let mut keys = Vec::new();
    let mut nested = Vec::new();
    key_paths(defaults, "", &mut keys, &mut nested);
    let documented = |path: &str| table.iter().any(|r| r.key == path);
    let mut report = DocReport::default();
    for (path, _) in &keys {
        // A block's keys are covered by a row of the block, or the block by rows of its keys.
        let parent_documented = path.rsplit_once('.').is_some_and(|(parent, _)| documented(parent));
        let has_documented_children = table.iter().any(|r| r.key.starts_with(&format!("{path}.")));
        if !documented(path) && !parent_documented && !has_documented_children {
            report.undocumented.push(path.clone());
        }
    }
    for row in &table {
        match keys.iter().find(|(path, _)| *path == row.key) {
            None if row.default == NO_DEFAULT => {}
            None => report.unknown.push(row.key.clone()),
            Some((_, value)) => {
                if !default_matches(&row.default, value) {
                    report
                        .wrong_default
                        .push(format!("{}: documented `{}`, defaults have {value}", row.key, row.default));
                }
            }
        }
    }
    report.nested = nested.into_iter().map(|(p, n, v)| (p, n.to_owned(), v.clone())).collect();
    report
}

/// How a documented default begins.
#[derive(Debug, PartialEq)]
enum Literal<'a> {
    /// `none` or `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (`1e-7`, `0.002`).
    Number(f64),
    /// A lower-case word: a name such as `se_ard`, or the first word of a description.
    Word(&'a str),
    /// Anything else (`⌈max(4, d)⌉`, `{ name: gp }`).
    Other,
}

impl<'a> Literal<'a> {
    fn of(documented: &'a str) -> Self {
        let first =
            documented.split_whitespace().next().unwrap_or("").trim_end_matches([',', ';', ':', '.']).trim_matches('`');
        match first {
            "none" | "null" => Literal::Null,
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => match first.parse::<f64>() {
                Ok(x) => Literal::Number(x),
                Err(_) if first.starts_with(|c: char| c.is_ascii_lowercase()) => Literal::Word(first),
                Err(_) => Literal::Other,
            },
        }
    }
}

/// Whether the documented default agrees with `value`. A default that begins with a literal of
/// another kind, or of the same kind with another value, disagrees; a description agrees with
/// anything that is not a literal (`null` with "the length of `bounds`", a number with
/// "0.5⁷").
fn default_matches(documented: &str, value: &Value) -> bool {
    let literal = Literal::of(documented);
    match value {
        Value::Null => !matches!(literal, Literal::Bool(_) | Literal::Number(_)),
        Value::Bool(b) => match literal {
            Literal::Bool(c) => *b == c,
            Literal::Null | Literal::Number(_) => false,
            Literal::Word(_) | Literal::Other => true,
        },
        Value::Number(n) => match literal {
            Literal::Number(x) => n.as_f64().is_some_and(|v| (v - x).abs() <= 1e-12 * v.abs().max(x.abs())),
            Literal::Null | Literal::Bool(_) => false,
            Literal::Word(_) | Literal::Other => true,
        },
        // A required name (`""` in the defaults) is described, not given.
        Value::String(s) if s.is_empty() => true,
        Value::String(s) => match literal {
            Literal::Word(w) => w == s,
            Literal::Null | Literal::Bool(_) | Literal::Number(_) => false,
            Literal::Other => true,
        },
        Value::Object(_) => match as_plugin_spec(value) {
            Some((name, _)) => documented.contains(&format!("name: {name}")),
            None => true,
        },
        Value::Array(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = "Prose before.\n\n\
| key | default | meaning |\n\
|---|---|---|\n\
| `steps` | `500` | number of updates `T` |\n\
| `mode` | `fast` | `fast` \\| `slow` |\n\
| `inner` | `{ name: adam }` | the optimizer |\n\
| `opt.restarts` | 5 | starts |\n\
| `tol` | none | stop early |\n\
\n\
| name | what |\n\
|---|---|\n\
| `x` | not a parameter |\n\
\n\
After.";

    fn defaults() -> Value {
        json!({ "steps": 500, "mode": "fast", "inner": { "name": "adam", "params": {} },
                "opt": { "restarts": 5 }, "tol": null })
    }

    #[test]
    fn rows_are_read_from_parameter_tables_only() {
        let keys: Vec<_> = rows(DOC).into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["steps", "mode", "inner", "opt.restarts", "tol"]);
        assert_eq!(rows(DOC)[1].meaning, "fast | slow", "an escaped pipe stays in its cell");
    }

    #[test]
    fn a_matching_table_is_clean_and_reports_nested_blocks() {
        let report = check(DOC, &defaults());
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.nested, vec![("inner".to_owned(), "adam".to_owned(), json!({}))]);
    }

    #[test]
    fn missing_unknown_and_drifted_keys_are_reported() {
        let mut d = defaults();
        d["extra"] = json!(1);
        d["opt"]["max_iters"] = json!(3);
        d["steps"] = json!(400);
        d["mode"] = json!("slow");
        d.as_object_mut().expect("object").remove("tol");
        let report = check(DOC, &d);
        assert_eq!(report.undocumented, ["extra", "opt.max_iters"]);
        assert_eq!(report.unknown, ["tol"]);
        assert_eq!(report.wrong_default.len(), 2, "{:?}", report.wrong_default);
    }

    #[test]
    fn documented_defaults_are_compared_when_they_are_literals() {
        assert!(default_matches("`1e-7`", &json!(1e-7)));
        assert!(!default_matches("`1e-6`", &json!(1e-7)));
        assert!(default_matches("none = `4 + ⌊3 ln d⌋`", &Value::Null));
        assert!(!default_matches("`0`", &Value::Null));
        assert!(default_matches("the length of `bounds`", &Value::Null));
        assert!(default_matches("`se_ard`", &json!("se_ard")));
        assert!(!default_matches("`matern52`", &json!("se_ard")));
        assert!(default_matches("required", &json!("")));
        assert!(!default_matches("`true`", &json!(false)));
        assert!(default_matches("0.5⁷", &json!(0.0078125)));
        assert!(!default_matches("`{ name: adam }`", &json!({ "name": "cmaes", "params": {} })));
    }

    #[test]
    fn rendering_aligns_columns_and_keeps_other_text() {
        let text = render(DOC);
        assert!(text.starts_with("Prose before.\n\nParameters (default):\n"), "{text}");
        assert!(text.contains("\n  steps         500             number of updates T\n"), "{text}");
        assert!(text.contains("| `x` | not a parameter |"), "other tables stay as written: {text}");
        assert!(text.ends_with("After.\n"));
    }
}
