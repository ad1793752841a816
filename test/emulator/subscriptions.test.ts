import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { activityApi, manualClock, rawToken, T0 } from "./helpers";

const clock = manualClock();
let emulator: Emulator;
let api: ReturnType<typeof activityApi>;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 21,
    nowMs: clock.now,
    scenario: { historyHours: 2, blobsPerHour: 4 },
  });
  api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
});
afterAll(async () => {
  await emulator.stop();
});

describe("Management Activity API subscriptions", () => {
  it("starts a subscription, echoing the content type as sent, and lists it", async () => {
    const started = await api.post("/subscriptions/start?contentType=Audit.Sharepoint");
    expect(started.status).toBe(200);
    expect(started.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(started.json).toEqual({
      contentType: "Audit.Sharepoint",
      status: "enabled",
      webhook: null,
    });
    const list = await api.get("/subscriptions/list");
    expect(list.status).toBe(200);
    expect(list.json).toEqual([
      { contentType: "Audit.SharePoint", status: "enabled", webhook: null },
    ]);
  });

  it("answers a repeated start with HTTP 400 AF20024", async () => {
    const again = await api.post("/subscriptions/start?contentType=Audit.SharePoint", {});
    expect(again.status).toBe(400);
    expect(again.json).toEqual({
      error: {
        code: "AF20024",
        message: "The subscription is already enabled. No property change.",
      },
    });
  });

  it("answers content listing without a subscription with AF20022", async () => {
    const response = await api.get("/subscriptions/content?contentType=Audit.Exchange");
    expect(response.status).toBe(400);
    expect(api.code(response.json)).toBe("AF20022");
  });

  it("rejects a missing or unknown content type with AF20001 and AF20020", async () => {
    expect(api.code((await api.post("/subscriptions/start")).json)).toBe("AF20001");
    expect(api.code((await api.post("/subscriptions/start?contentType=Audit.Nope")).json)).toBe(
      "AF20020",
    );
  });

  it("keeps a start sent within 15 minutes of the last one disabled, as observed after a quick stop/start", async () => {
    await api.post("/subscriptions/start?contentType=Audit.Exchange");
    clock.advance(60_000);
    const stopped = await api.post("/subscriptions/stop?contentType=Audit.Exchange");
    expect(stopped.status).toBe(200);
    expect(stopped.text).toBe("");
    const quick = await api.post("/subscriptions/start?contentType=Audit.Exchange");
    expect(quick.status).toBe(200);
    expect(quick.json.status).toBe("enabled");
    const list = await api.get("/subscriptions/list");
    expect(list.json.map((s: { contentType: string }) => s.contentType)).not.toContain(
      "Audit.Exchange",
    );
    const content = await api.get("/subscriptions/content?contentType=Audit.Exchange");
    expect(content.json).toEqual({
      error: { code: "AF20023", message: "The subscription was disabled." },
    });

    clock.advance(15 * 60_000);
    const later = await api.post("/subscriptions/start?contentType=Audit.Exchange");
    expect(later.status).toBe(200);
    const listed = await api.get("/subscriptions/list");
    expect(listed.json).toContainEqual({
      contentType: "Audit.Exchange",
      status: "enabled",
      webhook: null,
    });
    expect((await api.get("/subscriptions/content?contentType=Audit.Exchange")).status).toBe(200);
  });

  it("loses content created while a subscription was stopped", async () => {
    await api.post("/subscriptions/start?contentType=Audit.General");
    clock.advance(16 * 60_000);
    const before = emulator.truth.listedBlobs("Audit.General").length;
    await api.post("/subscriptions/stop?contentType=Audit.General");
    expect(emulator.truth.expectedRecordIds(["Audit.General"]).size).toBeGreaterThan(0);
    expect((await api.get("/subscriptions/list")).json).toContainEqual({
      contentType: "Audit.General",
      status: "disabled",
      webhook: null,
    });
    const blob = emulator.truth.listedBlobs("Audit.General")[0]!;
    const fetched = await api.get(blob.contentUri);
    expect(api.code(fetched.json)).toBe("AF20023");
    await api.post("/subscriptions/start?contentType=Audit.General");
    expect(emulator.truth.listedBlobs("Audit.General").length).toBe(before);
  });

  it("answers AF20023 for a subscription an admin disabled", async () => {
    emulator.knobs.subscriptionsDisabled = ["Audit.SharePoint"];
    try {
      const response = await api.get("/subscriptions/content?contentType=Audit.SharePoint");
      expect(response.json).toEqual({
        error: { code: "AF20023", message: "The subscription was disabled by a tenant admin." },
      });
      expect(emulator.truth.expectedRecordIds(["Audit.SharePoint"]).size).toBe(0);
    } finally {
      emulator.knobs.subscriptionsDisabled = [];
    }
  });

  it("answers the 400 DataServiceException shape when the tenant's audit log is off", async () => {
    emulator.knobs.auditDisabled = true;
    try {
      const response = await api.post(
        "/subscriptions/start?contentType=Audit.General&PublisherIdentifier=abc",
      );
      expect(response.status).toBe(400);
      const error = response.json.error as { code: string; message: string };
      expect(error.code).toMatch(
        /^StartSubscription \[CorrId=.*\]\[TenantId=.*ContentType=Audit\.General.*\]\[AppId$/,
      );
      expect(error.message).toContain(
        `Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${emulator.tenant.tenantId} does not exist.`,
      );
      expect(emulator.truth.expectedRecordIds().size).toBe(0);
    } finally {
      emulator.knobs.auditDisabled = false;
    }
  });

  it("answers 401 for a missing, foreign-audience or expired token", async () => {
    const noToken = await fetch(`${api.root}/subscriptions/list`);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const monitor = activityApi(
      emulator,
      await rawToken(emulator, "https://monitor.azure.com/.default"),
    );
    expect((await monitor.get("/subscriptions/list")).status).toBe(401);
    const token = await rawToken(emulator, "https://manage.office.com/.default");
    clock.advance(3600 * 1000);
    expect((await activityApi(emulator, token).get("/subscriptions/list")).status).toBe(401);
    api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
  });

  it("answers AF20010 when the URL tenant differs from the token's", async () => {
    const other = "0f0f0f0f-1111-4222-8333-444444444444";
    const response = await api.get(
      `${emulator.url}/api/v1.0/${other}/activity/feed/subscriptions/list`,
    );
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe("AF20010");
    expect(response.json.error.message).toBe(
      `The tenant ID passed in the URL (${other}) does not match the tenant ID passed in the access token (${emulator.tenant.tenantId}).`,
    );
  });

  it("answers 401 AF10001 naming the token's roles when ActivityFeed.ReadDlp is missing for DLP.All", async () => {
    emulator.knobs.grantedRoles = ["ActivityFeed.Read", "ServiceHealth.Read"];
    const limited = activityApi(
      emulator,
      await rawToken(emulator, "https://manage.office.com/.default"),
    );
    emulator.knobs.grantedRoles = [
      "ActivityFeed.Read",
      "ActivityFeed.ReadDlp",
      "ServiceHealth.Read",
    ];
    const response = await limited.post("/subscriptions/start?contentType=DLP.All");
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: {
        code: "AF10001",
        message:
          "The permission set (ActivityFeed.Read ServiceHealth.Read) sent in the request did not include the expected permission ActivityFeed.ReadDlp.",
      },
    });
    expect(
      (await limited.post("/subscriptions/start?contentType=Audit.AzureActiveDirectory")).status,
    ).toBe(200);
  });

  it("answers 401 AF10001 when ActivityFeed.Read itself is missing", async () => {
    emulator.knobs.grantedRoles = [];
    const none = activityApi(
      emulator,
      await rawToken(emulator, "https://manage.office.com/.default"),
    );
    emulator.knobs.grantedRoles = [
      "ActivityFeed.Read",
      "ActivityFeed.ReadDlp",
      "ServiceHealth.Read",
    ];
    const response = await none.get("/subscriptions/list");
    expect(response.status).toBe(401);
    expect(response.json.error.message).toBe(
      "The permission set () sent in the request did not include the expected permission ActivityFeed.Read.",
    );
  });

  it("serves resources/dlpSensitiveTypes and checks Accept-Language", async () => {
    const ok = await api.get("/resources/dlpSensitiveTypes");
    expect(ok.status).toBe(200);
    expect(ok.json).toContainEqual({
      id: "50842eb7-edc8-4019-85dd-5a5c1f2bb085",
      name: "CreditCardNumber",
    });
    const token = await rawToken(emulator, "https://manage.office.com/.default");
    const two = await fetch(`${api.root}/resources/dlpSensitiveTypes`, {
      headers: { Authorization: `Bearer ${token}`, "Accept-Language": "en-US, de-DE" },
    });
    expect(((await two.json()) as { error: { code: string } }).error.code).toBe("AF20053");
    const bad = await fetch(`${api.root}/resources/dlpSensitiveTypes`, {
      headers: { Authorization: `Bearer ${token}`, "Accept-Language": "en_US!!" },
    });
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("AF20054");
  });

  it("sends the service's response headers", async () => {
    const response = await api.get("/subscriptions/list");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("server")).toBe("Microsoft-IIS/10.0");
    expect(clock.now()).toBeGreaterThan(T0);
  });
});
