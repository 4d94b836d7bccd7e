"""`keel diagram`: the platform as a Mermaid flowchart (GitHub renders it; no tool to install).

It reads only the validated PlatformModel (no CDK): environments and their shared parts (load balancer,
event bus, config plane, hybrid capacity), service instances, the load balancer's routes, bus subscriptions,
queues, schedules and components. `highlight` marks stacks (`keel diff` passes the changed ones).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from keel.spec.model import Environment, PlatformModel, ServiceInstance

_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "|": "#124;", "`": "#96;",
            "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;"}
_ID = re.compile(r"[^A-Za-z0-9_]")


def label(*lines: str) -> str:
    """Mermaid-escaped text for a quoted label: entity codes for every character Mermaid would parse."""
    return "<br/>".join("".join(_ESCAPES.get(c, c) for c in line) for line in lines)


def node_id(*parts: str) -> str:
    return "_".join(_ID.sub("_", p) for p in parts)


@dataclass(frozen=True)
class Component:
    """A component (an extra stack attached to an environment or a service instance, as Proton's were).
    The model has none yet; anything with these attributes under `model.components` is drawn."""

    name: str
    environment: str
    template: str
    instance: str | None = None  # <service>/<instance> it belongs to, or None for an environment component
    stack_name: str | None = None


def render(model: PlatformModel, *, highlight: Collection[str] = (), only: Collection[str] | None = None) -> str:
    """The flowchart (Mermaid source, no fences). `only`: the environments to draw (default: all)."""
    return "\n".join(_lines(model, set(highlight), None if only is None else set(only))) + "\n"


def _lines(model: PlatformModel, highlight: set[str], only: set[str] | None) -> Iterator[str]:
    yield "flowchart LR"
    highlighted: list[str] = []
    edges: list[str] = []
    for env in model.environments:
        if only is not None and env.name not in only:
            continue
        env_node = node_id("env", env.name)
        where = env.region or "region from credentials"
        yield f'  subgraph {env_node}["{label(f"{env.name}: {env.template.label}", where)}"]'
        yield "    direction TB"
        if env.stack_name in highlight:
            highlighted.append(env_node)
        yield from (f"    {line}" for line in _environment_nodes(env, edges))
        for inst in model.instances:
            if inst.environment != env.name:
                continue
            inst_node = node_id("svc", inst.service, inst.name)
            yield f'    {inst_node}["{label(f"{inst.service}/{inst.name}", inst.template.label)}"]'
            if inst.stack_name in highlight:
                highlighted.append(inst_node)
            yield from (f"    {line}" for line in _instance_nodes(env, inst, inst_node, edges))
        for comp in _components(model, env.name):
            comp_node = node_id("cmp", comp.environment, comp.instance or "", comp.name)
            yield f'    {comp_node}[/"{label(f"component {comp.name}", comp.template)}"/]'
            owner = node_id("svc", *comp.instance.split("/", 1)) if comp.instance else node_id("cfg", env.name)
            edges.append(f"  {comp_node} -.- {owner}")
            if comp.stack_name and comp.stack_name in highlight:
                highlighted.append(comp_node)
        yield "  end"
    yield from edges
    if highlighted:
        yield "  classDef changed fill:#fff3b0,stroke:#b8860b,stroke-width:3px"
        yield f"  class {','.join(highlighted)} changed"


def _environment_nodes(env: Environment, edges: list[str]) -> Iterator[str]:
    inputs = env.inputs
    n = env.name
    bus = getattr(inputs, "event_bus", None)
    if bus is not None and bus.enabled:
        yield f'{node_id("bus", n)}{{{{"{label(f"event bus keel-{n}")}"}}}}'
    config = getattr(inputs, "config", None)
    if config is not None and config.enabled:
        counts = f"{len(config.parameters)} parameter(s), {len(config.secrets)} secret(s)"
        yield f'{node_id("cfg", n)}[("{label(f"config /keel/{n}/", counts)}")]'
    lb = getattr(inputs, "load_balancer", None)
    if lb is not None and getattr(lb, "enabled", False):
        facing = "internet-facing" if lb.internet_facing else "internal"
        yield f'{node_id("alb", n)}[\\"{label("shared load balancer", f"{lb.protocol} {facing}")}"/]'
    if hasattr(inputs, "capacity_provider_strategy"):
        yield f'{node_id("ecs", n)}[["{label("ECS cluster")}"]]'
    if hasattr(inputs, "kubernetes_version"):
        yield f'{node_id("eks", n)}[["{label(f"EKS cluster {inputs.kubernetes_version}")}"]]'
    anywhere = getattr(inputs, "anywhere", None)
    if anywhere is not None and anywhere.enabled:
        if hasattr(anywhere, "registration_limit"):  # ecs-env: ECS Anywhere
            yield (f'{node_id("hybrid", n)}[/"{label("ECS Anywhere servers", f"up to {anywhere.registration_limit}")}'
                   '"/]')
            edges.append(f'  {node_id("hybrid", n)} -->|"{label("SSM activation")}"| {node_id("ecs", n)}')
        else:  # eks-env: an EKS Anywhere cluster, registered through the EKS Connector
            yield f'{node_id("eksa", n)}[/"{label("EKS Anywhere cluster", str(anywhere.provider))}"/]'
            edges.append(f'  {node_id("eksa", n)} -.->|"{label("EKS Connector")}"| {node_id("eks", n)}')
    hybrid = getattr(inputs, "hybrid_nodes", None)
    if hybrid is not None and hybrid.enabled:
        networks = ", ".join(hybrid.remote_node_networks) or "-"
        yield f'{node_id("nodes", n)}[/"{label("EKS hybrid nodes", networks)}"/]'
        edges.append(f'  {node_id("nodes", n)} -->|"{label(str(hybrid.credentials))}"| {node_id("eks", n)}')


def _instance_nodes(env: Environment, inst: ServiceInstance, inst_node: str, edges: list[str]) -> Iterator[str]:
    # Generic over every template's inputs: the diagram draws what an instance has, by field name.
    inputs: object = inst.inputs
    n = env.name
    lb = getattr(env.inputs, "load_balancer", None)
    if getattr(inputs, "loadbalancer_type", None) == "application" and lb is not None and lb.enabled:
        from keel.templates.load_balanced_fargate_svc.inputs import LoadBalancedInputs, listener_rule

        rule = listener_rule(inst.service, inst.name, inputs, env) if isinstance(inputs, LoadBalancedInputs) \
            else None
        if rule is not None:
            route = " ".join(x for x in (rule.host_header, rule.path_pattern) if x)
            edges.append(f'  {node_id("alb", n)} -->|"{label(f"{route} (priority {rule.priority})")}"| {inst_node}')
    elif getattr(inputs, "loadbalancer_type", None) == "network":
        yield f'{inst_node}_nlb[\\"{label("network load balancer")}"/]'
        edges.append(f"  {inst_node}_nlb --> {inst_node}")
    if hasattr(inputs, "api_contract"):  # lambda-api-svc: its own HTTP API
        contract = getattr(inputs, "api_contract", None)
        routes = "contract " + contract if contract else ", ".join(getattr(inputs, "routes", ())) or "-"
        yield f'{inst_node}_api>"{label("HTTP API", routes)}"]'
        edges.append(f"  {inst_node}_api --> {inst_node}")
    subscription = getattr(inputs, "subscription", None)
    sources: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    if subscription is not None:
        sources, types = subscription.sources, subscription.detail_types
    elif hasattr(inputs, "event_sources"):
        sources, types = getattr(inputs, "event_sources", ()), getattr(inputs, "detail_types", ())
    queue = getattr(inputs, "queue", None) is not None or hasattr(inputs, "event_sources")
    if queue:
        yield f'{inst_node}_q[["{label("SQS queue + DLQ")}"]]'
        edges.append(f"  {inst_node}_q --> {inst_node}")
    if sources or types:
        what = ", ".join((*sources, *types))
        edges.append(f'  {node_id("bus", n)} -->|"{label(what)}"| {inst_node + "_q" if queue else inst_node}')
    schedule = getattr(inputs, "schedule_expression", None)
    if schedule:
        zone = getattr(inputs, "schedule_timezone", None)
        yield f'{inst_node}_sched(["{label(schedule, zone or "UTC")}"])'
        edges.append(f"  {inst_node}_sched --> {inst_node}")
    if getattr(inputs, "placement_constraints", None) is not None and hasattr(inputs, "network_mode"):
        where = ", ".join(getattr(inputs, "placement_constraints", ())) or "any server"
        edges.append(f'  {inst_node} -.->|"{label(f"runs on {where}")}"| {node_id("hybrid", n)}')


def _components(model: PlatformModel, environment: str) -> list[Component]:
    return [c for c in getattr(model, "components", ()) if c.environment == environment]


def environments_of(model: PlatformModel, stacks: Collection[str]) -> set[str]:
    """The environments that hold any of these stacks (an environment's own, or an instance's)."""
    out = {e.name for e in model.environments if e.stack_name in stacks}
    out |= {i.environment for i in model.instances if i.stack_name in stacks}
    return out


def page(model: PlatformModel) -> str:
    """docs/platform.md: the diagram in a Markdown page (regenerate with `keel diagram --out docs/platform.md`)."""
    source = Path(model.source).name
    lines = [f"# Platform `{model.name}`", "",
             f"Generated by `keel diagram {source} --out docs/platform.md` from `{source}`; "
             "`keel diagram --check` (run by the tests) fails when it drifts.", "",
             "```mermaid", render(model).rstrip("\n"), "```", "",
             "| stack | kind | name | template | environment |", "|---|---|---|---|---|"]
    lines += [f"| `{e.stack_name}` | environment | {e.name} | `{e.template.label}` | {e.region or '-'} |"
              for e in model.environments]
    lines += [f"| `{i.stack_name}` | service instance | {i.service}/{i.name} | `{i.template.label}` | "
              f"{i.environment} |" for i in model.instances]
    return "\n".join(lines) + "\n"
