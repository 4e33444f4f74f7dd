//! Fuzzes the ExisOne client's reading of replies: every call's JSON shape,
//! error statuses, and the rate-limit headers (see `reply_input.rs` for the
//! input format).

#![no_main]

use libfuzzer_sys::fuzz_target;
use license_gate_runtime::fuzzing::{ExisOneCall, exisone_reply};

mod reply_input;

fuzz_target!(|data: &[u8]| {
    let Some((call, reply)) = reply_input::split(data) else {
        return;
    };
    let call = ExisOneCall::ALL[usize::from(call) % ExisOneCall::ALL.len()];
    let _ = exisone_reply(call, &reply);
});
