//! `.nvmrc` and `.node-version`: the Node.js version nvm, fnm, nodenv and `setup-node` read.
//! The value is kept as written (`18`, `18.17.0`, `lts/hydrogen`, `node`), minus a leading `v`.

use super::version_file::{content_lines, is_plain_token};
use crate::dependency::SkipReason;
use crate::ecosystem::Ecosystem;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct Nvmrc;

impl Extractor for Nvmrc {
    fn id(&self) -> &'static str {
        "runtime/nvmrc"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        matches!(file_name, ".nvmrc" | ".node-version")
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        // Version managers read the first meaningful line only.
        let Some((line, value)) = content_lines(file.text).next() else {
            return Ok(Extracted::default());
        };
        let dep = file.dep(Ecosystem::NodeJs, "node", line).direct(true);
        let dep = if is_plain_token(value) {
            dep.locked(strip_v(value))
        } else {
            dep.skip(
                SkipReason::Unsupported,
                format!("`{value}` is not a Node.js version or alias"),
            )
        };
        Ok(Extracted::from_dependencies(vec![dep]))
    }
}

/// `v18.17.0` is `18.17.0`; aliases that start with `v` are left alone.
fn strip_v(value: &str) -> &str {
    match value.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/runtime/nvmrc"
    );

    fn extract(case: &str, file: &str) -> Extracted {
        match extract_at(&Nvmrc, &Path::new(FIXTURES).join(case), file) {
            Ok(found) => found,
            Err(e) => panic!("{case}/{file}: {e}"),
        }
    }

    #[test]
    fn wants_both_names_and_nothing_else() {
        assert!(Nvmrc.wants(".nvmrc", ".nvmrc"));
        assert!(Nvmrc.wants("web/.node-version", ".node-version"));
        for no in ["nvmrc", ".nvmrc.bak", "my.nvmrc", ".node-versions", ".nvm"] {
            assert!(!Nvmrc.wants(no, no), "{no}");
        }
    }

    #[test]
    fn empty_and_comment_only_files_have_no_entries() {
        assert!(extract("empty", ".nvmrc").dependencies.is_empty());
        assert!(extract("empty", ".node-version").dependencies.is_empty());
    }

    #[test]
    fn one_version_with_v_prefix() {
        let found = extract("one", ".nvmrc");
        assert_eq!(found.dependencies.len(), 1);
        let dep = &found.dependencies[0];
        assert_eq!(dep.ecosystem, Ecosystem::NodeJs);
        assert_eq!(dep.name, "node");
        assert_eq!(dep.version.as_deref(), Some("18.17.0"));
        assert_eq!(dep.source.line, 1);
        assert!(dep.direct);
        assert!(dep.skipped.is_none());
    }

    #[test]
    fn aliases_and_comments() {
        let found = extract("weird", ".nvmrc");
        let versions: Vec<(Option<&str>, u32)> = found
            .dependencies
            .iter()
            .map(|d| (d.version.as_deref(), d.source.line))
            .collect();
        // Only the first meaningful line counts.
        assert_eq!(versions, [(Some("lts/hydrogen"), 3)]);
        let node_version = extract("weird", ".node-version");
        assert_eq!(node_version.dependencies[0].version.as_deref(), Some("20"));
    }

    #[test]
    fn garbage_is_kept_as_unsupported() {
        let found = extract("malformed", ".nvmrc");
        assert_eq!(found.dependencies.len(), 1);
        let dep = &found.dependencies[0];
        assert_eq!(dep.version, None);
        assert_eq!(
            dep.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );
    }

    #[test]
    fn strip_v_only_before_digits() {
        assert_eq!(strip_v("v20"), "20");
        assert_eq!(strip_v("V20.1.0"), "20.1.0");
        assert_eq!(strip_v("vanilla"), "vanilla");
        assert_eq!(strip_v("node"), "node");
    }
}
