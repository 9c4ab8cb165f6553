//! The `gazette` command line against a real log with real witnesses:
//! `keygen`, `record` and the offline `verify`, with every failure exit
//! (tampered receipt, wrong document, wrong agency key, untrusted policy),
//! and `verify` still working once the log and witnesses are gone.

use std::path::Path;

use gazette_tests::{WitnessedLog, add_with_receipt_at, get_json, run, run_status};

const ORIGIN: &str = "cli.example/log";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_record_and_offline_verify_with_every_failure_exit() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // An agency key pair; the summary names both files and the verifier key.
    let said = run(
        "gazette",
        &[
            "keygen",
            "--name",
            "registry.example.gov",
            "--out",
            p(&w.join("agency")),
        ],
    );
    let vkey = std::fs::read_to_string(w.join("agency.pub"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(vkey.starts_with("registry.example.gov+"));
    assert_eq!(
        said,
        format!(
            "wrote {} (private, mode 0600) and {}; the verifier key: {vkey}\n",
            w.join("agency.key").display(),
            w.join("agency.pub").display()
        )
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(w.join("agency.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let (code, _, err) = run_status(
        "gazette",
        &[
            "keygen",
            "--name",
            "registry.example.gov",
            "--out",
            p(&w.join("agency")),
        ],
    );
    assert_eq!(code, 2, "no overwriting a key: {err}");

    // A document and its signed record (the document stays here).
    std::fs::write(w.join("deed.pdf"), b"%PDF property deed no. 42").unwrap();
    std::fs::write(w.join("forged.pdf"), b"%PDF property deed no. 43").unwrap();
    run(
        "gazette",
        &[
            "record",
            "--key",
            p(&w.join("agency.key")),
            "--kind",
            "property-registration",
            "--id",
            "PR-42",
            "--field",
            "parcel",
            "7-12",
            "--out",
            p(&w.join("deed.record")),
            p(&w.join("deed.pdf")),
        ],
    );
    let record = std::fs::read(w.join("deed.record")).unwrap();
    assert!(String::from_utf8_lossy(&record).contains("\nparcel 7-12\n"));

    // The log (two witnesses, both required) takes it and gives a receipt.
    let agency = gazette_client::note::Verifier::parse(&vkey).unwrap();
    let setup = WitnessedLog::start(ORIGIN, &agency, 2, 2);
    let (index, receipt) = add_with_receipt_at(&setup.log.url, record).await;
    std::fs::write(w.join("deed.tlog-proof"), &receipt).unwrap();
    let info = get_json(&format!("{}/info", setup.log.url)).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    let log_vkey = info["vkey"].as_str().unwrap().to_owned();
    // The network goes away: verify is offline.
    drop(setup);

    let receipt_path = w.join("deed.tlog-proof");
    let policy_path = w.join("policy.txt");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", p(&receipt_path), "--policy", p(&policy_path)];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };
    // Silent with -q.
    let (code, out, err) = verify(&[
        "-q",
        "--document",
        p(&w.join("deed.pdf")),
        "--agency",
        &vkey,
    ]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    // --json: machine values only.
    let (code, out, _) = verify(&["--json", "--agency", &vkey]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["issuer"], "registry.example.gov");
    assert_eq!(report["id"], "PR-42");
    assert_eq!(report["index"], index);
    assert_eq!(report["witnesses"].as_array().unwrap().len(), 2);
    assert_eq!(report["agency_signature"], "verified");
    assert_eq!(report["document"], "not_checked");
    let size = report["size"].as_u64().unwrap();
    assert!(size > index, "{report}");
    let (code, out, _) = verify(&["--json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["agency_signature"], "not_checked");
    let cosigned = report["cosigned"].as_array().unwrap();
    assert_eq!(cosigned.len(), 2, "{report}");
    for c in cosigned {
        assert!(
            gazette_client::record::is_rfc3339_utc(c["time"].as_str().unwrap()),
            "{report}"
        );
    }
    // Otherwise one line says what was verified.
    let (code, out, err) = verify(&["--document", p(&w.join("deed.pdf")), "--agency", &vkey]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        format!(
            "verified: registry.example.gov property-registration PR-42, entry {index} of {ORIGIN} \
             (size {size}), cosigned by w1, w2; agency signature verified; \
             the document matches\n"
        )
    );

    // The wrong document: 6.
    let (code, _, err) = verify(&["--document", p(&w.join("forged.pdf"))]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("digest"), "{err}");
    // Another agency key: 7, naming the key that signed and the one given.
    run(
        "gazette",
        &[
            "keygen",
            "--name",
            "registry.example.gov",
            "--out",
            p(&w.join("other")),
        ],
    );
    let other = std::fs::read_to_string(w.join("other.pub")).unwrap();
    let other = gazette_client::note::Verifier::parse(other.trim()).unwrap();
    let (code, _, err) = verify(&["--agency", &other.to_string()]);
    assert_eq!(code, 7, "{err}");
    assert!(
        err.contains(&format!(
            "signed by registry.example.gov+{:08x}, not by the given --agency key registry.example.gov+{:08x}",
            agency.key_id(),
            other.key_id()
        )),
        "{err}"
    );
    // A policy that wants a witness that did not cosign: 4.
    run(
        "gazette",
        &[
            "keygen",
            "--name",
            "stranger.example.org",
            "--cosigner",
            "--out",
            p(&w.join("stranger")),
        ],
    );
    let stranger = std::fs::read_to_string(w.join("stranger.pub")).unwrap();
    let (code, _, err) = run_status(
        "gazette",
        &[
            "verify",
            p(&receipt_path),
            "--log-vkey",
            &log_vkey,
            "--witness",
            stranger.trim(),
        ],
    );
    assert_eq!(code, 4, "{err}");
    // The log alone is never enough by default: no witness named is a
    // usage error...
    let (code, _, err) = run_status(
        "gazette",
        &["verify", p(&receipt_path), "--log-vkey", &log_vkey],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--no-witnesses"), "{err}");
    // ...but it is when the verifier says so, with a warning.
    let (code, _, err) = run_status(
        "gazette",
        &[
            "verify",
            p(&receipt_path),
            "--log-vkey",
            &log_vkey,
            "--no-witnesses",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: --no-witnesses"), "{err}");
    // A receipt without its record (no extra line): the entry is given
    // apart with --entry; without it, 3 saying so; another record is not
    // the one proven (5); a receipt with its own record and another
    // --entry is refused (3).
    let full = gazette_client::tlog_proof::TlogProof::parse(receipt.as_bytes()).unwrap();
    let entry = w.join("entry.record");
    std::fs::write(&entry, full.extra.clone().unwrap()).unwrap();
    let mut bare = full.clone();
    bare.extra = None;
    let bare_path = w.join("bare.tlog-proof");
    std::fs::write(&bare_path, bare.to_text()).unwrap();
    let with_policy = |receipt: &Path, extra: &[&str]| {
        let mut args = vec!["verify", p(receipt), "--policy", p(&policy_path)];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };
    let (code, _, err) = with_policy(&bare_path, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("--entry"), "{err}");
    let (code, _, err) = with_policy(&bare_path, &["--entry", p(&entry)]);
    assert_eq!(code, 0, "{err}");
    let other_entry = w.join("other.record");
    let other = String::from_utf8(full.extra.clone().unwrap())
        .unwrap()
        .replace("PR-42", "PR-43");
    std::fs::write(&other_entry, other).unwrap();
    let (code, _, err) = with_policy(&bare_path, &["--entry", p(&other_entry)]);
    assert_eq!(code, 5, "{err}");
    let (code, _, err) = with_policy(&receipt_path, &["--entry", p(&other_entry)]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = with_policy(&receipt_path, &["--entry", p(&entry)]);
    assert_eq!(code, 0, "{err}");
    // A tampered record (another digest in the receipt's extra): the proof fails, 5.
    let mut tampered = gazette_client::tlog_proof::TlogProof::parse(receipt.as_bytes()).unwrap();
    let other_record = String::from_utf8(tampered.extra.clone().unwrap())
        .unwrap()
        .replace("PR-42", "PR-43");
    tampered.extra = Some(other_record.into_bytes());
    std::fs::write(w.join("tampered.tlog-proof"), tampered.to_text()).unwrap();
    let (code, _, err) = run_status(
        "gazette",
        &[
            "verify",
            p(&w.join("tampered.tlog-proof")),
            "--policy",
            p(&w.join("policy.txt")),
        ],
    );
    assert_eq!(code, 5, "{err}");
    // The same receipt with the agency's key: the signature is checked
    // first, as the page does, so 7.
    let tampered_with = |extra: &[&str]| {
        let tampered = w.join("tampered.tlog-proof");
        let mut args = vec!["verify", p(&tampered), "--policy", p(&policy_path)];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };
    let (code, _, err) = tampered_with(&["--agency", &vkey]);
    assert_eq!(code, 7, "{err}");
    // A broken receipt gets its own verdict before the document is read:
    // a missing document is not even opened.
    let (code, _, err) = tampered_with(&["--document", p(&w.join("missing.pdf"))]);
    assert_eq!(code, 5, "{err}");
    // A damaged file: 3. No trust given: 2.
    std::fs::write(
        w.join("broken.tlog-proof"),
        "c2sp.org/tlog-proof@v1\nindex x\n",
    )
    .unwrap();
    let (code, _, _) = run_status(
        "gazette",
        &[
            "verify",
            p(&w.join("broken.tlog-proof")),
            "--policy",
            p(&w.join("policy.txt")),
        ],
    );
    assert_eq!(code, 3);
    let (code, _, err) = run_status("gazette", &["verify", p(&receipt_path)]);
    assert_eq!(code, 2, "{err}");
}
