//! The one place that links every plugin crate into the binary. A crate named nowhere is not
//! linked, and its registry entries would silently vanish; `tests/registry.rs` asserts the
//! full list of registered names.

use les_baselines as _;
use les_gp as _;
use les_objectives as _;
use les_optimizers as _;
use les_strategy_les as _;
