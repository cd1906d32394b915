/**
 * What every pinned image is, read from its upstream Dockerfile and start scripts (never guessed): the user its
 * process runs as, its entrypoint and command, the paths this program mounts into it, the environment it reads,
 * and whether it has a shell for our rendered start scripts. Pure data.
 *
 * Used by: the components (secret and config owners come from here, so a mount always matches its image's user),
 * test/images.test.ts (every secret and config mount of both stacks is readable by the process that reads it, every
 * mounted path and environment variable is listed here), and the Swarm test tier, which builds stand-in images
 * that keep each image's user, entrypoint and paths.
 *
 * Each `sources` entry is the upstream file the facts were read from (repository, path, and the commit of the stored
 * copy that was read). Where the stored copy is not the pinned tag, `notes` says what differs and why the facts hold.
 */

/** A Unix user inside an image. */
export interface ImageUser {
    readonly name: string;
    readonly uid: number;
    readonly gid: number;
}

/** A path of the image the program mounts into or relies on. */
export interface ImagePath {
    readonly path: string;
    /** volume: a named volume's target; config/secret: a Swarm config/secret file; bind: a host path. */
    readonly kind: "volume" | "config" | "secret" | "bind";
    /** Owner of the path as the image ships it (for volumes: what a new named volume copies). */
    readonly owner?: ImageUser;
    readonly what: string;
}

/** An upstream file the facts were read from. */
export interface ImageSource {
    readonly repo: string;
    readonly path: string;
    readonly commit?: string;
}

/** One pinned image. */
export interface ImageFacts {
    /** The config key that pins it (config/keys.ts). */
    readonly key: string;
    /** The reference this table was checked against: the key's default. */
    readonly image: string;
    /** USER of the image: who the entrypoint runs as when the service sets no `user`. */
    readonly user: ImageUser;
    /**
     * Who reads the mounted secret and config files, when not `user` (a service's own `user` overrides both). For
     * Spilo the files are read by our entrypoint before Spilo drops to `postgres`.
     */
    readonly readsFilesAs?: ImageUser;
    /** Other accounts of the image's /etc/passwd that a service runs as (its `user`), with their primary group. */
    readonly accounts?: readonly ImageUser[];
    readonly entrypoint: readonly string[];
    readonly cmd: readonly string[];
    readonly workdir?: string;
    /**
     * The executable the service's container health check runs, present in this image (see notes/sources): the
     * Swarm stand-in images mirror it so a check that passes there runs here too.
     */
    readonly healthTool?: string;
    /** /bin/sh exists (our rendered start scripts run under it). */
    readonly shell: boolean;
    readonly paths: readonly ImagePath[];
    /** Environment variables the image's programs, or our start scripts in it, read. */
    readonly env: readonly string[];
    readonly sources: readonly ImageSource[];
    readonly notes?: string;
}

export const ROOT: ImageUser = { name: "root", uid: 0, gid: 0 };
/** `nobody` of the busybox/distroless bases of the Prometheus images. */
export const NOBODY: ImageUser = { name: "nobody", uid: 65534, gid: 65534 };
/** The official redis image's `redis` user: `addgroup -S -g 1000 redis; adduser -S -G redis -u 999 redis`. */
export const REDIS_USER: ImageUser = { name: "redis", uid: 999, gid: 1000 };
/** redis_exporter's `USER 59000:59000` (no passwd entry). */
export const REDIS_EXPORTER_USER: ImageUser = { name: "59000", uid: 59000, gid: 59000 };
/** haproxy's `groupadd --gid 99 haproxy; useradd --uid 99 haproxy`. */
export const HAPROXY_USER: ImageUser = { name: "haproxy", uid: 99, gid: 99 };

export const IMAGES: readonly ImageFacts[] = [
    {
        key: "spiloImage",
        healthTool: "curl",
        image: "ghcr.io/zalando/spilo-17:4.0-p2",
        user: ROOT,
        readsFilesAs: ROOT,
        entrypoint: [],
        cmd: ["/bin/sh", "/launch.sh", "init"],
        workdir: "/home/postgres",
        shell: true,
        paths: [
            { path: "/home/postgres/pgdata", kind: "volume", owner: ROOT, what: "PGROOT's parent; launch.sh chowns $PGROOT to postgres" },
            { path: "/etc/ops-center/spilo-entrypoint.sh", kind: "config", what: "our entrypoint: exports the password variables from the secret files, then execs /launch.sh" },
            { path: "/run/secrets/pg_superuser_password", kind: "secret", what: "PGPASSWORD_SUPERUSER" },
            { path: "/run/secrets/pg_replication_password", kind: "secret", what: "PGPASSWORD_STANDBY" },
            { path: "/run/secrets/pg_app_password", kind: "secret", what: "the application role's password; the entrypoint copies it to /run/ops-center for the post-init (postgres user)" },
            { path: "/run/secrets/pg_monitor_password", kind: "secret", what: "the monitoring role's password; copied like pg_app_password" },
            { path: "/etc/ops-center/post-init.sh", kind: "config", what: "Patroni's bootstrap.post_init: runs Spilo's /scripts/post_init.sh, then roles.sql (renderers/postgresRoles.ts)" },
            { path: "/etc/ops-center/roles.sql", kind: "config", what: "idempotent application and monitoring roles (psql \\getenv for the passwords)" },
            { path: "/ops-fence", kind: "volume", owner: ROOT, what: "this host's region fence records, read-only: the start gate reads them (renderers/fence.ts; fence-sync writes them as root, umask 022)" },
        ],
        env: [
            "AWS_REGION", "BACKUP_NUM_TO_RETAIN", "BACKUP_SCHEDULE", "PGUSER_ADMIN", "PGUSER_STANDBY", "PGUSER_SUPERUSER", "PGVERSION", "SCOPE",
            "SPILO_CONFIGURATION", "SPILO_PROVIDER", "STANDBY_AWS_REGION", "STANDBY_USE_WALG_RESTORE", "STANDBY_WALE_S3_PREFIX", "STANDBY_WALG_S3_PREFIX",
            "USE_WALG_BACKUP", "USE_WALG_RESTORE", "WALE_S3_PREFIX", "WALG_S3_PREFIX", "WALG_S3_SSE", "WALG_S3_SSE_KMS_ID", "WAL_S3_BUCKET",
            "PGPASSWORD_SUPERUSER", "PGPASSWORD_STANDBY", "PGPASSWORD_ADMIN",
        ],
        sources: [
            { repo: "zalando/spilo", path: "postgres-appliance/Dockerfile", commit: "e73a4126c797364b3740eeca1123abc24f80a488" },
            { repo: "zalando/spilo", path: "postgres-appliance/launch.sh", commit: "00f4dd856659a9db13da1d2c8d695a35f2604b43" },
            { repo: "zalando/spilo", path: "ENVIRONMENT.rst" },
        ],
        notes:
            "No USER: /launch.sh starts as root (dumb-init), chowns $PGROOT to postgres, runs configure_spilo.py and runsvdir; Patroni and Postgres run as the postgres user the Ubuntu postgresql-common package creates (uid not fixed by the Dockerfile). PGHOME=/home/postgres, PGDATA=$PGHOME/pgdata/pgroot/data. Spilo 17 4.0 ships Patroni 4.0.4 (PATRONIVERSION).",
    },
    {
        key: "etcdImage",
        healthTool: "etcdctl",
        image: "registry.k8s.io/etcd:3.5.16-0",
        user: ROOT,
        entrypoint: [],
        cmd: [],
        workdir: "/",
        shell: true,
        paths: [
            { path: "/etcd-data", kind: "volume", owner: ROOT, what: "--data-dir (not in the image: a new volume is root-owned, and etcd runs as root)" },
            { path: "/etc/ops-center/etcd-entrypoint.sh", kind: "config", what: "our entrypoint (renderers/etcd.ts renderEtcdEntrypoint): rejoins an empty member through the live ones, then execs etcd" },
        ],
        env: [],
        sources: [
            { repo: "kubernetes/kubernetes", path: "cluster/images/etcd/Dockerfile", commit: "147581efd2a5c78d2d0b56e98ba68a9f82287da7" },
            { repo: "kubernetes/kubernetes", path: "cluster/images/etcd/Makefile", commit: "003187fd5a0803eb25f984e07a5c7c47a5621c1d" },
        ],
        notes:
            "Kubernetes' etcd image (tag <etcd version>-<revision>): RUNNERIMAGE gcr.io/distroless/static:latest (no USER: root), plus bash-static copied to /bin/sh, so our POSIX sh entrypoint runs (builtins only: no coreutils but cp). etcd and etcdctl (official release binaries) in /usr/local/bin, on PATH; no etcdutl. WORKDIR /, no ENTRYPOINT or CMD. Chosen over quay.io/coreos/etcd (distroless, no shell) for the rejoin entrypoint.",
    },
    {
        key: "haproxyImage",
        healthTool: "bash",
        image: "haproxy:2.8.11",
        user: HAPROXY_USER,
        entrypoint: ["docker-entrypoint.sh"],
        cmd: ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"],
        workdir: "/var/lib/haproxy",
        shell: true,
        paths: [{ path: "/usr/local/etc/haproxy/haproxy.cfg", kind: "config", what: "the Patroni leader router's configuration" }],
        env: [],
        sources: [{ repo: "docker-library/haproxy", path: "2.8/Dockerfile", commit: "01b3b0d48c75a815148d46ae86b409507e232e1c" }],
        notes: "debian:bookworm-slim base; USER haproxy (99:99); STOPSIGNAL SIGUSR1 (graceful stop). Binds only ports above 1024 (5000, 5001, 8404).",
    },
    {
        key: "redisImage",
        healthTool: "redis-cli",
        image: "redis:7.2.6-alpine",
        user: ROOT,
        accounts: [REDIS_USER],
        entrypoint: ["docker-entrypoint.sh"],
        cmd: ["redis-server"],
        workdir: "/data",
        shell: true,
        paths: [
            { path: "/data", kind: "volume", owner: REDIS_USER, what: "dir: AOF/RDB and the writable redis.conf/sentinel.conf copies" },
            { path: "/usr/local/etc/redis/redis.conf", kind: "config", what: "rendered redis.conf (copied to /data at start)" },
            { path: "/usr/local/etc/redis/sentinel.conf", kind: "config", what: "rendered sentinel.conf (copied to /data at start)" },
            { path: "/usr/local/bin/ops-redis-start.sh", kind: "config", what: "our start script: appends requirepass/masterauth from the secret, execs redis-server" },
            { path: "/usr/local/bin/ops-sentinel-start.sh", kind: "config", what: "our start script: appends sentinel auth-pass from the secret, execs redis-sentinel" },
            { path: "/ops-fence", kind: "volume", owner: ROOT, what: "this host's region fence records, read-only: the start gate reads them (renderers/fence.ts; fence-sync writes them as root, umask 022)" },
            { path: "/run/secrets/redis_password", kind: "secret", what: "the shared Redis password" },
        ],
        env: [],
        sources: [{ repo: "docker-library/repo-info", path: "repos/redis/remote/7.2-alpine.md (image history: addgroup -S -g 1000 redis && adduser -S -G redis -u 999 redis)" }],
        notes:
            "No USER: docker-entrypoint.sh chowns /data and drops to redis (999:1000) with su-exec. We replace the entrypoint with our start script and set the service's user to 999, so every file is read as uid 999 (gid 1000 from /etc/passwd).",
    },
    {
        key: "redisExporterImage",
        healthTool: "wget",
        image: "oliver006/redis_exporter:v1.66.0-alpine",
        user: REDIS_EXPORTER_USER,
        entrypoint: ["/redis_exporter"],
        cmd: [],
        shell: true,
        paths: [
            { path: "/usr/local/bin/ops-redis-exporter-start.sh", kind: "config", what: "our start script: exports REDIS_PASSWORD from the secret, execs /redis_exporter" },
            { path: "/run/secrets/redis_password", kind: "secret", what: "REDIS_PASSWORD (the exporter reads the password only from its environment or flags)" },
        ],
        env: ["REDIS_PASSWORD"],
        sources: [{ repo: "oliver006/redis_exporter", path: "docker/Dockerfile", commit: "074cbf1dcb1251c1e9051ee42867663f84d81af5" }],
        notes: "The -alpine target: alpine base (has /bin/sh), USER 59000:59000, ENTRYPOINT /redis_exporter. A secret owned by root with mode 0400 is unreadable to it.",
    },
    {
        key: "postgresExporterImage",
        healthTool: "wget",
        image: "quay.io/prometheuscommunity/postgres-exporter:v0.16.0",
        user: NOBODY,
        entrypoint: ["/bin/postgres_exporter"],
        cmd: [],
        shell: true,
        paths: [{ path: "/run/secrets/pg_password", kind: "secret", what: "DATA_SOURCE_PASS_FILE" }],
        env: ["DATA_SOURCE_URI", "DATA_SOURCE_USER", "DATA_SOURCE_PASS_FILE"],
        sources: [{ repo: "prometheus-community/postgres_exporter", path: "Dockerfile", commit: "0421dd126a70138664ba3f0a9d2a322b99aabe2d" }],
        notes: "USER nobody (65534). The stored copy builds FROM scratch; releases are built by promu on quay.io/prometheus/busybox (shell present), with the same USER and ENTRYPOINT.",
    },
    {
        key: "blackboxExporterImage",
        healthTool: "wget",
        image: "prom/blackbox-exporter:v0.25.0",
        user: ROOT,
        entrypoint: ["/bin/blackbox_exporter"],
        cmd: ["--config.file=/etc/blackbox_exporter/config.yml"],
        shell: true,
        paths: [{ path: "/etc/blackbox_exporter/config.yml", kind: "config", what: "the edge VIP probe module" }],
        env: [],
        sources: [{ repo: "prometheus/blackbox_exporter", path: "Dockerfile", commit: "02c5a07513faa0f4cf952543f527c894ba403abf" }],
        notes:
            "busybox base. v0.25.0 has no USER line (root); the stored later copy adds `adduser -S -u 6170 -G root blackbox_exporter; USER blackbox_exporter`. Its only mounted file is a 0444 config, readable either way.",
    },
    {
        key: "nodeExporterImage",
        healthTool: "wget",
        image: "prom/node-exporter:v1.8.2",
        user: NOBODY,
        entrypoint: ["/bin/node_exporter"],
        cmd: [],
        shell: true,
        paths: [{ path: "/host", kind: "bind", what: "the host's / read-only (rslave), --path.rootfs: file systems and their free space as the host sees them" }],
        env: [],
        sources: [{ repo: "prometheus/node_exporter", path: "Dockerfile", commit: "0c561fa1c9f10840f093cb193d04b6f988bc66fe" }],
        notes:
            "FROM quay.io/prometheus/busybox-linux-amd64:glibc (busybox: sh and wget), COPY node_exporter /bin/node_exporter, EXPOSE 9100, USER nobody, " +
            "ENTRYPOINT [\"/bin/node_exporter\"]. Upstream's README runs it with --net=host --pid=host; a Swarm service has neither, so it reads the host's " +
            "file systems through the /host bind (--path.rootfs) and memory from /proc/meminfo (not namespaced); its network metrics are the container's.",
    },
    {
        key: "awsCliImage",
        healthTool: "sh",
        image: "amazon/aws-cli:2.22.10",
        user: ROOT,
        entrypoint: ["/usr/local/bin/aws"],
        cmd: [],
        workdir: "/aws",
        shell: true,
        paths: [
            { path: "/usr/local/bin/ops-redis-backup.sh", kind: "config", what: "our hourly RDB copy loop" },
            { path: "/redis-data", kind: "volume", owner: ROOT, what: "a replica's /data volume, read-only (not in the image)" },
            { path: "/usr/local/bin/ops-fence-sync.sh", kind: "config", what: "the fence-sync loop (renderers/fence.ts renderFenceSync): both regions' fence records to /ops-fence" },
            { path: "/ops-fence", kind: "volume", owner: ROOT, what: "this host's region fence records, written as root (umask 022) for the start gates" },
        ],
        env: [],
        sources: [{ repo: "aws/aws-cli", path: "docker/Dockerfile", commit: "1c30287ad058f4e687a9714c937cdd7d080e7dca" }],
        notes: "amazonlinux:2 base, no USER. Credentials come from the instance role (IMDS), not the environment.",
    },
    {
        key: "socketProxyImage",
        healthTool: "wget",
        image: "tecnativa/docker-socket-proxy:0.3.0",
        user: ROOT,
        entrypoint: ["docker-entrypoint.sh"],
        cmd: ["haproxy", "-f", "/tmp/haproxy.cfg"],
        shell: true,
        paths: [{ path: "/var/run/docker.sock", kind: "bind", what: "the manager's Docker socket, read-only" }],
        env: ["SERVICES", "TASKS", "NETWORKS", "NODES", "POST"],
        sources: [{ repo: "Tecnativa/docker-socket-proxy", path: "Dockerfile", commit: "03f5f7ec85f36cd70e29ce99910bfd55f43cd14e" }],
        notes: "haproxy alpine base with USER root (it must open the root-owned socket); the entrypoint renders /tmp/haproxy.cfg from the permission variables.",
    },
    {
        key: "traefikImage",
        healthTool: "traefik",
        image: "traefik:v3.6.24",
        user: ROOT,
        entrypoint: ["/entrypoint.sh"],
        cmd: ["traefik"],
        shell: true,
        paths: [
            { path: "/etc/traefik/traefik.yml", kind: "config", what: "static configuration (--configFile)" },
            { path: "/etc/traefik/dynamic.yml", kind: "config", what: "file provider: TLS options and the shared certificate" },
            { path: "/letsencrypt", kind: "volume", owner: ROOT, what: "per-node acme.json (not in the image)" },
            { path: "/run/secrets/tls_cert", kind: "secret", what: "tlsMode certificate: the certificate chain" },
            { path: "/run/secrets/tls_key", kind: "secret", what: "tlsMode certificate: the private key" },
        ],
        env: [],
        sources: [
            { repo: "traefik/traefik-library-image", path: "v3.6/alpine/Dockerfile", commit: "00f17bdb165d5fb028b3ca35232acbd9b1449af5" },
            { repo: "traefik/traefik-library-image", path: "version", commit: "00f17bdb165d5fb028b3ca35232acbd9b1449af5" },
        ],
        notes: "alpine base, no USER; /entrypoint.sh prepends `traefik` when the first argument is a flag. Route53 DNS-01 credentials come from the instance role.",
    },
    {
        key: "prometheusImage",
        healthTool: "wget",
        image: "prom/prometheus:v2.55.1",
        user: NOBODY,
        entrypoint: ["/bin/prometheus"],
        cmd: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        workdir: "/prometheus",
        shell: true,
        paths: [
            { path: "/prometheus", kind: "volume", owner: NOBODY, what: "TSDB (`chown -R nobody:nobody /etc/prometheus /prometheus`)" },
            { path: "/etc/prometheus/prometheus.yml", kind: "config", what: "scrape and alerting configuration" },
            { path: "/etc/prometheus/alerts.yml", kind: "config", what: "alert rules" },
        ],
        env: [],
        sources: [{ repo: "prometheus/prometheus", path: "Dockerfile (v2.x: WORKDIR /prometheus; RUN chown -R nobody:nobody /etc/prometheus /prometheus; USER nobody)" }],
        notes: "busybox base, USER nobody (65534).",
    },
    {
        key: "alertmanagerImage",
        healthTool: "wget",
        image: "prom/alertmanager:v0.27.0",
        user: NOBODY,
        entrypoint: ["/bin/alertmanager"],
        cmd: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        workdir: "/alertmanager",
        shell: true,
        paths: [
            { path: "/alertmanager", kind: "volume", owner: NOBODY, what: "silences and notification log" },
            { path: "/etc/alertmanager/alertmanager.yml", kind: "config", what: "routing and receivers" },
            { path: "/run/secrets/alert_webhook_url", kind: "secret", what: "webhook url_file" },
        ],
        env: [],
        sources: [{ repo: "prometheus/alertmanager", path: "Dockerfile", commit: "02a50dd3c158f23b1ca3a19c6c1e9fe94ca612b0" }],
        notes: "USER nobody (65534), /alertmanager chowned to nobody. v0.27.0 is built on quay.io/prometheus/busybox (shell present); the stored later copy uses a distroless base.",
    },
    {
        key: "frontendImage",
        healthTool: "curl",
        image: "kubeworkz/ops_center:frontend-1.4.2",
        user: ROOT,
        entrypoint: [],
        cmd: [],
        shell: true,
        paths: [],
        env: [],
        sources: [],
        notes:
            "No published Dockerfile found (searched kubeworkz/*, saashqdev/ops-center, Unicorn-Commander/Ops-Center-OSS). The design serves the SPA with nginx on port 80 and probes it with curl; it gets no secret or config from us.",
    },
    {
        key: "backendImage",
        healthTool: "curl",
        image: "kubeworkz/ops_center:backend-1.4.2",
        user: ROOT,
        entrypoint: [],
        cmd: ["uvicorn", "server:app", "--host", "0.0.0.0", "--port", "8084"],
        workdir: "/app",
        shell: true,
        paths: [
            { path: "/run/secrets/db_password", kind: "secret", what: "DATABASE_PASSWORD_FILE" },
            { path: "/run/secrets/redis_password", kind: "secret", what: "REDIS_PASSWORD_FILE" },
        ],
        env: [
            "GRACEFUL_SHUTDOWN_TIMEOUT", "DEPLOY_COLOR", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD_FILE", "DATABASE_CONNECT_OPTIONS",
            "REDIS_SENTINELS", "REDIS_MASTER_NAME", "REDIS_ADDRESS", "REDIS_READ_ONLY", "REDIS_PASSWORD_FILE",
        ],
        sources: [
            { repo: "Unicorn-Commander/Ops-Center-OSS", path: "Dockerfile", commit: "7e4784d7eeefebffb84bf0cf6b39ac58a97bc8be" },
            { repo: "saashqdev/ops-center", path: "Dockerfile", commit: "019df9a10c7392c8e2866068dc43cf65c9d90336" },
        ],
        notes:
            "The Ops-Center backend: python:3.10-slim, no USER (root), WORKDIR /app, curl installed, uvicorn on 8084. The environment names are this program's contract with the application (the design document names none besides GRACEFUL_SHUTDOWN_TIMEOUT).",
    },
];

/** The facts of the image pinned by `key`. */
export function imageFacts(key: string): ImageFacts {
    const f = IMAGES.find((i) => i.key === key);
    if (!f) throw new Error(`internal: no image facts for ${key} in lib/images.ts`);
    return f;
}

/** The facts of an image reference: the entry whose repository matches (the tag may differ from the table's). */
export function factsOfReference(reference: string): ImageFacts | undefined {
    const repo = (r: string) => r.replace(/@sha256:[0-9a-f]+$/, "").replace(/:[^/:]+$/, "");
    const exact = IMAGES.find((i) => i.image === reference);
    if (exact) return exact;
    const same = IMAGES.filter((i) => repo(i.image) === repo(reference));
    // frontend and backend share a repository: tell them apart by tag prefix.
    return same.length === 1 ? same[0] : same.find((i) => reference.split(":").pop()!.startsWith(i.image.split(":").pop()!.split("-")[0]));
}

/** Whether `user` can read a file owned by uid:gid with `mode` (root reads everything: CAP_DAC_OVERRIDE). */
export function canRead(user: { uid: number; gid: number }, file: { uid: number; gid: number; mode: number }): boolean {
    if (user.uid === 0) return true;
    if (file.uid === user.uid) return (file.mode & 0o400) !== 0;
    if (file.gid === user.gid) return (file.mode & 0o040) !== 0;
    return (file.mode & 0o004) !== 0;
}
