//! Fuzzes the ISO-8601 reader that every date in a reply or an offline code
//! goes through: what parses formats, and the formatted text parses back to
//! the same instant.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        license_gate_runtime::fuzzing::iso8601(text);
    }
});
