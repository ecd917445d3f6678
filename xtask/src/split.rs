//! The app's page chunks: `wasm_split_cli_support` (the splitter cargo-leptos runs) cuts
//! every `#[wasm_split]` function of app/src/pages/mod.rs, with the code only it reaches,
//! out of the linked wasm into a chunk, puts code that several chunks share into shared
//! chunks, and writes `__wasm_split.js`, which fetches a chunk (relative to its own URL)
//! the first time the app calls into it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// Where the JS loader sits, beside `app.js`; the main module imports it by this name.
const LOADER: &str = "./__wasm_split.js";

/// Splits `wasm` (linked with `--emit-relocs`): the chunks and the loader go to `out`, the
/// main module to `main_dir/app.wasm`, whose path is returned for wasm-bindgen. Returns
/// also the chunks' paths.
pub fn run(wasm: &Path, out: &Path, main_dir: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    let input = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    std::fs::create_dir_all(out)?;
    std::fs::create_dir_all(main_dir)?;
    let main = main_dir.join("app.wasm");
    let split = wasm_split_cli_support::transform({
        let mut o = wasm_split_cli_support::Options::new(&input);
        o.output_dir = out;
        o.main_out_path = &main;
        o.link_name = LOADER;
        // wasm-bindgen's `--target web` module of the main wasm, which exports initSync.
        o.main_module = "./app.js";
        o
    })
    .map_err(|e| anyhow!("splitting {}: {e:?}", wasm.display()))?;
    Ok((main, split.split_modules))
}
