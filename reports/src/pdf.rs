//! `report.pdf`: `report.html` printed by headless Chromium (issue 19: a
//! print-ready report with "page x of y" and the report number on every
//! page — the HTML's `@page` margin boxes carry both, Chromium lays them
//! out). No PDF crate: Chromium already renders the page the lab reviews,
//! so the PDF is that very page, and metrig's build stays light.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const PDF_FILE: &str = "report.pdf";

/// The browsers tried, in order, on `PATH` (or `METRIG_CHROMIUM`, a path).
pub const CHROMIUM_NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no Chromium to print report.pdf with: none of {names} is on PATH (install chromium, or set METRIG_CHROMIUM to its path)"
    )]
    NoChromium { names: String },
    #[error("{html}: not found; render the reports first (`metrig report DIR`)")]
    NoHtml { html: PathBuf },
    #[error("{browser}: could not print {html} to PDF: {message}")]
    Failed {
        browser: PathBuf,
        html: PathBuf,
        message: String,
    },
}

/// The Chromium binary: `METRIG_CHROMIUM` if set, else the first of
/// [`CHROMIUM_NAMES`] found on `PATH`.
pub fn find_chromium() -> Result<PathBuf, PdfError> {
    if let Some(p) = std::env::var_os("METRIG_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in CHROMIUM_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(PdfError::NoChromium {
        names: CHROMIUM_NAMES.join(", "),
    })
}

/// Prints `dir/report.html` to `dir/report.pdf`; the PDF's path.
pub fn print(dir: &Path) -> Result<PathBuf, PdfError> {
    let browser = find_chromium()?;
    let html = dir.join(crate::html::HTML_FILE);
    if !html.is_file() {
        return Err(PdfError::NoHtml { html });
    }
    let html = html.canonicalize().unwrap_or(html);
    let pdf = html.with_file_name(PDF_FILE);
    let failed = |message: String| PdfError::Failed {
        browser: browser.clone(),
        html: html.clone(),
        message,
    };
    // A throw-away profile: a second Chromium (the lab's own browser) must
    // not share a profile lock with this one.
    let profile = std::env::temp_dir().join(format!("metrig-chromium-{}", std::process::id()));
    let tmp = pdf.with_file_name(".report.pdf.tmp");
    let out = Command::new(&browser)
        .arg("--headless")
        .arg("--disable-gpu")
        .arg("--no-sandbox")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", tmp.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|e| failed(e.to_string()));
    let _ = std::fs::remove_dir_all(&profile);
    let out = out?;
    let ok = std::fs::metadata(&tmp).is_ok_and(|m| m.len() > 0);
    if !out.status.success() || !ok {
        let _ = std::fs::remove_file(&tmp);
        let err = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(failed(format!(
            "exit {}, no PDF written ({})",
            out.status,
            last.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    std::fs::rename(&tmp, &pdf).map_err(|e| failed(e.to_string()))?;
    Ok(pdf)
}
