//! The scan report as the versioned JSON contract (`"schema": 1`): the [`ScanReport`] fields
//! exactly, findings already sorted, pretty-printed with a trailing newline.

use crate::finding::ScanReport;
use std::io::{self, Write};

pub fn write_json(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
