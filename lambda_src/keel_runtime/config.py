"""Configuration for Keel functions: `/keel/<environment>/<service>/<key>` through Powertools' parameters
utility, cached for `POWERTOOLS_PARAMETERS_MAX_AGE` seconds (set by the template), and resilient to an
outage: when Parameter Store or Secrets Manager times out, cannot be reached, throttles or fails on its
side (5xx), and the value was read before in this container, the last good value is served and a warning
is logged (a stale value beats an outage).

What is not an outage is never papered over: AccessDenied (a revoked grant, a key policy change) raises
at once and forgets the last good value, so a function whose access was taken away stops serving the old
secret instead of serving it forever; any other error (a bad name, a validation error) raises too.

A cold start during an outage fails: a new container has no last good value (it lives in memory only,
per container), and Keel will not invent one: a default for a secret or a setting would be wrong in a way
nobody notices. The invocation raises, the caller retries (API Gateway's client, the SQS redelivery, the
async retry), and a container that read its config before the outage keeps serving.

Clients are created on first use, not at import, with connect/read timeouts of a few seconds and at most
two attempts (botocore's standard mode), so a hung endpoint costs seconds, not the function's timeout.

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
_NOT_FOUND = {"ParameterNotFound", "ResourceNotFoundException"}
_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException",
           "KMSAccessDeniedException", "InvalidSignatureException", "ExpiredTokenException"}
_THROTTLED = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
              "ProvisionedThroughputExceededException", "ThrottledException"}
_NO_DEFAULT: Any = object()
# Seconds and attempts per config read: a few seconds in the worst case, well under any function timeout.
CONNECT_TIMEOUT = 1
READ_TIMEOUT = 2
MAX_ATTEMPTS = 2


class ConfigAccessDenied(PermissionError):
    """The function may not read this config (any more): not an outage, so no stale value is served."""


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (Powertools wraps the botocore error)."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def classify(exc: BaseException) -> str:
    """`not_found`, `denied`, `outage` (timeouts, connection failures, throttling, 5xx) or `other`."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    for cause in _causes(exc):
        if isinstance(cause, (BotoConnectionError, HTTPClientError, TimeoutError)):
            return "outage"
        response = getattr(cause, "response", None)
        if not isinstance(response, dict):
            continue
        code = response.get("Error", {}).get("Code")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _NOT_FOUND:
            return "not_found"
        if code in _DENIED or status == 403:
            return "denied"
        if code in _THROTTLED or status == 429 or (isinstance(status, int) and status >= 500):
            return "outage"
        return "other"
    return "other"


def client_config() -> Any:
    """The botocore settings of Keel's config clients: short timeouts, bounded retries."""
    from botocore.config import Config as BotoConfig

    return BotoConfig(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                      retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"})


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

            self._ssm = SSMProvider(boto3_client=self._ssm_client) if self._ssm_client is not None \
                else SSMProvider(boto_config=client_config())
        return self._ssm

    @property
    def secrets(self) -> SecretsProvider:
        if self._secrets is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._secrets = SecretsProvider(boto3_client=self._secrets_client) if self._secrets_client is not None \
                else SecretsProvider(boto_config=client_config())
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
            reason = classify(exc)
            if reason == "not_found" and default is not _NO_DEFAULT:
                return default
            if reason == "denied":
                # Access was taken away (or never given): forget the old value and say so loudly.
                self._last_good.pop((kind, name), None)
                logger.error("config read denied; not serving any previous value",
                             extra={"config_kind": kind, "config_name": name, "error": type(exc).__name__})
                raise ConfigAccessDenied(f"{kind} {name}: access denied ({type(exc).__name__})") from exc
            if reason != "outage" or (kind, name) not in self._last_good:
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
