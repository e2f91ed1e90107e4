//! Per-file language detection from the file name, for the imports gate, config parsing and
//! routing files to structural matchers.

/// The languages the engine tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    JavaScript,
    TypeScript,
    Python,
    Go,
    Rust,
    Ruby,
    Json,
    Toml,
    Yaml,
    Html,
    Other,
}

impl Language {
    /// The language of `path` (relative, forward slashes), by extension.
    pub fn for_path(path: &str) -> Language {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "js" | "jsx" | "mjs" | "cjs" | "vue" | "svelte" | "astro" => Language::JavaScript,
            "ts" | "tsx" | "mts" | "cts" => Language::TypeScript,
            "py" | "pyi" => Language::Python,
            "go" => Language::Go,
            "rs" => Language::Rust,
            "rb" | "rake" | "gemspec" => Language::Ruby,
            "json" | "jsonc" => Language::Json,
            "toml" => Language::Toml,
            "yaml" | "yml" => Language::Yaml,
            "html" | "htm" => Language::Html,
            _ if name == "Gemfile" || name == "Rakefile" => Language::Ruby,
            _ => Language::Other,
        }
    }
}

/// Extensions of files no text rule can match; skipped without reading (and without a
/// diagnostic: they are not text by construction).
pub fn is_known_binary(path: &str) -> bool {
    const BINARY: &[&str] = &[
        "png", "jpg", "jpeg", "gif", "webp", "ico", "bmp", "tif", "tiff", "avif", "psd", "woff",
        "woff2", "ttf", "otf", "eot", "pdf", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar",
        "jar", "war", "class", "exe", "dll", "so", "dylib", "a", "o", "obj", "wasm", "pyc", "mp3",
        "mp4", "mov", "avi", "webm", "ogg", "wav", "flac", "sqlite", "db",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| BINARY.contains(&ext.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_extension() {
        assert_eq!(Language::for_path("src/App.tsx"), Language::TypeScript);
        assert_eq!(Language::for_path("a/b.py"), Language::Python);
        assert_eq!(Language::for_path("Gemfile"), Language::Ruby);
        assert_eq!(Language::for_path(".env"), Language::Other);
        assert_eq!(Language::for_path("README"), Language::Other);
        assert!(is_known_binary("img/logo.PNG"));
        assert!(!is_known_binary("src/main.rs"));
    }
}
