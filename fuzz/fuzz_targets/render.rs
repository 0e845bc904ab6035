//! What reaches the terminal: the body views (pretty and raw) and the one-line escaping of
//! untrusted text never panic and never let a character through that could drive a terminal.
#![no_main]

use hookscope::highlight::{Limits, pretty, raw};
use hookscope::sanitize::{bytes_line, bytes_multiline, is_unsafe};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let limits = Limits::default();
    for view in [pretty(body, limits), raw(body, limits)] {
        for line in &view.lines {
            assert!(!line.text.chars().any(is_unsafe), "{:?}", line.text);
            let _ = line.spans().count();
        }
    }
    assert!(!bytes_line(body).chars().any(is_unsafe));
    assert!(!bytes_multiline(body).chars().any(|c| c != '\n' && is_unsafe(c)));
});
