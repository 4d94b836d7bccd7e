"""`keel add component KIND NAME --service S [--instance I]` (issue 17): one entry added to an instance's
`components:` in the platform file, by a ruamel round trip (comments and layout intact); the whole platform is
validated with the new text first, and nothing is written unless it validates. CDK-free."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from keel.spec import load_platform
from keel.spec.components import KINDS

#: What a kind needs that its schema has no default for: a starting value the developer edits afterwards.
STARTERS: dict[str, dict[str, Any]] = {
    "dynamodb-table": {"partition_key": {"name": "id", "type": "string"}},
    "efs-filesystem": {"mount_path": "/mnt/{name}"},
}


class AddError(ValueError):
    """The platform file has no such service or instance, or the kind is unknown."""


def add_component(platform: Path, *, kind: str, name: str, service: str | None = None,
                  instance: str | None = None, environment: str | None = None) -> str:
    """The platform file's new text (not written); raises AddError, or SpecError when it would not validate.
    `environment` instead of `service`: a component the environment owns for its services to share (issue 15)."""
    if kind not in KINDS:
        raise AddError(f"unknown component kind \"{kind}\" (known: {', '.join(KINDS)})")
    yaml = YAML()  # round trip: comments, order and quotes stay
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout Keel's platform files use (`  - name:`)
    yaml.width = 4096  # never fold a long line the user wrote
    text = platform.read_text(encoding="utf-8")
    doc = yaml.load(text)
    owner = _environment(doc, platform, environment, kind) if environment is not None else \
        _instance(doc, platform, service or "", instance)
    entry = CommentedMap([("kind", kind), ("name", name)])
    for key, value in STARTERS.get(kind, {}).items():
        entry[key] = value.replace("{name}", name) if isinstance(value, str) else value
    components = owner.get("components")
    if components is None:
        components = owner["components"] = CommentedSeq()
    components.append(entry)
    out = io.StringIO()
    yaml.dump(doc, out)
    new = out.getvalue()
    load_platform(platform, texts={platform: new})  # SpecError: nothing is written
    return new


def _instance(doc: CommentedMap, platform: Path, service: str, instance: str | None) -> CommentedMap:
    services = [s for s in (doc.get("services") or []) if s.get("name") == service]
    if not services:
        raise AddError(f"{platform}: no service \"{service}\"")
    if "spec_file" in services[0]:
        raise AddError(f"{platform}: service \"{service}\" is declared in {services[0]['spec_file']}: add the "
                       "component to its instance there")
    instances = services[0].get("instances") or []
    chosen = [i for i in instances if instance is None or i.get("name") == instance]
    if len(chosen) != 1:
        names = ", ".join(str(i.get("name")) for i in instances) or "none"
        raise AddError(f"{platform}: service \"{service}\" has instances {names}: "
                       + ("give --instance" if instance is None else f"no instance \"{instance}\""))
    found: CommentedMap = chosen[0]
    return found


# shared data stores (issue 15)
def _environment(doc: CommentedMap, platform: Path, environment: str, kind: str) -> CommentedMap:
    if KINDS[kind].unshared:
        article = "an" if kind[0] in "aeiou" else "a"
        raise AddError(f"{article} {kind} cannot be shared by an environment's services: {KINDS[kind].unshared} "
                       "(add it to the instance that uses it: --service S)")
    found = [e for e in (doc.get("environments") or []) if e.get("name") == environment]
    if not found:
        names = ", ".join(str(e.get("name")) for e in doc.get("environments") or []) or "none"
        raise AddError(f"{platform}: no environment \"{environment}\" (known: {names})")
    chosen: CommentedMap = found[0]
    return chosen
