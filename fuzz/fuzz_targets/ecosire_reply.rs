//! Fuzzes the ECOSIRE client's reading of replies (plain, wrapped in
//! `{"data", "error"}`, and error bodies) for validate, activate and
//! deactivate, plus the local key-format check (see `reply_input.rs`; call
//! selector 3 feeds the body to the key check instead).

#![no_main]

use libfuzzer_sys::fuzz_target;
use license_gate_runtime::fuzzing::{EcosireCall, ecosire_key, ecosire_reply};

mod reply_input;

fuzz_target!(|data: &[u8]| {
    let Some((call, reply)) = reply_input::split(data) else {
        return;
    };
    let calls = EcosireCall::ALL.len();
    match usize::from(call) % (calls + 1) {
        n if n == calls => ecosire_key(&String::from_utf8_lossy(&reply.body)),
        n => {
            let _ = ecosire_reply(EcosireCall::ALL[n], &reply);
        }
    }
});
