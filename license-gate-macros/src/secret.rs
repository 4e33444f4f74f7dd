//! `embed_secret!`: the vendor secret, read from an environment variable of
//! the build and laid out afresh at every build.
//!
//! Laid out as the attributes are: [`Input`] reads the call, [`read`] checks
//! the variable, [`Layout::draw`] is the model (pure, given its random
//! source), [`Layout::expand`] writes the code.
//!
//! The secret is split into 3 to 5 shares (the count is drawn), each a
//! `static` with a drawn name. Each byte is recombined by its own
//! straight-line expression: the shares in a drawn order, joined by drawn
//! operations (xor, wrapping add or subtract either way) with drawn constants
//! and rotations mixed in, the bytes computed in a drawn order. The shares are
//! read with `read_volatile`, so the optimiser cannot fold the combination
//! back into the plain secret in the binary's read-only data. No seed, key
//! stream or instruction pattern is the same from one build to the next.
//!
//! A variable that is not set (or empty) is no error in a debug build: the
//! expansion holds both answers under `cfg`, since a proc macro cannot see
//! the profile. With `debug_assertions` (debug builds, `cargo test`,
//! `cargo check`) it is the runtime's public *development* secret, which the
//! gate states at start and keys apart from every real secret; without them
//! (`--release`) it is a `compile_error!` that names the variable and
//! `license-gate secret new` ([`expand_unset`]).

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Path, Token};

/// The fewest bytes a vendor secret may have (as `VendorSecret::new` checks).
const MIN_SECRET_BYTES: usize = 16;

/// What the call says: `embed_secret!("VAR")` or
/// `embed_secret!("VAR", crate = "path")`.
pub(crate) struct Input {
    /// The environment variable that holds the secret.
    pub(crate) name: LitStr,
    /// Where license-gate is, when `crate = ".."` says.
    pub(crate) krate: Option<Path>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        const USAGE: &str = "write `embed_secret!(\"YOUR_APP_LICENSE_SECRET\")`, naming the environment variable that holds the secret";
        if input.is_empty() {
            return Err(input.error(format!(
                "`embed_secret!` needs the name of an environment variable: {USAGE}"
            )));
        }
        let name: LitStr = input.parse().map_err(|error| {
            syn::Error::new(error.span(), format!("expected a string literal: {USAGE}"))
        })?;
        let mut krate = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if !input.peek(Token![crate]) {
                return Err(input.error(
                    "unknown argument: `embed_secret!` takes the variable's name and, optionally, `crate = \"license_gate\"`",
                ));
            }
            let key: Token![crate] = input.parse()?;
            input.parse::<Token![=]>().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected `=`: write `crate = \"license_gate\"`",
                )
            })?;
            let lit: LitStr = input.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "expected a string literal: write `crate = \"license_gate\"`",
                )
            })?;
            let path = lit.parse::<Path>().map_err(|_| {
                syn::Error::new(
                    lit.span(),
                    "`crate` must be the path of the license-gate crate, such as `crate = \"license_gate\"`",
                )
            })?;
            if krate.is_some() {
                return Err(syn::Error::new(
                    key.span,
                    "duplicate `crate` argument: give `crate` once",
                ));
            }
            krate = Some(path);
        }
        Ok(Input { name, krate })
    }
}

/// The secret's bytes from the build's environment (`None`: not set, or
/// empty), or the error that says how to set them. The value never appears
/// in a message.
pub(crate) fn read(
    name: &LitStr,
    value: Option<std::ffi::OsString>,
) -> syn::Result<Option<Vec<u8>>> {
    let var = name.value();
    let Some(value) = value.filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let Ok(value) = value.into_string() else {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "the environment variable `{var}` is not valid UTF-8: set it to a text secret (`license-gate secret new` prints one)"
            ),
        ));
    };
    if value.len() < MIN_SECRET_BYTES {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "the vendor secret in `{var}` is too short ({} bytes): use at least {MIN_SECRET_BYTES} bytes (`license-gate secret new` prints 32 random bytes, hex-encoded)",
                value.len()
            ),
        ));
    }
    Ok(Some(value.into_bytes()))
}

/// What a release build without the variable says.
pub(crate) fn unset_message(var: &str) -> String {
    format!(
        "the environment variable `{var}` that holds the vendor secret is not set for this release build: run `license-gate secret new` to make a secret, then set `{var}` in a git-ignored `.cargo/config.toml` (`[env]` `{var} = \"..\"`, as the command prints) or in the build's environment from your CI's secrets (debug builds and tests without it use a public development secret)"
    )
}

/// The expansion when the variable is not set: the development secret in a
/// debug build, a compile error in a release build.
pub(crate) fn expand_unset(name: &LitStr, krate: &TokenStream) -> TokenStream {
    let site = Span::mixed_site();
    let private = quote_spanned!(site=> #krate::__private);
    let message = LitStr::new(&unset_message(&name.value()), name.span());
    // `option_env!` records the variable among the crate's inputs even when
    // it is not set, so cargo rebuilds once it is.
    let track = quote_spanned!(name.span()=>
        const _: ::core::option::Option<&str> = ::core::option_env!(#name);
    );
    let refuse = quote_spanned!(name.span()=>
        #[cfg(not(debug_assertions))]
        ::core::compile_error! { #message }
    );
    quote_spanned! {site=>
        {
            #track
            #refuse
            #private::development_secret(#name)
        }
    }
}

/// The operating system's random source, drawn from at compile time.
pub(crate) struct Draw {
    pool: Vec<u8>,
}

impl Draw {
    /// A source with nothing drawn yet.
    pub(crate) fn new() -> Draw {
        Draw { pool: Vec::new() }
    }

    fn byte(&mut self) -> syn::Result<u8> {
        if self.pool.is_empty() {
            let mut fresh = [0u8; 256];
            getrandom::fill(&mut fresh).map_err(|error| {
                syn::Error::new(
                    Span::call_site(),
                    format!(
                        "`embed_secret!` could not read the operating system's random source ({error}): build where it is available"
                    ),
                )
            })?;
            self.pool.extend_from_slice(&fresh);
        }
        Ok(self.pool.pop().expect("the pool was just filled"))
    }

    /// A number in `0..bound` (`bound` is at most 256; the bias of a byte
    /// modulo a small bound does not matter for a layout).
    fn below(&mut self, bound: usize) -> syn::Result<usize> {
        Ok(usize::from(self.byte()?) % bound)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) -> syn::Result<()> {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1)?;
            items.swap(i, j);
        }
        Ok(())
    }
}

/// How the running value meets the next share's byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Join {
    /// `acc ^ share`
    Xor,
    /// `acc.wrapping_add(share)`
    Add,
    /// `acc.wrapping_sub(share)`
    Sub,
    /// `share.wrapping_sub(acc)`
    SubFrom,
}

/// A drawn step applied to the running value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mix {
    /// `acc ^ c`
    Xor(u8),
    /// `acc.wrapping_add(c)`
    Add(u8),
    /// `acc.rotate_left(r)`, `r` in `1..8`
    Rotate(u32),
}

/// One share joined into the running value, then an optional mix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub(crate) share: usize,
    pub(crate) join: Join,
    pub(crate) mix: Option<Mix>,
}

/// How one byte of the secret is recombined.
#[derive(Clone, Debug)]
pub(crate) struct Recipe {
    /// The share the running value starts from.
    pub(crate) first: usize,
    pub(crate) steps: Vec<Step>,
}

/// One build's layout: the shares, their names, a recipe per byte, and the
/// order in which the bytes are computed.
pub(crate) struct Layout {
    pub(crate) shares: Vec<Vec<u8>>,
    pub(crate) names: Vec<Ident>,
    pub(crate) locals: Vec<Ident>,
    pub(crate) recipes: Vec<Recipe>,
    pub(crate) order: Vec<usize>,
}

impl Join {
    #[cfg(test)]
    fn apply(self, acc: u8, share: u8) -> u8 {
        match self {
            Join::Xor => acc ^ share,
            Join::Add => acc.wrapping_add(share),
            Join::Sub => acc.wrapping_sub(share),
            Join::SubFrom => share.wrapping_sub(acc),
        }
    }

    /// The running value before the join, given the one after.
    fn undo(self, after: u8, share: u8) -> u8 {
        match self {
            Join::Xor => after ^ share,
            Join::Add => after.wrapping_sub(share),
            Join::Sub => after.wrapping_add(share),
            Join::SubFrom => share.wrapping_sub(after),
        }
    }
}

impl Mix {
    #[cfg(test)]
    fn apply(self, acc: u8) -> u8 {
        match self {
            Mix::Xor(c) => acc ^ c,
            Mix::Add(c) => acc.wrapping_add(c),
            Mix::Rotate(r) => acc.rotate_left(r),
        }
    }

    fn undo(self, after: u8) -> u8 {
        match self {
            Mix::Xor(c) => after ^ c,
            Mix::Add(c) => after.wrapping_sub(c),
            Mix::Rotate(r) => after.rotate_right(r),
        }
    }
}

impl Layout {
    /// Draws a fresh layout of `secret`.
    pub(crate) fn draw(secret: &[u8], draw: &mut Draw) -> syn::Result<Layout> {
        let count = 3 + draw.below(3)?;
        let len = secret.len();
        let mut shares = vec![vec![0u8; len]; count];
        let mut recipes = Vec::with_capacity(len);
        for (i, &target) in secret.iter().enumerate() {
            let mut which: Vec<usize> = (0..count).collect();
            draw.shuffle(&mut which)?;
            let mut steps = Vec::with_capacity(count - 1);
            for &share in &which[1..] {
                let join = [Join::Xor, Join::Add, Join::Sub, Join::SubFrom][draw.below(4)?];
                let mix = match draw.below(4)? {
                    0 => None,
                    1 => Some(Mix::Xor(draw.byte()? | 1)),
                    2 => Some(Mix::Add(draw.byte()? | 1)),
                    _ => Some(Mix::Rotate(1 + u32::from(draw.byte()? % 7))),
                };
                steps.push(Step { share, join, mix });
            }
            // Every byte gets at least one mix, so that no byte is a plain
            // xor or sum of the shares.
            if steps.iter().all(|step| step.mix.is_none()) {
                let last = steps.len() - 1;
                steps[last].mix = Some(Mix::Add(draw.byte()? | 1));
            }
            for step in &steps {
                shares[step.share][i] = draw.byte()?;
            }
            let mut value = target;
            for step in steps.iter().rev() {
                if let Some(mix) = step.mix {
                    value = mix.undo(value);
                }
                value = step.join.undo(value, shares[step.share][i]);
            }
            shares[which[0]][i] = value;
            recipes.push(Recipe {
                first: which[0],
                steps,
            });
        }
        let mut order: Vec<usize> = (0..len).collect();
        draw.shuffle(&mut order)?;
        let mut names = Vec::with_capacity(count);
        let mut locals = Vec::with_capacity(count);
        for _ in 0..count {
            names.push(Ident::new(
                &drawn_name(draw, true, &names)?,
                Span::mixed_site(),
            ));
            locals.push(Ident::new(
                &drawn_name(draw, false, &locals)?,
                Span::mixed_site(),
            ));
        }
        Ok(Layout {
            shares,
            names,
            locals,
            recipes,
            order,
        })
    }

    /// What the generated code computes, run here (for the tests).
    #[cfg(test)]
    pub(crate) fn combine(&self) -> Vec<u8> {
        self.recipes
            .iter()
            .enumerate()
            .map(|(i, recipe)| {
                let mut acc = self.shares[recipe.first][i];
                for step in &recipe.steps {
                    acc = step.join.apply(acc, self.shares[step.share][i]);
                    if let Some(mix) = step.mix {
                        acc = mix.apply(acc);
                    }
                }
                acc
            })
            .collect()
    }

    /// The expression `embed_secret!` expands to: the shares, the straight-line
    /// combination, and the hidden constructor of the facade.
    pub(crate) fn expand(&self, name: &LitStr, krate: &TokenStream) -> TokenStream {
        let site = Span::mixed_site();
        let len = Literal::usize_unsuffixed(self.recipes.len());
        let statics = self.shares.iter().zip(&self.names).map(|(bytes, ident)| {
            let bytes = bytes.iter().map(|&b| Literal::u8_unsuffixed(b));
            quote_spanned!(site=> static #ident: [u8; #len] = [#(#bytes),*];)
        });
        let private = quote_spanned!(site=> #krate::__private);
        let reads = self.names.iter().zip(&self.locals).map(|(ident, local)| {
            quote_spanned!(site=> let #local: [u8; #len] = #private::read_share(&#ident);)
        });
        let out = format_ident!("out", span = site);
        let bytes = self.order.iter().map(|&i| {
            let expr = self.byte_expr(i);
            let index = Literal::usize_unsuffixed(i);
            quote_spanned!(site=> #out[#index] = #expr;)
        });
        // `env!` of the variable in a constant nothing uses: rustc records the
        // variable among the crate's inputs, so cargo rebuilds when it
        // changes, and the value is never emitted into the binary.
        let track = quote_spanned!(name.span()=> const _: &str = ::core::env!(#name););
        quote_spanned! {site=>
            {
                #track
                #(#statics)*
                #(#reads)*
                let mut #out = [0u8; #len];
                #(#bytes)*
                #private::embedded_secret(&#out)
            }
        }
    }

    /// The expression of byte `i`: left-associated, so that no parentheses
    /// are needed except around a receiver.
    fn byte_expr(&self, i: usize) -> TokenStream {
        let site = Span::mixed_site();
        let index = Literal::usize_unsuffixed(i);
        let recipe = &self.recipes[i];
        let first = &self.locals[recipe.first];
        let mut expr = quote_spanned!(site=> #first[#index]);
        // Whether `expr` is a binary operation (it needs parentheses to be a
        // method's receiver).
        let mut binary = false;
        for step in &recipe.steps {
            let share = &self.locals[step.share];
            let operand = quote_spanned!(site=> #share[#index]);
            let receiver = |expr: &TokenStream, binary: bool| {
                if binary {
                    quote_spanned!(site=> (#expr))
                } else {
                    expr.clone()
                }
            };
            (expr, binary) = match step.join {
                Join::Xor => (quote_spanned!(site=> #expr ^ #operand), true),
                Join::Add => {
                    let recv = receiver(&expr, binary);
                    (quote_spanned!(site=> #recv.wrapping_add(#operand)), false)
                }
                Join::Sub => {
                    let recv = receiver(&expr, binary);
                    (quote_spanned!(site=> #recv.wrapping_sub(#operand)), false)
                }
                Join::SubFrom => (quote_spanned!(site=> #operand.wrapping_sub(#expr)), false),
            };
            if let Some(mix) = step.mix {
                (expr, binary) = match mix {
                    Mix::Xor(c) => {
                        let c = Literal::u8_unsuffixed(c);
                        (quote_spanned!(site=> #expr ^ #c), true)
                    }
                    Mix::Add(c) => {
                        let recv = receiver(&expr, binary);
                        let c = Literal::u8_unsuffixed(c);
                        (quote_spanned!(site=> #recv.wrapping_add(#c)), false)
                    }
                    Mix::Rotate(r) => {
                        let recv = receiver(&expr, binary);
                        let r = Literal::u32_unsuffixed(r);
                        (quote_spanned!(site=> #recv.rotate_left(#r)), false)
                    }
                };
            }
        }
        expr
    }
}

/// A drawn identifier: upper case for a `static`, lower case for a local,
/// 8 to 12 characters, different from the ones drawn before.
fn drawn_name(draw: &mut Draw, upper: bool, taken: &[Ident]) -> syn::Result<String> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const TAIL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    loop {
        let len = 8 + draw.below(5)?;
        let mut name = String::with_capacity(len);
        name.push(char::from(LETTERS[draw.below(LETTERS.len())?]));
        for _ in 1..len {
            name.push(char::from(TAIL[draw.below(TAIL.len())?]));
        }
        if upper {
            name.make_ascii_uppercase();
        }
        // Not a keyword (none is 8 characters of this shape, but cheap to be
        // sure) and not taken already.
        if syn::parse_str::<Ident>(&name).is_ok() && !taken.iter().any(|ident| *ident == name) {
            return Ok(name);
        }
    }
}

/// Parses, reads the variable, draws a layout and expands it.
pub(crate) fn embed_secret(input: TokenStream) -> syn::Result<TokenStream> {
    let input: Input = syn::parse2(input)?;
    let var = input.name.value();
    let secret = read(&input.name, std::env::var_os(&var))?;
    let krate = match &input.krate {
        Some(path) => quote!(#path),
        None => crate::manifest::facade_path()?,
    };
    let Some(secret) = secret else {
        return Ok(expand_unset(&input.name, &krate));
    };
    let layout = Layout::draw(&secret, &mut Draw::new())?;
    Ok(layout.expand(&input.name, &krate))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    const SECRET: &[u8] = b"an example vendor secret of some length";

    #[test]
    fn every_drawn_layout_combines_to_the_secret() {
        let mut draw = Draw::new();
        for _ in 0..500 {
            let layout = Layout::draw(SECRET, &mut draw).unwrap();
            assert!((3..=5).contains(&layout.shares.len()));
            assert_eq!(layout.combine(), SECRET);
            for share in &layout.shares {
                assert!(
                    !share.windows(4).any(|w| SECRET.windows(4).any(|s| s == w)),
                    "no share holds 4 bytes of the secret in a row"
                );
            }
        }
    }

    #[test]
    fn no_two_builds_share_a_layout() {
        let mut draw = Draw::new();
        let a = Layout::draw(SECRET, &mut draw).unwrap();
        let b = Layout::draw(SECRET, &mut draw).unwrap();
        assert_ne!(a.shares, b.shares);
        assert_ne!(a.names, b.names);
        let name: LitStr = syn::parse_quote!("VAR");
        let krate = quote!(::license_gate);
        assert_ne!(
            a.expand(&name, &krate).to_string(),
            b.expand(&name, &krate).to_string()
        );
    }

    #[test]
    fn the_expansion_has_no_seed_and_reads_shares_through_the_barrier() {
        let layout = Layout::draw(SECRET, &mut Draw::new()).unwrap();
        let name: LitStr = syn::parse_quote!("VAR");
        let code = layout.expand(&name, &quote!(::license_gate)).to_string();
        assert_eq!(
            code.matches(":: license_gate :: __private :: read_share")
                .count(),
            layout.shares.len()
        );
        assert!(code.contains(":: license_gate :: __private :: embedded_secret"));
        assert!(code.contains(":: core :: env ! (\"VAR\")"));
        assert!(!code.contains("u64"));
        assert!(!code.contains("for "));
    }

    #[test]
    fn every_byte_has_a_mix() {
        let mut draw = Draw::new();
        for _ in 0..100 {
            let layout = Layout::draw(SECRET, &mut draw).unwrap();
            assert!(
                layout
                    .recipes
                    .iter()
                    .all(|r| r.steps.iter().any(|s| s.mix.is_some()))
            );
        }
    }

    fn parse_error(tokens: TokenStream) -> String {
        match syn::parse2::<Input>(tokens) {
            Ok(_) => panic!("parsed"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn the_call_is_read_with_clear_errors() {
        let input: Input = syn::parse2(quote!("VAR")).unwrap();
        assert_eq!(input.name.value(), "VAR");
        assert!(input.krate.is_none());
        let input: Input = syn::parse2(quote!("VAR", crate = "my::lg",)).unwrap();
        assert!(input.krate.is_some());
        assert!(parse_error(quote!()).contains("needs the name of an environment variable"));
        assert!(parse_error(quote!(VAR)).contains("expected a string literal"));
        assert!(parse_error(quote!("VAR", seed = 1)).contains("unknown argument"));
        assert!(parse_error(quote!("VAR", crate = "a", crate = "b")).contains("duplicate `crate`"));
        assert!(parse_error(quote!("VAR", crate = "1 + 2")).contains("must be the path"));
    }

    #[test]
    fn the_variable_is_checked_without_showing_its_value() {
        let name: LitStr = syn::parse_quote!("ATLAS_SECRET");
        assert_eq!(read(&name, None).unwrap(), None);
        assert_eq!(read(&name, Some("".into())).unwrap(), None);
        let short = read(&name, Some("hunter2".into())).unwrap_err().to_string();
        assert!(short.contains("too short (7 bytes)") && short.contains("at least 16"));
        assert!(short.contains("license-gate secret new"));
        assert!(!short.contains("hunter2"));
        assert_eq!(
            read(&name, Some(std::str::from_utf8(SECRET).unwrap().into())).unwrap(),
            Some(SECRET.to_vec())
        );
    }

    #[test]
    fn an_unset_variable_is_the_development_secret_in_debug_and_an_error_in_release() {
        let name: LitStr = syn::parse_quote!("ATLAS_SECRET");
        let code = expand_unset(&name, &quote!(::license_gate)).to_string();
        assert!(
            code.contains(":: license_gate :: __private :: development_secret (\"ATLAS_SECRET\")")
        );
        assert!(code.contains(":: core :: option_env ! (\"ATLAS_SECRET\")"));
        assert!(code.contains("# [cfg (not (debug_assertions))] :: core :: compile_error !"));
        let message = unset_message("ATLAS_SECRET");
        assert!(message.contains("`ATLAS_SECRET`"), "{message}");
        assert!(message.contains("license-gate secret new"), "{message}");
        assert!(message.contains(".cargo/config.toml"), "{message}");
        assert!(message.contains("[env]"), "{message}");
    }
}
