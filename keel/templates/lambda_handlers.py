"""The handler forms AWS Lambda documents for each runtime family, defined once (CDK-free).

lambda-api-svc 1.4, scheduled-lambda-svc 1.3 and event-worker-svc 1.3 take every form in their schema
(`ANY_HANDLER`, the union: what provided.al2023 takes) and check the handler against its runtime's form
here, so a Java handler on a Python runtime is a located spec error, not a function that cannot start.
Earlier minors keep their released dotted pattern and checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from keel.contract.problems import InputProblem

_ID = r"[A-Za-z_][A-Za-z0-9_]*"  # Python names, Ruby methods, C# names
_JVM_ID = r"[A-Za-z_$][A-Za-z0-9_$]*"  # Java and JavaScript identifiers
_FILE = r"[A-Za-z0-9_][A-Za-z0-9_-]*"  # a file (or folder) name without its extension
_CONST = r"[A-Z][A-Za-z0-9_]*"  # a Ruby module or class

#: The schemas' pattern (lambda_handler of the minors above): every form below, within 1-128 characters, with no
#: whitespace, no leading `/` and no `..` (a handler never leaves code_dir).
_ANY = r"(?!.*\.\.)[A-Za-z0-9_$][A-Za-z0-9_$.:/-]*"
ANY_HANDLER = f"^{_ANY}$"


@dataclass(frozen=True)
class HandlerForm:
    """One runtime family's handler grammar; `module` (a named group) is its source file within code_dir."""

    language: str
    form: str
    example: str
    pattern: re.Pattern[str]
    #: the source file extensions of an interpreted runtime; () when packaging compiles the code
    sources: tuple[str, ...] = ()

    def matches(self, handler: str) -> bool:
        return self.pattern.fullmatch(handler) is not None

    def module(self, handler: str) -> str | None:
        """The handler's source file within code_dir, without extension (None: compiled, or not this form)."""
        found = self.pattern.fullmatch(handler)
        if found is None or not self.sources:
            return None
        module = found.group("module")
        return module.replace(".", "/") if self.language == "Python" else module


def _form(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


#: Runtime prefix -> its family's form (AWS Lambda developer guide, "Define Lambda function handler in ...").
FORMS: Mapping[str, HandlerForm] = MappingProxyType({
    "python": HandlerForm(
        "Python", "module.function (pkg.module.function in a package)", "handler.handler",
        _form(rf"(?P<module>{_ID}(?:\.{_ID})*)\.{_ID}"), (".py",)),
    "nodejs": HandlerForm(
        "Node.js", "path/file.export", "src/index.handler",
        _form(rf"(?P<module>(?:{_FILE}/)*{_FILE})\.{_JVM_ID}(?:\.{_JVM_ID})*"), (".js", ".mjs", ".cjs")),
    "ruby": HandlerForm(
        "Ruby", "path/file.method or path/file.Module::Class.method", "function.handler",
        _form(rf"(?P<module>(?:{_FILE}/)*{_FILE})\.(?:{_CONST}(?:::{_CONST})*\.)?{_ID}"), (".rb",)),
    "java": HandlerForm(
        "Java", "package.Class::method or package.Class", "com.example.Handler::handleRequest",
        _form(rf"{_JVM_ID}(?:\.{_JVM_ID})*(?:::{_JVM_ID})?")),
    "dotnet": HandlerForm(
        ".NET", "Assembly::Namespace.Class::Method, or Assembly (an executable assembly)",
        "Orders::Orders.Function::Handler",
        _form(rf"{_FILE}(?:\.{_FILE})*(?:::{_ID}(?:\.{_ID})*::{_ID})?")),
    "provided": HandlerForm(
        "provided.al2023", "any name (conventionally bootstrap)", "bootstrap", _form(_ANY)),
})


def form_of(runtime: str) -> HandlerForm | None:
    return next((form for prefix, form in FORMS.items() if runtime.startswith(prefix)), None)


def check_handler(runtime: str, handler: str) -> Iterator[InputProblem]:
    """The handler in its runtime's form; otherwise what it looks like (`is a Java handler`) and what the
    runtime expects."""
    form = form_of(runtime)
    if form is None or form.matches(handler):
        return
    looks = [f.language for f in FORMS.values() if f is not form and f is not FORMS["provided"] and f.matches(handler)]
    named = ", ".join(looks[:-1]) + " or " + looks[-1] if len(looks) > 1 else "".join(looks)
    what = f"a {named} handler" if looks else f"not a {form.language} handler"
    yield "lambda_handler", f"{json.dumps(handler)} is {what}; {runtime} expects {form.form}", handler, \
        f"a {form.language} handler such as {form.example}"
