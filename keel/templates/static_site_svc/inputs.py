"""static-site-svc inputs and cross-field rules. CDK-free: `keel validate` runs this without importing aws_cdk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.contract.problems import InputProblem
from keel.spec.errors import MISSING
from keel.spec.model import Environment
from keel.spec.paths import OutsideProject, inside_project

#: CloudFront reads the certificates of its aliases from ACM in this region only.
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


@dataclass(frozen=True)
class FilesInputs:
    source: str
    destination: str
    exclude: tuple[str, ...]
    include: tuple[str, ...]

    @property
    def key_prefix(self) -> str:
        """`/dist` -> `dist/`; `/` -> "" (the bucket's root)."""
        prefix = self.destination.strip("/")
        return f"{prefix}/" if prefix else ""


@dataclass(frozen=True)
class StaticSiteInputs:
    files: tuple[FilesInputs, ...]
    index_document: str
    spa_fallback: bool
    alias: str | None
    certificate_arn: str | None
    content_security_policy: str
    web_acl_arn: str | None
    price_class: str
    access_log_retention_days: int


def arn_region(arn: str) -> str:
    """`arn:aws:acm:us-east-1:123456789012:certificate/x` -> `us-east-1` (offline: the ARN says it)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def prunes(inputs: StaticSiteInputs, n: int) -> bool:
    """Entry n may delete what its source lacks, unless another entry uploads beneath its destination (it would
    delete that entry's files)."""
    mine = inputs.files[n].key_prefix
    return not any(m != n and f.key_prefix.startswith(mine) for m, f in enumerate(inputs.files))


def check(inputs: StaticSiteInputs, env: Environment) -> Iterator[InputProblem]:
    if bool(inputs.alias) != bool(inputs.certificate_arn):
        missing = "certificate_arn" if inputs.alias else "alias"
        yield missing, "is required with " + ("alias" if inputs.alias else "certificate_arn"), MISSING, \
            "both alias and certificate_arn (in us-east-1), or neither"
    if inputs.certificate_arn and arn_region(inputs.certificate_arn) != CLOUDFRONT_CERTIFICATE_REGION:
        yield "certificate_arn", f"is in region {arn_region(inputs.certificate_arn)}, and CloudFront reads " \
            "certificates only from us-east-1", inputs.certificate_arn, \
            "an ACM certificate ARN of region us-east-1 (request or import the certificate there)"
    seen: dict[str, int] = {}
    for n, entry in enumerate(inputs.files):
        if entry.key_prefix in seen and inputs.files[seen[entry.key_prefix]].source == entry.source:
            first = seen[entry.key_prefix]
            yield f"files[{n}]", f"uploads the same folder to the same destination as files[{first}]", \
                entry.source, "each folder once per destination"
        seen.setdefault(entry.key_prefix, n)
    for text in (inputs.content_security_policy,):
        if any(c in text for c in "\r\n"):
            yield "content_security_policy", "contains a line break (a header value is one line)", text, \
                "directives separated by ; on one line"


def check_sources(inputs: StaticSiteInputs, pipeline: None, *, base: Path,
                  root: Path | None = None) -> Iterator[tuple[str, str, str, Any, str | None]]:
    """Each `files[].source` is a folder inside the project (never /etc, ~ or a symlink out of it)."""
    for n, entry in enumerate(inputs.files):
        try:
            folder = inside_project(root or base, base, entry.source)
        except OutsideProject as exc:
            yield "spec", f"files[{n}].source", str(exc), entry.source, exc.expected
            continue
        if not folder.is_dir():
            yield "spec", f"files[{n}].source", f"is not a folder ({folder})", entry.source, \
                "a folder of the site's files, relative to the file that declares the service"
