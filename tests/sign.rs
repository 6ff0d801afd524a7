//! Signed run folders (issue 19, "Signed records"): a real sim run signed
//! with `metrig sign`, then `metrig verify --key`: a good folder passes; one
//! character edited in its record fails naming `record.json`; another key
//! fails naming both keys; `compare` says which run is signed.

mod common;
use common::{copy_dir, gate_run, metrig, s};

/// The line of `verify`'s output for one check.
fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(check))
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{out}"))
}

#[test]
fn a_signed_run_verifies_and_an_edited_character_or_another_key_fails() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = tmp.path().join("run");
    let (code, _, err) = gate_run(&run, "off");
    assert!(matches!(code, 0 | 1), "the sim run failed: {err}");
    let unsigned = tmp.path().join("unsigned");
    copy_dir(&run, &unsigned);

    let key = tmp.path().join("lab.key");
    let (code, out, err) = metrig(&["sign", "--new-key", s(&key)]);
    assert_eq!(code, 0, "{out}{err}");
    let public = tmp.path().join("lab.key.pub");
    assert!(public.is_file(), "{out}");
    // A second key with the same name is refused: keys are never overwritten.
    let (code, _, err) = metrig(&["sign", "--new-key", s(&key)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("never overwritten"), "{err}");

    // A secret key where a public one is wanted, and the reverse: refused,
    // naming the file.
    let (code, _, err) = metrig(&["sign", s(&run), "--key", s(&public)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("lab.key.pub") && err.contains("secret key"),
        "{err}"
    );

    let (code, out, err) = metrig(&["sign", s(&run), "--key", s(&key)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("record.json") && out.contains("report.html"),
        "{out}"
    );

    // Good: every check holds, the signature by the key given.
    let (code, out, _) = metrig(&["verify", s(&run), "--key", s(&public)]);
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "signature").starts_with("ok"), "{out}");
    assert!(line(&out, "signature").contains("the key given"), "{out}");

    // One character of the record edited: `verify` fails and names the file.
    let edited = tmp.path().join("edited");
    copy_dir(&run, &edited);
    let rec = edited.join("record.json");
    let text = std::fs::read_to_string(&rec).expect("record");
    let at = text.find("\"run_id\": \"").expect("run_id in record") + 11;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(&rec, bytes).expect("record edited");
    let (code, out, _) = metrig(&["verify", s(&edited), "--key", s(&public)]);
    assert_eq!(code, 5, "{out}");
    let sig = line(&out, "signature");
    assert!(sig.starts_with("BROKEN"), "{out}");
    assert!(
        sig.contains("record.json") && sig.contains("changed after signing"),
        "{out}"
    );
    assert!(
        !sig.contains("report.html"),
        "only the edited file is named: {out}"
    );

    // Another key: refused, naming both fingerprints.
    let other = tmp.path().join("other.key");
    assert_eq!(metrig(&["sign", "--new-key", s(&other)]).0, 0);
    let (code, out, _) = metrig(&[
        "verify",
        s(&run),
        "--key",
        s(&tmp.path().join("other.key.pub")),
    ]);
    assert_eq!(code, 5, "{out}");
    assert!(
        line(&out, "signature").contains("not by the key given"),
        "{out}"
    );

    // An unsigned run is intact without --key, not with it.
    let (code, out, _) = metrig(&["verify", s(&unsigned)]);
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "signature").contains("unsigned"), "{out}");
    let (code, out, _) = metrig(&["verify", s(&unsigned), "--key", s(&public)]);
    assert_eq!(code, 5, "{out}");

    // `compare` says which run is signed and whether it holds.
    let (_, out, err) = metrig(&["compare", s(&unsigned), s(&run)]);
    let sig = line(&out, "signature baseline");
    assert!(
        sig.contains("baseline: unsigned") && sig.contains("candidate: signed by ed25519:"),
        "{out}{err}"
    );

    // A folder that is not intact is not signed.
    let (code, _, err) = metrig(&["sign", s(&edited), "--key", s(&key)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("signed already"), "{err}");
    std::fs::remove_file(edited.join("signature.json")).expect("signature removed");
    let (code, _, err) = metrig(&["sign", s(&edited), "--key", s(&key)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not intact") && err.contains("record.json"),
        "{err}"
    );
}
