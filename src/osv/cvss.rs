//! CVSS v3.0/v3.1 base scores from a vector string, per the FIRST specification (section 7.1
//! formulas, Appendix A `Roundup`), so an advisory that carries only a vector gets a severity.
//!
//! v4.0 vectors need the specification's lookup tables and are not scored here; callers fall
//! back to the database's own severity label.

/// The base score (0.0 to 10.0) of a `CVSS:3.x/...` vector, or `None` when the vector is not
/// a complete, valid v3 base vector.
pub fn base_score_v3(vector: &str) -> Option<f64> {
    let vector = vector.trim();
    let version = vector.split('/').next()?;
    if version != "CVSS:3.0" && version != "CVSS:3.1" {
        return None;
    }
    let metric = |name: &str| -> Option<char> {
        // Metrics appear once each; temporal/environmental ones may follow and are ignored.
        let value = vector.split('/').skip(1).find_map(|part| {
            let (key, value) = part.split_once(':')?;
            (key == name).then_some(value)
        })?;
        let mut chars = value.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    };
    let scope_changed = match metric("S")? {
        'U' => false,
        'C' => true,
        _ => return None,
    };
    let attack_vector = match metric("AV")? {
        'N' => 0.85,
        'A' => 0.62,
        'L' => 0.55,
        'P' => 0.2,
        _ => return None,
    };
    let attack_complexity = match metric("AC")? {
        'L' => 0.77,
        'H' => 0.44,
        _ => return None,
    };
    let privileges = match (metric("PR")?, scope_changed) {
        ('N', _) => 0.85,
        ('L', false) => 0.62,
        ('L', true) => 0.68,
        ('H', false) => 0.27,
        ('H', true) => 0.5,
        _ => return None,
    };
    let user_interaction = match metric("UI")? {
        'N' => 0.85,
        'R' => 0.62,
        _ => return None,
    };
    let impact_of = |name: &str| match metric(name)? {
        'H' => Some(0.56),
        'L' => Some(0.22),
        'N' => Some(0.0),
        _ => None,
    };
    let (c, i, a) = (impact_of("C")?, impact_of("I")?, impact_of("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * attack_vector * attack_complexity * privileges * user_interaction;
    let sum = if scope_changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(roundup(sum.min(10.0)))
}

/// CVSS v3.1 Appendix A: the smallest one-decimal number at or above `value`, computed on
/// integers so that floating-point noise (4.000000001) does not round up.
fn roundup(value: f64) -> f64 {
    let int_input = (value * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_the_first_calculator() {
        // Scores as the FIRST v3.1 calculator and NVD publish them.
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.3),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),
        ] {
            assert_eq!(base_score_v3(vector), Some(score), "{vector}");
        }
    }

    #[test]
    fn incomplete_or_foreign_vectors_have_no_score() {
        for vector in [
            "",
            "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "CVSS:3.1/é",
        ] {
            assert_eq!(base_score_v3(vector), None, "{vector}");
        }
    }
}
