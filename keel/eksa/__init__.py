"""EKS Anywhere readiness without CDK: YAML rendering and CRD validation (the cluster documents come from
eks-env's inputs, in keel.templates.eks_env.anywhere)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter

# EKS Anywhere files in the cloud assembly are `<stack>.eks-anywhere-*.yaml`; when they were checked against
# a CRD folder, `<stack>.eks-anywhere-crd-check.json` records it (what `keel report` reads).
EKSA_FILE_PREFIX = "eks-anywhere-"
CRD_CHECK_FILE = "eks-anywhere-crd-check.json"

# Plain scalars a YAML 1.1 reader (Kubernetes' sigs.k8s.io/yaml) takes for booleans, nulls or numbers.
_YAML11_SPECIAL = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|"
    r"[-+]?[0-9][0-9_:.eE+-]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")


class _Representer(SafeRepresenter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.sort_base_mapping_type_on_output = False  # documents keep the order they were written in

    def represent_str(self, data: str) -> ScalarNode:  # type: ignore[override]
        if data == "" or _YAML11_SPECIAL.match(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_Representer.add_representer(str, _Representer.represent_str)


def to_yaml(documents: Iterable[Mapping[str, Any]]) -> str:
    """A multi-document YAML stream, keys in the order written; strings a YAML 1.1 reader would take
    for something else ("1.33", "on", "yes") come out quoted."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold a long value (ARNs, CDK tokens) across lines
    out = io.StringIO()
    yaml.dump_all([_plain(d) for d in documents], out)
    return out.getvalue()


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
