//! Offline activation codes: the shared vectors, codes the emulator mints,
//! and mangled codes (which must be rejected, never panic).

use std::time::SystemTime;

use license_gate::providers::exisone::__private::{decode_base32, encode_base32, format_code};
use license_gate::providers::exisone::{OfflineOutcome, OfflinePublicKey, validate_offline_code};
use license_gate_testkit::exisone::{OfflineCodeMinter, OfflineCodeSpec, TEST_PUBLIC_KEY_PEM};
use serde_json::Value;

const HW: &str = "4945EC7B56B82B344EFCF01A6F2622AE5EEF6162FD836514D1608F5F128656F6";

fn outcome_name(outcome: OfflineOutcome) -> &'static str {
    match outcome {
        OfflineOutcome::Valid => "valid",
        OfflineOutcome::Expired => "expired",
        OfflineOutcome::HardwareMismatch => "hardware_mismatch",
        OfflineOutcome::Invalid => "invalid",
        _ => "unknown",
    }
}

license_gate_testkit::vectors_test! {
fn shared_vectors_give_the_expected_outcomes() {
    let cases = license_gate_testkit::vectors::require("exisone-offline/cases.json");
    let pem = license_gate_testkit::vectors::require("exisone-offline/public_key.pem");
    let key = OfflinePublicKey::from_pem(&pem).expect("the vector key reads");
    let cases: Value = serde_json::from_str(&cases).expect("cases.json is JSON");
    let cases = cases["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 10, "expected the full vector set");
    let now = SystemTime::now();
    for case in cases {
        let name = case["case"].as_str().unwrap_or("?");
        let code = case["code"].as_str().expect("code");
        let hardware_id = case["hardware_id"].as_str().expect("hardware_id");
        let expect = case["expect"].as_str().expect("expect");
        let result = validate_offline_code(code, hardware_id, Some(&key), now);
        assert_eq!(
            outcome_name(result.outcome()),
            expect,
            "case `{name}`: {:?}",
            result.error_message
        );
        assert_eq!(result.is_valid, expect == "valid", "case `{name}`");
        if expect != "valid" {
            assert!(result.error_message.is_some(), "case `{name}` says why");
        }
        if let Some(product) = case.get("product_name").and_then(Value::as_str) {
            assert_eq!(
                result.product_name.as_deref(),
                Some(product),
                "case `{name}`"
            );
        }
        if let Some(features) = case.get("features").and_then(Value::as_array) {
            let features: Vec<&str> = features.iter().filter_map(Value::as_str).collect();
            assert_eq!(result.features, features, "case `{name}`");
        }
    }
}
}

#[test]
fn minted_codes_round_trip_through_the_client_checks() {
    let minter = OfflineCodeMinter::test_key();
    let key = OfflinePublicKey::from_pem(TEST_PUBLIC_KEY_PEM).unwrap();
    assert_eq!(minter.public_key_pem().trim(), TEST_PUBLIC_KEY_PEM.trim());
    let now = SystemTime::now();

    let code = minter.mint(&OfflineCodeSpec::new("Atlas Studio", HW).features(["pro", "export"]));
    let valid = validate_offline_code(&code, &HW.to_lowercase(), Some(&key), now);
    assert!(valid.is_valid, "{:?}", valid.error_message);
    assert_eq!(valid.features, vec!["pro", "export"]);
    assert_eq!(valid.email.as_deref(), Some("buyer@example.com"));

    // Kinder than the SDK: lower case, spaces and look-alikes still read.
    let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
    assert!(validate_offline_code(&typed, HW, Some(&key), now).is_valid);

    let expired = minter
        .mint(&OfflineCodeSpec::new("Atlas Studio", HW).expiration_date("2001-01-01T00:00:00"));
    let result = validate_offline_code(&expired, HW, Some(&key), now);
    assert_eq!(result.outcome(), OfflineOutcome::Expired);
    assert!(result.is_expired);

    let other = validate_offline_code(&code, "ANOTHER-MACHINE", Some(&key), now);
    assert_eq!(other.outcome(), OfflineOutcome::HardwareMismatch);
    assert!(other.features.is_empty());

    let unconfigured = validate_offline_code(&code, HW, None, now);
    assert_eq!(unconfigured.outcome(), OfflineOutcome::Invalid);
    assert!(
        unconfigured
            .error_message
            .unwrap()
            .contains("offline_public_key")
    );

    for payload in [
        &b"[1,2]"[..],
        b"\xff\xfe",
        b"{\"features\":\"pro\"}",
        b"{\"expirationDate\":\"soon\"}",
    ] {
        let code = minter.mint_payload(payload);
        let result = validate_offline_code(&code, HW, Some(&key), now);
        assert_eq!(result.outcome(), OfflineOutcome::Invalid, "{payload:?}");
    }
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mangled_codes_are_rejected_without_panicking() {
    let minter = OfflineCodeMinter::test_key();
    let key = OfflinePublicKey::from_pem(TEST_PUBLIC_KEY_PEM).unwrap();
    let now = SystemTime::now();
    let code = minter.mint(&OfflineCodeSpec::new("Atlas Studio", HW).features(["pro"]));
    let clean: Vec<char> = code.chars().filter(|c| *c != '-').collect();
    let alphabet: Vec<char> = "0123456789ABCDEFGHJKMNPQRSTVWXYZ-U*é ".chars().collect();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);

    // Every truncation.
    for cut in (0..clean.len()).step_by(7) {
        let text: String = clean[..cut].iter().collect();
        let result = validate_offline_code(&text, HW, Some(&key), now);
        assert!(!result.is_valid, "truncated at {cut}");
    }
    // Random substitutions, insertions and deletions.
    for round in 0..300 {
        let mut chars = clean.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => chars[at] = alphabet[rng.below(alphabet.len())],
                1 => chars.insert(at, alphabet[rng.below(alphabet.len())]),
                _ => {
                    chars.remove(at);
                }
            }
        }
        let text: String = chars.iter().collect();
        // Changes that decode to the same bytes (white space, padding bits) are not mangling.
        if decode_base32(&text).ok() == decode_base32(&code).ok() {
            continue;
        }
        let result = validate_offline_code(&text, HW, Some(&key), now);
        assert!(!result.is_valid, "round {round} accepted a mangled code");
    }
    // Random byte strings framed like codes.
    for round in 0..200 {
        let len = rng.below(400);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if bytes.len() >= 2 && round % 2 == 0 {
            let claimed = (rng.below(len + 10)) as u16;
            bytes[..2].copy_from_slice(&claimed.to_le_bytes());
        }
        let text = format_code(&encode_base32(&bytes));
        assert_eq!(decode_base32(&text).unwrap(), bytes);
        let result = validate_offline_code(&text, HW, Some(&key), now);
        assert!(!result.is_valid, "round {round}");
    }
}
