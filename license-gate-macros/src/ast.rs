//! The gated function: its signature, its body, and the shapes the expansion
//! cares about (a plain body, an `async fn`, a method already desugared by
//! `#[async_trait]`, or a function already wrapped by `#[tokio::main]` or
//! `#[tokio::test]`).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, Expr, GenericArgument, Pat, PathArguments, ReturnType, Signature, Stmt,
    Token, Type, TypeParamBound, Visibility, token,
};

use crate::args::Kind;

/// A function the attribute was put on.
///
/// The body is parsed when it can be; when it cannot, it is kept as tokens so
/// that rustc, not this macro, reports the syntax error in it.
pub(crate) struct GatedFn {
    pub(crate) outer_attrs: Vec<Attribute>,
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) brace: token::Brace,
    pub(crate) body: Body,
}

/// The body of a gated function.
pub(crate) enum Body {
    /// Statements that parsed.
    Parsed(Vec<Stmt>),
    /// Tokens that did not parse (rustc reports why).
    Raw(TokenStream),
}

/// How the function returns its value, which decides where the check goes.
pub(crate) enum Flavor<'a> {
    /// A plain function: the check goes first in the body.
    Plain,
    /// An `async fn`: the check goes first in the body, and runs on the first poll.
    Async,
    /// A method that `#[async_trait]` turned into
    /// `fn .. -> Pin<Box<dyn Future<Output = R> + ..>> { Box::pin(async move { .. }) }`:
    /// the check goes first inside the async block.
    AsyncTrait {
        /// `R`.
        output: &'a Type,
    },
    /// An `async fn` that `#[tokio::main]` or `#[tokio::test]`, written above
    /// the gate, has already turned into a blocking `fn` (see
    /// [`GatedFn::tokio_body_at`]): the check goes first in the `fn`, before
    /// the runtime starts; a fallback, an `async fn`, is awaited on the
    /// runtime in place of the body.
    Tokio {
        /// Where `let body = async { .. };` is among the statements.
        body_at: usize,
    },
}

/// What the function gives back to its caller when it runs to the end.
pub(crate) enum Output<'a> {
    /// No return type (`None`), or `()`: nothing can carry a denial.
    Unit(Option<&'a Type>),
    /// `impl Trait` as the whole return type: an opaque type the gate cannot
    /// build a denial of.
    ImplTrait(&'a syn::TypeImplTrait),
    /// Any other type: whether a denied call can return it is decided by the
    /// type system (`__private::Deny`), so aliases, associated types and boxed
    /// futures need no special case here.
    Type(&'a Type),
}

impl GatedFn {
    /// Parses the item the attribute is on.
    pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<GatedFn> {
        (|input: ParseStream| parse_fn(kind, input)).parse2(tokens)
    }

    /// The shape of the body.
    pub(crate) fn flavor(&self) -> Flavor<'_> {
        if self.sig.asyncness.is_some() {
            return Flavor::Async;
        }
        if let Some(body_at) = self.tokio_body_at() {
            return Flavor::Tokio { body_at };
        }
        match (async_trait_output(&self.sig.output), &self.body) {
            (Some(output), Body::Parsed(stmts)) if boxed_async_block(stmts).is_some() => {
                Flavor::AsyncTrait { output }
            }
            _ => Flavor::Plain,
        }
    }

    /// What the function's callers get: for an `#[async_trait]` method, the
    /// future's `Output`.
    pub(crate) fn output(&self) -> Output<'_> {
        let ty = match (&self.flavor(), &self.sig.output) {
            (Flavor::AsyncTrait { output }, _) => *output,
            (_, ReturnType::Type(_, ty)) => ty,
            (_, ReturnType::Default) => return Output::Unit(None),
        };
        match ungroup(ty) {
            Type::Tuple(tuple) if tuple.elems.is_empty() => Output::Unit(Some(ty)),
            Type::ImplTrait(impl_trait) => Output::ImplTrait(impl_trait),
            _ => Output::Type(ty),
        }
    }

    /// Where the user's body is when `#[tokio::main]` or `#[tokio::test]`,
    /// written above the gate, has already turned this `async fn` into a
    /// blocking one: the index of its `let body = async { .. };`, in a `fn`
    /// whose last statement builds the runtime and blocks on `body`.
    ///
    /// ```text
    /// fn main() -> R {
    ///     let body = async { /* the body as written */ };
    ///     /* type hints, or pinning for tests */
    ///     #[allow(..)] { return Builder::new_current_thread()...block_on(body); }
    /// }
    /// ```
    pub(crate) fn tokio_body_at(&self) -> Option<usize> {
        let Body::Parsed(stmts) = &self.body else {
            return None;
        };
        if self.sig.asyncness.is_some() {
            return None;
        }
        let blocks_on_body = stmts
            .last()
            .is_some_and(|stmt| starts_runtime_on_body(stmt.to_token_stream()));
        if !blocks_on_body {
            return None;
        }
        stmts
            .iter()
            .position(|stmt| tokio_async_body(stmt).is_some())
    }
}

/// Whether `tokens` build a runtime (`Builder`) and call `block_on(body)`.
fn starts_runtime_on_body(tokens: TokenStream) -> bool {
    fn walk(tokens: TokenStream, builder: &mut bool, block_on: &mut bool) {
        let mut previous_is_block_on = false;
        for tree in tokens {
            match &tree {
                TokenTree::Ident(ident) if ident == "Builder" => *builder = true,
                TokenTree::Group(group) => {
                    if previous_is_block_on && group.delimiter() == Delimiter::Parenthesis {
                        let argument: Vec<_> = group.stream().into_iter().collect();
                        *block_on |= matches!(argument.as_slice(), [TokenTree::Ident(body)] if body == "body");
                    }
                    walk(group.stream(), builder, block_on);
                }
                _ => {}
            }
            previous_is_block_on = matches!(&tree, TokenTree::Ident(ident) if ident == "block_on");
        }
    }
    let (mut builder, mut block_on) = (false, false);
    walk(tokens, &mut builder, &mut block_on);
    builder && block_on
}

/// The block of `let body = async { .. };`.
fn tokio_async_body(stmt: &Stmt) -> Option<&syn::ExprAsync> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    if !matches!(&local.pat, Pat::Ident(pat) if pat.ident == "body" && pat.by_ref.is_none() && pat.subpat.is_none())
    {
        return None;
    }
    match local.init.as_ref().map(|init| (&*init.expr, &init.diverge)) {
        Some((Expr::Async(block), None)) => Some(block),
        _ => None,
    }
}

/// The mutable form of [`tokio_async_body`].
pub(crate) fn tokio_async_body_mut(stmt: &mut Stmt) -> Option<&mut syn::ExprAsync> {
    tokio_async_body(stmt)?;
    let Stmt::Local(local) = stmt else {
        return None;
    };
    match local.init.as_mut().map(|init| &mut *init.expr) {
        Some(Expr::Async(block)) => Some(block),
        _ => None,
    }
}

/// A type without the parentheses or invisible groups around it.
pub(crate) fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Paren(paren) => ungroup(&paren.elem),
        Type::Group(group) => ungroup(&group.elem),
        _ => ty,
    }
}

/// Whether an `impl Trait` is a future (`impl Future<Output = ..> + Send`).
pub(crate) fn is_impl_future(impl_trait: &syn::TypeImplTrait) -> bool {
    impl_trait.bounds.iter().any(|bound| {
        matches!(bound, TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|segment| segment.ident == "Future"))
    })
}

fn parse_fn(kind: Kind, input: ParseStream) -> syn::Result<GatedFn> {
    let outer_attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    if !looks_like_fn(input) {
        return Err(input.error(format!(
            "{} goes on a function or a method: put it on the `fn` to gate",
            kind.attr()
        )));
    }
    let sig: Signature = input.parse()?;
    if input.peek(Token![;]) {
        let semi: Token![;] = input.parse()?;
        return Err(syn::Error::new(
            semi.span,
            format!(
                "{} needs a function with a body: put it on the method in the `impl` block",
                kind.attr()
            ),
        ));
    }
    let content;
    let brace = syn::braced!(content in input);
    let raw: TokenStream = content.parse()?;
    let parsed = (|body: ParseStream| {
        let inner = body.call(Attribute::parse_inner)?;
        let stmts = body.call(Block::parse_within)?;
        Ok((inner, stmts))
    })
    .parse2(raw.clone());
    let (inner_attrs, body) = match parsed {
        Ok((inner, stmts)) => (inner, Body::Parsed(stmts)),
        Err(_) => (Vec::new(), Body::Raw(raw)),
    };
    Ok(GatedFn {
        outer_attrs,
        inner_attrs,
        vis,
        sig,
        brace,
        body,
    })
}

/// Whether the next tokens start a function signature: the qualifiers
/// `const async unsafe safe extern "abi"` in any order, then `fn`.
fn looks_like_fn(input: ParseStream) -> bool {
    let fork = input.fork();
    loop {
        if fork.peek(Token![fn]) {
            return true;
        }
        let qualifier = fork.parse::<Token![const]>().is_ok()
            || fork.parse::<Token![async]>().is_ok()
            || fork.parse::<Token![unsafe]>().is_ok()
            || fork.parse::<Token![safe]>().is_ok()
            || fork.parse::<Token![extern]>().is_ok();
        if !qualifier && fork.parse::<syn::LitStr>().is_err() {
            return false;
        }
    }
}

/// The first `impl Trait` in a type, if there is one.
pub(crate) fn find_impl_trait(ty: &Type) -> Option<syn::TypeImplTrait> {
    struct Find(Option<syn::TypeImplTrait>);
    impl VisitMut for Find {
        fn visit_type_impl_trait_mut(&mut self, node: &mut syn::TypeImplTrait) {
            if self.0.is_none() {
                self.0 = Some(node.clone());
            }
        }
    }
    let mut find = Find(None);
    find.visit_type_mut(&mut ty.clone());
    find.0
}

/// `R` in `Pin<Box<dyn Future<Output = R> + ..>>`, the return type of an
/// `#[async_trait]` method after that attribute has expanded.
fn async_trait_output(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let pinned = single_type_argument(ty, "Pin")?;
    let boxed = single_type_argument(pinned, "Box")?;
    let Type::TraitObject(object) = boxed else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        if segment.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|argument| match argument {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// `T` in `Name<T>` (the last path segment named `name`).
fn single_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.first()? {
        GenericArgument::Type(ty) if arguments.args.len() == 1 => Some(ty),
        _ => None,
    }
}

/// The statements inside `Box::pin(async move { .. })` when that call is the
/// whole body.
pub(crate) fn boxed_async_block(stmts: &[Stmt]) -> Option<&Block> {
    let [Stmt::Expr(Expr::Call(call), None)] = stmts else {
        return None;
    };
    if !is_box_pin(&call.func) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        Expr::Async(block) if block.capture.is_some() => Some(&block.block),
        _ => None,
    }
}

/// The mutable form of [`boxed_async_block`].
pub(crate) fn boxed_async_block_mut(stmts: &mut [Stmt]) -> Option<&mut Block> {
    let [Stmt::Expr(Expr::Call(call), None)] = stmts else {
        return None;
    };
    if !is_box_pin(&call.func) || call.args.len() != 1 {
        return None;
    }
    match &mut call.args[0] {
        Expr::Async(block) if block.capture.is_some() => Some(&mut block.block),
        _ => None,
    }
}

/// `Box::pin`, `::std::boxed::Box::pin`...
fn is_box_pin(func: &Expr) -> bool {
    let Expr::Path(path) = func else {
        return false;
    };
    let segments: &Punctuated<_, _> = &path.path.segments;
    let n = segments.len();
    n >= 2 && segments[n - 1].ident == "pin" && segments[n - 2].ident == "Box"
}

/// Where the check goes in an `#[async_trait]` block: after the type hint
/// that async-trait puts first,
///
/// ```text
/// if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<R> {
///     #[allow(unreachable_code)]
///     return __ret;
/// }
/// ```
///
/// so that the denial's type is known, and before anything else. Only that
/// exact statement is skipped: its scrutinee is the constant `None`, so it can
/// never run code or return. Any other leading statement, however alike, is
/// the user's and runs after the check.
pub(crate) fn async_trait_insert_at(block: &Block) -> usize {
    match block.stmts.first() {
        Some(Stmt::Expr(Expr::If(expr), None)) if is_async_trait_hint(expr) => 1,
        _ => 0,
    }
}

fn is_async_trait_hint(expr: &syn::ExprIf) -> bool {
    let Expr::Let(binding) = &*expr.cond else {
        return false;
    };
    let binds_ret = match &*binding.pat {
        Pat::TupleStruct(pat) => {
            last_ident_is(&pat.path, "Some")
                && pat.qself.is_none()
                && pat.elems.len() == 1
                && matches!(&pat.elems[0], Pat::Ident(ident)
                    if ident.ident == "__ret" && ident.by_ref.is_none()
                        && ident.mutability.is_none() && ident.subpat.is_none())
        }
        _ => false,
    };
    let scrutinee_is_none = matches!(&*binding.expr, Expr::Path(path)
        if path.qself.is_none() && last_ident_is(&path.path, "None"));
    let returns_ret = match expr.then_branch.stmts.as_slice() {
        [Stmt::Expr(Expr::Return(ret), Some(_))] => matches!(ret.expr.as_deref(),
            Some(Expr::Path(path)) if path.qself.is_none() && path.path.is_ident("__ret")),
        _ => false,
    };
    binds_ret && scrutinee_is_none && returns_ret && expr.else_branch.is_none()
}

fn last_ident_is(path: &syn::Path, name: &str) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| segment.ident == name)
}

/// Whether a pattern is a plain binding (`x`, `mut x`) that can be passed on.
pub(crate) fn plain_binding(pat: &Pat) -> Option<&syn::Ident> {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => Some(&ident.ident),
        _ => None,
    }
}
