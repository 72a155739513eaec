//! Attribute names in expressions cannot drift from the records. The store's condition,
//! update, key-condition, filter and projection expressions name attributes as DynamoDB's own
//! documentation writes them (`SET unread = :zero, lastReadAt = :at`), which keeps them
//! readable; this test reads every such expression in `store/` and checks that each attribute
//! it names is a field of a stored value in `domain/` (as serde names it: camelCase, or an explicit
//! `rename`), a key attribute, or one of the few attributes only the store writes. Renaming a
//! record's field therefore fails `cargo test`, not a request against DynamoDB.

/// Attributes of items that have no record type: they are read and written only by
/// expressions (the inbox counters, patient markers, rate budgets, the audit chain links,
/// presence, an attachment's attached mark).
const STORE_ONLY: &[&str] = &[
    "conversations",
    "messages",
    "unreadMessages",
    "uniquePatients",
    "used",
    "seq",
    "prevHash",
    "hash",
    "inboxSeenAt",
    "attached",
];

const KEYS: &[&str] = &["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "gsi4pk", "gsi4sk"];

const FUNCTIONS: &[&str] = &[
    "SET",
    "ADD",
    "REMOVE",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "attribute_exists",
    "attribute_not_exists",
    "begins_with",
    "if_not_exists",
    "list_append",
    "size",
    "contains",
];

const RECORDS: &[&str] = &[
    include_str!("../domain/audit_trail.rs"),
    include_str!("../domain/conversation.rs"),
    include_str!("../domain/delivery.rs"),
    include_str!("../domain/evisits.rs"),
    include_str!("../domain/directory.rs"),
    include_str!("../domain/practice.rs"),
    include_str!("../domain/workspace.rs"),
];

const STORE: &[(&str, &str)] = &[
    ("store.rs", include_str!("../store.rs")),
    ("attachments.rs", include_str!("attachments.rs")),
    ("late_entries.rs", include_str!("late_entries.rs")),
    ("practice_view.rs", include_str!("practice_view.rs")),
    ("audit.rs", include_str!("audit.rs")),
    ("budgets.rs", include_str!("budgets.rs")),
    ("conversations.rs", include_str!("conversations.rs")),
    ("directory.rs", include_str!("directory.rs")),
    ("entries.rs", include_str!("entries.rs")),
    ("evisits.rs", include_str!("evisits.rs")),
    ("inbox.rs", include_str!("inbox.rs")),
    ("notifications.rs", include_str!("notifications.rs")),
    ("renames.rs", include_str!("renames.rs")),
    ("stats.rs", include_str!("stats.rs")),
    ("tx.rs", include_str!("tx.rs")),
    ("workspace.rs", include_str!("workspace.rs")),
];

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for ch in snake.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// Every attribute name the records serialize to: `pub field: T` under `rename_all =
/// "camelCase"`, or the name a `#[serde(rename = "...")]` just above it gives.
fn record_attributes() -> Vec<String> {
    let mut names = Vec::new();
    for source in RECORDS {
        let mut renamed: Option<String> = None;
        for line in source.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("#[serde(rename = \"") {
                renamed = rest.split('"').next().map(str::to_string);
                continue;
            }
            if let Some(field) = line.strip_prefix("pub ").and_then(|l| l.split_once(':')).map(|(f, _)| f) {
                if field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                    names.push(renamed.take().unwrap_or_else(|| camel(field)));
                }
            }
            if !line.starts_with("#[") && !line.starts_with("///") {
                renamed = None;
            }
        }
    }
    names
}

/// The string literals of a source file that are expressions: they compare, assign or test
/// an attribute. Placeholders (`:value`, `#name`) and format arguments (`{x}`) are not names.
fn expressions(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let literal = after[..end].replace("\\\n", " ");
        rest = &after[end + 1..];
        let is_expression = [" = :", " < :", " > :", "SET ", "ADD ", "REMOVE ", "_exists(", "begins_with(", "BETWEEN"]
            .iter()
            .any(|marker| literal.contains(marker));
        if is_expression {
            out.push(literal);
        }
    }
    out
}

/// The attribute paths an expression names (`summary.patient.id` gives each segment).
fn attributes_in(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut word = String::new();
    let mut skip = false;
    let mut in_format = false;
    for ch in expression.chars().chain(std::iter::once(' ')) {
        match ch {
            '{' => in_format = true,
            '}' => {
                in_format = false;
                word.clear();
            }
            ':' | '#' if word.is_empty() => skip = true,
            c if c.is_ascii_alphanumeric() || c == '_' => word.push(c),
            _ => {
                if !word.is_empty() && !skip && !in_format && !word.chars().all(|c| c.is_ascii_digit()) {
                    names.push(std::mem::take(&mut word));
                }
                word.clear();
                skip = false;
            }
        }
    }
    names.into_iter().filter(|w| !FUNCTIONS.contains(&w.as_str())).collect()
}

#[test]
fn every_attribute_an_expression_names_is_a_record_field_or_a_store_attribute() {
    let known = record_attributes();
    assert!(known.len() > 100, "the records were read ({} fields)", known.len());
    let mut checked = 0;
    let mut unknown = Vec::new();
    for (file, source) in STORE {
        for expression in expressions(source) {
            for name in attributes_in(&expression) {
                checked += 1;
                let ok = known.contains(&name) || KEYS.contains(&name.as_str()) || STORE_ONLY.contains(&name.as_str());
                if !ok {
                    unknown.push(format!("{file}: `{name}` in \"{expression}\""));
                }
            }
        }
    }
    assert!(checked > 150, "the expressions were read ({checked} names)");
    assert!(unknown.is_empty(), "attributes no record has:\n{}", unknown.join("\n"));
}

#[test]
fn the_checker_finds_a_misspelt_attribute() {
    assert_eq!(attributes_in("SET unread = :zero, lastReadAt = :at"), ["unread", "lastReadAt"]);
    assert_eq!(attributes_in("attribute_exists(pk) AND #status = :s"), ["pk"]);
    assert_eq!(attributes_in("summary.patient.id = :p AND {condition}"), ["summary", "patient", "id"]);
    assert!(!record_attributes().contains(&"lastReadAtt".to_string()));
    assert_eq!(camel("first_patient_download_at"), "firstPatientDownloadAt");
}

/// A store file added later with expressions of its own is read too.
#[test]
fn every_store_file_with_expressions_is_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        if name != "attribute_names.rs" && source.contains("_expression(") {
            assert!(STORE.iter().any(|(f, _)| *f == name), "{name} has expressions: add it to STORE");
        }
    }
}
