//! Experiment only (not committed): yield_many's and spawn_many's workloads, for callgrind.
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let rt = cashier::Runtime::new().unwrap();
    for _ in 0..20 {
        match which.as_str() {
            "yield" => {
                let done = rt.block_on(async {
                    let tasks: Vec<_> = (0..200)
                        .map(|_| {
                            cashier::spawn(async {
                                for _ in 0..200 {
                                    cashier::yield_now().await;
                                }
                                200usize
                            })
                        })
                        .collect();
                    let mut done = 0;
                    for t in tasks {
                        done += t.await.unwrap();
                    }
                    done
                });
                assert_eq!(done, 40_000);
            }
            _ => {
                let done = rt.block_on(async {
                    let tasks: Vec<_> =
                        (0..10_000).map(|i| cashier::spawn(async move { i })).collect();
                    let mut done = 0usize;
                    for t in tasks {
                        done += t.await.unwrap();
                    }
                    done
                });
                assert_eq!(done, 49_995_000);
            }
        }
    }
}
