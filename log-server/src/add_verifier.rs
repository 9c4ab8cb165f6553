//! The signatures of `POST /add` records, checked together: one thread
//! takes every record waiting when it turns to the queue and checks them
//! with one batch equation (`SignedRecord::verify_many_owned`, about four
//! times cheaper per record than one by one, with exactly the same result
//! for each record). A lone record is checked at once, alone, so nothing
//! waits for a batch to fill; under load the queue fills while the previous
//! batch is checked, and the batches grow with the load.
//!
//! A batch holding a bad signature is split in halves until the bad ones
//! are named (the core's rule), so a client sending forged records costs
//! the others a few extra equations, never a wrong answer.

use std::sync::Arc;

use gazette_client::note::Verifier;
use gazette_client::record::{RecordError, SignedRecord};
use tokio::sync::{mpsc, oneshot};

use crate::agencies::Agency;

/// Most records checked in one batch.
const MAX_BATCH: usize = 1024;

/// One record to check, against the agencies registered when it arrived.
struct Job {
    body: Vec<u8>,
    agencies: Arc<Vec<Agency>>,
    reply: oneshot::Sender<Result<SignedRecord, RecordError>>,
}

/// The queue of `/add` records to check, and its thread.
pub struct AddVerifier {
    jobs: mpsc::Sender<Job>,
}

/// Why a record could not be checked: the checking thread is gone (it
/// panicked; the log answers 500).
#[derive(Debug, thiserror::Error)]
#[error("the signature checking thread stopped")]
pub struct VerifierGone;

impl AddVerifier {
    /// Starts the thread; `capacity` records may wait (the `/add` turns,
    /// so a sender never waits for room).
    pub fn start(capacity: usize) -> AddVerifier {
        let (jobs, queue) = mpsc::channel(capacity.max(1));
        std::thread::Builder::new()
            .name("add-verifier".into())
            .spawn(move || run(queue))
            .expect("start the add-verifier thread");
        AddVerifier { jobs }
    }

    /// Checks `body`, a signed record, against `agencies`.
    pub async fn verify(
        &self,
        body: Vec<u8>,
        agencies: Arc<Vec<Agency>>,
    ) -> Result<Result<SignedRecord, RecordError>, VerifierGone> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            body,
            agencies,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| VerifierGone)?;
        answer.await.map_err(|_| VerifierGone)
    }
}

/// Until every sender is gone: takes what is waiting, checks it, answers.
fn run(mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // The agencies file rarely changes: a batch is one group, but
        // records that arrived on either side of a reload are checked each
        // against their own list.
        while !batch.is_empty() {
            let agencies = batch[0].agencies.clone();
            let (same, rest): (Vec<Job>, Vec<Job>) = batch
                .drain(..)
                .partition(|job| Arc::ptr_eq(&job.agencies, &agencies));
            batch = rest;
            check(same, &agencies);
        }
    }
}

/// Checks one group of records against one list of agencies.
fn check(jobs: Vec<Job>, agencies: &[Agency]) {
    let keys: Vec<Verifier> = agencies.iter().map(|a| a.key.clone()).collect();
    let (bodies, replies): (Vec<Vec<u8>>, Vec<_>) =
        jobs.into_iter().map(|job| (job.body, job.reply)).unzip();
    let results = SignedRecord::verify_many_owned(bodies, &keys);
    for (reply, result) in replies.into_iter().zip(results) {
        // A client that went away no longer waits for its answer.
        let _ = reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gazette_client::note::{KeyType, Signer};
    use gazette_client::record::Record;

    fn agency(seed: u8) -> Signer {
        Signer::from_seed(
            &format!("a{seed}.example.gov"),
            KeyType::Ed25519,
            [seed; 32],
        )
        .unwrap()
    }

    fn signed(by: &Signer, n: u64) -> Vec<u8> {
        Record::new(
            by.name(),
            "deed",
            &format!("D-{n}"),
            [n as u8; 32],
            "2026-12-05T00:00:00Z",
        )
        .sign(by)
        .unwrap()
        .bytes
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_checked_together_get_each_its_own_answer() {
        let (good, stranger) = (agency(1), agency(2));
        let agencies = Arc::new(vec![Agency {
            key: good.verifier(),
            since: 0,
        }]);
        let verifier = Arc::new(AddVerifier::start(64));
        let mut tasks = Vec::new();
        for n in 0..48u64 {
            let body = match n % 4 {
                0 => signed(&stranger, n),
                1 => {
                    let mut forged = signed(&good, n);
                    let at = forged.iter().position(|&b| b == b'D').unwrap();
                    forged[at] = b'E';
                    forged
                }
                _ => signed(&good, n),
            };
            let (verifier, agencies) = (verifier.clone(), agencies.clone());
            tasks.push(tokio::spawn(async move {
                (n, verifier.verify(body, agencies).await.unwrap())
            }));
        }
        for task in tasks {
            let (n, result) = task.await.unwrap();
            match n % 4 {
                0 => assert!(
                    matches!(result, Err(RecordError::UnknownIssuer { .. })),
                    "{n}: {result:?}"
                ),
                1 => assert!(
                    matches!(result, Err(RecordError::BadSignature { .. })),
                    "{n}: {result:?}"
                ),
                _ => assert_eq!(result.unwrap().record.id, format!("D-{n}")),
            }
        }
    }
}
