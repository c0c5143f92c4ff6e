"""A throw-away certificate authority for serving emulated CRMs over HTTPS on loopback.

simple-salesforce always builds ``https://`` URLs, so a faithful Salesforce emulator has to speak
TLS; clients trust it through the CA bundle written here, never by turning verification off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class TlsFiles:
    ca_bundle: Path
    certfile: Path
    keyfile: Path


def write_tls_files(directory: Path) -> TlsFiles:
    """Create a CA and a server certificate for loopback; write the PEM files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="channel-sync sandbox")
    server = ca.issue_cert(*HOSTS)
    ca_bundle = directory / "ca.pem"
    certfile = directory / "server-cert.pem"
    keyfile = directory / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    certfile.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(server.private_key_pem.bytes())
    return TlsFiles(ca_bundle=ca_bundle.resolve(), certfile=certfile, keyfile=keyfile)
