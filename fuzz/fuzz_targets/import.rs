//! Import on arbitrary files (a hand-edited export, a HAR from another tool, a truncated one):
//! never panics; what it reads exports again in both formats, and each export reads back as
//! the same number of deliveries with the same bodies.
#![no_main]

use hookscope::export::{Format, read, write};
use hookscope::verify::Verifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verifier = Verifier::new(Vec::new(), 300);
    let Ok(read_in) = read(data, &verifier) else {
        return;
    };
    for format in [Format::Jsonl, Format::Har] {
        let mut out = Vec::new();
        write(&mut out, &read_in, format).expect("writing to memory");
        let again = read(out.as_slice(), &verifier).expect("an export reads back");
        assert_eq!(again.len(), read_in.len());
        for (a, b) in again.iter().zip(&read_in) {
            assert_eq!(a.body, b.body);
            assert_eq!(a.headers, b.headers);
        }
    }
});
