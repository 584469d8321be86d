//! Built-in objectives (analytic test functions, GP-sample objectives, rover) and the loaders
//! for user objectives: shared libraries through the C ABI, and external commands.

pub mod builtin;
pub mod command;
pub mod external;
pub mod isolated;
pub mod library;
pub mod process;
