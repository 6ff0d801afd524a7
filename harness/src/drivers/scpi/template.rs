//! A dialect's command templates and answer layouts.

use std::collections::BTreeMap;

/// Fills `{name}` placeholders; the rig file's templates were checked when
/// it was loaded, so a name missing here is a programming error reported
/// as text, never a panic.
pub fn fill(template: &str, values: &[(&str, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("template `{template}`: an unclosed `{{`"))?;
        let name = &after[..close];
        let v = values
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("template `{template}`: no value for {{{name}}}"))?;
        out.push_str(&v.1);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses an answer of comma-separated numbers into the named fields
/// (`skip` drops a field).
pub fn parse_fields(answer: &str, fields: &[String]) -> Result<BTreeMap<String, f64>, String> {
    let parts: Vec<&str> = answer
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != fields.len() {
        return Err(format!(
            "`{answer}` has {} fields; the dialect expects {} ({})",
            parts.len(),
            fields.len(),
            fields.join(", ")
        ));
    }
    let mut out = BTreeMap::new();
    for (name, text) in fields.iter().zip(parts) {
        if name == "skip" {
            continue;
        }
        let v: f64 = text
            .parse()
            .map_err(|_| format!("`{answer}`: field {name} = `{text}` is not a number"))?;
        if !v.is_finite() {
            return Err(format!("`{answer}`: field {name} = `{text}` is not finite"));
        }
        out.insert(name.clone(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_parses() {
        let c = fill(
            "VOLT {u};CURR {i}",
            &[("u", "230".into()), ("i", "5".into())],
        )
        .expect("filled");
        assert_eq!(c, "VOLT 230;CURR 5");
        assert!(fill("VOLT {x}", &[]).is_err());
        let f =
            parse_fields("230.0, 5.0,50", &["u".into(), "i".into(), "f".into()]).expect("parsed");
        assert_eq!(f["i"], 5.0);
        let e = parse_fields("230,5", &["u".into(), "i".into(), "f".into()]).expect_err("short");
        assert!(e.contains("expects 3"), "{e}");
        assert!(parse_fields("230,abc", &["u".into(), "i".into()]).is_err());
        assert!(parse_fields("NaN", &["u".into()]).is_err());
    }
}
