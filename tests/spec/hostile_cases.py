"""Hostile platform files, one a class of abuse the spec layer must refuse cleanly (exit 2, located problems).

Shared by the behaviour tests, the fuzz tests and bench/hostile.py. Each case is a small project folder:
a `.git` marker (so the project root is known), `platform.yaml`, and whatever else the case needs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.cli import main

# A located problem: `file:path: message ...` or `file: line 3, column 4: ...`.
LINE = re.compile(r"^\S+\.yaml(:[^\n]+?)?: \S.*$")
SECRET = "TOP-SECRET-CONTENT-7f3a"

DEV: dict[str, Any] = {"name": "dev", "template": "ecs-env:1", "region": "eu-west-1",
                       "availability_zones": ["eu-west-1a", "eu-west-1b"]}


@dataclass(frozen=True)
class Case:
    """`files` maps paths (relative to the case folder; `project/` is the platform's repository) to text."""

    files: dict[str, str | bytes]
    expect: str  # a phrase the problems must contain
    links: dict[str, str] = field(default_factory=dict)  # link path -> target, both relative to the folder


def platform(doc: Any, **files: str | bytes) -> dict[str, str | bytes]:
    text = doc if isinstance(doc, (str, bytes)) else json.dumps(doc)
    return {"project/platform.yaml": text, **{f"project/{k}": v for k, v in files.items()}}


def service(template: str, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "web", "template": template, **extra,
            "instances": [{"name": "web-dev", "environment": "dev", "spec": spec}]}


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    return {"environments": [{**DEV, "spec": {"event_bus": {"enabled": True}}}],
            "services": [service("event-worker-svc:1", {"event_sources": ["keel.a"], **spec},
                                 pipeline={"code_dir": "code"})]}


HANDLER = {"code/handler.py": "def handler(event, context):\n    return None\n"}


def _bomb(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghijklmnop"[:levels - 1]:
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


YAML_CASES: dict[str, Case] = {
    "alias-bomb": Case(platform(_bomb() + "environments: [{name: dev, template: 'vpc-env:1'}]\n"), "node budget"),
    "alias-bomb-in-spec": Case(platform(
        "environments: [{name: dev, template: 'vpc-env:1', spec: {x: " + "[" * 3 + "]" * 3 + "}}]\n"
        + "bomb:\n" + "".join("  " + line + "\n" for line in _bomb().splitlines())), "node budget"),
    "recursive-alias": Case(platform("a: &a [*a]\nenvironments: []\n"), "refers to the node that contains it"),
    "nesting-1000-flow": Case(platform("environments: " + "[" * 1000 + "]" * 1000 + "\n"), "nesting is too deep"),
    "nesting-1000-block": Case(platform("".join("  " * i + f"k{i}:\n" for i in range(1000))),
                               "nesting is too deep"),
    "duplicate-keys": Case(platform("environments: []\nenvironments: []\n"), "duplicate key"),
    "non-mapping-root-list": Case(platform("- environments\n- services\n"), "must be a mapping"),
    "non-mapping-root-scalar": Case(platform("just a string\n"), "must be a mapping"),
    "scalar-10-mib": Case(platform("name: " + "x" * (10 * 1024 * 1024) + "\n"), "too large"),
    "scalar-100-kib": Case(platform("description: " + "x" * (100 * 1024) + "\nenvironments: []\n"),
                           "a value is too long"),
    "wide-document": Case(platform("environments: [" + ",".join(["0"] * 20000) + "]\n"), "node budget"),
    "nan": Case(platform("environments:\n- {name: dev, template: 'vpc-env:1', spec: {nat_gateways: .nan}}\n"),
                "is not a finite number"),
    "infinity": Case(platform("environments:\n- {name: dev, template: 'vpc-env:1', spec: {nat_gateways: -.inf}}\n"),
                     "is not a finite number"),
    "huge-integer": Case(platform("environments:\n- {name: dev, template: 'vpc-env:1', spec: {nat_gateways: "
                                  + "9" * 5000 + "}}\n"), "too large"),
    "python-tag": Case(platform("environments: !!python/object/apply:os.system [echo hi]\n"), "invalid YAML"),
    "not-utf8": Case(platform(b"environments: [\xff\xfe]\n"), "UTF-8"),
    "spec-file-bomb": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                       "spec_file": "env.yaml"}]},
                                    **{"env.yaml": "proton: EnvironmentSpec\n" + _bomb()}), "node budget"),
}

NAME_CASES: dict[str, Case] = {
    "service-name-mapping": Case(platform({"environments": [DEV], "services": [
        {**service("backend-fargate-svc:1", {}), "name": {"a": 1}}]}), "has the wrong type"),
    "service-name-list": Case(platform({"environments": [DEV], "services": [
        {**service("backend-fargate-svc:1", {}), "name": ["a"]}]}), "has the wrong type"),
    "environment-name-mapping": Case(platform({"environments": [{**DEV, "name": {"a": 1}}]}), "has the wrong type"),
    "instance-name-list": Case(platform({"environments": [DEV], "services": [{
        "name": "web", "template": "backend-fargate-svc:1",
        "instances": [{"name": ["x"], "environment": "dev"}]}]}), "has the wrong type"),
    "instance-environment-mapping": Case(platform({"environments": [DEV], "services": [{
        "name": "web", "template": "backend-fargate-svc:1",
        "instances": [{"name": "x", "environment": {"a": 1}}]}]}), "has the wrong type"),
    "template-mapping": Case(platform({"environments": [{**DEV, "template": {"a": 1}}]}), "has the wrong type"),
}

PATTERN_CASES: dict[str, Case] = {
    "pattern-scalar-leaf": Case(platform(worker({"detail_filter": {"state": "on"}}), **HANDLER),
                                "is not a list of matchers"),
    "pattern-empty-list": Case(platform(worker({"detail_filter": {"state": []}}), **HANDLER),
                               "is not a list of matchers"),
    "pattern-unknown-filter": Case(platform(worker({"detail_filter": {"state": [{"regex": ".*"}]}}), **HANDLER),
                                   "unknown filter"),
    "pattern-numeric-bad-op": Case(platform(worker({"detail_filter": {"n": [{"numeric": ["!=", 1]}]}}), **HANDLER),
                                   "is not a comparison operator"),
    "pattern-numeric-inverted": Case(platform(worker({"detail_filter": {"n": [{"numeric": ["<", 1, ">", 5]}]}}),
                                          **HANDLER), "lower to an upper bound"),
    "pattern-numeric-out-of-range": Case(platform(worker({"detail_filter": {"n": [{"numeric": [">", 1e10]}]}}),
                                              **HANDLER), "numeric range"),
    "pattern-nan": Case(platform(
        "environments: [{name: dev, template: 'ecs-env:1', region: eu-west-1, availability_zones: [eu-west-1a],"
        " spec: {event_bus: {enabled: true}}}]\nservices:\n- name: web\n  template: event-worker-svc:1\n"
        "  pipeline: {code_dir: code}\n  instances:\n  - name: w\n    environment: dev\n    spec:\n"
        "      event_sources: [keel.a]\n      detail_filter: {n: [{numeric: ['>', .nan]}]}\n", **HANDLER),
        "is not a finite number"),
    "pattern-infinity": Case(platform(
        "environments: [{name: dev, template: 'ecs-env:1', region: eu-west-1, availability_zones: [eu-west-1a],"
        " spec: {event_bus: {enabled: true}}}]\nservices:\n- name: web\n  template: event-worker-svc:1\n"
        "  pipeline: {code_dir: code}\n  instances:\n  - name: w\n    environment: dev\n    spec:\n"
        "      event_sources: [keel.a]\n      detail_filter: {n: [.inf]}\n", **HANDLER), "is not a finite number"),
    "pattern-exists-string": Case(platform(worker({"detail_filter": {"n": [{"exists": "yes"}]}}), **HANDLER),
                                  "is not true or false"),
    "pattern-bad-cidr": Case(platform(worker({"detail_filter": {"ip": [{"cidr": "10.0.0.300/8"}]}}), **HANDLER),
                             "is not a CIDR block"),
    "pattern-or-single": Case(platform(worker({"detail_filter": {"$or": [{"a": ["x"]}]}}), **HANDLER),
                              "list of patterns"),
    "pattern-too-long": Case(platform(worker({"detail_filter": {"a": ["x" * 200] * 30}}), **HANDLER),
                             "too long"),
    "pattern-two-key-filter": Case(platform(worker({"detail_filter": {"a": [{"prefix": "x", "suffix": "y"}]}}),
                                            **HANDLER), "one-key filter"),
}

CIDR_CASES: dict[str, Case] = {
    "cidr-leading-zero-prefix": Case(platform({"environments": [{**DEV, "spec": {"vpc_cidr": "10.20.0.0/016"}}]}),
                                     "write it as 10.20.0.0/16"),
    "cidr-leading-zero-octet": Case(platform({"environments": [{**DEV, "spec": {"vpc_cidr": "10.020.0.0/16"}}]}),
                                    "is not a valid CIDR block"),
    "cidr-loopback": Case(platform({"environments": [{**DEV, "spec": {"vpc_cidr": "127.0.0.0/16"}}]}), "loopback"),
    "cidr-link-local": Case(platform({"environments": [{**DEV, "spec": {"vpc_cidr": "169.254.0.0/16"}}]}),
                            "link-local"),
    "cidr-multicast": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                       "spec": {"vpc_cidr": "224.0.0.0/16"}}]}), "multicast"),
    "cidr-subnet-leading-zero": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1", "spec": {
        "vpc_cidr": "10.0.0.0/16", "public_subnet_one_cidr": "10.0.0.0/024"}}]}), "CIDR"),
}

VALUE_CASES: dict[str, Case] = {
    "reserved-concurrency-zero": Case(platform(worker({"reserved_concurrency": 0}), **HANDLER),
                                      "stops the function"),
    "tag-value-control-character": Case(platform({"environments": [{**DEV, "tags": {"team": "a\u0000b"}}]}),
                                        "control character"),
    "tag-value-newline": Case(platform({"environments": [{**DEV, "tags": {"team": "a\nb"}}]}), "control character"),
    "tag-key-control-character": Case(platform({"environments": [{**DEV, "tags": {"te\u0007am": "a"}}]}),
                                      "is not a valid tag key"),
    "service-tag-control-character": Case(platform({"environments": [DEV], "services": [
        {**service("backend-fargate-svc:1", {}), "tags": {"team": "\u001b[31mred"}}]}), "control character"),
    "unknown-environment-hides-nothing": Case(platform({"environments": [DEV], "services": [{
        "name": "web", "template": "backend-fargate-svc:1",
        "instances": [{"name": "web-x", "environment": "nowhere", "spec": {"port": "eighty"}}]}]}),
        "spec.port: has the wrong type"),
    "load-balancer-without-region": Case(platform({"environments": [
        {"name": "dev", "template": "ecs-env:1", "spec": {"load_balancer": {"enabled": True}}}]}),
        "needs the environment's region"),
}

def _api(contract: str) -> dict[str, Any]:
    return {"environments": [DEV], "services": [service("lambda-api-svc:1", {"api_contract": contract},
                                                        pipeline={"code_dir": "code"})]}


_ENV_SPEC = "proton: EnvironmentSpec\nspec: {" + SECRET + ": 1}\n"
PATH_CASES: dict[str, Case] = {
    "spec-file-dotdot": Case({**platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                            "spec_file": "../outside/env.yaml"}]}),
                              "outside/env.yaml": _ENV_SPEC}, "leads outside the project"),
    "spec-file-absolute": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                           "spec_file": "/etc/passwd"}]}), "leads outside the project"),
    "spec-file-symlink-out": Case({**platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                                 "spec_file": "env.yaml"}]}),
                                   "outside/env.yaml": _ENV_SPEC}, "leads outside the project",
                                  links={"project/env.yaml": "../outside/env.yaml"}),
    "spec-file-nul": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                      "spec_file": "env\u0000.yaml"}]}), "leads outside the project"),
    "spec-file-directory": Case(platform({"environments": [{"name": "dev", "template": "vpc-env:1",
                                                            "spec_file": "code"}]}, **HANDLER), "not a regular file"),
    "code-dir-dotdot": Case({**platform({"environments": [DEV], "services": [service(
        "scheduled-lambda-svc:1", {}, pipeline={"code_dir": "../outside"})]}),
        "outside/handler.py": "SECRET = '" + SECRET + "'\n"}, "leads outside the project"),
    "api-contract-absolute": Case(platform(_api("/etc/hostname"), **HANDLER), "leads outside the project"),
    "api-contract-symlink-out": Case({**platform(_api("api.yaml"), **HANDLER),
                                      "outside/api.yaml": "openapi: 3.0.0\npaths: {/" + SECRET + ": {get: {}}}\n"},
                                     "leads outside the project", links={"project/api.yaml": "../outside/api.yaml"}),
    "api-contract-bomb": Case(platform(_api("api.yaml"), **HANDLER, **{"api.yaml": "openapi: 3.0.0\n" + _bomb()}),
                              "node budget"),
}

CLASSES: dict[str, dict[str, Case]] = {
    "yaml": YAML_CASES, "names": NAME_CASES, "event-patterns": PATTERN_CASES, "cidrs": CIDR_CASES,
    "values": VALUE_CASES, "paths": PATH_CASES,
}
ALL_CASES: dict[str, Case] = {name: case for cases in CLASSES.values() for name, case in cases.items()}


def write(case: Case, folder: Path) -> Path:
    """The case's files under `folder`; returns the platform file."""
    (folder / "project" / ".git").mkdir(parents=True, exist_ok=True)
    for name, body in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    for link, target in case.links.items():
        os.symlink(target, folder / link)
    return folder / "project" / "platform.yaml"


def validate(file: Path, run: Callable[[list[str]], int] = main) -> tuple[int, str]:
    """`keel validate --quiet file` in-process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run(["validate", "--quiet", str(file)])
    return code, err.getvalue()


def assert_located_rejection(code: int, err: str) -> None:
    """Exit 2, every line a located problem, then the count; never a traceback, never the refused content."""
    assert "Traceback" not in err, err
    assert SECRET not in err, err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} problem{'s' if len(lines) != 2 else ''}; nothing was synthesized.", err
    for line in lines[:-1]:
        assert LINE.match(line), line
