//! `gazette verify`: a receipt, fully offline, by the core's one rule set
//! ([`gazette_client::receipt::verify_receipt`], also the page's): the
//! record's signature with the agency's key when given, the checkpoint
//! under the policy (the log's signature and the witnesses' quorum), the
//! inclusion proof, and the document's digest when given. This command
//! only reads the inputs and turns the verdict into an exit code, and on
//! success says in one line what was verified (`-q`: nothing).
//!
//! With `--online` the record's status comes from proofs only: the log's
//! verifiable index proves its name's whole list against the log's
//! published checkpoint (trusted as every online command trusts one, and
//! proven to extend the receipt's), and the status is computed from that
//! list (`proven_status_under`), counting only records under a key whose
//! window in the issuer's proven key history (its registry entries, looked
//! up with proofs) covers their index; the receipt's record must be one
//! (else exit 7). Nothing the log merely says decides it: a log
//! that cannot prove gives no verdict (exit 15), one whose proof fails has
//! misbehaved (exit 10).

use std::path::{Path, PathBuf};

use serde_json::json;

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::encoding::hex_encode;
use gazette_client::index::status::Status;
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::receipt::{
    AgencyCheck, AgencySignature, DocumentCheck, MalformedReceipt, ReceiptError, VerifiedReceipt,
    verify_receipt,
};
use gazette_client::record::RecordError;
use gazette_client::registry::TrustedKeys;
use gazette_client::tlog_proof::TlogProof;

use super::http::LogUrl;
use super::online::{Session, cosigners, witnesses_required};
use super::proven::{cosignatures, cosigned, name_of};
use super::record::digest_file;
use super::{Exit, Failure, Output, read_file, state};

/// `gazette verify <receipt> [--document <file>] (--policy <file> | --log-vkey <vkey> [--witness <vkey>]... [--quorum <n>]) [--no-witnesses]`.
#[derive(clap::Args)]
pub struct Args {
    /// The receipt (`.tlog-proof` file).
    receipt: PathBuf,
    /// The document the record should be of.
    #[arg(long)]
    document: Option<PathBuf>,
    /// The log entry (the signed record) the receipt proves, for a receipt
    /// without an `extra` line; with one, it must be the same bytes.
    #[arg(long)]
    entry: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// The agency's verifier key (repeatable): its signature on the record
    /// is checked. Without it, only the log vouches for the issuer.
    #[arg(long)]
    agency: Vec<String>,
    /// Also prove, with the log's verifiable index (`--log`), whether its
    /// issuer revoked the record (a revocation logged before or after it):
    /// exit 14 if so, 0 if the record is proven not revoked as of the
    /// log's checkpoint, 15 if the log cannot prove either (it keeps no
    /// index, or not now), 10 if its proof fails. Records count only under
    /// a key whose window in the issuer's key history, proven from the
    /// log's registry, covers them (and, given, an --agency key); a
    /// receipt's record outside its key's window exits 7.
    #[arg(long, requires = "log")]
    online: bool,
    /// The log's URL, for --online.
    #[arg(long, env = "GAZETTE_LOG_URL")]
    log: Option<LogUrl>,
    /// With --online, read only what a static C2SP log serves: the
    /// receipt's checkpoint is proven a prefix of the log's from its tiles,
    /// but revocation cannot be proven without the log's index (exit 15).
    #[arg(long, requires = "online")]
    tiles_only: bool,
    /// The trusted checkpoint kept between runs, for --online (default:
    /// `trusted.checkpoint` in this log's folder of the state directory;
    /// evidence beside it).
    #[arg(long)]
    state: Option<PathBuf>,
}

/// Whom a receipt's checkpoint must be signed by: a policy file, or the
/// log's key and the witnesses' keys.
#[derive(clap::Args)]
pub struct TrustArgs {
    /// The witness policy (c2sp.org/tlog-policy text, with the log's line).
    #[arg(long, env = "GAZETTE_POLICY", conflicts_with_all = ["log_vkey", "witness"])]
    policy: Option<PathBuf>,
    /// The log's verifier key, when no policy file is given.
    #[arg(long, env = "GAZETTE_LOG_VKEY")]
    log_vkey: Option<String>,
    /// A witness's verifier key (repeatable), with --log-vkey.
    #[arg(long)]
    witness: Vec<String>,
    /// How many of the --witness keys must have cosigned (default: all).
    #[arg(long)]
    quorum: Option<usize>,
    /// Accept a receipt no witness has to have cosigned (no --witness, or
    /// a policy with `quorum none`): the log's word alone.
    #[arg(long)]
    no_witnesses: bool,
}

/// The policy from the arguments.
pub fn policy(args: &TrustArgs) -> Result<Policy, Failure> {
    let text = match (&args.policy, &args.log_vkey) {
        (Some(path), _) => read_file(path, "policy")?,
        (None, Some(log)) => {
            let mut text = format!("log {log}\n");
            let mut names = Vec::new();
            for (i, vkey) in args.witness.iter().enumerate() {
                let name = format!("w{}", i + 1);
                text.push_str(&format!("witness {name} {vkey}\n"));
                names.push(name);
            }
            if names.is_empty() {
                text.push_str("quorum none\n");
            } else {
                let k = args.quorum.unwrap_or(names.len());
                text.push_str(&format!(
                    "group quorum {k} {}\nquorum quorum\n",
                    names.join(" ")
                ));
            }
            text.into_bytes()
        }
        (None, None) => {
            return Err(Failure::new(
                Exit::Usage,
                "say whom to trust: --policy <file>, or --log-vkey <vkey> with --witness <vkey>...",
            ));
        }
    };
    let policy =
        Policy::parse(&text).map_err(|e| Failure::new(Exit::Usage, format!("the policy: {e}")))?;
    witnesses_required(&policy, args.no_witnesses)?;
    Ok(policy)
}

/// The exit code of each way a receipt fails: the core decides the
/// verdict, the command line only names it.
fn exit_code(e: &ReceiptError) -> Exit {
    match e {
        ReceiptError::Malformed(_) => Exit::Malformed,
        ReceiptError::Untrusted(_) => Exit::Untrusted,
        ReceiptError::NotIncluded { .. } => Exit::NotIncluded,
        ReceiptError::BadSignature(_) => Exit::BadRecordSignature,
        ReceiptError::WrongDocument { .. } => Exit::WrongDocument,
    }
}

/// The receipt `bytes` (from `receipt`) carrying `entry` (from `path`) as
/// its `extra`: added where it has none, refused where it has another.
pub fn with_entry(
    bytes: &[u8],
    receipt: &Path,
    entry: &[u8],
    path: &Path,
) -> Result<Vec<u8>, Failure> {
    let mut proof = TlogProof::parse(bytes)
        .map_err(|e| Failure::new(Exit::Malformed, format!("{}: {e}", receipt.display())))?;
    match &proof.extra {
        Some(extra) if extra.as_slice() != entry => Err(Failure::new(
            Exit::Malformed,
            format!(
                "{} carries another record than {}: give the receipt's own, or none",
                receipt.display(),
                path.display()
            ),
        )),
        Some(_) => Ok(bytes.to_vec()),
        None => {
            proof.extra = Some(entry.to_vec());
            Ok(proof.to_text().into_bytes())
        }
    }
}

/// A receipt's failure as the command line reports it: the core's verdict
/// with the file it is about, and what to do where there is something.
pub fn receipt_failure(
    e: ReceiptError,
    receipt: &Path,
    document: Option<&Path>,
    agencies: &[Verifier],
) -> Failure {
    let reason = match (&e, document) {
        (ReceiptError::Malformed(MalformedReceipt::Proof(_)), _) => {
            format!("{}: {e}", receipt.display())
        }
        (ReceiptError::WrongDocument { .. }, Some(path)) => {
            format!("{}: {e}", path.display())
        }
        (ReceiptError::Malformed(MalformedReceipt::NoRecord), _) => format!(
            "{}: {e}; give the entry it proves with --entry <file>",
            receipt.display()
        ),
        (ReceiptError::BadSignature(RecordError::UnknownIssuer { issuer, key_id }), _) => {
            let given: Vec<String> = agencies.iter().map(key_label).collect();
            format!(
                "the record is signed by {issuer}+{key_id:08x}, not by the given --agency key{} {}",
                if given.len() == 1 { "" } else { "s" },
                given.join(", ")
            )
        }
        _ => e.to_string(),
    };
    Failure::new(exit_code(&e), reason)
}

/// The key a verifier key is known by: `<name>+<key id>`.
fn key_label(key: &Verifier) -> String {
    format!("{}+{:08x}", key.name(), key.key_id())
}

pub async fn run(args: &Args, out: Output) -> Result<(), Failure> {
    let policy = policy(&args.trust)?;
    let agencies = crate::agency_keys(&args.agency)?;
    let mut bytes = read_file(&args.receipt, "receipt")?;
    if let Some(path) = &args.entry {
        bytes = with_entry(&bytes, &args.receipt, &read_file(path, "entry")?, path)?;
    }
    let agency = if agencies.is_empty() {
        AgencyCheck::Skip
    } else {
        AgencyCheck::Keys(&agencies)
    };
    let failure = |e| receipt_failure(e, &args.receipt, args.document.as_deref(), &agencies);
    let mut verified = verify_receipt(&bytes, &policy, agency, None).map_err(failure)?;
    // The document is read only for a receipt that verified: a broken
    // receipt gets its own verdict, and a large document is not hashed for
    // nothing.
    if let Some(path) = &args.document {
        verified = verified
            .check_document(&digest_file(path)?)
            .map_err(failure)?;
    }
    let record = &verified.record.record;
    let online = match (&args.online, &args.log) {
        (true, Some(url)) => {
            match check_online(url, policy.clone(), args, &verified, &agencies).await {
                Ok(online) => Some(Ok(online)),
                Err(f) if f.exit == Exit::Unchecked => Some(Err(f.reason)),
                Err(f) => return Err(f),
            }
        }
        _ => None,
    };
    let witnesses: Vec<&str> = verified.checkpoint.witness_names();
    let revoked_by = match &online {
        Some(Ok(Online {
            status: Some(Status::Revoked { by }),
            ..
        })) => Some(*by),
        _ => None,
    };
    let revocation_check = online.as_ref().map(|online| match online {
        Ok(o) => json!({
            "status": match o.status {
                Some(Status::Valid) => "valid",
                Some(Status::Revoked { .. }) => "revoked",
                None => "revocation",
            },
            "proven": true,
            "size": o.checkpoint.checkpoint.size,
            "cosigned": cosignatures(&o.checkpoint),
        }),
        Err(why) => json!({
            "status": "unchecked",
            "proven": false,
            "reason": why,
        }),
    });
    let report = json!({
        "issuer": record.issuer,
        "kind": record.kind,
        "id": record.id,
        "digest": format!("sha256:{}", hex_encode(&record.digest)),
        "issued": record.issued,
        "revokes": record.revokes.as_ref().map(|(k, i)| json!({"kind": k, "id": i})),
        "index": verified.index,
        "log": verified.checkpoint.checkpoint.origin,
        "size": verified.checkpoint.checkpoint.size,
        "witnesses": witnesses,
        "cosigned": cosignatures(&verified.checkpoint),
        "agency_signature": match verified.agency {
            AgencySignature::Verified { .. } => "verified",
            AgencySignature::NotChecked => "not_checked",
        },
        "agency_key": match &verified.agency {
            AgencySignature::Verified { key } => Some(key_label(key)),
            AgencySignature::NotChecked => None,
        },
        "document": match verified.document {
            DocumentCheck::Matches => "matches",
            DocumentCheck::NotChecked => "not_checked",
        },
        "revoked_by": revoked_by,
        "revocation_check": revocation_check,
    });
    out.json(&report);
    // People read a summary only of a success: a revoked or unchecked
    // record gets its verdict on stderr, not a "verified" line above it.
    let summary = || {
        let checkpoint = &verified.checkpoint.checkpoint;
        let agency = match &verified.agency {
            AgencySignature::Verified { .. } => "agency signature verified",
            AgencySignature::NotChecked => "agency signature not checked (no --agency)",
        };
        let document = match verified.document {
            DocumentCheck::Matches => "; the document matches",
            DocumentCheck::NotChecked => "",
        };
        out.line(format!(
            "verified: {} {} {}, entry {} of {} (size {}), cosigned by {}; {agency}{document}",
            record.issuer,
            record.kind,
            record.id,
            verified.index,
            checkpoint.origin,
            checkpoint.size,
            cosigners(&witnesses)
        ));
        out.detail(format!(
            "record: issued {}, document sha256:{}",
            record.issued,
            hex_encode(&record.digest)
        ));
        out.detail(format!("checkpoint root {}", checkpoint.root.to_base64()));
        for line in cosigned(&verified.checkpoint) {
            out.detail(format!("cosigned by {line}"));
        }
        if let AgencySignature::Verified { key } = &verified.agency {
            out.detail(format!("agency key {}", key_label(key)));
        }
        if verified.document == DocumentCheck::NotChecked {
            out.detail("document not checked (no --document)");
        }
    };
    match online {
        Some(Ok(o)) => {
            if let Some(Status::Revoked { by }) = o.status {
                return Err(Failure::new(
                    Exit::Revoked,
                    format!(
                        "{} {} {} was revoked by its issuer: revocation at index {by} (proven, as of the log's checkpoint of size {})",
                        record.issuer, record.kind, record.id, o.checkpoint.checkpoint.size
                    ),
                ));
            }
            summary();
            out.line(o.verdict());
            Ok(())
        }
        Some(Err(why)) => Err(Failure::new(
            Exit::Unchecked,
            format!("could not check revocation: {why}"),
        )),
        None => {
            summary();
            Ok(())
        }
    }
}

/// What the log's verifiable index proved about the record.
struct Online {
    /// Its status (`None`: the record is a revocation, which has none).
    status: Option<Status>,
    /// The checkpoint it is proven against (now the trusted one).
    checkpoint: VerifiedCheckpoint,
    /// The witnesses' cosignatures on it, `name at time`.
    cosigned: Vec<String>,
}

impl Online {
    /// The verdict, in one line.
    fn verdict(&self) -> String {
        let size = self.checkpoint.checkpoint.size;
        let cosigned = if self.cosigned.is_empty() {
            String::new()
        } else {
            format!(" (cosigned by {})", self.cosigned.join(", "))
        };
        match self.status {
            Some(Status::Valid) => {
                format!("not revoked as of checkpoint size {size}{cosigned} (proven)")
            }
            Some(Status::Revoked { by }) => {
                format!("revoked at index {by} as of checkpoint size {size}{cosigned} (proven)")
            }
            None => format!(
                "a revocation: it has no status of its own; on its name's list as of checkpoint size {size}{cosigned} (proven)"
            ),
        }
    }
}

/// Proves the record's status with the log's verifiable index: its name's
/// whole list (the record and every revocation naming it, logged before or
/// after it) against the log's published checkpoint, which must extend
/// both the trusted checkpoint and the receipt's. Records count only under
/// the issuer's proven key history (and `agencies`, when given). A log
/// that cannot prove is [`Exit::Unchecked`]; a proof that fails is
/// misbehaviour.
async fn check_online(
    url: &LogUrl,
    policy: Policy,
    args: &Args,
    verified: &VerifiedReceipt,
    agencies: &[Verifier],
) -> Result<Online, Failure> {
    let (trusted, evidence) = match &args.state {
        Some(given) => (given.clone(), given.with_extension("evidence")),
        None => {
            let dir = state::log_dir(url, &policy)?;
            (dir.join("trusted.checkpoint"), dir.join("evidence.txt"))
        }
    };
    let session = Session::new(url, policy, trusted, evidence)?.reading_tiles_only(args.tiles_only);
    if args.tiles_only {
        // The receipt's tree is a prefix of the log's (a fork is evidence);
        // no index to prove the record's status with.
        let current = session.trusted_checkpoint().await?;
        session.consistent(&verified.checkpoint, &current).await?;
        return Err(Failure::new(
            Exit::Unchecked,
            format!(
                "the receipt's checkpoint (size {}) is proven a prefix of the log's (size {}), but a static log (--tiles-only) keeps no verifiable index to prove the record's status with",
                verified.checkpoint.checkpoint.size, current.checkpoint.size
            ),
        ));
    }
    let issuer = &verified.record.record.issuer;
    let proven = session
        .proven_lookup(&name_of(&verified.record.record))
        .await?;
    // The history is proven after the list, so it covers at least the
    // list's tree: every key a listed record was logged under is in it.
    let histories = session.agency_histories([issuer.as_str()]).await?;
    let trusted = TrustedKeys {
        pinned: agencies,
        histories: Some(&histories),
    };
    // The receipt's tree is a prefix of the proven one: the record is in
    // the tree the list is complete for.
    session
        .consistent(&verified.checkpoint, &proven.checkpoint)
        .await?;
    // The record itself: its key's window, as the log proves the agency's
    // history, must cover its index.
    if let Err(why) = trusted.check(&verified.record, verified.index) {
        return Err(Failure::new(
            Exit::BadRecordSignature,
            format!(
                "the record at index {} is not {issuer}'s as of the log's tree of size {}: {why}",
                verified.index, proven.checkpoint.checkpoint.size
            ),
        ));
    }
    let status = session.status(&proven, verified.index, &trusted)?;
    let cosigned = cosigned(&proven.checkpoint);
    Ok(Online {
        status,
        checkpoint: proven.checkpoint,
        cosigned,
    })
}
