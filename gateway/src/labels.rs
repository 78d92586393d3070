//! Which data category a FHIR R4 resource belongs to: a table of rules (`gateway/labels.json`
//! by default; operators may give their own), tried in order, the first that matches
//! deciding. A resource no rule matches has no category, and the gateway does not release it.

use medledger_events::DataCategory;
use serde::Deserialize;
use serde_json::Value;

/// The table shipped with medledger.
pub const DEFAULT: &str = include_str!("../labels.json");

/// A table that cannot be used, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelsError {
    #[error("the labeling table is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("rule {rule} of the labeling table names no data category: {name:?}")]
    UnknownCategory { rule: usize, name: String },
    #[error("rule {rule} of the labeling table names no resource type")]
    NoResourceType { rule: usize },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)] // what the table is, for the people who edit it
    about: Option<String>,
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleFile {
    category: String,
    resource_type: Vec<String>,
    #[serde(default)]
    codes: Vec<CodeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeFile {
    system: String,
    code: String,
}

struct Rule {
    category: DataCategory,
    resource_types: Vec<String>,
    /// (system, code or prefix, whether it is a prefix)
    codes: Vec<(String, String, bool)>,
}

/// A labeling table.
pub struct Labels {
    rules: Vec<Rule>,
}

impl Labels {
    /// The table in `text` (JSON, as `gateway/labels.json`).
    ///
    /// # Errors
    /// [`LabelsError`] naming the rule that is wrong.
    pub fn parse(text: &str) -> Result<Labels, LabelsError> {
        let file: File =
            serde_json::from_str(text).map_err(|e| LabelsError::Shape(e.to_string()))?;
        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, r) in file.rules.into_iter().enumerate() {
            let rule = i + 1;
            let category = DataCategory::ALL
                .into_iter()
                .find(|c| format!("{c:?}") == r.category)
                .ok_or_else(|| LabelsError::UnknownCategory {
                    rule,
                    name: r.category.clone(),
                })?;
            if r.resource_type.is_empty() {
                return Err(LabelsError::NoResourceType { rule });
            }
            let codes = r
                .codes
                .into_iter()
                .map(|c| match c.code.strip_suffix('*') {
                    Some(prefix) => (c.system, prefix.to_string(), true),
                    None => (c.system, c.code, false),
                })
                .collect();
            rules.push(Rule {
                category,
                resource_types: r.resource_type,
                codes,
            });
        }
        Ok(Labels { rules })
    }

    /// The table shipped with medledger.
    ///
    /// # Errors
    /// Never for the shipped file (a test parses it); [`LabelsError`] otherwise.
    pub fn shipped() -> Result<Labels, LabelsError> {
        Labels::parse(DEFAULT)
    }

    /// The category of `resource`, or `None` when no rule matches it.
    pub fn category(&self, resource: &Value) -> Option<DataCategory> {
        let kind = resource["resourceType"].as_str()?;
        let codings = codings(resource);
        self.rules
            .iter()
            .find(|rule| {
                rule.resource_types.iter().any(|t| t == kind)
                    && (rule.codes.is_empty()
                        || rule.codes.iter().any(|(system, code, prefix)| {
                            codings.iter().any(|(s, c)| {
                                s == system
                                    && if *prefix {
                                        c.starts_with(code.as_str())
                                    } else {
                                        c == code
                                    }
                            })
                        }))
            })
            .map(|rule| rule.category)
    }
}

/// Every (system, code) of the resource's `code`, `category`, `type` and `vaccineCode`
/// (each a CodeableConcept or a list of them), and of its `meta.security` labels.
fn codings(resource: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut add = |coding: &Value| {
        if let (Some(s), Some(c)) = (coding["system"].as_str(), coding["code"].as_str()) {
            found.push((s.to_string(), c.to_string()));
        }
    };
    for field in ["code", "category", "type", "vaccineCode"] {
        let concepts: Vec<&Value> = match &resource[field] {
            Value::Array(list) => list.iter().collect(),
            Value::Null => Vec::new(),
            one => vec![one],
        };
        for concept in concepts {
            for coding in concept["coding"].as_array().into_iter().flatten() {
                add(coding);
            }
        }
    }
    for label in resource["meta"]["security"]
        .as_array()
        .into_iter()
        .flatten()
    {
        add(label);
    }
    found
}
