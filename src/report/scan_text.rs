//! The scan report for people, kept minimal: one block per finding, then diagnostics and a
//! summary line. (Richer renderers live beside this one.)

use crate::finding::ScanReport;
use std::io::{self, Write};

pub fn write_text(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let place = f
            .locations
            .first()
            .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<8} {}  {}",
            f.severity.as_str().to_uppercase(),
            f.rule,
            place
        )?;
        writeln!(out, "         {}", f.message)?;
        if let Some(loc) = f.locations.first()
            && !loc.snippet.is_empty()
        {
            writeln!(out, "         | {}", loc.snippet)?;
        }
        if let Some(fix) = &f.fix
            && let Some(first) = fix.lines().find(|l| !l.trim().is_empty())
        {
            writeln!(out, "         fix: {}", first.trim())?;
        }
        writeln!(out)?;
    }
    for d in &report.diagnostics {
        writeln!(out, "{d}")?;
    }
    let s = &report.summary;
    writeln!(
        out,
        "{} findings ({} critical, {} high, {} medium, {} low, {} info), {} suppressed; {} files scanned, {} of {} rules ran",
        s.findings,
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.info,
        s.suppressed,
        s.files_scanned,
        s.rules_run,
        s.rules_loaded
    )
}
