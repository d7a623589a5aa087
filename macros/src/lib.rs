//! # cashier-macros: `#[cashier::main]` and `#[cashier::test]`
//!
//! This crate owns the two attribute macros that let an `async fn` be a program's entry point or
//! a test, and nothing else: it knows no runtime internals, only the public path
//! `::cashier::Runtime`. Use them through the root crate, as `#[cashier::main]` and
//! `#[cashier::test]` (it re-exports them); the generated code names `::cashier`, so it works in
//! any crate that depends on `cashier` under that name.
//!
//! # The expansion
//!
//! Each macro turns the `async fn` into a plain `fn` of the same name, attributes, visibility
//! and return type, whose body builds a runtime and blocks on the original body:
//!
//! ```rust,ignore
//! #[cashier::main]
//! async fn main() -> std::io::Result<()> {
//!     body
//! }
//!
//! // becomes
//!
//! fn main() -> std::io::Result<()> {
//!     let body = async { body };
//!     #[allow(unused_mut)]
//!     let mut runtime = ::cashier::Runtime::new().expect("...");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! ```rust,ignore
//! #[cashier::test(start_paused = true)]
//! async fn sleeps() {
//!     body
//! }
//!
//! // becomes
//!
//! #[::core::prelude::v1::test]
//! fn sleeps() {
//!     let body = async { body };
//!     #[allow(unused_mut)]
//!     let mut runtime = ::cashier::Runtime::builder().start_paused(true).build().expect("...");
//!     runtime.block_on(body)
//! }
//! ```
//!
//! Because the return type is kept, `-> Result<(), E>` works for both (a `main` that returns an
//! `Err` exits with failure, a test that returns one fails), and so does `#[should_panic]` on a
//! test. (`#[allow(unused_mut)]` lets the expansion compile whether `Runtime::block_on` takes
//! `&mut self` or `&self`.)
//!
//! # Options and errors
//!
//! - `#[cashier::main]` takes no options. It goes on any `async fn` without arguments, not only
//!   one named `main` (like tokio's): on another name, it makes a synchronous function that
//!   starts a runtime of its own at each call.
//! - `#[cashier::test]` takes one option, `start_paused = true | false` (default `false`): with
//!   `true` the test runs on a paused clock, where sleeps complete at once and in deadline order
//!   (`cashier::Builder::start_paused`).
//!
//! Each of these is a compile error pointing at the offending tokens: a function without `async`
//! (at `fn`), a function with arguments (at the arguments), an unknown option or an option given
//! twice (at the option), a `start_paused` value that is not `true` or `false` (at the value),
//! `start_paused` on `#[cashier::main]`, and a `#[test]` attribute already on a
//! `#[cashier::test]` function (at that attribute). An option's error, the signature's and the
//! attributes' are reported together; the function is then replaced by a synchronous stand-in,
//! so that the compiler adds no errors of its own (such as "`main` function is not allowed to be
//! `async`") to the macro's.
//!
//! # How they differ from `#[tokio::main]` and `#[tokio::test]`
//!
//! - No `flavor` or `worker_threads`: a cashier runtime is one thread, always.
//! - `start_paused` needs no feature flag (tokio's needs `test-util`), and it is for tests only:
//!   `#[tokio::main]` accepts it too (on the current-thread flavor), but a program that wants a
//!   paused clock is rare enough to build its runtime with
//!   `cashier::Runtime::builder().start_paused(true)`, where the choice shows.
//! - No `crate = "..."` option: a crate that renames the `cashier` dependency builds its runtime by
//!   hand.
//! - On an error, tokio emits the error beside the unchanged `async fn`; these emit it beside a
//!   synchronous stand-in (see above).

#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::{Attribute, Block, ItemFn, LitBool, Token};

/// Runs an `async fn` — usually `main` — on a new cashier runtime.
///
/// The function becomes a synchronous one that builds a `cashier::Runtime` with `Runtime::new()`
/// and blocks on the original body; it keeps its name, attributes, visibility and return type, so
/// `-> Result<(), E>` works. It takes no options.
///
/// ```
/// use std::time::Duration;
///
/// #[cashier::main]
/// async fn main() {
///     let order = cashier::spawn(async { 42 });
///     cashier::sleep(Duration::from_millis(1)).await;
///     assert_eq!(order.await.unwrap(), 42);
/// }
/// ```
///
/// With `?`:
///
/// ```
/// #[cashier::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = cashier::to_thread(|| "42".parse()).await.unwrap()?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// # Errors at compile time
///
/// The function must be `async`:
///
/// ```compile_fail
/// #[cashier::main]
/// fn main() {}
/// ```
///
/// It takes no arguments:
///
/// ```compile_fail
/// #[cashier::main]
/// async fn main(args: Vec<String>) {}
/// ```
///
/// It takes no options; not even `start_paused`, which is for tests:
///
/// ```compile_fail
/// #[cashier::main(flavor = "current_thread")]
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[cashier::main(start_paused = true)]
/// async fn main() {}
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` as a test, on a new cashier runtime.
///
/// The function becomes a synchronous `#[test]` that builds a `cashier::Runtime` and blocks on the
/// original body; it keeps its name, attributes and return type, so `#[should_panic]` and
/// `-> Result<(), E>` work. One option: `start_paused = true` runs the test on a paused clock,
/// where sleeps complete at once and in deadline order (`Builder::start_paused`); the default is
/// the real clock.
///
/// ```
/// #[cashier::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = cashier::now();
///     cashier::sleep(std::time::Duration::from_secs(3600)).await;
///     assert_eq!(cashier::now() - start, std::time::Duration::from_secs(3600));
/// }
///
/// #[cashier::test]
/// #[should_panic(expected = "no order")]
/// async fn a_panic_fails_the_test() {
///     cashier::yield_now().await;
///     panic!("no order");
/// }
/// # fn main() {}
/// ```
///
/// (A doc example is not compiled as a test crate, so there the `#[test]` functions are only
/// expanded; the project's `tests/` run them.)
///
/// # Errors at compile time
///
/// The function must be `async`:
///
/// ```compile_fail
/// #[cashier::test]
/// fn not_async() {}
/// # fn main() {}
/// ```
///
/// It takes no arguments:
///
/// ```compile_fail
/// #[cashier::test]
/// async fn with_an_argument(n: u32) {}
/// # fn main() {}
/// ```
///
/// The one option is `start_paused`, with `true` or `false`, given once:
///
/// ```compile_fail
/// #[cashier::test(paused = true)]
/// async fn unknown_option() {}
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// #[cashier::test(start_paused = "yes")]
/// async fn not_a_bool() {}
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// #[cashier::test(start_paused = true, start_paused = false)]
/// async fn twice() {}
/// # fn main() {}
/// ```
///
/// It adds `#[test]` itself, so a second one is an error:
///
/// ```compile_fail
/// #[cashier::test]
/// #[test]
/// async fn tested_twice() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}

/// Which macro is expanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The macro as the user writes it, for error messages.
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[cashier::main]",
            Kind::Test => "#[cashier::test]",
        }
    }
}

/// The options given in the attribute's parentheses.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    /// `start_paused = true | false` (tests only); `None` when not given.
    start_paused: Option<bool>,
}

/// Parses the attribute's options for `kind`, rejecting unknown, repeated and ill-typed ones.
fn parse_options(kind: Kind, args: TokenStream2) -> syn::Result<Options> {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        if !meta.path.is_ident("start_paused") {
            let name = meta.path.to_token_stream().to_string().replace(' ', "");
            let expected = match kind {
                Kind::Main => "`#[cashier::main]` takes no options".to_owned(),
                Kind::Test => "the one option is `start_paused = true | false`".to_owned(),
            };
            return Err(syn::Error::new_spanned(
                &meta.path,
                format!("unknown option `{name}` of `{}`: {expected}", kind.name()),
            ));
        }
        if kind == Kind::Main {
            return Err(syn::Error::new_spanned(
                &meta.path,
                "`start_paused` is an option of `#[cashier::test]` only: a program that wants a \
                 paused clock builds its runtime with \
                 `cashier::Runtime::builder().start_paused(true)`",
            ));
        }
        if !meta.input.peek(Token![=]) {
            return Err(syn::Error::new_spanned(
                &meta.path,
                "write `start_paused = true` or `start_paused = false`",
            ));
        }
        let value = meta.value()?;
        let value: LitBool = value.parse().map_err(|error| {
            syn::Error::new(error.span(), "`start_paused` takes `true` or `false`")
        })?;
        if options.start_paused.is_some() {
            return Err(syn::Error::new_spanned(&meta.path, "`start_paused` is given twice"));
        }
        options.start_paused = Some(value.value);
        Ok(())
    });
    parser.parse2(args)?;
    Ok(options)
}

/// Whether `attr` is the built-in `#[test]` attribute: `test`, or a path from `core` or `std`
/// ending in `test`, such as `::core::prelude::v1::test`.
fn is_test_attribute(attr: &Attribute) -> bool {
    let path = attr.path();
    path.is_ident("test")
        || (path.segments.len() > 1
            && path.segments.last().is_some_and(|segment| segment.ident == "test")
            && matches!(
                path.segments.first().map(|segment| segment.ident.to_string()).as_deref(),
                Some("core" | "std")
            ))
}

/// Expands `kind` on `item` with `args`, or on an error, emits the error beside a synchronous
/// stand-in for the function.
fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error =
                syn::Error::new_spanned(&item, format!("`{}` goes on an `async fn`", kind.name()));
            let error = error.to_compile_error();
            return quote! { #error #item };
        }
    };
    match check(kind, args, &function) {
        Ok(options) => generate(kind, &options, function),
        Err(error) => {
            // A stand-in that compiles on its own: no `async`, no arguments, a body that never
            // runs. The macro's errors are then the only ones reported for this function.
            function.sig.asyncness = None;
            function.sig.inputs.clear();
            *function.block = syn::parse_quote!({ ::core::unreachable!() });
            let error = error.to_compile_error();
            quote! { #error #function }
        }
    }
}

/// Parses the options and checks the function's signature and attributes, gathering every error.
fn check(kind: Kind, args: TokenStream2, function: &ItemFn) -> syn::Result<Options> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let options = parse_options(kind, args).unwrap_or_else(|error| {
        errors.push(error);
        Options::default()
    });
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("a `{}` function takes no arguments", kind.name()),
        ));
    }
    if kind == Kind::Test {
        for attr in function.attrs.iter().filter(|attr| is_test_attribute(attr)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[cashier::test]` adds the `#[test]` attribute itself: remove this one",
            ));
        }
    }
    match errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    }) {
        Some(errors) => Err(errors),
        None => Ok(options),
    }
}

/// The synchronous function that builds a runtime and blocks on `function`'s body.
fn generate(kind: Kind, options: &Options, mut function: ItemFn) -> TokenStream2 {
    let body = &function.block;
    let (runtime, test_attribute) = match kind {
        Kind::Main => (
            quote! {
                ::cashier::Runtime::new()
                    .expect("#[cashier::main]: failed to build the cashier runtime")
            },
            quote! {},
        ),
        Kind::Test => {
            let paused = options.start_paused.unwrap_or(false);
            (
                quote! {
                    ::cashier::Runtime::builder()
                        .start_paused(#paused)
                        .build()
                        .expect("#[cashier::test]: failed to build the cashier runtime")
                },
                quote! { #[::core::prelude::v1::test] },
            )
        }
    };
    let block: Block = syn::parse_quote!({
        let body = async #body;
        #[allow(unused_mut)]
        let mut runtime = #runtime;
        runtime.block_on(body)
    });
    function.sig.asyncness = None;
    *function.block = block;
    quote! {
        #test_attribute
        #function
    }
}

#[cfg(test)]
mod tests {
    use super::{ItemFn, Kind, Options, TokenStream2, check, expand, parse_options, quote};

    /// The options parsed from `args`, or the error's message.
    fn options(kind: Kind, args: TokenStream2) -> Result<Options, String> {
        parse_options(kind, args).map_err(|error| error.to_string())
    }

    /// The messages of `check`'s errors for `item` with `args`, or none.
    fn errors(kind: Kind, args: TokenStream2, item: TokenStream2) -> Vec<String> {
        let function: ItemFn = syn::parse2(item).unwrap();
        match check(kind, args, &function) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    #[test]
    fn no_options_is_the_default() {
        assert_eq!(options(Kind::Main, quote! {}), Ok(Options::default()));
        assert_eq!(options(Kind::Test, quote! {}), Ok(Options { start_paused: None }));
    }

    #[test]
    fn start_paused_takes_a_bool_for_tests() {
        assert_eq!(
            options(Kind::Test, quote! { start_paused = true }),
            Ok(Options { start_paused: Some(true) })
        );
        assert_eq!(
            options(Kind::Test, quote! { start_paused = false, }),
            Ok(Options { start_paused: Some(false) })
        );
    }

    #[test]
    fn start_paused_is_refused_on_main() {
        let error = options(Kind::Main, quote! { start_paused = true }).unwrap_err();
        assert!(error.starts_with("`start_paused` is an option of `#[cashier::test]` only"));
    }

    #[test]
    fn ill_formed_start_paused_is_refused() {
        assert_eq!(
            options(Kind::Test, quote! { start_paused = "yes" }).unwrap_err(),
            "`start_paused` takes `true` or `false`"
        );
        assert_eq!(
            options(Kind::Test, quote! { start_paused = 1 }).unwrap_err(),
            "`start_paused` takes `true` or `false`"
        );
        assert_eq!(
            options(Kind::Test, quote! { start_paused }).unwrap_err(),
            "write `start_paused = true` or `start_paused = false`"
        );
        assert_eq!(
            options(Kind::Test, quote! { start_paused = true, start_paused = true }).unwrap_err(),
            "`start_paused` is given twice"
        );
    }

    #[test]
    fn unknown_options_are_named() {
        assert_eq!(
            options(Kind::Test, quote! { flavor = "multi_thread" }).unwrap_err(),
            "unknown option `flavor` of `#[cashier::test]`: the one option is \
             `start_paused = true | false`"
        );
        assert_eq!(
            options(Kind::Main, quote! { crate = "rt" }).unwrap_err(),
            "unknown option `crate` of `#[cashier::main]`: `#[cashier::main]` takes no options"
        );
    }

    #[test]
    fn a_function_without_async_or_with_arguments_is_refused_with_every_error() {
        assert_eq!(
            errors(Kind::Main, quote! {}, quote! { fn main(a: u8, b: u8) {} }),
            [
                "the `async` keyword is missing from the function declaration",
                "a `#[cashier::main]` function takes no arguments",
            ]
        );
        assert_eq!(
            errors(Kind::Test, quote! { nope }, quote! { async fn t() {} }).len(),
            1,
            "an unknown option alone"
        );
        assert!(errors(Kind::Test, quote! {}, quote! { async fn t() {} }).is_empty());
    }

    #[test]
    fn a_test_attribute_already_there_is_refused() {
        for attr in [quote! { #[test] }, quote! { #[::core::prelude::v1::test] }] {
            assert_eq!(
                errors(Kind::Test, quote! {}, quote! { #attr async fn t() {} }),
                ["`#[cashier::test]` adds the `#[test]` attribute itself: remove this one"]
            );
        }
        assert!(
            errors(Kind::Main, quote! {}, quote! { #[test] async fn t() {} }).is_empty(),
            "`#[cashier::main]` leaves other attributes alone"
        );
        assert!(
            errors(Kind::Test, quote! {}, quote! { #[my::test] async fn t() {} }).is_empty(),
            "another crate's `test` attribute is not the built-in one"
        );
    }

    #[test]
    fn main_expands_to_a_sync_fn_that_blocks_on_the_body() {
        let expanded = expand(
            Kind::Main,
            quote! {},
            quote! {
                /// Docs.
                pub async fn main() -> Result<(), E> { work().await?; Ok(()) }
            },
        );
        let expected = quote! {
            /// Docs.
            pub fn main() -> Result<(), E> {
                let body = async { work().await?; Ok(()) };
                #[allow(unused_mut)]
                let mut runtime = ::cashier::Runtime::new()
                    .expect("#[cashier::main]: failed to build the cashier runtime");
                runtime.block_on(body)
            }
        };
        assert_eq!(expanded.to_string(), expected.to_string());
    }

    #[test]
    fn test_expands_to_a_test_on_the_chosen_clock() {
        let expanded = expand(
            Kind::Test,
            quote! { start_paused = true },
            quote! {
                #[should_panic]
                async fn t() { sleep().await }
            },
        );
        let expected = quote! {
            #[::core::prelude::v1::test]
            #[should_panic]
            fn t() {
                let body = async { sleep().await };
                #[allow(unused_mut)]
                let mut runtime = ::cashier::Runtime::builder()
                    .start_paused(true)
                    .build()
                    .expect("#[cashier::test]: failed to build the cashier runtime");
                runtime.block_on(body)
            }
        };
        assert_eq!(expanded.to_string(), expected.to_string());
        let unpaused = expand(Kind::Test, quote! {}, quote! { async fn t() {} }).to_string();
        assert!(unpaused.contains("start_paused (false)"), "{unpaused}");
    }

    #[test]
    fn an_error_comes_with_a_synchronous_stand_in() {
        let expanded =
            expand(Kind::Main, quote! { nope }, quote! { async fn main(a: u8) { a } }).to_string();
        assert!(expanded.starts_with(":: core :: compile_error !"), "{expanded}");
        assert!(expanded.ends_with("fn main () { :: core :: unreachable ! () }"), "{expanded}");
    }

    #[test]
    fn a_non_function_is_refused() {
        let expanded = expand(Kind::Test, quote! {}, quote! { struct S; }).to_string();
        assert!(expanded.contains("`#[cashier::test]` goes on an `async fn`"), "{expanded}");
    }
}
