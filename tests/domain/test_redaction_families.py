"""One hand-written example per secret family, the 22 formats of issue 14, and hard negatives."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tracker_bridge.domain.redaction import KINDS, marker, redact_text


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAx7Qd2Yk3vX9pL0mN4bR8sT1uV6wZ2aC5dE9fG3hJ7kL1mN5p\n"
    "Q8rS2tU6vW0xY4zA7bC1dE5fG9hJ3kL7mN1pQ5rS9tU3vW7xY1zA5bC9dE3fG7h\n"
    "-----END RSA PRIVATE KEY-----\n"
)
TWILIO_SID = "AC" + "0f" * 16
HEX32 = "9a" * 16

# (kind, text, secret): the secret must be gone, the kind reported, the rest kept.
EXAMPLES: list[tuple[str, str, str]] = [
    # ---- config files of operations tools
    ("kubeconfig-key", f"    client-key-data: {b64(PEM)}\n", b64(PEM)),
    (
        "docker-auth",
        json.dumps({"auths": {"ghcr.io": {"auth": b64("ci:Zr8#kq2mP")}}}),
        b64("ci:Zr8#kq2mP"),
    ),
    ("npm-token", "//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5" * 3 + "f6G7h8", "npm_"),
    ("npm-token", f"//npm.example.com/:_auth={b64('ci:Zr8kq2mPw')}\n", b64("ci:Zr8kq2mPw")),
    ("pgpass-password", "db-1.internal:5432:orders:app:Xk9#pLm2q\n", "Xk9#pLm2q"),
    ("password-assignment", "[client]\nuser=backup\npassword=Xk9pLm2q7\n", "Xk9pLm2q7"),
    (
        "password-assignment",
        "machine git.example.com\n  login deploy\n  password Xk9pLm2q7\n",
        "Xk9pLm2q7",
    ),
    ("password-assignment", "<server><passphrase>Xk9pLm2q7</passphrase></server>", "Xk9pLm2q7"),
    ("password-assignment", "signing.password=Xk9pLm2q7\n", "Xk9pLm2q7"),
    ("password-assignment", "DB_PASS=Xk9pLm2q7\n", "Xk9pLm2q7"),
    ("url-credentials", "index-url = https://ci:Xk9pLm2q7@pypi.example.com/simple\n", "Xk9pLm2q7"),
    # ---- SaaS and AI tokens
    ("openai-key", "OPENAI_API_KEY=sk-proj-" + "Ab1_" * 20 + "T3BlbkFJ" + "Cd2-" * 20, "sk-proj-"),
    ("anthropic-key", "x-api-key: sk-ant-api03-" + "Zy9" * 31 + "AA", "sk-ant-api03-"),
    ("huggingface-token", "HF_TOKEN=hf_" + "AbCdEfGhIj" * 3 + "KlMn", "hf_AbCd"),
    ("gitlab-token", "PRIVATE-TOKEN: glpat-" + "x9Y8z7W6v5U4t3S2r1Q0", "glpat-x9Y8"),
    ("github-token", "git clone https://ghp_" + "a1B2" * 9 + "@github.com/acme/x", "ghp_a1B2"),
    ("npm-token", "NPM_TOKEN=npm_" + "Q1w2E3r4T5" * 3 + "y6U7i8", "npm_Q1w2"),
    ("pypi-token", "password = pypi-AgEIcHlwaS5vcmc" + "Ab1-" * 20, "pypi-AgEI"),
    ("slack-token", "SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-" + "Ab1" * 8, "xoxb-"),
    ("stripe-key", "sk_live_" + "Ab1Cd2Ef3G" * 3, "sk_live_"),
    ("shopify-token", "X-Shopify-Access-Token: shpat_" + "0a1b" * 8, "shpat_0a1b"),
    ("newrelic-key", "NEW_RELIC_API_KEY=NRAK-" + "A1B2C3D4E" * 3, "NRAK-"),
    ("mailgun-key", "api:key-" + "0123456789abcdef" * 2, "key-0123"),
    ("twilio-key", "TWILIO_API_KEY=SK" + "0123456789abcdef" * 2, "SK0123"),
    ("twilio-key", f"curl -u {TWILIO_SID}:{HEX32} https://api.twilio.com/", HEX32),
    ("twilio-key", f"TWILIO_AUTH_TOKEN={HEX32}", HEX32),
    ("vault-token", "X-Vault-Token: hvs." + "CAESIJ" * 16, "hvs.CAES"),
    ("vault-token", "vault login s.Ab3Cd4Ef5Gh6Ij7Kl8Mn9Op0", "s.Ab3Cd4"),
    (
        "sendgrid-key",
        "SENDGRID_API_KEY=SG." + "aB3_" * 5 + "cD" + "." + "eF5-" * 10 + "ghi",
        "SG.aB3",
    ),
    ("sendgrid-key", "apikey=SG%2E" + "aB3_" * 5 + "cD" + "%2E" + "eF5-" * 10 + "ghi", "aB3_aB3"),
    (
        "azure-ad-client-secret",
        "AZURE_CLIENT_SECRET=" + "Ab1" + "7Q~" + "cD2_eF3.gH4~" * 2 + "cD2_eF3.gH",
        "7Q~cD2",
    ),
    ("azure-storage-key", "AccountName=x;AccountKey=" + "A" * 86 + "==;", "A" * 86),
    (
        "azure-sas-token",
        "https://a.blob.core.windows.net/c?sv=2022-11-02&sig=" + "Ab1%2B" * 8,
        "Ab1%2BAb1",
    ),
    ("gcp-api-key", "key=AIza" + "Sy" * 17 + "A", "AIzaSySy"),
    ("gcp-oauth-token", "Authorization: OAuth ya29." + "a0Ar" * 12, "ya29.a0Ar"),
    ("digitalocean-token", "DIGITALOCEAN_TOKEN=dop_v1_" + "ab12" * 16, "dop_v1_"),
    ("doppler-token", "DOPPLER_TOKEN=dp.pt." + "Ab1" * 14 + "C", "dp.pt."),
    ("linear-key", "LINEAR_API_KEY=lin_api_" + "Ab1Cd2Ef3G" * 4, "lin_api_"),
    ("postman-key", "PMAK-" + "0a1b2c" * 4 + "-" + "3d4e5f" * 5 + "0a1b", "PMAK-0a1b"),
    ("grafana-token", "GRAFANA_TOKEN=glsa_" + "Ab1Cd2Ef" * 4 + "_0a1b2c3d", "glsa_Ab1"),
    ("grafana-token", "glc_" + "Ab1Cd2Ef" * 6 + "==", "glc_Ab1"),
    ("atlassian-token", "JIRA_API_TOKEN=ATATT3" + "xFfGF0" * 30 + "=A1B2C3D4", "ATATT3xF"),
    ("databricks-token", "DATABRICKS_TOKEN=dapi" + "0a1b2c3d" * 4, "dapi0a1b"),
    ("sentry-token", "SENTRY_AUTH_TOKEN=sntryu_" + "0a1b2c3d" * 8, "sntryu_"),
    ("pulumi-token", "pul-" + "0a1b2c3d" * 5, "pul-0a1b"),
    ("heroku-key", "HRKU-AA" + "Ab1_Cd2-" * 7 + "Ef", "HRKU-AA"),
    (
        "age-secret-key",
        "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58],
        "AGE-SECRET-KEY-1QP",
    ),
    ("telegram-bot-token", "bot 123456789:AA" + "Ab1_Cd2-E" * 3 + "Ab1Cd2", ":AAAb1"),
    ("rubygems-token", "rubygems_" + "0a1b2c3d" * 6, "rubygems_"),
    ("dynatrace-token", "dt0c01." + "AB12" * 6 + "." + "CD34" * 16, "dt0c01.AB"),
    ("terraform-token", "token = " + "Ab1Cd2Ef3Gh4Ij" + ".atlasv1." + "kL5-" * 16, "atlasv1.kL5"),
    ("planetscale-token", "pscale_tkn_" + "Ab1_" * 10, "pscale_tkn_"),
    ("prefect-token", "PREFECT_API_KEY=pnu_" + "Ab1Cd2" * 6, "pnu_Ab1"),
    ("alibaba-key", "LTAI" + "Ab1Cd2Ef3G" * 2, "LTAIAb1"),
    ("artifactory-key", "AKCp" + "Ab1Cd2Ef3" * 7 + "GhI4Jk", "AKCpAb1"),
    ("fly-token", "FLY_API_TOKEN=fo1_" + "Ab1_Cd2-E" * 4 + "Ab1Cd2E", "fo1_Ab1"),
    ("1password-token", "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ" + "Ab1+Cd2/" * 35, "ops_eyJ"),
    ("cloudflare-key", "v1.0-" + "0a1b2c" * 4 + "-" + "3d4e5f" * 24 + "0a", "v1.0-0a1b"),
    ("infracost-token", "ico-" + "Ab1Cd2Ef" * 4, "ico-Ab1"),
    ("octopus-key", "X-Octopus-ApiKey: API-" + "AB12CD34EF" * 2 + "GH56IJ", "API-AB12"),
    ("jwt", "id_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "eyJhbGci"),
    # ---- base64 blobs
    (
        "base64-secret",
        "data:\n  DATABASE_URL: " + b64("postgres://app:Xk9pLm2q7@db-1/app") + "\nkind: Secret\n",
        b64("postgres://app:Xk9pLm2q7@db-1/app"),
    ),
    (
        "base64-secret",
        "CONFIG=" + b64('{"password": "Xk9pLm2q7"}'),
        b64('{"password": "Xk9pLm2q7"}'),
    ),
    ("base64-secret", "data:\n  db: " + b64("Xk9pLm2q7") + "\n", b64("Xk9pLm2q7")),
    # ---- command lines
    ("command-line-password", "mysql -h db-1 -u root -pXk9pLm2q7 orders", "Xk9pLm2q7"),
    ("command-line-password", "docker login -u ci -p Xk9pLm2q7 registry.example.com", "Xk9pLm2q7"),
    ("command-line-password", "sshpass -p 'Xk9pLm2q7' ssh ops@db-1", "Xk9pLm2q7"),
    ("command-line-password", "redis-cli -h cache -a Xk9pLm2q7 ping", "Xk9pLm2q7"),
    ("command-line-password", "sqlcmd -S db -U sa -P Xk9pLm2q7 -Q 'select 1'", "Xk9pLm2q7"),
    ("command-line-password", "ldapsearch -x -D cn=admin -w Xk9pLm2q7 -b dc=x", "Xk9pLm2q7"),
    ("command-line-password", "openssl pkcs12 -export -passout pass:Xk9pLm2q7", "Xk9pLm2q7"),
    ("command-line-password", "smbclient //fs/b -U svc%Xk9pLm2q7 -c ls", "Xk9pLm2q7"),
    ("command-line-password", "keytool -list -keystore a.jks -storepass Xk9pLm2q7", "Xk9pLm2q7"),
    ("command-line-password", "htpasswd -bc /etc/htpasswd admin Xk9pLm2q7", "Xk9pLm2q7"),
    ("command-line-password", "sqlplus -s scott/Xk9pLm2q7@db:1521/ORCL", "Xk9pLm2q7"),
    ("command-line-password", "REDISCLI_AUTH=Xk9pLm2q7 redis-cli ping", "Xk9pLm2q7"),
    ("password-assignment", "psql --password=Xk9pLm2q7 -h db-1", "Xk9pLm2q7"),
    ("password-assignment", "PGPASSWORD=Xk9pLm2q7 psql -h db-1", "Xk9pLm2q7"),
    ("basic-auth", "curl -u admin:Xk9pLm2q7 https://jenkins.example.com", "Xk9pLm2q7"),
    # ---- cookies and session headers
    ("session-cookie", "Cookie: sessionid=Xk9pLm2q7abc; lang=en", "Xk9pLm2q7abc"),
    (
        "session-cookie",
        "Set-Cookie: JSESSIONID=0A1B2C3D4E5F6071; Path=/; HttpOnly",
        "0A1B2C3D4E5F6071",
    ),
    ("session-cookie", "curl -b 'connect.sid=s%3AXk9pLm2q7abc' https://x", "s%3AXk9pLm2q7abc"),
    ("api-key-assignment", "X-Api-Key: 0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0a1b2c3d4e5f"),
    ("token-assignment", "X-Auth-Token: Xk9pLm2q7abcdef", "Xk9pLm2q7abcdef"),
    ("bearer-token", "Authorization: Bearer Xk9pLm2q7abcdefghij", "Xk9pLm2q7abcdefghij"),
    ("auth-header", "Authorization: SSWS 00Xk9pLm2q7abcdefghij", "00Xk9pLm2q7abcdefghij"),
    # ---- connection URLs of every common scheme
    ("db-connection-string", "postgres://app:Xk9pLm2q7@db-1:5432/app", "Xk9pLm2q7"),
    ("db-connection-string", "mysql://root:Xk9pLm2q7@db-1/shop", "Xk9pLm2q7"),
    ("db-connection-string", "mongodb+srv://svc:Xk9pLm2q7@c0.mongodb.net/x", "Xk9pLm2q7"),
    ("db-connection-string", "rediss://default:Xk9pLm2q7@cache:6380", "Xk9pLm2q7"),
    ("db-connection-string", "redis://:Xk9pLm2q7@cache:6379/0", "Xk9pLm2q7"),
    ("db-connection-string", "amqps://ops:Xk9pLm2q7@mq:5671/vh", "Xk9pLm2q7"),
    ("db-connection-string", "ldap://cn=admin:Xk9pLm2q7@ldap:389", "Xk9pLm2q7"),
    (
        "db-connection-string",
        "jdbc:postgresql://db/app?user=app&password=Xk9pLm2q7&ssl=1",
        "Xk9pLm2q7",
    ),
    ("url-credentials", "ftp://backup:Xk9pLm2q7@files.example.com/x", "Xk9pLm2q7"),
    ("url-credentials", "smtp://postmaster:Xk9pLm2q7@smtp.example.com:587", "Xk9pLm2q7"),
    ("url-credentials", "https://admin:Xk9pLm2q7@grafana.example.com/", "Xk9pLm2q7"),
    # ---- the families of the first version
    ("aws-access-key", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7ABCDEFG", "AKIAIOSFODNN7ABCDEFG"),
    (
        "aws-secret-key",
        "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "Ab1Cd2Ef3G",
        "wJalrXUtnFEMI",
    ),
    (
        "azure-connection-string",
        "Endpoint=sb://x/;SharedAccessKey=" + "Ab1+Cd2/" * 5 + "=",
        "Ab1+Cd2/",
    ),
    (
        "gcp-service-account-key",
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvAbCdEfGh\\n-----END PRIVATE KEY-----\\n"}',
        "MIIEvAbCdEfGh",
    ),
    ("private-key", PEM, "MIIEowIBAAKCAQEAx7Qd2Yk3"),
    (
        "slack-webhook",
        "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/" + "Ab1Cd2" * 4,
        "Ab1Cd2Ab1",
    ),
    ("secret-assignment", "CLIENT_SECRET=Xk9pLm2q7abcdef", "Xk9pLm2q7abcdef"),
]


@pytest.mark.parametrize(("kind", "text", "secret"), EXAMPLES, ids=lambda v: str(v)[:30])
def test_family_example_is_redacted_with_its_kind(kind: str, text: str, secret: str) -> None:
    out, counts = redact_text(text)
    assert secret not in out
    assert kind in dict(counts), counts
    assert marker(kind) in out
    assert redact_text(out) == (out, ())


def test_every_kind_has_a_hand_written_example() -> None:
    assert set(KINDS) - {kind for kind, _, _ in EXAMPLES} == set()


# The 22 formats that issue 14 lists: 11 survived the first version.
ISSUE_FORMATS: list[tuple[str, str]] = [
    (f"    client-key-data: {b64(PEM)}\n", b64(PEM)),
    ('{"auths": {"ghcr.io": {"auth": "' + b64("ci:Zr8#kq2mP") + '"}}}', b64("ci:Zr8#kq2mP")),
    (f"TWILIO_ACCOUNT_SID={TWILIO_SID}\nTWILIO_AUTH_TOKEN={HEX32}\n", HEX32),
    ("VAULT_ADDR=https://vault:8200 vault token hvs." + "CAESIJ" * 16, "hvs.CAES"),
    (
        "apiVersion: v1\ndata:\n  DATABASE_URL: " + b64("postgres://u:Xk9pLm2q7@db/app") + "\n",
        b64("postgres://u:Xk9pLm2q7@db/app"),
    ),
    (
        "SETTINGS_B64=" + b64('{"smtp": {"password": "Xk9pLm2q7"}}'),
        b64('{"smtp": {"password": "Xk9pLm2q7"}}'),
    ),
    ("mysql -uroot -pXk9pLm2q7 -e 'show slave status'", "Xk9pLm2q7"),
    ("docker login -u ci -p dckr_pat_Xk9pLm2q7abc registry.example.com", "dckr_pat_Xk9pLm2q7abc"),
    ("db-1.internal:5432:orders:app:Xk9pLm2q7", "Xk9pLm2q7"),
    ("> Cookie: sessionid=Xk9pLm2q7abcdef", "Xk9pLm2q7abcdef"),
    ("sendgrid: SG." + "aB3_" * 5 + "cD" + "." + "eF5-" * 10 + "ghi", "aB3_aB3_"),
    # the eleven the first version already caught
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7ABCDEFG", "AKIAIOSFODNN7ABCDEFG"),
    ("GITHUB_TOKEN=ghp_" + "a1B2" * 9, "ghp_a1B2"),
    ("xoxb-123456789012-1234567890123-" + "Ab1" * 8, "xoxb-1234"),
    ("sk_live_" + "Ab1Cd2Ef3G" * 3, "sk_live_"),
    ("postgres://app:Xk9pLm2q7@db-1:5432/app", "Xk9pLm2q7"),
    ("Authorization: Bearer Xk9pLm2q7abcdefghij", "Xk9pLm2q7abcdefghij"),
    ("POSTGRES_PASSWORD=Xk9pLm2q7", "Xk9pLm2q7"),
    (PEM, "MIIEowIBAAKCAQEAx7Qd2Yk3"),
    ("https://deploy:Xk9pLm2q7@git.example.com/ops.git", "Xk9pLm2q7"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
    ("glpat-" + "x9Y8z7W6v5U4t3S2r1Q0", "glpat-x9Y8"),
]


def test_issue_lists_twenty_two_formats() -> None:
    assert len(ISSUE_FORMATS) == 22


@pytest.mark.parametrize(("text", "secret"), ISSUE_FORMATS, ids=lambda v: str(v)[:30])
def test_every_format_of_the_issue_is_caught(text: str, secret: str) -> None:
    out, counts = redact_text(text)
    assert counts
    assert secret not in out


# Things that look like secrets and are not: they must come out byte for byte.
NEGATIVES = [
    "commit 3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a3f",
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "uuid=7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "pod api-7d9f8b6c5d-x2x9k restarted",
    "blk_-1608999687919862906 replicated",
    "$ mysql -u root -p orders",
    "mysql -h db -P 3306 -u app -p",
    "docker login --password-stdin -u ci ghcr.io",
    "openssl enc -d -pass env:BACKUP_KEY -in x",
    "Cookie: lang=en-US; theme=dark",
    "apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: info\n  MODE: fast\n",
    "certificate-authority-data: " + b64("-----BEGIN CERTIFICATE-----\nMIIC\n"),
    "PASS: test_login (0.02s)",
    "bypass=true",
    "npm_config_cache=/tmp/.npm",
    "SKU SK1234 shipped",
    "task-7 disk=sda",
    "key-value store",
    "s.example.com",
    "2024-06-01 12:00:01 db-1 postgres[123]: LOG: checkpoint complete",
]


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda v: v[:30])
def test_lookalikes_are_left_alone(text: str) -> None:
    assert redact_text(text) == (text, ())


@pytest.mark.parametrize(
    "unit",
    [
        "mysql ",
        "docker login ",
        "x: dGVzdA== ",
        "sshpass -p",
        "htpasswd -b a b ",
        "client-key-data: ",
        "  password ",
        "Cookie: a=b; ",
        "data:\n  k: ",
        "a:5432:b:c:",
    ],
    ids=lambda u: u.strip()[:14],
)
def test_new_rules_run_in_linear_time(unit: str) -> None:
    # Found by measuring: before the fixes, "docker login " repeated took 184 s for 2 MB and
    # "x: dGVzdA== " 73 s (context searched back to the start of a 1 MiB line per value).
    text = unit * (1_000_000 // len(unit) + 1)
    started = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - started < 30
