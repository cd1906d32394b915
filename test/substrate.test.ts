/**
 * Mock-engine tests of the AWS substrate (network, security groups, Swarm hosts, IAM, Docker provider, WAL bucket)
 * and the cross-region ties (peering, replication, Route53 failover), over both stacks. Expected values are the
 * stack files' (checked by the first test).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { overlaps, parseCidr, type Cidr } from "../lib/cidr";
import { readStackConfig, type OfflinePlan, type RecordedResource } from "../offline/engine";
import { mockPrimaryOutputs } from "../offline/primaryFixture";
import { PRIMARY_OUTPUT_KEYS } from "../lib/stackRef";
import { byName, ofType, PLAN_TIMEOUT_MS, planStack, ROOT, STACKS, unwrap } from "./harness";

type Stack = (typeof STACKS)[number];
type HostRole = "edge" | "app" | "data";
const ROLES: readonly HostRole[] = ["edge", "app", "data"];
const ADMIN_CIDR = "198.51.100.0/24";
const PRIMARY_FQN = "acme/ops-center-ha/us-east-1";
const EXPECT = {
    "us-east-1": { role: "primary", vpcCidr: "10.10.0.0/16", peerCidr: "10.20.0.0/16", pools: { edge: 2, app: 3, data: 3 }, failover: "PRIMARY" },
    "us-west-2": { role: "standby", vpcCidr: "10.20.0.0/16", peerCidr: "10.10.0.0/16", pools: { edge: 1, app: 3, data: 3 }, failover: "SECONDARY" },
} as const;
const DATA_PORTS = [5432, 8008, 2379, 2380, 6379, 26379, 5000, 5001];
const REPLICATION_PORTS = [5000, 5432, 6379, 8008, 26379];
const GENERATED = /mock[0-9a-f]{16,}/;
/** What the standby's StackReference returns offline (offline/primaryFixture.ts). */
const PRIMARY_OUT = mockPrimaryOutputs(ROOT, PRIMARY_FQN);

const T = {
    vpc: "aws:ec2/vpc:Vpc", subnet: "aws:ec2/subnet:Subnet", igw: "aws:ec2/internetGateway:InternetGateway",
    nat: "aws:ec2/natGateway:NatGateway", rt: "aws:ec2/routeTable:RouteTable", route: "aws:ec2/route:Route",
    rta: "aws:ec2/routeTableAssociation:RouteTableAssociation", sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", instance: "aws:ec2/instance:Instance",
    eip: "aws:ec2/eip:Eip", profile: "aws:iam/instanceProfile:InstanceProfile", role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy", docker: "pulumi:providers:docker", awsProvider: "pulumi:providers:aws",
    bucket: "aws:s3/bucket:Bucket", kmsKey: "aws:kms/key:Key", stackRef: "pulumi:pulumi:StackReference",
    peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", accepter: "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig", healthCheck: "aws:route53/healthCheck:HealthCheck",
    record: "aws:route53/record:Record", alarm: "aws:cloudwatch/metricAlarm:MetricAlarm", topic: "aws:sns/topic:Topic",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;

/** A resource's inputs with secret markers removed (assertions look at values). */
const inp = (r: RecordedResource): Record<string, any> => unwrap(r.inputs) as Record<string, unknown>;
function cidr(text: string): Cidr {
    const c = parseCidr(text);
    assert.ok(c, `${text} is not a CIDR`);
    return c;
}
const inside = (inner: string, outer: string) => cidr(inner).prefix >= cidr(outer).prefix && overlaps(cidr(inner), cidr(outer));

interface Rule { name: string; sg: string; proto: string; from?: number; to?: number; cidr?: string; cidr6?: string; ref?: string }
/** Every SecurityGroupIngressRule, by the fields that decide who may reach what. */
const rules = (plan: OfflinePlan): Rule[] =>
    ofType(plan, T.ingress).map((r) => {
        const i = inp(r);
        return { name: r.name, sg: i.securityGroupId, proto: String(i.ipProtocol), from: i.fromPort, to: i.toPort, cidr: i.cidrIpv4, cidr6: i.cidrIpv6, ref: i.referencedSecurityGroupId };
    });
const PROTO: Record<string, string> = { "6": "tcp", "17": "udp", all: "-1" };
const norm = (p: string) => PROTO[p.toLowerCase()] ?? p.toLowerCase();
/** True when the rule admits `proto` (and `port`, for tcp/udp). */
const covers = (r: Rule, proto: string, port?: number): boolean =>
    norm(r.proto) === "-1" || (norm(r.proto) === norm(proto) && (port === undefined || r.from === undefined || r.to === undefined || (r.from <= port && port <= r.to)));
const worldOpen = (r: Rule) => r.cidr === "0.0.0.0/0" || r.cidr6 === "::/0";

const instances = (plan: OfflinePlan, role?: HostRole) => ofType(plan, T.instance).filter((r) => role === undefined || inp(r).tags?.role === role);
/** Security group id of each host role, as attached to that role's instances. */
function sgIds(plan: OfflinePlan): Record<HostRole, string> {
    const ids = ROLES.map((role) => [role, [...new Set(instances(plan, role).flatMap((r) => inp(r).vpcSecurityGroupIds as string[]))]] as const);
    for (const [role, list] of ids) assert.equal(list.length, 1, `${role} instances share one security group`);
    return Object.fromEntries(ids.map(([role, list]) => [role, list[0]])) as Record<HostRole, string>;
}

interface Statement { Effect: string; Action: string[]; Resource: unknown; Principal?: unknown }
function statements(policy: string): Statement[] {
    const doc = JSON.parse(policy) as { Statement: unknown };
    const list = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<string, unknown>[];
    return list.map((s) => ({ ...s, Action: ([] as string[]).concat((s.Action ?? []) as string | string[]) }) as Statement);
}

/**
 * The AWS region a resource is managed in: the region of the provider it was registered with (the mock engine's
 * `provider` argument, captured in a child process by wrapping OfflineMocks.newResource), else the stack's region.
 */
const providerCache = new Map<string, Record<string, string | null>>();
const PROVIDER_PROBE = `
const root = process.cwd();
const { OfflineMocks } = require(root + "/offline/mocks.ts");
const seen = {};
const orig = OfflineMocks.prototype.newResource;
OfflineMocks.prototype.newResource = function (a) { seen[a.type + "::" + a.name] = a.provider ?? null; return orig.call(this, a); };
const { runOffline } = require(root + "/offline/engine.ts");
const { mockPrimaryOutputs } = require(root + "/offline/primaryFixture.ts");
runOffline({ root, stack: process.argv[1], stackOutputs: (n) => mockPrimaryOutputs(root, n) }).then(
  () => process.stdout.write(JSON.stringify(seen), () => process.exit(0)),
  (e) => { process.stderr.write(String(e)); process.exit(3); });`;
function providerRegionOf(stack: Stack, r: RecordedResource): string | undefined {
    if (!providerCache.has(stack)) {
        const p = spawnSync(process.execPath, ["--import", "tsx", "-e", PROVIDER_PROBE, stack], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20, timeout: PLAN_TIMEOUT_MS });
        assert.equal(p.status, 0, p.stderr);
        providerCache.set(stack, JSON.parse(p.stdout) as Record<string, string | null>);
    }
    const seen = providerCache.get(stack)!;
    const ref = seen[`${r.type}::${r.name}`];
    if (!ref) return readStackConfig(ROOT, stack).values["aws:region"]; // the default provider: the stack's region
    const urn = ref.slice(0, ref.lastIndexOf("::"));
    const provider = planStack(stack).resources.find((x) => x.urn === urn);
    assert.ok(provider && provider.type === T.awsProvider, `${r.name} uses provider ${urn}, not an aws provider in the plan`);
    return inp(provider).region;
}

describe("substrate: stack files", () => {
    it("hold the values these tests expect (CIDRs, roles, pool sizes, admin CIDR, primary stack)", () => {
        for (const stack of STACKS) {
            const v = (k: string) => readStackConfig(ROOT, stack).values[`ops-center-ha:${k}`];
            const e = EXPECT[stack];
            assert.deepEqual([v("role"), v("vpcCidr"), v("peerVpcCidr"), v("adminCidr")], [e.role, e.vpcCidr, e.peerCidr, ADMIN_CIDR]);
            for (const role of ROLES) assert.equal(Number(v(`${role}Nodes`)), e.pools[role], `${stack} ${role}Nodes`);
        }
        assert.equal(readStackConfig(ROOT, "us-west-2").values["ops-center-ha:primaryStack"], PRIMARY_FQN);
    });
});

for (const stack of STACKS) {
    const e = EXPECT[stack];
    const plan = () => planStack(stack);

    describe(`substrate ${stack}: network`, () => {
        it("one VPC with the stack's CIDR, DNS support and hostnames on", () => {
            const vpcs = ofType(plan(), T.vpc).map(inp);
            assert.deepEqual(vpcs.map((v) => [v.cidrBlock, v.enableDnsSupport, v.enableDnsHostnames]), [[e.vpcCidr, true, true]]);
        });
        it("one public and one private subnet in each of 3 AZs, inside the VPC CIDR, none overlapping", () => {
            const subnets = ofType(plan(), T.subnet).map(inp);
            const pub = subnets.filter((s) => s.mapPublicIpOnLaunch === true);
            const priv = subnets.filter((s) => s.mapPublicIpOnLaunch === false);
            assert.deepEqual([subnets.length, pub.length, priv.length], [6, 3, 3]);
            const azs = [...new Set(subnets.map((s) => s.availabilityZone))].sort();
            assert.deepEqual(azs, [`${stack}a`, `${stack}b`, `${stack}c`]);
            for (const group of [pub, priv]) assert.deepEqual(group.map((s) => s.availabilityZone).sort(), azs);
            for (const s of subnets) assert.ok(inside(s.cidrBlock, e.vpcCidr), `${s.cidrBlock} is outside ${e.vpcCidr}`);
            subnets.forEach((a, i) => subnets.slice(i + 1).forEach((b) => assert.ok(!overlaps(cidr(a.cidrBlock), cidr(b.cidrBlock)), `${a.cidrBlock} overlaps ${b.cidrBlock}`)));
        });
        it("internet gateway, one NAT gateway per AZ in the public subnets, default routes, every subnet associated", () => {
            const p = plan();
            assert.equal(ofType(p, T.igw).length, 1);
            const nats = ofType(p, T.nat).map(inp);
            assert.equal(nats.length, 3);
            const publicIds = new Set(ofType(p, T.subnet).filter((s) => inp(s).mapPublicIpOnLaunch === true).map((s) => s.name));
            for (const n of nats) assert.ok([...publicIds].some((name) => String(n.subnetId).startsWith(`${name}-`)), `NAT in ${n.subnetId} is not in a public subnet`);
            assert.equal(ofType(p, T.rt).length, 4, "one public and three private route tables");
            const defaults = ofType(p, T.route).map(inp).filter((r) => r.destinationCidrBlock === "0.0.0.0/0");
            assert.equal(defaults.filter((r) => r.gatewayId).length, 1, "one default route via the IGW");
            assert.equal(new Set(defaults.filter((r) => r.natGatewayId).map((r) => r.natGatewayId)).size, 3, "three private default routes, one per NAT");
            const associated = new Set(ofType(p, T.rta).map((a) => inp(a).subnetId));
            assert.equal(associated.size, 6, "every subnet has a route table association");
        });
    });

    describe(`substrate ${stack}: security groups`, () => {
        it("rules are separate SecurityGroupIngressRule resources, each with exactly one source", () => {
            for (const g of ofType(plan(), T.sg)) assert.deepEqual([inp(g).ingress, inp(g).egress], [undefined, undefined], `${g.name} has inline rules`);
            assert.equal(ofType(plan(), "aws:ec2/securityGroupRule:SecurityGroupRule").length, 0);
            for (const r of rules(plan())) assert.equal([r.cidr, r.cidr6, r.ref].filter((x) => x !== undefined).length, 1, `${r.name} sources`);
        });
        it("only the edge SG is open to the internet, and only on tcp 80 and 443", () => {
            const ids = sgIds(plan());
            const open = rules(plan()).filter(worldOpen).map((r) => `${r.sg === ids.edge ? "edge" : r.sg} ${norm(r.proto)} ${r.from}-${r.to}`);
            assert.deepEqual(open.sort(), ["edge tcp 443-443", "edge tcp 80-80"]);
        });
        it(`SSH (22) only from the admin CIDR ${ADMIN_CIDR} (or the edge SG as jump host)`, () => {
            const ids = sgIds(plan());
            const ssh = rules(plan()).filter((r) => covers(r, "tcp", 22));
            assert.ok(ssh.some((r) => r.sg === ids.edge && r.cidr === ADMIN_CIDR), "edge SG admits SSH from the admin CIDR");
            for (const r of ssh) assert.ok(r.cidr === ADMIN_CIDR || r.ref === ids.edge, `${r.name} admits SSH from ${r.cidr ?? r.cidr6 ?? r.ref}`);
        });
        it("Swarm ports (2377/tcp, 7946/tcp+udp, 4789/udp, ESP) on every role's SG, only from inside the VPC", () => {
            const ids = sgIds(plan());
            const swarm: [string, number | undefined][] = [["tcp", 2377], ["tcp", 7946], ["udp", 7946], ["udp", 4789], ["50", undefined]];
            const all = rules(plan());
            for (const [proto, port] of swarm) {
                for (const role of ROLES) {
                    assert.ok(all.some((r) => r.sg === ids[role] && covers(r, proto, port) && r.cidr === e.vpcCidr), `${role} SG lacks ${proto}/${port ?? "all"} from the VPC`);
                }
                for (const r of all.filter((x) => covers(x, proto, port))) {
                    assert.ok(r.ref !== undefined || (r.cidr !== undefined && inside(r.cidr, e.vpcCidr)), `${r.name} admits ${proto}/${port ?? "all"} from ${r.cidr ?? r.cidr6}`);
                }
            }
        });
        it("no rule opens Postgres/Patroni/etcd/Redis/Sentinel/HAProxy ports to the internet; the data SG admits them from app/data SGs", () => {
            const ids = sgIds(plan());
            for (const r of rules(plan())) {
                for (const port of DATA_PORTS) {
                    if (!covers(r, "tcp", port)) continue;
                    assert.ok(!worldOpen(r), `${r.name} opens ${port} to the internet`);
                    // CIDR sources only across the peering: into this region's data SG from the peer VPC, or (standby
                    // only) into the primary's data SG from this VPC.
                    if (r.cidr !== undefined) assert.equal(r.cidr, r.sg === ids.data ? e.peerCidr : e.vpcCidr, `${r.name}: ${port} from ${r.cidr}`);
                    else assert.ok(r.ref === ids.app || r.ref === ids.data, `${r.name}: ${port} from ${r.ref}`);
                }
            }
            for (const port of DATA_PORTS) for (const peer of [ids.app, ids.data]) {
                assert.ok(rules(plan()).some((r) => r.sg === ids.data && r.ref === peer && covers(r, "tcp", port)), `data SG lacks ${port} from ${peer}`);
            }
        });
        it("VRRP (protocol 112) only between edge hosts", () => {
            const ids = sgIds(plan());
            const vrrp = rules(plan()).filter((r) => norm(r.proto) === "112" || norm(r.proto) === "-1");
            assert.deepEqual(vrrp.map((r) => [r.sg, r.ref, r.cidr]), [[ids.edge, ids.edge, undefined]]);
        });
    });

    describe(`substrate ${stack}: Swarm hosts`, () => {
        it(`instances by role: edge ${e.pools.edge}, app ${e.pools.app}, data ${e.pools.data}; edge public, others private; spread over distinct subnets and AZs`, () => {
            const p = plan();
            const subnetOf = (id: string) => ofType(p, T.subnet).find((s) => id.startsWith(`${s.name}-`));
            for (const role of ROLES) {
                const hosts = instances(p, role).map(inp);
                assert.equal(hosts.length, e.pools[role], `${role} count`);
                const subnets = hosts.map((h) => subnetOf(h.subnetId));
                for (const s of subnets) assert.equal(inp(s!).mapPublicIpOnLaunch, role === "edge", `${role} host subnet tier`);
                assert.equal(new Set(hosts.map((h) => h.subnetId)).size, Math.min(3, hosts.length), `${role} distinct subnets`);
                assert.equal(new Set(subnets.map((s) => inp(s!).availabilityZone)).size, Math.min(3, hosts.length), `${role} distinct AZs`);
            }
            assert.equal(instances(p).length, e.pools.edge + e.pools.app + e.pools.data);
        });
        it("every instance: IMDSv2 required, encrypted gp3 root volume, the instance profile of its role", () => {
            for (const r of instances(plan())) {
                const i = inp(r);
                assert.deepEqual([i.metadataOptions?.httpTokens, i.rootBlockDevice?.volumeType, i.rootBlockDevice?.encrypted], ["required", "gp3", true], r.name);
                const profile = byName(plan(), T.profile, `ops-hosts-${i.tags.role}`);
                assert.equal(i.iamInstanceProfile, profile.name, r.name);
                assert.equal(inp(profile).role, byName(plan(), T.role, `ops-hosts-${i.tags.role}`).name);
            }
        });
        it("exactly 3 Swarm managers, all app hosts, in 3 distinct AZs", () => {
            const managers = instances(plan()).map(inp).filter((i) => i.tags.swarm === "manager");
            assert.equal(managers.length, 3);
            assert.ok(managers.every((m) => m.tags.role === "app"));
            assert.equal(new Set(managers.map((m) => m.subnetId)).size, 3);
        });
        it(`user data holds no secret and joins through SSM parameters under /ops-center-ha/${stack}/swarm/`, () => {
            for (const r of instances(plan())) {
                const ud = String(inp(r).userData);
                assert.doesNotMatch(ud, GENERATED, `${r.name} user data has a generated password`);
                assert.doesNotMatch(ud, /SWMTKN-|BEGIN [A-Z ]*PRIVATE KEY|aws_secret_access_key/i, `${r.name} user data has a secret`);
                assert.ok(ud.includes(`PREFIX='/ops-center-ha/${stack}/swarm'`), `${r.name} SSM prefix`);
                assert.match(ud, /aws ssm get-parameter --name "\$PREFIX\//);
                for (const m of ud.match(/\/ops-center-ha\/[^/'"\s]+\//g) ?? []) assert.equal(m, `/ops-center-ha/${stack}/`, `${r.name} uses ${m}`);
            }
        });
        it("an Elastic IP for the edge VIP, taken by edge-0 at first boot, is the health check's address", () => {
            const p = plan();
            assert.equal(inp(byName(p, T.eip, "ops-hosts-edge-vip")).domain, "vpc");
            assert.equal(ofType(p, T.eip).length, 4, "3 NAT EIPs and the VIP");
            const alloc = (name: string) => /EIP_ALLOCATION='([^']*)'/.exec(String(inp(byName(p, T.instance, name)).userData))?.[1];
            assert.match(alloc("ops-hosts-edge-0") ?? "", /^eipalloc-/);
            if (e.pools.edge > 1) assert.equal(alloc("ops-hosts-edge-1"), "");
            assert.equal(inp(byName(p, T.healthCheck, "ops-dns-edge")).ipAddress, p.outputs.edgePublicIp);
        });
        it("IAM: only the edge role's policy allows ec2:AssociateAddress", () => {
            for (const role of ROLES) {
                const actions = statements(inp(byName(plan(), T.rolePolicy, `ops-hosts-${role}`)).policy).filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
                assert.equal(actions.includes("ec2:AssociateAddress"), role === "edge", `${role} role`);
            }
            for (const rp of ofType(plan(), T.rolePolicy).filter((r) => !r.name.startsWith("ops-hosts-"))) {
                assert.ok(!statements(inp(rp).policy).some((s) => s.Action.includes("ec2:AssociateAddress")), rp.name);
            }
        });
        it('IAM: no policy allows "*" (or "service:*") actions; host roles trust only ec2.amazonaws.com', () => {
            for (const rp of ofType(plan(), T.rolePolicy)) for (const s of statements(inp(rp).policy).filter((x) => x.Effect === "Allow")) {
                for (const a of s.Action) assert.ok(a !== "*" && !a.endsWith(":*"), `${rp.name} allows ${a}`);
            }
            for (const role of ROLES) {
                const trust = statements(inp(byName(plan(), T.role, `ops-hosts-${role}`)).assumeRolePolicy);
                assert.deepEqual(trust.map((s) => s.Principal), [{ Service: "ec2.amazonaws.com" }]);
            }
        });
        it("one Docker provider, talking to a manager over ssh:// by its instance id (the SSM session path)", () => {
            const hosts = ofType(plan(), T.docker).map((r) => inp(r).host);
            assert.deepEqual(hosts, [plan().outputs.dockerHost]);
            const id = /^ssh:\/\/admin@(i-[0-9a-f]{17})$/.exec(String(hosts[0]))?.[1];
            assert.ok(id, String(hosts[0]));
            const managers = ofType(plan(), "aws:ec2/instance:Instance").filter((r) => /-app-\d$/.test(r.name)).map((r) => r.id);
            assert.ok(managers.includes(id), `${id} is not a manager's instance id (${managers.join(", ")})`);
        });
    });

    describe(`substrate ${stack}: WAL bucket`, () => {
        // The WAL bucket's own resources; its access-log bucket's (`*-access-logs*`) are tested in walAccessLog.test.ts.
        const wal = (type: string) => ofType(plan(), type).filter((r) => !r.name.includes("-access-logs"));
        const one = (type: string) => (assert.equal(wal(type).length, 1, `one ${type}`), inp(wal(type)[0]));
        const bucketId = () => String(one("aws:s3/bucketVersioning:BucketVersioning").bucket);
        it("versioning Enabled", () => {
            assert.equal(one("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration.status, "Enabled");
        });
        it("SSE aws:kms with this region's customer key, key rotation on", () => {
            const sse = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
            assert.equal(sse.bucket, bucketId());
            assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
            assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, plan().outputs.walKmsKeyArn);
            assert.match(String(plan().outputs.walKmsKeyArn), new RegExp(`^arn:aws:kms:${stack}:`));
            assert.equal(one(T.kmsKey).enableKeyRotation, true);
        });
        it("public access block: all four settings true", () => {
            const b = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
            assert.equal(b.bucket, bucketId());
            for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(b[k], true, k);
        });
        it("bucket policy denies aws:SecureTransport=false on the bucket and its objects", () => {
            const pol = one("aws:s3/bucketPolicy:BucketPolicy");
            assert.equal(pol.bucket, bucketId());
            const arn = String(plan().outputs.walBucketArn);
            const deny = statements(pol.policy).find((s) => s.Effect === "Deny" && JSON.stringify(s).includes('"aws:SecureTransport":"false"'));
            assert.ok(deny, "no SecureTransport deny");
            assert.ok(deny.Action.includes("s3:*"));
            assert.deepEqual([deny.Resource].flat().sort(), [arn, `${arn}/*`].sort());
        });
        it("lifecycle: noncurrent versions expire after >= 30 days, incomplete multipart uploads are aborted", () => {
            const lc = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
            assert.equal(lc.bucket, bucketId());
            const enabled = (lc.rules as Record<string, any>[]).filter((r) => r.status === "Enabled");
            const nc = enabled.find((r) => r.noncurrentVersionExpiration);
            assert.ok(nc && nc.noncurrentVersionExpiration.noncurrentDays >= 30);
            assert.ok(enabled.some((r) => r.abortIncompleteMultipartUpload?.daysAfterInitiation > 0));
        });
        it("the Bucket itself has no inline versioning/encryption/lifecycle/policy arguments", () => {
            const b = one(T.bucket);
            for (const k of ["versioning", "serverSideEncryptionConfiguration", "lifecycleRules", "policy", "acl", "replicationConfiguration"]) assert.equal(b[k], undefined, k);
            assert.equal(b.bucket, plan().outputs.walBucketName);
            assert.ok(bucketId().startsWith("ops-wal-bucket-"), "the separate resources target the WAL bucket");
        });
    });

    describe(`substrate ${stack}: Route53 failover`, () => {
        it("HTTPS health check of the edge on 443 /health, interval 10, threshold 3", () => {
            const hcs = ofType(plan(), T.healthCheck).map(inp);
            assert.deepEqual(hcs.map((h) => [h.type, h.port, h.resourcePath, h.requestInterval, h.failureThreshold]), [["HTTPS", 443, "/health", 10, 3]]);
        });
        it(`failover A record, TTL 60, ${e.failover}, attached to the health check`, () => {
            const rec = inp(byName(plan(), T.record, "ops-dns-failover"));
            assert.deepEqual([rec.ttl, rec.type, rec.name, rec.zoneId], [60, "A", "ops.example.com", "Z04512873QF4EXAMPLE1"]);
            assert.deepEqual(rec.failoverRoutingPolicies, [{ type: e.failover }]);
            assert.equal(rec.healthCheckId, plan().outputs.healthCheckId);
            assert.deepEqual(rec.records, [plan().outputs.edgePublicIp]);
        });
        it("CloudWatch alarm on AWS/Route53 HealthCheckStatus, in us-east-1, notifying an SNS topic in us-east-1", () => {
            const p = plan();
            const alarm = byName(p, T.alarm, "ops-dns-health");
            const a = inp(alarm);
            assert.deepEqual([a.namespace, a.metricName], ["AWS/Route53", "HealthCheckStatus"]);
            assert.deepEqual(a.dimensions, { HealthCheckId: p.outputs.healthCheckId });
            const sub = byName(p, T.subscription, "ops-dns-health-email");
            assert.deepEqual(a.alarmActions, [inp(sub).topic]);
            assert.equal(inp(sub).endpoint, "oncall@example.com");
            for (const r of [alarm, byName(p, T.topic, "ops-dns-health"), sub]) assert.equal(providerRegionOf(stack, r), "us-east-1", `${r.name} region`);
        });
    });
}

describe("substrate: existing-Swarm switch (us-east-1, existingSwarmHost)", () => {
    const URL = "ssh://admin@swarm.example.com";
    let result: { plan?: OfflinePlan; error?: string } | undefined;
    const existing = (): OfflinePlan => {
        try {
            result ??= { plan: planStack("us-east-1", { existingSwarmHost: URL, existingSwarmDataHosts: "data-a,data-b,data-c" }) };
        } catch (err) {
            result = { error: err instanceof Error ? err.message : String(err) };
        }
        if (!result.plan) assert.fail(`the plan with existingSwarmHost fails: ${result.error}`);
        return result.plan;
    };
    it("creates no EC2 instance, no Elastic IP and no instance profile", () => {
        for (const type of [T.instance, T.eip, T.profile]) assert.equal(ofType(existing(), type).length, 0, type);
    });
    it("the Docker provider talks to that URL", () => {
        assert.deepEqual(ofType(existing(), T.docker).map((r) => inp(r).host), [URL]);
    });
});

describe("substrate: cross-region ties", () => {
    const primary = () => planStack("us-east-1");
    const standby = () => planStack("us-west-2");
    const crossRegion = (p: OfflinePlan) => p.resources.filter((r) => (r.parent ?? "").includes("opscenter:ha:CrossRegion"));
    it("the primary has no StackReference, peering, replication, cross-region rule or route (no cycle)", () => {
        const p = primary();
        for (const type of [T.stackRef, T.peering, T.accepter, T.replication]) assert.equal(ofType(p, type).length, 0, type);
        assert.deepEqual(crossRegion(p), []);
        assert.ok(!rules(p).some((r) => r.cidr === EXPECT["us-east-1"].peerCidr), "a rule admits the standby CIDR");
        assert.ok(!ofType(p, T.route).some((r) => inp(r).destinationCidrBlock === EXPECT["us-east-1"].peerCidr));
    });
    it(`the standby reads exactly one StackReference, ${PRIMARY_FQN}, and requests peering to the primary VPC`, () => {
        const s = standby();
        assert.deepEqual(ofType(s, T.stackRef).map((r) => inp(r).name), [PRIMARY_FQN]);
        const peering = ofType(s, T.peering).map(inp);
        assert.deepEqual(peering.map((x) => [x.vpcId, x.peerVpcId, x.peerRegion]), [[s.outputs.vpcId, PRIMARY_OUT.vpcId, "us-east-1"]]);
        assert.equal(ofType(s, T.accepter).length, 1);
    });
    it("standby: routes to the peer CIDR on all private route tables of both sides", () => {
        const routes = ofType(standby(), T.route).map(inp).filter((r) => r.vpcPeeringConnectionId !== undefined);
        const to = (dest: string) => routes.filter((r) => r.destinationCidrBlock === dest).map((r) => r.routeTableId).sort();
        assert.deepEqual(to("10.10.0.0/16"), [...(standby().outputs.privateRouteTableIds as string[])].sort());
        assert.deepEqual(to("10.20.0.0/16"), [...(PRIMARY_OUT.privateRouteTableIds as string[])].sort());
    });
    it("standby: replication rules only from the peer VPC CIDR, only for 5432, 8008, 5000, 6379, 26379", () => {
        const s = standby();
        const cross = rules(s).filter((r) => (r.cidr === "10.10.0.0/16" || r.cidr === "10.20.0.0/16") && DATA_PORTS.some((p) => covers(r, "tcp", p)));
        const side = (sg: string, from: string) => cross.filter((r) => r.sg === sg && r.cidr === from);
        for (const [sg, from] of [[s.outputs.dataSecurityGroupId as string, "10.10.0.0/16"], [PRIMARY_OUT.dataSecurityGroupId as string, "10.20.0.0/16"]]) {
            const got = side(sg, from);
            assert.deepEqual(got.map((r) => r.from).sort((a, b) => a! - b!), REPLICATION_PORTS, `${sg} from ${from}`);
            for (const r of got) assert.deepEqual([norm(r.proto), r.to], ["tcp", r.from]);
        }
        assert.equal(cross.length, 10, "no other data-port rule from either VPC CIDR");
    });
    it("standby: S3 replication of the primary's WAL bucket, SSE-KMS objects, re-encrypted with the standby key; role trusts s3.amazonaws.com", () => {
        const s = standby();
        const reps = ofType(s, T.replication).map(inp);
        assert.equal(reps.length, 1);
        const [rep] = reps;
        const [rule] = rep.rules;
        assert.equal(rep.bucket, PRIMARY_OUT.walBucketName, "the primary's walBucketName output");
        assert.deepEqual([rule.status, rule.sourceSelectionCriteria.sseKmsEncryptedObjects.status], ["Enabled", "Enabled"]);
        assert.deepEqual([rule.destination.bucket, rule.destination.encryptionConfiguration.replicaKmsKeyId], [s.outputs.walBucketArn, s.outputs.walKmsKeyArn]);
        const role = byName(s, T.role, "ops-cross-region-replication");
        assert.ok(String(rep.role).endsWith(role.name));
        const trust = statements(inp(role).assumeRolePolicy);
        assert.deepEqual(trust.map((t) => [t.Effect, t.Principal, t.Action]), [["Allow", { Service: "s3.amazonaws.com" }, ["sts:AssumeRole"]]]);
    });
    it("standby: the accepter, the primary-side routes and rules and the replication config use an aws provider for us-east-1", () => {
        const s = standby();
        const there = crossRegion(s).filter((r) => r.type === T.accepter || r.type === T.replication || r.name.includes("-primary-"));
        assert.equal(there.length, 1 + 1 + 3 + 5);
        for (const r of there) assert.equal(providerRegionOf("us-west-2", r), "us-east-1", r.name);
        for (const r of crossRegion(s).filter((x) => !there.includes(x))) assert.equal(providerRegionOf("us-west-2", r), "us-west-2", r.name);
    });
    it("Route53: PRIMARY in us-east-1, SECONDARY in us-west-2, distinct set identifiers, both with a health check", () => {
        const recs = STACKS.map((st) => inp(byName(planStack(st), T.record, "ops-dns-failover")));
        assert.deepEqual(recs.map((r) => r.failoverRoutingPolicies[0].type), ["PRIMARY", "SECONDARY"]);
        assert.equal(new Set(recs.map((r) => r.setIdentifier)).size, 2);
        for (const r of recs) assert.ok(r.healthCheckId, "record without a health check");
        assert.equal(recs[0].name, recs[1].name);
    });
    it("the primary plan exports every output the standby reads (PRIMARY_OUTPUT_KEYS), secrets as secrets", () => {
        const out = primary().outputs;
        for (const key of PRIMARY_OUTPUT_KEYS) assert.ok(![undefined, null, ""].includes(out[key] as never), `primary does not export ${key}`);
        for (const key of ["pgSuperuserPassword", "pgReplicationPassword", "pgAppPassword", "pgMonitorPassword", "redisPassword"]) assert.notDeepEqual(unwrap(out[key]), out[key], `${key} is not secret`);
        assert.equal(out.vpcCidr, EXPECT["us-east-1"].vpcCidr);
        assert.equal((out.privateRouteTableIds as string[]).length, 3);
    });
    it("the offline StackReference fixture (offline/primaryFixture.ts) agrees with the primary plan on its deterministic outputs", () => {
        const out = primary().outputs;
        for (const key of ["region", "vpcCidr", "redisMasterName", "walBucketName", "walBucketArn"] as const) assert.equal(PRIMARY_OUT[key], out[key], key);
    });
});
