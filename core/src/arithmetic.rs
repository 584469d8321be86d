//! Which arithmetic this process computes with, where a plugin chooses it at run time (the GP's
//! random-feature kernels pick AVX2/FMA or a portable kernel on the machine they run on).
//!
//! Every ask record of the journal carries the choices ([`current`]) in `arithmetic`. A resume
//! on a machine whose choices differ still replays the journal exactly (the journal holds every
//! point), but the points asked from then on follow this machine's arithmetic; the study says
//! so in one sentence ([`difference`]) instead of leaving the user to find out.

use std::collections::BTreeMap;

/// A run-time arithmetic choice, registered by the plugin that makes it.
pub struct ArithmeticEntry {
    /// What is chosen (`gp_kernels`).
    pub name: &'static str,
    /// The choice on this machine (`avx2-fma`, `portable`).
    pub choice: fn() -> &'static str,
}

inventory::collect!(ArithmeticEntry);

/// Every registered choice on this machine, by name.
pub fn current() -> BTreeMap<String, String> {
    inventory::iter::<ArithmeticEntry>.into_iter().map(|e| (e.name.to_owned(), (e.choice)().to_owned())).collect()
}

/// The sentence that tells a resumed run that `journaled` (the choices its asks recorded)
/// differ from `now`; `None` when they agree on every name both know.
pub fn difference(journaled: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Option<String> {
    let differing: Vec<String> = journaled
        .iter()
        .filter_map(|(name, then)| match now.get(name) {
            Some(here) if here == then => None,
            Some(here) => Some(format!("{name} {then} then, {here} here")),
            None => Some(format!("{name} {then} then, not used here")),
        })
        .collect();
    (!differing.is_empty()).then(|| {
        format!(
            "this run was journaled with other arithmetic ({}): the journal replays exactly, but the points \
             asked from now on follow this machine's arithmetic and can differ in their last bits from those \
             of an uninterrupted run on the first machine",
            differing.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_names_what_changed() {
        let then: BTreeMap<String, String> = [("gp_kernels".to_owned(), "avx2-fma".to_owned())].into();
        let same = then.clone();
        assert_eq!(difference(&then, &same), None);
        let here: BTreeMap<String, String> = [("gp_kernels".to_owned(), "portable".to_owned())].into();
        let sentence = difference(&then, &here).expect("differs");
        assert!(sentence.contains("gp_kernels avx2-fma then, portable here"), "{sentence}");
        assert!(difference(&BTreeMap::new(), &here).is_none(), "an old journal records nothing to compare");
    }
}
