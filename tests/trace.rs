//! Watching a runtime from the outside: `Runtime::builder().trace(..)` end to end.

use std::time::Duration;

use cashier::{Runtime, Trace};

#[test]
fn an_unwritable_trace_path_is_an_error_before_any_work_runs() {
    let path = std::env::temp_dir().join("cashier-no-such-dir").join("t.json");
    let error = Runtime::builder().trace(Trace::new().perfetto(&path)).build().err();
    let message = error.expect("build fails").to_string();
    assert!(message.contains("cannot write the trace to"), "{message}");
    assert!(message.contains("cashier-no-such-dir"), "the path is named: {message}");
}

#[test]
fn a_watched_runtime_writes_its_perfetto_trace_when_dropped() {
    let path = std::env::temp_dir().join(format!("cashier-trace-{}.json", std::process::id()));
    let runtime = Runtime::builder()
        .start_paused(true)
        .trace(Trace::new().perfetto(&path))
        .build()
        .expect("runtime");
    assert_eq!(std::fs::read(&path).expect("created at build").len(), 0, "empty until the end");
    runtime.block_on(async {
        let fries = cashier::task::Builder::new()
            .name("fries")
            .spawn(cashier::sleep(Duration::from_millis(734)))
            .unwrap();
        fries.await.unwrap();
    });
    drop(runtime);
    let json = std::fs::read_to_string(&path).expect("written");
    std::fs::remove_file(&path).ok();
    assert!(json.starts_with("{\"traceEvents\":["), "{}", &json[..json.len().min(80)]);
    assert!(json.contains("\"#1 fries\""), "the named task has its track");
    assert!(json.contains("timer #"), "the timer's fire and its arrow are there");
    assert!(json.trim_end().ends_with('}'));
}

#[test]
fn trace_new_with_no_view_turns_recording_off_whatever_the_environment_says() {
    // `Trace::new()` asks for nothing: no session, no file, and the runtime runs as usual.
    let runtime = Runtime::builder().trace(Trace::new()).build().expect("runtime");
    assert_eq!(runtime.block_on(async { 7 }), 7);
}
