//! Parsing, scoping and masking of the secrets a receiver verifies with.

use super::sign;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::fmt;
use std::sync::Arc;

/// Providers hand out secrets with and without `=` padding, and some tools strip it; the
/// reference Python library re-pads before decoding, so we accept both and any trailing bits.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a secret given on the command line or in the environment cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing was given.
    #[error("the secret is empty")]
    Empty,
    /// Only the prefix was given.
    #[error("the secret is only the prefix `{0}`, with no key after it")]
    PrefixOnly(&'static str),
    /// A signature header value was pasted instead of the secret.
    #[error(
        "this looks like a signature (`{0},…`), not a secret: copy the endpoint's signing secret, which starts with `whsec_`"
    )]
    LooksLikeSignature(String),
    /// Whitespace before the secret, where no prefix can be told apart from it.
    #[error("the secret starts with whitespace (a stray space or newline from copying?)")]
    LeadingWhitespace,
    /// Whitespace inside or after the key (often a trailing newline from a file).
    #[error(
        "the secret contains whitespace at character {position} (a trailing newline or a stray space from copying?)"
    )]
    Whitespace {
        /// 1-based character position in the secret, its prefix included.
        position: usize,
    },
    /// The secret kept the quotes around it, as `docker --env-file` and some `.env` loaders do.
    #[error(
        "the secret is wrapped in quotes ({0}whsec_…{0}): pass it without them (a .env file read by a tool that keeps quotes, such as docker's --env-file?)"
    )]
    Quoted(char),
    /// A character outside the base64 alphabet.
    #[error("the secret is not valid base64: {problem}")]
    NotBase64 {
        /// What the decoder reported, in words.
        problem: String,
    },
    /// An Ed25519 key of the wrong size.
    #[error("a `{prefix}` key must decode to {expected} bytes, this one decodes to {actual}")]
    WrongKeyLength {
        /// `whpk_` or `whsk_`.
        prefix: &'static str,
        /// Bytes an Ed25519 key of this kind has.
        expected: usize,
        /// Bytes this one has.
        actual: usize,
    },
    /// Bytes that are not a point on the curve.
    #[error("the `whpk_` key is not a valid Ed25519 public key")]
    InvalidPublicKey,
    /// An Ed25519 key given where an HMAC secret is required.
    #[error("`{0}` is an Ed25519 key, not an HMAC secret (`whsec_…`)")]
    NotHmac(&'static str),
    /// A path scope that does not start with `/`.
    #[error("the scope `{0}` must be a path starting with `/` (as in `/billing=whsec_…`)")]
    BadScope(String),
    /// A path scope with nothing after its `=`.
    #[error("the scope `{0}` has no secret after its `=` (as in `{0}=whsec_…`)")]
    NoSecretForScope(String),
}

/// The shortest HMAC key Standard Webhooks issues (Svix's are this long).
const MIN_HMAC_KEY: usize = 24;

/// An HMAC-SHA256 key with its keyed state computed once: every delivery then starts from a
/// clone instead of hashing the padded key again (two SHA-256 blocks, a tenth of a 1 KiB check).
#[derive(Clone)]
pub struct HmacKey {
    bytes: Vec<u8>,
    keyed: sign::HmacSha256,
}

impl HmacKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        let keyed = sign::keyed(&bytes);
        HmacKey { bytes, keyed }
    }

    /// A MAC ready to take the signed content.
    pub fn mac(&self) -> sign::HmacSha256 {
        self.keyed.clone()
    }
}

impl std::ops::Deref for HmacKey {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl PartialEq for HmacKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl fmt::Debug for HmacKey {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({} bytes)", self.bytes.len())
    }
}

/// The key material of one secret.
#[derive(Clone)]
pub enum Key {
    /// `whsec_…`: a shared HMAC-SHA256 key (scheme `v1`).
    Hmac(HmacKey),
    /// `whpk_…` (or the public half of a `whsk_…`): an Ed25519 verifying key (scheme `v1a`).
    Ed25519 {
        /// Verifies `v1a` signatures.
        public: VerifyingKey,
        /// Present when a `whsk_` signing key was given, so `send` can sign `v1a`.
        signing: Option<Box<SigningKey>>,
    },
}

/// A parsed secret with where it applies and how it is shown.
#[derive(Clone)]
pub struct Secret {
    /// Key material.
    pub key: Key,
    /// Path prefix this secret is limited to (`/billing`), or `None` for every path.
    scope: Option<String>,
    masked: String,
    /// The masked secret with its scope, made once: every verified delivery carries it.
    label: Arc<str>,
}

impl fmt::Debug for Secret {
    // Never print key material, even in debug output or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("scope", &self.scope)
            .field("masked", &self.masked)
            .finish()
    }
}

impl Secret {
    /// Parses a command-line secret: `[/scope=]whsec_…`, a bare base64 key, `whpk_…` or `whsk_…`.
    pub fn parse(arg: &str) -> Result<Self, SecretError> {
        let (scope, text) = split_scope(arg)?;
        Ok(Secret::new(Key::parse(text)?, scope, mask(text)))
    }

    /// Parses a secret that must be an HMAC key (what `send` signs `v1` with).
    pub fn parse_hmac(arg: &str) -> Result<Self, SecretError> {
        let (scope, text) = split_scope(arg)?;
        Ok(Secret::new(Key::parse_hmac(text)?, scope, mask(text)))
    }

    /// A secret from raw HMAC key bytes (used by the sender's `--wrong-secret`).
    pub fn from_hmac_bytes(bytes: Vec<u8>) -> Self {
        let text = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        Secret::new(Key::Hmac(HmacKey::new(bytes)), None, mask(&text))
    }

    fn new(key: Key, scope: Option<String>, masked: String) -> Self {
        let label = match &scope {
            Some(scope) => format!("{scope}={masked}").into(),
            None => masked.as_str().into(),
        };
        Secret {
            key,
            scope,
            masked,
            label,
        }
    }

    /// The path prefix this secret is limited to (`/billing`), or `None` for every path.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The secret as it may be shown anywhere: prefix, first four and last three characters.
    pub fn masked(&self) -> &str {
        &self.masked
    }

    /// The masked secret with its scope, as shown in status lines: `/billing=whsec_MfKQ…aSw`.
    pub fn label(&self) -> Arc<str> {
        self.label.clone()
    }

    /// A doubt worth saying at start-up: an HMAC key shorter than the 24 bytes a Standard
    /// Webhooks secret has at least is most likely cut short in the copy, or a placeholder,
    /// and every delivery would fail `bad_signature`.
    pub fn doubt(&self) -> Option<String> {
        match &self.key {
            Key::Hmac(k) if k.len() < MIN_HMAC_KEY => Some(format!(
                "the secret {} decodes to only {} bytes, and Standard Webhooks secrets have 24 to 64 (32 or more base64 characters after whsec_): is it the whole secret, copied from the endpoint's page?",
                self.label(),
                k.len()
            )),
            _ => None,
        }
    }

    /// Whether `other` is this very secret again (the same key for the same paths), however it
    /// was written (`whsec_…` or bare): verifying with both would only try it twice.
    pub fn same_as(&self, other: &Secret) -> bool {
        let scope = |s: &Secret| {
            s.scope
                .as_deref()
                .map(|p| p.trim_end_matches('/').to_owned())
        };
        let key = match (&self.key, &other.key) {
            (Key::Hmac(a), Key::Hmac(b)) => a == b,
            (
                Key::Ed25519 {
                    public: a,
                    signing: sa,
                },
                Key::Ed25519 {
                    public: b,
                    signing: sb,
                },
            ) => a == b && sa.is_some() == sb.is_some(),
            _ => false,
        };
        key && scope(self) == scope(other)
    }

    /// Whether this secret applies to a request path (`/billing` covers `/billing` and
    /// `/billing/…` and `/billing?…`, not `/billingx`).
    pub fn applies_to(&self, path: &str) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => scope_matches(scope, path),
        }
    }
}

pub(crate) fn scope_matches(scope: &str, path: &str) -> bool {
    let scope = scope.trim_end_matches('/');
    if scope.is_empty() {
        return true;
    }
    match path.strip_prefix(scope) {
        Some(rest) => rest.is_empty() || rest.starts_with(['/', '?']),
        None => false,
    }
}

fn split_scope(arg: &str) -> Result<(Option<String>, &str), SecretError> {
    // A bare base64 key may itself start with '/' and end in '=' padding, so a scope is only
    // recognised when something other than padding follows the first '='.
    if let Some(rest) = arg.strip_prefix('/')
        && let Some((scope, secret)) = rest.split_once('=')
        && !secret.trim_start_matches('=').is_empty()
    {
        let scope = format!("/{scope}");
        if scope.contains(char::is_whitespace) {
            return Err(SecretError::BadScope(scope));
        }
        return Ok((Some(scope), secret));
    }
    // `/billing=` with its secret left out (an unset shell variable after the `=`): no base64
    // key, so say what is missing rather than what is wrong with it as one.
    if let Some((scope, _)) = arg.split_once('=')
        && scope.starts_with('/')
        && Key::parse(arg).is_err()
    {
        return Err(SecretError::NoSecretForScope(scope.to_string()));
    }
    if let Some((scope, secret)) = arg.split_once('=')
        && ["whsec_", "whpk_", "whsk_"]
            .iter()
            .any(|p| secret.starts_with(p))
    {
        return Err(SecretError::BadScope(scope.to_string()));
    }
    Ok((None, arg))
}

impl Key {
    /// Parses key text without a scope.
    pub fn parse(text: &str) -> Result<Key, SecretError> {
        refuse_wrapping(text)?;
        if let Some(b64) = text.strip_prefix("whpk_") {
            let bytes = decode(b64, "whpk_", "whpk_".len())?;
            let arr: [u8; 32] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| SecretError::WrongKeyLength {
                        prefix: "whpk_",
                        expected: 32,
                        actual: bytes.len(),
                    })?;
            let public =
                VerifyingKey::from_bytes(&arr).map_err(|_| SecretError::InvalidPublicKey)?;
            return Ok(Key::Ed25519 {
                public,
                signing: None,
            });
        }
        if let Some(b64) = text.strip_prefix("whsk_") {
            let bytes = decode(b64, "whsk_", "whsk_".len())?;
            // Svix's whsk_ keys carry the 32-byte seed followed by the 32-byte public key.
            if bytes.len() != 64 && bytes.len() != 32 {
                return Err(SecretError::WrongKeyLength {
                    prefix: "whsk_",
                    expected: 64,
                    actual: bytes.len(),
                });
            }
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes[..32]);
            let signing = SigningKey::from_bytes(&seed);
            return Ok(Key::Ed25519 {
                public: signing.verifying_key(),
                signing: Some(Box::new(signing)),
            });
        }
        Key::parse_hmac(text)
    }

    /// Parses key text that must be an HMAC secret.
    pub fn parse_hmac(text: &str) -> Result<Key, SecretError> {
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        refuse_wrapping(text)?;
        for prefix in ["whpk_", "whsk_"] {
            if text.starts_with(prefix) {
                return Err(SecretError::NotHmac(prefix));
            }
        }
        if let Some((version, _)) = text.split_once(',')
            && matches!(version.trim(), "v1" | "v1a" | "v2")
        {
            return Err(SecretError::LooksLikeSignature(version.trim().to_string()));
        }
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let bytes = decode(b64, "whsec_", text.len() - b64.len())?;
        Ok(Key::Hmac(HmacKey::new(bytes)))
    }

    /// The scheme tag this key verifies.
    pub fn scheme(&self) -> &'static str {
        match self {
            Key::Hmac(_) => "v1",
            Key::Ed25519 { .. } => "v1a",
        }
    }
}

/// Whitespace or quotes around the whole secret: what a copy or a `.env` loader leaves.
fn refuse_wrapping(text: &str) -> Result<(), SecretError> {
    if text.starts_with(char::is_whitespace) {
        return Err(SecretError::LeadingWhitespace);
    }
    // Neither quote is in the base64 alphabet, so this never refuses a real key.
    match text.chars().next() {
        Some(q @ ('"' | '\'')) => Err(SecretError::Quoted(q)),
        _ => Ok(()),
    }
}

/// Decodes the key after its prefix; `skipped` (the prefix's length, 0 for a bare key) makes
/// the positions in errors count from the start of the secret as the user typed it.
fn decode(b64: &str, prefix: &'static str, skipped: usize) -> Result<Vec<u8>, SecretError> {
    if b64.is_empty() {
        return Err(SecretError::PrefixOnly(prefix));
    }
    if let Some(pos) = b64.chars().position(char::is_whitespace) {
        return Err(SecretError::Whitespace {
            position: skipped + pos + 1,
        });
    }
    let bytes = LENIENT.decode(b64).map_err(|e| SecretError::NotBase64 {
        problem: describe_base64_error(b64, skipped, &e),
    })?;
    if bytes.is_empty() {
        return Err(SecretError::PrefixOnly(prefix));
    }
    Ok(bytes)
}

fn describe_base64_error(text: &str, skipped: usize, e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(pos, byte) => {
            // The decoder reports a byte; show the whole character it starts (`é`, not `Ã`).
            let whole = text.get(*pos..).and_then(|rest| rest.chars().next());
            let c = whole.unwrap_or(*byte as char);
            let shown = crate::sanitize::line(&c.to_string()).into_owned();
            format!(
                "character {} of the secret is `{shown}`, which is not in the base64 alphabet (A–Z a–z 0–9 + /)",
                skipped + char_position(text, *pos)
            )
        }
        base64::DecodeError::InvalidLength(len) => {
            format!("{len} characters is not a possible base64 length (was the secret cut short?)")
        }
        base64::DecodeError::InvalidLastSymbol { offset: pos, .. } => {
            format!(
                "the last character (position {}) is not valid there",
                skipped + char_position(text, *pos)
            )
        }
        base64::DecodeError::InvalidPadding => {
            format!("misplaced `=` padding in {} characters", text.len())
        }
    }
}

/// The 1-based character position of a byte offset the base64 decoder reported.
fn char_position(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or(byte, |before| before.chars().count())
        + 1
}

/// Masks secret text for display: `whsec_MfKQ…aSw`. Short keys show only their prefix.
pub fn mask(text: &str) -> String {
    let (prefix, body) = ["whsec_", "whpk_", "whsk_"]
        .iter()
        .find_map(|p| text.strip_prefix(p).map(|b| (*p, b)))
        .unwrap_or(("", text));
    let chars: Vec<char> = body.chars().collect();
    if chars.len() < 12 {
        return format!("{prefix}…");
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{prefix}{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn short_hmac_keys_are_doubted_and_real_ones_are_not() {
        assert_eq!(Secret::parse(SECRET).unwrap().doubt(), None);
        // A placeholder that happens to be base64, and a secret cut in half.
        for (text, bytes) in [("changeme", 6), ("whsec_MfKQ9r8GKYqrTwjU", 12)] {
            let doubt = Secret::parse(text).unwrap().doubt().expect("a doubt");
            assert!(doubt.contains(&format!("to only {bytes} bytes")), "{doubt}");
            assert!(
                !doubt.contains("9r8G"),
                "the key itself is never shown: {doubt}"
            );
        }
    }

    #[test]
    fn parses_prefixed_and_bare() {
        let a = Secret::parse(SECRET).unwrap();
        let b = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        match (&a.key, &b.key) {
            (Key::Hmac(x), Key::Hmac(y)) => assert_eq!(x, y),
            _ => panic!("expected HMAC keys"),
        }
        assert_eq!(a.masked(), "whsec_MfKQ…aSw");
        assert_eq!(b.masked(), "MfKQ…aSw");
    }

    #[test]
    fn refuses_malformed_secrets_with_reasons() {
        assert_eq!(Secret::parse("").unwrap_err(), SecretError::Empty);
        assert_eq!(
            Secret::parse("whsec_").unwrap_err(),
            SecretError::PrefixOnly("whsec_")
        );
        assert_eq!(
            Secret::parse("v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::LooksLikeSignature("v1".into())
        );
        assert_eq!(
            Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").unwrap_err(),
            SecretError::Whitespace { position: 39 }
        );
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \n").unwrap_err(),
            SecretError::Whitespace { position: 33 }
        );
        // Before the prefix, the position "after its prefix" would mean nothing.
        for parse in [Secret::parse, Secret::parse_hmac] {
            assert_eq!(
                parse(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
                SecretError::LeadingWhitespace
            );
        }
        let err = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw!").unwrap_err();
        assert!(
            err.to_string()
                .contains("character 39 of the secret is `!`"),
            "{err}"
        );
        // Counted in characters from the start of what was typed, with or without a prefix.
        let err = Secret::parse("MfKQ9r8G\u{e9}KYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err();
        assert!(
            err.to_string()
                .contains("character 9 of the secret is `\u{e9}`"),
            "{err}"
        );
        // Quotes a .env loader kept, around any kind of key and behind a scope.
        for (arg, quote) in [
            ("\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"", '"'),
            ("'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'", '\''),
            ("/billing=\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"", '"'),
            ("\"whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=\"", '"'),
        ] {
            assert_eq!(Secret::parse(arg).unwrap_err(), SecretError::Quoted(quote));
        }
        assert_eq!(
            Secret::parse_hmac("\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"").unwrap_err(),
            SecretError::Quoted('"')
        );
        assert!(matches!(
            Secret::parse_hmac("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=").unwrap_err(),
            SecretError::NotHmac("whpk_")
        ));
        assert!(matches!(
            Secret::parse("whpk_AAAA").unwrap_err(),
            SecretError::WrongKeyLength { .. }
        ));
    }

    #[test]
    fn scopes() {
        let s = Secret::parse(&format!("/billing={SECRET}")).unwrap();
        assert_eq!(s.scope.as_deref(), Some("/billing"));
        assert!(s.applies_to("/billing"));
        assert!(s.applies_to("/billing/events?x=1"));
        assert!(s.applies_to("/billing?x=1"));
        assert!(!s.applies_to("/billingx"));
        assert!(!s.applies_to("/"));
        assert_eq!(&*s.label(), "/billing=whsec_MfKQ…aSw");
        // A bare base64 key that happens to start with '/' and end in padding is not a scope.
        let bare = Secret::parse("/8ILPZIo2LaLaSwMfKQ9r8GKYqrTwjUPD8ILPZ==").unwrap();
        assert_eq!(bare.scope, None);
        assert!(matches!(
            Secret::parse(&format!("billing={SECRET}")).unwrap_err(),
            SecretError::BadScope(_)
        ));
        // A scope whose secret was left out (`/billing=$UNSET`).
        for arg in ["/billing=", "/billing==", "/=", "/a/b="] {
            let said = Secret::parse(arg).unwrap_err().to_string();
            let scope = arg.trim_end_matches('=');
            assert_eq!(
                said,
                format!(
                    "the scope `{scope}` has no secret after its `=` (as in `{scope}=whsec_…`)"
                ),
                "{arg}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let s = Secret::parse(SECRET).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("9r8GKYqrTwjUPD8ILPZIo2LaL"), "{dbg}");
    }

    #[test]
    fn whsk_derives_the_public_key() {
        let sk = Secret::parse("whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==").unwrap();
        let pk = Secret::parse("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=").unwrap();
        match (sk.key, pk.key) {
            (
                Key::Ed25519 {
                    public: a,
                    signing: Some(_),
                },
                Key::Ed25519 {
                    public: b,
                    signing: None,
                },
            ) => {
                assert_eq!(a, b)
            }
            _ => panic!("expected Ed25519 keys"),
        }
    }
}
