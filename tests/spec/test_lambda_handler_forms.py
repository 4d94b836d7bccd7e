"""lambda-api-svc 1.4, scheduled-lambda-svc 1.3 and event-worker-svc 1.3 take the handler of every Lambda runtime's
documented form and check it against the chosen runtime; the released minors keep their dotted pattern."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.contract.registry import Version
from keel.lifecycle.compat import check_registry, compare_versions
from keel.spec.registry import default_registry
from keel.templates.lambda_handlers import ANY_HANDLER, FORMS, check_handler
from tests.spec.conftest import Platform

NEW = {"lambda-api-svc": "1.4", "scheduled-lambda-svc": "1.3", "event-worker-svc": "1.3"}
RELEASED_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
EXTRA = {"event-worker-svc": "event_sources: [keel.orders]"}

#: runtime -> handlers of its documented forms (AWS Lambda developer guide, "Define Lambda function handler in ...")
VALID = {
    "python3.13": ["handler.handler", "pkg.mod.fn", "lambda_function.lambda_handler"],
    "nodejs24.x": ["index.handler", "src/index.handler", "src/api/index.handlers.get", "my-fn.$main"],
    "ruby3.4": ["function.handler", "source.LambdaFunctions::Handler.process", "lib/app.Handler.call"],
    "java21": ["com.example.Handler::handleRequest", "com.example.Handler", "Handler::handle", "a.Outer$Inner"],
    "dotnet8": ["MyAssembly::MyNamespace.Function::Handler", "Orders.Api::Orders.Api.Function::FunctionHandler",
                "MyApp", "My-App.Functions"],
    "provided.al2023": ["bootstrap", "main", "index.php", "app::run"],
}
INVALID = {
    "python3.13": ["com.x.H::m", "src/index.handler", "bootstrap", "1mod.fn"],
    "nodejs24.x": ["com.x.H::m", "bootstrap", "index", "src/.handler", "src//index.handler"],
    "ruby3.4": ["a.b.c.d", "source.lower.process", "function", "x.Mod::cls.run", "com.x.H::m"],
    "java21": ["src/index.handler", "com.example.Handler::", "a::b::c", "com.example-x.Handler"],
    "dotnet8": ["A::B", "MyAssembly::MyNamespace.Function", "src/index.handler", "A::B::C::D"],
}


@pytest.mark.parametrize(("runtime", "handler"), [(r, h) for r, hs in VALID.items() for h in hs])
def test_a_handler_in_its_runtimes_form_is_accepted(runtime: str, handler: str) -> None:
    assert re.search(ANY_HANDLER, handler) and len(handler) <= 128
    assert list(check_handler(runtime, handler)) == []


@pytest.mark.parametrize(("runtime", "handler"), [(r, h) for r, hs in INVALID.items() for h in hs])
def test_a_handler_not_in_its_runtimes_form_is_refused_by_the_check(runtime: str, handler: str) -> None:
    (problem,) = check_handler(runtime, handler)
    assert problem[0] == "lambda_handler" and problem[2] == handler
    assert problem[1].endswith(f"; {runtime} expects {FORMS[re.match('[a-z]+', runtime).group()].form}")  # type: ignore[union-attr]


@pytest.mark.parametrize("handler", ["../x.handler", "src/../../x.handler", "/var/task/x.handler", "x .handler",
                                     "a\tb.c", "", ".hidden.handler", "-x.handler", "a" * 126 + ".fn"])
def test_the_schema_refuses_escapes_whitespace_and_overlong_handlers(handler: str) -> None:
    for name, version in NEW.items():
        schema = default_registry().templates[name].get(Version.parse(version)).input_schema  # type: ignore[union-attr]
        assert [p for p in schema.validate(schema.with_defaults({"lambda_handler": handler}))
                if p[0] == "lambda_handler"], (name, handler)


def test_the_new_minors_declare_the_union_pattern_of_the_forms_table() -> None:
    for name, version in NEW.items():
        prop = default_registry().templates[name].get(Version.parse(version)).input_schema.properties()[  # type: ignore[union-attr]
            "lambda_handler"]
        assert (prop["pattern"], prop["minLength"], prop["maxLength"]) == (ANY_HANDLER, 1, 128)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(set(FORMS) - {"provided"})).flatmap(lambda name: st.tuples(
    st.just(name), st.from_regex(FORMS[name].pattern, fullmatch=True).filter(lambda h: len(h) <= 128))))
def test_the_union_pattern_accepts_every_form(case: tuple[str, str]) -> None:
    """provided.al2023's form is the union itself."""
    name, handler = case
    assert re.search(ANY_HANDLER, handler), (name, handler)


@settings(max_examples=8, deadline=None)
@given(st.from_regex(RELEASED_PATTERN, fullmatch=True).filter(lambda h: len(h) <= 128))
def test_the_union_pattern_accepts_every_handler_the_released_pattern_accepted(handler: str) -> None:
    assert re.search(ANY_HANDLER, handler)


def test_released_minors_keep_their_dotted_pattern() -> None:
    """Released versions never change: Java, .NET, folder and bootstrap handlers stay refused there."""
    for template in (default_registry().templates[n] for n in NEW):
        for version in template.versions:
            if str(version.version) == NEW[template.name]:
                continue
            schema = version.input_schema
            assert schema.properties()["lambda_handler"]["pattern"] == RELEASED_PATTERN, version.label
            for handler in ("com.example.Handler::handleRequest", "MyAssembly::MyNamespace.Function::Handler",
                            "src/index.handler", "bootstrap"):
                assert schema.validate(schema.with_defaults({"lambda_handler": handler})), (version.label, handler)


def test_the_new_minors_only_widen_their_predecessors() -> None:
    problems, _ = check_registry(default_registry())
    assert problems == []
    for name, version in NEW.items():
        template = default_registry().templates[name]
        new = template.get(Version.parse(version))
        old = template.get(Version(1, new.version.minor - 1))  # type: ignore[union-attr]
        changes = compare_versions(old, new)  # type: ignore[arg-type]
        assert {(c.path, c.kind, c.blocking) for c in changes} == {
            ("spec.lambda_handler", "pattern", False), ("spec.lambda_handler", "range", False)}, name
        assert all(c.acknowledged for c in changes if c.breaking)


# -- the spec layer: located errors, sources, the released minors' checks ----------------------------------
DEV = """
environments:
  - {name: dev, template: 'vpc-env:1', region: eu-west-1, availability_zones: [eu-west-1a, eu-west-1b]}
services:
"""


def _service(template: str, instances: list[tuple[str, str]]) -> str:
    name = template.split(":")[0]
    lines = [f"  - name: fn\n    template: {template}\n    pipeline: {{code_dir: code}}\n    instances:\n"]
    for n, (runtime, handler) in enumerate(instances):
        extra = f", {EXTRA[name]}" if name in EXTRA else ""
        lines.append(f"      - {{name: i{n}, environment: dev, spec: {{lambda_runtime: {runtime}, "
                     f"lambda_handler: '{handler}'{extra}}}}}\n")
    return DEV + "".join(lines)


def _code(platform: Platform) -> None:
    for file in ("code/handler.py", "code/pkg/mod.py", "code/src/api/index.mjs", "code/lib/app.rb",
                 "code/source.rb"):
        platform.write("", file)


@pytest.mark.parametrize("name", sorted(NEW))
def test_every_runtime_takes_its_handler_forms_in_the_new_minor(platform: Platform, name: str) -> None:
    _code(platform)
    instances = [("python3.13", "pkg.mod.fn"), ("python3.12", "handler.handler"),
                 ("nodejs24.x", "src/api/index.handlers.get"), ("ruby3.4", "source.LambdaFunctions::Handler.process"),
                 ("ruby3.3", "lib/app.run"), ("java21", "com.example.Handler::handleRequest"),
                 ("dotnet8", "MyAssembly::MyNamespace.Function::Handler"), ("dotnet8", "MyApp"),
                 ("provided.al2023", "bootstrap")]
    model = platform.load(_service(f"{name}:{NEW[name]}", instances))
    assert [i.inputs.lambda_handler for s in model.services for i in s.instances] == [h for _, h in instances]


def test_a_handler_of_another_runtime_is_a_located_error(platform: Platform) -> None:
    _code(platform)
    assert platform.problems(_service("lambda-api-svc:1.4", [("python3.13", "com.x.H::m")])) == [
        'platform.yaml:services[fn].instances[0].spec.lambda_handler: "com.x.H::m" is a Java handler; python3.13 '
        'expects module.function (pkg.module.function in a package) (got "com.x.H::m", expected a Python handler '
        "such as handler.handler)"]


def test_a_node_handler_names_its_file_before_the_first_dot(platform: Platform) -> None:
    _code(platform)
    lines = platform.problems(_service("scheduled-lambda-svc:1.3", [("nodejs22.x", "src/missing.handlers.get")]))
    assert lines == [f"platform.yaml:services[fn].instances[0].spec.lambda_handler: names module src/missing, which "
                     f"is not in {(platform.root / 'code').resolve()} (got \"src/missing.handlers.get\", expected "
                     "path/file.function with src/missing.js in code_dir (nodejs22.x))"]


def test_a_path_escape_is_refused(platform: Platform) -> None:
    _code(platform)
    (line,) = platform.problems(_service("event-worker-svc:1.3", [("nodejs24.x", "../x.handler")]))
    assert line.startswith("platform.yaml:services[fn].instances[0].spec.lambda_handler: does not match the required "
                           'pattern (got "../x.handler"')


def test_released_minors_do_not_apply_the_runtime_check(platform: Platform) -> None:
    """Frozen behaviour: lambda-api-svc 1.3 still takes a dotted Ruby handler the runtime check would refuse."""
    platform.write("", "code/a.b.rb")
    model = platform.load(_service("lambda-api-svc:1.3", [("ruby3.4", "a.b.c")]))
    assert model.services[0].instances[0].inputs.lambda_handler == "a.b.c"
    assert platform.problems(_service("lambda-api-svc:1.4", [("ruby3.4", "a.b.c")]))[0].endswith(
        'ruby3.4 expects path/file.method or path/file.Module::Class.method (got "a.b.c", expected a Ruby handler '
        "such as function.handler)")
