//! Unit tests for the verifier's diagnostics; the official vectors run in tests/vectors.rs.

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1614265330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn verifier(secrets: &[&str]) -> Verifier {
    Verifier::new(
        secrets.iter().map(|s| Secret::parse(s).unwrap()).collect(),
        DEFAULT_TOLERANCE,
    )
}

fn headers(sig: &str) -> Vec<(&'static str, String)> {
    vec![
        ("svix-id", ID.to_string()),
        ("svix-timestamp", TS.to_string()),
        ("svix-signature", sig.to_string()),
    ]
}

fn failure(v: Verdict) -> Failure {
    match v {
        Verdict::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn report(v: Verdict) -> SignatureReport {
    match failure(v).kind {
        FailureKind::BadSignature(r) => r,
        other => panic!("expected bad_signature, got {other:?}"),
    }
}

#[test]
fn verified_names_the_masked_secret() {
    match verifier(&[OTHER, SECRET]).verify("/", &headers(SIG), BODY, TS) {
        Verdict::Verified(v) => {
            assert_eq!(&*v.secret, "whsec_MfKQ…aSw");
            assert_eq!(v.scheme, "v1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_secret_is_unchecked() {
    assert_eq!(
        verifier(&[]).verify("/", &headers(SIG), BODY, TS),
        Verdict::Unchecked(Unchecked::NoSecret)
    );
}

#[test]
fn counts_signatures_and_secrets() {
    let sig = format!(
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,BBBBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SIG}"
    );
    let r = report(verifier(&[OTHER]).verify("/", &headers(&sig), BODY, TS));
    assert_eq!((r.v1_entries, r.hmac_secrets), (3, 1));
    let text = FailureKind::BadSignature(r).to_string();
    assert!(
        text.contains("3 signatures tried against 1 secret"),
        "{text}"
    );
}

#[test]
fn a_failure_against_a_secret_cut_short_says_so() {
    // Half the secret, as a copy that stopped early leaves it: every delivery fails, and
    // the failure is where the user looks (under the inspector, start-up's warning is hidden).
    let cut = "whsec_MfKQ9r8GKYqrTwjU";
    let f = failure(verifier(&[cut]).verify("/", &headers(SIG), BODY, TS));
    assert!(
        f.hints
            .iter()
            .any(|h| h.contains("decodes to only 12 bytes") && h.contains("is it the whole secret")),
        "{:?}",
        f.hints
    );
    // A whole secret that is merely another one gets no such doubt.
    let f = failure(verifier(&[OTHER]).verify("/", &headers(SIG), BODY, TS));
    assert!(
        !f.hints.iter().any(|h| h.contains("decodes to only")),
        "{:?}",
        f.hints
    );
}

#[test]
fn signature_for_another_scope_says_wrong_endpoint() {
    let v = verifier(&[OTHER, &format!("/billing={SECRET}")]);
    let f = failure(v.verify("/orders", &headers(SIG), BODY, TS));
    let text = f.kind.to_string();
    assert!(text.contains("matches /billing=whsec_MfKQ…aSw"), "{text}");
    // and on the right path it verifies
    assert!(matches!(
        v.verify("/billing/hook", &headers(SIG), BODY, TS),
        Verdict::Verified(_)
    ));
}

#[test]
fn trailing_newline_added_or_removed_in_transit() {
    let mut with_nl = BODY.to_vec();
    with_nl.push(b'\n');
    let r = report(verifier(&[SECRET]).verify("/", &headers(SIG), &with_nl, TS));
    assert_eq!(r.findings.first(), Some(&Finding::NewlineAdded));

    let mut crlf = BODY.to_vec();
    crlf.extend_from_slice(b"\r\n");
    let r = report(verifier(&[SECRET]).verify("/", &headers(SIG), &crlf, TS));
    assert_eq!(r.findings.first(), Some(&Finding::NewlineAdded));

    let signed_with_nl = sign::sign_v1(
        match &Secret::parse(SECRET).unwrap().key {
            Key::Hmac(k) => k,
            _ => unreachable!(),
        },
        ID,
        TS,
        &with_nl,
    );
    let r = report(verifier(&[SECRET]).verify("/", &headers(&signed_with_nl), BODY, TS));
    assert_eq!(r.findings.first(), Some(&Finding::NewlineRemoved));
}

#[test]
fn only_v1a_without_public_key() {
    let sig = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";
    let r = report(verifier(&[SECRET]).verify("/", &headers(sig), BODY, TS));
    assert!(
        r.findings.contains(&Finding::OnlyV1aNoPublicKey),
        "{:?}",
        r.findings
    );
    // with the public key it verifies
    let v = verifier(&["whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="]);
    assert!(matches!(
        v.verify("/", &headers(sig), BODY, TS),
        Verdict::Verified(_)
    ));
}

#[test]
fn only_v1_without_hmac_secret() {
    let r = report(
        verifier(&["whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="]).verify(
            "/",
            &headers(SIG),
            BODY,
            TS,
        ),
    );
    assert!(
        r.findings.contains(&Finding::OnlyV1NoHmacSecret),
        "{:?}",
        r.findings
    );
}

#[test]
fn malformed_entries_are_named() {
    let cases: [(&str, EntryProblem); 6] = [
        ("v1", EntryProblem::NoComma),
        (
            "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            EntryProblem::VersionCase("V1".into()),
        ),
        ("v1,", EntryProblem::Empty),
        (
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
            EntryProblem::MissingPadding,
        ),
        (
            "v1,g0hM9SsE+OTPJTGt/!tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            EntryProblem::NotBase64,
        ),
        ("v1,tZ1I4", EntryProblem::NotBase64),
    ];
    for (sig, problem) in cases {
        let r = report(verifier(&[SECRET]).verify("/", &headers(sig), BODY, TS));
        assert!(
            r.findings.contains(&Finding::MalformedEntry {
                position: 1,
                problem: problem.clone()
            }),
            "{sig}: {:?}",
            r.findings
        );
    }
    let r = report(verifier(&[SECRET]).verify("/", &headers("v1,AAAA"), BODY, TS));
    assert!(r.findings.contains(&Finding::MalformedEntry {
        position: 1,
        problem: EntryProblem::WrongLength {
            expected: 32,
            actual: 3
        }
    }));
    // The size of another hash's digest is named as such.
    let sha512 = format!("v1,{}", STANDARD.encode([7u8; 64]));
    let f = failure(verifier(&[SECRET]).verify("/", &headers(&sha512), BODY, TS));
    assert!(
        f.kind.to_string().contains(
            "decodes to 64 bytes, a signature of this version has 32 (64 bytes is a SHA-512 digest: v1 is HMAC-SHA256, 32 bytes)"
        ),
        "{}",
        f.kind
    );
    let r = report(verifier(&[SECRET]).verify("/", &headers("v2,abc"), BODY, TS));
    assert_eq!(
        r.findings,
        vec![Finding::NoKnownVersion {
            versions: vec!["v2".into()]
        }]
    );
}

#[test]
fn timestamp_failures_say_by_how_much_and_whether_the_signature_is_valid() {
    let f = failure(verifier(&[SECRET]).verify("/", &headers(SIG), BODY, TS + 601));
    assert_eq!(
        f.kind,
        FailureKind::TimestampTooOld {
            timestamp: TS,
            age: 601,
            tolerance: 300,
            signature_valid: true
        }
    );
    let text = f.kind.to_string();
    assert!(
        text.contains("signed 10m 1s ago, 5m 1s beyond the 5m tolerance"),
        "{text}"
    );
    assert!(f.hints[0].contains("replayed"), "{:?}", f.hints);

    let f = failure(verifier(&[OTHER]).verify("/", &headers(SIG), BODY, TS - 86_400));
    assert!(matches!(
        f.kind,
        FailureKind::TimestampTooNew {
            ahead: 86_400,
            signature_valid: false,
            ..
        }
    ));

    let mut h = headers(SIG);
    h[1].1 = (TS * 1000).to_string();
    let f = failure(verifier(&[SECRET]).verify("/", &h, BODY, TS));
    assert!(f.hints[0].contains("milliseconds"), "{:?}", f.hints);
}

#[test]
fn invalid_timestamps_say_what_is_wrong() {
    let cases = [
        ("1614265330.5", TimestampProblem::Fractional),
        (" 1614265330", TimestampProblem::Whitespace),
        ("1.6e9", TimestampProblem::Exponent),
        ("99999999999999999999", TimestampProblem::OutOfRange),
        ("-9223372036854775808", TimestampProblem::OutOfRange),
        ("yesterday", TimestampProblem::NotANumber),
    ];
    for (value, problem) in cases {
        let mut h = headers(SIG);
        h[1].1 = value.to_string();
        let f = failure(verifier(&[SECRET]).verify("/", &h, BODY, TS));
        match f.kind {
            FailureKind::InvalidTimestamp { problem: p, .. } => assert_eq!(p, problem, "{value}"),
            other => panic!("{value}: {other:?}"),
        }
    }
}

#[test]
fn missing_headers_list_every_one_and_guess_the_sender() {
    let h = vec![("svix-id", ID.to_string())];
    let f = failure(verifier(&[SECRET]).verify("/", &h, BODY, TS));
    assert_eq!(
        f.kind,
        FailureKind::MissingHeader {
            missing: vec![Part::Timestamp, Part::Signature],
            empty: vec![]
        }
    );
    assert_eq!(
        f.kind.to_string(),
        "missing header svix-timestamp (or webhook-timestamp), svix-signature (or webhook-signature)"
    );
    let h = vec![("Stripe-Signature", "t=1,v1=abc".to_string())];
    let f = failure(verifier(&[SECRET]).verify("/", &h, BODY, TS));
    assert!(f.hints[0].contains("Stripe"), "{:?}", f.hints);
}

#[test]
fn duplicate_signature_header_is_reported() {
    let mut h = headers("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    h.push(("svix-signature", SIG.to_string()));
    let r = report(verifier(&[SECRET]).verify("/", &h, BODY, TS));
    assert!(r.findings.contains(&Finding::DuplicateHeader {
        name: "svix-signature".into(),
        count: 2
    }));
}

#[test]
fn expected_and_received_prefixes_are_shown() {
    let r = report(verifier(&[SECRET]).verify(
        "/",
        &headers("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        BODY,
        TS,
    ));
    assert_eq!(
        r.expected,
        vec![("whsec_MfKQ…aSw".to_string(), "v1,g0hM9SsE+O…".to_string())]
    );
    assert_eq!(r.received, vec!["v1,AAAAAAAAAAAAA".to_string()]);
}

#[test]
fn most_specific_scope_wins() {
    let v = verifier(&[OTHER, &format!("/billing={SECRET}")]);
    // unscoped secret does not apply under /billing, the scoped one does
    assert!(matches!(
        v.verify("/billing", &headers(SIG), BODY, TS),
        Verdict::Verified(_)
    ));
    let only_scoped = verifier(&[&format!("/billing={SECRET}")]);
    assert!(matches!(
        only_scoped.verify("/other", &headers(SIG), BODY, TS),
        Verdict::Unchecked(Unchecked::NoSecretForPath { .. })
    ));
}

#[test]
fn durations_and_sizes_read_well() {
    assert_eq!(human_duration(45), "45s");
    assert_eq!(human_duration(300), "5m");
    assert_eq!(human_duration(601), "10m 1s");
    assert_eq!(human_duration(86_400 + 3600 * 4), "1d 4h");
    assert_eq!(human_bytes(512), "512 B");
    assert_eq!(human_bytes(16 << 20), "16 MiB");
    assert_eq!(human_bytes(1536), "1.5 KiB");
    // Near a boundary the rounded value decides: never `100.0 KiB` or `2.0 KiB`.
    assert_eq!(human_bytes(102_380), "100 KiB");
    assert_eq!(human_bytes(2_040), "2 KiB");
    assert_eq!(human_bytes(1_048_000), "1023 KiB");
}

proptest::proptest! {
    #[test]
    fn a_size_is_at_most_8_columns_and_near_the_truth(n in 0u64..(1000 << 40)) {
        let text = human_bytes(n);
        proptest::prop_assert!(text.chars().count() <= 8, "{n}: {text}");
        let (number, unit) = text.split_once(' ').unwrap();
        let scale = match unit {
            "B" => 1.0,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0f64.powi(3),
            "TiB" => 1024.0f64.powi(4),
            _ => unreachable!("{text}"),
        };
        let shown = number.parse::<f64>().unwrap() * scale;
        proptest::prop_assert!((shown - n as f64).abs() <= n as f64 * 0.05 + 0.5, "{n}: {text}");
    }
}

#[test]
fn the_walk_alongside_runs_once_with_the_first_hash_of_the_body_and_only_then() {
    let runs = |v: &Verifier, headers: &[(&str, String)]| {
        let mut runs = 0;
        let verdict = v.verify_alongside("/", headers, BODY, TS, &mut |passed| {
            runs += 1;
            passed(BODY.len());
        });
        assert_eq!(verdict, v.verify("/", headers, BODY, TS));
        runs
    };
    // Two secrets, the signature of the second: both bodies hashed, the walk with the first.
    let two = verifier(&[OTHER, SECRET]);
    assert_eq!(runs(&two, &headers(SIG)), 1);
    assert_eq!(
        runs(&two, &headers("v1,bm90IHRoaXMgb25l v1,YW5kIG5vdCB0aGlz")),
        1
    );
    // Nothing hashes the body: no v1 entry, a header missing, no secret.
    assert_eq!(runs(&two, &headers("v2,abc")), 0);
    assert_eq!(runs(&two, &headers(SIG)[..2]), 0);
    assert_eq!(runs(&Verifier::new(Vec::new(), 300), &headers(SIG)), 0);
}

proptest::proptest! {
    #[test]
    fn never_panics_on_arbitrary_input(
        headers in proptest::collection::vec(
            (proptest::sample::select(vec!["svix-id", "svix-timestamp", "svix-signature", "webhook-id", "webhook-timestamp", "webhook-signature", "x-other"]),
             proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)),
            0..8),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        now in proptest::prelude::any::<i64>(),
    ) {
        let v = verifier(&[SECRET, "/a=whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="]);
        let verdict = v.verify("/", &headers, &body, now);
        let _ = verdict.reason();
        if let Verdict::Failed(f) = verdict {
            let _ = f.kind.to_string();
        }
    }

    /// The `verify` fuzz target's property, on stable: whatever the id and body, a fresh
    /// signature from anywhere inside the tolerance verifies, and the same one over a body
    /// changed by one byte at the end does not.
    #[test]
    fn a_fresh_signature_verifies_and_a_changed_body_does_not(
        id in "[^\r\n\0]{1,40}",
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        skew in -300i64..=300,
    ) {
        let v = verifier(&[SECRET]);
        let signed = crate::testing::signed_headers(SECRET, &id, TS + skew, &body);
        let verdict = v.verify("/", &signed, &body, TS);
        proptest::prop_assert!(matches!(verdict, Verdict::Verified(_)), "{verdict:?}");
        let mut changed = body.clone();
        changed.push(b'!');
        let verdict = v.verify("/", &signed, &changed, TS);
        proptest::prop_assert!(matches!(verdict, Verdict::Failed(_)), "{verdict:?}");
    }

    #[test]
    fn structured_signature_headers_never_panic(
        ts in proptest::prelude::any::<i64>(),
        now in proptest::prelude::any::<i64>(),
        entries in proptest::collection::vec("(v1|v1a|V1|v2|)(,|)[A-Za-z0-9+/=,]{0,90}", 0..6),
    ) {
        let sig = entries.join(" ");
        let h = vec![("webhook-id", ID.to_string()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
        let v = verifier(&[SECRET, "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="]);
        let _ = v.verify("/", &h, BODY, now).reason();
    }
}

#[test]
fn digest_compare_notices_a_difference_at_every_position() {
    let expected: [u8; sign::V1_B64_LEN] = *b"g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert!(bool::from(ct_eq_digest(&expected, &expected)));
    for i in 0..expected.len() {
        let mut other = expected;
        other[i] ^= 1;
        assert!(!bool::from(ct_eq_digest(&expected, &other)), "byte {i}");
    }
    assert!(!bool::from(ct_eq_digest(&expected, &expected[..43])));
    assert!(!bool::from(ct_eq_digest(&expected, b"")));
}

#[test]
fn headers_are_found_in_any_case_with_svix_first_and_repeats_counted() {
    let headers = [
        ("Webhook-Id", "msg_w"),
        ("SVIX-ID", "msg_s"),
        ("svix-id", "msg_s2"),
        ("webhook-timestamp", "1"),
        ("x-other", "v"),
        ("user-agent", "ua"),       // the length of webhook-id
        ("Svix-Signature", "v1,x"), // the length of svix-timestamp too
    ];
    let [id, ts, sig] = find_parts(&headers);
    let id = id.unwrap();
    assert_eq!((id.name, id.value, id.count), ("svix-id", &b"msg_s"[..], 2));
    assert_eq!(ts.unwrap().name, "webhook-timestamp");
    let sig = sig.unwrap();
    assert_eq!((sig.name, sig.value), ("svix-signature", &b"v1,x"[..]));
}

#[test]
fn a_lower_case_post_is_told_that_methods_are_case_sensitive() {
    let said = |m: &str| {
        Unchecked::NotPost {
            method: m.to_string(),
        }
        .to_string()
    };
    assert_eq!(
        said("post"),
        "post request: methods are case-sensitive and webhooks are POSTs, answered 405"
    );
    assert_eq!(said("GET"), "GET request: webhooks are POSTs, answered 405");
}

#[test]
fn a_signer_that_keyed_with_the_secrets_text_or_wrote_hex_is_told_so() {
    let key = STANDARD.decode(&SECRET[6..]).unwrap();
    let v = verifier(&[SECRET]);
    let by = |key: &[u8]| sign::sign_v1(key, ID, TS, BODY);
    // The whole `whsec_…` string as the key, then the base64 part undecoded.
    for (text, words) in [
        (SECRET, "`whsec_` and all, as the HMAC key"),
        (
            &SECRET[6..],
            "the base64 text of whsec_MfKQ…aSw as the HMAC key, undecoded",
        ),
    ] {
        let f = failure(v.verify("/", &headers(&by(text.as_bytes())), BODY, TS));
        let said = f.kind.to_string();
        assert!(said.contains(words), "{said}");
    }
    // The right HMAC written in a form the spec does not use: named as such, not as "has no
    // comma" or "decodes to 48 bytes".
    let b64 = &by(&key)["v1,".len()..];
    let hex = STANDARD
        .decode(b64)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    for (header, words) in [
        (
            format!("v1,{hex}"),
            "signature entry 1 is the right HMAC, written in hex",
        ),
        (
            hex.clone(),
            "signature entry 1 is the right HMAC, written bare and in hex",
        ),
        (
            format!("v1={b64}"),
            "signature entry 1 is the right HMAC, written as `v1=…`",
        ),
        (
            format!("sha256={b64}"),
            "signature entry 1 is the right HMAC, written as `sha256=…`",
        ),
        (
            b64.to_string(),
            "signature entry 1 is the right HMAC, written bare, without `v1,`",
        ),
        (
            format!("v1,wrong v1, {b64}"),
            "signature entry 2 is the right HMAC, written with a space after `v1,`",
        ),
        (
            format!("t={TS},v1={b64}"),
            "signature entry 1 is the right HMAC, written in Stripe's `t=…,v1=…` form",
        ),
    ] {
        let f = failure(v.verify("/", &headers(&header), BODY, TS));
        let all = format!("{} | {}", f.kind, f.hints.join(" | "));
        assert!(all.contains(words), "{header}: {all}");
        assert!(
            !all.contains("48 bytes") && !all.contains("has no comma"),
            "{header}: {all}"
        );
        assert_eq!(
            all.matches("is the right HMAC").count(),
            1,
            "{header}: {all}"
        );
    }
    // URL-safe base64 (Node's digest('base64url')), with its `=` or without.
    // A body whose signature holds `+` or `/`, so that its URL-safe form differs.
    let (body, b64) = (0u32..)
        .map(|n| format!(r#"{{"n":{n}}}"#).into_bytes())
        .map(|body| {
            let sig = sign::sign_v1(&key, ID, TS, &body);
            (body, sig["v1,".len()..].to_string())
        })
        .find(|(_, b)| b.contains('+') && b.contains('/'))
        .unwrap();
    let url = b64.replace('+', "-").replace('/', "_");
    for (header, words) in [
        (
            format!("v1,{url}"),
            "signature entry 1 is the right HMAC, written in base64url (`-` and `_`)",
        ),
        (
            format!("v1,{}", url.trim_end_matches('=')),
            "signature entry 1 is the right HMAC, written in base64url (`-` and `_`) without its `=`",
        ),
    ] {
        let f = failure(v.verify("/", &headers(&header), &body, TS));
        let all = format!("{} | {}", f.kind, f.hints.join(" | "));
        assert!(all.contains(words), "{header}: {all}");
        assert!(!all.contains("malformed"), "{header}: {all}");
        assert_eq!(
            all.matches("is the right HMAC").count(),
            1,
            "{header}: {all}"
        );
    }
    // A wrong secret is still just that.
    let f = failure(v.verify("/", &headers(&by(b"another key entirely")), BODY, TS));
    assert!(report_of(&f).findings.is_empty(), "{f:?}");
}

fn report_of(f: &Failure) -> &SignatureReport {
    match &f.kind {
        FailureKind::BadSignature(r) => r,
        other => panic!("expected bad_signature, got {other:?}"),
    }
}

proptest::proptest! {
    /// Whatever a signature header holds, looking for misformed signatures in it never panics,
    /// and what it would say about them is safe for a terminal.
    #[test]
    fn reading_misformed_signatures_never_panics(
        value in proptest::collection::vec(
            proptest::sample::select(b"v1,=t sha256abcdef0123456789+/=\x1b\xff".to_vec()),
            0..200,
        )
    ) {
        for (position, form, candidate) in misformed(&value) {
            proptest::prop_assert!(position >= 1);
            proptest::prop_assert!(!form.chars().any(crate::sanitize::is_unsafe), "{form}");
            proptest::prop_assert_eq!(candidate.len(), sign::V1_B64_LEN);
        }
    }
}

#[test]
fn compact_json_signed_and_formatted_json_sent_is_named() {
    let v = verifier(&[SECRET]);
    let key = STANDARD.decode(&SECRET[6..]).unwrap();
    let compact = br#"{"type":"a b","data":{"q":"say \"hi\"","n":[1,2]}}"#;
    let pretty = b"{\n  \"type\": \"a b\",\n  \"data\": {\n    \"q\": \"say \\\"hi\\\"\",\n    \"n\": [1, 2]\n  }\n}\n";
    let sig = sign::sign_v1(&key, ID, TS, compact);
    let f = failure(v.verify("/", &headers(&sig), pretty, TS));
    assert!(
        f.kind
            .to_string()
            .contains("the signature matches this JSON without its whitespace"),
        "{}",
        f.kind
    );
    // Whitespace inside strings is kept: a body whose strings differ is not "reformatted".
    let other =
        b"{\n  \"type\": \"ab\",\n  \"data\": {\"q\": \"say \\\"hi\\\"\", \"n\": [1, 2]}\n}";
    let f = failure(v.verify("/", &headers(&sig), other, TS));
    assert!(
        !f.kind.to_string().contains("without its whitespace"),
        "{}",
        f.kind
    );
    assert_eq!(without_json_whitespace(compact), None, "nothing to remove");
    assert_eq!(without_json_whitespace(b"not json at all"), None);
    assert_eq!(
        without_json_whitespace(pretty).as_deref(),
        Some(&compact[..])
    );
}

#[test]
fn json_signed_in_another_layout_than_sent_names_the_layout() {
    use crate::relayout::{Style, relayout};
    let v = verifier(&[SECRET]);
    let key = STANDARD.decode(&SECRET[6..]).unwrap();
    let compact = br#"{"type":"a.b","data":{"q":"x, y: z","n":[1,2],"e":{}}}"#;
    let said = |signed: &[u8], sent: &[u8]| {
        let sig = sign::sign_v1(&key, ID, TS, signed);
        failure(v.verify("/", &headers(&sig), sent, TS))
            .kind
            .to_string()
    };
    // A sender that signed JSON.stringify(v, null, 2) and sent JSON.stringify(v).
    let pretty = relayout(
        compact,
        Style::Indented {
            spaces: 2,
            newline: false,
        },
    );
    let f = said(&pretty, compact);
    assert!(
        f.contains("the signature matches this JSON laid out indented by 2 spaces (as JSON.stringify(v, null, 2) or json.dumps(v, indent=2) write it): it was serialised once to sign and again, another way, to send"),
        "{f}"
    );
    // Signed json.dumps(v) (Python's default separators), sent compact.
    let f = said(&relayout(compact, Style::Spaced), compact);
    assert!(
        f.contains(
            "laid out with a space after each `,` and `:` (as Python's json.dumps writes it)"
        ),
        "{f}"
    );
    // Signed with four spaces and a final newline, sent as Python writes it.
    let four = relayout(
        compact,
        Style::Indented {
            spaces: 4,
            newline: true,
        },
    );
    let f = said(&four, &relayout(compact, Style::Spaced));
    assert!(
        f.contains("laid out indented by 4 spaces, with a final newline (as"),
        "{f}"
    );
    // Compact signed keeps its own words; other tokens are another body, not another layout.
    let f = said(compact, &relayout(compact, Style::Spaced));
    assert!(
        f.contains("without its whitespace: compact JSON was signed"),
        "{f}"
    );
    assert!(!f.contains("laid out"), "{f}");
    let f = said(
        &pretty,
        br#"{"type":"a.b","data":{"q":"x,y:z","n":[1,2],"e":{}}}"#,
    );
    assert!(!f.contains("laid out"), "{f}");
    // Not JSON, or past the size tried: no layout is guessed.
    let f = said(b"a, b: c", b"a,b:c");
    assert!(!f.contains("laid out"), "{f}");
    let big = format!(
        r#"{{"pad":"{}","n":[1,2]}}"#,
        "x".repeat(LAYOUTS_TRIED_UP_TO)
    );
    let f = said(&relayout(big.as_bytes(), Style::Spaced), big.as_bytes());
    assert!(!f.contains("laid out"), "{f}");
    // What the store keeps reads back the same.
    let finding = Finding::SignedLaidOut {
        style: Style::Indented {
            spaces: 2,
            newline: true,
        },
    };
    let json = serde_json::to_string(&finding).unwrap();
    assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), finding);
}

proptest::proptest! {
    /// Any JSON serde pretty-prints comes back, without its whitespace, as serde's compact form:
    /// what a sender signs with `JSON.stringify` is what the check above reconstructs.
    #[test]
    fn json_without_whitespace_is_the_compact_form(value in json()) {
        let compact = serde_json::to_vec(&value).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let stripped = without_json_whitespace(&pretty).unwrap_or(pretty);
        proptest::prop_assert_eq!(stripped, compact);
    }
}

fn json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[ a\"\\\\\n\t{}\\[\\],:é]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[ a\"k:{]{0,6}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn a_signature_over_other_content_says_what_it_covers() {
    let v = verifier(&[SECRET]);
    let key = STANDARD.decode(&SECRET[6..]).unwrap();
    let body = br#"{"id":"evt_42","type":"a.b"}"#;
    let ts = TS.to_string();
    let signed = |parts: &[&[u8]]| {
        let d = sign::digest_b64_of(sign::keyed(&key), parts);
        format!("v1,{}", String::from_utf8_lossy(&d))
    };
    for (parts, words) in [
        (
            vec![ts.as_bytes(), b".", &body[..]],
            "covers `{timestamp}.{body}`, without the message id (as Stripe signs)",
        ),
        (vec![&body[..]], "covers the body alone"),
        (
            vec![b"evt_42", b".", ts.as_bytes(), b".", &body[..]],
            "covers the payload's `id` in place of the message id header's",
        ),
        (
            vec![ID.as_bytes(), b".", ts.as_bytes(), b".", b"[object Object]"],
            "covers `[object Object]` in place of the body: the signer put a JavaScript object into the string it signed, not the JSON text it sent",
        ),
    ] {
        let f = failure(v.verify("/", &headers(&signed(&parts)), body, TS));
        let said = f.kind.to_string();
        assert!(said.contains(words), "{said}");
        // Where the content is another scheme's, the scheme's own is named.
        assert_eq!(
            said.contains("Standard Webhooks signs `{id}.{timestamp}.{body}`"),
            !words.contains("[object Object]"),
            "{said}"
        );
    }
    // The scheme's own content still verifies; a wrong key is still only that.
    let right = signed(&[ID.as_bytes(), b".", ts.as_bytes(), b".", &body[..]]);
    assert!(matches!(
        v.verify("/", &headers(&right), body, TS),
        Verdict::Verified(_)
    ));
    let f = failure(v.verify(
        "/",
        &headers(&sign::sign_v1(b"other key", ID, TS, body)),
        body,
        TS,
    ));
    assert!(report_of(&f).findings.is_empty(), "{f:?}");
}
