//! The keys of item-level taste (`docs/model.md` §2b, §3b, §4b, §5b): the taste space's
//! dimensions and spreads, new creators during a run, and the viewer's taste weight and drift.
//! Their defaults turn the mechanism on (D = 16, β_M = 1, λ_T = 0.01); D = 0 alone turns it off:
//! without a taste space the match is 0 and nothing drifts, so the weights are then irrelevant.

use super::Scenario;
use super::check::Checker;

/// Largest D: a viewer's taste is D floats of its state (64 B at D = 16).
pub const MAX_TASTE_DIMENSIONS: u32 = 64;

impl Checker {
    /// The taste keys of `[catalog]`, `[population]` and `[viewer]`.
    pub(super) fn taste(&mut self, s: &Scenario) {
        let (k, v) = (&s.catalog, &s.viewer);
        self.count(
            "catalog.taste_dimensions",
            k.taste_dimensions.into(),
            0,
            MAX_TASTE_DIMENSIONS.into(),
        );
        self.range("catalog.creator_taste_spread", k.creator_taste_spread, 0.0, 10.0);
        self.range("catalog.item_taste_spread", k.item_taste_spread, 0.0, 10.0);
        self.probability("catalog.new_creator_share", k.new_creator_share);
        self.range("population.taste_spread", s.population.taste_spread, 0.0, 10.0);
        self.range("viewer.taste_weight", v.taste_weight, -20.0, 20.0);
        self.probability("viewer.taste_drift_rate", v.taste_drift_rate);
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    fn refused(edit: impl FnOnce(&mut Scenario)) -> String {
        let mut s = Scenario::default();
        edit(&mut s);
        s.validate().expect_err("scenario should be refused").key
    }

    #[test]
    fn bad_taste_keys_are_refused() {
        assert_eq!(
            refused(|s| s.catalog.taste_dimensions = 65),
            "catalog.taste_dimensions"
        );
        assert_eq!(
            refused(|s| s.catalog.creator_taste_spread = -1.0),
            "catalog.creator_taste_spread"
        );
        assert_eq!(
            refused(|s| s.catalog.item_taste_spread = f64::NAN),
            "catalog.item_taste_spread"
        );
        assert_eq!(
            refused(|s| s.catalog.new_creator_share = 1.5),
            "catalog.new_creator_share"
        );
        assert_eq!(
            refused(|s| s.population.taste_spread = 11.0),
            "population.taste_spread"
        );
        // The defaults have a taste space; D = 0 alone is the model without it, whatever the
        // weights say (they have nothing to weigh).
        Scenario::default().validate().unwrap();
        let mut s = Scenario::default();
        s.catalog.taste_dimensions = 0;
        s.validate().unwrap();
        let mut s = Scenario::default();
        s.catalog.taste_dimensions = 16;
        s.viewer.taste_weight = 1.0;
        s.viewer.taste_drift_rate = 0.1;
        s.catalog.new_creator_share = 0.1;
        s.validate().unwrap();
    }
}
