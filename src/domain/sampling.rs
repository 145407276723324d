//! Drawing the moderation sample: every decision in the rubric's `always` categories, plus a
//! seeded random share of the rest. The same candidates and seed always draw the same sample.

use super::num::Milli;
use super::rubric::{Always, ModerationRule};

/// A submitted decision not yet considered by a draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// `awarded`, `not_yet` or `referred`.
    pub outcome: String,
    /// `rule`, `override` or `referred`.
    pub kind: String,
    pub borderline: bool,
}

/// What a draw decided for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub id: String,
    pub drawn: bool,
    /// `always:not_yet`, `always:referred`, `always:override`, `always:borderline`, `random`, or
    /// `not_drawn`.
    pub reason: String,
}

/// SplitMix64: small, fast and fixed forever, so a recorded seed redraws the same sample in any
/// future version of assay.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

fn always_reason(c: &Candidate, rule: &ModerationRule) -> Option<&'static str> {
    for a in &rule.always {
        let hit = match a {
            Always::NotYet => c.outcome == "not_yet",
            Always::Referred => c.kind == "referred" || c.outcome == "referred",
            Always::Override => c.kind == "override",
            Always::Borderline => c.borderline,
        };
        if hit {
            return Some(match a {
                Always::NotYet => "always:not_yet",
                Always::Referred => "always:referred",
                Always::Override => "always:override",
                Always::Borderline => "always:borderline",
            });
        }
    }
    None
}

/// How many of `rest` decisions the random part takes: `sample_percent` of them rounded up, at
/// least `sample_min`, at most all of them.
pub fn random_count(rest: usize, rule: &ModerationRule) -> usize {
    let pct = rule.sample_percent.max(Milli(0)).0 as u128;
    let share = (rest as u128 * pct).div_ceil(100_000) as usize;
    share.max(rule.sample_min as usize).min(rest)
}

/// Draws the sample for one rubric's candidates. Candidates are ordered by id first, so the
/// order they arrive in does not matter.
pub fn draw(candidates: &[Candidate], rule: &ModerationRule, seed: u64) -> Vec<Pick> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut picks = Vec::with_capacity(sorted.len());
    let mut rest: Vec<&Candidate> = Vec::new();
    for c in sorted {
        match always_reason(c, rule) {
            Some(r) => picks.push(Pick {
                id: c.id.clone(),
                drawn: true,
                reason: r.to_string(),
            }),
            None => rest.push(c),
        }
    }
    let k = random_count(rest.len(), rule);
    // Partial Fisher–Yates: the first k places are the random sample.
    let mut rng = SplitMix64::new(seed);
    for i in 0..k {
        let j = i + rng.below((rest.len() - i) as u64) as usize;
        rest.swap(i, j);
    }
    for (i, c) in rest.iter().enumerate() {
        picks.push(Pick {
            id: c.id.clone(),
            drawn: i < k,
            reason: if i < k { "random" } else { "not_drawn" }.to_string(),
        });
    }
    picks.sort_by(|a, b| a.id.cmp(&b.id));
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                id: format!("P-{i:04}"),
                outcome: if i % 10 == 0 { "not_yet" } else { "awarded" }.into(),
                kind: if i == 5 { "override" } else { "rule" }.into(),
                borderline: i == 7,
            })
            .collect()
    }

    #[test]
    fn always_categories_and_random_share() {
        let rule = ModerationRule::default(); // 10 %, min 3
        let picks = draw(&cands(100), &rule, 42);
        let drawn: Vec<&Pick> = picks.iter().filter(|p| p.drawn).collect();
        let always = drawn
            .iter()
            .filter(|p| p.reason.starts_with("always:"))
            .count();
        assert_eq!(always, 12); // 10 not_yet + 1 override + 1 borderline
        let random = drawn.iter().filter(|p| p.reason == "random").count();
        assert_eq!(random, 9); // ceil(10 % of 88)
        assert!(
            picks
                .iter()
                .any(|p| p.id == "P-0005" && p.reason == "always:override")
        );
        assert!(
            picks
                .iter()
                .any(|p| p.id == "P-0007" && p.reason == "always:borderline")
        );
    }

    #[test]
    fn minimum_applies_to_small_batches() {
        let rule = ModerationRule::default();
        assert_eq!(random_count(5, &rule), 3);
        assert_eq!(random_count(2, &rule), 2);
        assert_eq!(random_count(0, &rule), 0);
        assert_eq!(random_count(31, &rule), 4);
    }

    #[test]
    fn same_seed_same_sample_whatever_the_order() {
        let rule = ModerationRule::default();
        let a = draw(&cands(200), &rule, 7);
        let mut rev = cands(200);
        rev.reverse();
        let b = draw(&rev, &rule, 7);
        assert_eq!(a, b);
        let c = draw(&cands(200), &rule, 8);
        assert_ne!(a, c);
    }

    #[test]
    fn splitmix_is_fixed() {
        // Reference values of SplitMix64 with seed 0 (Vigna's reference implementation).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }
}
