import pytest

from postureapp.config import load_config
from postureapp.errors import ConfigError


def test_defaults_when_the_default_file_is_absent(tmp_path, monkeypatch):
    monkeypatch.setattr("postureapp.config.default_config_path", lambda: tmp_path / "none.toml")
    config = load_config(None, environ={})
    assert config.get("thresholds.secret_rotation_days") == 90
    assert config.sources["thresholds.secret_rotation_days"] == "default"
    assert 6443 in config.get("thresholds.admin_ports")


def _load(path, text="", environ=None):
    path.write_text(text)
    return load_config(path, environ=environ or {})


def test_file_then_environment_override(tmp_path):
    path = tmp_path / "c.toml"
    config = _load(
        path,
        text="[thresholds]\nsecret_rotation_days = 30\n[poll]\ninterval_seconds = 60\n",
        environ={"POSTURE_INTERVAL": "120"},
    )
    assert config.get("thresholds.secret_rotation_days") == 30
    assert config.sources["thresholds.secret_rotation_days"] == str(path)
    assert config.get("poll.interval_seconds") == 120
    assert config.sources["poll.interval_seconds"] == "env POSTURE_INTERVAL"
    assert config.thresholds()["secret_rotation_days"] == 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[thresholds]\nsecret_rotation_days = 'ninety'\n", "must be a whole number"),
        ("[thresholds]\nsecret_rotation_days = 0\n", "at least 1"),
        ("[thresholds]\nadmin_ports = [22, 70000]\n", "at most 65535"),
        ("[thresholds]\nrotation = 3\n", "unknown setting 'thresholds.rotation'"),
        ("[targets]\nkube_contexts = [1]\n", "non-empty strings"),
        ("thresholds = 3\n", "must be a [table]"),
        ("[poll\n", "not valid TOML"),
    ],
)
def test_invalid_values_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        _load(tmp_path / "c.toml", text=text)


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})
