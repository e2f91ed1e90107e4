//! yarn berry (v2+) `yarn.lock`: YAML keyed by descriptor lists (`"a@npm:^1.0.0, a@npm:^1.2.0"`),
//! each entry naming its `resolution` (`a@npm:1.2.3`), which says where the package comes from.
//! Workspace entries list their own dependencies, which makes those direct.

use super::spec::split_name_at;
use super::yaml_lines::YamlKeyLines;
use crate::extract::util::parse_yaml;
use crate::extract::{ExtractError, Extracted, ManifestFile};
use crate::{Ecosystem, SkipReason};
use serde_json::{Map, Value};
use std::collections::HashSet;

pub fn extract(file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
    let doc: Value = parse_yaml(file.text)?;
    let Value::Object(doc) = doc else {
        return Err(ExtractError::Invalid(
            "yarn.lock is not a YAML mapping".into(),
        ));
    };
    let lines = YamlKeyLines::scan(file.text, 1);
    let direct = workspace_declarations(&doc);
    let mut out = Extracted::default();
    for (key, entry) in &doc {
        if key == "__metadata" {
            continue;
        }
        let line = lines.line(&[key]).unwrap_or(1);
        let text = |f: &str| entry.get(f).and_then(scalar);
        let Some(resolution) = text("resolution") else {
            out.diagnostics.push(file.warning(
                "yarn-entry-without-resolution",
                format!("`{key}` has no `resolution`; entry not read"),
                Some(line),
            ));
            continue;
        };
        let Some((name, source)) = split_name_at(&resolution) else {
            out.diagnostics.push(file.warning(
                "yarn-resolution-unreadable",
                format!("cannot read the resolution `{resolution}`"),
                Some(line),
            ));
            continue;
        };
        // `file:`/`portal:` descriptors carry a `::locator=` suffix the workspace omits.
        let is_direct = key.split(", ").any(|descriptor| {
            let descriptor = descriptor.split("::").next().unwrap_or(descriptor);
            direct.contains(descriptor.trim())
        });
        let mut dep = file.dep(Ecosystem::Npm, name, line).direct(is_direct);
        match source_reason(source) {
            Some(SkipReason::Workspace) => {
                let folder = source.strip_prefix("workspace:").unwrap_or(source);
                out.dependencies
                    .push(dep.skip(SkipReason::Workspace, folder));
                continue;
            }
            Some(reason) => dep = dep.skip(reason, source),
            None => {}
        }
        if let Some(version) = text("version") {
            dep = dep.locked(version);
        }
        out.dependencies.push(dep);
    }
    Ok(out)
}

/// Where a resolution's source (`npm:1.2.3`, `workspace:.`, `patch:…`) fetches from, when
/// not the registry. A `patch:` of a registry package is that package, patched: it keeps
/// the registry version and is not skipped.
fn source_reason(source: &str) -> Option<SkipReason> {
    let (protocol, rest) = source.split_once(':')?;
    match protocol {
        "npm" => None,
        "patch" => {
            let inner = rest.replace("%3A", ":");
            let inner_source = split_name_at(&inner).map_or("", |(_, s)| s);
            if inner_source.starts_with("npm:") {
                None
            } else {
                Some(source_reason(inner_source).unwrap_or(SkipReason::Unsupported))
            }
        }
        "workspace" => Some(SkipReason::Workspace),
        "file" | "portal" | "link" => Some(SkipReason::Path),
        "git" | "git+ssh" | "git+https" | "git+http" | "git+file" | "github" => {
            Some(SkipReason::Git)
        }
        "http" | "https" => Some(
            if source.contains("#commit=") || source.contains(".git#") || source.ends_with(".git") {
                SkipReason::Git
            } else {
                SkipReason::Url
            },
        ),
        _ => Some(SkipReason::Unsupported),
    }
}

/// The descriptors (`react@npm:^18.2.0`) that workspaces depend on. Older berry writes the
/// range without `npm:` there, so both spellings are kept.
fn workspace_declarations(doc: &Map<String, Value>) -> HashSet<String> {
    let mut declared = HashSet::new();
    let workspaces = doc.values().filter(|entry| {
        entry
            .get("resolution")
            .and_then(Value::as_str)
            .and_then(split_name_at)
            .is_some_and(|(_, source)| source.starts_with("workspace:"))
    });
    for workspace in workspaces {
        for section in ["dependencies", "devDependencies", "peerDependencies"] {
            let Some(deps) = workspace.get(section).and_then(Value::as_object) else {
                continue;
            };
            for (name, range) in deps {
                if let Some(range) = scalar(range) {
                    declared.insert(format!("{name}@{range}"));
                    declared.insert(format!("{name}@npm:{range}"));
                }
            }
        }
    }
    declared
}

/// A YAML scalar as text (`version: 1.0` is a number to YAML).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
