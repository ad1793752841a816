import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../emulator/src/index";
import { emulatorFlags, ingestRows, startSmallTenant, startSubscriptions } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..");
const DAY_MS = 24 * 60 * 60 * 1000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as `npm run verify` does; asynchronously, so the in-process emulator keeps serving. */
function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/verify/main.ts", ...args],
      // NODE_EXTRA_CA_CERTS comes from the parent (vitest.config.mts sets it) so the CLI trusts the emulator.
      { cwd: ROOT, env: { ...process.env, NO_COLOR: undefined, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let emulator: Emulator;
let secretEnv: Record<string, string>;

beforeAll(async () => {
  emulator = await startSmallTenant();
  await startSubscriptions(emulator);
  await ingestRows(emulator);
  secretEnv = { AZURE_CLIENT_SECRET: emulator.tenant.clientSecret };
});

afterAll(async () => {
  await emulator?.stop();
});

// Each case starts a fresh `npx tsx` process; on a loaded machine that alone takes seconds.
describe("the verify CLI", { timeout: 90_000 }, () => {
  it("exits 0 with a JSON report when every check passes", async () => {
    const result = await runCli(emulatorFlags(emulator, ["--json"]), secretEnv);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ schemaVersion: 1, status: "pass", exitCode: 0 });
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual([
      "token",
      "permissions",
      "credential-expiry",
      "audit-enabled",
      "subscriptions",
      "content",
      "records",
      "service-health",
    ]);
    for (const check of report.checks) {
      expect(Object.keys(check)).toEqual(
        expect.arrayContaining(["id", "number", "title", "status", "reason", "fix"]),
      );
    }
    expect(result.stdout).not.toContain(emulator.tenant.clientSecret);
  });

  it("exits 3 and prints a plain table when there are only warnings", async () => {
    emulator.knobs.secretExpiresAtMs = emulator.now() + 5 * DAY_MS;
    try {
      const result = await runCli(emulatorFlags(emulator), secretEnv);
      expect(result.code).toBe(3);
      expect(result.stdout).toContain("WARN");
      expect(result.stdout).toContain("Result: WARN");
      // stdout is a pipe here, not a TTY: no colour codes.
      expect(result.stdout).not.toContain("\u001b[");
    } finally {
      emulator.knobs.secretExpiresAtMs = emulator.now() + 180 * DAY_MS;
    }
  });

  it("exits 1 when a check fails and never prints the wrong secret", async () => {
    const result = await runCli(emulatorFlags(emulator), {
      AZURE_CLIENT_SECRET: "wrong-secret-value",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("wrong client secret (AADSTS7000215)");
    expect(result.stdout + result.stderr).not.toContain("wrong-secret-value");
  });

  it("exits 2 with a one-line error naming the flag for bad input", async () => {
    const result = await runCli(
      ["--tenant-id", "not-a-guid", "--client-id", emulator.tenant.clientId],
      secretEnv,
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "verify: --tenant-id: must be a GUID (the Microsoft 365 tenant id)\n",
    );
  });
});
