"""The operator's line source policy: which schemes, networks and media folder a line may use. Pure.

A producer's line is opened by FFmpeg on the mixer's host, so it can reach whatever that host can:
its files, loopback services, the private network, the cloud's metadata service. The operator
lists what lines may reach (LINE_SOURCE_SCHEMES, LINE_SOURCE_NETWORKS, LINE_SOURCE_MEDIA_ROOT) and
nothing else is opened. Standard library only: settings build a policy and pass it in.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Every scheme a line may have: those the mixer knows how to fence in (see sources.py).
KNOWN_SCHEMES = frozenset({"rtmp", "rtmps", "srt", "rtp", "udp", "http", "https", "file"})
DEFAULT_SCHEMES = KNOWN_SCHEMES
# The word in LINE_SOURCE_NETWORKS for "any public unicast address".
PUBLIC = "public"
DEFAULT_NETWORKS = (PUBLIC,)
# Addresses that carry another address inside; what they finally reach is that one.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class SourceError(ValueError):
    """Why a line source is refused, in words a producer understands."""


def address_kind(address: IPAddress) -> str | None:
    """None for a public unicast address, else what it is, as words ("a loopback address")."""
    address = unmapped(address)
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv6Address):
        # 6to4, Teredo and NAT64 addresses are relayed to the IPv4 address inside them.
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        inner = address_kind(embedded) if embedded is not None else None
        if inner is not None:
            return f"an IPv6 address carrying {inner}"
    if _is_rfc_private(address):
        return "a private address"
    # Shared (carrier-grade NAT), documentation, benchmarking, reserved, broadcast, ...
    if not address.is_global or address.is_reserved:
        return "a special-purpose address"
    return None


def unmapped(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is the IPv4 address the kernel connects to."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_RFC_PRIVATE = tuple(ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))


def _is_rfc_private(address: IPAddress) -> bool:
    return any(address.version == net.version and address in net for net in _RFC_PRIVATE)


@dataclass(frozen=True)
class SourcePolicy:
    """What lines may reach. The defaults are the environment's defaults: every known scheme,
    public unicast addresses only, no files."""

    schemes: frozenset[str] = DEFAULT_SCHEMES
    # Listed networks are allowed whatever they are (a studio's private encoders, a multicast group).
    networks: tuple[IPNetwork, ...] = ()
    public: bool = True
    # Files only under this folder (symlinks and ".." resolved); None: no file sources.
    media_root: Path | None = None
    # Never readable, even inside the media root: the webcast's own output (private rehearsals).
    private_roots: tuple[Path, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Only schemes the mixer knows how to fence in (sources.PROTOCOLS) can be allowed.
        if not self.schemes <= KNOWN_SCHEMES:
            raise ValueError(f"Unknown line source schemes: {', '.join(sorted(self.schemes - KNOWN_SCHEMES))}.")

    @classmethod
    def from_config(
        cls,
        schemes: Iterable[str] = DEFAULT_SCHEMES,
        networks: Iterable[str] = DEFAULT_NETWORKS,
        media_root: str | os.PathLike | None = None,
        private_roots: Iterable[str | os.PathLike] = (),
    ) -> SourcePolicy:
        """A policy from the environment's lists; ValueError names an entry it cannot use."""
        scheme_set = frozenset(s.strip().lower() for s in schemes if s.strip())
        unknown = scheme_set - KNOWN_SCHEMES
        if unknown:
            known = ", ".join(sorted(KNOWN_SCHEMES))
            raise ValueError(f"LINE_SOURCE_SCHEMES: unknown {', '.join(sorted(unknown))}; use some of {known}.")
        public, parsed = False, []
        for entry in (n.strip() for n in networks):
            if not entry:
                continue
            if entry.lower() == PUBLIC:
                public = True
                continue
            try:
                parsed.append(ipaddress.ip_network(entry, strict=True))
            except ValueError:
                raise ValueError(
                    f"LINE_SOURCE_NETWORKS: {entry!r} is not a network (10.20.0.0/16), an address or {PUBLIC!r}."
                ) from None
        return cls(
            schemes=scheme_set,
            networks=tuple(parsed),
            public=public,
            media_root=Path(media_root).absolute() if media_root else None,
            private_roots=tuple(Path(p).absolute() for p in private_roots),
        )

    def address_refusal(self, address: IPAddress) -> str | None:
        """None when a line may reach `address`, else what it is ("a private address")."""
        address = unmapped(address)
        if any(address.version == net.version and address in net for net in self.networks):
            return None
        kind = address_kind(address)
        if kind is None and self.public:
            return None
        return kind or "a public address outside the networks this server lists"

    def path_refusal(self, path: str) -> str | None:
        """Why a line may not read the file at `path` (absolute), or None when it may."""
        if self.media_root is None:
            return "File sources are off on this server (no media folder is configured)."
        # Resolved now, not at start-up: a folder may have been created or re-linked since.
        real = _real(path)
        if any(real.is_relative_to(_real(root)) for root in self.private_roots):
            return f"{path} is in the webcast's own output folder, which is never a line source."
        if not real.is_relative_to(_real(self.media_root)):
            return f"{path} is outside the media folder {self.media_root}."
        return None


def _real(path: str | os.PathLike) -> Path:
    """The path with symlinks and ".." resolved, as the kernel will follow it."""
    return Path(os.path.realpath(path))
