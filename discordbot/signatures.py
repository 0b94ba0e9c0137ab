"""Discord signs every interaction it sends with the application's Ed25519 key: the signature
covers the timestamp header followed by the raw body. A request that fails the check, or one
older than a few minutes (a replay), is not from Discord and must change nothing."""

import time

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

# Discord's own deliveries arrive within seconds; anything older is a replay.
MAX_AGE_SECONDS = 5 * 60


def interaction_verified(
    *, public_key: str, signature: str, timestamp: str, body: bytes, now: float | None = None
) -> bool:
    """Whether `body` was signed by the holder of `public_key` (hex) at `timestamp` (Unix
    seconds), no more than MAX_AGE_SECONDS ago."""
    if not (public_key and signature and timestamp):
        return False
    try:
        signed_at = int(timestamp)
        key = VerifyKey(bytes.fromhex(public_key))
        key.verify(timestamp.encode() + body, bytes.fromhex(signature))
    except (ValueError, BadSignatureError):
        # Not hex, not a number, a key or signature of the wrong length, or a bad signature.
        return False
    return abs((time.time() if now is None else now) - signed_at) <= MAX_AGE_SECONDS
