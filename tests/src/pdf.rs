//! PDFs the gateway produced, read with poppler's tools as a person's viewer
//! would: their text, and their first page as a PNG to look at. Installed by
//! `scripts/test.sh` (poppler-utils); missing, they fail the test.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

fn tool(name: &str) -> anyhow::Result<std::process::Command> {
    let path = Path::new("/usr/bin").join(name);
    if !path.exists() {
        bail!("{name} is missing: run scripts/test.sh (it installs Debian's poppler-utils)");
    }
    Ok(std::process::Command::new(path))
}

/// Where tests leave the PDFs and pictures they make: `target/reports/`.
pub fn artifacts_dir() -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/reports");
    std::fs::create_dir_all(&dir).context("creating target/reports")?;
    Ok(dir)
}

/// The text of a PDF, in reading order.
pub fn text(pdf: &Path) -> anyhow::Result<String> {
    let out = tool("pdftotext")?
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .context("running pdftotext")?;
    if !out.status.success() {
        bail!("pdftotext {}: {}", pdf.display(), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first page as `<prefix>-1.png` beside the PDF; its path.
pub fn first_page_png(pdf: &Path, prefix: &Path) -> anyhow::Result<PathBuf> {
    let out = tool("pdftoppm")?
        .args(["-png", "-r", "80", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(prefix)
        .output()
        .context("running pdftoppm")?;
    if !out.status.success() {
        bail!("pdftoppm {}: {}", pdf.display(), String::from_utf8_lossy(&out.stderr));
    }
    let png = PathBuf::from(format!("{}-1.png", prefix.display()));
    if !png.exists() {
        bail!("pdftoppm wrote no {}", png.display());
    }
    Ok(png)
}
