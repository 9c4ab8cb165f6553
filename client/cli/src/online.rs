//! The commands that read a live log: `checkpoint`, `inclusion`,
//! `consistency` and `lookup`. Each one verifies everything it receives:
//! the checkpoint under the policy, and against the trusted checkpoint kept
//! in a state file, one per log in the state directory ([`super::state`])
//! (a newer one replaces it only with a valid consistency proof), then the
//! proofs. On a rollback or a fork the evidence (both
//! signed checkpoints and the failed proof) is printed, kept in a file, and
//! the exit is 10. `lookup` takes its answers from the log's verifiable
//! index ([`super::proven`]): "not found" and each match's status are
//! proven, not the log's word.

use std::path::PathBuf;

use serde_json::{Value, json};

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::index::lookup::LookupKey;
use gazette_client::index::status::Status;
use gazette_client::merkle::{self, Hash, leaf_hash};
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::record::REVOCATION;
use gazette_client::registry::TrustedKeys;
use gazette_client::tiles::{HEIGHT, Tile, TileLevel, TileProof, parse_entry_bundle};
use gazette_client::trust::{TrustError, check_advance};

use super::http::{Http, LogUrl, escape};
use super::proven;
use super::{Exit, Failure, Output, count, plural, read_file, state};

/// How to reach and trust a log, shared by the online commands.
#[derive(clap::Args)]
pub struct LogArgs {
    /// The log's URL (http://host[:port][/path]).
    #[arg(long, env = "GAZETTE_LOG_URL")]
    pub log: LogUrl,
    /// The witness policy (c2sp.org/tlog-policy text, with the log's line).
    #[arg(long, env = "GAZETTE_POLICY")]
    policy: PathBuf,
    /// Accept a policy no witness has to cosign under (`quorum none`):
    /// the log's word alone, which could show you a forked view.
    #[arg(long)]
    no_witnesses: bool,
    /// Read only what a static C2SP log serves (`/checkpoint` and
    /// `/tile/...`): proofs are computed from the tiles, entries read from
    /// their bundles. A command that needs more says which route.
    #[arg(long)]
    pub tiles_only: bool,
    /// The trusted checkpoint kept between runs (default: `trusted.checkpoint`
    /// in this log's folder of the state directory).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Where to keep evidence of a rollback or a fork (default:
    /// `evidence.txt` in this log's folder of the state directory).
    #[arg(long)]
    evidence: Option<PathBuf>,
}

/// Refuses a policy under which no witness has to cosign (the log's word
/// alone: a log could show this verifier a forked view, and no one would
/// see it) unless the user accepts that with `--no-witnesses`, which is
/// then printed as a warning.
pub fn witnesses_required(policy: &Policy, no_witnesses: bool) -> Result<(), Failure> {
    if policy.requires_witnesses() {
        return Ok(());
    }
    if !no_witnesses {
        return Err(Failure::new(
            Exit::Usage,
            "the policy asks for no witness cosignature (quorum none): a checkpoint would rest on \
             the log's word alone. Name the witnesses, or accept that with --no-witnesses",
        ));
    }
    eprintln!(
        "gazette: warning: --no-witnesses: no witness has to cosign, so the log alone vouches for \
         its checkpoints (a log could show you a forked view)"
    );
    Ok(())
}

/// A verifying connection to one log.
pub struct Session {
    /// The log's HTTP API.
    pub http: Http,
    policy: Policy,
    /// The trusted checkpoint's file.
    pub state: PathBuf,
    evidence: PathBuf,
    /// Only the static C2SP routes are read (`--tiles-only`).
    tiles_only: bool,
}

impl Session {
    /// Opens a session from the shared arguments.
    pub fn open(args: &LogArgs) -> Result<Session, Failure> {
        let text = read_file(&args.policy, "policy")?;
        let policy = Policy::parse(&text)
            .map_err(|e| Failure::new(Exit::Usage, format!("the policy: {e}")))?;
        witnesses_required(&policy, args.no_witnesses)?;
        let (state, evidence) = match (&args.state, &args.evidence) {
            (Some(state), Some(evidence)) => (state.clone(), evidence.clone()),
            (given_state, given_evidence) => {
                let dir = state::log_dir(&args.log, &policy)?;
                (
                    given_state
                        .clone()
                        .unwrap_or_else(|| dir.join("trusted.checkpoint")),
                    given_evidence
                        .clone()
                        .unwrap_or_else(|| dir.join("evidence.txt")),
                )
            }
        };
        Ok(Session::new(&args.log, policy, state, evidence)?.reading_tiles_only(args.tiles_only))
    }

    /// The policy the log is trusted under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The session reading only what a static C2SP log serves, when `on`.
    pub fn reading_tiles_only(mut self, on: bool) -> Session {
        self.tiles_only = on;
        self
    }

    /// A session with the log at `url`, trusted under `policy`, keeping
    /// its trusted checkpoint in `state` and evidence in `evidence`.
    pub fn new(
        url: &LogUrl,
        policy: Policy,
        state: PathBuf,
        evidence: PathBuf,
    ) -> Result<Session, Failure> {
        Ok(Session {
            http: Http::new(url)?,
            policy,
            state,
            evidence,
            tiles_only: false,
        })
    }

    /// Refuses, with `--tiles-only`, what needs `route`: a Gazette log's
    /// API, which a static C2SP log does not serve.
    pub fn needs(&self, route: &str, what: &str) -> Result<(), Failure> {
        match self.tiles_only {
            false => Ok(()),
            true => Err(Failure::new(
                Exit::Usage,
                format!(
                    "{what} needs {route}, a Gazette log's route that a static C2SP log (--tiles-only) does not serve"
                ),
            )),
        }
    }

    /// The hashes `plan` computes from the log's tiles, authenticated
    /// against `root`; a tile that cannot be fetched fails as one that does
    /// not hash to the root does, with `exit`.
    pub async fn proof_from_tiles(
        &self,
        plan: &TileProof,
        root: &Hash,
        exit: Exit,
    ) -> Result<Vec<Hash>, Failure> {
        let failed = |reason: String| Failure::new(exit, format!("proof from the tiles: {reason}"));
        let tiles = self
            .http
            .tiles(plan.tiles())
            .await
            .map_err(|f| failed(f.reason))?;
        plan.proof(root, &tiles).map_err(|e| failed(e.to_string()))
    }

    /// Entry `index` of a tree of `size` entries, read from its entry
    /// bundle (`--tiles-only`) or from `/entry/<index>`. Unauthenticated:
    /// callers prove its leaf hash.
    pub async fn entry(&self, index: u64, size: u64) -> Result<Vec<u8>, Failure> {
        if !self.tiles_only {
            return self.http.get(&format!("/entry/{index}")).await;
        }
        let start = index - index % (1 << HEIGHT);
        let bundle = Tile {
            height: HEIGHT,
            level: TileLevel::Entries,
            index: index >> HEIGHT,
            width: u32::try_from((size - start).min(1 << HEIGHT)).expect("at most 256"),
        };
        let data = self.http.tile(&bundle).await?;
        let entries = parse_entry_bundle(&bundle, &data)
            .map_err(|e| Failure::new(Exit::Malformed, format!("{}: {e}", bundle.path())))?;
        Ok(entries[usize::try_from(index - start).expect("within a bundle")].to_vec())
    }

    /// The `"proof"` of a proof answer, as hashes.
    pub fn hashes(value: &Value, path: &str) -> Result<Vec<Hash>, Failure> {
        value["proof"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|h| h.as_str().and_then(Hash::from_base64))
                    .collect()
            })
            .ok_or_else(|| {
                Failure::new(
                    Exit::Malformed,
                    format!("{path}: no proof of base64 hashes"),
                )
            })
    }

    /// The log's newest checkpoint, verified under the policy and as an
    /// extension of the trusted one, which it then replaces.
    pub async fn trusted_checkpoint(&self) -> Result<VerifiedCheckpoint, Failure> {
        let note = self.http.get("/checkpoint").await?;
        self.trust(&note, "the log's checkpoint").await
    }

    /// A checkpoint the log offered (`what` names where it came from),
    /// verified under the policy and as an extension of the trusted one
    /// (by a consistency proof from the log), which it then replaces: a
    /// rollback or a fork is misbehaviour, with the evidence kept.
    pub async fn trust(&self, note: &[u8], what: &str) -> Result<VerifiedCheckpoint, Failure> {
        let offered = self
            .policy
            .verify_checkpoint(note)
            .map_err(|e| Failure::new(Exit::Untrusted, format!("{what}: {e}")))?;
        let trusted = match std::fs::read(&self.state) {
            Ok(bytes) => Some(self.policy.verify_checkpoint(&bytes).map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "the trusted state {} does not verify: {e}",
                        self.state.display()
                    ),
                )
            })?),
            Err(_) => None,
        };
        if let Some(trusted) = &trusted {
            self.consistent(trusted, &offered).await?;
        }
        if trusted
            .as_ref()
            .is_none_or(|t| offered.checkpoint.size > t.checkpoint.size)
        {
            state::write(&self.state, offered.note.as_bytes())?;
        }
        Ok(offered)
    }

    /// Misbehaviour shown by `evidence` (plain text: what failed, and the
    /// signed material it failed against): printed, kept in the evidence
    /// file, exit 10 with `reason`.
    pub fn misbehaved(&self, reason: &str, evidence: &str) -> Failure {
        println!("{evidence}");
        let kept = state::write(&self.evidence, evidence.as_bytes())
            .map(|()| format!("evidence kept in {}", self.evidence.display()))
            .unwrap_or_else(|w| format!("the evidence could not be written: {}", w.reason));
        Failure::new(
            Exit::Misbehaviour,
            format!("the log misbehaved: {reason}; {kept}"),
        )
    }

    /// Proves that `old` (a checkpoint verified elsewhere: a receipt's, a
    /// kept one) is a prefix of `new`, by a consistency proof from the
    /// log; a rollback or a fork is misbehaviour, with the evidence kept.
    pub async fn consistent(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<usize, Failure> {
        let (m, n) = (old.checkpoint.size, new.checkpoint.size);
        let proof = if m > 0 && m < n && self.tiles_only {
            let plan = TileProof::consistency(m, n).map_err(|e| {
                Failure::new(Exit::Misbehaviour, format!("proof from the tiles: {e}"))
            })?;
            self.proof_from_tiles(&plan, &new.checkpoint.root, Exit::Misbehaviour)
                .await?
        } else if m > 0 && m < n {
            let path = format!("/proof/consistency?old={m}&size={n}");
            Self::hashes(&self.http.get_json(&path).await?, &path)?
        } else {
            Vec::new()
        };
        check_advance(old, new, &proof).map_err(|e| self.misbehaviour(&e))?;
        Ok(proof.len())
    }

    fn misbehaviour(&self, e: &TrustError) -> Failure {
        if matches!(e, TrustError::OriginMismatch { .. }) {
            return Failure::new(Exit::Usage, e.to_string());
        }
        self.misbehaved(&e.to_string(), &e.evidence())
    }
}

/// `gazette checkpoint`: fetch, verify and trust the newest checkpoint.
#[derive(clap::Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    log: LogArgs,
}

pub async fn checkpoint(args: &CheckpointArgs, out: Output) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let verified = session.trusted_checkpoint().await?;
    let c = &verified.checkpoint;
    let witnesses: Vec<&str> = verified.witness_names();
    out.json(&json!({
        "origin": c.origin,
        "size": c.size,
        "root": c.root.to_base64(),
        "witnesses": witnesses,
        "cosigned": proven::cosignatures(&verified),
        "state": session.state,
    }));
    out.line(format!(
        "checkpoint of {} verified and trusted: {}, cosigned by {}",
        c.origin,
        plural(c.size, "entry"),
        cosigners(&witnesses)
    ));
    out.detail(format!("root {}", c.root.to_base64()));
    for line in proven::cosigned(&verified) {
        out.detail(format!("cosigned by {line}"));
    }
    out.detail(format!(
        "trusted checkpoint kept in {}",
        session.state.display()
    ));
    Ok(())
}

/// The witnesses who cosigned, for a summary line.
pub fn cosigners(witnesses: &[&str]) -> String {
    match witnesses {
        [] => "no witness".to_owned(),
        names => names.join(", "),
    }
}

/// `gazette inclusion (--record <file> | --index <n>)`: prove an entry is
/// in the trusted tree.
#[derive(clap::Args)]
pub struct InclusionArgs {
    #[command(flatten)]
    log: LogArgs,
    /// A signed record file: find it and prove it.
    #[arg(long, conflicts_with = "index", required_unless_present = "index")]
    record: Option<PathBuf>,
    /// The entry at this index.
    #[arg(long)]
    index: Option<u64>,
}

pub async fn inclusion(args: &InclusionArgs, out: Output) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let verified = session.trusted_checkpoint().await?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let beyond = |index: u64| match index < size {
        true => Ok(()),
        false => Err(Failure::new(
            Exit::NotIncluded,
            format!("entry {index} is not yet in the trusted checkpoint of size {size}"),
        )),
    };
    let (index, leaf) = match (&args.record, args.index) {
        (Some(path), _) => {
            // Found by `/lookup`, the log's own search: a match is proven
            // below, but "not in the log" is only the log's word.
            session.needs("/lookup", "finding a record (--record)")?;
            let leaf = leaf_hash(&read_file(path, "record")?);
            let query = format!("/lookup?leaf_hash={}", escape(&leaf.to_base64()));
            let found = session.http.get_json(&query).await?;
            let index = found["matches"][0]["index"].as_u64().ok_or_else(|| {
                Failure::new(
                    Exit::NotIncluded,
                    format!(
                        "{} is not in the log, by the log's word (/lookup by leaf hash: not proven)",
                        path.display()
                    ),
                )
            })?;
            (index, leaf)
        }
        (None, Some(index)) => {
            if index >= size {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "--index {index} is beyond the trusted tree of size {size} (entries 0 to {})",
                        size.saturating_sub(1)
                    ),
                ));
            }
            (index, leaf_hash(&session.entry(index, size).await?))
        }
        (None, None) => return Err(Failure::new(Exit::Usage, "--record or --index")),
    };
    beyond(index)?;
    let proof = if args.log.tiles_only {
        let plan = TileProof::inclusion(index, size)
            .map_err(|e| Failure::new(Exit::NotIncluded, format!("proof from the tiles: {e}")))?;
        session
            .proof_from_tiles(&plan, &root, Exit::NotIncluded)
            .await?
    } else {
        let path = format!("/proof/inclusion?index={index}&size={size}");
        Session::hashes(&session.http.get_json(&path).await?, &path)?
    };
    merkle::verify_inclusion(&leaf, index, size, &proof, &root)
        .map_err(|e| Failure::new(Exit::NotIncluded, format!("entry {index}: {e}")))?;
    out.json(&json!({
        "index": index,
        "size": size,
        "leaf_hash": leaf.to_base64(),
        "origin": verified.checkpoint.origin,
        "proof": proof.len(),
        "included": true,
    }));
    let what = match &args.record {
        Some(path) => format!("{} (entry {index})", path.display()),
        None => format!("entry {index}"),
    };
    out.line(format!(
        "{what} is in the trusted tree of {} (size {}): inclusion proven",
        verified.checkpoint.origin,
        count(size)
    ));
    out.detail(format!("leaf hash {}", leaf.to_base64()));
    out.detail(format!(
        "{} checked against root {}",
        plural(proof.len() as u64, "proof hash"),
        root.to_base64()
    ));
    out.detail(format!(
        "trusted checkpoint kept in {}",
        session.state.display()
    ));
    Ok(())
}

/// `gazette consistency --from <checkpoint or receipt file>`: prove that an
/// older checkpoint (kept, or inside a receipt) is a prefix of the log's
/// trusted tree.
#[derive(clap::Args)]
pub struct ConsistencyArgs {
    #[command(flatten)]
    log: LogArgs,
    /// A signed checkpoint, or a receipt (`.tlog-proof`) carrying one.
    #[arg(long)]
    from: PathBuf,
}

pub async fn consistency(args: &ConsistencyArgs, out: Output) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let bytes = read_file(&args.from, "checkpoint")?;
    let note = match gazette_client::tlog_proof::TlogProof::parse(&bytes) {
        Ok(receipt) => receipt.checkpoint.into_bytes(),
        Err(_) => bytes,
    };
    let old = session
        .policy
        .verify_checkpoint(&note)
        .map_err(|e| Failure::new(Exit::Untrusted, format!("{}: {e}", args.from.display())))?;
    let new = session.trusted_checkpoint().await?;
    let proof = session.consistent(&old, &new).await?;
    let (m, n) = (old.checkpoint.size, new.checkpoint.size);
    out.json(&json!({
        "old": m,
        "size": n,
        "proof": proof,
        "origin": new.checkpoint.origin,
        "consistent": true,
    }));
    out.line(format!(
        "the checkpoint of size {} in {} is a prefix of the log's trusted tree of size {}: consistency proven",
        count(m),
        args.from.display(),
        count(n)
    ));
    out.detail(format!(
        "{} checked, from root {} to root {}",
        plural(proof as u64, "proof hash"),
        old.checkpoint.root.to_base64(),
        new.checkpoint.root.to_base64()
    ));
    out.detail(format!(
        "trusted checkpoint kept in {}",
        session.state.display()
    ));
    Ok(())
}

/// `gazette lookup (--digest <sha256:hex> | --document <file> | --issuer <i> --kind <k> --id <id>)`:
/// find records with the log's verifiable index: the matches are all the
/// log holds under the key (none is proven absence), each with its status
/// proven from its name's list.
#[derive(clap::Args)]
pub struct LookupArgs {
    #[command(flatten)]
    log: LogArgs,
    /// A document digest, `sha256:<hex>`.
    #[arg(long, conflicts_with_all = ["document", "issuer"])]
    digest: Option<String>,
    /// A document: hashed here, only its digest is sent.
    #[arg(long, conflicts_with = "issuer")]
    document: Option<PathBuf>,
    /// The issuing agency (with --kind and --id).
    #[arg(long, requires_all = ["kind", "id"])]
    issuer: Option<String>,
    /// The record's kind.
    #[arg(long)]
    kind: Option<String>,
    /// The agency's id of the record.
    #[arg(long)]
    id: Option<String>,
    /// An agency's verifier key (repeatable): a record counts only when
    /// signed by one (and inside that key's window in the agency's
    /// history, which the log proves from its registry entries). Without
    /// any, the keys of that proven history.
    #[arg(long)]
    agency: Vec<String>,
}

/// Parses `sha256:<64 lowercase hex>`.
fn parse_digest(digest: &str) -> Result<[u8; 32], Failure> {
    digest
        .strip_prefix("sha256:")
        .and_then(gazette_client::encoding::hex_decode_lower)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            Failure::new(
                Exit::Usage,
                format!("--digest {digest:?} is not sha256:<64 lowercase hex>"),
            )
        })
}

pub async fn lookup(args: &LookupArgs, out: Output) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let key = match (&args.digest, &args.document, &args.issuer) {
        (Some(digest), _, _) => LookupKey::Document(parse_digest(digest)?),
        (_, Some(document), _) => LookupKey::Document(super::record::digest_file(document)?),
        (_, _, Some(issuer)) => LookupKey::Name {
            issuer: issuer.clone(),
            kind: args.kind.clone().unwrap_or_default(),
            id: args.id.clone().unwrap_or_default(),
        },
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "look up by --digest, --document, or --issuer --kind --id",
            ));
        }
    };
    let agencies = crate::agency_keys(&args.agency)?;
    let unchecked = |f: Failure| match f.exit {
        Exit::Unchecked => Failure::new(
            Exit::Unchecked,
            format!("could not look up with proofs: {}", f.reason),
        ),
        _ => f,
    };
    let proven = session.proven_lookup(&key).await.map_err(unchecked)?;
    let size = proven.checkpoint.checkpoint.size;
    let found: Vec<_> = proven::matches(&proven.list, &key).collect();
    if found.is_empty() {
        let naming = proven.list.records.len();
        let revocations = match naming {
            0 => String::new(),
            1 => " (1 revocation names it)".to_owned(),
            n => format!(" ({} name it)", plural(n as u64, "revocation")),
        };
        return Err(Failure::new(
            Exit::NotFound,
            format!(
                "no record of {} in the log's tree of size {size}: proven absent{revocations}",
                proven::describe(&key)
            ),
        ));
    }
    // Each record's name list (its status), then each issuer's keys as the
    // log proves its history (and, given, the --agency keys too): proven
    // after every list, the histories cover every key a listed record was
    // logged under.
    let mut lists = Vec::with_capacity(found.len());
    for (_, signed) in &found {
        let name = proven::name_of(&signed.record);
        lists.push(match signed.record.kind != REVOCATION && name != key {
            true => Some(session.proven_lookup(&name).await.map_err(unchecked)?),
            false => None,
        });
    }
    let histories = session
        .agency_histories(found.iter().map(|(_, s)| s.record.issuer.as_str()))
        .await
        .map_err(unchecked)?;
    let mut matches = Vec::with_capacity(found.len());
    for ((index, signed), list) in found.into_iter().zip(&lists) {
        let r = &signed.record;
        let issuer_keys: Vec<Verifier> = agencies
            .iter()
            .filter(|k| k.name() == r.issuer)
            .cloned()
            .collect();
        let trusted = TrustedKeys {
            pinned: &issuer_keys,
            histories: Some(&histories),
        };
        let status = if let Err(why) = trusted.check(signed, *index) {
            Err(why.to_string())
        } else if r.kind == REVOCATION {
            Ok(None)
        } else {
            Ok(session.status(list.as_ref().unwrap_or(&proven), *index, &trusted)?)
        };
        let invalid = status.as_ref().err().cloned();
        let status = status.ok();
        let revoked_by = match status {
            Some(Some(Status::Revoked { by })) => Some(by),
            _ => None,
        };
        matches.push(json!({
            "index": index,
            "issuer": r.issuer,
            "kind": r.kind,
            "id": r.id,
            "issued": r.issued,
            "revokes": r.revokes.as_ref().map(|(k, i)| json!({"kind": k, "id": i})),
            "revoked_by": revoked_by,
            "status": match status {
                Some(Some(Status::Valid)) => "valid",
                Some(Some(Status::Revoked { .. })) => "revoked",
                Some(None) => "revocation",
                None => "invalid",
            },
            "invalid": invalid,
            "proven": true,
        }));
    }
    out.json(&json!({ "size": size, "proven": true, "matches": matches }));
    if out.human() {
        for m in &matches {
            let status = match (m["status"].as_str(), m["revoked_by"].as_u64()) {
                (Some("revoked"), Some(r)) => format!(", revoked at index {r} (proven)"),
                (Some("valid"), _) => ", not revoked (proven)".to_owned(),
                (Some("revocation"), _) => format!(
                    ", a revocation of {} {}",
                    m["revokes"]["kind"].as_str().unwrap_or_default(),
                    m["revokes"]["id"].as_str().unwrap_or_default()
                ),
                (Some("invalid"), _) => format!(
                    ", NOT the agency's record: {}",
                    m["invalid"].as_str().unwrap_or_default()
                ),
                (other, _) => format!(", status {}", other.unwrap_or_default()),
            };
            println!(
                "{} {} {} {} at index {}{status}",
                m["issuer"].as_str().unwrap_or_default(),
                m["kind"].as_str().unwrap_or_default(),
                m["id"].as_str().unwrap_or_default(),
                m["issued"].as_str().unwrap_or_default(),
                m["index"],
            );
        }
    }
    out.line(format!(
        "{} found as of the log's checkpoint of size {}: the list is proven complete",
        plural(matches.len() as u64, "record"),
        count(size)
    ));
    Ok(())
}
