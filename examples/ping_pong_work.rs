//! A fixed amount of work for counting instructions: `ping_pong`'s workload (two tasks bouncing a
//! counter over two channels of capacity 1), 200 times 10,000 round trips on one runtime.
//!
//! Wall time on a shared machine is noisy; instruction counts are not. To compare two versions
//! of the runtime:
//!
//! ```sh
//! cargo build --release --example ping_pong_work
//! valgrind --tool=callgrind target/release/examples/ping_pong_work   # "Collected: N"
//! ```
//!
//! N / 2,000,000 is the instructions per round trip (BENCHMARKS.md, issue 10).

async fn ping_pong() -> u64 {
    use cashier::sync::mpsc;
    let (to_pong, mut pong_inbox) = mpsc::channel::<u64>(1);
    let (to_ping, mut ping_inbox) = mpsc::channel::<u64>(1);
    let pong = cashier::spawn(async move {
        while let Some(n) = pong_inbox.recv().await {
            to_ping.send(n + 1).await.unwrap();
        }
    });
    let mut n = 0;
    for _ in 0..10_000u64 {
        to_pong.send(n).await.unwrap();
        n = ping_inbox.recv().await.unwrap();
    }
    drop(to_pong);
    pong.await.unwrap();
    n
}

fn main() -> std::io::Result<()> {
    let runtime = cashier::Runtime::new()?;
    let mut total = 0;
    for _ in 0..200 {
        total += runtime.block_on(ping_pong());
    }
    assert_eq!(total, 200 * 10_000);
    Ok(())
}
