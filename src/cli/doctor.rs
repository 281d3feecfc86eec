//! `pgusers doctor`: the access doctor's findings, and with `--fix` the
//! fixes pgusers runs. Exits 0 when no problem is found (after the fixes),
//! 5 when one is; notices (what someone decided: a role pgusers does not
//! manage, an expiry that came) are printed and fail nothing.

use super::{CliError, emit};
use crate::domain::{count, terminal_safe_json, visible};
use crate::operations::Operations;
use crate::registry::ManagedDatabase;
use crate::roles::{Finding, RoleManager};

/// Runs every fix pgusers can, one change each, saying what each did.
pub(super) async fn fix_all(
    ops: &Operations<'_>,
    database: &ManagedDatabase,
) -> Result<(), CliError> {
    for finding in database.roles.check_access().await? {
        if finding.fixable {
            match ops
                .fix_access(database, &finding.key)
                .await
                .recorded()
                .await
            {
                Ok(Some(done)) => emit(&format!("Fixed: {}\n", visible(&done.words)))?,
                Ok(None) => {}
                Err(error) => eprintln!(
                    "Not fixed: {} {}",
                    visible(&finding.words),
                    visible(&error.to_string())
                ),
            }
        }
    }
    Ok(())
}

/// Prints what is found now; `Err(Findings)` when a problem is.
pub(super) async fn report(roles: &RoleManager, json: bool) -> Result<(), CliError> {
    let findings = roles.check_access().await?;
    if json {
        let text = serde_json::to_string_pretty(&findings).map_err(CliError::failed)?;
        emit(&terminal_safe_json(&format!("{text}\n")))?;
    } else {
        emit(&text(&findings))?;
    }
    if findings.iter().any(Finding::is_problem) {
        Err(CliError::Findings)
    } else {
        Ok(())
    }
}

/// The findings as text: the problems, then the notices; each one's
/// words, then its fix or what to do.
fn text(findings: &[Finding]) -> String {
    let (problems, notices): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.is_problem());
    let mut out = if problems.is_empty() {
        "No problem found.\n".to_owned()
    } else {
        let fixable = problems.iter().filter(|f| f.fixable).count();
        let problems_found = count(problems.len() as u64, "problem", "problems");
        let mut out = if fixable == 0 {
            format!("{problems_found} (none pgusers can fix: each says what to do):\n")
        } else {
            format!("{problems_found} ({fixable} pgusers can fix with --fix):\n")
        };
        described(&mut out, &problems);
        out
    };
    if !notices.is_empty() {
        out.push_str(&format!(
            "\n{} (nothing fails for them):\n",
            count(notices.len() as u64, "notice", "notices")
        ));
        described(&mut out, &notices);
    }
    out
}

/// Each finding's words, then what to do and its SQL.
fn described(out: &mut String, findings: &[&Finding]) {
    for finding in findings {
        out.push_str(&format!("\n- {}\n", visible(&finding.words)));
        if let Some(advice) = &finding.advice {
            out.push_str(&format!("  To do: {}\n", visible(advice)));
        }
        if let Some(sql) = &finding.fix_sql {
            out.push_str(if finding.fixable {
                "  Fix:\n"
            } else {
                "  SQL:\n"
            });
            for line in sql.lines() {
                out.push_str(&format!("    {}\n", visible(line.trim())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::{Problem, Severity};

    fn problem(user: &str, fixable: bool) -> Finding {
        Finding {
            key: format!("md5:{user}"),
            problem: Problem::Md5Password {
                user: user.to_owned(),
            },
            severity: Severity::Problem,
            words: format!("\"{user}\"'s password is stored as MD5."),
            fix_sql: None,
            fixable,
            advice: Some("Reset its password.".to_owned()),
            user_page: None,
        }
    }

    #[test]
    fn the_first_line_counts_what_fix_can_do_and_never_says_zero() {
        let none = text(&[problem("ann", false), problem("bob", false)]);
        let some = text(&[problem("ann", true), problem("bob", false)]);

        assert!(
            none.starts_with("2 problems (none pgusers can fix: each says what to do):\n"),
            "{none}"
        );
        assert!(
            some.starts_with("2 problems (1 pgusers can fix with --fix):\n"),
            "{some}"
        );
        assert_eq!(text(&[]), "No problem found.\n");
    }
}
