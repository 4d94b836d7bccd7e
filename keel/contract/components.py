"""What a service template's workload is, as components see it (CDK-free).

A component (a table, a bucket, a database...) is attached to the one workload of its instance: the task of a
container template or the function of a Lambda template. Which components fit depends on that workload: an
EFS file system mounts only into Fargate tasks, a database is reachable only from inside the VPC. The shared
inputs modules (`keel.templates.container_inputs`, `keel.templates.lambda_inputs`) answer
`component_host(inputs)`; a template's inputs class inherits the answer from the shared class it extends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, kw_only=True)
class ComponentHost:
    kind: Literal["container", "function"]
    #: A Fargate task (EFS volumes, awsvpc networking); ECS Anywhere's EXTERNAL tasks are not.
    fargate: bool
    #: The workload runs in the environment's VPC with its own security group (a database can let it in).
    in_vpc: bool
    #: Why not, when in_vpc is False: for messages.
    outside_vpc_reason: str = ""
    # Windows containers (issue 15)
    #: Why a Fargate task cannot mount a volume (a Windows task), when fargate is False for it: for messages.
    not_fargate_reason: str = ""
