//! The attribute macros of license-gate (work in progress on this commit).

use proc_macro::TokenStream;

/// Gates a function behind license features.
#[proc_macro_attribute]
pub fn requires_feature(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Gates a function behind a product license.
#[proc_macro_attribute]
pub fn licensed(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
