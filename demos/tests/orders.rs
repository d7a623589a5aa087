//! Runs the `orders` binary as a user would and checks the order in which customers are served.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_orders")).args(args).output().expect("run orders")
}

fn served(stdout: &str) -> Vec<&str> {
    stdout.lines().filter_map(|l| l.strip_suffix(" is served")).collect()
}

#[test]
fn default_customers_are_served_quickest_order_first() {
    let out = run(&[]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(served(&stdout), ["Cid", "Bob", "Dee", "Ann"], "{stdout}");
    assert!(stdout.ends_with("arrival order was kept in the JoinHandles: Ann, Bob, Cid, Dee\n"));
}

#[test]
fn customers_from_arguments() {
    let out = run(&["ann:3", "bob:0", "cid:1"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(served(&stdout), ["bob", "cid", "ann"], "{stdout}");
}

#[test]
fn a_malformed_argument_is_a_clear_error() {
    let out = run(&["ann"]);
    assert_eq!(out.status.code(), Some(2), "bad arguments exit with 2");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr, "orders: \"ann\": expected NAME:STEPS, like ann:3\n");
    let out = run(&["ann:x"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "orders: \"ann:x\": the steps must be a whole number from 0 to 4294967295\n"
    );
}
