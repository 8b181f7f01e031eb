//! Real `quantix-iso` processes, for tests that kill and restart them.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::eventually;

pub struct Process {
    child: Option<Child>,
    args: Vec<String>,
    /// Where stderr goes (at `info`), for tests that read the log.
    log: Option<std::path::PathBuf>,
    pub url: String,
    /// Signed in as the first admin (again at each start: a wiped database has new tokens).
    client: Option<(reqwest::Client, String)>,
    /// A program the process runs under (strace), with its arguments; empty: none.
    wrapper: Vec<String>,
}

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

impl Process {
    /// Starts `quantix-iso <args>` listening on `addr` and waits until it answers.
    pub async fn start(addr: SocketAddr, args: Vec<String>) -> Process {
        Self::launch(addr, args, None).await
    }

    /// Like [`start`](Self::start), with the log (`RUST_LOG=info`) appended to `log`.
    pub async fn start_logged(addr: SocketAddr, args: Vec<String>, log: &std::path::Path) -> Process {
        Self::launch(addr, args, Some(log.to_owned())).await
    }

    /// Like [`start`](Self::start), run under `wrapper` (a program and its arguments, e.g. strace's).
    pub async fn start_wrapped(addr: SocketAddr, args: Vec<String>, wrapper: Vec<String>) -> Process {
        Self::launch_wrapped(addr, args, None, wrapper).await
    }

    async fn launch(addr: SocketAddr, args: Vec<String>, log: Option<std::path::PathBuf>) -> Process {
        Self::launch_wrapped(addr, args, log, Vec::new()).await
    }

    async fn launch_wrapped(
        addr: SocketAddr,
        args: Vec<String>,
        log: Option<std::path::PathBuf>,
        wrapper: Vec<String>,
    ) -> Process {
        let args = args
            .into_iter()
            .chain(["--initial-admin-password-file".into(), super::admin_password_file().display().to_string()])
            .collect();
        let mut p = Process { child: None, args, log, url: format!("http://{addr}"), client: None, wrapper };
        p.restart().await;
        p
    }

    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "still running");
        let (log, level) = match &self.log {
            Some(path) => {
                let file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
                (Stdio::from(file), "info".to_owned())
            }
            None if std::env::var_os("TEST_LOG").is_some() => (Stdio::inherit(), "warn".to_owned()),
            None => (Stdio::null(), "warn".to_owned()),
        };
        let bin = env!("CARGO_BIN_EXE_quantix-iso");
        let mut command = match self.wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut c = Command::new(program);
                c.args(wrapper_args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let child = command
            .args(&self.args)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or(level))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let url = self.url.clone();
        eventually(Duration::from_secs(20), "the process answers", || {
            let url = url.clone();
            async move { reqwest::get(format!("{url}/healthz")).await.is_ok() }
        })
        .await;
        let token = super::admin_token(&self.url).await;
        self.client = Some((super::bearer_client(&token), token));
    }

    /// A client signed in as the first admin.
    pub fn client(&self) -> &reqwest::Client {
        &self.client.as_ref().expect("started").0
    }

    /// The first admin's API token.
    pub fn token(&self) -> String {
        self.client.as_ref().expect("started").1.clone()
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL: no shutdown, no flushing.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            if !self.wrapper.is_empty() {
                // The wrapper's own child is the process: killing the wrapper alone would leave it running.
                let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()));
                for pid in children.unwrap_or_default().split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                    // SAFETY: plain kill(2) on a process we started.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            }
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM: a graceful stop.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: plain kill(2) on a child we own.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            child.wait().unwrap();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}
