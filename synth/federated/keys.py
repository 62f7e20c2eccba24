"""Key material for a GAN-sharing cluster: a private CA, the SuperLink's TLS certificate and
one ECDSA P-384 key pair per SuperNode.

Layout written by ``make_cluster_keys(out, names, hosts)``::

    out/ca.crt            CA certificate: copy to every node and to the machine running `flwr`
    out/ca.key            CA private key (0600): stays with whoever issues server certificates
    out/server.pem        SuperLink certificate, signed by the CA, SANs = hosts
    out/server.key        SuperLink private key (0600)
    out/nodes/NAME.key    SuperNode private key, OpenSSH format (0600): copy to node NAME only
    out/nodes/NAME.pub    SuperNode public key, OpenSSH format: register it with the SuperLink

Flower's SuperNode reads its private key with ``load_ssh_private_key`` and
``flwr supernode register`` reads an OpenSSH public key, hence the OpenSSH format (the same
files ``ssh-keygen -t ecdsa -b 384`` writes). Existing files are kept: running again with more
names adds their keys under the same CA. Every file is written atomically.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from synth.core import atomic
from synth.core.errors import ConfigError

DEFAULT_HOSTS = ("localhost", "127.0.0.1")
CA_DAYS = 3650  # lifetime of the CA certificate, days
SERVER_DAYS = 825  # lifetime of the SuperLink certificate, days (the usual TLS maximum)
CURVE = ec.SECP384R1  # P-384: the curve Flower's node authentication documents


@dataclass(frozen=True)
class ClusterFiles:
    """Where ``make_cluster_keys`` puts each file of a key folder."""

    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server.key"

    def node_key(self, name: str) -> Path:
        """The private key of node ``name``."""
        return self.root / "nodes" / f"{name}.key"

    def node_public(self, name: str) -> Path:
        """The public key of node ``name`` (what the SuperLink registers)."""
        return self.root / "nodes" / f"{name}.pub"


def node_names(count: int, prefix: str = "pi") -> list[str]:
    """``count`` node names: pi-01, pi-02, ... (two digits, more when needed)."""
    if count < 1:
        raise ConfigError(f"--nodes must be at least 1, got {count}")
    width = max(2, len(str(count)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, count + 1)]


def make_cluster_keys(out: str | Path, names: Sequence[str], hosts: Sequence[str] = ()) -> list[Path]:
    """Write the CA, the SuperLink certificate for ``hosts`` (plus localhost and 127.0.0.1) and
    a key pair per node name into ``out``; return the files that were newly written.

    A CA or server certificate already in ``out`` is reused; a server certificate that does not
    name every host raises ConfigError (delete it to issue a new one under the same CA).
    """
    files = ClusterFiles(Path(out))
    all_hosts = _unique([*DEFAULT_HOSTS, *hosts])
    for name in names:
        _check_name(name)  # before anything is written
    written: list[Path] = []
    if files.ca_cert.exists() != files.ca_key.exists():
        raise ConfigError(f"{files.root} holds only one of ca.crt and ca.key: remove the other to start over")
    if not files.ca_cert.exists():
        ca_key, ca_cert = make_ca()
        written += [_write_key(files.ca_key, _pem_private(ca_key)), _write(files.ca_cert, _pem_cert(ca_cert))]
    else:
        ca_key, ca_cert = load_private_key(files.ca_key), load_certificate(files.ca_cert)
    if files.server_cert.exists():
        _check_hosts(files.server_cert, all_hosts)
    else:
        server_key, server_cert = make_server_certificate(ca_key, ca_cert, all_hosts)
        written += [_write_key(files.server_key, _pem_private(server_key)), _write(files.server_cert, _pem_cert(server_cert))]
    for name in names:
        if not files.node_key(name).exists():
            private, public = make_node_keys(name)
            written += [_write_key(files.node_key(name), private), _write(files.node_public(name), public)]
    return written


def make_ca(common_name: str = "synth share CA") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA that may sign server certificates only (path length 0)."""
    key = ec.generate_private_key(CURVE())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        _builder(name, name, key.public_key(), CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return key, builder.sign(key, hashes.SHA384())


def make_server_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, hosts: Sequence[str]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A TLS server certificate signed by the CA, valid for every host name and IP in ``hosts``."""
    key = ec.generate_private_key(CURVE())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        _builder(subject, ca_cert.subject, key.public_key(), SERVER_DAYS)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    return key, builder.sign(ca_key, hashes.SHA384())


def make_node_keys(name: str) -> tuple[bytes, bytes]:
    """(private, public) OpenSSH encodings of a new P-384 key pair; the public key's comment is ``name``."""
    key = ec.generate_private_key(CURVE())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public + f" {name}\n".encode()


def load_certificate(path: str | Path) -> x509.Certificate:
    """The first PEM certificate in ``path``; ConfigError (one line) if missing or not a certificate."""
    data = _read(path, "certificate")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM certificate") from None


def load_private_key(path: str | Path) -> ec.EllipticCurvePrivateKey:
    """A PEM (PKCS#8/SEC1) or OpenSSH EC private key; ConfigError if missing, encrypted or not EC."""
    data = _read(path, "private key")
    loader = serialization.load_ssh_private_key if b"OPENSSH PRIVATE KEY" in data else serialization.load_pem_private_key
    try:
        key = loader(data, None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"{path} is not an unencrypted PEM or OpenSSH private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{path} is not an elliptic-curve (ECDSA) private key")
    return key


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """An OpenSSH ECDSA public key (``ecdsa-sha2-nistp384 AAAA... name``); ConfigError otherwise."""
    data = _read(path, "public key")
    try:
        key = serialization.load_ssh_public_key(data.strip())
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"{path} is not an OpenSSH public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigError(f"{path} is not an ECDSA public key (Flower needs a NIST curve such as P-384)")
    return key


def check_server_pair(cert_path: str | Path, key_path: str | Path, ca_path: str | Path) -> None:
    """Raise ConfigError unless the server key matches its certificate and the CA signed it."""
    cert, key, ca = load_certificate(cert_path), load_private_key(key_path), load_certificate(ca_path)
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise ConfigError(f"{key_path} is not the private key of {cert_path}")
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        raise ConfigError(f"{cert_path} is not signed by the CA in {ca_path}") from None


def certificate_hosts(cert: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses a certificate is valid for (its SANs)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {*sans.get_values_for_type(x509.DNSName), *(str(ip) for ip in sans.get_values_for_type(x509.IPAddress))}


def _check_hosts(cert_path: Path, hosts: Sequence[str]) -> None:
    """ConfigError if the existing server certificate misses one of ``hosts``."""
    missing = [h for h in hosts if _canonical(h) not in certificate_hosts(load_certificate(cert_path))]
    if missing:
        raise ConfigError(f"{cert_path} is not valid for {', '.join(missing)}: delete server.pem and server.key to issue a new one")


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
    """A certificate builder with serial and validity; backdated 5 minutes for clock skew between Pis."""
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    """Key usage of a CA (signs certificates) or of a TLS server key (signs handshakes)."""
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    """An IP address SAN for an IP, a DNS SAN otherwise (TLS clients match IPs only against IP SANs)."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _canonical(host: str) -> str:
    """``host`` as ``certificate_hosts`` spells it (IPv6 addresses compressed)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _check_name(name: str) -> None:
    """Node names become file names and Flower node names: letters, digits, '-' and '_' only."""
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ConfigError(f"node name {name!r} may hold only letters, digits, '-' and '_'")


def _unique(items: Sequence[str]) -> list[str]:
    """``items`` without repeats, first occurrence first."""
    return list(dict.fromkeys(_canonical(i) for i in items if i))


def _pem_private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes) -> Path:
    """Write a public file atomically."""
    atomic.write_bytes(path, data)
    return path


def _write_key(path: Path, data: bytes) -> Path:
    """Write a private key atomically, readable by its owner only (mode 0600 before the rename)."""
    with atomic.open_atomic(path, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
    return path


def _read(path: str | Path, what: str) -> bytes:
    """The bytes of ``path``; ConfigError naming ``what`` if it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} file {path} does not exist")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}") from None
