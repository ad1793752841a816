/**
 * Check 4 against the emulated Exchange Online admin endpoint and Management Activity API, over
 * HTTPS: the switch read from Get-AdminAuditLogConfig when the caller may, the Management API's
 * DataServiceException inference when it may not, and the result saying which one it used.
 */
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import { scopeFor } from "../../domain/clouds";
import type { Emulator } from "../../emulator/src/index";
import { ensureTestCertificates } from "../../emulator/src/tls";
import { ExchangeAdminClient } from "../../scripts/audit-logging/exchangeAdmin";
import { judgeAuditEnabled } from "../../scripts/verify/checks/auditEnabled";
import { CHECK_IDS } from "../../scripts/verify/checks/result";
import { readAuditSwitch } from "../../scripts/verify/probes/auditSwitch";
import { runChecks, verify } from "../../scripts/verify/run";
import { checkById, emulatorConfig, startHealthyTenant } from "./helpers";

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function appCredential(e: Emulator): ClientSecretCredential {
  return new ClientSecretCredential(e.tenant.tenantId, e.tenant.clientId, e.tenant.clientSecret, {
    authorityHost: e.url,
    disableInstanceDiscovery: true,
  });
}

/** Verify's config for the emulator, with the Exchange admin endpoint pointed at it too. */
function withExchange(e: Emulator, extra: string[] = []) {
  return emulatorConfig(e, ["--exchange-endpoint", e.url, ...extra]);
}

function switchReads(e: Emulator): number {
  return e.exchangeCalls().filter((c) => c.cmdlet === "Get-AdminAuditLogConfig").length;
}

describe("check 4 reads the real switch when the caller can", () => {
  it("passes, read from Get-AdminAuditLogConfig, when the switch is on", async () => {
    emulator = await startHealthyTenant();
    emulator.exchangeAdmin.ingestionEnabled = true;
    const report = await verify(await withExchange(emulator));
    const audit = checkById(report, "audit-enabled");
    expect(audit).toMatchObject({
      status: "pass",
      reason: "unified audit logging is on (read from Get-AdminAuditLogConfig)",
      fix: null,
      details: { source: "Get-AdminAuditLogConfig", unifiedAuditLogIngestionEnabled: true },
    });
    expect(switchReads(emulator)).toBe(1);
    expect(report.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
    expect(report.exitCode).toBe(0);
  });

  it("fails with the exact enable command when the switch is off", async () => {
    emulator = await startHealthyTenant();
    emulator.knobs.auditDisabled = true;
    const report = await verify(await withExchange(emulator));
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("fail");
    expect(audit.reason).toContain("unified audit logging is off");
    expect(audit.reason).toContain("read from Get-AdminAuditLogConfig");
    expect(audit.fix).toBe(
      `npm run audit-logging -- enable --tenant-id ${emulator.tenant.tenantId}`,
    );
    expect(audit.details).toMatchObject({
      source: "Get-AdminAuditLogConfig",
      unifiedAuditLogIngestionEnabled: false,
    });
    expect(report.exitCode).toBe(1);
  });

  it("warns 'enabled, not yet effective' while the Management API still answers DataServiceException", async () => {
    emulator = await startHealthyTenant();
    emulator.knobs.auditDisabled = true;
    emulator.exchangeAdmin.effectDelayMs = 60 * 60_000;
    // Turn it on as `audit-logging enable` does; the emulated API keeps answering "audit off".
    await new ExchangeAdminClient({
      endpoint: emulator.url,
      audience: "https://outlook.office365.com",
      tenantId: emulator.tenant.tenantId,
      credential: appCredential(emulator),
    }).setUnifiedAuditLogIngestionEnabled();
    expect(emulator.exchangeAdmin.ingestionEnabled).toBe(true);
    expect(emulator.knobs.auditDisabled).toBe(true);

    const report = await verify(await withExchange(emulator));
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("warn");
    expect(audit.reason).toContain("enabled, not yet effective");
    expect(audit.reason).toContain("read from Get-AdminAuditLogConfig");
    expect(audit.fix).toContain("60 minutes");
    expect(audit.details).toMatchObject({
      source: "Get-AdminAuditLogConfig",
      answer: "DataServiceException: tenant does not exist",
    });
  });
});

describe("check 4 falls back to the Management API's answer and says so", () => {
  it("infers 'on' and names the 403 when the caller may not read the switch", async () => {
    emulator = await startHealthyTenant();
    emulator.exchangeAdmin.forbidden = "all";
    const report = await verify(await withExchange(emulator));
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("pass");
    expect(audit.reason).toContain("the Management API serves this tenant's audit content");
    expect(audit.reason).toContain(
      "inferred: the caller cannot read Get-AdminAuditLogConfig: the caller lacks an Exchange role that may read it (403)",
    );
    expect(audit.details).toMatchObject({
      source: "Management Activity API (DataServiceException inference)",
    });
    expect(switchReads(emulator)).toBe(1);
    expect(report.checks).toHaveLength(CHECK_IDS.length);
  });

  it("infers 'off' with the enable command when the switch is unreadable and the API answers DataServiceException", async () => {
    emulator = await startHealthyTenant();
    emulator.exchangeAdmin.forbidden = "all";
    emulator.knobs.auditDisabled = true;
    const report = await verify(await withExchange(emulator));
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("fail");
    expect(audit.reason).toBe(
      "unified audit logging is off or not provisioned yet (it can take up to 60 minutes after enabling)",
    );
    expect(audit.fix).toContain(
      `npm run audit-logging -- enable --tenant-id ${emulator.tenant.tenantId}`,
    );
    expect(audit.fix).toContain("inferred from the Management API");
    expect(audit.fix).toContain("(403)");
  });

  it("names the 401 when Exchange Online refuses the caller's token", async () => {
    emulator = await startHealthyTenant();
    const e = emulator;
    const app = appCredential(e);
    // Hands Exchange Online a Graph token: the emulated endpoint answers 401, as Exchange does.
    const wrongAudience: TokenCredential = {
      getToken: (scopes, options) =>
        app.getToken(
          [scopes]
            .flat()
            .map((s) => (s.includes("outlook") ? scopeFor("https://graph.microsoft.com") : s)),
          options,
        ),
    };
    const checks = await runChecks(await withExchange(e), {
      callerCredential: { credential: wrongAudience, description: "test" },
    });
    const audit = checks.find((c) => c.id === "audit-enabled");
    expect(audit?.status).toBe("pass");
    expect(audit?.reason).toContain(
      "inferred: the caller cannot read Get-AdminAuditLogConfig: Exchange Online refused the caller's token (401)",
    );
    expect(switchReads(e)).toBe(0);
  });

  it("does not try the switch with a non-Microsoft login host and no --exchange-endpoint", async () => {
    emulator = await startHealthyTenant();
    const config = await emulatorConfig(emulator);
    expect(config.readAuditSwitch).toBe(false);
    const report = await verify(config);
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("pass");
    expect(audit.reason).toContain(
      "inferred: the switch was not read: --authority-host is not Microsoft's and no --exchange-endpoint was given",
    );
    expect(emulator.exchangeCalls()).toHaveLength(0);
  });
});

describe("the switch probe is bounded", () => {
  it("gives up on an Exchange endpoint that never answers, leaving check 4 the fallback", async () => {
    emulator = await startHealthyTenant();
    const { cert, key } = await ensureTestCertificates();
    const hanging = createServer({ cert, key }, () => {
      // Never answers.
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      const port = (hanging.address() as AddressInfo).port;
      const config = await emulatorConfig(emulator, [
        "--exchange-endpoint",
        `https://127.0.0.1:${port}`,
      ]);
      const started = Date.now();
      const reading = await readAuditSwitch(config, appCredential(emulator), { timeoutInMs: 500 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(reading.kind).toBe("unreadable");
      const judged = judgeAuditEnabled(config, { ok: true, value: [] }, [], reading);
      expect(judged.status).toBe("pass");
      expect(judged.reason).toContain(
        "the caller cannot read Get-AdminAuditLogConfig: the read timed out",
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
