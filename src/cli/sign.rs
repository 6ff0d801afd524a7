//! `metrig sign DIR --key FILE`: signs a finished, intact run folder with an
//! ed25519 key (`reports::signature`); `metrig sign --new-key FILE` makes a
//! key pair. `metrig verify DIR --key PUB` checks the signature.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reports::signature::{self, SIGNATURE_FILE};

use super::{EXIT_OK, usage};

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The run folder to sign.
    #[arg(required_unless_present = "new_key", conflicts_with = "new_key")]
    dir: Option<PathBuf>,
    /// The secret key file (written by `metrig sign --new-key FILE`).
    #[arg(long, required_unless_present = "new_key", conflicts_with = "new_key")]
    key: Option<PathBuf>,
    /// Write a new key pair: the secret key to FILE (mode 0600) and the
    /// public key to FILE.pub; an existing file is never overwritten.
    #[arg(long, value_name = "FILE")]
    new_key: Option<PathBuf>,
}

pub fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = args.new_key {
        let public = signature::generate_key(&path).map_err(|e| usage(e.to_string()))?;
        say!(
            "{}: secret key (keep it private)\n{}: public key {}",
            path.display(),
            signature::public_key_path(&path).display(),
            signature::fingerprint(&public)
        )?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    let (Some(dir), Some(key)) = (args.dir, args.key) else {
        return Err(usage("sign needs DIR and --key FILE, or --new-key FILE"));
    };
    sign(&dir, &key)
}

fn sign(dir: &Path, key: &Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        return Err(usage(format!("{}: not a run folder", dir.display())));
    }
    let key = signature::read_secret_key(key).map_err(|e| usage(e.to_string()))?;
    let sig_path = dir.join(SIGNATURE_FILE);
    if sig_path.exists() {
        return Err(usage(format!(
            "{}: the run is signed already ({}); remove the file to sign it again",
            sig_path.display(),
            signature::check(dir, None).describe()
        )));
    }
    // Only what `verify` finds intact is signed: a signature must not
    // vouch for an edited record or report.
    let v = reports::integrity::verify(dir);
    let broken: Vec<String> = v
        .checks
        .iter()
        .filter(|c| c.intact == Some(false))
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if !broken.is_empty() {
        return Err(usage(format!(
            "{}: not signed, the folder is not intact ({})",
            dir.display(),
            broken.join("; ")
        )));
    }
    let record = reports::integrity::trusted_record(dir)?;
    if record.status == reports::RecordStatus::Unfinished {
        return Err(usage(format!(
            "{}: not signed, the run is unfinished (no record of its end); `metrig report` or `--resume` first",
            dir.display()
        )));
    }
    let file = signature::sign(dir, &record.run_id, &key)?;
    say!(
        "{}: {} files signed by {}",
        sig_path.display(),
        file.manifest.files.len(),
        file.manifest.fingerprint
    )?;
    for f in &file.manifest.files {
        say!("  {}  {}", &f.sha256[..16], f.path)?;
    }
    Ok(ExitCode::from(EXIT_OK))
}
