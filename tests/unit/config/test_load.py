"""Loading valid files: what the rest of NyxMon gets out of a config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nyxmon.config import (
    AgentConfig,
    ConfigValidationError,
    LoadedConfig,
    load_config,
    load_config_text,
)
from nyxmon.domain.model import CheckSource, check_id_for

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "nyxmon.yaml"

MINIMAL = """\
defaults:
  interval: 1m
  timeout: 10s
services:
  - name: Website
    checks:
      - name: homepage
        type: http
        url: http://127.0.0.1:8090/healthy
      - name: Slow Page
        type: http
        url: http://127.0.0.1:8090/slow
        interval: 2m
        timeout: 30s
"""


def load(text: str, **env: str) -> LoadedConfig:
    return load_config_text(text, filename="test.yaml", base_dir="/srv/nyx", environ=env)


def test_bundled_example_validates_and_probes_only_the_local_demo_target() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.summary() == "4 services, 9 checks (http: 5, dns: 1, json: 1, tcp: 1, udp: 1)"
    assert not config.warnings
    for check in config.checks:
        params = check.params
        target = params.get("url") or params.get("server") or params.get("host")
        assert "127.0.0.1" in str(target), check.id
    ids = {check.id for check in config.checks}
    assert {"demo-website.homepage", "demo.failing", "demo-dns.apex-a-record"} <= ids
    assert config.agent.database == str(EXAMPLE.parent / "var" / "nyxmon.db")


def test_example_environment_variables_override_its_defaults() -> None:
    config = load_config(EXAMPLE, environ={"NYXMON_LISTEN": "0.0.0.0:9000"})
    assert (config.agent.web.host, config.agent.web.port) == ("0.0.0.0", 9000)


def test_defaults_apply_to_checks_that_do_not_override_them() -> None:
    home, slow = load(MINIMAL).checks
    assert (home.interval, home.timeout) == (60.0, 10.0)
    assert (slow.interval, slow.timeout) == (120.0, 30.0)


def test_built_in_defaults_apply_when_the_file_sets_none() -> None:
    config = load("services: []\n")
    assert config.agent == AgentConfig(database="/srv/nyx/var/nyxmon.db")
    assert config.agent.defaults.interval == 60.0


def test_checks_carry_params_without_the_common_fields() -> None:
    (check, _) = load(MINIMAL).checks
    assert check.source is CheckSource.CONFIG
    assert check.params["url"] == "http://127.0.0.1:8090/healthy"
    assert check.params["method"] == "GET"
    assert not {"name", "type", "interval", "timeout", "conditions", "id"} & set(check.params)


def test_derived_ids_are_stable_across_loads_and_follow_check_id_for() -> None:
    first = [check.id for check in load(MINIMAL).checks]
    again = [check.id for check in load(MINIMAL).checks]
    assert first == again == ["website.homepage", "website.slow-page"]
    assert first[1] == check_id_for("Website", "Slow Page")


def test_explicit_id_survives_renaming_the_check_and_its_service() -> None:
    text = MINIMAL.replace("      - name: homepage\n", "      - name: homepage\n        id: home\n")
    renamed = text.replace("name: Website", "name: Web").replace("name: homepage", "name: index")
    assert load(text).checks[0].id == load(renamed).checks[0].id == "home"


def test_substitution_defaults_and_escapes_reach_the_values() -> None:
    text = """\
agent:
  concurrency: "${CONCURRENCY:-300}"
  database: "${DB:-data/nyx.db}"
services:
  - name: Website
    description: "costs $$5; literal $${NOT_A_VAR}"
    checks:
      - name: homepage
        type: http
        url: "http://${HOST}:8090/healthy"
        headers: {Authorization: "Bearer ${TOKEN:-}"}
"""
    config = load(text, HOST="10.0.0.7", CONCURRENCY="42")
    assert config.agent.concurrency == 42
    assert config.agent.database == "/srv/nyx/data/nyx.db"
    assert config.services[0].description == "costs $$5; literal ${NOT_A_VAR}"
    assert config.checks[0].params["url"] == "http://10.0.0.7:8090/healthy"
    assert config.checks[0].params["headers"] == {"Authorization": "Bearer "}


def test_substituted_text_is_still_validated_with_the_key_path_and_line() -> None:
    text = "agent:\n  concurrency: ${CONCURRENCY}\n"
    with pytest.raises(ConfigValidationError) as caught:
        load(text, CONCURRENCY="many")
    assert str(caught.value) == 'test.yaml:2: agent.concurrency: expected an integer, got "many"'


def test_load_config_uses_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYX_TEST_LISTEN", "127.0.0.1:9999")
    path = tmp_path / "nyxmon.yaml"
    path.write_text('web: {listen: "${NYX_TEST_LISTEN}"}\n')
    assert load_config(path).agent.web.port == 9999


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("var/nyx.db", "/srv/nyx/var/nyx.db"),
        ("/data/nyx.db", "/data/nyx.db"),
        (":memory:", ":memory:"),
        ("postgresql://nyx@db/nyxmon", "postgresql://nyx@db/nyxmon"),
    ],
)
def test_database_paths_are_relative_to_the_config_file(database: str, expected: str) -> None:
    assert load(f"agent: {{database: '{database}'}}\n").agent.database == expected


def test_database_path_is_relative_to_the_folder_of_the_loaded_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "nyxmon.yaml"
    path.write_text("agent: {database: state/nyx.db}\n")
    config = load_config(path, environ={})
    assert config.agent.database == os.path.join(tmp_path, "conf", "state", "nyx.db")


@pytest.mark.parametrize(
    ("web", "host", "port", "public_url"),
    [
        ("{listen: '127.0.0.1:8080'}", "127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("{listen: '[::1]:9000'}", "::1", 9000, "http://[::1]:9000"),
        (
            "{listen: 'nyx.local:80', public_url: 'https://status.example/'}",
            "nyx.local",
            80,
            "https://status.example",
        ),
    ],
)
def test_web_listen_and_public_url(web: str, host: str, port: int, public_url: str) -> None:
    settings = load(f"web: {web}\n").agent.web
    assert (settings.host, settings.port, settings.public_url) == (host, port, public_url)


def test_empty_file_is_valid_with_a_warning_that_nothing_is_monitored() -> None:
    config = load("# nothing yet\n")
    assert config.checks == ()
    (warning,) = config.warnings
    assert warning.path == "services"
    assert "no services" in warning.message


def test_empty_sections_mean_their_defaults() -> None:
    config = load("agent:\nweb:\ndefaults:\nservices:\n")
    assert config.agent.concurrency == 500


def test_top_level_x_keys_hold_anchors_and_are_ignored() -> None:
    text = """\
x-fast: &fast {interval: 5s, timeout: 2s}
services:
  - name: Website
    checks:
      - name: homepage
        type: http
        url: http://127.0.0.1:8090/healthy
        <<: *fast
"""
    (check,) = load(text).checks
    assert (check.interval, check.timeout) == (5.0, 2.0)


def test_questionable_but_valid_settings_load_with_warnings_naming_their_lines() -> None:
    text = """\
agent:
  concurrency: 10
  per_host_concurrency: 50
  retention: {raw: 30d, hourly: 7d}
services:
  - name: Empty
"""
    warnings = load(text).warnings
    assert [(w.line, w.path) for w in warnings] == [
        (3, "agent.per_host_concurrency"),
        (4, "agent.retention"),
        (6, "services[0]"),
    ]
    assert "has no checks" in warnings[2].message


def test_services_and_check_lines_are_kept() -> None:
    config = load(MINIMAL)
    (service,) = config.services
    assert service.name == "Website"
    assert dict(config.check_lines) == {"website.homepage": 7, "website.slow-page": 10}


def test_loaded_config_is_immutable() -> None:
    config = load(MINIMAL)
    with pytest.raises(AttributeError):
        config.agent.concurrency = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.checks[0].params["url"] = "x"  # type: ignore[index]


def test_conditions_are_compiled_at_load_time_by_the_domain_compiler() -> None:
    text = MINIMAL.replace(
        "        url: http://127.0.0.1:8090/healthy\n",
        "        url: http://127.0.0.1:8090/healthy\n        conditions: ['[STATUS] = 200']\n",
    )
    with pytest.raises(ConfigValidationError) as caught:
        load(text)
    (issue,) = caught.value.errors
    assert (issue.line, issue.path) == (10, "services[0].checks[0].conditions[0]")
    assert "invalid condition '[STATUS] = 200'" in issue.message
