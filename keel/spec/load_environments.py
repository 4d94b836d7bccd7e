"""The platform's environments: each entry -> an Environment (its template, location, inputs, Proton render)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from keel.contract.naming import SHARED, keel_name, stack_name
from keel.contract.offers import EnvironmentInputs
from keel.spec.errors import MISSING, join_path
from keel.spec.load_context import LoadContext, as_list, overrides
from keel.spec.load_shared import environment_components
from keel.spec.model import Environment
from keel.spec.platform_schema import ENV_SPEC_FILE
from keel.spec.proton import ProtonInputs, environment_context


class EnvironmentLoader:
    def __init__(self, context: LoadContext) -> None:
        self.context = context
        self.problems = context.problems
        self.file = context.file

    def environment(self, raw: Mapping[str, Any], where: str) -> Environment | None:
        ctx = self.context
        resolved = ctx.template(raw["template"], "environment", self.file, f"{where}.template")
        name = ctx.keel_name(raw["name"], self.file, f"{where}.name")
        ok = self._location(raw, where)
        source = self._spec(raw, where)
        if resolved is None or source is None:
            return None
        ref, template = resolved
        spec, file, prefix = source
        inputs = ctx.inputs(template.input_schema, spec, file, prefix, template.inputs_type())
        if inputs is None or not ok or name is None:
            return None
        rendered = None
        if template.proton is not None:
            assert isinstance(inputs, ProtonInputs)
            rendered = ctx.render(template, environment_context(name=raw["name"], inputs=inputs.values,
                                                                account=raw.get("account")), file, where)
            if rendered is None:
                return None
        env = Environment(
            # An environment template's inputs class answers offers() (a registry test holds every one to it).
            name=name, template=template, pinned=ref, inputs=cast(EnvironmentInputs, inputs),
            account=raw.get("account"), region=raw.get("region"),
            availability_zones=tuple(raw.get("availability_zones") or ()),
            production=bool(raw.get("production", False)), tags=dict(raw.get("tags") or {}), source=file,
            pinned_stack_name=raw.get("stack_name"), rendered=rendered,
            overrides=overrides(raw.get("overrides"), self.file, where),
            # shared data stores (issue 15)
            components=environment_components(ctx, raw.get("components"), environment=name, template=template,
                                              file=self.file, where=where))
        ctx.checks(template, inputs, env, file, prefix)
        self._config_services(inputs, file, prefix)
        ctx.config_sites[name] = (file, prefix)
        return env

    def _location(self, raw: Mapping[str, Any], where: str) -> bool:
        """Account, region and availability zones agree (synth never looks them up); False with the problems."""
        region = raw.get("region")
        azs = tuple(raw.get("availability_zones") or ())
        ok = True
        if raw.get("account") and not region:
            self.problems.add(self.file, f"{where}.region", "is required when account is set", MISSING,
                              "a region such as eu-west-1")
            ok = False
        if region and not azs:
            self.problems.add(self.file, f"{where}.availability_zones",
                              "is required when region is set (synth never looks AZs up)", MISSING,
                              f"a list such as [{region}a, {region}b]")
            ok = False
        for n, az in enumerate(azs):
            if region and not az.startswith(region):
                self.problems.add(self.file, f"{where}.availability_zones[{n}]",
                                  f"is not in region {region}", az, f"{region} followed by a letter")
                ok = False
        return ok

    def _config_services(self, inputs: object, file: str, prefix: str) -> None:
        """Config plane entries name a service: never one of the environment's own output paths."""
        config = getattr(inputs, "config", None)
        if config is None:
            return
        reserved = self.context.reserved
        for group in ("parameters", "secrets"):
            for n, entry in enumerate(getattr(config, group)):
                if entry.service in reserved and entry.service != SHARED:
                    self.problems.add(file, join_path(prefix, "config", group, n, "service"),
                                      f"is reserved: {reserved[entry.service]}", entry.service,
                                      "a service name, or shared")

    def _spec(self, raw: Mapping[str, Any], where: str) -> tuple[dict[str, Any], str, str] | None:
        """(inputs, file, path prefix) from an inline `spec` or a Proton `spec_file`."""
        if "spec" in raw and "spec_file" in raw:
            self.problems.add(self.file, f"{where}.spec_file", "cannot be combined with an inline spec",
                              raw["spec_file"], "either spec or spec_file")
            return None
        if "spec_file" not in raw:
            return dict(raw.get("spec") or {}), self.file, f"{where}.spec"
        found = self.context.spec_file(raw, where, ENV_SPEC_FILE)
        if found is None:
            return None
        doc, shown = found
        return dict(doc.get("spec") or {}), shown, "spec"

    def unique(self, doc: Mapping[str, Any]) -> None:
        """One environment per Keel name: `Beta` and `beta` (or `prod_eu` and `prod-eu`) would share a stack."""
        first: dict[str, str] = {}
        for raw in as_list(doc.get("environments")):
            name = raw.get("name") if isinstance(raw, Mapping) else None
            if not isinstance(name, str):
                continue
            key = keel_name(name)
            if key not in first:
                first[key] = name
            elif first[key] == name:
                self.problems.add(self.file, f"environments[{name}].name", "duplicate environment name", name,
                                  "each environment name once")
            else:
                self.problems.add(self.file, f"environments[{name}].name",
                                  f"gives the same stack name \"{stack_name(key)}\" as environment \"{first[key]}\"",
                                  name, "names that differ in more than case, _ and -")
