"""The chain-of-trust check the `isof` package leaves out for level-2 signatures.

`isof` verifies the laboratory certificate against the Issuing CA embedded in the file when
there is one (index 1 of ``certificate_chain``) and never checks that CA against the IsoFind
Root CA it ships. Anyone can then make a self-made CA and sign "as" any laboratory. We accept
an embedded Issuing CA only when the shipped Root CA issued it.
"""

from __future__ import annotations

import base64
import binascii
from functools import cache
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from isof import Signature


@cache
def trusted_roots() -> tuple[x509.Certificate, ...]:
    """The Root CA certificates a level-2 signature must chain to (the one `isof` ships)."""
    pem = resources.files("isof").joinpath("trust", "isofind_root_ca.pem").read_bytes()
    return (x509.load_pem_x509_certificate(pem),)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def embedded_issuer_problem(signature: Signature) -> str | None:
    """Why the Issuing CA embedded in a level-2 signature is not trusted, or None.

    None also when no Issuing CA is embedded: `isof` then used the one it ships.
    """
    chain = signature.certificate_chain
    if not isinstance(chain, list) or len(chain) < 2:
        return None
    try:
        issuer = x509.load_pem_x509_certificate(base64.b64decode(chain[1], validate=True))
    except (ValueError, TypeError, binascii.Error):
        return "the Issuing CA certificate embedded in the signature is unreadable"
    if not _is_ca(issuer):
        return "the Issuing CA certificate embedded in the signature is not a CA certificate"
    for root in trusted_roots():
        try:
            issuer.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return None
    return ("the Issuing CA embedded in the signature was not issued by the IsoFind Root CA: "
            "the signer is not authenticated")
