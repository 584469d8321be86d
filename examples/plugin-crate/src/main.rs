//! The `les` command line with this crate's plugins linked in: `list`, `describe`, `run` … all
//! work as in `les`, and configs can name `nesterov` and `support_variance`.

use les_plugin_example as _;

fn main() -> std::process::ExitCode {
    les::main()
}
