"""Load and validate a NyxMon config file: the package's front door.

``load_config`` returns a :class:`LoadedConfig` or raises :class:`ConfigValidationError` listing
every problem of the file, and its warnings. Sections are validated one by one and each check on
its own, and the rules across keys still run around what failed (a check that failed the schema
keeps its id for the duplicate rule; a section with a mistyped key keeps its other keys), so one
run reports everything: a user never fixes a file in rounds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from nyxmon.checktypes import params_models
from nyxmon.config._text import did_you_mean, format_path, show
from nyxmon.config.alerting_pass import check_alerting
from nyxmon.config.checks import CheckBase, ConditionCompiler, Registry, valid_check_id
from nyxmon.config.durations import IntervalDuration, TimeoutDuration
from nyxmon.config.issues import ConfigIssue, ConfigValidationError
from nyxmon.config.loader import MAX_TEXT, KeyPath, YamlDocument, parse_yaml, too_large
from nyxmon.config.messages import issues_from_validation_error
from nyxmon.config.schema import (
    AgentSection,
    DefaultsSection,
    ServiceSection,
    WebSection,
    parse_listen,
)
from nyxmon.config.secrets import register_config_secrets
from nyxmon.config.semantics import ValidCheck, ValidService, check_semantics
from nyxmon.config.settings import (
    AgentConfig,
    CheckDefaults,
    LoadedConfig,
    RetentionPolicy,
    WebConfig,
)
from nyxmon.config.single_check import check_from_spec, collect_check
from nyxmon.config.web import resolve_password_file, status_page_issues, status_pages_from
from nyxmon.domain.alerting import AlertPolicy
from nyxmon.domain.model import Check, CheckSource, Service, check_id_for

__all__ = ["load_config", "load_config_text"]

_SECTIONS: dict[str, type[BaseModel]] = {
    "agent": AgentSection,
    "web": WebSection,
    "defaults": DefaultsSection,
}
_TOP_KEYS = (*_SECTIONS, "services", "alerting", "maintenance")
_M = TypeVar("_M", bound=BaseModel)
# The keys the rules across sections read: a section whose mistakes lie elsewhere (a mistyped
# key) still takes part in them; one whose mistakes lie here does not (the rules would judge a
# default the user did not write).
_RULE_KEYS: dict[str, frozenset[str]] = {
    "agent": frozenset({"concurrency", "per_host_concurrency", "retention"}),
    "web": frozenset({"status_pages"}),
    "defaults": frozenset({"interval", "timeout", "alert"}),
}
_TIMING: dict[str, TypeAdapter[float]] = {
    "interval": TypeAdapter(IntervalDuration),
    "timeout": TypeAdapter(TimeoutDuration),
}


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    compile_condition: ConditionCompiler | None = None,
) -> LoadedConfig:
    """Read, substitute, validate and convert the config file at ``path``.

    ``environ`` defaults to ``os.environ``; ``registry`` and ``compile_condition`` default to
    the probe registry and the domain's condition compiler.
    """
    filename = os.fspath(path)
    try:
        with open(filename, "rb") as file:
            data = file.read(MAX_TEXT + 1)  # never more: the file may be endless (/dev/zero)
    except OSError as exc:
        issue = ConfigIssue(filename, None, "", f"cannot read: {exc.strerror or exc}")
        raise ConfigValidationError([issue]) from None
    if len(data) > MAX_TEXT:
        raise ConfigValidationError([too_large(filename)])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        issue = ConfigIssue(filename, line, "", f"not valid UTF-8 text ({exc.reason})")
        raise ConfigValidationError([issue]) from None
    return load_config_text(
        text,
        filename=filename,
        base_dir=Path(filename).resolve().parent,
        environ=environ,
        registry=registry,
        compile_condition=compile_condition,
    )


def load_config_text(
    text: str,
    *,
    filename: str = "<config>",
    base_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    compile_condition: ConditionCompiler | None = None,
) -> LoadedConfig:
    """Like :func:`load_config` for text already in memory; relative paths use ``base_dir``."""
    env = os.environ if environ is None else environ
    document = parse_yaml(text, filename=filename, environ=env)
    run = _Validation(
        document,
        filename,
        registry=params_models() if registry is None else registry,
        compile_condition=compile_condition,
    )
    loaded = run.finish(Path(base_dir) if base_dir is not None else Path.cwd())
    register_config_secrets(loaded)  # from now on none of them is ever repeated
    return loaded


class _Validation:
    """One pass over a parsed document, collecting every issue before deciding."""

    def __init__(
        self,
        document: YamlDocument,
        filename: str,
        *,
        registry: Registry,
        compile_condition: ConditionCompiler | None,
    ) -> None:
        self.document = document
        self.filename = filename
        self.registry = registry
        self.compile_condition = compile_condition
        self.issues: list[ConfigIssue] = list(document.issues)

    def issue(self, path: KeyPath, message: str) -> ConfigIssue:
        line = self.document.line_of(path)
        return ConfigIssue(self.filename, line, format_path(path), message)

    def error(self, path: KeyPath, message: str) -> None:
        self.issues.append(self.issue(path, message))

    def section(self, model: type[_M], data: Any, path: KeyPath) -> _M | None:
        try:
            return model.model_validate({} if data is None else data)
        except ValidationError as exc:
            self.report(exc, model, path)
            return None

    def report(self, exc: ValidationError, model: type[BaseModel], path: KeyPath) -> None:
        self.issues.extend(
            issues_from_validation_error(
                exc,
                root_type=model,
                prefix=path,
                document=self.document,
                filename=self.filename,
            )
        )

    def partial_section(self, model: type[_M], data: Any, path: KeyPath) -> _M | None:
        """The section; an invalid one's problems are reported (so the file is refused), and
        it is given back without its bad keys when the rules across sections read none of them.
        """
        try:
            return model.model_validate({} if data is None else data)
        except ValidationError as exc:
            self.report(exc, model, path)
            bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
        if not isinstance(data, dict) or bad & _RULE_KEYS.get(str(path[-1]), frozenset()):
            return None
        try:
            return model.model_validate({k: v for k, v in data.items() if k not in bad})
        except ValidationError:
            return None

    def finish(self, base_dir: Path) -> LoadedConfig:
        root = self.document.data
        if root is None:
            root = {}
        if not isinstance(root, dict):
            self.error((), f"expected a mapping with keys {', '.join(_TOP_KEYS)}, got {show(root)}")
            raise ConfigValidationError(self.issues)
        for key in root:
            if key not in _TOP_KEYS and not key.startswith("x-"):
                guess = did_you_mean(key, _TOP_KEYS)
                hint = (
                    f"did you mean {show(guess)}?"
                    if guess
                    else f"expected one of: {', '.join(_TOP_KEYS)}"
                )
                self.error((key,), f"unknown key {show(key)}; {hint}")
        agent = self.partial_section(AgentSection, root.get("agent"), ("agent",))
        web = self.partial_section(WebSection, root.get("web"), ("web",))
        defaults = self.partial_section(DefaultsSection, root.get("defaults"), ("defaults",))
        services = self.services(root.get("services"))
        findings = check_semantics(
            agent,
            defaults,
            services,
            any_services_written=bool(root.get("services")),
            locate=self.document.line_of,
            filename=self.filename,
        )
        self.issues.extend(findings.errors)
        if web is not None:
            names = [service.section.name for service in services]
            page_errors, page_warnings = status_page_issues(
                web.status_pages, names, locate=self.document.line_of, filename=self.filename
            )
            self.issues.extend(page_errors)
            findings.warnings.extend(page_warnings)
        alerting = check_alerting(
            root,
            defaults,
            services,
            section=self.section,
            locate=self.document.line_of,
            error=self.error,
            warn=lambda path, message: findings.warnings.append(self.issue(path, message)),
        )
        if self.issues or agent is None or web is None or defaults is None:
            raise ConfigValidationError(self.issues, findings.warnings)
        settings = _agent_config(agent, web, defaults, base_dir, alerting.default_policy)
        domain_services: list[Service] = []
        checks: list[Check] = []
        check_lines: dict[str, int] = {}
        for service in services:
            section = service.section
            domain_services.append(
                Service(
                    name=section.name,
                    group=section.group,
                    labels=MappingProxyType(dict(section.labels)),
                    description=section.description,
                )
            )
            for valid in service.checks:
                check = check_from_spec(
                    valid.spec,
                    service=section.name,
                    defaults=settings.defaults,
                    source=CheckSource.CONFIG,
                )
                checks.append(check)
                check_lines[check.id] = self.document.line_of(valid.path) or 0
        return LoadedConfig(
            path=Path(self.filename),
            agent=settings,
            services=tuple(domain_services),
            checks=tuple(checks),
            warnings=tuple(sorted(findings.warnings, key=lambda issue: issue.sort_key)),
            check_lines=MappingProxyType(check_lines),
            routes=alerting.routes,
            maintenance=alerting.maintenance(),
            policies=MappingProxyType(alerting.policies),
        )

    def services(self, data: Any) -> list[ValidService]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.error(("services",), f"expected a list of services, got {show(data)}")
            return []
        valid: list[ValidService] = []
        for index, raw in enumerate(data):
            path: KeyPath = ("services", index)
            section = self.section(ServiceSection, raw, path)
            if section is None:
                section = _partial_service(raw)
            checks = section.checks if section is not None else None
            if not isinstance(checks, list):
                continue
            valid_checks: list[ValidCheck] = []
            for position, item in enumerate(checks):
                check_path: KeyPath = (*path, "checks", position)
                spec = collect_check(
                    item,
                    check_path,
                    self.registry,
                    self.compile_condition,
                    self.document,
                    self.filename,
                    self.issues,
                )
                if section is None:
                    continue
                if spec is not None:
                    check_id = spec.id or check_id_for(section.name, spec.name)
                    valid_checks.append(ValidCheck(check_path, spec, check_id))
                elif (stand_in := _stand_in(item)) is not None:
                    check_id = stand_in.id or check_id_for(section.name, stand_in.name)
                    valid_checks.append(ValidCheck(check_path, stand_in, check_id, False))
            if section is not None:
                valid.append(ValidService(path, section, valid_checks))
        return valid


def _stand_in(raw: Any) -> CheckBase | None:
    """What the rules on ids and timing need of a check that failed the schema: its name, id,
    and interval and timeout when both are valid or absent; None without a usable name or id.

    Used only to find more problems in a file that is already refused.
    """
    if not isinstance(raw, dict):
        return None
    name, check_id = raw.get("name"), raw.get("id")
    if not isinstance(name, str) or not name.strip():
        return None
    if check_id is not None and not (isinstance(check_id, str) and valid_check_id(check_id)):
        return None
    timing: dict[str, float] = {}
    for key in ("interval", "timeout"):
        if key in raw:
            try:
                timing[key] = _TIMING[key].validate_python(raw[key])
            except ValidationError:
                timing = {}  # a rule judged on one of the two would judge a guess
                break
    return CheckBase.model_construct(
        name=name,
        type=str(raw.get("type", "")),
        id=check_id,
        interval=timing.get("interval"),
        timeout=timing.get("timeout"),
    )


def _partial_service(raw: Any) -> ServiceSection | None:
    """An unvalidated stand-in for an invalid service, so its checks still get ids and rules.

    Used only to find more problems in a file that is already refused.
    """
    if not isinstance(raw, dict):
        return None
    name = raw.get("name")
    checks = raw.get("checks")
    if not isinstance(name, str) or not name.strip() or not isinstance(checks, list):
        return None
    return ServiceSection.model_construct(name=name, checks=checks)


def _agent_config(
    agent: AgentSection,
    web: WebSection,
    defaults: DefaultsSection,
    base_dir: Path,
    alert: AlertPolicy,
) -> AgentConfig:
    host, port = parse_listen(web.listen)
    shown_host = f"[{host}]" if ":" in host else host
    return AgentConfig(
        database=_resolve_database(agent.database, base_dir),
        concurrency=agent.concurrency,
        per_host_concurrency=agent.per_host_concurrency,
        retention=RetentionPolicy(
            raw=agent.retention.raw, hourly=agent.retention.hourly, daily=agent.retention.daily
        ),
        shutdown_grace=agent.shutdown_grace,
        location=agent.location,
        lease_seconds=agent.lease_seconds,
        rdap_url=agent.rdap_url,
        rdap_bootstrap_url=agent.rdap_bootstrap_url,
        web=WebConfig(
            host=host,
            port=port,
            public_url=web.public_url or f"http://{shown_host}:{port}",
            status_pages=status_pages_from(web.status_pages),
            metrics_token=web.metrics_token,
            admin_password_file=resolve_password_file(web.admin_password_file, base_dir),
            secure_cookies=web.secure_cookies,
            trusted_proxies=tuple(web.trusted_proxies),
            separate_process=web.separate_process,
        ),
        defaults=CheckDefaults(interval=defaults.interval, timeout=defaults.timeout, alert=alert),
    )


def _resolve_database(database: str, base_dir: Path) -> str:
    if database == ":memory:" or "://" in database:
        return database
    path = Path(database).expanduser()
    return os.path.normpath(path if path.is_absolute() else base_dir / path)
