"""The day-2 verbs of the `keel` command: status, logs, exec, secret, param, history (boto3), diagram (offline).

Exit codes: 0 done; 1 `status --fail` found an unhealthy or drifted stack; 2 the command cannot run (no
credentials or region, AWS refused, unknown environment/service/instance, invalid platform, bad argument).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.ops.aws import Clients, OpsError, aws_errors
from keel.spec import SpecError

if TYPE_CHECKING:
    from rich.text import Text

    from keel.spec.model import PlatformModel

_AWS = ("AWS credentials come from the standard chain: --profile (or AWS_PROFILE), AWS_* environment variables, "
        "SSO (`aws sso login`). Each environment's region is its region in the platform file (none: the "
        "profile's region). ")
_EXITS = "Exit 0 done; 2 no credentials or region, AWS refused, or an unknown name."


def _load(args: argparse.Namespace) -> PlatformModel:
    from keel.spec import load_platform

    return load_platform(args.platform)


def _clients(args: argparse.Namespace) -> Clients:
    from keel.ops.aws import clients

    return clients(args.profile)


def _run(verb: str, body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        with aws_errors():
            return int(body(args))
    except OpsError as exc:
        print(f"keel {verb}: {exc}", file=sys.stderr)
        return 2
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2


def _emit_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def _print_table(headers: list[str], rows: list[list[Any]]) -> None:
    from keel.terminal import render_table

    print(render_table(headers, rows))


# -- status -------------------------------------------------------------------------------------------

def cmd_status(args: argparse.Namespace) -> int:
    return _run("status", _status, args)


def _status(args: argparse.Namespace) -> int:
    from keel.ops.aws import select
    from keel.ops.status import render_rows, stack_status
    from keel.terminal import progress

    model = _load(args)
    environment, service = args.environment, args.service
    if environment and not service and environment not in {e.name for e in model.environments} \
            and environment in {s.name for s in model.services}:
        environment, service = None, environment  # `keel status web`: a service name alone
    chosen = select(model, environment=environment, service=service)
    call = _clients(args)
    with progress(f"reading {len(chosen)} stack(s)"):
        rows = [stack_status(call, t) for t in chosen]
    if args.json:
        _emit_json([r.to_json() for r in rows])
    else:
        headers, cells, notes = render_rows(rows)
        _print_table(headers, [[*c[:2], _status_style(c[2]), *c[3:]] for c in cells])
        for note in notes:
            print(note)
    return 1 if args.fail and not all(r.healthy and not r.drifted for r in rows) else 0


def _status_style(status: str) -> Text:
    from rich.text import Text

    colour = "red" if "FAILED" in status or "ROLLBACK" in status else "yellow" if "PROGRESS" in status \
        or status == "NOT_DEPLOYED" else "green"
    return Text(status, style=colour)


# -- logs ---------------------------------------------------------------------------------------------

def cmd_logs(args: argparse.Namespace) -> int:
    return _run("logs", _logs, args)


def _logs(args: argparse.Namespace) -> int:
    from rich.text import Text

    from keel.ops.aws import select
    from keel.ops.logs import colours, log_sources, parse_since, stream
    from keel.terminal import console

    since = parse_since(args.since)
    model = _load(args)
    chosen = select(model, service=args.service, instance=args.instance)
    call = _clients(args)
    sources = log_sources(call, chosen)
    if not sources:
        print(f"keel logs: no log group deployed for {args.service} (are its stacks deployed?)", file=sys.stderr)
        return 2
    palette = colours(sources)
    out = console()
    for line in stream(call, sources, since=since, pattern=args.filter, follow=args.follow,
                       max_polls=args.max_polls, interval=args.interval):
        if args.json:
            print(json.dumps(line.to_json()), flush=args.follow)
        else:
            out.print(Text.assemble((line.time + " ", "dim"), (f"[{line.source}] ", palette[line.source]),
                                    line.message), soft_wrap=True)
    return 0


# -- exec ---------------------------------------------------------------------------------------------

def cmd_exec(args: argparse.Namespace) -> int:
    return _run("exec", _exec, args)


def _exec(args: argparse.Namespace) -> int:
    from keel.ops.aws import one_instance
    from keel.ops.execute import execute

    model = _load(args)
    target = one_instance(model, args.service, args.instance)
    return execute(_clients(args), target, task=args.task, container=args.container, command=args.command,
                   profile=args.profile)


# -- secret / param -----------------------------------------------------------------------------------

@contextmanager
def quiet_sdk_logs() -> Iterator[None]:
    """botocore logs request bodies at DEBUG: while a secret travels, nothing below WARNING is logged."""
    loggers = [logging.getLogger(n) for n in ("botocore", "boto3", "urllib3", "moto", "s3transfer")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def cmd_secret(args: argparse.Namespace) -> int:
    return _run("secret", _secret, args)


def _secret(args: argparse.Namespace) -> int:
    from keel.ops import config

    if getattr(args, "value_on_argv", None) is not None:
        raise OpsError("a secret value is never taken from the command line (it would stay in shell history and "
                       "the process list): pipe it on stdin or type it at the prompt; nothing was stored")
    model = _load(args)
    config.check_name(model, args.environment, args.service or "shared", getattr(args, "key", None))
    region = model.environment(args.environment).region
    call = _clients(args)
    if args.action == "set":
        if (args.service, args.key) in config.declared(model, args.environment, "secrets"):
            raise OpsError(f"{args.service}/{args.key} is declared in the platform file (config.secrets): "
                           "CloudFormation generates and rotates it; remove it there to manage it by hand")
        value = config.read_secret_value(sys.stdin, getpass.getpass)
        with quiet_sdk_logs():
            done = config.set_secret(call, region, args.environment, args.service, args.key, value,
                                     description=args.description)
        del value
        from keel.contract.naming import secret_name

        print(f"{done} {secret_name(args.environment, args.service, args.key)} (the value is not shown)")
        return 0
    if args.action == "delete":
        if (args.service, args.key) in config.declared(model, args.environment, "secrets"):
            raise OpsError(f"{args.service}/{args.key} is declared in the platform file (config.secrets): "
                           "remove it there and deploy, or CloudFormation recreates it")
        name = config.delete_secret(call, region, args.environment, args.service, args.key,
                                    recovery_days=None if args.force else args.recovery_days)
        print(f"deleted {name}" + ("" if args.force else f" (recoverable for {args.recovery_days} days)"))
        return 0
    entries = config.list_secrets(call, region, args.environment, args.service,
                                  config.declared(model, args.environment, "secrets"))
    if args.json:
        _emit_json([e.__dict__ for e in entries])
    else:
        _print_table(["secret", "description", "last changed", "rotation", "managed by"],
                     list(config.iter_lines(entries)))
    return 0


def cmd_param(args: argparse.Namespace) -> int:
    return _run("param", _param, args)


def _param(args: argparse.Namespace) -> int:
    from keel.ops import config

    model = _load(args)
    config.check_name(model, args.environment, args.service or "shared", getattr(args, "key", None))
    region = model.environment(args.environment).region
    call = _clients(args)
    if args.action == "set":
        if (args.service, args.key) in config.declared(model, args.environment, "parameters"):
            raise OpsError(f"{args.service}/{args.key} is declared in the platform file (config.parameters): "
                           "change its value there and deploy")
        version = config.set_parameter(call, region, args.environment, args.service, args.key, args.value,
                                       description=args.description)
        from keel.contract.naming import parameter_name

        print(f"{parameter_name(args.environment, args.service, args.key)}: version {version}")
        return 0
    if args.action == "get":
        entry = config.get_parameter(call, region, args.environment, args.service, args.key)
        if args.json:
            _emit_json(entry.__dict__)
        else:
            print(entry.value if entry.value is not None else "(SecureString: not decrypted)")
        return 0
    entries = config.list_parameters(call, region, args.environment, args.service)
    if args.json:
        _emit_json([e.__dict__ for e in entries])
    else:
        _print_table(["parameter", "type", "value", "version", "last modified"],
                     [[e.name, e.type, e.value if e.value is not None else "(SecureString)", str(e.version),
                       e.changed] for e in entries])
    return 0


# -- history ------------------------------------------------------------------------------------------

def cmd_history(args: argparse.Namespace) -> int:
    return _run("history", _history, args)


def _history(args: argparse.Namespace) -> int:
    from keel.ops import history
    from keel.ops.aws import select

    model = _load(args)
    envs = {e.name for e in model.environments}
    services = {s.name for s in model.services}
    if args.name in envs and args.name in services:
        raise OpsError(f'"{args.name}" is both an environment and a service: give --service or --environment')
    if args.name in envs:
        if args.instance:
            raise OpsError("--instance goes with a service name, not an environment")
        chosen = [t for t in select(model, environment=args.name) if t.kind == "environment"]
    elif args.name in services:
        chosen = select(model, service=args.name, instance=args.instance)
    else:
        raise OpsError(f'"{args.name}" is neither an environment ({", ".join(sorted(envs))}) nor a service '
                       f'({", ".join(sorted(services)) or "none"})')
    call = _clients(args)
    deployments = []
    for target in chosen:
        found = history.group(target.stack, history.stack_events(call, target))
        if args.cloudtrail:
            found = history.principals(call, target, found)
        deployments += found[: args.limit]
    deployments.sort(key=lambda d: d.started, reverse=True)
    if args.json:
        _emit_json([d.to_json() for d in deployments])
        return 0
    _print_table(["stack", "started", "duration", "operation", "result", "who", "failure reason"],
                 [[d.stack, d.started, history.duration(d), d.operation, d.result, d.who, d.reason or "-"]
                  for d in deployments])
    if not deployments:
        print("no deployments found (the stacks are not deployed in this account and region)")
    return 0


# -- diagram ------------------------------------------------------------------------------------------

def cmd_diagram(args: argparse.Namespace) -> int:
    from keel import diagram
    from keel.fileio import unsafe_target, write_text
    from keel.spec import load_platform

    try:
        model = load_platform(args.platform)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    if args.out is None:
        if args.check:
            print("keel diagram: --check needs --out FILE.md (the page to compare)", file=sys.stderr)
            return 2
        print(diagram.render(model), end="")
        return 0
    out = Path(args.out)
    text = diagram.page(model)
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out}: out of date with {args.platform}: run `keel diagram {args.platform} --out {out}`",
                  file=sys.stderr)
            return 1
        print(f"{out}: up to date with {args.platform}.")
        return 0
    why = unsafe_target(out)
    if why is not None:
        print(f"keel diagram: --out {out}: {why}\nNothing was written.", file=sys.stderr)
        return 2
    try:
        write_text(out, text, parents=True)
    except OSError as exc:
        print(f"keel diagram: cannot write {out}: {exc}\nNothing was written.", file=sys.stderr)
        return 2
    print(f"Wrote {out} ({len(model.environments)} environment(s), {len(model.instances)} instance(s)).")
    return 0


# -- registration -------------------------------------------------------------------------------------

def _common(p: argparse.ArgumentParser, *, json_help: str | None = "print JSON instead of a table") -> None:
    p.add_argument("--platform", default=os.environ.get("KEEL_PLATFORM", "platform.yaml"),
                   help="the platform file (default: $KEEL_PLATFORM or platform.yaml)")
    p.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE, then the default chain)")
    if json_help:
        p.add_argument("--json", action="store_true", help=json_help)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for add in (_add_status, _add_logs, _add_exec, _add_secret, _add_param, _add_history, _add_diagram):
        add(sub)


def _add_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("status", help="deployed state of every stack: CloudFormation, pins, ECS, Lambda, alarms",
                       description=_AWS + "One row per stack: CloudFormation status and last update, the deployed "
                       "template@version (keel:template tag) against the platform file, ECS desired/running/pending"
                       " and rollout (with the last failed deployment's reason), Lambda errors and throttles over "
                       "the last hour, alarms in ALARM. Exit 0 done; 1 with --fail when a stack is unhealthy or "
                       "drifted; 2 no credentials or region, AWS refused, or an unknown name.")
    s.add_argument("environment", nargs="?", metavar="ENV", help="only this environment (or a service name)")
    s.add_argument("service", nargs="?", metavar="SERVICE", help="only this service's instances")
    s.add_argument("--fail", action="store_true", help="exit 1 when a stack is failed, drifted, rolling back or "
                   "has an alarm in ALARM (for CI)")
    _common(s)
    s.set_defaults(func=cmd_status)


def _add_logs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lg = sub.add_parser("logs", help="a service's logs (containers, functions, access logs) interleaved by time",
                        description=_AWS + "Every log group of the service's instance stacks (containers, "
                        "functions, API access logs), interleaved by time with a coloured source prefix. "
                        "Load balancer access logs go to S3 and are not shown. " + _EXITS)
    lg.add_argument("service", metavar="SERVICE", help="the service")
    lg.add_argument("--instance", metavar="I", help="only this instance (default: every instance)")
    lg.add_argument("--since", default="1h", metavar="WHEN",
                    help="start: a duration back (30s, 15m, 1h, 2d, 1w) or an ISO time (default: 1h)")
    lg.add_argument("--follow", action="store_true", help="keep polling for new lines (Ctrl-C stops)")
    lg.add_argument("--filter", metavar="P",
                    help="a CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"error\" }'")
    lg.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                    help="seconds between polls with --follow (default: 2)")
    lg.add_argument("--max-polls", type=int, metavar="N", help="with --follow, stop after N polls")
    _common(lg, json_help="one JSON object a line (time, source, log_group, log_stream, message)")
    lg.set_defaults(func=cmd_logs)


def _add_exec(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser("exec", help="a shell (or a command) in a running container: ECS ExecuteCommand",
                       description=_AWS + "ECS ExecuteCommand into a task of the service's instance, through the "
                       "Session Manager plugin (session-manager-plugin on PATH). Refused when the instance has "
                       "exec disabled (enable_exec in the platform file, enableExecuteCommand on the deployed "
                       "service). Exit 0 (or the session's exit code); 2 no plugin, exec disabled, no running "
                       "task, no credentials, or an unknown name.")
    e.add_argument("service", metavar="SERVICE", help="the service")
    e.add_argument("--instance", metavar="I", help="the instance (needed when the service has several)")
    e.add_argument("--task", metavar="T", help="a task ARN or ID (default: the first running task)")
    e.add_argument("--container", metavar="C", help="the container (default: the first that is not a log router)")
    e.add_argument("--command", default="sh", help="what to run (default: sh)")
    _common(e, json_help=None)
    e.set_defaults(func=cmd_exec)


def _add_secret(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sec = sub.add_parser("secret", help="set, list or delete config-plane secrets (keel/<env>/<service>/<key>)",
                         description=_AWS + "Secrets Manager secrets at keel/<env>/<service>/<key>, the names "
                         "the platform's config plane grants (service and key follow the platform file's rules). "
                         "`set` reads the value from stdin or a hidden prompt, never from the command line; "
                         "`list` never shows values. Secrets declared in the platform file belong to "
                         "CloudFormation: set and delete refuse them. " + _EXITS)
    actions = sec.add_subparsers(dest="action", required=True, metavar="ACTION", help="set, list or delete")
    ss = actions.add_parser("set", help="create or update a secret; the value from stdin or a hidden prompt",
                            description="Create or update keel/ENV/SERVICE/KEY. The value comes from stdin "
                            "(`printf %s \"$VALUE\" | keel secret set ...`) or, on a terminal, a hidden prompt "
                            "asked twice; a value on the command line is refused. Exit 0 stored; 2 refused.")
    ss.add_argument("environment", metavar="ENV", help="the environment")
    ss.add_argument("service", metavar="SERVICE", help="the service that reads it, or shared")
    ss.add_argument("key", metavar="KEY", help="the key under the service's path, e.g. api-key or db/password")
    # Not shown: a value typed here is refused (without being echoed), never used.
    ss.add_argument("value_on_argv", nargs="?", help=argparse.SUPPRESS)
    ss.add_argument("--description", help="what the secret is for (shown in Secrets Manager)")
    sl = actions.add_parser("list", help="names and metadata of the environment's secrets (never values)")
    sl.add_argument("environment", metavar="ENV", help="the environment")
    sl.add_argument("service", nargs="?", metavar="SERVICE", help="only this service's secrets")
    sd = actions.add_parser("delete", help="delete a secret (recoverable for --recovery-days)")
    sd.add_argument("environment", metavar="ENV", help="the environment")
    sd.add_argument("service", metavar="SERVICE", help="the service, or shared")
    sd.add_argument("key", metavar="KEY", help="the key")
    sd.add_argument("--recovery-days", type=int, default=7, choices=range(7, 31), metavar="7-30",
                    help="days Secrets Manager keeps it restorable (default: 7)")
    sd.add_argument("--force", action="store_true", help="delete at once, without a recovery window")
    for p in (ss, sl, sd):
        _common(p, json_help="print JSON instead of a table" if p is sl else None)
        p.set_defaults(func=cmd_secret)
    sec.set_defaults(func=cmd_secret)


def _add_param(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    par = sub.add_parser("param", help="set, get or list config-plane parameters (/keel/<env>/<service>/<key>)",
                         description=_AWS + "SSM String parameters at /keel/<env>/<service>/<key> (service and "
                         "key follow the platform file's rules); `list` also shows the environment's published "
                         "outputs. Parameters declared in the platform file belong to CloudFormation: set refuses "
                         "them. " + _EXITS)
    pactions = par.add_subparsers(dest="action", required=True, metavar="ACTION", help="set, get or list")
    ps = pactions.add_parser("set", help="create or overwrite a String parameter")
    ps.add_argument("environment", metavar="ENV", help="the environment")
    ps.add_argument("service", metavar="SERVICE", help="the service that reads it, or shared")
    ps.add_argument("key", metavar="KEY", help="the key under the service's path")
    ps.add_argument("value", metavar="VALUE", help="the value (not secret: use `keel secret set` for secrets)")
    ps.add_argument("--description", help="what the parameter is for")
    pg = pactions.add_parser("get", help="print one parameter's value")
    pg.add_argument("environment", metavar="ENV", help="the environment")
    pg.add_argument("service", metavar="SERVICE", help="the service, or shared")
    pg.add_argument("key", metavar="KEY", help="the key")
    pl = pactions.add_parser("list", help="the environment's (or one service's) parameters")
    pl.add_argument("environment", metavar="ENV", help="the environment")
    pl.add_argument("service", nargs="?", metavar="SERVICE", help="only this service's parameters")
    for p in (ps, pg, pl):
        _common(p, json_help=None if p is ps else "print JSON")
        p.set_defaults(func=cmd_param)
    par.set_defaults(func=cmd_param)


def _add_history(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    h = sub.add_parser("history", help="past deployments of an environment or a service, from stack events",
                       description=_AWS + "CloudFormation stack events grouped per operation (from the "
                       "user-initiated *_IN_PROGRESS to its COMPLETE or FAILED): when, how long, the result, the "
                       "first failure reason, and who: CloudFormation records only the operation's "
                       "ClientRequestToken; --cloudtrail looks the principal up in CloudTrail. " + _EXITS)
    h.add_argument("name", metavar="ENV|SERVICE", help="an environment (its stack) or a service (its instances)")
    h.add_argument("--instance", metavar="I", help="only this instance of the service")
    h.add_argument("--limit", type=int, default=20, metavar="N", help="at most N deployments a stack (default: 20)")
    h.add_argument("--cloudtrail", action="store_true",
                   help="name who started each operation from CloudTrail (needs cloudtrail:LookupEvents)")
    _common(h)
    h.set_defaults(func=cmd_history)


def _add_diagram(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser("diagram", help="the platform as a Mermaid flowchart (GitHub renders it)",
                       description="A Mermaid flowchart of the validated platform: environments, service instances, "
                       "the shared load balancer and its routes, bus subscriptions, queues, schedules, components "
                       "and hybrid capacity (ECS Anywhere, EKS hybrid nodes, EKS Anywhere). Offline. Exit 0 "
                       "printed, written or up to date; 1 stale page with --check; 2 invalid platform.")
    d.add_argument("platform", nargs="?", default="platform.yaml", help="the platform file (default: platform.yaml)")
    d.add_argument("--out", metavar="FILE.md", help="write a Markdown page with the diagram (default: print the "
                   "Mermaid source)")
    d.add_argument("--check", action="store_true", help="with --out: exit 1 if FILE.md differs from what would be "
                   "written (Keel's own: docs/platform.md)")
    d.set_defaults(func=cmd_diagram)
