//! What the browser tests share: Debian's Chromium driven through chromedriver (fantoccini),
//! started with the flags a closed network needs and a fresh profile. Without the binaries a
//! test fails and says how to install them: it never passes without having looked.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

pub fn browser_binaries() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("ONEGRID_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let driver = std::env::var_os("ONEGRID_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    for (path, package) in [(&chromium, "chromium"), (&driver, "chromium-driver")] {
        assert!(
            path.exists(),
            "the browser tests need {} (Debian package `{package}`): install it with \
             `apt-get install chromium chromium-driver` (.ci/run and scripts/test-postgres.sh \
             do), or point ONEGRID_CHROMIUM / ONEGRID_CHROMEDRIVER at other binaries",
            path.display()
        );
    }
    (chromium, driver)
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub async fn start_driver(driver: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("starting {}: {error}", driver.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

/// A headless Chromium session with a fresh profile and a window of `width` × `height`.
pub async fn open_browser(
    driver: &Driver,
    chromium: &Path,
    profile: &Path,
    (width, height): (u32, u32),
) -> Client {
    // Without these flags Chromium tries to reach Google's services and, on a closed network,
    // hangs on the attempts.
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--hide-scrollbars".to_owned(),
        "--force-device-scale-factor=1".to_owned(),
        "--lang=zh-CN".to_owned(),
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|error| panic!("opening a Chromium session through chromedriver: {error}"))
}

/// Runs `script` in the page until it returns something other than null/false; after
/// `seconds`, fails naming `what`, the page's address and the start of its text.
pub async fn wait_for_js(browser: &Client, script: &str, seconds: u64, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let answer = browser.execute(script, vec![]).await.unwrap();
        if !matches!(answer, Value::Null | Value::Bool(false)) {
            return answer;
        }
        if Instant::now() > deadline {
            let body = browser
                .execute(
                    "return document.body ? document.body.innerText.slice(0, 1500) : ''",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            let url = browser.current_url().await.map(|u| u.to_string());
            panic!("waited {seconds} s for {what}; at {url:?} the page says: {body}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
