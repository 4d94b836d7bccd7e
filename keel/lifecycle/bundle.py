"""`keel bundle NAME:VERSION --out DIR`: a Proton-layout archive of what a template version produces.

One instance of the template is synthesized (its defaults, or a Proton spec file) with the app builder
exactly as `cdk synth` does (cdk.json context, compliance packs on), then written in the layout Proton
used for template bundles:

    <name>-<version>/schema/schema.yaml                      the version's schema, as released
    <name>-<version>/infrastructure/manifest.yaml            (environment) or instance_infrastructure/
    <name>-<version>/infrastructure/cloudformation.yaml      the synthesized template
    <name>-<version>/.compatible-envs                        (service templates)
    <name>-<version>/keel-bundle.yaml                        what was synthesized, from what inputs
    <name>-<version>/assets/                                 file assets the template references, if any
    <name>-<version>.tar.gz                                  the same, reproducible (sorted, mtime 0)

The CloudFormation is rendered for the inputs used, not parameterized: an archive of what the version
produced, and a starting point for teams still deploying with Proton-style pipelines.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.contract.registry import Registry, TemplateRef, TemplateVersion
from keel.lifecycle.outdated import LifecycleError
from keel.lifecycle.proton_import import dump_yaml
from keel.spec import PlatformModel, SpecError, load_platform
from keel.spec.yamlio import YamlReadError, read_yaml

BUNDLE_ENVIRONMENT = "bundle"
BUNDLE_SERVICE = "bundle"


@dataclass(frozen=True)
class Bundle:
    version: TemplateVersion
    folder: Path
    archive: Path
    stack: str
    resources: int


def bundle(ref_text: str, out: Path, registry: Registry, *, spec_file: Path | None = None) -> Bundle:
    try:
        version = registry.resolve(TemplateRef.parse(ref_text))
    except ValueError:
        raise LifecycleError(f"{ref_text!r}: expected NAME:MAJOR or NAME:MAJOR.MINOR, e.g. vpc-env:1.1") from None
    except LookupError as exc:
        raise LifecycleError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="keel-bundle-") as tmp:
        platform, texts, inputs = _platform(version, registry, spec_file)
        try:
            model = load_platform(platform, registry=registry, texts=texts)
        except SpecError as exc:
            raise LifecycleError(f"the inputs do not fit {version.label}:\n{exc.render()}") from None
        outdir = Path(tmp) / "cdk.out"
        stack_name, template = _synthesize(model, outdir, version)
        folder = out / f"{version.name}-{version.version}"
        if folder.exists():
            shutil.rmtree(folder)
        infra = folder / ("infrastructure" if version.kind == "environment" else "instance_infrastructure")
        (folder / "schema").mkdir(parents=True)
        infra.mkdir()
        shutil.copyfile(version.schema_file, folder / "schema" / "schema.yaml")
        (infra / "manifest.yaml").write_text(dump_yaml({"infrastructure": {"templates": [{
            "file": "cloudformation.yaml", "rendering_engine": "jinja",
            "template_language": "cloudformation"}]}}), encoding="utf-8")
        (infra / "cloudformation.yaml").write_text(_jinja_safe(dump_yaml(template)), encoding="utf-8")
        if version.kind == "service":
            (folder / ".compatible-envs").write_text(
                "".join(f"{n}:{m}\n" for n, m in version.compatible_environments), encoding="utf-8")
        assets = _copy_assets(outdir, template, folder / "assets")
        meta = {"template": version.name, "version": str(version.version), "kind": version.kind,
                "stack": stack_name, "resources": len(template.get("Resources", {})),
                "inputs": inputs, "assets": assets,
                "note": "CloudFormation rendered for these inputs by `keel bundle`; not parameterized."}
        (folder / "keel-bundle.yaml").write_text(dump_yaml(meta), encoding="utf-8")
    archive = out / f"{folder.name}.tar.gz"
    _tar(folder, archive)
    return Bundle(version=version, folder=folder, archive=archive, stack=stack_name,
                  resources=len(template.get("Resources", {})))


def _platform(version: TemplateVersion, registry: Registry, spec_file: Path | None
              ) -> tuple[Path, dict[Path, str], dict[str, Any]]:
    """A one-instance platform (in memory) for the version, and the raw inputs it was given."""
    env_spec: dict[str, Any] = {}
    svc_spec: dict[str, Any] = {}
    pipeline: dict[str, Any] | None = None
    if spec_file is not None:
        try:
            doc = read_yaml(spec_file)
        except YamlReadError as exc:
            raise LifecycleError(f"{exc.file}: {exc.message}") from None
        kind = doc.get("proton") if isinstance(doc, Mapping) else None
        expected = "EnvironmentSpec" if version.kind == "environment" else "ServiceSpec"
        if kind != expected:
            raise LifecycleError(f"{spec_file}: expected a Proton {expected} (proton: {expected}) for "
                                 f"{version.label}, got proton: {kind}")
        if version.kind == "environment":
            env_spec = dict(doc.get("spec") or {})
        else:
            instances = doc.get("instances") or [{}]
            svc_spec = dict(instances[0].get("spec") or {})
            pipeline = doc.get("pipeline")
    ref = f"{version.name}:{version.version}"
    doc_out: dict[str, Any]
    if version.kind == "environment":
        # the user's EnvironmentSpec by reference, so problems are reported in that file
        source = {"spec_file": str(spec_file.resolve())} if spec_file is not None else {"spec": env_spec}
        doc_out = {"environments": [{"name": BUNDLE_ENVIRONMENT, "template": ref, **source}]}
        inputs: dict[str, Any] = {"spec": env_spec}
    else:
        env_template = next((registry.resolve(TemplateRef(n, m)) for n, m in version.compatible_environments
                             if n in registry.templates and registry.templates[n].recommended(m)), None)
        if env_template is None:
            raise LifecycleError(f"{version.label}: none of its compatible environments exists in the registry")
        service: dict[str, Any] = {"name": BUNDLE_SERVICE, "template": ref, "instances": [
            {"name": BUNDLE_SERVICE, "environment": BUNDLE_ENVIRONMENT, "spec": svc_spec}]}
        if pipeline:
            service["pipeline"] = pipeline
        doc_out = {"environments": [{"name": BUNDLE_ENVIRONMENT, "template": f"{env_template.name}:"
                                     f"{env_template.version}"}], "services": [service]}
        inputs = {"spec": svc_spec, **({"pipeline": pipeline} if pipeline else {}),
                  "environment": env_template.label}
    # in memory only; placed where its relative paths (a pipeline's code_dir, an api_contract) mean what they
    # mean in a platform file: next to the spec file given, else in the working directory like platform.yaml
    platform = ((spec_file.resolve().parent if spec_file is not None else Path.cwd()) / "keel-bundle.yaml").resolve()
    return platform, {platform: dump_yaml(doc_out)}, inputs


def _synthesize(model: PlatformModel, outdir: Path, version: TemplateVersion) -> tuple[str, dict[str, Any]]:
    import aws_cdk as cdk

    from keel.cdk_context import cli_context
    from keel.stacks.app import build

    app = cdk.App(context=cli_context(), outdir=str(outdir))
    built = build(app, model)
    app.synth()
    stacks = built.environments if version.kind == "environment" else built.instances
    stack = next(iter(stacks.values()))
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text(encoding="utf-8"))
    return stack.stack_name, template


def _jinja_safe(text: str) -> str:
    """Proton renders templates with Jinja first: protect any literal `{{`/`{%` in the template."""
    if "{{" in text or "{%" in text or "{#" in text:
        return "{% raw %}\n" + text + "{% endraw %}\n"
    return text


def _copy_assets(outdir: Path, template: Mapping[str, Any], target: Path) -> list[str]:
    """The cdk.out assets whose hash the template mentions (Lambda code and the like)."""
    text = json.dumps(template)
    copied = []
    for asset in sorted(outdir.glob("asset.*")):
        digest = asset.name.split(".", 1)[1].split(".")[0]
        if digest in text:
            target.mkdir(exist_ok=True)
            if asset.is_dir():
                shutil.copytree(asset, target / asset.name)
            else:
                shutil.copyfile(asset, target / asset.name)
            copied.append(asset.name)
    return copied


def _tar(folder: Path, archive: Path) -> None:
    """Reproducible: sorted entries, no owners, mtime 0 (the same inputs give the same bytes inside)."""
    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted([folder, *folder.rglob("*")]):
            tar.add(path, arcname=str(path.relative_to(folder.parent)), recursive=False, filter=clean)
