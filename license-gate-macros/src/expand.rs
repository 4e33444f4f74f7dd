//! The generated code: the user's function, unchanged, with a call-site
//! `static` and a check in front of its body.
//!
//! ```text
//! fn export(doc: &Doc) -> Result<Vec<u8>, AppError> {
//!     static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
//!         ::license_gate::__private::CallSite::new(None, Requirement::All(&["pro"]));
//!     if let Err(__license_gate_denied) = ::license_gate::__private::check(&__LICENSE_GATE_SITE) {
//!         return ::license_gate::__private::Deny::deny(__license_gate_denied); // or `return fallback(doc);`
//!     }
//!     { /* the body as written */ }
//! }
//! ```
//!
//! Under `#[tokio::main]` or `#[tokio::test]` written above the gate, the
//! function is already a blocking one that starts a runtime: the check goes
//! first all the same, before the runtime starts, and a fallback (an
//! `async fn`, as the function was written) is awaited first thing in tokio's
//! async body when the check said no.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Block, Expr, FnArg, Ident, ReturnType, Stmt, token};

use crate::Context;
use crate::args::{Args, Feature, Kind};
use crate::ast::{self, Body, Flavor, GatedFn, Output};

/// The gated function.
pub(crate) fn expand(args: &Args, func: &GatedFn, cx: &Context) -> TokenStream {
    let Check {
        front: check,
        in_tokio_body,
    } = check(args, func, cx);
    let GatedFn {
        outer_attrs,
        inner_attrs,
        vis,
        sig,
        brace,
        body,
    } = func;
    let body = match (func.flavor(), body) {
        (Flavor::AsyncTrait { .. }, Body::Parsed(stmts)) => {
            let mut stmts = stmts.clone();
            if let Some(block) = ast::boxed_async_block_mut(&mut stmts) {
                let at = ast::async_trait_insert_at(block);
                let check = Block::parse_within
                    .parse2(check)
                    .expect("the check is a list of statements");
                block.stmts.splice(at..at, check);
            }
            quote!(#(#stmts)*)
        }
        (Flavor::Tokio { body_at }, Body::Parsed(stmts)) if !in_tokio_body.is_empty() => {
            // `let body = async { <fallback call> { /* the body as written */ } };`
            let mut stmts = stmts.clone();
            if let Some(body) = stmts.get_mut(body_at).and_then(ast::tokio_async_body_mut) {
                let inner = &body.block;
                let written = &inner.stmts;
                let user = user_block(&inner.brace_token, quote!(#(#written)*));
                body.block.stmts = vec![Stmt::Expr(
                    Expr::Verbatim(quote!(#in_tokio_body #user)),
                    None,
                )];
            }
            let block = user_block(brace, quote!(#(#stmts)*));
            quote!(#check #block)
        }
        (_, Body::Parsed(stmts)) => {
            let block = user_block(brace, quote!(#(#stmts)*));
            quote!(#check #block)
        }
        (_, Body::Raw(tokens)) => {
            let block = user_block(brace, tokens.clone());
            quote!(#check #block)
        }
    };
    let mut out = quote!(#(#outer_attrs)* #vis #sig);
    brace.surround(&mut out, |out| {
        out.extend(quote!(#(#inner_attrs)* #body));
    });
    out
}

/// The user's body as a block of its own after the check (so that its items
/// and names stay its own). Its braces keep their place but take the macro's
/// hygiene: they are ours, so rustc's `unused_braces`, which skips braces from
/// a macro expansion, does not blame a one-line body for them.
fn user_block(brace: &token::Brace, inner: TokenStream) -> TokenTree {
    let mut group = Group::new(Delimiter::Brace, inner);
    group.set_span(brace.span.join().resolved_at(Span::call_site()));
    TokenTree::Group(group)
}

/// The check: statements that go first in the body, and, for a function
/// wrapped by tokio's attribute with a fallback, the statement that calls the
/// fallback inside the async body.
struct Check {
    front: TokenStream,
    in_tokio_body: TokenStream,
}

impl From<TokenStream> for Check {
    fn from(front: TokenStream) -> Check {
        Check {
            front,
            in_tokio_body: TokenStream::new(),
        }
    }
}

/// The local that carries the decision into tokio's async body.
fn tokio_allowed() -> Ident {
    Ident::new("__license_gate_allowed", Span::mixed_site())
}

/// The call-site `static` and the check, as statements.
fn check(args: &Args, func: &GatedFn, cx: &Context) -> Check {
    let krate = match &args.krate {
        // Parsed from the user's string, so its tokens carry the string's
        // span: ours from here on, as the rest of the path is.
        Some(path) => ours(path.to_token_stream()),
        None => cx.krate.clone(),
    };
    let private = quote!(#krate::__private);
    let product = match &args.product {
        Some(product) => quote!(::core::option::Option::Some(#product)),
        None => quote!(::core::option::Option::None),
    };
    let requirement = match (args.kind, &args.any) {
        (Kind::Licensed, _) => quote!(#private::Requirement::Licensed),
        (Kind::RequiresFeature, Some(any)) => {
            let features = &any.features;
            quote!(#private::Requirement::Any(&[#(#features),*]))
        }
        (Kind::RequiresFeature, None) => {
            let features = &args.features;
            quote!(#private::Requirement::All(&[#(#features),*]))
        }
    };
    let declared = declared_checks(args, cx, &private);
    let site = quote! {
        #declared
        static __LICENSE_GATE_SITE: #private::CallSite = #private::CallSite::new(#product, #requirement);
    };
    match &args.fallback {
        Some(fallback) => {
            // The call carries the span of the fallback's path, so that a
            // fallback with the wrong signature is reported there. The path
            // is the user's; the call around it is ours, placed there (see
            // [`ours_at`]).
            let span = fallback
                .path
                .segments
                .last()
                .map_or_else(Span::call_site, |segment| ours_at(segment.ident.span()));
            let arguments = fallback_arguments(func);
            let mut call = quote_spanned!(span=> #fallback(#(#arguments),*));
            let mut allow = TokenStream::new();
            if matches!(func.sig.safety, syn::Safety::Unsafe(_)) {
                // The caller of this `unsafe fn` upholds its contract, and the
                // fallback takes the same arguments; a safe fallback makes the
                // block unneeded, which is no fault of the user's.
                call = quote!(unsafe { #call });
                allow = quote!(#[allow(unused_unsafe)]);
            }
            let flavor = func.flavor();
            if matches!(
                flavor,
                Flavor::Async | Flavor::AsyncTrait { .. } | Flavor::Tokio { .. }
            ) {
                call = quote_spanned!(span=> #call.await);
            }
            if let Flavor::Tokio { .. } = flavor {
                // Decided before the runtime starts; the fallback, an `async
                // fn`, then runs on the runtime in place of the body.
                let allowed = tokio_allowed();
                return Check {
                    front: quote! {
                        #site
                        let #allowed = ::core::result::Result::is_ok(&#private::check(&__LICENSE_GATE_SITE));
                    },
                    in_tokio_body: quote! {
                        #allow
                        if !#allowed {
                            return #call;
                        }
                    },
                };
            }
            quote! {
                #site
                #allow
                if ::core::result::Result::is_err(&#private::check(&__LICENSE_GATE_SITE)) {
                    return #call;
                }
            }
            .into()
        }
        None => {
            // The denial is built by the type system: a return type that
            // cannot carry one is reported on the whole type, with the fix
            // (the call's path takes the type's first token's span and its
            // parentheses the last one's, so the error covers both ends).
            let ty: TokenStream = match func.output() {
                Output::Type(ty) => ty.to_token_stream(),
                Output::ImplTrait(ty) => ty.to_token_stream(),
                Output::Unit(_) => match &func.sig.output {
                    ReturnType::Type(_, ty) => ty.to_token_stream(),
                    ReturnType::Default => TokenStream::new(),
                },
            };
            let mut spans = ty.into_iter().map(|tree| ours_at(tree.span()));
            let first = spans.next().unwrap_or_else(Span::call_site);
            let last = spans.last().unwrap_or(first);
            // Call-site hygiene here (the binding is scoped to the `if let`,
            // out of the body's reach): a mixed-site span would move the
            // error to the attribute.
            let denied = Ident::new("__license_gate_denied", first);
            let deny_path = respan(quote!(#private::Deny::deny), first);
            let mut arguments = Group::new(Delimiter::Parenthesis, denied.to_token_stream());
            arguments.set_span(last);
            let deny = quote!(#deny_path #arguments);
            quote! {
                #site
                if let ::core::result::Result::Err(#denied) = #private::check(&__LICENSE_GATE_SITE) {
                    return #deny;
                }
            }
            .into()
        }
    }
}

/// With declared feature names: the manifest, included so that cargo rebuilds
/// when the list changes, and a compile-time check of each feature given as a
/// constant (literals were checked by the macro).
fn declared_checks(args: &Args, cx: &Context, private: &TokenStream) -> TokenStream {
    let Some(declared) = &cx.declared else {
        return TokenStream::new();
    };
    let mut out = match &declared.manifest {
        Some(path) => quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        ),
        None => TokenStream::new(),
    };
    let names = &declared.names;
    let constants = args
        .features
        .iter()
        .chain(args.any.iter().flat_map(|any| &any.features))
        .filter_map(|feature| match feature {
            Feature::Expr(expr) => Some(expr),
            Feature::Lit(_) => None,
        });
    for expr in constants {
        let span = ours_at(expr.span());
        out.extend(quote_spanned! {span=>
            const _: () = ::core::assert!(
                #private::is_declared(#expr, &[#(#names),*]),
                "this feature name is not in `[package.metadata.license-gate] features` of Cargo.toml: fix the constant, or add the name to the list"
            );
        });
    }
    out
}

/// A span at `at` that belongs to the expansion: the code there is ours, not
/// the user's.
///
/// Errors about it still point at `at` (the user's return type, fallback or
/// feature constant), but the tokens resolve as written at the attribute and
/// count as coming from a macro, so the user's lints (`unused_qualifications`,
/// clippy's) do not blame the user for the paths we write. Only the user's own
/// tokens (their types, paths and body) keep their own spans.
fn ours_at(at: Span) -> Span {
    at.resolved_at(Span::call_site())
}

/// `tokens` with every span made ours, each at its place (see [`ours_at`]).
fn ours(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), ours(group.stream()));
                inner.set_span(ours_at(group.span()));
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(ours_at(tree.span()));
            }
            tree
        })
        .collect()
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The function's arguments, passed on to the fallback by name.
fn fallback_arguments(func: &GatedFn) -> Vec<TokenStream> {
    func.sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Receiver(receiver) => Some(receiver.self_token.to_token_stream()),
            FnArg::Typed(arg) => {
                let cfgs = arg.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
                // The name keeps its place but takes the macro's hygiene
                // (it resolves the same way): passing `_unused` on is ours,
                // not a use of the binding by the user, for lints like
                // clippy's `used_underscore_binding`.
                let mut name = ast::plain_binding(&arg.pat)?.clone();
                name.set_span(name.span().resolved_at(Span::call_site()));
                Some(quote!(#(#cfgs)* #name))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::Context;
    use crate::args::Kind;
    use crate::manifest::Declared;

    fn expand(
        kind: Kind,
        args: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) -> String {
        expand_declared(kind, args, item, None)
    }

    /// Expands as in a crate whose manifest declares `declared`.
    fn expand_declared(
        kind: Kind,
        args: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
        declared: Option<&[&str]>,
    ) -> String {
        let declared = declared.map(|names| Declared {
            names: names.iter().map(|name| (*name).to_owned()).collect(),
            manifest: Some("/app/Cargo.toml".to_owned()),
        });
        let cx = Context {
            krate: quote!(::license_gate),
            declared,
        };
        crate::gate_with(kind, args, item, |_| Ok(cx)).to_string()
    }

    /// Token strings without spacing (`> >` and `>>` print differently).
    fn compact(tokens: impl ToString) -> String {
        tokens.to_string().split_whitespace().collect()
    }

    #[test]
    fn result_function() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!("pro", "export"),
            quote! {
                /// Docs.
                pub fn export(doc: &Doc) -> Result<Vec<u8>, AppError> {
                    #![allow(unused)]
                    body(doc)
                }
            },
        );
        let expected = quote! {
            /// Docs.
            pub fn export(doc: &Doc) -> Result<Vec<u8>, AppError> {
                #![allow(unused)]
                static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
                    ::license_gate::__private::CallSite::new(
                        ::core::option::Option::None,
                        ::license_gate::__private::Requirement::All(&["pro", "export"])
                    );
                if let ::core::result::Result::Err(__license_gate_denied) =
                    ::license_gate::__private::check(&__LICENSE_GATE_SITE)
                {
                    return ::license_gate::__private::Deny::deny(__license_gate_denied);
                }
                { body(doc) }
            }
        };
        assert_eq!(compact(expanded), compact(expected));
    }

    #[test]
    fn async_method_with_fallback_and_options() {
        let expanded = expand(
            Kind::Licensed,
            quote!(product = "Atlas", fallback = Self::basic, crate = "lg"),
            quote! {
                async fn save(&mut self, #[cfg(unix)] path: String) -> bool { true }
            },
        );
        let expected = quote! {
            async fn save(&mut self, #[cfg(unix)] path: String) -> bool {
                static __LICENSE_GATE_SITE: lg::__private::CallSite =
                    lg::__private::CallSite::new(
                        ::core::option::Option::Some("Atlas"),
                        lg::__private::Requirement::Licensed
                    );
                if ::core::result::Result::is_err(&lg::__private::check(&__LICENSE_GATE_SITE)) {
                    return Self::basic(self, #[cfg(unix)] path).await;
                }
                { true }
            }
        };
        assert_eq!(compact(expanded), compact(expected));
    }

    #[test]
    fn async_trait_check_goes_inside_the_async_block() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!(any("a", "b")),
            quote! {
                fn fetch<'life0, 'async_trait>(&'life0 self)
                    -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<u8, E>> + ::core::marker::Send + 'async_trait>>
                where 'life0: 'async_trait, Self: 'async_trait
                {
                    Box::pin(async move {
                        if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u8, E>> {
                            #[allow(unreachable_code)]
                            return __ret;
                        }
                        let __self = self;
                        let __ret: Result<u8, E> = { Ok(1) };
                        #[allow(unreachable_code)]
                        __ret
                    })
                }
            },
        );
        let expected = quote! {
            fn fetch<'life0, 'async_trait>(&'life0 self)
                -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<u8, E>> + ::core::marker::Send + 'async_trait>>
            where 'life0: 'async_trait, Self: 'async_trait
            {
                Box::pin(async move {
                    if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<u8, E>> {
                        #[allow(unreachable_code)]
                        return __ret;
                    }
                    static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
                        ::license_gate::__private::CallSite::new(
                            ::core::option::Option::None,
                            ::license_gate::__private::Requirement::Any(&["a", "b"])
                        );
                    if let ::core::result::Result::Err(__license_gate_denied) =
                        ::license_gate::__private::check(&__LICENSE_GATE_SITE)
                    {
                        return ::license_gate::__private::Deny::deny(__license_gate_denied);
                    }
                    let __self = self;
                    let __ret: Result<u8, E> = { Ok(1) };
                    #[allow(unreachable_code)]
                    __ret
                })
            }
        };
        assert_eq!(compact(expanded), compact(expected));
    }

    #[test]
    fn errors_keep_the_function() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!(),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
        );
        assert!(
            expanded.starts_with("fn export () -> Result < () , E > { Ok (()) }"),
            "{expanded}"
        );
        assert!(expanded.contains("compile_error !"), "{expanded}");
        assert!(
            expanded.contains("needs at least one feature"),
            "{expanded}"
        );
    }

    /// The check goes first in the boxed block; only async-trait's own type
    /// hint may come before it, never a statement of the user's.
    #[test]
    fn user_statements_in_a_boxed_block_run_after_the_check() {
        let leading = [
            quote!(if let Some(hit) = self.cached {
                return Ok(hit);
            }),
            quote!(let hit = self.cached;),
            quote!(match self.cached {
                Some(hit) => return Ok(hit),
                None => {}
            }),
            quote!(if self.cached.is_some() {
                return Ok(0);
            }),
            // The hint's shape, but the scrutinee runs code.
            quote!(if let ::core::option::Option::Some(__ret) = self.cached {
                return __ret;
            }),
        ];
        for first in leading {
            let expanded = expand(
                Kind::RequiresFeature,
                quote!("pro"),
                quote! {
                    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<u32, E>> + Send + '_>> {
                        Box::pin(async move { #first Ok(1) })
                    }
                },
            );
            let check_at = expanded.find("__LICENSE_GATE_SITE").expect("the check");
            let first_at = expanded.find("cached").expect("the user's statement");
            assert!(check_at < first_at, "{expanded}");
        }
    }

    #[test]
    fn undeclared_feature_names_the_declared_ones() {
        let expanded = expand_declared(
            Kind::RequiresFeature,
            quote!("por", any("export", "gpu")),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
            Some(&["pro", "export"]),
        );
        assert!(
            expanded.contains(
                "unknown feature `por`: `[package.metadata.license-gate] features` in Cargo.toml declares `pro`, `export`; did you mean `pro`? Fix the name, or add `\\\"por\\\"` to the list"
            ),
            "{expanded}"
        );
        assert!(
            expanded.contains("unknown feature `gpu`") && expanded.contains("write one of them"),
            "{expanded}"
        );
        assert!(!expanded.contains("unknown feature `export`"), "{expanded}");
    }

    #[test]
    fn declared_features_track_the_manifest_and_check_constants() {
        let expanded = expand_declared(
            Kind::RequiresFeature,
            quote!("pro", consts::EXPORT),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
            Some(&["pro", "export"]),
        );
        let expected = quote! {
            fn export() -> Result<(), E> {
                const _: &[u8] = ::core::include_bytes!("/app/Cargo.toml");
                const _: () = ::core::assert!(
                    ::license_gate::__private::is_declared(consts::EXPORT, &["pro", "export"]),
                    "this feature name is not in `[package.metadata.license-gate] features` of Cargo.toml: fix the constant, or add the name to the list"
                );
                static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
                    ::license_gate::__private::CallSite::new(
                        ::core::option::Option::None,
                        ::license_gate::__private::Requirement::All(&["pro", consts::EXPORT])
                    );
                if let ::core::result::Result::Err(__license_gate_denied) =
                    ::license_gate::__private::check(&__LICENSE_GATE_SITE)
                {
                    return ::license_gate::__private::Deny::deny(__license_gate_denied);
                }
                { Ok(()) }
            }
        };
        assert_eq!(compact(expanded), compact(expected));
        // Without a declaration, nothing is added.
        let plain = expand(
            Kind::RequiresFeature,
            quote!("por"),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
        );
        assert!(
            !plain.contains("include_bytes") && !plain.contains("compile_error"),
            "{plain}"
        );
    }

    #[test]
    fn unsafe_fallback_is_called_in_an_unsafe_block() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!("pro", fallback = <Self as Basic>::read),
            quote! { unsafe fn read(&self, ptr: *const u8) -> u8 { unsafe { *ptr } } },
        );
        assert!(
            compact(&expanded).contains(&compact(quote! {
                #[allow(unused_unsafe)]
                if ::core::result::Result::is_err(&::license_gate::__private::check(&__LICENSE_GATE_SITE)) {
                    return unsafe { <Self as Basic>::read(self, ptr) };
                }
            })),
            "{expanded}"
        );
    }

    /// What `#[tokio::test]` written above the gate hands it.
    fn tokio_wrapped(output: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        quote! {
            #[::core::prelude::v1::test]
            fn gated() #output {
                let body = async { work().await };
                tokio::pin!(body);
                let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = ()>> = body;
                #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return, clippy::unwrap_in_result)]
                {
                    use tokio::runtime::Builder;
                    return Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("Failed building the Runtime")
                        .block_on(body);
                }
            }
        }
    }

    #[test]
    fn tokio_expanded_first_is_checked_before_the_runtime_starts() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!("pro"),
            tokio_wrapped(quote!(-> Result<(), E>)),
        );
        let check_at = expanded.find("__LICENSE_GATE_SITE").expect("the check");
        let deny_at = expanded.find("Deny :: deny").expect("the denial");
        let body_at = expanded.find("let body").expect("tokio's body");
        assert!(check_at < deny_at && deny_at < body_at, "{expanded}");
        assert!(!expanded.contains("compile_error"), "{expanded}");
    }

    #[test]
    fn tokio_expanded_first_awaits_the_fallback_on_the_runtime() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!("pro", fallback = skip),
            tokio_wrapped(quote!()),
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            fn gated() {
                static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
                    ::license_gate::__private::CallSite::new(
                        ::core::option::Option::None,
                        ::license_gate::__private::Requirement::All(&["pro"])
                    );
                let __license_gate_allowed = ::core::result::Result::is_ok(
                    &::license_gate::__private::check(&__LICENSE_GATE_SITE)
                );
                {
                    let body = async {
                        if !__license_gate_allowed {
                            return skip().await;
                        }
                        { work().await }
                    };
                    tokio::pin!(body);
                    let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = ()>> = body;
                    #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return, clippy::unwrap_in_result)]
                    {
                        use tokio::runtime::Builder;
                        return Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .expect("Failed building the Runtime")
                            .block_on(body);
                    }
                }
            }
        };
        assert_eq!(compact(expanded), compact(expected));
    }

    /// A function that only looks like tokio's (no runtime built) is plain.
    #[test]
    fn a_hand_written_async_body_is_a_plain_body() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!("pro", fallback = skip),
            quote! {
                fn gated() {
                    let body = async { work().await };
                    drop(body);
                }
            },
        );
        assert!(!expanded.contains("__license_gate_allowed"), "{expanded}");
        assert!(expanded.contains("return skip () ;"), "{expanded}");
    }

    #[test]
    fn feature_names_may_be_constants() {
        let expanded = expand(
            Kind::RequiresFeature,
            quote!(FEATURE_PRO, concat!("ex", "port"), any(consts::A, "b")),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
        );
        // `any` with plain names is refused, but the names themselves parse.
        assert!(expanded.contains("cannot mix plain features"), "{expanded}");
        let expanded = expand(
            Kind::RequiresFeature,
            quote!(FEATURE_PRO, concat!("ex", "port")),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
        );
        assert!(
            compact(&expanded).contains(&compact(quote!(Requirement::All(&[
                FEATURE_PRO,
                concat!("ex", "port")
            ])))),
            "{expanded}"
        );
        let expanded = expand(
            Kind::RequiresFeature,
            quote!(42),
            quote! { fn export() -> Result<(), E> { Ok(()) } },
        );
        assert!(
            expanded.contains("feature names are strings: write `\\\"42\\\"`"),
            "{expanded}"
        );
    }
}
