//! Line and column of a dotted key path (`problems[1].objective.complexity`) in YAML text, for
//! error messages about suite files. (The run-config loader of `les-core` keeps its own source
//! map private; this is the same walk over the YAML event stream, reduced to one lookup.)

use std::collections::HashMap;

use les_core::params::join_path;
use serde_saphyr::granit_parser::{Event, Parser};

/// Positions (1-based line, column) of every mapping key and sequence item of `text`.
pub fn source_map(text: &str) -> HashMap<String, (usize, usize)> {
    enum Frame {
        Map { path: String, next_key: Option<String>, expecting_key: bool },
        Seq { path: String, index: usize },
    }
    let mut locations = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // The path at which the next (non-key) node starts.
    fn node_path(stack: &mut [Frame], locations: &mut HashMap<String, (usize, usize)>, at: (usize, usize)) -> String {
        match stack.last_mut() {
            None => String::new(),
            Some(Frame::Map { path, next_key, expecting_key }) => {
                *expecting_key = true;
                next_key.take().map(|k| join_path(path, &k)).unwrap_or_default()
            }
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                locations.insert(p.clone(), at);
                p
            }
        }
    }
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { break };
        let at = (span.start.line(), span.start.col() + 1);
        match event {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, next_key, expecting_key }) = stack.last_mut()
                    && *expecting_key
                {
                    *expecting_key = false;
                    locations.insert(join_path(path, &value), at);
                    *next_key = Some(value.into_owned());
                    continue;
                }
                node_path(&mut stack, &mut locations, at);
            }
            Event::MappingStart(..) => {
                let path = node_path(&mut stack, &mut locations, at);
                stack.push(Frame::Map { path, next_key: None, expecting_key: true });
            }
            Event::SequenceStart(..) => {
                let path = node_path(&mut stack, &mut locations, at);
                stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            Event::Alias(..) => {
                node_path(&mut stack, &mut locations, at);
            }
            _ => {}
        }
    }
    locations
}

/// The location of `path`, or of its nearest ancestor that has one.
pub fn locate(map: &HashMap<String, (usize, usize)>, path: &str) -> Option<(usize, usize)> {
    let mut p = path.to_owned();
    loop {
        if let Some(&loc) = map.get(&p) {
            return Some(loc);
        }
        let cut = p.rfind(['.', '['])?;
        p.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_items_are_found() {
        let text = "a: 1\nlist:\n  - x: 2\n    y: { z: 3 }\n  - label: b\n";
        let map = source_map(text);
        assert_eq!(locate(&map, "a"), Some((1, 1)));
        assert_eq!(locate(&map, "list[0].y.z"), Some((4, 10)));
        assert_eq!(locate(&map, "list[1].label"), Some((5, 5)));
        assert_eq!(locate(&map, "list[1].missing"), Some((5, 5)), "falls back to the item");
    }
}
