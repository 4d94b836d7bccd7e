"""How Keel names what it creates: stacks, discovery paths, config parameters and secrets, repositories.

One module, so that the spec layer (which checks names for collisions), the templates (which create the
resources) and the Lambda handlers' conventions agree. CDK-free.
"""

from __future__ import annotations

import re

PREFIX = "keel"

#: Proton's own rule for environment, service and service instance names (the `ResourceName` shape of its API
#: model): letters, digits, `-` and `_`, starting with a letter or digit, 1-100 characters. Keel accepts such
#: names as they are in specs, so Proton specs keep theirs (`Beta`, `prod_eu`).
PROTON_NAME_PATTERN = r"^[0-9A-Za-z]+[0-9A-Za-z_\-]*$"
PROTON_NAME_MAX = 100
#: What Keel derives stack and resource names from: lowercase letters and digits in `-`-separated words, short
#: enough that `keel-<service>-<instance>` and `keel-<env>-<service>-<component>` stay legal names.
KEEL_NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KEEL_NAME_MAX = 40


def keel_name(name: str) -> str:
    """A Proton name in the form Keel names stacks and resources after: lowercase, `_` as `-`, a run of `-` as
    one, none at either end (`Beta` -> `beta`, `prod__EU_` -> `prod-eu`). CloudFormation stack names take
    letters, digits and `-` only, and ECR, S3 and Cloud Map take lowercase only. Two names with the same form
    would share stacks, so the spec layer refuses the second."""
    return re.sub(r"-+", "-", name.lower().replace("_", "-")).strip("-")


def stack_name(*parts: str) -> str:
    """`keel-<environment>` and `keel-<service>-<instance>`: stable, derived only from spec names."""
    return "-".join((PREFIX, *parts))


def environment_path(environment: str) -> str:
    """`/keel/<environment>`: where an environment publishes its discovery parameters (and the config
    plane's prefix)."""
    return f"/{PREFIX}/{environment}"


def service_path(environment: str, service: str) -> str:
    """`/keel/<environment>/<service>`: where a service instance publishes what it offers."""
    return f"{environment_path(environment)}/{service}"


def parameter_name(environment: str, service: str, key: str) -> str:
    """`/keel/<environment>/<service>/<key>`: the one naming scheme of Keel's config parameters."""
    return f"{service_path(environment, service)}/{key}"


def secret_name(environment: str, service: str, key: str) -> str:
    """`keel/<environment>/<service>/<key>` (no leading slash in Secrets Manager); Parameter Store serves it
    as `/aws/reference/secretsmanager/keel/<environment>/<service>/<key>`."""
    return f"{PREFIX}/{environment}/{service}/{key}"


#: The CDK context entries that carry the image a service pipeline built: `keel:image:<service>`.
IMAGE_CONTEXT_PREFIX = "keel:image:"


def image_context_key(service: str) -> str:
    return f"{IMAGE_CONTEXT_PREFIX}{service}"


def repository_name(service: str, instance: str) -> str:
    """The ECR repository Keel creates for an instance with `ecr_repository.enabled`."""
    return f"{PREFIX}/{service}/{instance}"


#: The path segment every service may read besides its own (`/keel/<environment>/shared/<key>`).
SHARED = "shared"
#: The rotation function's (lambda_src/secret_rotation) setting: how each rotated secret is generated, set
#: from the spec (never read from the secret's tags, which TagResource could change); and the JSON fields of
#: a secret declared with a username.
ROTATION_SETTINGS_ENV = "KEEL_ROTATION_SHAPES"
USERNAME_FIELD = "username"
PASSWORD_FIELD = "password"


def component_name(environment: str, service: str, component: str) -> str:
    """`keel-<environment>-<service>-<component>`: the physical name of a component an instance owns (an SNS
    topic, an SQS queue, a table). Derived from spec names only, so another service's stack can name it (a
    worker subscribing to a publisher's topic) without a cross-stack export."""
    return "-".join((PREFIX, environment, service, component))


def component_path(environment: str, service: str, component: str) -> str:
    """`/keel/<environment>/<service>/components/<component>`: where a component's names and ARNs are
    published for discovery at run time."""
    return f"{service_path(environment, service)}/components/{component}"


# environment reads (issue 20)
def environment_parameter_name(environment: str, key: str) -> str:
    """`/keel/<environment>/<key>`: one value an environment publishes for its services (`vpc/id`,
    `ecs/cluster-arn`, a Proton-format template's `outputs/<Name>`); its service stacks read it from there,
    never through a cross-stack reference."""
    return f"{environment_path(environment)}/{key}"


#: The path segment under which a Proton-format environment publishes its template's Outputs.
PROTON_OUTPUTS = "outputs"


def proton_output_key(output: str) -> str:
    """`outputs/<Name>`: where a Proton-format environment publishes its template's Output `<Name>` (under
    `environment_parameter_name`), for its services' `environment.outputs.<Name>`."""
    return f"{PROTON_OUTPUTS}/{output}"


# shared data stores (issue 15)
def environment_component_name(environment: str, component: str) -> str:
    """`keel-<environment>-shared-<component>`: the physical name of a component the environment owns and its
    services share. `shared` is no service's name (the spec layer reserves it), so no instance's component
    (`keel-<environment>-<service>-<component>`) can take the same name."""
    return component_name(environment, SHARED, component)


def environment_component_key(component: str, key: str) -> str:
    """`shared/components/<component>/<key>`, under `environment_path`: where an environment component's names
    and ARNs are published (the shared path every service may read), and where its users' stacks read them."""
    return f"{SHARED}/components/{component}/{key}"


def environment_component_path(environment: str, component: str) -> str:
    """`/keel/<environment>/shared/components/<component>`: the discovery prefix of an environment component."""
    return component_path(environment, SHARED, component)
