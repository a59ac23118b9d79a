"""Scrub secrets from evidence before it leaves the machine.

Every match is replaced by a marker naming its kind, ``[REDACTED:<kind>]``; everything that is not
a secret is kept byte for byte (line structure, the key in ``password=...``, the user and host of a
URL), so a reader still sees *what* was there. Callers learn which kinds were redacted and how
many, never the values.

* ``redact_text`` scans a ``str``; ``redact_bytes`` a file's bytes, after ``classify`` decided
  whether they are text, binary (text runs scanned, secrets overwritten in place, same length) or
  unscannable (compressed or encrypted: returned untouched with ``scanned=False``);
* ``StreamRedactor`` / ``redact_stream`` / ``redact_chunks`` do the same on a stream in bounded
  memory, with the same result as the whole content at once, whatever the chunk sizes.

Library decision: the patterns are ours. ``detect-secrets`` (Yelp, 1.5.0, last release May 2024)
was evaluated side by side (``benchmarks/redaction.py``) and rejected for this job: it reports
*lines* and values, not spans; it misses most of the formats required here (see
docs/redaction.md for the measured recall); its entropy plugins flag ordinary words without its
filters and it is about 70 times slower with them; and it pulls in ``pyyaml`` and ``requests`` for
what is a pure function. The token formats follow gitleaks' and TruffleHog's rule sets (facts,
not code): see ``_tokens``.

Modules: ``_rules`` / ``_tokens`` (the patterns), ``_keys`` (multi-line private key blocks),
``_blobs`` (base64 blobs, Secret ``data:`` sections, cookies), ``_text`` (the streaming text
engine), ``_binary`` (classification and text runs), ``_stream`` (bytes in, bytes out).
"""

from __future__ import annotations

from collections.abc import Iterable

from tracker_bridge.domain.redaction._binary import (
    HEAD_BYTES,
    Classification,
    ContentKind,
    classify,
)
from tracker_bridge.domain.redaction._common import marker
from tracker_bridge.domain.redaction._stream import (
    Redacted,
    Scan,
    StreamRedactor,
    redact_bytes,
    redact_chunks,
    redact_stream,
)
from tracker_bridge.domain.redaction._text import redact_text

__all__ = [
    "HEAD_BYTES",
    "KINDS",
    "Classification",
    "ContentKind",
    "Redacted",
    "Scan",
    "StreamRedactor",
    "classify",
    "marker",
    "redact_bytes",
    "redact_chunks",
    "redact_stream",
    "redact_text",
    "summary",
]

KINDS: tuple[str, ...] = (
    "1password-token",
    "age-secret-key",
    "alibaba-key",
    "anthropic-key",
    "api-key-assignment",
    "artifactory-key",
    "atlassian-token",
    "auth-header",
    "aws-access-key",
    "aws-secret-key",
    "azure-ad-client-secret",
    "azure-connection-string",
    "azure-sas-token",
    "azure-storage-key",
    "base64-secret",
    "basic-auth",
    "bearer-token",
    "cloudflare-key",
    "command-line-password",
    "databricks-token",
    "db-connection-string",
    "digitalocean-token",
    "docker-auth",
    "doppler-token",
    "dynatrace-token",
    "fly-token",
    "gcp-api-key",
    "gcp-oauth-token",
    "gcp-service-account-key",
    "github-token",
    "gitlab-token",
    "grafana-token",
    "heroku-key",
    "huggingface-token",
    "infracost-token",
    "jwt",
    "kubeconfig-key",
    "linear-key",
    "mailgun-key",
    "newrelic-key",
    "npm-token",
    "octopus-key",
    "openai-key",
    "password-assignment",
    "pgpass-password",
    "planetscale-token",
    "postman-key",
    "prefect-token",
    "private-key",
    "pulumi-token",
    "pypi-token",
    "rubygems-token",
    "secret-assignment",
    "sendgrid-key",
    "sentry-token",
    "session-cookie",
    "shopify-token",
    "slack-token",
    "slack-webhook",
    "stripe-key",
    "telegram-bot-token",
    "terraform-token",
    "token-assignment",
    "twilio-key",
    "url-credentials",
    "vault-token",
)


def summary(counts: Iterable[tuple[str, int]]) -> str:
    """Describe redaction counts for a person, e.g. ``2 aws-access-key, 1 password-assignment``."""
    parts = [f"{n} {kind}" for kind, n in sorted(counts) if n]
    return ", ".join(parts) if parts else "no secrets found"
