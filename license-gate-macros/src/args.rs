//! The attribute's arguments: `#[requires_feature("a", "b", product = "P")]`,
//! `#[licensed(product = "P", fallback = path, crate = "name")]`.
//!
//! This module checks syntax only (keys, values, duplicates); what the values
//! mean is checked in `valid.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
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
