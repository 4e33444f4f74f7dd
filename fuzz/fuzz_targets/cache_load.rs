//! Fuzzes loading the license cache and the time anchor from disk.
//!
//! Byte 0 chooses: bit 0 the time anchor instead of the product cache, bit 1
//! the bytes as a body behind a valid tag line (as the application would
//! have written it; otherwise the bytes are the whole file, as a user could
//! write it), bit 2 a cache keyed with a vendor secret. The rest is the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use license_gate_runtime::fuzzing::{FileBytes, anchor_load, cache_load};

fuzz_target!(|data: &[u8]| {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let how = if mode & 2 == 0 {
        FileBytes::Raw
    } else {
        FileBytes::Tagged
    };
    if mode & 1 == 1 {
        let _ = anchor_load(bytes, how);
    } else {
        let _ = cache_load(bytes, how, mode & 4 == 4);
    }
});
