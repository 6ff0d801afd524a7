//! Signed run folders: who produced a run, and proof that nothing in its
//! folder was edited since (issue 19, "Signed records"; ISO/IEC 17025 §7.5
//! and §7.11.3 ask that records be protected against unauthorised change,
//! §7.8.2.1 p that the report be authorised by a named person).
//!
//! `metrig sign DIR --key FILE` writes [`SIGNATURE_FILE`] into the run
//! folder: a manifest naming every file of the folder with its SHA-256 and
//! size, the signer's ed25519 public key and its fingerprint, and an ed25519
//! signature over that manifest. `metrig verify DIR [--key PUB]` hashes the
//! files again and names each one that differs, is missing, or was added.
//! The journal's hash chain already proves the record is the fold of the
//! journal; the signature binds the whole folder to a key.
//!
//! Key files are two lines of text, so that a lab can read and archive them:
//! a comment line and `ed25519-secret HEX` or `ed25519-public HEX` (32 bytes).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The detached signature file in a run folder.
pub const SIGNATURE_FILE: &str = "signature.json";

/// The manifest format; the signed bytes start with it, so a signature made
/// for another purpose with the same key cannot pass for a run's.
pub const FORMAT: &str = "metrig-signature/1";

const SECRET_TAG: &str = "ed25519-secret";
const PUBLIC_TAG: &str = "ed25519-public";

/// A key file is two short lines; anything much longer is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{path}: {why}")]
    KeyFile { path: String, why: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{dir}: {why}")]
    Refused { dir: String, why: String },
}

fn key_error(path: &Path, why: impl Into<String>) -> SignatureError {
    SignatureError::KeyFile {
        path: path.display().to_string(),
        why: why.into(),
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> SignatureError {
    SignatureError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// One signed file: its name in the run folder, SHA-256 and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What the signature covers. The signed bytes are [`FORMAT`], a newline
/// and this struct's compact JSON (field order fixed by the struct).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub run_id: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// `ed25519:` and the first 16 hex digits of the key's SHA-256.
    pub fingerprint: String,
    pub files: Vec<SignedFile>,
}

/// The content of [`SIGNATURE_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureFile {
    pub manifest: Manifest,
    /// The ed25519 signature over the manifest, hex (64 bytes).
    pub signature: String,
}

fn signed_bytes(m: &Manifest) -> Vec<u8> {
    let mut out = format!("{FORMAT}\n").into_bytes();
    // Serialising a struct of strings and integers cannot fail.
    out.extend(serde_json::to_vec(m).unwrap_or_default());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim();
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A key's short name, as the signature file, `verify`, `compare` and the
/// station page show it.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let h = Sha256::digest(key.as_bytes());
    format!("ed25519:{}", &hex(&h)[..16])
}

fn read_key_line(path: &Path, tag: &str, other: &str) -> Result<[u8; 32], SignatureError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_file() || meta.len() > MAX_KEY_FILE_BYTES {
        return Err(key_error(
            path,
            format!("not a metrig key file (a plain file of at most {MAX_KEY_FILE_BYTES} bytes)"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    let mut found = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (t, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if t == other {
            let want = if tag == PUBLIC_TAG {
                "public"
            } else {
                "secret"
            };
            return Err(key_error(
                path,
                format!(
                    "line {}: this is an `{other}` key; a {want} key (`{tag} HEX`) is needed here{}",
                    n + 1,
                    if tag == PUBLIC_TAG {
                        " — the public key is in the `.pub` file written beside it"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if t != tag {
            return Err(key_error(
                path,
                format!("line {}: expected `{tag} HEX`, found `{t}`", n + 1),
            ));
        }
        if found.is_some() {
            return Err(key_error(path, format!("line {}: a second key", n + 1)));
        }
        found = Some(unhex::<32>(value).ok_or_else(|| {
            key_error(
                path,
                format!(
                    "line {}: the key must be 64 hex digits (32 bytes), found {} characters",
                    n + 1,
                    value.trim().len()
                ),
            )
        })?);
    }
    found.ok_or_else(|| key_error(path, format!("no `{tag} HEX` line: not a metrig key file")))
}

/// Reads a secret key file written by [`generate_key`].
pub fn read_secret_key(path: &Path) -> Result<SigningKey, SignatureError> {
    read_key_line(path, SECRET_TAG, PUBLIC_TAG).map(|b| SigningKey::from_bytes(&b))
}

/// Reads a public key file (the `.pub` beside a secret key).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, SignatureError> {
    let bytes = read_key_line(path, PUBLIC_TAG, SECRET_TAG)?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| key_error(path, "the 32 bytes are not an ed25519 public key"))
}

/// The public key file written beside the secret key `path`.
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn create_new(path: &Path, text: &str, private: bool) -> Result<(), SignatureError> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            key_error(path, "exists already; a key is never overwritten")
        } else {
            io_error(path, e)
        }
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io_error(path, e))
}

/// Writes a new key pair: the secret key to `path` (mode 0600, never
/// overwriting) and the public key to `path.pub`. Returns the public key.
pub fn generate_key(path: &Path) -> Result<VerifyingKey, SignatureError> {
    // `rand`'s thread generator is a CSPRNG seeded from the OS.
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key();
    let fp = fingerprint(&public);
    let pub_path = public_key_path(path);
    if pub_path.exists() {
        return Err(key_error(
            &pub_path,
            "exists already; a key is never overwritten",
        ));
    }
    create_new(
        path,
        &format!(
            "# metrig signing key ({fp}): keep it private; `metrig sign DIR --key` reads it\n{SECRET_TAG} {}\n",
            hex(&seed)
        ),
        true,
    )?;
    create_new(
        &pub_path,
        &format!(
            "# metrig public key ({fp}): `metrig verify DIR --key` reads it\n{PUBLIC_TAG} {}\n",
            hex(public.as_bytes())
        ),
        false,
    )?;
    Ok(public)
}

fn hash_file(path: &Path) -> Result<(String, u64), SignatureError> {
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| io_error(path, e))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex(&h.finalize()), n))
}

/// The folder's files that a signature covers: every plain file but the
/// signature itself and hidden files (the run's `.metrig.lock`), by name.
/// Sub-folders are not part of a run.
fn folder_files(dir: &Path) -> Result<Vec<String>, SignatureError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_file && name != SIGNATURE_FILE && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Signs the run folder `dir` with `key`: writes [`SIGNATURE_FILE`] over
/// every file in it. The caller checks first that the folder is intact.
pub fn sign(dir: &Path, run_id: &str, key: &SigningKey) -> Result<SignatureFile, SignatureError> {
    let mut files = Vec::new();
    for name in folder_files(dir)? {
        let (sha256, bytes) = hash_file(&dir.join(&name))?;
        files.push(SignedFile {
            path: name,
            sha256,
            bytes,
        });
    }
    let public = key.verifying_key();
    let manifest = Manifest {
        format: FORMAT.to_string(),
        run_id: run_id.to_string(),
        public_key: hex(public.as_bytes()),
        fingerprint: fingerprint(&public),
        files,
    };
    let signature = hex(&key.sign(&signed_bytes(&manifest)).to_bytes());
    let file = SignatureFile {
        manifest,
        signature,
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| io_error(dir, e))?;
    crate::safe_write::write_file(dir, SIGNATURE_FILE, format!("{text}\n").as_bytes())
        .map_err(|message| io_error(&dir.join(SIGNATURE_FILE), message))?;
    Ok(file)
}

/// What a run folder's signature says.
#[derive(Debug, Clone, PartialEq)]
pub enum SignatureStatus {
    /// No [`SIGNATURE_FILE`].
    Unsigned,
    /// The signature holds over the manifest and every file matches it.
    /// `trusted`: the key is the one the caller gave, not only the one the
    /// file names.
    Valid {
        fingerprint: String,
        files: usize,
        trusted: bool,
        /// Files in the folder that were added after signing.
        unsigned_files: Vec<String>,
    },
    /// Something does not match; each entry names a file and what is wrong.
    Broken { problems: Vec<String> },
}

impl SignatureStatus {
    /// One word for tables: `signed`, `unsigned`, `BROKEN`.
    pub fn word(&self) -> &'static str {
        match self {
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::Valid { .. } => "signed",
            SignatureStatus::Broken { .. } => "BROKEN",
        }
    }

    /// A short phrase for `compare` and the station page's tables.
    pub fn summary(&self) -> String {
        match self {
            SignatureStatus::Unsigned => "unsigned".into(),
            SignatureStatus::Valid { fingerprint, .. } => {
                format!("signed by {fingerprint}, valid")
            }
            SignatureStatus::Broken { problems } => {
                format!("signature BROKEN: {}", problems.join("; "))
            }
        }
    }

    /// A line for `verify`.
    pub fn describe(&self) -> String {
        match self {
            SignatureStatus::Unsigned => "unsigned (`metrig sign DIR --key FILE` signs it)".into(),
            SignatureStatus::Valid {
                fingerprint,
                files,
                trusted,
                unsigned_files,
            } => {
                let mut s = format!(
                    "signed by {fingerprint}, {files} files match{}",
                    if *trusted {
                        ", the key given"
                    } else {
                        " (key not checked against a trusted one: pass --key PUB)"
                    }
                );
                if !unsigned_files.is_empty() {
                    s.push_str(&format!(
                        "; added after signing, not covered: {}",
                        unsigned_files.join(", ")
                    ));
                }
                s
            }
            SignatureStatus::Broken { problems } => problems.join("; "),
        }
    }
}

/// Checks the signature of run folder `dir`: the signature over its
/// manifest, against `trusted` when given, then every file's hash.
pub fn check(dir: &Path, trusted: Option<&VerifyingKey>) -> SignatureStatus {
    let path = dir.join(SIGNATURE_FILE);
    let broken = |why: String| SignatureStatus::Broken {
        problems: vec![why],
    };
    let text = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return SignatureStatus::Unsigned,
        Err(e) => return broken(format!("{}: {e}", path.display())),
        Ok(t) => t,
    };
    let file: SignatureFile = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            return broken(format!(
                "{}: not a metrig signature file: {e}",
                path.display()
            ));
        }
    };
    let m = &file.manifest;
    if m.format != FORMAT {
        return broken(format!(
            "{}: format `{}`, this metrig reads `{FORMAT}`",
            path.display(),
            m.format
        ));
    }
    let Some(key) = unhex::<32>(&m.public_key).and_then(|b| VerifyingKey::from_bytes(&b).ok())
    else {
        return broken(format!(
            "{}: public_key is not an ed25519 key",
            path.display()
        ));
    };
    if let Some(t) = trusted
        && t != &key
    {
        return broken(format!(
            "{}: signed by {}, not by the key given ({})",
            path.display(),
            fingerprint(&key),
            fingerprint(t)
        ));
    }
    let Some(sig) = unhex::<64>(&file.signature).map(|b| Signature::from_bytes(&b)) else {
        return broken(format!(
            "{}: signature is not 64 bytes of hex",
            path.display()
        ));
    };
    if key.verify_strict(&signed_bytes(m), &sig).is_err() || m.fingerprint != fingerprint(&key) {
        return broken(format!(
            "{}: the signature does not match its manifest (the manifest was edited)",
            path.display()
        ));
    }
    let mut problems = Vec::new();
    for f in &m.files {
        // A manifest names files of this folder only: no paths out of it.
        if f.path.contains(['/', '\\']) || f.path == ".." || f.path == "." {
            problems.push(format!("{}: not a file of the run folder", f.path));
            continue;
        }
        let p = dir.join(&f.path);
        match hash_file(&p) {
            Err(_) if !p.exists() => problems.push(format!(
                "{}: missing (signed with sha256 {})",
                p.display(),
                &f.sha256[..12.min(f.sha256.len())]
            )),
            Err(e) => problems.push(e.to_string()),
            Ok((h, _)) if h != f.sha256 => problems.push(format!(
                "{}: sha256 {}, signed as {} (changed after signing)",
                p.display(),
                &h[..12],
                &f.sha256[..12.min(f.sha256.len())]
            )),
            Ok(_) => {}
        }
    }
    if !problems.is_empty() {
        return SignatureStatus::Broken { problems };
    }
    let unsigned_files = folder_files(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !m.files.iter().any(|f| &f.path == n))
        .collect();
    SignatureStatus::Valid {
        fingerprint: m.fingerprint.clone(),
        files: m.files.len(),
        trusted: trusted.is_some(),
        unsigned_files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempfile::TempDir, SigningKey) {
        let d = tempfile::tempdir().expect("test set-up");
        std::fs::write(d.path().join("record.json"), "{\"a\": 1}\n").expect("test set-up");
        std::fs::write(d.path().join("report.html"), "<p>ok</p>").expect("test set-up");
        generate_key(&d.path().join("k")).expect("test set-up");
        let sk = read_secret_key(&d.path().join("k")).expect("test set-up");
        // The key files are not part of a run: keep them out of it.
        let run = d.path().join("run");
        std::fs::create_dir(&run).expect("test set-up");
        for f in ["record.json", "report.html"] {
            std::fs::rename(d.path().join(f), run.join(f)).expect("test set-up");
        }
        (d, sk)
    }

    #[test]
    fn a_signed_folder_verifies_and_one_edited_character_names_the_file() {
        let (d, sk) = folder();
        let run = d.path().join("run");
        sign(&run, "r1", &sk).expect("test set-up");
        let pk = read_public_key(&d.path().join("k.pub")).expect("test set-up");
        assert!(matches!(
            check(&run, Some(&pk)),
            SignatureStatus::Valid {
                files: 2,
                trusted: true,
                ..
            }
        ));
        std::fs::write(run.join("record.json"), "{\"a\": 2}\n").expect("test set-up");
        let SignatureStatus::Broken { problems } = check(&run, Some(&pk)) else {
            panic!("an edited record must break the signature")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("record.json"), "{problems:?}");
    }

    #[test]
    fn another_key_is_refused_and_an_edited_manifest_is_caught() {
        let (d, sk) = folder();
        let run = d.path().join("run");
        sign(&run, "r1", &sk).expect("test set-up");
        let other = generate_key(&d.path().join("other")).expect("test set-up");
        let s = check(&run, Some(&other));
        assert!(s.describe().contains("not by the key given"), "{s:?}");
        // Re-hash a file in the manifest without the key: the signature fails.
        std::fs::write(run.join("report.html"), "<p>edited</p>").expect("test set-up");
        let text = std::fs::read_to_string(run.join(SIGNATURE_FILE)).expect("test set-up");
        let mut f: SignatureFile = serde_json::from_str(&text).expect("test set-up");
        let (h, n) = hash_file(&run.join("report.html")).expect("test set-up");
        let e = f
            .manifest
            .files
            .iter_mut()
            .find(|x| x.path == "report.html")
            .expect("test set-up");
        e.sha256 = h;
        e.bytes = n;
        std::fs::write(
            run.join(SIGNATURE_FILE),
            serde_json::to_string(&f).expect("test set-up"),
        )
        .expect("test set-up");
        assert!(check(&run, None).describe().contains("manifest was edited"));
    }

    #[test]
    fn key_files_are_checked_with_file_and_reason() {
        let d = tempfile::tempdir().expect("test set-up");
        let k = d.path().join("k");
        generate_key(&k).expect("test set-up");
        let again = generate_key(&k).expect_err("refused").to_string();
        assert!(again.contains("never overwritten"), "{again}");
        let wrong = read_public_key(&k).expect_err("refused").to_string();
        assert!(
            wrong.contains("k: line 2") && wrong.contains(".pub"),
            "{wrong}"
        );
        let bad = d.path().join("bad");
        std::fs::write(&bad, "ed25519-public 12ab\n").expect("test set-up");
        let e = read_public_key(&bad).expect_err("refused").to_string();
        assert!(
            e.contains("bad: line 1") && e.contains("64 hex digits"),
            "{e}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&k)
                .expect("test set-up")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_unsigned_folder_says_so() {
        let d = tempfile::tempdir().expect("test set-up");
        assert_eq!(check(d.path(), None), SignatureStatus::Unsigned);
    }
}
