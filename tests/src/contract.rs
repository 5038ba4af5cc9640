//! The API's OpenAPI document as a checker: every answer an `AgentClient`
//! gets in the e2e suite is validated against the schema its operation
//! declares for that status (or its `default`, the error shape). An answer
//! that does not match fails the test that made the request, so the document
//! cannot drift from what the gateway sends.
//!
//! Objects are checked strictly: a property the document does not declare is
//! an error too (`additionalProperties: false` is added to every object
//! schema that lists its properties), else a renamed field would pass.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use anyhow::{Context, bail};
use serde_json::{Map, Value};

/// The document the gateway serves, with its schemas made strict.
static CONTRACT: LazyLock<Contract> = LazyLock::new(Contract::load);

/// Answers validated so far in this test process.
pub static VALIDATED: AtomicUsize = AtomicUsize::new(0);

pub struct Contract {
    components: Value,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<(usize, String), Arc<jsonschema::Validator>>>,
}

struct Operation {
    method: String,
    template: String,
    segments: Vec<Option<String>>,
    responses: Map<String, Value>,
}

impl Contract {
    fn load() -> Contract {
        let doc = serde_json::to_value(gateway::api::document()).unwrap_or(Value::Null);
        let mut components = doc.get("components").cloned().unwrap_or(Value::Null);
        // A schema that is one part of an `allOf` (a flattened field) is
        // merged with the others: alone it must stay open.
        let mut parts = Vec::new();
        composed_refs(&doc, &mut parts);
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            for (name, schema) in schemas.iter_mut() {
                if parts.contains(name) {
                    continue;
                }
                strict(schema);
            }
        }
        let mut operations = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let segments: Vec<Option<String>> = template
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                    .collect();
                for (method, op) in item.as_object().into_iter().flatten() {
                    let mut responses = op
                        .get("responses")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    for r in responses.values_mut() {
                        strict(r);
                    }
                    operations.push(Operation {
                        method: method.to_uppercase(),
                        template: template.clone(),
                        segments: segments.clone(),
                        responses,
                    });
                }
            }
        }
        Contract {
            components,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    fn operation(&self, method: &str, path: &str) -> Option<(usize, &Operation)> {
        let path = path.split('?').next().unwrap_or(path);
        let parts: Vec<&str> = path.split('/').collect();
        // As the router does: a literal segment wins over a parameter.
        self.operations
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                op.method == method
                    && op.segments.len() == parts.len()
                    && op
                        .segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
            })
            .max_by_key(|(_, op)| op.segments.iter().filter(|s| s.is_some()).count())
    }

    /// The schema of the answer `status` to `method path`, compiled once.
    fn validator(
        &self,
        index: usize,
        op: &Operation,
        status: u16,
    ) -> anyhow::Result<Option<Arc<jsonschema::Validator>>> {
        let key = (index, status.to_string());
        if let Some(v) = self
            .validators
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .get(&key)
        {
            return Ok(Some(v.clone()));
        }
        let response = op
            .responses
            .get(&key.1)
            .or_else(|| op.responses.get("default"))
            .with_context(|| format!("{} {}: no answer {status} in the document", op.method, op.template))?;
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                self.components["responses"][name].clone()
            }
            None => response.clone(),
        };
        let Some(schema) = response.pointer("/content/application~1json/schema") else {
            return Ok(None);
        };
        let mut root = match schema {
            Value::Object(m) => m.clone(),
            other => bail!("{} {}: schema {other}", op.method, op.template),
        };
        root.insert("components".into(), self.components.clone());
        let validator = Arc::new(
            jsonschema::validator_for(&Value::Object(root))
                .map_err(|e| anyhow::anyhow!("{} {}: schema does not compile: {e}", op.method, op.template))?,
        );
        self.validators
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .insert(key, validator.clone());
        Ok(Some(validator))
    }
}

/// The schemas named by a `$ref` inside an `allOf`.
fn composed_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "allOf"
                    && let Some(items) = child.as_array()
                {
                    for item in items {
                        if let Some(r) = item.get("$ref").and_then(Value::as_str) {
                            out.push(r.rsplit('/').next().unwrap_or_default().to_string());
                        }
                    }
                }
                composed_refs(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| composed_refs(x, out)),
        _ => {}
    }
}

/// Every object schema that lists its properties refuses others.
fn strict(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let composed = ["allOf", "anyOf", "oneOf"].iter().any(|k| m.contains_key(*k));
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !composed {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (k, child) in m.iter_mut() {
                // Members of allOf are merged with each other: each one alone must stay open.
                if k == "allOf" {
                    continue;
                }
                strict(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strict),
        _ => {}
    }
}

/// Checks an answer the gateway gave against the document.
pub fn check(method: &str, path: &str, status: u16, body: &Value) -> anyhow::Result<()> {
    if !path.starts_with("/api/v1/") {
        return Ok(());
    }
    let contract = &*CONTRACT;
    let Some((index, op)) = contract.operation(method, path) else {
        bail!("{method} {path}: no such operation in the OpenAPI document");
    };
    let Some(validator) = contract.validator(index, op, status)? else {
        return Ok(());
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    if !errors.is_empty() {
        let shown: String = body.to_string().chars().take(1500).collect();
        bail!(
            "{method} {path} answered {status} outside its OpenAPI schema ({}):\n  {}\nanswer: {shown}",
            op.template,
            errors.join("\n  ")
        );
    }
    VALIDATED.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
