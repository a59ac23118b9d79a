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


# ----------------------------------------------------------------------------------------------
# Wave 2: config files of operations tools, SaaS/AI tokens, base64 blobs, command lines,
# cookies, more connection-URL schemes. Appended after the first families so their cases (and
# the random sequence they consume) are unchanged.

LOWER_NUM = string.ascii_lowercase + string.digits
B64URL = ALNUM + "_-"


def b64text(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def token_contexts(var: str) -> list[Callable[[str], str]]:
    """Where a vendor token turns up in operations output, rotated over the cases."""
    return contexts(
        ("env", lambda s: f"{var}={s}"),
        ("log", lambda s: f"{ts()} ERROR client: request rejected (401) with credential {s}"),
        ("json", lambda s: f'{{"service": "{var.lower()}", "credential": "{s}", "retries": 3}}'),
        ("yaml", lambda s: f"integrations:\n  {var.lower()}:\n    value: {s}\n    enabled: true\n"),
        ("header", lambda s: f"curl -sS -H 'X-Custom-Auth: {s}' https://api.example.com/v1/ping"),
        ("cli", lambda s: f"$ deploy-tool --credential {s} --region eu-west-1"),
        ("export", lambda s: f"export {var}='{s}'"),
        ("trace", lambda s: f"ValueError: invalid credential {s!r} (expired)"),
    )


def vendor(var: str, make: Callable[[], str]) -> list[Case]:
    return pick(token_contexts(var), make)


def twilio_key() -> list[Case]:
    out = vendor("TWILIO_API_KEY", lambda: "SK" + r(HEX, 32))[:6]
    for i in range(6):
        sid, tok = "AC" + r(HEX, 32), r(HEX, 32)
        text = [
            f"curl -X POST https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json -u {sid}:{tok}",
            f'client = Client("{sid}", "{tok}")',
            f"TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={tok}\n",
            f"{ts()} DEBUG settings twilio_auth_token={tok} account={sid}",
            f"account_sid,auth_token\n{sid},{tok}\n",
            f'twilio:\n  sid: {sid}\n  twilioAuthToken: "{tok}"\n',
        ][i]
        out.append(("auth-token", text, [tok]))
    return out


def vault_token() -> list[Case]:
    def make() -> str:
        kind = rng.random()
        if kind < 0.5:
            return "hvs." + r(B64URL, 95)
        if kind < 0.75:
            return "hvb." + r(B64URL, 140)
        return (
            "s." + r(string.ascii_lowercase, 8) + r(string.ascii_uppercase, 8) + r(string.digits, 8)
        )

    t = contexts(
        ("env", lambda s: f"VAULT_TOKEN={s}"),
        ("header", lambda s: f"curl -H 'X-Vault-Token: {s}' https://vault:8200/v1/secret/data/app"),
        ("cli", lambda s: f"$ vault login {s}"),
        ("file", lambda s: f"$ cat ~/.vault-token\n{s}\n"),
        ("log", lambda s: f"{ts()} WARN vault: token {s} is about to expire"),
        ("json", lambda s: f'{{"auth": {{"client_token": "{s}", "renewable": true}}}}'),
    )
    return pick(t, make)


def sendgrid_key() -> list[Case]:
    def make() -> str:
        return f"SG.{r(B64URL, 22)}.{r(B64URL, 43)}"

    t = contexts(
        ("env", lambda s: f"SENDGRID_API_KEY={s}"),
        ("yaml", lambda s: f"mail:\n  provider: sendgrid\n  apiKey: {s}\n"),
        (
            "header",
            lambda s: f"curl -H 'Authorization: Bearer {s}' https://api.sendgrid.com/v3/mail/send",
        ),
        ("urlencoded", lambda s: f"POST /settings key={s.replace('.', '%2E')}&save=1"),
        ("log", lambda s: f"{ts()} ERROR smtp: 535 Authentication failed for apikey:{s}"),
        ("json", lambda s: f'{{"SendGrid": {{"ApiKey": "{s}"}}}}'),
    )
    cases = pick(t, make)
    return [
        (c, text, [sec.replace(".", "%2E")] if c == "urlencoded" else [sec])
        for c, text, [sec] in cases
    ]


def kubeconfig_key() -> list[Case]:
    out = []
    for i in range(PER_KIND):
        body = "MIIEowIBAAKCAQEA" + r(B64, 64 * 6)
        pem = (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(body[j : j + 64] for j in range(0, len(body), 64))
            + "\n-----END RSA PRIVATE KEY-----\n"
        )
        data = b64text(pem)
        cert = b64text(
            "-----BEGIN CERTIFICATE-----\nMIIC" + r(B64, 60) + "\n-----END CERTIFICATE-----\n"
        )
        if i % 2:
            text = (
                "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n"
                f"    client-certificate-data: {cert}\n    client-key-data: {data}\n"
            )
        else:
            text = f'{{"users": [{{"name": "ci", "user": {{"client-key-data": "{data}"}}}}]}}'
        out.append(("kubeconfig", text, [data]))
    return out


def docker_auth() -> list[Case]:
    out = []
    for i in range(PER_KIND):
        auth = b64text(f"{r(string.ascii_lowercase, 7)}:{password()}")
        reg = rng.choice(["https://index.docker.io/v1/", "ghcr.io", "registry.example.com:5000"])
        if i % 3 == 0:
            text = json.dumps({"auths": {reg: {"auth": auth}}}, indent=2)
        elif i % 3 == 1:
            text = f'{{"auths":{{"{reg}":{{"auth":"{auth}","email":"ci@example.com"}}}},"credsStore":""}}'
        else:
            text = f'{ts()} DEBUG docker config: {{"auths": {{"{reg}": {{"auth": "{auth}"}}}}}}'
        out.append(("config.json", text, [auth]))
    return out


def npm_token() -> list[Case]:
    out = vendor("NPM_TOKEN", lambda: "npm_" + r(ALNUM, 36))[:6]
    for i in range(6):
        if i % 3 == 0:
            sec = "npm_" + r(ALNUM, 36)
            text = f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={sec}\n"
        elif i % 3 == 1:
            sec = b64text(f"ci:{password()}")
            text = f"@acme:registry=https://npm.example.com/\n//npm.example.com/:_auth={sec}\nalways-auth=true\n"
        else:
            sec = b64text(password())
            text = f"//npm.example.com/:username=ci\n//npm.example.com/:_password={sec}\n"
        out.append((".npmrc", text, [sec]))
    return out


def pypi_token() -> list[Case]:
    def make() -> str:
        return "pypi-AgEIcHlwaS5vcmc" + r(B64URL, rng.randint(60, 160))

    t = contexts(
        (
            "pypirc",
            lambda s: (
                f"[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {s}\n"
            ),
        ),
        ("env", lambda s: f"TWINE_PASSWORD={s}"),
        ("cli", lambda s: f"$ twine upload -u __token__ -p {s} dist/*"),
        (
            "log",
            lambda s: (
                f"{ts()} ERROR upload failed: 403 Invalid or non-existent authentication for {s}"
            ),
        ),
    )
    return pick(t, make)


def config_files() -> list[Case]:
    """Operations tools' settings files whose key names a password (kinds vary)."""
    out: list[Case] = []
    for i in range(PER_KIND):
        pw = password()
        text = [
            f"[client]\nuser=backup\npassword={pw}\nhost={host()}\n",
            f"[global]\nindex-url = https://ci:{pw}@pypi.example.com/simple\n",
            f"<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n      <username>deploy</username>\n      <password>{pw}</password>\n    </server>\n  </servers>\n</settings>\n",
            f"signing.keyId=24875D73\nsigning.password={pw}\nossrhUsername=acme\n",
            f"machine git.example.com\n  login deploy\n  password {pw}\n",
            f"systemProp.https.proxyHost=proxy.corp\nsystemProp.https.proxyPassword={pw}\n",
            f'[mysqldump]\nuser = root\npassword = "{pw}"\n',
            f"default login anonymous password {pw}\n",
            f"<server><id>repo</id><privateKey>~/.ssh/id_rsa</privateKey><passphrase>{pw}</passphrase></server>",
            f"[pypi]\nrepository = https://upload.pypi.org/legacy/\nusername = acme\npassword: {pw}\n",
            f"mavenPassword={pw}\nmavenUser=ci\n",
            f"DB_PASS={pw}\nDB_USER=app\n",
        ][i]
        kind = "url-credentials" if i == 1 else "password-assignment"
        out.append((kind, text, [pw]))
    return out


def pgpass_password() -> list[Case]:
    t = contexts(
        ("pgpass", lambda s: f"{host()}.internal:5432:orders:app:{s}"),
        ("pgpass-star", lambda s: f"*:*:*:replicator:{s}\n"),
        (
            "cat",
            lambda s: (
                f"$ cat ~/.pgpass\nlocalhost:5432:*:postgres:{s}\n{host()}:6432:billing:svc:{s[::-1]}\n"
            ),
        ),
    )
    cases = pick(t, password)
    return [(c, text, [sec, sec[::-1]] if c == "cat" else [sec]) for c, text, [sec] in cases]


def command_line_password() -> list[Case]:
    t = contexts(
        ("mysql", lambda s: f"$ mysql -h {host()} -u root -p{s} orders -e 'show processlist'"),
        ("mysqldump", lambda s: f"mysqldump --single-transaction -uadmin -p'{s}' shop > shop.sql"),
        ("docker-login", lambda s: f"$ docker login -u ci -p {s} registry.example.com"),
        ("sshpass", lambda s: f"sshpass -p '{s}' ssh ops@{host()} uptime"),
        ("redis-cli", lambda s: f"redis-cli -h {host()} -a {s} info replication"),
        ("sqlcmd", lambda s: f"sqlcmd -S {host()} -U sa -P {s} -Q 'SELECT 1'"),
        (
            "ldapsearch",
            lambda s: f"ldapsearch -x -D cn=admin,dc=example,dc=com -w {s} -b dc=example,dc=com",
        ),
        ("openssl", lambda s: f"openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:{s}"),
        ("smbclient", lambda s: f"smbclient //fs1/backup -U svc_backup%{s} -c ls"),
        ("keytool", lambda s: f"keytool -importcert -keystore app.jks -storepass {s} -file ca.pem"),
        ("htpasswd", lambda s: f"htpasswd -bc /etc/nginx/.htpasswd admin {s}"),
        ("sqlplus", lambda s: f"sqlplus -s scott/{s}@{host()}:1521/ORCL @report.sql"),
        ("podman", lambda s: f"podman login --username ci -p {s} quay.io"),
        ("zip", lambda s: f"zip -r -P {s} backup.zip /srv/data"),
        ("env-redis", lambda s: f"REDISCLI_AUTH={s} redis-cli ping"),
        (
            "mongo",
            lambda s: f"mongosh --host {host()} -u admin -p {s} --authenticationDatabase admin",
        ),
    )
    out = []
    for i, tpl in enumerate(t):
        for _ in range(2 if i < 4 else 1):
            sec = password()
            out.append((tpl.__name__, tpl(sec), [sec]))
    return out


def session_cookie() -> list[Case]:
    t = contexts(
        ("cookie", lambda s: f"> Cookie: sessionid={s}; csrftoken_seen=1; lang=en-US"),
        ("set-cookie", lambda s: f"< Set-Cookie: PHPSESSID={s}; path=/; HttpOnly"),
        ("jsession", lambda s: f"{ts()} DEBUG request headers: Cookie: JSESSIONID={s}"),
        (
            "connect",
            lambda s: (
                f"Set-Cookie: connect.sid={s}; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"
            ),
        ),
        ("curl", lambda s: f"curl -b 'session={s}' https://admin.example.com/api/users"),
        ("json", lambda s: f'{{"headers": {{"Cookie": "_gitlab_session={s}; event_filter=all"}}}}'),
    )
    return pick(t, lambda: r(HEX + "ABCDEF", rng.choice([26, 32, 40])))


def base64_secret() -> list[Case]:
    out = []
    for i in range(PER_KIND + 6):
        pw = password()
        j = i % 9
        if j == 0:
            url = f"postgres://app:{pw}@{host()}:5432/app"
            blob = b64text(url)
            text = (
                "apiVersion: v1\ndata:\n  DATABASE_URL: " + blob + "\n  LOG_LEVEL: aW5mbw==\n"
                "kind: Secret\nmetadata:\n  name: app-env\ntype: Opaque\n"
            )
        elif j == 1:
            blob = b64text(json.dumps({"db": {"host": host(), "user": "app", "password": pw}}))
            text = f"CONFIG_JSON={blob}"
        elif j == 2:
            blob = b64text(pw)
            text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: {b64text('app')}\n  db: {blob}\n"
        elif j == 3:
            blob = b64text(json.dumps({"auths": {"ghcr.io": {"auth": b64text("ci:" + pw)}}}))
            text = f"data:\n  .dockerconfigjson: {blob}\ntype: kubernetes.io/dockerconfigjson\n"
        elif j == 4:
            blob = b64text(pw)
            text = f'{{"apiVersion": "v1", "kind": "Secret", "data": {{"db": "{blob}"}}}}'
        elif j == 5:
            blob = b64text(pw)
            text = f"{ts()} DEBUG loaded settings smtp_password_b64={blob}"
        elif j == 6:
            blob = b64text(f"redis://:{pw}@{host()}:6379/0")
            text = f'{{\n  "kind": "Secret",\n  "data": {{\n    "REDIS_URL": "{blob}",\n    "MODE": "{b64text("prod")}"\n  }}\n}}'
        elif j == 7:
            blob = b64text(f"[client]\nuser=root\npassword={pw}\n")
            text = f"  my.cnf: {blob}"
        else:
            blob = b64text(f"AWS_SECRET_ACCESS_KEY={r(ALNUM + '/+', 40)}\n")
            text = f"ENV_FILE_B64: {blob}"
        out.append(("base64", text, [blob]))
    return out


def more_connection_urls() -> list[Case]:
    out: list[Case] = []
    templates = [
        (
            "db-connection-string",
            lambda s: f"MONGODB_URI=mongodb+srv://svc:{s}@cluster1.x1y2z.mongodb.net/app",
        ),
        (
            "db-connection-string",
            lambda s: f"REDIS_URL=rediss://default:{s}@{host()}.cache.example.com:6380",
        ),
        (
            "db-connection-string",
            lambda s: f"{ts()} INFO broker amqps://ops:{s}@mq.example.com:5671/vhost",
        ),
        ("db-connection-string", lambda s: f"ldap_uri = ldaps://cn=admin:{s}@ldap.example.com:636"),
        ("url-credentials", lambda s: f"lftp ftp://mirror:{s}@ftp.example.com/pub"),
        ("url-credentials", lambda s: f"EMAIL_URL=smtp://postmaster:{s}@smtp.example.com:587"),
        ("url-credentials", lambda s: f"curl https://admin:{s}@grafana.example.com/api/dashboards"),
        (
            "db-connection-string",
            lambda s: f"jdbc:mysql://{host()}:3306/shop?user=app&password={s}&useSSL=true",
        ),
        (
            "db-connection-string",
            lambda s: f"spring.datasource.url=jdbc:mariadb://{host()}/db?user=u&password={s}",
        ),
        ("url-credentials", lambda s: f"sftp://backup:{s}@files.example.com:22/nightly"),
        (
            "db-connection-string",
            lambda s: f"CLICKHOUSE_URL=clickhouse://default:{s}@{host()}:9000/logs",
        ),
        ("db-connection-string", lambda s: f"postgresql+asyncpg://app:{s}@{host()}/app"),
    ]
    for kind, tpl in templates:
        sec = password()
        out.append((kind, tpl(sec), [sec]))
    return out


VENDORS: list[tuple[str, str, Callable[[], str]]] = [
    (
        "openai-key",
        "OPENAI_API_KEY",
        lambda: rng.choice(
            [
                "sk-proj-" + r(B64URL, 74) + "T3BlbkFJ" + r(B64URL, 74),
                "sk-" + r(ALNUM, 20) + "T3BlbkFJ" + r(ALNUM, 20),
                "sk-svcacct-" + r(B64URL, 58) + "T3BlbkFJ" + r(B64URL, 58),
            ]
        ),
    ),
    ("anthropic-key", "ANTHROPIC_API_KEY", lambda: "sk-ant-api03-" + r(B64URL, 93) + "AA"),
    ("huggingface-token", "HF_TOKEN", lambda: "hf_" + r(string.ascii_letters, 34)),
    ("gitlab-token", "CI_JOB_TOKEN_OVERRIDE", lambda: "glpat-" + r(B64URL, 20)),
    (
        "slack-token",
        "SLACK_APP_TOKEN",
        lambda: f"xapp-1-A{r(UPPER_NUM, 10)}-{r(string.digits, 13)}-{r(HEX, 64)}",
    ),
    ("stripe-key", "STRIPE_SECRET_KEY", lambda: "sk_live_" + r(ALNUM, 99)),
    (
        "shopify-token",
        "SHOPIFY_ACCESS_TOKEN",
        lambda: rng.choice(["shpat_", "shpss_", "shpca_"]) + r(HEX, 32),
    ),
    (
        "newrelic-key",
        "NEW_RELIC_API_KEY",
        lambda: rng.choice(["NRAK-" + r(UPPER_NUM, 27), r(HEX, 36) + "NRAL"]),
    ),
    ("mailgun-key", "MAILGUN_KEY", lambda: "key-" + r(HEX, 32)),
    (
        "azure-ad-client-secret",
        "AZURE_CLIENT_CREDENTIAL",
        lambda: r(ALNUM, 3) + str(rng.randint(0, 9)) + "Q~" + r(ALNUM + "_~.-", 34),
    ),
    (
        "digitalocean-token",
        "DIGITALOCEAN_ACCESS_TOKEN",
        lambda: rng.choice(["dop_v1_", "doo_v1_"]) + r(HEX, 64),
    ),
    ("doppler-token", "DOPPLER_TOKEN", lambda: rng.choice(["dp.pt.", "dp.st."]) + r(ALNUM, 43)),
    ("linear-key", "LINEAR_API_KEY", lambda: "lin_api_" + r(ALNUM, 40)),
    ("postman-key", "POSTMAN_API_KEY", lambda: f"PMAK-{r(HEX, 24)}-{r(HEX, 34)}"),
    (
        "grafana-token",
        "GRAFANA_TOKEN",
        lambda: rng.choice(
            [
                "glsa_" + r(ALNUM, 32) + "_" + r(HEX, 8),
                "glc_" + r(ALNUM, 60) + "==",
            ]
        ),
    ),
    (
        "atlassian-token",
        "JIRA_API_TOKEN",
        lambda: "ATATT3" + r(B64URL, 178) + "=" + r(HEX.upper(), 8),
    ),
    (
        "gcp-oauth-token",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        lambda: rng.choice(["ya29." + r(B64URL, 120), "GOCSPX-" + r(B64URL, 28)]),
    ),
    ("databricks-token", "DATABRICKS_TOKEN", lambda: "dapi" + r(HEX, 32)),
    ("sentry-token", "SENTRY_AUTH_TOKEN", lambda: "sntryu_" + r(HEX, 64)),
    ("pulumi-token", "PULUMI_ACCESS_TOKEN", lambda: "pul-" + r(HEX, 40)),
    ("heroku-key", "HEROKU_API_KEY", lambda: "HRKU-AA" + r(B64URL, 58)),
    (
        "age-secret-key",
        "SOPS_AGE_KEY",
        lambda: "AGE-SECRET-KEY-1" + r("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
    ),
    (
        "telegram-bot-token",
        "TELEGRAM_BOT",
        lambda: f"{rng.randint(10**8, 10**10 - 1)}:AA{r(B64URL, 33)}",
    ),
    ("rubygems-token", "GEM_HOST_API_KEY", lambda: "rubygems_" + r(HEX, 48)),
    ("dynatrace-token", "DT_API_TOKEN", lambda: f"dt0c01.{r(UPPER_NUM, 24)}.{r(UPPER_NUM, 64)}"),
    (
        "terraform-token",
        "TF_TOKEN_app_terraform_io",
        lambda: f"{r(ALNUM, 14)}.atlasv1.{r(B64URL, 67)}",
    ),
    ("planetscale-token", "PLANETSCALE_SERVICE_TOKEN", lambda: "pscale_tkn_" + r(B64URL, 43)),
    ("prefect-token", "PREFECT_API_KEY", lambda: "pnu_" + r(ALNUM, 36)),
    ("alibaba-key", "ALIBABA_CLOUD_ACCESS_KEY", lambda: "LTAI" + r(ALNUM, 20)),
    ("artifactory-key", "ARTIFACTORY_CREDENTIAL", lambda: "AKCp" + r(ALNUM, 69)),
    ("fly-token", "FLY_API_TOKEN", lambda: "fo1_" + r(B64URL, 43)),
    ("1password-token", "OP_SERVICE_ACCOUNT_TOKEN", lambda: "ops_eyJ" + r(B64, 300)),
    ("cloudflare-key", "CF_ORIGIN_CA", lambda: f"v1.0-{r(HEX, 24)}-{r(HEX, 146)}"),
    ("infracost-token", "INFRACOST_API_KEY", lambda: "ico-" + r(ALNUM, 32)),
    ("octopus-key", "OCTOPUS_CLI_CREDENTIAL", lambda: "API-" + r(UPPER_NUM, 26)),
]


WAVE2_NEGATIVES = [
    # hashes, digests, ids that look random but are not secrets
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 checksum ok",
    "image: ghcr.io/acme/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "pod/api-7d9f8b6c5d-x2x9k condition met",
    "Merge commit 8e3c1f0a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e into main",
    "request_id=550e8400-e29b-41d4-a716-446655440000 latency=12ms",
    "md5=5d41402abc4b2a76b9719d911017c592 size=2048",
    'etag: "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "x-amz-request-id: 4442587FB7D0A2F9 x-amz-id-2: vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=",
    # command lines without a password
    "$ mysql -u root -p orders",
    "mysql -h db-1 -P 3306 -u app -p",
    "docker login -u ci --password-stdin registry.example.com",
    "redis-cli -h cache-1 -p 6379 ping",
    "sshpass -f /run/secrets/ssh ssh ops@db-1",
    "openssl enc -aes-256-cbc -pass env:BACKUP_KEY -in dump.sql",
    "keytool -list -keystore app.jks -storepass:env STOREPASS",
    "git checkout -b release-2.4",
    # cookies and headers without session values
    "Cookie: lang=en-US; theme=dark; tz=Europe/Berlin",
    "Set-Cookie: consent=yes; Path=/; Max-Age=31536000",
    "X-Request-Id: 8f14e45fceea167a5a36dedd4bea2543",
    # config and manifests without secrets
    'apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: search,export\n  replicas: "3"\n',
    "data:\n  nginx.conf: |\n    server { listen 80; }\n",
    "client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=",
    "certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=",
    "registry=https://registry.npmjs.org/\nstrict-ssl=true\n",
    "npm_config_cache=/tmp/.npm npm_lifecycle_event=build",
    "[global]\nindex-url = https://pypi.org/simple\ntimeout = 60\n",
    "machine git.example.com login deploy",
    "localhost:5432 is accepting connections",
    "2024-06-01 12:00:01 db-1 postgres[123]: LOG:  checkpoint complete: wrote 12 buffers",
    "host:port:database:user",
    'description: "dGhpcyBpcyBqdXN0IGEgZGVzY3JpcHRpb24gb2Ygc29tZXRoaW5n"',
    # lookalikes of token prefixes
    "sk-learn==1.4.2 scikit-learn installed",
    "SKU SK1234 out of stock",
    "hf_hub_download(repo_id='bert-base-uncased')",
    "key-value store compacted 12 segments",
    "using dp.pt.wrapper for tensors",
    "API-GATEWAY returned 502",
    "glc_ prefix reserved",
    "account AC1234 created",
    "s.example.com resolved to 10.0.0.4",
    "SG.Sales.Region.EMEA",
    "pypi-simple mirror synced",
    "xoxo hugs from the team",
    "AGE-SECRET-KEY-1 format documented",
    "see https://github.com/acme/ops/commit/3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a3f",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@bastion",
]


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
    wave2: list[tuple[str, list[Case]]] = [
        ("twilio-key", twilio_key()),
        ("vault-token", vault_token()),
        ("sendgrid-key", sendgrid_key()),
        ("kubeconfig-key", kubeconfig_key()),
        ("docker-auth", docker_auth()),
        ("npm-token", npm_token()),
        ("pypi-token", pypi_token()),
        ("pgpass-password", pgpass_password()),
        ("command-line-password", command_line_password()),
        ("session-cookie", session_cookie()),
        ("base64-secret", base64_secret()),
    ]
    wave2 += [(kind, vendor(var, make)) for kind, var, make in VENDORS]
    for kind, cases in wave2:
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
    for kind, text, secrets in config_files() + more_connection_urls():
        rows.append(
            {"kind": kind, "kinds": [kind], "context": "config", "text": text, "secrets": secrets}
        )
    for text in NEGATIVES + WAVE2_NEGATIVES:
        rows.append(
            {"kind": None, "kinds": [], "context": "near-miss", "text": text, "secrets": []}
        )
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} cases to {OUT}")


if __name__ == "__main__":
    main()
