import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { tenantIdentity } from "../../emulator/src/index";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "emulator", "src", "cli.ts");

function run(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
  });
  return () => text;
}

describe("npm run emulator", () => {
  it("prints help that starts with an example and exits 0", async () => {
    const child = run(["--help"]);
    const out = collect(child.stdout);
    expect(await exitCode(child)).toBe(0);
    expect(out()).toMatch(/^Example:/);
    expect(out()).toContain("--print-secret");
  });

  it("exits 2 with a one-line message for a bad option", async () => {
    const child = run(["--history-hours", "500"]);
    const err = collect(child.stderr);
    expect(await exitCode(child)).toBe(2);
    expect(err().trim().split("\n")).toHaveLength(1);
    expect(err()).toContain("scenario.historyHours");
  });

  it("prints the url, ids and collector environment without the secret, serves, and stops on SIGTERM", async () => {
    const child = run(["--seed", "3", "--history-hours", "1"]);
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve) => {
      reader.on("line", (line) => {
        lines.push(line);
        if (line.includes("LOGS_INGESTION_STREAM")) resolve();
      });
    });
    const text = lines.join("\n");
    const tenant = tenantIdentity(3);
    const url = /listening on (https:\/\/\S+)/.exec(text)![1]!;
    expect(text).toContain(tenant.tenantId);
    expect(text).toContain(`export AZURE_CLIENT_ID=${tenant.clientId}`);
    expect(text).toContain(`export AZURE_AUTHORITY_HOST=${url}`);
    expect(text).toContain("export NODE_EXTRA_CA_CERTS=");
    expect(text).not.toContain(tenant.clientSecret);
    const discovery = await fetch(
      `${url}/${tenant.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(discovery.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);
  });

  it("applies --throttle-model over --knobs, field by field, and prints the throttle knob with --json", async () => {
    const child = run([
      "--history-hours",
      "1",
      "--json",
      "--knobs",
      '{"throttle":{"requestsPerMinute":50,"bucketCapacity":4}}',
      "--throttle-model",
      "tokenBucket",
    ]);
    const reader = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve) => reader.once("line", resolve));
    const printed = JSON.parse(first) as {
      url: string;
      tenant: { tenantId: string };
      throttle: unknown;
    };
    expect(printed.throttle).toEqual({
      requestsPerMinute: 50,
      bucketCapacity: 4,
      model: "tokenBucket",
    });
    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);
  });

  it("takes the documented 2,000 a minute when only the throttle model is given, and refuses an unknown model", async () => {
    const child = run(["--history-hours", "1", "--throttle-model", "perMinuteWindow"]);
    const reader = createInterface({ input: child.stdout! });
    const line = await new Promise<string>((resolve) => {
      reader.on("line", (l) => {
        if (l.includes("throttling")) resolve(l);
      });
    });
    expect(line).toContain(
      "AF429 past 2000 requests/min per PublisherIdentifier, counted as perMinuteWindow",
    );
    child.kill("SIGTERM");
    expect(await exitCode(child)).toBe(0);

    const bad = run(["--throttle-model", "slidingLog"]);
    const err = collect(bad.stderr);
    expect(await exitCode(bad)).toBe(2);
    expect(err().trim().split("\n")).toHaveLength(1);
    expect(err()).toContain("perMinuteWindow, tokenBucket");
  });

  it("prints the secret only with --print-secret", async () => {
    const child = run(["--seed", "3", "--history-hours", "1", "--env-only", "--print-secret"]);
    const reader = createInterface({ input: child.stdout! });
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      reader.on("line", (line) => {
        lines.push(line);
        if (line.includes("LOGS_INGESTION_STREAM")) resolve();
      });
    });
    expect(lines.every((line) => line.startsWith("export "))).toBe(true);
    expect(lines).toContain(`export AZURE_CLIENT_SECRET='${tenantIdentity(3).clientSecret}'`);
    child.kill("SIGINT");
    expect(await exitCode(child)).toBe(0);
  });
});
