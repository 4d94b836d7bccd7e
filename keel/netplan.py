"""Subnet address planning, done in plain Python so a bad network is a spec error, not a failed deploy."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TIERS = ("public", "private", "isolated")


@dataclass(frozen=True)
class SubnetPlan:
    """CIDRs per tier, one per AZ in AZ order; an absent tier is an empty tuple."""

    vpc_cidr: str
    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]

    def tier(self, name: str) -> tuple[str, ...]:
        return getattr(self, name)  # type: ignore[no-any-return]


class PlanError(ValueError):
    def __init__(self, field: str, message: str, got: object, expected: str) -> None:
        super().__init__(message)
        self.field, self.message, self.got, self.expected = field, message, got, expected


# Address space a VPC cannot take (EC2 refuses it, or it would shadow the host's own addresses).
NOT_FOR_A_VPC = {
    "0.0.0.0/8": "\"this network\"", "127.0.0.0/8": "loopback", "169.254.0.0/16": "link-local",
    "224.0.0.0/4": "multicast", "240.0.0.0/4": "reserved",
}


def check_vpc_range(vpc: ipaddress.IPv4Network) -> None:
    """Raises PlanError when the VPC CIDR overlaps loopback, link-local, multicast or reserved space."""
    for block, what in NOT_FOR_A_VPC.items():
        if vpc.overlaps(ipaddress.IPv4Network(block)):
            raise PlanError("vpc_cidr", f"overlaps {what} address space ({block}), which a VPC cannot use", str(vpc),
                            "a private range (RFC 1918) such as 10.0.0.0/16")


def plan_subnets(*, vpc_cidr: str, az_count: int, explicit: Mapping[str, Sequence[str | None]],
                 masks: Mapping[str, int | None], field_names: Mapping[str, Sequence[str]]) -> SubnetPlan:
    """Place every subnet: explicit CIDRs where given, the first free aligned block of the tier's mask
    elsewhere. `masks[tier] is None` leaves the tier out. `field_names[tier][az]` names the input that
    sets a CIDR, so errors point at it."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    check_vpc_range(vpc)
    used: list[tuple[ipaddress.IPv4Network, str]] = []
    placed: dict[str, list[ipaddress.IPv4Network | None]] = {}
    for tier in TIERS:
        if masks.get(tier) is None:
            placed[tier] = []
            continue
        given = list(explicit.get(tier, ()))[:az_count]
        given += [None] * (az_count - len(given))
        placed[tier] = []
        for az, cidr in enumerate(given):
            if cidr is None:
                placed[tier].append(None)
                continue
            net: ipaddress.IPv4Network = ipaddress.IPv4Network(cidr)
            name = field_names[tier][az]
            if not net.subnet_of(vpc):
                raise PlanError(name, f"is outside the VPC CIDR {vpc}", cidr, f"a subnet of {vpc}")
            for other, other_name in used:
                if net.overlaps(other):
                    raise PlanError(name, f"overlaps {other_name} ({other})", cidr, "non-overlapping subnets")
            used.append((net, name))
            placed[tier].append(net)
    for tier in TIERS:
        mask = masks.get(tier)
        if mask is None:
            continue
        if mask < vpc.prefixlen:
            raise PlanError(f"{tier}_subnet_mask", f"/{mask} is larger than the VPC /{vpc.prefixlen}", mask,
                            f"a mask of {vpc.prefixlen} or more")
        for az, existing in enumerate(placed[tier]):
            if existing is not None:
                continue
            free = next((c for c in vpc.subnets(new_prefix=mask)
                         if not any(c.overlaps(u) for u, _ in used)), None)
            if free is None:
                raise PlanError(f"{tier}_subnet_mask", f"no free /{mask} left in {vpc} for the {tier} subnet of "
                                f"AZ {az + 1}", mask, "a smaller subnet (larger mask) or a larger vpc_cidr")
            used.append((free, f"{tier} subnet {az + 1}"))
            placed[tier][az] = free
    return SubnetPlan(vpc_cidr=str(vpc), **{t: tuple(str(n) for n in placed[t]) for t in TIERS})


def overlap(a: str, b: str) -> bool:
    return ipaddress.IPv4Network(a).overlaps(ipaddress.IPv4Network(b))


def is_rfc1918(cidr: str) -> bool:
    net = ipaddress.IPv4Network(cidr)
    return any(net.subnet_of(ipaddress.IPv4Network(p)) for p in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
