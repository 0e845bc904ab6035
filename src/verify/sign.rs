//! Producing signatures: the one HMAC routine the verifier compares against and the sender uses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{KeyInit as _, Mac as _};

/// The MAC the `v1` scheme uses.
pub type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Length of a base64-encoded HMAC-SHA256 (32 bytes, padded).
pub const V1_B64_LEN: usize = 44;

/// An HMAC-SHA256 keyed with `key`, before any content.
pub fn keyed(key: &[u8]) -> HmacSha256 {
    // new_from_slice only fails for fixed-size-key MACs; HMAC takes any key length.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// HMAC-SHA256 over `{id}.{timestamp}.{body}`, base64-encoded into a stack buffer.
pub fn v1_digest_b64(key: &[u8], id: &[u8], timestamp: i64, body: &[u8]) -> [u8; V1_B64_LEN] {
    v1_digest_b64_with(keyed(key), id, timestamp, body)
}

/// [`v1_digest_b64`] from an already keyed MAC (see [`super::HmacKey::mac`]).
pub fn v1_digest_b64_with(
    mac: HmacSha256,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
) -> [u8; V1_B64_LEN] {
    v1_digest_b64_alongside(mac, id, timestamp, body, &mut |_| {})
}

/// What reads a body while it is hashed: it is handed the function to tell how far it has
/// read, and calls it as it goes.
pub type Walk<'a> = &'a mut dyn FnMut(&mut dyn FnMut(usize));

/// [`v1_digest_b64_with`], the body hashed as `walk` reads it: each time it says how far it
/// has read, the body is hashed that far (in whole SHA-256 blocks, so no bytes are buffered
/// twice) before it reads on, and the rest once it returns. SHA-256 keeps the core's other
/// units idle, so what `walk` does between costs about half what it would after.
pub fn v1_digest_b64_alongside(
    mut mac: HmacSha256,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
    walk: Walk<'_>,
) -> [u8; V1_B64_LEN] {
    let mut digits = [0u8; 20];
    let digits = decimal(timestamp, &mut digits);
    mac.update(id);
    mac.update(b".");
    mac.update(digits);
    mac.update(b".");
    // The keyed MAC has taken one whole block; this much of the next is buffered.
    let buffered = (id.len() + digits.len() + 2) % 64;
    let mut hashed = 0;
    walk(&mut |read: usize| {
        let upto = (buffered + read.min(body.len())) / 64 * 64;
        if let Some(upto) = upto.checked_sub(buffered).filter(|&u| u > hashed) {
            mac.update(&body[hashed..upto]);
            hashed = upto;
        }
    });
    mac.update(&body[hashed..]);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; V1_B64_LEN];
    // 32 bytes always encode to exactly 44 characters.
    let _ = STANDARD.encode_slice(tag, &mut out);
    out
}

/// HMAC-SHA256 of `parts` in order, base64-encoded: for content other than the scheme's
/// (the verifier tries what other schemes sign when nothing matched).
pub fn digest_b64_of(mut mac: HmacSha256, parts: &[&[u8]]) -> [u8; V1_B64_LEN] {
    for part in parts {
        mac.update(part);
    }
    let mut out = [0u8; V1_B64_LEN];
    let _ = STANDARD.encode_slice(mac.finalize().into_bytes(), &mut out);
    out
}

/// `n` in decimal, written into `buf` without allocating (this runs once per delivery).
fn decimal(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// The `v1,<base64>` signature header entry for a message.
pub fn sign_v1(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = v1_digest_b64(key, id.as_bytes(), timestamp, body);
    format!("v1,{}", String::from_utf8_lossy(&digest))
}

/// The `v1a,<base64>` (Ed25519) signature header entry for a message.
pub fn sign_v1a(key: &SigningKey, id: &str, timestamp: i64, body: &[u8]) -> String {
    let sig = key.sign(&signed_content(id.as_bytes(), timestamp, body));
    format!("v1a,{}", STANDARD.encode(sig.to_bytes()))
}

/// The exact bytes that are signed: `{id}.{timestamp}.{body}`.
pub fn signed_content(id: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    let ts = timestamp.to_string();
    let mut content = Vec::with_capacity(id.len() + ts.len() + body.len() + 2);
    content.extend_from_slice(id);
    content.push(b'.');
    content.extend_from_slice(ts.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// However the walk reports its progress (in order or not, past the end or not, or
        /// never), the digest is the one over the whole body.
        #[test]
        fn a_walk_alongside_never_changes_the_digest(
            id in "[a-z_0-9]{0,100}",
            timestamp in proptest::prelude::any::<i64>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            reports in proptest::collection::vec(0usize..3200, 0..40),
        ) {
            let key = b"0123456789abcdef";
            let plain = v1_digest_b64(key, id.as_bytes(), timestamp, &body);
            let mut sorted = reports.clone();
            sorted.sort_unstable();
            for reports in [reports, sorted] {
                let walked = v1_digest_b64_alongside(
                    keyed(key),
                    id.as_bytes(),
                    timestamp,
                    &body,
                    &mut |passed| reports.iter().for_each(|&r| passed(r)),
                );
                proptest::prop_assert_eq!(walked, plain);
            }
        }
    }

    #[test]
    fn decimal_matches_to_string() {
        for n in [
            0,
            7,
            -7,
            1_614_265_330,
            i64::MAX,
            i64::MIN,
            -1_000_000_000_000,
        ] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }

    #[test]
    fn official_vector() {
        // standard-webhooks test_sign_function: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign_v1(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                b"{\"test\": 2432232314}"
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
