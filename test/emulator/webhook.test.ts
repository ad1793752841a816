import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { DEFAULT_TEST_CERT_DIR, ensureTestCertificates } from "../../emulator/src/tls";
import { activityApi, apiTime, manualClock, rawToken, T0 } from "./helpers";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const clock = manualClock(T0);
let emulator: Emulator;
let api: ReturnType<typeof activityApi>;
let listener: Server;
let listenerUrl: string;
const received: Received[] = [];
let answerStatus = 200;

beforeAll(async () => {
  const certs = await ensureTestCertificates(DEFAULT_TEST_CERT_DIR);
  listener = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      });
      res.writeHead(answerStatus).end();
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  listenerUrl = `https://127.0.0.1:${(listener.address() as AddressInfo).port}/o365/`;
  emulator = await startEmulator({
    seed: 61,
    nowMs: clock.now,
    scenario: {
      contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
      historyHours: 1,
      blobsPerHour: 2,
      liveBlobsPerMinute: 1,
      liveHorizonMinutes: 60,
    },
  });
  api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
});
afterAll(async () => {
  await emulator.stop();
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});

describe("webhooks", () => {
  it("validates a webhook with the handshake POST before enabling it", async () => {
    received.length = 0;
    const response = await api.post("/subscriptions/start?contentType=Audit.Exchange", {
      webhook: { address: listenerUrl, authId: "o365activityapinotification", expiration: "" },
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      contentType: "Audit.Exchange",
      status: "enabled",
      webhook: {
        status: "enabled",
        address: listenerUrl,
        authId: "o365activityapinotification",
        expiration: null,
      },
    });
    expect(received).toHaveLength(1);
    const handshake = received[0]!;
    expect(handshake.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(handshake.headers["webhook-authid"]).toBe("o365activityapinotification");
    const code = handshake.headers["webhook-validationcode"];
    expect(typeof code).toBe("string");
    expect(handshake.body).toEqual({ validationCode: code });
    const list = await api.get("/subscriptions/list");
    expect(list.json[0].webhook.status).toBe("enabled");
  });

  it("refuses a webhook that does not answer 200, an http address and a past expiration", async () => {
    answerStatus = 500;
    try {
      const failed = await api.post("/subscriptions/start?contentType=Audit.SharePoint", {
        webhook: { address: listenerUrl },
      });
      expect(failed.status).toBe(400);
      expect(failed.json).toEqual({
        error: {
          code: "AF20021",
          message: `The webhook endpoint ${listenerUrl} could not be validated. The endpoint did not return HTTP 200.`,
        },
      });
    } finally {
      answerStatus = 200;
    }
    expect(
      api.code((await api.get("/subscriptions/content?contentType=Audit.SharePoint")).json),
    ).toBe("AF20022");
    const http = await api.post("/subscriptions/start?contentType=Audit.SharePoint", {
      webhook: { address: "http://127.0.0.1/x" },
    });
    expect(http.json.error.message).toBe(
      "The webhook endpoint http://127.0.0.1/x could not be validated. The address must begin with HTTPS.",
    );
    const past = await api.post("/subscriptions/start?contentType=Audit.SharePoint", {
      webhook: { address: listenerUrl, expiration: "2020-01-01T00:00:00Z" },
    });
    expect(past.json).toEqual({
      error: {
        code: "AF20003",
        message: "Expiration 2020-01-01T00:00:00Z provided is set to past date and time.",
      },
    });
  });

  it("POSTs notifications for blobs that become available, and lists them under /notifications", async () => {
    received.length = 0;
    clock.advance(5 * 60_000);
    await emulator.flushNotifications();
    const notified = received.flatMap(
      (r) =>
        r.body as { contentId: string; contentType: string; tenantId: string; clientId: string }[],
    );
    expect(notified.length).toBeGreaterThan(0);
    expect(received[0]!.headers["webhook-authid"]).toBe("o365activityapinotification");
    const available = emulator.truth
      .listedBlobs("Audit.Exchange")
      .filter((b) => b.availableAtMs > T0 && b.availableAtMs <= clock.now())
      .map((b) => b.contentId);
    expect(notified.map((n) => n.contentId).sort()).toEqual(available.sort());
    expect(
      notified.every(
        (n) => n.contentType === "Audit.Exchange" && n.tenantId === emulator.tenant.tenantId,
      ),
    ).toBe(true);
    expect(notified[0]!.clientId).toBe(emulator.tenant.clientId);

    const listed = await api.get(
      `/subscriptions/notifications?contentType=Audit.Exchange&startTime=${apiTime(T0)}&endTime=${apiTime(clock.now() + 60_000)}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.json).toHaveLength(notified.length);
    expect(listed.json[0]).toMatchObject({
      notificationStatus: "success",
      contentId: notified[0]!.contentId,
    });
  });

  it("retries failed notifications and disables the webhook after repeated failures", async () => {
    answerStatus = 503;
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(2 * 60_000);
        await emulator.flushNotifications();
      }
      const list = await api.get("/subscriptions/list");
      expect(list.json[0].webhook.status).toBe("disabled");
      expect(emulator.truth.counters.notificationFailures).toBe(5);
      // A disabled webhook does not stop polling.
      expect((await api.get("/subscriptions/content?contentType=Audit.Exchange")).status).toBe(200);
    } finally {
      answerStatus = 200;
    }
    received.length = 0;
    const again = await api.post("/subscriptions/start?contentType=Audit.Exchange", {
      webhook: { address: listenerUrl, authId: "o365activityapinotification" },
    });
    expect(again.status).toBe(200);
    expect(again.json.webhook.status).toBe("enabled");
    expect(received).toHaveLength(1);
  });
});
