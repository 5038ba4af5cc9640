//! The agent API's OpenAPI 3.1 document (`/api/v1/openapi.json`): served
//! without a session, the one the code builds, and true in both directions —
//! every operation it describes has a route, every `/api/v1` route is
//! registered through its described handler, every operation says what it
//! does, what it answers, its security (the session, and the CSRF header when
//! it changes something) and the error shape. The answers themselves are
//! validated against it by every `AgentClient` request of the e2e suite
//! (`e2e::contract`); here a supervisor's tour of the read operations does it
//! once more in one place.

use std::path::Path;

use anyhow::Context;
use e2e::{ADMIN_PASSWORD, AgentClient, spawn_app};
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_describes_every_route_and_nothing_else() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let http = reqwest::Client::new();
    let served = http.get(format!("{}/api/v1/openapi.json", app.base())).send().await?;
    assert_eq!(served.status(), 200, "public: no session needed");
    assert_eq!(
        served.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc: Value = served.json().await?;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc, serde_json::to_value(gateway::api::document())?, "served as built");

    // The conventions: the session cookie, the CSRF header, the error shape.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["session"],
        json!({"type": "apiKey", "in": "cookie", "name": "sy_session", "description": schemes["session"]["description"]})
    );
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "X-CSRF-Token");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["error"]));
    assert!(
        doc["info"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("X-CSRF-Token"))
    );

    let ops = operations(&doc);
    assert!(ops.len() >= 100, "{} operations", ops.len());
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (method, path, op) in &ops {
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_string()) => {}
            other => problems.push(format!(
                "{} {path}: operationId {other:?} missing or not unique",
                method.to_uppercase()
            )),
        }
    }
    for (method, path, op) in &ops {
        let name = format!("{} {path}", method.to_uppercase());
        if op["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
            problems.push(format!("{name}: no description"));
        }
        let responses = op["responses"].as_object().cloned().unwrap_or_default();
        if !responses.keys().any(|k| k.starts_with('2') || k == "101") {
            problems.push(format!("{name}: no success answer"));
        }
        if responses.get("default") != Some(&json!({"$ref": "#/components/responses/Error"})) {
            problems.push(format!("{name}: the error shape is not its default answer"));
        }
        let security = op["security"].as_array().cloned().unwrap_or_default();
        let public = security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
        if !public {
            let needs = |scheme: &str| security.iter().any(|s| s.get(scheme).is_some());
            if !needs("session") && !needs("chat_token") {
                problems.push(format!("{name}: neither public nor behind a session or a chat token"));
            }
            if method != "get" && needs("session") && !needs("csrf") {
                problems.push(format!("{name}: changes something without the CSRF header"));
            }
        }
        if op["tags"].as_array().is_none_or(|t| t.is_empty()) {
            problems.push(format!("{name}: no tag"));
        }
    }

    // Every described operation has a route: asked without a session (so
    // nothing happens), a route answers in the API's shape; a missing one is
    // the router's bare 404 or 405.
    for (method, path, _) in &ops {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let r = http
            .request(method.to_uppercase().parse()?, format!("{}{concrete}", app.base()))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await?;
        let status = r.status().as_u16();
        let body = r.bytes().await?;
        if status == 405 || (status == 404 && body.is_empty()) {
            problems.push(format!(
                "{} {path}: described but not routed ({status})",
                method.to_uppercase()
            ));
        }
    }

    // Every route is registered with its description: `routes!(handler)`
    // takes the path from the handler's annotation; a bare `.route(` under
    // /api/v1 would be served undescribed.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/src");
    for file in rust_files(&src)? {
        let text = std::fs::read_to_string(&file)?;
        for (at, _) in text.match_indices(".route(") {
            let path = text[at + 7..].trim_start().trim_start_matches('"');
            if path.starts_with("/api/") {
                let line = text[..at].lines().count();
                problems.push(format!(
                    "{}:{line}: a route registered without its description",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    app.stop().await;
    Ok(())
}

fn rust_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(out)
}

/// A supervisor's tour of the read operations, each answer checked against
/// its schema by the client; an error answer is checked against the error shape.
#[tokio::test]
async fn real_answers_match_their_schemas() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let admin = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let before = e2e::contract::VALIDATED.load(std::sync::atomic::Ordering::Relaxed);
    let doc = serde_json::to_value(gateway::api::document())?;
    let mut read = 0;
    for (method, path, _) in operations(&doc) {
        // Only the parameter-free reads: the others are exercised by the suite's own flows.
        if method != "get"
            || path.contains('{')
            || path.ends_with(".csv")
            || ["/api/v1/events", "/api/v1/openapi.json"].contains(&path.as_str())
        {
            continue;
        }
        let before = e2e::contract::VALIDATED.load(std::sync::atomic::Ordering::Relaxed);
        let (status, body) = admin.get(&path).await?;
        assert!(status < 500, "GET {path}: {status} {body}");
        let checked = e2e::contract::VALIDATED.load(std::sync::atomic::Ordering::Relaxed) > before;
        assert!(
            checked,
            "GET {path}: {status} {body} was not checked against the document"
        );
        read += 1;
    }
    let (status, body) = admin.get("/api/v1/conversations/424242").await?;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let validated = e2e::contract::VALIDATED.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(
        read >= 25 && validated == read + 1,
        "{read} reads, {validated} answers validated"
    );
    app.stop().await;
    Ok(())
}

/// The checker is not vacuous: an undeclared field, a missing one, a wrong
/// type, an error answer outside the error shape and an unknown operation
/// are each refused.
#[test]
fn the_checker_refuses_what_the_document_does_not_say() {
    use e2e::contract::check;
    let queues = json!({"queues": [{"name": "critical", "priority": "critical", "open": 1, "unassigned": 0,
        "oldest_waiting_since": null, "oldest_waiting_secs": null, "sla_state": "on_time",
        "sla": {"on_time": 1, "at_risk": 0, "breached": 0}}], "mine": 0});
    assert!(check("GET", "/api/v1/queues", 200, &queues).is_ok());
    let mut extra = queues.clone();
    extra["queues"][0]["colour"] = json!("red");
    assert!(
        check("GET", "/api/v1/queues", 200, &extra).is_err(),
        "an undeclared field"
    );
    let mut missing = queues.clone();
    missing.as_object_mut().map(|o| o.remove("mine"));
    assert!(
        check("GET", "/api/v1/queues", 200, &missing).is_err(),
        "a missing field"
    );
    let mut wrong = queues.clone();
    wrong["mine"] = json!("none");
    assert!(check("GET", "/api/v1/queues", 200, &wrong).is_err(), "a wrong type");
    assert!(
        check(
            "GET",
            "/api/v1/queues",
            403,
            &json!({"error": {"code": "forbidden", "message": "no"}})
        )
        .is_ok()
    );
    assert!(
        check("GET", "/api/v1/queues", 403, &json!({"error": "forbidden"})).is_err(),
        "the error shape"
    );
    assert!(
        check("GET", "/api/v1/conversations/12/colour", 200, &json!({})).is_err(),
        "an unknown operation"
    );
}

/// "A client can be generated from the document": openapi-typescript (npm,
/// pinned in tests/browser) turns the served document into TypeScript types,
/// and `tsc --strict` compiles a client that uses them — an answer, a
/// request body, the error shape. Node and the packages are installed by
/// scripts/test.sh; missing ones fail this test.
#[tokio::test]
async fn a_typescript_client_is_generated_from_the_document_and_compiles() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let doc = reqwest::get(format!("{}/api/v1/openapi.json", app.base()))
        .await?
        .text()
        .await?;
    app.stop().await;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("openapi.json"), doc)?;
    std::fs::write(
        dir.path().join("client.ts"),
        r#"import type { paths, components } from "./api";
type Queues = paths["/api/v1/queues"]["get"]["responses"][200]["content"]["application/json"];
type Conversation = paths["/api/v1/conversations/{id}"]["get"]["responses"][200]["content"]["application/json"];
type Reply = NonNullable<paths["/api/v1/conversations/{id}/reply"]["post"]["requestBody"]>["content"]["application/json"];
type ErrorBody = components["schemas"]["ErrorBody"];
const queues: Queues = { queues: [], mine: 0 };
const reply: Reply = { text: "Bonjour", attachments: [] };
const error: ErrorBody = { error: { code: "not_found", message: "conversation not found" } };
function ticket(c: Conversation): string { return c.ticket; }
console.log(queues, reply, error, ticket);
"#,
    )?;
    let modules = e2e::browser::browser_dir().join("node_modules");
    for (program, args) in [
        (
            modules.join("openapi-typescript/bin/cli.js"),
            vec!["openapi.json", "-o", "api.d.ts"],
        ),
        (
            modules.join("typescript/bin/tsc"),
            vec!["--noEmit", "--strict", "--skipLibCheck", "client.ts", "api.d.ts"],
        ),
    ] {
        anyhow::ensure!(
            program.exists(),
            "{} is missing: run scripts/test.sh (npm ci in tests/browser)",
            program.display()
        );
        let out = tokio::process::Command::new("node")
            .arg(&program)
            .args(&args)
            .current_dir(dir.path())
            .output()
            .await
            .context("running node")?;
        anyhow::ensure!(
            out.status.success(),
            "{} failed:\n{}\n{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
