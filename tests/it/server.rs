//! Spawns the real `engage` binary for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `engage serve` on a free loopback port; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data folder.
    pub data: PathBuf,
    http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

/// The path of the built `engage` binary.
pub fn engage_bin() -> &'static str {
    env!("CARGO_BIN_EXE_engage")
}

impl Server {
    /// Starts a server over a new temporary data folder.
    pub fn start(extra: &[&str]) -> Self {
        Self::start_over(tempfile::tempdir().unwrap(), extra)
    }

    /// Starts a server over `dir/data` (the caller may have seeded it), its outbox
    /// `dir/outbox`; `dir` lives as long as the server.
    pub fn start_over(dir: tempfile::TempDir, extra: &[&str]) -> Self {
        let data = dir.path().join("data");
        let mut s = Self::start_in(&data, &dir.path().join("outbox"), extra);
        s._dir = Some(dir);
        s
    }

    /// Starts a server over `data`.
    pub fn start_in(data: &Path, outbox: &Path, extra: &[&str]) -> Self {
        Self::start_in_with_env(data, outbox, extra, &[])
    }

    /// Starts a server over `data` with `env` (name, value) added to its environment.
    pub fn start_in_with_env(
        data: &Path,
        outbox: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(engage_bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--outbox")
            .arg(outbox)
            .args(extra)
            .env_remove("ENGAGE_TOKEN_SECRET")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(outbox.with_extension("stderr.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(outbox.with_extension("stderr.log"))
                    .unwrap_or_default();
                panic!("engage serve did not start: {line:?}\n{log}")
            })
            .to_owned();
        Self {
            child,
            base,
            data: data.to_owned(),
            http: reqwest::Client::new(),
            _dir: None,
        }
    }

    /// Keeps `dir` alive as long as the server.
    pub fn keep(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(dir);
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `method path`, with `bearer` and a JSON `body` when given: (status, content
    /// type, body as JSON, or as a JSON string when it is not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<String>,
    ) -> (u16, String, serde_json::Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = content_type(&resp);
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, ct, body)
    }

    /// `POST path` with the JSON `body`, and `bearer` when given: as [`Self::send`].
    pub async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: impl Into<String>,
    ) -> (u16, String, serde_json::Value) {
        let body = Some(body.into());
        self.send(reqwest::Method::POST, path, bearer, body).await
    }

    /// The JSON body of `GET path` with `bearer`.
    pub async fn get_json(&self, path: &str, bearer: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `Content-Type` of an answer ("" without one).
pub fn content_type(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The stdout of a finished process, asserting that `what` succeeded (its stdout and
/// stderr in the failure).
pub fn succeeded(what: &str, out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A token printed by `engage token`, as a newcomer would get it.
pub fn token(seller: &str, brands: &[&str], roles: &[&str]) -> String {
    let mut cmd = Command::new(engage_bin());
    cmd.args(["token", "--seller", seller])
        .env_remove("ENGAGE_TOKEN_SECRET");
    for b in brands {
        cmd.args(["--brand", b]);
    }
    for r in roles {
        cmd.args(["--role", r]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "engage token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs `engage event --data DATA --now NOW -` over `events` (one envelope per
/// line); returns its stdout, asserting success.
pub fn engage_event(data: &Path, now: &str, events: &[serde_json::Value]) -> String {
    use std::io::Write as _;
    let mut child = Command::new(engage_bin())
        .args(["event", "--data"])
        .arg(data)
        .args(["--now", now, "-"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for e in events {
            writeln!(stdin, "{e}").unwrap();
        }
    }
    succeeded("engage event", &child.wait_with_output().unwrap())
}

/// Runs `engage tick --data DATA --outbox OUTBOX --now NOW`; returns its stdout,
/// asserting success.
pub fn engage_tick(data: &Path, outbox: &Path, now: &str) -> String {
    let out = Command::new(engage_bin())
        .args(["tick", "--data"])
        .arg(data)
        .arg("--outbox")
        .arg(outbox)
        .args(["--now", now, "--workers", "1"])
        .env("RUST_LOG", "warn")
        .env_remove("ENGAGE_SEND_RATE")
        .env_remove("ENGAGE_POLICIES")
        .output()
        .unwrap();
    succeeded("engage tick", &out)
}

/// An EventBridge envelope of a marketplace event.
pub fn marketplace_event(
    id: &str,
    detail_type: &str,
    detail: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({"version": "0", "id": id, "detail-type": detail_type,
        "source": "marketplace", "account": "123456789012", "time": "2026-11-01T00:00:00Z",
        "region": "us-east-1", "resources": [], "detail": detail})
}

/// The `.eml` files of an outbox, by file name, parsed.
pub fn outbox_emails(outbox: &Path) -> Vec<(String, mail_parser::Message<'static>)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(outbox) else {
        return out;
    };
    for entry in dir {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let bytes = std::fs::read(&path).unwrap();
            let msg = mail_parser::MessageParser::default()
                .parse(&bytes)
                .unwrap()
                .into_owned();
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                msg,
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
