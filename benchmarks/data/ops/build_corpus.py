"""Build ``ops.jsonl``: an operational error-message stream with defect labels (seeded, reproducible).

Every defect lists the wordings real software uses for it (kernel, kubelet, PostgreSQL, MySQL,
nginx, HAProxy, JVM, CPython, Go, Node, Redis, Kafka, systemd, cloud SDKs, Prometheus alert rules)
and how a sighting varies: other values, another wrapper (log header, client library, kubectl), with
or without a stack trace, the wording of another version of the emitting software, typed by a
person, or one line of a multi-line event. See README.md for the labelling policy.

    python benchmarks/data/ops/build_corpus.py  # rewrites ops.jsonl next to this file
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

R = random.Random(17)
Fill = Callable[[], str]


def ip() -> str:
    return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def pid() -> str:
    return str(R.randint(300, 99999))


def hx(n: int) -> str:
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def pod(workload: str) -> str:
    return (
        f"{workload}-{hx(9)}-{''.join(R.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"
    )


def ts() -> str:
    return (
        f"2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:"
        f"{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"
    )


def syslog_ts() -> str:
    month = R.choice(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct"])
    return f"{month} {R.randint(1, 28):2d} {R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}"


def node() -> str:
    return R.choice(
        ["ip-10-0-1-23", "ip-10-0-7-191", "node-3", "worker-12", "gke-prod-pool-1-9f3a"]
    )


def wrap_app(msg: str) -> str:
    """Application log header: timestamp, level, thread, logger."""
    style = R.randrange(4)
    if style == 0:
        return f"{ts()} ERROR [worker-{R.randint(1, 16)}] app.{R.choice(['db', 'jobs', 'api'])} - {msg}"
    if style == 1:
        return f"{syslog_ts()} {node()} app[{pid()}]: {msg}"
    if style == 2:
        return f'level=error ts={ts()} caller=worker.go:{R.randint(20, 400)} msg="request failed" err="{msg}"'
    return f"[{ts()}] ERROR: {msg}"


def wrap_op(msg: str) -> str:
    """Go-style error wrapping: operation context prefixed with a colon."""
    op = R.choice(["process order", "sync inventory", "flush batch", "handle request", "run job"])
    return f"failed to {op} {R.randint(1000, 99999)}: {msg}"


DEFECTS: dict[str, dict[str, list[Fill]]] = {}


def defect(name: str, **variants: list[Fill]) -> None:
    DEFECTS[name] = variants


# --- storage -------------------------------------------------------------------------------------
defect(
    "disk-full",
    values=[
        lambda: (
            f"write /var/lib/docker/overlay2/{hx(12)}/merged/var/log/app.log: no space left on device"
        ),
        lambda: (
            f"OSError: [Errno 28] No space left on device: '/data/exports/{R.randint(1, 999)}.csv'"
        ),
    ],
    wrapper=[
        lambda: wrap_app(f"write /data/spool/{hx(8)}.tmp: no space left on device"),
        lambda: (
            f'ERROR:  could not extend file "base/16384/{R.randint(2000, 90000)}": No space left on device'
        ),
        lambda: f"cp: error writing '/backup/db-{R.randint(1, 30)}.tar': No space left on device",
    ],
    drift=[lambda: "No space left on device (errno 28)"],
    human=[
        lambda: f"disk full on {R.choice(['db-2', 'worker-12', 'ci runner'])} again, no space left"
    ],
)
defect(
    "alert-fs-space",
    values=[
        lambda: (
            f"Filesystem on /dev/nvme{R.randint(0, 3)}n1p1 at {ip()}:9100 has only {R.uniform(0.5, 4.9):.2f}% available space left."
        ),
    ],
    wrapper=[
        lambda: (
            f"[FIRING:1] NodeFilesystemAlmostOutOfSpace ({ip()}:9100 node-exporter /dev/sda1 ext4 /) Filesystem on /dev/sda1 at {ip()}:9100 has only {R.uniform(0.5, 4.9):.2f}% available space left."
        ),
    ],
    human=[lambda: "NodeFilesystemAlmostOutOfSpace firing for the db volume"],
)
defect(
    "alert-fs-inodes",
    values=[
        lambda: (
            f"Filesystem on /dev/sdb1 at {ip()}:9100 has only {R.uniform(0.5, 4.9):.2f}% available inodes left."
        ),
    ],
    wrapper=[
        lambda: (
            f"[FIRING:1] NodeFilesystemAlmostOutOfFiles ({ip()}:9100 node-exporter /dev/sdb1 xfs /var) Filesystem on /dev/sdb1 at {ip()}:9100 has only {R.uniform(0.5, 4.9):.2f}% available inodes left."
        ),
    ],
)
defect(
    "ext4-journal-abort",
    values=[
        lambda: (
            f"EXT4-fs error (device sda{R.randint(1, 4)}): ext4_journal_check_start:{R.choice([61, 83])}: Detected aborted journal"
        ),
    ],
    wrapper=[
        lambda: (
            f"{syslog_ts()} {node()} kernel: [{R.randint(1000, 999999)}.{R.randint(0, 999999):06d}] EXT4-fs error (device sda1): ext4_journal_check_start:61: Detected aborted journal"
        ),
    ],
)
defect(
    "ext4-remount-ro",
    values=[lambda: f"EXT4-fs (sda{R.randint(1, 4)}): Remounting filesystem read-only"],
    wrapper=[
        lambda: (
            f"{syslog_ts()} {node()} kernel: [{R.randint(1000, 999999)}.{R.randint(0, 999999):06d}] EXT4-fs (sda1): Remounting filesystem read-only"
        ),
    ],
)
defect(
    "readonly-fs",
    values=[
        lambda: f"open /var/lib/kubelet/pods/{hx(8)}-{hx(4)}/volumes/x: read-only file system",
        lambda: f"OSError: [Errno 30] Read-only file system: '/data/tmp/{hx(6)}'",
    ],
    wrapper=[lambda: wrap_op(f"mkdir /data/cache/{hx(6)}: read-only file system")],
)


# --- memory --------------------------------------------------------------------------------------
def oom_pair(comm: str) -> list[Fill]:
    return [
        lambda: (
            f"{comm} invoked oom-killer: gfp_mask=0x{R.choice(['100cca', '6200ca', '1100cca'])}(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0\n"
            f"Out of memory: Killed process {pid()} ({comm}) total-vm:{R.randint(10**6, 9 * 10**6)}kB, anon-rss:{R.randint(10**6, 8 * 10**6)}kB, file-rss:0kB, shmem-rss:0kB, UID:{R.choice([0, 999, 1000])} pgtables:{R.randint(1000, 20000)}kB oom_score_adj:0"
        ),
        lambda: (
            f"{comm} invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj={R.choice([0, 1000, -998])}"
        ),
    ]


defect(
    "oom-java",
    values=[
        lambda: (
            f"Out of memory: Killed process {pid()} (java) total-vm:{R.randint(10**6, 9 * 10**6)}kB, anon-rss:{R.randint(10**6, 8 * 10**6)}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:{R.randint(1000, 20000)}kB oom_score_adj:0"
        ),
    ],
    wrapper=[
        lambda: (
            f"{syslog_ts()} {node()} kernel: [{R.randint(1000, 999999)}.{R.randint(0, 999999):06d}] Out of memory: Killed process {pid()} (java) total-vm:{R.randint(10**6, 9 * 10**6)}kB, anon-rss:{R.randint(10**6, 8 * 10**6)}kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:{R.randint(1000, 20000)}kB oom_score_adj:0"
        ),
    ],
    drift=[
        lambda: (
            f"Out of memory: Kill process {pid()} (java) score {R.randint(100, 999)} or sacrifice child"
        )
    ],
    multiline=oom_pair("java"),
)
defect(
    "oom-postgres",
    values=[
        lambda: (
            f"Out of memory: Killed process {pid()} (postgres) total-vm:{R.randint(10**6, 9 * 10**6)}kB, anon-rss:{R.randint(10**6, 8 * 10**6)}kB, file-rss:0kB, shmem-rss:{R.randint(1000, 99999)}kB, UID:999 pgtables:{R.randint(1000, 20000)}kB oom_score_adj:-900"
        ),
    ],
    drift=[
        lambda: (
            f"Out of memory: Kill process {pid()} (postgres) score {R.randint(100, 999)} or sacrifice child"
        )
    ],
    multiline=oom_pair("postgres"),
)
defect(
    "memcg-oom-python",
    values=[
        lambda: (
            f"Memory cgroup out of memory: Killed process {pid()} (python3) total-vm:{R.randint(10**5, 10**6)}kB, anon-rss:{R.randint(10**5, 10**6)}kB, file-rss:{R.randint(1000, 9000)}kB, shmem-rss:0kB, UID:1000 pgtables:{R.randint(100, 2000)}kB oom_score_adj:{R.choice([937, 999])}"
        ),
    ],
)
defect(
    "k8s-oomkilled",
    values=[
        lambda: f"Container app in pod {pod('orders')} was OOMKilled (exit code 137)",
    ],
    wrapper=[
        lambda: (
            "Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137"
        ),
    ],
    human=[lambda: "orders pods keep getting OOMKilled"],
)
defect(
    "jvm-heap",
    values=[
        lambda: (
            f'Exception in thread "http-nio-8080-exec-{R.randint(1, 200)}" java.lang.OutOfMemoryError: Java heap space'
        )
    ],
    trace=[
        lambda: (
            "java.lang.OutOfMemoryError: Java heap space\n"
            "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3512)\n"
            "\tat java.base/java.util.ArrayList.grow(ArrayList.java:237)\n"
            f"\tat com.example.report.Exporter.collect(Exporter.java:{R.randint(40, 90)})"
        )
    ],
    wrapper=[lambda: wrap_app("java.lang.OutOfMemoryError: Java heap space")],
)
defect(
    "jvm-metaspace",
    values=[
        lambda: (
            f'Exception in thread "http-nio-8080-exec-{R.randint(1, 200)}" java.lang.OutOfMemoryError: Metaspace'
        )
    ],
    wrapper=[lambda: wrap_app("java.lang.OutOfMemoryError: Metaspace")],
)
defect(
    "jvm-gc-overhead",
    values=[
        lambda: (
            f'Exception in thread "scheduler-{R.randint(1, 9)}" java.lang.OutOfMemoryError: GC overhead limit exceeded'
        )
    ],
)
defect(
    "node-heap",
    values=[
        lambda: "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    ],
    drift=[
        lambda: (
            "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"
        ),
    ],
    wrapper=[
        lambda: (
            f"<--- Last few GCs --->\n[{R.randint(1, 99)}:0x{hx(12)}] FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
        )
    ],
)

# --- databases -----------------------------------------------------------------------------------
defect(
    "pg-too-many-clients",
    values=[lambda: "FATAL:  sorry, too many clients already"],
    wrapper=[
        lambda: (
            'psycopg2.OperationalError: connection to server at "db-1.internal" ('
            + ip()
            + "), port 5432 failed: FATAL:  sorry, too many clients already"
        ),
        lambda: f"{ts()} [{R.randint(100, 99999)}] FATAL:  sorry, too many clients already",
        lambda: "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
    ],
    human=[lambda: "postgres says too many clients"],
)
defect(
    "pg-reserved-slots",
    values=[
        lambda: (
            "FATAL:  remaining connection slots are reserved for non-replication superuser connections"
        )
    ],
    drift=[
        lambda: (
            "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute"
        )
    ],
)
defect(
    "pg-conn-refused",
    values=[
        lambda: (
            f'could not connect to server: Connection refused\n\tIs the server running on host "{R.choice(["db-1", "db-2"])}" ({ip()}) and accepting\n\tTCP/IP connections on port 5432?'
        ),
    ],
    drift=[
        lambda: (
            f'connection to server at "db-1.internal" ({ip()}), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?'
        ),
    ],
    wrapper=[
        lambda: (
            f'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused\n\tIs the server running on host "db-1" ({ip()}) and accepting\n\tTCP/IP connections on port 5432?'
        ),
        lambda: f"dial tcp {ip()}:5432: connect: connection refused",
        lambda: (
            f"Error: connect ECONNREFUSED {ip()}:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{R.choice([1494, 1555, 1300])}:16)"
        ),
    ],
)
defect(
    "redis-conn-refused",
    values=[
        lambda: (
            f"Error: connect ECONNREFUSED {ip()}:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:{R.choice([1494, 1555])}:16)"
        ),
        lambda: f"dial tcp {ip()}:6379: connect: connection refused",
    ],
    wrapper=[
        lambda: (
            "redis.exceptions.ConnectionError: Error 111 connecting to redis-master.cache.svc:6379. Connection refused."
        ),
        lambda: f"[ioredis] Unhandled error event: Error: connect ECONNREFUSED {ip()}:6379",
    ],
)
defect(
    "pg-dns",
    values=[
        lambda: f"dial tcp: lookup db-{R.randint(1, 3)}.internal on 10.96.0.10:53: no such host"
    ],
    wrapper=[
        lambda: wrap_op("dial tcp: lookup db-1.internal on 10.96.0.10:53: no such host"),
        lambda: (
            'psycopg2.OperationalError: could not translate host name "db-1.internal" to address: Name or service not known'
        ),
    ],
)
defect(
    "pg-timeout",
    values=[lambda: f"dial tcp {ip()}:5432: i/o timeout"],
    wrapper=[lambda: wrap_op(f"dial tcp {ip()}:5432: i/o timeout")],
)
defect(
    "pg-dup-orders",
    values=[
        lambda: (
            f'ERROR:  duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=({R.randint(1, 10**6)}) already exists.'
        ),
    ],
    wrapper=[
        lambda: (
            f'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"\nDETAIL:  Key (id)=({R.randint(1, 10**6)}) already exists.'
        ),
        lambda: (
            f'org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "orders_pkey"\n  Detail: Key (id)=({R.randint(1, 10**6)}) already exists.'
        ),
    ],
)
defect(
    "pg-dup-email",
    values=[
        lambda: (
            f'ERROR:  duplicate key value violates unique constraint "users_email_key"\nDETAIL:  Key (email)=(user{R.randint(1, 999)}@example.com) already exists.'
        ),
    ],
    wrapper=[
        lambda: (
            f'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "users_email_key"\nDETAIL:  Key (email)=(u{R.randint(1, 999)}@example.org) already exists.'
        ),
    ],
)
defect(
    "pg-deadlock",
    values=[
        lambda: (
            f"ERROR:  deadlock detected\nDETAIL:  Process {pid()} waits for ShareLock on transaction {R.randint(10**5, 10**7)}; blocked by process {pid()}."
        ),
    ],
    wrapper=[
        lambda: (
            f"psycopg2.errors.DeadlockDetected: deadlock detected\nDETAIL:  Process {pid()} waits for ShareLock on transaction {R.randint(10**5, 10**7)}; blocked by process {pid()}."
        )
    ],
)
defect(
    "pg-stmt-timeout",
    values=[lambda: "ERROR:  canceling statement due to statement timeout"],
    wrapper=[lambda: "psycopg2.errors.QueryCanceled: canceling statement due to statement timeout"],
)
defect(
    "pg-auth",
    values=[
        lambda: f'FATAL:  password authentication failed for user "{R.choice(["app", "app_ro"])}"'
    ],
    wrapper=[
        lambda: (
            f'psycopg2.OperationalError: connection to server at "db-1.internal" ({ip()}), port 5432 failed: FATAL:  password authentication failed for user "app"'
        ),
    ],
)
defect(
    "mysql-too-many",
    values=[lambda: "ERROR 1040 (HY000): Too many connections"],
    wrapper=[lambda: "pymysql.err.OperationalError: (1040, 'Too many connections')"],
)
defect(
    "mysql-deadlock",
    values=[
        lambda: (
            "ERROR 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"
        )
    ],
    wrapper=[
        lambda: (
            "com.mysql.cj.jdbc.exceptions.MySQLTransactionRollbackException: Deadlock found when trying to get lock; try restarting transaction"
        ),
    ],
)
defect(
    "mysql-lock-wait",
    values=[lambda: "ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction"],
    wrapper=[
        lambda: (
            "pymysql.err.OperationalError: (1205, 'Lock wait timeout exceeded; try restarting transaction')"
        )
    ],
)
defect(
    "mysql-socket",
    values=[
        lambda: (
            "ERROR 2002 (HY000): Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)"
        )
    ],
    drift=[
        lambda: (
            "ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' (2)"
        )
    ],
)
defect(
    "mysql-gone-away",
    values=[lambda: "ERROR 2006 (HY000): MySQL server has gone away"],
    wrapper=[
        lambda: (
            "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2006, 'MySQL server has gone away')"
        )
    ],
)
defect(
    "redis-misconf",
    values=[
        lambda: (
            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        ),
    ],
    wrapper=[
        lambda: (
            "redis.exceptions.ResponseError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
        ),
    ],
)
defect(
    "redis-oom",
    values=[lambda: "OOM command not allowed when used memory > 'maxmemory'."],
    wrapper=[lambda: "ReplyError: OOM command not allowed when used memory > 'maxmemory'."],
)
defect(
    "redis-readonly",
    values=[lambda: "READONLY You can't write against a read only replica."],
    drift=[lambda: "READONLY You can't write against a read only slave."],
)


# --- proxies -------------------------------------------------------------------------------------
def nginx_prefix() -> str:
    return f"2024/{R.randint(1, 12):02d}/{R.randint(1, 28):02d} {R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d} [error] {R.randint(10, 99)}#{R.randint(10, 99)}: *{R.randint(1, 10**6)} "


def nginx_tail(path: str) -> str:
    return f', client: {ip()}, server: api.example.com, request: "GET {path}/{R.randint(1, 9999)} HTTP/1.1", upstream: "http://{ip()}:8080{path}/{R.randint(1, 9999)}", host: "api.example.com"'


defect(
    "nginx-upstream-timeout",
    values=[
        lambda: (
            nginx_prefix()
            + "upstream timed out (110: Connection timed out) while reading response header from upstream"
            + nginx_tail(R.choice(["/v1/orders", "/v1/cart"]))
        ),
    ],
    drift=[
        lambda: (
            nginx_prefix()
            + "upstream timed out (110: Operation timed out) while reading response header from upstream"
            + nginx_tail("/v1/orders")
        )
    ],
    human=[lambda: "nginx upstream timed out on /v1/orders"],
)
defect(
    "nginx-upstream-refused",
    values=[
        lambda: (
            nginx_prefix()
            + "connect() failed (111: Connection refused) while connecting to upstream"
            + nginx_tail(R.choice(["/v1/orders", "/v1/cart"]))
        ),
    ],
    drift=[
        lambda: (
            nginx_prefix()
            + "connect() failed (111: Unknown error) while connecting to upstream"
            + nginx_tail("/v1/orders")
        )
    ],
)
defect(
    "nginx-premature",
    values=[
        lambda: (
            nginx_prefix()
            + "upstream prematurely closed connection while reading response header from upstream"
            + nginx_tail("/v1/search")
        ),
    ],
)
defect(
    "haproxy-l4",
    values=[
        lambda: (
            f'Server be_api/api{R.randint(1, 4)} is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: {R.randint(0, 3)}ms. {R.randint(0, 3)} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'
        ),
    ],
    wrapper=[
        lambda: (
            f'{syslog_ts()} lb-1 haproxy[{pid()}]: Server be_api/api2 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'
        ),
    ],
    drift=[
        lambda: (
            f"Server be_api/api{R.randint(1, 4)} is DOWN, reason: Layer4 timeout, check duration: 2001ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
        )
    ],
)
defect(
    "haproxy-l7",
    values=[
        lambda: (
            f'Server be_api/api{R.randint(1, 4)} is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: {R.randint(1, 30)}ms. {R.randint(0, 3)} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'
        ),
    ],
)
defect(
    "haproxy-no-server",
    values=[lambda: "backend be_api has no server available!"],
    wrapper=[
        lambda: f"{syslog_ts()} lb-1 haproxy[{pid()}]: backend be_api has no server available!"
    ],
)

# --- kubernetes ----------------------------------------------------------------------------------
defect(
    "k8s-crashloop-api",
    values=[
        lambda: (
            f"Back-off restarting failed container api in pod {pod('api')}_prod({hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)})"
        ),
    ],
    wrapper=[
        lambda: (
            f"Warning  BackOff  {R.randint(1, 59)}m (x{R.randint(2, 90)} over {R.randint(1, 5)}h)  kubelet  Back-off restarting failed container api in pod {pod('api')}_prod({hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)})"
        ),
        lambda: (
            f'KubePodCrashLooping: Pod prod/{pod("api")} (api) is in waiting state (reason: "CrashLoopBackOff").'
        ),
    ],
    human=[lambda: "api pods crashlooping again"],
)
defect(
    "k8s-crashloop-worker",
    values=[
        lambda: (
            f"Back-off restarting failed container worker in pod {pod('worker')}_prod({hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)})"
        ),
    ],
    wrapper=[
        lambda: (
            f'KubePodCrashLooping: Pod prod/{pod("worker")} (worker) is in waiting state (reason: "CrashLoopBackOff").'
        ),
    ],
)
defect(
    "k8s-imagepull",
    values=[
        lambda: (
            f'Failed to pull image "registry.example.com/api:1.{R.randint(0, 9)}.{R.randint(0, 20)}": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/api:1.4.2": failed to resolve reference "registry.example.com/api:1.4.2": registry.example.com/api:1.4.2: not found'
        ),
    ],
    wrapper=[
        lambda: (
            f'Warning  Failed  {R.randint(1, 59)}s  kubelet  Failed to pull image "registry.example.com/api:1.{R.randint(0, 9)}.{R.randint(0, 20)}": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/api:1.4.2": failed to resolve reference "registry.example.com/api:1.4.2": registry.example.com/api:1.4.2: not found'
        ),
    ],
    drift=[
        lambda: (
            f'Failed to pull image "registry.example.com/api:1.{R.randint(0, 9)}.{R.randint(0, 20)}": rpc error: code = Unknown desc = Error response from daemon: manifest for registry.example.com/api:1.4.2 not found: manifest unknown: manifest unknown'
        )
    ],
)
defect(
    "k8s-imagepull-auth",
    values=[
        lambda: (
            f'Failed to pull image "registry.example.com/api:1.{R.randint(0, 9)}.{R.randint(0, 20)}": rpc error: code = Unknown desc = failed to pull and unpack image "registry.example.com/api:1.4.2": failed to resolve reference "registry.example.com/api:1.4.2": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'
        ),
    ],
)
defect(
    "k8s-sched-cpu",
    values=[
        lambda: (
            f"0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} Insufficient cpu. preemption: 0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} No preemption victims found for incoming pod."
        ),
    ],
    drift=[
        lambda: f"0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} Insufficient cpu."
    ],
)
defect(
    "k8s-sched-memory",
    values=[
        lambda: (
            f"0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} Insufficient memory. preemption: 0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} No preemption victims found for incoming pod."
        ),
    ],
    drift=[
        lambda: f"0/{R.randint(3, 30)} nodes are available: {R.randint(1, 30)} Insufficient memory."
    ],
)
defect(
    "k8s-liveness",
    values=[
        lambda: f"Liveness probe failed: HTTP probe failed with statuscode: {R.choice([500, 503])}"
    ],
    wrapper=[
        lambda: (
            f"Warning  Unhealthy  {R.randint(1, 59)}s (x{R.randint(2, 40)} over {R.randint(2, 30)}m)  kubelet  Liveness probe failed: HTTP probe failed with statuscode: 503"
        ),
    ],
)
defect(
    "k8s-readiness-refused",
    values=[
        lambda: (
            f'Readiness probe failed: Get "http://{ip()}:8080/healthz": dial tcp {ip()}:8080: connect: connection refused'
        ),
    ],
    wrapper=[
        lambda: (
            f'Warning  Unhealthy  {R.randint(1, 59)}s (x{R.randint(2, 40)} over {R.randint(2, 30)}m)  kubelet  Readiness probe failed: Get "http://{ip()}:8080/healthz": dial tcp {ip()}:8080: connect: connection refused'
        ),
    ],
)
defect(
    "k8s-configmap",
    values=[
        lambda: 'MountVolume.SetUp failed for volume "config" : configmap "api-config" not found'
    ],
    wrapper=[
        lambda: (
            f'Warning  FailedMount  {R.randint(1, 59)}m (x{R.randint(2, 40)} over {R.randint(2, 30)}m)  kubelet  MountVolume.SetUp failed for volume "config" : configmap "api-config" not found'
        )
    ],
)
defect(
    "k8s-evicted-memory",
    values=[
        lambda: (
            f"The node was low on resource: memory. Threshold quantity: 100Mi, available: {R.randint(10, 99000)}Ki. Container app was using {R.randint(10**5, 10**7)}Ki, request is 0, has larger consumption of memory."
        )
    ],
    wrapper=[lambda: "Pod was evicted: The node was low on resource: memory."],
)
defect(
    "k8s-evicted-ephemeral",
    values=[
        lambda: (
            f"The node was low on resource: ephemeral-storage. Threshold quantity: {R.randint(1, 9)}Gi, available: {R.randint(10, 99000)}Ki. Container app was using {R.randint(10**5, 10**7)}Ki, request is 0, has larger consumption of ephemeral-storage."
        )
    ],
    wrapper=[lambda: "Pod was evicted: The node was low on resource: ephemeral-storage."],
)
defect(
    "alert-replicas",
    values=[
        lambda: (
            "KubeDeploymentReplicasMismatch: Deployment prod/api has not matched the expected number of replicas for longer than 15 minutes."
        )
    ],
    drift=[
        lambda: (
            "Deployment prod/api has not matched the expected number of replicas for longer than 15 minutes."
        )
    ],
)
defect(
    "alert-job-failed",
    values=[
        lambda: (
            f"KubeJobFailed: Job prod/backup-{R.randint(28000000, 28999999)} failed to complete. Removing failed job after investigation should clear this alert."
        )
    ],
    drift=[lambda: f"Job prod/backup-{R.randint(28000000, 28999999)} failed to complete."],
)
defect(
    "alert-target-down",
    values=[
        lambda: (
            f"{R.choice([100, 50, 33.33])}% of the node-exporter/node-exporter targets in monitoring namespace are down."
        )
    ],
)


# --- systemd -------------------------------------------------------------------------------------
def systemd(unit: str, description: str) -> dict[str, list[Fill]]:
    return {
        "values": [
            lambda: (
                f"{unit}: Main process exited, code=exited, status={R.choice([1, 2, 127])}/{R.choice(['FAILURE', 'INVALIDARGUMENT'])}"
            )
        ],
        "multiline": [
            lambda: (
                f"{unit}: Main process exited, code=exited, status=1/FAILURE\n"
                f"{unit}: Failed with result 'exit-code'.\n"
                f"Failed to start {description}."
            ),
            lambda: f"{unit}: Failed with result 'exit-code'.",
            lambda: f"Failed to start {description}.",
        ],
        "wrapper": [
            lambda: (
                f"{syslog_ts()} {node()} systemd[1]: {unit}: Main process exited, code=exited, status=1/FAILURE"
            ),
        ],
    }


defect(
    "systemd-nginx",
    **systemd("nginx.service", "A high performance web server and a reverse proxy server"),
)
defect("systemd-postgres", **systemd("postgresql@15-main.service", "PostgreSQL Cluster 15-main"))

# --- stack traces --------------------------------------------------------------------------------
defect(
    "py-keyerror-customer",
    trace=[
        lambda: (
            "Traceback (most recent call last):\n"
            f'  File "/app/worker.py", line {R.randint(80, 95)}, in process\n'
            "    customer = order['customer_id']\n"
            "KeyError: 'customer_id'"
        )
    ],
    values=[lambda: "KeyError: 'customer_id'"],
    wrapper=[lambda: wrap_app("KeyError: 'customer_id'")],
)
defect(
    "py-keyerror-sku",
    trace=[
        lambda: (
            "Traceback (most recent call last):\n"
            f'  File "/app/inventory.py", line {R.randint(30, 45)}, in reserve\n'
            "    sku = item['sku']\n"
            "KeyError: 'sku'"
        )
    ],
)
defect(
    "py-requests-stripe",
    values=[
        lambda: (
            f"requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f{hx(10)}>: Failed to establish a new connection: [Errno 111] Connection refused'))"
        ),
    ],
    drift=[
        lambda: (
            f"requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f{hx(10)}>: Failed to establish a new connection: [Errno 111] Connection refused'))".replace(
                "urllib3.connection.HTTPSConnection", "urllib3.connection.VerifiedHTTPSConnection"
            )
        ),
    ],
    trace=[
        lambda: (
            "Traceback (most recent call last):\n"
            f'  File "/app/billing.py", line {R.randint(100, 120)}, in charge\n'
            "    resp = session.post(url, data=payload)\n"
            f"requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f{hx(10)}>: Failed to establish a new connection: [Errno 111] Connection refused'))"
        )
    ],
)
defect(
    "py-ssl-expired",
    values=[
        lambda: (
            f"ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:{R.choice([1006, 1129, 997])})"
        ),
    ],
    wrapper=[
        lambda: (
            "requests.exceptions.SSLError: HTTPSConnectionPool(host='partner.example.com', port=443): Max retries exceeded with url: /feed (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)')))"
        ),
        lambda: "curl: (60) SSL certificate problem: certificate has expired",
    ],
    drift=[
        lambda: (
            f"x509: certificate has expired or is not yet valid: current time {ts()} is after 2024-03-01T00:00:00Z"
        )
    ],
)
defect(
    "tls-unknown-ca",
    values=[
        lambda: (
            'Get "https://vault.internal:8200/v1/sys/health": x509: certificate signed by unknown authority'
        )
    ],
    drift=[
        lambda: "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    ],
    wrapper=[lambda: "curl: (60) SSL certificate problem: unable to get local issuer certificate"],
)
defect(
    "java-npe-pricing",
    trace=[
        lambda: (
            'Exception in thread "main" java.lang.NullPointerException: Cannot invoke "java.math.BigDecimal.multiply(java.math.BigDecimal)" because "price" is null\n'
            f"\tat com.example.pricing.Quote.total(Quote.java:{R.randint(40, 60)})\n"
            "\tat com.example.pricing.QuoteService.quote(QuoteService.java:88)"
        )
    ],
    values=[
        lambda: (
            'java.lang.NullPointerException: Cannot invoke "java.math.BigDecimal.multiply(java.math.BigDecimal)" because "price" is null'
        )
    ],
)
defect(
    "java-npe-bare-cart",
    trace=[
        lambda: (
            "java.lang.NullPointerException\n"
            f"\tat com.example.cart.CartService.addItem(CartService.java:{R.randint(100, 130)})\n"
            "\tat com.example.cart.CartController.add(CartController.java:54)"
        ),
        lambda: (
            wrap_app("Request processing failed")
            + f"\njava.lang.NullPointerException: null\n\tat com.example.cart.CartService.addItem(CartService.java:{R.randint(100, 130)})\n\tat sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)"
        ),
    ],
)
defect(
    "java-npe-bare-auth",
    trace=[
        lambda: (
            "java.lang.NullPointerException\n"
            f"\tat com.example.auth.TokenFilter.doFilter(TokenFilter.java:{R.randint(60, 80)})\n"
            "\tat org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:117)"
        ),
    ],
)
defect(
    "java-hikari-timeout",
    values=[
        lambda: (
            f"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {R.randint(30000, 30010)}ms."
        ),
    ],
    drift=[
        lambda: (
            f"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {R.randint(30000, 30010)}ms (total={R.randint(5, 20)}, active={R.randint(5, 20)}, idle=0, waiting={R.randint(1, 90)})"
        ),
    ],
    trace=[
        lambda: (
            f"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after {R.randint(30000, 30010)}ms.\n"
            "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)\n"
            "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:197)"
        )
    ],
)
defect(
    "go-nil-deref",
    trace=[
        lambda: (
            "panic: runtime error: invalid memory address or nil pointer dereference\n"
            f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x{R.choice(['0', '8', '18'])} pc=0x{hx(6)}]\n\n"
            "goroutine 1 [running]:\n"
            "main.(*Server).handle(0x0, 0xc000123456)\n"
            f"\t/src/server.go:{R.randint(40, 60)} +0x{hx(2)}"
        )
    ],
    values=[lambda: "panic: runtime error: invalid memory address or nil pointer dereference"],
)
defect(
    "go-index-range",
    trace=[
        lambda: (
            f"panic: runtime error: index out of range [{R.randint(1, 9)}] with length {R.randint(0, 1)}\n\n"
            f"goroutine {R.randint(1, 900)} [running]:\n"
            "main.parseHeader(...)\n"
            f"\t/src/parse.go:{R.randint(10, 30)}"
        )
    ],
)
defect(
    "node-undefined-id",
    trace=[
        lambda: (
            "TypeError: Cannot read properties of undefined (reading 'id')\n"
            f"    at handler (/app/src/routes/orders.js:{R.randint(40, 50)}:18)\n"
            "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)"
        )
    ],
    drift=[lambda: "TypeError: Cannot read property 'id' of undefined"],
)
defect(
    "node-undefined-name",
    trace=[
        lambda: (
            "TypeError: Cannot read properties of undefined (reading 'name')\n"
            f"    at render (/app/src/views/profile.js:{R.randint(10, 20)}:31)"
        )
    ],
)

# --- messaging -----------------------------------------------------------------------------------
defect(
    "kafka-topic-metadata",
    values=[
        lambda: (
            f"org.apache.kafka.common.errors.TimeoutException: Topic orders not present in metadata after {R.choice([60000, 30000])} ms."
        )
    ],
    wrapper=[
        lambda: wrap_app(
            "org.apache.kafka.common.errors.TimeoutException: Topic orders not present in metadata after 60000 ms."
        )
    ],
)
defect(
    "kafka-broker-unavailable",
    values=[
        lambda: (
            f"[Producer clientId=producer-{R.randint(1, 9)}] Connection to node {R.randint(0, 5)} (kafka-{R.randint(0, 2)}.kafka.svc/{ip()}:9092) could not be established. Broker may not be available."
        ),
    ],
    drift=[
        lambda: (
            f"[Consumer clientId=consumer-grp-{R.randint(1, 9)}, groupId=grp] Connection to node -1 (localhost/127.0.0.1:9092) could not be established. Node may not be available."
        )
    ],
)
defect(
    "kafka-record-too-large",
    values=[
        lambda: (
            f"org.apache.kafka.common.errors.RecordTooLargeException: The message is {R.randint(1048577, 9000000)} bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration."
        ),
    ],
)
defect(
    "kafka-commit-failed",
    values=[
        lambda: (
            f"[Consumer clientId=consumer-grp-{R.randint(1, 9)}, groupId=grp] Offset commit failed on partition orders-{R.randint(0, 11)} at offset {R.randint(1000, 10**7)}: The coordinator is not aware of this member."
        ),
    ],
)

# --- cloud SDKs ----------------------------------------------------------------------------------
defect(
    "aws-throttle",
    values=[
        lambda: (
            f"An error occurred (ThrottlingException) when calling the PutMetricData operation (reached max retries: {R.randint(2, 9)}): Rate exceeded"
        )
    ],
    wrapper=[
        lambda: (
            "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the PutMetricData operation (reached max retries: 4): Rate exceeded"
        )
    ],
)
defect(
    "aws-s3-denied",
    values=[
        lambda: (
            "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
        )
    ],
    wrapper=[
        lambda: (
            "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
        )
    ],
)
defect(
    "aws-s3-nobucket",
    values=[
        lambda: (
            "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist"
        )
    ],
)
defect(
    "gcp-denied",
    values=[
        lambda: (
            "google.api_core.exceptions.Forbidden: 403 GET https://storage.googleapis.com/storage/v1/b/exports/o?projection=noAcl&prettyPrint=false: svc-export@proj.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket."
        )
    ],
    drift=[
        lambda: (
            "google.api_core.exceptions.Forbidden: 403 GET https://storage.googleapis.com/storage/v1/b/exports/o?projection=noAcl&prettyPrint=false: svc-export@proj.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist)."
        )
    ],
)

# --- DNS / network -------------------------------------------------------------------------------
defect(
    "dns-partner",
    values=[lambda: "Error: getaddrinfo ENOTFOUND api.partner.example"],
    wrapper=[
        lambda: (
            "FetchError: request to https://api.partner.example/v2/rates failed, reason: getaddrinfo ENOTFOUND api.partner.example"
        )
    ],
    drift=[lambda: "Error: getaddrinfo EAI_AGAIN api.partner.example"],
)
defect(
    "dns-temporary",
    values=[lambda: "socket.gaierror: [Errno -3] Temporary failure in name resolution"],
    wrapper=[
        lambda: (
            "urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPSConnection object at 0x7f"
            + hx(9)
            + ">: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution"
        )
    ],
)
defect(
    "conn-reset",
    values=[
        lambda: (
            f"read tcp {ip()}:{R.randint(32768, 60999)}->{ip()}:443: read: connection reset by peer"
        )
    ],
    wrapper=[
        lambda: wrap_op(
            f"read tcp {ip()}:{R.randint(32768, 60999)}->{ip()}:443: read: connection reset by peer"
        )
    ],
)

# How many sightings each defect gets, by how many variant kinds it has; a few defects are seen once.
KINDS = ("values", "wrapper", "trace", "drift", "human", "multiline")


def build(defects: dict[str, dict[str, list[Fill]]] | None = None) -> list[dict[str, object]]:
    """The labelled stream of ``defects`` (default: :data:`DEFECTS`), in stream order."""
    events: list[tuple[float, str, str, str]] = []
    for name, variants in (DEFECTS if defects is None else defects).items():
        kinds = [k for k in KINDS if k in variants]
        n = R.randint(4, 11) if R.random() > 0.08 else 1
        start = R.random() * 0.7
        for i in range(n):
            # Multi-line events are split into their lines as often as they are sent whole.
            weights = [3 if k == "multiline" else 1 for k in kinds]
            kind = kinds[0] if i == 0 else R.choices(kinds, weights)[0]
            message = R.choice(variants[kind])()
            # First sightings spread over the stream; repeats follow them.
            at = start + (i / max(n - 1, 1)) * (1 - start) * R.uniform(0.5, 1.0) if i else start
            events.append((at, name, kind if i else "first", message))
    events.sort(key=lambda e: e[0])
    return [
        {"seq": i + 1, "defect": name, "kind": kind, "message": message}
        for i, (_, name, kind, message) in enumerate(events)
    ]


def main() -> None:
    rows = build()
    out = Path(__file__).with_name("ops.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages, {len({r['defect'] for r in rows})} defects -> {out}")


if __name__ == "__main__":
    main()
