//! Known-answer and must-reject tests for the verifiable index
//! (`docs/INDEX.md`): `tests/vectors/index.json` holds keys (document,
//! name and agency keys), list values,
//! trees built from raw keys and the segments of a small log, their roots
//! and proofs, commitments, whole lookups against a checkpoint, and
//! proofs, commitments and lookups that must be refused. The file is checked
//! independently by `tests/vectors/verify_index_vectors.py`, written from
//! the specification alone.
//!
//! `GAZETTE_WRITE_VECTORS=1 cargo test -p gazette-client --test
//! index_vectors` rewrites the file from this implementation (then run the
//! Python checker before committing it).

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{VECTORS_DIR, load};
use gazette_client::Hash;
use gazette_client::encoding::hex_decode_lower;
use gazette_client::index::commitment::{IndexCommitment, Segment};
use gazette_client::index::lookup::{ListedEntry, LookupKey, LookupProof, verify_lookup};
use gazette_client::index::proof::{MapProof, MapProofError, Terminal};
use gazette_client::index::tree::{Position, StoredNode, prove, update};
use gazette_client::index::{ListValue, agency_key, document_key, keys_of_entry, name_key};
use gazette_client::merkle::{leaf_hash, prove_inclusion, stored_hashes_for_leaf, tree_hash};
use gazette_client::note::{self, KeyType, Note, NoteSignature, Signer, Verifier};
use gazette_client::record::Record;
use gazette_client::registry::{Action, AgencyHistory, RegistryEntry};
use serde_json::{Value, json};

const FILE: &str = "index.json";

/// The agencies whose agency keys are known answers.
const AGENCY_NAMES: [&str; 2] = ["land-registry.example.gov", "土地登记.example"];

fn hex(bytes: &[u8]) -> String {
    gazette_client::encoding::hex_encode(bytes)
}

fn unhex(text: &str) -> Vec<u8> {
    hex_decode_lower(text).unwrap_or_else(|| panic!("not lowercase hex: {text}"))
}

fn hash(text: &str) -> Hash {
    Hash::from_slice(&unhex(text)).expect("32 bytes")
}

/// A key of 32 bytes all `byte`, with `last` as its final byte.
fn crafted(byte: u8, last: u8) -> Hash {
    let mut k = [byte; 32];
    k[31] = last;
    Hash(k)
}

type Store = HashMap<Position, StoredNode>;

fn build(pairs: &[(Hash, ListValue)]) -> (Store, Hash) {
    let mut store = Store::new();
    let (root, writes) = update(&store, &mut pairs.to_vec()).unwrap();
    store.extend(writes);
    (store, root)
}

/// A named map of raw keys, and the keys to prove in it.
type RawMap = (&'static str, Vec<(Hash, ListValue)>, Vec<Hash>);

/// The raw maps: crafted keys that share long prefixes, an empty map, one
/// key, and keys at both ends of the key space.
fn raw_maps() -> Vec<RawMap> {
    let v = |n: u8| ListValue(Hash([n; 32]));
    let a = crafted(0x00, 0x00);
    let b = crafted(0x00, 0x01); // differs from `a` only in bit 255
    let c = crafted(0xff, 0xff);
    let d = crafted(0x80, 0x00);
    let probe = crafted(0x00, 0x02);
    vec![
        ("empty", vec![], vec![a, c]),
        ("one key", vec![(c, v(1))], vec![c, a, crafted(0xff, 0xfe)]),
        (
            "keys differing in the last bit",
            vec![(a, v(2)), (b, v(3))],
            vec![a, b, probe, c],
        ),
        (
            "four keys",
            vec![(a, v(4)), (b, v(5)), (c, v(6)), (d, v(7))],
            vec![a, b, c, d, probe, crafted(0x40, 0x00), crafted(0xc0, 0x00)],
        ),
    ]
}

struct Agencies {
    land: Signer,
    city: Signer,
}

fn agencies() -> Agencies {
    Agencies {
        land: Signer::from_seed("land-registry.example.gov", KeyType::Ed25519, [1; 32]).unwrap(),
        city: Signer::from_seed("city.example.gov", KeyType::Ed25519, [2; 32]).unwrap(),
    }
}

/// The key of the log whose registry entries the small log holds.
fn log_key() -> Signer {
    Signer::from_seed("gazette.example.gov/log", KeyType::Ed25519, [3; 32]).unwrap()
}

/// A vkey of `name` for the raw Ed25519 key `point` (given in hex).
fn ed25519_vkey(name: &str, point: &str) -> String {
    let point: [u8; 32] = unhex(point).try_into().unwrap();
    let mut key = vec![KeyType::Ed25519.type_byte()];
    key.extend_from_slice(&point);
    let id = note::key_id(name, KeyType::Ed25519, &point);
    format!(
        "{name}+{id:08x}+{}",
        gazette_client::encoding::b64_encode(&key)
    )
}

/// A vkey of `name` for an Ed25519 point of order 8 (canonically encoded).
fn small_order_vkey(name: &str) -> String {
    let vkey = ed25519_vkey(
        name,
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    );
    assert!(Verifier::parse(&vkey).unwrap().is_weak());
    vkey
}

/// A vkey of `name` for the point with y = 3, of full order, encoded not
/// canonically but as y = 3 + p (p = 2^255 - 19), which decoders reducing
/// y accept.
fn non_canonical_vkey(name: &str) -> String {
    let vkey = ed25519_vkey(
        name,
        "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    );
    let key = Verifier::parse(&vkey).unwrap();
    assert!(!key.is_weak() && !key.is_canonical());
    vkey
}

/// Agency registry entries (`gazette.agency/v1`): the land registry's
/// first key and a second one, both migrated (with `from`, the second
/// co-signed anyway: `from` is a migration's only), both filed under its
/// agency key; a registration of a small-order key, an entry with nine
/// signatures and a registration of a key not in its canonical encoding,
/// none a registry entry, so filed nowhere.
fn registry_entries() -> Vec<Vec<u8>> {
    let Agencies { land, city } = agencies();
    let log = log_key();
    let second = Signer::from_seed(land.name(), KeyType::Ed25519, [4; 32]).unwrap();
    let register = |key: &Signer, from| RegistryEntry {
        log: log.name().to_owned(),
        agency: key.name().to_owned(),
        action: Action::Register,
        key: key.verifier(),
        from,
        time: "2026-09-01T00:00:00Z".to_owned(),
    };
    let first = register(&land, Some(0)).sign(&[&log]).unwrap();
    let weak_text = register(&city, None)
        .to_text()
        .unwrap()
        .replace(&city.verifier().to_string(), &small_order_vkey(city.name()));
    let non_canonical_text = register(&city, None).to_text().unwrap().replace(
        &city.verifier().to_string(),
        &non_canonical_vkey(city.name()),
    );
    let mut nine = Note::parse(&first.bytes).unwrap();
    nine.signatures.extend((0..8u32).map(|i| NoteSignature {
        name: format!("witness-{i}.example"),
        key_id: i,
        signature: vec![7; 64],
    }));
    vec![
        first.bytes,
        register(&second, Some(2))
            .sign(&[&log, &land])
            .unwrap()
            .bytes,
        note::sign(&weak_text, &[&log]).unwrap().into_bytes(),
        nine.to_bytes(),
        note::sign(&non_canonical_text, &[&log])
            .unwrap()
            .into_bytes(),
    ]
}

/// A small log: a revocation before its record, a record, another
/// agency's "revocation" of the same kind and id (which revokes nothing,
/// yet is filed under its own issuer's name for it), a second document, a
/// commitment entry and a non-record (both filed nowhere), a record
/// signed twice, and the [`registry_entries`].
fn entries() -> Vec<Vec<u8>> {
    let Agencies { land, city } = agencies();
    let deed = Record::new(
        land.name(),
        "property-registration",
        "PR-1",
        [0xaa; 32],
        "2026-10-01T10:00:00Z",
    );
    let revocation = Record::revocation(
        land.name(),
        "REV-1",
        [0xaa; 32],
        "2026-10-15T14:05:00Z",
        "property-registration",
        "PR-1",
    );
    let stranger = Record::revocation(
        city.name(),
        "REV-9",
        [0xaa; 32],
        "2026-10-16T00:00:00Z",
        "property-registration",
        "PR-1",
    );
    let certificate = Record::new(
        city.name(),
        "e-certificate",
        "C-7",
        [0xbb; 32],
        "2026-11-02T09:30:00Z",
    );
    let commitment = IndexCommitment {
        size: 4,
        segments: vec![Segment {
            start: 0,
            end: 4,
            root: Hash([9; 32]),
        }],
    };
    let mut entries = vec![
        revocation.sign(&land).unwrap().bytes,
        deed.sign(&land).unwrap().bytes,
        stranger.sign(&city).unwrap().bytes,
        certificate.sign(&city).unwrap().bytes,
        commitment.to_bytes(),
        b"not a record\n".to_vec(),
        signed_twice(&certificate.sign(&city).unwrap().bytes, &land),
    ];
    entries.extend(registry_entries());
    entries
}

/// A signed record with a second signature line: not a record (a record
/// has exactly one), so filed nowhere.
fn signed_twice(signed: &[u8], other: &Signer) -> Vec<u8> {
    let mut bytes = signed.to_vec();
    let line = format!(
        "\u{2014} {} {}\n",
        other.name(),
        gazette_client::encoding::b64_encode(&[7; 68])
    );
    bytes.extend_from_slice(line.as_bytes());
    assert!(gazette_client::note::Note::parse(&bytes).is_ok());
    bytes
}

/// Every key's list from the entries `range`, by the naive definition.
fn lists(entries: &[Vec<u8>], range: std::ops::Range<u64>) -> BTreeMap<Hash, Vec<(u64, Hash)>> {
    let mut lists: BTreeMap<Hash, Vec<(u64, Hash)>> = BTreeMap::new();
    for i in range {
        let entry = &entries[i as usize];
        for key in keys_of_entry(entry) {
            lists.entry(key).or_default().push((i, leaf_hash(entry)));
        }
    }
    lists
}

fn value_of(list: &[(u64, Hash)]) -> ListValue {
    ListValue::of(list.iter().map(|(i, h)| (*i, h)))
}

/// The tree of one segment of `entries`.
fn segment(entries: &[Vec<u8>], start: u64, end: u64) -> (Store, Segment) {
    let pairs: Vec<_> = lists(entries, start..end)
        .iter()
        .map(|(k, list)| (*k, value_of(list)))
        .collect();
    let (store, root) = build(&pairs);
    (store, Segment { start, end, root })
}

/// The small log with its commitment appended: two segments, 0..3 and 3..12.
fn committed_log() -> (Vec<Vec<u8>>, IndexCommitment) {
    let mut entries = entries();
    let size = entries.len() as u64;
    let commitment = IndexCommitment {
        size,
        segments: vec![segment(&entries, 0, 3).1, segment(&entries, 3, size).1],
    };
    entries.push(commitment.to_bytes());
    (entries, commitment)
}

/// The RFC 6962 tree of `entries`: its stored hashes.
fn merkle(entries: &[Vec<u8>]) -> Vec<Hash> {
    let mut stored = Vec::new();
    for (n, entry) in entries.iter().enumerate() {
        let hashes = stored_hashes_for_leaf(n as u64, leaf_hash(entry), &stored).unwrap();
        stored.extend(hashes);
    }
    stored
}

fn proof_json(store: &Store, key: &Hash) -> Value {
    let proof = prove(store, key).unwrap();
    json!({
        "key": hex(&key.0),
        "present": proof.terminal == Terminal::Present,
        "proof": hex(&proof.to_bytes()),
    })
}

fn listed_json(entries: &[Vec<u8>], stored: &[Hash], index: u64) -> Value {
    let size = entries.len() as u64;
    let inclusion = prove_inclusion(index, size, stored).unwrap();
    json!({
        "index": index,
        "entry": String::from_utf8(entries[index as usize].clone()).unwrap(),
        "inclusion": inclusion.iter().map(|h| hex(&h.0)).collect::<Vec<_>>(),
    })
}

/// A lookup vector: its name, its key (as JSON and as a map key), the
/// indexes listed, the commitment's index, how many map proofs, and
/// whether it must verify.
type LookupCase = (&'static str, Value, Hash, Vec<u64>, u64, usize, bool);

/// Whole lookups against the committed log, good and forged.
fn lookups() -> Vec<Value> {
    let (entries, commitment) = committed_log();
    let size = entries.len() as u64;
    let stored = merkle(&entries);
    let root = tree_hash(size, &stored).unwrap();
    let stores: Vec<Store> = commitment
        .segments
        .iter()
        .map(|s| segment(&entries, s.start, s.end).0)
        .collect();
    let land = "land-registry.example.gov";
    let city = "city.example.gov";
    let cases: Vec<LookupCase> = vec![
        // (name, key json, map key, listed indexes, commitment index, proofs, valid)
        (
            "a name's record and its earlier revocation",
            json!({"name": {"issuer": land, "kind": "property-registration", "id": "PR-1"}}),
            name_key(land, "property-registration", "PR-1"),
            vec![0, 1],
            size - 1,
            2,
            true,
        ),
        (
            "every record of a document",
            json!({"document": hex(&[0xaa; 32])}),
            document_key(&[0xaa; 32]),
            vec![0, 1, 2],
            size - 1,
            2,
            true,
        ),
        (
            "a document never logged",
            json!({"document": hex(&[0xcc; 32])}),
            document_key(&[0xcc; 32]),
            vec![],
            size - 1,
            2,
            true,
        ),
        (
            "the revocation omitted",
            json!({"name": {"issuer": land, "kind": "property-registration", "id": "PR-1"}}),
            name_key(land, "property-registration", "PR-1"),
            vec![1],
            size - 1,
            2,
            false,
        ),
        (
            "an entry not filed under the key",
            json!({"document": hex(&[0xaa; 32])}),
            document_key(&[0xaa; 32]),
            vec![0, 1, 2, 3],
            size - 1,
            2,
            false,
        ),
        (
            "a commitment that is not the last entry",
            json!({"document": hex(&[0xcc; 32])}),
            document_key(&[0xcc; 32]),
            vec![],
            4,
            2,
            false,
        ),
        (
            "one map proof missing",
            json!({"document": hex(&[0xcc; 32])}),
            document_key(&[0xcc; 32]),
            vec![],
            size - 1,
            1,
            false,
        ),
        (
            "an agency's registry entries",
            json!({"agency": land}),
            agency_key(land),
            vec![7, 8],
            size - 1,
            2,
            true,
        ),
        (
            "an agency whose only entries have a small-order or a non-canonical key",
            json!({"agency": city}),
            agency_key(city),
            vec![],
            size - 1,
            2,
            true,
        ),
        (
            "a registry entry omitted",
            json!({"agency": land}),
            agency_key(land),
            vec![7],
            size - 1,
            2,
            false,
        ),
        (
            "a record listed under an agency",
            json!({"agency": land}),
            agency_key(land),
            vec![1, 7, 8],
            size - 1,
            2,
            false,
        ),
        (
            "an entry with a small-order key listed under its agency",
            json!({"agency": city}),
            agency_key(city),
            vec![9],
            size - 1,
            2,
            false,
        ),
        (
            "an entry with a key not in its canonical encoding listed under its agency",
            json!({"agency": city}),
            agency_key(city),
            vec![11],
            size - 1,
            2,
            false,
        ),
    ];
    let mut out: Vec<Value> = cases
        .into_iter()
        .map(|(name, key_json, key, listed, at, proofs, valid)| {
            json!({
                "name": name,
                "key": key_json,
                "size": size,
                "root": hex(&root.0),
                "commitment": listed_json(&entries, &stored, at),
                "entries": listed.iter().map(|i| listed_json(&entries, &stored, *i)).collect::<Vec<_>>(),
                "map_proofs": stores[..proofs].iter().map(|st| hex(&prove(st, &key).unwrap().to_bytes())).collect::<Vec<_>>(),
                "valid": valid,
            })
        })
        .collect();
    // A tree whose last entry is a commitment, but of another size.
    let land_signer = agencies().land;
    let deed = Record::new(
        land,
        "property-registration",
        "PR-2",
        [0xdd; 32],
        "2026-10-01T10:00:00Z",
    );
    let wrong = IndexCommitment {
        size: 0,
        segments: vec![],
    };
    let entries = vec![deed.sign(&land_signer).unwrap().bytes, wrong.to_bytes()];
    let stored = merkle(&entries);
    out.push(json!({
        "name": "a last entry committing to another size",
        "key": json!({"document": hex(&[0xdd; 32])}),
        "size": 2,
        "root": hex(&tree_hash(2, &stored).unwrap().0),
        "commitment": listed_json(&entries, &stored, 1),
        "entries": [],
        "map_proofs": [],
        "valid": false,
    }));
    out
}

fn generate() -> Value {
    let digests = [[0u8; 32], [0xaa; 32]];
    let names = [
        ("land-registry.example.gov", "property-registration", "PR-1"),
        ("city.example.gov", "revocation", "REV-9"),
    ];
    let list_values = [
        vec![(0u64, Hash([1; 32]))],
        vec![(3, Hash([1; 32])), (1 << 40, Hash([2; 32]))],
    ];
    let raw: Vec<Value> = raw_maps()
        .into_iter()
        .map(|(name, pairs, probes)| {
            let (store, root) = build(&pairs);
            json!({
                "name": name,
                "pairs": pairs.iter().map(|(k, v)| json!([hex(&k.0), hex(&v.0.0)])).collect::<Vec<_>>(),
                "root": hex(&root.0),
                "proofs": probes.iter().map(|k| proof_json(&store, k)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (entries, commitment) = committed_log();
    let absent = document_key(&[0xcc; 32]);
    let segments: Vec<Value> = commitment
        .segments
        .iter()
        .map(|seg| {
            let lists = lists(&entries, seg.start..seg.end);
            let (store, _) = segment(&entries, seg.start, seg.end);
            json!({
                "start": seg.start,
                "end": seg.end,
                "root": hex(&seg.root.0),
                "filed": lists.iter().map(|(k, list)| json!({
                    "key": hex(&k.0),
                    "list": list.iter().map(|(i, h)| json!([i, hex(&h.0)])).collect::<Vec<_>>(),
                    "value": hex(&value_of(list).0.0),
                })).collect::<Vec<_>>(),
                "proofs": lists.keys().chain([&absent]).map(|k| proof_json(&store, k)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let commitments = [
        IndexCommitment {
            size: 0,
            segments: vec![],
        },
        commitment.clone(),
        IndexCommitment {
            size: u64::MAX,
            segments: vec![
                Segment {
                    start: 0,
                    end: 1 << 32,
                    root: Hash([0; 32]),
                },
                Segment {
                    start: 1 << 32,
                    end: u64::MAX,
                    root: Hash([0xff; 32]),
                },
            ],
        },
    ];
    let good = String::from_utf8(commitment.to_bytes()).unwrap();
    let first = format!("3 {}\n", commitment.segments[0].root.to_base64());
    let n = commitment.size;
    let size = format!("size {n}");
    let last = format!("\n{n} ");
    let reject_commitments = [
        (
            good.replace(&size, &format!("size 0{n}")),
            "leading zero in the size",
        ),
        (good.replace("\n3 ", "\n03 "), "leading zero in an end"),
        (good.replace(&size, &format!("size +{n}")), "sign"),
        (good.replace(&size, "size 18446744073709551616"), "overflow"),
        (
            good.replace(&size, &format!("size {}", n + 1)),
            "the last end is not the size",
        ),
        (
            good.replace(&last, &format!("\n{} ", n + 1)),
            "the last end past the size",
        ),
        (good.replace("\n3 ", "\n0 "), "an empty segment"),
        (
            good.replace(&first, "")
                .replace(&last, &format!("\n{n} {}{n} ", &first[2..])),
            "an end repeated",
        ),
        (good.trim_end().to_owned(), "no final newline"),
        (format!("{good}\n"), "an empty line at the end"),
        (
            good.replace("gazette.index/v1", "gazette.index/v2"),
            "another version",
        ),
        (good.replace("size ", "size  "), "two spaces"),
        (good.replace('\n', "\r\n"), "CRLF"),
        (good.replacen("\n3 ", "\n3\t", 1), "a tab"),
        (good.replacen("=\n", "\n", 1), "unpadded base64"),
        (good.replace("gazette.index/v1\n", ""), "no header"),
        (
            "gazette.index/v1\nsize 0\n0 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".to_owned(),
            "a segment in an empty map",
        ),
        (
            (1..=65u64).fold("gazette.index/v1\nsize 65\n".to_owned(), |text, end| {
                text + &format!("{end} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            }),
            "65 segments",
        ),
        (
            "gazette.index/v1\nsize 1\n1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n".to_owned(),
            "non-canonical base64 (unused bits set)",
        ),
    ];
    json!({
        "source": "generated by client/tests/index_vectors.rs (GAZETTE_WRITE_VECTORS=1) from docs/INDEX.md; checked by verify_index_vectors.py",
        "document_keys": digests.iter().map(|d| json!({"digest": hex(d), "key": hex(&document_key(d).0)})).collect::<Vec<_>>(),
        "name_keys": names.iter().map(|(i, k, id)| json!({"issuer": i, "kind": k, "id": id, "key": hex(&name_key(i, k, id).0)})).collect::<Vec<_>>(),
        "agency_keys": AGENCY_NAMES.iter().map(|a| json!({"agency": a, "key": hex(&agency_key(a).0)})).collect::<Vec<_>>(),
        "list_values": list_values.iter().map(|list| json!({
            "list": list.iter().map(|(i, h)| json!([i, hex(&h.0)])).collect::<Vec<_>>(),
            "value": hex(&value_of(list).0.0),
        })).collect::<Vec<_>>(),
        "raw_maps": raw,
        "log": {
            "entries": entries.iter().map(|e| String::from_utf8(e.clone()).unwrap()).collect::<Vec<_>>(),
            "segments": segments,
        },
        "commitments": commitments.iter().map(|c| json!({
            "text": String::from_utf8(c.to_bytes()).unwrap(),
            "size": c.size,
            "segments": c.segments.iter().map(|s| json!([s.end, hex(&s.root.0)])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "reject_commitments": reject_commitments.iter().map(|(t, why)| json!({"text": t, "why": why})).collect::<Vec<_>>(),
        "reject_proofs": reject_proofs(),
        "lookups": lookups(),
    })
}

/// Proofs that must be refused, each made from a good one of the
/// four-key raw map.
fn reject_proofs() -> Vec<Value> {
    let (_, pairs, _) = raw_maps().remove(3);
    let (store, root) = build(&pairs);
    let (a, va) = pairs[0];
    let (b, _) = pairs[1];
    let absent = crafted(0x40, 0x00); // an empty half on its path
    let good = prove(&store, &a).unwrap();
    let bytes = good.to_bytes();
    let mut flipped = good.clone();
    flipped.siblings[0].0[0] ^= 1;
    let mut out = vec![];
    let mut push = |key: &Hash, value: Option<&ListValue>, proof: Vec<u8>, why: &str| {
        out.push(json!({
            "key": hex(&key.0),
            "root": hex(&root.0),
            "value": value.map(|v| hex(&v.0.0)),
            "proof": hex(&proof),
            "why": why,
        }))
    };
    push(&a, Some(&va), flipped.to_bytes(), "wrong sibling");
    push(&b, Some(&va), bytes.clone(), "another key's proof");
    push(
        &a,
        Some(&ListValue(Hash([0x55; 32]))),
        bytes.clone(),
        "wrong value",
    );
    push(&a, None, bytes.clone(), "presence proof used as absence");
    let absence = prove(&store, &absent).unwrap();
    push(
        &absent,
        Some(&va),
        absence.to_bytes(),
        "absence proof used as presence",
    );
    push(
        &a,
        Some(&va),
        bytes[..bytes.len() - 1].to_vec(),
        "truncated",
    );
    push(
        &a,
        Some(&va),
        [bytes.as_slice(), &[0]].concat(),
        "trailing byte",
    );
    let mut unknown = bytes.clone();
    unknown[0] = 0x03;
    push(&a, Some(&va), unknown, "unknown terminal");
    let mut deep = bytes.clone();
    deep[1..3].copy_from_slice(&257u16.to_be_bytes());
    push(&a, Some(&va), deep, "depth over 256");
    // c's path ends at depth 2: a bitmap bit set just past it.
    let (c, vc) = pairs[2];
    let mut past = prove(&store, &c).unwrap().to_bytes();
    assert_eq!(u16::from_be_bytes([past[1], past[2]]), 2);
    past[3] |= 0x80 >> 2;
    push(&c, Some(&vc), past, "bitmap bit past the depth");
    // a's path is 256 deep, mostly past empty siblings: the same proof
    // with every sibling written out, the empty ones too.
    assert_eq!(good.siblings.len(), 256);
    let written_out = {
        let mut out = bytes[..3].to_vec();
        out.extend_from_slice(&[0xff; 32]);
        for s in &good.siblings {
            out.extend_from_slice(&s.0);
        }
        out
    };
    assert!(good.siblings.contains(&Hash([0; 32])));
    push(&a, Some(&va), written_out, "an empty sibling written out");
    // Absence claimed with the key's own leaf given as the "other" leaf.
    let own = MapProof {
        terminal: Terminal::Other { key: a, value: va },
        siblings: good.siblings.clone(),
    };
    push(&a, None, own.to_bytes(), "the other leaf is the key itself");
    // An "other" leaf that is not on the key's path: a's leaf offered for c.
    let off = MapProof {
        terminal: Terminal::Other { key: a, value: va },
        siblings: good.siblings.clone(),
    };
    push(
        &c,
        None,
        off.to_bytes(),
        "the other leaf is off the key's path",
    );
    out
}

#[test]
fn the_vector_file_matches_this_implementation() {
    let generated = generate();
    let path = format!("{VECTORS_DIR}/{FILE}");
    if std::env::var_os("GAZETTE_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    assert_eq!(
        load(FILE),
        generated,
        "{path} differs: regenerate and re-check it"
    );
}

fn vectors() -> Value {
    load(FILE)
}

fn items<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key}"))
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
}

fn list_of(v: &Value) -> Vec<(u64, Hash)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), hash(p[1].as_str().unwrap())))
        .collect()
}

#[test]
fn agency_keys_are_the_known_answers() {
    let v = vectors();
    let keys = items(&v, "agency_keys");
    assert_eq!(keys.len(), AGENCY_NAMES.len());
    for k in keys {
        assert_eq!(agency_key(s(k, "agency")), hash(s(k, "key")));
    }
}

#[test]
fn registry_entries_are_filed_under_their_agency_key_or_nowhere() {
    let filed: Vec<Vec<_>> = registry_entries()
        .iter()
        .map(|e| keys_of_entry(e))
        .collect();
    let land = agency_key("land-registry.example.gov");
    assert_eq!(filed, vec![vec![land], vec![land], vec![], vec![], vec![]]);
    // Where the small log holds them, they are a migration the registry's
    // rules accept: both keys, windows opening at their `from`.
    let all = entries();
    let start = all.len() - registry_entries().len();
    let history = AgencyHistory::fold(
        &log_key().verifier(),
        "land-registry.example.gov",
        all.iter()
            .enumerate()
            .skip(start)
            .map(|(i, e)| (i as u64, e.as_slice())),
    );
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    assert_eq!(
        history
            .keys
            .iter()
            .map(|k| (k.valid_from, k.declared_from))
            .collect::<Vec<_>>(),
        vec![(0, Some(0)), (2, Some(2))]
    );
}

#[test]
fn document_and_name_keys_are_the_known_answers() {
    let v = vectors();
    for k in items(&v, "document_keys") {
        let digest: [u8; 32] = unhex(s(k, "digest")).try_into().unwrap();
        assert_eq!(document_key(&digest), hash(s(k, "key")));
    }
    for k in items(&v, "name_keys") {
        assert_eq!(
            name_key(s(k, "issuer"), s(k, "kind"), s(k, "id")),
            hash(s(k, "key"))
        );
    }
    for c in items(&v, "list_values") {
        assert_eq!(value_of(&list_of(&c["list"])).0, hash(s(c, "value")));
    }
}

/// Checks one vector proof: it parses, re-encodes to the same bytes, and
/// verifies as presence (with `value`) or absence; the opposite claim fails.
fn check_proof(p: &Value, root: &Hash, value_of: impl Fn(&Hash) -> Option<ListValue>) {
    let key = hash(s(p, "key"));
    let bytes = unhex(s(p, "proof"));
    let proof = MapProof::parse(&bytes).unwrap();
    assert_eq!(proof.to_bytes(), bytes);
    let present = p["present"].as_bool().unwrap();
    assert_eq!(present, value_of(&key).is_some(), "{p}");
    match value_of(&key) {
        Some(value) => {
            proof.verify(&key, Some(&value), root).unwrap();
            assert!(matches!(
                proof.verify(&key, None, root),
                Err(MapProofError::WrongKind { .. })
            ));
        }
        None => {
            proof.verify(&key, None, root).unwrap();
            let any = ListValue(Hash([1; 32]));
            assert!(proof.verify(&key, Some(&any), root).is_err());
        }
    }
}

#[test]
fn every_raw_map_has_its_known_root_and_its_proofs_verify() {
    let v = vectors();
    for m in items(&v, "raw_maps") {
        let pairs: HashMap<Hash, ListValue> = items(m, "pairs")
            .iter()
            .map(|p| {
                (
                    hash(p[0].as_str().unwrap()),
                    ListValue(hash(p[1].as_str().unwrap())),
                )
            })
            .collect();
        let root = hash(s(m, "root"));
        let (_, built) = build(&pairs.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        assert_eq!(built, root, "{}", s(m, "name"));
        for p in items(m, "proofs") {
            check_proof(p, &root, |k| pairs.get(k).copied());
        }
    }
}

#[test]
fn each_segment_of_a_log_files_its_records_under_their_keys_and_proves_them() {
    let v = vectors();
    let entries: Vec<Vec<u8>> = items(&v["log"], "entries")
        .iter()
        .map(|e| e.as_str().unwrap().as_bytes().to_vec())
        .collect();
    for seg in items(&v["log"], "segments") {
        let (start, end) = (seg["start"].as_u64().unwrap(), seg["end"].as_u64().unwrap());
        let filed: BTreeMap<Hash, Vec<(u64, Hash)>> = items(seg, "filed")
            .iter()
            .map(|f| (hash(s(f, "key")), list_of(&f["list"])))
            .collect();
        assert_eq!(lists(&entries, start..end), filed);
        let values: HashMap<Hash, ListValue> = items(seg, "filed")
            .iter()
            .map(|f| (hash(s(f, "key")), ListValue(hash(s(f, "value")))))
            .collect();
        let root = hash(s(seg, "root"));
        let (_, built) = build(&values.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        assert_eq!(built, root);
        for p in items(seg, "proofs") {
            check_proof(p, &root, |k| values.get(k).copied());
        }
    }
}

#[test]
fn commitments_parse_in_their_one_form_only() {
    let v = vectors();
    for c in items(&v, "commitments") {
        let text = s(c, "text");
        let parsed = IndexCommitment::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.size, c["size"].as_u64().unwrap());
        let segments: Vec<(u64, Hash)> = parsed.segments.iter().map(|s| (s.end, s.root)).collect();
        assert_eq!(segments, list_of(&c["segments"]));
        assert_eq!(parsed.to_bytes(), text.as_bytes());
    }
    for c in items(&v, "reject_commitments") {
        assert_eq!(
            IndexCommitment::parse(s(c, "text").as_bytes()),
            None,
            "{}",
            s(c, "why")
        );
    }
}

fn listed(v: &Value) -> ListedEntry {
    ListedEntry {
        index: v["index"].as_u64().unwrap(),
        bytes: s(v, "entry").as_bytes().to_vec(),
        inclusion: items(v, "inclusion")
            .iter()
            .map(|h| hash(h.as_str().unwrap()))
            .collect(),
    }
}

#[test]
fn whole_lookups_verify_and_forged_ones_are_refused() {
    let v = vectors();
    for l in items(&v, "lookups") {
        let key = match (
            &l["key"]["document"],
            &l["key"]["agency"],
            &l["key"]["name"],
        ) {
            (Value::String(d), _, _) => LookupKey::Document(unhex(d).try_into().unwrap()),
            (_, Value::String(a), _) => LookupKey::Agency(a.clone()),
            (_, _, n) => LookupKey::Name {
                issuer: s(n, "issuer").into(),
                kind: s(n, "kind").into(),
                id: s(n, "id").into(),
            },
        };
        let proof = LookupProof {
            commitment: listed(&l["commitment"]),
            entries: items(l, "entries").iter().map(listed).collect(),
            map_proofs: items(l, "map_proofs")
                .iter()
                .map(|p| MapProof::parse(&unhex(p.as_str().unwrap())).unwrap())
                .collect(),
        };
        let result = verify_lookup(
            &key,
            &proof,
            l["size"].as_u64().unwrap(),
            &hash(s(l, "root")),
        );
        match result {
            Ok(found) => {
                assert!(l["valid"].as_bool().unwrap(), "accepted: {}", s(l, "name"));
                let indexes: Vec<u64> = match key {
                    LookupKey::Agency(_) => {
                        assert!(found.records.is_empty());
                        found.registry.iter().map(|(i, _)| *i).collect()
                    }
                    _ => {
                        assert!(found.registry.is_empty());
                        found.records.iter().map(|(i, _)| *i).collect()
                    }
                };
                let expected: Vec<u64> = proof.entries.iter().map(|e| e.index).collect();
                assert_eq!(indexes, expected);
            }
            Err(e) => assert!(
                !l["valid"].as_bool().unwrap(),
                "refused {}: {e}",
                s(l, "name")
            ),
        }
    }
}

#[test]
fn every_must_reject_proof_is_refused() {
    let v = vectors();
    let rejects = items(&v, "reject_proofs");
    assert!(rejects.len() >= 12);
    for r in rejects {
        let key = hash(s(r, "key"));
        let root = hash(s(r, "root"));
        let value = r["value"].as_str().map(|h| ListValue(hash(h)));
        let result = MapProof::parse(&unhex(s(r, "proof")))
            .and_then(|p| p.verify(&key, value.as_ref(), &root));
        assert!(result.is_err(), "accepted: {}", s(r, "why"));
    }
}
