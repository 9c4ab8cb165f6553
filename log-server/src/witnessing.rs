//! Gathering witness cosignatures: the log's side of c2sp.org/tlog-witness.
//!
//! The witnesses and the quorum come from the witness policy file (the
//! ecosystem's text format: `witness <name> <vkey> <url>`, `group`,
//! `quorum`). In rounds, the newest committed checkpoint goes to every
//! witness at once, each with a consistency proof from the size that
//! witness last cosigned (learned from its 409 answers and remembered).
//! Once the answers are in (each bounded by a timeout), a checkpoint whose
//! cosignatures meet the quorum is published with all of them, and kept in
//! storage ([`Storage::write_witnessed_checkpoint`]) so a restart publishes
//! it again.
//! Sequencing never waits for any of this; a witness that fails is retried
//! in later rounds after a growing pause.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::Note;
use gazette_client::policy::{Policy, PolicyWitness};
use gazette_client::witness_protocol::AddCheckpointRequest;

use crate::checkpoints::{Committed, CommittedCheckpoint, Witnessed, WitnessedCheckpoint};
use crate::storage::Storage;
use crate::stored;

/// How long one witness may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause before a failing witness is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the log knows of one witness.
struct Follower {
    witness: PolicyWitness,
    url: String,
    /// The size it last cosigned, as far as the log knows.
    size: u64,
    /// Not before this instant (after failures).
    retry_at: Instant,
    backoff: Duration,
}

/// Starts the rounds on the current tokio runtime.
pub fn spawn(
    policy: Policy,
    storage: Arc<dyn Storage>,
    committed: Committed,
    published: Witnessed,
) {
    let followers: Vec<Follower> = policy
        .witnesses()
        .iter()
        .filter_map(|w| {
            let url = w.url.clone()?;
            Some(Follower {
                witness: w.clone(),
                url: url.trim_end_matches('/').to_owned(),
                size: 0,
                retry_at: Instant::now(),
                backoff: Duration::from_millis(100),
            })
        })
        .collect();
    tokio::spawn(rounds(policy, followers, storage, committed, published));
}

async fn rounds(
    policy: Policy,
    mut followers: Vec<Follower>,
    storage: Arc<dyn Storage>,
    committed: Committed,
    published: Witnessed,
) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client: not witnessing");
            return;
        }
    };
    let mut changes = committed.subscribe();
    loop {
        let latest = changes.borrow_and_update().clone();
        if latest.size <= published.borrow().size {
            // Nothing new to witness: wait for a commit, or for a failed
            // witness's retry time.
            let wait = followers
                .iter()
                .map(|f| f.retry_at.saturating_duration_since(Instant::now()))
                .min()
                .unwrap_or(MAX_BACKOFF)
                .max(Duration::from_millis(50));
            let _ = tokio::time::timeout(wait, changes.changed()).await;
            continue;
        }
        let round = followers
            .iter_mut()
            .filter(|f| f.retry_at <= Instant::now())
            .map(|f| {
                let (client, storage, latest) = (&client, storage.clone(), latest.clone());
                async move {
                    let answer = ask(client, f, storage, &latest).await;
                    (f, answer)
                }
            });
        let answers = futures_util::future::join_all(round).await;
        let mut lines: Vec<(usize, String)> = Vec::new();
        for (f, answer) in answers {
            match answer {
                Ok(line) => {
                    f.size = latest.size;
                    f.backoff = Duration::from_millis(100);
                    let index = policy
                        .witnesses()
                        .iter()
                        .position(|w| w.name == f.witness.name)
                        .unwrap_or(usize::MAX);
                    lines.push((index, line));
                }
                Err(e) => {
                    tracing::warn!(witness = %f.witness.name, error = %e, "witness did not cosign");
                    metrics::counter!("gazette_witness_failures_total", "witness" => f.witness.name.clone())
                        .increment(1);
                    f.retry_at = Instant::now() + f.backoff;
                    f.backoff = (f.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        lines.sort();
        let mut note = String::from_utf8_lossy(&latest.note).into_owned();
        for (_, line) in &lines {
            note.push_str(line);
        }
        match policy.verify_checkpoint(note.as_bytes()) {
            Ok(_) => {
                let witnessed = Arc::new(WitnessedCheckpoint {
                    size: latest.size,
                    root: latest.root,
                    note: note.into_bytes(),
                });
                let write = {
                    let (storage, witnessed) = (storage.clone(), witnessed.clone());
                    tokio::task::spawn_blocking(move || {
                        storage.write_witnessed_checkpoint(&witnessed.note)
                    })
                    .await
                };
                if !matches!(write, Ok(Ok(()))) {
                    tracing::error!(
                        "could not keep the witnessed checkpoint; publishing it anyway"
                    );
                }
                metrics::gauge!(crate::metrics::PUBLISHED_SIZE).set(witnessed.size as f64);
                published.send_replace(witnessed);
            }
            Err(e) => {
                tracing::debug!(error = %e, "quorum not met yet");
                // Let the failing witnesses' pauses run before the next round.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Sends `latest` to one witness; its cosignature line on success. A 409
/// teaches the witness's size, and the request is sent once more from it.
async fn ask(
    client: &reqwest::Client,
    f: &mut Follower,
    storage: Arc<dyn Storage>,
    latest: &Arc<CommittedCheckpoint>,
) -> Result<String, String> {
    for _ in 0..2 {
        let old = f.size;
        if old > latest.size {
            return Err(format!(
                "the witness holds size {old}, beyond this log's {}: it follows another tree",
                latest.size
            ));
        }
        let proof = if old == 0 || old == latest.size {
            Vec::new()
        } else {
            let (storage, latest) = (storage.clone(), latest.clone());
            tokio::task::spawn_blocking(move || {
                stored::consistency_proof(storage.as_ref(), &latest, old, latest.size)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
        };
        let note = String::from_utf8_lossy(&latest.note).into_owned();
        let text = Note::parse(note.as_bytes())
            .map_err(|e| e.to_string())?
            .text;
        let checkpoint = Checkpoint::parse(&text).map_err(|e| e.to_string())?;
        let body = AddCheckpointRequest {
            old_size: old,
            proof,
            note,
            checkpoint,
        }
        .to_body();
        let reply = client
            .post(format!("{}/add-checkpoint", f.url))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = reply.status().as_u16();
        let answer = reply.text().await.map_err(|e| e.to_string())?;
        match status {
            200 => {
                let line = answer
                    .lines()
                    .map(|l| format!("{l}\n"))
                    .find(|l| {
                        Cosignature::parse_line(l)
                            .is_ok_and(|c| c.verify(&f.witness.verifier, &text).is_ok())
                    })
                    .ok_or_else(|| format!("no valid cosignature in the answer {answer:?}"))?;
                return Ok(line);
            }
            409 => {
                f.size = answer
                    .trim()
                    .parse()
                    .map_err(|_| format!("409 without a size: {answer:?}"))?;
            }
            other => return Err(format!("{other}: {}", answer.trim())),
        }
    }
    Err("the witness's size kept changing".into())
}
