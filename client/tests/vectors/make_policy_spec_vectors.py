#!/usr/bin/env python3
"""Generate tlog_policy_spec_examples.json: c2sp.org/tlog-policy checked
against the spec's own statements and its "Example policy".

    python3 make_policy_spec_vectors.py          # verify and (re)write the JSON
    python3 make_policy_spec_vectors.py --check  # verify only; fail if it would change

Requires python3 >= 3.9 and `pip install cryptography`. The Ed25519, signed
note, checkpoint and cosignature helpers come from verify_vectors.py (same
folder); the policy parser and quorum evaluator below are a fresh reading
of the spec that works on octets, as the spec's "Character set" section
asks. Every expected verdict is labelled by hand from the spec text, and
the script fails unless its own parser and evaluator agree with the label;
the 64 verdicts of the example come straight from the spec's sentence
("at least two of the X-witnesses, and at least one of the Y-witnesses").
All keys are SHA-256 of a label, all timestamps fixed, Ed25519 is
deterministic: the output is reproducible byte for byte.
"""
import itertools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_vectors import (  # noqa: E402
    NoteError, b64, checkpoint_text, cosig_verifier, cosign, ed25519_note_verifier, ed_pub, hx,
    note_open, note_sign_ed25519, parse_vkey, sha256, vkey_str)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tlog_policy_spec_examples.json")
CHECK_ONLY = "--check" in sys.argv
FAILURES = []
KELVIN = "\u212a"  # KELVIN SIGN, UTF-8 e2 84 aa


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


# ------------------------------------------------------------ policy (spec reading)

class Reject(Exception):
    pass


def parse_policy(data):
    """c2sp.org/tlog-policy over octets. Names are bytes; the member-at-most-once
    rule is read as "in the whole file" (the spec: "Each defined name can be
    listed as a group member at most once")."""
    for b in data:
        if not (b in (0x09, 0x0A) or 0x20 <= b <= 0x7E or b >= 0x80):
            raise Reject("octet 0x%02x" % b)
    logs, wits, groups, quorum = [], {}, {}, None
    member, log_keys, wit_keys = set(), set(), set()
    for line in data.split(b"\n"):
        fs = [f for f in line.replace(b"\t", b" ").split(b" ") if f]
        if not fs or fs[0].startswith(b"#"):
            continue
        kw = fs[0]
        defined = set(wits) | set(groups)
        if kw == b"log":
            if not 2 <= len(fs) <= 3:
                raise Reject("log fields")
            _, _, _, pub = vkey(fs[1], (1,))  # 0x04 is a witness's (cosignature) key type
            if pub in log_keys:
                raise Reject("duplicate log key")
            log_keys.add(pub)
            logs.append(fs[1].decode())
        elif kw == b"witness":
            if not 3 <= len(fs) <= 4:
                raise Reject("witness fields")
            if fs[1] == b"none" or fs[1] in defined:
                raise Reject("bad name")
            _, _, _, pub = vkey(fs[2], (4,))
            if pub in wit_keys:
                raise Reject("duplicate witness key")
            wit_keys.add(pub)
            wits[fs[1]] = fs[2].decode()
        elif kw == b"group":
            if len(fs) < 4:
                raise Reject("group fields")
            name, th, mem = fs[1], fs[2], fs[3:]
            if name == b"none" or name in defined:
                raise Reject("bad name")
            if th == b"any":
                k = 1
            elif th == b"all":
                k = len(mem)
            elif th and all(0x30 <= c <= 0x39 for c in th):
                k = int(th)
            else:
                raise Reject("threshold")
            if not 1 <= k <= len(mem):
                raise Reject("threshold range")
            for m in mem:
                if m not in defined or m in member:
                    raise Reject("member")
                member.add(m)
            groups[name] = (k, mem)
        elif kw == b"quorum":
            if len(fs) != 2 or quorum is not None:
                raise Reject("quorum line")
            if fs[1] != b"none" and fs[1] not in defined:
                raise Reject("quorum name")
            quorum = fs[1]
        else:
            raise Reject("keyword")
    if quorum is None:
        raise Reject("no quorum")
    return {"logs": logs, "witnesses": wits, "groups": groups, "quorum": quorum}


def vkey(field, types):
    try:
        return parse_vkey(field.decode("ascii"), allowed_types=types)
    except (UnicodeDecodeError, ValueError) as e:
        raise Reject(str(e))


def quorum_met(pol, cosigners):
    """cosigners: set of policy names (bytes)."""
    def met(name):
        if name in pol["witnesses"]:
            return name in cosigners
        k, mem = pol["groups"][name]
        return sum(1 for m in mem if met(m)) >= k
    return pol["quorum"] == b"none" or met(pol["quorum"])


def verdict(text):
    try:
        parse_policy(text)
        return "ok"
    except Reject:
        return "error"


# ------------------------------------------------------------ keys

def seed(label):
    return sha256(("gazette tlog-policy spec vectors: " + label).encode())


ORIGIN = "spec.example/log"
LOG_SEED = seed("log key")
LOG_VKEY = vkey_str(ORIGIN, 1, ed_pub(LOG_SEED))
GROUP_OF = {"X1": "X", "X2": "X", "X3": "X", "Y1": "Y", "Y2": "Y", "Y3": "Y"}
WITNESSES = []  # (policy name, key name, seed, vkey)
for _n in GROUP_OF:
    _key_name = "%s.witness.example" % _n.lower()
    _s = seed("witness " + _n)
    WITNESSES.append((_n, _key_name, _s, vkey_str(_key_name, 4, ed_pub(_s))))
VK = {n: vk for n, _, _, vk in WITNESSES}


def witness_key(label):
    key_name = label + ".witness.example"
    s = seed("witness " + label)
    return key_name, s, vkey_str(key_name, 4, ed_pub(s))


# The spec's "Example policy", verbatim except that <vkey> is a real key.
EXAMPLE = """log {log}

witness X1 {X1}
witness X2 {X2}
witness X3 {X3}
group X-witnesses 2 X1 X2 X3

witness Y1 {Y1}
witness Y2 {Y2}
witness Y3 {Y3}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
""".format(log=LOG_VKEY, **VK)
EXAMPLE_NO_LOG = EXAMPLE.replace("log %s\n" % LOG_VKEY, "")
CHECKPOINT = checkpoint_text(ORIGIN, 42, sha256(b"gazette tlog-policy spec vectors: tree of size 42"))
TIME0 = 1700000000


def log_signed(text, origin=ORIGIN, s=LOG_SEED):
    return text + "\n" + note_sign_ed25519(text, origin, s)


COSIG = {n: cosign(CHECKPOINT, key_name, s, TIME0 + i) for i, (n, key_name, s, _) in enumerate(WITNESSES)}


def example_section():
    pol = parse_policy(EXAMPLE.encode())
    verifiers = [ed25519_note_verifier(LOG_VKEY)] + [cosig_verifier(vk) for *_, vk in WITNESSES]
    key_to_policy = {key_name: n for n, key_name, _, _ in WITNESSES}
    subsets = []
    for mask in range(64):
        who = [n for i, (n, *_) in enumerate(WITNESSES) if mask >> i & 1]
        xs = sum(1 for n in who if GROUP_OF[n] == "X")
        ys = sum(1 for n in who if GROUP_OF[n] == "Y")
        expect = xs >= 2 and ys >= 1  # the spec's sentence, not the evaluator
        note = log_signed(CHECKPOINT) + "".join(COSIG[n] for n in who)
        _, verified, _ = note_open(note.encode(), verifiers)
        cosigned = {key_to_policy[name] for name, _, _ in verified if name in key_to_policy}
        check(cosigned == set(who), "subset %s: the cosignatures verify" % who)
        check(any(name == ORIGIN for name, _, _ in verified), "subset %s: log signature" % who)
        check(quorum_met(pol, {n.encode() for n in who}) == expect, "subset %s: evaluator" % who)
        subsets.append({"cosigners": who, "expect_valid": expect})
    check(sum(s["expect_valid"] for s in subsets) == 28, "28 of the 64 subsets are valid")
    return {
        "policy": EXAMPLE,
        "policy_without_log": EXAMPLE_NO_LOG,
        "rule": "valid iff cosigned by at least two of X1 X2 X3 and at least one of Y1 Y2 Y3",
        "checkpoint_text": CHECKPOINT,
        "signed_note": log_signed(CHECKPOINT),
        "cosignature_lines": COSIG,
        "subsets": subsets,
    }


# ------------------------------------------------------------ parse cases

def parse_cases():
    K_vk = witness_key("k")[2]
    _, _, KV_vk = witness_key("kelvin")
    X1, X2, X3, Y1 = VK["X1"], VK["X2"], VK["X3"], VK["Y1"]
    other_log_seed = seed("another log key")
    big = limits_policy()
    cases = [
        # (desc, spec statement, policy bytes, expect)
        ("the spec's example policy", "Example policy", EXAMPLE.encode(), "ok"),
        ("the example without its log line", "An application where the appropriate log(s) are known from other context may accept a policy with an empty set of logs.",
         EXAMPLE_NO_LOG.encode(), "ok"),
        ("a log and quorum none, no witnesses", "A policy without witness cosigning can be defined using a `quorum none` line, and in this case, the set of witnesses may be empty.",
         ("log %s\nquorum none\n" % LOG_VKEY).encode(), "ok"),
        ("quorum none with the example's witnesses and groups listed", "To not require any cosignatures at all, one can use the predefined name `none`",
         EXAMPLE.replace("quorum X-and-Y", "quorum none").encode(), "ok"),
        ("witness lines before the log line", "Lines defining witnesses and logs can appear in any order",
         ("witness X1 %s\nlog %s\nwitness X2 %s\ngroup g any X1 X2\nquorum g\n" % (X1, LOG_VKEY, X2)).encode(), "ok"),
        ("a log line after the quorum line", "Lines defining witnesses and logs can appear in any order; the quorum line must specify a witness or group defined earlier (nothing requires it to be last)",
         ("witness X1 %s\nquorum X1\nlog %s\n" % (X1, LOG_VKEY)).encode(), "ok"),
        ("a witness line after the quorum line", "the quorum line must specify a witness or group defined earlier (nothing requires it to be last)",
         ("witness X1 %s\nquorum X1\nwitness X2 %s\n" % (X1, X2)).encode(), "ok"),
        ("numeric threshold k = n", "it is required that 1 <= k <= n",
         ("witness X1 %s\nwitness X2 %s\ngroup g 2 X1 X2\nquorum g\n" % (X1, X2)).encode(), "ok"),
        ("numeric threshold k = 1", "it is required that 1 <= k <= n",
         ("witness X1 %s\nwitness X2 %s\ngroup g 1 X1 X2\nquorum g\n" % (X1, X2)).encode(), "ok"),
        ("a group of one member", "At least one member must be listed (i.e., n >= 1)",
         ("witness X1 %s\ngroup g all X1\nquorum g\n" % X1).encode(), "ok"),
        ("UTF-8 names, comment and URL", "Non-ASCII octets may appear in names, URLs and comments.",
         ("# témoins — 証人\nwitness Zeugin-ü %s https://zeugïn.example/\nwitness 証人 %s\ngroup Gruppe-ß all Zeugin-ü 証人\nquorum Gruppe-ß\n" % (X1, X2)).encode(), "ok"),
        ("K and the Kelvin sign are two names", "the name 0x4B (ASCII \"K\") is different from the name 0xE2 0x84 0xAA (a Kelvin sign encoded using UTF-8)",
         ("witness K %s\nwitness %s %s\ngroup both all K %s\nquorum both\n" % (K_vk, KELVIN, KV_vk, KELVIN)).encode(), "ok"),
        ("K and k are two names", "names must be handled as opaque octet strings",
         ("witness K %s\nwitness k %s\ngroup both all K k\nquorum both\n" % (K_vk, KV_vk)).encode(), "ok"),
        ("precomposed and decomposed A-ring are two names", "names must be handled as opaque octet strings",
         ("witness \u00c5 %s\nwitness A\u030a %s\ngroup both all \u00c5 A\u030a\nquorum both\n" % (K_vk, KV_vk)).encode(), "ok"),
        ("32 logs, 32 witnesses and 32 groups", "It is strongly recommended that an implementation supports at least up to 32 logs, 32 witnesses, and 32 groups.",
         big.encode(), "ok"),
        # must reject
        ("a group that lists itself", "a group definition can only refer to names defined on preceding lines. (This also rules out circular group definitions).",
         ("witness X1 %s\ngroup g any g X1\nquorum g\n" % X1).encode(), "error"),
        ("a group that lists a group defined on a later line", "a group definition can only refer to names defined on preceding lines",
         ("witness X1 %s\nwitness X2 %s\ngroup outer any inner X2\ngroup inner any X1\nquorum outer\n" % (X1, X2)).encode(), "error"),
        ("the quorum names a group defined on a later line", "the quorum line must specify a witness or group defined earlier",
         ("witness X1 %s\nquorum g\ngroup g any X1\n" % X1).encode(), "error"),
        ("a witness both in a subgroup and directly in the quorum group", "Each defined name can be listed as a group member at most once. This ensures that each witness can contribute to a group, or to the quorum in particular, in only one way.",
         ("witness X1 %s\nwitness X2 %s\ngroup X 1 X1 X2\ngroup XY all X X1\nquorum XY\n" % (X1, X2)).encode(), "error"),
        ("a group listed in two parent groups", "Each defined name can be listed as a group member at most once.",
         ("witness X1 %s\nwitness X2 %s\nwitness X3 %s\ngroup X any X1 X2\ngroup A all X X3\ngroup B any X\nquorum A\n" % (X1, X2, X3)).encode(), "error"),
        ("all with no members", "At least one member must be listed (i.e., n >= 1).",
         ("witness X1 %s\ngroup g all\nquorum X1\n" % X1).encode(), "error"),
        ("any with no members", "At least one member must be listed (i.e., n >= 1).",
         ("witness X1 %s\ngroup g any\nquorum X1\n" % X1).encode(), "error"),
        ("threshold above 2^64", "it is required that 1 <= k <= n",
         ("witness X1 %s\ngroup g 18446744073709551617 X1\nquorum g\n" % X1).encode(), "error"),
        ("hexadecimal threshold 0x1", "If k is given numerically, it must be written in decimal",
         ("witness X1 %s\nwitness X2 %s\ngroup g 0x1 X1 X2\nquorum g\n" % (X1, X2)).encode(), "error"),
        ("threshold with a plus sign", "If k is given numerically, it must be written in decimal",
         ("witness X1 %s\nwitness X2 %s\ngroup g +1 X1 X2\nquorum g\n" % (X1, X2)).encode(), "error"),
        ("threshold written with a fullwidth digit", "all octets with the high bit set are opaque (so U+FF11 is not a decimal digit)",
         ("witness X1 %s\nwitness X2 %s\ngroup g \uff11 X1 X2\nquorum g\n" % (X1, X2)).encode(), "error"),
        ("member is the Kelvin sign but only K is defined", "the name 0x4B (ASCII \"K\") is different from the name 0xE2 0x84 0xAA",
         ("witness K %s\ngroup g any %s\nquorum g\n" % (K_vk, KELVIN)).encode(), "error"),
        ("quorum is the Kelvin sign but only K is defined", "the name 0x4B (ASCII \"K\") is different from the name 0xE2 0x84 0xAA",
         ("witness K %s\nquorum %s\n" % (K_vk, KELVIN)).encode(), "error"),
        ("NUL octet", "the allowed octet values are 0x09 (tab), 0x0A (newline), 0x20-0x7E, and 0x80-0xFF",
         b"quorum none\n\x00", "error"),
        ("vertical tab as a separator", "whitespace ... means sequences of ASCII space and tab characters *only*; the only allowed control characters are tab and newline",
         b"quorum\x0bnone\n", "error"),
        ("form feed line", "the only allowed control characters are tab and newline",
         b"\x0c\nquorum none\n", "error"),
        ("DEL octet 0x7f", "the allowed octet values are 0x09 (tab), 0x0A (newline), 0x20-0x7E, and 0x80-0xFF",
         b"quorum none\n# \x7f\n", "error"),
        ("escape octet inside a comment", "The only allowed control characters are tab and newline (comments included)",
         b"# \x1b[1mbold\x1b[0m\nquorum none\n", "error"),
        ("the same log public key under another origin", "Two vkeys are considered *duplicate* if they wrap the same underlying public key, even if they differ by key name and key id. ... Duplicate logs ... are not allowed.",
         ("log %s\nlog %s\nquorum none\n" % (LOG_VKEY, vkey_str("other.example/log", 1, ed_pub(LOG_SEED)))).encode(), "error"),
        ("a log with a cosignature (0x04) key", "Log and witness keys must use a signature type approprate respective function",
         ("log %s\nquorum none\n" % vkey_str(ORIGIN, 4, ed_pub(other_log_seed))).encode(), "error"),
    ]
    out = []
    for desc, spec, text, want in cases:
        check(verdict(text) == want, "parse: " + desc)
        case = {"desc": desc, "spec": spec, "expect": want}
        case.update(policy_field(text))
        out.append(case)
    return out


def non_utf8_cases():
    """Octets 0x80-0xFF that are not UTF-8: valid in names, URLs and comments."""
    X1, X2 = VK["X1"], VK["X2"]
    cases = [
        ("Latin-1 comment", "Non-ASCII octets may appear in names, URLs and comments. ... all octets with the high bit set are opaque.",
         b"# t\xe9moins\nquorum none\n", "ok"),
        ("Latin-1 witness name", "names must be handled as opaque octet strings",
         b"witness Zeugin-\xfc " + X1.encode() + b"\nquorum Zeugin-\xfc\n", "ok"),
        ("names 0xff and 0xfe are two names", "names must be handled as opaque octet strings",
         b"witness \xff " + X1.encode() + b"\nwitness \xfe " + X2.encode() + b"\ngroup \x80\x80 all \xff \xfe\nquorum \x80\x80\n", "ok"),
        ("Latin-1 URL", "Non-ASCII octets may appear in names, URLs and comments.",
         b"witness X1 " + X1.encode() + b" https://z\xe9ugin.example/\nquorum X1\n", "ok"),
        ("name 0xff defined twice", "Witnesses and groups share a single namespace",
         b"witness \xff " + X1.encode() + b"\nwitness \xff " + X2.encode() + b"\nquorum \xff\n", "error"),
        ("member 0xfe when only 0xff is defined", "names must be handled as opaque octet strings",
         b"witness \xff " + X1.encode() + b"\ngroup g any \xfe\nquorum g\n", "error"),
    ]
    out = []
    for desc, spec, text, want in cases:
        check(verdict(text) == want, "non-UTF-8: " + desc)
        try:
            text.decode("utf-8")
            check(False, "non-UTF-8 case is UTF-8: " + desc)
        except UnicodeDecodeError:
            pass
        out.append({"desc": desc, "spec": spec, "expect": want, "policy_base64": b64(text)})
    return out


def policy_field(text):
    try:
        return {"policy": text.decode("utf-8")}
    except UnicodeDecodeError:
        return {"policy_base64": b64(text)}


# ------------------------------------------------------------ 32 logs / witnesses / groups

LIMIT_LOGS = [("log%02d.spec.example" % i, seed("limit log %d" % i)) for i in range(32)]
LIMIT_WITNESSES = [witness_key("w%02d" % i) for i in range(32)]


def limits_policy():
    """32 logs, 32 witnesses w00..w31 and 32 groups: p00..p15 = any of a pair,
    then `all` over pairs of groups up to a root r, and `top all r`."""
    lines = ["log %s" % vkey_str(o, 1, ed_pub(s)) for o, s in LIMIT_LOGS]
    lines += ["witness w%02d %s" % (i, vk) for i, (_, _, vk) in enumerate(LIMIT_WITNESSES)]
    level = []
    for i in range(16):
        lines.append("group p%02d any w%02d w%02d" % (i, 2 * i, 2 * i + 1))
        level.append("p%02d" % i)
    depth = 0
    while len(level) > 1:
        depth += 1
        nxt = []
        for j in range(0, len(level), 2):
            name = "l%d-%02d" % (depth, j // 2) if len(level) > 2 else "r"
            lines.append("group %s all %s %s" % (name, level[j], level[j + 1]))
            nxt.append(name)
        level = nxt
    lines.append("group top all r")
    lines.append("quorum top")
    text = "\n".join(lines) + "\n"
    pol = parse_policy(text.encode())
    check((len(pol["logs"]), len(pol["witnesses"]), len(pol["groups"])) == (32, 32, 32), "limits policy has 32/32/32")
    return text


# ------------------------------------------------------------ quorum evaluation without signatures

def quorum_cases():
    a, b, c = (witness_key(n)[2] for n in ("a", "b", "c"))
    K_vk, KV_vk = witness_key("k")[2], witness_key("kelvin")[2]
    three = "witness a %s\nwitness b %s\nwitness c %s\n" % (a, b, c)
    policies = [
        ("any = 1 of 3", "The `any` variant is a shorthand for k = 1", three + "group g any a b c\nquorum g\n", lambda s: len(s) >= 1),
        ("all = 3 of 3", "the `all` variant is a shorthand for k = n", three + "group g all a b c\nquorum g\n", lambda s: len(s) == 3),
        ("numeric 1 of 3", "at least k of its n members", three + "group g 1 a b c\nquorum g\n", lambda s: len(s) >= 1),
        ("numeric 2 of 3", "at least k of its n members", three + "group g 2 a b c\nquorum g\n", lambda s: len(s) >= 2),
        ("numeric 3 of 3", "at least k of its n members", three + "group g 3 a b c\nquorum g\n", lambda s: len(s) == 3),
        ("quorum is a single witness", "In the simplest case, the name refers to a witness, and it means that a cosignature from that witness is required",
         three + "quorum b\n", lambda s: "b" in s),
        ("quorum none", "To not require any cosignatures at all, one can use the predefined name `none`", three + "quorum none\n", lambda s: True),
    ]
    out = []
    for desc, spec, text, rule in policies:
        pol = parse_policy(text.encode())
        subsets = []
        for r in range(4):
            for who in itertools.combinations(["a", "b", "c"], r):
                want = rule(set(who))
                check(quorum_met(pol, {w.encode() for w in who}) == want, "quorum %s %s" % (desc, who))
                subsets.append({"cosigners": list(who), "expect_met": want})
        out.append({"desc": desc, "spec": spec, "policy": text, "subsets": subsets})
    # K versus the Kelvin sign, by name
    text = "witness K %s\nwitness %s %s\ngroup both all K %s\nquorum both\n" % (K_vk, KELVIN, KV_vk, KELVIN)
    pol = parse_policy(text.encode())
    subsets = []
    for who, want in [([], False), (["K"], False), ([KELVIN], False), (["K", KELVIN], True), (["k"], False)]:
        check(quorum_met(pol, {w.encode() for w in who}) == want, "kelvin %s" % who)
        subsets.append({"cosigners": who, "expect_met": want})
    out.append({"desc": "all of K and the Kelvin sign", "spec": "the name 0x4B (ASCII \"K\") is different from the name 0xE2 0x84 0xAA",
                "policy": text, "subsets": subsets})
    return out


# ------------------------------------------------------------ verify_checkpoint cases

def verify_cases():
    out = []

    def add(desc, spec, policy, note, expect, cosigned_by, verifiers, key_to_policy, origin=ORIGIN):
        pol = parse_policy(policy.encode())
        # independent verdict: the spec's rule applied to the note opened with the policy's keys
        log_names = [vk.split("+")[0] for vk in pol["logs"]]
        cos = []
        if origin not in log_names:
            got = "unknown_log"
        else:
            try:
                _, verified, _ = note_open(note.encode(), verifiers)
            except NoteError as e:
                verified = []
                check(e.args[0] == "unverified", "verify %s: %s" % (desc, e.args[0]))
            names = [name for name, _, _ in verified]
            cos = [key_to_policy[n] for n in names if n in key_to_policy]
            if origin not in names:
                got = "not_signed_by_log"
            elif quorum_met(pol, {c.encode() for c in cos}):
                got = "valid"
            else:
                got = "quorum_not_met"
        check(got == expect, "verify %s: got %s" % (desc, got))
        # cosigned_by lists policy order (the order the evaluator reports)
        order = list(pol["witnesses"])
        check(sorted(cos, key=lambda n: order.index(n.encode())) == cosigned_by or expect in ("unknown_log", "not_signed_by_log"),
              "verify %s: cosigners %s" % (desc, cos))
        out.append({"desc": desc, "spec": spec, "policy": policy, "note": note, "expect": expect,
                    "cosigned_by": cosigned_by, "requires_witnesses": not quorum_met(pol, set())})

    log_v = [ed25519_note_verifier(LOG_VKEY)]
    wit_v = [cosig_verifier(vk) for *_, vk in WITNESSES]
    k2p = {key_name: n for n, key_name, _, _ in WITNESSES}
    signed = log_signed(CHECKPOINT)
    all_six = signed + "".join(COSIG[n] for n in GROUP_OF)
    add("quorum none: the log signature alone", "A policy without witness cosigning can be defined using a `quorum none` line, and in this case, the set of witnesses may be empty.",
        "log %s\nquorum none\n" % LOG_VKEY, signed, "valid", [], log_v, {})
    add("quorum none with the six witnesses listed: the log signature alone", "To not require any cosignatures at all, one can use the predefined name `none`",
        EXAMPLE.replace("quorum X-and-Y", "quorum none"), signed, "valid", [], log_v + wit_v, k2p)
    add("the example policy: all six cosignatures but no log signature", "a checkpoint is considered valid if it is signed by any one of the listed logs, and it is cosigned by witnesses according to the defined quorum rule",
        EXAMPLE, CHECKPOINT + "\n" + "".join(COSIG[n] for n in GROUP_OF), "not_signed_by_log", [], log_v + wit_v, k2p)
    add("the example without its log line: no listed log can accept", "An application where the appropriate log(s) are known from other context may accept a policy with an empty set of logs. (Without that context, no log is listed that could sign.)",
        EXAMPLE_NO_LOG, all_six, "unknown_log", [], wit_v, k2p)
    add("a checkpoint of another log", "a checkpoint is considered valid if it is signed by any one of the listed logs",
        EXAMPLE.replace(LOG_VKEY, vkey_str("other.example/log", 1, ed_pub(seed("another log key")))), all_six, "unknown_log", [], wit_v, k2p)
    add("quorum X1 met by X1", "the name refers to a witness, and it means that a cosignature from that witness is required",
        EXAMPLE.replace("quorum X-and-Y", "quorum X1"), signed + COSIG["X1"], "valid", ["X1"], log_v + wit_v, k2p)
    add("quorum X1 not met by X2 X3 Y1 Y2 Y3", "a cosignature from that witness is required",
        EXAMPLE.replace("quorum X-and-Y", "quorum X1"), signed + "".join(COSIG[n] for n in ["X2", "X3", "Y1", "Y2", "Y3"]),
        "quorum_not_met", ["X2", "X3", "Y1", "Y2", "Y3"], log_v + wit_v, k2p)

    # K versus Kelvin: the Kelvin sign's witness cosigned, the quorum is K
    K_name, _, K_vk = witness_key("k")
    KV_name, KV_seed, KV_vk = witness_key("kelvin")
    policy = "log %s\nwitness K %s\nwitness %s %s\nquorum K\n" % (LOG_VKEY, K_vk, KELVIN, KV_vk)
    add("quorum K, cosigned by the Kelvin sign's witness only", "the name 0x4B (ASCII \"K\") is different from the name 0xE2 0x84 0xAA",
        policy, signed + cosign(CHECKPOINT, KV_name, KV_seed, TIME0 + 100), "quorum_not_met", [KELVIN],
        log_v + [cosig_verifier(K_vk), cosig_verifier(KV_vk)], {K_name: "K", KV_name: KELVIN})

    # 32 logs, 32 witnesses, 32 groups: a checkpoint of the 32nd log
    big = limits_policy()
    origin, lseed = LIMIT_LOGS[31]
    cp = checkpoint_text(origin, 7, sha256(b"gazette tlog-policy spec vectors: tree of size 7"))
    lv = [ed25519_note_verifier(vkey_str(o, 1, ed_pub(s))) for o, s in LIMIT_LOGS]
    wv = [cosig_verifier(vk) for _, _, vk in LIMIT_WITNESSES]
    k2p = {key_name: "w%02d" % i for i, (key_name, _, _) in enumerate(LIMIT_WITNESSES)}
    cos = [cosign(cp, kn, s, TIME0 + i) for i, (kn, s, _) in enumerate(LIMIT_WITNESSES)]
    base = log_signed(cp, origin, lseed)
    spec = "at least up to 32 logs, 32 witnesses, and 32 groups"
    every = list(range(32))
    evens = list(range(0, 32, 2))
    holes = [i for i in every if i not in (20, 21)]
    for desc, who, want in [("32 limits: all 32 witnesses cosigned", every, "valid"),
                            ("32 limits: one witness of every pair cosigned", evens, "valid"),
                            ("32 limits: pair w20 w21 missing", holes, "quorum_not_met")]:
        add(desc, spec, big, base + "".join(cos[i] for i in who), want, ["w%02d" % i for i in who], lv + wv, k2p, origin)
    return out


# ------------------------------------------------------------ main

def main():
    doc = {
        "description": "c2sp.org/tlog-policy checked against the spec's own text: the \"Example policy\" (one log, X1-X3 in `group X-witnesses 2`, Y1-Y3 in `group Y-witnesses any`, `quorum X-and-Y` = all of both) with real keys, one checkpoint, the six cosignatures over it and the spec's verdict for all 64 subsets of cosigners; parse cases for the spec's rules (ordering, at-most-once membership, 1 <= k <= n, character set, opaque names, 32 logs/witnesses/groups); quorum evaluations; and full checkpoint verifications. A note is `signed_note` followed by the chosen `cosignature_lines`. Policies whose bytes are not UTF-8 are given as `policy_base64`. Generated by `python3 client/tests/vectors/make_policy_spec_vectors.py` (`--check` to verify only).",
        "sources": {
            "spec": "C2SP/C2SP tlog-policy.md (c2sp.org/tlog-policy) at 13027eee7f3f824e464e803373c774ab37fcc43e: the example policy and every `spec` quotation are copied from it; the expected verdicts are read from it",
            "keys": "COMPUTED: each Ed25519 seed = SHA-256('gazette tlog-policy spec vectors: ' + label), labels 'log key', 'witness X1'..'witness Y3', 'witness k', 'witness kelvin', 'limit log 0'..'limit log 31', 'witness w00'..'witness w31'",
            "signatures": "COMPUTED by make_policy_spec_vectors.py with verify_vectors.py's signed-note and cosignature/v1 code (Ed25519 is deterministic; cosignature times fixed at 1700000000 + i)",
            "verdicts": "64-subset verdicts from the spec's sentence '(#X >= 2) and (#Y >= 1)'; the rest labelled by hand, and the generator's own octet-level parser and evaluator must agree with every label",
        },
        "keys": {
            "log": {"origin": ORIGIN, "seed_hex": hx(LOG_SEED), "vkey": LOG_VKEY},
            "witnesses": [{"policy_name": n, "key_name": kn, "group": GROUP_OF[n], "seed_hex": hx(s), "vkey": vk}
                          for n, kn, s, vk in WITNESSES],
        },
        "example": example_section(),
        "parse_cases": parse_cases(),
        "non_utf8_parse_cases": non_utf8_cases(),
        "quorum_cases": quorum_cases(),
        "verify_cases": verify_cases(),
    }
    content = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    old = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else None
    if old != content:
        if CHECK_ONLY:
            FAILURES.append("tlog_policy_spec_examples.json would change")
        else:
            with open(OUT, "w", encoding="utf-8") as f:
                f.write(content)
    counts = {k: len(doc[k]) for k in ("parse_cases", "non_utf8_parse_cases", "quorum_cases", "verify_cases")}
    print("subsets:", len(doc["example"]["subsets"]), counts, "changed:", old != content)
    if FAILURES:
        print("%d FAILURES" % len(FAILURES))
        sys.exit(1)
    print("ALL CHECKS PASSED")


if __name__ == "__main__":
    main()
