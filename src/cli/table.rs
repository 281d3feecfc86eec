//! Tables in the style of the product guide's CLI output:
//!
//! ```text
//! +----------------+-----------+
//! |    USERNAME    | READ-ONLY |
//! +----------------+-----------+
//! | my_app_4553    | false     |
//! +----------------+-----------+
//! ```
//!
//! Headers are centred (the extra space of an odd gap goes right), values
//! are left-aligned, and each cell has one space of padding on both sides.

use crate::domain::visible;

/// Renders `rows` under `headers`; every line ends with a newline.
///
/// Cells mostly come from the database, so every one is shown through
/// `domain::visible` (no raw escape sequence reaches the terminal), and
/// widths are measured on what is shown.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| visible(cell).into_owned()).collect())
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(column, header)| {
            rows.iter()
                .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                .chain([header.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let border: String = widths
        .iter()
        .map(|width| "-".repeat(width + 2))
        .collect::<Vec<_>>()
        .join("+");
    let border = format!("+{border}+\n");
    let line = |cells: Vec<String>| format!("|{}|\n", cells.join("|"));

    let mut out = border.clone();
    out.push_str(&line(
        headers
            .iter()
            .zip(&widths)
            .map(|(header, width)| {
                let gap = width - header.chars().count();
                let left = gap / 2;
                format!(" {}{header}{} ", " ".repeat(left), " ".repeat(gap - left))
            })
            .collect(),
    ));
    out.push_str(&border);
    for row in &rows {
        out.push_str(&line(
            widths
                .iter()
                .enumerate()
                .map(|(column, width)| {
                    let cell = row.get(column).map_or("", String::as_str);
                    format!(" {cell}{} ", " ".repeat(width - cell.chars().count()))
                })
                .collect(),
        ));
    }
    out.push_str(&border);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_example_is_reproduced_byte_for_byte() {
        let rows = [
            ["my_app_4553", "false", "true", "SCRAM-SHA-256"],
            ["my_app_4553_rw", "false", "false", "MD5"],
            ["my_app_4553_ro", "true", "false", "MD5"],
        ]
        .map(|row| row.map(str::to_owned).to_vec());

        let table = render(
            &["USERNAME", "READ-ONLY", "PROTECTED", "PASSWORD ENCRYPTION"],
            &rows,
        );

        assert_eq!(
            table,
            "+----------------+-----------+-----------+---------------------+\n\
             |    USERNAME    | READ-ONLY | PROTECTED | PASSWORD ENCRYPTION |\n\
             +----------------+-----------+-----------+---------------------+\n\
             | my_app_4553    | false     | true      | SCRAM-SHA-256       |\n\
             | my_app_4553_rw | false     | false     | MD5                 |\n\
             | my_app_4553_ro | true      | false     | MD5                 |\n\
             +----------------+-----------+-----------+---------------------+\n"
        );
    }

    #[test]
    fn an_odd_gap_puts_the_extra_space_after_the_header() {
        let table = render(&["ID"], &[vec!["abcde".to_owned()]]);
        assert!(table.contains("|  ID   |\n"), "{table}");
    }

    #[test]
    fn hidden_characters_are_shown_escaped_and_the_columns_still_line_up() {
        let table = render(&["NAME"], &[vec!["\x1b[31mred".into()], vec!["ab".into()]]);
        assert_eq!(
            table,
            "+-------------+\n\
             |    NAME     |\n\
             +-------------+\n\
             | \\x1b[31mred |\n\
             | ab          |\n\
             +-------------+\n"
        );
    }

    #[test]
    fn a_table_without_rows_still_has_its_header() {
        let table = render(&["USERNAME"], &[]);
        assert_eq!(
            table,
            "+----------+\n| USERNAME |\n+----------+\n+----------+\n"
        );
    }
}
