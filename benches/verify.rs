//! Verification against its physical limit: raw HMAC-SHA256 over the same bytes.
//! Run: `cargo bench --bench verify`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{KeyInit as _, Mac as _};
use hookscope::testing::signed_headers;
use hookscope::verify::{Secret, Verifier};
use std::hint::black_box;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn verification(c: &mut Criterion) {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).expect("secret")], 300);
    let key = b"0123456789abcdef01234567";
    let mut group = c.benchmark_group("verify");
    for size in [1usize << 10, 64 << 10, 1 << 20] {
        let body = vec![b'a'; size];
        let ts = 1_795_773_600;
        let headers = signed_headers(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, &body);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("hookscope", size), &size, |b, _| {
            b.iter(|| verifier.verify("/", black_box(&headers), black_box(&body), ts))
        });
        group.bench_with_input(BenchmarkId::new("raw_hmac_sha256", size), &size, |b, _| {
            b.iter(|| {
                let mut mac =
                    hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
                mac.update(black_box(&body));
                mac.finalize()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
