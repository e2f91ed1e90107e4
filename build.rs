//! Embeds the rule files of `feeds/rules/**` into the binary, so `ecowatch scan` works from any
//! directory without an install step. Generates `bundled_feeds.rs` in OUT_DIR: a sorted table of
//! (path under `feeds/rules`, contents) pairs, each contents an `include_str!`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rules_dir = manifest_dir.join("feeds").join("rules");
    println!("cargo:rerun-if-changed=feeds/rules");
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    collect_toml(&rules_dir, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Rule files bundled at build time: (path under `feeds/rules`, contents).\n",
    );
    out.push_str("pub static BUNDLED_RULES: &[(&str, &str)] = &[\n");
    for file in &files {
        let Ok(rel) = file.strip_prefix(&rules_dir) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let _ = writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            rel.join("/"),
            file.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(err) = std::fs::write(out_dir.join("bundled_feeds.rs"), out) {
        panic!("cannot write bundled_feeds.rs: {err}");
    }
}

/// Every rule file below `dir`: `.toml` files whose stem has no dot (`name.pyproject.toml` is a
/// fixture), outside `*.fixtures` directories. Fixtures are not needed at scan time.
fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            if !name.ends_with(".fixtures") {
                collect_toml(&path, out);
            }
        } else if kind.is_file()
            && name.ends_with(".toml")
            && !name.trim_end_matches(".toml").contains('.')
        {
            out.push(path);
        }
    }
}
