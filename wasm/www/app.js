// Gazette's public verification page. Everything shown is computed here, in
// the citizen's browser, by the WebAssembly light client: the log only
// hands over signed data (checkpoints, records, tiles) and is not trusted.
// A document never leaves the browser; only its digest is looked up.

import {
  t, getLang, initLang, setLang, translatePage,
  formatUnix, formatIssued, formatAge, formatBytes, formatCount,
  kindName, kindFromName, knownKinds, countWords, plural, formatList,
  setNames, agencyName, agencyFromName, inLang,
} from './i18n.js';

const FETCH_TIMEOUT_MS = 10_000;
const CHUNK_BYTES = 4 * 1024 * 1024;
const RECEIPT_MAGIC = 'c2sp.org/tlog-proof@v1\n';
const INFO_KEY = 'gazette.info';
// The page's trust root, beside index.html: the log's key and the witness
// policy (c2sp.org/tlog-policy; the log line's URL says where the log is),
// and optionally the agencies' keys, one per line. Never taken from the log.
const POLICY_FILE = 'policy';
const AGENCIES_FILE = 'agencies';
// The agencies' keys are never taken from the log's word (/info): the page
// pins them (AGENCIES_FILE) or proves each agency's key history from the
// log's own registry entries (`index/lookup?agency=`).
// Display names for agencies and kinds (gazette_client::names), beside
// index.html too; cosmetic, so a missing or damaged file never stops a check.
const NAMES_FILE = 'names';
// The largest receipt a link may carry (`#receipt=`, decoded): receipts are
// a few KiB, so anything larger is not one.
const LINK_RECEIPT_MAX = 64 * 1024;

const $ = (id) => document.getElementById(id);

let wasm = null;       // the bundle's exports, once loaded
let verifier = null;   // LogVerifier for this log's policy and the page's pinned agency keys
let logBase = null;    // URL the log's routes are under
let announced = null;  // the policy the log's /info announces, when it differs from ours
let startProblem = null; // a result shown instead of checking (no bundle, no policy)
// Each agency's key history as last proven (provenAgency's description), by name.
const provenAgencies = new Map();
let runId = 0;         // the latest check; older ones finishing late are ignored
// The chosen files; `linked`: the receipt came from the page's address.
const chosen = { document: null, receipt: null, linked: false };
// What the card shows, kept untranslated so a language switch re-renders it.
let shown = { verdict: 'working', reason: ['reason.loading'] };
let shareState = null; // after "Copy link": 'copied', or 'select' when copying was refused

// ---------------------------------------------------------------- storage

// localStorage may be disabled (private modes): the page still works,
// it just cannot remember anything.
const store = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) { try { localStorage.setItem(key, value); } catch { /* not kept */ } },
  remove(key) { try { localStorage.removeItem(key); } catch { /* nothing kept */ } },
  /** The keys kept that start with `prefix`. */
  keys(prefix) {
    try {
      return Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i))
        .filter((key) => key?.startsWith(prefix));
    } catch {
      return [];
    }
  },
};

// ---------------------------------------------------------------- errors

/** An Error with a `code`, like the ones the wasm module throws. */
function failure(code, message, extra = {}) {
  return Object.assign(new Error(message), { code }, extra);
}

// ---------------------------------------------------------------- fetching

/**
 * The one place the page talks to the log: paths relative to the log's URL
 * (so it also works behind a path prefix), a 10 s limit, never any document
 * bytes. Any failure becomes code "unreachable".
 */
async function get(path, as = 'text', reload = false) {
  return fetchFrom(new URL(path, logBase), path, as, reload);
}

/** A file of the page itself (its trust root), always fresh. */
async function pageFile(name) {
  return fetchFrom(new URL(name, document.baseURI), name, 'text', false);
}

async function fetchFrom(url, path, as, reload) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
  try {
    // Tiles never change once served; everything else must be fresh.
    const cache = reload ? 'reload' : path.startsWith('tile/') ? 'default' : 'no-store';
    const response = await fetch(url, { signal: abort.signal, cache, credentials: 'omit' });
    if (!response.ok) {
      throw failure('unreachable', `GET ${path}: HTTP ${response.status}`, { status: response.status });
    }
    if (as === 'json') return await response.json();
    if (as === 'bytes') return new Uint8Array(await response.arrayBuffer());
    return await response.text();
  } catch (e) {
    throw e.code ? e : failure('unreachable', `GET ${path}: ${e.message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A hash tile's bytes. A partial tile the log has removed (404: its full
 * tile exists, c2sp.org/tlog-tiles) is cut from the full tile: its first
 * W hashes. Checked against the root like any tile.
 */
async function getHashTile(path, reload) {
  try {
    return await get(path, 'bytes', reload);
  } catch (e) {
    const partial = path.match(/^(tile\/\d+\/.+)\.p\/(\d+)$/);
    if (e.status !== 404 || !partial) throw e;
    const full = await get(partial[1], 'bytes', reload);
    return full.slice(0, 32 * Number(partial[2]));
  }
}

/**
 * Runs a TileProofPlan: fetches its tiles, returns the proof they give. Tiles
 * that miss the root are fetched once more past the browser's cache: a log
 * recreated at the same address serves new tiles under the old paths.
 */
async function proofFromTiles(plan, root, trace) {
  try {
    const paths = plan.tilePaths();
    trace.tiles.push(...paths);
    const fetchAll = (reload) => Promise.all(paths.map((path) => getHashTile(path, reload)));
    try {
      return plan.proof(root, await fetchAll(false));
    } catch (e) {
      if (e.code !== 'bad-tiles') throw e;
      return plan.proof(root, await fetchAll(true)); // throws bad-tiles again if they still miss
    }
  } finally {
    plan.free();
  }
}

// ---------------------------------------------------------------- trusted checkpoint

const trustedKey = () => `gazette.trusted.${verifier.origin()}`;
const evidenceKey = () => `gazette.evidence.${verifier.origin()}`;
const announcedKey = () => `gazette.announced.${verifier.origin()}`;
const agencyPrefix = () => `gazette.agency.${verifier.origin()}.`;
const agencyKey = (agency) => `${agencyPrefix()}${agency}`;

/** `verifier.advance`, keeping the evidence of a rollback or fork. */
function advance(trustedNote, offeredNote, proof) {
  try {
    return verifier.advance(trustedNote, offeredNote, proof);
  } catch (e) {
    if (e.code === 'rollback' || e.code === 'fork') store.set(evidenceKey(), e.evidence || e.message);
    throw e;
  }
}

/**
 * The checkpoint this browser kept, if it still verifies under the page's
 * policy. One that does not (the page was published anew for a recreated
 * log or other witnesses) is stale, not evidence: it is dropped, and the
 * expert view says so.
 */
function keptCheckpoint(trace) {
  const note = store.get(trustedKey());
  if (!note) return undefined;
  try {
    return verifier.verifyCheckpoint(note);
  } catch (e) {
    store.remove(trustedKey());
    trace.replaced = `the checkpoint kept by this browser no longer verifies under this page's policy (${e.message}); it was dropped`;
    return undefined;
  }
}

/** Keeps `note` as the trusted checkpoint unless a larger one is kept (by an overlapping check). */
function keep(note, size) {
  const kept = keptCheckpoint({}); // re-read: another check may have kept a larger one
  if (!kept || size > kept.size) store.set(trustedKey(), note);
}

/**
 * The log's latest checkpoint, accepted only if it extends the one this
 * browser trusted last time (proved from tiles), then trusted in its place.
 */
async function freshCheckpoint(trace) {
  const note = await get('checkpoint');
  const offered = verifier.verifyCheckpoint(note);
  const kept = keptCheckpoint(trace);
  const oldSize = kept ? kept.size : 0;
  let proof = [];
  if (oldSize > 0 && offered.size > oldSize) {
    proof = await proofFromTiles(wasm.TileProofPlan.consistency(oldSize, offered.size), offered.root, trace);
    trace.consistency = proof;
  }
  const checkpoint = advance(kept?.note, note, proof);
  keep(note, checkpoint.size);
  return checkpoint;
}

/**
 * A receipt's checkpoint and the trusted one must describe one history:
 * the smaller must be a prefix of the larger. A larger receipt checkpoint
 * (witnessed, so trustworthy) becomes the trusted one.
 */
async function checkSameHistory(receiptCp, trustedCp, trace) {
  const [older, newer] = receiptCp.size <= trustedCp.size ? [receiptCp, trustedCp] : [trustedCp, receiptCp];
  let proof = [];
  if (older.size > 0 && older.size < newer.size) {
    proof = await proofFromTiles(wasm.TileProofPlan.consistency(older.size, newer.size), newer.root, trace);
    trace.consistency = proof;
  }
  advance(older.note, newer.note, proof);
  if (newer === receiptCp) keep(receiptCp.note, receiptCp.size);
}

// ---------------------------------------------------------------- hashing

/**
 * Files up to this size are hashed by the browser's own SHA-256 in one read:
 * about nine times faster than the wasm hasher (docs/BENCHMARKS.md). Larger
 * files, or pages without WebCrypto (plain http beyond loopback), stream
 * through the wasm hasher so memory stays bounded whatever the size.
 */
const ONE_READ_BYTES = 256 * 1024 * 1024;

/** SHA-256 of a file, as "sha256:<hex>", reporting progress. */
async function hashFile(file, onProgress) {
  if (globalThis.crypto?.subtle && file.size <= ONE_READ_BYTES) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    onProgress(100);
    return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  return streamHash(file, onProgress);
}

/** SHA-256 of a file through the wasm hasher, in 4 MiB slices. */
async function streamHash(file, onProgress) {
  const hasher = new wasm.DocumentHasher();
  try {
    for (let at = 0; at < file.size; at += CHUNK_BYTES) {
      hasher.update(new Uint8Array(await file.slice(at, at + CHUNK_BYTES).arrayBuffer()));
      onProgress(Math.min(100, Math.floor(((at + CHUNK_BYTES) / file.size) * 100)));
    }
  } catch (e) {
    hasher.free();
    throw e;
  }
  return hasher.finish(); // consumes the hasher
}

/** "sha256:<hex>" or 64 bare hex characters → "sha256:<lowercase hex>". */
function parseDigest(text) {
  const hex = text.trim().replace(/^sha256:/i, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : null;
}

// ---------------------------------------------------------------- results

/**
 * A result: verdict, reason key and parameters, facts, expert trace, and
 * optionally `note` (a key: what the verdict may mean) and `caveat` (what
 * could not be checked: shown as prominently as the verdict).
 */
function result(verdict, reason, params, trace, facts = {}, extra = {}) {
  return { verdict, reason: [reason, params], trace, facts, ...extra };
}

/** Facts about a verified record, its log entry and checkpoint. */
function recordFacts(record, index, checkpoint) {
  return {
    issuer: record.issuer, kind: record.kind, id: record.id, issued: record.issued,
    digest: record.digest, index, size: checkpoint.size, witnesses: checkpoint.witnesses,
  };
}

/** Expert details of a checkpoint. */
function noteCheckpoint(trace, checkpoint) {
  trace.note = checkpoint.note;
  trace.root = checkpoint.root;
}

/** A failure as a verdict: red "invalid", or grey "could not check". */
function fromError(e, trace) {
  const known = ['untrusted', 'bad-signature', 'not-included', 'bad-tiles', 'malformed',
    'rollback', 'fork', 'bad-index-proof', 'wrong-digest', 'unreachable', 'no-agency-keys'];
  const code = known.includes(e.code) ? e.code : 'unexpected';
  trace.error = e.code ? `${e.code}: ${e.message}` : String(e.stack || e);
  if (e.code === 'rollback' || e.code === 'fork') trace.evidence = e.evidence || e.message;
  if (e.code === 'key-cut-off' || e.code === 'untrusted-key') return keyResult(e, trace);
  const verdict = ['unreachable', 'no-agency-keys'].includes(code) ? 'unavailable' : 'invalid';
  const reason = code === 'untrusted' && announced ? 'reason.policy-changed' : `reason.${code}`;
  return result(verdict, reason, {}, trace, { digest: trace.digest });
}

// ---------------------------------------------------------------- agencies' keys

// A record that is not its agency's under the keys this page trusts: said
// as such, never softened to "could not check".
const NOT_THE_AGENCYS = ['bad-signature', 'key-cut-off', 'untrusted-key'];
// The log's misbehaviour, proven: evidence decides the verdict.
const MISBEHAVIOUR = ['rollback', 'fork', 'bad-index-proof'];

/** Keeps an agency's proven key history for the expert view. */
function noteAgency(trace, history) {
  trace.registry = { ...trace.registry, [history.agency]: history };
  return history;
}

/**
 * The key history of `agency`, proven from the log's own registry entries
 * (`index/lookup?agency=`): verified in WebAssembly against its checkpoint
 * under the policy and folded under the policy's log key, kept by the
 * verifier for the record checks that follow; its checkpoint must be the
 * same history as the trusted one. Fetched once per trusted checkpoint
 * (again for a lookup proven against a newer one), and kept in this
 * browser for checking receipts while the log is unreachable.
 */
async function proveAgency(agency, trusted, size, trace) {
  const known = provenAgencies.get(agency);
  if (known && known.checkpoint.size >= Math.max(trusted.size, size)) return noteAgency(trace, known);
  const answer = await get(`index/lookup?${new URLSearchParams({ agency })}`, 'json');
  const history = verifier.provenAgency(answer, agency);
  try {
    await checkSameHistory(history.checkpoint, trusted, trace);
  } catch (e) {
    verifier.forgetAgency(agency);
    provenAgencies.delete(agency);
    throw e;
  }
  if (!known || history.checkpoint.size >= known.checkpoint.size) {
    provenAgencies.set(agency, history);
    store.set(agencyKey(agency), JSON.stringify(answer));
  }
  return noteAgency(trace, provenAgencies.get(agency));
}

/** The key histories of the issuers an index answer lists, proven in turn. */
async function proveAgencies(answer, trusted, trace) {
  for (const agency of verifier.listedIssuers(answer)) {
    await proveAgency(agency, trusted, answer.size, trace);
  }
}

/**
 * The agencies' key histories this browser proved on earlier visits (kept
 * in localStorage), verified again and handed to the verifier: a receipt
 * checked while the log is unreachable is checked under them. One that no
 * longer verifies (the page's policy changed since) is dropped.
 */
function loadSavedAgencies() {
  for (const key of store.keys(agencyPrefix())) {
    const agency = key.slice(agencyPrefix().length);
    try {
      provenAgencies.set(agency, verifier.provenAgency(JSON.parse(store.get(key)), agency));
    } catch {
      store.remove(key);
    }
  }
}

/**
 * A receipt verified offline. One the keys at hand refuse (the page's
 * pinned keys, a history proven earlier) is refused again once the
 * agency's current history is proven, when the log can be reached, so the
 * verdict says precisely why (a key the operator registered, or one cut
 * off); unreachable, the first refusal stands.
 */
async function receiptChecked(bytes, trace) {
  try {
    return verifier.verifyReceipt(bytes);
  } catch (e) {
    if (!NOT_THE_AGENCYS.includes(e.code) || !e.record) throw e;
    try {
      const trusted = await freshCheckpoint(trace);
      await proveAgency(e.record.issuer, trusted, e.index + 1, trace);
    } catch (online) {
      throw MISBEHAVIOUR.includes(online.code) ? online : e;
    }
    return verifier.verifyReceipt(bytes);
  }
}

/**
 * A record that is not its agency's under the keys this page trusts
 * (`key-cut-off`, `untrusted-key`): invalid, saying whose key it is, who
 * registered it and when, or when it was cut off.
 */
function keyResult(e, trace) {
  const r = e.record || {};
  const facts = {
    issuer: r.issuer, kind: r.kind, id: r.id, issued: r.issued, digest: r.digest ?? trace.digest,
    index: e.index, key: e.key,
  };
  const k = e.key;
  const params = { issuer: r.issuer, index: e.index };
  if (e.code === 'untrusted-key' && k) {
    const reason = k.cosignedBy ? 'reason.untrusted-key-cosigned' : 'reason.untrusted-key';
    return result('invalid', reason, { ...params, key: k.label, at: k.registeredAt, time: k.time, by: k.cosignedBy },
      trace, facts);
  }
  if (k?.cutoff) {
    const { at, from, time, compromised } = k.cutoff;
    return result('invalid', compromised ? 'reason.key-compromised' : 'reason.key-retired',
      { ...params, key: k.label, at, from, time }, trace, facts);
  }
  return result('invalid', 'reason.bad-signature', params, trace, facts);
}

// ---------------------------------------------------------------- proven status

/**
 * The status of the record at `index`, proven from the verifiable index:
 * the log's answer for the record's name is verified in WebAssembly (its
 * checkpoint under the policy, the commitment, every listed entry, the map
 * proofs, every signature), and its checkpoint must be the same history as
 * the trusted one. Gives `{status, revokedBy, revocation, checkpoint}`;
 * `null` when the record is not yet in the checkpoint the answer proves
 * against.
 */
async function provenStatus(record, index, trusted, trace) {
  const { issuer, kind, id } = record;
  const answer = await get(`index/lookup?${new URLSearchParams({ issuer, kind, id })}`, 'json');
  trace.indexProof = answer;
  if (index >= answer.size) return null;
  await proveAgencies(answer, trusted, trace);
  const status = verifier.provenStatus(answer, issuer, kind, id, index);
  await checkSameHistory(status.checkpoint, trusted, trace);
  return status;
}

/** The verdict of a record whose proven status is known. */
function statusResult(found, status, reason, trace, revokedReason = 'reason.revoked') {
  // The register as it was when the status was proven, and the record's
  // key as its agency's history (or the page's pinned keys) proved it.
  const facts = {
    ...found, size: status.checkpoint.size, witnesses: status.checkpoint.witnesses,
    key: status.key ?? found.key, agency: status.agency,
  };
  if (status.status === 'revoked') {
    const revocation = { index: status.revokedBy, issued: status.revocation.issued, proven: true };
    return result('revoked', revokedReason, { issuer: facts.issuer, index: status.revokedBy },
      trace, { ...facts, revoked: revocation });
  }
  return result('verified', reason, { issuer: facts.issuer }, trace, facts);
}

// ---------------------------------------------------------------- flows

/**
 * Flow 1: a receipt proves inclusion offline. Online, its record's key is
 * checked against the agency's key history as the log proves it, and the
 * record's status (revoked, by an entry before or after it, or not) is
 * proven from the verifiable index.
 */
async function checkReceipt(file, digest, trace, share) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  share.receipt = bytes;
  const r = await receiptChecked(bytes, trace);
  noteCheckpoint(trace, r.checkpoint); // the checkpoint that proves inclusion
  trace.inclusion = r.proof;
  trace.fields = r.record.fields;
  const facts = recordFacts(r.record, r.index, r.checkpoint);
  // What the receipt proves, for its printable certificate.
  share.certified = { record: r.record, index: r.index, checkpoint: r.checkpoint };
  if (digest && digest.value !== r.record.digest) {
    const reason = digest.typed ? 'reason.receipt-digest-mismatch' : 'reason.receipt-mismatch';
    return result('invalid', reason, {}, trace, { digest: digest.value }, { note: 'note.one-byte-receipt' });
  }
  const issuer = { issuer: r.record.issuer };
  let trusted;
  try {
    trusted = await freshCheckpoint(trace);
    trace.latest = trusted.note;
    await checkSameHistory(r.checkpoint, trusted, trace);
    await proveAgency(r.record.issuer, trusted, r.index + 1, trace);
  } catch (e) {
    // Evidence against this history decides; any other online failure
    // leaves what the receipt proves offline.
    if (MISBEHAVIOUR.includes(e.code)) throw e;
    trace.error = e.code ? `${e.code}: ${e.message}` : String(e.stack || e);
    // The log now shows a checkpoint the witnesses this page trusts did not
    // cosign: it may be showing another history, so the receipt's record
    // cannot be called current.
    if (e.code === 'untrusted') return result('unavailable', 'reason.untrusted-now', issuer, trace, facts);
    return offlineReceipt(r, trace, facts);
  }
  let checked;
  try {
    checked = verifier.verifyRecord(r.signedRecord, r.index);
  } catch (e) {
    // The log has not indexed the agency's keys that far yet.
    if (e.code !== 'no-agency-keys') throw e;
    trace.error = `${e.code}: ${e.message}`;
    return result('unavailable', 'reason.agency-unindexed', issuer, trace, facts);
  }
  Object.assign(facts, { key: checked.key, agency: checked.agency });
  try {
    const status = await provenStatus(r.record, r.index, trusted, trace);
    if (!status) {
      return result('verified', 'reason.verified-unindexed', issuer, trace, facts, { caveat: 'unindexed' });
    }
    return statusResult(facts, status, 'reason.verified-receipt', trace);
  } catch (e) {
    if (MISBEHAVIOUR.includes(e.code) || NOT_THE_AGENCYS.includes(e.code)) throw e;
    trace.error = e.code ? `${e.code}: ${e.message}` : String(e.stack || e);
    return result('verified', 'reason.verified-offline', issuer, trace, facts, { caveat: 'offline' });
  }
}

/**
 * A receipt while the log cannot be asked: its record's key is checked
 * under the agency's key history this browser proved last time and the
 * keys the page pins. With neither, the agency's key cannot be checked at
 * all, and the page says so rather than "verified".
 */
function offlineReceipt(r, trace, facts) {
  const issuer = { issuer: r.record.issuer };
  const saved = provenAgencies.get(r.record.issuer);
  if (saved) noteAgency(trace, saved);
  let checked;
  try {
    checked = verifier.verifyRecord(r.signedRecord, r.index);
  } catch (e) {
    if (e.code !== 'no-agency-keys') throw e;
    return result('unavailable', 'reason.agency-unchecked', issuer, trace, facts);
  }
  return result('verified', 'reason.verified-offline', issuer, trace,
    { ...facts, key: checked.key, agency: checked.agency }, { caveat: 'offline' });
}

/**
 * Flow 2: a digest is looked up in the verifiable index: every record of
 * the document, proven complete against the witnessed checkpoint (none is
 * proven absence); the most recent registration's status is proven too.
 */
async function checkDigest(digest, trace) {
  const trusted = await freshCheckpoint(trace);
  noteCheckpoint(trace, trusted);
  const answer = await get(`index/lookup?digest=${encodeURIComponent(digest)}`, 'json');
  trace.indexProof = answer;
  await proveAgencies(answer, trusted, trace);
  const found = verifier.provenDocument(answer, digest);
  await checkSameHistory(found.checkpoint, trusted, trace);
  const checkpointFacts = { digest, size: found.checkpoint.size, witnesses: found.checkpoint.witnesses };
  // The document's own registrations (a revocation notice carries the
  // revoked document's digest too): those still under their key's window
  // first, the most recent first.
  const registrations = found.records.filter((m) => m.record.kind !== 'revocation')
    .sort((a, b) => Number(Boolean(a.cutOff)) - Number(Boolean(b.cutOff)) || b.index - a.index);
  if (registrations.length === 0) {
    // Proven absent as of the witnessed checkpoint; the log may already
    // hold it in a newer one the witnesses have not signed yet.
    const unwitnessed = await get(`lookup?digest=${encodeURIComponent(digest)}`, 'json')
      .then((l) => l.matches.some((m) => m.index >= found.checkpoint.size && m.kind !== 'revocation'))
      .catch(() => false);
    if (unwitnessed) return result('unavailable', 'reason.pending', {}, trace, checkpointFacts);
    return result('not-found', 'reason.not-found', { entries: found.checkpoint.size },
      trace, checkpointFacts, { note: 'note.one-byte' });
  }
  const [match, ...others] = registrations;
  trace.others = others.map((m) => ({ index: m.index, ...m.record }));
  trace.fields = match.record.fields;
  if (match.record.digest !== digest) throw failure('wrong-digest', `entry ${match.index} has digest ${match.record.digest}`);
  const facts = { ...recordFacts(match.record, match.index, found.checkpoint), key: match.key };
  const status = await provenStatus(match.record, match.index, found.checkpoint, trace);
  if (!status) return result('unavailable', 'reason.pending', {}, trace, checkpointFacts);
  return statusResult(facts, status, 'reason.verified', trace);
}

/**
 * Flow 3: a record by its name (issuer, kind, id), looked up in the
 * verifiable index: the name's whole list (its registration and the
 * revocations naming it), proven against the witnessed checkpoint (none is
 * proven absence); the registration's status from the same answer.
 */
async function checkName(name, trace) {
  const { issuer, kind, id } = name;
  const trusted = await freshCheckpoint(trace);
  noteCheckpoint(trace, trusted);
  const query = new URLSearchParams({ issuer, kind, id });
  const answer = await get(`index/lookup?${query}`, 'json');
  trace.indexProof = answer;
  await proveAgencies(answer, trusted, trace);
  const found = verifier.provenName(answer, issuer, kind, id);
  await checkSameHistory(found.checkpoint, trusted, trace);
  const registrations = found.records
    .filter((m) => m.record.kind !== 'revocation' && m.record.issuer === issuer
      && m.record.kind === kind && m.record.id === id)
    .sort((a, b) => a.index - b.index);
  if (registrations.length === 0) {
    const checkpointFacts = { size: found.checkpoint.size, witnesses: found.checkpoint.witnesses };
    // As for a document: logged, but not yet in a witnessed checkpoint?
    const unwitnessed = await get(`lookup?${query}`, 'json')
      .then((l) => l.matches.some((m) => m.index >= found.checkpoint.size && m.kind !== 'revocation'))
      .catch(() => false);
    if (unwitnessed) return result('unavailable', 'reason.pending-name', {}, trace, checkpointFacts);
    return result('not-found', 'reason.name-not-found', { issuer, kind, id, entries: found.checkpoint.size },
      trace, checkpointFacts, { note: 'note.name-not-found' });
  }
  const [match, ...others] = registrations;
  trace.others = others.map((m) => ({ index: m.index, ...m.record }));
  trace.fields = match.record.fields;
  const facts = recordFacts(match.record, match.index, found.checkpoint);
  const status = verifier.provenStatus(answer, issuer, kind, id, match.index);
  return statusResult(facts, status, 'reason.verified-name', trace, 'reason.revoked-name');
}

/** The search form's name, or null when a part is missing. */
function nameAsked() {
  const name = {
    issuer: agencyFromName($('find-issuer').value),
    kind: kindFromName($('find-kind').value),
    id: $('find-id').value.trim(),
  };
  return name.issuer && name.kind && name.id ? name : null;
}

/** Checks the record the search form names. */
async function find(id, trace, share) {
  const name = nameAsked();
  if (!name) return result('idle', 'reason.bad-name', {}, trace);
  share.name = name;
  return checkName(name, trace);
}

/** Decides what to check from the inputs, and checks it. */
async function check(id, trace, share) {
  // A check overtaken by a newer one keeps quiet until it finishes.
  const progress = (...args) => id === runId && showWorking(...args);
  const typed = $('digest-input').value.trim();
  let digest = null;
  if (chosen.document) {
    const big = chosen.document.size > CHUNK_BYTES;
    const value = await hashFile(chosen.document, (pct) => {
      if (big) progress('reason.hashing-pct', { pct }, pct);
    });
    digest = { value, typed: false };
  } else if (typed) {
    const value = parseDigest(typed);
    $('digest-input').setAttribute('aria-invalid', String(!value));
    if (!value) return result('idle', 'reason.bad-digest', {}, trace);
    digest = { value, typed: true };
  }
  trace.digest = digest?.value;
  share.digest = digest?.value;
  if (chosen.receipt) {
    progress('reason.receipt');
    return checkReceipt(chosen.receipt, digest, trace, share);
  }
  if (!digest) return result('idle', 'reason.idle', {}, trace);
  progress('reason.looking');
  return checkDigest(digest.value, trace);
}

/**
 * Runs `task` (the inputs' check, or the search form's) and shows its
 * verdict, brought into view. `share` is what the task checked, for a link.
 */
async function runCheck(task = check) {
  const id = ++runId;
  await ready;
  if (id !== runId) return;
  if (startProblem) return show(startProblem, true);
  const trace = { origin: verifier.origin(), tiles: [] };
  if (announced) trace.announced = announced;
  if (trustRoot?.namesProblem) trace.namesProblem = trustRoot.namesProblem;
  const searching = task === find;
  showWorking(searching ? 'reason.looking-name' : chosen.document ? 'reason.hashing' : 'reason.looking');
  revealVerdict(false);
  const share = {};
  let outcome;
  try {
    outcome = await task(id, trace, share);
  } catch (e) {
    outcome = fromError(e, trace);
  }
  if (id === runId) show({ ...outcome, share }, true);
}

// ---------------------------------------------------------------- rendering

function showWorking(reason, params = {}, pct = null) {
  delete document.body.dataset.done;
  closeCertificate(false);
  shown = { verdict: 'working', reason: [reason, params] };
  render();
  $('progress').hidden = pct === null;
  if (pct !== null) $('progress').value = pct;
}

/** Shows a result; `reveal`: scrolls it into view and gives it focus. */
function show(outcome, reveal = false) {
  shown = { checkedAt: Date.now(), ...outcome };
  shareState = null;
  $('progress').hidden = true;
  render();
  document.body.dataset.done = '1';
  if (reveal) revealVerdict(true);
}

/**
 * Brings the verdict into view when its head is not (on a phone it is
 * below the inputs), and moves focus to it so a screen reader reads it.
 */
function revealVerdict(focus) {
  const card = $('verdict');
  const head = card.querySelector('.verdict-head').getBoundingClientRect();
  if (head.top < 0 || head.bottom > window.innerHeight) card.scrollIntoView({ block: 'start' });
  if (focus) card.focus({ preventScroll: true });
}

/** Sets a fact's text, hiding its row when there is nothing to say. */
function setFact(id, text) {
  const el = $(id);
  el.textContent = text ?? '';
  el.closest('div').hidden = !text;
}

function renderFacts(f = {}) {
  setFact('v-issuer', f.issuer && agencyName(f.issuer));
  setFact('v-kind', f.kind && kindName(f.kind));
  setFact('v-id', f.id);
  setFact('v-issued', f.issued && formatIssued(f.issued));
  setFact('v-index', f.index != null ? formatCount(f.index) : '');
  setFact('v-size', f.size != null ? plural('size', f.size) : '');
  setFact('v-digest', f.digest);
  setFact('v-revoked', f.revoked &&
    t('revoked.value', { index: formatCount(f.revoked.index), issued: formatIssued(f.revoked.issued) }));
  setFact('v-key', keyText(f));
  const witnesses = f.witnesses || [];
  const newest = Math.max(...witnesses.map((w) => w.time));
  setFact('v-age', witnesses.length ? formatAge(newest) : '');
  // How many confirmed it, in words, first; who and when, second.
  $('v-witness-count').textContent = witnesses.length
    ? plural('witnesses', witnesses.length,
      { count: countWords(witnesses.length), names: formatList(witnesses.map((w) => w.name)) })
    : '';
  const list = $('v-witnesses');
  list.replaceChildren(...witnesses.map((w) => {
    const li = document.createElement('li');
    li.textContent = t('witness', { name: w.name, time: formatUnix(w.time) });
    return li;
  }));
  list.closest('div').hidden = witnesses.length === 0;
}

/**
 * Who registered the record's key and when, in words: by the register's
 * operator (every registry entry is), confirmed by the agency's key when
 * one co-signed; how the key's window ended, if it did. Without a proven
 * history, whether the page's pinned keys checked it.
 */
function keyText(f) {
  const k = f.key;
  if (!k) return f.agency === 'pinned' ? t('key.pinned') : '';
  const at = formatCount(k.registeredAt);
  const parts = [k.cosignedBy
    ? t('key.registered-cosigned', { key: k.label, at, time: formatIssued(k.time), by: k.cosignedBy })
    : t('key.registered', { key: k.label, at, time: formatIssued(k.time) })];
  if (k.pinned) parts.push(t('key.also-pinned'));
  if (k.cutoff) {
    parts.push(t(k.cutoff.compromised ? 'key.compromised' : 'key.retired',
      { from: formatCount(k.cutoff.from), time: formatIssued(k.cutoff.time) }));
  }
  return parts.join(' ');
}

/** A registered key for the expert view: its vkey and window, verbatim. */
function keyLines(k) {
  return [
    k.vkey,
    t('details.key-registered', { at: k.registeredAt, time: k.time, from: k.validFrom }),
    k.cosignedBy ? t('details.key-cosigned', { by: k.cosignedBy }) : t('details.key-operator'),
    k.pinned && t('details.key-pinned'),
    k.cutoff && t(k.cutoff.compromised ? 'details.key-compromised' : 'details.key-retired', k.cutoff),
  ].filter(Boolean).join('\n');
}

/** The agencies' key histories a check proved, for the expert view. */
function registryLines(registry = {}) {
  return Object.values(registry).map((h) => [
    `${h.agency} (${plural('size', h.checkpoint.size)})`,
    ...h.keys.map((k) => keyLines(k).replace(/^/gm, '  ')),
    ...h.problems.map((p) => `  ${t('details.registry-problem', { index: p.index, message: p.message })}`),
  ].join('\n')).join('\n\n');
}

/** The "For experts" view: every input to the verdict, verbatim. */
function renderDetails(trace = {}, f = {}) {
  const rows = [
    ['details.origin', trace.origin],
    ['details.issuer', f.issuer],
    ['details.kind', f.kind],
    ['details.issued', f.issued],
    ['details.index', f.index != null && String(f.index)],
    ['details.revoked', f.revoked && `${f.revoked.index} ${f.revoked.issued}`],
    ['details.size', f.size != null && String(f.size)],
    ['details.key', f.key && keyLines(f.key)],
    ['details.cosignatures', f.witnesses?.map((w) =>
      `${w.name} ${w.time} (${new Date(w.time * 1000).toISOString()})`).join('\n')],
    ['details.note', trace.note],
    ['details.root', trace.root],
    ['details.inclusion', trace.inclusion?.join('\n') || (trace.inclusion && t('details.empty'))],
    ['details.latest', trace.latest],
    ['details.consistency', trace.consistency?.join('\n') || (trace.consistency && t('details.empty'))],
    ['details.revocation', trace.revocation],
    ['details.tiles', trace.tiles?.join('\n')],
    ['details.fields', trace.fields?.map(([k, v]) => `${k}: ${v}`).join('\n')],
    ['details.others', trace.others?.map((m) => `#${m.index} ${m.issuer} ${m.kind} ${m.id} ${m.issued}`).join('\n')],
    ['details.registry', registryLines(trace.registry)],
    ['details.index-proof', trace.indexProof && JSON.stringify(trace.indexProof, null, 1)],
    ['details.error', trace.error],
    ['details.replaced', trace.replaced],
    ['details.evidence', trace.evidence],
    ['details.announced', trace.announced],
    ['details.names', trace.namesProblem],
  ].filter(([, text]) => text);
  $('details-list').replaceChildren(...rows.flatMap(([key, text]) => {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
    const dd = document.createElement('dd');
    const pre = document.createElement('pre');
    pre.textContent = text;
    dd.append(pre);
    return [dt, dd];
  }));
  $('details').hidden = rows.length === 0;
}

/** A reason's parameters in the current language. */
function localParams(params = {}) {
  const out = { ...params };
  if (typeof out.entries === 'number') out.entries = plural('size', out.entries);
  for (const key of ['index', 'at', 'from']) if (typeof out[key] === 'number') out[key] = formatCount(out[key]);
  if (out.time) out.time = formatIssued(out.time);
  if (out.kind) out.kind = kindName(out.kind);
  if (out.issuer) out.issuer = agencyName(out.issuer);
  for (const key of ['bytes', 'max']) if (typeof out[key] === 'number') out[key] = formatBytes(out[key]);
  return out;
}

/** Sets a paragraph's text, hiding it when there is nothing to say. */
function setLine(id, text) {
  $(id).textContent = text || '';
  $(id).hidden = !text;
}

/** Draws the verdict card from `shown` in the current language. */
function render() {
  const card = $('verdict');
  card.dataset.verdict = shown.verdict;
  // What could not be checked is part of the headline, not small print.
  if (shown.caveat) card.dataset.caveat = shown.caveat;
  else delete card.dataset.caveat;
  $('verdict-title').textContent = t(shown.caveat ? `title.${shown.verdict}-unchecked` : `title.${shown.verdict}`);
  const [reason, params] = shown.reason;
  $('verdict-reason').textContent = t(reason, localParams(params));
  setLine('verdict-caveat', shown.caveat && t(`caveat.${shown.caveat}`));
  setLine('verdict-note', shown.note && t(shown.note));
  renderFacts(shown.facts);
  renderShare();
  renderDetails(shown.trace, shown.facts);
  $('certificate-offer').hidden = !certifiable();
  if (!$('certificate').hidden) renderCertificate();
}

// ---------------------------------------------------------------- links

/** Bytes as base64url without padding (RFC 4648, section 5). */
function base64url(bytes) {
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The receipt a `#receipt=` fragment carries: `{bytes}`, or `{problem}`
 * (a reason key and its parameters) saying precisely what is wrong with
 * it. base64url, padded or not; standard base64's `+` and `/` are taken too.
 */
function receiptFromLink(text) {
  let encoded = text;
  if (encoded.includes('%')) {
    try { encoded = decodeURIComponent(encoded); } catch { /* reported below as a bad character */ }
  }
  const body = encoded.replace(/={1,2}$/, '');
  if (body === '') return { problem: ['reason.link-empty', {}] };
  const size = Math.floor((body.length * 3) / 4);
  if (size > LINK_RECEIPT_MAX) return { problem: ['reason.link-too-large', { bytes: size, max: LINK_RECEIPT_MAX }] };
  const bad = body.search(/[^A-Za-z0-9_\-+/]/);
  if (bad >= 0) {
    const char = String.fromCodePoint(body.codePointAt(bad));
    return { problem: ['reason.link-bad-character', { char, position: bad + 1 }] };
  }
  if (body.length % 4 === 1) return { problem: ['reason.link-bad-length', { length: body.length }] };
  const binary = atob(body.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(body.length / 4) * 4, '='));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const magic = new TextEncoder().encode(RECEIPT_MAGIC);
  if (bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b)) {
    return { problem: ['reason.link-not-receipt', { bytes: bytes.length }] };
  }
  return { bytes };
}

/**
 * A link that makes the same check afresh: the fingerprint or the record's
 * name in the query, a receipt in the fragment (never sent to any server).
 * Null when there is nothing to link to.
 */
function shareLink(share) {
  if (!share) return null;
  const query = [];
  if (share.digest) query.push(`digest=${share.digest}`);
  if (share.name) query.push(new URLSearchParams(share.name).toString());
  const receipt = share.receipt && share.receipt.length <= LINK_RECEIPT_MAX ? share.receipt : null;
  if (query.length === 0 && !receipt) return null;
  const page = window.location.href.split(/[?#]/)[0];
  return `${page}${query.length ? `?${query.join('&')}` : ''}${receipt ? `#receipt=${base64url(receipt)}` : ''}`;
}

/** The "Copy link to this check" button, after a check that has one. */
function renderShare() {
  const link = ['idle', 'working'].includes(shown.verdict) ? null : shareLink(shown.share);
  $('share').hidden = !link;
  $('share-link').hidden = !link || !shareState;
  const notes = shareState ? [t(`share.${shareState}`), shown.share?.receipt && t('share.receipt')] : [];
  $('share-status').textContent = notes.filter(Boolean).join(' ');
}

/** Copies the link (or, when the browser refuses, shows it selected). */
async function copyLink() {
  const link = shareLink(shown.share);
  if (!link) return;
  const input = $('share-link');
  input.value = link;
  input.hidden = false;
  let copied = false;
  try {
    await navigator.clipboard.writeText(link);
    copied = true;
  } catch {
    // No clipboard API (plain http) or no permission: the older way.
    input.focus();
    input.select();
    try { copied = document.execCommand('copy'); } catch { copied = false; }
  }
  shareState = copied ? 'copied' : 'select';
  renderShare();
}

/**
 * Starts the check the page's address asks for, if any: `#receipt=`
 * (a receipt), `?digest=` (a fingerprint, or the document a receipt must
 * be for), or `?issuer=&kind=&id=` (a record's name).
 */
function checkLinked() {
  const query = new URLSearchParams(window.location.search);
  const fragment = window.location.hash.startsWith('#receipt=')
    ? window.location.hash.slice('#receipt='.length) : null;
  const name = ['issuer', 'kind', 'id'].filter((k) => query.has(k));
  if (fragment === null && !query.has('digest') && name.length === 0) return;
  chosen.document = null;
  chosen.receipt = null;
  chosen.linked = false;
  $('digest-input').value = query.get('digest') ?? '';
  if (fragment !== null) {
    const taken = receiptFromLink(fragment);
    if (taken.problem) {
      renderChosen();
      const [reason, params] = taken.problem;
      runCheck(async (id, trace) => result('unavailable', reason, params, trace));
      return;
    }
    chosen.receipt = new File([taken.bytes], 'receipt.tlog-proof');
    chosen.linked = true;
  }
  renderChosen();
  if (fragment === null && !query.has('digest')) {
    $('find-issuer').value = query.get('issuer') ?? '';
    $('find-kind').value = kindName(query.get('kind') ?? '');
    $('find-id').value = query.get('id') ?? '';
    $('find').open = true;
    runCheck(find);
    return;
  }
  runCheck(check);
}

let agencyKeys = []; // the agencies' key names, for the search form's suggestions

/**
 * Suggestions for the search form: the log's agencies (their key names, the
 * identity a search sends, labelled with their display names), the known
 * kinds (by name; kindFromName turns a name back into the kind).
 */
function renderSuggestions(agencies = agencyKeys) {
  agencyKeys = agencies;
  const options = (pairs) => pairs.map(([value, label]) => {
    const option = document.createElement('option');
    option.value = value;
    if (label && label !== value) option.label = label;
    return option;
  });
  $('agency-list').replaceChildren(...options(agencies.map((key) => [key, agencyName(key)])));
  $('kind-list').replaceChildren(...options(knownKinds().map(([kind, name]) => [name, kind])));
}

/** The chosen files, as a list under the drop zone. */
function renderChosen() {
  const items = [];
  if (chosen.document) items.push(t('chosen.document', { name: chosen.document.name, size: formatBytes(chosen.document.size) }));
  if (chosen.receipt) {
    items.push(chosen.linked ? t('chosen.receipt-link') : t('chosen.receipt', { name: chosen.receipt.name }));
  }
  $('chosen').replaceChildren(...items.map((text) => {
    const li = document.createElement('li');
    li.textContent = text;
    return li;
  }));
}

/** The policy's lines as lists of words, without blank lines and comments. */
function policyLines(text) {
  return text.split('\n').map((line) => line.trim().split(/[ \t]+/))
    .filter((w) => w[0] !== '' && !w[0].startsWith('#'));
}

/**
 * What a policy trusts, as comparable text: URLs (where to reach a log or
 * witness) are left out, and line order does not matter.
 */
function trustOf(text) {
  return policyLines(text).map((w) => {
    if (w[0] === 'log') return w.slice(0, 2);
    if (w[0] === 'witness') return w.slice(0, 3);
    return w;
  }).map((w) => w.join(' ')).sort().join('\n');
}

/** The log's origin and the page's witnesses, in the footer. */
function renderFooter(trust, saved) {
  $('log-origin').textContent = verifier.origin();
  const lines = policyLines(trust.policy);
  const witnesses = lines.filter((w) => w[0] === 'witness').map((w) => w[1]);
  const quorum = lines.find((w) => w[0] === 'quorum')?.[1];
  const group = lines.find((w) => w[0] === 'group' && w[1] === quorum);
  const rule = group ? t('footer.k-of-n', { k: group[2], n: group.length - 3 }) : quorum;
  $('log-witnesses').textContent = witnesses.length
    ? t('footer.witness-list', { names: formatList(witnesses), rule: t('footer.quorum', { quorum: rule }) })
    : t('footer.none');
  const notes = [];
  if (saved) notes.push(t('footer.saved'));
  if (announced) notes.push(t('footer.announced'));
  if (trust.namesProblem) notes.push(t('footer.names-bad', { problem: trust.namesProblem }));
  $('log-status').hidden = notes.length === 0;
  $('log-status').textContent = notes.join(' ');
}

// ---------------------------------------------------------------- certificate

// The certificate is bilingual whatever the reader's language: Chinese first.
const CERT_LANGS = ['zh-CN', 'en'];

/** Whether the shown verdict came from a receipt and can be certified. */
function certifiable() {
  return ['verified', 'revoked'].includes(shown.verdict) && Boolean(shown.share?.certified);
}

/** A moment as UTC, to the second: "2026-11-24 09:00:00 UTC". */
function utcText(when) {
  return Number.isNaN(when.getTime()) ? null : `${when.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An element with `className` and text (or children). */
function el(tag, className, ...content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...content.filter((c) => c != null && c !== ''));
  return node;
}

/** A span of text in `tag`'s language, so each script gets its own font. */
function inLangSpan(tag, text, className = '') {
  const span = el('span', className, text);
  span.lang = tag;
  return span;
}

/** `fn`'s text in each of the certificate's languages, as spans. */
function bilingual(fn, className = '') {
  const texts = CERT_LANGS.map((tag) => [tag, inLang(tag, fn)]);
  // One line when both languages say the same (a number, a key name).
  if (texts[0][1] === texts[1][1]) return [inLangSpan('en', texts[0][1], className)];
  return texts.map(([tag, text]) => inLangSpan(tag, text, className));
}

/** `fn`'s text in the certificate's languages on one line: "根哈希 / root hash". */
function bothText(fn) {
  return [...new Set(CERT_LANGS.map((tag) => inLang(tag, fn)))].join(' / ');
}

/** The certificate's rows: bilingual label, then value lines. */
function certificateRows(c, verdict) {
  const { record, index, checkpoint } = c;
  const issued = new Date(record.issued);
  const revoked = verdict.facts?.revoked;
  const status = revoked
    ? (() => t('revoked.value', { index: formatCount(revoked.index), issued: formatIssued(revoked.issued) }))
    : null;
  const title = () => t(verdict.caveat ? `title.${verdict.verdict}-unchecked` : `title.${verdict.verdict}`);
  const mono = (text) => [el('span', 'mono', text)];
  return [
    ['cert.status', [...bilingual(title, 'strong'), ...(status ? bilingual(status) : [])]],
    ['cert.agency', [...bilingual(() => agencyName(record.issuer), 'strong'), ...mono(record.issuer)]],
    ['cert.kind', [...bilingual(() => kindName(record.kind)), ...mono(record.kind)]],
    ['cert.id', mono(record.id)],
    ['cert.digest', mono(record.digest)],
    ['cert.issued', [utcText(issued) ?? record.issued, ...bilingual(() => formatIssued(record.issued))]],
    ['cert.log', [...mono(checkpoint.origin), ...bilingual(() => t('cert.entry', { index: formatCount(index) }))]],
    ['cert.checkpoint', [...bilingual(() => plural('size', checkpoint.size)),
      el('span', null, `${bothText(() => t('cert.root'))}: `, el('span', 'mono', checkpoint.root))]],
    ['cert.witnesses', checkpoint.witnesses.map((w) =>
      el('span', null, el('span', 'mono', w.name), ' — ', utcText(new Date(w.time * 1000))))],
    ['cert.checked', [utcText(new Date(verdict.checkedAt))]],
  ];
}

/** Draws the certificate of the shown verdict. */
function renderCertificate() {
  if (!certifiable()) return;
  const certified = shown.share.certified;
  $('cert-intro').replaceChildren(...bilingual(() => t('cert.intro')));
  $('cert-facts').replaceChildren(...certificateRows(certified, shown).map(([key, values]) => {
    const row = el('div', 'sheet-row');
    const dt = el('dt', null, ...bilingual(() => t(key)));
    const dd = el('dd', null, ...values.map((v) => (typeof v === 'string' ? el('span', null, v) : v)));
    row.append(dt, dd);
    return row;
  }));
  // The link repeats this check; it must carry the receipt to be worth a QR code.
  const link = shareLink(shown.share);
  const svg = link && link.includes('#receipt=') ? wasm.qrSvg(link) : undefined;
  const qr = $('cert-qr');
  if (svg) {
    const parsed = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
    parsed.setAttribute('role', 'img');
    parsed.setAttribute('aria-label', link);
    qr.replaceChildren(document.importNode(parsed, true));
    $('cert-scan').replaceChildren(...bilingual(() => t('cert.scan')));
    $('cert-link').textContent = link;
  } else {
    qr.replaceChildren();
    $('cert-scan').replaceChildren(...bilingual(() => t('cert.no-qr')));
    $('cert-link').textContent = '';
  }
  qr.hidden = !svg;
}

/** Shows the certificate in place of the page. */
function openCertificate() {
  if (!certifiable()) return;
  renderCertificate();
  document.querySelector('main').hidden = true;
  document.querySelector('footer').hidden = true;
  $('certificate').hidden = false;
  document.body.dataset.view = 'certificate';
  window.scrollTo(0, 0);
  $('cert-title').focus({ preventScroll: true });
}

/** Back to the page; `focus`: to the button that opened the certificate. */
function closeCertificate(focus) {
  if ($('certificate').hidden) return;
  $('certificate').hidden = true;
  document.querySelector('main').hidden = false;
  document.querySelector('footer').hidden = false;
  delete document.body.dataset.view;
  if (focus) $('certificate-button').focus();
}

// ---------------------------------------------------------------- inputs

/** A receipt by name or by its first line; anything else is a document. */
async function isReceipt(file) {
  if (file.name.toLowerCase().endsWith('.tlog-proof')) return true;
  const head = await file.slice(0, RECEIPT_MAGIC.length).arrayBuffer();
  return new TextDecoder().decode(head) === RECEIPT_MAGIC;
}

/** A new selection from the drop zone replaces the previous one. */
async function takeFiles(files) {
  chosen.document = null;
  chosen.receipt = null;
  chosen.linked = false;
  $('receipt-input').value = '';
  for (const file of files) {
    if (await isReceipt(file)) chosen.receipt = file;
    else chosen.document = file;
  }
  // A document's own fingerprint replaces any pasted one.
  if (chosen.document) $('digest-input').value = '';
  renderChosen();
  if (chosen.document || chosen.receipt) runCheck(check);
}

function wireInputs() {
  $('document-input').addEventListener('change', (e) => takeFiles([...e.target.files]));
  $('receipt-input').addEventListener('change', (e) => {
    chosen.receipt = e.target.files[0] || null;
    chosen.linked = false;
    renderChosen();
    if (chosen.receipt) runCheck(check);
  });
  // Typing a fingerprint means checking it rather than the chosen document.
  $('digest-input').addEventListener('input', () => {
    if (!chosen.document) return;
    chosen.document = null;
    $('document-input').value = '';
    renderChosen();
  });
  $('check-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runCheck(check);
  });
  $('find-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runCheck(find);
  });
  $('share-button').addEventListener('click', copyLink);
  $('certificate-button').addEventListener('click', openCertificate);
  $('certificate-back').addEventListener('click', () => closeCertificate(true));
  $('certificate-print').addEventListener('click', () => window.print());
  // A link opened in this tab again, with another receipt: no reload.
  window.addEventListener('hashchange', () => {
    if (window.location.hash.startsWith('#receipt=')) checkLinked();
  });
  $('check-form').addEventListener('reset', () => {
    chosen.document = null;
    chosen.receipt = null;
    chosen.linked = false;
    renderChosen();
    runId++;
    ready.then(() => show(startProblem || result('idle', 'reason.idle', {})));
  });
  // The whole window accepts a drop (so a missed drop does not navigate
  // away to the file); the zone lights up while something is dragged.
  const zone = $('drop-zone');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  window.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) zone.classList.remove('dragging');
  });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files || [])];
    if (files.length) takeFiles(files);
  });
}

function wireLanguage() {
  const apply = (tag) => {
    setLang(tag);
    $('lang-en').setAttribute('aria-pressed', String(getLang() === 'en'));
    $('lang-zh').setAttribute('aria-pressed', String(getLang() === 'zh-CN'));
    translatePage();
    render();
    renderChosen();
    renderSuggestions();
    if (verifier && trustRoot) renderFooter(trustRoot, trustRoot.saved);
  };
  $('lang-en').addEventListener('click', () => apply('en'));
  $('lang-zh').addEventListener('click', () => apply('zh-CN'));
  apply(getLang());
}

// ---------------------------------------------------------------- start

let trustRoot = null;

/**
 * The page's trust root: the policy beside index.html (required) and the
 * agencies' keys beside it (optional; without them, each agency's keys
 * come from its key history as the log proves it).
 */
async function loadTrustRoot() {
  const policy = await pageFile(POLICY_FILE);
  let agencies = null;
  try {
    const text = await pageFile(AGENCIES_FILE);
    agencies = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  return { policy, agencies, ...await loadNames() };
}

/**
 * The display names beside the page, parsed by the bundle (the CLI's own
 * parser): `{names}`, or `{namesProblem}` saying why none are used. None
 * (404, or an empty file) is no problem: agencies show their key names.
 */
async function loadNames() {
  let bytes;
  // The built-in kind names alone (the core's), when the file is missing
  // or unusable.
  const builtIn = () => setNames(wasm.parseNames(new Uint8Array()));
  try {
    bytes = await fetchFrom(new URL(NAMES_FILE, document.baseURI), NAMES_FILE, 'bytes', false);
  } catch (e) {
    builtIn();
    return e.status === 404 ? {} : { namesProblem: e.message };
  }
  try {
    const names = wasm.parseNames(bytes);
    setNames(names);
    return { names };
  } catch (e) {
    builtIn();
    return { namesProblem: e.message };
  }
}

/** Where the log is: its line's URL in the policy, else beside the page. */
function logBaseOf(policy) {
  const url = policyLines(policy).find((w) => w[0] === 'log')?.[2];
  if (!url) return new URL('.', document.baseURI);
  return new URL(url.endsWith('/') ? url : `${url}/`);
}

/**
 * Compares the policy the log announces with the page's own. A difference
 * never changes what the page trusts; it is shown, and the announcement
 * kept as evidence.
 */
function compareAnnounced(info, trust) {
  if (typeof info?.policy !== 'string' || trustOf(info.policy) === trustOf(trust.policy)) {
    announced = null;
    return;
  }
  announced = info.policy;
  store.set(announcedKey(), JSON.stringify({ seen: new Date().toISOString(), policy: info.policy }));
}

/** /info from the log, or the copy kept from the last visit when offline. */
async function loadInfo() {
  try {
    const info = await get('info', 'json');
    if (typeof info.policy !== 'string' || !Array.isArray(info.agencies)) {
      throw failure('malformed', 'GET info: no policy or agencies');
    }
    store.set(INFO_KEY, JSON.stringify(info));
    return { info, saved: false };
  } catch (e) {
    let saved = null;
    try { saved = JSON.parse(store.get(INFO_KEY)); } catch { /* unreadable copy */ }
    if (saved) return { info: saved, saved: true };
    throw e;
  }
}

/** A reason the page cannot check anything: grey, not a verdict on a record. */
function unable(reason, message) {
  return result('unavailable', reason, {}, { error: String(message) });
}

/** Loads the bundle and the log's details; null when all is well. */
async function start() {
  try {
    wasm = await import('./pkg/gazette_wasm.js');
    await wasm.default();
  } catch (e) {
    return unable('reason.no-wasm', e.message || e);
  }
  let trust;
  try {
    trust = await loadTrustRoot();
    logBase = logBaseOf(trust.policy);
  } catch (e) {
    return unable('reason.no-policy', e.message);
  }
  // /info is never trusted: the policy it announces is compared, and its
  // agencies' names are suggested in the search form (when the page pins
  // none); without it, nothing else is missing.
  let info = null;
  let saved = false;
  try {
    ({ info, saved } = await loadInfo());
  } catch { /* unreachable and nothing kept: no suggestions */ }
  try {
    verifier = new wasm.LogVerifier(trust.policy, trust.agencies || []);
    loadSavedAgencies();
    // A verifier key is `name+id+key`: its name is what records carry.
    const names = (trust.agencies || info?.agencies.map((a) => a.vkey) || []).map((vkey) => vkey.split('+')[0]);
    renderSuggestions([...new Set(names)]);
    trustRoot = { ...trust, saved: saved && !trust.agencies };
    compareAnnounced(info, trust);
    renderFooter(trustRoot, trustRoot.saved);
  } catch (e) {
    verifier = null;
    return unable('reason.malformed', e.message);
  }
  return null;
}

initLang();
wireLanguage();
wireInputs();
const ready = start().then((problem) => {
  startProblem = problem;
  if (problem) show(problem);
  else if (shown.verdict === 'working' && runId === 0) show(result('idle', 'reason.idle', {}));
});
checkLinked();
