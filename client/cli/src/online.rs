//! The commands that read a live log: `checkpoint`, `inclusion`,
//! `consistency` and `lookup`. Each one verifies everything it receives: the checkpoint under
//! the policy, and against the trusted checkpoint kept in a state file (a
//! newer one replaces it only with a valid consistency proof), then the
//! proofs. On a rollback or a fork the evidence (both signed checkpoints
//! and the failed proof) is printed, kept in a file, and the exit is 10.

use std::path::PathBuf;

use serde_json::{Value, json};

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::merkle::{self, Hash, leaf_hash};
use gazette_client::policy::Policy;
use gazette_client::tiles::TileProof;
use gazette_client::trust::{TrustError, check_advance};

use super::http::{Http, escape};
use super::{Exit, Failure, read_file};

/// How to reach and trust a log, shared by the online commands.
#[derive(clap::Args)]
pub struct LogArgs {
    /// The log's URL.
    #[arg(long, env = "GAZETTE_LOG_URL")]
    log: String,
    /// The witness policy (c2sp.org/tlog-policy text, with the log's line).
    #[arg(long, env = "GAZETTE_POLICY")]
    policy: PathBuf,
    /// The trusted checkpoint kept between runs (default:
    /// `gazette-trusted.checkpoint` here).
    #[arg(long, default_value = "gazette-trusted.checkpoint")]
    state: PathBuf,
    /// Where to keep evidence of a rollback or a fork.
    #[arg(long, default_value = "gazette-evidence.txt")]
    evidence: PathBuf,
    /// Print what was verified as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A verifying connection to one log.
pub struct Session {
    /// The log's HTTP API.
    pub http: Http,
    policy: Policy,
    args_state: PathBuf,
    evidence: PathBuf,
}

impl Session {
    /// Opens a session from the shared arguments.
    pub fn open(args: &LogArgs) -> Result<Session, Failure> {
        let text = read_file(&args.policy, "policy")?;
        let policy = Policy::parse(&text)
            .map_err(|e| Failure::new(Exit::Usage, format!("the policy: {e}")))?;
        Session::new(&args.log, policy, args.state.clone(), args.evidence.clone())
    }

    /// A session with the log at `url`, trusted under `policy`, keeping
    /// its trusted checkpoint in `state` and evidence in `evidence`.
    pub fn new(
        url: &str,
        policy: Policy,
        state: PathBuf,
        evidence: PathBuf,
    ) -> Result<Session, Failure> {
        Ok(Session {
            http: Http::new(url)?,
            policy,
            args_state: state,
            evidence,
        })
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
        let offered = self
            .policy
            .verify_checkpoint(&note)
            .map_err(|e| Failure::new(Exit::Untrusted, format!("the log's checkpoint: {e}")))?;
        let trusted = match std::fs::read(&self.args_state) {
            Ok(bytes) => Some(self.policy.verify_checkpoint(&bytes).map_err(|e| {
                Failure::new(
                    Exit::Usage,
                    format!(
                        "the trusted state {} does not verify: {e}",
                        self.args_state.display()
                    ),
                )
            })?),
            Err(_) => None,
        };
        if let Some(trusted) = &trusted {
            let (old, new) = (trusted.checkpoint.size, offered.checkpoint.size);
            let proof = if old > 0 && old < new {
                let path = format!("/proof/consistency?old={old}&size={new}");
                Self::hashes(&self.http.get_json(&path).await?, &path)?
            } else {
                Vec::new()
            };
            if let Err(e) = check_advance(trusted, &offered, &proof) {
                return Err(self.misbehaviour(&e));
            }
        }
        if trusted
            .as_ref()
            .is_none_or(|t| offered.checkpoint.size > t.checkpoint.size)
        {
            gazette_kit::durable::write_file(&self.args_state, offered.note.as_bytes(), None)
                .map_err(|e| {
                    Failure::new(
                        Exit::Io,
                        format!("writing {}: {e}", self.args_state.display()),
                    )
                })?;
        }
        Ok(offered)
    }

    fn misbehaviour(&self, e: &TrustError) -> Failure {
        if matches!(e, TrustError::OriginMismatch { .. }) {
            return Failure::new(Exit::Usage, e.to_string());
        }
        let evidence = e.evidence();
        println!("{evidence}");
        let kept = gazette_kit::durable::write_file(&self.evidence, evidence.as_bytes(), None)
            .map(|()| format!("evidence kept in {}", self.evidence.display()))
            .unwrap_or_else(|w| format!("the evidence could not be written: {w}"));
        Failure::new(
            Exit::Misbehaviour,
            format!("the log misbehaved: {e}; {kept}"),
        )
    }
}

/// `gazette checkpoint`: fetch, verify and trust the newest checkpoint.
#[derive(clap::Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    log: LogArgs,
}

pub async fn checkpoint(args: &CheckpointArgs) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let verified = session.trusted_checkpoint().await?;
    if args.log.json {
        let witnesses: Vec<&str> = verified.witness_names();
        println!(
            "{}",
            json!({ "origin": verified.checkpoint.origin, "size": verified.checkpoint.size,
                    "root": verified.checkpoint.root.to_base64(), "witnesses": witnesses })
        );
    }
    Ok(())
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
    /// Compute the proof from the log's tiles instead of asking for it.
    #[arg(long)]
    tiles_only: bool,
}

pub async fn inclusion(args: &InclusionArgs) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let verified = session.trusted_checkpoint().await?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let (index, leaf) = match (&args.record, args.index) {
        (Some(path), _) => {
            let leaf = leaf_hash(&read_file(path, "record")?);
            let query = format!("/lookup?leaf_hash={}", escape(&leaf.to_base64()));
            let found = session.http.get_json(&query).await?;
            let index = found["matches"][0]["index"].as_u64().ok_or_else(|| {
                Failure::new(
                    Exit::NotIncluded,
                    format!("{} is not in the log", path.display()),
                )
            })?;
            (index, leaf)
        }
        (None, Some(index)) => (
            index,
            leaf_hash(&session.http.get(&format!("/entry/{index}")).await?),
        ),
        (None, None) => return Err(Failure::new(Exit::Usage, "--record or --index")),
    };
    if index >= size {
        return Err(Failure::new(
            Exit::NotIncluded,
            format!("entry {index} is not yet in the trusted checkpoint of size {size}"),
        ));
    }
    let proof = if args.tiles_only {
        // A tile that cannot be fetched fails the proof, as one that does
        // not hash to the root does: the same exit either way.
        let from_tiles = |reason: String| {
            Failure::new(Exit::NotIncluded, format!("proof from the tiles: {reason}"))
        };
        let plan = TileProof::inclusion(index, size).map_err(|e| from_tiles(e.to_string()))?;
        let tiles = session
            .http
            .tiles(plan.tiles())
            .await
            .map_err(|f| from_tiles(f.reason))?;
        plan.proof(&root, &tiles)
            .map_err(|e| from_tiles(e.to_string()))?
    } else {
        let path = format!("/proof/inclusion?index={index}&size={size}");
        Session::hashes(&session.http.get_json(&path).await?, &path)?
    };
    merkle::verify_inclusion(&leaf, index, size, &proof, &root)
        .map_err(|e| Failure::new(Exit::NotIncluded, format!("entry {index}: {e}")))?;
    if args.log.json {
        println!(
            "{}",
            json!({ "index": index, "size": size, "leaf_hash": leaf.to_base64() })
        );
    }
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

pub async fn consistency(args: &ConsistencyArgs) -> Result<(), Failure> {
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
    let (m, n) = (old.checkpoint.size, new.checkpoint.size);
    let proof = if m > 0 && m < n {
        let path = format!("/proof/consistency?old={m}&size={n}");
        Session::hashes(&session.http.get_json(&path).await?, &path)?
    } else {
        Vec::new()
    };
    check_advance(&old, &new, &proof).map_err(|e| session.misbehaviour(&e))?;
    if args.log.json {
        println!("{}", json!({ "old": m, "size": n, "proof": proof.len() }));
    }
    Ok(())
}

/// `gazette lookup (--digest <sha256:hex> | --document <file> | --issuer <i> --kind <k> --id <id>)`:
/// find records in the log and prove each is in the trusted tree.
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
}

pub async fn lookup(args: &LookupArgs) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let query = match (&args.digest, &args.document, &args.issuer) {
        (Some(digest), _, _) => format!("digest={}", escape(digest)),
        (_, Some(document), _) => {
            let digest = super::record::digest_file(document)?;
            format!(
                "digest=sha256:{}",
                gazette_client::encoding::hex_encode(&digest)
            )
        }
        (_, _, Some(issuer)) => format!(
            "issuer={}&kind={}&id={}",
            escape(issuer),
            escape(args.kind.as_deref().unwrap_or_default()),
            escape(args.id.as_deref().unwrap_or_default())
        ),
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "look up by --digest, --document, or --issuer --kind --id",
            ));
        }
    };
    let verified = session.trusted_checkpoint().await?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let found = session.http.get_json(&format!("/lookup?{query}")).await?;
    let mut proven = Vec::new();
    for m in found["matches"].as_array().into_iter().flatten() {
        let (Some(index), Some(record)) = (m["index"].as_u64(), m["record"].as_str()) else {
            return Err(Failure::new(
                Exit::Malformed,
                format!("/lookup: a match without index or record: {m}"),
            ));
        };
        if index >= size {
            continue; // newer than the trusted checkpoint: next time
        }
        let path = format!("/proof/inclusion?index={index}&size={size}");
        let proof = Session::hashes(&session.http.get_json(&path).await?, &path)?;
        merkle::verify_inclusion(&leaf_hash(record.as_bytes()), index, size, &proof, &root)
            .map_err(|e| {
                Failure::new(
                    Exit::NotIncluded,
                    format!("the log's match at {index} is not in its tree: {e}"),
                )
            })?;
        let signed = gazette_client::record::SignedRecord::parse(record.as_bytes())
            .map_err(|e| Failure::new(Exit::Malformed, format!("match {index}: {e}")))?;
        proven.push(json!({
            "index": index,
            "issuer": signed.record.issuer,
            "kind": signed.record.kind,
            "id": signed.record.id,
            "issued": signed.record.issued,
            "revoked_by": m["revoked_by"],
        }));
    }
    if proven.is_empty() {
        return Err(Failure::new(
            Exit::NotFound,
            format!("no record found in the trusted tree of size {size}"),
        ));
    }
    if args.log.json {
        println!("{}", json!({ "size": size, "matches": proven }));
    } else {
        for m in &proven {
            println!(
                "{} {} {} {} at index {}{}",
                m["issuer"].as_str().unwrap_or_default(),
                m["kind"].as_str().unwrap_or_default(),
                m["id"].as_str().unwrap_or_default(),
                m["issued"].as_str().unwrap_or_default(),
                m["index"],
                m["revoked_by"]
                    .as_u64()
                    .map(|r| format!(", revoked at index {r}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
