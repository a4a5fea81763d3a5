//! Plain-text tables for benchmark reports: columns padded to their widest
//! cell, the first (and any other text column) left-aligned and numbers
//! right-aligned, a rule under the header.

/// Renders `header` and `rows` (rows shorter than the header are padded),
/// the first column left-aligned.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    render_left(header, rows, &[0])
}

/// As [`render`], with the columns in `left` left-aligned.
pub fn render_left(header: &[&str], rows: &[Vec<String>], left: &[usize]) -> String {
    let cols = header.len();
    let cell = |r: &Vec<String>, c: usize| r.get(c).map_or("", String::as_str).to_string();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if left.contains(&c) {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1)));
    out.push('\n');
    for r in rows {
        out.push_str(&line((0..cols).map(|c| cell(r, c)).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let t = super::render(
            &["what", "n"],
            &[vec!["a".into(), "10".into()], vec!["longer".into()]],
        );
        assert_eq!(t, "what     n\n----------\na       10\nlonger\n");
    }
}
