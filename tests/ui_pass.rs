//! Every form `#[requires_feature]` and `#[licensed]` must accept, one module
//! per form (the files under `tests/ui/pass/`), each with a test that runs it.
//!
//! They are ordinary modules of this test crate rather than trybuild pass
//! cases: built once with the workspace under `#![deny(warnings)]`, and linted
//! by `cargo clippy --workspace --all-targets -- -D warnings`, so generated code that trips
//! a rustc or clippy lint fails the build. The compile-fail cases are in
//! `license-gate-macros/tests/ui/fail/`.

#![deny(warnings)]
#![deny(non_ascii_idents)]

#[path = "ui/pass/any_features.rs"]
mod any_features;
#[path = "ui/pass/argument_patterns.rs"]
mod argument_patterns;
#[path = "ui/pass/async_fn.rs"]
mod async_fn;
#[path = "ui/pass/async_trait.rs"]
mod async_trait;
#[path = "ui/pass/attribute_order.rs"]
mod attribute_order;
#[path = "ui/pass/attributes_kept.rs"]
mod attributes_kept;
#[path = "ui/pass/crate_rename.rs"]
mod crate_rename;
#[path = "ui/pass/fallback.rs"]
mod fallback;
#[path = "ui/pass/fallback_cfg_argument.rs"]
mod fallback_cfg_argument;
#[path = "ui/pass/fallback_paths.rs"]
mod fallback_paths;
#[path = "ui/pass/feature_constants.rs"]
mod feature_constants;
#[path = "ui/pass/free_fn.rs"]
mod free_fn;
#[path = "ui/pass/generic_fn.rs"]
mod generic_fn;
#[path = "ui/pass/impl_trait_in_result.rs"]
mod impl_trait_in_result;
#[path = "ui/pass/licensed.rs"]
mod licensed;
#[path = "ui/pass/methods.rs"]
mod methods;
// One-line bodies are the point of this module: rustfmt would spread them.
#[rustfmt::skip]
#[path = "ui/pass/one_line_bodies.rs"]
mod one_line_bodies;
#[path = "ui/pass/product.rs"]
mod product;
#[path = "ui/pass/result_aliases.rs"]
mod result_aliases;
#[path = "ui/pass/result_paths.rs"]
mod result_paths;
#[path = "ui/pass/several_features.rs"]
mod several_features;
#[path = "ui/pass/strict_lints.rs"]
mod strict_lints;
#[path = "ui/pass/strict_user_lints.rs"]
pub mod strict_user_lints;
#[path = "ui/pass/trait_impl.rs"]
mod trait_impl;
