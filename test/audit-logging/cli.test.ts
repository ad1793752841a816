import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";

const ROOT = path.resolve(__dirname, "..", "..");

function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["tsx", "scripts/audit-logging/main.ts", ...args],
      // NODE_EXTRA_CA_CERTS comes from the parent (vitest.config.mts) so the CLI trusts the emulator.
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let emulator: Emulator;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 32, scenario: { historyHours: 1, blobsPerHour: 1 } });
  env = {
    AZURE_TENANT_ID: emulator.tenant.tenantId,
    AZURE_CLIENT_ID: emulator.tenant.clientId,
    AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
    AZURE_AUTHORITY_HOST: emulator.url,
    EXCHANGE_ADMIN_ENDPOINT: emulator.url,
    O365_MANAGEMENT_ENDPOINT: emulator.url,
  };
});

afterAll(async () => {
  await emulator?.stop();
});

describe("the audit-logging CLI", { timeout: 90_000 }, () => {
  it("prints help that starts with an example", async () => {
    const result = await runCli(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("Example:")).toBe(true);
  });

  it("exits 1 for status when auditing is off, 0 after enable, with JSON that never holds the secret", async () => {
    emulator.knobs.auditDisabled = true;
    const off = await runCli(["status", "--json"], env);
    expect(off.code).toBe(1);
    expect(JSON.parse(off.stdout)).toMatchObject({
      schemaVersion: 1,
      unifiedAuditLogIngestionEnabled: false,
      state: "off",
    });
    const enable = await runCli(["enable"], env);
    expect(enable.code).toBe(0);
    expect(enable.stdout).toMatch(/^enable: unified audit logging turned on/);
    const on = await runCli(["status", "--json"], env);
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout).unifiedAuditLogIngestionEnabled).toBe(true);
    for (const output of [off, enable, on]) {
      expect(output.stdout + output.stderr).not.toContain(emulator.tenant.clientSecret);
    }
  });

  it("exits 2 with one line naming the flag for bad input", async () => {
    const result = await runCli(["status", "--tenant-id", "contoso"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("audit-logging: --tenant-id: must be a GUID\n");
  });
});
