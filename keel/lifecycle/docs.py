"""`keel docs --out DIR`: one Markdown page per template version, generated from the registry.

Everything on a page comes from the registry (template.yaml, the version's schema, its notes and
outputs, the compatibility of the previous minor): regenerate and it cannot drift. `--check` compares
an existing folder with what would be generated (for CI).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.contract.registry import Registry, TemplateVersion
from keel.contract.schema import InputSchema, iter_properties
from keel.lifecycle.compat import compare_versions

_SECTION_TITLES = {"environment": "Environment inputs (`spec`)", "service": "Instance inputs (`spec`)",
                   "pipeline": "Pipeline inputs (`pipeline`)"}


def type_text(prop: Mapping[str, Any]) -> str:
    t = str(prop.get("type", "?"))
    if t == "array" and isinstance(prop.get("items"), dict):
        return f"list of {prop['items'].get('type', '?')}"
    return t


def default_text(prop: Mapping[str, Any]) -> str:
    if "default" not in prop:
        return "-"
    d = prop["default"]
    return ", ".join(map(str, d)) if isinstance(d, list) else str(d).lower() if isinstance(d, bool) else str(d)


def constraints_text(prop: Mapping[str, Any]) -> str:
    parts = []
    names = {"minimum": ">=", "maximum": "<=", "minLength": "len>=", "maxLength": "len<=",
             "minItems": "items>=", "maxItems": "items<="}
    for key, sym in names.items():
        if key in prop:
            parts.append(f"{sym}{prop[key]}")
    enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
    if enum:
        parts.append("one of " + "|".join(map(str, enum)))
    if prop.get("format"):
        parts.append(str(prop["format"]))
    elif prop.get("pattern"):
        parts.append(f"/{prop['pattern']}/")
    return " ".join(parts) or "-"


def input_rows(schema: InputSchema) -> list[list[str]]:
    """input, type, default (or `required`), constraints, description: `templates show` and the docs."""
    return [[path, type_text(prop), "required" if required else default_text(prop), constraints_text(prop),
             " ".join(str(prop.get("description", "")).split())]
            for path, prop, required in iter_properties(schema)]


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ") or " "
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def page_name(version: TemplateVersion) -> str:
    return f"{version.name}/{version.version}.md"


def render_page(registry: Registry, version: TemplateVersion) -> str:
    template = registry.templates[version.name]
    recommended = template.recommended(version.version.major)
    lines = [f"# {version.name} {version.version}", "",
             f"*{version.kind.capitalize()} template.* "
             + (f"The recommended version of major {version.version.major}: pin `{version.name}:"
                f"{version.version.major}` to follow it, or `{version.name}:{version.version}` to stay on it."
                if recommended is version else
                f"Superseded by {recommended.version if recommended else '?'} (pin `{version.name}:"
                f"{version.version}` to stay on it)."),
             "", version.description, ""]
    previous = [v for v in template.versions if v.version.major == version.version.major
                and v.version < version.version]
    if previous or version.notes:
        lines += [f"## What changed in {version.version}", ""]
        if version.notes:
            lines += [version.notes, ""]
        if previous:
            changes = compare_versions(previous[-1], version)
            lines += [f"- `{c.path}`: {c.message}" + (f" (acknowledged: {c.acknowledged})" if c.acknowledged else "")
                      for c in changes] or [f"No input changes from {previous[-1].version}."]
            lines.append("")
    for section, schema in version.schemas.items():
        lines += [f"## {_SECTION_TITLES[section]}", ""]
        rows = input_rows(schema)
        lines += [_md_table(["input", "type", "default", "constraints", "description"], rows)
                  if rows else "No inputs.", ""]
    if version.outputs:
        where = "/keel/<environment>/" if version.kind == "environment" else "/keel/<environment>/<service>/"
        lines += ["## Outputs", "", f"Published as SSM parameters under `{where}`.", "",
                  _md_table(["output", "meaning"], [[f"`{k}`", v] for k, v in version.outputs.items()]), ""]
    if version.kind == "service":
        lines += ["## Compatible environments", ""]
        lines += [f"- `{n}:{m}`" for n, m in version.compatible_environments] + [""]
    else:
        users = [v for v in registry.all_versions() if v.kind == "service" and v.accepts_environment(version)]
        lines += ["## Service templates that run in it", ""]
        lines += [f"- [{v.label}](../{page_name(v)})" for v in users] or ["None yet."]
        lines.append("")
    lines += ["## Use it", "", "```yaml", *_example(version), "```", ""]
    readme = template.folder / "README.md"
    if readme.exists():
        lines += ["## What it creates", "", readme.read_text(encoding="utf-8").strip(), ""]
    lines.append("<!-- Generated by `keel docs` from the template registry. Do not edit. -->")
    return "\n".join(lines) + "\n"


def _example(version: TemplateVersion) -> list[str]:
    """A minimal platform.yaml entry: the pin, and every required top-level input."""
    ref = f"{version.name}:{version.version.major}"
    required = [path for path, prop, req in iter_properties(version.input_schema)
                if req and "." not in path and "default" not in prop]
    if version.kind == "environment":
        indent, head = "      ", ["environments:", "  - name: dev", f"    template: {ref}"]
    else:
        env = version.compatible_environments[0][0] if version.compatible_environments else "?"
        indent, head = "          ", ["services:", "  - name: my-service", f"    template: {ref}", "    instances:",
                                      "      - name: dev", f"        environment: dev  # an environment of {env}"]
    body = [f"{indent[:-2]}spec:", *[f"{indent}{name}: ...  # required" for name in required]] if required else \
        [f"{indent[:-2]}spec: {{}}  # every input has a default"]
    return head + body


def render_index(registry: Registry) -> str:
    rows = []
    for version in registry.all_versions():
        template = registry.templates[version.name]
        mark = " (recommended)" if template.recommended(version.version.major) is version else ""
        rows.append([f"[{version.name} {version.version}]({page_name(version)})", version.kind,
                     f"{version.version}{mark}",
                     ", ".join(f"{n}:{m}" for n, m in version.compatible_environments) or "-"])
    return ("# Keel templates\n\n" + _md_table(["template", "kind", "version", "compatible environments"], rows)
            + "\n\n<!-- Generated by `keel docs` from the template registry. Do not edit. -->\n")


def render_docs(registry: Registry) -> dict[str, str]:
    """{relative path: Markdown}: the index and one page per template version."""
    pages = {"index.md": render_index(registry)}
    for version in registry.all_versions():
        pages[page_name(version)] = render_page(registry, version)
    return pages


def stale_docs(registry: Registry, out: Path) -> list[str]:
    """Pages that are missing or differ from what the registry generates (for `keel docs --check`)."""
    stale = []
    pages = render_docs(registry)
    for relative, text in pages.items():
        path = out / relative
        if not path.exists():
            stale.append(f"{relative}: missing")
        elif path.read_text(encoding="utf-8") != text:
            stale.append(f"{relative}: differs from the registry")
    for path in sorted(out.rglob("*.md")) if out.is_dir() else ():
        relative = path.relative_to(out).as_posix()
        if relative not in pages:
            stale.append(f"{relative}: no such template version in the registry (delete the page)")
    return stale
