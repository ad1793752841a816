import { gzipSync } from "node:zlib";
import { isAggregateLogsUploadError, LogsIngestionClient } from "@azure/monitor-ingestion";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { Client } from "@microsoft/microsoft-graph-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { credentialFor, rawToken } from "./helpers";

let emulator: Emulator;
let monitorToken: string;

function row(i: number, contentType = "Audit.Exchange", timeMs = Date.now() - 60_000) {
  return {
    TimeGenerated: new Date(timeMs).toISOString(),
    RecordId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    RecordType: 2,
    RecordTypeName: "ExchangeItem",
    Operation: "MailItemsAccessed",
    Workload: "Exchange",
    UserId: "user@contoso.example",
    UserKey: "1003200000000001",
    UserType: 0,
    ClientIP: "203.0.113.7",
    ResultStatus: "Succeeded",
    ObjectId: null,
    OrganizationId: emulator.tenant.tenantId,
    ContentType: contentType,
    ContentId: "id$1",
    ContentCreated: new Date(timeMs).toISOString(),
    AuditData: { Id: String(i), Operation: "MailItemsAccessed" },
  };
}

async function post(body: Buffer | string, headers: Record<string, string> = {}, path?: string) {
  const url =
    path ??
    `${emulator.url}/dataCollectionRules/${emulator.ingestion.ruleId}/streams/${emulator.ingestion.stream}?api-version=2023-01-01`;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${monitorToken}`,
      "Content-Type": "application/json",
      ...headers,
    },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as { error: { code: string; message: string } }) : undefined,
  };
}

beforeAll(async () => {
  emulator = await startEmulator({ seed: 41, scenario: { historyHours: 1, blobsPerHour: 1 } });
  monitorToken = await rawToken(emulator, "https://monitor.azure.com/.default");
});
afterAll(async () => {
  await emulator.stop();
});

describe("Logs Ingestion", () => {
  it("accepts gzip uploads from LogsIngestionClient and keeps the rows for read-back", async () => {
    const client = new LogsIngestionClient(emulator.url, credentialFor(emulator));
    const rows = Array.from({ length: 250 }, (_, i) => row(i));
    await client.upload(emulator.ingestion.ruleId, emulator.ingestion.stream, rows);
    const ingested = emulator.truth.ingestedRows();
    expect(ingested.length).toBe(250);
    expect(ingested[0]!.stream).toBe("Custom-M365Audit");
    expect(ingested[0]!.row).toEqual(rows[0]);
    expect(ingested[0]!.ingestedAtMs).toBeGreaterThan(Date.now() - 60_000);
    const uploads = emulator.truth
      .requestLog()
      .filter((r) => r.path.startsWith("/dataCollectionRules/"));
    expect(uploads.every((r) => r.status === 204)).toBe(true);
  });

  it("splits a large upload into chunks under the limit, all accepted", async () => {
    const before = emulator.truth.ingestedRows().length;
    const client = new LogsIngestionClient(emulator.url, credentialFor(emulator));
    const big = "x".repeat(2000);
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      ...row(10_000 + i),
      AuditData: { blob: big, i },
    }));
    await client.upload(emulator.ingestion.ruleId, emulator.ingestion.stream, rows);
    expect(emulator.truth.ingestedRows().length - before).toBe(1200);
  });

  it("accepts a plain JSON body and answers 204", async () => {
    const response = await post(JSON.stringify([row(1)]));
    expect(response.status).toBe(204);
  });

  it("answers 413 for a body over 1,000,000 bytes", async () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({
      ...row(i),
      AuditData: { pad: "y".repeat(2100) },
    }));
    const text = JSON.stringify(rows);
    expect(Buffer.byteLength(text)).toBeGreaterThan(1_000_000);
    const response = await post(text);
    expect(response.status).toBe(413);
    expect(response.json!.error.message).toMatch(/1000000-byte limit/);
  });

  it("answers 413 for a gzip body that inflates past the limit", async () => {
    const rows = Array.from({ length: 600 }, (_, i) => ({
      ...row(i),
      AuditData: { pad: "z".repeat(2100) },
    }));
    const response = await post(gzipSync(JSON.stringify(rows)), { "Content-Encoding": "gzip" });
    expect(response.status).toBe(413);
  });

  it("answers 400 naming a column the stream does not declare", async () => {
    const response = await post(JSON.stringify([row(1), { ...row(2), Extra: 1 }]));
    expect(response.status).toBe(400);
    expect(response.json!.error.message).toBe(
      "Row 1 has column 'Extra', which stream Custom-M365Audit does not declare.",
    );
  });

  it("answers 400 for a body that is not a JSON array, and for corrupt gzip", async () => {
    expect((await post("{}")).status).toBe(400);
    expect((await post("not json")).status).toBe(400);
    expect((await post(Buffer.from("not gzip"), { "Content-Encoding": "gzip" })).status).toBe(400);
  });

  it("checks the bearer audience, the rule id, the stream and the api-version", async () => {
    const manageToken = await rawToken(emulator, "https://manage.office.com/.default");
    const wrongAudience = await fetch(
      `${emulator.url}/dataCollectionRules/${emulator.ingestion.ruleId}/streams/${emulator.ingestion.stream}?api-version=2023-01-01`,
      { method: "POST", headers: { Authorization: `Bearer ${manageToken}` }, body: "[]" },
    );
    expect(wrongAudience.status).toBe(401);
    const base = `${emulator.url}/dataCollectionRules`;
    expect(
      (
        await post(
          "[]",
          {},
          `${base}/dcr-unknown/streams/${emulator.ingestion.stream}?api-version=2023-01-01`,
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await post(
          "[]",
          {},
          `${base}/${emulator.ingestion.ruleId}/streams/Custom-Other?api-version=2023-01-01`,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await post(
          "[]",
          {},
          `${base}/${emulator.ingestion.ruleId}/streams/${emulator.ingestion.stream}`,
        )
      ).status,
    ).toBe(400);
  });

  it("answers 429 with Retry-After when the knob says so, which the SDK retries", async () => {
    emulator.knobs.ingestionThrottle = { count: 1, retryAfterSeconds: 0 };
    const before = emulator.truth.ingestedRows().length;
    const client = new LogsIngestionClient(emulator.url, credentialFor(emulator));
    await client.upload(emulator.ingestion.ruleId, emulator.ingestion.stream, [row(7)]);
    expect(emulator.truth.ingestedRows().length - before).toBe(1);
    const statuses = emulator.truth
      .requestLog()
      .filter((r) => r.path.startsWith("/dataCollectionRules/"))
      .map((r) => r.status);
    expect(statuses.slice(-2)).toEqual([429, 204]);
  });

  it("answers 429 without Retry-After, which the SDK does not retry", async () => {
    emulator.knobs.ingestionThrottle = { count: 1 };
    const raw = await post(JSON.stringify([row(8)]));
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBeNull();
    emulator.knobs.ingestionThrottle = { count: 1 };
    const client = new LogsIngestionClient(emulator.url, credentialFor(emulator));
    const error = await client
      .upload(emulator.ingestion.ruleId, emulator.ingestion.stream, [row(9)])
      .catch((e: unknown) => e);
    expect(isAggregateLogsUploadError(error)).toBe(true);
    expect(emulator.knobs.ingestionThrottle.count).toBe(0);
  });

  it("answers 503 during an outage", async () => {
    emulator.knobs.ingestionOutage = true;
    try {
      expect((await post(JSON.stringify([row(1)]))).status).toBe(503);
    } finally {
      emulator.knobs.ingestionOutage = false;
    }
  });
});

describe("Log Analytics query", () => {
  it("answers verify's summary query through LogsQueryClient from the ingested rows", async () => {
    const client = new LogsQueryClient(credentialFor(emulator), { endpoint: `${emulator.url}/v1` });
    const old = Date.now() - 5 * 3_600_000;
    const fresh = [
      row(501, "Audit.SharePoint"),
      row(502, "Audit.SharePoint"),
      row(503, "DLP.All", old),
    ];
    expect((await post(JSON.stringify(fresh))).status).toBe(204);
    const result = await client.queryWorkspace(
      emulator.ingestion.workspaceId,
      "M365Audit_CL | where TimeGenerated > ago(2h) | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType",
      { duration: "P1D" },
    );
    expect(result.status).toBe("Success");
    if (result.status !== "Success") return;
    const table = result.tables[0]!;
    expect(table.columnDescriptors.map((c) => c.name)).toEqual([
      "ContentType",
      "Rows",
      "Newest",
      "NewestIngested",
    ]);
    const byType = new Map(table.rows.map((r) => [r[0], r]));
    expect(byType.get("Audit.SharePoint")![1]).toBe(2);
    expect(byType.get("DLP.All")).toBeUndefined();
    const exchangeRows = emulator.truth
      .ingestedRows()
      .filter(
        (r) =>
          r.row.ContentType === "Audit.Exchange" &&
          Date.parse(String(r.row.TimeGenerated)) > Date.now() - 2 * 3_600_000,
      );
    expect(byType.get("Audit.Exchange")![1]).toBe(exchangeRows.length);
    expect(byType.get("Audit.SharePoint")![2]).toBeInstanceOf(Date);
  });

  it("refuses any other query with a message naming the supported shape", async () => {
    const token = await rawToken(emulator, "https://api.loganalytics.io/.default");
    const response = await fetch(
      `${emulator.url}/v1/workspaces/${emulator.ingestion.workspaceId}/query`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ query: "M365Audit_CL | take 10" }),
      },
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; innererror: { message: string } };
    };
    expect(body.error.code).toBe("BadArgumentError");
    expect(body.error.innererror.message).toContain("summarize Rows = count()");
  });

  it("answers a Basic table's summary on /search, with the time range from ?timespan=", async () => {
    const token = await rawToken(emulator, "https://api.loganalytics.io/.default");
    const search = (timespan: string | null, query: string) =>
      fetch(
        `${emulator.url}/v1/workspaces/${emulator.ingestion.workspaceId}/search${timespan ? `?timespan=${timespan}` : ""}`,
        {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ query }),
        },
      );
    const summary =
      "M365Audit_CL | summarize Rows = count(), Newest = max(TimeGenerated), NewestIngested = max(ingestion_time()) by ContentType";
    const old = Date.now() - 5 * 3_600_000;
    expect(
      (await post(JSON.stringify([row(601, "Audit.General"), row(602, "Audit.General", old)])))
        .status,
    ).toBe(204);
    // An Analytics table is not searched, and /query refuses a Basic one.
    expect((await search("PT2H", summary)).status).toBe(400);
    emulator.knobs.tablePlan = "Basic";
    try {
      const refused = await fetch(
        `${emulator.url}/v1/workspaces/${emulator.ingestion.workspaceId}/query`,
        {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            query: summary.replace("| summarize", "| where TimeGenerated > ago(2h) | summarize"),
          }),
        },
      );
      expect(refused.status).toBe(400);
      expect(
        ((await refused.json()) as { error: { innererror: { message: string } } }).error.innererror
          .message,
      ).toContain("/search");
      const answered = await search("PT2H", summary);
      expect(answered.status).toBe(200);
      const table = ((await answered.json()) as { tables: { rows: unknown[][] }[] }).tables[0]!;
      const general = table.rows.find((r) => r[0] === "Audit.General")!;
      const inWindow = emulator.truth
        .ingestedRows()
        .filter(
          (r) =>
            r.row.ContentType === "Audit.General" &&
            Date.parse(String(r.row.TimeGenerated)) > Date.now() - 2 * 3_600_000,
        ).length;
      expect(general[1]).toBe(inWindow);
      expect((await search(null, summary)).status).toBe(400);
      expect((await search("PT2H", `${summary} | join (M365Audit_CL) on ContentType`)).status).toBe(
        400,
      );
    } finally {
      emulator.knobs.tablePlan = "Analytics";
    }
  });
});

describe("Microsoft Graph", () => {
  function graph(): Client {
    return Client.initWithMiddleware({
      baseUrl: emulator.url,
      // The Graph client only sends the token to Graph hosts and hosts named here.
      customHosts: new Set([new URL(emulator.url).hostname]),
      authProvider: {
        getAccessToken: async () =>
          (await credentialFor(emulator).getToken("https://graph.microsoft.com/.default")).token,
      },
    });
  }

  it("returns the app with its password credential's end date", async () => {
    const app = await graph().api(`/applications(appId='${emulator.tenant.clientId}')`).get();
    expect(app.id).toBe(emulator.tenant.applicationObjectId);
    expect(app.appId).toBe(emulator.tenant.clientId);
    expect(app.passwordCredentials[0].endDateTime).toBe(
      new Date(emulator.knobs.secretExpiresAtMs).toISOString(),
    );
    expect(JSON.stringify(app)).not.toContain(emulator.tenant.clientSecret);
  });

  it("returns both service principals and the app's role assignments on Office 365 Management APIs", async () => {
    const client = graph();
    const sp = await client.api(`/servicePrincipals(appId='${emulator.tenant.clientId}')`).get();
    expect(sp.id).toBe(emulator.tenant.servicePrincipalObjectId);
    const o365 = await client
      .api("/servicePrincipals(appId='c5393580-f805-4401-95e8-94b7a6ef2fc2')")
      .get();
    expect(o365.appRoles.map((r: { id: string; value: string }) => [r.value, r.id])).toEqual([
      ["ActivityFeed.Read", "594c1fb6-4f81-4475-ae41-0c394909246c"],
      ["ActivityFeed.ReadDlp", "4807a72c-ad38-4250-94c9-4eabfe26cd55"],
      ["ServiceHealth.Read", "e2cea78f-e743-4d8f-a16a-75b629a038ae"],
    ]);
    emulator.knobs.grantedRoles = ["ActivityFeed.Read"];
    try {
      const assignments = await client.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).get();
      expect(assignments.value).toHaveLength(1);
      expect(assignments.value[0]).toMatchObject({
        appRoleId: "594c1fb6-4f81-4475-ae41-0c394909246c",
        principalId: sp.id,
        resourceId: o365.id,
        resourceDisplayName: "Office 365 Management APIs",
      });
    } finally {
      emulator.knobs.grantedRoles = [
        "ActivityFeed.Read",
        "ActivityFeed.ReadDlp",
        "ServiceHealth.Read",
      ];
    }
  });

  it("returns service health overviews", async () => {
    const health = await graph().api("/admin/serviceAnnouncement/healthOverviews").get();
    expect(health.value.length).toBeGreaterThan(3);
    expect(health.value[0]).toEqual({
      id: expect.any(String),
      service: expect.any(String),
      status: "serviceOperational",
    });
  });

  it("answers unknown objects and missing tokens in Graph's error shape", async () => {
    const error = await graph()
      .api("/applications(appId='00000000-0000-0000-0000-000000000001')")
      .get()
      .catch((e: unknown) => e as { statusCode: number; code: string });
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe("Request_ResourceNotFound");
    const anonymous = await fetch(`${emulator.url}/v1.0/admin/serviceAnnouncement/healthOverviews`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      "InvalidAuthenticationToken",
    );
  });
});
