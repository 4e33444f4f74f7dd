//! The client's request signing against the shared ECOSIRE vectors.

use license_gate::Secret;
use license_gate::providers::ecosire::__private::{SignedPayload, canonical_message, sign};
use serde_json::Value;

license_gate_testkit::vectors_test! {
fn every_vector_signs_as_expected() {
    let text = license_gate_testkit::vectors::require("ecosire-signing/cases.json");
    let doc: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    assert_eq!(doc["header"], "X-Ecosire-Signature");
    let cases = doc["cases"].as_array().expect("a list of cases");
    assert!(!cases.is_empty());
    for (index, case) in cases.iter().enumerate() {
        let secret = Secret::new(case["secret"].as_str().unwrap());
        let fields: Vec<(String, String)> = case["payload"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string values").to_owned()))
            .collect();
        let expected_message = case["message"].as_str().unwrap();
        let expected_signature = case["signature"].as_str().unwrap();

        // Field order in the input does not matter.
        let mut reversed = fields.clone();
        reversed.reverse();
        let payload = SignedPayload::new(reversed);
        assert_eq!(payload.message(), expected_message, "case {index}");
        assert_eq!(
            canonical_message(fields.clone()),
            expected_message,
            "case {index}"
        );
        assert_eq!(
            payload.signature(&secret),
            expected_signature,
            "case {index}"
        );
        assert_eq!(
            sign(&secret, expected_message),
            expected_signature,
            "case {index}"
        );

        // The body is the signed payload: the same fields, all strings.
        let body: Value = serde_json::from_slice(&payload.body()).unwrap();
        assert_eq!(body, case["payload"], "case {index}");
    }
}
}
