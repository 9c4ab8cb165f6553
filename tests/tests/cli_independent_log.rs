//! The CLI against a log laid out by an independent C2SP implementation:
//! Cloudflare azul's `tlog_tiles` and `signed_note` (crates.io 0.2.0, ports
//! of Go's sumdb tlog and note) compute the stored hashes, the hash tiles,
//! the roots, the inclusion and consistency proofs, the checkpoint text and
//! its Ed25519 note signature. This file only frames the entry bundles
//! (`u16_be(len) || entry`: 0.2.0 has no bundle code), maps azul's Go-style
//! tile paths to C2SP ones and writes the files. Python's `http.server`
//! serves them; a real `gazette-witness` cosigns each checkpoint through
//! c2sp.org/tlog-witness `add-checkpoint`. No Gazette log is involved, and
//! nothing of `gazette_client` shapes what is served but the records inside
//! the entries.

use std::path::{Path, PathBuf};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::process::StaticServer;
use gazette_tests::{Server, binary, line_value, run, run_status};
use signed_note::{Note, StandardSigner};
use tlog_tiles::{
    Checkpoint, Hash, HashReader, Tile, TileHashReader, TileReader, check_record, prove_record,
    prove_tree, stored_hashes, tree_hash,
};

const ORIGIN: &str = "azul.example/independent-log";
/// c2sp.org/tlog-tiles fixes the tile height.
const HEIGHT: u8 = 8;

fn agency() -> Signer {
    Signer::from_seed("azul-agency.example.gov", KeyType::Ed25519, [9; 32]).unwrap()
}

/// Entry `n`: a Gazette signed record, so that `verify` can read it.
fn record(n: u64) -> Vec<u8> {
    let mut digest = [0x5a; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "permit",
        &format!("A-{n}"),
        digest,
        "2026-12-05T00:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

/// A log kept with azul's code: its entries, the stored hashes
/// `tlog_tiles::stored_hashes` gave for them, and its note key.
struct AzulLog {
    entries: Vec<Vec<u8>>,
    hashes: Vec<Hash>,
    signer: StandardSigner,
    vkey: String,
}

impl HashReader for AzulLog {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                let i = usize::try_from(i).map_err(|_| tlog_tiles::Error::IndexesNotInTree)?;
                self.hashes
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl AzulLog {
    fn new() -> AzulLog {
        let (skey, vkey) = signed_note::generate_key(&mut rand_core::OsRng, ORIGIN);
        AzulLog {
            entries: Vec::new(),
            hashes: Vec::new(),
            signer: StandardSigner::new(&skey).unwrap(),
            vkey,
        }
    }

    fn size(&self) -> u64 {
        self.entries.len() as u64
    }

    fn append(&mut self, entry: Vec<u8>) {
        let new = stored_hashes(self.size(), &entry, self).unwrap();
        self.hashes.extend(new);
        self.entries.push(entry);
    }

    fn root(&self) -> Hash {
        tree_hash(self.size(), self).unwrap()
    }

    /// Writes the tiles and entry bundles a log publishes when it grows
    /// from `old` entries to its size, as `Tile::new_tiles` lists them.
    fn publish_tiles(&self, dir: &Path, old: u64) {
        for tile in Tile::new_tiles(HEIGHT, old, self.size()) {
            write(dir, &c2sp_path(&tile), &tile.read_data(self).unwrap());
            if tile.level() == 0 {
                let start = usize::try_from(tile.level_index() << HEIGHT).unwrap();
                let entries = &self.entries[start..start + tile.width() as usize];
                let mut bundle = tile;
                bundle.set_is_data();
                write(dir, &c2sp_path(&bundle), &frame(entries));
            }
        }
    }

    /// The checkpoint of the tree as it is, signed by the log.
    fn signed_checkpoint(&self) -> Vec<u8> {
        let text = Checkpoint::new(ORIGIN, self.size(), self.root(), "")
            .unwrap()
            .to_bytes();
        let mut note = Note::new(&text, &[]).unwrap();
        note.add_sigs(&[&self.signer]).unwrap();
        note.to_bytes()
    }
}

/// c2sp.org/tlog-tiles paths from azul's `Tile::path`, which in 0.2.0
/// writes Go sumdb paths: the height in the path and `data` for the
/// entries (`tile/8/0/001.p/44`, `tile/8/data/000`), where C2SP fixes the
/// height at 8, leaves it out and names the bundles `entries`.
fn c2sp_path(tile: &Tile) -> String {
    let sumdb = tile.path();
    let rest = sumdb.strip_prefix("tile/8/").expect("height 8");
    match rest.strip_prefix("data/") {
        Some(index) => format!("tile/entries/{index}"),
        None => format!("tile/{rest}"),
    }
}

/// An entry bundle, framed by hand: azul's 0.2.0 has no bundle code.
fn frame(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(&u16::try_from(entry.len()).unwrap().to_be_bytes());
        out.extend_from_slice(entry);
    }
    out
}

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, bytes).unwrap();
}

/// The layout read back with azul's own verifying reader, so that a
/// failure of the CLI below is not a broken layout.
struct Layout<'a>(&'a Path);

impl TileReader for Layout<'_> {
    fn height(&self) -> u8 {
        HEIGHT
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                std::fs::read(self.0.join(c2sp_path(t))).map_err(|_| tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// azul's proof of entry `index` computed from the tiles in `dir` alone.
fn azul_proves_from_tiles(dir: &Path, log: &AzulLog, index: u64) -> Result<(), tlog_tiles::Error> {
    let (size, root) = (log.size(), log.root());
    let proof = prove_record(size, index, &TileHashReader::new(size, root, &Layout(dir)))?;
    let leaf = tlog_tiles::record_hash(&log.entries[usize::try_from(index).unwrap()]);
    check_record(&proof, size, root, index, leaf)
}

/// A `gazette-witness` following the log; its URL and verifier key.
fn start_witness(work: &Path, log_vkey: &str) -> (Server, String) {
    let dir = work.join("witness");
    let d = dir.to_str().unwrap();
    let out = run(
        "gazette-witness",
        &["init", "--name", "w1.example.org", "--dir", d],
    );
    let vkey = line_value(&out, "witness verifier key:");
    run(
        "gazette-witness",
        &[
            "add-log", "--origin", ORIGIN, "--vkey", log_vkey, "--dir", d,
        ],
    );
    let server = Server::start(&binary("gazette-witness"), &dir, "127.0.0.1:0");
    (server, vkey)
}

/// c2sp.org/tlog-witness `add-checkpoint` from `old` with azul's
/// consistency proof; the log's note with the cosignature appended, as
/// azul's note parser reads it back.
fn cosign(witness: &str, old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&format!("{hash}\n"));
    }
    body.push('\n');
    let mut body = body.into_bytes();
    body.extend_from_slice(note);
    let reply = reqwest::blocking::Client::new()
        .post(format!("{witness}/add-checkpoint"))
        .body(body)
        .send()
        .unwrap();
    let status = reply.status();
    let cosignature = reply.bytes().unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&cosignature));
    Note::from_bytes(&[note, &cosignature].concat())
        .unwrap()
        .to_bytes()
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => walk(root, &path, out),
                false => out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned(),
                ),
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for file in files(from) {
        write(to, &file, &std::fs::read(from.join(&file)).unwrap());
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn online_commands_verify_a_log_laid_out_by_azul_and_cosigned_by_our_witness() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let public: PathBuf = w.join("public");
    let mut log = AzulLog::new();
    let (witness, witness_vkey) = start_witness(w, &log.vkey);
    let policy = w.join("policy.txt");
    std::fs::write(
        &policy,
        format!("log {}\nwitness w1 {witness_vkey}\nquorum w1\n", log.vkey),
    )
    .unwrap();

    // Size A: one full tile and a partial one, in C2SP paths.
    for n in 0..300 {
        log.append(record(n));
    }
    log.publish_tiles(&public, 0);
    let first = cosign(&witness.url, 0, &[], &log.signed_checkpoint());
    std::fs::write(public.join("checkpoint"), &first).unwrap();
    assert_eq!(
        files(&public),
        [
            "checkpoint",
            "tile/0/000",
            "tile/0/001.p/44",
            "tile/1/000.p/1",
            "tile/entries/000",
            "tile/entries/001.p/44",
        ]
    );
    azul_proves_from_tiles(&public, &log, 299).unwrap();
    let server = StaticServer::start(&public);
    let (trusted, evidence, old_checkpoint) = (
        w.join("trusted"),
        w.join("evidence"),
        w.join("old.checkpoint"),
    );
    let gazette = |command: &str, url: &str, state: &Path, extra: &[&str]| {
        let mut args = vec![
            command,
            "--log",
            url,
            "--policy",
            p(&policy),
            "--state",
            p(state),
            "--evidence",
            p(&evidence),
            "--tiles-only",
        ];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };
    let (code, out, err) = gazette("checkpoint", &server.url, &trusted, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"size\":300"), "{out}");
    assert!(out.contains("\"witnesses\":[\"w1\"]"), "{out}");
    std::fs::copy(&trusted, &old_checkpoint).unwrap();
    // Entries in the full bundle and in the partial one at the right edge.
    for index in [0, 3, 255, 256, 299] {
        let index = index.to_string();
        let (code, _, err) = gazette("inclusion", &server.url, &trusted, &["--index", &index]);
        assert_eq!(code, 0, "{index}: {err}");
    }

    // A receipt built from azul's inclusion proof, without `extra`: the
    // entry is given beside it.
    let index = 3;
    let mut receipt = format!("c2sp.org/tlog-proof@v1\nindex {index}\n");
    for hash in prove_record(log.size(), index, &log).unwrap() {
        receipt.push_str(&format!("{hash}\n"));
    }
    receipt.push('\n');
    let mut receipt = receipt.into_bytes();
    receipt.extend_from_slice(&first);
    let (receipt_file, entry_file) = (w.join("r3.tlog-proof"), w.join("r3.entry"));
    std::fs::write(&receipt_file, receipt).unwrap();
    std::fs::write(&entry_file, record(index)).unwrap();
    let vkey = agency().verifier().to_string();
    let (code, out, err) = run_status(
        "gazette",
        &[
            "verify",
            p(&receipt_file),
            "--entry",
            p(&entry_file),
            "--policy",
            p(&policy),
            "--agency",
            &vkey,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"agency_signature\":\"verified\""), "{out}");
    assert!(out.contains("\"id\":\"A-3\""), "{out}");

    // Size B: the log writes the new tiles beside the old ones, the
    // witness cosigns from A with azul's consistency proof, and the CLI
    // advances its trusted checkpoint by a proof from the tiles.
    for n in 300..700 {
        log.append(record(n));
    }
    log.publish_tiles(&public, 300);
    let proof = prove_tree(log.size(), 300, &log).unwrap();
    let second = cosign(&witness.url, 300, &proof, &log.signed_checkpoint());
    std::fs::write(public.join("checkpoint"), &second).unwrap();
    azul_proves_from_tiles(&public, &log, 650).unwrap();
    let (code, out, err) = gazette("checkpoint", &server.url, &trusted, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"size\":700"), "{out}");
    let (code, out, err) = gazette(
        "consistency",
        &server.url,
        &trusted,
        &["--from", p(&old_checkpoint), "--json"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"old\":300"), "{out}");
    assert!(out.contains("\"size\":700"), "{out}");
    for index in [3, 299, 650, 699] {
        let index = index.to_string();
        let (code, _, err) = gazette("inclusion", &server.url, &trusted, &["--index", &index]);
        assert_eq!(code, 0, "{index}: {err}");
    }

    // One flipped byte in a full hash tile of a copy (in entry 3's
    // sibling, the proof's first hash): azul and the CLI both refuse it.
    // (azul 0.2.0's `TileHashReader` hands this tile's hashes on
    // unauthenticated and only `check_record` catches the lie: it checks
    // tiles against their parents from position `stx.len()` on, 6 for the
    // six subtrees of 700, but those subtrees share two tiles, so the
    // third, `tile/0/000`, is never checked.)
    let tampered = w.join("tampered");
    copy_tree(&public, &tampered);
    let tile = tampered.join("tile/0/000");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[2 * 32] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    assert!(azul_proves_from_tiles(&tampered, &log, 3).is_err());
    let liar = StaticServer::start(&tampered);
    let (code, _, err) = gazette("inclusion", &liar.url, &w.join("fresh"), &["--index", "3"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("tile/0/000 is inconsistent"), "{err}");
}
