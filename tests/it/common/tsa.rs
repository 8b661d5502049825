//! A local RFC 3161 timestamp authority for the tests, made with `openssl`: a CA, TSA
//! certificates (with the critical timeStamping extended key usage, without it, or expired),
//! `openssl ts -reply` to answer requests offline, and a tiny HTTP responder on 127.0.0.1 that
//! runs `openssl ts -reply` per request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `openssl` is there (fails in CI when not: .ci/run installs it).
pub fn openssl_available() -> bool {
    super::oracle_available("openssl", &["version"], "apt-get install openssl")
}

/// Runs openssl in `dir`; panics with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const EXTENSIONS: &str = "\
[tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=critical,timeStamping
[noeku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
";

/// What the TSA certificate is like.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TsaCert {
    /// Valid now, with critical extendedKeyUsage timeStamping.
    Good,
    /// Valid in 2020 only (genTime, now, is outside it).
    Expired,
    /// As `Good`, with an RSA 2048 key (what most public TSAs use).
    Rsa,
}

/// One CA and one TSA under it, in its own folder.
pub struct LocalTsa {
    pub dir: PathBuf,
    /// The CA certificate (PEM): what `--tsa-cert` is given.
    pub ca: PathBuf,
    /// The TSA certificate (PEM).
    pub tsa_cert: PathBuf,
    config: PathBuf,
}

impl LocalTsa {
    /// A CA `"<name> CA"` and a TSA `"<name>"` in `dir/<name>`.
    pub fn new(dir: &Path, name: &str, kind: TsaCert) -> LocalTsa {
        let dir = dir.join(name);
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        std::fs::write(dir.join("ext.cnf"), EXTENSIONS).unwrap();
        let ca_subject = format!("/CN={name} CA");
        let tsa_subject = format!("/CN={name}");
        openssl(
            &dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "ca.key",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                &ca_subject,
                "-days",
                "3650",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            &dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "tsa.key",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-new",
                "-key",
                "tsa.key",
                "-subj",
                &tsa_subject,
                "-out",
                "tsa.csr",
            ],
        );
        match kind {
            TsaCert::Good | TsaCert::Rsa => sign_csr(&dir, "tsa.csr", "tsa", "4096", "tsa.pem"),
            TsaCert::Expired => {
                // `openssl ca` is the one that sets past dates.
                std::fs::write(dir.join("index.txt"), "").unwrap();
                std::fs::write(dir.join("caserial"), "1000\n").unwrap();
                let ca_cnf = format!(
                    "[ca]\ndefault_ca=d\n[d]\ndir={}\ndatabase=$dir/index.txt\n\
                     new_certs_dir=$dir/newcerts\nserial=$dir/caserial\ndefault_md=sha256\n\
                     policy=p\nemail_in_dn=no\nunique_subject=no\n[p]\ncommonName=supplied\n",
                    dir.display()
                );
                std::fs::write(dir.join("ca.cnf"), ca_cnf).unwrap();
                openssl(
                    &dir,
                    &[
                        "ca",
                        "-batch",
                        "-config",
                        "ca.cnf",
                        "-cert",
                        "ca.pem",
                        "-keyfile",
                        "ca.key",
                        "-in",
                        "tsa.csr",
                        "-out",
                        "tsa.pem",
                        "-startdate",
                        "20200101000000Z",
                        "-enddate",
                        "20201231000000Z",
                        "-extfile",
                        "ext.cnf",
                        "-extensions",
                        "tsa",
                        "-notext",
                    ],
                );
            }
        }
        std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
        let config = dir.join("ts.cnf");
        std::fs::write(
            &config,
            format!(
                "[tsa]\ndefault_tsa=t\n[t]\ndir={}\nserial=$dir/tsaserial\ncrypto_device=builtin\n\
                 signer_cert=$dir/tsa.pem\ncerts=$dir/ca.pem\nsigner_key=$dir/tsa.key\n\
                 signer_digest=sha256\ndefault_policy=1.2.3.4.1\nother_policies=1.2.3.4.2\n\
                 digests=sha256\naccuracy=secs:1\nordering=no\ntsa_name=no\n\
                 ess_cert_id_chain=no\ness_cert_id_alg=sha256\n",
                dir.display()
            ),
        )
        .unwrap();
        LocalTsa {
            ca: dir.join("ca.pem"),
            tsa_cert: dir.join("tsa.pem"),
            dir,
            config,
        }
    }

    /// A certificate for the TSA's own key without the timeStamping extended key usage, with
    /// the serial and issuer of the TSA certificate (so a token that carries no certificate
    /// names it as its signer too); written to `noeku.pem`.
    pub fn no_eku_twin(&self) -> PathBuf {
        sign_csr(&self.dir, "tsa.csr", "noeku", "4096", "noeku.pem");
        self.dir.join("noeku.pem")
    }

    /// `openssl ts -reply` to the DER request `query`.
    pub fn reply(&self, query: &[u8]) -> Vec<u8> {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (q, r) = (
            self.dir.join(format!("q{n}.tsq")),
            self.dir.join(format!("r{n}.tsr")),
        );
        std::fs::write(&q, query).unwrap();
        let o = Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(&self.config)
            .arg("-queryfile")
            .arg(&q)
            .arg("-out")
            .arg(&r)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(&r).unwrap()
    }

    /// A token for the SHA-256 `digest_hex`, made entirely by openssl (`cert`: certReq).
    pub fn token_for(&self, digest_hex: &str, cert: bool) -> Vec<u8> {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let q = format!("own{n}.tsq");
        let mut args = vec!["ts", "-query", "-sha256", "-digest", digest_hex, "-out", &q];
        if cert {
            args.push("-cert");
        }
        openssl(&self.dir, &args);
        self.reply(&std::fs::read(self.dir.join(&q)).unwrap())
    }

    /// Serves `openssl ts -reply` over HTTP on 127.0.0.1 (a thread, one connection at a time,
    /// for the rest of the test process); returns the URL.
    pub fn serve(&self) -> String {
        self.serve_with(None)
    }

    /// As [`LocalTsa::serve`], but every answer is `fixed` (a replayed response).
    pub fn serve_fixed(&self, fixed: Vec<u8>) -> String {
        self.serve_with(Some(fixed))
    }

    fn serve_with(&self, fixed: Option<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsr", listener.local_addr().unwrap());
        let tsa = LocalTsa {
            dir: self.dir.clone(),
            ca: self.ca.clone(),
            tsa_cert: self.tsa_cert.clone(),
            config: self.config.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                let mut content_type = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("content-type:") {
                        content_type = v.trim().to_owned();
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let response = if content_type == "application/timestamp-query" {
                    let reply = fixed.clone().unwrap_or_else(|| tsa.reply(&body));
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(&reply);
                    r
                } else {
                    b"HTTP/1.1 415 Unsupported Media Type\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
                };
                let _ = stream.write_all(&response);
            }
        });
        url
    }
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Signs `csr` with the folder's CA for a year (`openssl x509 -req`), fixed serial.
fn sign_csr(dir: &Path, csr: &str, extensions: &str, serial: &str, out: &str) {
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "365",
            "-extfile",
            "ext.cnf",
            "-extensions",
            extensions,
            "-out",
            out,
        ],
    );
}
