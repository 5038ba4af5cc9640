use anyhow::{Context, bail};
use serde_json::{Value, json};

/// An agent's HTTP session: cookie jar plus the CSRF token.
pub struct AgentClient {
    pub http: reqwest::Client,
    /// The session cookie, for opening the events websocket.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub csrf: String,
}

impl AgentClient {
    pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<AgentClient> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder().cookie_provider(jar.clone()).build()?;
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        crate::contract::check("POST", "/api/v1/auth/login", status.as_u16(), &body)?;
        if !status.is_success() {
            bail!("login failed: {status} {body}");
        }
        let csrf = body["csrf_token"]
            .as_str()
            .context("csrf_token in login answer")?
            .to_string();
        Ok(AgentClient {
            http,
            jar,
            base: base.to_string(),
            csrf,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await?;
        checked("GET", path, r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        self.send(reqwest::Method::DELETE, path, Value::Null).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let r = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await?;
        checked(method.as_str(), path, r).await
    }

    /// Polls `path` until `pred` holds on the answer (15 s at most).
    pub async fn wait_json(&self, path: &str, what: &str, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let mut last = Value::Null;
        for _ in 0..300 {
            last = self.ok(path).await?;
            if pred(&last) {
                return Ok(last);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        bail!("{what}: not seen within 15 s; last answer {last}")
    }

    /// GET that must succeed.
    /// The actions in the audit log, newest first (an admin's client).
    pub async fn audit_actions(&self) -> anyhow::Result<Vec<String>> {
        let audit = self.ok("/api/v1/admin/audit").await?;
        Ok(audit["entries"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|x| x["action"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn ok(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.get(path).await?;
        if status != 200 {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    /// A file the API serves: its bytes and the name its Content-Disposition gives.
    pub async fn download(&self, path: &str) -> anyhow::Result<Download> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = r.status().as_u16();
        if status != 200 {
            bail!("GET {path}: {status}");
        }
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let content_type = header("content-type");
        let disposition = header("content-disposition");
        let file_name = disposition
            .split("filename=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_string();
        let security_policy = header("content-security-policy");
        Ok(Download {
            content_type,
            file_name,
            disposition,
            security_policy,
            bytes: r.bytes().await?.to_vec(),
        })
    }

    /// The live events websocket of this session.
    pub async fn events(&self) -> anyhow::Result<EventSocket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url: reqwest::Url = self.base.parse()?;
        let cookies = reqwest::cookie::CookieStore::cookies(self.jar.as_ref(), &url)
            .and_then(|c| c.to_str().ok().map(str::to_string))
            .unwrap_or_default();
        let mut request = format!("{}/api/v1/events", self.base.replace("http://", "ws://")).into_client_request()?;
        request.headers_mut().insert("cookie", cookies.parse()?);
        Ok(tokio_tungstenite::connect_async(request).await?.0)
    }

    /// Creates an account (the caller must be an admin).
    pub async fn create_agent(&self, username: &str, name: &str, password: &str, role: &str) -> anyhow::Result<()> {
        let (status, body) = self
            .post(
                "/api/v1/agents",
                json!({"username": username, "display_name": name, "password": password, "role": role}),
            )
            .await?;
        if status != 200 {
            bail!("creating {username}: {status} {body}");
        }
        Ok(())
    }
}

/// The answer's status and JSON body (`null` when it has none), checked
/// against the operation's schema in the OpenAPI document.
async fn checked(method: &str, path: &str, r: reqwest::Response) -> anyhow::Result<(u16, Value)> {
    let status = r.status().as_u16();
    let json = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let body = r.json().await.unwrap_or(Value::Null);
    if json {
        crate::contract::check(method, path, status, &body)?;
    }
    Ok((status, body))
}

pub type EventSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next live event whose `type` is one of `types` (10 s at most), skipping others.
pub async fn next_event(socket: &mut EventSocket, types: &[&str]) -> anyhow::Result<Value> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .with_context(|| format!("no {types:?} event within 10 s"))?;
        let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = frame else {
            if frame.is_none() {
                bail!("the events socket closed");
            }
            continue;
        };
        let event: Value = serde_json::from_str(&text)?;
        if types.iter().any(|t| event["type"] == *t) {
            return Ok(event);
        }
    }
}

/// What [`AgentClient::download`] got.
pub struct Download {
    pub content_type: String,
    pub file_name: String,
    /// The whole Content-Disposition and Content-Security-Policy headers.
    pub disposition: String,
    pub security_policy: String,
    pub bytes: Vec<u8>,
}
