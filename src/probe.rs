//! Reads a payload's top-level `id` and `type` without parsing the rest of it.
//!
//! This runs on every delivery before it is answered, so it skips what it does not need
//! (long strings with memchr, nested values by 64-byte blocks) instead of building (or even
//! validating) the whole document: a full serde pass was a tenth of the receiver's time with
//! 64 KiB bodies. It does not judge whether the body is valid JSON; the body view does that,
//! and says why when it is not. The receiver runs it between the steps of the body's HMAC
//! ([`event_fields_paced`]), where it costs about half as much.

/// The payload's top-level `id` and `type` (strings, or numbers as written), when the body is a
/// JSON object that has them. A key given twice takes its last value, as `JSON.parse` does.
pub fn event_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    event_fields_paced(body, &mut |_| {})
}

/// Bytes of the body read between two reports of [`event_fields_paced`]: eight of the nested
/// walk's blocks, which is what hides best behind the hashing of the same eight (see
/// BENCHMARKS.md, "What is left").
pub const PACE: usize = 512;
// The nested walk counts it down by whole blocks.
const _: () = assert!(PACE.is_multiple_of(64) && PACE > 0);

/// [`event_fields`], telling `passed` from time to time (about every [`PACE`] bytes through
/// long strings and nested values) how far into the body it has read: the verifier hashes the
/// body that far meanwhile. SHA-256 leaves most of the core idle, so the walk, run between
/// the hashing of the bytes it has just read, costs about half what it does after it.
/// Positions only grow, and never pass the body's end.
pub fn event_fields_paced(
    body: &[u8],
    passed: &mut dyn FnMut(usize),
) -> (Option<String>, Option<String>) {
    let mut s = Scanner {
        b: body,
        i: 0,
        passed,
    };
    let mut id = None;
    let mut kind = None;
    s.ws();
    if !s.eat(b'{') {
        return (None, None);
    }
    s.ws();
    if s.eat(b'}') {
        return (None, None);
    }
    loop {
        s.ws();
        let Some(key) = s.string() else {
            return (id, kind);
        };
        s.ws();
        if !s.eat(b':') {
            return (id, kind);
        }
        s.ws();
        let start = s.i;
        if !s.value() {
            return (id, kind);
        }
        let raw = &body[start..s.i];
        match key_name(&body[key.0..key.1], key.2) {
            Some(Field::Id) => id = scalar_text(raw),
            Some(Field::Type) => kind = scalar_text(raw),
            None => {}
        }
        s.ws();
        if !s.eat(b',') {
            return (id, kind);
        }
    }
}

enum Field {
    Id,
    Type,
}

/// `quoted` is a key with its quotes; escapes are rare in keys, so only then is it decoded.
fn key_name(quoted: &[u8], escaped: bool) -> Option<Field> {
    let field = |k: &[u8]| match k {
        b"id" => Some(Field::Id),
        b"type" => Some(Field::Type),
        _ => None,
    };
    if !escaped {
        return field(&quoted[1..quoted.len() - 1]);
    }
    let decoded: String = serde_json::from_slice(quoted).ok()?;
    field(decoded.as_bytes())
}

/// A string value decoded, a number as written; anything else has no text.
fn scalar_text(raw: &[u8]) -> Option<String> {
    match raw.first()? {
        b'"' => {
            // Most ids and types are plain: no escapes, no control characters (which JSON
            // forbids raw). Those are their own text; the rest go through serde's decoder.
            let inner = raw.get(1..raw.len().checked_sub(1)?)?;
            // No early exit, so the check runs vectorised.
            if inner
                .iter()
                .fold(true, |plain, &c| plain & (c >= 0x20) & (c != b'\\'))
            {
                std::str::from_utf8(inner).ok().map(str::to_owned)
            } else {
                serde_json::from_slice(raw).ok()
            }
        }
        b'-' | b'0'..=b'9' => serde_json::from_slice::<serde_json::Number>(raw)
            .ok()
            .map(|n| n.to_string()),
        _ => None,
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    passed: &'a mut dyn FnMut(usize),
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A string starting here: its span with quotes (the position after it) and whether it
    /// holds an escape.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.i;
        if !self.eat(b'"') {
            return None;
        }
        let mut escaped = false;
        loop {
            // A pace at a time, so a long string is hashed as it is read.
            let at = loop {
                let end = self.b.len().min(self.i + PACE);
                match memchr::memchr2(b'"', b'\\', self.b.get(self.i..end)?) {
                    Some(k) => break self.i + k,
                    None if end == self.b.len() => return None,
                    None => {
                        self.i = end;
                        (self.passed)(end);
                    }
                }
            };
            if self.b[at] == b'\\' {
                escaped = true;
                self.i = at + 2;
            } else {
                self.i = at + 1;
                return Some((start, self.i, escaped));
            }
        }
    }

    /// Skips one value of any kind; false when the body ends inside it.
    fn value(&mut self) -> bool {
        match self.b.get(self.i) {
            None => false,
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => self.container(),
            Some(_) => {
                // A number or literal runs to the next delimiter.
                let rest = &self.b[self.i..];
                let len = rest
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(rest.len());
                self.i += len;
                len > 0
            }
        }
    }

    /// Skips a nested object or array by counting brackets outside strings (a loop, not
    /// recursion: hostile nesting depth costs nothing).
    fn container(&mut self) -> bool {
        match skip_container(self.b, self.i, self.passed) {
            Some(end) => {
                self.i = end;
                true
            }
            None => {
                self.i = self.b.len();
                false
            }
        }
    }
}

/// The position after the object or array that opens at `b[i]`, `None` when the body ends
/// inside it. Sixty-four bytes at a time on x86_64: a 64 KiB provider-shaped payload (nested
/// objects of short keys and values) took 27 µs a byte at a time, 2.0 µs so, against 32 µs for
/// its HMAC (`cargo bench --bench verify -- probe`).
fn skip_container(b: &[u8], i: usize, passed: &mut dyn FnMut(usize)) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        blocks::skip_container(b, i, passed)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = passed;
        skip_container_bytes(b, i)
    }
}

/// A skip through nested values, as the tests call each variant.
#[cfg(test)]
type SkipFn = fn(&[u8], usize, &mut dyn FnMut(usize)) -> Option<usize>;

/// [`skip_container`] a byte at a time, jumping over strings.
// The walk elsewhere, and the reference the vector walk is tested against.
#[cfg(any(not(target_arch = "x86_64"), test))]
fn skip_container_bytes(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        // Runs of ordinary bytes between structure, one table look each.
        while let Some(&c) = b.get(i) {
            if STRUCTURAL[usize::from(c)] {
                break;
            }
            i += 1;
        }
        match *b.get(i)? {
            b'"' => {
                i = skip_string(b, i + 1)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth <= 1 {
                    return Some(i + 1);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
}

/// Where a skip through nested values stands between two blocks.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, Default)]
struct Skip {
    depth: usize,
    in_string: bool,
    /// The next byte is escaped (a backslash inside a string came last).
    escaped: bool,
}

#[cfg(target_arch = "x86_64")]
impl Skip {
    /// Walks `b[from..to]` a byte at a time: `Ok` with the position after the container's
    /// end, or `Err` with the state at `to`.
    fn walk(mut self, b: &[u8], from: usize, to: usize) -> Result<usize, Skip> {
        for (i, &c) in b.iter().enumerate().take(to).skip(from) {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    if self.depth <= 1 {
                        return Ok(i + 1);
                    }
                    self.depth -= 1;
                }
                _ => {}
            }
        }
        Err(self)
    }
}

#[cfg(target_arch = "x86_64")]
mod blocks {
    use super::Skip;
    use std::arch::x86_64::{
        __m128i, __m256i, __m512i, _mm_clmulepi64_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si64,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
        _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_or_si512,
        _mm512_set1_epi8,
    };

    /// Bit `k` set for each byte `k` of a 64-byte block that is the character in question.
    #[derive(Default)]
    struct Masks {
        quote: u64,
        backslash: u64,
        open: u64,
        close: u64,
    }

    /// Sixteen bytes compared at once, with SSE2.
    #[target_feature(enable = "sse2")]
    fn masks_sse2(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for k in 0..4 {
            // SAFETY: `16 * k` is at most 48, so the 16 bytes read lie inside the 64-byte
            // block; `loadu` has no alignment requirement. (Built from two integers instead,
            // the vector took a shuffle per half: the wide walk spent 13% of its time so.)
            let v: __m128i = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * k).cast()) };
            // Setting 0x20 folds `[` onto `{` and `]` onto `}`, and nothing else onto either.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let bits = |eq: __m128i| u64::from(_mm_movemask_epi8(eq) as u16) << (16 * k);
            m.quote |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)));
            m.backslash |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)));
            m.open |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)));
            m.close |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)));
        }
        m
    }

    /// Thirty-two bytes compared at once, with AVX2.
    #[target_feature(enable = "avx2")]
    fn masks_avx2(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for k in 0..2 {
            let at = 32 * k;
            // SAFETY: `at` is 0 or 32, so the 32 bytes read lie inside the 64-byte block;
            // `loadu` has no alignment requirement.
            let v: __m256i = unsafe { _mm256_loadu_si256(block.as_ptr().add(at).cast()) };
            let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let bits = |eq: __m256i| u64::from(_mm256_movemask_epi8(eq) as u32) << at;
            m.quote |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8)));
            m.backslash |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8)));
            m.open |= bits(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'{' as i8)));
            m.close |= bits(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'}' as i8)));
        }
        m
    }

    /// The whole block compared at once, with AVX-512: each compare gives its mask directly.
    #[target_feature(enable = "avx512f,avx512bw")]
    fn masks_avx512(block: &[u8; 64]) -> Masks {
        // SAFETY: the 64 bytes read are the block; `loadu` has no alignment requirement.
        let v: __m512i = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
        Masks {
            quote: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
            backslash: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
            open: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'{' as i8)),
            close: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
        }
    }

    /// Bit `k` set when an odd number of bits at or below `k` are: which bytes a block's
    /// quotes leave inside a string.
    #[inline(always)]
    fn prefix_xor(mut x: u64) -> u64 {
        for shift in [1, 2, 4, 8, 16, 32] {
            x ^= x << shift;
        }
        x
    }

    /// [`prefix_xor`] in one instruction: a carry-less multiply by all ones.
    #[target_feature(enable = "pclmulqdq")]
    fn prefix_xor_clmul(x: u64) -> u64 {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }

    /// [`super::skip_container`] by blocks, with the widest instructions this CPU has. A
    /// provider-shaped 64 KiB payload took 5.9 µs with the baseline's (SSE2, a visit to each
    /// bracket), 2.5 µs with AVX2 and 2.0 µs with AVX-512 (`cargo bench --bench verify --
    /// probe`).
    pub(super) fn skip_container(
        b: &[u8],
        start: usize,
        passed: &mut dyn FnMut(usize),
    ) -> Option<usize> {
        // (These three calls and the three block loads are the only unsafe in hookscope.)
        if widest() {
            // SAFETY: the features `skip_widest` is compiled for were detected on this CPU
            // just now.
            unsafe { skip_widest(b, start, passed) }
        } else if wide() {
            // SAFETY: the features `skip_wide` is compiled for were detected on this CPU just
            // now.
            unsafe { skip_wide(b, start, passed) }
        } else {
            // SAFETY: SSE2 is part of the x86_64 baseline: every CPU this code compiles for
            // has it.
            unsafe { skip_baseline(b, start, passed) }
        }
    }

    /// Whether this CPU runs [`skip_wide`]. The detection is cached after the first call: an
    /// atomic load each time.
    fn wide() -> bool {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("pclmulqdq")
            && is_x86_feature_detected!("popcnt")
            && is_x86_feature_detected!("bmi1")
    }

    /// Whether this CPU runs [`skip_widest`] (cached like [`wide`]'s). VBMI2 is not used; it
    /// marks the CPUs whose 512-bit instructions do not lower the whole core's clock (Intel
    /// from Ice Lake, AMD from Zen 4), which would slow the HMAC beside it more than the walk
    /// gains (simdjson draws the same line).
    fn widest() -> bool {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vbmi2")
            && wide()
    }

    /// Each variant this CPU can run, by name, for the tests to hold to the byte walk.
    #[cfg(test)]
    pub(super) fn variants() -> Vec<(&'static str, super::SkipFn)> {
        // SAFETY: SSE2 is in the x86_64 baseline.
        let mut v: Vec<(&str, super::SkipFn)> =
            vec![("sse2", |b, i, p| unsafe { skip_baseline(b, i, p) })];
        if wide() {
            // SAFETY: only offered when `wide` found the features on this CPU.
            v.push(("avx2", |b, i, p| unsafe { skip_wide(b, i, p) }));
        }
        if widest() {
            // SAFETY: only offered when `widest` found the features on this CPU.
            v.push(("avx512", |b, i, p| unsafe { skip_widest(b, i, p) }));
        }
        v
    }

    #[target_feature(enable = "avx512f,avx512bw,pclmulqdq,popcnt,bmi1")]
    fn skip_widest(b: &[u8], start: usize, passed: &mut dyn FnMut(usize)) -> Option<usize> {
        skip_blocks::<true>(
            b,
            start,
            passed,
            |m| masks_avx512(m),
            |x| prefix_xor_clmul(x),
        )
    }

    #[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
    fn skip_wide(b: &[u8], start: usize, passed: &mut dyn FnMut(usize)) -> Option<usize> {
        skip_blocks::<true>(b, start, passed, |m| masks_avx2(m), |x| prefix_xor_clmul(x))
    }

    #[target_feature(enable = "sse2")]
    fn skip_baseline(b: &[u8], start: usize, passed: &mut dyn FnMut(usize)) -> Option<usize> {
        skip_blocks::<false>(b, start, passed, |m| masks_sse2(m), prefix_xor)
    }

    /// The walk every variant shares, inlined into each so it compiles with its features. A
    /// block with a backslash (rare outside escaped text) is walked a byte at a time; the
    /// others need no per-byte work but their brackets. With `COUNT` (a CPU with POPCNT) a
    /// block whose closing brackets cannot bring the depth to zero is taken in one step;
    /// without, counting bits costs more than visiting the few brackets a block has. Every
    /// [`super::PACE`] bytes it tells `passed` how far it has got.
    #[inline(always)]
    fn skip_blocks<const COUNT: bool>(
        b: &[u8],
        start: usize,
        passed: &mut dyn FnMut(usize),
        masks: impl Fn(&[u8; 64]) -> Masks,
        prefix_xor: impl Fn(u64) -> u64,
    ) -> Option<usize> {
        // The walk's state in locals, not a `Skip`: handed by reference to the byte walk, a
        // struct stayed in memory, and each block waited on storing and reloading it (its
        // in-string bit and depth carry from block to block). A `Skip` is made only for the
        // byte walk. Whether the block starts inside a string is carried as a mask of all
        // ones or none: the next block's is then two dependent steps (xor, shift) instead of
        // four, and with AVX-512 that chain is what a block waits on.
        let (mut depth, mut inside_carry, mut escaped) = (0usize, 0u64, false);
        let mask = |in_string: bool| if in_string { !0 } else { 0 };
        let mut i = start;
        let mut pace = super::PACE;
        while let Some(block) = b.get(i..i + 64) {
            let block: &[u8; 64] = block.try_into().ok()?;
            pace -= 64;
            if pace == 0 {
                pace = super::PACE;
                passed(i);
            }
            let m = masks(block);
            if m.backslash != 0 || escaped {
                let state = Skip {
                    depth,
                    in_string: inside_carry != 0,
                    escaped,
                };
                match state.walk(b, i, i + 64) {
                    Ok(end) => return Some(end),
                    Err(now) => {
                        (depth, inside_carry, escaped) =
                            (now.depth, mask(now.in_string), now.escaped)
                    }
                }
            } else {
                let inside = prefix_xor(m.quote) ^ inside_carry;
                inside_carry = ((inside as i64) >> 63) as u64;
                let (open, close) = (m.open & !inside, m.close & !inside);
                if COUNT && (close.count_ones() as usize) < depth {
                    // Never below one inside this block: only the net change matters.
                    depth = depth + open.count_ones() as usize - close.count_ones() as usize;
                } else {
                    let mut brackets = open | close;
                    while brackets != 0 {
                        let k = brackets.trailing_zeros();
                        if open >> k & 1 == 1 {
                            depth += 1;
                        } else if depth <= 1 {
                            return Some(i + k as usize + 1);
                        } else {
                            depth -= 1;
                        }
                        brackets &= brackets - 1;
                    }
                }
            }
            i += 64;
        }
        let state = Skip {
            depth,
            in_string: inside_carry != 0,
            escaped,
        };
        state.walk(b, i, b.len()).ok()
    }
}

/// `"`, brackets and braces: what a skip through nested values stops at.
// The walk elsewhere, and the reference the vector walk is tested against.
#[cfg(any(not(target_arch = "x86_64"), test))]
static STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t
};

/// The position after the string whose contents start at `i`, `None` when it never ends.
/// Nested documents are mostly short keys and values: a plain loop over the first bytes finds
/// their end before memchr has set up (with memchr alone, an 80 KB nested payload took longer
/// to skip than to hash), and memchr takes over for long ones.
#[cfg(any(not(target_arch = "x86_64"), test))]
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    const SHORT: usize = 32;
    loop {
        let rest = b.get(i..)?;
        let at = match rest[..rest.len().min(SHORT)]
            .iter()
            .position(|&c| c == b'"' || c == b'\\')
        {
            Some(n) => i + n,
            None if rest.len() > SHORT => i + SHORT + memchr::memchr2(b'"', b'\\', &rest[SHORT..])?,
            None => return None,
        };
        if b[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_top_level_id_and_type() {
        let (id, ty) = event_fields(br#"{"type":"customer.created","id":"evt_1","data":{}}"#);
        assert_eq!(id.as_deref(), Some("evt_1"));
        assert_eq!(ty.as_deref(), Some("customer.created"));
        assert_eq!(event_fields(b"not json"), (None, None));
        assert_eq!(event_fields(b"[1,2]"), (None, None));
        assert_eq!(event_fields(b"{}"), (None, None));
        assert_eq!(event_fields(br#"{"id":42}"#), (Some("42".into()), None));
        assert_eq!(
            event_fields(br#"{"id":-1.5e3}"#),
            (Some("-1500.0".into()), None)
        );
        assert_eq!(event_fields(br#"{"id":{"x":1}}"#), (None, None));
        assert_eq!(event_fields(br#"{"id":null,"type":true}"#), (None, None));
    }

    #[test]
    fn nested_ids_and_ids_inside_strings_are_not_top_level() {
        let body = br#" { "data" : { "id" : "inner", "s": "\"id\":\"no\" }]" } , "list":[{"type":"x"}], "type" : "outer" } "#;
        assert_eq!(event_fields(body), (None, Some("outer".into())));
    }

    #[test]
    fn escapes_are_decoded_in_keys_and_values() {
        let body = br#"{"\u0069d":"evt_\u00e9","ty\"pe":"no","type":"a\nb"}"#;
        assert_eq!(
            event_fields(body),
            (Some("evt_é".into()), Some("a\nb".into()))
        );
    }

    #[test]
    fn long_and_escaped_keys_and_values_end_where_they_end() {
        for n in [0, 1, 30, 31, 32, 33, 64, 100] {
            let pad = "p".repeat(n);
            let body = format!(r#"{{"{pad}":"{pad}\"{pad}","id":"{pad}\"{pad}","type":"{pad}"}}"#);
            assert_eq!(
                event_fields(body.as_bytes()),
                (Some(format!("{pad}\"{pad}")), Some(pad.clone())),
                "{body}"
            );
            let nested = format!(
                r#"{{"data":{{"{pad}":"{pad}\"}}]{pad}","a":["{pad}\\",{{"x":"]{pad}"}}]}},"type":"t{n}"}}"#
            );
            assert_eq!(
                event_fields(nested.as_bytes()),
                (None, Some(format!("t{n}"))),
                "{nested}"
            );
            let unterminated = format!(r#"{{"type":"{pad}"#);
            assert_eq!(event_fields(unterminated.as_bytes()), (None, None));
        }
    }

    /// `skip` from `start`, holding its progress reports to their promise: they only grow,
    /// start no earlier than `start` and end no later than the body.
    fn paced(skip: SkipFn, b: &[u8], start: usize) -> Option<usize> {
        let mut last = start;
        let end = skip(b, start, &mut |at| {
            assert!(
                at >= last && at <= b.len(),
                "{at} after {last}, of {}",
                b.len()
            );
            last = at;
        });
        if let Some(end) = end {
            assert!(last <= end, "reported {last} past the end {end}");
        }
        end
    }

    /// Every block skip this CPU can run (the byte walk elsewhere), and the dispatcher.
    fn block_skips() -> Vec<(&'static str, SkipFn)> {
        #[cfg(target_arch = "x86_64")]
        let blocks = blocks::variants();
        #[cfg(not(target_arch = "x86_64"))]
        let blocks = Vec::new();
        let dispatch: (&'static str, SkipFn) = ("dispatch", skip_container);
        blocks.into_iter().chain([dispatch]).collect()
    }

    #[test]
    fn escapes_and_quotes_on_every_side_of_a_block_boundary() {
        // A backslash, an escaped quote or brace, or a real quote at each offset around the
        // 64-byte boundaries of the vector walk.
        for pad in 0..200 {
            let a = "a".repeat(pad);
            // Enough after the boundary for whole blocks to follow it.
            let z = "z".repeat(130);
            for body in [
                format!(r#"{{"k":"{a}\"}}","n":[1],"z":"{z}"}}"#),
                format!(r#"{{"k":"{a}\\","n":["}}"],"z":"{z}"}}"#),
                format!(r#"[{a},"{a}\\\"]","{z}"]"#),
                format!(r#"{{"{a}":{{"x":"{{"}},"y":"{a}","z":"{z}"}}"#),
            ] {
                let body = body.as_bytes();
                for (name, skip) in block_skips() {
                    assert_eq!(paced(skip, body, 0), Some(body.len()), "{name} {pad}");
                    assert_eq!(
                        paced(skip, &body[..body.len() - 1], 0),
                        None,
                        "{name} {pad}"
                    );
                }
            }
        }
    }

    #[test]
    fn long_strings_and_nested_values_report_progress_every_pace() {
        // The hashing beside the read keeps up only if the read says how far it is as it goes.
        let item = r#"{"id":"li_1","amount":100,"tags":["a","b"],"meta":{"k":"v"}},"#;
        let nested = format!(r#"{{"type":"t","data":[{}0]}}"#, item.repeat(2000));
        let string = format!(r#"{{"type":"t","data":"{}"}}"#, "x".repeat(100_000));
        // Elsewhere nested values are walked a byte at a time, without reports.
        let bodies = if cfg!(target_arch = "x86_64") {
            vec![nested.as_bytes(), string.as_bytes()]
        } else {
            vec![string.as_bytes()]
        };
        for body in bodies {
            let mut reports = Vec::new();
            let fields = event_fields_paced(body, &mut |at| reports.push(at));
            assert_eq!(fields.1.as_deref(), Some("t"));
            assert!(
                reports.len() >= body.len() / PACE - 2,
                "{} reports over {} bytes",
                reports.len(),
                body.len()
            );
            assert!(reports.windows(2).all(|w| w[1] - w[0] <= PACE + 64));
        }
    }

    #[test]
    fn the_last_of_a_repeated_key_wins() {
        let body = br#"{"type":"first","type":"last"}"#;
        assert_eq!(event_fields(body).1.as_deref(), Some("last"));
    }

    #[test]
    fn truncated_bodies_keep_what_was_read_and_never_panic() {
        let body = br#"{"type":"customer.created","id":"evt_1","data":{"a":[1,2"#;
        for end in 0..body.len() {
            let _ = event_fields(&body[..end]);
        }
        assert_eq!(event_fields(body).1.as_deref(), Some("customer.created"));
        assert_eq!(event_fields(br#"{"type":"unterminated"#), (None, None));
        assert_eq!(event_fields(br#"{"type":"a\"#), (None, None));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let mut body = String::from("{\"a\":");
        body.push_str(&"[".repeat(100_000));
        assert_eq!(event_fields(body.as_bytes()), (None, None));
        body.push_str(&"]".repeat(100_000));
        body.push_str(",\"type\":\"deep\"}");
        assert_eq!(event_fields(body.as_bytes()).1.as_deref(), Some("deep"));
    }

    /// What serde makes of the same document, for objects without repeated keys.
    fn reference(body: &[u8]) -> (Option<String>, Option<String>) {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
            return (None, None);
        };
        let text = |v: Option<&serde_json::Value>| match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        (text(map.get("id")), text(map.get("type")))
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC*".prop_map(serde_json::Value::from),
            prop_oneof![Just("id"), Just("type"), Just("\"id\":"), Just("}")]
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("id".to_string()),
                            Just("type".to_string()),
                            "\\PC{0,6}"
                        ],
                        inner
                    ),
                    0..6
                )
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_on_valid_documents(v in json(), pretty in any::<bool>()) {
            let body = if pretty {
                serde_json::to_vec_pretty(&v).unwrap()
            } else {
                serde_json::to_vec(&v).unwrap()
            };
            prop_assert_eq!(event_fields(&body), reference(&body));
        }

        #[test]
        fn paced_reads_agree_and_report_only_forwards_within_the_body(
            v in json(),
            cut in any::<prop::sample::Index>(),
        ) {
            let whole = serde_json::to_vec(&v).unwrap();
            // Whole documents and cut ones, where the walk gives up midway.
            for body in [&whole[..], &whole[..cut.index(whole.len() + 1)]] {
                let mut last = 0;
                let fields = event_fields_paced(body, &mut |at| {
                    assert!(at >= last && at <= body.len(), "{at} after {last} of {}", body.len());
                    last = at;
                });
                prop_assert_eq!(fields, event_fields(body));
            }
        }

        #[test]
        fn string_values_decode_exactly_as_serde_does(
            inner in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'\\'), Just(b'u')], 0..24)
                .prop_filter("one string", |b| !b.contains(&b'"'))
        ) {
            let mut raw = vec![b'"'];
            raw.extend_from_slice(&inner);
            raw.push(b'"');
            prop_assert_eq!(scalar_text(&raw), serde_json::from_slice::<String>(&raw).ok());
        }

        #[test]
        fn the_block_skip_ends_where_the_byte_skip_does(
            prefix in prop::collection::vec(any::<u8>(), 0..70),
            open in prop_oneof![Just(b'{'), Just(b'[')],
            // Mostly the bytes that matter, so strings, escapes and brackets cross the 64-byte
            // blocks in every arrangement; sometimes anything.
            rest in prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(&b"\"\\{}[]ax :,"[..]),
                    1 => any::<u8>(),
                ],
                0..400,
            ),
        ) {
            let mut body = prefix.clone();
            body.push(open);
            body.extend_from_slice(&rest);
            let start = prefix.len();
            let expected = skip_container_bytes(&body, start);
            for (name, skip) in block_skips() {
                prop_assert_eq!(paced(skip, &body, start), expected, "{}", name);
            }
        }

        #[test]
        fn the_block_skip_agrees_on_real_documents(v in json(), pad in 0..64usize) {
            let mut body = vec![b' '; pad];
            body.extend_from_slice(&serde_json::to_vec(&serde_json::json!({"data": [v]})).unwrap());
            prop_assert_eq!(skip_container_bytes(&body, pad), Some(body.len()));
            for (name, skip) in block_skips() {
                prop_assert_eq!(paced(skip, &body, pad), Some(body.len()), "{}", name);
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = event_fields(&body);
        }

        #[test]
        fn never_panics_on_mangled_json(v in json(), cut in any::<prop::sample::Index>(), junk in any::<u8>()) {
            let mut body = serde_json::to_vec(&v).unwrap();
            if !body.is_empty() {
                let at = cut.index(body.len());
                body[at] = junk;
                let _ = event_fields(&body);
                let _ = event_fields(&body[..at]);
            }
        }
    }
}
