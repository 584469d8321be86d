//! The les conformance harness over every plugin linked into this crate, its own included.

use les_core::PluginKind;
use les_plugin_example as _;

#[test]
fn this_crates_plugins_conform() {
    let report = les::conformance::check_all();
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (kind, name) in [(PluginKind::InnerOptimizer, "nesterov"), (PluginKind::Acquisition, "support_variance")] {
        assert!(report.checked.contains(&(kind, name.to_owned())), "{kind} `{name}` was not checked");
    }
}
