//! The registry's file (`PGUSERS_CONFIG`): the databases to manage, in TOML.
//!
//! ```toml
//! [[database]]
//! id = "billing"                 # in URLs, the API and --database
//! name = "Billing (production)"  # shown; default: the ID
//! url = "postgres://master:…@db1.internal:5432/billing"
//! protected_user = "billing"     # default: the database's owner
//! public_host = "db1.example.com:5432"  # where clients connect; default: url's host and port
//! client_sslmode = "verify-full" # in the URLs shown to clients; default: url's sslmode
//! ```
//!
//! The file holds secrets: no message quotes a line of it, only its line
//! numbers and the entries' IDs.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::DatabaseSettings;
use crate::domain::{DatabaseId, RoleName};
use crate::failure::Detail;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    database: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: Option<String>,
    url: String,
    protected_user: Option<String>,
    public_host: Option<String>,
    client_sslmode: Option<String>,
}

/// Reads and checks the registry file at `path`. A failure to read it
/// keeps the I/O error as its cause; a failure to parse it has none, since
/// the parser's own words quote the file, which holds passwords.
pub fn read(path: &Path) -> Result<Vec<DatabaseSettings>, Detail> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Detail::new(format!("PGUSERS_CONFIG: reading {shown}: {e}."), e))?;
    Ok(parse(&text, &shown.to_string())?)
}

/// Parses the registry file's text; `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<Vec<DatabaseSettings>, String> {
    let file: File = toml::from_str(text).map_err(|error| {
        // toml's own Display quotes the offending line, which may hold a
        // password: only its message and the line number are said.
        let span = error.span();
        let line = span
            .clone()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let source = span.and_then(|span| text.get(span)).unwrap_or("");
        let message = unquoted(error.message().trim_end(), source);
        match line {
            Some(line) => format!("{origin}, line {line}: {message}"),
            None => format!("{origin}: {message}"),
        }
    })?;
    if file.database.is_empty() {
        return Err(format!(
            "{origin} lists no database: add a [[database]] entry with an id and a url."
        ));
    }
    let mut seen = HashSet::new();
    file.database
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            // The value is not quoted: a URL put in the wrong field would be.
            let id = DatabaseId::parse(&entry.id)
                .map_err(|e| format!("{origin}, database #{}: id: {e}", index + 1))?;
            if !seen.insert(id.clone()) {
                return Err(format!(
                    "{origin}: two databases have the ID \"{id}\"; IDs must be unique."
                ));
            }
            let setting = format!("the url of database \"{id}\" in {origin}");
            let admin = crate::db::parse_config(&entry.url).map_err(|e| {
                format!("{origin}, database \"{id}\": url is not a valid connection string: {e}.")
            })?;
            let protected = entry
                .protected_user
                .as_deref()
                .map(RoleName::parse)
                .transpose()
                .map_err(|e| format!("{origin}, database \"{id}\": protected_user: {e}"))?;
            let name = match entry.name.map(|name| name.trim().to_owned()) {
                Some(name) if name.chars().any(char::is_control) => {
                    return Err(format!(
                        "{origin}, database \"{id}\": name may not hold control characters."
                    ));
                }
                Some(name) if !name.is_empty() => name,
                _ => id.to_string(),
            };
            let public = entry
                .public_host
                .as_deref()
                .map(crate::domain::PublicAddress::parse)
                .transpose()
                .map_err(|e| format!("{origin}, database \"{id}\": public_host: {e}"))?;
            let client_ssl_mode = entry
                .client_sslmode
                .as_deref()
                .map(crate::domain::SslMode::from_setting)
                .transpose()
                .map_err(|e| format!("{origin}, database \"{id}\": client_sslmode: {e}"))?;
            Ok(DatabaseSettings {
                id,
                name,
                admin,
                protected,
                setting,
                public,
                client_ssl_mode,
            })
        })
        .collect()
}

/// A parser's message without the values it quotes ("invalid type: string
/// \"postgres://u:pw@…\""): a value in the wrong place may be a password,
/// and may itself hold quote marks, so nothing tells where a quoted value
/// ends but the message's own shape. What follows its last ", expected " is
/// the parser's (the names it expected); before that, everything from the
/// first quote mark to the last is cut, unless it is exactly the bare key
/// the error points at (`source`, in backticks: "unknown field `port`"),
/// which holds no quote mark and so cannot hide a value. A lone mark
/// opens a value that runs to the end of that part.
fn unquoted(message: &str, source: &str) -> String {
    let (head, tail) = match message.rfind(", expected ") {
        Some(at) => message.split_at(at),
        None => (message, ""),
    };
    let is_mark = |c: char| c == '"' || c == '`';
    let (Some(first), Some(last)) = (head.find(is_mark), head.rfind(is_mark)) else {
        return message.to_owned();
    };
    let end = if last == first { head.len() } else { last + 1 };
    let quoted = &head[first..end];
    let bare_key = !source.is_empty()
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let shown = if bare_key && quoted == format!("`{source}`") {
        quoted
    } else {
        "…"
    };
    format!("{}{shown}{}{tail}", &head[..first], &head[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
# Two servers.
[[database]]
id = "billing"
name = "Billing (production)"
url = "postgres://master:s3cret-one@db1.internal:5432/billing"
protected_user = "billing_owner"

[[database]]
id = "crm"
url = "host=/run/pg port=5433 user=admin password=s3cret-two dbname=crm"
"#;

    #[test]
    fn each_entry_gives_an_id_a_name_a_connection_and_a_protected_user() {
        let databases = parse(TWO, "pgusers.toml").unwrap();

        assert_eq!(databases.len(), 2);
        assert_eq!(databases[0].id.as_str(), "billing");
        assert_eq!(databases[0].name, "Billing (production)");
        assert_eq!(databases[0].admin.config().get_dbname(), Some("billing"));
        assert_eq!(
            databases[0].protected.as_ref().map(RoleName::as_str),
            Some("billing_owner")
        );
        assert_eq!(databases[1].name, "crm", "the name defaults to the ID");
        assert_eq!(databases[1].protected, None);
        assert_eq!(databases[1].admin.config().get_ports(), &[5433]);
    }

    #[test]
    fn an_entry_may_name_the_sslmode_for_clients_and_a_wrong_one_is_named_without_its_value() {
        let text = "[[database]]\nid = \"shop\"\nurl = \"host=x sslmode=require\"\nclient_sslmode = \"verify-full\"\n";
        let wrong = text.replace("\"verify-full\"", "\"Verify-Full\"");

        let databases = parse(text, "pgusers.toml").unwrap();
        let refused = parse(&wrong, "pgusers.toml").err().unwrap();

        assert_eq!(
            databases[0].client_ssl_mode,
            Some(crate::domain::SslMode::VerifyFull)
        );
        assert_eq!(
            refused,
            "pgusers.toml, database \"shop\": client_sslmode: not an sslmode; use disable, \
             allow, prefer, require, verify-ca or verify-full."
        );
    }

    #[test]
    fn an_entry_may_say_where_applications_connect_and_a_wrong_one_is_named() {
        let text = "[[database]]\nid = \"shop\"\nurl = \"host=x\"\npublic_host = \"shop.example.com:6432\"\n";
        let wrong = text.replace("6432", "0");

        let databases = parse(text, "pgusers.toml").unwrap();

        assert_eq!(
            databases[0].public,
            Some(crate::domain::PublicAddress {
                host: "shop.example.com".into(),
                port: Some(6432)
            })
        );
        assert_eq!(
            parse(&wrong, "pgusers.toml").err().unwrap(),
            "pgusers.toml, database \"shop\": public_host: the public port must be a number from 1 to 65535."
        );
        assert_eq!(parse(TWO, "pgusers.toml").unwrap()[0].public, None);
    }

    #[test]
    fn a_malformed_file_is_refused_by_line_without_quoting_it() {
        let text = "[[database]]\nid = \"billing\"\nurl = \"postgres://u:s3cret@h/db\"\nport = 5\n";

        let refused = parse(text, "pgusers.toml").err().unwrap();

        assert!(refused.starts_with("pgusers.toml, line 4:"), "{refused}");
        assert!(refused.contains("port"), "{refused}");
        let unquoted = parse("url = \"postgres://u:s3cret@h/db\" oops", "f")
            .err()
            .unwrap();
        assert!(!unquoted.contains("s3cret"), "{unquoted}");
        assert!(unquoted.starts_with("f, line 1:"), "{unquoted}");
    }

    #[test]
    fn a_value_holding_quote_marks_is_not_quoted_in_part() {
        for text in [
            "database = 'postgres://u:pa\"SECRETTAIL@h/db'\n",
            "database = 'postgres://u:pa\"SEC\"RETTAIL@h/db'\n",
            "database = 'postgres://u:pa`SECRETTAIL@h/db'\n",
            "[[database]]\nid = 'x'\nurl = 'host=h'\n'pa\"SECRETTAIL' = 1\n",
            "[[database]]\nid = 'x'\nurl = 'host=h'\n'pa`SECRETTAIL' = 1\n",
            "[[database]]\nid = 'x'\nurl = 'host=h'\n'id`, SECRETTAIL' = 1\n",
            "[[database]]\nid = 'x'\nurl = 'host=h'\n\"pa\\u0060SECRETTAIL\" = 1\n",
        ] {
            let refused = parse(text, "f").err().unwrap();

            assert!(!refused.contains("SECRET"), "{text}: {refused}");
            assert!(!refused.contains("RETTAIL"), "{text}: {refused}");
            assert!(refused.starts_with("f, line "), "{text}: {refused}");
        }
    }

    #[test]
    fn a_url_whose_password_reads_as_an_option_names_no_part_of_it() {
        for url in [
            "host=db user=admin password=open sesame=42",
            "postgres://admin:S3cr@t?Tail=Z@db/app",
        ] {
            let text = format!("[[database]]\nid = \"x\"\nurl = '{url}'\n");

            let refused = parse(&text, "f").err().unwrap();

            assert!(!refused.contains("sesame"), "{refused}");
            assert!(!refused.contains("Tail"), "{refused}");
            assert!(refused.contains("quoted, or percent-encoded"), "{refused}");
        }
    }

    #[test]
    fn only_a_bare_key_and_the_expected_names_are_kept_of_what_is_quoted() {
        let unknown = "unknown field `port`, expected one of `id`, `url`";
        assert_eq!(unquoted(unknown, "port"), unknown);
        assert_eq!(
            unquoted(unknown, "'port'"),
            "unknown field …, expected one of `id`, `url`"
        );
        assert_eq!(
            unquoted(
                "unknown field `id`, SECRET`, expected one of `id`",
                "'id`, SECRET'"
            ),
            "unknown field …, expected one of `id`"
        );
        assert_eq!(
            unquoted(
                "invalid type: string \"a\"b\"c\", expected a sequence",
                "'a\"b\"c'"
            ),
            "invalid type: string …, expected a sequence"
        );
        assert_eq!(unquoted("unclosed \"value", ""), "unclosed …");
        assert_eq!(unquoted("unclosed \"valueé", ""), "unclosed …");
        assert_eq!(
            unquoted("invalid escape sequence", ""),
            "invalid escape sequence"
        );
    }

    #[test]
    fn ids_must_be_valid_and_unique_and_urls_valid() {
        let twice = "[[database]]\nid = \"a\"\nurl = \"host=x\"\n[[database]]\nid = \"a\"\nurl = \"host=y\"\n";
        let bad_id = "[[database]]\nid = \"a/b\"\nurl = \"host=x\"\n";
        let bad_url = "[[database]]\nid = \"a\"\nurl = \"mysql://u:s3cret@h/db\"\n";
        let empty = "# nothing yet\n";

        assert!(
            parse(twice, "f")
                .err()
                .unwrap()
                .contains("two databases have the ID \"a\"")
        );
        assert!(
            parse(bad_id, "f")
                .err()
                .unwrap()
                .contains("database #1: id: ")
        );
        let misplaced = "[[database]]\nid = \"postgres://u:s3cret@h/db\"\nurl = \"host=x\"\n";
        assert!(!parse(misplaced, "f").err().unwrap().contains("s3cret"));
        let wrong_shape = "database = [\"postgres://u:s3cret@h/db\"]\n";
        let said = parse(wrong_shape, "f").err().unwrap();
        assert!(!said.contains("s3cret"), "{said}");
        let url = parse(bad_url, "f").err().unwrap();
        assert!(url.contains("database \"a\": url is not a valid"), "{url}");
        assert!(!url.contains("s3cret"), "{url}");
        assert!(
            parse(empty, "f")
                .err()
                .unwrap()
                .contains("lists no database")
        );
    }
}
