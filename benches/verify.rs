//! Verification against its physical limit: raw HMAC-SHA256 over the same bytes; and the
//! other pass over every body before it is answered, reading the payload's `id` and `type`.
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

/// A payload shaped like a real provider's: `type` and `id`, then `data` with a list of nested
/// objects (short keys and values, numbers, arrays), about `size` bytes.
fn nested_payload(size: usize) -> Vec<u8> {
    let mut items = Vec::new();
    let mut len = 0;
    for i in 0.. {
        let item = format!(
            r#"{{"id":"li_{i:05}","object":"line_item","amount":{},"currency":"usd","description":"Seat license for workspace {i}","metadata":{{"k":"v","n":[1,2,3]}},"period":{{"start":1700000000,"end":1702592000}}}}"#,
            i * 100
        );
        len += item.len() + 1;
        items.push(item);
        if len >= size {
            break;
        }
    }
    format!(
        r#"{{"type":"invoice.paid","id":"evt_1","data":{{"object":"invoice","lines":[{}]}}}}"#,
        items.join(",")
    )
    .into_bytes()
}

/// One long string in `data`: the shape `scripts/bench-receivers.sh` sends.
fn string_payload(size: usize) -> Vec<u8> {
    let head = r#"{"type":"customer.created","id":"evt_bench","data":""#;
    format!(
        "{head}{}\"}}",
        "x".repeat(size.saturating_sub(head.len() + 2))
    )
    .into_bytes()
}

fn probe(c: &mut Criterion) {
    let key = b"0123456789abcdef01234567";
    let mut group = c.benchmark_group("probe");
    for (shape, body) in [
        ("nested", nested_payload(64 << 10)),
        ("string", string_payload(64 << 10)),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("event_fields", shape), &body, |b, body| {
            b.iter(|| hookscope::delivery::event_fields(black_box(body)))
        });
        group.bench_with_input(
            BenchmarkId::new("raw_hmac_sha256", shape),
            &body,
            |b, body| {
                b.iter(|| {
                    let mut mac =
                        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
                    mac.update(black_box(body));
                    mac.finalize()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, verification, probe);
criterion_main!(benches);
