//! Every manifest and lockfile extractor on arbitrary text: the first byte picks the extractor,
//! the rest is the file. Extractors may return errors; they must never panic or hang.
#![no_main]

use ecowatch::extract::{self, ManifestFile};
use ecowatch::repo::Repo;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn empty_repo() -> &'static Repo {
    static REPO: OnceLock<Repo> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = std::env::temp_dir().join("ecowatch-fuzz-empty-repo");
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        Repo::open(&dir, 1 << 20).expect("temp dir opens")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let extractors: Vec<_> = extract::all().collect();
    if extractors.is_empty() {
        return;
    }
    let extractor = extractors[usize::from(selector) % extractors.len()];
    let file = ManifestFile {
        path: "fuzz/input",
        text,
        repo: empty_repo(),
    };
    let _ = extractor.extract(&file);
});
