//! `cargo xtask web`: everything the server serves from `dist/` (config `web_dir`):
//!
//! ```text
//! dist/index.html              the one unhashed page: the server sends it `no-cache`
//! dist/assets/app-<hash>/      the Leptos app (app.js, app_bg.wasm, wasm-bindgen snippets,
//!                              the page chunks and their loader __wasm_split.js)
//! dist/assets/keygen-<hash>/   the keygen package's runtime files, imported when a page needs them
//! dist/assets/style-<hash>.css, boot-<hash>.js, unsupported-<hash>.js
//! dist/keygen/                 the keygen npm package at its stable path (other portals, tests,
//!                              `trunk serve`)
//! ```
//!
//! Every name under `assets/` carries a digest of its content (a directory's digest covers
//! all its files), so the server marks them `immutable`, and each has a `.br` and a `.gz`
//! made here. `index.html` is written last and only refers to files already in place: a
//! browser sees either the old page with the old files (which stay) or the new page with
//! the new files, never a mix. This is the only place file names and hashes are made; the
//! `trunk serve` dev loop (Trunk.toml) builds the same `app/shell/index.html` unhashed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Options, compress, keygen, paths, report, split, wasm};

/// The directory of content-addressed files, `/assets/` on the server.
pub const ASSETS: &str = "assets";
/// The keygen package's files a browser loads (the npm metadata stays in `dist/keygen`).
const KEYGEN_RUNTIME: &[&str] = &[
    "index.js",
    "worker.js",
    "vault.js",
    "wasm_keygen.js",
    "wasm_keygen_bg.wasm",
];
/// Cargo profile of the app (Cargo.toml): like the keygen's, but optimised for size.
const APP_PROFILE: &str = "wasm-app";
/// What wasm-bindgen writes for the app (besides `snippets/`).
const APP_FILES: &[&str] = &["app.js", "app_bg.wasm"];

pub fn run(o: &Options) -> Result<()> {
    let dist = o.out.clone().unwrap_or_else(|| paths::root().join("dist"));
    let keygen_dir = dist.join("keygen");
    keygen::run(&Options {
        out: Some(keygen_dir.clone()),
        bench: o.bench,
        wasm_opt: o.wasm_opt,
    })?;
    let assets = dist.join(ASSETS);
    let keygen_url = publish_dir(&keygen_dir, KEYGEN_RUNTIME, &assets, "keygen")?;

    let staging = paths::target_dir()?.join("xtask-web/app");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let wasm = cargo_build_app()?;
    let (main, chunks) = split::run(
        &wasm,
        &staging,
        &paths::target_dir()?.join("xtask-web/split"),
    )?;
    wasm::bindgen_split_main(&main, "app", &staging)?;
    if o.wasm_opt {
        wasm::optimize(&staging.join("app_bg.wasm"), "-Oz")?;
        for c in &chunks {
            wasm::optimize(c, "-Oz")?;
        }
    }
    let app_files = files_under(&staging)?;
    let app_names: Vec<&str> = app_files.iter().map(String::as_str).collect();
    let app_url = publish_dir(&staging, &app_names, &assets, "app")?;

    let shell_dir = paths::root().join("app/shell");
    let shell = |f: &str| {
        std::fs::read_to_string(shell_dir.join(f))
            .with_context(|| format!("reading {}", shell_dir.join(f).display()))
    };
    let style_url = publish_file(
        &stylesheet(&paths::root().join("style"))?,
        &assets,
        "style",
        "css",
    )?;
    let boot = shell("boot.js")?
        .replace("__APP_JS__", &format!("{app_url}/app.js"))
        .replace("__APP_WASM__", &format!("{app_url}/app_bg.wasm"));
    let boot_url = publish_file(boot.as_bytes(), &assets, "boot", "js")?;
    let unsupported_url = publish_file(
        shell("unsupported.js")?.as_bytes(),
        &assets,
        "unsupported",
        "js",
    )?;
    compress::tree(&assets)?;
    compress::tree(&keygen_dir)?;

    let index = render_index(
        &shell("index.html")?,
        &Urls {
            style: &style_url,
            boot: &boot_url,
            unsupported: &unsupported_url,
            app: &app_url,
            keygen: &keygen_url,
        },
    )?;
    write_index(&dist, index.as_bytes())?;

    println!("app: {}", url_dir(&dist, &app_url).display());
    report::sizes(&url_dir(&dist, &app_url), APP_FILES)?;
    println!("page chunks and their loader (fetched when a page first opens):");
    let lazy: Vec<&str> = app_names
        .iter()
        .copied()
        .filter(|f| !APP_FILES.contains(f) && (f.ends_with(".wasm") || *f == "__wasm_split.js"))
        .collect();
    report::sizes(&url_dir(&dist, &app_url), &lazy)?;
    println!("keygen (loaded when a page needs it): {keygen_url}/index.js");
    report::sizes(&url_dir(&dist, &keygen_url), KEYGEN_RUNTIME)?;
    report::sizes(
        &dist,
        &[
            "index.html",
            &style_url[1..],
            &boot_url[1..],
            &unsupported_url[1..],
        ],
    )?;
    Ok(())
}

/// `cargo xtask style --out FILE`: the stylesheet alone (the `trunk serve` hook uses it).
pub fn style(out: &Path) -> Result<()> {
    let css = stylesheet(&paths::root().join("style"))?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, css).with_context(|| format!("writing {}", out.display()))
}

/// The hashed URLs `index.html` refers to.
struct Urls<'a> {
    style: &'a str,
    boot: &'a str,
    unsupported: &'a str,
    app: &'a str,
    keygen: &'a str,
}

/// The shell page for release: trunk's `data-trunk` lines dropped, the stylesheet and the
/// nomodule fallback pointed at their hashed names, and the loader added: the boot script,
/// preloads of the app's JS and wasm (fetched in parallel instead of one after the other)
/// and the keygen package's URL for the app's lazy import.
fn render_index(template: &str, u: &Urls) -> Result<String> {
    let mut html: String = template
        .lines()
        .filter(|l| !l.contains("data-trunk"))
        .map(|l| format!("{l}\n"))
        .collect();
    for (logical, hashed) in [("/style.css", u.style), ("/unsupported.js", u.unsupported)] {
        let quoted = format!("\"{logical}\"");
        if !html.contains(&quoted) {
            bail!("app/shell/index.html does not refer to {logical}");
        }
        html = html.replace(&quoted, &format!("\"{hashed}\""));
    }
    let head = format!(
        "<meta name=\"portal-keygen\" content=\"{keygen}/index.js\">\n\
         <link rel=\"modulepreload\" href=\"{app}/app.js\">\n\
         <link rel=\"preload\" href=\"{app}/app_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n\
         <script type=\"module\" src=\"{boot}\"></script>\n</head>",
        keygen = u.keygen,
        app = u.app,
        boot = u.boot,
    );
    if !html.contains("</head>") {
        bail!("app/shell/index.html has no </head>");
    }
    Ok(html.replacen("</head>", &head, 1))
}

/// Writes `index.html` (and its `.br`/`.gz`) by rename, compressed copies first, so a
/// request never sees a half-written page.
fn write_index(dist: &Path, html: &[u8]) -> Result<()> {
    let put = |name: &str, data: &[u8]| -> Result<()> {
        let tmp = dist.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, data)?;
        std::fs::rename(&tmp, dist.join(name))?;
        Ok(())
    };
    put("index.html.br", &compress::brotli(html)?)?;
    put("index.html.gz", &compress::gzip(html)?)?;
    put("index.html", html)
}

/// Puts `data` at `assets/<stem>-<hash>.<ext>` and returns its URL.
fn publish_file(data: &[u8], assets: &Path, stem: &str, ext: &str) -> Result<String> {
    let name = format!("{stem}-{}.{ext}", digest(&[data]));
    std::fs::create_dir_all(assets)?;
    let target = assets.join(&name);
    if !target.exists() {
        let tmp = assets.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, data)?;
        std::fs::rename(&tmp, &target)?;
    }
    Ok(format!("/{ASSETS}/{name}"))
}

/// Copies `files` (relative paths) of `from` to `assets/<stem>-<hash>/`, the hash covering
/// names and contents; returns the directory's URL. An existing directory of that name
/// already holds the same files.
fn publish_dir(from: &Path, files: &[&str], assets: &Path, stem: &str) -> Result<String> {
    let mut parts = Vec::new();
    for f in files {
        parts.push(f.as_bytes().to_vec());
        parts.push(std::fs::read(from.join(f)).with_context(|| format!("reading {f}"))?);
    }
    let name = format!(
        "{stem}-{}",
        digest(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
    );
    let target = assets.join(&name);
    if !target.exists() {
        let tmp = assets.join(format!(".{name}.tmp"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        for f in files {
            let dest = tmp.join(f);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::copy(from.join(f), &dest)
                .with_context(|| format!("copying {f} to {}", dest.display()))?;
        }
        std::fs::rename(&tmp, &target)?;
    }
    Ok(format!("/{ASSETS}/{name}"))
}

/// Relative paths of all files under `dir`, sorted.
fn files_under(dir: &Path) -> Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(base, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// The directory on disk of an `/assets/...` URL.
fn url_dir(dist: &Path, url: &str) -> PathBuf {
    dist.join(url.trim_start_matches('/'))
}

/// `cargo build -p app` for wasm32 with the `wasm-app` profile (opt-level "z" for every
/// crate) and Leptos' `erase_components`: type-erased components make the app's wasm about
/// a third smaller; `portal_split` makes the pages split points (app/src/pages/mod.rs), and
/// `--emit-relocs` keeps what the page splitter (`split`) reads.
/// Added with `--config`, which cargo appends to
/// the `[target.wasm32-unknown-unknown] rustflags` of .cargo/config.toml instead of
/// replacing them (RUSTFLAGS would).
fn cargo_build_app() -> Result<PathBuf> {
    println!(
        "cargo build -p app --target {} --profile {APP_PROFILE} (erase_components, portal_split)",
        wasm::TARGET,
    );
    let status = Command::new(paths::cargo())
        .args([
            "build",
            "-p",
            "app",
            "--lib",
            "--target",
            wasm::TARGET,
            "--profile",
            APP_PROFILE,
        ])
        .args([
            "--config",
            &format!(
                r#"target.{}.rustflags=["--cfg","erase_components","--cfg","portal_split","-C","link-args=--emit-relocs"]"#,
                wasm::TARGET
            ),
        ])
        .current_dir(paths::root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of app for {} failed", wasm::TARGET);
    }
    let wasm = paths::target_dir()?
        .join(wasm::TARGET)
        .join(APP_PROFILE)
        .join("app.wasm");
    if !wasm.is_file() {
        bail!("{} was not produced", wasm.display());
    }
    Ok(wasm)
}

/// All `style/*.css` concatenated in file-name order (so `00-base.css` comes first).
fn stylesheet(dir: &Path) -> Result<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "css"))
        .collect();
    files.sort();
    let mut css = Vec::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        css.extend_from_slice(format!("/* {} */\n", name.unwrap_or_default()).as_bytes());
        css.extend_from_slice(&std::fs::read(&f)?);
        css.push(b'\n');
    }
    Ok(css)
}

/// 16 hex digits of FNV-1a 64 over `parts` (each length-prefixed): a cache key that changes
/// with the content, not a security digest.
fn digest(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |data: &[u8]| {
        for b in data {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in parts {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URLS: Urls = Urls {
        style: "/assets/style-1.css",
        boot: "/assets/boot-2.js",
        unsupported: "/assets/unsupported-3.js",
        app: "/assets/app-4",
        keygen: "/assets/keygen-5",
    };

    #[test]
    fn the_shipped_shell_renders_with_hashed_names_only() -> Result<()> {
        let template = std::fs::read_to_string(paths::root().join("app/shell/index.html"))?;
        let html = render_index(&template, &URLS)?;
        assert!(!html.contains("data-trunk"), "{html}");
        for url in [
            "\"/assets/style-1.css\"",
            "\"/assets/boot-2.js\"",
            "\"/assets/unsupported-3.js\"",
            "\"/assets/app-4/app.js\"",
            "\"/assets/app-4/app_bg.wasm\"",
            "\"/assets/keygen-5/index.js\"",
        ] {
            assert!(html.contains(url), "{url} missing in {html}");
        }
        // Every script, stylesheet and preload points into /assets/.
        for attr in ["src=\"", "href=\""] {
            for (i, _) in html.match_indices(attr) {
                let rest = &html[i + attr.len()..];
                assert!(
                    rest.starts_with("/assets/"),
                    "unhashed reference: {}",
                    &rest[..40.min(rest.len())]
                );
            }
        }
        Ok(())
    }

    #[test]
    fn digest_changes_with_content_and_with_boundaries() {
        let d = |parts: &[&str]| digest(&parts.iter().map(|p| p.as_bytes()).collect::<Vec<_>>());
        assert_ne!(d(&["a"]), d(&["b"]));
        assert_ne!(d(&["ab", "c"]), d(&["a", "bc"]));
        assert_eq!(d(&["a"]).len(), 16);
    }
}
