"""The destructive-change gate: no stateful resource or stack is replaced or removed unless allowed.

"Stateful" is a list of types that hold data or identity others depend on (a bucket, a key, a VPC and its
subnets, a load balancer's DNS name, a namespace), plus anything its template retains on delete: the
template's author said it holds something worth keeping. A reviewer accepts a destructive change with
an allow-list entry (`keel diff --allow`, or `delivery.allow_destructive` in the platform spec): a stack
name, a resource type, a logical id or `stack/logical-id`, each with shell-style wildcards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from keel.delivery.diff import ResourceChange, StackDiff

STATEFUL_TYPES = frozenset({
    "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key",
    "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::EKS::Cluster", "AWS::EC2::VPC",
    "AWS::EC2::Subnet", "AWS::EC2::EIP", "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancing::LoadBalancer", "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::PublicDnsNamespace", "AWS::ServiceDiscovery::HttpNamespace",
    "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Events::EventBus", "AWS::Events::Archive",
    "AWS::Kinesis::Stream", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::EFS::FileSystem",
    "AWS::ECR::Repository", "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster",
    "AWS::Cognito::UserPool", "AWS::Backup::BackupVault", "AWS::SSM::Parameter",
    "AWS::OpenSearchService::Domain", "AWS::Route53::HostedZone", "AWS::CertificateManager::Certificate",
})
STACK_TYPE = "AWS::CloudFormation::Stack"
_RETAIN_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")


def is_stateful(change: ResourceChange) -> bool:
    if change.type in STATEFUL_TYPES:
        return True
    old = change.old or {}
    return old.get("DeletionPolicy") in _RETAIN_POLICIES or old.get("Type") in STATEFUL_TYPES


@dataclass(frozen=True)
class Finding:
    """One destructive change the gate looked at."""

    stack: str
    logical_id: str  # "*" for a whole stack
    type: str
    action: str  # "replace", "remove", "remove stack"
    reason: str
    allowed_by: str | None

    @property
    def blocking(self) -> bool:
        return self.allowed_by is None


@dataclass(frozen=True)
class GateResult:
    findings: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return not any(f.blocking for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)


def evaluate(diffs: Iterable[StackDiff], allow: Sequence[str] = ()) -> GateResult:
    findings: list[Finding] = []
    for diff in diffs:
        if diff.status == "removed":
            stateful = [c for c in diff.changes if is_stateful(c)]
            reason = f"stack deleted with {len(diff.changes)} resource(s), {len(stateful)} stateful"
            findings.append(Finding(diff.stack, "*", STACK_TYPE, "remove stack", reason,
                                    _allowed(allow, diff.stack, "*", STACK_TYPE)))
            continue
        for change in diff.changes:
            if change.action not in ("replace", "remove") or not is_stateful(change):
                continue
            if change.action == "replace":
                reason = "replaced: " + "; ".join(change.reasons)
            else:
                reason = "removed from the template"
            if change.retained:
                reason += " (old resource retained by its policy, orphaned outside the stack)"
            findings.append(Finding(change.stack, change.logical_id, change.type, change.action, reason,
                                    _allowed(allow, change.stack, change.logical_id, change.type)))
    return GateResult(findings=tuple(findings))


def _allowed(patterns: Sequence[str], stack: str, logical_id: str, type_: str) -> str | None:
    """The first allow-list entry that matches: a type, a logical id, stack/logical-id, or (for a removed
    stack) the stack name."""
    candidates = (f"{stack}/{logical_id}", type_, stack if logical_id == "*" else logical_id)
    return next((p for p in patterns if any(fnmatchcase(c, p) for c in candidates)), None)
