"""synth share deployment on real processes: a SuperLink and SuperNodes on loopback, with TLS and
node authentication, started by the ``synth share`` commands exactly as the Raspberry Pi guide
starts them (keys, link, register, node, run).

One SuperLink and two registered SuperNodes (pi-01, pi-02) serve the whole module; pi-03 has a
key the SuperLink never registered. Every process the module starts carries a token in its
environment, which Flower passes on to the processes it starts (flower-superexec, ServerApp and
ClientApp processes, some of them detached), so teardown finds and kills exactly those. This
process is their child subreaper meanwhile, so that it can reap the ones Flower orphaned.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509

from share_support import tiny_share_config
from test_cli import assert_one_line_error
from synth.core.errors import SynthError
from synth.federated import deploy, keys
from synth.share.commands import FLOWER_APP
from synth.share.node_state import STATE_FILE

TOKEN = ("SYNTH_DEPLOY_TEST", uuid.uuid4().hex)  # environment variable that marks every process this module starts
ENV = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
       TOKEN[0]: TOKEN[1]}
# A round ends as soon as every node answered or was reported unavailable (two missed 30 s
# heartbeats), so this only bounds a round on slow, busy cores; it also bounds the wait for
# min_nodes, i.e. for a killed node to rejoin, seconds.
ROUND_TIMEOUT_S = 150.0
RUN_TIMEOUT_S = 400.0  # a whole `synth share run`, seconds
PR_SET_CHILD_SUBREAPER = 36  # prctl option (linux/prctl.h)
TINY_ANOMALY = {"source": "windows", "faults": ["stuck", "saturation"], "filters": 4, "latent": 8, "rounds": 1,
                "local_epochs": 1, "min_nodes": 2, "round_timeout_s": ROUND_TIMEOUT_S}


def synth(*args: str, timeout: float = 60.0, group: str = "share") -> subprocess.CompletedProcess:
    """Run ``synth share ARGS`` (or another command group's) in a fresh interpreter, as a user would."""
    command = [sys.executable, "-m", "synth.cli", group, *args]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """``pid``'s child processes, their children and so on (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found += children.get(todo[0], [])
        todo = todo[1:] + children.get(todo[0], [])
    return found


def marked_processes() -> list[int]:
    """The live processes that carry this module's token (started by it, or by Flower for it)."""
    marker, pids = "=".join(TOKEN).encode(), []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue  # ended while we looked, or not ours to read
    return pids


def kill(pids: list[int]) -> None:
    """SIGKILL every process in ``pids`` (a Raspberry Pi losing power)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL a running ``process`` and every process below it, then reap it."""
    if process.poll() is None:
        kill([process.pid, *descendants(process.pid)])
    process.wait(timeout=30)


def wait_for(condition, timeout: float, what: str, interval: float = 0.5):
    """Poll ``condition()`` until it is truthy; fail the test naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


class Cluster:
    """Key folder, SuperLink and SuperNodes of the module, with their logs in ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.keys = root / "keys"
        self.ca = self.keys / "ca.crt"
        self.link = f"127.0.0.1:{free_port()}"
        self.processes: list[subprocess.Popen] = []
        self.nodes: dict[str, subprocess.Popen] = {}
        data = tiny_share_config(root / "unused")
        self.data_config = root / "data.json"  # a node's own data: windows for GAN-sharing and anomaly detection
        self.data_config.write_text(json.dumps({"profile": data["profile"], "data": data["data"], "anomaly": TINY_ANOMALY}))

    def start(self, log_name: str, *args: str) -> subprocess.Popen:
        """Start ``synth share ARGS`` in its own session, output to ``root/LOG_NAME.log``."""
        with open(self.root / f"{log_name}.log", "ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "synth.cli", "share", *args], env=ENV, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def log(self, log_name: str) -> str:
        path = self.root / f"{log_name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_link(self) -> None:
        self.start("link", "link", "--certs", str(self.keys), "--state-dir", str(self.root / "link"),
                   "--port", self.link.rsplit(":", 1)[1])
        wait_for(self._link_answers, 60, "the SuperLink to accept TLS connections")

    def start_node(self, name: str) -> subprocess.Popen:
        """Start SuperNode ``name`` with its key, its data config and its state folder."""
        process = self.start(name, "node", "--link", self.link, "--ca", str(self.ca),
                             "--key", str(self.keys / "nodes" / f"{name}.key"), "--data-config", str(self.data_config),
                             "--state-dir", str(self.root / name), "--name", name, "--runtime-port", str(free_port()))
        self.nodes[name] = process
        return process

    def restart_until_joined(self, name: str, pause_s: float = 5.0, timeout: float = 120.0) -> None:
        """Start node ``name`` again and again, as systemd's Restart=always would, until it joins.

        The SuperLink keeps a node that vanished without saying goodbye online until two 30 s
        heartbeats are missed; a SuperNode that activates before that is refused and exits.
        """
        def joined() -> bool:
            start = len(self.log(name))
            process = self.start_node(name)
            wait_for(lambda: process.poll() is not None or "SuperNode ID:" in self.log(name)[start:], 60, f"{name} to start")
            if process.poll() is None:
                return True
            time.sleep(pause_s)
            return False

        wait_for(joined, timeout, f"{name} to rejoin the SuperLink", interval=0)

    def share_config(self, name: str, **share) -> Path:
        path = self.root / f"{name}.json"
        path.write_text(json.dumps(tiny_share_config(self.root / name, nodes=2, round_timeout_s=ROUND_TIMEOUT_S, **share)))
        return path

    def close(self) -> None:
        """Kill every process of the module, whoever its parent is now, and reap them."""
        orphans = marked_processes()
        kill(orphans)
        for process in self.processes:
            process.wait(timeout=30)
        for pid in orphans:
            try:
                os.waitpid(pid, 0)  # re-parented to this subreaper
            except ChildProcessError:
                pass  # a child of a Popen above (already reaped) or of another process

    def _link_answers(self) -> bool:
        try:
            deploy.check_link(self.link, self.ca, timeout=1.0)
        except SynthError:
            return False
        return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A SuperLink with TLS and node authentication, pi-01 and pi-02 registered and connected."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        done = synth("keys", "--out", str(cluster.keys), "--nodes", "3", "--host", "link.example")
        assert done.returncode == 0, done.stderr
        cluster.start_link()
        done = synth("register", str(cluster.keys / "nodes/pi-01.pub"), str(cluster.keys / "nodes/pi-02.pub"),
                     "--link", cluster.link, "--ca", str(cluster.ca))
        assert done.returncode == 0, done.stderr + done.stdout
        for name in ("pi-01", "pi-02"):
            cluster.start_node(name)
        for name in ("pi-01", "pi-02"):
            wait_for(lambda: "SuperNode ID:" in cluster.log(name), 60, f"{name} to join the SuperLink")
        yield cluster
    finally:
        cluster.close()
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


# ---- the Flower App and the key folder ---------------------------------------------------------


def test_flower_app_bundles_only_its_pyproject_and_names_the_synth_apps():
    from flwr.cli.build import build_fab_from_disk
    from flwr.cli.config_utils import load_and_validate

    config, _ = load_and_validate(FLOWER_APP / "pyproject.toml")  # what `flwr run` checks, modules too
    assert config["tool"]["flwr"]["app"]["components"] == {
        "serverapp": "synth.share.apps:server_app", "clientapp": "synth.share.apps:client_app"}
    assert set(config["tool"]["flwr"]["app"]["config"]) == {"share-config", "out-dir"}
    fab = zipfile.ZipFile(BytesIO(build_fab_from_disk(FLOWER_APP)))
    assert sorted(fab.namelist()) == [".info/CONTENT", "pyproject.toml"]


def test_keys_are_private_signed_for_the_hosts_and_kept_when_run_again(tmp_path):
    out = tmp_path / "keys"
    assert synth("keys", "--out", str(out), "--nodes", "2", "--host", "10.1.2.3").returncode == 0
    files = keys.ClusterFiles(out)
    for private in (files.ca_key, files.server_key, files.node_key("pi-01"), files.node_key("pi-02")):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    keys.check_server_pair(files.server_cert, files.server_key, files.ca_cert)
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    assert keys.certificate_hosts(server) == {"localhost", "127.0.0.1", "10.1.2.3"}
    assert files.node_public("pi-01").read_text().startswith("ecdsa-sha2-nistp384 ")
    assert "OPENSSH PRIVATE KEY" in files.node_key("pi-01").read_text()
    ca_before = files.ca_cert.read_bytes()
    done = synth("keys", "--out", str(out), "--node", "pi-03")
    assert done.returncode == 0 and "pi-03.key" in done.stdout and "ca.crt" not in done.stdout
    assert files.ca_cert.read_bytes() == ca_before
    done = synth("keys", "--out", str(out), "--host", "10.9.9.9")
    assert done.returncode == 2 and "not valid for 10.9.9.9" in done.stderr


@pytest.mark.parametrize("values", [
    {"data-config": "/home/pi/my data/node.json", "state-dir": "C:\\state", "node-name": "pi-01"},
    {"data-config": '/data/"quoted".json', "node-name": "zürich-é"},
    {"out-dir": "/runs/it's"},
])
def test_node_config_values_reach_flower_unchanged(values):
    from flwr.common.config import parse_config_args

    assert parse_config_args([deploy.node_config_arg(values)]) == values


@pytest.mark.parametrize("address, expected", [
    ("192.168.1.10:8000", ("192.168.1.10", 8000)), ("[::1]:9093", ("::1", 9093)), ("link.local:1", ("link.local", 1)),
])
def test_link_addresses_are_host_and_port(address, expected):
    assert deploy.parse_link(address) == expected


@pytest.mark.parametrize("address", ["192.168.1.10", "https://link:8000", "link:0", "link:http", ":8000"])
def test_malformed_link_addresses_are_refused(address):
    with pytest.raises(SynthError, match="is not HOST:PORT"):
        deploy.parse_link(address)


# ---- bad input: one line, exit code 2 ----------------------------------------------------------


def _node_args(cluster: Cluster, **changes: str) -> list[str]:
    options = {"--link": cluster.link, "--ca": str(cluster.ca), "--key": str(cluster.keys / "nodes/pi-03.key"),
               "--data-config": str(cluster.data_config), "--state-dir": str(cluster.root / "bad-node"),
               "--name": "bad", **changes}
    return ["node", *[part for pair in options.items() for part in pair]]


def test_missing_wrong_or_untrusted_certificates_and_unreachable_links_are_one_line(cluster, tmp_path):
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    assert_one_line_error(synth(*_node_args(cluster, **{"--ca": str(tmp_path / "missing.crt")})), "missing.crt does not exist")
    assert_one_line_error(synth(*_node_args(cluster, **{"--ca": str(garbage)})), "garbage.crt is not a PEM certificate")
    assert_one_line_error(synth(*_node_args(cluster, **{"--key": str(garbage)})), "garbage.crt is not an unencrypted PEM or OpenSSH private key")
    closed = f"127.0.0.1:{free_port()}"
    assert_one_line_error(synth(*_node_args(cluster, **{"--link": closed})), f"cannot reach the SuperLink at {closed}: connection refused")
    assert_one_line_error(synth("run", "--link", closed, "--ca", str(cluster.ca), "--config", str(cluster.share_config("bad")),
                                "--out", str(tmp_path / "out")), f"cannot reach the SuperLink at {closed}")
    other = tmp_path / "other-keys"
    assert synth("keys", "--out", str(other)).returncode == 0
    untrusted = f"the SuperLink at {cluster.link} is not trusted with {other / 'ca.crt'}: unable to get local issuer certificate"
    assert_one_line_error(synth(*_node_args(cluster, **{"--ca": str(other / "ca.crt")})), untrusted)
    assert_one_line_error(synth("register", str(cluster.keys / "nodes/pi-03.pub"), "--link", cluster.link, "--ca", str(other / "ca.crt")),
                          untrusted)
    link_args = ["link", "--certs", str(other), "--state-dir", str(tmp_path / "link")]
    (other / "server.pem").write_text(garbage.read_text())
    assert_one_line_error(synth(*link_args), "server.pem is not a PEM certificate")
    (other / "server.pem").unlink()
    assert_one_line_error(synth(*link_args), "server.pem does not exist")
    port = cluster.link.rsplit(":", 1)[1]
    assert_one_line_error(synth("link", "--certs", str(cluster.keys), "--state-dir", str(tmp_path / "link"), "--port", port),
                          f"cannot listen on 127.0.0.1:{port}: address already in use")


# ---- node authentication -----------------------------------------------------------------------


def test_a_node_whose_key_is_not_registered_is_refused(cluster):
    node = cluster.start_node("pi-03")
    wait_for(lambda: node.poll() is not None, 60, "the SuperLink to refuse pi-03")
    assert node.returncode == 1, node.returncode  # what the README says the shell sees
    assert "Failed to activate SuperNode" in cluster.log("pi-03")
    assert "SuperNode ID:" not in cluster.log("pi-03")


def test_registering_a_key_twice_is_harmless(cluster):
    done = synth("register", str(cluster.keys / "nodes/pi-01.pub"), "--link", cluster.link, "--ca", str(cluster.ca))
    assert done.returncode == 0 and "pi-01: already registered" in done.stdout


# ---- runs --------------------------------------------------------------------------------------


def test_two_registered_nodes_complete_a_run_over_tls(cluster):
    config = cluster.share_config("run-a", rounds=1, mode="classifier_fedavg")
    out = cluster.root / "out-a"
    done = synth("run", "--link", cluster.link, "--ca", str(cluster.ca), "--config", str(config), "--out", str(out),
                 timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    (only_round,) = json.loads((out / "share.json").read_text())["rounds"]
    assert only_round["answered"] == 2 and sorted(only_round["nodes"]) == ["pi-01", "pi-02"]
    for name in ("pi-01", "pi-02"):
        assert (cluster.root / name / STATE_FILE).is_file()  # each node keeps its state in its --state-dir


def test_the_same_nodes_train_a_federated_anomaly_detector_over_tls(cluster):
    from flwr.cli.build import build_fab_from_disk

    from synth.anomaly.detector import load_detector

    app = Path(deploy.__file__).parents[1] / "anomaly" / "federated" / "flower_app"
    assert sorted(zipfile.ZipFile(BytesIO(build_fab_from_disk(app))).namelist()) == [".info/CONTENT", "pyproject.toml"]
    config, out = cluster.root / "anomaly.json", cluster.root / "out-anomaly"
    config.write_text(json.dumps({"seed": 3, "anomaly": TINY_ANOMALY}))
    done = synth("run", "--link", cluster.link, "--ca", str(cluster.ca), "--config", str(config), "--out", str(out),
                 timeout=RUN_TIMEOUT_S, group="anomaly")
    assert done.returncode == 0, done.stderr[-3000:]
    log = json.loads((out / "federated.json").read_text())
    assert log["status"] == "completed" and sorted(log["evaluation"]) == ["pi-01", "pi-02"]
    detector = load_detector(out / "detector")
    assert detector.info["training"] == "federated" and detector.info["row_shape"] == [48, 3]


def test_a_node_killed_mid_round_does_not_stop_the_round_and_catches_up_after_a_restart(cluster):
    config = cluster.share_config("run-d", rounds=2)
    out = cluster.root / "out-d"
    log_start = len(cluster.log("pi-02"))
    run = cluster.start("run-d", "run", "--link", cluster.link, "--ca", str(cluster.ca), "--config", str(config), "--out", str(out))
    # (a node's first message asks its name; killed then, it would be reported by its id)
    wait_for(lambda: "Receiving: train message" in cluster.log("pi-02")[log_start:], 120, "pi-02 to start round 1")
    time.sleep(3)  # the ClientApp is training now
    kill_tree(cluster.nodes["pi-02"])
    # the SuperLink answers for pi-02 ("Node Unavailable") once it missed two heartbeats; a node
    # back before that would be waited for until the round timeout instead
    wait_for(lambda: len(_rounds(out)) == 1, ROUND_TIMEOUT_S, "round 1 to end without pi-02")
    cluster.restart_until_joined("pi-02")
    wait_for(lambda: run.poll() is not None, RUN_TIMEOUT_S, "the run to finish")
    assert run.returncode == 0, cluster.log("run-d")[-3000:]
    first, second = _rounds(out)
    assert sorted(first["nodes"]) == ["pi-01"] and list(first["failed"]) == ["pi-02"] and first["silent"] == []
    assert "Node Unavailable" in first["failed"]["pi-02"] and first["seconds"] < ROUND_TIMEOUT_S
    warnings = [line for line in cluster.log("run-d").splitlines() if "round 1:" in line and ("failed" in line or "no reply" in line)]
    assert warnings and all("node pi-02 failed" in line for line in warnings), warnings  # (the log stream may repeat a line)
    assert sorted(second["nodes"]) == ["pi-01", "pi-02"]  # pi-02 came back and took part again
    assert json.loads((cluster.root / "pi-02" / STATE_FILE).read_text())["round"] == 2


def _rounds(out: Path) -> list[dict]:
    """The rounds the ServerApp has logged in OUT/share.json so far (it rewrites it after each)."""
    try:
        return json.loads((out / "share.json").read_text())["rounds"]
    except (OSError, ValueError):
        return []
