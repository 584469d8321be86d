//! Plugin parameters: a block of the YAML config, handed to a plugin's build function, which
//! turns it into its own typed, validated parameter struct.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A plugin's typed parameters. Deserialized with defaults filled in and unknown keys rejected
/// (`#[serde(default, deny_unknown_fields)]` on the struct), then validated.
pub trait PluginParams: DeserializeOwned + Serialize + Default {
    /// Checks the values together (ranges, consistency). The error's `path` is relative to the
    /// parameter block (`"learning_rate"`, `"lengthscale_prior.box"`).
    fn validate(&self) -> Result<(), ParamError> {
        Ok(())
    }
}

/// A bad parameter: where (key path), what was wrong, what was expected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParamError {
    /// Dotted key path from the root of the config file (`strategy.params.paths`); indices as
    /// `[i]`.
    pub path: String,
    /// What was wrong, with the bad value and what was expected.
    pub message: String,
}

impl ParamError {
    /// An error at `path` (relative to the block being validated; the registry prefixes it).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }

    /// Shorthand for an out-of-range value: "`value` is not valid: expected `expected`".
    pub fn invalid(path: impl Into<String>, value: impl std::fmt::Display, expected: impl std::fmt::Display) -> Self {
        Self::new(path, format!("{value} is not valid: expected {expected}"))
    }

    /// The same error with `prefix` put in front of its path.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }
}

/// Joins two dotted key paths (`a` + `b` → `a.b`, `a` + `[2]` → `a[2]`).
pub fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (_, true) => prefix.to_owned(),
        _ if rest.starts_with('[') => format!("{prefix}{rest}"),
        _ => format!("{prefix}.{rest}"),
    }
}

/// A block of configuration and the key path where it sits in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The block (a JSON object; `{}` when absent).
    pub value: Value,
    /// Key path of the block from the root of the file (`strategy.params`).
    pub path: String,
}

impl Params {
    /// A block at `path`. `null` counts as an empty block.
    pub fn new(value: Value, path: impl Into<String>) -> Self {
        let value = if value.is_null() { Value::Object(Default::default()) } else { value };
        Self { value, path: path.into() }
    }

    /// Deserializes and validates the plugin's parameter struct. Errors carry the full key
    /// path of the offending entry.
    pub fn parse<P: PluginParams>(&self) -> Result<P, ParamError> {
        // serde maps a list onto a struct's fields by position; `params` is always a mapping.
        if !self.value.is_object() {
            let what = match &self.value {
                Value::Array(_) => "a list".to_owned(),
                other => format!("`{other}`"),
            };
            return Err(ParamError::new(
                &self.path,
                format!("{what} is not valid: expected a mapping of parameter names to values, e.g. {{ key: value }}"),
            ));
        }
        let parsed: P = serde_path_to_error::deserialize(&self.value).map_err(|e| {
            let inner = e.path().to_string();
            let inner = if inner == "." { String::new() } else { inner };
            from_serde_message(&join_path(&self.path, &inner), &e.inner().to_string())
        })?;
        // serde also maps a list onto a nested struct's fields by position: where the parsed
        // struct has a mapping and the config a list, the config was not what it meant.
        if let Some(path) = list_for_mapping(&self.value, &to_value(&parsed), "") {
            return Err(ParamError::new(
                join_path(&self.path, &path),
                "a list is not valid: expected a mapping of parameter names to values, e.g. { key: value }",
            ));
        }
        parsed.validate().map_err(|e| e.prefixed(&self.path))?;
        Ok(parsed)
    }

    /// The child block at `key` (absent → `{}`), with its path.
    pub fn child(&self, key: &str) -> Params {
        Params::new(self.value.get(key).cloned().unwrap_or(Value::Null), join_path(&self.path, key))
    }
}

/// A serde message about the block at `parent` turned into an error at the offending key:
/// an unknown key is reported at the key itself, a missing one at its parent block.
/// The first key path where `given` holds a list and `parsed` a mapping.
fn list_for_mapping(given: &Value, parsed: &Value, path: &str) -> Option<String> {
    match (given, parsed) {
        (Value::Array(_), Value::Object(_)) => Some(path.to_owned()),
        (Value::Object(g), Value::Object(p)) => {
            g.iter().find_map(|(k, gv)| p.get(k).and_then(|pv| list_for_mapping(gv, pv, &join_path(path, k))))
        }
        (Value::Array(g), Value::Array(p)) => {
            g.iter().zip(p).enumerate().find_map(|(i, (gv, pv))| list_for_mapping(gv, pv, &format!("{path}[{i}]")))
        }
        _ => None,
    }
}

pub(crate) fn from_serde_message(parent: &str, message: &str) -> ParamError {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(end) = rest.find('`')
    {
        // serde_path_to_error already ends the path with the unknown key; a plain serde error
        // does not.
        let key = &rest[..end];
        let at_key = parent == key || parent.ends_with(&format!(".{key}"));
        let path = if at_key { parent.to_owned() } else { join_path(parent, key) };
        return ParamError::new(path, format!("unknown key {}", &message["unknown field ".len()..]));
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return ParamError::new(parent, format!("missing required key {rest}"));
    }
    ParamError::new(parent, plain_type_names(message))
}

/// serde names Rust types (`expected usize`); say what a config author should write.
fn plain_type_names(message: &str) -> String {
    // Internal type names that serde puts in its messages, as a user would say them.
    let mut message = message
        .replace("expected struct PluginSpec", "expected a mapping `{ name: …, params: { … } }`")
        .replace("expected struct BoundsSpec", "expected a mapping `{ lower: …, upper: … }`");
    // Any other parameter struct: a mapping of its keys (`les describe` lists them).
    while let Some(at) = message.find("expected struct ") {
        let name_end =
            message[at + 16..].find(|c: char| !c.is_alphanumeric() && c != '_').map_or(message.len(), |e| at + 16 + e);
        message.replace_range(at..name_end, "expected a mapping of parameter names to values");
    }
    let message = message.as_str();
    const NAMES: [(&str, &str); 8] = [
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected a list such as [1, 2]"),
        ("expected a string", "expected text"),
    ];
    let mut out = message.to_owned();
    for (from, to) in NAMES {
        if out.ends_with(from) {
            out = format!("{}{to}", &out[..out.len() - from.len()]);
        }
    }
    if let Some(rest) = out.strip_prefix("invalid type: ")
        && !rest.starts_with("floating point")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return format!("{got} is not valid: expected {expected}");
    }
    if let Some(rest) = out.strip_prefix("invalid type: floating point `")
        && let Some((value, expected)) = rest.split_once("`, expected ")
        && expected.starts_with("a whole number")
    {
        return format!(
            "{value} is not valid: expected {expected}, written without a decimal point or exponent (whole numbers above 18446744073709551615 do not fit)"
        );
    }
    out
}

/// Serializes a parameter struct to the JSON value stored in the resolved config.
pub fn to_value<P: Serialize>(params: &P) -> Value {
    serde_json::to_value(params).expect("invariant: parameter structs serialize to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Demo {
        paths: usize,
        inner: Inner,
    }
    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        rate: f64,
    }
    impl PluginParams for Demo {
        fn validate(&self) -> Result<(), ParamError> {
            if self.paths == 0 {
                return Err(ParamError::invalid("paths", self.paths, "at least 1"));
            }
            Ok(())
        }
    }

    #[test]
    fn errors_carry_full_paths() {
        let p = Params::new(json!({"paths": 3, "inner": {"rat": 1.0}}), "strategy.params");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.path, "strategy.params.inner.rat");
        assert!(e.message.starts_with("unknown key `rat`"), "{}", e.message);

        let p = Params::new(json!({"paths": "many"}), "strategy.params");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.path, "strategy.params.paths");
        assert_eq!(e.message, "string \"many\" is not valid: expected a whole number ≥ 0");

        // No Rust type name reaches the user.
        let p = Params::new(json!({"paths": 3, "inner": [1]}), "strategy.params");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.path, "strategy.params.inner");
        assert!(!e.message.contains("struct") && e.message.contains("expected a mapping"), "{}", e.message);
        let p = Params::new(json!({"inner": "fast"}), "strategy.params");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.message, "string \"fast\" is not valid: expected a mapping of parameter names to values");

        // A list is never mapped onto the fields by position.
        for value in [json!([1, 2]), json!(3), json!("paths")] {
            let e = Params::new(value.clone(), "strategy.params").parse::<Demo>().unwrap_err();
            assert_eq!(e.path, "strategy.params");
            assert!(e.message.contains("expected a mapping of parameter names to values"), "{value}: {}", e.message);
        }

        let p = Params::new(json!({"paths": 0}), "strategy.params");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.path, "strategy.params.paths");
        assert_eq!(e.message, "0 is not valid: expected at least 1");
    }

    #[test]
    fn absent_block_means_defaults() {
        let p = Params::new(Value::Null, "x");
        let e = p.parse::<Demo>().unwrap_err();
        assert_eq!(e.path, "x.paths", "defaults are validated too");
    }
}
