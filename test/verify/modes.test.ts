/**
 * Verify adapts check 7 to how the stack collects: a scheduled Container Apps Job (its
 * executions read from the emulator's Azure Resource Manager over HTTPS, plus the workspace),
 * collector none (bring your own SIEM: nothing of ours to check), and sinks without Logs
 * Ingestion (the collector's delivery counters on its real /healthz server).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  HealthMonitor,
  type OperationsServer,
  startOperationsServer,
} from "../../collector/src/http";
import { createMetrics } from "../../collector/src/metrics";
import {
  type ContainerAppJobKnob,
  type Emulator,
  emulatedSubscriptionId,
  type JobExecutionKnob,
} from "../../emulator/src/index";
import type { StackReader } from "../../scripts/common/stack";
import { COLLECTOR_NONE_REASON } from "../../scripts/verify/checks/records";
import { resolveVerifyConfig, type VerifyConfig } from "../../scripts/verify/inputs";
import { verify } from "../../scripts/verify/run";
import {
  checkById,
  emulatorConfig,
  emulatorFlags,
  startHealthyTenant,
  startSmallTenant,
  startSubscriptions,
} from "./helpers";

const MINUTE = 60_000;
const GROUP = "rg-auditbridge";
const JOB = "caj-contoso-collector";

let emulator: Emulator | undefined;
let server: OperationsServer | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  await server?.close();
  server = undefined;
  for (const close of closers.splice(0)) await close();
});

/** Keeps the emulator for afterEach to stop. */
async function track(started: Promise<Emulator>): Promise<Emulator> {
  emulator = await started;
  return emulator;
}

function jobKnob(
  executions: JobExecutionKnob[],
  extra: Partial<ContainerAppJobKnob> = {},
): ContainerAppJobKnob {
  return {
    resourceGroup: GROUP,
    name: JOB,
    cronExpression: "*/5 * * * *",
    replicaTimeoutSeconds: 1800,
    executions,
    ...extra,
  };
}

/** An execution that started `agoMs` before the emulator's now and ran for a minute. */
function run(e: Emulator, name: string, status: JobExecutionKnob["status"], agoMs: number) {
  const startTimeMs = e.now() - agoMs;
  return {
    name,
    status,
    startTimeMs,
    ...(status === "Running" ? {} : { endTimeMs: startTimeMs + MINUTE }),
  };
}

function scheduledFlags(e: Emulator, job = JOB): string[] {
  return [
    "--collector-mode",
    "scheduled",
    "--job-name",
    job,
    "--resource-group",
    GROUP,
    "--subscription-id",
    emulatedSubscriptionId(11),
    "--arm-endpoint",
    e.url,
  ];
}

function jobRequests(e: Emulator): string[] {
  return e.truth
    .requestLog()
    .filter((r) => r.path.includes("/Microsoft.App/jobs/"))
    .map((r) => `${r.status} ${r.path.slice(r.path.indexOf("/jobs/"))}`);
}

function workspaceQueries(e: Emulator): number {
  return e.truth.requestLog().filter((r) => /\/workspaces\/[^/]+\/query$/.test(r.path)).length;
}

describe("verify with a scheduled collector (Container Apps Job)", () => {
  it("passes when the last successful execution is recent and the workspace has fresh rows", async () => {
    const e = await track(startHealthyTenant());
    e.knobs.containerAppJobs = [
      jobKnob([
        run(e, `${JOB}-a`, "Succeeded", 12 * MINUTE),
        run(e, `${JOB}-b`, "Succeeded", 7 * MINUTE),
        run(e, `${JOB}-c`, "Running", 1 * MINUTE),
      ]),
    ];
    const report = await verify(await emulatorConfig(e, scheduledFlags(e)));
    const records = checkById(report, "records");
    expect(records.status).toBe("pass");
    expect(records.reason).toMatch(/^15 rows in the last 24 h, newest ingested \d+ min ago; /);
    expect(records.reason).toContain(
      `last successful execution of ${JOB} ended 6 min ago (schedule */5 * * * *, every 5 minutes at most; allowed 40 min)`,
    );
    expect(records.details).toMatchObject({
      rows: 15,
      job: JOB,
      cronExpression: "*/5 * * * *",
      replicaTimeoutSeconds: 1800,
      allowedMinutes: 40,
      executions: 3,
      lastSucceeded: { name: `${JOB}-b` },
      latest: { name: `${JOB}-c`, status: "Running" },
    });
    expect(report.exitCode).toBe(0);
    // Read through ARM: the job (its schedule and timeout), then its executions.
    expect(jobRequests(e)).toEqual([`200 /jobs/${JOB}`, `200 /jobs/${JOB}/executions`]);
  });

  it("fails with the commands to read the logs when the last success is older than 2 x interval + replica timeout", async () => {
    const e = await track(startHealthyTenant());
    e.knobs.containerAppJobs = [
      jobKnob([
        run(e, `${JOB}-old`, "Succeeded", 45 * MINUTE),
        run(e, `${JOB}-new`, "Failed", 4 * MINUTE),
      ]),
    ];
    const report = await verify(await emulatorConfig(e, scheduledFlags(e)));
    const records = checkById(report, "records");
    expect(records.status).toBe("fail");
    expect(records.reason).toContain(
      `no successful execution of ${JOB} in the last 40 min (latest: ${JOB}-new Failed, started 4 min ago;`,
    );
    expect(records.fix).toBe(
      `read why it fails: az containerapp job logs show -n ${JOB} -g ${GROUP} --subscription ${emulatedSubscriptionId(11)} --container collector --execution ${JOB}-new; list them with az containerapp job execution list -n ${JOB} -g ${GROUP} --subscription ${emulatedSubscriptionId(11)} -o table`,
    );
    expect(report.exitCode).toBe(1);
  });

  it("scales the allowed age with the job's own schedule and replica timeout", async () => {
    const e = await track(startHealthyTenant());
    // Hourly, 2 h timeout: 2 x 60 min + 120 min = 4 h.
    e.knobs.containerAppJobs = [
      jobKnob([run(e, `${JOB}-a`, "Succeeded", 200 * MINUTE)], {
        cronExpression: "0 * * * *",
        replicaTimeoutSeconds: 7200,
      }),
    ];
    const records = checkById(await verify(await emulatorConfig(e, scheduledFlags(e))), "records");
    expect(records.status).toBe("pass");
    expect(records.details).toMatchObject({ allowedMinutes: 240 });
  });

  it("warns when a newer execution failed after the last success", async () => {
    const e = await track(startHealthyTenant());
    e.knobs.containerAppJobs = [
      jobKnob(
        [run(e, `${JOB}-ok`, "Succeeded", 10 * MINUTE), run(e, `${JOB}-bad`, "Failed", 5 * MINUTE)],
        // Microsoft does not document the listing's order: verify must not depend on it.
        { executionOrder: "oldest-first" },
      ),
    ];
    const report = await verify(await emulatorConfig(e, scheduledFlags(e)));
    const records = checkById(report, "records");
    expect(records.status).toBe("warn");
    expect(records.reason).toContain(`the latest execution ${JOB}-bad failed`);
    expect(records.fix).toContain(`--execution ${JOB}-bad`);
    expect(report.exitCode).toBe(3);
  });

  it("fails and says how to start one when the job never ran", async () => {
    const e = await track(startHealthyTenant());
    e.knobs.containerAppJobs = [jobKnob([])];
    const records = checkById(await verify(await emulatorConfig(e, scheduledFlags(e))), "records");
    expect(records.status).toBe("fail");
    expect(records.reason).toContain("the job has no executions yet");
    expect(records.fix).toMatch(
      /^start one now with az containerapp job start -n caj-contoso-collector /,
    );
  });

  it("fails naming the job when ARM does not know it", async () => {
    const e = await track(startHealthyTenant());
    const records = checkById(
      await verify(await emulatorConfig(e, scheduledFlags(e, "caj-other-collector"))),
      "records",
    );
    expect(records.status).toBe("fail");
    expect(records.reason).toBe(
      `15 rows in the last 24 h, newest ingested 0 min ago; the job caj-other-collector was not found in ${GROUP} (Azure Resource Manager answered 404 ResourceNotFound)`,
    );
  });

  it("fails on a stale workspace even when the job succeeds", async () => {
    const e = await track(startSmallTenant());
    await startSubscriptions(e);
    e.knobs.containerAppJobs = [jobKnob([run(e, `${JOB}-a`, "Succeeded", 3 * MINUTE)])];
    const records = checkById(await verify(await emulatorConfig(e, scheduledFlags(e))), "records");
    expect(records.status).toBe("fail");
    expect(records.reason).toMatch(
      /^no M365Audit_CL rows in the last 24 h; last successful execution/,
    );
  });

  it("probes no /healthz (a job has no endpoint) and warns when the job is not named", async () => {
    const e = await track(startHealthyTenant());
    let hits = 0;
    const healthz: Server = createServer((_req, res) => {
      hits++;
      res.end("{}");
    });
    await new Promise<void>((resolve) => healthz.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => healthz.close(() => resolve())));
    const url = `http://127.0.0.1:${(healthz.address() as AddressInfo).port}/healthz`;
    const report = await verify(
      await emulatorConfig(e, ["--collector-mode", "scheduled", "--healthz-url", url]),
    );
    const records = checkById(report, "records");
    expect(hits).toBe(0);
    expect(records.status).toBe("warn");
    expect(records.reason).toContain(
      "the scheduled collector's job is not known, so its executions were not read",
    );
    expect(records.fix).toContain("pass --job-name, --resource-group and --subscription-id");
  });

  it("reads the job from the stack's outputs", async () => {
    const e = await track(startHealthyTenant());
    e.knobs.containerAppJobs = [jobKnob([run(e, `${JOB}-a`, "Succeeded", 2 * MINUTE)])];
    const reader: StackReader = {
      outputs: async () => ({
        hasClientSecret: false,
        tenantId: e.tenant.tenantId,
        clientId: e.tenant.clientId,
        collector: "bundled",
        collectorMode: "scheduled",
        sinks: "logs-ingestion",
        collectorJobName: JOB,
        resourceGroupName: GROUP,
        azureSubscriptionId: emulatedSubscriptionId(11),
      }),
      clientSecret: () => Promise.reject(new Error("not used")),
    };
    const config = (await resolveVerifyConfig(
      ["--stack", "contoso", ...emulatorFlags(e), "--arm-endpoint", e.url],
      { AZURE_CLIENT_SECRET: e.tenant.clientSecret },
      { stackReader: reader },
    )) as VerifyConfig;
    expect(config.collector).toEqual({
      kind: "scheduled",
      sinks: ["logs-ingestion"],
      job: { subscriptionId: emulatedSubscriptionId(11), resourceGroup: GROUP, name: JOB },
    });
    expect(checkById(await verify(config), "records").status).toBe("pass");
  });
});

describe("verify with collector none (bring your own SIEM)", () => {
  it("skips the records check, saying what to check in the SIEM, and queries no workspace", async () => {
    const e = await track(startHealthyTenant());
    const report = await verify(await emulatorConfig(e, ["--collector-mode", "none"]));
    const records = checkById(report, "records");
    expect(records.status).toBe("skip");
    expect(records.reason).toBe(COLLECTOR_NONE_REASON);
    expect(records.reason).toMatch(/^skipped: collector none — /);
    expect(workspaceQueries(e)).toBe(0);
    // The app registration checks still run: they are what the SIEM's connector depends on.
    expect(checkById(report, "token").status).toBe("pass");
    expect(checkById(report, "permissions").status).toBe("pass");
    expect(report.exitCode).toBe(0);
  });

  it("takes collector none from the stack outputs", async () => {
    const e = await track(startSmallTenant());
    const reader: StackReader = {
      outputs: async () => ({
        hasClientSecret: false,
        tenantId: e.tenant.tenantId,
        clientId: e.tenant.clientId,
        collector: "none",
        collectorMode: "",
        sinks: "",
      }),
      clientSecret: () => Promise.reject(new Error("not used")),
    };
    const config = (await resolveVerifyConfig(
      ["--stack", "contoso"],
      { AZURE_CLIENT_SECRET: e.tenant.clientSecret },
      { stackReader: reader },
    )) as VerifyConfig;
    expect(config.collector).toEqual({ kind: "none" });
  });
});

describe("verify with sinks that are not a workspace", () => {
  /** The collector's real /healthz server, with a monitor that has polled and delivered. */
  async function collectorHealthz(delivered: number, healthy = true): Promise<string> {
    const health = new HealthMonitor({
      contentTypes: ["Audit.Exchange"],
      pollIntervalInMs: MINUTE,
      sinks: ["syslog"],
    });
    if (healthy) health.recordSuccess("Audit.Exchange");
    health.recordDelivered(delivered);
    server = await startOperationsServer({
      host: "127.0.0.1",
      port: 0,
      registry: createMetrics().registry,
      health,
    });
    return `http://127.0.0.1:${server.port}/healthz`;
  }

  it("passes on the collector's delivery counters and queries no workspace", async () => {
    const e = await track(startSmallTenant());
    const url = await collectorHealthz(42);
    const report = await verify(
      await emulatorConfig(e, ["--sinks", "syslog", "--healthz-url", url]),
    );
    const records = checkById(report, "records");
    expect(records.status).toBe("pass");
    expect(records.reason).toMatch(
      /^42 records delivered to syslog since the collector started 0 min ago, the last 0 min ago \(collector \/healthz answered 200 \(ok\)\)$/,
    );
    expect(records.details).toMatchObject({ recordsDelivered: 42, sinks: ["syslog"] });
    expect(workspaceQueries(e)).toBe(0);
  });

  it("warns when the healthy collector has delivered nothing yet", async () => {
    const e = await track(startSmallTenant());
    const url = await collectorHealthz(0);
    const records = checkById(
      await verify(await emulatorConfig(e, ["--sinks", "syslog,splunk-hec", "--healthz-url", url])),
      "records",
    );
    expect(records.status).toBe("warn");
    expect(records.reason).toMatch(/^the collector is healthy but delivered no records to syslog/);
  });

  it("fails when /healthz is unavailable, and skips without its URL", async () => {
    const e = await track(startSmallTenant());
    const url = await collectorHealthz(5, false);
    const failing = checkById(
      await verify(await emulatorConfig(e, ["--sinks", "splunk-hec", "--healthz-url", url])),
      "records",
    );
    expect(failing.status).toBe("fail");
    expect(failing.reason).toBe("collector /healthz answered 503 (unavailable)");
    const skipped = checkById(
      await verify(await emulatorConfig(e, ["--sinks", "splunk-hec"])),
      "records",
    );
    expect(skipped.status).toBe("skip");
    expect(skipped.fix).toMatch(/^pass --healthz-url /);
  });

  it("refuses an unknown sink in one line", async () => {
    const e = await track(startSmallTenant());
    await expect(emulatorConfig(e, ["--sinks", "syslog,kafka"])).rejects.toThrow(
      /^--sinks: must be a comma list of logs-ingestion, syslog, splunk-hec \(unknown: kafka\)$/,
    );
  });
});
