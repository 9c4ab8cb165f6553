//! `./scripts/demo --distributed`: the log on distributed engines, on
//! loopback — a 3-node Garage cluster (replication factor 3) holding the
//! tiles, a 3-node etcd cluster holding the sequencer lease and the
//! checkpoint, two `gazette-log` processes (one sequencing, one standing
//! by) and a read replica, with example documents logged. Prints the URLs
//! and what to try; Ctrl-C stops everything (the engines die with it).

use std::time::Duration;

use gazette_client::record::Record;
use gazette_tests::distributed::{Cluster, agency, wait_sequencing};
use gazette_tests::{add_batch, document_digest};

const DOCUMENTS: [(&str, &str); 3] = [
    (
        "building-permit.txt",
        "Building permit BP-2026-0311\nParcel: 7-12, River Quarter\nIssued by the City, 2026-11-20\n",
    ),
    (
        "business-licence.txt",
        "Business licence BL-2026-0042\nHolder: Liu Yang, bakery\nIssued by the City, 2026-11-21\n",
    ),
    (
        "inspection-report.txt",
        "Fire inspection report FI-2026-1187\nPremises: 3 Harbour Road\nResult: passed\n",
    ),
];

fn main() {
    println!("==> starting Garage x3 and etcd x3 on 127.0.0.1");
    let cluster = Cluster::start_with(5);
    let sequencer = cluster.serve(&cluster.node_dir("log-a", true), &[]);
    assert!(
        wait_sequencing(&sequencer.url, Duration::from_secs(60)),
        "the first log did not start sequencing"
    );
    println!("==> logging the example documents");
    let examples = cluster.node_dir("examples", false);
    let records: Vec<Vec<u8>> = DOCUMENTS
        .iter()
        .enumerate()
        .map(|(n, (name, text))| {
            std::fs::write(examples.join(name), text).expect("write an example");
            Record::new(
                agency().name(),
                "permit",
                &format!("DEMO-{n}"),
                document_digest(text.as_bytes()),
                "2026-12-05T09:00:00Z",
            )
            .sign(&agency())
            .expect("sign")
            .bytes
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(add_batch(&sequencer.url, records));
    let standby = cluster.serve(&cluster.node_dir("log-b", true), &[]);
    let replica = cluster.serve(&cluster.node_dir("replica", false), &["--replica"]);
    println!(
        "
Gazette is running on distributed engines, on 127.0.0.1:

  sequencer (pid {}):  {}/
  standby:               {}/   (serves reads; takes over when the sequencer dies)
  read replica:          {}/
  Garage S3 endpoints:   {}
  etcd members:          {}

The verification page is served by each of them: open the replica's, and
drop a document from {}.

Try:
  kill -9 {}      # the sequencer: within 5 s the standby sequences
  curl {}/healthz  # the standby: 503 until then, 200 after
  curl {}/checkpoint   # the replica follows whoever sequences

Ctrl-C stops everything.",
        sequencer.pid(),
        sequencer.url,
        standby.url,
        replica.url,
        cluster.garage.s3_endpoints().join(" "),
        cluster.etcd.client_endpoints().join(" "),
        examples.display(),
        sequencer.pid(),
        standby.url,
        replica.url,
    );
    // Dropping the handles stops the logs; the engines die with this
    // process in any case.
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    });
    println!("\n==> stopping");
}
