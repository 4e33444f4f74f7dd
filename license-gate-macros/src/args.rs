//! The attribute's arguments: `#[requires_feature("a", "b", product = "P")]`,
//! `#[licensed(product = "P", fallback = path, crate = "name")]`.
//!
//! This module checks syntax only (keys, values, duplicates); what the values
//! mean is checked in `valid.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
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
        let rest: TokenStream = input.fork().parse()?;
        let value_tokens = rest
            .into_iter()
            .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
            .collect();
        if nesting(value_tokens) > MAX_NESTING {
            return Err(input.error(
                "the fallback path nests too deeply: write the path of a function, such as `fallback = basic_export`",
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
    } else if input.peek(Token![crate]) && !input.peek2(Token![::]) {
        let key: Token![crate] = input.parse()?;
        let example = "crate = \"license_gate\"";
        expect_value(input, "crate", key.span, example)?;
        let lit = parse_str(input, example)?;
        let nested = (lit.value().parse::<TokenStream>()).is_ok_and(|t| nesting(t) > MAX_NESTING);
        let path = if nested {
            None
        } else {
            lit.parse::<Path>().ok()
        };
        let path = path.ok_or_else(|| {
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

/// The deepest a path argument may nest (see [`nesting`]); real paths stay
/// far below it.
const MAX_NESTING: usize = 32;

/// How deeply `tokens` nest: every `<` plus the deepest group. syn's path and
/// type parsers recurse once per level without a limit, so a path such as
/// `c<c<c<...` a few hundred levels deep overflowed the stack of the compiler
/// running this macro; such a path is refused before it is parsed.
fn nesting(tokens: TokenStream) -> usize {
    let mut angles = 0;
    let mut deepest = 0;
    for token in tokens {
        match token {
            TokenTree::Punct(p) if p.as_char() == '<' => angles += 1,
            TokenTree::Group(group) => deepest = deepest.max(1 + nesting(group.stream())),
            _ => {}
        }
    }
    angles + deepest
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn error(kind: Kind, text: &str) -> String {
        match Args::parse(kind, TokenStream::from_str(text).unwrap()) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(error) => error.to_string(),
        }
    }

    /// `crate::names::PRO` is a feature constant, not the `crate = ".."` key.
    #[test]
    fn a_feature_path_may_start_with_crate() {
        let text = "crate::names::PRO, product = \"P\", crate = \"lg\"";
        let args = Args::parse(Kind::RequiresFeature, TokenStream::from_str(text).unwrap())
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(matches!(args.features.as_slice(), [Feature::Expr(_)]));
        assert!(args.krate.is_some());
        assert!(error(Kind::RequiresFeature, "crate").contains("missing value for `crate`"));
    }

    /// Found by the `macro_args` fuzz target: `crate = "c<<<<..."` (900 `<`)
    /// and `fallback = c<c<c<...` overflowed the stack in syn's path parser.
    #[test]
    fn deeply_nested_paths_are_refused_before_parsing() {
        let krate = format!(
            "crate = \"c{}C{}E{}\"",
            "<".repeat(80),
            "<".repeat(40),
            "<".repeat(800)
        );
        assert!(error(Kind::RequiresFeature, &krate).contains("`crate` must be the path"));
        let fallback = format!("fallback = c{}", "<c".repeat(900));
        assert!(error(Kind::Licensed, &fallback).contains("nests too deeply"));
        let groups = format!("fallback = c<{}x{}>", "(".repeat(900), ")".repeat(900));
        assert!(error(Kind::Licensed, &groups).contains("nests too deeply"));

        // Paths as people write them still parse.
        let ok = "\"pro\", fallback = basic::export, crate = \"::license_gate\"";
        assert!(Args::parse(Kind::RequiresFeature, TokenStream::from_str(ok).unwrap()).is_ok());
        let generic = "fallback = basic::<Vec<Option<u8>>>, product = \"P\"";
        assert!(Args::parse(Kind::Licensed, TokenStream::from_str(generic).unwrap()).is_ok());
    }
}
