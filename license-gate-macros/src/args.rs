//! The attribute's arguments: `#[requires_feature("a", "b", product = "P")]`,
//! `#[licensed(product = "P", fallback = path, crate = "name")]`.
//!
//! This module checks syntax only (keys, values, duplicates); what the values
//! mean is checked in `valid.rs`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Path, Token, token};

mod kw {
    syn::custom_keyword!(any);
    syn::custom_keyword!(product);
    syn::custom_keyword!(fallback);
}

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[requires_feature(..)]`: features of a product.
    RequiresFeature,
    /// `#[licensed(..)]`: only that the product is licensed.
    Licensed,
}

impl Kind {
    /// The attribute as users write it, for messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::RequiresFeature => "`#[requires_feature]`",
            Kind::Licensed => "`#[licensed]`",
        }
    }

    /// The arguments the attribute takes, for messages.
    fn valid_args(self) -> &'static str {
        match self {
            Kind::RequiresFeature => {
                "feature names (`\"pro\"`), `any(\"a\", \"b\")`, `product = \"..\"`, `fallback = path` and `crate = \"..\"`"
            }
            Kind::Licensed => "`product = \"..\"`, `fallback = path` and `crate = \"..\"`",
        }
    }
}

/// `any("a", "b")`.
pub(crate) struct AnyList {
    pub(crate) paren: token::Paren,
    pub(crate) features: Vec<LitStr>,
}

/// The arguments of one attribute, as written.
pub(crate) struct Args {
    pub(crate) kind: Kind,
    /// Feature names given directly: `#[requires_feature("a", "b")]`.
    pub(crate) features: Vec<LitStr>,
    /// `any(..)`.
    pub(crate) any: Option<AnyList>,
    /// `product = ".."`.
    pub(crate) product: Option<LitStr>,
    /// `fallback = path`.
    pub(crate) fallback: Option<Path>,
    /// `crate = ".."`.
    pub(crate) krate: Option<Path>,
}

impl Args {
    /// Parses the tokens inside the attribute's parentheses.
    pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Args> {
        (|input: ParseStream| parse_args(kind, input)).parse2(tokens)
    }
}

fn parse_args(kind: Kind, input: ParseStream) -> syn::Result<Args> {
    let mut args = Args {
        kind,
        features: Vec::new(),
        any: None,
        product: None,
        fallback: None,
        krate: None,
    };
    while !input.is_empty() {
        parse_one(&mut args, input)?;
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(input.error("expected `,` between arguments"));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(args)
}

fn parse_one(args: &mut Args, input: ParseStream) -> syn::Result<()> {
    let kind = args.kind;
    let lookahead = input.lookahead1();
    if lookahead.peek(LitStr) {
        let feature: LitStr = input.parse()?;
        if kind == Kind::Licensed {
            return Err(syn::Error::new(
                feature.span(),
                "`#[licensed]` takes no feature names: use `#[requires_feature(\"..\")]` to require a feature",
            ));
        }
        args.features.push(feature);
    } else if lookahead.peek(kw::any) {
        let keyword: kw::any = input.parse()?;
        if kind == Kind::Licensed {
            return Err(syn::Error::new(
                keyword.span,
                "`#[licensed]` takes no feature names: use `#[requires_feature(any(\"a\", \"b\"))]` to require one of several features",
            ));
        }
        if !input.peek(token::Paren) {
            return Err(syn::Error::new(
                keyword.span,
                "`any` needs a list of features: write `any(\"a\", \"b\")`",
            ));
        }
        let content;
        let paren = syn::parenthesized!(content in input);
        let mut features = Vec::new();
        while !content.is_empty() {
            if !content.peek(LitStr) {
                return Err(
                    content.error("expected a feature name in quotes: write `any(\"a\", \"b\")`")
                );
            }
            features.push(content.parse::<LitStr>()?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if args.any.is_some() {
            return Err(syn::Error::new(
                keyword.span,
                "duplicate `any(..)`: put all the alternatives in one `any(..)`",
            ));
        }
        args.any = Some(AnyList { paren, features });
    } else if lookahead.peek(kw::product) {
        let key: kw::product = input.parse()?;
        let example = "product = \"Atlas Studio\"";
        expect_value(input, "product", key.span, example)?;
        let value = parse_str(input, example)?;
        if args.product.is_some() {
            return Err(duplicate("product", key.span));
        }
        args.product = Some(value);
    } else if lookahead.peek(kw::fallback) {
        let key: kw::fallback = input.parse()?;
        let example = "fallback = basic_export";
        expect_value(input, "fallback", key.span, example)?;
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "write the fallback as a path without quotes: `fallback = {}`",
                    lit.value()
                ),
            ));
        }
        let value: Path = input.parse().map_err(|_| {
            input.error("expected the path of a function: write `fallback = basic_export`")
        })?;
        if args.fallback.is_some() {
            return Err(duplicate("fallback", key.span));
        }
        args.fallback = Some(value);
    } else if lookahead.peek(Token![crate]) {
        let key: Token![crate] = input.parse()?;
        let example = "crate = \"license_gate\"";
        expect_value(input, "crate", key.span, example)?;
        let lit = parse_str(input, example)?;
        let path = lit.parse::<Path>().map_err(|_| {
            syn::Error::new(
                lit.span(),
                format!("`crate` must be the path of the license-gate crate, such as `{example}`"),
            )
        })?;
        if args.krate.is_some() {
            return Err(duplicate("crate", key.span));
        }
        args.krate = Some(path);
    } else if input.peek(syn::Ident) {
        let ident: syn::Ident = input.parse()?;
        let is_key = input.peek(Token![=]) || input.peek(token::Paren);
        let message = if kind == Kind::RequiresFeature && !is_key {
            format!("feature names are string literals: write `\"{ident}\"`")
        } else if kind == Kind::Licensed && (ident == "feature" || ident == "features") {
            "`#[licensed]` takes no features: use `#[requires_feature(\"..\", product = \"..\")]` to require features".to_owned()
        } else {
            format!(
                "unknown argument `{ident}`: {} takes {}",
                kind.attr(),
                kind.valid_args()
            )
        };
        return Err(syn::Error::new(ident.span(), message));
    } else {
        drop(lookahead);
        return Err(input.error(format!(
            "unexpected argument: {} takes {}",
            kind.attr(),
            kind.valid_args()
        )));
    }
    Ok(())
}

/// Checks that `= value` follows a key.
fn expect_value(input: ParseStream, key: &str, key_span: Span, example: &str) -> syn::Result<()> {
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key_span,
            format!("missing value for `{key}`: write `{example}`"),
        ));
    }
    if !input.peek(Token![=]) {
        return Err(input.error(format!("expected `=` after `{key}`: write `{example}`")));
    }
    let eq: Token![=] = input.parse()?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            eq.span,
            format!("missing value for `{key}`: write `{example}`"),
        ));
    }
    Ok(())
}

fn parse_str(input: ParseStream, example: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        input.parse()
    } else {
        Err(input.error(format!("expected a string literal: write `{example}`")))
    }
}

fn duplicate(key: &str, span: Span) -> syn::Error {
    syn::Error::new(
        span,
        format!("duplicate `{key}` argument: give `{key}` once"),
    )
}
