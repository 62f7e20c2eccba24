"""Deployment of synth's Flower Apps on Flower 1.42: the SuperLink, SuperNodes and `flwr` calls, started
from a key folder made by synth.federated.keys.

Flower 1.42 serves the Fleet API (SuperNodes), the Control API (`flwr`) and the Runtime API
(ServerApp) on one HTTPS port of the SuperLink. Node authentication
(``--enable-supernode-auth``) admits only SuperNodes whose public key was registered through
the Control API (``flwr supernode register``); the SuperNode proves it holds the private key by
signing every request. Everything here checks its inputs first, so a missing or wrong
certificate, a key that is not ECDSA or an unreachable SuperLink is one line (SynthError), and
then starts Flower's own programs with Flower's own flags:

- ``link_command`` / ``node_command``: the argv of ``flower-superlink`` / ``flower-supernode``,
  run with ``exec_flower`` so that systemd signals reach Flower directly;
- ``register_node``, ``submit_run``, ``wait_for_run``: ``flwr`` calls through a Flower config
  (``FLWR_HOME``) in a temporary folder, so the user's ~/.flwr is never read or written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, NoReturn, Optional, Sequence

from synth.core.config import load_config, require
from synth.core.errors import ConfigError, OutputError, SynthError, first_line
from synth.federated import keys

CONNECT_TIMEOUT_S = 5.0  # TCP connect + TLS handshake budget of the reachability check, seconds
POLL_S = 2.0  # interval between run-status queries while waiting for a run, seconds
CONNECTION = "synth"  # name of the SuperLink connection in the temporary Flower config
FLOWER_HOME = "flower"  # Flower's own folder (installed app bundles) inside a state folder
OFFLINE_ENV = {"FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1"}  # a cluster may have no internet


class DeployError(SynthError):
    """A Flower process or `flwr` call failed, or the SuperLink is unreachable or untrusted."""


# ---- checks ---------------------------------------------------------------------------------


def parse_link(address: str) -> tuple[str, int]:
    """(host, port) of ``HOST:PORT`` or ``[IPv6]:PORT``; ConfigError for anything else."""
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if "://" in address or not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"SuperLink address {address!r} is not HOST:PORT (e.g. 192.168.1.10:8000)")
    return host, int(port)


def check_link(address: str, ca: Path, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise DeployError unless a SuperLink answers at ``address`` with a certificate the CA signed
    for that host name or IP (what Flower's clients check too)."""
    host, port = parse_link(address)
    keys.load_certificate(ca)
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError as exc:
        raise DeployError(f"the SuperLink at {address} is not trusted with {ca}: {exc.verify_message}") from None
    except ssl.SSLError as exc:
        raise DeployError(f"no TLS at {address} ({exc.reason}): is it a SuperLink started with certificates?") from None
    except OSError as exc:  # refused, timed out, unknown host, no route
        raise DeployError(f"cannot reach the SuperLink at {address}: {_reason(exc)}") from None


def check_port_free(host: str, port: int) -> None:
    """Raise DeployError if ``host:port`` cannot be bound (in use, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the same test uvicorn's bind makes
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DeployError(f"cannot listen on {host}:{port}: {_reason(exc)}") from None


def check_link_files(certs: Path) -> keys.ClusterFiles:
    """The key folder's files after checking that server.pem, server.key and ca.crt belong together."""
    files = keys.ClusterFiles(Path(certs))
    keys.check_server_pair(files.server_cert, files.server_key, files.ca_cert)
    return files


def check_config_section(path: Path, section: str) -> None:
    """ConfigError unless ``path`` is a valid synth config with the section ``section``
    ("data" for a node's own recordings, "share" for a run)."""
    require(getattr(load_config(path), section), section, str(path))


# ---- SuperLink and SuperNode processes ------------------------------------------------------


def link_command(files: keys.ClusterFiles, state_dir: Path, host: str, port: int) -> list[str]:
    """``flower-superlink`` with TLS, node authentication, a database in ``state_dir`` (registered
    nodes and runs survive a restart) and no dependency installation (a cluster may be offline)."""
    return [
        flower_program("flower-superlink"),
        "--ssl-ca-certfile", str(files.ca_cert.resolve()),
        "--ssl-certfile", str(files.server_cert.resolve()),
        "--ssl-keyfile", str(files.server_key.resolve()),
        "--enable-supernode-auth",
        "--database", str((state_dir / "superlink.db").resolve()),
        "--disable-runtime-dependency-installation",
        "--host", host,
        "--port", str(port),
    ]


def node_command(ca: Path, key: Path, link: str, node_config: dict[str, str], runtime_port: int) -> list[str]:
    """``flower-supernode`` that trusts ``ca``, signs with ``key`` and hands ``node_config`` to the ClientApp."""
    return [
        flower_program("flower-supernode"),
        "--root-certificates", str(ca.resolve()),
        "--superlink", link,
        "--auth-supernode-private-key", str(key.resolve()),
        "--node-config", node_config_arg(node_config),
        "--port", str(runtime_port),
    ]


def node_config_arg(values: dict[str, str]) -> str:
    """Flower's ``--node-config`` / ``--run-config`` text: space-separated ``key="value"`` pairs."""
    return " ".join(f"{key}={_toml_string(str(value))}" for key, value in values.items())


def _toml_string(value: str) -> str:
    """``value`` as a TOML string Flower's key=value parser accepts: it cuts a quoted value at the
    next quote of the same kind, so a value holding '"' goes in single quotes (a literal string)."""
    if '"' not in value:
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if "'" not in value and "\n" not in value:
        return f"'{value}'"
    raise ConfigError(f"{value!r}: Flower cannot pass a value that holds both kinds of quotes")


def flower_environment(state_dir: Optional[Path]) -> dict[str, str]:
    """The environment for a Flower program: our Python's bin folder first on PATH (Flower starts
    flower-superexec, flwr-serverapp and flwr-clientapp by name), no telemetry or update check
    unless the user set them, and FLWR_HOME inside ``state_dir``."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    for name, value in OFFLINE_ENV.items():
        env.setdefault(name, value)
    if state_dir is not None:
        env["FLWR_HOME"] = str((state_dir / FLOWER_HOME).resolve())
    return env


def flower_program(name: str) -> str:
    """The path of a Flower program: next to our Python (the same venv) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise DeployError(f"{name} not found: install Flower 1.42 in this environment (pip install 'flwr>=1.42,<1.43')")
    return found


def make_state_dir(path: Path) -> Path:
    """Create a state folder (and its Flower subfolder); OutputError if impossible."""
    try:
        (path / FLOWER_HOME).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create state folder {path}: {exc.strerror}") from None
    return path


def exec_flower(command: Sequence[str], env: dict[str, str]) -> NoReturn:
    """Replace this process with ``command`` (signals from systemd or Ctrl-C then reach Flower)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(command[0], list(command), env)
    except OSError as exc:
        raise DeployError(f"cannot start {command[0]}: {exc.strerror}") from None


# ---- flwr calls -----------------------------------------------------------------------------


@contextlib.contextmanager
def flwr_cli(link: str, ca: Path) -> Iterator[dict[str, str]]:
    """The environment for ``flwr`` calls to the SuperLink at ``link``: a throwaway FLWR_HOME whose
    config.toml names it (connection "synth", verified with ``ca``)."""
    with tempfile.TemporaryDirectory(prefix="synth-flwr-") as home:
        config = f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
        config += f"address = {json.dumps(link)}\nroot-certificates = {json.dumps(str(ca.resolve()))}\n"
        Path(home, "config.toml").write_text(config)
        env = flower_environment(None)
        env["FLWR_HOME"] = home
        yield env


def flwr_json(args: Sequence[str], env: dict[str, str], what: str) -> dict:
    """Run ``flwr ARGS --format json`` and return its JSON answer; DeployError with Flower's last
    message line when it fails."""
    command = [flower_program("flwr"), *args, "--format", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise DeployError(f"{what}: {_flower_message(done.stderr or done.stdout) or f'flwr exited with {done.returncode}'}") from None
    if not answer.get("success", False):
        raise DeployError(f"{what}: {_flower_message(answer.get('error-message', ''))}")
    return answer


def register_node(public_key: Path, link: str, ca: Path, name: Optional[str] = None) -> str:
    """Register a SuperNode's public key with the SuperLink; return its node ID, or
    "already registered" when the SuperLink knows the key already."""
    keys.load_public_key(public_key)
    args = ["supernode", "register", str(public_key.resolve()), CONNECTION]
    args += ["--name", name] if name else []
    with flwr_cli(link, ca) as env:
        try:
            return str(flwr_json(args, env, f"registering {public_key}")["node-id"])
        except DeployError as exc:
            if "already in use" in str(exc):  # Flower's answer for a key it has: nothing to do
                return "already registered"
            raise


def submit_run(link: str, ca: Path, share_config: str, out_dir: str, app: Path,
               config_key: str = "share-config") -> int:
    """Start the Flower App in the folder ``app`` on the SuperLink; return the run ID.
    Both paths are read on the SuperLink's machine by the ServerApp; ``config_key`` is the run-config
    key the app reads the config path from."""
    overrides = node_config_arg({config_key: share_config, "out-dir": out_dir})
    args = ["run", str(app.resolve()), CONNECTION, "--run-config", overrides]
    with flwr_cli(link, ca) as env:
        return int(flwr_json(args, env, "starting the run")["run-id"])


def wait_for_run(run_id: int, link: str, ca: Path, stream: bool = True) -> tuple[str, str]:
    """Show the run's log (``flwr log --stream``) and wait until it finishes; return (status, details),
    e.g. ("finished:completed", "N/A"). Ctrl-C stops the run on the SuperLink too."""
    with flwr_cli(link, ca) as env:
        try:
            if stream:
                subprocess.run([flower_program("flwr"), "log", str(run_id), CONNECTION, "--stream"], env=env)
            while not (status := run_status(run_id, env))[0].startswith("finished"):
                time.sleep(POLL_S)  # the log stream may end early (a dropped connection)
        except KeyboardInterrupt:
            subprocess.run([flower_program("flwr"), "stop", str(run_id), CONNECTION], env=env, capture_output=True)
            raise
    return status


def run_status(run_id: int, env: dict[str, str]) -> tuple[str, str]:
    """(status, status details) of a run, as ``flwr ls`` reports them."""
    runs = flwr_json(["ls", CONNECTION, "--run-id", str(run_id)], env, f"querying run {run_id}")["runs"]
    return runs[0]["status"], runs[0].get("status-details", "")


def run_log_status(out_dir: Path, log_file: str = "share.json") -> Optional[str]:
    """The "status" the ServerApp wrote to OUT/``log_file`` ("completed", "failed: why"), or None when
    the file is not readable here (the SuperLink runs on another machine). A ServerApp that ends
    its run itself reports the reason there while Flower records the run as completed."""
    try:
        return str(json.loads((out_dir / log_file).read_text())["status"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _flower_message(text: str) -> str:
    """Flower's error text in one line: its first paragraph after the "Using SuperLink" banner,
    bullets joined ("Invalid Flower App configuration in '...': Unable to find attribute ...")."""
    cleaned = [line.strip(" │╭╮╰╯─") for line in text.splitlines()]
    paragraphs, current = [], []
    for line in [*cleaned, ""]:
        if line and line != "Error":
            current.append(line.removeprefix("- "))
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs = [p for p in paragraphs if not p.startswith("Using SuperLink")]
    return paragraphs[0] if paragraphs else ""


def _reason(exc: BaseException) -> str:
    """A socket error in words: 'connection refused', 'timed out', 'name not known' ..."""
    if isinstance(exc, socket.timeout):
        return f"no answer within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    return (exc.strerror or first_line(exc)).lower() if isinstance(exc, OSError) else first_line(exc)
