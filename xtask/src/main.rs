//! `cargo xtask <command>`: builds the browser bundles into `dist/`.
//!
//! * `keygen [--out DIR] [--bench] [--no-wasm-opt]`: the keygen npm package (default `dist/keygen`);
//!   `--bench` adds the benchmark page in `DIR/../bench`.
//! * `web [--out DIR] [--bench] [--no-wasm-opt]`: everything the server serves (default `dist`):
//!   `index.html`, the content-hashed `assets/` (app, keygen, shell, stylesheet) with their
//!   `.br`/`.gz`, and `keygen/` (see `web.rs`).
//! * `style --out FILE`: the concatenated stylesheet alone (used by `trunk serve`, Trunk.toml).

mod compress;
mod keygen;
mod paths;
mod report;
mod split;
mod wasm;
mod web;

use std::path::PathBuf;

use anyhow::{Result, bail};

const USAGE: &str = "usage:
  cargo xtask keygen [--out DIR] [--bench] [--no-wasm-opt]   build the keygen package (default dist/keygen)
  cargo xtask web    [--out DIR] [--bench] [--no-wasm-opt]   build dist/ (keygen + app)
  cargo xtask style  --out FILE                            write the stylesheet (for trunk serve)";

/// Options shared by the build commands.
#[derive(Debug, Default)]
pub struct Options {
    pub out: Option<PathBuf>,
    pub bench: bool,
    pub wasm_opt: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        wasm_opt: true,
        ..Options::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => match it.next() {
                Some(dir) => o.out = Some(PathBuf::from(dir)),
                None => bail!("--out needs a directory\n{USAGE}"),
            },
            "--bench" => o.bench = true,
            "--no-wasm-opt" => o.wasm_opt = false,
            other => bail!("unknown option {other:?}\n{USAGE}"),
        }
    }
    Ok(o)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "keygen" => keygen::run(&parse(rest)?),
        "web" => web::run(&parse(rest)?),
        "style" => match parse(rest)?.out {
            Some(out) => web::style(&out),
            None => bail!("style needs --out FILE\n{USAGE}"),
        },
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}
