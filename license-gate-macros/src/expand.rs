//! The generated code: the user's function, unchanged, with a call-site
//! `static` and a check in front of its body.
//!
//! ```text
//! fn export(doc: &Doc) -> Result<Vec<u8>, AppError> {
//!     static __LICENSE_GATE_SITE: ::license_gate::__private::CallSite =
//!         ::license_gate::__private::CallSite::new(None, Requirement::All(&["pro"]));
//!     if let Err(__license_gate_denied) = ::license_gate::__private::check(&__LICENSE_GATE_SITE) {
//!         return Err(From::from(__license_gate_denied)); // or `return fallback(doc);`
//!     }
//!     { /* the body as written */ }
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Block, FnArg, GenericArgument, Ident, PathArguments, Type};

use crate::args::{Args, Kind};
use crate::ast::{self, Body, Flavor, GatedFn, Output};

/// The gated function.
pub(crate) fn expand(args: &Args, func: &GatedFn) -> TokenStream {
    let check = check(args, func);
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
        (_, Body::Parsed(stmts)) => {
            let block = Block {
                brace_token: *brace,
                stmts: stmts.clone(),
            };
            quote!(#check #block)
        }
        (_, Body::Raw(tokens)) => {
            let mut block = TokenStream::new();
            brace.surround(&mut block, |block| block.extend(tokens.clone()));
            quote!(#check #block)
        }
    };
    let mut out = quote!(#(#outer_attrs)* #vis #sig);
    brace.surround(&mut out, |out| {
        out.extend(quote!(#(#inner_attrs)* #body));
    });
    out
}

/// The call-site `static` and the check, as statements.
fn check(args: &Args, func: &GatedFn) -> TokenStream {
    let krate = match &args.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::license_gate),
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
    let site = quote! {
        static __LICENSE_GATE_SITE: #private::CallSite = #private::CallSite::new(#product, #requirement);
    };
    match &args.fallback {
        Some(fallback) => {
            // The call carries the span of the fallback's path, so that a
            // fallback with the wrong signature is reported there.
            let span = fallback
                .segments
                .last()
                .map_or_else(Span::call_site, |segment| segment.ident.span());
            let arguments = fallback_arguments(func);
            let mut call = quote_spanned!(span=> #fallback(#(#arguments),*));
            if matches!(func.flavor(), Flavor::Async | Flavor::AsyncTrait { .. }) {
                call = quote_spanned!(span=> #call.await);
            }
            quote! {
                #site
                if ::core::result::Result::is_err(&#private::check(&__LICENSE_GATE_SITE)) {
                    return #call;
                }
            }
        }
        None => {
            // A missing `From<LicenseError>` is reported on the error type.
            let span = match func.output() {
                Output::Result(ty) => error_type(ty).span(),
                Output::Other(_) => Span::call_site(),
            };
            // Call-site hygiene here (the binding is scoped to the `if let`,
            // out of the body's reach): a mixed-site span would move the
            // error to the attribute.
            let denied = Ident::new("__license_gate_denied", span);
            let err = quote_spanned!(span=> ::core::convert::From::from(#denied));
            // `E` may be `LicenseError` itself.
            quote! {
                #site
                #[allow(clippy::useless_conversion)]
                if let ::core::result::Result::Err(#denied) = #private::check(&__LICENSE_GATE_SITE) {
                    return ::core::result::Result::Err(#err);
                }
            }
        }
    }
}

/// `E` in `Result<T, E>`; the whole type for `io::Result<T>` and the like.
fn error_type(ty: &Type) -> &Type {
    if let Type::Path(path) = ty
        && let Some(segment) = path.path.segments.last()
        && let PathArguments::AngleBracketed(arguments) = &segment.arguments
        && arguments.args.len() == 2
        && let Some(GenericArgument::Type(error)) = arguments.args.last()
    {
        return error;
    }
    ty
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
                let name = ast::plain_binding(&arg.pat)?;
                Some(quote!(#(#cfgs)* #name))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::args::Kind;

    fn expand(
        kind: Kind,
        args: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) -> String {
        crate::gate(kind, args, item).to_string()
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
                #[allow(clippy::useless_conversion)]
                if let ::core::result::Result::Err(__license_gate_denied) =
                    ::license_gate::__private::check(&__LICENSE_GATE_SITE)
                {
                    return ::core::result::Result::Err(::core::convert::From::from(__license_gate_denied));
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
                    #[allow(clippy::useless_conversion)]
                    if let ::core::result::Result::Err(__license_gate_denied) =
                        ::license_gate::__private::check(&__LICENSE_GATE_SITE)
                    {
                        return ::core::result::Result::Err(::core::convert::From::from(__license_gate_denied));
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
}
