import { AuthenticationError } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { ManagementApiError, parseApiError } from "../../collector/src/source/apiError";
import { classifyApiResponse } from "../../collector/src/source/classifier";
import { formatApiTime } from "../../domain/apiLimits";
import {
  buildReport,
  type CheckResult,
  exitCodeFor,
  overallStatus,
  renderJson,
  renderTable,
  shouldColor,
} from "../../scripts/common/output";
import { decodeJwtPayload } from "../../scripts/verify/checks/token";
import {
  AUDIT_OFF_REASON,
  describeManagementError,
  describeTokenError,
  isAuditOffError,
  isSubscriptionDisabledError,
} from "../../scripts/verify/explain";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";
import { listingWindows, MAX_LISTING_WINDOW_IN_MS } from "../../scripts/verify/probes/management";
import { recordsQuery } from "../../scripts/verify/probes/workspace";

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";

async function config(extra: string[] = []): Promise<VerifyConfig> {
  const c = await resolveVerifyConfig(["--tenant-id", TENANT, "--client-id", CLIENT, ...extra], {
    AZURE_CLIENT_SECRET: "x",
  });
  if (c === "help") throw new Error("help");
  return c;
}

function jwt(payload: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}.c2ln`;
}

describe("token helpers", () => {
  it("decodes the roles claim from a base64url JWT payload", () => {
    const claims = decodeJwtPayload(
      jwt({ aud: "https://manage.office.com", roles: ["ActivityFeed.Read"], tid: TENANT }),
    );
    expect(claims.roles).toEqual(["ActivityFeed.Read"]);
    expect(claims.tid).toBe(TENANT);
  });

  it("returns no claims for something that is not a JWT", () => {
    expect(decodeJwtPayload("opaque-token")).toEqual({});
    expect(decodeJwtPayload("a.!!!.c")).toEqual({});
  });

  it.each([
    ["AADSTS7000215", "wrong client secret (AADSTS7000215)"],
    ["AADSTS7000222", "the client secret has expired (AADSTS7000222)"],
    ["AADSTS700016", `unknown app: no application ${CLIENT}`],
    ["AADSTS90002", `unknown tenant: ${TENANT} does not exist (AADSTS90002)`],
  ])("gives %s its own message", async (code, expected) => {
    const error = new AuthenticationError(400, {
      error: "invalid_client",
      error_description: `${code}: something went wrong. Trace ID: x`,
    });
    const described = describeTokenError(error, await config());
    expect(described.reason).toContain(expected);
    expect(described.aadsts).toBe(code.slice(6));
    expect(described.fix.length).toBeGreaterThan(10);
  });

  it("puts the admin-consent URL on the cloud's login host into the unknown-app fix", async () => {
    const error = new Error("AADSTS700016: Application not found");
    const described = describeTokenError(error, await config(["--cloud", "gcchigh"]));
    expect(described.fix).toContain(
      `https://login.microsoftonline.us/${TENANT}/adminconsent?client_id=${CLIENT}`,
    );
  });

  it("names the login host when the network fails", async () => {
    const error = Object.assign(new Error("fetch failed"), { code: "ECONNREFUSED" });
    expect(describeTokenError(error, await config()).reason).toBe(
      "cannot reach the login host login.microsoftonline.com (ECONNREFUSED)",
    );
  });
});

/**
 * An API answer as the collector's client turns it into an error: the body parsed and the
 * answer classified by the one classifier; `attempts` as the retry policy adds them.
 */
function answer(status: number, bodyText: string, attempts?: number): ManagementApiError {
  const { code, message } = parseApiError(bodyText);
  return new ManagementApiError({
    operation: "subscriptions/list",
    status,
    code,
    apiMessage: message,
    classification: classifyApiResponse({ status, code, message, operation: "subscriptions/list" }),
    attempts,
  });
}

describe("Management API error explanations", () => {
  it("recognises audit-off by the DataServiceException text, not the code", async () => {
    const body = JSON.stringify({
      error: {
        code: "ListSubscriptions [CorrId=1][TenantId=x,ContentType=,ApplicationId=y][AppId",
        message:
          "abc] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant x does not exist.",
      },
    });
    const error = answer(400, body);
    expect(isAuditOffError(error)).toBe(true);
    expect(describeManagementError(error, await config(), "subscriptions/list").reason).toBe(
      AUDIT_OFF_REASON,
    );
  });

  it.each([
    [
      401,
      { error: { code: "AF10001", message: "The permission set () ..." } },
      "x: the API refused the token (401 AF10001: a role is missing)",
    ],
    [
      400,
      { error: { code: "AF20022", message: "No subscription" } },
      "x: no subscription (AF20022)",
    ],
    [
      400,
      { error: { code: "AF20023", message: "disabled" } },
      "x: the subscription was disabled (AF20023)",
    ],
    [
      400,
      { error: { code: "AF20010", message: "tenant" } },
      "x: the API does not accept this tenant (AF20010)",
    ],
    [500, { error: { code: "AF50000", message: "retry" } }, "x: the API answered 500 AF50000"],
    [503, "<html>503</html>", "x: the API answered 503"],
    [400, { error: { code: "AF20030", message: "window" } }, "x: AF20030 window"],
  ])("explains HTTP %i %j as %s", async (status, body, reason) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const error = answer(status, text);
    expect(isAuditOffError(error)).toBe(false);
    expect(describeManagementError(error, await config(), "x").reason).toBe(reason);
  });

  it("tells a disabled subscription from the other answers", () => {
    expect(isSubscriptionDisabledError(answer(400, '{"error":{"code":"AF20023"}}'))).toBe(true);
    expect(isSubscriptionDisabledError(answer(400, '{"error":{"code":"AF20022"}}'))).toBe(false);
  });

  it("reads the single-quoted AF429 throttling body", async () => {
    const error = answer(
      403,
      "{'error':{'code':'AF429','message':'Too many requests. Method=ListContent, PublisherId=x'}}",
      3,
    );
    expect(error.classification.throttled).toBe(true);
    expect(error.code).toBe("AF429");
    expect(describeManagementError(error, await config(), "x").reason).toBe(
      "x: throttled (AF429) after 2 retries",
    );
  });

  it("splits a lookback into windows of at most 24 hours", () => {
    expect(listingWindows(0, MAX_LISTING_WINDOW_IN_MS)).toEqual([[0, MAX_LISTING_WINDOW_IN_MS]]);
    const windows = listingWindows(0, MAX_LISTING_WINDOW_IN_MS * 2 + 5);
    expect(windows).toHaveLength(3);
    expect(windows[2]).toEqual([MAX_LISTING_WINDOW_IN_MS * 2, MAX_LISTING_WINDOW_IN_MS * 2 + 5]);
    expect(formatApiTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678))).toBe("2025-01-02T03:04:05");
  });
});

describe("verify report", () => {
  const check = (status: CheckResult["status"], n = 1): CheckResult => ({
    id: "token",
    number: n,
    title: "Management API token",
    status,
    reason: `reason ${status}`,
    fix: status === "pass" ? null : `fix ${status}`,
  });

  it("maps results to exit codes 0, 1 and 3, with skips counting as passes", () => {
    expect(exitCodeFor(overallStatus([check("pass"), check("skip")]))).toBe(0);
    expect(exitCodeFor(overallStatus([check("pass"), check("warn")]))).toBe(3);
    expect(exitCodeFor(overallStatus([check("warn"), check("fail")]))).toBe(1);
  });

  it("renders a plain table without ANSI codes and lists fixes for non-passing checks", async () => {
    const report = buildReport(await config(), [check("pass", 1), check("fail", 2)], 0, 1500);
    const table = renderTable(report, { color: false });
    expect(table).not.toContain("\u001b[");
    expect(table).toContain("FAIL");
    expect(table).toContain("How to fix:");
    expect(table).toContain("fix fail");
    expect(table).not.toContain("fix pass");
    expect(table).toContain("Result: FAIL (1 failed, 0 warnings, 1 passed) in 1.5 s, exit 1");
  });

  it("colours only on a TTY with NO_COLOR unset", async () => {
    const report = buildReport(await config(), [check("warn")], 0, 1);
    expect(renderTable(report, { color: true })).toContain("\u001b[33m");
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
  });

  it("renders the JSON schema with version, summary and checks", async () => {
    const report = buildReport(await config(), [check("warn")], 0, 10);
    const parsed = JSON.parse(renderJson(report));
    expect(Object.keys(parsed).sort()).toEqual(
      [
        "checks",
        "clientId",
        "cloud",
        "durationMs",
        "exitCode",
        "schemaVersion",
        "stack",
        "startedAt",
        "status",
        "summary",
        "tenantId",
      ].sort(),
    );
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.summary).toEqual({ pass: 0, warn: 1, fail: 0, skip: 0 });
    expect(parsed.exitCode).toBe(3);
  });

  it("queries exactly the workspace shape the emulator and Log Analytics support", () => {
    expect(recordsQuery(6)).toBe(
      "M365Audit_CL | where TimeGenerated > ago(6h) | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType",
    );
  });

  it("queries a Basic table without a time filter in the query (the request carries it)", () => {
    expect(recordsQuery(6, "Basic")).toBe(
      "M365Audit_CL | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType",
    );
    expect(recordsQuery(6, "Basic")).not.toMatch(/\b(where|join|find|search|externaldata)\b/);
  });
});
