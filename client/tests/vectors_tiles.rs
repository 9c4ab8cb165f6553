//! Known-answer tests for c2sp.org/tlog-tiles (`tiles.json`): paths, tile
//! sets, entry bundles, tile bytes of two trees, proofs served from tiles,
//! and the must-reject cases of PROTOCOLS.md §6.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{
    array_of, as_str, field, hex_bytes, hex_hash, hex_hashes, load, sha256_hex, str_of, to_hex,
    u64_of,
};
use gazette_client::merkle::{
    Hash, MerkleError, ReadError, leaf_hash, prove_consistency, prove_inclusion, stored_hash_count,
    stored_hashes_for_leaf, tree_hash, verify_consistency, verify_inclusion,
};
use gazette_client::tiles::{
    self, HEIGHT, Tile, TileError, TileHashReader, TileLevel, TilePlan, TileReader,
    check_bundle_against_tile, format_entry_bundle, format_index, new_tiles, parse_entry_bundle,
    read_tile_data, tiles_for_size,
};
use serde_json::Value;

fn vectors() -> Value {
    load("tiles.json")
}

fn stored_tree(leaves: &[Vec<u8>]) -> Vec<Hash> {
    let mut stored: Vec<Hash> = Vec::new();
    for (n, leaf) in leaves.iter().enumerate() {
        let hashes = stored_hashes_for_leaf(n as u64, leaf_hash(leaf), &stored).unwrap();
        stored.extend(hashes);
    }
    stored
}

/// The standard 8-leaf CT tree's entries, from the Merkle vectors.
fn eight_leaves() -> Vec<Vec<u8>> {
    let v = load("merkle_rfc6962_8leaf.json");
    array_of(&v, "leaves")
        .iter()
        .map(|l| hex_bytes(as_str(l)))
        .collect()
}

/// Entries `"leaf <i>"`, i = 0..1000.
fn thousand_leaves() -> Vec<Vec<u8>> {
    (0..1000)
        .map(|i| format!("leaf {i}").into_bytes())
        .collect()
}

fn paths(tiles: &[Tile]) -> Vec<String> {
    tiles.iter().map(Tile::path).collect()
}

/// A static read path in memory: serves exactly the tiles it holds.
struct MemTiles {
    tiles: HashMap<Tile, Vec<u8>>,
}

impl MemTiles {
    /// Every hash tile of the tree of `size` leaves, read from `stored`.
    fn for_tree(size: u64, stored: &[Hash]) -> MemTiles {
        let tiles = tiles_for_size(HEIGHT, size)
            .into_iter()
            .map(|t| (t, read_tile_data(&t, stored).unwrap()))
            .collect();
        MemTiles { tiles }
    }

    fn get_mut(&mut self, path: &str) -> &mut Vec<u8> {
        let tile = Tile::parse_path(path).unwrap();
        self.tiles
            .get_mut(&tile)
            .unwrap_or_else(|| panic!("no tile {path}"))
    }
}

impl TileReader for MemTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError> {
        self.tiles.read_tiles(tiles)
    }
}

/// The `TileError` inside a proof failure from a [`TileHashReader`].
fn tile_error(err: &MerkleError) -> &TileError {
    match err {
        MerkleError::Read(ReadError(inner)) => inner
            .downcast_ref::<TileError>()
            .unwrap_or_else(|| panic!("read error is not a TileError: {inner}")),
        other => panic!("expected a read error, got {other}"),
    }
}

#[test]
fn index_paths_format_and_parse() {
    let v = vectors();
    let cases = array_of(&v, "index_paths");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let (n, path) = (u64_of(case, "N"), str_of(case, "path"));
        assert_eq!(format_index(n), path, "N = {n}");
        let tile = Tile::parse_path(&format!("tile/0/{path}")).unwrap();
        assert_eq!(tile.index, n, "{path}");
        assert_eq!(tile.width, 256);
        let tile = Tile::parse_path(&format!("tile/entries/{path}.p/7")).unwrap();
        assert_eq!(
            (tile.level, tile.index, tile.width),
            (TileLevel::Entries, n, 7)
        );
    }
}

#[test]
fn go_sumdb_paths_parse_with_height() {
    let v = vectors();
    let cases = array_of(&v, "go_sumdb_paths");
    assert_eq!(cases.len(), 10);
    for case in cases {
        let path = str_of(case, "path");
        let result = Tile::parse_sumdb_path(path);
        match str_of(case, "expect") {
            "valid" => {
                let tile = result.unwrap_or_else(|e| panic!("{path}: {e}"));
                let want = field(case, "tile");
                assert_eq!(u64::from(tile.height), u64_of(want, "H"), "{path}");
                let level = match field(want, "L") {
                    Value::String(s) if s == "data" => TileLevel::Entries,
                    l => TileLevel::Hashes(l.as_u64().unwrap() as u8),
                };
                assert_eq!(tile.level, level, "{path}");
                assert_eq!(tile.index, u64_of(want, "N"), "{path}");
                assert_eq!(u64::from(tile.width), u64_of(want, "W"), "{path}");
                assert_eq!(tile.sumdb_path(), path);
            }
            "invalid" => assert!(
                matches!(result, Err(TileError::InvalidPath { .. })),
                "{path} ({}): {result:?}",
                str_of(case, "tile")
            ),
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn all_23_c2sp_paths_parse_or_are_rejected() {
    let v = vectors();
    let cases = array_of(&v, "c2sp_paths");
    assert_eq!(cases.len(), 23);
    let mut failures = Vec::new();
    for case in cases {
        let path = str_of(case, "path");
        match (str_of(case, "expect"), Tile::parse_path(path)) {
            ("valid", Ok(tile)) => {
                assert_eq!(tile.height, HEIGHT);
                if tile.path() != path {
                    failures.push(format!("{path}: round trip gave {}", tile.path()));
                }
            }
            ("invalid", Err(TileError::InvalidPath { .. })) => {}
            (want, got) => failures.push(format!("{path}: expected {want}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `"tile/0/000 .. tile/0/254 (255 tiles)"` → (first, last, count).
fn parse_full_range(text: &str) -> (&str, &str, usize) {
    let (range, count) = text.split_once(" (").unwrap();
    let count = count.strip_suffix(" tiles)").unwrap().parse().unwrap();
    let (first, last) = range.split_once(" .. ").unwrap();
    (first, last, count)
}

fn is_full_level0(tile: &Tile) -> bool {
    tile.level == TileLevel::Hashes(0) && tile.is_full()
}

#[test]
fn c2sp_tile_sets_for_tree_sizes() {
    let v = vectors();
    let sets = field(&v, "c2sp_tile_sets_for_tree_size")
        .as_object()
        .unwrap();
    assert_eq!(sets.len(), 10);
    for (key, want) in sets {
        let size: u64 = key.split(' ').next().unwrap().parse().unwrap();
        let got = tiles_for_size(HEIGHT, size);
        match want {
            Value::Array(list) => {
                let list: Vec<&str> = list.iter().map(as_str).collect();
                assert_eq!(paths(&got), list, "size {size}");
            }
            Value::Object(summary) if summary.contains_key("other_tiles") => {
                let (first, last, count) = parse_full_range(str_of(want, "level0_full_tiles"));
                let full: Vec<String> = paths(
                    &got.iter()
                        .copied()
                        .filter(is_full_level0)
                        .collect::<Vec<_>>(),
                );
                assert_eq!(full.len(), count, "size {size}");
                assert_eq!(full.first().map(String::as_str), Some(first));
                assert_eq!(full.last().map(String::as_str), Some(last));
                let expected_full: Vec<String> = (0..count as u64)
                    .map(|n| format!("tile/0/{}", format_index(n)))
                    .collect();
                assert_eq!(full, expected_full, "size {size}");
                let other: Vec<String> = paths(
                    &got.iter()
                        .copied()
                        .filter(|t| !is_full_level0(t))
                        .collect::<Vec<_>>(),
                );
                let want_other: Vec<&str> =
                    array_of(want, "other_tiles").iter().map(as_str).collect();
                assert_eq!(other, want_other, "size {size}");
            }
            Value::Object(_) => {
                // The spec's 70 000 example.
                assert_eq!(size, 70_000);
                let full = got.iter().filter(|t| is_full_level0(t)).count();
                assert_eq!(full as u64, u64_of(want, "level0_full"));
                let other: Vec<String> = paths(
                    &got.iter()
                        .copied()
                        .filter(|t| !is_full_level0(t))
                        .collect::<Vec<_>>(),
                );
                let want_other = [
                    str_of(want, "level0_partial"),
                    str_of(want, "level1_full"),
                    str_of(want, "level1_partial"),
                    str_of(want, "level2_partial"),
                ];
                assert_eq!(other, want_other);
            }
            other => panic!("unexpected tile set {other}"),
        }
    }
}

#[test]
fn azul_new_tile_counts_height_10() {
    let v = vectors();
    let cases = array_of(&v, "azul_new_tile_counts_h10");
    assert_eq!(cases.len(), 7);
    for case in cases {
        let (old, new) = (u64_of(case, "old"), u64_of(case, "new"));
        assert_eq!(
            new_tiles(10, old, new).len() as u64,
            u64_of(case, "count"),
            "{old} -> {new}"
        );
    }
}

#[test]
fn eight_leaf_tree_tiles_and_entry_bundles() {
    let v = vectors();
    let t = field(&v, "eight_leaf_tree");
    assert_eq!(u64_of(t, "tree_size"), 8);
    let leaves = eight_leaves();
    let stored = stored_tree(&leaves);
    let root = hex_hash(str_of(t, "root"));
    assert_eq!(tree_hash(8, &stored).unwrap(), root);

    for size in [8u64, 5] {
        let tile_path = format!("tile/0/000.p/{size}");
        let bundle_path = format!("tile/entries/000.p/{size}");
        let tile = Tile::parse_path(&tile_path).unwrap();
        let bundle = Tile::parse_path(&bundle_path).unwrap();
        assert_eq!(bundle, tile.entries());
        assert_eq!(
            paths(&tiles_for_size(HEIGHT, size)),
            std::slice::from_ref(&tile_path)
        );

        // Tile bytes, as a log of `size` leaves writes them.
        let prefix = &stored[..stored_hash_count(size) as usize];
        let tile_bytes = read_tile_data(&tile, prefix).unwrap();
        assert_eq!(to_hex(&tile_bytes), str_of(t, &format!("{tile_path}_hex")));

        // Entry bundle bytes, both ways.
        let entries: Vec<&[u8]> = leaves[..size as usize].iter().map(Vec::as_slice).collect();
        let bundle_bytes = format_entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(
            to_hex(&bundle_bytes),
            str_of(t, &format!("{bundle_path}_hex"))
        );
        let parsed = parse_entry_bundle(&bundle, &bundle_bytes).unwrap();
        assert_eq!(parsed, entries);
        check_bundle_against_tile(&bundle, &parsed, &tile_bytes).unwrap();
    }

    // Proofs from the served tile equal proofs from stored hashes.
    let served = MemTiles::for_tree(8, &stored);
    let reader = TileHashReader::new(8, root, &served);
    for index in 0..8 {
        let proof = prove_inclusion(index, 8, &reader).unwrap();
        assert_eq!(proof, prove_inclusion(index, 8, &stored).unwrap());
        verify_inclusion(&stored_leaf(&leaves, index), index, 8, &proof, &root).unwrap();
    }
}

fn stored_leaf(leaves: &[Vec<u8>], index: u64) -> Hash {
    leaf_hash(&leaves[index as usize])
}

#[test]
fn thousand_leaf_tree_tiles_root_and_bundle() {
    let v = vectors();
    let t = field(&v, "leaf_i_tree_1000");
    let leaves = thousand_leaves();
    let stored = stored_tree(&leaves);
    let root = hex_hash(str_of(t, "root"));
    assert_eq!(tree_hash(1000, &stored).unwrap(), root);
    assert_eq!(root.to_base64(), str_of(t, "root_base64"));

    let tile_digests = field(t, "tiles").as_object().unwrap();
    assert_eq!(tile_digests.len(), 5);
    let want_paths: BTreeSet<&str> = tile_digests.keys().map(String::as_str).collect();
    let got_paths = paths(&tiles_for_size(HEIGHT, 1000));
    assert_eq!(
        got_paths
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        want_paths
    );
    for (path, want) in tile_digests {
        let tile = Tile::parse_path(path).unwrap();
        assert_eq!(u64::from(tile.width), u64_of(want, "width"), "{path}");
        let bytes = read_tile_data(&tile, &stored).unwrap();
        assert_eq!(bytes.len(), 32 * tile.width as usize);
        assert_eq!(
            sha256_hex(&bytes),
            str_of(want, "sha256_of_tile_bytes"),
            "{path}"
        );
        assert_eq!(to_hex(&bytes[..32]), str_of(want, "first_hash"), "{path}");
        assert_eq!(
            to_hex(&bytes[bytes.len() - 32..]),
            str_of(want, "last_hash"),
            "{path}"
        );
    }

    // The partial entry bundle of the last 232 entries.
    let bundle = Tile::parse_path("tile/entries/003.p/232").unwrap();
    let entries: Vec<&[u8]> = leaves[768..].iter().map(Vec::as_slice).collect();
    let bytes = format_entry_bundle(entries.iter().copied()).unwrap();
    assert_eq!(
        bytes.len() as u64,
        u64_of(t, "tile/entries/003.p/232_length")
    );
    assert_eq!(
        sha256_hex(&bytes),
        str_of(t, "tile/entries/003.p/232_sha256")
    );
    let parsed = parse_entry_bundle(&bundle, &bytes).unwrap();
    assert_eq!(parsed, entries);
    let level0 = read_tile_data(&Tile::parse_path("tile/0/003.p/232").unwrap(), &stored).unwrap();
    check_bundle_against_tile(&bundle, &parsed, &level0).unwrap();
}

#[test]
fn thousand_leaf_tree_proofs_direct_and_through_tiles() {
    let v = vectors();
    let t = field(&v, "leaf_i_tree_1000");
    let leaves = thousand_leaves();
    let stored = stored_tree(&leaves);
    let root = hex_hash(str_of(t, "root"));
    let served = MemTiles::for_tree(1000, &stored);
    // Every served tile is the one whose digest the vectors give.
    for (tile, bytes) in &served.tiles {
        let want = field(field(t, "tiles"), &tile.path());
        assert_eq!(sha256_hex(bytes), str_of(want, "sha256_of_tile_bytes"));
    }
    let reader = TileHashReader::new(1000, root, &served);

    let inclusion = array_of(t, "inclusion_proofs");
    assert_eq!(inclusion.len(), 5);
    for case in inclusion {
        let index = u64_of(case, "index");
        assert_eq!(str_of(case, "leaf"), format!("leaf {index}"));
        let leaf = leaf_hash(str_of(case, "leaf").as_bytes());
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(
            prove_inclusion(index, 1000, &stored).unwrap(),
            proof,
            "{index}"
        );
        assert_eq!(
            prove_inclusion(index, 1000, &reader).unwrap(),
            proof,
            "{index} via tiles"
        );
        verify_inclusion(&leaf, index, 1000, &proof, &root).unwrap();
    }

    let consistency = array_of(t, "consistency_proofs_to_1000");
    assert_eq!(consistency.len(), 7);
    for case in consistency {
        let m = u64_of(case, "size1");
        let root1 = hex_hash(str_of(case, "root1"));
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(tree_hash(m, &stored).unwrap(), root1, "root {m}");
        assert_eq!(tree_hash(m, &reader).unwrap(), root1, "root {m} via tiles");
        assert_eq!(prove_consistency(m, 1000, &stored).unwrap(), proof, "{m}");
        assert_eq!(
            prove_consistency(m, 1000, &reader).unwrap(),
            proof,
            "{m} via tiles"
        );
        verify_consistency(m, 1000, &root1, &root, &proof).unwrap();
    }
}

#[test]
fn tile_body_of_wrong_length_is_rejected() {
    let leaves = eight_leaves();
    let stored = stored_tree(&leaves);
    let tile = Tile::parse_path("tile/0/000.p/8").unwrap();
    let bytes = read_tile_data(&tile, &stored).unwrap();
    assert_eq!(bytes.len(), 8 * 32);
    for bad in [
        &bytes[..bytes.len() - 1],
        &bytes[..7 * 32],
        &[bytes.as_slice(), &[0]].concat(),
    ] {
        assert!(matches!(
            tiles::hash_from_tile(&tile, bad, 0),
            Err(TileError::WrongLength { expected: 256, .. })
        ));
        let plan = TilePlan::new(HEIGHT, 8, &[0]).unwrap();
        assert!(matches!(
            plan.hashes(&tree_hash(8, &stored).unwrap(), &[bad.to_vec()]),
            Err(TileError::WrongLength { .. })
        ));
    }

    // A server answering with a partial tile wider than the checkpoint
    // implies (233 hashes for tile/0/003.p/232 of the 1000-leaf tree).
    let leaves = thousand_leaves();
    let stored = stored_tree(&leaves);
    let root = tree_hash(1000, &stored).unwrap();
    let mut served = MemTiles::for_tree(1000, &stored);
    served
        .get_mut("tile/0/003.p/232")
        .extend_from_slice(&[0x42; 32]);
    let err = prove_inclusion(999, 1000, &TileHashReader::new(1000, root, &served)).unwrap_err();
    assert!(
        matches!(tile_error(&err), TileError::WrongLength { expected, got, .. } if *expected == 232 * 32 && *got == 233 * 32),
        "{err}"
    );
}

#[test]
fn tampered_tiles_are_inconsistent() {
    // The 8-leaf tree: its only tile is on the right edge, checked against
    // the root.
    let leaves = eight_leaves();
    let stored = stored_tree(&leaves);
    let root = tree_hash(8, &stored).unwrap();
    for byte in [0usize, 100, 8 * 32 - 1] {
        let mut served = MemTiles::for_tree(8, &stored);
        served.get_mut("tile/0/000.p/8")[byte] ^= 0x01;
        let plan = TilePlan::new(HEIGHT, 8, &[0]).unwrap();
        let data = served.read_tiles(plan.tiles()).unwrap();
        assert!(matches!(
            plan.hashes(&root, &data),
            Err(TileError::Inconsistent { size: 8, .. })
        ));
        let err = prove_inclusion(3, 8, &TileHashReader::new(8, root, &served)).unwrap_err();
        assert!(
            matches!(tile_error(&err), TileError::Inconsistent { .. }),
            "{err}"
        );
    }

    // The 1000-leaf tree: a full tile is authenticated by its parent, the
    // right edge by the root.
    let leaves = thousand_leaves();
    let stored = stored_tree(&leaves);
    let root = tree_hash(1000, &stored).unwrap();
    for (path, index) in [
        ("tile/0/001", 300u64),
        ("tile/0/003.p/232", 999),
        ("tile/1/000.p/3", 0),
    ] {
        let mut served = MemTiles::for_tree(1000, &stored);
        served.get_mut(path)[40] ^= 0x80;
        let err =
            prove_inclusion(index, 1000, &TileHashReader::new(1000, root, &served)).unwrap_err();
        assert!(
            matches!(tile_error(&err), TileError::Inconsistent { size: 1000, .. }),
            "{path}: {err}"
        );
    }

    // An untampered read with the wrong trusted root fails the same way.
    let served = MemTiles::for_tree(1000, &stored);
    let wrong_root = tree_hash(999, &stored).unwrap();
    let err =
        prove_inclusion(0, 1000, &TileHashReader::new(1000, wrong_root, &served)).unwrap_err();
    assert!(
        matches!(tile_error(&err), TileError::Inconsistent { .. }),
        "{err}"
    );
}

#[test]
fn bundles_with_wrong_entry_count_or_trailing_garbage_are_rejected() {
    let v = vectors();
    let t = field(&v, "eight_leaf_tree");
    let bytes8 = hex_bytes(str_of(t, "tile/entries/000.p/8_hex"));
    let bytes5 = hex_bytes(str_of(t, "tile/entries/000.p/5_hex"));
    let tile8 = hex_bytes(str_of(t, "tile/0/000.p/8_hex"));
    let bundle8 = Tile::parse_path("tile/entries/000.p/8").unwrap();
    let bundle5 = Tile::parse_path("tile/entries/000.p/5").unwrap();
    assert!(parse_entry_bundle(&bundle8, &bytes8).is_ok());
    assert!(parse_entry_bundle(&bundle5, &bytes5).is_ok());

    let bad_bundles: [(&str, &Tile, Vec<u8>); 6] = [
        ("5 entries for width 8", &bundle8, bytes5.clone()),
        ("8 entries for width 5", &bundle5, bytes8.clone()),
        (
            "one trailing byte",
            &bundle8,
            [bytes8.as_slice(), &[0x00]].concat(),
        ),
        (
            "an extra empty entry",
            &bundle8,
            [bytes8.as_slice(), &[0, 0]].concat(),
        ),
        (
            "truncated last entry",
            &bundle8,
            bytes8[..bytes8.len() - 1].to_vec(),
        ),
        ("empty body", &bundle5, Vec::new()),
    ];
    for (why, bundle, bytes) in &bad_bundles {
        assert!(
            matches!(
                parse_entry_bundle(bundle, bytes),
                Err(TileError::BadBundle { .. })
            ),
            "{why}"
        );
    }

    // A well-formed bundle that does not match the level-0 tile.
    let entries = parse_entry_bundle(&bundle8, &bytes8).unwrap();
    check_bundle_against_tile(&bundle8, &entries, &tile8).unwrap();
    let mut altered: Vec<&[u8]> = entries.clone();
    altered[3] = b"not the entry";
    assert!(matches!(
        check_bundle_against_tile(&bundle8, &altered, &tile8),
        Err(TileError::BadBundle { .. })
    ));
    assert!(matches!(
        check_bundle_against_tile(&bundle8, &entries[..5], &tile8),
        Err(TileError::BadBundle { .. })
    ));
}
