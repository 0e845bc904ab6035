//! Cost of committing deliveries: one transaction per batch, as the writer thread does.
//! Run: `cargo bench --bench store`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookscope::store::Store;
use hookscope::testing::Builder;
use time::macros::datetime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn commits(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(
        std::env::var("BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.sqlite3")).expect("store");
    // As the writer runs it: checkpoints happen on another thread.
    store.defer_checkpoints().expect("defer checkpoints");
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    let body = vec![b'x'; 1024];
    let mut group = c.benchmark_group("store_commit");
    for batch in [1usize, 16, 64] {
        let ds: Vec<_> = (0..batch)
            .map(|i| b.signed(SECRET, &format!("m{i}"), &body))
            .collect();
        let refs: Vec<_> = ds.iter().collect();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::new("1KiB", batch), &batch, |bench, _| {
            bench.iter_custom(|iters| {
                let mut spent = std::time::Duration::ZERO;
                for i in 0..iters {
                    let start = std::time::Instant::now();
                    store.insert(&refs, "bench").expect("insert");
                    spent += start.elapsed();
                    // The writer's checkpointer thread does this every 250 ms, so the WAL is
                    // rewritten from its start instead of growing (which makes every commit
                    // pay for the file system zeroing fresh blocks). Not timed: it runs on
                    // another thread.
                    if i % 64 == 63 {
                        store.checkpoint().expect("checkpoint");
                    }
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, commits);
criterion_main!(benches);
