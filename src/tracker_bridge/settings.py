"""Configuration: ``bridge.toml`` plus ``BRIDGE_*`` environment overrides, validated at load.

Discovery order: ``--config PATH``, ``$BRIDGE_CONFIG``, ``./bridge.toml``, else built-in defaults
(the embedded local tracker under ``./.bridge/``). Environment variables override file values,
nested with ``__`` (``BRIDGE_TRACKER__KIND=jira``). Secrets are ``SecretStr`` and come only from
the environment or a secrets file (``token_file``); a token written in ``bridge.toml`` is refused.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.teams import Team
from tracker_bridge.errors import ConfigError

Severity = Literal["error", "warning", "info", "off"]


SEARCH_LAG = {"jira": 10.0, "github": 5.0}
"""Default seconds a tracker's searches may lag its writes, by kind."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrackerSettings(_Section):
    """Where tickets live. ``local`` needs nothing else; ``jira`` and ``github`` need a site."""

    kind: Literal["local", "memory", "jira", "github"] = "local"
    path: Path = Path(".bridge/bridge.db")
    """The embedded tracker's SQLite file (kind = local)."""
    url: str = ""
    """Jira site URL, or the GitHub API base URL (GitHub Enterprise Server: https://HOST/api/v3)."""
    project: str = "OPS"
    """Jira project key; the key prefix of local tickets."""
    repository: str = ""
    """GitHub ``owner/name``."""
    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    email: str = ""
    """Jira Cloud account e-mail (basic auth with an API token)."""
    token: SecretStr | None = None
    """API token (Jira Cloud), personal access token (Jira DC) or GitHub token: environment only."""
    token_file: Path | None = None
    """A file holding the token, for secrets mounted by the platform."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds per request before it counts as failed."""
    max_retry_wait: float = Field(default=120.0, ge=0)
    """Total seconds the bridge may spend waiting between retries of one operation."""
    evidence_repository: str = ""
    """GitHub: repository for binary evidence (default: the tracker repository)."""
    evidence_branch: str = "bridge-evidence"
    issue_types: bool = True
    """GitHub: use the owner's issue types where it has them."""
    search_lag: float | None = Field(default=None, ge=0)
    """How long a write may take to show in the tracker's searches (seconds, or "10s", "500ms",
    "1m"): a create that got no answer is looked for that long before it counts as not made.
    Default: 10 s on Jira (Cloud's search lags writes by seconds), 5 s on GitHub, 0 otherwise."""

    @field_validator("search_lag", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        for unit, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
            number = text.removesuffix(unit).strip()
            if text.endswith(unit) and number.replace(".", "", 1).isdigit():
                return float(number) * factor
        raise ValueError(f'{value!r} is not a duration: write seconds, or e.g. "10s", "500ms"')

    def lag(self) -> float:
        """``search_lag``, or this kind's default."""
        if self.search_lag is not None:
            return self.search_lag
        return SEARCH_LAG.get(self.kind, 0.0)

    def secret(self) -> str | None:
        """The token from the environment or the secrets file, never from bridge.toml."""
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None:
            try:
                return self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the token file {self.token_file}: {exc.strerror}.",
                    hint="Check [tracker] token_file or BRIDGE_TRACKER__TOKEN_FILE.",
                ) from exc
        return None


class ConventionSettings(_Section):
    """Names and structure on the tracker; see ``domain.conventions.Conventions``."""

    observation_prefix: str = "Handle"
    defect_type: str = "Bug"
    observation_type: str = "Task"
    remediation_type: str = "Task"
    subtask_type: str = "Sub-task"
    link: Literal["issue-link", "parent", "sub-task", "sub-issue", "label"] = "issue-link"
    link_type: str = "Relates"
    on_recurrence: Literal["reopen", "new-defect", "comment"] = "reopen"
    reopen_transition: str = "Reopen"
    defect_label: str = "bridge-defect"
    observation_label: str = "bridge-observation"
    remediation_label: str = "bridge-remediation"

    @field_validator("observation_prefix", "defect_label", "observation_label", "remediation_label")
    @classmethod
    def _no_spaces(cls, value: str) -> str:
        if not value or " " in value:
            raise ValueError("must be a non-empty word without spaces")
        return value

    def domain(self) -> Conventions:
        return Conventions(**self.model_dump())


class MatchingSettings(_Section):
    """Known-defect matching."""

    threshold: float | None = Field(default=None, gt=0, le=1)
    """Similarity at or above which a message joins an existing defect (None: built-in default)."""


class CheckSettings(_Section):
    """The convention check."""

    rules: dict[str, Severity] = Field(default_factory=dict)
    """Re-grade or turn off rules by id: ``{ "observation-without-action" = "off" }``."""
    stale_days: int = Field(default=14, gt=0)


class EvidenceSettings(_Section):
    """Limits and policy of evidence intake, checked before anything is created."""

    max_file: ByteSize = Field(default=ByteSize(100_000_000), gt=0)
    """Largest evidence file (``"100MB"``, ``"1GiB"``); bigger ones are refused with exit 2."""
    max_observation: ByteSize = Field(default=ByteSize(250_000_000), gt=0)
    """Largest total of one observation's (or one ``evidence add``'s) evidence."""
    unscanned: Literal["refuse", "allow"] = "refuse"
    """Content that cannot be scanned for secrets (compressed, encrypted): ``refuse`` it (the
    default; ``--allow-unscanned`` allows it for one call) or ``allow`` it, stored unscanned."""


class TeamSettings(_Section):
    """A team that remediation can be delegated to."""

    tracker: Literal["jira", "github", "local"] | None = None
    """Default: the same tracker as [tracker]."""
    url: str = ""
    project: str = ""
    repository: str = ""
    issue_type: str = "Task"
    template: str = "remediation"
    labels: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    token_env: str = ""
    """Environment variable holding this team's tracker token when it is another site."""
    deployment: Literal["auto", "cloud", "datacenter"] | None = None
    """Jira deployment of the team's site when it is another site (default: ours)."""
    email: str = ""
    """Jira Cloud account e-mail for the team's site when it is another site (default: ours)."""

    def domain(self, name: str) -> Team:
        return Team(
            name=name,
            project=self.project or self.repository,
            issue_type=self.issue_type,
            template=self.template,
            labels=tuple(self.labels),
            components=tuple(self.components),
            fields=tuple(self.fields.items()),
        )


AlertSource = Literal["alertmanager", "grafana", "generic"]


class AlertMappingSettings(_Section):
    """How one alert becomes a sighting: small sandboxed Jinja2 expressions over the alert.

    Names available: ``labels``, ``annotations``, ``status``, ``fingerprint``, ``starts_at``,
    ``ends_at``, ``generator_url``, ``values``, ``source``. An empty string keeps the default.
    """

    message: str = ""
    """Default: ``annotations.summary or labels.alertname``."""
    instance: str = ""
    """Default: ``labels.instance or labels.pod or labels.host or labels.node``."""
    event_id: str = ""
    """Default: the alert's fingerprint and its start time, so repeats map to one sighting."""
    impact: str = ""
    """Default: ``annotations.impact`` when present."""


class GrafanaSettings(_Section):
    """Grafana contact points may sign their webhooks with HMAC-SHA256 over the raw body."""

    secret: SecretStr | None = None
    """The HMAC secret (environment only: BRIDGE_SERVE__GRAFANA__SECRET); unset: no signature check."""
    signature_header: str = "X-Grafana-Alert-Signature"
    """Grafana's default header for the hex signature; configurable on the contact point."""
    timestamp_header: str = ""
    """Set when the contact point sends a timestamp: then ``timestamp:body`` is what is signed."""
    max_skew: float = Field(default=300.0, gt=0)
    """Seconds a signed timestamp may be away from now before the request is refused (replay)."""


class ServeSettings(_Section):
    """``bridge serve``: the HTTP intake of alerts."""

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    token: SecretStr | None = None
    """Bearer token the alert endpoints require (environment only: BRIDGE_SERVE__TOKEN)."""
    close_on_resolve: bool = False
    """Close an observation when its alert resolves (default: only record when it ended)."""
    worker: bool = True
    """Deliver accepted alerts to the tracker from this process (false: only accept them)."""
    tracker_requests_per_second: float = Field(default=5.0, gt=0)
    """The request budget of the worker against the tracker (a token bucket, bursts of 1 s)."""
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    mapping: dict[AlertSource, AlertMappingSettings] = Field(default_factory=dict)
    """Per source: ``[serve.mapping.alertmanager] message = "annotations.title"``."""
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)

    def mapping_for(self, source: AlertSource) -> AlertMappingSettings:
        return self.mapping.get(source, AlertMappingSettings())


class QueueSettings(_Section):
    """The journal: sightings on their way to the tracker (``bridge replay``, ``bridge queue``)."""

    path: Path = Path(".bridge/journal.db")
    """The embedded journal's SQLite file; evidence waits beside it in ``journal/``."""
    url: SecretStr | None = None
    """A shared journal in PostgreSQL (``postgresql://user:pass@host/db``; environment
    BRIDGE_QUEUE__URL) for several ``bridge serve`` replicas; unset: the embedded one."""
    lease_seconds: float = Field(default=300.0, gt=0)
    """How long a worker holds an entry without recording progress before another takes over."""


class Settings(BaseSettings):
    """Everything the bridge is configured with."""

    model_config = SettingsConfigDict(
        env_prefix="BRIDGE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    conventions: ConventionSettings = Field(default_factory=ConventionSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    templates_dir: Path | None = None
    """A directory of user templates that override the shipped ones by name."""
    queue: QueueSettings = Field(default_factory=QueueSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    @classmethod
    def load(cls, path: Path | str | None = None) -> Settings:
        """Find, read and validate the configuration; raise ``ConfigError`` naming file and key."""
        found = discover(path)
        data: dict[str, Any] = {}
        if found is not None:
            data = _read_toml(found)
            _refuse_inline_secrets(data, found)
        token = _FILE_DATA.set((data, found))
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigError(_describe(exc, found)) from None
        finally:
            _FILE_DATA.reset(token)

    @property
    def config_path(self) -> Path | None:
        return discover(None)

    def conventions_value(self) -> Conventions:
        return self.conventions.domain()

    def team(self, name: str) -> TeamSettings:
        """The team called ``name``; ``ConfigError`` listing the known teams otherwise."""
        if name not in self.teams:
            known = ", ".join(sorted(self.teams)) or "none configured"
            raise ConfigError(
                f"unknown team {name!r} (known: {known}).",
                hint="Declare it as [teams.NAME] in the configuration.",
            )
        return self.teams[name]

    def team_tracker(self, name: str) -> tuple[TrackerSettings, bool]:
        """The tracker settings of ``name``'s project, and whether it is the same site as ours.

        On the same site, delegated tickets are linked to their defect directly; across sites or
        trackers, by remote links both ways. ``trackers.build`` makes the tracker from them.
        """
        team = self.team(name)
        kind = team.tracker or self.tracker.kind
        same_host = kind == self.tracker.kind and team.url in ("", self.tracker.url)
        # On GitHub another repository is another site for linking, even on the same host:
        # a sub-issue cannot cross owners and a key names its repository. Same token, though.
        other_repository = (
            kind == "github"
            and bool(team.repository)
            and team.repository.lower() != self.tracker.repository.lower()
        )
        same_site = same_host and not other_repository
        update: dict[str, Any] = {"kind": kind}
        if team.project:
            update["project"] = team.project
        if team.repository:
            update["repository"] = team.repository
            # their evidence belongs in their repository, not in a name that is ours
            update["evidence_repository"] = ""
        if not same_host:
            update["url"] = team.url
            if team.email:
                update["email"] = team.email
            if team.deployment is not None:
                update["deployment"] = team.deployment
            token = os.environ.get(team.token_env) if team.token_env else None
            update["token"] = SecretStr(token) if token else None
            update["token_file"] = None
        return self.tracker.model_copy(update=update), same_site


_FILE_DATA: ContextVar[tuple[dict[str, Any], Path | None]] = ContextVar(
    "_FILE_DATA", default=({}, None)
)


class _FileSource(PydanticBaseSettingsSource):
    """Values read from bridge.toml; lower priority than the environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        data, _ = _FILE_DATA.get()
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        data, _ = _FILE_DATA.get()
        return dict(data)


def discover(path: Path | str | None) -> Path | None:
    """The configuration file to read, or None for built-in defaults."""
    if path is not None:
        return Path(path)
    env = os.environ.get("BRIDGE_CONFIG")
    if env:
        return Path(env)
    local = Path("bridge.toml")
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} does not exist.",
            hint="Pass an existing file with --config, or unset BRIDGE_CONFIG.",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded).",
            hint="Save the configuration as UTF-8.",
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{path} nests tables or arrays too deeply to read.",
            hint="A bridge configuration needs at most a few levels; check the file.",
        ) from None


def _refuse_inline_secrets(data: dict[str, Any], path: Path) -> None:
    tracker = data.get("tracker")
    if isinstance(tracker, dict) and "token" in tracker:
        raise ConfigError(
            f"{path}: [tracker] token must not be written in the configuration file.",
            hint="Set BRIDGE_TRACKER__TOKEN in the environment or point token_file at a secret.",
        )
    serve = data.get("serve")
    if isinstance(serve, dict):
        if "token" in serve:
            raise ConfigError(
                f"{path}: [serve] token must not be written in the configuration file.",
                hint="Set BRIDGE_SERVE__TOKEN in the environment.",
            )
        grafana = serve.get("grafana")
        if isinstance(grafana, dict) and "secret" in grafana:
            raise ConfigError(
                f"{path}: [serve.grafana] secret must not be written in the configuration file.",
                hint="Set BRIDGE_SERVE__GRAFANA__SECRET in the environment.",
            )


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = str(path) if path else "configuration"
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        key = f"[{'.'.join(loc[:-1])}] {loc[-1]}" if len(loc) > 1 else loc[0] if loc else "?"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key {key}")
        else:
            problems.append(f"{key}: {err['msg']}")
    return f"{where}: " + "; ".join(problems) + "."
