//! YAML, in one place: parsing into a `serde_json::Value`, the source map from key paths to
//! line and column (for error messages that point into the file), the translation of the
//! parser's errors into the user's words, and serialisation. Everything else in the workspace
//! (the run config, benchmark suites, the run directory's `config.yaml`, the report) calls
//! this module, so the YAML crate (serde-saphyr) is named here only.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::config::ConfigError;
use crate::params::join_path;

/// Parses YAML `text` (from `file`, named in messages) into a value; a syntax error is a
/// located [`ConfigError`].
pub fn parse(file: &Path, text: &str) -> Result<Value, ConfigError> {
    serde_saphyr::from_str(text).map_err(|e| syntax_error(file, text, &e))
}

/// A parsed YAML file: its value and where each key path sits in it.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file's content as a value.
    pub value: Value,
    /// Key path → line and column.
    pub map: SourceMap,
}

impl Document {
    /// Parses `text` (from `file`) and builds its source map.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        Ok(Self { value: parse(file, text)?, map: SourceMap::build(text) })
    }
}

/// Serialises a value (a resolved config, default params) as YAML.
pub fn to_string(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|_| serde_json::to_string_pretty(value).unwrap_or_default())
}

/// Where each key path (`strategy.params.paths`, `problems[1].objective`) sits in the YAML
/// text: the 1-based line and column of every mapping key and sequence item.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    locations: HashMap<String, (usize, usize)>,
}

impl SourceMap {
    /// Walks the YAML event stream and records the position of every mapping key and sequence
    /// item under its dotted key path.
    pub fn build(text: &str) -> Self {
        use serde_saphyr::granit_parser::{Event, Parser};
        enum Frame {
            Map { path: String, next_key: Option<String>, expecting_key: bool },
            Seq { path: String, index: usize },
        }
        let mut locations = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        // The path at which the next node starts, recording its location.
        let node_path = |stack: &mut Vec<Frame>,
                         locations: &mut HashMap<String, (usize, usize)>,
                         line: usize,
                         col: usize|
         -> Option<String> {
            match stack.last_mut() {
                None => {
                    locations.entry(String::new()).or_insert((line, col));
                    Some(String::new())
                }
                Some(Frame::Map { path, next_key, expecting_key }) => {
                    if *expecting_key {
                        None
                    } else {
                        *expecting_key = true;
                        next_key.take().map(|k| join_path(path, &k))
                    }
                }
                Some(Frame::Seq { path, index }) => {
                    let p = format!("{path}[{index}]");
                    *index += 1;
                    locations.insert(p.clone(), (line, col));
                    Some(p)
                }
            }
        };
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let (line, col) = (span.start.line(), span.start.col() + 1);
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { path, next_key, expecting_key }) = stack.last_mut()
                        && *expecting_key
                    {
                        *expecting_key = false;
                        locations.insert(join_path(path, &value), (line, col));
                        *next_key = Some(value.into_owned());
                        continue;
                    }
                    node_path(&mut stack, &mut locations, line, col);
                }
                Event::MappingStart(..) => {
                    let path = node_path(&mut stack, &mut locations, line, col).unwrap_or_default();
                    stack.push(Frame::Map { path, next_key: None, expecting_key: true });
                }
                Event::SequenceStart(..) => {
                    let path = node_path(&mut stack, &mut locations, line, col).unwrap_or_default();
                    stack.push(Frame::Seq { path, index: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::Alias(..) => {
                    node_path(&mut stack, &mut locations, line, col);
                }
                _ => {}
            }
        }
        Self { locations }
    }

    /// The key path whose location is the last one at or before `loc` (the key a value at
    /// `loc` belongs to).
    pub fn key_before(&self, loc: (usize, usize)) -> Option<String> {
        self.locations
            .iter()
            .filter(|(path, l)| !path.is_empty() && **l <= loc)
            .max_by_key(|(path, l)| (**l, path.len()))
            .map(|(path, _)| path.clone())
    }

    /// The location of `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path.to_owned();
        loop {
            if let Some(&loc) = self.locations.get(&p) {
                return Some(loc);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

/// A YAML syntax error of `text` (from `file`) as a located config error, in the user's words:
/// a duplicated key names both lines, a NaN names its key, an oversized file says so.
fn syntax_error(file: &Path, text: &str, e: &serde_saphyr::Error) -> ConfigError {
    let location = e.location().map(|l| (l.line() as usize, l.column() as usize));
    let message = e.to_string();
    let first = message.lines().next().unwrap_or("invalid YAML");
    // The location is already in front of the message; drop serde-saphyr's copy.
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = match first.find(": ") {
        Some(i) if first.starts_with("line ") => &first[i + 2..],
        _ => first,
    };
    let plain = |message: String| ConfigError { file: file.to_owned(), location, path: String::new(), message };
    if let Some(rest) = first.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        let lines = key_lines(text, key);
        let here = location.map(|l| l.0);
        let earlier = lines.iter().copied().rfind(|&l| here.is_none_or(|h| l < h));
        let message = match (earlier, here) {
            (Some(a), Some(b)) => format!("key `{key}` appears twice (lines {a} and {b}): keep one of them"),
            _ => format!("key `{key}` appears twice in the same mapping: keep one of them"),
        };
        return plain(message);
    }
    if first.contains("non-finite float") {
        let key = location.and_then(|loc| SourceMap::build(text).key_before(loc));
        let value = first.split('`').nth(1).unwrap_or(".nan");
        let what = if value.contains("nan") || value.contains("NaN") { "NaN" } else { "infinity" };
        return match key {
            Some(key) => ConfigError {
                file: file.to_owned(),
                location,
                path: key.clone(),
                message: format!("{what} (`{value}`) is not a valid value: expected a finite number"),
            },
            None => plain(format!("{what} (`{value}`) is not a valid value here: expected a finite number")),
        };
    }
    if let Some(rest) = first.strip_prefix("budget breached: ") {
        let (kind, count) = match rest.split_once('{') {
            Some((kind, fields)) => {
                let count = fields.trim_end_matches('}').split(':').nth(1).map(|c| c.trim().to_owned());
                (kind.trim(), count)
            }
            None => (rest.trim(), None),
        };
        let words = match kind {
            "Nodes" => "YAML nodes (keys, values and list items)",
            "Events" => "YAML parser events",
            "Aliases" => "aliases (`*name`)",
            "Anchors" => "anchors (`&name`)",
            "Depth" => "levels of nesting",
            _ => "YAML structure",
        };
        let count = count.map(|c| format!(" ({c} reached)")).unwrap_or_default();
        return plain(format!(
            "the file is far larger than a config can be: it exceeds les's limit on {words}{count}; is this the right file?"
        ));
    }
    plain(format!("not valid YAML: {first}"))
}

/// The 1-based lines on which `key:` starts a mapping entry (block or flow style).
fn key_lines(text: &str, key: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.match_indices(key).any(|(i, _)| {
                let before = line[..i].trim_end();
                let after = line[i + key.len()..].trim_start();
                after.starts_with(':')
                    && (before.is_empty() || before.ends_with('{') || before.ends_with(',') || before.ends_with('-'))
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_items_are_found() {
        let text = "a: 1\nlist:\n  - x: 2\n    y: { z: 3 }\n  - label: b\n";
        let map = SourceMap::build(text);
        assert_eq!(map.locate("a"), Some((1, 1)));
        assert_eq!(map.locate("list[0].y.z"), Some((4, 10)));
        assert_eq!(map.locate("list[1].label"), Some((5, 5)));
        assert_eq!(map.locate("list[1].missing"), Some((5, 5)), "falls back to the item");
    }

    #[test]
    fn a_value_belongs_to_the_key_before_it() {
        let map = SourceMap::build("a: 1\nb:\n  c: .nan\n");
        assert_eq!(map.key_before((3, 6)), Some("b.c".to_owned()));
        assert_eq!(map.key_before((1, 4)), Some("a".to_owned()));
    }

    #[test]
    fn serialised_values_parse_back() {
        let value = serde_json::json!({ "a": [1, 2.5, "x"], "b": { "c": null, "d": true } });
        assert_eq!(parse(Path::new("t.yaml"), &to_string(&value)).expect("parses"), value);
    }
}
