"""The probe's settings: defaults, a config file, validation, and the target built
from them (what the dashboard's probe toggle adds)."""

from __future__ import annotations

import pytest

from postureapp.collectors.probe import probe_target
from postureapp.config import load_config
from postureapp.errors import ConfigError, InputError


def test_defaults_and_the_target_built_from_them(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    config = load_config(path, environ={})
    target = probe_target(config)
    assert (target.provider, target.name) == ("probe", "probe")
    assert target.options == {
        "urls": [],
        "allow_private": False,
        "concurrency": 10,
        "timeout": 5,
        "budget": 120,
        "ca_bundle": None,
        "only_hosts": [],
    }


def test_a_config_file_sets_them_and_flags_win(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        "[probe]\nconcurrency = 4\nallow_private = true\nca_bundle = '/etc/ca.pem'\n"
        "only_hosts = ['api.example.com']\n"
    )
    config = load_config(path, environ={})
    target = probe_target(
        config, ["https://api.example.com/"], allow_private=False, ca_bundle="/tmp/x.pem"
    )
    assert target.options["concurrency"] == 4
    assert target.options["allow_private"] is False
    assert target.options["ca_bundle"] == "/tmp/x.pem"
    assert target.options["only_hosts"] == ["api.example.com"]
    assert probe_target(config).options["allow_private"] is True


@pytest.mark.parametrize(
    "text",
    ["[probe]\nallow_private = 'yes'\n", "[probe]\nconcurrency = 0\n", "[probe]\nca_bundle = 3\n"],
)
def test_bad_values_are_config_errors(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="probe"):
        load_config(path, environ={})


def test_a_malformed_url_fails_before_anything_is_polled(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    with pytest.raises(InputError):
        probe_target(load_config(path, environ={}), ["gopher://x"])
