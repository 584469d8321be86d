//! The plugin registry: every strategy, inner optimizer, sequence sampler, acquisition,
//! surrogate and objective registers an entry with `inventory`, and configs name them.
//!
//! An entry is plain data: a name, a one-line summary, a longer description, a function that
//! returns the default parameters, and a build function that parses the plugin's own typed
//! parameters (defaults filled in, unknown keys rejected, validated) and returns the component
//! with its resolved parameters. A plugin crate the binary never names is not linked and its
//! entries vanish: `src/plugins.rs` names every plugin crate, and a test asserts the full list.
//!
//! ```ignore
//! inventory::submit! {
//!     les_core::registry::StrategyEntry {
//!         name: "random",
//!         summary: "uniform random search",
//!         details: "…",
//!         default_params: les_core::registry::defaults_of::<RandomParams>,
//!         build: build_random,
//!     }
//! }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::params::{ParamError, Params, PluginParams, to_value};
use crate::{GpHyperparameters, InnerOptimizer, Objective, SequenceAcquisition, SequenceSampler, Strategy, Surrogate};

/// The families of plugins the registry knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    /// Decides where to evaluate next.
    Strategy,
    /// Runs on sample paths to simulate descent sequences.
    InnerOptimizer,
    /// Turns a fitted pathwise model into sampled descent sequences and support points (LES).
    SequenceSampler,
    /// Scores candidates from the sampled sequences (LES).
    Acquisition,
    /// Models the objective.
    Surrogate,
    /// A built-in or loaded objective.
    Objective,
}

impl PluginKind {
    /// All kinds, in listing order.
    pub const ALL: [PluginKind; 6] = [
        PluginKind::Strategy,
        PluginKind::InnerOptimizer,
        PluginKind::SequenceSampler,
        PluginKind::Acquisition,
        PluginKind::Surrogate,
        PluginKind::Objective,
    ];

    /// The kind's name as written on the command line (`inner_optimizer`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Strategy => "strategy",
            PluginKind::InnerOptimizer => "inner_optimizer",
            PluginKind::SequenceSampler => "sequence_sampler",
            PluginKind::Acquisition => "acquisition",
            PluginKind::Surrogate => "surrogate",
            PluginKind::Objective => "objective",
        }
    }

    /// Parses a kind name (`strategy`, `inner_optimizer`, `sequence_sampler`, `acquisition`,
    /// `surrogate`, `objective`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a build function may know besides its parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildContext {
    /// Input dimension `d` of the objective (0 while building the objective itself).
    pub dim: usize,
    /// The objective's true GP hyperparameters, when it has them (for within-model runs).
    pub oracle: Option<GpHyperparameters>,
    /// The run seed, for components that draw something once at build time.
    pub seed: u64,
}

/// A built component and its parameters with every default filled in.
pub struct Built<C: ?Sized> {
    /// The component.
    pub component: Box<C>,
    /// The parameters as resolved (defaults filled in): written to the resolved config.
    pub resolved: Value,
}

impl<C: ?Sized> Built<C> {
    /// A component built from `params`.
    pub fn new<P: Serialize>(component: Box<C>, params: &P) -> Self {
        Self { component, resolved: to_value(params) }
    }
}

/// ", did you mean `x`?" for the known name closest to `name`, when one is close.
pub fn did_you_mean(name: &str, known: &[&str]) -> String {
    let best = known.iter().map(|k| (edit_distance(name, k), *k)).min();
    match best {
        Some((d, k)) if d > 0 && d <= (name.chars().count() / 3).max(2) => format!(", did you mean `{k}`?"),
        _ => String::new(),
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Why a component could not be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PluginError {
    /// No plugin of that kind has that name.
    #[error("{path}: unknown {kind} `{name}`{}; known {kind} names: {}", did_you_mean(name, known), known.join(", "))]
    UnknownName {
        /// Kind looked up.
        kind: PluginKind,
        /// The name given.
        name: String,
        /// Known names of that kind, sorted.
        known: Vec<&'static str>,
        /// Key path of the name in the config.
        path: String,
    },
    /// A bad parameter.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// Two plugins registered the same name: a packaging bug, reported at start-up.
    #[error("two {kind} plugins are registered under the name `{name}`; rename one of them")]
    Duplicate {
        /// Kind.
        kind: PluginKind,
        /// The name registered twice.
        name: &'static str,
    },
    /// Any other failure to build (a library that does not load …), at a config key path.
    #[error("{path}: {message}")]
    Build {
        /// Key path of the block being built.
        path: String,
        /// What failed and how to fix it.
        message: String,
    },
}

/// One registry entry. `C` is the component trait (`dyn Strategy` …).
pub struct PluginEntry<C: ?Sized + 'static> {
    /// Name used in configs (`les`, `adam`, `gp`, `ackley`).
    pub name: &'static str,
    /// One line for `les list`.
    pub summary: &'static str,
    /// A paragraph for `les describe`: what it is, its parameters, its reference.
    pub details: &'static str,
    /// The default parameters (the parameter struct's `Default`, serialized).
    pub default_params: fn() -> Value,
    /// Parses and validates the parameters and builds the component.
    pub build: fn(&Params, &BuildContext) -> Result<Built<C>, PluginError>,
}

/// Registry entry of a strategy.
pub type StrategyEntry = PluginEntry<dyn Strategy>;
/// Registry entry of an inner optimizer.
pub type InnerOptimizerEntry = PluginEntry<dyn InnerOptimizer>;
/// Registry entry of a sequence sampler.
pub type SequenceSamplerEntry = PluginEntry<dyn SequenceSampler>;
/// Registry entry of an acquisition over descent sequences.
pub type AcquisitionEntry = PluginEntry<dyn SequenceAcquisition>;
/// Registry entry of a surrogate.
pub type SurrogateEntry = PluginEntry<dyn Surrogate>;
/// Registry entry of an objective.
pub type ObjectiveEntry = PluginEntry<dyn Objective>;

inventory::collect!(StrategyEntry);
inventory::collect!(InnerOptimizerEntry);
inventory::collect!(SequenceSamplerEntry);
inventory::collect!(AcquisitionEntry);
inventory::collect!(SurrogateEntry);
inventory::collect!(ObjectiveEntry);

/// Small parameters for the conformance harness (`tests/conformance.rs`), for a plugin whose
/// defaults are too slow to check quickly (LES's 250 paths × 500 steps). Optional: a plugin
/// without one is checked with its defaults. Merged over the defaults, so it names only the
/// keys it changes.
///
/// ```ignore
/// inventory::submit! {
///     les_core::registry::TestParams { kind: PluginKind::Strategy, name: "les", params: les_test_params }
/// }
/// ```
pub struct TestParams {
    /// Kind of the plugin.
    pub kind: PluginKind,
    /// Its registered name.
    pub name: &'static str,
    /// The parameters to check it with.
    pub params: fn() -> Value,
}

inventory::collect!(TestParams);

/// The test parameters registered for plugin `name` of `kind`, or `{}` (its defaults).
pub fn test_params(kind: PluginKind, name: &str) -> Value {
    inventory::iter::<TestParams>
        .into_iter()
        .find(|t| t.kind == kind && t.name == name)
        .map_or_else(|| Value::Object(Default::default()), |t| (t.params)())
}

/// `default_params` for a parameter struct: its `Default`, serialized.
pub fn defaults_of<P: PluginParams>() -> Value {
    to_value(&P::default())
}

/// Component traits that have a registry.
pub trait Component: 'static {
    /// The kind of plugin that builds this component.
    const KIND: PluginKind;
    /// All registered entries of this kind, sorted by name.
    fn entries() -> Vec<&'static PluginEntry<Self>>;
}

macro_rules! component {
    ($ty:ty, $kind:expr) => {
        impl Component for $ty {
            const KIND: PluginKind = $kind;
            fn entries() -> Vec<&'static PluginEntry<Self>> {
                let mut all: Vec<_> = inventory::iter::<PluginEntry<Self>>.into_iter().collect();
                all.sort_by_key(|e| e.name);
                all
            }
        }
    };
}
component!(dyn Strategy, PluginKind::Strategy);
component!(dyn InnerOptimizer, PluginKind::InnerOptimizer);
component!(dyn SequenceSampler, PluginKind::SequenceSampler);
component!(dyn SequenceAcquisition, PluginKind::Acquisition);
component!(dyn Surrogate, PluginKind::Surrogate);
component!(dyn Objective, PluginKind::Objective);

/// Kind-independent view of an entry, for listing and describing.
#[derive(Clone, Debug)]
pub struct EntryInfo {
    /// Kind.
    pub kind: PluginKind,
    /// Name.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Longer description.
    pub details: &'static str,
    /// Default parameters.
    pub default_params: Value,
}

fn infos<C: ?Sized + Component>() -> Vec<EntryInfo> {
    C::entries()
        .into_iter()
        .map(|e| EntryInfo {
            kind: C::KIND,
            name: e.name,
            summary: e.summary,
            details: e.details,
            default_params: (e.default_params)(),
        })
        .collect()
}

/// Every registered plugin of `kind`, sorted by name.
pub fn list(kind: PluginKind) -> Vec<EntryInfo> {
    match kind {
        PluginKind::Strategy => infos::<dyn Strategy>(),
        PluginKind::InnerOptimizer => infos::<dyn InnerOptimizer>(),
        PluginKind::SequenceSampler => infos::<dyn SequenceSampler>(),
        PluginKind::Acquisition => infos::<dyn SequenceAcquisition>(),
        PluginKind::Surrogate => infos::<dyn Surrogate>(),
        PluginKind::Objective => infos::<dyn Objective>(),
    }
}

/// Every plugin registered under `name`, of any kind.
pub fn find(name: &str) -> Vec<EntryInfo> {
    PluginKind::ALL.into_iter().flat_map(list).filter(|e| e.name == name).collect()
}

/// Fails when two plugins of one kind share a name. Called at start-up.
pub fn check_duplicates() -> Result<(), PluginError> {
    for kind in PluginKind::ALL {
        let names: Vec<_> = list(kind).into_iter().map(|e| e.name).collect();
        for pair in names.windows(2) {
            if pair[0] == pair[1] {
                return Err(PluginError::Duplicate { kind, name: pair[0] });
            }
        }
    }
    Ok(())
}

/// The entry of kind `C` named `name`, or an error listing the known names (at `path`).
pub fn lookup<C: ?Sized + Component>(name: &str, path: &str) -> Result<&'static PluginEntry<C>, PluginError> {
    let entries = C::entries();
    entries.iter().find(|e| e.name == name).copied().ok_or_else(|| PluginError::UnknownName {
        kind: C::KIND,
        name: name.to_owned(),
        known: entries.iter().map(|e| e.name).collect(),
        path: path.to_owned(),
    })
}

/// Builds the plugin `name` of kind `C` from `params`.
pub fn build<C: ?Sized + Component>(
    name: &str,
    name_path: &str,
    params: &Params,
    ctx: &BuildContext,
) -> Result<Built<C>, PluginError> {
    (lookup::<C>(name, name_path)?.build)(params, ctx)
}

/// A nested `{ name, params }` block naming another plugin, as found inside a plugin's own
/// parameters (LES's `inner_optimizer`, a strategy's `surrogate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// Registered name.
    pub name: String,
    /// The plugin's own parameters (`{}` = all defaults).
    #[serde(default = "empty_object")]
    pub params: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl PluginSpec {
    /// A spec with default parameters.
    pub fn named(name: &str) -> Self {
        Self { name: name.to_owned(), params: empty_object() }
    }

    /// Builds the named plugin; `path` is the key path of this block. Replaces `params` by the
    /// resolved parameters, so the enclosing plugin's resolved config shows every default.
    pub fn build<C: ?Sized + Component>(&mut self, path: &str, ctx: &BuildContext) -> Result<Box<C>, PluginError> {
        let params = Params::new(self.params.clone(), crate::params::join_path(path, "params"));
        let built = build::<C>(&self.name, &crate::params::join_path(path, "name"), &params, ctx)?;
        self.params = built.resolved;
        Ok(built.component)
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn close_names_are_suggested() {
        let known = ["les", "logei", "mes", "sobol", "turbo"];
        assert_eq!(did_you_mean("lse", &known), ", did you mean `les`?");
        assert_eq!(did_you_mean("turob", &known), ", did you mean `turbo`?");
        assert_eq!(did_you_mean("gradient", &known), "");
        assert_eq!(did_you_mean("les", &known), "", "an exact name needs no suggestion");
    }
}
