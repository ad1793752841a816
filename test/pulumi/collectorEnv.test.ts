import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resourceNames } from "../../components/naming";
import {
  APP_CREDENTIAL_KINDS,
  type AppCredentialKind,
  COLLECTOR_ENV,
  DEFAULT_HTTP_PORT,
  DEPLOYED_SINK_KINDS,
  type DeployedSinkKind,
  ENV_KEYS,
  SECRET_KEYS,
} from "../../domain/collectorEnv";
import { installMocks, type Recorder, settle } from "./mocks";
import { HEC_TOKEN, makeSinkPems } from "./sinkFixtures";

const APP = "azure-native:app:ContainerApp";
const M365 = "11111111-2222-3333-4444-555555555555";
const CLIENT_SECRET = "collector-env-test~secret";
const CERT_BUNDLE =
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

type EnvVar = { name: string; value?: unknown; secretRef?: string };

let recorder: Recorder;

/** The deployment with every sink and every optional sink setting (keyless credential). */
const ALL_SINKS = "allsinks";

/** The collector container's environment in the deployment named `prefix`. */
function envOf(prefix: AppCredentialKind | typeof ALL_SINKS): EnvVar[] {
  const template = recorder.one(APP, prefix).inputs.template as { containers: { env: EnvVar[] }[] };
  expect(template.containers).toHaveLength(1);
  return template.containers[0]!.env;
}

/**
 * What the settings table says the deployment sets for one app credential kind and set of sinks
 * (with every optional sink setting given).
 */
function expectedFor(
  kind: AppCredentialKind,
  sinks: readonly DeployedSinkKind[] = ["logs-ingestion"],
): string[] {
  const applies: readonly string[] = ["always", kind, ...sinks];
  return COLLECTOR_ENV.filter((row) => applies.includes(row.setByDeployment))
    .map((row) => row.env)
    .sort();
}

beforeAll(async () => {
  recorder = await installMocks();
  const { CollectorService } = await import("../../components/collectorService");
  // One deployment per credential kind, each named after its kind.
  const common = (prefix: string) => ({
    resourceGroupName: "rg-auditbridge-envtest",
    location: "westeurope",
    names: resourceNames(prefix, "e1n2v3"),
    image: "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
    m365TenantId: M365,
    clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    cloud: "gcc" as const,
    contentTypes: ["Audit.General"] as const,
    publisherId: M365,
    ingestion: {
      endpoint: "https://dce-envtest.westeurope-1.ingest.monitor.azure.com",
      ruleId: "dcr-00112233445566778899aabbccddeeff",
      stream: "Custom-M365Audit",
    },
    workspaceResourceId:
      "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-auditbridge-envtest/providers/Microsoft.OperationalInsights/workspaces/log-envtest",
  });
  new CollectorService("secret", {
    ...common("secret"),
    credential: {
      mode: "secret",
      clientSecret: pulumi.secret(CLIENT_SECRET),
      expiresAt: "2027-01-01T00:00:00Z",
      rotationSlot: 1,
    },
  });
  new CollectorService("certificate", {
    ...common("certificate"),
    credential: { mode: "certificate", certificatePem: pulumi.secret(CERT_BUNDLE) },
  });
  new CollectorService("federated", { ...common("federated"), credential: { mode: "federated" } });
  const pems = await makeSinkPems();
  new CollectorService(ALL_SINKS, {
    ...common(ALL_SINKS),
    credential: { mode: "federated" },
    sinks: {
      syslog: {
        url: "tls://siem.example.com:6514",
        format: "leef",
        ...pems,
        clientKeyPem: pulumi.secret(pems.clientKeyPem),
      },
      splunkHec: {
        url: "https://splunk.example.com:8088",
        token: pulumi.secret(HEC_TOKEN),
        index: "o365",
        caPem: pems.caPem,
      },
    },
  });
  await settle();
});

describe("the Container App's environment against the collector's settings table", () => {
  it.each(APP_CREDENTIAL_KINDS)(
    "sets with a %s credential exactly the settings the table marks as set by the deployment",
    (kind) => {
      const names = envOf(kind).map((e) => e.name);
      for (const name of names) expect(ENV_KEYS).toContain(name);
      expect(new Set(names).size).toBe(names.length);
      expect([...names].sort()).toEqual(expectedFor(kind));
    },
  );

  it.each(APP_CREDENTIAL_KINDS)(
    "passes secrets with a %s credential only as container secret references, never as values",
    (kind) => {
      for (const variable of envOf(kind).filter((e) =>
        (SECRET_KEYS as ReadonlySet<string>).has(e.name),
      )) {
        expect(variable).not.toHaveProperty("value");
        expect(variable.secretRef).toEqual(expect.any(String));
      }
      expect(JSON.stringify(envOf(kind))).not.toContain(CLIENT_SECRET);
    },
  );

  it("serves /healthz on the collector's default port when none is given", () => {
    for (const kind of [...APP_CREDENTIAL_KINDS, ALL_SINKS] as const) {
      const port = envOf(kind).find((e) => e.name === "AUDIT_HTTP_PORT");
      expect(port?.value).toBe(String(DEFAULT_HTTP_PORT));
    }
  });

  it("sets with every sink and optional sink setting exactly what the table marks for those sinks", () => {
    const names = envOf(ALL_SINKS).map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(expectedFor("federated", DEPLOYED_SINK_KINDS));
    for (const variable of envOf(ALL_SINKS).filter((e) =>
      (SECRET_KEYS as ReadonlySet<string>).has(e.name),
    )) {
      expect(variable).not.toHaveProperty("value");
      expect(variable.secretRef).toEqual(expect.any(String));
    }
    expect(JSON.stringify(envOf(ALL_SINKS))).not.toContain(HEC_TOKEN);
  });

  it("leaves no setting of the table unaccounted for: each is set by some deployment or marked never", () => {
    const setSomewhere = new Set([
      ...APP_CREDENTIAL_KINDS.flatMap((kind) => expectedFor(kind)),
      ...expectedFor("federated", DEPLOYED_SINK_KINDS),
    ]);
    for (const row of COLLECTOR_ENV) {
      expect(setSomewhere.has(row.env)).toBe(row.setByDeployment !== "never");
    }
  });
});
