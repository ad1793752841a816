/**
 * The stack option `enableAuditLogging`: the AuditLoggingSwitch dynamic resource under Pulumi
 * mocks (registered with the right inputs only when asked for, before the collector), and its
 * provider run directly, both as the object and as Pulumi serializes it into the state, against
 * the emulated Exchange Online admin endpoint over HTTPS.
 */
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { TenantAuditPipelineArgs } from "../../components/tenantAuditPipeline";
import { defaultExchangeAdminKnobs } from "../../emulator/src/exchangeAdmin";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { installMocks, MOCK, type Recorder, resolved, settle } from "./mocks";

const SWITCH = "pulumi-nodejs:dynamic/auditbridge:AuditLoggingSwitch";
const APP = "azure-native:app:ContainerApp";
const M365 = "11111111-2222-3333-4444-555555555555";

function pipelineArgs(enableAuditLogging: boolean | undefined): TenantAuditPipelineArgs {
  return {
    m365TenantId: M365,
    azureTenantId: MOCK.azureTenantId,
    cloud: "gcchigh",
    location: "usgovvirginia",
    resourceGroupName: "rg-auditbridge-contoso",
    namePrefix: enableAuditLogging ? "contoso" : "fabrikam",
    appDisplayName: "AuditBridge audit reader",
    contentTypes: ["Audit.Exchange"],
    includeServiceHealth: false,
    credential: { mode: "federated" },
    workspace: { kind: "new", retentionInDays: 90 },
    tableName: "M365Audit_CL",
    collectorImage: "ghcr.io/contoso/auditbridge-collector:0.1.0",
    ...(enableAuditLogging !== undefined ? { enableAuditLogging } : {}),
  };
}

describe("enableAuditLogging under Pulumi mocks", () => {
  let recorder: Recorder;

  beforeAll(async () => {
    recorder = await installMocks();
    const { TenantAuditPipeline } = await import("../../components/tenantAuditPipeline");
    const on = new TenantAuditPipeline("on", pipelineArgs(true));
    const off = new TenantAuditPipeline("off", pipelineArgs(false));
    const unset = new TenantAuditPipeline("unset", pipelineArgs(undefined));
    await Promise.all([on, off, unset].map((p) => resolved(p.collectorAppName)));
    await settle();
  });

  it("registers the switch with the tenant, the cloud and the cloud's Exchange endpoint when on", () => {
    const registered = recorder.one(SWITCH, "on-");
    expect(registered.name).toBe("on-audit-logging");
    expect(registered.inputs).toMatchObject({
      tenantId: M365,
      cloud: "gcchigh",
      exchangeEndpoint: "https://outlook.office365.us",
      authorityHost: "",
    });
    // The provider travels in the state as code, not as a reference to this machine's objects.
    expect(typeof registered.inputs.__provider).toBe("string");
    expect(registered.options.retainOnDelete).toBeFalsy();
  });

  it("starts the collector's Container App only after the switch is on", () => {
    const app = recorder.one(APP, "on-");
    expect(app.options.dependsOn).toContain("on-audit-logging");
  });

  it("registers no switch when off or unset, and the collector depends on none", () => {
    expect(recorder.ofType(SWITCH, "off-")).toHaveLength(0);
    expect(recorder.ofType(SWITCH, "unset-")).toHaveLength(0);
    expect(recorder.ofType(SWITCH)).toHaveLength(1);
    for (const prefix of ["off-", "unset-"]) {
      const app = recorder.one(APP, prefix);
      expect(app.options.dependsOn.some((d) => d.includes("audit-logging"))).toBe(false);
    }
  });
});

describe("the switch's provider against the emulated Exchange Online", () => {
  let emulator: Emulator;
  let provider: pulumi.dynamic.ResourceProvider;
  let serialized: pulumi.dynamic.ResourceProvider;
  let inputs: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 41,
      scenario: { historyHours: 1, blobsPerHour: 1, recordsPerBlob: [1, 1] },
    });
    // The deployer's credential, as CI provides it to DefaultAzureCredential.
    vi.stubEnv("AZURE_TENANT_ID", emulator.tenant.tenantId);
    vi.stubEnv("AZURE_CLIENT_ID", emulator.tenant.clientId);
    vi.stubEnv("AZURE_CLIENT_SECRET", emulator.tenant.clientSecret);
    const module = await import("../../components/auditLogging");
    provider = module.auditLoggingSwitchProvider;
    // What Pulumi's dynamic-provider host runs: the serialized text, loaded from a string.
    const { text } = await pulumi.runtime.serializeFunction(() => provider, {
      allowSecrets: true,
    });
    const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
    const requireFromString = pulumiRequire("require-from-string") as (code: string) => {
      handler: () => pulumi.dynamic.ResourceProvider;
    };
    // Self-contained: the enable logic is loaded by path at deploy time, never captured.
    expect(text).not.toContain("ExchangeAdminClient");
    expect(text).toContain("scripts/audit-logging/deploy.ts");
    serialized = requireFromString(text).handler();
    inputs = {
      tenantId: emulator.tenant.tenantId,
      cloud: "commercial",
      exchangeEndpoint: emulator.url,
      authorityHost: emulator.url,
    };
  });

  afterEach(() => {
    Object.assign(emulator.exchangeAdmin, defaultExchangeAdminKnobs());
    emulator.knobs.auditDisabled = false;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await emulator?.stop();
  });

  it("create turns the emulated switch on, with the deployer's credential", async () => {
    emulator.knobs.auditDisabled = true;
    const before = emulator.exchangeCalls().length;
    const created = await provider.create(inputs);
    expect(created.id).toBe(`${emulator.tenant.tenantId}/unified-audit-logging`);
    expect(created.outs).toMatchObject({ ...inputs, changed: true });
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
    expect(
      emulator
        .exchangeCalls()
        .slice(before)
        .map((c) => c.cmdlet),
    ).toContain("Set-AdminAuditLogConfig");
  });

  it("create when already on changes nothing", async () => {
    emulator.exchangeAdmin.ingestionEnabled = true;
    const before = emulator.exchangeCalls().length;
    const created = await provider.create(inputs);
    expect(created.outs).toMatchObject({ changed: false });
    expect(
      emulator
        .exchangeCalls()
        .slice(before)
        .map((c) => c.cmdlet),
    ).toEqual(["Get-AdminAuditLogConfig"]);
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
  });

  it("works as Pulumi serializes it: the serialized create turns the switch on", async () => {
    emulator.knobs.auditDisabled = true;
    const created = await serialized.create(inputs);
    expect(created.outs).toMatchObject({ changed: true });
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
  });

  it("delete does nothing: no call of any kind, and the switch stays on", async () => {
    emulator.exchangeAdmin.ingestionEnabled = true;
    const before = emulator.exchangeCalls().length;
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      await expect(
        provider.delete?.(`${emulator.tenant.tenantId}/unified-audit-logging`, {
          ...inputs,
          changed: true,
        }),
      ).resolves.toBeUndefined();
      await expect(
        serialized.delete?.("x", { ...inputs, changed: false }),
      ).resolves.toBeUndefined();
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
    expect(emulator.exchangeCalls()).toHaveLength(before);
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
  });

  it("create fails with the cause and the fix when the deployer lacks the Audit Logs role", async () => {
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.forbidden = "set";
    await expect(provider.create(inputs)).rejects.toThrow(
      /could not be turned on: Set-AdminAuditLogConfig failed \(HTTP 403.*next: give the caller the Audit Logs role/,
    );
    expect(emulator.exchangeAdmin.ingestionEnabled).toBeUndefined();
  });

  it("update enables again in the new tenant; diff looks at the tenant and the cloud only", async () => {
    const olds = { ...inputs, changed: false };
    expect(await provider.diff?.("id", olds, inputs)).toMatchObject({ changes: false });
    expect(
      await provider.diff?.("id", olds, { ...inputs, exchangeEndpoint: "https://x.test" }),
    ).toMatchObject({ changes: false });
    expect(await provider.diff?.("id", olds, { ...inputs, cloud: "gcc" })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(await provider.diff?.("id", olds, { ...inputs, tenantId: M365 })).toMatchObject({
      changes: true,
      replaces: ["tenantId"],
    });
    emulator.knobs.auditDisabled = true;
    const updated = await provider.update?.("id", olds, inputs);
    expect(updated?.outs).toMatchObject({ changed: true });
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
  });
});
