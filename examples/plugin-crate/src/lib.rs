//! Two plugins of les in a crate of their own. Each is a type implementing one trait of
//! `les-core` plus an `inventory::submit!` registry entry; linking the crate (`use
//! les_plugin_example as _;` in the binary) is all it takes for `les::main()` to know them.
//!
//! - [`nesterov`]: an inner optimizer, projected gradient descent with Nesterov momentum;
//! - [`support_variance`]: an acquisition over LES's descent sequences, the posterior variance
//!   at the support points (uncertainty sampling along the sequences), conditioned on the
//!   points in flight.

pub mod nesterov;
pub mod support_variance;
