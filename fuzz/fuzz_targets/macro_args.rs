//! Fuzzes the argument parser of `#[requires_feature(..)]` and `#[licensed(..)]`.
//!
//! A proc-macro crate cannot be linked into a binary, so its `args.rs` is
//! compiled into this target; proc-macro2 runs on its fallback lexer outside
//! a compiler. Inputs that do not lex as Rust tokens are skipped (rustc would
//! reject them before the attribute ever ran).

#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;

#[path = "../../license-gate-macros/src/args.rs"]
#[allow(dead_code)]
mod args;

use args::{Args, Kind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    for kind in [Kind::RequiresFeature, Kind::Licensed] {
        match Args::parse(kind, tokens.clone()) {
            Ok(args) => {
                assert_eq!(args.kind, kind);
                if kind == Kind::Licensed {
                    // `#[licensed]` never takes features.
                    assert!(args.features.is_empty() && args.any.is_none());
                }
            }
            Err(error) => {
                // What the macro turns an error into must build.
                let _ = error.to_compile_error().to_string();
                assert!(!error.to_string().is_empty());
            }
        }
    }
});
