//! Checking a business number's settings before it is stored.

use coexist_core::{NumberMode, NumberSettings};
use serde::Deserialize;

/// Meta fixes Coexistence throughput at 20 messages per second.
pub const COEXISTENCE_MPS: u32 = 20;
/// A standard number's default tier.
pub const DEFAULT_TIER_MPS: u32 = 80;
pub const MAX_TIER_MPS: u32 = 1000;

/// Countries where Meta does not offer Coexistence, with their names.
const NO_COEXISTENCE: &[(&str, &str)] = &[("+234", "Nigeria"), ("+27", "South Africa")];

/// A number as an admin enters it: the tier is optional and follows from the mode.
#[derive(Debug, Clone, Deserialize)]
pub struct NumberInput {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_number: String,
    pub mode: NumberMode,
    #[serde(default)]
    pub tier_mps: Option<u32>,
}

impl NumberInput {
    /// Fills the tier from the mode (20 coexistence, 80 standard) and validates.
    pub fn into_settings(self) -> Result<NumberSettings, String> {
        let tier_mps = match (&self.mode, self.tier_mps) {
            (NumberMode::Coexistence, None) => COEXISTENCE_MPS,
            (NumberMode::Standard, None) => DEFAULT_TIER_MPS,
            (_, Some(t)) => t,
        };
        let settings = NumberSettings {
            phone_number_id: self.phone_number_id,
            waba_id: self.waba_id,
            display_number: self.display_number,
            mode: self.mode,
            tier_mps,
        };
        validate(&settings)?;
        Ok(settings)
    }
}

/// Checks ids, the E.164 display number, the tier, and the Coexistence country rule.
pub fn validate(n: &NumberSettings) -> Result<(), String> {
    check_id("phone_number_id", &n.phone_number_id)?;
    check_id("waba_id", &n.waba_id)?;
    check_e164(&n.display_number)?;
    match n.mode {
        NumberMode::Coexistence => {
            if let Some((_, country)) = NO_COEXISTENCE.iter().find(|(cc, _)| n.display_number.starts_with(cc)) {
                return Err(format!(
                    "{} is a {country} number: Meta does not offer Coexistence (WhatsApp Business App + \
                     Cloud API on one number) in {country}; onboard it as a standard Cloud API number \
                     (mode standard) instead",
                    n.display_number
                ));
            }
            if n.tier_mps != COEXISTENCE_MPS {
                return Err(format!(
                    "Coexistence numbers are limited by Meta to {COEXISTENCE_MPS} messages per second; \
                     leave the tier out (or set {COEXISTENCE_MPS})"
                ));
            }
        }
        NumberMode::Standard => {
            if n.tier_mps == 0 || n.tier_mps > MAX_TIER_MPS {
                return Err(format!(
                    "tier_mps {} is out of range: a standard number's throughput is 1..={MAX_TIER_MPS} \
                     messages per second ({DEFAULT_TIER_MPS} by default)",
                    n.tier_mps
                ));
            }
        }
    }
    Ok(())
}

/// Ids go into Graph URLs: 1-64 ASCII letters, digits, `_` or `-` only.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(format!("invalid {what} {id:?}: use the numeric id from Meta's WhatsApp Manager"))
    }
}

fn check_e164(number: &str) -> Result<(), String> {
    let digits = number.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(format!("display number {number:?} is not E.164: write it as + country code and number, e.g. +14155550123"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(number: &str, mode: NumberMode, tier: Option<u32>) -> NumberInput {
        NumberInput {
            phone_number_id: "1065".into(),
            waba_id: "2210".into(),
            display_number: number.into(),
            mode,
            tier_mps: tier,
        }
    }

    #[test]
    fn coexistence_is_refused_in_nigeria_and_south_africa() {
        let e = input("+2348012345678", NumberMode::Coexistence, None).into_settings().unwrap_err();
        assert!(e.contains("Nigeria"), "{e}");
        let e = input("+27821234567", NumberMode::Coexistence, None).into_settings().unwrap_err();
        assert!(e.contains("South Africa"), "{e}");
        // Standard is fine there; coexistence is fine elsewhere.
        assert_eq!(input("+27821234567", NumberMode::Standard, None).into_settings().unwrap().tier_mps, 80);
        assert_eq!(input("+5511912345678", NumberMode::Coexistence, None).into_settings().unwrap().tier_mps, 20);
    }

    #[test]
    fn tiers_and_formats_are_checked() {
        assert!(input("+14155550123", NumberMode::Coexistence, Some(80)).into_settings().is_err());
        assert!(input("+14155550123", NumberMode::Standard, Some(1001)).into_settings().is_err());
        assert_eq!(input("+14155550123", NumberMode::Standard, Some(1000)).into_settings().unwrap().tier_mps, 1000);
        assert!(input("14155550123", NumberMode::Standard, None).into_settings().is_err());
        assert!(input("+1415abc", NumberMode::Standard, None).into_settings().is_err());
        let mut bad = input("+14155550123", NumberMode::Standard, None);
        bad.phone_number_id = "../x".into();
        assert!(bad.into_settings().is_err());
    }
}
