//! The ECOSIRE key format, checked locally before any request.
//!
//! A key is a prefix of letters and digits followed by three or four groups
//! of four characters from `A`-`Z` and `0`-`9`, joined by dashes:
//! `SHOP-A1B2-C3D4-E5F6-G7H8`, `ECO-AB12-CD34-EF56` or `SHOP2-A1B2-C3D4-E5F6`
//! (the guide writes the shape as `PREFIX-XXXX-...` and names no rule for the
//! prefix, so a vendor's prefix with digits is accepted).
//!
//! Lower-case letters are accepted and normalised to upper case (the format
//! has no lower-case characters, so no valid key changes meaning); surrounding
//! white space is removed. The normalised key is what is sent and signed.
//! Anything else that does not fit is an error naming the part and the
//! character at fault. Error messages never quote the key itself: only the
//! offending character, which by definition is not a key character.

use crate::error::ProviderError;
use crate::secret::LicenseKey;

/// The shapes a key may have, for error messages.
pub const KEY_SHAPES: &str = "PREFIX-XXXX-XXXX-XXXX-XXXX or PREFIX-XXXX-XXXX-XXXX (a prefix of letters and digits, then groups of 4 characters A-Z or 0-9), such as SHOP-A1B2-C3D4-E5F6-G7H8";

/// The characters of a group, as upper case.
const GROUP_LEN: usize = 4;

/// Checks `key` against the ECOSIRE format and returns it normalised (upper
/// case, no surrounding white space), or [`ProviderError::InvalidKey`] saying
/// which part is wrong, which character, and what the right shape is.
///
/// ```
/// use license_gate::LicenseKey;
/// use license_gate::providers::ecosire::check_key;
///
/// let key = check_key(&LicenseKey::new(" shop-a1b2-c3d4-e5f6-g7h8 ")).unwrap();
/// assert_eq!(key.expose(), "SHOP-A1B2-C3D4-E5F6-G7H8");
/// assert!(check_key(&LicenseKey::new("ECO-AB12-CD34-EF56")).is_ok());
/// assert!(check_key(&LicenseKey::new("SHOP2-A1B2-C3D4-E5F6")).is_ok());
///
/// let err = check_key(&LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H")).unwrap_err();
/// assert!(err.to_string().contains("group 4 has 3 characters"), "{err}");
/// ```
pub fn check_key(key: &LicenseKey) -> Result<LicenseKey, ProviderError> {
    let text = key.expose().trim();
    let fail = |what: String| {
        Err(ProviderError::InvalidKey(format!(
            "{what}; expected {KEY_SHAPES}"
        )))
    };
    if text.is_empty() {
        return fail("the key is empty".to_owned());
    }
    let normalised = text.to_ascii_uppercase();
    let mut parts = normalised.split('-');
    let prefix = parts.next().unwrap_or_default();
    let groups: Vec<&str> = parts.collect();

    if prefix.is_empty() {
        return fail("the prefix before the first `-` is missing".to_owned());
    }
    if groups.len() != 3 && groups.len() != 4 {
        return fail(format!(
            "the key has {} group{} after the prefix, not 3 or 4",
            groups.len(),
            if groups.len() == 1 { "" } else { "s" }
        ));
    }
    if let Some((index, c)) = prefix
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
    {
        return fail(format!(
            "the prefix may contain only letters and digits, but its character {} is {}",
            index + 1,
            describe(c)
        ));
    }
    for (number, group) in groups.iter().enumerate().map(|(i, g)| (i + 1, g)) {
        if let Some((index, c)) = group
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        {
            return fail(format!(
                "group {number} may contain only A-Z and 0-9, but its character {} is {}",
                index + 1,
                describe(c)
            ));
        }
        let len = group.chars().count();
        if len != GROUP_LEN {
            return fail(format!(
                "group {number} has {len} character{}, not {GROUP_LEN}",
                if len == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(LicenseKey::new(normalised))
}

/// A character for an error message: printable ones quoted, others by code point.
fn describe(c: char) -> String {
    if c.is_whitespace() {
        format!("white space (U+{:04X})", c as u32)
    } else if c.is_control() {
        format!("a control character (U+{:04X})", c as u32)
    } else {
        format!("`{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str) -> Result<String, String> {
        check_key(&LicenseKey::new(key))
            .map(|k| k.expose().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn both_shapes_pass() {
        assert_eq!(
            check("SHOP-A1B2-C3D4-E5F6-G7H8").unwrap(),
            "SHOP-A1B2-C3D4-E5F6-G7H8"
        );
        assert_eq!(check("ECO-AB12-CD34-EF56").unwrap(), "ECO-AB12-CD34-EF56");
        assert_eq!(check("X-0000-0000-0000").unwrap(), "X-0000-0000-0000");
        // Prefixes of letters and digits, as the guide's `PREFIX` allows.
        assert_eq!(
            check("shop2-a1b2-c3d4-e5f6").unwrap(),
            "SHOP2-A1B2-C3D4-E5F6"
        );
        assert_eq!(check("SH0P-A1B2-C3D4-E5F6").unwrap(), "SH0P-A1B2-C3D4-E5F6");
        assert_eq!(
            check("2024-A1B2-C3D4-E5F6-G7H8").unwrap(),
            "2024-A1B2-C3D4-E5F6-G7H8"
        );
    }

    #[test]
    fn lower_case_is_normalised() {
        assert_eq!(
            check("  shop-a1b2-c3d4-e5f6-g7h8\n").unwrap(),
            "SHOP-A1B2-C3D4-E5F6-G7H8"
        );
        assert_eq!(check("Eco-aB12-cD34-eF56").unwrap(), "ECO-AB12-CD34-EF56");
    }

    #[test]
    fn errors_name_the_part_and_the_character() {
        let e = check("").unwrap_err();
        assert!(e.contains("the key is empty"), "{e}");
        assert!(e.contains("PREFIX-XXXX-XXXX-XXXX-XXXX"), "{e}");

        let e = check("-A1B2-C3D4-E5F6").unwrap_err();
        assert!(e.contains("prefix before the first `-` is missing"), "{e}");

        let e = check("SH_P-A1B2-C3D4-E5F6").unwrap_err();
        assert!(
            e.contains("prefix may contain only letters and digits"),
            "{e}"
        );
        assert!(e.contains("character 3 is `_`"), "{e}");

        let e = check("SHOP-A1B2-C3D4").unwrap_err();
        assert!(e.contains("2 groups after the prefix, not 3 or 4"), "{e}");
        let e = check("SHOPA1B2C3D4").unwrap_err();
        assert!(e.contains("0 groups"), "{e}");
        let e = check("SHOP-A1B2-C3D4-E5F6-G7H8-I9J0").unwrap_err();
        assert!(e.contains("5 groups"), "{e}");

        let e = check("SHOP-A1B2-C3_4-E5F6-G7H8").unwrap_err();
        assert!(e.contains("group 2 may contain only A-Z and 0-9"), "{e}");
        assert!(e.contains("character 3 is `_`"), "{e}");

        let e = check("SHOP-A1B2-C3D4-E5F6-G7H").unwrap_err();
        assert!(e.contains("group 4 has 3 characters, not 4"), "{e}");
        let e = check("SHOP-A1B2--E5F6").unwrap_err();
        assert!(e.contains("group 2 has 0 characters"), "{e}");
        let e = check("SHOP-A1B2-C3D4-E5F6G").unwrap_err();
        assert!(e.contains("group 3 has 5 characters"), "{e}");

        let e = check("SHOP-A1B2-C3 4-E5F6").unwrap_err();
        assert!(e.contains("white space (U+0020)"), "{e}");
        let e = check("SHOP-A1B2-C3D4-É5F6").unwrap_err();
        assert!(e.contains("character 1 is `É`"), "{e}");
    }

    #[test]
    fn errors_do_not_quote_the_key() {
        let e = check("SHOP-Q9W8-C3D4-E5F6-Z7X").unwrap_err();
        assert!(!e.contains("Q9W8") && !e.contains("Z7X"), "{e}");
    }
}
