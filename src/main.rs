//! The `les` binary: the library's command line with the plugins of this workspace.

fn main() -> std::process::ExitCode {
    les::main()
}
