import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AZURE_CLI_CLIENT_ID } from "../../emulator/src/graphDirectory";
import type { Emulator } from "../../emulator/src/index";
import {
  defaultPreflightKnobs,
  emulatedSubscriptionId,
  emulatedUser,
} from "../../emulator/src/preflightKnobs";
import { resolvePreflightConfig } from "../../scripts/preflight/inputs";
import { PREFLIGHT_CHECK_IDS } from "../../scripts/preflight/result";
import { preflightFlags, startPreflightEmulator } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as `npm run preflight` does (tsx), by absolute paths so PATH can be chosen freely;
 * asynchronously, so the in-process emulator keeps serving.
 */
function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, "scripts/preflight/main.ts", ...args],
      // NODE_EXTRA_CA_CERTS comes from the parent (vitest.config.mts sets it).
      { cwd: ROOT, env: { ...process.env, NO_COLOR: undefined, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let emulator: Emulator;
let tempDir: string;
/** DefaultAzureCredential's environment credential, as a CI service principal sets it. */
let spEnv: Record<string, string | undefined>;

beforeAll(async () => {
  emulator = await startPreflightEmulator();
  tempDir = await mkdtemp(path.join(tmpdir(), "preflight-cli-"));
  spEnv = {
    AZURE_TENANT_ID: emulator.tenant.tenantId,
    AZURE_CLIENT_ID: emulator.tenant.clientId,
    AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
    AZURE_USERNAME: undefined,
    AZURE_PASSWORD: undefined,
    AZURE_CLIENT_CERTIFICATE_PATH: undefined,
  };
});

afterAll(async () => {
  await emulator?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.knobs.preflight = defaultPreflightKnobs();
});

// Each case starts a fresh tsx process; on a loaded machine that alone takes seconds.
describe("the preflight CLI", { timeout: 90_000 }, () => {
  it("exits 0 with a versioned JSON report when every check passes, printing no secret", async () => {
    const result = await runCli(preflightFlags(emulator, ["--json"]), spEnv);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      schemaVersion: 1,
      command: "preflight",
      status: "pass",
      exitCode: 0,
      subscriptionId: emulatedSubscriptionId(emulator.seed),
    });
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual([...PREFLIGHT_CHECK_IDS]);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(["fix", "id", "number", "reason", "status", "title"]);
    }
    expect(result.stdout).not.toContain(emulator.tenant.clientSecret);
  });

  it("signs a person in through DefaultAzureCredential and reads their directory roles", async () => {
    const user = emulatedUser(emulator.seed);
    const result = await runCli(preflightFlags(emulator, ["--json"]), {
      ...spEnv,
      AZURE_CLIENT_ID: AZURE_CLI_CLIENT_ID,
      AZURE_CLIENT_SECRET: undefined,
      AZURE_USERNAME: user.userPrincipalName,
      AZURE_PASSWORD: user.password,
    });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    const role = report.checks.find((c: { id: string }) => c.id === "directory-role");
    expect(role.reason).toContain("Global Administrator");
    expect(result.stdout + result.stderr).not.toContain(user.password);
  });

  it("exits 1 with a table whose fixes are exact commands", async () => {
    emulator.knobs.preflight.unregisteredProviders = ["Microsoft.KeyVault"];
    const result = await runCli(preflightFlags(emulator), spEnv);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Resource providers registered\s+FAIL/);
    expect(result.stdout).toContain("How to fix:");
    expect(result.stdout).toContain(
      `az provider register --namespace Microsoft.KeyVault --subscription ${emulatedSubscriptionId(emulator.seed)}`,
    );
    expect(result.stdout).toMatch(/Result: FAIL \(1 failed, 0 warnings, 7 passed, 2 skipped\)/);
    expect(result.stdout).not.toContain(emulator.tenant.clientSecret);
    expect(result.stdout).not.toContain("\u001b[");
  });

  it("reads --stack through the pulumi CLI and exits 3 when only warnings remain", async () => {
    const binDir = path.join(tempDir, "bin");
    await mkdir(binDir, { recursive: true });
    const configJson = JSON.stringify({
      "auditbridge:m365TenantId": { value: emulator.tenant.tenantId, secret: false },
      "auditbridge:resourceGroupName": { value: "rg-auditbridge", secret: false },
      "auditbridge:location": { value: "westeurope", secret: false },
      "auditbridge:keyVaultRecoverSoftDeleted": { value: true, secret: false },
      "auditbridge:clientCertificatePem": { value: "[secret]", secret: true },
      "azure-native:subscriptionId": {
        value: emulatedSubscriptionId(emulator.seed),
        secret: false,
      },
    });
    const fake = path.join(binDir, "pulumi");
    await writeFile(
      fake,
      // Only shell builtins: PATH holds nothing but this script.
      `#!/bin/sh\n[ "$1 $2 $3 $4" = "config --json --stack contoso" ] || { echo "unexpected: $*" >&2; exit 1; }\nprintf '%s\\n' '${configJson}'\n`,
    );
    await chmod(fake, 0o755);
    // The soft-deleted vault holding the stack's name is in another region: recovering keeps it there.
    const resolved = await resolvePreflightConfig(
      ["--stack", "contoso"],
      {},
      {
        stackReader: {
          config: async () => ({
            m365TenantId: emulator.tenant.tenantId,
            subscriptionId: emulatedSubscriptionId(emulator.seed),
            resourceGroupName: "rg-auditbridge",
            location: "westeurope",
          }),
        },
      },
    );
    if (resolved === "help") throw new Error("help");
    emulator.knobs.preflight.deletedVaults = [
      { name: resolved.keyVaultName, location: "northeurope" },
    ];
    const result = await runCli(
      [
        "--stack",
        "contoso",
        "--json",
        "--authority-host",
        emulator.url,
        "--arm-endpoint",
        emulator.url,
        "--graph-endpoint",
        emulator.url,
      ],
      { ...spEnv, PATH: binDir },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      status: "warn",
      stack: "contoso",
      keyVaultName: resolved.keyVaultName,
    });
    const vault = report.checks.find((c: { id: string }) => c.id === "key-vault-name");
    expect(vault.status).toBe("warn");
    expect(vault.fix).toContain(
      `az keyvault purge --name ${resolved.keyVaultName} --location northeurope`,
    );
  });

  it("exits 2 with one line when --stack is given and the pulumi CLI is absent", async () => {
    const emptyDir = path.join(tempDir, "empty");
    await mkdir(emptyDir, { recursive: true });
    const result = await runCli(["--stack", "contoso"], { ...spEnv, PATH: emptyDir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^preflight: --stack needs the Pulumi CLI, which was not found on PATH/,
    );
  });

  it("exits 2 with one line naming the flag for bad input", async () => {
    const result = await runCli(
      preflightFlags(emulator, ["--subscription-id", "not-a-guid"]),
      spEnv,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "preflight: --subscription-id: must be a GUID (the Azure subscription id)\n",
    );
  });

  it("exits 2 with one line naming --collector or --sinks for an unknown value", async () => {
    const collector = await runCli(preflightFlags(emulator, ["--collector", "external"]), spEnv);
    expect(collector.code).toBe(2);
    expect(collector.stdout).toBe("");
    expect(collector.stderr).toMatch(/^preflight: --collector: must be bundled .* or none .*\n$/);
    expect(collector.stderr.trim().split("\n")).toHaveLength(1);
    const sinks = await runCli(preflightFlags(emulator, ["--sinks", "syslog,kafka"]), spEnv);
    expect(sinks.code).toBe(2);
    expect(sinks.stderr).toBe(
      "preflight: --sinks: must be a comma list of logs-ingestion, syslog, splunk-hec (unknown: kafka): pass --sinks logs-ingestion,syslog\n",
    );
  });

  it("exits 0 for a collector-none run, showing the checks it skips", async () => {
    emulator.knobs.preflight.unregisteredProviders = ["Microsoft.App"];
    const result = await runCli(preflightFlags(emulator, ["--collector", "none"]), spEnv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Container Apps in the location\s+SKIP\s+collector none — not deployed/,
    );
    expect(result.stdout).toMatch(/Result: PASS \(0 failed, 0 warnings, 7 passed, 3 skipped\)/);
  });

  it("--help starts with an example", async () => {
    const result = await runCli(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("Example:\n  npm run preflight -- --stack contoso\n")).toBe(
      true,
    );
    expect(result.stdout).toContain(
      "Exit codes: 0 all checks pass, 1 any check fails, 3 only warnings, 2 bad input.",
    );
  });
});
