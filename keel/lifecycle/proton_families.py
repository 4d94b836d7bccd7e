"""What each Proton template family offers, and the Keel-native template that offers the same (CDK-free).

`keel import-proton` recognises a Proton template by what its CloudFormation creates (resource types, SAM
event sources) and by its inputs, never by its folder name: a team's `orders-api` template built on a Lambda
function behind API Gateway is the same family as AWS's `apigw-lambda-svc` sample. Each family names the
Keel template that really offers the same service, and how each Proton input maps onto it: the same name, a
new name (`DesiredCapacity` -> `ec2_capacity.desired_capacity`), a value translation, or no equivalent, with
why. An input the table does not name maps to the Keel input of the same name when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: A value read from a Proton spec or schema (YAML scalars, lists and mappings).
Value = str | int | float | bool | None | list["Value"] | dict[str, "Value"]
#: A translation of one Proton value: the Keel value and a note for the report, or Gap when none exists.
Convert = Callable[[Value], tuple[Value, str | None]]


class Gap(Exception):
    """A Proton value with no Keel equivalent; the message says why."""


@dataclass(frozen=True)
class Capabilities:
    """What a Proton template's infrastructure offers: its CloudFormation resource types, its SAM event
    source types, and its input names (instance or environment, and pipeline)."""

    resources: frozenset[str]
    events: frozenset[str]  # SAM `Events: {X: {Type: SQS|Api|HttpApi|Schedule|...}}`
    inputs: frozenset[str]
    scheduled: bool  # an AWS::Events::Rule with a ScheduleExpression (or a SAM Schedule event)
    # proton import (issue 15)
    ec2_launch: bool = False  # tasks launched on EC2 container instances (LaunchType / compatibilities EC2)
    # Windows containers (issue 15)
    windows: bool = False  # tasks on a Windows Server runtime platform (OperatingSystemFamily WINDOWS_*)

    def has(self, *types: str) -> bool:
        return any(t in self.resources for t in types)


@dataclass(frozen=True)
class InputRule:
    """One Proton input. `keel`: candidate Keel input paths, the first the target schema has wins; empty
    means there is no equivalent (`why` says so). `convert` translates values (raises Gap)."""

    proton: str
    keel: tuple[str, ...] = ()
    why: str = ""
    convert: Convert | None = None
    #: whether relying on the Proton default (not setting the input) is still a gap (a default runtime that
    #: Keel does not run); otherwise an unset input without equivalent is only a note
    default_matters: bool = False


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # environment | service
    offers: Callable[[Capabilities], bool]
    target: str  # the Keel template
    major: int = 1
    minor: int | None = None  # a minimum minor: None follows the recommended minor of `major`
    #: why a template needs that minor (shown when the registry lacks it)
    minor_for: str = ""
    rules: tuple[InputRule, ...] = ()
    pipeline_rules: tuple[InputRule, ...] = ()
    #: inputs the environment an instance runs in must set: (instance inputs) -> environment spec patch
    needs: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # proton import (issue 15)
    #: Keel inputs every instance gets, with why (what the Proton template fixed in its CloudFormation)
    sets: Mapping[str, Value] = field(default_factory=dict)
    sets_why: str = ""
    #: a Lambda family: code_dir gets a starter handler when it is not beside the written platform
    function: bool = False
    #: Proton's queue took every message its environment's services sent (the environment's SNS topic): in
    #: Keel, `event_sources` lists those services (`keel.<service>` on the environment's bus)
    hears_environment: bool = False
    # shared data stores (issue 15)
    #: The environment's DynamoDB tables and S3 buckets become its components (read from the rendered
    #: CloudFormation), and the services that read their outputs `use:` them.
    data_stores: bool = False


_FUNCTION = ("AWS::Lambda::Function", "AWS::Serverless::Function")
# shared data stores (issue 15): what an environment's components create
DATA_STORES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket")
_API = ("AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi", "AWS::Serverless::HttpApi", "AWS::Serverless::Api")
_CLUSTER_EC2 = ("AWS::AutoScaling::AutoScalingGroup", "AWS::AutoScaling::LaunchConfiguration",
                "AWS::EC2::LaunchTemplate", "AWS::ECS::CapacityProvider")


#: The runtime Keel runs for each Lambda language, when a Proton spec names one Lambda no longer runs
#: (the samples' nodejs12.x, ruby2.7, java11, dotnetcore3.1, go1.x): the newest supported one of its language.
_CURRENT = (("python3.", "python3.12"), ("nodejs", "nodejs24.x"), ("ruby", "ruby3.4"), ("java", "java21"),
            ("dotnet", "dotnet8"), ("go1.", "provided.al2023"), ("provided", "provided.al2023"))
_SUPPORTED = frozenset({"python3.12", "python3.13", "nodejs22.x", "nodejs24.x", "ruby3.3", "ruby3.4", "java21",
                        "dotnet8", "provided.al2023"})


def _runtime(value: Value) -> tuple[Value, str | None]:
    text = str(value)
    if text in _SUPPORTED:
        return text, None
    current = next((target for prefix, target in _CURRENT if text.startswith(prefix)), None)
    if current is None:
        raise Gap(f"{text}: not a Lambda runtime Keel's Lambda templates know ({', '.join(sorted(_SUPPORTED))})")
    note = (f"{text} -> {current}: Lambda no longer runs {text} functions; {current} is the current runtime of "
            "the same language (test the code on it before deploying)")
    if current == "provided.al2023" and text.startswith("go"):
        note += ("; Go functions run as a `bootstrap` binary on provided.al2023 (build with GOOS=linux, name it "
                 "bootstrap)")
    return current, note


def _lambda_subnet(value: Value) -> tuple[Value, str | None]:
    if value == "private":
        return "private", None
    return "none", ("subnet_type public -> vpc none: a function in a public subnet gets no public IP and no "
                    "internet route; outside the VPC it reaches the internet and AWS APIs the same way")


def _api_timeout(value: Value) -> tuple[Value, str | None]:
    """API Gateway ends an HTTP API request after 30 s; lambda-api-svc stops the function at 29 s so it can
    still answer. Proton's 30 s function behind the API never answered later than that either."""
    seconds, _ = _integer(value)
    if isinstance(seconds, int | float) and seconds > 29:
        return 29, (f"{value} -> 29: API Gateway ends the request at 30 s, so the function behind it stops at 29 s "
                    "and can still answer")
    return seconds, None


def _integer(value: Value) -> tuple[Value, str | None]:
    """Proton types memory and timeouts as `number`; Keel as integer (an integral float converts)."""
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    return value, None


_LAMBDA_RULES = (
    InputRule("lambda_runtime", ("lambda_runtime",), convert=_runtime, default_matters=True),
    InputRule("lambda_memory", ("lambda_memory",), convert=_integer),
    InputRule("lambda_timeout", ("lambda_timeout",), convert=_integer),
    InputRule("subnet_type", ("vpc",), convert=_lambda_subnet),
    InputRule("code_uri", why="Keel packages the function from the service's code_dir (the pipeline's "
                              "packaging_command builds it), so there is no separate S3 link"),
)
_LAMBDA_PIPELINE = (
    InputRule("code_dir", ("code_dir",)),
    InputRule("unit_test_command", ("unit_test_command",)),
    InputRule("packaging_command", ("packaging_command",)),
    # Proton's CRUD sample spells it in the plural in its spec (its schema says packaging_command)
    InputRule("packaging_commands", ("packaging_command",)),
)


def _load_balancer(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """An application load balancer is the environment's shared one in Keel; a network one is the service's."""
    if inputs.get("loadbalancer_type", "application") == "application":
        return {"load_balancer": {"enabled": True}}
    return {}


#: What a Proton ECS-on-EC2 service template fixed in its CloudFormation: its tasks run on the cluster's
#: EC2 instances. In Keel that is `capacity: ec2` on the same template (the environment's first provider).
_ON_EC2: dict[str, Any] = {
    "sets": {"capacity": "ec2"},
    "sets_why": "the Proton template launched its tasks on the cluster's EC2 instances: capacity ec2 runs them "
                "on the environment's ec2_capacity provider"}


def _crud_routes(value: Value) -> tuple[Value, str | None]:
    name = str(value).strip("/")
    routes: list[Value] = [f"GET /{name}", f"POST /{name}", f"GET /{name}/{{id}}", f"PATCH /{name}/{{id}}",
              f"DELETE /{name}/{{id}}"]
    shown = ", ".join(map(str, routes))
    return routes, (f"{name} -> the five routes Proton's CRUD template made for it ({shown}); Proton ran "
                    f"one function per route (list_{name}, create_{name}, get_{name}, update_{name}, "
                    f"delete_{name}), lambda-api-svc runs one function for every route: its handler dispatches "
                    "on the event's routeKey to those functions")


def _crud_handler(value: Value) -> tuple[Value, str | None]:
    path = str(value).strip("/").removesuffix(".rb").removesuffix(".js").removesuffix(".py")
    return f"{path}.handler", (f"{value} -> {path}.handler: the one entry point of the API's function, in the "
                               "file that holds the resource's CRUD functions")


# Windows containers (issue 15) ---------------------------------------------------------------------
_WINDOWS_FOR = "Windows containers (operating_system_family, a Windows build host; issue 15)"
#: A Proton build server's EC2 instance type -> the CodeBuild compute type of the same class (CodeBuild's Windows
#: images take MEDIUM, 4 vCPUs and 7 GB, or LARGE, 8 vCPUs and 15 GB).
_BUILD_COMPUTE = {"nano": "medium", "micro": "medium", "small": "medium", "medium": "medium", "large": "medium",
                  "xlarge": "large", "2xlarge": "large"}


def _build_compute(value: Value) -> tuple[Value, str | None]:
    size = str(value).rpartition(".")[2]
    if size not in _BUILD_COMPUTE:
        raise Gap(f"{value}: CodeBuild's Windows build hosts are medium (4 vCPUs, 7 GB) or large (8 vCPUs, 15 GB), "
                  "and no size of theirs stands for this instance type")
    compute = _BUILD_COMPUTE[size]
    return compute, (f"{value} -> {compute}: the image builds on a CodeBuild host (medium: 4 vCPUs, 7 GB; large: 8 "
                     "vCPUs, 15 GB) instead of an EC2 build server Proton's pipeline started and stopped")


def _build_release(value: Value) -> tuple[Value, str | None]:
    """Proton's build server AMI (an SSM path such as .../Windows_Server-2019-English-Core-ECS_Optimized/image_id)
    -> the Windows Server release CodeBuild builds on."""
    found = re.search(r"Windows_Server-(2019|2022)", str(value))
    if found is None:
        raise Gap(f"{value}: not a Windows Server 2019 or 2022 AMI, the releases CodeBuild builds Windows images on")
    release = f"WINDOWS_SERVER_{found.group(1)}"
    return release, (f"{value} -> {release}: CodeBuild's Windows Server {found.group(1)} image builds the image, "
                     "so it runs on tasks of the same release")


_WINDOWS_RULES = (InputRule("cluster_operating_system_family", ("operating_system_family",)),)
_WINDOWS_PIPELINE = (
    InputRule("build_server_instance_type", ("build_compute_type",), convert=_build_compute),
    InputRule("build_server_ami_id", ("build_operating_system_family",), convert=_build_release),
    InputRule("build_server_volume_size", why="CodeBuild's build hosts come with their own disk; there is no "
                                              "build server volume to size"),
    InputRule("build_server_volume_type", why="CodeBuild's build hosts come with their own disk; there is no "
                                              "build server volume to choose"),
    InputRule("cluster_operating_system_family", why="an instance input in Keel: each instance's "
                                                     "spec.operating_system_family"),
)
#: Proton's dotnetfx services are named in the environment's namespace (service_discovery_name); Windows tasks
#: run no Service Connect proxy, so Keel registers them with Cloud Map.
_WINDOWS_DISCOVERY: dict[str, Any] = {
    "sets": {"discovery": "cloud-map"},
    "sets_why": "the Proton template names the service in the environment's namespace (service_discovery_name): "
                "Keel registers it there with Cloud Map, since Fargate runs no Service Connect proxy for Windows "
                "tasks"}
#: Proton inputs of a Windows template's pipeline that are instance inputs in Keel.
WINDOWS_INSTANCE_INPUTS = ("cluster_operating_system_family",)


FAMILIES: tuple[Family, ...] = (
    # --- environments ----------------------------------------------------------------------------
    # EC2 capacity (issue 18, branch network): ecs-env 1.3's ec2_capacity. Until that version is in the
    # registry, specs of this family are reported, naming the version they wait for.
    Family(
        name="ECS cluster on EC2 instances (Auto Scaling group capacity)", kind="environment",
        offers=lambda c: c.has("AWS::ECS::Cluster") and c.has(*_CLUSTER_EC2),
        target="ecs-env", major=1, minor=3, minor_for="EC2 capacity (ec2_capacity, issue 18)",
        rules=(
            InputRule("DesiredCapacity", ("DesiredCapacity", "ec2_capacity.desired_capacity"), convert=_integer),
            InputRule("MaxSize", ("MaxSize", "ec2_capacity.max_size"), convert=_integer),
            InputRule("InstanceType", ("InstanceType", "ec2_capacity.instance_type", "ec2_capacity.instance_types")),
            InputRule("ECSAMI", ("ECSAMI", "ec2_capacity.ami_parameter", "ec2_capacity.ami")),
            InputRule("subnet_type", ("subnet_type", "ec2_capacity.subnet_type")),
        )),
    Family(
        name="ECS cluster for Fargate", kind="environment",
        offers=lambda c: c.has("AWS::ECS::Cluster"), target="ecs-env"),
    # shared data stores (issue 15): before the VPC family, which would drop the tables and buckets
    Family(
        name="data stores shared by the environment's services (DynamoDB tables, S3 buckets)", kind="environment",
        offers=lambda c: c.has(*DATA_STORES), target="vpc-env", data_stores=True,
        notes=("Every Keel environment has a VPC: vpc-env adds one (one NAT gateway, no interface endpoints when the "
               "Proton template had no VPC: the cheapest it builds); the tables and buckets are the environment's "
               "components, encrypted with the environment's key",)),
    Family(
        name="VPC network", kind="environment",
        offers=lambda c: c.has("AWS::EC2::VPC"), target="vpc-env"),
    # --- container services ----------------------------------------------------------------------
    # Windows containers (issue 15): Proton's dotnetfx samples (.NET Framework on Windows Server tasks, an EC2
    # build server) on the container templates' 1.3 (operating_system_family; a Windows CodeBuild host).
    Family(
        name="scheduled Fargate task on Windows Server", kind="service",
        offers=lambda c: c.windows and c.has("AWS::ECS::TaskDefinition") and c.scheduled
        and not c.has("AWS::ECS::Service"),
        target="scheduled-fargate-svc", major=1, minor=3, minor_for=_WINDOWS_FOR,
        rules=_WINDOWS_RULES, pipeline_rules=_WINDOWS_PIPELINE),
    Family(
        name="Fargate service on Windows Server behind a load balancer", kind="service",
        offers=lambda c: c.windows and c.has("AWS::ECS::Service") and c.has(
            "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::ListenerRule"),
        target="load-balanced-fargate-svc", major=1, minor=3, minor_for=_WINDOWS_FOR, needs=_load_balancer,
        rules=_WINDOWS_RULES, pipeline_rules=_WINDOWS_PIPELINE, **_WINDOWS_DISCOVERY),
    Family(
        name="Fargate queue worker on Windows Server", kind="service",
        offers=lambda c: c.windows and c.has("AWS::ECS::Service") and c.has("AWS::SQS::Queue"),
        target="worker-fargate-svc", major=1, minor=3, minor_for=_WINDOWS_FOR,
        rules=_WINDOWS_RULES, pipeline_rules=_WINDOWS_PIPELINE),
    Family(
        name="Fargate backend service on Windows Server (service discovery, no public entry)", kind="service",
        offers=lambda c: c.windows and c.has("AWS::ECS::Service"),
        target="backend-fargate-svc", major=1, minor=3, minor_for=_WINDOWS_FOR,
        rules=_WINDOWS_RULES, pipeline_rules=_WINDOWS_PIPELINE, **_WINDOWS_DISCOVERY),
    # On EC2 container instances (Proton's *-ecs-ec2-svc): the same templates with capacity ec2, on the
    # environment's ec2_capacity providers (ecs-env 1.3). Only a version with `capacity` offers them.
    Family(
        name="scheduled ECS task on EC2 instances", kind="service",
        offers=lambda c: c.ec2_launch and c.has("AWS::ECS::TaskDefinition") and c.scheduled
        and not c.has("AWS::ECS::Service"),
        target="scheduled-fargate-svc", major=1, minor=2, minor_for="capacity ec2 (issue 18)", **_ON_EC2),
    Family(
        name="ECS service on EC2 instances behind a load balancer", kind="service",
        offers=lambda c: c.ec2_launch and c.has("AWS::ECS::Service") and c.has(
            "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::ListenerRule"),
        target="load-balanced-fargate-svc", major=1, minor=2, minor_for="capacity ec2 (issue 18)",
        needs=_load_balancer, **_ON_EC2),
    Family(
        name="ECS queue worker on EC2 instances", kind="service",
        offers=lambda c: c.ec2_launch and c.has("AWS::ECS::Service") and c.has("AWS::SQS::Queue"),
        target="worker-fargate-svc", major=1, minor=2, minor_for="capacity ec2 (issue 18)", **_ON_EC2),
    Family(
        name="ECS backend service on EC2 instances", kind="service",
        offers=lambda c: c.ec2_launch and c.has("AWS::ECS::Service"),
        target="backend-fargate-svc", major=1, minor=1, minor_for="capacity ec2 (issue 18)", **_ON_EC2),
    Family(
        name="scheduled Fargate task", kind="service",
        offers=lambda c: c.has("AWS::ECS::TaskDefinition") and c.scheduled and not c.has("AWS::ECS::Service"),
        target="scheduled-fargate-svc"),
    Family(
        name="Fargate service behind a load balancer", kind="service",
        offers=lambda c: c.has("AWS::ECS::Service") and c.has("AWS::ElasticLoadBalancingV2::LoadBalancer",
                                                              "AWS::ElasticLoadBalancingV2::ListenerRule"),
        target="load-balanced-fargate-svc", needs=_load_balancer),
    Family(
        name="Fargate queue worker", kind="service",
        offers=lambda c: c.has("AWS::ECS::Service") and c.has("AWS::SQS::Queue"),
        target="worker-fargate-svc"),
    Family(
        name="Fargate backend service (service discovery, no public entry)", kind="service",
        offers=lambda c: c.has("AWS::ECS::Service"), target="backend-fargate-svc"),
    # --- Lambda services -------------------------------------------------------------------------
    Family(
        name="Lambda worker on an SQS queue", kind="service",
        offers=lambda c: c.has(*_FUNCTION) and (c.has("AWS::SQS::Queue") or "SQS" in c.events),
        target="event-worker-svc", major=1, minor=3, function=True, hears_environment=True,
        minor_for="the runtimes and handlers of every Lambda language (issue 15)",
        rules=(*_LAMBDA_RULES,), pipeline_rules=_LAMBDA_PIPELINE,
        notes=("Keel's worker queue is fed by a rule on the environment's event bus (event_sources, "
               "detail_types); Proton's was fed by the environment's SNS topic: the services publish to the bus "
               "instead (keel_runtime.events.publish, source keel.<service>)",)),
    Family(
        name="scheduled Lambda function", kind="service",
        offers=lambda c: c.has(*_FUNCTION) and c.scheduled and not c.has(*_API),
        target="scheduled-lambda-svc", major=1, minor=3, function=True,
        minor_for="the runtimes and handlers of every Lambda language (issue 15)",
        rules=(*_LAMBDA_RULES, InputRule("schedule", ("schedule_expression",)),
               InputRule("schedule_rate", ("schedule_expression",))), pipeline_rules=_LAMBDA_PIPELINE),
    Family(
        name="HTTP API on a Lambda function", kind="service",
        offers=lambda c: c.has(*_FUNCTION) and (c.has(*_API) or bool({"Api", "HttpApi"} & c.events)),
        target="lambda-api-svc", major=1, minor=4, function=True,
        minor_for="the runtimes and handlers of every Lambda language (issue 15)",
        rules=(InputRule("lambda_timeout", ("lambda_timeout",), convert=_api_timeout),  # before the shared rule
               *_LAMBDA_RULES,
               InputRule("resource_name", ("routes",), convert=_crud_routes),
               InputRule("resource_handler", ("lambda_handler",), convert=_crud_handler)),
        pipeline_rules=_LAMBDA_PIPELINE),
)


def classify(kind: str, capabilities: Capabilities) -> Family | None:
    """The first family (most specific first) whose offer the template's infrastructure has."""
    return next((f for f in FAMILIES if f.kind == kind and f.offers(capabilities)), None)


#: Resource types worth naming when no family offers them (what the template would have needed in Keel).
NO_FAMILY_WHY = {
    "AWS::DynamoDB::Table": "a DynamoDB table shared by the environment's services",
    "AWS::S3::Bucket": "an S3 bucket",
    "AWS::AppRunner::Service": "an App Runner service",
    "AWS::EKS::Cluster": "an EKS cluster",
}
