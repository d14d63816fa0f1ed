"""Start-up warnings for deployments where a rule or the client address cannot work."""

import subprocess
import sys

import pytest
from django.core.checks import run_checks

from tests.hardening.server import ROOT, subprocess_env

TLS_PROXY = ("HTTP_X_FORWARDED_PROTO", "https")


def ids(**kwargs) -> set[str]:
    return {message.id for message in run_checks(**kwargs) if message.id.startswith("risk.")}


def test_impossible_travel_without_a_country_source_warns(settings):
    settings.GEOIP_DATABASE = ""
    assert "risk.W001" in ids()
    settings.GEOIP_DATABASE = "/nonexistent/GeoLite2-Country.mmdb"
    [warning] = [m for m in run_checks() if m.id == "risk.W001"]
    assert "cannot be opened" in warning.msg and "CF-IPCountry" in warning.msg
    settings.RISK_DETECTORS = [p for p in settings.RISK_DETECTORS if "impossible_travel" not in p]
    assert "risk.W001" not in ids()


@pytest.mark.parametrize(("proxy_header", "trusted", "warned"), [
    (TLS_PROXY, ["127.0.0.1/32", "::1/128"], True),
    (TLS_PROXY, [], True),
    (TLS_PROXY, ["127.0.0.1/32", "10.0.0.0/8"], False),
    (None, ["127.0.0.1/32"], False),
])
def test_a_tls_proxy_outside_trusted_proxies_is_a_deploy_warning(settings, proxy_header, trusted, warned):
    settings.SECURE_PROXY_SSL_HEADER, settings.TRUSTED_PROXIES = proxy_header, trusted
    assert ("risk.W002" in ids(include_deployment_checks=True)) is warned
    assert "risk.W002" not in ids()  # a deployment check only


def test_an_invalid_trusted_proxy_is_an_error(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    errors = [m for m in run_checks() if m.id == "risk.E006"]
    assert len(errors) == 1 and "proxy.internal" in errors[0].msg


def test_an_operator_can_silence_a_warning_from_the_environment():
    env = subprocess_env("nexus.settings.test", DJANGO_SILENCED_SYSTEM_CHECKS="risk.W001", GEOIP_DATABASE="")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "risk.W001" not in result.stderr + result.stdout
    assert "1 silenced" in result.stdout
