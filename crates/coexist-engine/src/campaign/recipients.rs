//! Reading a campaign's recipients: a pasted list of numbers, or a CSV file whose first column
//! is the number and whose other columns are the template's body parameters — `1,2,...` for a
//! positional template (`{{1}}`), names for a named one (`{{customer_name}}`).
//!
//! Every string here is hostile until checked: numbers must be 8-15 digits once the usual
//! separators are removed, parameter names must look like Meta's, and a bad row is reported
//! with its line number, never silently dropped. The same number twice is kept once (Meta
//! would charge for, and the customer would get, the same message twice) and reported.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Names accepted for the number column of a CSV file.
pub const PHONE_COLUMNS: [&str; 5] = ["phone", "to", "wa_id", "number", "recipient"];

/// One recipient with its own body parameters (empty: use the campaign's defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    /// Digits, country code first.
    pub to: String,
    /// The line it came from (1-based; the header is line 1 of a CSV file).
    pub line: usize,
    pub positional: Vec<String>,
    pub named: BTreeMap<String, String>,
}

/// A number given more than once; only the first is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    pub to: String,
    pub line: usize,
    pub first_line: usize,
}

/// A row that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidRow {
    pub line: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipientList {
    pub recipients: Vec<Recipient>,
    pub duplicates: Vec<Duplicate>,
    pub invalid: Vec<InvalidRow>,
}

/// Why a recipient file cannot be read at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum RecipientsError {
    #[error("the recipient list is empty; give at least one number")]
    Empty,
    #[error("the CSV header must start with a number column named one of {PHONE_COLUMNS:?}, found {0:?}")]
    NoPhoneColumn(String),
    #[error("CSV column {0:?} is neither a position (1, 2, ...) nor a parameter name (letters, digits, _)")]
    BadColumn(String),
    #[error("CSV columns mix positions and names; a template has either {{{{1}}}}-style or named parameters, not both")]
    MixedColumns,
    #[error("positional CSV columns must be 1, 2, ... n in order, found {0:?}")]
    PositionsOutOfOrder(Vec<String>),
    #[error("CSV column {0:?} appears twice")]
    RepeatedColumn(String),
    #[error("the CSV file cannot be read: {0}")]
    Csv(String),
}

/// The digits of a phone number as WhatsApp addresses it, or why not.
pub fn normalize_phone(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let digits: String = trimmed.trim_start_matches('+').chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    if digits.is_empty() {
        return Err("no phone number".into());
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{} is not a phone number (digits only, country code first)", shown(trimmed)));
    }
    if !(8..=15).contains(&digits.len()) {
        return Err(format!("{} has {} digits; a full international number has 8 to 15", shown(trimmed), digits.len()));
    }
    Ok(digits)
}

/// A customer string quoted for an error message: short, control characters escaped.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(40).collect();
    format!("{cut:?}")
}

/// A pasted list: numbers separated by new lines, commas, semicolons or tabs.
pub fn parse_pasted(text: &str) -> Result<RecipientList, RecipientsError> {
    let mut list = Builder::default();
    for (i, line) in text.lines().enumerate() {
        for raw in line.split([',', ';', '\t']).map(str::trim).filter(|s| !s.is_empty()) {
            list.add(raw, i + 1, Vec::new(), BTreeMap::new());
        }
    }
    list.finish()
}

/// A CSV file with a header row (see the module docs).
pub fn parse_csv(text: &str) -> Result<RecipientList, RecipientsError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| RecipientsError::Csv(e.to_string()))?.clone();
    let columns = Columns::from_header(&header)?;
    let mut list = Builder::default();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                list.invalid.push(InvalidRow { line, reason: format!("cannot be read: {e}") });
                continue;
            }
        };
        if row.iter().all(str::is_empty) {
            continue;
        }
        if row.len() != header.len() {
            let reason = format!("has {} fields, the header has {}", row.len(), header.len());
            list.invalid.push(InvalidRow { line, reason });
            continue;
        }
        let values: Vec<String> = row.iter().skip(1).map(str::to_string).collect();
        let (positional, named) = columns.split(values);
        list.add(&row[0], line, positional, named);
    }
    list.finish()
}

/// What the parameter columns of a CSV header mean.
enum Columns {
    Positional,
    Named(Vec<String>),
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns, RecipientsError> {
        let first = header.get(0).unwrap_or_default().trim_start_matches('\u{feff}');
        if !PHONE_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(first)) {
            return Err(RecipientsError::NoPhoneColumn(shown(first)));
        }
        let rest: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
        if rest.is_empty() {
            return Ok(Columns::Positional);
        }
        let numeric = rest.iter().filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit())).count();
        if numeric == rest.len() {
            let expected: Vec<String> = (1..=rest.len()).map(|i| i.to_string()).collect();
            return if rest == expected { Ok(Columns::Positional) } else { Err(RecipientsError::PositionsOutOfOrder(rest)) };
        }
        if numeric > 0 {
            return Err(RecipientsError::MixedColumns);
        }
        for (i, c) in rest.iter().enumerate() {
            if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                return Err(RecipientsError::BadColumn(shown(c)));
            }
            if rest[..i].contains(c) {
                return Err(RecipientsError::RepeatedColumn(c.clone()));
            }
        }
        Ok(Columns::Named(rest))
    }

    fn split(&self, values: Vec<String>) -> (Vec<String>, BTreeMap<String, String>) {
        match self {
            Columns::Positional => (values, BTreeMap::new()),
            Columns::Named(names) => (Vec::new(), names.iter().cloned().zip(values).collect()),
        }
    }
}

#[derive(Default)]
struct Builder {
    recipients: Vec<Recipient>,
    duplicates: Vec<Duplicate>,
    invalid: Vec<InvalidRow>,
    seen: HashMap<String, usize>,
}

impl Builder {
    fn add(&mut self, raw: &str, line: usize, positional: Vec<String>, named: BTreeMap<String, String>) {
        match normalize_phone(raw) {
            Err(reason) => self.invalid.push(InvalidRow { line, reason }),
            Ok(to) => match self.seen.get(&to) {
                Some(&first_line) => self.duplicates.push(Duplicate { to, line, first_line }),
                None => {
                    self.seen.insert(to.clone(), line);
                    self.recipients.push(Recipient { to, line, positional, named });
                }
            },
        }
    }

    fn finish(self) -> Result<RecipientList, RecipientsError> {
        if self.recipients.is_empty() && self.invalid.is_empty() {
            return Err(RecipientsError::Empty);
        }
        Ok(RecipientList { recipients: self.recipients, duplicates: self.duplicates, invalid: self.invalid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_or_refused_with_the_reason() {
        assert_eq!(normalize_phone(" +1 (415) 555-0111 ").unwrap(), "14155550111");
        assert!(normalize_phone("1415abc0111").unwrap_err().contains("not a phone number"));
        assert!(normalize_phone("12345").unwrap_err().contains("5 digits"));
        assert!(normalize_phone("\u{1b}[31m14155550111").is_err());
    }

    #[test]
    fn a_pasted_list_drops_and_reports_duplicates() {
        let list = parse_pasted("14155550111, +1 415 555 0112\n14155550111;\n\nnope").unwrap();
        let to: Vec<_> = list.recipients.iter().map(|r| r.to.as_str()).collect();
        assert_eq!(to, ["14155550111", "14155550112"]);
        assert_eq!(list.duplicates, vec![Duplicate { to: "14155550111".into(), line: 2, first_line: 1 }]);
        assert_eq!(list.invalid.len(), 1);
        assert_eq!(list.invalid[0].line, 4);
    }

    #[test]
    fn csv_positional_and_named_columns() {
        let list = parse_csv("phone,1,2\n14155550111,Ana,#1\n14155550112,\"Bo, Jr\",#2\n").unwrap();
        assert_eq!(list.recipients[1].positional, ["Bo, Jr", "#2"]);
        let list = parse_csv("phone,customer_name,time\n14155550111,Ana,9am\n").unwrap();
        assert_eq!(list.recipients[0].named.get("time").map(String::as_str), Some("9am"));
        assert!(list.recipients[0].positional.is_empty());
    }

    #[test]
    fn bad_headers_and_rows_are_explained() {
        assert!(matches!(parse_csv("name,1\nx,y\n"), Err(RecipientsError::NoPhoneColumn(_))));
        assert!(matches!(parse_csv("phone,1,name\n"), Err(RecipientsError::MixedColumns)));
        assert!(matches!(parse_csv("phone,2,1\n"), Err(RecipientsError::PositionsOutOfOrder(_))));
        assert!(matches!(parse_csv("phone,a-b\n"), Err(RecipientsError::BadColumn(_))));
        let list = parse_csv("phone,1\n14155550111,Ana,extra\n14155550112,Bo\n").unwrap();
        assert_eq!(list.invalid[0].line, 2);
        assert_eq!(list.recipients.len(), 1);
        assert_eq!(parse_pasted("\n \n"), Err(RecipientsError::Empty));
    }
}
