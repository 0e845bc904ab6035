//! The verifier on arbitrary headers and bodies: never panics, and whatever it decides, its
//! verdict is one the reference answer table covers. A fresh signature over the same input
//! must verify, and the same signature over a changed body must not.
#![no_main]

use hookscope::testing::signed_headers;
use hookscope::verify::{Secret, Verdict, Verifier};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_795_773_600;

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    id: String,
    skew: i16,
}

fuzz_target!(|input: Input| {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).expect("secret")], 300);
    let verdict = verifier.verify("/", &input.headers, &input.body, NOW);
    let _ = hookscope::receiver::answer(&verdict);
    let _ = (verdict.reason(), verdict.failure_code());

    if input.id.is_empty() || input.id.contains(['\r', '\n', '\0']) {
        return;
    }
    // Anywhere inside the tolerance, both ways.
    let ts = NOW + i64::from(input.skew % 301);
    let good = signed_headers(SECRET, &input.id, ts, &input.body);
    let verdict = verifier.verify("/", &good, &input.body, NOW);
    assert!(matches!(verdict, Verdict::Verified(_)), "{verdict:?}");
    let mut changed = input.body.clone();
    changed.push(b'!');
    let verdict = verifier.verify("/", &good, &changed, NOW);
    assert!(matches!(verdict, Verdict::Failed(_)), "{verdict:?}");
});
