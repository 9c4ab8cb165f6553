//! `gazette verify`: a receipt, fully offline, by the core's one rule set
//! ([`gazette_client::receipt::verify_receipt`], also the page's): the
//! record's signature with the agency's key when given, the checkpoint
//! under the policy (the log's signature and the witnesses' quorum), the
//! inclusion proof, and the document's digest when given. This command
//! only reads the inputs and turns the verdict into an exit code. Silent
//! on success.

use std::path::PathBuf;

use serde_json::json;

use gazette_client::encoding::hex_encode;
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::receipt::{
    AgencyCheck, AgencySignature, DocumentCheck, MalformedReceipt, ReceiptError, verify_receipt,
};
use gazette_client::record::SignedRecord;

use super::record::digest_file;
use super::{Exit, Failure, read_file};

/// `gazette verify <receipt> [--document <file>] (--policy <file> | --log-vkey <vkey> [--witness <vkey>]... [--quorum <n>])`.
#[derive(clap::Args)]
pub struct Args {
    /// The receipt (`.tlog-proof` file).
    receipt: PathBuf,
    /// The document the record should be of.
    #[arg(long)]
    document: Option<PathBuf>,
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
    /// The agency's verifier key (repeatable): its signature on the record
    /// is checked. Without it, only the log vouches for the issuer.
    #[arg(long)]
    agency: Vec<String>,
    /// Also ask the log (`--log`) whether its issuer revoked the record (a
    /// revocation logged before or after it); a revocation is proven in
    /// the log's trusted tree. Exit 14 if so.
    #[arg(long, requires = "log")]
    online: bool,
    /// The log's URL, for --online.
    #[arg(long, env = "GAZETTE_LOG_URL")]
    log: Option<String>,
    /// The trusted checkpoint kept between runs, for --online.
    #[arg(long, default_value = "gazette-trusted.checkpoint")]
    state: PathBuf,
    /// Print what was verified as JSON.
    #[arg(long)]
    json: bool,
    /// Print what was verified.
    #[arg(long, short)]
    verbose: bool,
}

/// The policy from the arguments.
fn policy(args: &Args) -> Result<Policy, Failure> {
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
    Policy::parse(&text).map_err(|e| Failure::new(Exit::Usage, format!("the policy: {e}")))
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

pub async fn run(args: &Args) -> Result<(), Failure> {
    let policy = policy(args)?;
    let agencies = args
        .agency
        .iter()
        .map(|v| {
            Verifier::parse(v)
                .map_err(|e| Failure::new(Exit::Usage, format!("--agency {v:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_file(&args.receipt, "receipt")?;
    let agency = if agencies.is_empty() {
        AgencyCheck::Skip
    } else {
        AgencyCheck::Keys(&agencies)
    };
    let failure = |e: ReceiptError| {
        let reason = match (&e, &args.document) {
            (ReceiptError::Malformed(MalformedReceipt::Proof(_)), _) => {
                format!("{}: {e}", args.receipt.display())
            }
            (ReceiptError::WrongDocument { .. }, Some(path)) => {
                format!("{}: {e}", path.display())
            }
            _ => e.to_string(),
        };
        Failure::new(exit_code(&e), reason)
    };
    let mut verified = verify_receipt(&bytes, &policy, agency, None).map_err(failure)?;
    // The document is read only for a receipt that verified: a broken
    // receipt gets its own verdict, and a large document is not hashed for
    // nothing.
    if let Some(path) = &args.document {
        verified = verified
            .check_document(&digest_file(path)?)
            .map_err(failure)?;
    }
    let (signed, record) = (&verified.record, &verified.record.record);
    let revoked_by = match (&args.online, &args.log) {
        (true, Some(url)) => {
            revocation(url, policy.clone(), args, signed, verified.index, &agencies).await?
        }
        _ => None,
    };
    let witnesses: Vec<&str> = verified.checkpoint.witness_names();
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
        "agency_signature": match verified.agency {
            AgencySignature::Verified { .. } => "verified",
            AgencySignature::NotChecked => "not checked (no --agency)",
        },
        "document": match verified.document {
            DocumentCheck::Matches => Some("matches"),
            DocumentCheck::NotChecked => None,
        },
        "revoked_by": revoked_by,
    });
    if args.json {
        println!("{report}");
    } else if args.verbose {
        println!(
            "verified: {} {} {} (issued {}), index {} of {} (size {}), cosigned by [{}]; agency signature {}",
            record.issuer,
            record.kind,
            record.id,
            record.issued,
            verified.index,
            verified.checkpoint.checkpoint.origin,
            verified.checkpoint.checkpoint.size,
            witnesses.join(", "),
            report["agency_signature"].as_str().unwrap_or_default()
        );
    }
    if let Some(index) = revoked_by {
        return Err(Failure::new(
            Exit::Revoked,
            format!(
                "{} {} {} was revoked by its issuer (revocation at index {index})",
                record.issuer, record.kind, record.id
            ),
        ));
    }
    Ok(())
}

/// Asks the log whether a revocation by its issuer names the record at
/// `index` (logged before or after it: its position is not checked, only
/// that it is in the log and revokes this record), and proves the
/// revocation in the log's trusted tree.
async fn revocation(
    url: &str,
    policy: Policy,
    args: &Args,
    signed: &SignedRecord,
    index: u64,
    agencies: &[Verifier],
) -> Result<Option<u64>, Failure> {
    use super::http::escape;
    use super::online::Session;
    let evidence = args.state.with_extension("evidence");
    let session = Session::new(url, policy, args.state.clone(), evidence)?;
    let trusted = session.trusted_checkpoint().await?;
    let r = &signed.record;
    let found = session
        .http
        .get_json(&format!(
            "/lookup?issuer={}&kind={}&id={}",
            escape(&r.issuer),
            escape(&r.kind),
            escape(&r.id)
        ))
        .await?;
    let Some(revoked_by) = found["matches"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["index"].as_u64() == Some(index))
        .and_then(|m| m["revoked_by"].as_u64())
    else {
        return Ok(None);
    };
    let (size, root) = (trusted.checkpoint.size, trusted.checkpoint.root);
    let entry = session.http.get(&format!("/entry/{revoked_by}")).await?;
    // A revocation newer than the trusted checkpoint cannot be proven in it
    // yet; the record itself is still checked below (that it names this
    // record, and with `--agency` the agency's signature: only then can the
    // log not invent one).
    if revoked_by < size {
        let path = format!("/proof/inclusion?index={revoked_by}&size={size}");
        let proof = Session::hashes(&session.http.get_json(&path).await?, &path)?;
        gazette_client::merkle::verify_inclusion(
            &gazette_client::merkle::leaf_hash(&entry),
            revoked_by,
            size,
            &proof,
            &root,
        )
        .map_err(|e| {
            Failure::new(
                Exit::NotIncluded,
                format!("the revocation at {revoked_by}: {e}"),
            )
        })?;
    }
    let revocation = if agencies.is_empty() {
        SignedRecord::parse(&entry)
    } else {
        SignedRecord::verify(&entry, agencies)
    }
    .map_err(|e| {
        Failure::new(
            Exit::BadRecordSignature,
            format!("the revocation at {revoked_by}: {e}"),
        )
    })?;
    if !r.is_revoked_by(&revocation.record) {
        return Err(Failure::new(
            Exit::Malformed,
            format!(
                "the log names entry {revoked_by} as the revocation, but it does not revoke this record"
            ),
        ));
    }
    Ok(Some(revoked_by))
}
