"""The commands CI and the pipelines run: the Makefile targets the README documents, in one place. CDK-free.

The GitHub workflow (.github/workflows/ci.yml) and the PipelineStack's synth step run these same targets,
and a test holds the three together.
"""

from __future__ import annotations

from keel.contract.naming import image_context_key

LINT = "make lint"
TEST = "make test"
CONFORMANCE = "make conformance"  # against the outside reference data (docs/reference-data.md)
DIFF = "make diff"


def synth(platform: str) -> str:
    """`make synth` for one platform file (make installs the venv and node_modules itself)."""
    return "make synth" if platform == "platform.yaml" else f"make synth PLATFORM={platform}"


# The CDK CLI the pipelines' self-mutation installs: the version package.json pins (a test holds them equal).
CDK_CLI_VERSION = "2.1148.1"

# What the service pipelines' deploy step runs in a checkout of the platform repository.
SETUP = "make setup"


def deploy_service(platform: str, service: str) -> str:
    """A service pipeline's deploy step: the stacks in $STACKS with the image the build pushed ($IMAGE_URI),
    as the context entry app.py reads (`keel.contract.naming.image_context_key`)."""
    return (f"npx cdk deploy $STACKS --exclusively --require-approval never "
            f"-c keel:platform={platform} -c {image_context_key(service)}=$IMAGE_URI")


def deploy_packaged_function(platform: str, code_folder: str) -> list[str]:
    """A Lambda service pipeline's deploy step: the function.zip its build wrote ($PACKAGE) replaces the
    function's code folder in the platform checkout (code_dir, relative to the file that declares the service),
    then $STACKS deploy; CDK packages what is there."""
    folder = code_folder
    return [f'rm -rf "{folder}" && mkdir -p "{folder}"',
            f'unzip -q "$PACKAGE" -d "{folder}"',
            "npx cdk deploy $STACKS --exclusively --require-approval never "
            f"-c keel:platform={platform}"]
