#!/usr/bin/python3
"""Stand-in for Spilo's /scripts/configure_spilo.py (zalando/spilo postgres-appliance/scripts/configure_spilo.py).

What it reproduces, in Spilo's order and with Spilo's defaults (get_placeholders):
- the placeholders from the environment: SCOPE, PGUSER_/PGPASSWORD_ SUPERUSER, STANDBY and ADMIN, APIPORT, PGPORT,
  PGHOME/PGROOT/PGDATA, RW_DIR, ALLOW_NOSSL, HUMAN_ROLE, the instance's address and id (SPILO_PROVIDER=local:
  the container hostname and its address), shared_buffers (1/4 of the cgroup memory limit) and max_connections
  (one per 30 MB, 100..1000);
- Patroni's configuration from Spilo's TEMPLATE (bootstrap.dcs defaults, initdb, post_init, restapi, postgresql
  with pgpass, listen/connect addresses, data_dir, parameters incl. SSL, Spilo's pg_hba (hostssl md5, nossl
  rejected unless ALLOW_NOSSL), authentication, callbacks, create_replica_method basebackup_fast_xlog);
- the DCS from <DCS>_<PARAM> variables (ETCD3_HOSTS, ETCD_HOST, ...: get_dcs_config), and the user's
  SPILO_CONFIGURATION (or PATRONI_CONFIGURATION) merged OVER the template with Spilo's deep_update (the user's
  dicts win key by key, the user's lists and scalars win whole);
- the self-signed server certificate when no SSL_CERTIFICATE/SSL_PRIVATE_KEY is given (write_certificates).

What it does NOT reproduce (printed at start): WAL-G/WAL-E (archive_command is /bin/true here even when
WAL_S3_BUCKET/WALG_S3_PREFIX are set; no wal_e replica method, no restore_command, no backups, no
BACKUP_SCHEDULE cron), the standby-cluster and clone sections (STANDBY_*, CLONE_*), pgbouncer, pgqd, pam-oauth2,
log shipping, Spilo's extensions (bg_mon, pgextwlist, pg_auth_mon, set_user, pg_cron, timescaledb:
shared_preload_libraries is pg_stat_statements only), the AWS/GCE/Kubernetes providers, and PGVERSION: this image
has PostgreSQL 15 only (Debian 12), whatever PGVERSION asks.
"""
import os
import pwd
import socket
import subprocess
import sys

import yaml

MEMORY_LIMIT_IN_BYTES_PATH = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
PATRONI_DCS = ("zookeeper", "exhibitor", "consul", "etcd3", "etcd")
AUTO_ENABLE_WALG_RESTORE = ("WAL_S3_BUCKET", "WALE_S3_PREFIX", "WALG_S3_PREFIX", "WALG_AZ_PREFIX")


def log(msg):
    print(f"configure_spilo (stand-in): {msg}", file=sys.stderr, flush=True)


def deep_update(a, b):
    """Spilo's deep_update: dicts merged recursively; otherwise a wins (lists too), unless a is None."""
    if type(a) is dict and type(b) is dict:
        for key in b:
            a[key] = deep_update(a[key], b[key]) if key in a else b[key]
        return a
    if type(a) is list and type(b) is list:
        return a
    return a if a is not None else b


def placeholders_from_env():
    p = dict(os.environ)
    p.setdefault("PGHOME", os.path.expanduser("~"))
    p.setdefault("APIPORT", "8008")
    p.setdefault("PGROOT", os.path.join(p["PGHOME"], "pgroot"))
    p.setdefault("PGDATA", os.path.join(p["PGROOT"], "pgdata"))
    p.setdefault("HUMAN_ROLE", "zalandos")
    p.setdefault("PGUSER_STANDBY", "standby")
    p.setdefault("PGPASSWORD_STANDBY", "standby")
    p.setdefault("USE_ADMIN", "PGPASSWORD_ADMIN" in p)
    p.setdefault("PGUSER_ADMIN", "admin")
    p.setdefault("PGPASSWORD_ADMIN", "cola")
    p.setdefault("PGUSER_SUPERUSER", "postgres")
    p.setdefault("PGPASSWORD_SUPERUSER", "zalando")
    p.setdefault("ALLOW_NOSSL", "")
    p.setdefault("PGPORT", "5432")
    p.setdefault("SCOPE", "dummy")
    p.setdefault("RW_DIR", "/run")
    p.setdefault("SSL_CERTIFICATE_FILE", os.path.join(p["RW_DIR"], "certs", "server.crt"))
    p.setdefault("SSL_PRIVATE_KEY_FILE", os.path.join(p["RW_DIR"], "certs", "server.key"))
    p["USE_WALE"] = any(p.get(n) for n in AUTO_ENABLE_WALG_RESTORE)
    provider = p.get("SPILO_PROVIDER", "local")
    if provider != "local":
        log(f"SPILO_PROVIDER={provider}: only 'local' is reproduced (no instance metadata, no AWS callback)")
    # get_instance_metadata(local): the address of the container's hostname, the hostname as the id.
    hostname = socket.gethostname()
    p["instance_ip"] = socket.getaddrinfo(hostname, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0)[0][4][0]
    p["instance_id"] = hostname
    mem_mb = float(sys.maxsize)
    if os.path.exists(MEMORY_LIMIT_IN_BYTES_PATH):
        with open(MEMORY_LIMIT_IN_BYTES_PATH) as f:
            mem_mb = int(f.read()) / 1048576
    mem_mb = min(mem_mb, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1048576)
    p["shared_buffers"] = "{}MB".format(int(mem_mb / 4))
    p["max_connections"] = min(max(100, int(mem_mb / 30)), 1000)
    return p


def template(p):
    hba = ["local   all             all                                   trust",
           "host    all             all                127.0.0.1/32       md5",
           "host    all             all                ::1/128            md5",
           f"hostssl replication     {p['PGUSER_STANDBY']} all                md5"]
    if not p["ALLOW_NOSSL"]:
        hba.append("hostnossl all           all                all                reject")
        hba.append("hostssl all             all                all                md5")
    else:
        hba.append("host    all             all                all                md5")
    cfg = {
        "bootstrap": {
            "post_init": f"/scripts/post_init.sh \"{p['HUMAN_ROLE']}\"",
            "dcs": {
                "ttl": 30, "loop_wait": 10, "retry_timeout": 10, "maximum_lag_on_failover": 33554432,
                "postgresql": {
                    "use_pg_rewind": True, "use_slots": True,
                    "parameters": {
                        "archive_mode": "on", "archive_timeout": "1800s", "wal_level": "hot_standby",
                        "wal_log_hints": "on", "max_wal_senders": 10, "max_connections": p["max_connections"],
                        "max_replication_slots": 10, "hot_standby": "on", "tcp_keepalives_idle": 900,
                        "tcp_keepalives_interval": 100, "log_line_prefix": "%t [%p]: [%l-1] %c %x %d %u %a %h ",
                        "log_checkpoints": "on", "log_lock_waits": "on", "log_min_duration_statement": 500,
                        "log_autovacuum_min_duration": 0, "log_connections": "on", "log_disconnections": "on",
                        "log_statement": "ddl", "log_temp_files": 0, "track_functions": "all",
                        "checkpoint_completion_target": 0.9, "autovacuum_max_workers": 5,
                        "autovacuum_vacuum_scale_factor": 0.05, "autovacuum_analyze_scale_factor": 0.02,
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "en_US.UTF-8"}, "data-checksums"],
        },
        "scope": p["SCOPE"],
        "restapi": {"listen": f":{p['APIPORT']}", "connect_address": f"{p['instance_ip']}:{p['APIPORT']}"},
        "postgresql": {
            "pgpass": "/run/postgresql/pgpass",
            "use_unix_socket": True,
            "name": p["instance_id"],
            "listen": f"*:{p['PGPORT']}",
            "connect_address": f"{p['instance_ip']}:{p['PGPORT']}",
            "data_dir": p["PGDATA"],
            "parameters": {
                # Spilo: envdir "$WALE_ENV_DIR" wal-g wal-push "%p" when USE_WALE; not reproduced here.
                "archive_command": "/bin/true",
                "shared_buffers": p["shared_buffers"],
                "logging_collector": "on", "log_destination": "csvlog", "log_directory": "../pg_log",
                "log_filename": "postgresql-%u.log", "log_file_mode": "0644", "log_rotation_age": "1d",
                "log_truncate_on_rotation": "on", "ssl": "on",
                "ssl_cert_file": p["SSL_CERTIFICATE_FILE"], "ssl_key_file": p["SSL_PRIVATE_KEY_FILE"],
                "shared_preload_libraries": "pg_stat_statements",
                "pg_stat_statements.track_utility": "off",
            },
            "pg_hba": hba,
            "authentication": {
                "superuser": {"username": p["PGUSER_SUPERUSER"], "password": p["PGPASSWORD_SUPERUSER"]},
                "replication": {"username": p["PGUSER_STANDBY"], "password": p["PGPASSWORD_STANDBY"]},
            },
            "callbacks": {"on_role_change": f"/scripts/on_role_change.sh {p['HUMAN_ROLE']} true"},
            "create_replica_method": ["basebackup_fast_xlog"],
            "basebackup_fast_xlog": {"command": "/scripts/basebackup.sh", "retries": 2},
        },
    }
    if p["USE_ADMIN"]:
        # Spilo's template; Patroni 4 ignores bootstrap.users (post_init.sh applies it instead).
        cfg["bootstrap"]["users"] = {p["PGUSER_ADMIN"]: {"password": p["PGPASSWORD_ADMIN"], "options": ["createrole", "createdb"]}}
    return cfg


def dcs_config(p):
    """Spilo's get_dcs_config (non-Kubernetes): the first of PATRONI_DCS with <DCS>_<PARAM> variables."""
    found = {}
    for name, value in p.items():
        if "_" not in name or not isinstance(value, str):
            continue
        dcs, param = name.lower().split("_", 1)
        if dcs in PATRONI_DCS:
            if param == "hosts":
                if not (value.strip().startswith("-") or "[" in value):
                    value = "[{0}]".format(value)
                value = yaml.safe_load(value)
            found.setdefault(dcs, {})[param] = value
    for dcs in PATRONI_DCS:
        if dcs in found:
            return {dcs: found[dcs]}
    return {}


STANDBY_S3_NAMES = ("WALE_S3_PREFIX", "WALG_S3_PREFIX", "AWS_REGION", "WALG_S3_SSE_KMS_ID", "WALG_S3_SSE")


def write_standby_env(p):
    """Spilo's write_wale_environment(placeholders, 'STANDBY_', ...) in part: the envdir a standby cluster's
    restore_command reads ($RW_DIR/etc/wal-e.d/env-standby: the STANDBY_-prefixed S3 settings without the prefix, and
    USE_WALG when STANDBY_USE_WALG_RESTORE is set). The plan's standby_cluster.restore_command runs
    `envdir <that dir> ... /scripts/restore_command.sh`, so the directory must exist; what WAL-G would do with it is not
    reproduced (see /scripts/restore_command.sh)."""
    if not (p.get("STANDBY_WALE_S3_PREFIX") or p.get("STANDBY_WALG_S3_PREFIX")):
        return
    d = os.path.join(p["RW_DIR"], "etc", "wal-e.d", "env-standby")
    os.makedirs(d, exist_ok=True)
    for name in STANDBY_S3_NAMES:
        if p.get("STANDBY_" + name):
            with open(os.path.join(d, name), "w") as f:
                f.write(p["STANDBY_" + name])
    if str(p.get("STANDBY_USE_WALG_RESTORE", "")).lower() == "true":
        with open(os.path.join(d, "USE_WALG"), "w") as f:
            f.write("true")


def write_certificates(p):
    if os.environ.get("SSL_CERTIFICATE") and os.environ.get("SSL_PRIVATE_KEY"):
        for k in ("SSL_CERTIFICATE", "SSL_PRIVATE_KEY"):
            with open(p[k + "_FILE"], "w") as f:
                f.write(os.environ[k])
    elif not os.path.exists(p["SSL_PRIVATE_KEY_FILE"]):
        subprocess.run(["/usr/bin/openssl", "req", "-nodes", "-new", "-x509", "-subj", "/CN=spilo.dummy.org",
                        "-keyout", p["SSL_PRIVATE_KEY_FILE"], "-out", p["SSL_CERTIFICATE_FILE"]],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uid = pwd.getpwnam("postgres").pw_uid
    os.chmod(p["SSL_PRIVATE_KEY_FILE"], 0o600)
    os.chown(p["SSL_PRIVATE_KEY_FILE"], uid, -1)


def main():
    p = placeholders_from_env()
    asked = p.get("PGVERSION")
    have = p.get("SPILO_STANDIN_PGVERSION", "15")
    if asked and asked != have:
        log(f"PGVERSION={asked} asked; this stand-in has PostgreSQL {have} only (Debian 12): running {have}")
    if p["USE_WALE"]:
        log("WAL-G/WAL-E are not reproduced: archive_command is /bin/true, no backups, no restore_command")
    for name in ("STANDBY_HOST", "STANDBY_WALE_S3_PREFIX", "STANDBY_WALG_S3_PREFIX", "CLONE_METHOD"):
        if p.get(name):
            log(f"{name} is set: the standby-cluster/clone sections of Spilo are not reproduced")
    write_standby_env(p)
    config = template(p)
    config.update(dcs_config(p))
    user_text = os.environ.get("SPILO_CONFIGURATION", os.environ.get("PATRONI_CONFIGURATION", ""))
    user = yaml.safe_load(user_text) if user_text else {}
    config = deep_update(user or {}, config)
    os.makedirs(os.path.join(p["RW_DIR"], "postgresql"), exist_ok=True)
    os.makedirs(os.path.join(p["RW_DIR"], "certs"), exist_ok=True)
    write_certificates(p)
    target = os.path.join(p["RW_DIR"], "postgres.yml")
    with open(target, "w") as f:
        yaml.safe_dump(config, f, default_flow_style=False)
    pw = pwd.getpwnam("postgres")
    os.chown(target, pw.pw_uid, pw.pw_gid)
    os.chmod(target, 0o600)
    os.chown(os.path.join(p["RW_DIR"], "postgresql"), pw.pw_uid, pw.pw_gid)
    log(f"wrote {target} (scope {config.get('scope')}, member {config['postgresql'].get('name')}, DCS {[k for k in PATRONI_DCS if k in config]})")


if __name__ == "__main__":
    main()
