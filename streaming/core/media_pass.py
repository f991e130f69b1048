"""The media pass: a short-lived signature admitting its holder to one folder of HLS files.

It is nginx's secure_link scheme, so nginx checks at scale the very pass Django issues: the value
is "<expires>~<signature>", the signature being MD5 of "<expires><folder> <secret>" in base64url
without padding, where folder is the event's "/hls/<event>/". MD5 is what secure_link offers; the
secret keys it, and a pass lives about a minute.
"""

import base64
import hashlib
import hmac
import re

# Twelve digits of expiry are the year 33658; a signature is 16 bytes in base64url, unpadded.
PASS_VALUE = re.compile(r"(\d{1,12})~([A-Za-z0-9_-]{22})", re.ASCII)


def signature(expires: int, folder: str, secret: str) -> str:
    """secure_link_md5 "$secure_link_expires<folder> <secret>", as nginx computes it."""
    digest = hashlib.md5(f"{expires}{folder} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(folder: str, now: float, lifetime: int, secret: str) -> str:
    """A pass for `folder` valid until `lifetime` seconds after `now`."""
    expires = int(now) + lifetime
    return f"{expires}~{signature(expires, folder, secret)}"


def admits(value: str, folder: str, now: float, secret: str) -> bool:
    """Whether `value` is an unexpired pass for `folder` (expired, as for nginx, once its second
    has passed); the signature is compared in constant time."""
    match = PASS_VALUE.fullmatch(value)
    if match is None:
        return False
    expires = int(match.group(1))
    if expires < int(now):
        return False
    return hmac.compare_digest(signature(expires, folder, secret), match.group(2))
