"""Google's side of Firebase sign-in, made locally: signing keys with their X.509 certificates,
ID tokens signed the way Firebase signs them, and a service account file, so that the real
firebase-admin verifies everything the tests send."""

import datetime
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from firebase_admin._token_gen import ID_TOKEN_CERT_URI, ID_TOKEN_ISSUER_PREFIX

# Where firebase-admin fetches Google's current ID-token certificates ({kid: PEM}), and where a
# service account gets its access token and looks users up (for revocation checks).
CERTIFICATES_URL = ID_TOKEN_CERT_URI
OAUTH_TOKEN_URL = "https://oauth2.googleapis.com/token"
USER_LOOKUP_URL = "https://identitytoolkit.googleapis.com/v1/projects/{project}/accounts:lookup"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str


def signing_key_make(*, kid: str | None = None) -> SigningKey:
    """A fresh RSA key and a self-signed certificate for it, like one of Google's rotating keys.

    A new kid per test keeps firebase-admin's certificate cache from linking tests together.
    """
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private_key, hashes.SHA256())
    )
    return SigningKey(
        kid=kid or uuid.uuid4().hex,
        private_key=private_key,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )


def id_token_make(
    key: SigningKey,
    *,
    project: str,
    uid: str,
    email: str | None = None,
    email_verified: bool = False,
    age_seconds: int = 60,
    lifetime_seconds: int = 3600,
    audience: str | None = None,
    issuer: str | None = None,
) -> str:
    """A Firebase ID token for `uid`, issued `age_seconds` ago."""
    issued_at = int(time.time()) - age_seconds
    claims: dict[str, object] = {
        "iss": issuer or ID_TOKEN_ISSUER_PREFIX + project,
        "aud": audience or project,
        "sub": uid,
        "user_id": uid,
        "iat": issued_at,
        "auth_time": issued_at,
        "exp": issued_at + lifetime_seconds,
        "firebase": {"sign_in_provider": "google.com", "identities": {}},
    }
    if email is not None:
        claims["email"] = email
        claims["email_verified"] = email_verified
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def service_account_file_make(path: Path, *, project: str) -> Path:
    """A service account key file, as downloaded from the Firebase console."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": uuid.uuid4().hex,
                "private_key": private_pem,
                "client_email": f"firebase-adminsdk@{project}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": OAUTH_TOKEN_URL,
            }
        )
    )
    return path
