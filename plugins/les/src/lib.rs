//! Local Entropy Search (LES). Work in progress.

pub mod acquisition;
pub mod linalg;
pub mod regret;
pub mod support;
pub mod testing;
