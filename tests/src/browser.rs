//! Debian's headless Chromium driven through chromedriver (WebDriver), for
//! tests of the verification page. `scripts/test` installs both packages;
//! the page's bundle must be built (`scripts/build-page`, also run by
//! `scripts/test`).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium session; chromedriver is killed when dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a session.
    pub async fn start() -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
            "{CHROMIUM} and {CHROMEDRIVER} are needed: scripts/test installs them \
             (apt-get install chromium chromium-driver)"
        );
        let bundle = page_dir().join("pkg").join("gazette_wasm_bg.wasm");
        assert!(
            bundle.exists(),
            "{} is missing: build the page with scripts/build-page",
            bundle.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // Its own process group: stopping it stops the browsers it started.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=900,1300"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver at {url}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser { client, driver }
    }

    /// Opens `url` and waits until the page is ready (its verdict card idle).
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
        self.wait_for_attr("#verdict", "data-verdict", |v| v == "idle")
            .await;
    }

    /// Waits until `css` has `attr` satisfying `ok`, and returns the value.
    pub async fn wait_for_attr(&self, css: &str, attr: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.attr(attr).await.ok().flatten();
                if let Some(value) = last.as_deref().filter(|v| ok(v)) {
                    return value.to_owned();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}[{attr}] stayed {last:?} for 30 s")
    }

    /// Waits for the page's verdict (not `idle` or `working`) and returns it.
    pub async fn verdict(&self) -> String {
        self.wait_for_attr("#verdict", "data-verdict", |v| {
            !v.is_empty() && v != "idle" && v != "working"
        })
        .await
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.client.find(Locator::Css(css)).await;
        element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(element.text().await.unwrap());
        }
        out
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await;
        element
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Chooses `file` in the file input `css` (as a person picking it would).
    pub async fn choose_file(&self, css: &str, file: &Path) {
        let input = self.client.find(Locator::Css(css)).await;
        input
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap_or_else(|e| panic!("choosing {} in {css}: {e}", file.display()));
    }

    /// Runs `script` (a function body: `return ...`) in the page and
    /// returns its result as text (a string as it is, anything else as JSON).
    pub async fn eval(&self, script: &str) -> String {
        let value = self
            .client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"));
        value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string())
    }

    /// Types `text` into the input `css`, replacing what it held.
    pub async fn type_into(&self, css: &str, text: &str) {
        let input = self.client.find(Locator::Css(css)).await;
        let input = input.unwrap_or_else(|e| panic!("{css}: {e}"));
        input.clear().await.unwrap_or_else(|e| panic!("{css}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Saves a screenshot as `<target>/test-artifacts/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("the artifacts directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop stops chromedriver and anything left of the browser.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: a failed test must not leave Chromium running.
        crate::signal_group(self.driver.id(), "KILL");
        let _ = self.driver.wait();
    }
}

/// The page's folder in the source tree (what `gazette-log` serves by
/// default).
pub fn page_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasm/www")
}

/// `target/test-artifacts`, beside the test binaries' profile directory.
pub fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test> → target/test-artifacts
    exe.ancestors()
        .nth(3)
        .expect("the test runs from target/<profile>/deps")
        .join("test-artifacts")
}
