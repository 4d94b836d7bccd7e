"""The commands CI and the pipelines run: the Makefile targets the README documents, in one place.

The GitHub workflow (.github/workflows/ci.yml) and the PipelineStack's synth step run these same targets,
and a test holds the three together.
"""

from __future__ import annotations

LINT = "make lint"
TEST = "make test"
DIFF = "make diff"


def synth(platform: str) -> str:
    """`make synth` for one platform file (make installs the venv and node_modules itself)."""
    return "make synth" if platform == "platform.yaml" else f"make synth PLATFORM={platform}"


# The CDK CLI the pipelines' self-mutation installs: the version package.json pins (a test holds them equal).
CDK_CLI_VERSION = "2.1148.1"

# What the service pipelines' deploy step runs in a checkout of the platform repository.
SETUP = "make setup"
