#!/usr/bin/env python3
"""Independent checker for the verifiable index (`gazette.index/v1`, docs/INDEX.md).

Written from docs/INDEX.md and the README's "The record format" only, without
reading the Rust implementation (client/src/index*).  Standard library only.

Follows docs/INDEX.md as of commit d76388b ("segments"): the spec changed
while this checker was being written (from one map with a hash-chain value and a
one-root commitment to segments with a flat list hash and a segment-list
commitment); the vector schema changed with it, and this script follows the
new one.

Implements, section by section:
  1. document key, name key, agency key, parsing a signed record entry and
     filing it under its keys, parsing an agency registry entry and filing it
     under its agency's key, a key's list and the value of its part in a
     segment;
  2. a segment's tree root (recursive over sorted 256-bit keys);
  3. map proofs: generation, encoding, strict decoding (every must-reject rule),
     verification of presence and absence;
  4. the commitment entry (segment list): strict parse and encode;
  5. a proven lookup (RFC 6962 inclusion of the commitment and of every listed
     entry, filing, one map proof per segment).

Usage:
    python3 verify_index_vectors.py [vectors.json]   # default: index.json next to this file
    python3 verify_index_vectors.py --selftest       # checks of this implementation alone

The agency key and the registry entry (`gazette.agency/v1`) are not in
docs/INDEX.md yet: that part was added later, following the module
documentation of client/src/registry.rs (the entry's format) and of
client/src/index/mod.rs (`agency_key`), c2sp.org/signed-note for vkeys and
RFC 8032 for Ed25519 point decoding, by someone who had read the Rust code
(so it is less independent than the rest).

Vector file sections: document_keys, name_keys, agency_keys, list_values, raw_maps (pairs,
root, proofs), log (entries, segments with start/end/root/filed/proofs),
lookups (checkpoint size/root, commitment, entries with inclusion proofs,
map_proofs, valid), commitments (text, size, segments), reject_commitments,
reject_proofs.  "filed" is checked as a complete set against a full rebuild.

Prints one line per failure, a summary, and exits non-zero on any failure.
"""
import base64
import hashlib
import json
import sys

# ---------------------------------------------------------------- primitives


def H(b):
    return hashlib.sha256(b).digest()


Z = b"\x00" * 32
MAX_DEPTH = 256
MAX_PROOF_LEN = 1 + 64 + 2 + 32 + 256 * 32  # 8291
MAX_RECORD_LEN = 16 * 1024                  # README: "A signed record is at most 16 KiB."
MAX_COMMITMENT_LEN = 8192


def u64be(n):
    if not 0 <= n < 1 << 64:
        raise ValueError("index out of u64 range")
    return n.to_bytes(8, "big")


def rfc6962_leaf_hash(entry):
    return H(b"\x00" + entry)


def leaf(k, v):
    return H(b"\x02" + k + v)


def node(l, r):
    return H(b"\x03" + l + r)


def bit(k, t):
    """bit t of a 256-bit key; bit 0 = MSB of byte 0."""
    return (k[t >> 3] >> (7 - (t & 7))) & 1


# ---------------------------------------------------------------- section 1: keys, records, lists


def document_key(d):
    if len(d) != 32:
        raise ValueError("digest must be 32 bytes")
    return H(b"gazette.index/v1 digest " + d)


def name_key(issuer, kind, id_):
    for f in (issuer, kind, id_):
        if "\n" in f:
            raise ValueError("a name field holds a newline")
    return H(b"gazette.index/v1 name " + issuer.encode() + b"\n" + kind.encode() + b"\n" + id_.encode())


B64_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
# Unicode White_Space (what Go's unicode.IsSpace and Rust's char::is_whitespace test)
WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def b64_strict(s):
    """standard base64 with padding; raises ValueError otherwise."""
    if isinstance(s, str):
        try:
            s = s.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("base64 not ASCII")
    if len(s) == 0 or len(s) % 4 != 0 or any(c not in B64_ALPHABET for c in s):
        raise ValueError("not padded standard base64")
    try:
        return base64.b64decode(s, validate=True)
    except Exception:
        raise ValueError("not padded standard base64")


def valid_key_name(name):
    """c2sp.org/signed-note key name: non-empty, no Unicode white space, no '+'."""
    return name != "" and "+" not in name and not any(c in WHITE_SPACE for c in name)


def note_text(entry):
    """Signed-note syntax (c2sp.org/signed-note, Go note.Open rules, no signature
    checks).  Returns (text part ending in "\\n", signer names) or raises ValueError.
    Checks: valid UTF-8; no character below U+0020 other than "\\n"; the LAST
    "\\n\\n" splits text from signatures; the signature block is non-empty and ends
    in "\\n"; at most 100 signature lines; each line is "\u2014 <name> <base64>" with
    a valid key name and padded standard base64 of at least 5 bytes (key ID + 1)."""
    try:
        s = entry.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("note is not UTF-8")
    if any(c < "\x20" and c != "\n" for c in s):
        raise ValueError("control character in note")
    split = s.rfind("\n\n")
    if split < 0:
        raise ValueError("no blank line before signatures")
    text, sigs = s[:split + 1], s[split + 2:]
    if sigs == "" or not sigs.endswith("\n"):
        raise ValueError("signature block empty or without final newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > 100:
        raise ValueError("more than 100 signature lines")
    names = []
    for line in lines:
        if not line.startswith("\u2014 "):
            raise ValueError("signature line without em dash")
        name, sp, sig64 = line[2:].partition(" ")
        if not sp or not valid_key_name(name):
            raise ValueError("bad key name on signature line")
        if len(b64_strict(sig64)) < 5:
            raise ValueError("signature too short")
        names.append(name)
    return text, names


HEX_LOWER = set("0123456789abcdef")
DIGITS = set("0123456789")
RESERVED_FIELDS = {"issuer", "kind", "id", "digest", "issued", "revokes"}


def valid_rfc3339_utc(s):
    """YYYY-MM-DDTHH:MM:SS[.fraction]Z with real calendar ranges (upper-case T and Z
    only; seconds 00-59, no leap second; fraction 1-9 digits)."""
    if len(s) < 20 or s[-1] != "Z":
        return False
    main, frac = s[:19], s[19:-1]
    if frac:
        if frac[0] != "." or not 2 <= len(frac) <= 10 or any(c not in DIGITS for c in frac[1:]):
            return False
    shape = "dddd-dd-ddTdd:dd:dd"
    for c, p in zip(main, shape):
        if p == "d":
            if c not in DIGITS:
                return False
        elif c != p:
            return False
    y, mo, d = int(main[0:4]), int(main[5:7]), int(main[8:10])
    hh, mm, ss = int(main[11:13]), int(main[14:16]), int(main[17:19])
    if not 1 <= mo <= 12 or hh > 23 or mm > 59 or ss > 59:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
    return 1 <= d <= mdays


def parse_record(entry):
    """Parse entry bytes as a `gazette.record/v1` record (README "The record
    format").  Returns dict(issuer, kind, id, digest(32 bytes), revokes=(K, I)|None)
    or raises ValueError.  Signatures are NOT verified (INDEX.md section 1).

    What is checked (strict but simple; where INDEX.md and the README are
    silent, the reading chosen is marked "reading"):
      * the entry is at most 16 KiB and is a signed note (see note_text) with
        exactly one signature line, whose key name equals the issuer;
      * the text's lines, in this order: "gazette.record/v1", "issuer <I>",
        "kind <K>", "id <ID>", "digest sha256:<64 lowercase hex>",
        "issued <RFC 3339 UTC>", then zero or more "<key> <value>" lines;
      * issuer is a valid signed-note key name (non-empty, no white space, no '+');
      * kind is non-empty with no white space (a token);
      * id is non-empty (reading: may hold spaces; no newline by construction);
      * every further line has a non-empty key without white space, a space, and
        a value (possibly empty); (reading:) no further key may repeat a fixed
        field name (issuer/kind/id/digest/issued), and "revokes" is reserved:
      * kind "revocation" requires exactly one "revokes <K> <I>" line (reading:
        anywhere among the further lines), K a token other than "revocation"
        (reading, from "the name it revokes does not [have kind revocation]"),
        I non-empty (the rest of the line); (reading:) any other kind must not
        have a "revokes" line;
      * (reading) issued: YYYY-MM-DDTHH:MM:SS[.1-9 digits]Z, real dates, no leap
        second; signature base64 need not be canonical; no length cap on names.
    """
    if len(entry) > MAX_RECORD_LEN:
        raise ValueError("record over 16 KiB")
    text, signers = note_text(entry)
    if len(signers) != 1:
        raise ValueError("not exactly one signature line")
    lines = text[:-1].split("\n")
    if len(lines) < 6:
        raise ValueError("too few lines")
    if lines[0] != "gazette.record/v1":
        raise ValueError("no gazette.record/v1 header")
    vals = []
    for line, key in zip(lines[1:6], ("issuer", "kind", "id", "digest", "issued")):
        if not line.startswith(key + " "):
            raise ValueError("expected %s line" % key)
        vals.append(line[len(key) + 1:])
    issuer, kind, id_, digest, issued = vals
    if not valid_key_name(issuer):
        raise ValueError("issuer is not a key name")
    if signers[0] != issuer:
        raise ValueError("signature line not by the issuer")
    if kind == "" or any(c in WHITE_SPACE for c in kind):
        raise ValueError("kind is not a token")
    if id_ == "":
        raise ValueError("empty id")
    if not digest.startswith("sha256:") or len(digest) != 71 or any(c not in HEX_LOWER for c in digest[7:]):
        raise ValueError("bad digest line")
    if not valid_rfc3339_utc(issued):
        raise ValueError("bad issued time")
    revokes = []
    for line in lines[6:]:
        key, sp, value = line.partition(" ")
        if not sp or key == "" or any(c in WHITE_SPACE for c in key):
            raise ValueError("further line is not 'key value'")
        if key in RESERVED_FIELDS:
            if key != "revokes":
                raise ValueError("repeated fixed field " + key)
            rk, sp2, ri = value.partition(" ")
            if not sp2 or rk == "" or any(c in WHITE_SPACE for c in rk) or ri == "":
                raise ValueError("bad revokes line")
            if rk == "revocation":
                raise ValueError("revokes a revocation")
            revokes.append((rk, ri))
    if kind == "revocation":
        if len(revokes) != 1:
            raise ValueError("revocation needs exactly one revokes line")
        rev = revokes[0]
    else:
        if revokes:
            raise ValueError("revokes line on a non-revocation")
        rev = None
    return {"issuer": issuer, "kind": kind, "id": id_, "digest": bytes.fromhex(digest[7:]), "revokes": rev}


def agency_key(agency):
    """The key an agency's registry entries are filed under:
    SHA-256("gazette.index/v1 agency " || agency)."""
    return H(b"gazette.index/v1 agency " + agency.encode("utf-8"))


# Ed25519 (RFC 8032 section 5.1), just enough to decode a public key and tell
# a point of small order (whose signatures prove nothing) from one of full order.
ED_P = 2 ** 255 - 19
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)


def ed_decode(b):
    """The affine point (x, y) a 32-byte public key encodes, or None.
    Reading: y is taken modulo p and x = 0 with the sign bit set is accepted,
    as curve25519-dalek's decompression does (RFC 8032 would refuse both);
    an agency key must moreover be canonical (ed_encode of its point gives
    its bytes back), which refuses both."""
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = (n & ((1 << 255) - 1)) % ED_P
    u = (y * y - 1) % ED_P
    v = (ED_D * y * y + 1) % ED_P
    x = u * pow(v, 3, ED_P) * pow(u * pow(v, 7, ED_P), (ED_P - 5) // 8, ED_P) % ED_P
    if (v * x * x - u) % ED_P != 0:
        x = x * ED_SQRT_M1 % ED_P
        if (v * x * x - u) % ED_P != 0:
            return None
    if (x & 1) != sign:
        x = (ED_P - x) % ED_P
    return x, y


def ed_encode(pt):
    """The canonical 32-byte encoding of the point (x, y): y (< p) little
    endian, with the low bit of x as the top bit (RFC 8032, 5.1.2)."""
    x, y = pt
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed_add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = ED_D * x1 * x2 * y1 * y2 % ED_P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, ED_P - 2, ED_P) % ED_P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, ED_P - 2, ED_P) % ED_P
    return x3, y3


def ed_small_order(pt):
    """[8]P is the identity."""
    for _ in range(3):
        pt = ed_add(pt, pt)
    return pt == (0, 1)


MAX_REGISTRY_ENTRY_LEN = 16 * 1024
MAX_REGISTRY_SIGNATURES = 8
REGISTRY_ACTIONS = ("register", "retire", "compromised")


def registry_key_name(name):
    """a key name as registry.rs validates it: a signed-note key name of at
    most 255 bytes."""
    return valid_key_name(name) and len(name.encode("utf-8")) <= 255


def parse_agency_vkey(vkey, agency):
    """An agency key: "<name>+<8 lowercase hex key ID>+<base64(0x01 || key)>"
    (c2sp.org/signed-note), named as the agency, the key ID the first 4 bytes
    of SHA-256(name || "\n" || 0x01 || key), canonical padded base64, a
    32-byte key decoding to an Ed25519 point not of small order, and those
    32 bytes the canonical encoding of the point (not y + p for y < 19)."""
    name, sp1, rest = vkey.partition("+")
    id_hex, sp2, key64 = rest.partition("+")
    if not sp1 or not sp2 or not registry_key_name(name):
        raise ValueError("not name+keyid+key")
    if name != agency:
        raise ValueError("key not named as the agency")
    if len(id_hex) != 8 or any(c not in HEX_LOWER for c in id_hex):
        raise ValueError("key ID not 8 lowercase hex digits")
    key = b64_strict(key64)
    if base64.b64encode(key).decode("ascii") != key64:
        raise ValueError("key base64 not canonical")
    if len(key) != 33 or key[0] != 0x01:
        raise ValueError("not an Ed25519 (type 0x01) key of 32 bytes")
    if H(name.encode("utf-8") + b"\n" + key)[:4].hex() != id_hex:
        raise ValueError("key ID is not the key's")
    pt = ed_decode(key[1:])
    if pt is None:
        raise ValueError("not an Ed25519 point")
    if ed_small_order(pt):
        raise ValueError("a point of small order")
    if ed_encode(pt) != key[1:]:
        raise ValueError("the key is not in its canonical encoding")
    return name


def parse_registry_entry(entry):
    """Parse entry bytes as an agency registry entry (`gazette.agency/v1`,
    client/src/registry.rs): at most 16 KiB, a signed note with 1 to 8
    signature lines (not verified: filing is a function of the bytes), whose
    text is exactly the lines
        gazette.agency/v1
        log <key name>
        agency <key name>
        <register|retire|compromised> <the agency key's vkey>
        [from <canonical decimal u64>]
        time <RFC 3339 UTC>
    Returns the agency name or raises ValueError."""
    if len(entry) > MAX_REGISTRY_ENTRY_LEN:
        raise ValueError("registry entry over 16 KiB")
    text, signers = note_text(entry)
    if len(signers) > MAX_REGISTRY_SIGNATURES:
        raise ValueError("more than 8 signature lines")
    lines = text[:-1].split("\n")
    if lines[0] != "gazette.agency/v1":
        raise ValueError("no gazette.agency/v1 header")
    if len(lines) == 6:
        if not lines[4].startswith("from "):
            raise ValueError("a line between the key and the time that is not from")
        _decimal(lines[4][5:].encode("utf-8"), "from")
        del lines[4]
    if len(lines) != 5:
        raise ValueError("not 5 or 6 lines")
    fields = []
    for line, key in zip((lines[1], lines[2], lines[4]), ("log", "agency", "time")):
        if not line.startswith(key + " "):
            raise ValueError("expected %s line" % key)
        fields.append(line[len(key) + 1:])
    log, agency, time = fields
    if not registry_key_name(log) or not registry_key_name(agency):
        raise ValueError("log or agency is not a key name")
    action, sp, vkey = lines[3].partition(" ")
    if not sp or action not in REGISTRY_ACTIONS:
        raise ValueError("unknown action")
    parse_agency_vkey(vkey, agency)
    if not valid_rfc3339_utc(time):
        raise ValueError("bad time")
    return agency


def entry_keys(entry):
    """The keys an entry is filed under (section 1): a record's, a registry
    entry's agency key, [] for anything else."""
    try:
        r = parse_record(entry)
    except ValueError:
        try:
            return [agency_key(parse_registry_entry(entry))]
        except ValueError:
            return []
    keys = [document_key(r["digest"]), name_key(r["issuer"], r["kind"], r["id"])]
    if r["revokes"] is not None:
        keys.append(name_key(r["issuer"], r["revokes"][0], r["revokes"][1]))
    out = []
    for k in keys:  # "filed at most once under one key"
        if k not in out:
            out.append(k)
    return out


def build_lists(entries, start=0, end=None):
    """entries: list of bytes, index = position.  Files entries start .. end-1.
    Returns {key: [(i, h), ...]}."""
    lists = {}
    end = len(entries) if end is None else end
    for i in range(start, end):
        e = entries[i]
        ks = entry_keys(e)
        if not ks:
            continue
        h = rfc6962_leaf_hash(e)
        for k in ks:
            lists.setdefault(k, []).append((i, h))
    return lists


def list_value(part):
    """value of a key's non-empty part of a list in one segment:
    H(0x04 || u64be(i_1) || h_1 || ... || u64be(i_n) || h_n), indexes strictly increasing."""
    if not part:
        raise ValueError("empty part has no value")
    prev = -1
    buf = bytearray()
    for i, h in part:
        if i <= prev:
            raise ValueError("list indexes do not increase")
        if len(h) != 32:
            raise ValueError("leaf hash not 32 bytes")
        prev = i
        buf += u64be(i) + h
    return H(b"\x04" + bytes(buf))


def build_segment(entries, start, end):
    """the lists and the map (key -> value) of the segment covering start .. end-1."""
    lists = build_lists(entries, start, end)
    return lists, {k: list_value(l) for k, l in lists.items()}


# ---------------------------------------------------------------- section 2: the tree


def _subtree(items, lo, hi, depth):
    """hash of the subtree at `depth` holding items[lo:hi] (sorted (k, v), all
    sharing their first `depth` bits)."""
    n = hi - lo
    if n == 0:
        return Z
    if n == 1:
        return leaf(items[lo][0], items[lo][1])
    assert depth < MAX_DEPTH  # distinct keys split before depth 256
    mid = lo
    while mid < hi and bit(items[mid][0], depth) == 0:
        mid += 1
    return node(_subtree(items, lo, mid, depth + 1), _subtree(items, mid, hi, depth + 1))


def map_root(m):
    items = sorted(m.items())
    return _subtree(items, 0, len(items), 0)


def map_root_naive(m, prefix_key=None, depth=0):
    """Second, structurally different root computation (filters by prefix bits,
    no sorting), used only to cross-check map_root in --selftest."""
    ks = [k for k in m if prefix_key is None or all(bit(k, t) == bit(prefix_key, t) for t in range(depth))]
    if not ks:
        return Z
    if len(ks) == 1:
        return leaf(ks[0], m[ks[0]])
    k0 = ks[0]
    left = bytearray(k0)
    right = bytearray(k0)
    left[depth >> 3] &= ~(0x80 >> (depth & 7)) & 0xFF
    right[depth >> 3] |= 0x80 >> (depth & 7)
    return node(map_root_naive(m, bytes(left), depth + 1), map_root_naive(m, bytes(right), depth + 1))


# ---------------------------------------------------------------- section 3: proofs

T_EMPTY, T_SELF, T_OTHER = 0, 1, 2


class Proof:
    def __init__(self, terminal, siblings, other=None):
        self.terminal = terminal        # T_EMPTY / T_SELF / T_OTHER
        self.other = other              # (k', v') for T_OTHER
        self.siblings = siblings        # list of d hashes, s_0 .. s_{d-1}

    def __eq__(self, o):
        return (self.terminal, self.other, self.siblings) == (o.terminal, o.other, o.siblings)


def gen_proof(m, k):
    items = sorted(m.items())
    lo, hi, t = 0, len(items), 0
    sibs = []
    while hi - lo > 1:
        mid = lo
        while mid < hi and bit(items[mid][0], t) == 0:
            mid += 1
        if bit(k, t) == 0:
            sibs.append(_subtree(items, mid, hi, t + 1))
            hi = mid
        else:
            sibs.append(_subtree(items, lo, mid, t + 1))
            lo = mid
        t += 1
    if hi == lo:
        return Proof(T_EMPTY, sibs)
    kk, vv = items[lo]
    if kk == k:
        return Proof(T_SELF, sibs)
    return Proof(T_OTHER, sibs, (kk, vv))


def encode_proof(p):
    d = len(p.siblings)
    if d > MAX_DEPTH:
        raise ValueError("depth over 256")
    out = bytearray([p.terminal])
    if p.terminal == T_OTHER:
        out += p.other[0] + p.other[1]
    out += d.to_bytes(2, "big")
    bm = bytearray((d + 7) // 8)
    written = bytearray()
    for t, s in enumerate(p.siblings):
        if s != Z:
            bm[t >> 3] |= 0x80 >> (t & 7)
            written += s
    return bytes(out + bm + written)


def decode_proof(b):
    """Strict decoder: raises ValueError on an unknown terminal byte, a depth over
    256, a bitmap bit set past d-1, a written-out sibling equal to Z, truncation,
    or trailing bytes."""
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(b):
            raise ValueError("truncated proof")
        r = b[pos:pos + n]
        pos += n
        return bytes(r)
    if len(b) > MAX_PROOF_LEN:
        raise ValueError("proof longer than 8291 bytes")
    term = take(1)[0]
    if term not in (T_EMPTY, T_SELF, T_OTHER):
        raise ValueError("unknown terminal byte 0x%02x" % term)
    other = None
    if term == T_OTHER:
        other = (take(32), take(32))
    d = int.from_bytes(take(2), "big")
    if d > MAX_DEPTH:
        raise ValueError("depth %d over 256" % d)
    bm = take((d + 7) // 8)
    for t in range(d, len(bm) * 8):
        if bm[t >> 3] & (0x80 >> (t & 7)):
            raise ValueError("bitmap bit %d set past depth" % t)
    sibs = []
    for t in range(d):
        if bm[t >> 3] & (0x80 >> (t & 7)):
            s = take(32)
            if s == Z:
                raise ValueError("sibling %d written out as Z" % t)
            sibs.append(s)
        else:
            sibs.append(Z)
    if pos != len(b):
        raise ValueError("trailing bytes after proof")
    return Proof(term, sibs, other)


def verify_proof(k, root, value, p):
    """value None = absence claim; otherwise presence of k with that value."""
    d = len(p.siblings)
    if d > MAX_DEPTH:
        return False
    if value is None:
        if p.terminal == T_EMPTY:
            x = Z
        elif p.terminal == T_OTHER:
            k2, v2 = p.other
            if k2 == k or any(bit(k2, t) != bit(k, t) for t in range(d)):
                return False
            x = leaf(k2, v2)
        else:
            return False
    else:
        if p.terminal != T_SELF:
            return False
        x = leaf(k, value)
    for t in range(d - 1, -1, -1):
        x = node(x, p.siblings[t]) if bit(k, t) == 0 else node(p.siblings[t], x)
    return x == root


def check_proof_bytes(k, root, value, b):
    """True iff the encoded proof decodes and verifies."""
    try:
        p = decode_proof(b)
    except ValueError:
        return False
    return verify_proof(k, root, value, p)


# ---------------------------------------------------------------- section 4: the commitment entry


MAX_COMMITMENT_SEGMENTS = 64


def _decimal(b, what):
    if b == b"" or any(c not in b"0123456789" for c in b) or (len(b) > 1 and b[:1] == b"0"):
        raise ValueError(what + " not canonical decimal")
    n = int(b)
    if n >= 1 << 64:
        raise ValueError(what + " over u64")
    return n


def parse_commitment(b):
    """Strict: exactly b"gazette.index/v1\\nsize <N>\\n" then one line
    "<end_j> <root_j>\\n" per segment; at most 8192 bytes and 64 segments;
    numbers decimal without leading zeros and < 2^64; roots canonical padded
    standard base64 of 32 bytes; ends strictly increasing from end_0 = 0 (so
    end_1 >= 1) and end_m = N; no segment line iff N = 0.
    Returns (N, [(end_j, root_j), ...]) or raises ValueError."""
    if isinstance(b, str):
        b = b.encode("utf-8")
    if len(b) > MAX_COMMITMENT_LEN:
        raise ValueError("over 8192 bytes")
    if not b.endswith(b"\n"):
        raise ValueError("no final newline")
    lines = b[:-1].split(b"\n")
    if len(lines) < 2:
        raise ValueError("fewer than two lines")
    if lines[0] != b"gazette.index/v1":
        raise ValueError("bad header line")
    if not lines[1].startswith(b"size "):
        raise ValueError("no size line")
    n = _decimal(lines[1][5:], "size")
    segs = []
    prev = 0
    for line in lines[2:]:
        e_s, sp, r_s = line.partition(b" ")
        if not sp:
            raise ValueError("segment line without a space")
        end = _decimal(e_s, "end")
        if end <= prev:
            raise ValueError("ends do not increase strictly from 0")
        prev = end
        root = b64_strict(r_s)
        if len(root) != 32:
            raise ValueError("root not 32 bytes")
        if base64.b64encode(root) != r_s:
            raise ValueError("root base64 not canonical")
        segs.append((end, root))
    if len(segs) > MAX_COMMITMENT_SEGMENTS:
        raise ValueError("more than 64 segments")
    if n == 0:
        if segs:
            raise ValueError("segment line in an empty map")
    elif not segs or segs[-1][0] != n:
        raise ValueError("last end is not the size")
    return n, segs


def encode_commitment(n, segs):
    return b"gazette.index/v1\nsize %d\n" % n + b"".join(
        b"%d %s\n" % (e, base64.b64encode(r)) for e, r in segs)


# ---------------------------------------------------------------- RFC 6962 (for section 5)


def rfc_node(l, r):
    return H(b"\x01" + l + r)


def _split(n):
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(hs):
    if not hs:
        return H(b"")
    if len(hs) == 1:
        return hs[0]
    k = _split(len(hs))
    return rfc_node(mth(hs[:k]), mth(hs[k:]))


def inclusion_path(m, hs):
    if len(hs) <= 1:
        return []
    k = _split(len(hs))
    if m < k:
        return inclusion_path(m, hs[:k]) + [mth(hs[k:])]
    return inclusion_path(m - k, hs[k:]) + [mth(hs[:k])]


def verify_inclusion(index, size, lh, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, lh
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = rfc_node(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = rfc_node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---------------------------------------------------------------- section 5: a proven lookup


def verify_lookup(size, root, key, commitment, entries, map_proofs):
    """size, root: the trusted checkpoint.  key: 32 bytes.
    commitment: (index, entry bytes, [inclusion hashes]).
    entries: [(index, entry bytes, [inclusion hashes]), ...] (the key's whole list).
    map_proofs: [encoded proof bytes], one per segment.
    Returns (True, list) or (False, reason)."""
    ci, cbytes, cinc = commitment
    if size == 0 or ci != size - 1:
        return False, "commitment is not entry S-1"
    if not verify_inclusion(ci, size, rfc6962_leaf_hash(cbytes), cinc, root):
        return False, "commitment inclusion"
    try:
        n, segs = parse_commitment(cbytes)
    except ValueError as e:
        return False, "entry S-1 is not a commitment: %s" % e
    if n != size - 1:
        return False, "commitment size is not S-1"
    lst = []
    prev = -1
    for i, e, inc in entries:
        if i <= prev:
            return False, "indexes do not increase"
        prev = i
        h = rfc6962_leaf_hash(e)
        if not verify_inclusion(i, size, h, inc, root):
            return False, "inclusion of entry %d" % i
        if key not in entry_keys(e):
            return False, "entry %d is not filed under the key" % i
        lst.append((i, h))
    if len(map_proofs) != len(segs):
        return False, "%d map proofs for %d segments" % (len(map_proofs), len(segs))
    start = 0
    for j, ((end, sroot), pb) in enumerate(zip(segs, map_proofs)):
        part = [(i, h) for i, h in lst if start <= i < end]
        try:
            p = decode_proof(pb)
        except ValueError as e:
            return False, "map proof %d does not decode: %s" % (j, e)
        if not verify_proof(key, sroot, list_value(part) if part else None, p):
            return False, "map proof %d (segment %d..%d, %s) fails" % (
                j, start, end, "presence" if part else "absence")
        start = end
    # every listed entry lies in some segment (indexes < N, as S-1 = N is the commitment)
    if lst and lst[-1][0] >= n:
        return False, "entry past the map"
    return True, lst


# ---------------------------------------------------------------- vector checking

FAILURES = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)
    return cond


def unhex(s, n=None):
    if not isinstance(s, str) or len(s) % 2 or any(c not in HEX_LOWER for c in s):
        raise ValueError("not lowercase hex: %r" % (s,))
    b = bytes.fromhex(s)
    if n is not None and len(b) != n:
        raise ValueError("hex of %d bytes, want %d" % (len(b), n))
    return b


def parse_list(lst):
    return [(int(i), unhex(h, 32)) for i, h in lst]


def fmt_list(lst):
    return [[i, h.hex()] for i, h in lst]


def check_map_proofs(label, m, root, proofs):
    for j, pr in enumerate(proofs):
        where = "%s proof[%d]" % (label, j)
        try:
            k = unhex(pr["key"], 32)
            want = unhex(pr["proof"])
        except (ValueError, KeyError) as e:
            check(False, "%s: malformed vector item: %s" % (where, e))
            continue
        where += " key %s" % pr["key"][:16]
        present = k in m
        check(present == pr["present"], "%s: present=%s in vector, %s recomputed" % (where, pr["present"], present))
        mine = encode_proof(gen_proof(m, k))
        check(mine == want, "%s: generated proof differs: mine %s vector %s" % (where, mine.hex(), want.hex()))
        try:
            p = decode_proof(want)
        except ValueError as e:
            check(False, "%s: vector proof does not decode: %s" % (where, e))
            continue
        check(encode_proof(p) == want, "%s: vector proof does not re-encode to itself" % where)
        value = m.get(k) if pr["present"] else None
        check(verify_proof(k, root, value, p), "%s: vector proof does not verify (%s)" % (
            where, "presence" if pr["present"] else "absence"))
        # the opposite claim must fail
        if pr["present"]:
            check(not verify_proof(k, root, None, p), "%s: presence proof also verifies as absence" % where)
            check(not verify_proof(k, root, H(b"x" + m[k]), p), "%s: presence proof verifies another value" % where)
        else:
            check(not verify_proof(k, root, Z, p), "%s: absence proof verifies as presence" % where)


def check_vectors(path):
    with open(path, encoding="utf-8") as f:
        vec = json.load(f)
    print("source:", vec.get("source", "?"))
    counts = {}
    for j, it in enumerate(vec.get("document_keys", [])):
        try:
            got = document_key(unhex(it["digest"], 32)).hex()
        except ValueError as e:
            check(False, "document_keys[%d]: %s" % (j, e))
            continue
        check(got == it["key"], "document_keys[%d]: key %s, vector %s" % (j, got, it["key"]))
    counts["document_keys"] = len(vec.get("document_keys", []))
    for j, it in enumerate(vec.get("name_keys", [])):
        got = name_key(it["issuer"], it["kind"], it["id"]).hex()
        check(got == it["key"], "name_keys[%d] (%r,%r,%r): key %s, vector %s" % (
            j, it["issuer"], it["kind"], it["id"], got, it["key"]))
    counts["name_keys"] = len(vec.get("name_keys", []))
    for j, it in enumerate(vec.get("agency_keys", [])):
        got = agency_key(it["agency"]).hex()
        check(got == it["key"], "agency_keys[%d] (%r): key %s, vector %s" % (j, it["agency"], got, it["key"]))
    counts["agency_keys"] = len(vec.get("agency_keys", []))
    for j, it in enumerate(vec.get("list_values", [])):
        try:
            got = list_value(parse_list(it["list"])).hex()
        except ValueError as e:
            check(False, "list_values[%d]: %s" % (j, e))
            continue
        check(got == it["value"], "list_values[%d]: value %s, vector %s" % (j, got, it["value"]))
    counts["list_values"] = len(vec.get("list_values", []))
    for j, it in enumerate(vec.get("raw_maps", [])):
        label = "raw_maps[%d] %r" % (j, it.get("name", ""))
        m = {}
        try:
            for kh, vh in it["pairs"]:
                k = unhex(kh, 32)
                check(k not in m, "%s: key %s listed twice" % (label, kh))
                m[k] = unhex(vh, 32)
            root = unhex(it["root"], 32)
        except ValueError as e:
            check(False, "%s: %s" % (label, e))
            continue
        got = map_root(m)
        check(got == root, "%s: root %s, vector %s" % (label, got.hex(), it["root"]))
        check_map_proofs(label, m, root, it.get("proofs", []))
    counts["raw_maps"] = len(vec.get("raw_maps", []))
    if "log" in vec:
        log = vec["log"]
        entries = [e.encode("utf-8") for e in log["entries"]]
        prev_end = 0
        for j, seg in enumerate(log.get("segments", [])):
            label = "log segment[%d] %d..%d" % (j, seg["start"], seg["end"])
            check(seg["start"] == prev_end and seg["end"] > seg["start"] and seg["end"] <= len(entries),
                  "%s: segments do not follow one another from 0 inside the log" % label)
            prev_end = seg["end"]
            lists, m = build_segment(entries, seg["start"], seg["end"])
            root = map_root(m)
            check(root.hex() == seg["root"], "%s: root %s, vector %s" % (label, root.hex(), seg["root"]))
            vfiled = {}
            for f in seg.get("filed", []):
                check(f["key"] not in vfiled, "%s: filed key %s listed twice" % (label, f["key"]))
                vfiled[f["key"]] = f
            mine = {k.hex() for k in lists}
            for kh in sorted(mine - set(vfiled)):
                check(False, "%s: key %s filed (list %s) but missing from vector 'filed'" % (
                    label, kh, fmt_list(lists[bytes.fromhex(kh)])))
            for kh in sorted(set(vfiled) - mine):
                check(False, "%s: vector 'filed' has key %s (list %s) that I file nothing under" % (
                    label, kh, vfiled[kh]["list"]))
            for kh in sorted(mine & set(vfiled)):
                f = vfiled[kh]
                k = bytes.fromhex(kh)
                check(fmt_list(lists[k]) == [[int(i), h] for i, h in f["list"]],
                      "%s: key %s list %s, vector %s" % (label, kh, fmt_list(lists[k]), f["list"]))
                check(m[k].hex() == f["value"], "%s: key %s value %s, vector %s" % (label, kh, m[k].hex(), f["value"]))
            check_map_proofs(label, m, root, seg.get("proofs", []))
        # commitment entries in the log: where they list exactly the vector's segments, the roots agree
        vsegs = [(s_["end"], s_["root"]) for s_ in log.get("segments", [])]
        for i, e in enumerate(entries):
            try:
                n, segs = parse_commitment(e)
            except ValueError:
                continue
            check(n == i, "log entry %d: commitment says size %d" % (i, n))
            if [x[0] for x in segs] == [x[0] for x in vsegs]:
                check([(x[0], x[1].hex()) for x in segs] == vsegs,
                      "log entry %d: commitment roots differ from the rebuilt segments" % i)
        counts["log segments"] = len(log.get("segments", []))
    for j, it in enumerate(vec.get("lookups", [])):
        label = "lookups[%d] %r" % (j, it.get("name", ""))
        try:
            if "name" in it["key"]:
                nm = it["key"]["name"]
                key = name_key(nm["issuer"], nm["kind"], nm["id"])
            elif "agency" in it["key"]:
                key = agency_key(it["key"]["agency"])
            else:
                key = document_key(unhex(it["key"]["document"], 32))
            c = it["commitment"]
            com = (c["index"], c["entry"].encode("utf-8"), [unhex(x, 32) for x in c["inclusion"]])
            ents = [(e["index"], e["entry"].encode("utf-8"), [unhex(x, 32) for x in e["inclusion"]])
                    for e in it["entries"]]
            mps = [unhex(x) for x in it["map_proofs"]]
            root = unhex(it["root"], 32)
        except (ValueError, KeyError) as e:
            check(False, "%s: malformed vector item: %s" % (label, e))
            continue
        ok, why = verify_lookup(it["size"], root, key, com, ents, mps)
        check(ok == it["valid"], "%s: verify_lookup says %s (%s), vector valid=%s" % (
            label, ok, why if not ok else "list of %d" % len(why), it["valid"]))
    counts["lookups"] = len(vec.get("lookups", []))
    for j, it in enumerate(vec.get("commitments", [])):
        label = "commitments[%d]" % j
        try:
            n, segs = parse_commitment(it["text"])
        except ValueError as e:
            check(False, "%s %r: does not parse: %s" % (label, it["text"], e))
            continue
        check(n == it["size"], "%s: size %d, vector %d" % (label, n, it["size"]))
        check([[e, r.hex()] for e, r in segs] == [[int(e), r] for e, r in it["segments"]],
              "%s: segments %s, vector %s" % (label, [[e, r.hex()] for e, r in segs], it["segments"]))
        check(encode_commitment(n, segs) == it["text"].encode("utf-8"), "%s: re-encoding differs" % label)
        check(entry_keys(it["text"].encode("utf-8")) == [], "%s: commitment would be filed" % label)
    counts["commitments"] = len(vec.get("commitments", []))
    for j, it in enumerate(vec.get("reject_commitments", [])):
        try:
            n, segs = parse_commitment(it["text"])
            check(False, "reject_commitments[%d] (%s): parsed as size %d, %d segments: %r" % (
                j, it.get("why", ""), n, len(segs), it["text"]))
        except ValueError:
            check(True, "")
    counts["reject_commitments"] = len(vec.get("reject_commitments", []))
    unknown = set(vec) - {"source", "document_keys", "name_keys", "agency_keys", "list_values", "raw_maps", "log", "lookups",
                          "commitments", "reject_commitments", "reject_proofs"}
    check(not unknown, "vector sections this checker does not know: %s" % sorted(unknown))
    for j, it in enumerate(vec.get("reject_proofs", [])):
        label = "reject_proofs[%d] (%s)" % (j, it.get("why", ""))
        try:
            k = unhex(it["key"], 32)
            root = unhex(it["root"], 32)
            value = None if it["value"] is None else unhex(it["value"], 32)
        except ValueError as e:
            check(False, "%s: malformed vector item: %s" % (label, e))
            continue
        try:
            b = unhex(it["proof"])
        except ValueError:
            check(True, "")  # not even hex: rejected
            continue
        try:
            p = decode_proof(b)
        except ValueError:
            check(True, "")
            continue
        check(not verify_proof(k, root, value, p), "%s: decodes and verifies" % label)
    counts["reject_proofs"] = len(vec.get("reject_proofs", []))
    print("items:", ", ".join("%s %d" % kv for kv in counts.items()))


# ---------------------------------------------------------------- self test


def make_record(issuer, kind, id_, digest, extra=(), sig_names=None, issued="2024-05-01T12:00:00Z"):
    text = "gazette.record/v1\nissuer %s\nkind %s\nid %s\ndigest sha256:%s\nissued %s\n" % (
        issuer, kind, id_, digest.hex(), issued)
    text += "".join(l + "\n" for l in extra)
    sigs = "".join("\u2014 %s %s\n" % (n, base64.b64encode(b"\x01\x02\x03\x04" + b"s" * 64).decode())
                   for n in (sig_names or [issuer]))
    return (text + "\n" + sigs).encode()


def selftest():
    rnd_state = [0]

    def rnd32():
        rnd_state[0] += 1
        return H(b"selftest random " + str(rnd_state[0]).encode())

    def flip(k, t):
        b = bytearray(k)
        b[t >> 3] ^= 0x80 >> (t & 7)
        return bytes(b)

    def roundtrip(label, m, extra_absent=()):
        root = map_root(m)
        check(root == map_root_naive(m), "%s: root differs between the two implementations" % label)
        probe = list(m) + list(extra_absent)
        for k in list(m)[:40]:
            probe += [flip(k, 255), flip(k, 0), flip(k, 128), flip(k, 254)]
        for k in probe:
            p = gen_proof(m, k)
            b = encode_proof(p)
            check(len(b) <= MAX_PROOF_LEN, "%s: proof too long" % label)
            try:
                q = decode_proof(b)
            except ValueError as e:
                check(False, "%s: own proof does not decode: %s" % (label, e))
                continue
            check(q == p and encode_proof(q) == b, "%s: decode/encode round trip" % label)
            if k in m:
                check(p.terminal == T_SELF, "%s: present key has terminal %d" % (label, p.terminal))
                # the same path with terminal byte 0x00 must not verify (one encoding per proof)
                check(not check_proof_bytes(k, root, m[k], b"\x00" + b[1:]),
                      "%s: presence proof with terminal byte 0x00 verifies" % label)
                check(verify_proof(k, root, m[k], q), "%s: presence does not verify" % label)
                check(not verify_proof(k, root, flip(m[k], 3), q), "%s: presence verifies a wrong value" % label)
                check(not verify_proof(k, root, None, q), "%s: presence verifies as absence" % label)
                check(not verify_proof(k, flip(root, 7), m[k], q), "%s: verifies against a wrong root" % label)
            else:
                check(p.terminal != T_SELF, "%s: absent key has terminal 1" % label)
                check(verify_proof(k, root, None, q), "%s: absence does not verify" % label)
                check(not verify_proof(k, root, Z, q), "%s: absence verifies as presence" % label)
                # reuse of another key's proof: present key k2 near k
            # every truncation must fail to decode
            for cut in range(len(b)):
                try:
                    decode_proof(b[:cut])
                    check(False, "%s: truncated proof (%d of %d bytes) decodes" % (label, cut, len(b)))
                except ValueError:
                    pass
            try:
                decode_proof(b + b"\x00")
                check(False, "%s: proof with a trailing byte decodes" % label)
            except ValueError:
                pass
        # a present key's proof must not prove a different key
        ks = sorted(m)
        for a, c in zip(ks, ks[1:]):
            pa = gen_proof(m, a)
            check(not verify_proof(c, root, m[a], pa), "%s: proof of one key proves another" % label)
            check(not verify_proof(c, root, m[c], pa), "%s: proof of one key proves another (2)" % label)
        return root

    # empty map
    check(map_root({}) == Z, "empty map root is Z")
    k = rnd32()
    p = gen_proof({}, k)
    check(encode_proof(p) == b"\x00\x00\x00", "empty map absence proof is 00 0000")
    check(verify_proof(k, Z, None, p), "empty map absence verifies")
    check(not verify_proof(k, Z, Z, p), "empty map presence rejected")
    roundtrip("empty", {}, [k, Z, b"\xff" * 32])

    # one key
    k1, v1 = rnd32(), rnd32()
    m = {k1: v1}
    check(map_root(m) == leaf(k1, v1), "one-key root is its leaf")
    check(encode_proof(gen_proof(m, k1)) == b"\x01\x00\x00", "one-key presence proof is 01 0000")
    ka = rnd32()
    check(encode_proof(gen_proof(m, ka)) == b"\x02" + k1 + v1 + b"\x00\x00", "one-key absence proof")
    roundtrip("one key", m, [ka, flip(k1, 255)])

    # two keys differing only in the last bit: depth 256
    base = rnd32()
    ka, kb = bytes(base[:31]) + bytes([base[31] & 0xFE]), bytes(base[:31]) + bytes([base[31] | 1])
    m = {ka: rnd32(), kb: rnd32()}
    p = gen_proof(m, ka)
    check(len(p.siblings) == 256 and p.siblings[255] == leaf(kb, m[kb]) and all(s == Z for s in p.siblings[:255]),
          "last-bit pair: depth 256, one sibling")
    b = encode_proof(p)
    check(len(b) == 1 + 2 + 32 + 32 and b[3:35] == b"\x00" * 31 + b"\x01", "last-bit pair encoding")
    root = roundtrip("last-bit pair", m, [flip(ka, 254), flip(ka, 0)])
    # absence of a key sharing 255 bits with both: the empty half at depth 255? no: both share 255
    # bits with ka^bit254; its path ends in an empty subtree at depth 255.
    q = gen_proof(m, flip(ka, 254))
    check(q.terminal == T_EMPTY and len(q.siblings) == 255, "empty terminal at depth 255")

    # maximal proof: keys k, and for every t a key that differs from k first at bit t
    kx = rnd32()
    m = {kx: rnd32()}
    for t in range(256):
        m[flip(kx, t)] = rnd32()
    p = gen_proof(m, kx)
    b = encode_proof(p)
    check(len(p.siblings) == 256 and len(b) == 1 + 2 + 32 + 256 * 32, "dense path proof length")
    roundtrip("dense path", m)
    p2 = gen_proof({k2: v for k2, v in m.items() if k2 != kx}, kx)
    b2 = encode_proof(p2)
    # the largest proof a real tree gives: another key's leaf at depth 255 (8259 bytes);
    # 8291 (other leaf at depth 256) decodes but can never verify (k' would equal k).
    check(p2.terminal == T_OTHER and len(p2.siblings) == 255 and len(b2) == MAX_PROOF_LEN - 32,
          "largest absence proof is 8259 bytes")
    p3 = Proof(T_OTHER, [rnd32() for _ in range(256)], (kx, rnd32()))
    b3 = encode_proof(p3)
    check(len(b3) == MAX_PROOF_LEN and decode_proof(b3) == p3, "8291-byte proof decodes")
    check(not verify_proof(kx, map_root(m), None, p3), "other-leaf terminal at depth 256 never verifies")

    # long shared prefixes (200 bits) plus scattered keys
    pre = rnd32()
    m = {}
    for j in range(12):
        kk = bytearray(pre)
        kk[25:] = rnd32()[:7]
        m[bytes(kk)] = rnd32()
    for j in range(30):
        m[rnd32()] = rnd32()
    roundtrip("long prefixes", m, [rnd32() for _ in range(10)])

    # random maps of many sizes
    for n in (2, 3, 4, 5, 7, 8, 16, 33, 100):
        m = {rnd32(): rnd32() for _ in range(n)}
        roundtrip("random %d" % n, m, [rnd32() for _ in range(5)])

    # absence proof tampering: k' == k, k' not sharing the prefix
    kc, kd = rnd32(), rnd32()
    m = {kc: rnd32()}
    p = gen_proof(m, kd)  # other-leaf at depth 0
    check(verify_proof(kd, map_root(m), None, p), "other-leaf absence verifies")
    check(not verify_proof(kc, map_root(m), None, p), "absence with k' == k rejected")
    # prefix mismatch: map {a (bit0=0), b (bit0=1)}; claim absence of a' (bit0=0) using b's leaf as terminal
    a = b"\x00" + rnd32()[1:]
    bb = b"\x80" + rnd32()[1:]
    m = {a: rnd32(), bb: rnd32()}
    root = map_root(m)
    # forged absence for a key with bit 0 = 1, using a's leaf (bit 0 = 0) as terminal
    kneg = flip(flip(a, 200), 0)
    forged = Proof(T_OTHER, [leaf(bb, m[bb])], (a, m[a]))
    check(not verify_proof(kneg, root, None, forged), "absence with k' off the path rejected")
    # prefix rule alone: a path that hashes to the given root but whose k' disagrees with k on bit 0
    fp = Proof(T_OTHER, [Z], (a, m[a]))
    kk = flip(a, 0)  # bit 0 = 1: x goes right, node(Z, leaf(a))
    fake_root = node(Z, leaf(a, m[a]))
    check(not verify_proof(kk, fake_root, None, fp), "prefix rule: k' disagreeing on bit 0 rejected")
    fp_ok = Proof(T_OTHER, [Z], (a, m[a]))
    check(verify_proof(flip(a, 100), node(leaf(a, m[a]), Z), None, fp_ok), "same path with k' on the prefix verifies")

    # must-reject encodings (section 3)
    good = encode_proof(Proof(T_SELF, [Z, rnd32(), Z]))
    check(good[:3] == b"\x01\x00\x03" and good[3] == 0x40 and len(good) == 36, "3-deep encoding layout")
    rejects = [
        ("unknown terminal 0x03", b"\x03\x00\x00"),
        ("unknown terminal 0xff", b"\xff\x00\x00"),
        ("depth 257", b"\x01\x01\x01" + b"\x00" * 33),
        ("depth 65535", b"\x01\xff\xff"),
        ("bit set past d-1 (d=3, bit 3)", b"\x01\x00\x03\x50" + rnd32()),
        ("bit set past d-1 (d=3, bit 3), its sibling written", b"\x01\x00\x03\x50" + rnd32() + rnd32()),
        ("bit set past d-1 (d=3, bit 7)", good[:3] + bytes([good[3] | 1]) + good[4:]),
        ("bit set past d-1 (d=3, bit 7), its sibling written", good[:3] + bytes([good[3] | 1]) + good[4:] + rnd32()),
        ("bit set past d-1 (d=9, byte 1 bit 7)", b"\x00\x00\x09\x00\x01"),
        ("bit set past d-1 (d=9, byte 1 bit 7), its sibling written", b"\x00\x00\x09\x00\x01" + rnd32()),
        ("bit set past d-1 (d=0 has no bitmap; one byte 0x80 is trailing)", b"\x00\x00\x00\x80"),
        ("sibling equal to Z written out", b"\x01\x00\x03\x40" + Z),
        ("sibling equal to Z written out (2 of 2)", b"\x01\x00\x02\xc0" + rnd32() + Z),
        ("trailing byte", good + b"\x00"),
        ("trailing sibling", good + rnd32()),
        ("truncated sibling", good[:-1]),
        ("truncated bitmap", b"\x01\x00\x03"),
        ("truncated depth", b"\x01\x00"),
        ("empty input", b""),
        ("truncated other key", b"\x02" + rnd32()),
        ("truncated other value", b"\x02" + rnd32() + rnd32()[:31]),
        ("other without depth", b"\x02" + rnd32() + rnd32()),
        ("depth 256 with 31-byte bitmap", b"\x01\x01\x00" + b"\x00" * 31),
        ("over 8291 bytes", b3 + b"\x00"),
    ]
    for why, b in rejects:
        try:
            decode_proof(b)
            check(False, "must-reject proof decodes: " + why)
        except ValueError:
            check(True, "")
    # a depth-256 proof with no siblings set is well formed
    try:
        decode_proof(b"\x00\x01\x00" + b"\x00" * 32)
        check(True, "")
    except ValueError as e:
        check(False, "depth-256 all-Z proof rejected: %s" % e)

    # section 1: keys, records, filing
    d0 = H(b"document 0")
    r1 = make_record("agency.example", "e-invoice", "INV 1", d0, ["amount 12"])
    rv = make_record("agency.example", "revocation", "R-1", H(b"rev"), ["revokes e-invoice INV 1", "reason typo"])
    r_other = make_record("other.example", "e-invoice", "INV 1", d0)
    check(entry_keys(r1) == [document_key(d0), name_key("agency.example", "e-invoice", "INV 1")], "record keys")
    check(entry_keys(rv) == [document_key(H(b"rev")), name_key("agency.example", "revocation", "R-1"),
                             name_key("agency.example", "e-invoice", "INV 1")], "revocation keys")
    commit = encode_commitment(2, [(2, Z)])
    entries = [r1, commit, rv, b"junk", r_other]
    lists, m = build_segment(entries, 0, len(entries))
    nk = name_key("agency.example", "e-invoice", "INV 1")
    check(lists[nk] == [(0, rfc6962_leaf_hash(r1)), (2, rfc6962_leaf_hash(rv))], "revoked name's list")
    check(lists[document_key(d0)] == [(0, rfc6962_leaf_hash(r1)), (4, rfc6962_leaf_hash(r_other))], "shared digest list")
    check(len(lists) == 5, "five keys filed")
    check(m[nk] == H(b"\x04" + u64be(0) + rfc6962_leaf_hash(r1) + u64be(2) + rfc6962_leaf_hash(rv)), "value of two")
    # segments: the parts concatenate to the whole list
    l0, m0 = build_segment(entries, 0, 2)
    l1, m1 = build_segment(entries, 2, 5)
    check(l0[nk] + l1[nk] == lists[nk] and m0[nk] == list_value(lists[nk][:1]), "segment parts")
    check(map_root(build_segment(entries, 1, 2)[1]) == Z, "a commitment-only segment has root Z")
    roundtrip("records", m, [name_key("agency.example", "e-invoice", "INV 2")])
    not_records = [
        ("no signature", r1.split(b"\n\n")[0] + b"\n"),
        ("bad header", r1.replace(b"gazette.record/v1", b"gazette.record/v2")),
        ("digest uppercase", make_record("a", "k", "i", d0).replace(d0.hex().encode(), d0.hex().upper().encode())),
        ("digest short", make_record("a", "k", "i", d0).replace(d0.hex().encode(), d0.hex()[:-2].encode())),
        ("fields out of order", r1.replace(b"kind e-invoice\nid INV 1", b"id INV 1\nkind e-invoice")),
        ("issued not UTC", make_record("a", "k", "i", d0, issued="2024-05-01T12:00:00+02:00")),
        ("issued bad date", make_record("a", "k", "i", d0, issued="2024-02-30T12:00:00Z")),
        ("revocation without revokes", make_record("a", "revocation", "i", d0)),
        ("revocation with two revokes", make_record("a", "revocation", "i", d0, ["revokes k x", "revokes k y"])),
        ("revokes on a non-revocation", make_record("a", "k", "i", d0, ["revokes k x"])),
        ("revokes a revocation", make_record("a", "revocation", "i", d0, ["revokes revocation i"])),
        ("issuer with a plus", make_record("a+b", "k", "i", d0)),
        ("empty id", make_record("a", "k", "", d0)),
        ("kind with space", make_record("a", "k k", "i", d0)),
        ("further line without space", make_record("a", "k", "i", d0, ["nospace"])),
        ("repeated issuer field", make_record("a", "k", "i", d0, ["issuer b"])),
        ("carriage return", make_record("a", "k", "i", d0).replace(b"kind k\n", b"kind k\r\n")),
        ("signature not base64", make_record("a", "k", "i", d0).replace(b"AQIDB", b"AQID!")),
        ("over 16 KiB", make_record("a", "k", "i", d0, ["pad " + "x" * 16384])),
        ("two signature lines", make_record("a", "k", "i", d0, sig_names=["a", "a"])),
        ("signature by another name", make_record("a", "k", "i", d0, sig_names=["b"])),
    ]
    for why, e in not_records:
        try:
            parse_record(e)
            check(False, "not-a-record parses: " + why)
        except ValueError:
            check(True, "")
    check(entry_keys(commit) == [], "commitment is filed nowhere")
    try:
        parse_record(make_record("a", "k", "i", d0, ["note with spaces in value", "empty "],
                                 issued="2024-02-29T23:59:59.123Z"))
        check(True, "")
    except ValueError as e:
        check(False, "valid record rejected: %s" % e)

    # section 1: agency registry entries and the agency key
    check(agency_key("a") == H(b"gazette.index/v1 agency a"), "agency key")
    check(agency_key("a") not in (name_key("a", "", ""), document_key(H(b"a"))), "agency key apart")
    base = bytes.fromhex("58" + "66" * 31)  # the Ed25519 base point: full order
    check(ed_decode(base) is not None and not ed_small_order(ed_decode(base)), "base point is of full order")
    small = [bytes([1]) + bytes(31), bytes(32), bytes.fromhex("ec" + "ff" * 30 + "7f"),
             bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
             bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")]
    check(all(ed_decode(b) is not None and ed_small_order(ed_decode(b)) for b in small), "small-order points")
    off = next(y for y in range(2, 100) if ed_decode(y.to_bytes(32, "little")) is None)
    check(ed_decode(off.to_bytes(32, "little")) is None, "a y off the curve")
    # y = 3 is on the curve, of full order; y = 3 + p decodes to the same point.
    y3 = (3).to_bytes(32, "little")
    y3p = (3 + ED_P).to_bytes(32, "little")
    check(ed_decode(y3) is not None and not ed_small_order(ed_decode(y3)), "y = 3 is of full order")
    check(ed_decode(y3p) == ed_decode(y3) and ed_encode(ed_decode(y3p)) == y3, "y = 3 + p is y = 3")
    check(all(ed_encode(ed_decode(b)) == b for b in [base, y3] + small), "canonical round trips")

    def vkey(name, pub=base, t=1, kid=None):
        key = bytes([t]) + pub
        kid = H(name.encode() + b"\n" + key)[:4].hex() if kid is None else kid
        return "%s+%s+%s" % (name, kid, base64.b64encode(key).decode())

    def reg(lines, nsigs=1):
        text = "".join(l + "\n" for l in lines)
        sig = base64.b64encode(b"\x01\x02\x03\x04" + b"s" * 64).decode()
        return (text + "\n" + "".join("\u2014 log.example %s\n" % sig for _ in range(nsigs))).encode()
    ag = "agency.example"
    good_r = ["gazette.agency/v1", "log log.example", "agency " + ag, "register " + vkey(ag),
              "from 7", "time 2026-01-01T00:00:00Z"]
    for why, lines, nsigs in [("with from", good_r, 1), ("without from", good_r[:4] + good_r[5:], 1),
                              ("y = 3", good_r[:3] + ["register " + vkey(ag, pub=y3)] + good_r[4:], 1),
                              ("retire", good_r[:3] + ["retire " + vkey(ag)] + good_r[4:], 8),
                              ("compromised", good_r[:3] + ["compromised " + vkey(ag)] + good_r[4:], 2),
                              ("from 0", good_r[:4] + ["from 0"] + good_r[5:], 1),
                              ("from u64 max", good_r[:4] + ["from %d" % ((1 << 64) - 1)] + good_r[5:], 1)]:
        try:
            check(parse_registry_entry(reg(lines, nsigs)) == ag, "registry entry agency: " + why)
            check(entry_keys(reg(lines, nsigs)) == [agency_key(ag)], "registry entry filed: " + why)
        except ValueError as e:
            check(False, "valid registry entry rejected (%s): %s" % (why, e))

    def with_line(n, line):
        l = list(good_r)
        l[n] = line
        return l
    kid = vkey(ag).split("+")[1]
    bad_kid = "%08x" % (int(kid, 16) ^ 1)
    bad_r = [
        ("another version", with_line(0, "gazette.agency/v2"), 1),
        ("log and agency swapped", [good_r[0], good_r[2], good_r[1]] + good_r[3:], 1),
        ("log not a key name", with_line(1, "log a b"), 1),
        ("log name over 255 bytes", with_line(1, "log " + "l" * 256), 1),
        ("unknown action", with_line(3, "revoke " + vkey(ag)), 1),
        ("two spaces before the key", with_line(3, "register  " + vkey(ag)), 1),
        ("key named otherwise", with_line(3, "register " + vkey("other.example")), 1),
        ("cosignature key", with_line(3, "register " + vkey(ag, t=4)), 1),
        ("small-order key", with_line(3, "register " + vkey(ag, pub=small[3])), 1),
        ("identity key", with_line(3, "register " + vkey(ag, pub=small[0])), 1),
        ("key off the curve", with_line(3, "register " + vkey(ag, pub=off.to_bytes(32, "little"))), 1),
        ("key not canonical (y = 3 + p)", with_line(3, "register " + vkey(ag, pub=y3p)), 1),
        ("key not canonical (x = 0, sign bit set)",
         with_line(3, "register " + vkey(ag, pub=bytes([1]) + bytes(30) + b"\x80")), 1),
        ("key ID not the key's", with_line(3, "register " + vkey(ag, kid=bad_kid)), 1),
        ("key ID in capitals", with_line(3, "register " + vkey(ag, kid=kid.upper())), 1),
        ("from leading zero", with_line(4, "from 07"), 1),
        ("from sign", with_line(4, "from +7"), 1),
        ("from overflow", with_line(4, "from %d" % (1 << 64)), 1),
        ("from empty", with_line(4, "from "), 1),
        ("time before from", good_r[:4] + [good_r[5], good_r[4]], 1),
        ("from twice", good_r[:5] + good_r[4:], 1),
        ("time missing", good_r[:5], 1),
        ("a line after the time", good_r + ["x y"], 1),
        ("an empty line after the time", good_r + [""], 1),
        ("time not UTC", with_line(5, "time 2026-01-01T00:00:00+01:00"), 1),
        ("no such day", with_line(5, "time 2026-02-29T00:00:00Z"), 1),
        ("nine signatures", good_r, 9),
        ("no signature", good_r, 0),
    ]
    for why, lines, nsigs in bad_r:
        try:
            parse_registry_entry(reg(lines, nsigs))
            check(False, "must-reject registry entry parses: " + why)
        except ValueError:
            check(entry_keys(reg(lines, nsigs)) == [], "must-reject registry entry filed: " + why)
    check(kid != kid.upper(), "the key ID has a letter to capitalise")
    big = reg(good_r).split(b"\n\n")[0] + ("\n\n\u2014 log.example %s\n" % base64.b64encode(b"s" * 12300).decode()).encode()
    check(len(big) > 16384, "oversized registry entry is oversized")
    under = big.replace(b"c3Nz" * 100, b"", 1)  # 300 signature bytes fewer: under 16 KiB
    check(len(under) <= 16384 and parse_registry_entry(under) == ag, "a registry entry just under 16 KiB parses")
    try:
        parse_registry_entry(big)
        check(False, "must-reject registry entry parses: over 16 KiB")
    except ValueError:
        check(True, "")
    check(entry_keys(reg(good_r).replace(b"\n", b"\r\n", 1)) == [], "a CR: filed nowhere")

    # section 4: commitments
    r = rnd32()
    for n, segs in ((0, []), (1, [(1, r)]), (7, [(3, Z), (7, r)]), ((1 << 64) - 1, [((1 << 64) - 1, r)]),
                    (64, [(j + 1, rnd32()) for j in range(64)])):
        t = encode_commitment(n, segs)
        check(parse_commitment(t) == (n, segs), "commitment round trip %d" % n)
        check(entry_keys(t) == [], "commitment filed nowhere")
    good_c = encode_commitment(12, [(5, Z), (12, r)]).decode()
    r64 = base64.b64encode(r).decode()
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    nc = r64[:42] + alpha[alpha.index(r64[42]) | 1] + "="  # non-zero padding bits in the last char
    bad_c = [
        ("leading zero", good_c.replace("size 12", "size 012")),
        ("leading zero in an end", good_c.replace("\n5 ", "\n05 ")),
        ("plus sign", good_c.replace("size 12", "size +12")),
        ("empty size", good_c.replace("size 12", "size ")),
        ("u64 overflow", good_c.replace("size 12", "size %d" % (1 << 64))),
        ("unicode digit", good_c.replace("size 12", "size 1\u0662")),
        ("no final newline", good_c[:-1]),
        ("extra line", good_c + "x\n"),
        ("extra empty line", good_c + "\n"),
        ("CRLF", good_c.replace("\n", "\r\n")),
        ("unpadded root", good_c.replace(r64, r64.rstrip("="))),
        ("url-safe base64", good_c.replace(r64, r64.replace("+", "-").replace("/", "_")) if ("+" in r64 or "/" in r64) else "x"),
        ("non-canonical base64", good_c.replace(r64, nc)),
        ("31-byte root", good_c.replace(r64, base64.b64encode(r[:31]).decode())),
        ("33-byte root", good_c.replace(r64, base64.b64encode(r + b"\x00").decode())),
        ("bad header", good_c.replace("gazette.index/v1", "gazette.index/v2")),
        ("double space", good_c.replace("size 12", "size  12")),
        ("trailing space", good_c.replace("size 12", "size 12 ")),
        ("two spaces in a segment line", good_c.replace("\n5 ", "\n5  ")),
        ("last end not the size", good_c.replace("size 12", "size 13")),
        ("ends not increasing", encode_commitment(12, [(12, Z), (12, r)]).decode()),
        ("ends decreasing", "gazette.index/v1\nsize 12\n7 %s\n5 %s\n12 %s\n" % (r64, r64, r64)),
        ("end 0", encode_commitment(12, [(0, Z), (12, r)]).decode()),
        ("no segment for N > 0", "gazette.index/v1\nsize 12\n"),
        ("segment in an empty map", encode_commitment(0, [(0, r)]).decode()),
        ("65 segments", encode_commitment(65, [(j + 1, rnd32()) for j in range(65)]).decode()),
        ("over 8192 bytes", encode_commitment(12, [(5, Z), (12, r)]).decode().replace("size 12", "size " + "1" * 8200)),
        ("size line missing", "gazette.index/v1\n12 %s\n" % r64),
        ("segment line without a root", "gazette.index/v1\nsize 12\n12\n"),
        ("segment line root first", "gazette.index/v1\nsize 12\n%s 12\n" % r64),
    ]
    for why, t in bad_c:
        try:
            parse_commitment(t)
            check(False, "must-reject commitment parses: " + why)
        except ValueError:
            check(True, "")

    # section 5: an end-to-end lookup over a small log with two segments
    ra = make_record("agency.example", "deed", "D-1", H(b"deed"))
    rb = make_record("agency.example", "revocation", "R-1", H(b"r"), ["revokes deed D-1"])
    rc = make_record("agency.example", "deed", "D-2", H(b"deed"))
    log = [rb, ra, b"noise"]
    seg1 = map_root(build_segment(log, 0, 3)[1])
    log.append(encode_commitment(3, [(3, seg1)]))
    log += [rc]
    seg2 = map_root(build_segment(log, 3, 5)[1])
    log.append(encode_commitment(5, [(3, seg1), (5, seg2)]))
    hs = [rfc6962_leaf_hash(e) for e in log]
    S = len(log)
    root = mth(hs)

    def lookup(key, idxs, size=S, cidx=None, proofs=None, troot=None):
        cidx = size - 1 if cidx is None else cidx
        hs_ = hs[:size]
        rt = mth(hs_) if troot is None else troot
        com = (cidx, log[cidx], inclusion_path(cidx, hs_))
        ents = [(i, log[i], inclusion_path(i, hs_)) for i in idxs]
        if proofs is None:
            _, segs = parse_commitment(log[cidx])
            proofs, st = [], 0
            for end, _r in segs:
                proofs.append(encode_proof(gen_proof(build_segment(log, st, end)[1], key)))
                st = end
        return verify_lookup(size, rt, key, com, ents, proofs)
    kd = name_key("agency.example", "deed", "D-1")
    kdoc = document_key(H(b"deed"))
    check(lookup(kd, [0, 1])[0], "lookup: name with its revocation")
    check(lookup(kdoc, [1, 4])[0], "lookup: document in two segments")
    check(lookup(document_key(H(b"none")), [])[0], "lookup: absent document")
    check(lookup(kd, [0, 1], size=4)[0], "lookup: at the older checkpoint (one segment)")
    check(not lookup(kd, [1])[0], "lookup: revocation omitted is refused")
    check(not lookup(kdoc, [1])[0], "lookup: part in the second segment omitted is refused")
    check(not lookup(kd, [0, 1, 4])[0], "lookup: entry not filed under the key is refused")
    check(not lookup(kd, [1, 0])[0], "lookup: indexes out of order are refused")
    check(not lookup(kd, [0, 1], cidx=3)[0], "lookup: commitment not the last entry is refused")
    check(not lookup(kd, [0, 1], proofs=[encode_proof(gen_proof(build_segment(log, 0, 3)[1], kd))])[0],
          "lookup: a missing map proof is refused")
    check(not lookup(kd, [0, 1], troot=flip(root, 1))[0], "lookup: wrong checkpoint root is refused")
    check(not lookup(kd, [0, 1], size=5, proofs=[])[0], "lookup: entry S-1 not a commitment is refused")

    def lookup_in(lg, m_segs, key, idxs):
        """lookup against a log whose segment maps are given (possibly wrong)."""
        hs_ = [rfc6962_leaf_hash(e) for e in lg]
        size = len(lg)
        com = (size - 1, lg[-1], inclusion_path(size - 1, hs_))
        ents = [(i, lg[i], inclusion_path(i, hs_)) for i in idxs]
        proofs = [encode_proof(gen_proof(mm, key)) for mm in m_segs]
        return verify_lookup(size, mth(hs_), key, com, ents, proofs)
    # a commitment at S-1 whose size is not S-1 (its segments otherwise fine)
    lg = [rb, ra, b"noise"]
    mm = build_segment(lg, 0, 3)[1]
    check(lookup_in(lg + [encode_commitment(3, [(3, map_root(mm))])], [mm], kd, [0, 1])[0], "lookup_in works")
    check(not lookup_in(lg + [b"noise 2", encode_commitment(3, [(3, map_root(mm))])], [mm], kd, [0, 1])[0],
          "lookup: commitment size not S-1 is refused")
    # a lying map that files entry 2 (a stranger) under kd: only the filing check catches the listed entry
    lg = [rb, ra, rc]
    lists = build_lists(lg, 0, 3)
    lists[kd] = lists[kd] + [(2, rfc6962_leaf_hash(rc))]
    mm = {k: list_value(l) for k, l in lists.items()}
    lg.append(encode_commitment(3, [(3, map_root(mm))]))
    ok, why = lookup_in(lg, [mm], kd, [0, 1, 2])
    check(not ok and "not filed" in why, "lookup: entry not filed under the key, map lying, is refused")


def main():
    args = [a for a in sys.argv[1:]]
    if "--selftest" in args:
        selftest()
        print("selftest: %d checks, %d failures" % (CHECKS[0], len(FAILURES)))
    else:
        here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
        path = args[0] if args else here + "/index.json"
        check_vectors(path)
        print("%s: %d checks, %d failures" % (path, CHECKS[0], len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
