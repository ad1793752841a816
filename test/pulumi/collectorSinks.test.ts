import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type SinkArgs,
  sinkKinds,
  sinksNeedVault,
  sinksProblem,
} from "../../components/collectorSinks";
import type { TenantAuditPipelineArgs } from "../../components/tenantAuditPipeline";
import { installMocks, type Recorder, resolved, settle } from "./mocks";
import { HEC_TOKEN, makeSinkPems, type SinkPems } from "./sinkFixtures";

const M365 = "11111111-2222-3333-4444-555555555555";
const APP = "azure-native:app:ContainerApp";

let pems: SinkPems;
let recorder: Recorder;
const failures: Record<string, string> = {};

const BASE: TenantAuditPipelineArgs = {
  m365TenantId: M365,
  cloud: "commercial",
  location: "westeurope",
  resourceGroupName: "rg-auditbridge-sinks",
  namePrefix: "sinks",
  appDisplayName: "AuditBridge audit reader (sinks)",
  contentTypes: ["Audit.General"],
  includeServiceHealth: false,
  credential: {
    mode: "secret",
    lifetimeDays: 180,
    rotationDays: 90,
    rotationAnchor: "2026-01-01",
    nowMs: Date.parse("2026-11-27T12:00:00Z"),
  },
  workspace: { kind: "new", retentionInDays: 90 },
  collectorImage: "ghcr.io/contoso/auditbridge-collector:0.1.0",
};

beforeAll(async () => {
  pems = await makeSinkPems();
  recorder = await installMocks();
  const { TenantAuditPipeline } = await import("../../components/tenantAuditPipeline");
  const hec = { url: "https://splunk.example.com:8088", token: pulumi.secret(HEC_TOKEN) };
  // Fan-out: Log Analytics and Splunk.
  const fanout = new TenantAuditPipeline("fanout", {
    ...BASE,
    namePrefix: "fanout",
    sinks: { splunkHec: hec },
  });
  // Syslog only, no workspace of any kind: the environment keeps no logs.
  const quiet = new TenantAuditPipeline("quiet", {
    ...BASE,
    namePrefix: "quiet",
    workspace: undefined,
    sinks: { logsIngestion: false, syslog: { url: "tcp://siem.example.com:514" } },
  });
  const bad: Record<string, Partial<TenantAuditPipelineArgs>> = {
    keyless: { collector: "none", credential: { mode: "federated" } },
    nonesinks: { collector: "none", sinks: { splunkHec: hec } },
    sentinel: {
      sinks: { logsIngestion: false, splunkHec: hec },
      sentinel: { enabled: true, onboarding: "create", rulesEnabled: true },
    },
    noimage: { collectorImage: undefined },
    noworkspace: { workspace: undefined },
    badsyslog: { sinks: { syslog: { url: "tcp://siem.example.com" } } },
  };
  for (const [name, overrides] of Object.entries(bad)) {
    try {
      new TenantAuditPipeline(name, { ...BASE, namePrefix: name.slice(0, 12), ...overrides });
    } catch (error) {
      failures[name] = (error as Error).message;
    }
  }
  await Promise.all([resolved(fanout.collectorAppName), resolved(quiet.collectorAppName)]);
  await settle();
});

describe("sinksProblem", () => {
  const cases: [string, () => SinkArgs, string | undefined][] = [
    ["Log Analytics alone", () => ({}), undefined],
    [
      "no sink at all",
      () => ({ logsIngestion: false }),
      "sinks must name at least one sink (logsIngestion, syslog or splunkHec)",
    ],
    ["a UDP syslog receiver", () => ({ syslog: { url: "udp://siem.example.com" } }), undefined],
    [
      "a syslog URL without a scheme",
      () => ({ syslog: { url: "siem.example.com:514" } }),
      'syslog.url "siem.example.com:514" is not tcp://host:port, tls://host:port or udp://host:port',
    ],
    [
      "a message limit over a datagram",
      () => ({ syslog: { url: "udp://siem.example.com", maxMessageBytes: 70_000 } }),
      "syslog.maxMessageBytes 70000 is not between 1024 and 65507 (one UDP datagram)",
    ],
    [
      "a client certificate without its key",
      () => ({ syslog: { url: "tls://siem.example.com", clientCertPem: pems.clientCertPem } }),
      "syslog.clientCertPem and syslog.clientKeyPem go together; set both or neither",
    ],
    [
      "a CA with plain TCP",
      () => ({ syslog: { url: "tcp://siem.example.com:514", caPem: pems.caPem } }),
      "syslog.caPem, syslog.clientCertPem and syslog.clientKeyPem apply to a tls:// url only",
    ],
    [
      "a certificate given as the client key",
      () => ({
        syslog: {
          url: "tls://siem.example.com",
          clientCertPem: pems.clientCertPem,
          clientKeyPem: pems.caPem,
        },
      }),
      "syslog.clientKeyPem must be PEM text holding a -----BEGIN PRIVATE KEY----- block",
    ],
    [
      "mutual TLS with a key held as a Pulumi secret",
      () => ({
        syslog: {
          url: "tls://siem.example.com",
          caPem: pems.caPem,
          clientCertPem: pems.clientCertPem,
          clientKeyPem: pulumi.secret(pems.clientKeyPem),
        },
      }),
      undefined,
    ],
    [
      "a HEC URL with a query",
      () => ({ splunkHec: { url: "https://splunk.example.com:8088/?x=1", token: HEC_TOKEN } }),
      "splunkHec.url the URL must not have a query",
    ],
    [
      "an empty HEC token",
      () => ({ splunkHec: { url: "https://splunk.example.com:8088", token: " " } }),
      "splunkHec.token is invalid: the token is empty",
    ],
    [
      "a HEC CA that is not a certificate",
      () => ({
        splunkHec: { url: "https://splunk.example.com:8088", token: HEC_TOKEN, caPem: "ca" },
      }),
      "splunkHec.caPem must be PEM text holding at least one -----BEGIN CERTIFICATE----- block",
    ],
  ];
  it.each(cases)("for %s", (_what, sinks, expected) => {
    expect(sinksProblem(sinks())).toBe(expected);
  });

  it("names the sinks in AUDIT_SINK order and says when a vault is needed", () => {
    expect(sinkKinds()).toEqual(["logs-ingestion"]);
    expect(
      sinkKinds({ splunkHec: { url: "https://s:8088", token: "t" }, syslog: { url: "udp://s" } }),
    ).toEqual(["logs-ingestion", "syslog", "splunk-hec"]);
    expect(sinksNeedVault({ syslog: { url: "udp://s" } })).toBe(false);
    expect(sinksNeedVault({ splunkHec: { url: "https://s:8088", token: "t" } })).toBe(true);
  });
});

describe("TenantAuditPipeline with sinks", () => {
  function env(prefix: string): Record<string, string | undefined> {
    const template = recorder.one(APP, prefix).inputs.template as {
      containers: { env: { name: string; value?: string }[] }[];
    };
    return Object.fromEntries(template.containers[0]!.env.map((e) => [e.name, e.value]));
  }

  it("fans out to Log Analytics and Splunk HEC, with the workspace and DCR as before", () => {
    expect(env("fanout")).toMatchObject({
      AUDIT_SINK: "logs-ingestion,splunk-hec",
      LOGS_INGESTION_STREAM: "Custom-M365Audit",
      SPLUNK_HEC_URL: "https://splunk.example.com:8088",
      SPLUNK_HEC_ACK: "false",
    });
    expect(recorder.ofType("azure-native:monitor:DataCollectionRule", "fanout")).toHaveLength(1);
    // The client secret and the HEC token share the stack's one vault.
    expect(recorder.ofType("azure-native:keyvault:Vault", "fanout")).toHaveLength(1);
    expect(
      recorder
        .ofType("azure-native:keyvault:Secret", "fanout")
        .map((s) => s.inputs.secretName)
        .sort(),
    ).toEqual(["collector-credential", "splunk-hec-token"]);
  });

  it("without any workspace creates no destination and no diagnostic setting, and mounts nothing", () => {
    expect(env("quiet")).toMatchObject({
      AUDIT_SINK: "syslog",
      SYSLOG_URL: "tcp://siem.example.com:514",
    });
    expect(recorder.ofType("auditbridge:monitor:LogAnalyticsDestination", "quiet")).toEqual([]);
    expect(recorder.ofType("azure-native:monitor:DiagnosticSetting", "quiet")).toEqual([]);
    const template = recorder.one(APP, "quiet").inputs.template as { volumes: unknown[] };
    expect(template.volumes).toEqual([]);
    // Only the client secret is in the vault: the syslog sink has no secret here.
    expect(
      recorder.ofType("azure-native:keyvault:Secret", "quiet").map((s) => s.inputs.secretName),
    ).toEqual(["collector-credential"]);
  });

  it("refuses bad combinations in one line naming the argument, before creating anything", () => {
    expect(failures).toEqual({
      keyless:
        'TenantAuditPipeline keyless: credential mode federated needs the bundled collector\'s managed identity; use mode secret or certificate with collector "none"',
      nonesinks:
        'TenantAuditPipeline nonesinks: sinks configure the bundled collector; leave them out with collector "none"',
      sentinel:
        "TenantAuditPipeline sentinel: sentinel needs the logs-ingestion sink: Sentinel content reads the audit table",
      noimage: "TenantAuditPipeline noimage: collectorImage is required with the bundled collector",
      noworkspace:
        "TenantAuditPipeline noworkspace: workspace is required with the logs-ingestion sink (or set sinks.logsIngestion false)",
      badsyslog:
        "TenantAuditPipeline badsyslog: syslog.url tcp:// needs a port (receivers differ: 514, 601, 1514…)",
    });
    for (const name of Object.keys(failures)) {
      expect(
        recorder.resources.filter((r) => r.name.startsWith(name)),
        name,
      ).toEqual([]);
    }
  });
});
