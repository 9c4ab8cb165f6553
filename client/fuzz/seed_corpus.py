#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into client/fuzz/corpus/<target>/.

Seeds come from the known-answer vectors in client/tests/vectors/*.json, plus
hand-written Gazette records (valid format, arbitrary signature bytes) and a
few malformed variants of each kind. Python 3 standard library only.

    python3 client/fuzz/seed_corpus.py

Files this script writes are named `seed-*`; before writing it removes the
`seed-*` files of each target, so re-running it is idempotent and leaves any
other file alone (inputs kept from fuzzing runs are named `found-*`,
regression inputs of fixed crashes `regress-*`).
The output is deterministic: run it again after changing the vectors and
commit the result.
"""

import base64
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "tests" / "vectors"
CORPUS = HERE / "corpus"

TARGETS = [
    "note",
    "checkpoint",
    "cosignature_line",
    "policy",
    "tlog_proof",
    "record",
    "tile_path",
    "add_checkpoint",
    "map_proof",
    "index_commitment",
]

EM_DASH = "\u2014 "


def load(name):
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


def slug(text, limit=40):
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].strip("-") or "x"


class Seeds:
    """Collects (name, bytes) per target, dropping duplicate contents."""

    def __init__(self):
        self.files = {t: {} for t in TARGETS}
        self.seen = {t: set() for t in TARGETS}

    def add(self, target, name, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if data in self.seen[target]:
            return
        self.seen[target].add(data)
        base = f"seed-{slug(name)}"
        n, fname = 1, base
        while fname in self.files[target]:
            n += 1
            fname = f"{base}-{n}"
        self.files[target][fname] = data

    def write(self):
        for target, files in self.files.items():
            d = CORPUS / target
            d.mkdir(parents=True, exist_ok=True)
            for old in d.glob("seed-*"):
                old.unlink()
            for fname, data in sorted(files.items()):
                (d / fname).write_bytes(data)
            print(f"{target}: {len(files)} seed files", file=sys.stderr)


def signature_lines(note):
    """The signature lines (without newline) of a note given as text."""
    _, _, sigs = note.rpartition("\n\n")
    return [line for line in sigs.split("\n") if line]


def note_text(note):
    text, _, _ = note.rpartition("\n\n")
    return text + "\n"


def notes(seeds):
    sn = load("signed_note.json")
    for i, case in enumerate(sn["open_cases"]):
        seeds.add("note", f"open-{i:02d}-{case['desc']}", base64.b64decode(case["note_base64"]))
    for case in sn["implementation_dependent"]:
        seeds.add("note", f"impl-dep-{case['desc']}", case["note_utf8"])
    seeds.add("note", "peter-signed-note", sn["peter"]["signed_note"])
    seeds.add("note", "c2sp-example", sn["c2sp_example"]["note"])
    cs = load("cosignatures.json")
    for i, case in enumerate(cs["computed"]["must_reject"]):
        seeds.add("note", f"cosig-reject-{i}-{case['desc']}", case["note"])
    ev = load("policy_and_tlog_proof.json")["evaluation"]
    for i, case in enumerate(ev["cases"]):
        seeds.add("note", f"cosigned-checkpoint-{i}-{case['desc']}", case["checkpoint_note"])


def checkpoints(seeds):
    for i, case in enumerate(load("checkpoints.json")["cases"]):
        seeds.add("checkpoint", f"{i:02d}-{case['strict_c2sp']}-{case['desc']}", case["text"])
    cs = load("cosignatures.json")
    seeds.add("checkpoint", "c2sp-cosig-example", cs["c2sp_example"]["checkpoint_text"])
    seeds.add("checkpoint", "with-extension", cs["computed"]["with_extension"]["checkpoint_text"])
    ev = load("policy_and_tlog_proof.json")["evaluation"]
    seeds.add("checkpoint", "evaluation", ev["checkpoint_text"])
    for step in load("witness_add_checkpoint_session.json")["steps"]:
        note = step["request_body"].split("\n\n", 1)[1]
        seeds.add("checkpoint", f"witness-step-{step['step']}", note_text(note))


def cosignature_lines(seeds):
    cs = load("cosignatures.json")
    ex = cs["c2sp_example"]
    seeds.add("cosignature_line", "c2sp-example", ex["cosignature_line"])
    seeds.add("cosignature_line", "c2sp-example-newline", ex["cosignature_line"] + "\n")
    # A log (0x01) signature line: 64-byte payload, not a cosignature.
    seeds.add("cosignature_line", "c2sp-log-signature", ex["log_signature_line"])
    comp = cs["computed"]
    seeds.add("cosignature_line", "computed", comp["cosignature_line"])
    seeds.add("cosignature_line", "computed-with-extension", comp["with_extension"]["cosignature_line"])
    for i, case in enumerate(comp["must_reject"]):
        for line in signature_lines(case["note"]):
            seeds.add("cosignature_line", f"reject-{i}-{case['desc']}", line + "\n")
    ev = load("policy_and_tlog_proof.json")["evaluation"]
    for i, case in enumerate(ev["cases"]):
        for line in signature_lines(case["checkpoint_note"]):
            seeds.add("cosignature_line", f"evaluation-{i}", line)
    sn = load("signed_note.json")
    seeds.add("cosignature_line", "peter-0x01", sn["peter"]["signature_line"])
    seeds.add("cosignature_line", "enoch-0x01", sn["enoch"]["signature_line"])
    # Malformed variants of one good line.
    good = comp["cosignature_line"].rstrip("\n")
    name, b64 = good[len(EM_DASH):].split(" ", 1)
    seeds.add("cosignature_line", "two-lines", good + "\n" + good + "\n")
    seeds.add("cosignature_line", "hyphen-prefix", "- " + good[len(EM_DASH):])
    seeds.add("cosignature_line", "unpadded", good.rstrip("="))
    seeds.add("cosignature_line", "no-space", EM_DASH + name + b64)
    payload = base64.b64decode(b64)
    ts_max = payload[:4] + b"\x7f" + b"\xff" * 7 + payload[12:]
    ts_2_63 = payload[:4] + b"\x80" + b"\x00" * 7 + payload[12:]
    for desc, p in [
        ("timestamp-2-63-minus-1", ts_max),
        ("timestamp-2-63", ts_2_63),
        ("payload-71-bytes", payload[:-1]),
        ("payload-73-bytes", payload + b"\x00"),
        ("key-id-only", payload[:5]),
    ]:
        seeds.add("cosignature_line", desc, f"{EM_DASH}{name} {base64.b64encode(p).decode()}")


def policies(seeds):
    pt = load("policy_and_tlog_proof.json")
    for i, case in enumerate(pt["policy_parse_cases"]):
        seeds.add("policy", f"{i:02d}-{case['expect']}-{case['desc']}", case["policy"])
    seeds.add("policy", "evaluation", pt["evaluation"]["policy"])
    seeds.add("policy", "tlog-proof", pt["tlog_proof"]["policy"])


def tlog_proofs(seeds):
    tp = load("policy_and_tlog_proof.json")["tlog_proof"]
    seeds.add("tlog_proof", "valid", tp["proof"])
    seeds.add("tlog_proof", "valid-with-extra", tp["proof_with_extra"])
    for i, case in enumerate(tp["negative"]):
        seeds.add("tlog_proof", f"negative-{i}-{case['desc']}", case["proof"])
    for i, case in enumerate(load("policy_and_tlog_proof.json")["formats_marshal_examples"]):
        seeds.add("tlog_proof", f"formats-{i}-{case['desc']}", case["encoded"])
    # Malformed variants.
    good = tp["proof"]
    seeds.add("tlog_proof", "no-checkpoint", good.split("\n\n", 1)[0] + "\n\n")
    seeds.add("tlog_proof", "extra-unpadded", good.replace("index ", "extra bGVhZg\nindex ", 1))
    seeds.add("tlog_proof", "index-overflow", good.replace("index 5", "index 18446744073709551616", 1))


RECORD_KEY = "land-registry.example.gov"


def fake_signature_line(name, text):
    """A signature line of the right shape: key ID (4) || 64 signature bytes.

    The bytes are derived from SHA-256 so the seeds are deterministic; they
    are not a valid Ed25519 signature (the record target only parses)."""
    pub = hashlib.sha256(b"seed key " + name.encode()).digest()
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    sig = hashlib.sha512(text.encode()).digest()
    return f"{EM_DASH}{name} {base64.b64encode(key_id + sig).decode()}\n"


def record_text(issuer=RECORD_KEY, kind="property-registration", id_="PR-2026-0001",
                digest="sha256:" + hashlib.sha256(b"deed").hexdigest(),
                issued="2026-11-24T09:00:00Z", extra=()):
    lines = ["gazette.record/v1", f"issuer {issuer}", f"kind {kind}", f"id {id_}",
             f"digest {digest}", f"issued {issued}", *extra]
    return "\n".join(lines) + "\n"


def signed(text, name=RECORD_KEY):
    return text + "\n" + fake_signature_line(name, text)


def records(seeds):
    add = lambda desc, data: seeds.add("record", desc, data)  # noqa: E731
    base = record_text()
    add("valid-minimal", signed(base))
    add("valid-fields", signed(record_text(extra=["parcel 12-345-678", "district North Harbour",
                                                  "note value with inner  spaces"])))
    add("valid-revocation", signed(record_text(kind="revocation", id_="RV-2026-0007",
                                               extra=["revokes property-registration PR-2026-0001",
                                                      "reason superseded"])))
    add("valid-fraction-leap-day", signed(record_text(kind="e-certificate", id_="EC/2028/02/29#1",
                                                      issued="2028-02-29T23:59:59.123456Z")))
    add("valid-unicode-id", signed(record_text(id_="Ñandú-№7", extra=["title Décret n°2026-1"])))
    # ~500-byte record, the size the benchmarks use.
    add("valid-typical", signed(record_text(kind="court-judgment", id_="CJ-2026-000123",
                                            extra=[f"field{i} {'v' * 30}" for i in range(8)])))
    # Malformed variants.
    add("bad-header", signed(base.replace("gazette.record/v1", "gazette.record/v2")))
    digest = hashlib.sha256(b"deed").hexdigest()
    add("bad-digest-uppercase", signed(base.replace(digest, digest.upper())))
    add("bad-digest-short", signed(record_text(digest="sha256:abcd")))
    add("bad-digest-algo", signed(record_text(digest="sha512:" + "00" * 32)))
    add("bad-feb-30", signed(record_text(issued="2026-02-30T09:00:00Z")))
    add("bad-feb-29-non-leap", signed(record_text(issued="2100-02-29T09:00:00Z")))
    add("bad-hour-24", signed(record_text(issued="2026-11-24T24:00:00Z")))
    add("bad-offset-time", signed(record_text(issued="2026-11-24T09:00:00+01:00")))
    add("bad-empty-fraction", signed(record_text(issued="2026-11-24T09:00:00.Z")))
    add("bad-kind-uppercase", signed(record_text(kind="Property")))
    add("bad-id-space", signed(record_text(id_="PR 2026")))
    add("bad-revocation-without-revokes", signed(record_text(kind="revocation")))
    add("bad-revokes-in-plain-record", signed(record_text(extra=["revokes e-cert X-1"])))
    add("bad-revokes-revocation", signed(record_text(kind="revocation",
                                                     extra=["revokes revocation RV-1"])))
    add("bad-reserved-field", signed(record_text(extra=["issuer other.example"])))
    add("bad-duplicate-field", signed(record_text(extra=["parcel 1", "parcel 2"])))
    add("bad-untrimmed-value", signed(record_text(extra=["parcel 1 "])))
    add("bad-field-no-value", signed(record_text(extra=["parcel"])))
    add("bad-issuer-plus", signed(record_text(issuer="land+registry"), name="land+registry"))
    add("bad-signer-not-issuer", signed(base, name="other.example.gov"))
    add("bad-two-signatures", signed(base) + fake_signature_line("other.example.gov", base))
    add("bad-no-signature", base + "\n")
    add("bad-no-final-newline", signed(base).rstrip("\n"))
    add("bad-crlf", signed(base).replace("\n", "\r\n"))
    add("bad-text-only", base)


def tile_paths(seeds):
    tiles = load("tiles.json")
    add = lambda desc, data: seeds.add("tile_path", desc, data)  # noqa: E731
    for case in tiles["index_paths"]:
        add(f"index-{case['N']}", f"tile/0/{case['path']}")
        add(f"entries-index-{case['N']}", f"tile/entries/{case['path']}.p/7")
    for case in tiles["go_sumdb_paths"]:
        add(f"sumdb-{case['expect']}-{case['path']}", case["path"])
    for case in tiles["c2sp_paths"]:
        add(f"c2sp-{case['expect']}-{case['path']}", case["path"])
    for size, paths in tiles["c2sp_tile_sets_for_tree_size"].items():
        if isinstance(paths, list):
            for p in paths:
                add(f"set-{size}-{p}", p)
        elif isinstance(paths, dict):
            for p in paths.get("other_tiles", []):
                add(f"set-{size}-{p}", p)
    add("sumdb-height-30-partial", "tile/30/63/x001/000.p/1073741823")
    add("sumdb-height-31", "tile/31/0/000")
    add("sumdb-full-width-as-partial", "tile/4/0/001.p/16")


def add_checkpoints(seeds):
    session = load("witness_add_checkpoint_session.json")
    for step in session["steps"]:
        seeds.add("add_checkpoint", f"step-{step['step']}-{step['expect_status_c2sp']}",
                  step["request_body"])
    body = session["steps"][7]["request_body"]
    proof_line = body.split("\n")[1]
    seeds.add("add_checkpoint", "old-leading-zero", body.replace("old 3", "old 03", 1))
    seeds.add("add_checkpoint", "no-blank-line", body.replace("\n\n", "\n", 1))
    seeds.add("add_checkpoint", "64-proof-lines",
              body.replace(proof_line + "\n", (proof_line + "\n") * 61, 1))
    seeds.add("add_checkpoint", "proof-line-unpadded", body.replace(proof_line, proof_line.rstrip("="), 1))


def index_items(seeds):
    index = load("index.json")
    for m in index["raw_maps"] + [dict(s, name=f"segment-{s['start']}") for s in index["log"]["segments"]]:
        for i, p in enumerate(m["proofs"]):
            seeds.add("map_proof", f"{m['name']}-{i}", bytes.fromhex(p["proof"]))
    for r in index["reject_proofs"]:
        seeds.add("map_proof", f"reject-{r['why']}", bytes.fromhex(r["proof"]))
    for c in index["commitments"]:
        seeds.add("index_commitment", f"size-{c['size']}", c["text"])
    for r in index["reject_commitments"]:
        seeds.add("index_commitment", f"reject-{r['why']}", r["text"])


def main():
    seeds = Seeds()
    notes(seeds)
    checkpoints(seeds)
    cosignature_lines(seeds)
    policies(seeds)
    tlog_proofs(seeds)
    records(seeds)
    tile_paths(seeds)
    add_checkpoints(seeds)
    index_items(seeds)
    seeds.write()


if __name__ == "__main__":
    main()
