import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { INTERACTIVE_RETRY_PRESET } from "../../collector/src/source/retryPolicy";
import type { Emulator } from "../../emulator/src/index";
import { renderJson, renderTable, type VerifyReport } from "../../scripts/common/output";
import { serviceHealthResult } from "../../scripts/verify/checks/serviceHealth";
import { verify } from "../../scripts/verify/run";
import {
  checkById,
  emulatorConfig,
  ingestRows,
  startHealthyTenant,
  startSmallTenant,
  startSubscriptions,
} from "./helpers";

const DAY_MS = 24 * 60 * 60 * 1000;

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function statuses(report: VerifyReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/** A tenant where the collector has subscribed and delivered rows. */
async function healthyTenant(
  options: Parameters<typeof startSmallTenant>[0] = {},
): Promise<Emulator> {
  emulator = await startHealthyTenant(options);
  return emulator;
}

describe("verify against a healthy emulated tenant", () => {
  it("passes all eight checks and exits 0", async () => {
    const e = await healthyTenant();
    const report = await verify(await emulatorConfig(e));
    expect(statuses(report)).toEqual({
      token: "pass",
      permissions: "pass",
      "credential-expiry": "pass",
      "audit-enabled": "pass",
      subscriptions: "pass",
      content: "pass",
      records: "pass",
      "service-health": "pass",
    });
    expect(report.exitCode).toBe(0);
    expect(checkById(report, "permissions").reason).toContain("Graph shows the same grants");
    expect(checkById(report, "records").details).toMatchObject({
      rows: 15,
      ingestionLagMinutes: 0,
    });
    const content = checkById(report, "content").details as {
      contentTypes: Record<string, { blobs: number }>;
    };
    expect(Object.keys(content.contentTypes)).toHaveLength(5);
    for (const perType of Object.values(content.contentTypes))
      expect(perType.blobs).toBeGreaterThan(0);
  });

  it("follows NextPageUri so every listed blob is counted", async () => {
    const e = await healthyTenant({ scenario: { pageSize: 2 } });
    const report = await verify(await emulatorConfig(e, ["--content-types", "Audit.Exchange"]));
    const details = checkById(report, "content").details as {
      contentTypes: Record<string, { blobs: number }>;
    };
    const listed = e.truth
      .listedBlobs("Audit.Exchange")
      .filter((b) => Date.parse(b.contentCreated) >= e.now() - DAY_MS).length;
    expect(listed).toBeGreaterThan(2);
    expect(details.contentTypes["Audit.Exchange"]?.blobs).toBe(listed);
    const pages = e.truth
      .requestLog()
      .filter((r) => r.path.endsWith("/subscriptions/content") && r.query.includes("nextPage"));
    expect(pages.length).toBeGreaterThan(0);
  });

  it("retries throttled (AF429) answers and still passes", async () => {
    const e = await healthyTenant();
    e.knobs.af429Burst = 2;
    const report = await verify(await emulatorConfig(e));
    expect(report.status).toBe("pass");
    expect(e.knobs.af429Burst).toBe(0);
    expect(e.truth.requestLog().filter((r) => r.code === "AF429")).toHaveLength(2);
  });

  it("never prints the client secret or a token in the table or the JSON", async () => {
    const e = await healthyTenant();
    const report = await verify(await emulatorConfig(e));
    const output = renderJson(report) + renderTable(report, { color: false });
    expect(output).not.toContain(e.tenant.clientSecret);
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });
});

describe("verify failure modes against the emulator", () => {
  it("gives up on a failing API within seconds, after the interactive retry preset's attempts", async () => {
    const e = await healthyTenant();
    e.knobs.serverErrorRate = 1;
    const report = await verify(await emulatorConfig(e));
    const subscriptions = checkById(report, "subscriptions");
    expect(subscriptions.status).toBe("fail");
    expect(subscriptions.reason).toBe("subscriptions/list: the API answered 503");
    expect(subscriptions.fix).toContain("re-run later");
    const listCalls = e.truth.requestLog().filter((r) => r.path.endsWith("/subscriptions/list"));
    expect(listCalls).toHaveLength(INTERACTIVE_RETRY_PRESET.maxAttempts);
    expect(report.durationMs).toBeLessThan(INTERACTIVE_RETRY_PRESET.deadlineInMs + 5_000);
  });

  it("fails check 4 with the audit-off message and fix when unified audit logging is off", async () => {
    const e = await healthyTenant();
    e.knobs.auditDisabled = true;
    const report = await verify(await emulatorConfig(e));
    const audit = checkById(report, "audit-enabled");
    expect(audit.status).toBe("fail");
    expect(audit.reason).toBe(
      "unified audit logging is off or not provisioned yet (it can take up to 60 minutes after enabling)",
    );
    expect(audit.fix).toContain("Purview portal → Audit");
    expect(audit.fix).toContain("Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true");
    expect(checkById(report, "token").status).toBe("pass");
    expect(report.exitCode).toBe(1);
  });

  it("fails check 2 with the admin-consent URL when consent is missing", async () => {
    const e = await healthyTenant();
    e.knobs.grantedRoles = [];
    const report = await verify(await emulatorConfig(e));
    const permissions = checkById(report, "permissions");
    expect(permissions.status).toBe("fail");
    expect(permissions.reason).toContain(
      "the token lacks ActivityFeed.Read and ActivityFeed.ReadDlp",
    );
    expect(permissions.fix).toContain(
      `${e.url}/${e.tenant.tenantId}/adminconsent?client_id=${e.tenant.clientId}`,
    );
    expect(permissions.details).toMatchObject({ tokenRoles: [], graphRoles: [] });
    expect(checkById(report, "subscriptions").reason).toContain("401 AF10001");
    expect(report.exitCode).toBe(1);
  });

  it("fails check 2 on the DLP role only when DLP.All is configured", async () => {
    const e = await healthyTenant();
    e.knobs.grantedRoles = ["ActivityFeed.Read", "ServiceHealth.Read"];
    const withDlp = await verify(await emulatorConfig(e));
    expect(checkById(withDlp, "permissions").status).toBe("fail");
    expect(checkById(withDlp, "permissions").reason).toContain(
      "lacks ActivityFeed.ReadDlp, needed for DLP.All",
    );
    expect(checkById(withDlp, "content").status).toBe("fail");

    const withoutDlp = await verify(
      await emulatorConfig(e, [
        "--content-types",
        "Audit.Exchange,Audit.SharePoint,Audit.General,Audit.AzureActiveDirectory",
      ]),
    );
    expect(checkById(withoutDlp, "permissions").status).toBe("pass");
  });

  it("fails check 1 with the expired-secret message when the secret has expired", async () => {
    emulator = await startSmallTenant();
    emulator.knobs.secretExpiresAtMs = emulator.now() - DAY_MS;
    const report = await verify(await emulatorConfig(emulator));
    const token = checkById(report, "token");
    expect(token.status).toBe("fail");
    expect(token.reason).toBe("the client secret has expired (AADSTS7000222)");
    expect(token.fix).toContain("pulumi up");
    expect(checkById(report, "credential-expiry")).toMatchObject({ status: "fail" });
    expect(checkById(report, "subscriptions").status).toBe("skip");
    expect(report.exitCode).toBe(1);
  });

  it("warns in check 3 when the secret expires within 30 days", async () => {
    const e = await healthyTenant();
    e.knobs.secretExpiresAtMs = e.now() + 10 * DAY_MS + 60_000;
    const report = await verify(await emulatorConfig(e));
    const expiry = checkById(report, "credential-expiry");
    expect(expiry.status).toBe("warn");
    expect(expiry.reason).toMatch(
      /^the client secret expires in 10 days \(\d{4}-\d\d-\d\d\), within the 30-day warning period$/,
    );
    expect(report.exitCode).toBe(3);
  });

  it("fails check 3 when the secret expires before the next rotation", async () => {
    const e = await healthyTenant();
    const report = await verify(await emulatorConfig(e, ["--rotation-days", "200"]));
    const expiry = checkById(report, "credential-expiry");
    expect(expiry.status).toBe("fail");
    expect(expiry.reason).toContain("before its next rotation");
  });

  it("fails check 5 when an admin disabled a subscription", async () => {
    const e = await healthyTenant();
    e.knobs.subscriptionsDisabled = ["Audit.Exchange"];
    const report = await verify(await emulatorConfig(e));
    const subscriptions = checkById(report, "subscriptions");
    expect(subscriptions.status).toBe("fail");
    expect(subscriptions.reason).toBe("Audit.Exchange is disabled");
    expect(subscriptions.fix).toContain("npm run collector -- run --once");
    expect(checkById(report, "content").reason).toContain("AF20023");
  });

  it("fails check 5 when no subscription was ever started", async () => {
    emulator = await startSmallTenant();
    await ingestRows(emulator);
    const report = await verify(
      await emulatorConfig(emulator, ["--content-types", "Audit.General"]),
    );
    expect(checkById(report, "subscriptions")).toMatchObject({
      status: "fail",
      reason: "Audit.General has no subscription",
    });
  });

  it("fails check 6 when no content was listed in the last 24 hours", async () => {
    emulator = await startSmallTenant({ scenario: { historyHours: 72, blobsPerHour: 1 } });
    await startSubscriptions(emulator);
    await ingestRows(emulator);
    // Move the emulator's clock three days on: all content is older than the 24 h lookback.
    emulator.knobs.clockOffsetMs = 3 * DAY_MS + 3_600_000;
    const config = await emulatorConfig(emulator);
    const e = emulator;
    const report = await verify(config, { nowMs: () => e.now() });
    const content = checkById(report, "content");
    expect(content.status).toBe("fail");
    expect(content.reason).toBe("no content listed in the last 24 h for any of 5 content types");
    expect(content.fix).toContain("12 hours");
  });

  it("fails check 7 when nothing was ingested into the workspace", async () => {
    emulator = await startSmallTenant();
    await startSubscriptions(emulator);
    const report = await verify(await emulatorConfig(emulator));
    const records = checkById(report, "records");
    expect(records.status).toBe("fail");
    expect(records.reason).toBe("no M365Audit_CL rows in the last 24 h");
    expect(records.fix).toContain("Monitoring Metrics Publisher");
  });

  it("warns in check 7 when a content type has content but no rows", async () => {
    emulator = await startSmallTenant();
    await startSubscriptions(emulator);
    await ingestRows(emulator, ["Audit.Exchange"]);
    const report = await verify(
      await emulatorConfig(emulator, ["--content-types", "Audit.Exchange,Audit.SharePoint"]),
    );
    const records = checkById(report, "records");
    expect(records.status).toBe("warn");
    expect(records.reason).toContain("no rows for Audit.SharePoint although the API lists content");
  });

  it("passes check 7 over a Basic table through the /search API", async () => {
    const e = await healthyTenant();
    e.knobs.tablePlan = "Basic";
    const report = await verify(await emulatorConfig(e, ["--table-plan", "Basic"]));
    const records = checkById(report, "records");
    expect(records.status).toBe("pass");
    expect(records.details).toMatchObject({ rows: 15 });
    const searches = e.truth.requestLog().filter((r) => r.path.endsWith("/search"));
    expect(searches).toHaveLength(1);
    expect(searches[0]!.query).toBe("timespan=PT24H");
    expect(e.truth.requestLog().filter((r) => r.path.endsWith("/query"))).toEqual([]);
  });

  it("fails check 7 naming --table-plan when the table's plan is not the one given", async () => {
    const e = await healthyTenant();
    e.knobs.tablePlan = "Basic";
    const records = checkById(await verify(await emulatorConfig(e)), "records");
    expect(records.status).toBe("fail");
    expect(records.reason).toContain("400");
    expect(records.fix).toContain("--table-plan names its plan (Analytics was used)");
  });

  it("skips check 7 with a fix when no workspace id is known", async () => {
    const e = await healthyTenant();
    const config = { ...(await emulatorConfig(e)), workspaceId: null };
    const report = await verify(config);
    expect(checkById(report, "records")).toMatchObject({ status: "skip" });
    expect(checkById(report, "records").fix).toContain("--workspace-id");
  });

  it("fails check 1 with the wrong-secret message and skips what needs the token", async () => {
    emulator = await startSmallTenant();
    const report = await verify(await emulatorConfig(emulator, [], "not-the-secret"));
    const token = checkById(report, "token");
    expect(token.status).toBe("fail");
    expect(token.reason).toContain("wrong client secret (AADSTS7000215)");
    expect(token.fix).toContain("AZURE_CLIENT_SECRET");
    for (const id of ["permissions", "audit-enabled", "subscriptions", "content"] as const) {
      expect(checkById(report, id).status).toBe("skip");
    }
    expect(renderJson(report)).not.toContain("not-the-secret");
  });

  it("fails check 1 with the unknown-app message for a client id the tenant does not have", async () => {
    emulator = await startSmallTenant();
    const config = {
      ...(await emulatorConfig(emulator)),
      clientId: "0badc0de-0000-4000-8000-000000000000",
    };
    const report = await verify(config);
    expect(checkById(report, "token").reason).toContain("unknown app");
    expect(checkById(report, "token").reason).toContain("AADSTS700016");
  });

  it("fails check 1 with the unknown-tenant message for a tenant Entra does not know", async () => {
    emulator = await startSmallTenant();
    const config = {
      ...(await emulatorConfig(emulator)),
      tenantId: "0badc0de-0000-4000-8000-000000000000",
    };
    const report = await verify(config);
    expect(checkById(report, "token")).toMatchObject({
      status: "fail",
      reason: "unknown tenant: 0badc0de-0000-4000-8000-000000000000 does not exist (AADSTS90002)",
    });
    expect(checkById(report, "service-health").fix).toContain("AZURE_VERIFY_CLIENT_ID");
  });

  it("warns in check 7 when the collector's /healthz is unhealthy, and passes when it is healthy", async () => {
    const e = await healthyTenant();
    let healthy = false;
    const server: Server = createServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: healthy ? "ok" : "degraded" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
      const config = await emulatorConfig(e, ["--healthz-url", url]);
      const sick = checkById(await verify(config), "records");
      expect(sick.status).toBe("warn");
      expect(sick.reason).toContain("collector /healthz answered 503 (degraded)");
      healthy = true;
      const fine = checkById(await verify(config), "records");
      expect(fine.status).toBe("pass");
      expect(fine.reason).toContain("collector /healthz answered 200 (ok)");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("fails unfinished checks with a timeout message when the deadline passes", async () => {
    const e = await healthyTenant();
    e.knobs.latencyMs = 4_000;
    const config = { ...(await emulatorConfig(e)), timeoutInMs: 1_000 };
    const started = Date.now();
    const report = await verify(config);
    // Without the deadline the token, list and content requests alone would take 12 s.
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(checkById(report, "subscriptions")).toMatchObject({
      status: "fail",
      reason: "did not finish within the 1 s timeout",
    });
  });
});

describe("service health as context", () => {
  it("warns only for degraded workloads that feed the audit log", () => {
    const degraded = serviceHealthResult([
      { id: "Exchange", service: "Exchange Online", status: "serviceDegradation" },
      { id: "Dynamics365", service: "Dynamics 365 Apps", status: "serviceInterruption" },
      { id: "SharePoint", service: "SharePoint Online", status: "serviceOperational" },
    ]);
    expect(degraded.status).toBe("warn");
    expect(degraded.reason).toBe(
      "degraded: Exchange Online (serviceDegradation); audit content may be delayed",
    );
    const fine = serviceHealthResult([
      { id: "Exchange", service: "Exchange Online", status: "serviceRestored" },
      { id: "Dynamics365", service: "Dynamics 365 Apps", status: "serviceInterruption" },
    ]);
    expect(fine).toMatchObject({ status: "pass", fix: null });
  });
});
