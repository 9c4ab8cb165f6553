//! `gazette record`: hash a document locally (streaming, any size) and
//! write a record of it signed with the agency's key. Only the digest
//! leaves the machine, and only when the record is submitted.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use gazette_client::note::Signer;
use gazette_client::record::{REVOCATION, Record};

use gazette_client::encoding::hex_encode;

use super::{Exit, Failure, Output, read_file, write_output};

/// `gazette record --key <file> --kind <k> --id <id> <document>`.
#[derive(clap::Args)]
pub struct Args {
    /// The agency's private key file (`gazette keygen`).
    #[arg(long, env = "GAZETTE_AGENCY_KEY")]
    key: PathBuf,
    /// The record's kind, e.g. `e-certificate` (`revocation` with `--revokes`).
    #[arg(long)]
    kind: Option<String>,
    /// The agency's identifier of the record, unique per kind.
    #[arg(long)]
    id: String,
    /// Time of issue, RFC 3339 UTC (default: now).
    #[arg(long)]
    issued: Option<String>,
    /// Make a revocation of the record `<kind> <id>` of this agency.
    #[arg(long, num_args = 2, value_names = ["KIND", "ID"])]
    revokes: Option<Vec<String>>,
    /// An extra `key value` line (repeatable).
    #[arg(long = "field", num_args = 2, value_names = ["KEY", "VALUE"])]
    fields: Vec<String>,
    /// Where to write the signed record (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The document (streamed, any size; for a revocation, the document revoked).
    document: PathBuf,
}

/// SHA-256 of a file, read in blocks.
pub fn digest_file(path: &std::path::Path) -> Result<[u8; 32], Failure> {
    let mut file = std::fs::File::open(path).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("opening the document {}: {e}", path.display()),
        )
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| {
            Failure::new(
                Exit::Usage,
                format!("reading the document {}: {e}", path.display()),
            )
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().into())
}

/// An agency's private key, from its key file.
pub(crate) fn read_signer(path: &Path) -> Result<Signer, Failure> {
    let text = String::from_utf8(read_file(path, "agency key")?)
        .map_err(|_| Failure::new(Exit::Usage, format!("{} is not a key file", path.display())))?;
    Signer::parse(text.trim()).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("{}: not a private key: {e}", path.display()),
        )
    })
}

pub fn run(args: &Args, out: Output) -> Result<(), Failure> {
    if out.json && args.out.is_none() {
        return Err(Failure::new(
            Exit::Usage,
            "--json needs --out <file>: without it the record itself goes to standard output",
        ));
    }
    let key = read_signer(&args.key)?;
    let digest = digest_file(&args.document)?;
    let issued = args.issued.clone().unwrap_or_else(gazette_kit::now_rfc3339);
    let mut record = match &args.revokes {
        Some(target) => Record::revocation(
            key.name(),
            &args.id,
            digest,
            &issued,
            &target[0],
            &target[1],
        ),
        None => {
            let kind = args.kind.as_deref().ok_or_else(|| {
                Failure::new(
                    Exit::Usage,
                    "--kind is required (or --revokes for a revocation)",
                )
            })?;
            if kind == REVOCATION {
                return Err(Failure::new(
                    Exit::Usage,
                    "a revocation needs --revokes <kind> <id>",
                ));
            }
            Record::new(key.name(), kind, &args.id, digest, &issued)
        }
    };
    record.fields = args
        .fields
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv[1].clone()))
        .collect();
    let signed = record
        .sign(&key)
        .map_err(|e| Failure::new(Exit::Usage, format!("the record is not valid: {e}")))?;
    write_output(args.out.as_ref(), &signed.bytes)?;
    let r = &signed.record;
    let Some(path) = &args.out else {
        // The record went to standard output: nothing else may go there.
        return Ok(());
    };
    out.json(&serde_json::json!({
        "out": path,
        "issuer": r.issuer,
        "kind": r.kind,
        "id": r.id,
        "digest": format!("sha256:{}", hex_encode(&r.digest)),
        "issued": r.issued,
        "revokes": r.revokes.as_ref().map(|(k, i)| serde_json::json!({"kind": k, "id": i})),
        "leaf_hash": signed.leaf_hash().to_base64(),
        "bytes": signed.bytes.len(),
    }));
    let what = match &r.revokes {
        Some((kind, id)) => format!("a revocation of {} {kind} {id}", r.issuer),
        None => format!("{} {} {}", r.issuer, r.kind, r.id),
    };
    out.line(format!(
        "wrote {}: {what}, signed, of the document sha256:{} ({})",
        path.display(),
        hex_encode(&r.digest),
        args.document.display()
    ));
    out.detail(format!("issued {}, id {}", r.issued, r.id));
    out.detail(format!("leaf hash {}", signed.leaf_hash().to_base64()));
    Ok(())
}
