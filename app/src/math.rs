//! Share and WAD arithmetic: the one place rounding happens, with the
//! direction in each function's name. Intermediates are 256-bit so that
//! `a * b` never overflows before the division; results that do not fit
//! u128 are reported, never truncated.

use primitive_types::U256;

/// 1.0 as a WAD (18-decimal fixed point): a full magnitude or factor.
pub const WAD: u128 = 1_000_000_000_000_000_000;

/// `a * b / c` rounded down; None if c is 0 or the result exceeds u128.
pub fn mul_div_down(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let q = U256::from(a) * U256::from(b) / U256::from(c);
    u128::try_from(q).ok()
}

/// `a * b / c` rounded up; None if c is 0 or the result exceeds u128.
pub fn mul_div_up(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let p = U256::from(a) * U256::from(b);
    let c = U256::from(c);
    let (q, r) = p.div_mod(c);
    let q = if r.is_zero() { q } else { q + U256::one() };
    u128::try_from(q).ok()
}

/// `a * w / WAD` rounded down.
pub fn mul_wad_down(a: u128, w: u128) -> Option<u128> {
    mul_div_down(a, w, WAD)
}

/// `a * b * c / (d * e)` rounded down, all in 256 bits (d * e must not
/// be 0 and must fit 256 bits, which two u128 always do).
pub fn mul2_div2_down(a: u128, b: u128, c: u128, d: u128, e: u128) -> Option<u128> {
    let num = U256::from(a).checked_mul(U256::from(b))?.checked_mul(U256::from(c))?;
    let den = U256::from(d) * U256::from(e);
    if den.is_zero() {
        return None;
    }
    u128::try_from(num / den).ok()
}

/// Reward accumulators: reward per scaled share, times `ACC_PRECISION`,
/// kept in 256 bits so that small rewards over a large stake keep their
/// precision and a long-lived accumulator cannot overflow.
pub const ACC_PRECISION: u128 = 1_000_000_000_000_000_000_000_000_000; // 1e27

/// `amount * ACC_PRECISION / total` rounded down, as an accumulator step.
pub fn acc_step_down(amount: u128, total: u128) -> U256 {
    if total == 0 {
        return U256::zero();
    }
    U256::from(amount) * U256::from(ACC_PRECISION) / U256::from(total)
}

/// What `shares` earned while the accumulator moved by `delta`, rounded
/// down. None if it does not fit u128 (it cannot, while rewards paid stay
/// below u128::MAX: shares * delta <= rewards * ACC_PRECISION).
pub fn acc_earned_down(shares: u128, delta: U256) -> Option<u128> {
    let p = U256::from(shares).checked_mul(delta)?;
    u128::try_from(p / U256::from(ACC_PRECISION)).ok()
}

pub fn u256_to_string(v: U256) -> String {
    v.to_string()
}

pub fn u256_from_str(s: &str) -> Option<U256> {
    U256::from_dec_str(s).ok()
}

/// A decimal fraction ("0.25", "1", "0.750000000000000000") as a WAD,
/// exactly (at most 18 decimals); `None` if malformed.
pub fn parse_decimal_wad(s: &str) -> Option<u128> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 20 || frac.len() > 18 || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.ends_with('.') {
        return None;
    }
    let int: u128 = int.parse().ok()?;
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse::<u128>().ok()? * 10u128.pow(18 - frac.len() as u32) };
    int.checked_mul(WAD)?.checked_add(frac_value)
}

/// A WAD as the Cosmos SDK's `LegacyDec` string: 18 decimals.
pub fn wad_to_decimal(w: u128) -> String {
    format!("{}.{:018}", w / WAD, w % WAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_directions() {
        assert_eq!(mul_div_down(10, 1, 3), Some(3));
        assert_eq!(mul_div_up(10, 1, 3), Some(4));
        assert_eq!(mul_div_up(9, 1, 3), Some(3));
        assert_eq!(mul_div_down(u128::MAX, u128::MAX, u128::MAX), Some(u128::MAX));
        assert_eq!(mul_div_down(u128::MAX, 2, 1), None);
        assert_eq!(mul_div_down(1, 1, 0), None);
        assert_eq!(mul_wad_down(3, WAD / 2), Some(1));
        assert_eq!(mul2_div2_down(7, WAD, WAD, 2, WAD), Some(3 * WAD + WAD / 2));
    }

    #[test]
    fn accumulator_step_and_earned() {
        let step = acc_step_down(10, 3);
        assert_eq!(acc_earned_down(3, step), Some(9));
        assert_eq!(acc_earned_down(1, step), Some(3));
        assert_eq!(u256_from_str(&u256_to_string(step)), Some(step));
    }

    #[test]
    fn decimal_fractions_parse_exactly() {
        assert_eq!(parse_decimal_wad("0.25"), Some(WAD / 4));
        assert_eq!(parse_decimal_wad("1"), Some(WAD));
        assert_eq!(parse_decimal_wad("0.750000000000000000"), Some(3 * WAD / 4));
        assert_eq!(parse_decimal_wad("0.0000000000000000001"), None);
        for bad in ["", ".5", "1.", "-1", "0.2x", "1e3"] {
            assert_eq!(parse_decimal_wad(bad), None, "{bad}");
        }
        assert_eq!(wad_to_decimal(3 * WAD / 4), "0.750000000000000000");
        assert_eq!(wad_to_decimal(WAD), "1.000000000000000000");
    }
}
