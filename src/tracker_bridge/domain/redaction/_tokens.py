"""SaaS and AI API tokens with documented prefixes, one rule per vendor.

Prefixes, alphabets and lengths are facts taken from the rule sets of gitleaks
(``config/gitleaks.toml``) and TruffleHog's detectors; lengths are a little wider than theirs
where vendors have lengthened tokens before, because a missed secret costs more than a redacted
id. Every token is replaced whole.
"""

from __future__ import annotations

import re

from tracker_bridge.domain.redaction._common import NA, NB, Rule, line_around, starts_token

# A token is not part of a longer run of token characters (before or after).
_END = r"(?![A-Za-z0-9_\-])"


def _token(kind: str, body: str, *needles: str, flags: str = "", end: str = _END) -> Rule:
    if flags:
        pattern = re.compile(f"{flags}{NB}(?P<s>{body}){end}")
        return Rule(kind, pattern, needles=tuple(n.lower() for n in needles))
    # The boundary before the token is checked by starts_token, so the pattern starts with the
    # token's literal prefix.
    pattern = re.compile(f"(?P<s>{body}){end}")
    return Rule(kind, pattern, starts_token, needles=tuple(n.lower() for n in needles))


def _vault_legacy_accept(m: re.Match[str], value: str) -> bool:
    # ``s.`` + 24 characters is also what a dotted identifier can look like: demand a mix of
    # cases and digits, and a word on the line that says Vault or token unless the mix is rich.
    if not starts_token(m) or (m.start() > 0 and m.string[m.start() - 1] == "."):
        return False
    body = value[2:]
    upper = sum(c.isupper() for c in body)
    lower = sum(c.islower() for c in body)
    digits = sum(c.isdigit() for c in body)
    if min(upper, lower, digits) >= 3:
        return True
    if not (upper and lower and digits):
        return False
    around = line_around(m.string, m.start(), m.end()).lower()
    return "vault" in around or "token" in around


def _twilio_sid_token() -> Rule:
    # An account SID (AC + 32 hex, public) next to a 32-hex auth token: "AC...:token" in curl -u,
    # Client("AC...", "token") in code, two columns in a CSV.
    return Rule(
        "twilio-key",
        re.compile(r"AC[0-9a-f]{32}(?:[\"']?[ \t]*[:,;|\t][ \t]*[\"']?)(?P<s>[0-9a-f]{32})" + NA),
        starts_token,
        needles=("ac",),
    )


TOKEN_RULES: tuple[Rule, ...] = (
    # AI APIs
    _token("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{32,200}+", "sk-ant-"),
    _token(
        "openai-key",
        r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{40,250}+"
        r"|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48}",
        "sk-",
    ),
    _token("huggingface-token", r"(?:hf_|api_org_)[A-Za-z0-9]{34,40}", "hf_", "api_org_"),
    # Code hosting and package registries
    _token("npm-token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    _token("pypi-token", r"pypi-AgE[A-Za-z0-9_\-]{50,1000}+", "pypi-"),
    _token("rubygems-token", r"rubygems_[a-f0-9]{48}", "rubygems_"),
    _token("artifactory-key", r"AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}", "akcp", "cmvmd"),
    # Messaging, mail, telephony
    _token(
        "sendgrid-key",
        r"SG(?:\.|%2[Ee])[A-Za-z0-9_\-]{16,32}(?:\.|%2[Ee])[A-Za-z0-9_\-]{16,64}",
        "sg.",
        "sg%2e",
    ),
    _token("twilio-key", r"SK[0-9a-fA-F]{32}", "sk"),
    _twilio_sid_token(),
    Rule(
        "twilio-key",
        re.compile(
            r"(?i)twilio[\w.\-]{0,30}?(?:auth[_.\-]?)?(?:token|secret|key)?\\?[\"']?[ \t]*"
            r"(?:[:=,]|=>)[ \t]*\\?[\"']?(?P<s>[0-9a-f]{32})" + NA
        ),
        needles=("twilio",),
    ),
    _token("mailgun-key", r"key-[0-9a-f]{32}", "key-"),
    _token("telegram-bot-token", r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}", ":aa", flags="(?<![0-9:])"),
    # Secret managers
    _token("vault-token", r"hv[sbr]\.[A-Za-z0-9_\-]{24,300}+", "hvs.", "hvb.", "hvr."),
    Rule(
        "vault-token",
        re.compile(r"(?P<s>s\.[A-Za-z0-9]{24})" + NA),
        _vault_legacy_accept,
        needles=("s.",),
    ),
    _token(
        "doppler-token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        "dp.pt.",
        "dp.st.",
        "dp.sa.",
        "dp.ct.",
        "dp.scim.",
        "dp.audit.",
    ),
    _token("1password-token", r"ops_eyJ[A-Za-z0-9+/]{250,4000}+={0,3}", "ops_eyj", end=""),
    _token("age-secret-key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", "age-"),
    # Payments and commerce
    _token(
        "shopify-token",
        r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        "shpat_",
        "shpca_",
        "shppa_",
        "shpss_",
    ),
    # Observability
    _token(
        "newrelic-key",
        r"NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9\-]{32}|NRJS-[a-f0-9]{19}|[a-f0-9]{36}NRAL",
        "nrak-",
        "nrii-",
        "nrjs-",
        "nral",
    ),
    _token(
        "grafana-token",
        r"glc_[A-Za-z0-9+/]{32,400}+={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
        r"|eyJrIjoi[A-Za-z0-9]{70,400}+={0,3}",
        "glc_",
        "glsa_",
        "eyjrijoi",
        end=r"(?![A-Za-z0-9_\-+/=])",
    ),
    _token("sentry-token", r"sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_]{40,600}+", "sntry"),
    _token("dynatrace-token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", "dt0c01."),
    # Clouds and platforms
    _token("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", "doo_v1_", "dop_v1_", "dor_v1_"),
    _token(
        "azure-ad-client-secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
        "q~",
        flags="(?<![A-Za-z0-9_~.\\-])",
        end=r"(?![A-Za-z0-9_~.\-])",
    ),
    _token(
        "gcp-oauth-token",
        r"ya29\.[A-Za-z0-9_\-]{30,2000}+|GOCSPX-[A-Za-z0-9_\-]{28}",
        "ya29.",
        "gocspx-",
    ),
    _token("alibaba-key", r"LTAI[A-Za-z0-9]{20}", "ltai"),
    _token("databricks-token", r"dapi[a-f0-9]{32}(?:-[0-9])?", "dapi"),
    _token("heroku-key", r"HRKU-AA[0-9A-Za-z_\-]{58}", "hrku-"),
    _token("pulumi-token", r"pul-[a-f0-9]{40}", "pul-"),
    _token("terraform-token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}", "atlasv1"),
    _token(
        "fly-token",
        r"fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,2000}+={0,3}",
        "fo1_",
        "fm1",
        "fm2",
        end="",
    ),
    _token("planetscale-token", r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64}", "pscale_"),
    _token("cloudflare-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", "v1.0-"),
    # Work tracking and APIs
    _token(
        "atlassian-token",
        r"AT(?:ATT|CTT)3[A-Za-z0-9_\-=]{150,250}+|ATBB[A-Za-z0-9_\-=]{32,40}",
        "atatt3",
        "atctt3",
        "atbb",
        end=r"(?![A-Za-z0-9_\-=])",
    ),
    _token(
        "linear-key", r"lin_api_[A-Za-z0-9]{40}|lin_oauth_[a-f0-9]{64}", "lin_api_", "lin_oauth_"
    ),
    _token("postman-key", r"PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}", "pmak-"),
    _token("prefect-token", r"pnu_[A-Za-z0-9]{36}", "pnu_"),
    _token("infracost-token", r"ico-[A-Za-z0-9]{32}", "ico-"),
    _token("octopus-key", r"API-[A-Z0-9]{26}", "api-"),
)
