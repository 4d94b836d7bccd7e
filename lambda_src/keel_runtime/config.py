"""Configuration for Keel functions: `/keel/<environment>/<service>/<key>` through Powertools' parameters
utility, cached for `POWERTOOLS_PARAMETERS_MAX_AGE` seconds (set by the template), and resilient: when
Parameter Store or Secrets Manager fails and the value was read before, the last good value is served and
a warning is logged (a stale value beats an outage). Clients are created on first use, not at import.

    from keel_runtime.config import config
    level = config().get("log-level")                 # /keel/dev/orders/log-level
    origins = config().get_list("allowed-origins")    # a StringList
    flag = config().get("feature-x", shared=True)     # /keel/dev/shared/feature-x
    api_key = config().secret("api-key")              # Secrets Manager keel/dev/orders/api-key
    api_key = config().secret("api-key", via_parameter_store=True)  # /aws/reference/secretsmanager/...
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:  # imported on first use: boto3 loads when a value is first read, not at cold start
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

MAX_AGE_ENV = "POWERTOOLS_PARAMETERS_MAX_AGE"
DEFAULT_MAX_AGE = 300
SHARED = "shared"
SECRETS_REFERENCE = "/aws/reference/secretsmanager/"

logger = Logger(child=True)
_NOT_FOUND = ("ParameterNotFound", "ResourceNotFoundException")
_NO_DEFAULT: Any = object()


def _not_found(exc: BaseException) -> bool:
    """Powertools wraps the botocore error; a missing name is not an outage."""
    cause: BaseException | None = exc
    while cause is not None:
        code = getattr(cause, "response", {}).get("Error", {}).get("Code")
        if code in _NOT_FOUND:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class Config:
    """Reads one service's config. Values live in the providers' caches for `max_age` seconds; the
    last good value of every name survives a failed refresh."""

    def __init__(self, *, environment: str, service: str, max_age: int | None = None,
                 ssm_client: Any = None, secrets_client: Any = None) -> None:
        self.environment = environment
        self.service = service
        self.max_age = max_age if max_age is not None else int(os.environ.get(MAX_AGE_ENV, DEFAULT_MAX_AGE))
        self._ssm_client = ssm_client
        self._secrets_client = secrets_client
        self._ssm: SSMProvider | None = None
        self._secrets: SecretsProvider | None = None
        self._last_good: dict[tuple[str, str], Any] = {}

    # -- names -----------------------------------------------------------------------------------
    def parameter_name(self, key: str, *, shared: bool = False) -> str:
        return f"/keel/{self.environment}/{SHARED if shared else self.service}/{key}"

    def secret_name(self, key: str, *, shared: bool = False) -> str:
        return f"keel/{self.environment}/{SHARED if shared else self.service}/{key}"

    # -- providers (lazy) ------------------------------------------------------------------------
    @property
    def ssm(self) -> SSMProvider:
        if self._ssm is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._ssm = SSMProvider(boto3_client=self._ssm_client)
        return self._ssm

    @property
    def secrets(self) -> SecretsProvider:
        if self._secrets is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._secrets = SecretsProvider(boto3_client=self._secrets_client)
        return self._secrets

    # -- reads -----------------------------------------------------------------------------------
    def get(self, key: str, *, shared: bool = False, transform: Any = None, default: Any = _NO_DEFAULT) -> Any:
        """A String parameter (`transform="json"` parses it); `default` when the parameter does not exist."""
        name = self.parameter_name(key, shared=shared)
        return self._read("parameter", name, lambda: self.ssm.get(name, max_age=self.max_age, transform=transform),
                          default=default)

    def get_list(self, key: str, *, shared: bool = False) -> list[str]:
        """A StringList parameter as a list."""
        value = self.get(key, shared=shared)
        return [item for item in str(value).split(",") if item]

    def secret(self, key: str, *, shared: bool = False, via_parameter_store: bool = False,
               transform: Any = None) -> Any:
        """A secret's current value; never logged. `transform="json"` parses `{username, password}`."""
        name = self.secret_name(key, shared=shared)
        if via_parameter_store:
            reference = SECRETS_REFERENCE + name
            return self._read("secret", reference, lambda: self.ssm.get(
                reference, decrypt=True, max_age=self.max_age, transform=transform))
        return self._read("secret", name, lambda: self.secrets.get(name, max_age=self.max_age, transform=transform))

    def _read(self, kind: str, name: str, fetch: Any, default: Any = _NO_DEFAULT) -> Any:
        try:
            value = fetch()
        except Exception as exc:
            if default is not _NO_DEFAULT and _not_found(exc):
                return default
            if (kind, name) not in self._last_good:
                raise
            # The value itself is never logged: only which name and why.
            logger.warning("config read failed; serving the last good value",
                           extra={"config_kind": kind, "config_name": name, "error": type(exc).__name__,
                                  "detail": str(exc)[:200]})
            return self._last_good[(kind, name)]
        self._last_good[(kind, name)] = value
        return value


_config: Config | None = None


def config() -> Config:
    """The function's Config, built on first use from KEEL_ENVIRONMENT and KEEL_SERVICE."""
    global _config
    if _config is None:
        _config = Config(environment=os.environ["KEEL_ENVIRONMENT"], service=os.environ["KEEL_SERVICE"])
    return _config


def reset() -> None:
    """Forget the module-level Config (tests; a new container does this implicitly)."""
    global _config
    _config = None
