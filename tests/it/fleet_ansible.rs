//! Fleet capture with Ansible (issue 19): deploy/ansible/collect.yml run by `ansible-playbook`
//! against three real sshd instances on loopback addresses; the fleet manifest it writes is
//! checked with `verify --expect-digests`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common;

const SSHD: &str = "/usr/sbin/sshd";
const COLLECTED_AT: &str = "2026-11-25T10:00:00Z";
/// (inventory name, loopback address); the last one is given a missing input.
const HOSTS: [(&str, &str); 3] = [
    ("host-a", "127.0.0.2"),
    ("host-b", "127.0.0.3"),
    ("host-c", "127.0.0.4"),
];

/// An sshd in the foreground (`-D -e`), killed when dropped.
struct Sshd(Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port free on `addr` now (bound, then released for sshd).
fn free_port(addr: &str) -> u16 {
    TcpListener::bind((addr, 0))
        .expect("bind a loopback address")
        .local_addr()
        .unwrap()
        .port()
}

/// Starts sshd on `addr:port` with its own config, host key and authorized client key; returns
/// once it accepts connections.
fn start_sshd(dir: &Path, name: &str, addr: &str, port: u16, authorized: &Path) -> Sshd {
    let host_key = dir.join(format!("{name}_host_ed25519"));
    let config = dir.join(format!("{name}_sshd_config"));
    std::fs::write(
        &config,
        format!(
            "ListenAddress {addr}:{port}\n\
             HostKey {host}\n\
             AuthorizedKeysFile {auth}\n\
             PermitRootLogin prohibit-password\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             StrictModes no\n\
             PidFile none\n\
             LogLevel ERROR\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n",
            host = host_key.display(),
            auth = authorized.display(),
        ),
    )
    .unwrap();
    // sshd refuses to start without its privilege separation folder (made by the init script).
    std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Its log (-e) is noise here: the readiness probe's bare connections are logged.
        .stderr(Stdio::null())
        .spawn()
        .expect("start sshd");
    let sshd = Sshd(child);
    let sock: SocketAddr = format!("{addr}:{port}").parse().unwrap();
    let t0 = Instant::now();
    while TcpStream::connect_timeout(&sock, Duration::from_millis(200)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "sshd on {sock} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    sshd
}

fn keygen(path: &Path) {
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "fleet-test", "-f"])
            .arg(path),
    );
}

fn run_playbook(
    tmp: &Path,
    inventory: &Path,
    extra: &Value,
    limit: Option<&str>,
) -> std::process::Output {
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ansible/collect.yml");
    let mut cmd = Command::new("ansible-playbook");
    if let Some(host) = limit {
        // The manifest play runs on the controller, so it stays in the limit.
        cmd.arg("--limit").arg(format!("{host},localhost"));
    }
    cmd.arg("-i")
        .arg(inventory)
        .arg(&playbook)
        .arg("-e")
        .arg(extra.to_string())
        .env("ANSIBLE_HOME", tmp.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-local"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_PIPELINING", "1")
        // Connection reuse within a run; the master connections end soon after the test.
        .env(
            "ANSIBLE_SSH_ARGS",
            "-C -o ControlMaster=auto -o ControlPersist=10s",
        )
        .env("ANSIBLE_FORKS", "3")
        .env_remove("ANSIBLE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run ansible-playbook")
}

fn manifest(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("fleet manifest written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("every manifest line is one JSON object"))
        .collect()
}

fn by_host<'a>(lines: &'a [Value], host: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["host"] == host)
        .unwrap_or_else(|| panic!("{host} not in the manifest: {lines:?}"))
}

#[test]
fn playbook_collects_on_three_hosts_records_the_failed_one_and_is_repeatable() {
    if !common::oracle_available(SSHD, &["-V"], "apt-get install openssh-server")
        || !common::oracle_available(
            "ansible-playbook",
            &["--version"],
            "pip install ansible-core==2.18.3",
        )
    {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let client_key = tmp.join("client_ed25519");
    keygen(&client_key);
    let authorized = tmp.join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &authorized).unwrap();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();

    let python = String::from_utf8(
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3")
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();

    let mut known_hosts = String::new();
    let mut hosts = serde_json::Map::new();
    let mut servers = Vec::new();
    for (i, (name, addr)) in HOSTS.iter().enumerate() {
        keygen(&tmp.join(format!("{name}_host_ed25519")));
        let port = free_port(addr);
        servers.push(start_sshd(tmp, name, addr, port, &authorized));
        let host_pub =
            std::fs::read_to_string(tmp.join(format!("{name}_host_ed25519.pub"))).unwrap();
        let mut fields = host_pub.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        known_hosts.push_str(&format!("[{addr}]:{port} {kind} {key}\n"));

        // Each host's inputs: fixtures copied to its own folder; the last host also names a
        // file that does not exist, so its collect fails.
        let inputs = tmp.join(format!("inputs-{name}"));
        std::fs::create_dir(&inputs).unwrap();
        for f in [
            "modules/base.wasm",
            "modules/detached-a.wasm",
            "modules/detached-a.sig",
        ] {
            let src = common::fixture(&format!("wsc/{f}"));
            std::fs::copy(&src, inputs.join(src.file_name().unwrap())).unwrap();
        }
        let mut wsc_inputs = vec![inputs.display().to_string()];
        if i == HOSTS.len() - 1 {
            wsc_inputs.push(tmp.join("no-such-input.wasm").display().to_string());
        }
        hosts.insert(
            (*name).to_owned(),
            json!({
                "ansible_host": addr,
                "ansible_port": port,
                "wsc_inputs": wsc_inputs,
                // One machine plays three hosts: each gets its own working folder.
                "wsc_remote_dir": tmp.join(format!("remote-{name}")).display().to_string(),
            }),
        );
    }
    let known_hosts_path = tmp.join("known_hosts");
    std::fs::write(&known_hosts_path, known_hosts).unwrap();
    let inventory = tmp.join("inventory.json");
    let ssh_args = format!(
        "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
        known_hosts_path.display()
    );
    std::fs::write(
        &inventory,
        json!({"all": {
            "hosts": hosts,
            "vars": {
                "ansible_user": user,
                "ansible_ssh_private_key_file": client_key.display().to_string(),
                "ansible_ssh_common_args": ssh_args,
                // The hosts are this machine: the python3 that .ci/run installed ansible-core
                // with is there for certain (/usr/bin/python3 need not be).
                "ansible_python_interpreter": python,
            }
        }})
        .to_string(),
    )
    .unwrap();

    let out_dir = tmp.join("evidence");
    // The host's own build (no musl target can be installed here), without its debug info: the
    // same program, a fifth of the bytes to copy to each host.
    let binary = tmp.join("wsc-forensics");
    run_ok(
        Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&binary)
            .arg(env!("CARGO_BIN_EXE_wsc-forensics")),
    );
    let extra = json!({
        "wsc_binary": binary.display().to_string(),
        "wsc_case_prefix": "IR-2026-017",
        "wsc_collected_at": COLLECTED_AT,
        "wsc_output_dir": out_dir.display().to_string(),
    });
    let manifest_path = out_dir.join("fleet-manifest.jsonl");

    let mut digests = Vec::new();
    for run in 1..=2 {
        let t = Instant::now();
        let out = run_playbook(tmp, &inventory, &extra, None);
        eprintln!(
            "ansible-playbook run {run}: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let log = String::from_utf8_lossy(&out.stdout);
        // The failed host is rescued, so the play itself succeeds.
        assert!(
            out.status.success(),
            "ansible-playbook run {run} failed:\n{log}"
        );
        let lines = manifest(&manifest_path);
        assert_eq!(lines.len(), 3, "one line per host: {lines:?}");
        let failed = by_host(&lines, "host-c");
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["failed_step"], "Collect", "{failed}");
        assert!(
            failed["reason"]
                .as_str()
                .unwrap()
                .contains("no-such-input.wasm"),
            "{failed}"
        );
        assert!(failed["digest"].is_null() && failed["bundle"].is_null());
        let mut bundles = Vec::new();
        let mut run_digests = Vec::new();
        for host in ["host-a", "host-b"] {
            let l = by_host(&lines, host);
            assert_eq!(l["status"], "verified", "{l}");
            let bundle = PathBuf::from(l["bundle"].as_str().unwrap());
            assert_eq!(bundle, out_dir.join(format!("IR-2026-017-{host}.zip")));
            assert!(bundle.is_file(), "{} not fetched", bundle.display());
            run_digests.push(l["digest"].as_str().unwrap().to_owned());
            bundles.push(bundle);
        }
        // The manifest is consumed as is by the archive audit: both bundles match, and the
        // failed host (no bundle, no digest) expects nothing.
        common::cmd()
            .args(["verify", "--expect-digests"])
            .arg(&manifest_path)
            .args(&bundles)
            .assert()
            .success();
        digests.push(run_digests);
    }
    assert_eq!(
        digests[0], digests[1],
        "same --collected-at, same inputs: same digests"
    );

    // A bundle already on the controller is never replaced by a different one: a run (on
    // host-a only, to keep the test short) with another collection time fails host-a and leaves
    // the first bundle as it was; the hosts left out are listed as not recorded.
    let other = out_dir.join("other-manifest.jsonl");
    let mut extra3 = extra.clone();
    extra3["wsc_collected_at"] = json!("2026-11-26T10:00:00Z");
    extra3["wsc_manifest"] = json!(other.display().to_string());
    let out = run_playbook(tmp, &inventory, &extra3, Some("host-a"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines = manifest(&other);
    let a = by_host(&lines, "host-a");
    assert_eq!(a["status"], "failed", "{a}");
    assert_eq!(
        a["failed_step"],
        "Refuse to replace a different bundle on the controller"
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    let b = by_host(&lines, "host-b");
    assert_eq!(b["status"], "failed", "{b}");
    assert!(b["reason"].as_str().unwrap().starts_with("not recorded"));
    common::cmd()
        .args(["verify", "--expect-digest", &digests[0][0]])
        .arg(out_dir.join("IR-2026-017-host-a.zip"))
        .assert()
        .success();

    drop(servers);
    eprintln!(
        "fleet_ansible: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// The manifest lines a fleet run writes, read by `verify --expect-digests` without Ansible: a
/// failed host with no digest expects nothing; a failed line with a digest is still enforced;
/// any other line without a digest is unusable (exit 2).
#[test]
fn expect_digests_skips_only_failed_manifest_lines_without_a_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let bundle = tmp.join("IR-1-host-a.zip");
    let out = common::cmd()
        .args(["-q", "collect", "--json", "--case-id", "IR-1-host-a"])
        .args(["--collected-at", COLLECTED_AT, "-o"])
        .arg(&bundle)
        .arg(common::fixture("wsc/modules/base.wasm"))
        .output()
        .unwrap();
    assert!(out.status.code().unwrap_or(2) <= 1);
    let digest = serde_json::from_slice::<Value>(&out.stdout).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = json!({"host": "host-a", "bundle": bundle.display().to_string(),
                          "digest": digest, "status": "verified"});
    let audit = |lines: &[Value]| {
        let path = tmp.join("manifest.jsonl");
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        common::cmd()
            .args(["verify", "--expect-digests"])
            .arg(&path)
            .arg(&bundle)
            .output()
            .unwrap()
            .status
            .code()
    };

    let failed = json!({"host": "host-b", "bundle": null, "digest": null, "status": "failed",
                        "reason": "no such file"});
    assert_eq!(audit(&[verified.clone(), failed]), Some(0));
    let failed_without_fields = json!({"host": "host-b", "status": "failed"});
    assert_eq!(audit(&[verified.clone(), failed_without_fields]), Some(0));

    // A failed line that names a bundle and digest is expected: that bundle is missing here.
    let failed_with_digest = json!({"host": "host-b", "bundle": tmp.join("b.zip").display().to_string(),
                                    "digest": digest, "status": "failed"});
    assert_eq!(audit(&[verified.clone(), failed_with_digest]), Some(1));

    // Only a failed host may lack a digest.
    let verified_without_digest = json!({"host": "host-b", "bundle": "b.zip", "digest": null,
                                         "status": "verified"});
    assert_eq!(audit(&[verified, verified_without_digest]), Some(2));
}
