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
    mut mac: HmacSha256,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
) -> [u8; V1_B64_LEN] {
    let mut digits = [0u8; 20];
    mac.update(id);
    mac.update(b".");
    mac.update(decimal(timestamp, &mut digits));
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; V1_B64_LEN];
    // 32 bytes always encode to exactly 44 characters.
    let _ = STANDARD.encode_slice(tag, &mut out);
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
