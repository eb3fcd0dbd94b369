use super::*;

fn both() -> [Suite; 2] {
    [Suite::International, Suite::National]
}

#[test]
fn a_field_round_trips_under_each_suite_and_differs_every_time() {
    for suite in both() {
        let ring = KeyRing::generate(suite);
        let a = ring.seal_field("id_number", "50022919900101001X");
        let b = ring.seal_field("id_number", "50022919900101001X");
        assert!(a.starts_with("zx1:1:"), "{a}");
        assert_ne!(a, b, "random nonces: equal values do not show as equal");
        assert!(!a.contains("500229"));
        assert_eq!(
            ring.open_field("id_number", &a).as_deref(),
            Ok("50022919900101001X")
        );
    }
}

#[test]
fn a_value_moved_to_another_field_or_altered_does_not_open() {
    let ring = KeyRing::generate(Suite::National);
    let sealed = ring.seal_field("id_number", "13800000001");
    assert_eq!(
        ring.open_field("phone", &sealed),
        Err(CryptoError::Undecryptable(1))
    );
    let mut altered = sealed.clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap_or_default();
    assert!(ring.open_field("id_number", &altered).is_err());
    assert!(matches!(
        ring.open_field("id_number", "50022919900101001X"),
        Err(CryptoError::Malformed(_))
    ));
}

#[test]
fn another_key_ring_is_refused_and_its_key_check_differs() {
    let ring = KeyRing::generate(Suite::International);
    let other = KeyRing::generate(Suite::International);
    let sealed = ring.seal_field("phone", "13800000001");
    assert_eq!(
        other.open_field("phone", &sealed),
        Err(CryptoError::Undecryptable(1))
    );
    assert_ne!(ring.key_check(1), other.key_check(1));
    assert_ne!(ring.index_key_check(), other.index_key_check());
    assert_eq!(ring.key_check(2), None);
}

#[test]
fn rotation_keeps_old_values_readable_until_the_old_key_is_retired() {
    let mut ring = KeyRing::generate(Suite::National);
    let old = ring.seal_field("phone", "13800000001");
    assert_eq!(ring.add_data_key(), 2);
    let new = ring.seal_field("phone", "13800000001");
    assert_eq!(KeyRing::key_of(&old), Ok(1));
    assert_eq!(KeyRing::key_of(&new), Ok(2));
    assert_eq!(ring.open_field("phone", &old).as_deref(), Ok("13800000001"));
    assert!(ring.retire(2).is_err(), "the current key stays");
    ring.retire(1).unwrap_or_default();
    assert_eq!(
        ring.open_field("phone", &old),
        Err(CryptoError::UnknownKey(1))
    );
    assert_eq!(ring.open_field("phone", &new).as_deref(), Ok("13800000001"));
}

#[test]
fn the_blind_index_is_stable_per_ring_and_field() {
    let ring = KeyRing::generate(Suite::International);
    let a = ring.blind_index("id_number", "50022919900101001X");
    assert_eq!(a, ring.blind_index("id_number", "50022919900101001X"));
    assert_ne!(a, ring.blind_index("id_number", "500229199001010028"));
    assert_ne!(a, ring.blind_index("phone", "50022919900101001X"));
    assert_ne!(
        a,
        KeyRing::generate(Suite::International).blind_index("id_number", "50022919900101001X")
    );
    assert_eq!(a.len(), 2 * BLIND_INDEX_BYTES);
}

#[test]
fn the_key_file_round_trips_and_bad_files_say_what_is_wrong() {
    for suite in both() {
        let mut ring = KeyRing::generate(suite);
        ring.add_data_key();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("registry.keys");
        ring.save(&path).unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        let back = KeyRing::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.suite(), suite);
        assert_eq!(back.data_key_ids(), vec![1, 2]);
        let sealed = ring.seal_field("id_number", "x");
        assert_eq!(back.open_field("id_number", &sealed).as_deref(), Ok("x"));
        assert_eq!(back.key_check(1), ring.key_check(1));
    }
    let missing = KeyRing::load(Path::new("/nonexistent/registry.keys"));
    assert!(
        matches!(&missing, Err(CryptoError::KeyFile { reason, .. }) if reason.contains("does not exist")),
        "{missing:?}"
    );
    for (text, says) in [
        ("not json", "not a zhenxing key file"),
        (
            r#"{"format":"other","suite":"national","data_keys":{"1":"00"},"index_key":"00"}"#,
            "format",
        ),
        (
            r#"{"format":"zhenxing-keys/1","suite":"des","data_keys":{"1":"00"},"index_key":"00"}"#,
            "suite",
        ),
        (
            r#"{"format":"zhenxing-keys/1","suite":"national","data_keys":{},"index_key":"00"}"#,
            "no data key",
        ),
        (
            r#"{"format":"zhenxing-keys/1","suite":"national","data_keys":{"1":"00112233"},"index_key":"0011223344556677001122334455667700112233445566770011223344556677"}"#,
            "16 bytes",
        ),
    ] {
        let e = KeyRing::parse(text, "k.json")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says) && e.contains("k.json"), "{text}: {e}");
    }
}

#[test]
fn bytes_round_trip_and_name_their_key() {
    let ring = KeyRing::generate(Suite::National);
    let sealed = ring.seal_bytes("backup", b"SQLite format 3\0...");
    assert_eq!(&sealed[..4], &1u32.to_be_bytes());
    assert_eq!(
        ring.open_bytes("backup", &sealed).as_deref(),
        Ok(&b"SQLite format 3\0..."[..])
    );
    assert!(ring.open_bytes("archive", &sealed).is_err());
    assert!(ring.open_bytes("backup", &sealed[..10]).is_err());
}

/// Published test vectors: SM3 of "abc" (GB/T 32905-2016, appendix A) through the MAC
/// path's hash, and HMAC-SHA-256 of RFC 4231 case 2, so that the suites are the real ones.
#[test]
fn the_algorithms_are_the_standard_ones() {
    use hmac::Mac as _;
    use sm3::Digest as _;
    assert_eq!(
        hex::encode(sm3::Sm3::digest(b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    let mut m = <hmac::Hmac<sha2_for_hmac::Sha256> as hmac::KeyInit>::new_from_slice(b"Jefe")
        .unwrap_or_else(|e| panic!("{e}"));
    m.update(b"what do ya want for nothing?");
    assert_eq!(
        hex::encode(m.finalize().into_bytes()),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // SM4 block, GB/T 32907-2016 appendix A, example 1.
    use sm4::cipher::{BlockCipherEncrypt as _, KeyInit as _};
    let key = hex::decode("0123456789abcdeffedcba9876543210").unwrap_or_default();
    let cipher = sm4::Sm4::new_from_slice(&key).unwrap_or_else(|e| panic!("{e}"));
    let mut block =
        sm4::cipher::Block::<sm4::Sm4>::try_from(&key[..]).unwrap_or_else(|e| panic!("{e}"));
    cipher.encrypt_block(&mut block);
    assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
}
