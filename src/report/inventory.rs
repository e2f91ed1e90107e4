//! Renders an [`Inventory`] as the JSON contract or as text for people.

use crate::dependency::Dependency;
use crate::ecosystem::Ecosystem;
use crate::inventory::Inventory;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The JSON contract's schema version; bump it on any incompatible change.
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct JsonInventory<'a> {
    schema: u32,
    target: JsonTarget,
    dependencies: &'a [Dependency],
    diagnostics: &'a [crate::Diagnostic],
}

#[derive(Serialize)]
struct JsonTarget {
    path: String,
}

/// Writes `{"schema": 1, "target": {"path"}, "dependencies": [...], "diagnostics": [...]}`.
pub fn write_json(inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonInventory {
        schema: SCHEMA,
        target: JsonTarget {
            path: inv.target.display().to_string(),
        },
        dependencies: &inv.dependencies,
        diagnostics: &inv.diagnostics,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Writes the inventory grouped by the file that declares each entry, then totals.
pub fn write_text(inv: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<&Dependency>> = BTreeMap::new();
    for dep in &inv.dependencies {
        by_file.entry(&dep.source.path).or_default().push(dep);
    }
    for (path, deps) in &by_file {
        writeln!(out, "{path} ({})", plural(deps.len(), "entry", "entries"))?;
        let width = deps.iter().map(|d| d.name.len()).max().unwrap_or(0).min(48);
        for dep in deps {
            writeln!(out, "  {:<5} {}", dep.source.line, describe(dep, width))?;
        }
        writeln!(out)?;
    }
    for diag in &inv.diagnostics {
        writeln!(out, "{diag}")?;
    }
    if !inv.diagnostics.is_empty() {
        writeln!(out)?;
    }
    let mut totals: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for dep in &inv.dependencies {
        *totals.entry(dep.ecosystem).or_default() += 1;
    }
    let totals: Vec<String> = totals.iter().map(|(e, n)| format!("{e} {n}")).collect();
    writeln!(
        out,
        "{} in {} ({}), {}",
        plural(inv.dependencies.len(), "entry", "entries"),
        plural(by_file.len(), "file", "files"),
        if totals.is_empty() {
            "none".to_string()
        } else {
            totals.join(", ")
        },
        plural(inv.diagnostics.len(), "diagnostic", "diagnostics"),
    )
}

fn describe(dep: &Dependency, width: usize) -> String {
    let mut s = format!("{:<14} {:<width$}", dep.ecosystem.as_str(), dep.name);
    if let Some(v) = &dep.version {
        s.push_str(&format!(" {v}"));
    }
    if let Some(r) = &dep.requirement {
        s.push_str(&format!(" ({r})"));
    }
    let mut flags = Vec::new();
    if dep.direct {
        flags.push("direct");
    }
    if dep.dev {
        flags.push("dev");
    }
    if dep.optional {
        flags.push("optional");
    }
    if !flags.is_empty() {
        s.push_str(&format!(" [{}]", flags.join(", ")));
    }
    if let Some(skip) = &dep.skipped {
        s.push_str(&format!(
            " skipped: {} `{}`",
            serde_json::to_value(skip.reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            skip.detail
        ));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
