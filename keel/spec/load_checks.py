"""Checks across instances: what no two of them may share (names, stack names, what a template's `claims` hook
says one holds), and what one names of another (a template's `references` and `component_references` hooks).
The rules themselves live in the templates' hooks; this module only keeps the books."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, cast

from keel.contract.naming import SHARED
from keel.contract.offers import Claim
from keel.contract.registry import TemplateVersion
from keel.spec.errors import join_path
from keel.spec.load_context import LoadContext, as_list, named_path
from keel.spec.model import Environment, Service


class CrossChecks:
    def __init__(self, context: LoadContext) -> None:
        self.context = context
        self.problems = context.problems
        self.file = context.file
        self.claims: dict[tuple[str, Hashable], str] = {}  # (environment, claim key) -> who holds it
        # (file, spec path, environment, template, inputs) of instances that may name other services (issue 16)
        self.referrers: list[tuple[str, str, str, TemplateVersion, object]] = []

    def claim(self, template: TemplateVersion, service: str, instance: str, inputs: object,
              env: Environment, file: str, prefix: str) -> None:
        """What one instance takes that no other instance of its environment may (a template's `claims` hook:
        load-balanced-fargate-svc's listener rule priority and conditions); the second claimant is the problem."""
        hook = template.inputs_hook("claims")
        if hook is None:
            return
        me = f"service \"{service}\" instance \"{instance}\""
        for claim in cast("Iterable[Claim]", hook(service, instance, inputs, env)):
            other = self.claims.setdefault((env.name, claim.key), me)
            if other != me:
                self.problems.add(file, join_path(prefix, claim.path), claim.message.format(other=other), claim.got,
                                  claim.expected)

    def refers(self, file: str, prefix: str, env: str, template: TemplateVersion, inputs: object) -> None:
        """An instance whose template may name other services: judged once every service is loaded."""
        self.referrers.append((file, prefix, env, template, inputs))

    def references(self, services: Sequence[Service], declared: Sequence[tuple[str, str]],
                   declared_components: Sequence[tuple[str, str, str, str]] = ()) -> None:
        """Other services an instance names (a template's `references(inputs)` hook: a worker's SNS topics' owners)
        have an instance in the same environment, and that instance owns the components it names (the
        `component_references(inputs)` hook: each topic is an sns-topic component). A declared instance or
        component that failed to load has its own problems."""
        placed = {(i.service, i.environment) for s in services for i in s.instances} | set(declared)
        services_named = {name for name, _ in declared}
        owned: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for s in services:
            for i in s.instances:
                owned.setdefault((i.service, i.environment), set()).update((c.kind, c.name) for c in i.components)
        for service, env_name, kind, name in declared_components:
            owned.setdefault((service, env_name), set()).add((kind, name))
        for file, prefix, env, template, inputs in self.referrers:
            missing = self._services_named(file, prefix, env, template, inputs, placed, services_named)
            self._components_named(file, prefix, env, template, inputs, missing, owned)

    def _services_named(self, file: str, prefix: str, env: str, template: TemplateVersion, inputs: object,
                        placed: set[tuple[str, str]], services_named: set[str]) -> set[str]:
        hook = template.inputs_hook("references")
        missing: set[str] = set()
        for path, other in cast("Iterable[tuple[str, str]]", hook(inputs) if hook else ()):
            if (other, env) in placed:
                continue
            missing.add(other)
            why = f"has no instance in environment \"{env}\"" if other in services_named else \
                "is not a service of the platform"
            self.problems.add(file, join_path(prefix, path), f"names service \"{other}\", which {why}", other,
                              f"a service with an instance in environment \"{env}\"")
        return missing

    def _components_named(self, file: str, prefix: str, env: str, template: TemplateVersion, inputs: object,
                          missing: set[str], owned: Mapping[tuple[str, str], set[tuple[str, str]]]) -> None:
        wanted = template.inputs_hook("component_references")
        for path, other, kind, name in cast("Iterable[tuple[str, str, str, str]]",
                                            wanted(inputs) if wanted else ()):
            if other in missing or (kind, name) in owned.get((other, env), set()):
                continue
            names = sorted(n for k, n in owned.get((other, env), set()) if k == kind)
            self.problems.add(file, join_path(prefix, path),
                              f"names {kind} \"{name}\" of service \"{other}\", whose instance in environment "
                              f"\"{env}\" owns no {kind} component of that name", name,
                              f"the name of one of its {kind} components (" +
                              (", ".join(names) or f"it has none: add {{kind: {kind}, name: {name}}} to its "
                               "components") + ")")

    def unique(self, names: Sequence[tuple[str, str]], where: str, what: str) -> None:
        seen: set[str] = set()
        for name, _ in names:
            if name in seen:
                self.problems.add(self.file, f"{where}[{name}].name", f"duplicate {what} name", name,
                                  f"each {what} name once")
            seen.add(name)

    def reserved_names(self, doc: Mapping[str, Any]) -> None:
        """No service takes a name an environment's outputs or the shared config path live under."""
        reserved = self.context.reserved
        for i, raw in enumerate(as_list(doc.get("services"))):
            name = raw.get("name") if isinstance(raw, Mapping) else None
            if isinstance(name, str) and name in reserved:
                self.problems.add(self.file, f"{named_path(doc, ['services', i])}.name",
                                  f"is reserved: {reserved[name]}", name, "another service name")

    def config_collisions(self, environments: Sequence[Environment], services: Sequence[Service]) -> None:
        """A config parameter never takes a name Keel publishes under the same path: `/keel/<env>/<service>/<key>`
        is also where the service's instances publish their outputs, and `.../components/<name>/` where their
        components' (for `shared`, the environment's components') discovery parameters go. Two parameters of
        one name would only fail at deploy, in whichever stack comes second."""
        for env in environments:
            config = getattr(env.inputs, "config", None)
            if config is None or env.name not in self.context.config_sites:
                continue
            file, prefix = self.context.config_sites[env.name]
            for n, entry in enumerate(config.parameters):
                taken = self._published(env, services, entry.service, entry.key)
                if taken:
                    self.problems.add(file, join_path(prefix, "config", "parameters", n, "key"),
                                      f"collides with {taken} (/keel/{env.name}/{entry.service}/{entry.key})",
                                      entry.key, "a key no output or component of the service publishes")

    @staticmethod
    def _published(env: Environment, services: Sequence[Service], service: str, key: str) -> str | None:
        """What Keel itself publishes at `/keel/<env>/<service>/<key>` (None: nothing)."""
        if service == SHARED:
            owners = [(f"environment component {c.name}", c.name) for c in env.components]
        else:
            owners = []
            for svc in services:
                for inst in svc.instances:
                    if svc.name != service or inst.environment != env.name:
                        continue
                    if key in inst.template.outputs:
                        return f"output {key} of {service}'s template {inst.template.label}"
                    owners += [(f"the discovery parameters of {service}'s component {c.name}", c.name)
                               for c in inst.components]
        for what, name in owners:
            if key == f"components/{name}" or key.startswith(f"components/{name}/"):
                return f"{what}'s discovery parameters" if what.startswith("environment") else what
        return None

    def stack_names(self, environments: Sequence[Environment], services: Sequence[Service]) -> None:
        owners: dict[str, str] = {}
        entries = [(e.stack_name, f"environments[{e.name}]") for e in environments]
        entries += [(i.stack_name, f"services[{s.name}].instances[{n}]")
                    for s in services for n, i in enumerate(s.instances)]
        for name, where in entries:
            key = name.lower()
            if key in owners and owners[key] != where:
                self.problems.add(self.file, f"{where}.name", f"stack name \"{name}\" collides with {owners[key]}",
                                  name, "names that give distinct stack names (keel-<env>, keel-<service>-<instance>)")
            owners.setdefault(key, where)
