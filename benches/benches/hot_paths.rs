//! Benchmarks of the protocol core's hot paths: hashing, proof generation
//! and verification over a 1,000,000-leaf tree, proofs from tiles, and the
//! signature checks a client or witness makes. Results: docs/BENCHMARKS.md.
//!
//!     cargo bench -p gazette-benches --bench hot_paths
//!
//! The whole run is kept to a few minutes on a 2-core machine (short warm-up
//! and measurement times, small sample counts).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gazette_client::Hash;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::merkle::{
    ReadError, leaf_hash, node_hash, prove_consistency, prove_inclusion, stored_hash_count,
    stored_hashes_for_leaf, tree_hash, verify_consistency, verify_inclusion,
};
use gazette_client::note::{self, KeyType, Signer};
use gazette_client::policy::Policy;
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tiles::{self, HEIGHT, Tile, TileHashReader, TileReader};

/// Leaves of the tree the stored-hash benchmarks use.
const BIG_TREE: u64 = 1_000_000;
/// Leaves of the tree the tile benchmarks use.
const TILE_TREE: u64 = 100_000;
/// How many different indexes or sizes each proof benchmark cycles through,
/// so one hot path through the tree does not flatter the cache.
const PROBES: usize = 1024;

/// A small deterministic generator (SplitMix64) for probe positions.
struct Probe(u64);

impl Probe {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound
    }
}

/// The stored hashes of a tree of `size` leaves `"leaf <i>"`.
fn stored_hashes(size: u64) -> Vec<Hash> {
    let mut stored = Vec::with_capacity(stored_hash_count(size) as usize);
    for n in 0..size {
        let leaf = leaf_hash(format!("leaf {n}").as_bytes());
        let new = stored_hashes_for_leaf(n, leaf, &stored).unwrap();
        stored.extend(new);
    }
    stored
}

/// A typical signed record of about 500 bytes, and its agency's key.
fn typical_record() -> (Signer, SignedRecord) {
    let agency = Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [3; 32]).unwrap();
    let mut record = Record::new(
        "land-registry.example.gov",
        "property-registration",
        "PR-2026-0001234",
        [0xab; 32],
        "2026-11-24T09:00:00Z",
    );
    record.fields = vec![
        ("parcel".into(), "12-345-678-0001".into()),
        ("district".into(), "North Harbour".into()),
        (
            "register".into(),
            "Land Register of North Harbour, volume 17".into(),
        ),
        ("instrument".into(), "Deed of transfer".into()),
        ("office".into(), "North Harbour District Land Office".into()),
        ("previous".into(), "PR-2019-0009876".into()),
        ("contact".into(), "records@land-registry.example.gov".into()),
    ];
    let signed = record.sign(&agency).unwrap();
    (agency, signed)
}

fn hashing(c: &mut Criterion) {
    let (_, record) = typical_record();
    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Bytes(record.bytes.len() as u64));
    group.bench_function(
        BenchmarkId::new("leaf_hash", format!("{}B", record.bytes.len())),
        |b| b.iter(|| leaf_hash(black_box(&record.bytes))),
    );
    let (left, right) = (leaf_hash(b"left"), leaf_hash(b"right"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("node_hash", |b| {
        b.iter(|| node_hash(black_box(&left), black_box(&right)))
    });
    group.finish();
}

fn proofs(c: &mut Criterion) {
    let stored = stored_hashes(BIG_TREE);
    let root = tree_hash(BIG_TREE, &stored).unwrap();
    let mut probe = Probe(1);
    let indexes: Vec<u64> = (0..PROBES).map(|_| probe.below(BIG_TREE)).collect();
    let old_sizes: Vec<u64> = (0..PROBES).map(|_| 1 + probe.below(BIG_TREE - 1)).collect();
    let leaves: Vec<Hash> = indexes
        .iter()
        .map(|&i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect();
    let inclusion: Vec<Vec<Hash>> = indexes
        .iter()
        .map(|&i| prove_inclusion(i, BIG_TREE, &stored).unwrap())
        .collect();
    let old_roots: Vec<Hash> = old_sizes
        .iter()
        .map(|&m| tree_hash(m, &stored).unwrap())
        .collect();
    let consistency: Vec<Vec<Hash>> = old_sizes
        .iter()
        .map(|&m| prove_consistency(m, BIG_TREE, &stored).unwrap())
        .collect();

    let mut group = c.benchmark_group("proof_1M");
    group.throughput(Throughput::Elements(1));
    let mut k = 0;
    group.bench_function("prove_inclusion", |b| {
        b.iter(|| {
            k = (k + 1) % PROBES;
            prove_inclusion(black_box(indexes[k]), BIG_TREE, &stored).unwrap()
        })
    });
    group.bench_function("verify_inclusion", |b| {
        b.iter(|| {
            k = (k + 1) % PROBES;
            verify_inclusion(
                &leaves[k],
                black_box(indexes[k]),
                BIG_TREE,
                &inclusion[k],
                &root,
            )
            .unwrap()
        })
    });
    group.bench_function("prove_consistency", |b| {
        b.iter(|| {
            k = (k + 1) % PROBES;
            prove_consistency(black_box(old_sizes[k]), BIG_TREE, &stored).unwrap()
        })
    });
    group.bench_function("verify_consistency", |b| {
        b.iter(|| {
            k = (k + 1) % PROBES;
            verify_consistency(
                black_box(old_sizes[k]),
                BIG_TREE,
                &old_roots[k],
                &root,
                &consistency[k],
            )
            .unwrap()
        })
    });
    group.finish();
}

/// Tiles held in memory, served as a log's static read path would.
struct MemoryTiles(HashMap<Tile, Vec<u8>>);

impl TileReader for MemoryTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(t)
                    .cloned()
                    .ok_or_else(|| ReadError::new(format!("no tile {t}")))
            })
            .collect()
    }
}

fn tile_proofs(c: &mut Criterion) {
    let stored = stored_hashes(TILE_TREE);
    let root = tree_hash(TILE_TREE, &stored).unwrap();
    let tiles = MemoryTiles(
        tiles::tiles_for_size(HEIGHT, TILE_TREE)
            .into_iter()
            .map(|t| {
                let data = tiles::read_tile_data(&t, &stored).unwrap();
                (t, data)
            })
            .collect(),
    );
    let reader = TileHashReader::new(TILE_TREE, root, &tiles);
    let mut probe = Probe(2);
    let indexes: Vec<u64> = (0..PROBES).map(|_| probe.below(TILE_TREE)).collect();
    for &i in indexes.iter().take(16) {
        assert_eq!(
            prove_inclusion(i, TILE_TREE, &reader).unwrap(),
            prove_inclusion(i, TILE_TREE, &stored).unwrap()
        );
    }

    let mut group = c.benchmark_group("tiles_100k");
    group.throughput(Throughput::Elements(1));
    let mut k = 0;
    group.bench_function("prove_inclusion_from_tiles", |b| {
        b.iter(|| {
            k = (k + 1) % PROBES;
            prove_inclusion(black_box(indexes[k]), TILE_TREE, &reader).unwrap()
        })
    });
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let log = Signer::from_seed("example.com/log", KeyType::Ed25519, [1; 32]).unwrap();
    let witnesses: Vec<Signer> = (0..3u8)
        .map(|i| {
            Signer::from_seed(
                &format!("witness{i}.example"),
                KeyType::Cosignature,
                [10 + i; 32],
            )
            .unwrap()
        })
        .collect();
    let checkpoint = Checkpoint {
        origin: "example.com/log".to_owned(),
        size: BIG_TREE,
        root: leaf_hash(b"a root"),
        extensions: Vec::new(),
    };
    let text = checkpoint.to_text();
    let signed = checkpoint.sign(&log).unwrap();
    let mut cosigned = signed.clone();
    for witness in &witnesses {
        cosigned.push_str(
            &Cosignature::sign(witness, &text, 1_700_000_000)
                .unwrap()
                .to_line(),
        );
    }
    let mut policy = format!("log {}\n", log.verifier());
    for (i, witness) in witnesses.iter().enumerate() {
        policy.push_str(&format!("witness W{i} {}\n", witness.verifier()));
    }
    policy.push_str("group all-three all W0 W1 W2\nquorum all-three\n");
    let policy = Policy::parse(policy.as_bytes()).unwrap();
    let log_key = [log.verifier()];
    assert_eq!(
        policy
            .verify_checkpoint(cosigned.as_bytes())
            .unwrap()
            .cosignatures
            .len(),
        3
    );
    let (agency, record) = typical_record();
    let agencies = [agency.verifier()];

    let mut group = c.benchmark_group("signatures");
    group.throughput(Throughput::Elements(1));
    group.bench_function("note_open_checkpoint_1sig", |b| {
        b.iter(|| note::open(black_box(signed.as_bytes()), &log_key).unwrap())
    });
    group.bench_function("policy_verify_checkpoint_3cosig", |b| {
        b.iter(|| {
            policy
                .verify_checkpoint(black_box(cosigned.as_bytes()))
                .unwrap()
        })
    });
    group.bench_function(
        BenchmarkId::new("signed_record_verify", format!("{}B", record.bytes.len())),
        |b| b.iter(|| SignedRecord::verify(black_box(&record.bytes), &agencies).unwrap()),
    );
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = hashing, proofs, tile_proofs, signatures
}
criterion_main!(benches);
