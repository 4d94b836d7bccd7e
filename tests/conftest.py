"""Three costs of the test run that are not what any test checks, cut for every test folder, and the order
in which xdist hands out the test files.

pytest's rewritten test modules are kept between runs, though PYTHONDONTWRITEBYTECODE is set. The Makefile
sets it so no `__pycache__` lands in keel/ or lambda_src/ (Lambda code assets, the synth cache's keys); it also
stops pytest from caching the test modules it rewrites for its assertion messages, and rewriting them all
again costs each xdist worker ~6 s of CPU at every collection. `_rewrite_and_keep` writes those files only
(tests/**/__pycache__/*-pytest-*.pyc, as a plain `pytest` run writes them); pytest reads them even when it
may not write them.

One botocore data loader for every session. moto starts each mock with a fresh default boto3 session, and a
fresh session parses botocore's JSON models again (endpoints, each service's API): ~0.15 s of CPU a client,
most of what a handler or ops test costs. The loader only reads and caches those files (keyed by the data
path, as each session asks), so every session still sees the same models.

kubernetes-validate's schema files parsed once. It reads and parses the version's `_definitions.json` (MBs of
JSON) again for every document it validates, ~0.2 s each; Keel validates every manifest it renders. The files
are the installed package's, read-only, and jsonschema does not change the parsed schemas.

Files marked `early` go first. xdist (`--dist loadfile`) hands files to whichever worker is free, in
collection order (`--no-loadscope-reorder`; its default order, most tests first, put the files of a few long
tests last): a file of tens of seconds (CDK apps in subprocesses, cfn-lint) handed out last keeps one worker
busy alone while the other has nothing left to do.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import types
from pathlib import Path

import botocore.loaders
import botocore.session
import kubernetes_validate.utils
import pytest
from _pytest.assertion import rewrite


def _rewrite_and_keep(fn: Path, config: pytest.Config) -> tuple[bytes, types.CodeType]:
    source_hash, code = _REWRITE(fn, config)
    if sys.dont_write_bytecode:  # otherwise pytest writes it itself
        pyc = rewrite.get_cache_dir(fn) / (fn.name[:-3] + rewrite.PYC_TAIL)
        if rewrite.try_makedirs(pyc.parent):
            rewrite._write_pyc(config.stash[rewrite.assertstate_key], code, source_hash, pyc)
    return source_hash, code


_REWRITE = rewrite._rewrite_test
if all(hasattr(rewrite, name) for name in ("get_cache_dir", "PYC_TAIL", "try_makedirs", "_write_pyc",
                                           "assertstate_key")):  # pytest's internals, as of 9.2
    rewrite._rewrite_test = _rewrite_and_keep

botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)  # type: ignore[attr-defined]
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle: the order within each group stays random
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("early") is None)


def pytest_sessionfinish() -> None:
    """An xdist worker, its results sent, exits at once: its interpreter's teardown (freeing every app the tests
    built, then waiting for jsii's Node process to free its heap) took seconds a worker, after the last test."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        from keel.delivery.synth_worker import leave

        atexit.register(leave, 0)  # registered last, so it runs first, at exit
