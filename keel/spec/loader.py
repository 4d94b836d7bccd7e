"""platform.yaml (+ Proton spec files) -> PlatformModel, or one SpecError listing every problem.

Loading is split by responsibility: `load_context` reads and resolves (files, spec files, templates, inputs),
`load_environments` and `load_services` build the model's entries, `load_checks` judges instances against each
other; `_Loader` runs them in order over one platform file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from keel.contract.naming import keel_name
from keel.contract.registry import Registry
from keel.spec.delivery import parse_delivery
from keel.spec.images import resolve_overrides
from keel.spec.load_checks import CrossChecks
from keel.spec.load_context import LoadContext, as_list, named_path, reserved_service_names
from keel.spec.load_environments import EnvironmentLoader
from keel.spec.load_services import ServiceLoader
from keel.spec.model import Delivery, Environment, PlatformModel, Service
from keel.spec.platform_schema import PLATFORM_SCHEMA
from keel.spec.registry import default_registry
from keel.spec.yamlio import YamlReadError

__all__ = ["PLATFORM_SCHEMA", "load_platform", "platform_registry", "reserved_service_names"]


def load_platform(path: str | Path, *, registry: Registry | None = None,
                  texts: Mapping[Path, str] | None = None,
                  image_overrides: Mapping[str, Any] | None = None) -> PlatformModel:
    """Read and validate a platform; raises SpecError with every problem, or returns the model.

    `texts` maps resolved file paths to contents that replace what is on disk: `keel upgrade` checks a
    rewritten platform this way before it writes anything. `image_overrides` maps service names to the
    images their pipelines built (app.py reads them from the `keel:image:<service>` context entries).
    """
    loader = _Loader(Path(path), registry or default_registry(), texts or {})
    loader.image_overrides = dict(image_overrides or {})
    return loader.load()


def platform_registry(path: str | Path, *, registry: Registry | None = None) -> Registry:
    """The registry a platform file sees: Keel's templates plus its `template_dirs` (SpecError on a bad folder).
    `keel templates`, `outdated` and `upgrade` use it, so a Proton-format template is listed and upgraded too."""
    context = LoadContext(Path(path), registry or default_registry())
    try:
        doc = context.yaml(context.path, context.file)
    except YamlReadError as exc:
        context.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
        context.problems.raise_if_any()
    entries = doc.get("template_dirs") if isinstance(doc, Mapping) else None
    if entries is not None:  # judged as `keel validate` judges it, so a wrong-typed one is located, not read
        before = len(context.problems.items)
        context.structure(entries, PLATFORM_SCHEMA["properties"]["template_dirs"], context.file, "template_dirs")
        if len(context.problems.items) == before:
            context.template_dirs(entries)
    context.problems.raise_if_any()
    return context.registry


class _Loader:
    def __init__(self, path: Path, registry: Registry, texts: Mapping[Path, str] | None = None) -> None:
        self.context = LoadContext(path, registry, texts)
        self.problems = self.context.problems
        self.file = self.context.file
        self.image_overrides: dict[str, Any] = {}
        self.cross = CrossChecks(self.context)

    def load(self) -> PlatformModel:
        doc = self._document()
        bad = self.context.structure(doc, PLATFORM_SCHEMA, self.file)
        if not any(p.startswith("template_dirs") for p in bad):  # the key, or one of its entries
            self.context.template_dirs(doc.get("template_dirs") or [])
        environments = self._environments(doc, bad)
        by_name = {e.name: e for e in environments}
        declared_envs = [str(e.get("name")) for e in as_list(doc.get("environments")) if isinstance(e, Mapping)]
        services = self._services(doc, bad, by_name, declared_envs)
        self.cross.stack_names(environments, services)
        self.cross.config_collisions(environments, services)
        declared_services = [str(s.get("name")) for s in as_list(doc.get("services")) if isinstance(s, Mapping)]
        services = self._with_images(services, by_name, declared_services)
        delivery = None
        if isinstance(doc.get("delivery"), Mapping) and not any(p.startswith("delivery") for p in bad):
            delivery = parse_delivery(doc["delivery"], file=self.file, problems=self.problems,
                                      environments=environments, services=services,
                                      declared_environments=[keel_name(e) for e in declared_envs])
        self.problems.raise_if_any()
        return self._model(doc, environments, services, delivery)

    def _document(self) -> Mapping[str, Any]:
        """The platform file as a mapping; anything else is the one problem (raised at once)."""
        try:
            doc = self.context.yaml(self.context.path, self.file)
        except YamlReadError as exc:
            self.problems.add(exc.file, exc.path, exc.message, exc.got, exc.expected)
            self.problems.raise_if_any()
        if not isinstance(doc, Mapping):
            self.problems.add(self.file, "", "the platform file must be a mapping",
                              "an empty file" if doc is None else f"a {type(doc).__name__}",
                              "keys name, environments, services")
            self.problems.raise_if_any()
        assert isinstance(doc, Mapping)  # raise_if_any raised otherwise
        self.context.platform_name = str(doc.get("name", "keel"))
        return doc

    def _environments(self, doc: Mapping[str, Any], bad: set[str]) -> list[Environment]:
        loader = EnvironmentLoader(self.context)
        environments: list[Environment] = []
        for i, raw in enumerate(as_list(doc.get("environments"))):
            where = named_path(doc, ["environments", i])
            if where in bad or not isinstance(raw, Mapping):
                continue
            env = loader.environment(raw, where)
            if env is not None:
                environments.append(env)
        loader.unique(doc)
        return environments

    def _services(self, doc: Mapping[str, Any], bad: set[str], by_name: Mapping[str, Environment],
                  declared_envs: Sequence[str]) -> list[Service]:
        loader = ServiceLoader(self.context, self.cross)
        services: list[Service] = []
        self.context.delivery = doc.get("delivery")
        for i, raw in enumerate(as_list(doc.get("services"))):
            where = named_path(doc, ["services", i])
            if where in bad or not isinstance(raw, Mapping):
                continue
            svc = loader.service(raw, where, by_name, declared_envs)
            if svc is not None:
                services.append(svc)
        self.cross.unique([(s.name, "") for s in services], "services", "service")
        declared = [raw for raw in as_list(doc.get("services")) if isinstance(raw, Mapping)]
        self.cross.references(services, [(str(s.get("name")), str(i.get("environment")))
                                         for s in declared for i in as_list(s.get("instances"))
                                         if isinstance(i, Mapping)],
                              [(str(s.get("name")), str(i.get("environment")), str(c.get("kind")), str(c.get("name")))
                               for s in declared for i in as_list(s.get("instances")) if isinstance(i, Mapping)
                               for c in as_list(i.get("components")) if isinstance(c, Mapping)])
        self.cross.reserved_names(doc)
        return services

    def _with_images(self, services: list[Service], envs: Mapping[str, Environment],
                     declared: Sequence[str]) -> list[Service]:
        """Each instance of an overridden service runs the pipeline's image (checked first). A service
        that failed to load has its own problems reported; its override is not judged."""
        loaded = {s.name for s in services}
        overrides = {k: v for k, v in self.image_overrides.items() if k in loaded or k not in declared}
        if not overrides:
            return services
        images, problems = resolve_overrides(overrides, services, environments=envs)
        self.problems.extend(problems)
        return [replace(s, instances=tuple(replace(i, image_override=images[s.name]) for i in s.instances))
                if s.name in images else s for s in services]

    def _model(self, doc: Mapping[str, Any], environments: Sequence[Environment], services: Sequence[Service],
               delivery: Delivery | None) -> PlatformModel:
        return PlatformModel(name=str(doc.get("name", "keel")), source=self.file,
                             environments=tuple(environments), services=tuple(services), delivery=delivery,
                             imported_compliance=str((doc.get("compliance") or {}).get("imported", "fail")),
                             notes=tuple(self.context.notes))
