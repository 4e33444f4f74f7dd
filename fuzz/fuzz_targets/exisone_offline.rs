//! Fuzzes reading and checking ExisOne offline codes: any text, as a user
//! could paste it, against the test-vector public key.
//!
//! Input: `hardware ID\ncode`, or just a code (checked against the vectors'
//! hardware ID). The seeds are the shared test vectors, so valid, expired and
//! mismatched codes are in the corpus from the start.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use license_gate_runtime::fuzzing::instant;
use license_gate_runtime::providers::exisone::__private::{
    decode_base32, encode_base32, format_code,
};
use license_gate_runtime::providers::exisone::{
    OfflineOutcome, OfflinePublicKey, is_offline_code, validate_offline_code,
};
use license_gate_runtime::time::format_rfc3339;

static KEY: LazyLock<OfflinePublicKey> = LazyLock::new(|| {
    OfflinePublicKey::from_pem(include_str!("../keys/exisone-vectors-public.pem"))
        .expect("the vectors' public key reads")
});

const VECTORS_HARDWARE_ID: &str =
    "4945EC7B56B82B344EFCF01A6F2622AE5EEF6162FD836514D1608F5F128656F6";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (hardware_id, code) = text
        .split_once('\n')
        .unwrap_or((VECTORS_HARDWARE_ID, &text));
    // A fixed "now" keeps runs reproducible; the vectors expire after it.
    let now = instant(1_800_000_000);

    let _ = is_offline_code(code);
    if let Ok(bytes) = decode_base32(code) {
        // What decodes, encodes back to the same bytes (dashes included).
        let again =
            decode_base32(&format_code(&encode_base32(&bytes))).expect("an encoded code decodes");
        assert_eq!(again, bytes);
    }

    let result = validate_offline_code(code, hardware_id, Some(&KEY), now);
    assert_eq!(result.is_valid, result.outcome() == OfflineOutcome::Valid);
    if result.is_valid {
        assert!(result.error_message.is_none());
        assert!(result.expiration_date.is_some_and(|at| at > now));
    } else {
        assert!(result.error_message.is_some(), "{result:?}");
    }
    if result.hardware_mismatch {
        assert!(
            result.features.is_empty(),
            "no features for another machine"
        );
    }
    if let Some(at) = result.expiration_date {
        let _ = format_rfc3339(at);
    }
    let _ = format!("{result:?}");
});
