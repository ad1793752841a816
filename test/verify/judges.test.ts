import { describe, expect, it } from "vitest";
import { ManagementApiError, parseApiError } from "../../collector/src/source/apiError";
import { classifyApiResponse } from "../../collector/src/source/classifier";
import type { ContentBlob } from "../../domain/records";
import { ExchangeAdminError } from "../../scripts/audit-logging/exchangeAdmin";
import { judgeAuditEnabled } from "../../scripts/verify/checks/auditEnabled";
import { judgeContent } from "../../scripts/verify/checks/content";
import { judgeRecords, MAX_INGESTION_LAG_IN_MS } from "../../scripts/verify/checks/records";
import { judgeSubscriptions } from "../../scripts/verify/checks/subscriptions";
import { judgeToken } from "../../scripts/verify/checks/token";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);

async function config(extra: string[] = []): Promise<VerifyConfig> {
  const c = await resolveVerifyConfig(["--tenant-id", TENANT, "--client-id", CLIENT, ...extra], {
    AZURE_CLIENT_SECRET: "x",
  });
  if (c === "help") throw new Error("help");
  return c;
}

function jwt(payload: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part(payload)}.c2ln`;
}

function blob(contentType: string, createdMs: number): ContentBlob {
  return {
    contentType,
    contentId: `id-${createdMs}`,
    contentUri: `https://manage.office.com/x/${createdMs}`,
    contentCreated: new Date(createdMs).toISOString(),
    contentExpiration: new Date(createdMs + 7 * 86_400_000).toISOString(),
  } as ContentBlob;
}

function disabled(): ManagementApiError {
  const { code, message } = parseApiError('{"error":{"code":"AF20023","message":"disabled"}}');
  return new ManagementApiError({
    operation: "subscriptions/content",
    status: 400,
    code,
    apiMessage: message,
    classification: classifyApiResponse({ status: 400, code, message }),
  });
}

describe("the checks' judges are pure functions of what the probes found", () => {
  it("fails check 1 for a token from another tenant, naming AF20010", async () => {
    const outcome = judgeToken(
      await config(),
      {
        ok: true,
        token: {
          token: jwt({ tid: "99999999-2222-3333-4444-555555555555", roles: [] }),
          expiresOnTimestamp: NOW + 3_600_000,
        },
      },
      NOW,
    );
    expect(outcome.result.status).toBe("fail");
    expect(outcome.result.reason).toContain("AF20010");
    expect(outcome.token).toBeNull();
  });

  it("fails check 1 with a timeout, not an explanation, when the run was aborted", async () => {
    const outcome = judgeToken(
      await config(),
      { ok: false, error: new Error("aborted"), discoveryAnswer: "", aborted: true },
      NOW,
    );
    expect(outcome.result.reason).toBe("the token request did not finish in time");
    expect(outcome.result.fix).toBe("re-run with a larger --timeout");
  });

  it("marks a type disabled when its listing answered AF20023 though the list says enabled", async () => {
    const c = await config(["--content-types", "Audit.Exchange"]);
    const judged = judgeSubscriptions(
      c,
      { ok: true, value: [{ contentType: "Audit.Exchange", status: "enabled", webhook: null }] },
      [{ contentType: "Audit.Exchange", listing: { ok: false, error: disabled() } }],
    );
    expect(judged).toMatchObject({ status: "fail", reason: "Audit.Exchange is disabled" });
  });

  it("warns on a disabled webhook while the subscription itself is enabled", async () => {
    const c = await config(["--content-types", "Audit.Exchange"]);
    const judged = judgeSubscriptions(
      c,
      {
        ok: true,
        value: [
          { contentType: "Audit.Exchange", status: "enabled", webhook: { status: "disabled" } },
        ],
      },
      [],
    );
    expect(judged.status).toBe("warn");
    expect(judged.reason).toContain("Audit.Exchange webhook is disabled");
  });

  it("skips content and passes a listing without failures, counting blobs per type", async () => {
    const c = await config(["--content-types", "Audit.Exchange"]);
    expect(judgeContent(c, null, NOW).status).toBe("skip");
    const judged = judgeContent(
      c,
      [
        {
          contentType: "Audit.Exchange",
          listing: { ok: true, value: [blob("Audit.Exchange", NOW - 120_000)] },
        },
      ],
      NOW,
    );
    expect(judged).toMatchObject({
      status: "pass",
      reason: "1 blobs in the last 24 h, newest 2 min old",
    });
  });

  it("warns when the workspace trails the API's newest content by more than the allowed lag", async () => {
    const c = await config(["--content-types", "Audit.Exchange", "--workspace-id", TENANT]);
    const apiNewest = NOW - 60_000;
    const ingested = apiNewest - MAX_INGESTION_LAG_IN_MS - 60_000;
    const judged = judgeRecords(
      c,
      {
        ok: true,
        value: {
          rows: [
            { contentType: "Audit.Exchange", rows: 10, newest: ingested, newestIngested: ingested },
          ],
          partial: null,
        },
      },
      [
        {
          contentType: "Audit.Exchange",
          listing: { ok: true, value: [blob("Audit.Exchange", apiNewest)] },
        },
      ],
      null,
      NOW,
    );
    expect(judged.status).toBe("warn");
    expect(judged.reason).toContain("the workspace trails the API's newest content by 61 min");
  });
});

function auditOff(): ManagementApiError {
  const body =
    '{"error":{"code":"StartSubscription [CorrId=1]","message":"Microsoft.Office.Compliance.Audit.DataServiceException: Tenant x does not exist."}}';
  const { code, message } = parseApiError(body);
  return new ManagementApiError({
    operation: "subscriptions/list",
    status: 400,
    code,
    apiMessage: message,
    classification: classifyApiResponse({ status: 400, code, message }),
  });
}

describe("check 4's judge names the source of its verdict", () => {
  it("passes from the switch even when check 1 failed and the API was not probed", async () => {
    const judged = judgeAuditEnabled(await config(), null, null, { kind: "read", enabled: true });
    expect(judged.status).toBe("pass");
    expect(judged.reason).toContain("read from Get-AdminAuditLogConfig");
    expect(judged.reason).toContain("the Management API was not probed");
  });

  it("fails from the switch with the enable command, whatever the API answered", async () => {
    const judged = judgeAuditEnabled(await config(), { ok: true, value: [] }, [], {
      kind: "read",
      enabled: false,
    });
    expect(judged).toMatchObject({
      status: "fail",
      fix: `npm run audit-logging -- enable --tenant-id ${TENANT}`,
      details: { source: "Get-AdminAuditLogConfig" },
    });
  });

  it("warns when the switch is on and the API still answers DataServiceException", async () => {
    const judged = judgeAuditEnabled(await config(), { ok: false, error: auditOff() }, null, {
      kind: "read",
      enabled: true,
    });
    expect(judged.status).toBe("warn");
    expect(judged.reason).toMatch(/^unified audit logging is enabled, not yet effective/);
  });

  it("keeps the inference's reason and says why the switch was not used", async () => {
    const unreadable = judgeAuditEnabled(await config(), { ok: false, error: auditOff() }, null, {
      kind: "unreadable",
      error: new ExchangeAdminError("forbidden", "no", "Get-AdminAuditLogConfig", 403),
    });
    expect(unreadable.status).toBe("fail");
    expect(unreadable.reason).toBe(
      "unified audit logging is off or not provisioned yet (it can take up to 60 minutes after enabling)",
    );
    expect(unreadable.details).toMatchObject({
      source: "Management Activity API (DataServiceException inference)",
      switchNotRead:
        "the caller cannot read Get-AdminAuditLogConfig: the caller lacks an Exchange role that may read it (403)",
    });
    const signedOut = judgeAuditEnabled(await config(), { ok: true, value: [] }, [], {
      kind: "unreadable",
      error: new ExchangeAdminError(
        "unavailable",
        "x",
        "Get-AdminAuditLogConfig",
        undefined,
        undefined,
        {
          cause: Object.assign(new Error("no az login"), { name: "CredentialUnavailableError" }),
        },
      ),
    });
    expect(signedOut.status).toBe("pass");
    expect(signedOut.reason).toContain(
      "no Exchange Online token for the caller (CredentialUnavailableError)",
    );
  });
});
