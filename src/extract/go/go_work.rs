//! `go.work`: a workspace's toolchain pins and replacements. `use` lines name directories of
//! the workspace's own modules (each has its own go.mod, read on its own), so they report
//! nothing.

use super::go_mod::{Replacement, toolchain_pin};
use super::syntax;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};

pub struct GoWork;

impl Extractor for GoWork {
    fn id(&self) -> &'static str {
        "go/go-work"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "go.work"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let mut out = Extracted::default();
        for directive in syntax::parse(file.text)? {
            match directive.verb.as_str() {
                "go" | "toolchain" => out.dependencies.push(toolchain_pin(file, &directive)?),
                "replace" => out
                    .dependencies
                    .push(Replacement::parse(&directive)?.dependency(file)),
                "use" | "godebug" => {}
                other => out.diagnostics.push(file.warning(
                    "unknown-directive",
                    format!("unknown go.work directive `{other}`; the line is not read"),
                    Some(directive.line),
                )),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::{Ecosystem, SkipReason};
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/go/go-work")
            .join(case);
        extract_at(&GoWork, &root, "go.work")
    }

    #[test]
    fn wants_only_go_work() {
        assert!(GoWork.wants("go.work", "go.work"));
        assert!(!GoWork.wants("go.work.sum", "go.work.sum"));
        assert!(!GoWork.wants("go.mod", "go.mod"));
    }

    #[test]
    fn workspace_reports_pins_and_replacements_but_not_uses() {
        let out = run("workspace").expect("parses");
        let summary: Vec<_> = out
            .dependencies
            .iter()
            .map(|d| {
                (
                    d.ecosystem,
                    d.name.as_str(),
                    d.version.as_deref(),
                    d.source.line,
                    d.skipped.as_ref().map(|s| s.reason),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Ecosystem::GoToolchain, "go", Some("1.22.0"), 1, None),
                (Ecosystem::GoToolchain, "go", Some("1.22.4"), 3, None),
                (Ecosystem::Go, "golang.org/x/net", Some("v0.26.0"), 10, None),
                (
                    Ecosystem::Go,
                    "example.com/vendored",
                    None,
                    11,
                    Some(SkipReason::Path)
                ),
            ]
        );
    }

    #[test]
    fn malformed_workspace_is_an_error() {
        let err = run("malformed").expect_err("unclosed use block");
        assert_eq!(err.line(), Some(3));
    }
}
