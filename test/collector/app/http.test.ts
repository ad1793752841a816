import { afterEach, describe, expect, it } from "vitest";
import {
  HealthMonitor,
  type OperationsServer,
  startOperationsServer,
} from "../../../collector/src/http";
import { createMetrics } from "../../../collector/src/metrics";

const POLL_MS = 60_000;

function clock(startMs = Date.UTC(2025, 0, 1)) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe("HealthMonitor", () => {
  it("counts delivered records for the sinks it was given, from its start", () => {
    const c = clock();
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
      now: c.now,
      sinks: ["syslog", "splunk-hec"],
    });
    const start = new Date(c.now()).toISOString();
    expect(health.report().delivery).toEqual({
      sinks: ["syslog", "splunk-hec"],
      recordsDelivered: 0,
      since: start,
    });
    c.advance(5_000);
    health.recordDelivered(40);
    health.recordDelivered(0);
    c.advance(5_000);
    health.recordDelivered(2);
    expect(health.report().delivery).toEqual({
      sinks: ["syslog", "splunk-hec"],
      recordsDelivered: 42,
      since: start,
      lastDeliveryAt: new Date(c.now()).toISOString(),
    });
  });

  it("is unavailable until every content type has completed a poll", () => {
    const c = clock();
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange", "DLP.All"],
      pollIntervalInMs: POLL_MS,
      now: c.now,
    });
    expect(health.report().status).toBe("unavailable");
    expect(health.report().contentTypes["Audit.Exchange"]?.status).toBe("starting");
    health.recordSuccess("Audit.Exchange");
    expect(health.report().status).toBe("unavailable");
    health.recordSuccess("DLP.All");
    expect(health.report()).toEqual({
      status: "ok",
      contentTypes: {
        "Audit.Exchange": { status: "ok", lastSuccess: "2025-01-01T00:00:00.000Z" },
        "DLP.All": { status: "ok", lastSuccess: "2025-01-01T00:00:00.000Z" },
      },
    });
  });

  it("turns stale after twice the poll interval plus the slack", () => {
    const c = clock();
    const health = new HealthMonitor({
      contentTypes: ["Audit.General"],
      pollIntervalInMs: POLL_MS,
      slackInMs: 10_000,
      now: c.now,
    });
    health.recordSuccess("Audit.General");
    c.advance(2 * POLL_MS + 10_000);
    expect(health.report().status).toBe("ok");
    c.advance(1);
    const report = health.report();
    expect(report.status).toBe("unavailable");
    expect(report.contentTypes["Audit.General"]).toMatchObject({
      status: "stale",
      cause: "no successful poll for 130s",
    });
  });

  it("reports a configuration error as the cause until a later poll succeeds", () => {
    const c = clock();
    const health = new HealthMonitor({
      contentTypes: ["Audit.General"],
      pollIntervalInMs: POLL_MS,
      now: c.now,
    });
    health.recordSuccess("Audit.General");
    health.recordFailure("Audit.General", "audit log is off for tenant t", true);
    expect(health.report()).toMatchObject({
      status: "unavailable",
      contentTypes: {
        "Audit.General": { status: "misconfigured", cause: "audit log is off for tenant t" },
      },
    });
    health.recordSuccess("Audit.General");
    expect(health.report().status).toBe("ok");
  });

  it("reports a process-wide cause over healthy content types", () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.General"],
      pollIntervalInMs: POLL_MS,
    });
    health.recordSuccess("Audit.General");
    health.setGlobalCause("token request refused (AADSTS7000222)");
    expect(health.report()).toMatchObject({
      status: "unavailable",
      cause: "token request refused (AADSTS7000222)",
    });
    health.setGlobalCause(undefined);
    expect(health.report().status).toBe("ok");
  });
});

describe("operations server", () => {
  let server: OperationsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(health: HealthMonitor) {
    const metrics = createMetrics();
    server = await startOperationsServer({
      host: "127.0.0.1",
      port: 0,
      registry: metrics.registry,
      health,
    });
    return { metrics, base: `http://127.0.0.1:${server.port}` };
  }

  it("answers /healthz with 503 and the cause, then 200 once every content type polled", async () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
    });
    const { base } = await start(health);
    health.recordFailure("Audit.Exchange", "audit log is off for tenant x", true);
    const bad = await fetch(`${base}/healthz`);
    expect(bad.status).toBe(503);
    expect(bad.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await bad.json()).toMatchObject({
      status: "unavailable",
      contentTypes: {
        "Audit.Exchange": { status: "misconfigured", cause: "audit log is off for tenant x" },
      },
    });
    health.recordSuccess("Audit.Exchange");
    const good = await fetch(`${base}/healthz`);
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({
      status: "ok",
      contentTypes: { "Audit.Exchange": { status: "ok" } },
    });
  });

  it("serves the Prometheus registry on /metrics", async () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
    });
    const { base, metrics } = await start(health);
    metrics.recordsDelivered.inc({ content_type: "Audit.Exchange" }, 42);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    expect(await response.text()).toContain(
      'auditbridge_records_delivered_total{content_type="Audit.Exchange"} 42',
    );
  });

  it("answers /livez with 200 even while /healthz is 503", async () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
    });
    const { base } = await start(health);
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    const live = await fetch(`${base}/livez`);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe("ok\n");
  });

  it("answers unknown paths with 404 and other methods with 405", async () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
    });
    const { base } = await start(health);
    expect((await fetch(`${base}/`)).status).toBe(404);
    const post = await fetch(`${base}/healthz`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("fails to start with a clear error when the port is taken", async () => {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: POLL_MS,
    });
    await start(health);
    await expect(
      startOperationsServer({
        host: "127.0.0.1",
        port: server!.port,
        registry: createMetrics().registry,
        health,
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
