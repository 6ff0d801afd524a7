//! `samples.csv`: one row a sample, for the lab's spreadsheet.

use std::path::Path;

use crate::record::Record;

pub const SAMPLES_FILE: &str = "samples.csv";

pub fn render(record: &Record) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "run_id",
        "suite",
        "point",
        "position",
        "sample",
        "rig_time_s",
        "value",
        "unit",
        "point_verdict",
        "limit_pct",
    ];
    w.write_record(header).map_err(|e| e.to_string())?;
    for p in &record.points {
        for s in &p.samples {
            w.write_record([
                record.run_id.as_str(),
                p.suite.as_str(),
                p.id.as_str(),
                &(p.position + 1).to_string(),
                &s.index.to_string(),
                &format!("{:.6}", s.at_s),
                &format!("{:.6}", s.value),
                s.unit.as_str(),
                p.verdict.as_str(),
                &p.limit_pct.map(|l| l.to_string()).unwrap_or_default(),
            ])
            .map_err(|e| e.to_string())?;
        }
    }
    String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

pub fn write(record: &Record, dir: &Path) -> Result<(), String> {
    crate::safe_write::write_file(dir, SAMPLES_FILE, render(record)?.as_bytes())
}
