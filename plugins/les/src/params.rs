//! Parameters of the LES strategy (the `strategy.params` block of a config).

use les_core::registry::PluginSpec;
use les_core::{ParamError, PluginParams};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default local-regret threshold ε (the reference's `eps_conv`).
pub const DEFAULT_REGRET_EPSILON: f64 = 0.02;
/// Default confidence of the stopping rule.
pub const DEFAULT_STOP_PROBABILITY: f64 = 0.95;

/// The optional probabilistic stopping rule (spec §12): stop when the fraction of paths whose
/// local regret `r_l` is below `epsilon` reaches `probability`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopRule {
    /// Regret threshold ε, in the surrogate's output scale (standardized units by default).
    pub epsilon: f64,
    /// Required fraction of paths with `r_l < ε`, in `(0, 1]`.
    pub probability: f64,
}

impl Default for StopRule {
    fn default() -> Self {
        Self { epsilon: DEFAULT_REGRET_EPSILON, probability: DEFAULT_STOP_PROBABILITY }
    }
}

/// Parameters of [`crate::LesStrategy`]; defaults reproduce the reference `les_250_8`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LesParams {
    /// The surrogate; it must draw sample paths.
    pub surrogate: PluginSpec,
    /// The sequence sampler (`descent`: paths, inner optimizer, support points).
    pub sampler: PluginSpec,
    /// The acquisition over the sampled sequences (`mutual_information`).
    pub acquisition: PluginSpec,
    /// Candidates within this Euclidean distance of an observed point are excluded; absent =
    /// no exclusion (the reference).
    pub exclude_observed_tol: Option<f64>,
    /// Threshold ε of the logged fraction of paths with local regret below ε.
    pub regret_epsilon: f64,
    /// Optional stopping rule; absent = run to the budget (the reference).
    pub stop: Option<StopRule>,
}

impl Default for LesParams {
    fn default() -> Self {
        Self {
            surrogate: PluginSpec::named("gp"),
            sampler: PluginSpec::named("descent"),
            acquisition: PluginSpec::named("mutual_information"),
            exclude_observed_tol: None,
            regret_epsilon: DEFAULT_REGRET_EPSILON,
            stop: None,
        }
    }
}

impl PluginParams for LesParams {
    fn validate(&self) -> Result<(), ParamError> {
        if let Some(tol) = self.exclude_observed_tol
            && !(tol.is_finite() && tol >= 0.0)
        {
            return Err(ParamError::invalid("exclude_observed_tol", tol, "a finite distance ≥ 0, or absent"));
        }
        if !self.regret_epsilon.is_finite() {
            return Err(ParamError::invalid("regret_epsilon", self.regret_epsilon, "a finite number"));
        }
        if let Some(stop) = &self.stop {
            if !stop.epsilon.is_finite() {
                return Err(ParamError::invalid("stop.epsilon", stop.epsilon, "a finite number"));
            }
            if !(stop.probability > 0.0 && stop.probability <= 1.0) {
                return Err(ParamError::invalid("stop.probability", stop.probability, "a probability in (0, 1]"));
            }
        }
        Ok(())
    }
}

/// Keys of the flat parameter block of earlier versions that now belong to the `descent`
/// sampler.
pub const LEGACY_SAMPLER_KEYS: [&str; 4] = ["paths", "support_points", "support_mode", "inner_optimizer"];
/// Keys of the flat parameter block of earlier versions that now belong to the
/// `mutual_information` acquisition.
pub const LEGACY_ACQUISITION_KEYS: [&str; 3] = ["entropy_of", "min_variance", "virtual_noise"];

/// Rewrites the flat parameters of earlier versions (`paths: 64, entropy_of: observation` at
/// the top of `strategy.params`) into the composed form (`sampler: { name: descent, params:
/// { paths: 64 } }`, `acquisition: { name: mutual_information, params: { … } }`), so that old
/// configs and the resolved configs of old run directories keep working. `path` is the key
/// path of the block, for errors. A flat key next to a `sampler`/`acquisition` block that
/// names another plugin, or that sets the same key, is an error.
pub fn migrate_flat_params(value: &Value, path: &str) -> Result<Value, ParamError> {
    let Some(object) = value.as_object() else { return Ok(value.clone()) };
    let mut out = object.clone();
    for (block, plugin, keys) in [
        ("sampler", "descent", &LEGACY_SAMPLER_KEYS[..]),
        ("acquisition", "mutual_information", &LEGACY_ACQUISITION_KEYS[..]),
    ] {
        let moved: Map<String, Value> =
            keys.iter().filter_map(|k| out.remove(*k).map(|v| ((*k).to_owned(), v))).collect();
        if moved.is_empty() {
            continue;
        }
        let first = moved.keys().next().cloned().unwrap_or_default();
        let key_path = les_core::params::join_path(path, &first);
        let spec = out.entry(block.to_owned()).or_insert_with(|| serde_json::json!({ "name": plugin }));
        let Some(spec) = spec.as_object_mut() else {
            return Err(ParamError::new(key_path, format!("`{first}` is a key of `{block}.params`; move it there")));
        };
        if spec.get("name").and_then(Value::as_str).is_some_and(|n| n != plugin) {
            return Err(ParamError::new(
                key_path,
                format!(
                    "`{first}` is a parameter of the `{plugin}` {block}, not of the one `{block}.name` names; move it to `{block}.params` if that plugin has it"
                ),
            ));
        }
        spec.entry("name").or_insert_with(|| Value::from(plugin));
        let params = spec.entry("params").or_insert_with(|| Value::Object(Map::new()));
        if params.is_null() {
            *params = Value::Object(Map::new());
        }
        let Some(params) = params.as_object_mut() else { continue };
        for (k, v) in moved {
            if params.contains_key(&k) {
                return Err(ParamError::new(
                    les_core::params::join_path(path, &k),
                    format!("`{k}` is given both here and in `{block}.params`; keep one"),
                ));
            }
            params.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::Params;
    use serde_json::json;

    fn parse(v: Value) -> Result<LesParams, ParamError> {
        let migrated = migrate_flat_params(&v, "s")?;
        Params::new(migrated, "s").parse::<LesParams>()
    }

    #[test]
    fn defaults_and_errors() {
        let p: LesParams = Params::new(json!({}), "strategy.params").parse().expect("defaults are valid");
        assert_eq!(p.regret_epsilon, 0.02);
        assert_eq!((p.sampler.name.as_str(), p.acquisition.name.as_str()), ("descent", "mutual_information"));
        assert_eq!(p.surrogate.name, "gp");
        let e = parse(json!({"stop": {"probability": 1.5}})).unwrap_err();
        assert_eq!(e.path, "s.stop.probability");
        let e = parse(json!({"entropy": "latent"})).unwrap_err();
        assert_eq!(e.path, "s.entropy");
        let p = parse(json!({"stop": {"probability": 0.9}})).expect("valid");
        assert_eq!(p.stop.expect("set").epsilon, 0.02);
    }

    #[test]
    fn flat_parameters_of_earlier_versions_move_into_their_blocks() {
        let p = parse(json!({"paths": 16, "inner_optimizer": {"name": "cmaes"}, "entropy_of": "observation"}))
            .expect("valid");
        assert_eq!(p.sampler.name, "descent");
        assert_eq!(p.sampler.params, json!({"paths": 16, "inner_optimizer": {"name": "cmaes"}}));
        assert_eq!(p.acquisition.name, "mutual_information");
        assert_eq!(p.acquisition.params, json!({"entropy_of": "observation"}));
        // Merged into an explicit block of the same plugin.
        let p = parse(json!({"paths": 16, "sampler": {"name": "descent", "params": {"support_points": 4}}}))
            .expect("valid");
        assert_eq!(p.sampler.params, json!({"paths": 16, "support_points": 4}));
        let e = parse(json!({"paths": 16, "sampler": {"name": "descent", "params": {"paths": 4}}})).unwrap_err();
        assert_eq!(e.path, "s.paths");
        assert!(e.message.contains("both"), "{e}");
        let e = parse(json!({"entropy_of": "latent", "acquisition": {"name": "final_point_information"}})).unwrap_err();
        assert_eq!(e.path, "s.entropy_of");
        assert!(e.message.contains("mutual_information"), "{e}");
        assert_eq!(migrate_flat_params(&json!({}), "s").expect("ok"), json!({}));
    }
}
