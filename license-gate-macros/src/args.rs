//! The attribute's arguments: `#[requires_feature("a", "b", product = "P")]`,
//! `#[licensed(product = "P", fallback = path, crate = "name")]`.
//!
//! This module checks syntax only (keys, values, duplicates); what the values
//! mean is checked in `valid.rs`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, Lit, LitStr, Path, Token, token};

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

/// One feature name as written.
pub(crate) enum Feature {
    /// `"pro"`: checked here (empty, duplicate, declared).
    Lit(LitStr),
    /// `FEATURE_PRO`, `consts::PRO`, `concat!("p", "ro")`: a constant
    /// expression of type `&'static str`, which rustc resolves and checks.
    Expr(Expr),
}

impl Feature {
    /// The literal, when the name is one.
    pub(crate) fn lit(&self) -> Option<&LitStr> {
        match self {
            Feature::Lit(lit) => Some(lit),
            Feature::Expr(_) => None,
        }
    }
}

impl ToTokens for Feature {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Feature::Lit(lit) => lit.to_tokens(tokens),
            Feature::Expr(expr) => expr.to_tokens(tokens),
        }
    }
}

/// `any("a", "b")`.
pub(crate) struct AnyList {
    pub(crate) paren: token::Paren,
    pub(crate) features: Vec<Feature>,
}

/// The arguments of one attribute, as written.
pub(crate) struct Args {
    pub(crate) kind: Kind,
    /// Feature names given directly: `#[requires_feature("a", "b")]`.
    pub(crate) features: Vec<Feature>,
    /// `any(..)`.
    pub(crate) any: Option<AnyList>,
    /// `product = ".."`.
    pub(crate) product: Option<LitStr>,
    /// `fallback = path`, also `<T as Trait>::f`.
    pub(crate) fallback: Option<ExprPath>,
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
    if input.peek(LitStr) {
        let feature: LitStr = input.parse()?;
        if kind == Kind::Licensed {
            return Err(syn::Error::new(
                feature.span(),
                "`#[licensed]` takes no feature names: use `#[requires_feature(\"..\")]` to require a feature",
            ));
        }
        args.features.push(Feature::Lit(feature));
    } else if input.peek(kw::any) && !input.peek2(Token![!]) && !input.peek2(Token![::]) {
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
            let feature = parse_feature(&content)
                .map_err(|_| content.error("expected a feature name: write `any(\"a\", \"b\")`"))?;
            features.push(feature?);
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
    } else if input.peek(kw::product) {
        let key: kw::product = input.parse()?;
        let example = "product = \"Atlas Studio\"";
        expect_value(input, "product", key.span, example)?;
        let value = parse_str(input, example)?;
        if args.product.is_some() {
            return Err(duplicate("product", key.span));
        }
        args.product = Some(value);
    } else if input.peek(kw::fallback) {
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
        let value: ExprPath = input.parse().map_err(|_| {
            input.error("expected the path of a function: write `fallback = basic_export`")
        })?;
        if let Some(attr) = value.attrs.first() {
            return Err(syn::Error::new_spanned(
                attr,
                "the fallback is a path, without attributes: write `fallback = basic_export`",
            ));
        }
        if args.fallback.is_some() {
            return Err(duplicate("fallback", key.span));
        }
        args.fallback = Some(value);
    } else if input.peek(Token![crate]) {
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
    } else if input.peek(syn::Ident) && (input.peek2(Token![=]) || input.peek2(token::Paren)) {
        let ident: syn::Ident = input.parse()?;
        let message = if kind == Kind::Licensed && (ident == "feature" || ident == "features") {
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
        let feature = match parse_feature(input) {
            Ok(feature) => feature?,
            Err(_) => {
                return Err(input.error(format!(
                    "unexpected argument: {} takes {}",
                    kind.attr(),
                    kind.valid_args()
                )));
            }
        };
        if kind == Kind::Licensed {
            return Err(syn::Error::new_spanned(
                feature,
                "`#[licensed]` takes no feature names: use `#[requires_feature(..)]` to require a feature",
            ));
        }
        args.features.push(feature);
    }
    Ok(())
}

/// A feature name: a string literal, or a constant expression of type
/// `&'static str` (a path to a constant, `concat!(..)`). The outer error is a
/// parse failure (the tokens are not an expression); the inner one is an
/// expression that cannot be a name.
fn parse_feature(input: ParseStream) -> syn::Result<syn::Result<Feature>> {
    if input.peek(LitStr) {
        return Ok(Ok(Feature::Lit(input.parse()?)));
    }
    let expr: Expr = input.parse()?;
    if let Expr::Lit(lit) = &expr {
        let text = match &lit.lit {
            Lit::Int(int) => int.base10_digits().to_owned(),
            Lit::Float(float) => float.base10_digits().to_owned(),
            Lit::Char(char) => char.value().to_string(),
            other => other.to_token_stream().to_string(),
        };
        return Ok(Err(syn::Error::new(
            expr.span(),
            format!(
                "feature names are strings: write `\"{text}\"`, or the path of a `&str` constant"
            ),
        )));
    }
    Ok(Ok(Feature::Expr(expr)))
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
