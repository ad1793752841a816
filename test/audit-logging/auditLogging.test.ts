/**
 * The audit-logging command against the emulated Exchange Online admin endpoint and Management
 * Activity API, over HTTPS: reading the switch, turning it on, and each known trap.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultExchangeAdminKnobs } from "../../emulator/src/exchangeAdmin";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import {
  AuditLoggingDeployError,
  enableAuditLoggingAtDeploy,
} from "../../scripts/audit-logging/deploy";
import {
  AUDIT_CONFIG_ANCHOR_MAILBOX_ID,
  DEFAULT_ANCHOR_MAILBOX_ID,
  ExchangeAdminClient,
  isExchangeAdminError,
} from "../../scripts/audit-logging/exchangeAdmin";
import {
  type AuditLoggingConfig,
  createCredential,
  managementProbe,
  resolveAuditLoggingConfig,
} from "../../scripts/audit-logging/main";
import {
  type AuditLoggingContext,
  auditLoggingEnable,
  auditLoggingStatus,
} from "../../scripts/audit-logging/run";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 31,
    scenario: { historyHours: 2, blobsPerHour: 1, recordsPerBlob: [1, 2] },
  });
});

afterAll(async () => {
  await emulator?.stop();
});

afterEach(() => {
  Object.assign(emulator.exchangeAdmin, defaultExchangeAdminKnobs());
  emulator.knobs.auditDisabled = false;
});

function env(): NodeJS.ProcessEnv {
  return {
    AZURE_TENANT_ID: emulator.tenant.tenantId,
    AZURE_CLIENT_ID: emulator.tenant.clientId,
    AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
    AZURE_AUTHORITY_HOST: emulator.url,
    EXCHANGE_ADMIN_ENDPOINT: emulator.url,
    O365_MANAGEMENT_ENDPOINT: emulator.url,
    O365_PUBLISHER_ID: emulator.tenant.publisherId,
  };
}

function config(action: "status" | "enable", extra: string[] = []): AuditLoggingConfig {
  const resolved = resolveAuditLoggingConfig([action, ...extra], env());
  if (resolved === "help") throw new Error("unexpected help");
  return resolved;
}

function context(cfg: AuditLoggingConfig): AuditLoggingContext & { lines: string[] } {
  const credential = createCredential(cfg, env());
  const lines: string[] = [];
  return {
    tenantId: cfg.tenantId,
    cloud: cfg.cloud,
    exchange: new ExchangeAdminClient({
      endpoint: cfg.exchangeEndpoint,
      audience: cfg.exchangeAudience,
      tenantId: cfg.tenantId,
      credential,
      retryBaseDelayInMs: 10,
    }),
    probeManagementApi: managementProbe(cfg, credential),
    progress: (line) => lines.push(line),
    waitInMs: cfg.waitInMs,
    pollIntervalInMs: cfg.pollIntervalInMs,
    lines,
  };
}

function callsSince(start: number) {
  return emulator.exchangeCalls().slice(start);
}

describe("audit-logging status", () => {
  it("reports on, and that the Management Activity API answers, with exit code 0", async () => {
    const result = await auditLoggingStatus(context(config("status")));
    expect(result).toMatchObject({
      command: "status",
      unifiedAuditLogIngestionEnabled: true,
      state: "on",
      exitCode: 0,
      source: "Get-AdminAuditLogConfig",
    });
    expect(result.message).toMatch(/Management Activity API answers/);
  });

  it("reports off with the exact enable command and exit code 1", async () => {
    emulator.knobs.auditDisabled = true;
    const result = await auditLoggingStatus(context(config("status")));
    expect(result).toMatchObject({ unifiedAuditLogIngestionEnabled: false, state: "off" });
    expect(result.exitCode).toBe(1);
    expect(result.fix).toBe(
      `npm run audit-logging -- enable --tenant-id ${emulator.tenant.tenantId}`,
    );
  });

  it("follows @odata.nextLink to the page that holds the answer", async () => {
    emulator.exchangeAdmin.splitPages = true;
    const result = await auditLoggingStatus(context(config("status")));
    expect(result.unifiedAuditLogIngestionEnabled).toBe(true);
  });

  it("sends the default system-mailbox anchor for reads", async () => {
    const start = emulator.exchangeCalls().length;
    await auditLoggingStatus(context(config("status")));
    expect(callsSince(start)).toEqual([
      {
        cmdlet: "Get-AdminAuditLogConfig",
        anchorMailbox: `APP:SystemMailbox{${DEFAULT_ANCHOR_MAILBOX_ID}}@${emulator.tenant.tenantId}`,
      },
    ]);
  });
});

describe("audit-logging enable", () => {
  it("turns auditing on with the audit-configuration anchor, confirms it, and says it takes time", async () => {
    emulator.knobs.auditDisabled = true;
    const start = emulator.exchangeCalls().length;
    const result = await auditLoggingEnable(context(config("enable")));
    expect(result).toMatchObject({
      command: "enable",
      unifiedAuditLogIngestionEnabled: true,
      changed: true,
      exitCode: 0,
    });
    expect(result.message).toMatch(/up to 60 minutes/);
    expect(result.message).toMatch(/12 hours/);
    const calls = callsSince(start);
    expect(calls.map((c) => c.cmdlet)).toEqual([
      "Get-AdminAuditLogConfig",
      "Get-OrganizationConfig",
      "Set-AdminAuditLogConfig",
      "Get-AdminAuditLogConfig",
    ]);
    expect(calls[2]?.anchorMailbox).toBe(
      `APP:SystemMailbox{${AUDIT_CONFIG_ANCHOR_MAILBOX_ID}}@${emulator.tenant.tenantId}`,
    );
    expect((await auditLoggingStatus(context(config("status")))).state).toBe("on");
  });

  it("changes nothing when auditing is already on", async () => {
    const start = emulator.exchangeCalls().length;
    const result = await auditLoggingEnable(context(config("enable")));
    expect(result).toMatchObject({ changed: false, exitCode: 0, state: "on" });
    expect(callsSince(start).map((c) => c.cmdlet)).toEqual(["Get-AdminAuditLogConfig"]);
  });

  it("leaves status at 'enabled, not yet effective' while the Management API still says the tenant does not exist", async () => {
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.effectDelayMs = 60 * 60_000;
    const enabled = await auditLoggingEnable(context(config("enable")));
    expect(enabled.exitCode).toBe(0);
    const status = await auditLoggingStatus(context(config("status")));
    expect(status).toMatchObject({
      unifiedAuditLogIngestionEnabled: true,
      state: "enabled-not-yet-effective",
      exitCode: 0,
    });
    expect(status.message).toMatch(/not yet effective/);
  });

  it("without the audit-configuration anchor the emulated Set answers 'Cmdlet needs proxy', which the client names", async () => {
    emulator.knobs.auditDisabled = true;
    const token = await createCredential(config("status"), env()).getToken(
      "https://outlook.office365.com/.default",
    );
    const response = await fetch(
      `${emulator.url}/adminapi/beta/${emulator.tenant.tenantId}/InvokeCommand`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token?.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          CmdletInput: {
            CmdletName: "Set-AdminAuditLogConfig",
            Parameters: { UnifiedAuditLogIngestionEnabled: true },
          },
        }),
      },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Cmdlet needs proxy/);
  });

  for (const errorShape of ["message", "details"] as const) {
    for (const dehydratedStatus of [400, 500] as const) {
      it(`recognises a dehydrated refusal (exception name in ${errorShape}, HTTP ${dehydratedStatus})`, async () => {
        emulator.knobs.auditDisabled = true;
        Object.assign(emulator.exchangeAdmin, { dehydrated: true, errorShape, dehydratedStatus });
        const client = context(config("enable")).exchange;
        const error = await client.setUnifiedAuditLogIngestionEnabled().catch((e: unknown) => e);
        expect(isExchangeAdminError(error) && error.code).toBe("dehydrated");
      });
    }
  }

  it("runs Enable-OrganizationCustomization first on a dehydrated tenant and says so", async () => {
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.dehydrated = true;
    const start = emulator.exchangeCalls().length;
    const ctx = context(config("enable"));
    const result = await auditLoggingEnable(ctx);
    expect(result).toMatchObject({ changed: true, exitCode: 0 });
    expect(callsSince(start).map((c) => c.cmdlet)).toContain("Enable-OrganizationCustomization");
    expect(ctx.lines[0]).toMatch(/dehydrated: running Enable-OrganizationCustomization/);
  });

  it("stops with exit code 1 and the next step while customization is still running", async () => {
    emulator.knobs.auditDisabled = true;
    Object.assign(emulator.exchangeAdmin, { dehydrated: true, customizationDelayMs: 3_600_000 });
    const result = await auditLoggingEnable(context(config("enable")));
    expect(result).toMatchObject({ exitCode: 1, changed: false, state: "off" });
    expect(result.error?.code).toBe("dehydrated");
    expect(result.fix).toMatch(/--wait 2h/);
  });

  it("with --wait, watches the customization finish and then turns auditing on", async () => {
    emulator.knobs.auditDisabled = true;
    Object.assign(emulator.exchangeAdmin, { dehydrated: true, customizationDelayMs: 400 });
    const ctx = context(config("enable", ["--wait", "20s", "--poll-interval", "100ms"]));
    const result = await auditLoggingEnable(ctx);
    expect(result).toMatchObject({ exitCode: 0, changed: true });
    expect(ctx.lines.some((line) => /still dehydrated/.test(line))).toBe(true);
    expect(ctx.lines).toContain("organization customization finished");
  });

  it("explains a missing Exchange role (403) with the role to grant, and changes nothing", async () => {
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.forbidden = "set";
    const result = await auditLoggingEnable(context(config("enable")));
    expect(result.exitCode).toBe(1);
    expect(result.error?.code).toBe("forbidden");
    expect(result.fix).toMatch(/Audit Logs role/);
    expect(emulator.knobs.auditDisabled).toBe(true);
  });
});

describe("enable at deploy time (the AuditLoggingSwitch's logic)", () => {
  function deployOptions() {
    const cfg = config("enable");
    return {
      tenantId: cfg.tenantId,
      cloud: cfg.cloud,
      exchangeEndpoint: cfg.exchangeEndpoint,
      authorityHost: cfg.authorityHost,
      credential: createCredential(cfg, env()),
      retryBaseDelayInMs: 10,
    };
  }

  it("turns the switch on and reports the change", async () => {
    emulator.knobs.auditDisabled = true;
    const result = await enableAuditLoggingAtDeploy(deployOptions());
    expect(result).toMatchObject({ changed: true, unifiedAuditLogIngestionEnabled: true });
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
  });

  it("throws one error with the cause and the fix for a dehydrated tenant, without waiting", async () => {
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.dehydrated = true;
    emulator.exchangeAdmin.customizationDelayMs = 60 * 60_000;
    const error = await enableAuditLoggingAtDeploy(deployOptions()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuditLoggingDeployError);
    expect((error as Error).message).toMatch(
      /^unified audit logging could not be turned on: .*still dehydrated.*; next: run npm run audit-logging -- enable --tenant-id [0-9a-f-]+ again later/,
    );
    expect((error as AuditLoggingDeployError).result.exitCode).toBe(1);
    expect(emulator.exchangeAdmin.ingestionEnabled).toBeUndefined();
  });
});
