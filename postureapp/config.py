"""Configuration: defaults, then a TOML file, then environment, then command-line flags.

Every effective value remembers where it came from, so ``posture config`` can say why
a threshold is what it is. The file lives in the user's config directory
(``platformdirs``) unless ``--config`` or ``POSTURE_CONFIG`` names another.

Example ``config.toml``::

    [targets]
    kube_contexts = ["prod-eu", "staging"]
    aws_profiles = ["prod"]
    aws_regions = ["eu-west-1", "us-east-1"]

    [thresholds]
    secret_rotation_days = 90
    cert_warning_days = 30
    unused_days = 90
    admin_ports = [22, 3389, 6443]

    [poll]
    interval_seconds = 300
    collector_timeout_seconds = 600
    workers = 8

    [retention]
    snapshots = 50

    [fleet]               # many accounts and clusters (README, "Fleet")
    max_concurrency = 16
    aws_organization = false
    aws_role_name = "OrganizationAccountAccessRole"
    aws_include_ous = []
    aws_exclude_ous = []
    aws_exclude_accounts = []
    kube_all_contexts = false
    stale_after_hours = 24

    [probe]               # only with --probe / --probe-url
    concurrency = 10
    timeout_seconds = 5
    budget_seconds = 120
    allow_private = false
    only_hosts = []
    ca_bundle = ""
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from postureapp.errors import ConfigError

APP_NAME = "posture"

DEFAULT_ADMIN_PORTS = [
    22,
    23,
    2375,
    2376,
    3306,
    3389,
    5432,
    5984,
    6379,
    6443,
    9200,
    9300,
    10250,
    11211,
    27017,
]


@dataclass(frozen=True)
class Setting:
    """The schema of one setting: its default and how to validate a value."""

    section: str
    name: str
    default: Any
    kind: str  # "int", "bool", "str", "str_list", "int_list"
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"


# Many accounts and clusters at once (README, "Fleet").
FLEET_SETTINGS: list[Setting] = [
    Setting(
        "fleet",
        "max_concurrency",
        16,
        "int",
        1,
        256,
        "AWS work units (one service, one region, one account) in flight at once, across "
        "every account",
    ),
    Setting(
        "fleet",
        "aws_organization",
        False,
        "bool",
        help="collect every active account of the AWS organisation (as --organization)",
    ),
    Setting(
        "fleet",
        "aws_role_name",
        "OrganizationAccountAccessRole",
        "str",
        help="role assumed in each member account",
    ),
    Setting(
        "fleet",
        "aws_external_id",
        "",
        "str",
        help="ExternalId for that role, if its trust policy asks for one "
        "(else $POSTURE_AWS_EXTERNAL_ID)",
    ),
    Setting(
        "fleet",
        "aws_include_ous",
        [],
        "str_list",
        help="only accounts under these OUs (ids ou-... / r-..., or paths Root/Prod)",
    ),
    Setting("fleet", "aws_exclude_ous", [], "str_list", help="skip accounts under these OUs"),
    Setting("fleet", "aws_exclude_accounts", [], "str_list", help="skip these account ids"),
    Setting(
        "fleet",
        "kube_all_contexts",
        False,
        "bool",
        help="poll every context of the kubeconfig (as --all-contexts)",
    ),
    Setting(
        "fleet",
        "stale_after_hours",
        24,
        "int",
        1,
        8760,
        "posture merge: a target with no new part for this long is judged unknown",
    ),
]

SETTINGS: list[Setting] = [
    Setting("targets", "kube_contexts", [], "str_list", help="kubeconfig contexts to poll"),
    Setting("targets", "kubeconfig", [], "str_list", help="kubeconfig files (else KUBECONFIG)"),
    Setting("targets", "aws_profiles", [], "str_list", help="AWS profiles to poll"),
    Setting("targets", "aws_regions", [], "str_list", help="AWS regions (else the profile's)"),
    Setting(
        "thresholds",
        "secret_rotation_days",
        90,
        "int",
        1,
        3650,
        "a secret or key older than this is stale",
    ),
    Setting(
        "thresholds",
        "cert_warning_days",
        30,
        "int",
        0,
        3650,
        "warn when a certificate expires within this many days",
    ),
    Setting(
        "thresholds",
        "unused_days",
        90,
        "int",
        1,
        3650,
        "an identity or key unused this long is dormant",
    ),
    Setting(
        "thresholds",
        "log_retention_min_days",
        30,
        "int",
        1,
        3653,
        "a CloudWatch log group keeping logs for less than this is too short",
    ),
    Setting(
        "thresholds",
        "admin_ports",
        DEFAULT_ADMIN_PORTS,
        "int_list",
        1,
        65535,
        "ports that must never be open to the internet",
    ),
    Setting("poll", "interval_seconds", 300, "int", 10, 86400, "dashboard poll period"),
    Setting(
        "poll",
        "collector_timeout_seconds",
        600,
        "int",
        1,
        86400,
        "a collector running longer is abandoned and its target marked failed",
    ),
    Setting("poll", "workers", 8, "int", 1, 64, "collector x target runs at once"),
    Setting("retention", "snapshots", 50, "int", 1, 100000, "snapshots kept in the cache"),
    *FLEET_SETTINGS,
    Setting("probe", "concurrency", 10, "int", 1, 100, "endpoints probed at once (--probe)"),
    Setting("probe", "timeout_seconds", 5, "int", 1, 120, "timeout of each probe request"),
    Setting(
        "probe", "budget_seconds", 120, "int", 1, 3600, "total time allowed for one poll's probes"
    ),
    Setting(
        "probe",
        "allow_private",
        False,
        "bool",
        help="probe endpoints on loopback and private addresses (--probe-allow-private)",
    ),
    Setting(
        "probe",
        "only_hosts",
        [],
        "str_list",
        help="probe only endpoints on these hosts (default: every discovered endpoint)",
    ),
    Setting(
        "probe",
        "ca_bundle",
        "",
        "str",
        help="extra CA certificates (PEM) the probe trusts (--probe-ca-bundle)",
    ),
]

_BY_KEY = {setting.key: setting for setting in SETTINGS}

# Environment overrides, for CI jobs that cannot ship a config file.
ENVIRONMENT = {
    "POSTURE_INTERVAL": "poll.interval_seconds",
    "POSTURE_RETENTION": "retention.snapshots",
    "POSTURE_MAX_CONCURRENCY": "fleet.max_concurrency",
    # An ExternalId is no secret, but it need not sit in a config file either.
    "POSTURE_AWS_EXTERNAL_ID": "fleet.aws_external_id",
}


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str) -> Any:
        return self.values[key]

    def thresholds(self) -> dict[str, Any]:
        """The settings checks see, keyed by bare name (``secret_rotation_days``...)."""
        return {
            setting.name: self.values[setting.key]
            for setting in SETTINGS
            if setting.section == "thresholds"
        }

    def override(self, key: str, value: Any, source: str) -> None:
        """Apply a command-line value, validated like any other."""
        setting = _BY_KEY[key]
        self.values[key] = _validate(setting, value, source)
        self.sources[key] = source

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "key": setting.key,
                "value": self.values[setting.key],
                "source": self.sources[setting.key],
                "help": setting.help,
            }
            for setting in SETTINGS
        ]


def default_config_path() -> Path:
    env = os.environ.get("POSTURE_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read defaults, the file (when it exists) and the environment.

    Raises:
        ConfigError: one line naming the file, the key and what is wrong.
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or "POSTURE_CONFIG" in environ
    path = path or default_config_path()
    config = Config(path=path)
    for setting in SETTINGS:
        config.values[setting.key] = setting.default
        config.sources[setting.key] = "default"
    try:
        present = path.exists()
    except OSError as error:  # a folder on the way that we may not search
        raise ConfigError(f"config file {path}: cannot read ({error.strerror})") from None
    if present:
        _apply_file(config, path)
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    for variable, key in ENVIRONMENT.items():
        if variable in environ:
            raw = environ[variable]
            value: Any = raw
            if _BY_KEY[key].kind == "int":
                try:
                    value = int(raw)
                except ValueError:
                    value = raw
            config.values[key] = _validate(_BY_KEY[key], value, f"${variable}")
            config.sources[key] = f"env {variable}"
    return config


def _apply_file(config: Config, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except OSError as error:
        raise ConfigError(f"config file {path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text") from None
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: '{section}' must be a [table]")
        for name, value in table.items():
            key = f"{section}.{name}"
            setting = _BY_KEY.get(key)
            if setting is None:
                known = ", ".join(sorted(_BY_KEY))
                raise ConfigError(f"{path}: unknown setting '{key}' (known: {known})")
            config.values[key] = _validate(setting, value, f"{path}: {key}")
            config.sources[key] = str(path)


def _validate(setting: Setting, value: Any, where: str) -> Any:
    if setting.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false (got {value!r})")
        return value
    if setting.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string (got {value!r})")
        return value
    if setting.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number (got {value!r})")
        _check_range(setting, value, where)
        return value
    if setting.kind in ("str_list", "int_list"):
        if isinstance(value, str) and setting.kind == "str_list":
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list (got {value!r})")
        for item in value:
            if setting.kind == "str_list" and not (isinstance(item, str) and item):
                raise ConfigError(f"{where} must hold non-empty strings (got {item!r})")
            if setting.kind == "int_list":
                if isinstance(item, bool) or not isinstance(item, int):
                    raise ConfigError(f"{where} must hold whole numbers (got {item!r})")
                _check_range(setting, item, where)
        return list(value)
    raise AssertionError(setting.kind)


def _check_range(setting: Setting, value: int, where: str) -> None:
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where} must be at least {setting.minimum} (got {value})")
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where} must be at most {setting.maximum} (got {value})")
