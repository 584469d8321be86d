//! Every registered plugin documents exactly its parameters: the table in its `details` (the
//! same markdown file its crate docs include, see `les_core::param_docs`) has a row for every
//! key of its default params, nested blocks included, no row for a key the defaults lack, and
//! no literal default that differs from the real one. A `{ name, params }` block in the
//! defaults is checked against the named plugin's table.

use les_core::PluginKind;
use les_core::param_docs::{self, DocReport};
use les_core::registry::{self, EntryInfo};
use serde_json::Value;

use les as _;

fn entries() -> Vec<EntryInfo> {
    PluginKind::ALL.into_iter().flat_map(registry::list).collect()
}

/// The findings of `doc` against `defaults`, with nested blocks checked against their plugins'
/// tables; `at` names the place for the message. A nested block's params are a part of the named
/// plugin's (overrides), so there only documented-but-absent rows are no finding.
fn findings(at: &str, doc: &str, defaults: &Value, nested: bool, out: &mut Vec<String>) {
    let report: DocReport = param_docs::check(doc, defaults);
    for key in &report.undocumented {
        out.push(format!("{at}: `{key}` is in the defaults but not documented"));
    }
    for key in report.unknown.iter().filter(|_| !nested) {
        out.push(format!("{at}: `{key}` is documented but not in the defaults"));
    }
    for wrong in &report.wrong_default {
        out.push(format!("{at}: {wrong}"));
    }
    for (path, name, params) in &report.nested {
        let named = registry::find(name);
        match named.first() {
            None => out.push(format!("{at}: `{path}` names `{name}`, which is not registered")),
            Some(e) => findings(&format!("{at} → {path} ({name})"), e.details, params, true, out),
        }
    }
}

#[test]
fn every_default_key_is_documented_and_nothing_else() {
    let all = entries();
    assert!(all.len() >= 30, "the registry is linked ({} entries)", all.len());
    let mut out = Vec::new();
    for e in &all {
        let at = format!("{} `{}`", e.kind, e.name);
        if param_docs::rows(e.details).is_empty() && e.default_params.as_object().is_some_and(|o| !o.is_empty()) {
            out.push(format!("{at}: its details have no parameter table (| key | default | meaning |)"));
            continue;
        }
        findings(&at, e.details, &e.default_params, false, &mut out);
    }
    assert!(out.is_empty(), "{} findings:\n{}", out.len(), out.join("\n"));
}
