"""One check on its own: the REST API's, the form's and the CLI's validation, and the file
loader's per-check step.

All go through :func:`collect_check`, so a check given as JSON and the same check in the YAML
file get the same verdict and the same messages; only the file adds its name and line. A check
created outside the file is then judged by the file's cross-key rules and given its interval
and timeout by :func:`new_check`, always with the loaded file's ``defaults``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from nyxmon.checktypes import params_models
from nyxmon.config.alert_policy import overrides_of
from nyxmon.config.checks import (
    CONTEXT_COMPILER,
    CheckBase,
    ConditionCompiler,
    Registry,
    check_adapter,
    check_config_type,
    check_models,
    check_params,
)
from nyxmon.config.issues import ConfigIssue, ConfigValidationError
from nyxmon.config.loader import KeyPath, YamlDocument
from nyxmon.config.messages import issues_from_validation_error
from nyxmon.config.schema import DefaultsSection, ServiceSection
from nyxmon.config.semantics import ValidCheck, ValidService, check_semantics
from nyxmon.config.settings import CheckDefaults
from nyxmon.domain.model import Check, CheckSource, check_id_for
from nyxmon.domain.push import PUSH_TYPE, generate_ping_key

__all__ = ["check_from_spec", "check_rules", "collect_check", "new_check", "validate_check"]


def validate_check(
    data: Any,
    *,
    registry: Registry | None = None,
    compile_condition: ConditionCompiler | None = None,
    prefix: KeyPath = (),
) -> CheckBase:
    """Validate one check given as JSON-like data (the API's body), with the file's rules.

    Raises :class:`ConfigValidationError` whose issues have paths like ``checks[0].url``
    (``prefix`` first) and no file or line.
    """
    registry = params_models() if registry is None else registry
    issues: list[ConfigIssue] = []
    spec = collect_check(data, prefix, registry, compile_condition, None, None, issues)
    if spec is None:
        raise ConfigValidationError(issues)
    return spec


def check_from_spec(
    spec: CheckBase,
    *,
    service: str,
    defaults: CheckDefaults,
    source: CheckSource = CheckSource.API,
) -> Check:
    """The domain :class:`Check` for a validated spec (id explicit or derived).

    ``defaults`` is required: a check that does not set its interval or timeout gets the
    loaded file's, whichever way it was created.
    """
    return Check(
        id=spec.id if spec.id is not None else check_id_for(service, spec.name),
        service=service,
        name=spec.name,
        type=spec.type,
        interval=spec.interval if spec.interval is not None else defaults.interval,
        timeout=spec.timeout if spec.timeout is not None else defaults.timeout,
        params=MappingProxyType(check_params(spec)),
        conditions=tuple(spec.conditions),
        enabled=spec.enabled,
        paused=spec.paused,
        labels=MappingProxyType(dict(spec.labels)),
        source=source,
        alert=MappingProxyType(overrides_of(spec.alert)),
        locations=tuple(spec.locations),
        quorum=spec.quorum,
    )


def collect_check(
    data: Any,
    path: KeyPath,
    registry: Registry,
    compile_condition: ConditionCompiler | None,
    document: YamlDocument | None,
    filename: str | None,
    issues: list[ConfigIssue],
) -> CheckBase | None:
    """The validated check, or None after appending its problems to ``issues``."""
    adapter = check_adapter(registry)
    tag = data.get("type") if isinstance(data, dict) else None
    tag = tag if isinstance(tag, str) and tag in check_models(registry) else None
    context = {CONTEXT_COMPILER: compile_condition} if compile_condition is not None else None
    try:
        return adapter.validate_python(data, context=context)
    except ValidationError as exc:
        issues.extend(
            issues_from_validation_error(
                exc,
                root_type=check_config_type(registry),
                prefix=path,
                document=document,
                filename=filename,
                tag=tag,
            )
        )
        return None


def check_rules(
    spec: CheckBase, service: str, defaults: CheckDefaults, *, prefix: KeyPath = ("check",)
) -> None:
    """The config file's cross-key rules (interval floor, timeout shorter than the interval)
    for one check, reported at ``prefix`` + key (``check.timeout`` for the API) like the file
    reports ``services[0].checks[0].timeout``; raises :class:`ConfigValidationError`."""
    section = ServiceSection.model_construct(name=service, checks=[spec])
    valid = ValidService(("service",), section, [ValidCheck(prefix, spec, spec.id or "")])
    findings = check_semantics(
        None,
        DefaultsSection.model_construct(interval=defaults.interval, timeout=defaults.timeout),
        [valid],
        any_services_written=True,
        locate=lambda path: None,
        filename=None,
    )
    if findings.errors:
        raise ConfigValidationError(findings.errors)


def new_check(
    spec: CheckBase,
    *,
    service: str,
    defaults: CheckDefaults,
    source: CheckSource = CheckSource.API,
    prefix: KeyPath = ("check",),
) -> Check:
    """A check created outside the file (API, form, CLI): the file's rules, then its defaults.
    A push check given without a ping key gets a new one (:func:`with_ping_key`)."""
    spec = with_ping_key(spec)
    check_rules(spec, service, defaults, prefix=prefix)
    return check_from_spec(spec, service=service, defaults=defaults, source=source)


def with_ping_key(spec: CheckBase) -> CheckBase:
    """``spec`` with a freshly generated ping key when it is a push check without one."""
    if spec.type == PUSH_TYPE and getattr(spec, "token", None) is None:
        return spec.model_copy(update={"token": generate_ping_key()})
    return spec
