"""Generate the secret-redaction corpus: real formats, random (fake) values, fixed seed.

Writes ``corpus.jsonl`` beside this file, one case per line:
``{"kind": KIND | null, "kinds": [KIND, ...], "context": str, "text": str, "secrets": [...]}``:
``kind`` is the kind the case is about, ``kinds`` every kind expected in it; ``kind`` null marks a near miss that must come out unchanged. Every value is drawn from a seeded
random generator; none is a real credential. Run: ``python tests/data/secrets/generate.py``.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

SEED = 20240611
PER_KIND = 12
OUT = Path(__file__).with_name("corpus.jsonl")

rng = random.Random(SEED)

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"
HEX = "0123456789abcdef"
PW_CHARS = string.ascii_letters + string.digits + "!#%^*_+-.~"

Case = tuple[str, str, list[str]]  # context, text, secrets


def r(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64(nbytes: int) -> str:
    return base64.b64encode(rng.randbytes(nbytes)).decode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def password() -> str:
    # Starts with a letter so it never looks like a flag or a number.
    return rng.choice(string.ascii_letters) + r(PW_CHARS, rng.randint(9, 20))


def ts() -> str:
    return (
        f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T{rng.randint(10, 23)}:"
        f"{rng.randint(10, 59)}:{rng.randint(10, 59)}.{rng.randint(100, 999)}Z"
    )


def host() -> str:
    return (
        rng.choice(["db", "replica", "cache", "api", "worker", "broker"]) + f"-{rng.randint(1, 9)}"
    )


def pick(templates: list[Callable[[str], str]], make: Callable[[], str]) -> list[Case]:
    cases = []
    for i in range(PER_KIND):
        template = templates[i % len(templates)]
        secret = make()
        cases.append(
            (template.__name__ if hasattr(template, "__name__") else "", template(secret), [secret])
        )
    return cases


def contexts(*pairs: tuple[str, Callable[[str], str]]) -> list[Callable[[str], str]]:
    out = []
    for name, fn in pairs:
        fn.__name__ = name
        out.append(fn)
    return out


def aws_access_key() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"AWS_ACCESS_KEY_ID={s}\nAWS_DEFAULT_REGION=eu-west-1\n"),
        ("log", lambda s: f"{ts()} ERROR botocore: InvalidClientTokenId for key {s} in us-east-1"),
        ("ini", lambda s: f"[default]\naws_access_key_id = {s}\nregion = us-west-2\n"),
        ("json", lambda s: f'{{"AccessKeyId": "{s}", "Expiration": "2024-06-01T00:00:00Z"}}'),
        ("cli", lambda s: f"$ aws configure set aws_access_key_id {s} --profile ci"),
        (
            "trace",
            lambda s: (
                f'  File "deploy.py", line 42, in upload\n    client = boto3.client("s3", aws_access_key_id="{s}")'
            ),
        ),
    )
    return pick(t, lambda: rng.choice(["AKIA", "ASIA"]) + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))


def aws_secret_key() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"AWS_SECRET_ACCESS_KEY={s}\n"),
        ("ini", lambda s: f"[prod]\naws_secret_access_key = {s}\n"),
        (
            "json",
            lambda s: f'{{"Credentials": {{"SecretAccessKey": "{s}", "SessionToken": null}}}}',
        ),
        ("yaml", lambda s: f"aws:\n  secret_access_key: {s}\n  region: eu-central-1\n"),
        ("cli", lambda s: f"terraform apply -var aws_secret_key={s}"),
        ("log", lambda s: f"{ts()} DEBUG config loaded: aws_secret_access_key='{s}' profile=ci"),
    )
    return pick(t, lambda: r(string.ascii_letters + string.digits + "/+", 40))


def aws_secret_key_csv() -> list[Case]:
    # The credentials CSV the console offers for download: both columns on one line.
    out = []
    for _ in range(4):
        kid = "AKIA" + r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        sec = r(string.ascii_letters + string.digits + "/+", 40)
        out.append(("csv", f"Access key ID,Secret access key\n{kid},{sec}\n", [kid, sec]))
    return out


def gcp_api_key() -> list[Case]:
    t = contexts(
        (
            "url",
            lambda s: (
                f"GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key={s} 200"
            ),
        ),
        ("env", lambda s: f"GOOGLE_API_KEY={s}"),
        ("json", lambda s: f'{{"apiKey": "{s}", "authDomain": "demo.firebaseapp.com"}}'),
        ("log", lambda s: f"{ts()} WARN firebase: quota exceeded for {s}"),
    )
    return pick(t, lambda: "AIza" + r(ALNUM + "_-", 35))


def gcp_service_account() -> list[Case]:
    out = []
    for i in range(PER_KIND):
        body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + r(B64, 64 * 20)
        lines = "\\n".join(body[j : j + 64] for j in range(0, len(body), 64))
        doc = {
            "type": "service_account",
            "project_id": f"demo-{r(HEX, 6)}",
            "private_key_id": r(HEX, 40),
            "private_key": "@@KEY@@",
            "client_email": f"ci-{i}@demo.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
        indent = 2 if i % 2 else None
        text = json.dumps(doc, indent=indent).replace(
            '"@@KEY@@"', f'"-----BEGIN PRIVATE KEY-----\\n{lines}\\n-----END PRIVATE KEY-----\\n"'
        )
        out.append(("json", text, [body[:64], body[-40:]]))
    return out


def azure_storage_key() -> list[Case]:
    t = contexts(
        (
            "connstr",
            lambda s: (
                f"DefaultEndpointsProtocol=https;AccountName=demo{r(HEX, 4)};AccountKey={s};EndpointSuffix=core.windows.net"
            ),
        ),
        ("env", lambda s: f"AZURE_STORAGE_KEY={s}"),
        ("json", lambda s: f'{{"storageAccountKey": "{s}"}}'),
        ("log", lambda s: f"{ts()} INFO using conn 'AccountName=logs;AccountKey={s}'"),
    )
    return pick(t, lambda: b64(64))


def azure_connection_string() -> list[Case]:
    t = contexts(
        (
            "servicebus",
            lambda s: (
                f"Endpoint=sb://demo-{r(HEX, 4)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={s}"
            ),
        ),
        (
            "eventhub",
            lambda s: (
                f'EVENTHUB_CONN="Endpoint=sb://ev.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={s};EntityPath=logs"'
            ),
        ),
        (
            "iothub",
            lambda s: (
                f"{ts()} ERROR iothub: HostName=hub.azure-devices.net;DeviceId=dev7;SharedAccessKey={s} rejected"
            ),
        ),
    )
    return pick(t, lambda: b64(32))


def azure_sas_token() -> list[Case]:
    def make() -> str:
        return quote(b64(32), safe="")

    t = contexts(
        (
            "url",
            lambda s: (
                f"https://demo.blob.core.windows.net/logs/app.log?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2024-12-31T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig={s}"
            ),
        ),
        (
            "curl",
            lambda s: (
                f"curl -sSf 'https://x.blob.core.windows.net/c/b.tgz?sp=r&st=2024-05-01T10:00:00Z&se=2024-05-02T10:00:00Z&spr=https&sv=2022-11-02&sr=b&sig={s}' -o b.tgz"
            ),
        ),
        (
            "log",
            lambda s: (
                f"{ts()} WARN upload failed: 403 AuthenticationFailed url=https://acct.blob.core.windows.net/c?sv=2021-06-08&se=2024-02-01&sr=c&sp=w&sig={s}"
            ),
        ),
    )
    return pick(t, make)


def github_token() -> list[Case]:
    def make() -> str:
        if rng.random() < 0.25:
            return "github_pat_" + r(ALNUM, 22) + "_" + r(ALNUM, 59)
        return "gh" + rng.choice("pousr") + "_" + r(ALNUM, 36)

    t = contexts(
        ("env", lambda s: f"GITHUB_TOKEN={s}"),
        ("git", lambda s: f"fatal: unable to access 'https://{s}@github.com/acme/ops.git/': 403"),
        ("curl", lambda s: f'curl -H "Authorization: token {s}" https://api.github.com/user'),
        ("yaml", lambda s: f"github:\n  token: {s}\n  org: acme\n"),
        ("log", lambda s: f"{ts()} DEBUG gh api called with {s} (scopes: repo)"),
        ("trace", lambda s: f"github.GithubException.BadCredentialsException: 401 token={s!r}"),
    )
    return pick(t, make)


def gitlab_token() -> list[Case]:
    t = contexts(
        (
            "header",
            lambda s: (
                f"curl --header 'PRIVATE-TOKEN: {s}' https://gitlab.example.com/api/v4/projects"
            ),
        ),
        ("env", lambda s: f"GITLAB_TOKEN={s}"),
        ("git", lambda s: f"remote: HTTP Basic: Access denied for oauth2:{s}"),
        ("log", lambda s: f"{ts()} ERROR gitlab-runner: token {s} expired"),
    )
    return pick(t, lambda: "glpat-" + r(ALNUM + "_-", 20))


def slack_token() -> list[Case]:
    def make() -> str:
        kind = rng.choice("bpa")
        return f"xox{kind}-{r(string.digits, 12)}-{r(string.digits, 13)}-{r(ALNUM, 24)}"

    t = contexts(
        ("env", lambda s: f"SLACK_BOT_TOKEN={s}"),
        ("log", lambda s: f"{ts()} ERROR slack_sdk: invalid_auth for {s}"),
        ("yaml", lambda s: f"notify:\n  slack:\n    token: '{s}'\n    channel: '#ops'\n"),
        (
            "curl",
            lambda s: (
                f"curl -d 'token={s}&channel=C0123&text=deploy done' https://slack.com/api/chat.postMessage"
            ),
        ),
    )
    return pick(t, make)


def slack_webhook() -> list[Case]:
    t = contexts(
        (
            "curl",
            lambda s: (
                f"curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"hi\"}}' https://hooks.slack.com/services/{s}"
            ),
        ),
        (
            "yaml",
            lambda s: f"alertmanager:\n  slack_api_url: https://hooks.slack.com/services/{s}\n",
        ),
        (
            "log",
            lambda s: (
                f"{ts()} WARN webhook https://hooks.slack.com/services/{s} returned 404 no_service"
            ),
        ),
    )
    return pick(t, lambda: f"T{r(UPPER_NUM, 8)}/B{r(UPPER_NUM, 10)}/{r(ALNUM, 24)}")


def stripe_key() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"STRIPE_API_KEY={s}"),
        ("curl", lambda s: f"curl https://api.stripe.com/v1/charges -u {s}:"),
        (
            "log",
            lambda s: (
                f"{ts()} ERROR stripe.error.AuthenticationError: Invalid API Key provided: {s}"
            ),
        ),
        ("json", lambda s: f'{{"stripe": {{"secret": "{s}"}}}}'),
    )
    return pick(
        t, lambda: rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + r(ALNUM, rng.choice([24, 99]))
    )


def jwt() -> list[Case]:
    def make() -> str:
        header = b64url(json.dumps({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
        payload = b64url(
            json.dumps(
                {"sub": r(HEX, 12), "iat": rng.randint(1_600_000_000, 1_700_000_000), "role": "ops"}
            ).encode()
        )
        return f"{header}.{payload}.{b64url(rng.randbytes(32))}"

    t = contexts(
        ("cookie", lambda s: f"Set-Cookie: session={s}; Path=/; HttpOnly"),
        ("json", lambda s: f'{{"id_token": "{s}", "expires_in": 3600}}'),
        ("log", lambda s: f"{ts()} WARN auth: rejected expired jwt {s}"),
        ("url", lambda s: f"GET /callback#access_token={s}&token_type=bearer HTTP/1.1"),
    )
    return pick(t, make)


def private_key() -> list[Case]:
    kinds = [
        ("RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 25),
        ("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA", 6),
        ("EC PRIVATE KEY", "MHcCAQEEI", 3),
        ("PRIVATE KEY", "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC", 25),
        ("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq", 20),
        ("PGP PRIVATE KEY BLOCK", "lQOYBF", 15),
    ]
    out = []
    for i in range(PER_KIND):
        label, prefix, n = kinds[i % len(kinds)]
        body = prefix + r(B64, 64 * n - len(prefix))
        lines = [body[j : j + 64] for j in range(0, len(body), 64)]
        block = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
        if i % 3 == 0:
            text = f"$ cat ~/.ssh/id_deploy\n{block}\n$ ls -lah ~/.ssh\ntotal 16K\n"
        elif i % 3 == 1:
            indented = block.replace("\n", "\n    ")
            text = f"tls:\n  key: |\n    {indented}\n  cert: /etc/ssl/cert.pem\n"
        else:
            text = f"{ts()} ERROR ssh: bad permissions, key follows\r\n" + block.replace(
                "\n", "\r\n"
            )
        out.append(("file", text, [lines[0], lines[-1]]))
    return out


def bearer_token() -> list[Case]:
    t = contexts(
        (
            "curl",
            lambda s: f'curl -H "Authorization: Bearer {s}" https://api.example.com/v1/status',
        ),
        (
            "header",
            lambda s: f"> GET /v2/_catalog HTTP/1.1\n> Authorization: Bearer {s}\n> Accept: */*\n",
        ),
        ("log", lambda s: f"{ts()} DEBUG requests: headers={{'Authorization': 'Bearer {s}'}}"),
        ("http", lambda s: f"authorization=Bearer {s}"),
    )
    return pick(t, lambda: r(ALNUM + "-._~", rng.randint(30, 60)))


def basic_auth() -> list[Case]:
    def make() -> str:
        return base64.b64encode(f"{r(string.ascii_lowercase, 6)}:{password()}".encode()).decode()

    t = contexts(
        ("header", lambda s: f"> Authorization: Basic {s}"),
        ("curl", lambda s: f"curl -H 'Authorization: Basic {s}' https://registry.example.com/v2/"),
        ("log", lambda s: f"{ts()} DEBUG proxy: Proxy-Authorization: Basic {s}"),
        ("json", lambda s: f'{{"headers": {{"Authorization": "Basic {s}"}}}}'),
    )
    return pick(t, make)


def basic_auth_curl_user() -> list[Case]:
    out = []
    for i in range(4):
        pw = password()
        flag = "-u" if i % 2 else "--user"
        out.append(("curl", f"curl {flag} admin:{pw} https://jenkins.example.com/api/json", [pw]))
    return out


def auth_header() -> list[Case]:
    t = contexts(
        ("okta", lambda s: f'curl -H "Authorization: SSWS {s}" https://acme.okta.com/api/v1/users'),
        ("raw", lambda s: f"{ts()} DEBUG > Authorization: {s}"),
        ("json", lambda s: f'{{"Authorization": "ApiKey {s}"}}'),
    )
    return pick(t, lambda: r(ALNUM, 40))


def url_credentials() -> list[Case]:
    t = contexts(
        (
            "git",
            lambda s: (
                f"fatal: Authentication failed for 'https://deploy:{s}@git.example.com/ops/infra.git/'"
            ),
        ),
        (
            "pip",
            lambda s: (
                f"pip install --index-url https://ci:{s}@pypi.example.com/simple/ tracker-bridge"
            ),
        ),
        ("env", lambda s: f"HTTP_PROXY=http://proxyuser:{s}@proxy.corp:3128"),
        ("log", lambda s: f"{ts()} INFO fetching ftp://backup:{s}@files.example.com/nightly.tgz"),
        ("amqp-like", lambda s: f"elasticsearch.hosts: ['https://elastic:{s}@es-1:9200']"),
    )
    return pick(t, password)


def db_connection_string() -> list[Case]:
    t = contexts(
        (
            "postgres",
            lambda s: f"DATABASE_URL=postgres://app:{s}@{host()}:5432/app?sslmode=require",
        ),
        (
            "mysql",
            lambda s: (
                f"{ts()} ERROR sqlalchemy: could not connect to mysql+pymysql://root:{s}@{host()}/orders"
            ),
        ),
        (
            "mongodb",
            lambda s: (
                f'MONGO_URI="mongodb+srv://svc:{s}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true"'
            ),
        ),
        ("redis", lambda s: f"redis://:{s}@{host()}:6379/0"),
        ("amqp", lambda s: f"celery.broker_url = amqp://celery:{s}@{host()}:5672//"),
        (
            "jdbc",
            lambda s: (
                f"spring.datasource.url=jdbc:postgresql://{host()}:5432/app?user=app&password={s}&ssl=true"
            ),
        ),
        (
            "jdbc-sqlserver",
            lambda s: (
                f"jdbc:sqlserver://{host()}:1433;databaseName=ops;user=sa;password={s};encrypt=true"
            ),
        ),
        (
            "odbc",
            lambda s: (
                f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{host()},1433;Database=ops;Uid=svc;Pwd={s};Encrypt=yes;"
            ),
        ),
        (
            "adonet",
            lambda s: (
                f'"ConnectionStrings": {{"Default": "Server={host()};Database=ops;User Id=app;Password={s};"}}'
            ),
        ),
        ("oracle", lambda s: f"url: jdbc:oracle:thin:scott/{s}@{host()}:1521/ORCL"),
    )
    return pick(t, password)


def password_assignment() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"POSTGRES_PASSWORD={s}"),
        ("yaml", lambda s: f"database:\n  user: app\n  password: {s}\n  host: {host()}\n"),
        ("json", lambda s: f'{{"username": "svc", "password": "{s}", "port": 5432}}'),
        ("cli", lambda s: f"mysqldump --user root --password {s} orders > /tmp/orders.sql"),
        ("cli-eq", lambda s: f"$ vault login -method=userpass username=ops password={s}"),
        ("log", lambda s: f"{ts()} DEBUG connect kwargs: {{'host': '{host()}', 'passwd': '{s}'}}"),
        ("xml", lambda s: f"<dataSource><user>app</user><password>{s}</password></dataSource>"),
        ("sql", lambda s: f"ALTER USER app IDENTIFIED BY '{s}';"),
        ("netrc", lambda s: f"machine git.example.com login deploy password {s}"),
        (
            "escaped-json",
            lambda s: f'{ts()} INFO body="{{\\"login\\":\\"ops\\",\\"password\\":\\"{s}\\"}}"',
        ),
        (
            "trace",
            lambda s: (
                f"Traceback (most recent call last):\n  File \"app.py\", line 9, in <module>\n    connect(host='db', pwd='{s}')\nOperationalError: auth failed"
            ),
        ),
        ("properties", lambda s: f"spring.datasource.password={s}"),
    )
    return pick(t, password)


def secret_assignment() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"CLIENT_SECRET={s}"),
        ("yaml", lambda s: f'oauth:\n  client_id: ops-portal\n  client_secret: "{s}"\n'),
        ("json", lambda s: f'{{"webhookSecret": "{s}"}}'),
        ("django", lambda s: f"SECRET_KEY = '{s}'"),
        ("cli", lambda s: f"vault write auth/approle/login role_id=ops secret_id=x --secret {s}"),
        ("log", lambda s: f"{ts()} DEBUG settings: jwt_secret={s} issuer=ops"),
    )
    return pick(t, lambda: r(ALNUM + "-_", rng.randint(20, 48)))


def token_assignment() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"VAULT_TOKEN={s}"),
        ("yaml", lambda s: f"registry:\n  auth_token: {s}\n"),
        (
            "json",
            lambda s: f'{{"access_token": "{s}", "token_type": "bearer", "expires_in": 3600}}',
        ),
        ("query", lambda s: f'GET /api/v1/export?format=csv&token={s}&page=2 HTTP/1.1" 200'),
        ("header", lambda s: f"X-Auth-Token: {s}"),
        ("cli", lambda s: f"kubectl --token {s} get pods -n ops"),
    )
    return pick(t, lambda: r(ALNUM + ".", rng.randint(24, 40)))


def api_key_assignment() -> list[Case]:
    t = contexts(
        ("env", lambda s: f"DATADOG_API_KEY={s}"),
        ("yaml", lambda s: f"newrelic:\n  license: x\n  api_key: {s}\n"),
        ("json", lambda s: f'{{"apiKey": "{s}", "site": "datadoghq.eu"}}'),
        ("header", lambda s: f"curl -H 'X-Api-Key: {s}' https://api.example.com/v1/jobs"),
        ("cli", lambda s: f"sentry-cli --auth-key {s} releases new 1.2.3"),
        ("log", lambda s: f"{ts()} DEBUG client init master_key={s} timeout=30"),
    )
    return pick(t, lambda: r(HEX, 32))


NEGATIVES = [
    "token_type=bearer expires_in=3600",
    "max_tokens=100 temperature=0.2",
    "password_file=/run/secrets/db_password",
    "export DB_PASSWORD=${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    "PWD=/home/alice/src/ops",
    "docker run -u 1000:1000 --rm alpine id",
    "http://localhost:8080/healthz",
    "Failed password for root from 10.0.0.7 port 51515 ssh2",
    "Enter password:",
    "password: ********",
    "token: null",
    "client_id=ops-portal&response_type=code",
    "commit 3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a3f",
    "uuid=7c9e6679-7425-40de-944b-e07fc1f90ae7 status=OK",
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "if password == confirm: return True",
    "Basic configuration loaded from /etc/app.toml",
    "the bearer of this message",
    "-----BEGIN CERTIFICATE-----",
    "secretName: tls-cert",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC user@host",
    "mysql://db.example.com:3306/orders",
    "git clone git@github.com:acme/ops.git",
    "password_min_length=12 password_reset_url=https://id.example.com/reset",
    "passwordless login enabled for user bob",
    "SharedAccessKeyName=RootManageSharedAccessKey",
    "AccountName=demo;EndpointSuffix=core.windows.net",
    "[REDACTED:github-token] already scrubbed",
]


def main() -> None:
    groups: list[tuple[str, list[Case]]] = [
        ("aws-access-key", aws_access_key()),
        ("aws-secret-key", aws_secret_key()),
        ("gcp-api-key", gcp_api_key()),
        ("gcp-service-account-key", gcp_service_account()),
        ("azure-storage-key", azure_storage_key()),
        ("azure-connection-string", azure_connection_string()),
        ("azure-sas-token", azure_sas_token()),
        ("github-token", github_token()),
        ("gitlab-token", gitlab_token()),
        ("slack-token", slack_token()),
        ("slack-webhook", slack_webhook()),
        ("stripe-key", stripe_key()),
        ("jwt", jwt()),
        ("private-key", private_key()),
        ("bearer-token", bearer_token()),
        ("basic-auth", basic_auth() + basic_auth_curl_user()),
        ("auth-header", auth_header()),
        ("url-credentials", url_credentials()),
        ("db-connection-string", db_connection_string()),
        ("password-assignment", password_assignment()),
        ("secret-assignment", secret_assignment()),
        ("token-assignment", token_assignment()),
        ("api-key-assignment", api_key_assignment()),
    ]
    rows: list[dict[str, object]] = []
    for kind, cases in groups:
        for context, text, secrets in cases:
            rows.append(
                {
                    "kind": kind,
                    "kinds": [kind],
                    "context": context,
                    "text": text,
                    "secrets": secrets,
                }
            )
    for context, text, secrets in aws_secret_key_csv():
        rows.append(
            {
                "kinds": ["aws-access-key", "aws-secret-key"],
                "kind": "aws-secret-key",
                "context": context,
                "text": text,
                "secrets": secrets,
            }
        )
    for text in NEGATIVES:
        rows.append(
            {"kind": None, "kinds": [], "context": "near-miss", "text": text, "secrets": []}
        )
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} cases to {OUT}")


if __name__ == "__main__":
    main()
