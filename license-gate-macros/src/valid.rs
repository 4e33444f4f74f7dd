//! What the arguments and the function must satisfy. Every problem found is
//! reported, each with its span on the offending tokens.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::{FnArg, LitStr};

use crate::Context;
use crate::args::{Args, Feature, Kind};
use crate::ast::{self, Flavor, GatedFn, Output};
use crate::manifest;

/// Checks the arguments against each other, against the feature names the
/// application declares, and against the function.
pub(crate) fn check(args: &Args, func: &GatedFn, cx: &Context) -> syn::Result<()> {
    let mut errors = Errors(None);
    check_args(args, cx, &mut errors);
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

fn check_args(args: &Args, cx: &Context, errors: &mut Errors) {
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
                    errors.push_spanned(
                        first,
                        "a feature list cannot mix plain features with `any(..)`: write either `\"a\", \"b\"` (all of them) or `any(\"a\", \"b\")` (one of them)",
                    );
                }
            }
        }
    }
    let any_features = args.any.iter().flat_map(|any| &any.features);
    check_features(args.features.iter().chain(any_features), cx, errors);
    if let Some(product) = &args.product {
        check_name(product, "product", errors);
    }
}

fn check_features<'a>(
    features: impl Iterator<Item = &'a Feature>,
    cx: &Context,
    errors: &mut Errors,
) {
    let mut seen = BTreeSet::new();
    for feature in features.filter_map(Feature::lit) {
        if !check_name(feature, "feature", errors) {
            continue;
        }
        let name = feature.value();
        if let Some(declared) = &cx.declared
            && !declared.names.contains(&name)
        {
            errors.push(feature.span(), undeclared(&name, &declared.names));
        } else if !seen.insert(name) {
            errors.push(
                feature.span(),
                format!("duplicate feature `{}`: name it once", feature.value()),
            );
        }
    }
}

/// The message for a feature name that the manifest does not declare.
fn undeclared(name: &str, declared: &[String]) -> String {
    let list = if declared.is_empty() {
        "no feature".to_owned()
    } else {
        declared
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fix = match manifest::suggest(name, declared) {
        Some(close) => {
            format!("did you mean `{close}`? Fix the name, or add `\"{name}\"` to the list")
        }
        None => format!("write one of them, or add `\"{name}\"` to the list"),
    };
    format!(
        "unknown feature `{name}`: `[package.metadata.license-gate] features` in Cargo.toml declares {list}; {fix}"
    )
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
                Output::Type(ty) => ast::find_impl_trait(ty),
                Output::ImplTrait(impl_trait) => Some((*impl_trait).clone()),
                Output::Unit(_) => None,
            };
            if let Some(impl_trait) = returned {
                errors.push_spanned(
                    impl_trait,
                    "`fallback` cannot be used with a function that returns `impl Trait`: the fallback would return a different opaque type; return a boxed trait object such as `Box<dyn Iterator<Item = T>>`, or remove `fallback` and return `Result<impl Trait, E>`",
                );
            }
            check_fallback_args(func, errors);
        }
        None => match output {
            // Whether the type can carry a denial is for the type system
            // (`__private::Deny`), which also explains the fix.
            Output::Type(_) => {}
            Output::ImplTrait(impl_trait) if ast::is_impl_future(impl_trait) => errors.push_spanned(
                impl_trait,
                format!(
                    "a function gated by {attr} cannot return `impl Future`, since a denied call has no future of that type to return: write it as an `async fn` that returns `Result<T, E>` with `E: From<LicenseError>` (the check then runs when the future is first polled), or return `Pin<Box<dyn Future<Output = Result<T, E>> + Send>>`"
                ),
            ),
            Output::ImplTrait(impl_trait) => errors.push_spanned(
                impl_trait,
                format!(
                    "a function gated by {attr} that returns `impl Trait` must return `Result<impl Trait, E>` with `E: From<LicenseError>`, so that a denied call can return `Err`"
                ),
            ),
            Output::Unit(ty) => {
                let function = match func.flavor() {
                    Flavor::Plain => "a function",
                    // Under `#[tokio::main]`, the function as written is async.
                    Flavor::Async | Flavor::AsyncTrait { .. } | Flavor::Tokio { .. } => {
                        "an async function"
                    }
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
