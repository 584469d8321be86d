//! Built-in objectives: analytic test functions in their native boxes, draws from a GP prior and
//! the rover trajectory benchmark.
//!
//! A config selects one with `objective: { builtin: <name>, …params }`; the registry hands the
//! block without the `builtin` key to the objective as parameters at path `objective`, so errors
//! read `objective.dim`. Every built-in reports its **native** box; the runner maps the unit cube
//! that the strategies work in affinely onto it, which reproduces the paper's convention "each
//! function maps [0, 1]^d to its native domain" (docs/les-algorithm.md §16.3). All built-ins are exact:
//! `evaluate` returns the noise-free value and the runner adds 𝒩(0, noise_std²) noise.
//!
//! | name | domain | minimum | d |
//! |---|---|---|---|
//! | `square` | [0, 1]^d | 0 at 0.5·1 | any |
//! | `sphere` | [−5.12, 5.12]^d | 0 at 0 | any |
//! | `ackley` | [−32.768, 32.768]^d | 0 at 0 | any |
//! | `dixon_price` | [−10, 10]^d | 0 at x_i = 2^{−(2^i−2)/2^i} | any |
//! | `rosenbrock` | [−5, 10]^d | 0 at 1 | ≥ 2 |
//! | `levy` | [−10, 10]^d | 0 at 1 | any |
//! | `rastrigin` | [−5.12, 5.12]^d | 0 at 0 | any |
//! | `styblinski_tang` | [−5, 5]^d | −39.166166·d at −2.903534·1 | any |
//! | `griewank` | [−600, 600]^d | 0 at 0 | any |
//! | `branin` | [−5, 10] × [0, 15] | 0.397887 | 2 |
//! | `hartmann3` | [0, 1]^3 | −3.862780 | 3 |
//! | `hartmann6` | [0, 1]^6 | −3.322368 | 6 |
//! | `gp_sample` | [0, 1]^d | unknown | any |
//! | `rover` | [−1/30, 1/15]^60 | unknown | 60 |
//!
//! Parameters of the analytic functions defined in any dimension:
//!
#![doc = include_str!("../params/any_dim.md")]
//!
//! and of those defined in one dimension (`branin`, `hartmann3`, `hartmann6`, `rover`):
//!
#![doc = include_str!("../params/fixed_dim.md")]
//!
//! `gp_sample` has its own, see [`gp_sample`].
//!
//! ```yaml
//! objective: { builtin: ackley, dim: 10, noise_std: 0.01 }
//! ```
//!
//! From Rust, [`builtin_by_name`] builds any of them from a JSON parameter block, and the
//! formula types ([`Ackley`] …) can be used directly through [`TestFunction`].

pub mod ackley;
pub mod analytic;
pub mod branin;
pub mod dixon_price;
pub mod gp_sample;
pub mod griewank;
pub mod hartmann;
pub mod levy;
pub mod rastrigin;
pub mod rosenbrock;
pub mod rover;
pub mod sphere;
pub mod square;
pub mod styblinski_tang;

use les_core::registry::{self, PluginKind};
use les_core::{BuildContext, Objective, Params, PluginError};
use serde_json::Value;

pub use ackley::Ackley;
pub use analytic::{AnalyticObjective, AnyDimParams, FixedDimParams, TestFunction};
pub use branin::Branin;
pub use dixon_price::DixonPrice;
pub use gp_sample::{Complexity, GpSample, GpSampleParams};
pub use griewank::Griewank;
pub use hartmann::{Hartmann3, Hartmann6};
pub use levy::Levy;
pub use rastrigin::Rastrigin;
pub use rosenbrock::Rosenbrock;
pub use rover::Rover;
pub use sphere::Sphere;
pub use square::Square;
pub use styblinski_tang::StyblinskiTang;

/// Names of every built-in objective, sorted.
pub const BUILTIN_NAMES: &[&str] = &[
    "ackley",
    "branin",
    "dixon_price",
    "gp_sample",
    "griewank",
    "hartmann3",
    "hartmann6",
    "levy",
    "rastrigin",
    "rosenbrock",
    "rover",
    "sphere",
    "square",
    "styblinski_tang",
];

/// Builds the built-in objective `name` from a parameter block such as
/// `json!({"dim": 5, "noise_std": 0.01})` (`null` = all defaults), exactly as a config's
/// `objective: { builtin: name, … }` would. Errors carry paths under `objective`.
pub fn builtin_by_name(name: &str, params: Value) -> Result<Box<dyn Objective>, PluginError> {
    if !BUILTIN_NAMES.contains(&name) {
        return Err(PluginError::UnknownName {
            kind: PluginKind::Objective,
            name: name.to_owned(),
            known: BUILTIN_NAMES.to_vec(),
            path: "objective.builtin".to_owned(),
        });
    }
    let params = Params::new(params, "objective");
    Ok(registry::build::<dyn Objective>(name, "objective.builtin", &params, &BuildContext::default())?.component)
}
