//! What the arguments and the function must satisfy. Every problem found is
//! reported, each with its span on the offending tokens.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::{FnArg, LitStr};

use crate::args::{Args, Kind};
use crate::ast::{self, Flavor, GatedFn, Output};

/// Checks the arguments against each other and against the function.
pub(crate) fn check(args: &Args, func: &GatedFn) -> syn::Result<()> {
    let mut errors = Errors(None);
    check_args(args, &mut errors);
    check_fn(args, func, &mut errors);
    errors.finish()
}

struct Errors(Option<syn::Error>);

impl Errors {
    fn add(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.add(syn::Error::new(span, message));
    }

    /// An error spanning all of `tokens` (a whole type or pattern).
    fn push_spanned(&mut self, tokens: impl quote::ToTokens, message: impl std::fmt::Display) {
        self.add(syn::Error::new_spanned(tokens, message));
    }

    fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

fn check_args(args: &Args, errors: &mut Errors) {
    if args.kind == Kind::RequiresFeature {
        match &args.any {
            None if args.features.is_empty() => errors.push(
                Span::call_site(),
                "`#[requires_feature]` needs at least one feature: write `#[requires_feature(\"pro\")]`",
            ),
            None => {}
            Some(any) => {
                if any.features.is_empty() {
                    errors.push(
                        any.paren.span.join(),
                        "`any()` needs at least one feature: write `any(\"a\", \"b\")`",
                    );
                }
                if let Some(first) = args.features.first() {
                    errors.push(
                        first.span(),
                        "a feature list cannot mix plain features with `any(..)`: write either `\"a\", \"b\"` (all of them) or `any(\"a\", \"b\")` (one of them)",
                    );
                }
            }
        }
    }
    let any_features = args.any.iter().flat_map(|any| &any.features);
    check_features(args.features.iter().chain(any_features), errors);
    if let Some(product) = &args.product {
        check_name(product, "product", errors);
    }
}

fn check_features<'a>(features: impl Iterator<Item = &'a LitStr>, errors: &mut Errors) {
    let mut seen = BTreeSet::new();
    for feature in features {
        if check_name(feature, "feature", errors) && !seen.insert(feature.value()) {
            errors.push(
                feature.span(),
                format!("duplicate feature `{}`: name it once", feature.value()),
            );
        }
    }
}

/// Checks a feature or product name; returns whether it is well formed.
fn check_name(name: &LitStr, what: &str, errors: &mut Errors) -> bool {
    let value = name.value();
    if value.trim().is_empty() {
        errors.push(
            name.span(),
            format!("the {what} name is empty: write the name as the license names it"),
        );
        false
    } else if value.trim() != value {
        errors.push(
            name.span(),
            format!(
                "the {what} name `{value}` has leading or trailing spaces: write `\"{}\"`",
                value.trim()
            ),
        );
        false
    } else {
        true
    }
}

fn check_fn(args: &Args, func: &GatedFn, errors: &mut Errors) {
    let sig = &func.sig;
    let attr = args.kind.attr();
    if let Some(constness) = &sig.constness {
        errors.push(
            constness.span,
            "a `const fn` cannot be gated: the license is checked at run time; remove `const`, or gate the functions that call it",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(
            variadic.dots.spans[0],
            format!(
                "{attr} cannot gate a variadic function: gate a function that takes the arguments as a slice instead"
            ),
        );
    }
    let output = func.output();
    match &args.fallback {
        Some(_) => {
            let returned = match &output {
                Output::Result(ty) | Output::Other(Some(ty)) => Some(*ty),
                Output::Other(None) => None,
            };
            if let Some(impl_trait) = returned.and_then(ast::find_impl_trait) {
                errors.push_spanned(
                    impl_trait,
                    "`fallback` cannot be used with a function that returns `impl Trait`: the fallback would return a different opaque type; return a boxed trait object such as `Box<dyn Iterator<Item = T>>`, or remove `fallback` and return `Result<impl Trait, E>`",
                );
            }
            check_fallback_args(func, errors);
        }
        None => match output {
            Output::Result(_) => {}
            Output::Other(Some(ty)) if ast::find_impl_trait(ty).is_some() => errors.push_spanned(
                ty,
                format!(
                    "a function gated by {attr} that returns `impl Trait` must return `Result<impl Trait, E>` with `E: From<LicenseError>`, so that a denied call can return `Err`"
                ),
            ),
            Output::Other(ty) => {
                let function = match func.flavor() {
                    Flavor::Plain => "a function",
                    Flavor::Async | Flavor::AsyncTrait { .. } => "an async function",
                };
                let message = format!(
                    "a function gated by {attr} must return `Result<T, E>` with `E: From<LicenseError>`, or name a fallback to call when access is denied: `fallback = basic_version`, {function} with the same arguments and return type"
                );
                match ty {
                    Some(ty) => errors.push_spanned(ty, message),
                    // No return type: point where it would go.
                    None => errors.push(sig.paren_token.span.close(), message),
                }
            }
        },
    }
}

/// With a fallback, every argument is passed on by name.
fn check_fallback_args(func: &GatedFn, errors: &mut Errors) {
    for input in &func.sig.inputs {
        let FnArg::Typed(arg) = input else {
            continue;
        };
        if ast::plain_binding(&arg.pat).is_none() {
            errors.push_spanned(
                &arg.pat,
                "with `fallback`, every argument must have a name to pass on: bind it to a name (`arg: T`) and destructure it in the body",
            );
        }
    }
}
