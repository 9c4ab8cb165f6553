//! Bodies of the fuzz targets in `client/fuzz`, shared with the stable test
//! that replays their corpora (`client/tests/fuzz_corpus.rs`). Each parses
//! untrusted bytes and, where parsing succeeds, checks that formatting the
//! result and parsing it again gives the same value. They must never panic.

use std::sync::OnceLock;

use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::index::commitment::IndexCommitment;
use gazette_client::index::proof::MapProof;
use gazette_client::index::{ListValue, agency_key, document_key, keys_of_entry};
use gazette_client::note::{self, KeyType, Note, Signer, Verifier};
use gazette_client::policy::Policy;
use gazette_client::record::SignedRecord;
use gazette_client::registry::{AgencyHistory, RegistryEntry, SignedRegistryEntry};
use gazette_client::tiles::Tile;
use gazette_client::tlog_proof::TlogProof;
use gazette_client::witness_protocol::AddCheckpointRequest;

/// A fuzz target body: takes arbitrary bytes, must not panic.
pub type FuzzTarget = fn(&[u8]);

/// The fuzz targets by name, as `client/fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: &[(&str, FuzzTarget)] = &[
    ("note", note),
    ("checkpoint", checkpoint),
    ("cosignature_line", cosignature_line),
    ("policy", policy),
    ("tlog_proof", tlog_proof),
    ("record", record),
    ("tile_path", tile_path),
    ("add_checkpoint", add_checkpoint),
    ("map_proof", map_proof),
    ("index_commitment", index_commitment),
    ("registry_entry", registry_entry),
];

/// Signed-note parsing and opening with no known keys.
pub fn note(data: &[u8]) {
    if let Ok(parsed) = Note::parse(data) {
        assert_eq!(Note::parse(&parsed.to_bytes()).as_ref(), Ok(&parsed));
    }
    let _ = note::open(data, &[]);
}

/// Checkpoint text parsing.
pub fn checkpoint(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = Checkpoint::parse(text)
    {
        assert_eq!(parsed.to_text(), text);
    }
}

/// Cosignature line parsing.
pub fn cosignature_line(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = Cosignature::parse_line(text)
    {
        assert_eq!(Cosignature::parse_line(&parsed.to_line()), Ok(parsed));
    }
}

/// Policy parsing and quorum evaluation.
pub fn policy(data: &[u8]) {
    if let Ok(parsed) = Policy::parse(data) {
        let names: Vec<&str> = parsed.witnesses().iter().map(|w| w.name.as_str()).collect();
        let _ = parsed.quorum_met(&names);
        let _ = parsed.quorum_met(&[]);
    }
}

/// tlog-proof parsing.
pub fn tlog_proof(data: &[u8]) {
    if let Ok(parsed) = TlogProof::parse(data) {
        let again = TlogProof::parse(parsed.to_text().as_bytes()).expect("formatted proof parses");
        assert_eq!(again, parsed);
    }
}

/// Signed record parsing.
pub fn record(data: &[u8]) {
    if let Ok(parsed) = SignedRecord::parse(data) {
        assert_eq!(
            parsed.record.to_text().ok().as_deref(),
            Some(parsed_text(data).as_str())
        );
    }
}

fn parsed_text(data: &[u8]) -> String {
    Note::parse(data).map(|n| n.text).unwrap_or_default()
}

/// Tile path parsing, C2SP and sumdb forms.
pub fn tile_path(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(tile) = Tile::parse_path(text) {
            assert_eq!(tile.path(), text);
        }
        if let Ok(tile) = Tile::parse_sumdb_path(text) {
            assert_eq!(tile.sumdb_path(), text);
        }
    }
}

/// tlog-witness add-checkpoint request parsing.
pub fn add_checkpoint(data: &[u8]) {
    if let Ok(parsed) = AddCheckpointRequest::parse(data) {
        assert_eq!(parsed.to_body().as_bytes(), data);
    }
}

/// Verifiable-index map proof parsing (one encoding per proof), and
/// verification of whatever parses, as presence and as absence.
pub fn map_proof(data: &[u8]) {
    if let Ok(parsed) = MapProof::parse(data) {
        assert_eq!(parsed.to_bytes(), data);
        let key = document_key(&[0; 32]);
        let root = gazette_client::Hash([1; 32]);
        let _ = parsed.verify(&key, None, &root);
        let _ = parsed.verify(&key, Some(&ListValue(gazette_client::Hash([0; 32]))), &root);
    }
}

/// Index commitment entry parsing (one canonical form).
pub fn index_commitment(data: &[u8]) {
    if let Some(parsed) = IndexCommitment::parse(data) {
        assert_eq!(parsed.to_bytes(), data);
    }
}

/// Agency registry entry parsing (one text form), as a signed note and as
/// bare text; what parses is filed under its agency's key and folds into
/// a history without panicking.
pub fn registry_entry(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(entry) = RegistryEntry::parse_text(text)
    {
        assert_eq!(entry.to_text().as_deref(), Ok(text));
    }
    let Ok(parsed) = SignedRegistryEntry::parse(data) else {
        return;
    };
    assert_eq!(parsed.entry.to_text().as_deref(), Ok(parsed.text.as_str()));
    assert_eq!(
        RegistryEntry::parse_text(&parsed.text).as_ref(),
        Ok(&parsed.entry)
    );
    let rebuilt = Note {
        text: parsed.text.clone(),
        signatures: parsed.signatures.clone(),
    }
    .to_bytes();
    let again = SignedRegistryEntry::parse(&rebuilt).expect("a parsed entry re-encodes");
    assert_eq!(
        (&again.entry, &again.text, &again.signatures),
        (&parsed.entry, &parsed.text, &parsed.signatures)
    );
    assert_eq!(keys_of_entry(data), vec![agency_key(&parsed.entry.agency)]);
    // Logged twice by the seeds' log: at most the first one changes the
    // history, every entry is either applied or reported.
    let history = AgencyHistory::fold(registry_log(), &parsed.entry.agency, [(0, data), (1, data)]);
    assert!(history.changes.len() <= 1);
    assert_eq!(history.changes.len() + history.problems.len(), 2);
}

/// The key of the log whose registry entries are in the seed corpus
/// (`gazette.example.gov/log`, seed `[0x4c; 32]`), so that seeds and their
/// mutations with intact signatures reach the rules.
fn registry_log() -> &'static Verifier {
    static LOG: OnceLock<Verifier> = OnceLock::new();
    LOG.get_or_init(|| {
        Signer::from_seed("gazette.example.gov/log", KeyType::Ed25519, [0x4c; 32])
            .expect("a valid key name")
            .verifier()
    })
}
