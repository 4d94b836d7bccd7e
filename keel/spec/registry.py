"""Reads the template registry: every `keel/templates/<name>/template.yaml`, without importing CDK.

A template folder holds `template.yaml` (name, kind, versions), one Proton-format schema per version,
a CDK-free `inputs` module (typed inputs and cross-field checks) and a `builder` module (CDK). Builders
are imported only when stacks are built, so `keel validate` stays fast. Templates are discovered: a new
folder with a `template.yaml` is a new template, nothing else to register.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

from keel.contract.outputs import OUTPUTS_CLASSES
from keel.contract.registry import Registry, RegistryError, Template, TemplateVersion, Version
from keel.contract.schema import SchemaDefinitionError, load_proton_schema
from keel.spec.paths import OutsideProject, inside_project
from keel.spec.proton import TemplateDirProblem, is_proton_layout, load_proton_template
from keel.spec.yamlio import YamlReadError, read_packaged_yaml, read_yaml, read_yaml_mapping

#: Keel's own templates: the folders of the `keel.templates` package (found by path, never imported here).
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def load_template(folder: Path, *, packaged: bool = False) -> Template:
    """`packaged`: one of Keel's own templates, read by the faster parser (see `read_packaged_yaml`)."""
    meta_file = folder / "template.yaml"
    meta = read_yaml_mapping(meta_file, packaged=packaged)
    where = str(meta_file)
    try:
        name, kind = meta["name"], meta["kind"]
        description = str(meta.get("description", "")).strip()
        raw_versions = meta["versions"]
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{where}: missing {exc}") from None
    if kind not in ("environment", "service"):
        raise RegistryError(f"{where}:kind: expected environment or service, got {kind!r}")
    if not isinstance(raw_versions, Mapping) or not raw_versions:
        raise RegistryError(f"{where}:versions: expected a mapping of \"major.minor\" to version details")
    versions = []
    for text, details in raw_versions.items():
        try:
            version = Version.parse(str(text))
        except ValueError as exc:
            raise RegistryError(f"{where}:versions: {exc} (quote versions: \"1.0\")") from None
        schema_file = folder / details["schema"]
        try:
            schemas = load_proton_schema((read_packaged_yaml if packaged else read_yaml)(schema_file),
                                         source=str(schema_file))
        except SchemaDefinitionError as exc:
            raise RegistryError(str(exc)) from None
        expected_root = "environment" if kind == "environment" else "service"
        if expected_root not in schemas:
            raise RegistryError(f"{schema_file}: a {kind} template needs {expected_root}_input_type")
        compatible = []
        for entry in details.get("compatible_environments", ()) or ():
            env_name, _, major = str(entry).partition(":")
            if not major.isdigit():
                raise RegistryError(f"{where}:versions.{text}.compatible_environments: "
                                    f"expected name:major, got {entry!r}")
            compatible.append((env_name, int(major)))
        outputs_class = str(details.get("environment_outputs", meta.get("environment_outputs", "NetworkOutputs")))
        if outputs_class not in OUTPUTS_CLASSES:
            raise RegistryError(f"{where}:versions.{text}.environment_outputs: unknown outputs class "
                                f"{outputs_class!r} (known: {', '.join(sorted(OUTPUTS_CLASSES))})")
        if kind == "service" and not compatible:
            raise RegistryError(f"{where}:versions.{text}: a service template lists compatible_environments")
        versions.append(TemplateVersion(
            name=name, kind=kind, version=version, description=description,
            schema_file=schema_file, schemas=schemas, inputs=details["inputs"],
            builder=details["builder"], pipeline_inputs=details.get("pipeline_inputs"),
            compatible_environments=tuple(compatible), environment_outputs=outputs_class,
            outputs=_string_map(details.get("outputs", meta.get("outputs")), f"{where}:versions.{text}.outputs"),
            notes=str(details.get("notes", "") or "").strip(),
            acknowledged_changes=_string_map(details.get("acknowledged_changes"),
                                             f"{where}:versions.{text}.acknowledged_changes")))
    versions.sort(key=lambda v: v.version)
    return Template(name=name, kind=kind, description=description, folder=folder,
                    versions=tuple(versions))


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise RegistryError(f"{where}: expected a mapping of names to non-empty descriptions")
    return {str(k): str(v).strip() for k, v in value.items()}


def load_registry(root: Path = TEMPLATES_DIR) -> Registry:
    templates: dict[str, Template] = {}
    for meta in sorted(root.glob("*/template.yaml")):
        template = load_template(meta.parent, packaged=root == TEMPLATES_DIR)
        if template.name in templates:
            raise RegistryError(f"{meta}: template name {template.name!r} is defined twice")
        templates[template.name] = template
    return Registry(templates=templates)


@cache
def default_registry() -> Registry:
    return load_registry()


# Proton-format template folders (issue 15)
def templates_in(folder: Path, *, prefix: str, origin: str, root: Path) -> list[Template]:
    """The templates of one `template_dirs` folder: each sub-folder Keel-native (`template.yaml`) or in Proton's
    layout (`v<major>/schema/schema.yaml`). A sub-folder that leads outside the project is refused."""
    found: list[Template] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            inside_project(root, folder, sub.name)
        except OutsideProject as exc:
            raise TemplateDirProblem(str(sub), "", f"cannot use template folder: it {exc}", sub.name,
                                     exc.expected) from None
        if (sub / "template.yaml").is_file():
            try:
                template = load_template(sub)
            except (RegistryError, KeyError, TypeError) as exc:
                raise TemplateDirProblem(str(sub / "template.yaml"), "", f"broken template definition: {exc}") \
                    from None
            except YamlReadError as exc:
                raise TemplateDirProblem(exc.file, exc.path, exc.message, None, exc.expected) from None
            name = prefix + template.name
            found.append(replace(template, name=name, origin=origin,
                                 versions=tuple(replace(v, name=name) for v in template.versions)))
        elif is_proton_layout(sub):
            found.append(load_proton_template(sub, prefix=prefix, origin=origin))
    return found


def with_template_dirs(base: Registry, folders: Sequence[tuple[Path, str, str]], *, root: Path) \
        -> tuple[Registry, list[TemplateDirProblem]]:
    """`base` plus the templates of each (folder, prefix, where) entry. A name taken twice is a problem that
    names both places; the registry's pairing check (a service whose environments hand on what it needs) too."""
    templates = dict(base.templates)
    places = {name: f"the built-in template {name} ({t.folder})" for name, t in base.templates.items()}
    problems: list[TemplateDirProblem] = []
    for folder, prefix, where in folders:
        try:
            found = templates_in(folder, prefix=prefix, origin=str(folder), root=root)
        except TemplateDirProblem as exc:
            problems.append(exc)
            continue
        for template in found:
            here = f"{where} ({template.folder})"
            known = templates.get(template.name)
            if known is not None and known.folder.resolve() == template.folder.resolve():
                continue  # the same folder, already read (a verb's registry handed to the loader)
            if template.name in places:
                problems.append(TemplateDirProblem(
                    str(template.folder), "",
                    f"template name \"{template.name}\" collides with {places[template.name]}",
                    template.name, f"a name no other template has (give {where} a prefix)"))
                continue
            places[template.name] = f"the template {template.name} of {here}"
            templates[template.name] = template
    try:
        return Registry(templates=templates), problems
    except RegistryError as exc:
        problems.append(TemplateDirProblem(str(folders[0][0]) if folders else "", "", str(exc)))
        return base, problems
