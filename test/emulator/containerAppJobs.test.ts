import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, emulatedSubscriptionId, startEmulator } from "../../emulator/src/index";
import { rawToken } from "./helpers";

const SEED = 61;
const T0 = Date.parse("2026-12-01T10:00:00Z");
let emulator: Emulator;
let token: string;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: SEED,
    nowMs: () => T0,
    knobs: {
      containerAppJobs: [
        {
          resourceGroup: "rg-auditbridge",
          name: "caj-contoso-collector",
          cronExpression: "*/5 * * * *",
          replicaTimeoutSeconds: 1800,
          executions: [
            {
              name: "first",
              status: "Succeeded",
              startTimeMs: T0 - 600_000,
              endTimeMs: T0 - 540_000,
            },
            { name: "second", status: "Running", startTimeMs: T0 - 60_000 },
          ],
        },
      ],
    },
  });
  token = await rawToken(emulator, "https://management.azure.com/.default");
});
afterAll(async () => {
  await emulator.stop();
});

function get(path: string, query = "?api-version=2025-07-01") {
  const base = `${emulator.url}/subscriptions/${emulatedSubscriptionId(SEED)}/resourceGroups/rg-auditbridge/providers/Microsoft.App/jobs`;
  return fetch(`${base}${path}${query}`, { headers: { authorization: `Bearer ${token}` } });
}

describe("emulated Container Apps jobs under ARM", () => {
  it("serves a job with its schedule trigger and replica timeout", async () => {
    const response = await get("/caj-contoso-collector");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      name: "caj-contoso-collector",
      type: "Microsoft.App/jobs",
      properties: {
        configuration: {
          triggerType: "Schedule",
          replicaTimeout: 1800,
          scheduleTriggerConfig: { cronExpression: "*/5 * * * *", parallelism: 1 },
        },
      },
    });
  });

  it("lists executions newest first by default, in the documented shape", async () => {
    const body = (await (await get("/caj-contoso-collector/executions")).json()) as {
      value: { name: string; type: string; properties: Record<string, unknown> }[];
    };
    expect(body.value.map((e) => e.name)).toEqual(["second", "first"]);
    expect(body.value[1]).toMatchObject({
      type: "Microsoft.App/jobs/executions",
      properties: {
        status: "Succeeded",
        startTime: "2026-12-01T09:50:00.000Z",
        endTime: "2026-12-01T09:51:00.000Z",
      },
    });
    expect(body.value[0]?.properties).not.toHaveProperty("endTime");
  });

  it("lists oldest first when the order knob says so", async () => {
    emulator.knobs.containerAppJobs[0]!.executionOrder = "oldest-first";
    try {
      const body = (await (await get("/caj-contoso-collector/executions")).json()) as {
        value: { name: string }[];
      };
      expect(body.value.map((e) => e.name)).toEqual(["first", "second"]);
    } finally {
      delete emulator.knobs.containerAppJobs[0]!.executionOrder;
    }
  });

  it("answers 404 ResourceNotFound for an unknown job and 400 without api-version", async () => {
    const missing = await get("/caj-other/executions");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      "ResourceNotFound",
    );
    const noVersion = await get("/caj-contoso-collector", "");
    expect(noVersion.status).toBe(400);
  });

  it("refuses a bad execution status when starting", async () => {
    await expect(
      startEmulator({
        knobs: {
          containerAppJobs: [
            {
              resourceGroup: "rg-auditbridge",
              name: "caj-x",
              cronExpression: "*/5 * * * *",
              replicaTimeoutSeconds: 1800,
              executions: [{ status: "Done" as "Succeeded", startTimeMs: T0 }],
            },
          ],
        },
      }),
    ).rejects.toThrow(
      'knobs.containerAppJobs[caj-x]: execution status "Done" is not one of Running, Processing, Stopped, Degraded, Failed, Unknown, Succeeded',
    );
  });
});
