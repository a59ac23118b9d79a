"""Build ``holdout.jsonl``: a second labelled stream, written after the matcher's rules were set.

Other software than ``ops.jsonl`` (Elasticsearch, RabbitMQ, MongoDB, etcd, Docker/containerd,
CoreDNS, Envoy, cert-manager, Rails, .NET, PHP, Cassandra, ZooKeeper, Terraform, Azure SDK, Vault,
the kernel's hung-task and NFS messages), same labelling policy (README.md). Nothing in the
matcher was changed after measuring on it: it is the check against tuning to ``ops.jsonl``.

    python benchmarks/data/ops/build_holdout.py  # rewrites holdout.jsonl next to this file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_corpus as c

R = c.R
ip, pid, hx, pod, ts, syslog_ts, node = c.ip, c.pid, c.hx, c.pod, c.ts, c.syslog_ts, c.node
wrap_app, wrap_op = c.wrap_app, c.wrap_op
HOLDOUT: dict[str, dict[str, list[c.Fill]]] = {}


def defect(name: str, **variants: list[c.Fill]) -> None:
    HOLDOUT[name] = variants


defect(
    "es-disk-watermark",
    values=[
        lambda: (
            f"flood stage disk watermark [95%] exceeded on [{hx(22)}][es-data-{R.randint(0, 5)}][/usr/share/elasticsearch/data/nodes/0] free: {R.randint(1, 9)}.{R.randint(0, 9)}gb[{R.uniform(1, 4.9):.1f}%], all indices on this node will be marked read-only"
        ),
    ],
    wrapper=[
        lambda: (
            f"[{ts()}][WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-data-{R.randint(0, 5)}] flood stage disk watermark [95%] exceeded on [{hx(22)}][es-data-2][/usr/share/elasticsearch/data/nodes/0] free: 1.2gb[2.1%], all indices on this node will be marked read-only"
        ),
    ],
)
defect(
    "es-index-readonly",
    values=[
        lambda: (
            f"index [{R.choice(['logs-2024.05.01', 'orders'])}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"
        ),
    ],
    wrapper=[
        lambda: (
            "elasticsearch.exceptions.AuthorizationException: AuthorizationException(403, 'cluster_block_exception', 'index [orders] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];')"
        ),
    ],
)
defect(
    "es-circuit-breaker",
    values=[
        lambda: (
            f"[parent] Data too large, data for [<http_request>] would be [{R.randint(10**9, 4 * 10**9)}/{R.randint(1, 3)}.{R.randint(0, 9)}gb], which is larger than the limit of [{R.randint(10**9, 4 * 10**9)}/2.9gb], real usage: [{R.randint(10**9, 4 * 10**9)}/2.9gb], new bytes reserved: [{R.randint(100, 9000)}/{R.randint(1, 9)}kb]"
        ),
    ],
)
defect(
    "rabbit-memory-alarm",
    values=[lambda: f"memory resource limit alarm set on node 'rabbit@rmq-{R.randint(0, 2)}'."],
    wrapper=[
        lambda: (
            f"{ts()} [warning] <0.{R.randint(100, 999)}.0> memory resource limit alarm set on node 'rabbit@rmq-0'."
        ),
    ],
)
defect(
    "rabbit-conn-refused",
    values=[
        lambda: (
            f"pika.exceptions.AMQPConnectionError: Connection to {ip()}:5672 failed: [Errno 111] Connection refused"
        ),
        lambda: f"dial tcp {ip()}:5672: connect: connection refused",
    ],
)
defect(
    "mongo-timeout",
    values=[
        lambda: (
            f"pymongo.errors.ServerSelectionTimeoutError: mongo-{R.randint(0, 2)}.db:27017: timed out, Timeout: 30s, Topology Description: <TopologyDescription id: {hx(24)}, topology_type: ReplicaSetNoPrimary>"
        ),
    ],
    drift=[
        lambda: f"MongoServerSelectionError: connect ECONNREFUSED {ip()}:27017",
    ],
)
defect(
    "mongo-dup-key",
    values=[
        lambda: (
            f'E11000 duplicate key error collection: shop.users index: email_1 dup key: {{ email: "u{R.randint(1, 999)}@example.com" }}'
        ),
    ],
    wrapper=[
        lambda: (
            f'pymongo.errors.DuplicateKeyError: E11000 duplicate key error collection: shop.users index: email_1 dup key: {{ email: "u{R.randint(1, 999)}@example.com" }}'
        ),
    ],
)
defect(
    "etcd-slow-apply",
    values=[
        lambda: (
            f'apply request took too long, took: {R.randint(100, 900)}.{R.randint(0, 999)}ms, expected-duration: 100ms, prefix: read-only range , request: key:"/registry/pods/prod/" range_end:"/registry/pods/prod0"'
        ),
    ],
)
defect(
    "etcd-no-leader",
    values=[lambda: "etcdserver: no leader"],
    wrapper=[
        lambda: "Error from server: etcdserver: no leader",
        lambda: (
            f"{ts()} WARN rafthttp: health check for peer {hx(16)} could not connect: dial tcp {ip()}:2380: connect: connection refused"
        ),
    ],
)
defect(
    "docker-no-space",
    values=[
        lambda: (
            f"failed to register layer: write /var/lib/docker/overlay2/{hx(64)}/diff/usr/lib/libLLVM.so: no space left on device"
        ),
    ],
    wrapper=[
        lambda: (
            f"Error response from daemon: mkdir /var/lib/docker/overlay2/{hx(64)}-init: no space left on device"
        ),
    ],
)
defect(
    "containerd-sandbox",
    values=[
        lambda: (
            f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{hx(64)}": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: Unauthorized'
        ),
    ],
    wrapper=[
        lambda: (
            f'Warning  FailedCreatePodSandBox  {R.randint(1, 59)}s  kubelet  Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{hx(64)}": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized: Unauthorized'
        ),
    ],
)
defect(
    "coredns-timeout",
    values=[
        lambda: (
            f"[ERROR] plugin/errors: 2 {R.choice(['api.partner.example.', 'queue.internal.'])} A: read udp {ip()}:{R.randint(32768, 60999)}->{ip()}:53: i/o timeout"
        ),
    ],
)
defect(
    "envoy-upstream-reset",
    values=[
        lambda: (
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
        ),
    ],
    drift=[
        lambda: (
            "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: 111"
        ),
    ],
)
defect(
    "certmanager-challenge",
    values=[
        lambda: (
            'Error presenting challenge: error getting clouddns service account: secret "clouddns-dns01-solver-svc-acct" not found'
        ),
    ],
)
defect(
    "rails-record-not-found",
    trace=[
        lambda: (
            f"ActiveRecord::RecordNotFound (Couldn't find Order with 'id'={R.randint(1, 99999)}):\n"
            f"  app/controllers/orders_controller.rb:{R.randint(10, 30)}:in `show'"
        )
    ],
    values=[
        lambda: f"ActiveRecord::RecordNotFound: Couldn't find Order with 'id'={R.randint(1, 99999)}"
    ],
)
defect(
    "rails-pg-conn",
    values=[
        lambda: (
            f'ActiveRecord::ConnectionNotEstablished: connection to server at "{ip()}", port 5432 failed: Connection refused'
        ),
    ],
    wrapper=[
        lambda: (
            f'PG::ConnectionBad: connection to server at "{ip()}", port 5432 failed: Connection refused'
        ),
    ],
)
defect(
    "dotnet-nullref",
    trace=[
        lambda: (
            "System.NullReferenceException: Object reference not set to an instance of an object.\n"
            f"   at Shop.Api.Controllers.CartController.Add(CartItem item) in /src/Shop.Api/Controllers/CartController.cs:line {R.randint(30, 60)}\n"
            "   at lambda_method(Closure , Object , Object[] )"
        )
    ],
)
defect(
    "dotnet-sql-timeout",
    values=[
        lambda: (
            "Microsoft.Data.SqlClient.SqlException (0x80131904): Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding."
        ),
    ],
    wrapper=[
        lambda: wrap_app(
            "Microsoft.Data.SqlClient.SqlException (0x80131904): Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding."
        ),
    ],
)
defect(
    "php-memory",
    values=[
        lambda: (
            f"PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate {R.randint(4096, 10**7)} bytes) in /var/www/html/vendor/laravel/framework/src/Illuminate/Support/Collection.php on line {R.randint(100, 1999)}"
        ),
    ],
    wrapper=[
        lambda: (
            f'{R.choice(["2024/05/02 10:00:01", "2024/06/11 22:13:54"])} [error] 12#12: *{R.randint(1, 99999)} FastCGI sent in stderr: "PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes)'
        ),
    ],
)
defect(
    "cassandra-unavailable",
    values=[
        lambda: (
            f"com.datastax.oss.driver.api.core.servererrors.UnavailableException: Not enough replicas available for query at consistency QUORUM ({R.randint(2, 3)} required but only {R.randint(0, 1)} alive)"
        ),
    ],
    wrapper=[
        lambda: (
            f"cassandra.Unavailable: Error from server: code=1000 [Unavailable exception] message=\"Cannot achieve consistency level QUORUM\" info={{'consistency': 'QUORUM', 'required_replicas': 2, 'alive_replicas': {R.randint(0, 1)}}}"
        ),
    ],
)
defect(
    "zk-session-expired",
    values=[
        lambda: (
            f"org.apache.zookeeper.KeeperException$SessionExpiredException: KeeperErrorCode = Session expired for /brokers/ids/{R.randint(0, 5)}"
        ),
    ],
)
defect(
    "terraform-lock",
    values=[
        lambda: "Error: Error acquiring the state lock",
    ],
    wrapper=[
        lambda: (
            f"│ Error: Error acquiring the state lock\n│\n│ Error message: ConditionalCheckFailedException: The conditional request failed\n│ Lock Info:\n│   ID:        {hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)}"
        ),
    ],
)
defect(
    "azure-throttled",
    values=[
        lambda: (
            "azure.core.exceptions.HttpResponseError: (TooManyRequests) The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00. Code: TooManyRequests"
        ),
    ],
)
defect(
    "vault-sealed",
    values=[lambda: "Error making API request. Code: 503. Errors: * Vault is sealed"],
    drift=[lambda: 'Get "https://vault.internal:8200/v1/secret/data/app": Vault is sealed'],
)
defect(
    "kernel-hung-task",
    values=[
        lambda: (
            f"INFO: task {R.choice(['jbd2/sda1-8', 'kworker/u16:2'])}:{pid()} blocked for more than {R.choice([120, 241, 362])} seconds."
        ),
    ],
    wrapper=[
        lambda: (
            f"{syslog_ts()} {node()} kernel: [{R.randint(1000, 999999)}.{R.randint(0, 999999):06d}] INFO: task jbd2/sda1-8:{pid()} blocked for more than 120 seconds."
        ),
    ],
)
defect(
    "kernel-nfs",
    values=[lambda: f"nfs: server nfs-{R.randint(1, 2)}.internal not responding, still trying"],
    wrapper=[
        lambda: (
            f"{syslog_ts()} {node()} kernel: [{R.randint(1000, 999999)}.{R.randint(0, 999999):06d}] nfs: server nfs-1.internal not responding, still trying"
        ),
    ],
    drift=[lambda: f"nfs: server nfs-{R.randint(1, 2)}.internal not responding, timed out"],
)
defect(
    "kernel-nf-conntrack",
    values=[lambda: "nf_conntrack: nf_conntrack: table full, dropping packet"],
    drift=[lambda: "nf_conntrack: table full, dropping packet"],
)


def main() -> None:
    R.seed(1717)
    rows = c.build(HOLDOUT)
    out = Path(__file__).with_name("holdout.jsonl")
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} messages, {len({r['defect'] for r in rows})} defects -> {out}")


if __name__ == "__main__":
    main()
