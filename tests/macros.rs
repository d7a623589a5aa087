//! `#[cashier::main]` and `#[cashier::test]` from a user's crate: the clock each test gets, the
//! return types and attributes they keep, and `#[cashier::main]` on a function not named `main`.
//! Their compile errors are the `compile_fail` examples in `macros/src/lib.rs`.

use std::time::{Duration, Instant};

use cashier::{now, sleep, spawn};

#[cashier::test(start_paused = true)]
async fn start_paused_gives_the_paused_clock() {
    let (real, virtual_start) = (Instant::now(), now());
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(now() - virtual_start, Duration::from_secs(3600), "exactly, at once");
    assert!(real.elapsed() < Duration::from_secs(60));
}

#[cashier::test]
async fn by_default_the_clock_is_real() {
    let start = Instant::now();
    sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[cashier::test(start_paused = false)]
async fn start_paused_false_is_the_real_clock() {
    let start = Instant::now();
    sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[cashier::test]
async fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = spawn(async { "7".parse() }).await.unwrap()?;
    assert_eq!(n, 7);
    Ok(())
}

/// The doc comment, like every other attribute, is kept on the generated test.
#[cashier::test]
#[should_panic(expected = "the order was lost")]
async fn should_panic_sees_the_body_panic() {
    cashier::yield_now().await;
    panic!("the order was lost");
}

#[cashier::test]
#[ignore = "checks that `#[ignore]` is kept: this body would fail"]
async fn other_attributes_are_kept() {
    panic!("an ignored test ran");
}

/// A synchronous function that starts a runtime of its own at each call, and returns the body's
/// `Result` (a program's `main` would exit with failure on the `Err`).
#[cashier::main]
async fn parse_on_a_runtime_of_its_own() -> Result<u32, std::num::ParseIntError> {
    let text = spawn(async { String::from("4x") }).await.unwrap();
    let n: u32 = text.parse()?;
    Ok(n)
}

#[test]
fn main_on_another_name_makes_a_sync_fn_that_returns_the_body_result() {
    let error = parse_on_a_runtime_of_its_own().unwrap_err();
    assert_eq!(error.to_string(), "invalid digit found in string");
    assert!(parse_on_a_runtime_of_its_own().is_err(), "a second call builds a second runtime");
}
