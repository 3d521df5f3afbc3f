/**
 * The Helm chart in helm/parley, rendered with helm template (no cluster): every object passes
 * the Kubernetes API schema, and the properties the chart promises hold for the default values
 * and for values-production.yaml. scripts/check-helm.sh runs helm lint --strict beside it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IService } from "kubernetes-models/v1/Service";
import { CHART, render, template } from "../scripts/helm/chart.js";
import { type Manifest, validateManifests } from "../scripts/helm/kube-schema.js";

const SERVICES = ["account", "idgen", "presence", "notify", "chat", "gateway"];
const PRODUCTION = join(CHART, "values-production.yaml");
const EVERYTHING_ON = join(CHART, "ci", "everything-on-values.yaml");

function ofKind<T>(manifests: readonly Manifest[], kind: string): T[] {
  return manifests.filter((m) => m.object.kind === kind).map((m) => m.object as unknown as T);
}

function component(object: { metadata?: { labels?: Record<string, string> } }): string | undefined {
  return object.metadata?.labels?.["app.kubernetes.io/component"];
}

describe("helm chart", () => {
  const renders = new Map<string, Manifest[]>();
  let scratch: string;

  before(() => {
    renders.set("default values", render());
    renders.set("values-production.yaml", render({ values: [PRODUCTION] }));
    scratch = mkdtempSync(join(tmpdir(), "parley-helm-"));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const eachRender = (body: (manifests: Manifest[], name: string) => void) => () => {
    for (const [name, manifests] of renders) body(manifests, name);
  };

  test("every object rendered with the default and the production values passes the Kubernetes API schema", async () => {
    for (const [name, manifests] of renders) {
      assert.deepEqual(await validateManifests(manifests), [], name);
    }
  });

  test("the schema check refuses an unknown field, a wrong type, a bad enum value and an unknown kind", async () => {
    const manifests = structuredClone(renders.get("default values")!);
    // Each fault in its own object: tsc reports the first unknown field of an object, and none where validate() already failed.
    const [first, second, third] = manifests.filter((m) => m.object.kind === "Deployment").map((m) => m.object as unknown as IDeployment);
    const container = first!.spec!.template.spec!.containers[0]! as unknown as Record<string, unknown>;
    container.readinessProbes = container.readinessProbe;
    (second!.spec as unknown as Record<string, unknown>).replicas = "two";
    (third!.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>).imagePullPolicy = "Sometimes";
    manifests.push({ object: { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" } }, source: "test" });

    const messages = (await validateManifests(manifests)).map((p) => `${p.object}: ${p.message}`);
    const has = (pattern: RegExp) =>
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `expected ${pattern} in:\n${messages.join("\n")}`,
      );
    has(/containers\[0\]\.readinessProbes: unknown field/);
    has(/spec\.replicas: must be integer/);
    has(/containers\[0\]\.imagePullPolicy: must be equal to one of the allowed values/);
    has(/ServiceMonitor x .*unknown kind ServiceMonitor/);
  });

  test(
    "uses only API versions that Kubernetes 1.30 and later serve",
    eachRender((manifests, name) => {
      const served = new Set(["v1", "apps/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"]);
      for (const { object } of manifests) assert.ok(served.has(object.apiVersion as string), `${name}: ${String(object.kind)} in ${String(object.apiVersion)}`);
    }),
  );

  test(
    "one Deployment per service, each running the one image with its service's name as argument",
    eachRender((manifests, name) => {
      const deployments = ofKind<IDeployment>(manifests, "Deployment");
      assert.deepEqual(deployments.map(component).sort(), [...SERVICES].sort(), name);
      const images = new Set<string | undefined>();
      for (const deployment of deployments) {
        const [container, ...others] = deployment.spec!.template.spec!.containers;
        assert.equal(others.length, 0);
        assert.deepEqual(container!.args, [component(deployment)], name);
        assert.equal(container!.command, undefined, "the image's ENTRYPOINT runs");
        images.add(container!.image);
      }
      assert.equal(images.size, 1, name);
    }),
  );

  test(
    "every container runs as the non-root user with a read-only root filesystem, no capabilities and probes on /livez and /readyz",
    eachRender((manifests, name) => {
      for (const deployment of ofKind<IDeployment>(manifests, "Deployment")) {
        const what = `${name}: ${deployment.metadata!.name}`;
        const pod = deployment.spec!.template.spec!;
        assert.equal(pod.securityContext?.runAsNonRoot, true, what);
        assert.equal(pod.securityContext?.runAsUser, 10001, what);
        assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault", what);
        assert.equal(pod.automountServiceAccountToken, false, what);
        for (const container of pod.containers) {
          const security = container.securityContext!;
          assert.equal(security.runAsNonRoot, true, what);
          assert.equal(security.readOnlyRootFilesystem, true, what);
          assert.equal(security.allowPrivilegeEscalation, false, what);
          assert.deepEqual(security.capabilities?.drop, ["ALL"], what);
          assert.equal(container.livenessProbe?.httpGet?.path, "/livez", what);
          assert.equal(container.readinessProbe?.httpGet?.path, "/readyz", what);
          assert.equal(container.startupProbe?.httpGet?.path, "/livez", what);
          const probePort = container.readinessProbe?.httpGet?.port;
          assert.ok(
            container.ports?.some((port) => port.name === probePort && port.containerPort > 0),
            `${what}: probes a port it serves`,
          );
          assert.ok(container.resources?.requests?.cpu && container.resources.limits?.memory, `${what}: requests and limits`);
          const writable = (container.volumeMounts ?? []).filter((mount) => !mount.readOnly).map((mount) => mount.mountPath);
          for (const path of writable) assert.ok(["/tmp", "/data"].includes(path), `${what}: only /tmp and /data are writable, not ${path}`);
        }
      }
    }),
  );

  test(
    "a default-deny NetworkPolicy covers the release, and each service's own policy admits only its own ports",
    eachRender((manifests, name) => {
      const policies = ofKind<INetworkPolicy>(manifests, "NetworkPolicy");
      const deny = policies.find((p) => p.metadata!.name!.endsWith("-default-deny"));
      assert.ok(deny, name);
      assert.deepEqual(deny.spec!.podSelector?.matchLabels, { "app.kubernetes.io/name": "parley", "app.kubernetes.io/instance": "parley" });
      assert.deepEqual(deny.spec!.policyTypes, ["Ingress", "Egress"]);
      assert.equal(deny.spec!.ingress, undefined);
      assert.equal(deny.spec!.egress, undefined);

      for (const deployment of ofKind<IDeployment>(manifests, "Deployment")) {
        const service = component(deployment)!;
        const policy = policies.find((p) => component(p) === service);
        assert.ok(policy, `${name}: a NetworkPolicy for ${service}`);
        assert.deepEqual(policy.spec!.podSelector?.matchLabels, deployment.spec!.selector.matchLabels);
        const served = new Set(deployment.spec!.template.spec!.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
        for (const rule of policy.spec!.ingress ?? []) {
          assert.ok(rule.ports && rule.ports.length > 0, `${name}: ${service} admits named ports only`);
          for (const port of rule.ports) assert.ok(served.has(port.port as string), `${name}: ${service} admits ${port.port}`);
          if (service === "gateway" && rule.ports[0]!.port === "http") continue;
          // Internal ports: only from pods of the release (or chat pods, for DeliverService), plus named extras.
          assert.ok(rule.from && rule.from.length > 0, `${name}: ${service}'s ${String(rule.ports[0]!.port)} is not open to all`);
          assert.equal(rule.from[0]!.podSelector?.matchLabels?.["app.kubernetes.io/instance"], "parley");
        }
      }
    }),
  );

  test(
    "only the gateway's Service may be other than ClusterIP",
    eachRender((manifests, name) => {
      for (const service of ofKind<IService>(manifests, "Service")) {
        if (component(service) !== "gateway") assert.equal(service.spec!.type, "ClusterIP", `${name}: ${service.metadata!.name}`);
      }
      const types = ofKind<IService>(manifests, "Service").map((s) => s.spec!.type);
      if (name === "values-production.yaml") assert.ok(types.includes("LoadBalancer"));
    }),
  );

  test(
    "every service has a PodDisruptionBudget, and gateway and chat a HorizontalPodAutoscaler that owns their replica count",
    eachRender((manifests, name) => {
      const deployments = ofKind<IDeployment>(manifests, "Deployment");
      const budgets = ofKind<IPodDisruptionBudget>(manifests, "PodDisruptionBudget");
      for (const deployment of deployments) {
        const budget = budgets.find((b) => component(b) === component(deployment));
        assert.ok(budget, `${name}: a PodDisruptionBudget for ${component(deployment)}`);
        assert.deepEqual(budget.spec!.selector!.matchLabels, deployment.spec!.selector.matchLabels);
      }
      const autoscalers = ofKind<IHorizontalPodAutoscaler>(manifests, "HorizontalPodAutoscaler");
      assert.deepEqual(autoscalers.map(component).sort(), ["chat", "gateway"], name);
      for (const autoscaler of autoscalers) {
        const target = deployments.find((d) => d.metadata!.name === autoscaler.spec!.scaleTargetRef.name);
        assert.ok(target, `${name}: the autoscaler targets a Deployment of the chart`);
        assert.equal(target.spec!.replicas, undefined, `${name}: ${target.metadata!.name} leaves replicas to its autoscaler`);
        assert.ok(autoscaler.spec!.minReplicas! <= autoscaler.spec!.maxReplicas);
      }
    }),
  );

  test(
    "the gateway sleeps before SIGTERM and has time to drain within terminationGracePeriodSeconds",
    eachRender((manifests, name) => {
      for (const deployment of ofKind<IDeployment>(manifests, "Deployment")) {
        const pod = deployment.spec!.template.spec!;
        const container = pod.containers[0]!;
        const config = ofKind<IConfigMap>(manifests, "ConfigMap").find((c) => c.metadata!.name === container.envFrom![0]!.configMapRef!.name)!;
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        if (component(deployment) === "gateway") assert.ok(preStop >= 5, `${name}: the gateway's preStop sleep`);
        // The process stops within its budget (SHUTDOWN_GRACE_MS, plus 5 s for the gateway's sockets) plus runService's 5 s margin.
        const budget = Number(config.data!.SHUTDOWN_GRACE_MS) / 1000 + (component(deployment) === "gateway" ? 5 : 0) + 5;
        assert.ok(pod.terminationGracePeriodSeconds! > preStop + budget, `${name}: ${deployment.metadata!.name} is not killed while draining`);
      }
    }),
  );

  test("with internal TLS, every service verifies servers by the one configured name, not by pod IP, and serves without ALLOW_PLAINTEXT", () => {
    const production = renders.get("values-production.yaml")!;
    for (const deployment of ofKind<IDeployment>(production, "Deployment")) {
      const container = deployment.spec!.template.spec!.containers[0]!;
      const config = ofKind<IConfigMap>(production, "ConfigMap").find((c) => c.metadata!.name === container.envFrom![0]!.configMapRef!.name)!;
      assert.equal(config.data!.TLS_CA_FILE, "/etc/parley/tls/ca.crt", `${component(deployment)}`);
      assert.equal(config.data!.TLS_SERVER_NAME, "parley-internal", `${component(deployment)}`);
      if (component(deployment) !== "gateway") assert.equal(config.data!.ALLOW_PLAINTEXT, "false", `${component(deployment)}`);
    }
  });

  test(
    "ships the dashboard and the alert rules as ConfigMaps, and every pod says where its metrics are",
    eachRender((manifests, name) => {
      const maps = ofKind<IConfigMap>(manifests, "ConfigMap");
      const dashboard = maps.find((c) => c.metadata!.name!.endsWith("-grafana-dashboard"));
      assert.equal(dashboard?.metadata?.labels?.grafana_dashboard, "1", `${name}: labelled for Grafana's sidecar`);
      assert.deepEqual(JSON.parse(dashboard!.data!["parley.json"]!), JSON.parse(readFileSync(join(CHART, "files", "grafana-dashboard.json"), "utf8")));
      const rules = maps.find((c) => c.metadata!.name!.endsWith("-prometheus-rules"));
      assert.equal(rules?.data?.["parley-rules.yaml"]?.trim(), readFileSync(join(CHART, "files", "prometheus-rules.yaml"), "utf8").trim());
      for (const deployment of ofKind<IDeployment>(manifests, "Deployment")) {
        const annotations = deployment.spec!.template.metadata!.annotations!;
        const ports = deployment.spec!.template.spec!.containers[0]!.ports!.map((p) => String(p.containerPort));
        assert.equal(annotations["prometheus.io/scrape"], "true", `${name}: ${component(deployment)}`);
        assert.ok(ports.includes(annotations["prometheus.io/port"]!), `${name}: ${component(deployment)} scraped on a port it serves`);
        assert.equal(annotations["prometheus.io/path"], "/metrics");
      }
    }),
  );

  test("a change to one service's configuration rolls that service's pods and no other's", () => {
    const checksums = (manifests: Manifest[]) =>
      new Map(ofKind<IDeployment>(manifests, "Deployment").map((d) => [component(d), d.spec!.template.metadata!.annotations!["checksum/config"]]));
    const before = checksums(renders.get("default values")!);
    const after = checksums(render({ setString: ["chat.env.CHAT_MAX_GROUP_MEMBERS=50"] }));
    for (const service of SERVICES) {
      if (service === "chat") assert.notEqual(after.get(service), before.get(service));
      else assert.equal(after.get(service), before.get(service), service);
    }
  });

  test("no secret from values lands in a ConfigMap or a Deployment", () => {
    const manifests = render({ values: [EVERYTHING_ON] });
    const secrets = ["etcd-password", "database-password", "cassandra-password", "placeholder-placeholder", "sms-token", "user:password", "service_account"];
    for (const manifest of manifests.filter((m) => m.object.kind !== "Secret")) {
      const text = JSON.stringify(manifest.object);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${String(manifest.object.kind)} holds ${secret}`);
    }
  });

  describe("values.schema.json", () => {
    const refused = (what: string, yaml: string, reason: RegExp) =>
      test(`refuses ${what}`, () => {
        const file = join(scratch, `${what.replace(/\W+/g, "-")}.yaml`);
        writeFileSync(file, yaml);
        const result = template({ values: [file] });
        assert.notEqual(result.status, 0, "helm template accepted it");
        assert.match(result.stderr, /values don't meet the specifications of the schema/);
        assert.match(result.stderr, reason);
      });

    refused("a misspelt key", "gateway:\n  replicaz: 2\n", /additional properties 'replicaz' not allowed/);
    refused("a log level that does not exist", "config:\n  logLevel: loud\n", /logLevel/);
    refused("a password inside the database URL", "postgres:\n  url: postgres://parley:secret@db:5432/parley\n", /postgres\/url/);
    refused("a variable the chart sets itself in a service's env", "chat:\n  env:\n    CHAT_PORT: '1'\n", /invalid propertyName 'CHAT_PORT'/);
    refused("a number where an env value must be a string", "presence:\n  env:\n    PRESENCE_GRACE_MS: 30000\n", /want string/);
    refused("Cassandra without Kafka", "cassandra:\n  enabled: true\n  contactPoints: [c1]\n  localDatacenter: dc1\n", /kafka\/enabled/);
    refused("a Service type other than ClusterIP, NodePort or LoadBalancer", "gateway:\n  service:\n    type: ExternalName\n", /service\/type/);
    refused("an empty etcd endpoint list", "etcd:\n  endpoints: []\n", /etcd\/endpoints/);
  });
});
