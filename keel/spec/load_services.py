"""The platform's services: each entry (inline or a Proton `spec_file`) -> a Service and its instances, each
instance judged against its environment (the pairing, the template's checks, components, sources)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from keel.contract.naming import keel_name
from keel.contract.registry import TemplateVersion
from keel.spec.components import CloudFormationInputs, Component, check_component, host_of, read_add_on
from keel.spec.errors import MISSING, join_path
from keel.spec.load_checks import CrossChecks
from keel.spec.load_context import LoadContext, as_list, overrides
from keel.spec.load_shared import component_kind, is_use, shared_uses
from keel.spec.model import Environment, Service, ServiceInstance
from keel.spec.platform_schema import COMPONENT, NAME, SVC_SPEC_FILE
from keel.spec.proton import ProtonInputs, Rendered, service_context, service_repository


class ServiceLoader:
    def __init__(self, context: LoadContext, cross: CrossChecks) -> None:
        self.context = context
        self.cross = cross
        self.problems = context.problems
        self.file = context.file
        self._reported: set[tuple[Any, ...]] = set()  # pipeline problems once, not once per instance

    def service(self, raw: Mapping[str, Any], where: str, envs: Mapping[str, Environment],
                declared: Sequence[str]) -> Service | None:
        resolved = self.context.template(raw["template"], "service", self.file, f"{where}.template")
        source = self._source(raw, where)
        if source is None or resolved is None:
            return None
        file, prefix, pipeline_raw, instances_raw = source
        ref, template = resolved
        pipeline = self._pipeline(template, pipeline_raw, file, join_path(prefix, "pipeline"))
        instances: list[ServiceInstance] = []
        seen: dict[str, str] = {}
        declared_keys = {keel_name(d) for d in declared}
        for n, inst in enumerate(instances_raw):
            ipath = join_path(prefix, "instances", n)
            name = self._instance_name(inst["name"], seen, file, ipath)
            if name is None:
                continue
            env = self._environment(template, inst, envs, declared, declared_keys, file, ipath)
            if env is None:
                continue
            instance = self._instance(template, raw["name"], name, inst, env, pipeline, file, prefix, ipath)
            if instance is not None:
                instances.append(instance)
        return Service(name=raw["name"], template=template, pinned=ref, pipeline=pipeline,
                       instances=tuple(instances), tags=dict(raw.get("tags") or {}), source=file)

    def _source(self, raw: Mapping[str, Any], where: str) -> tuple[str, str, object, list[Any]] | None:
        """(file, path prefix, raw pipeline, raw instances), inline or from a Proton `spec_file`."""
        if "spec_file" not in raw:
            return self.file, where, raw.get("pipeline"), raw.get("instances") or []
        clash = [k for k in ("pipeline", "instances") if k in raw]
        if clash:
            self.problems.add(self.file, f"{where}.{clash[0]}", "cannot be combined with spec_file",
                              MISSING, "pipeline and instances in the spec file only")
            return None
        found = self.context.spec_file(raw, where, SVC_SPEC_FILE)
        if found is None:
            return None
        doc, file = found
        return file, "", doc.get("pipeline"), doc.get("instances") or []

    def _instance_name(self, given: str, seen: dict[str, str], file: str, ipath: str) -> str | None:
        """The instance's Keel name; a second instance of the same (Keel) name is the problem."""
        name = self.context.keel_name(given, file, f"{ipath}.name")
        if name is None:
            return None
        if name in seen and seen[name] == given:
            self.problems.add(file, f"{ipath}.name", "duplicate instance name", name,
                              "each instance name once per service")
        elif name in seen:
            self.problems.add(file, f"{ipath}.name", f"gives the same stack name as instance \"{seen[name]}\"",
                              given, "names that differ in more than case, _ and -")
        seen.setdefault(name, given)
        return name

    def _environment(self, template: TemplateVersion, inst: Mapping[str, Any], envs: Mapping[str, Environment],
                     declared: Sequence[str], declared_keys: set[str], file: str, ipath: str) -> Environment | None:
        """The instance's environment, when it loaded and the template supports it."""
        env = envs.get(keel_name(str(inst["environment"])))
        if env is None:
            if keel_name(str(inst["environment"])) not in declared_keys:
                self.problems.add(file, f"{ipath}.environment", f"unknown environment \"{inst['environment']}\"",
                                  MISSING, "one of: " + ", ".join(declared))
            # Its own inputs are still judged: a wrong environment must not hide a wrong port.
            self.context.inputs(template.input_schema, dict(inst.get("spec") or {}), file, f"{ipath}.spec",
                                template.inputs_type())
            return None  # a broken environment is reported where it is declared
        if not template.accepts_environment(env.template):
            allowed = ", ".join(f"{n}:{m}" for n, m in template.compatible_environments)
            self.problems.add(file, f"{ipath}.environment",
                              f"environment \"{env.name}\" uses {env.template.name}:{env.template.version.major}, "
                              f"which {template.label} does not support", env.name,
                              f"an environment of template {allowed}")
            return None
        return env

    def _instance(self, template: TemplateVersion, service: str, name: str, inst: Mapping[str, Any],
                  env: Environment, pipeline: object, file: str, prefix: str, ipath: str) -> ServiceInstance | None:
        inputs = self.context.inputs(template.input_schema, dict(inst.get("spec") or {}), file,
                                     f"{ipath}.spec", template.inputs_type())
        if inputs is None:
            return None
        self.context.checks(template, inputs, env, file, f"{ipath}.spec")
        self.cross.claim(template, service, name, inputs, env, file, f"{ipath}.spec")
        self._sources(template, inputs, pipeline, file, ipath, join_path(prefix, "pipeline"))
        rendered = None
        if template.proton is not None:
            rendered = self._render(template, service, name, inputs, env, pipeline, file, ipath)
            if rendered is None:
                return None
        self.cross.refers(file, f"{ipath}.spec", env.name, template, inputs)
        components = self._components(inst.get("components"), inputs, env.name, service, file, ipath)
        # shared data stores (issue 15): the environment's components it uses (`{use: NAME, access: ...}`)
        shared = shared_uses(self.context, inst.get("components"), env=env, file=file, ipath=ipath) \
            if host_of(inputs) is not None else ()
        return ServiceInstance(name=name, service=service, environment=env.name,
                               template=template, inputs=inputs, source=file,
                               pinned_stack_name=inst.get("stack_name"), rendered=rendered,
                               components=components,
                               overrides=overrides(inst.get("overrides"), file, ipath), shared_components=shared)

    def _render(self, template: TemplateVersion, service: str, name: str, inputs: object, env: Environment,
                pipeline: object, file: str, ipath: str) -> Rendered | None:
        assert isinstance(inputs, ProtonInputs) and env.rendered is not None  # paired: a Proton env
        env_inputs = env.inputs.values if isinstance(env.inputs, ProtonInputs) else None
        return self.context.render(template, service_context(
            service=service, instance=name, inputs=inputs.values,
            pipeline=pipeline.values if isinstance(pipeline, ProtonInputs) else None,
            environment=env.name, account=env.account, environment_outputs=env.rendered.outputs,
            environment_inputs=env_inputs, repository=service_repository(self.context.delivery, service)),
            file, ipath)

    # components (issue 17)
    def _components(self, raw: object, inputs: object, environment: str, service: str, file: str,
                    ipath: str) -> tuple[Component, ...]:
        entries = as_list(raw)
        if not entries:
            return ()
        host = host_of(inputs)
        if host is None:
            self.problems.add(file, f"{ipath}.components", "this template takes no components", MISSING,
                              "no components (they attach to a container task or a Lambda function)")
            return ()
        base = Path(file).resolve().parent if Path(file).is_absolute() else (Path.cwd() / file).resolve().parent
        out: list[Component] = []
        names: set[str] = set()
        ids: dict[str, str] = {}  # cloudformation logical IDs -> the component that brought them
        for n, entry in enumerate(entries):
            if is_use(entry):  # shared data stores (issue 15): keel.spec.load_shared
                continue
            name = entry.get("name") if isinstance(entry, Mapping) else None
            where = join_path(ipath, "components", n)
            if isinstance(name, str) and re.fullmatch(str(NAME["pattern"]), name):
                where = f"{ipath}.components[{name}]"
            if self.context.structure(entry, COMPONENT, file, where):
                continue
            assert isinstance(entry, Mapping)
            kind = component_kind(self.context, entry, file, where)
            if kind is None:
                continue
            if name in names:
                self.problems.add(file, f"{where}.name", "duplicate component name", name,
                                  "each component name once per instance")
                continue
            names.add(str(name))
            values = {k: v for k, v in entry.items() if k not in ("kind", "name")}
            parsed = self.context.inputs(kind.schema, values, file, where, kind.inputs)
            if parsed is None:
                continue
            problems = list(check_component(kind, str(name), parsed, host, environment=environment, service=service))
            add_on = None
            if isinstance(parsed, CloudFormationInputs):
                add_on, more = read_add_on(parsed, base=base, root=self.context.root, app=self.context.platform_name)
                problems += more
                for logical in add_on.logical_ids if add_on else ():
                    if logical in ids:
                        problems.append(("template_file", f"declares resource {logical}, which component "
                                         f"{ids[logical]} declares too (one stack holds both)",
                                         parsed.template_file, "distinct logical IDs across an instance's add-ons"))
                    ids.setdefault(logical, str(name))
            for path, message, got, expected in problems:
                self.problems.add(file, join_path(where, path), message, got, expected)
            if not problems:
                out.append(Component(kind=kind.name, name=str(name), inputs=parsed, environment=environment,
                                     service=service, add_on=add_on))
        return tuple(out)

    def _sources(self, template: TemplateVersion, inputs: object, pipeline: object, file: str, ipath: str,
                 pipeline_path: str) -> None:
        check = template.source_checks()
        if check is None:
            return
        base = Path(file).resolve().parent if Path(file).is_absolute() else (Path.cwd() / file).resolve().parent
        for section, path, message, got, expected in check(inputs, pipeline, base=base, root=self.context.root):
            where = pipeline_path if section == "pipeline" else f"{ipath}.spec"
            problem = (file, join_path(where, path), message, got, expected)
            if problem not in self._reported:
                self._reported.add(problem)
                self.problems.add(*problem)

    def _pipeline(self, template: TemplateVersion, raw: object, file: str, path: str) -> object:
        schema, cls = template.pipeline_schema, template.pipeline_type()
        if schema is None or cls is None:
            if raw:
                self.problems.add(file, path, f"{template.label} takes no pipeline inputs", raw, "no pipeline")
            return None
        return self.context.inputs(schema, dict(raw) if isinstance(raw, Mapping) else {}, file, path, cls)
