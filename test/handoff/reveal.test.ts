import { execFile } from "node:child_process";
import path from "node:path";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  EMULATED_CLIENT_SECRET_NAME,
  type Emulator,
  startEmulator,
} from "../../emulator/src/index";
import { isSecretReadError, type SecretReadError } from "../../scripts/handoff/keyVault";
import { renderJson, renderTable } from "../../scripts/handoff/render";
import { handoff } from "../../scripts/handoff/run";
import { resolve } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..");

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 41 });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.knobs.keyVault.forbidden = false;
});

/** Flags pointing handoff at the emulator's tenant and vault. */
function flags(siem: string, extra: string[] = []): string[] {
  return [
    "--siem",
    siem,
    "--tenant-id",
    emulator.tenant.tenantId,
    "--client-id",
    emulator.tenant.clientId,
    "--key-vault-uri",
    emulator.url,
    "--secret-name",
    EMULATED_CLIENT_SECRET_NAME,
    "--authority-host",
    emulator.url,
    ...extra,
  ];
}

/** The caller's credential: in the emulator, only the tenant's app can sign in. */
function caller(): ClientSecretCredential {
  return new ClientSecretCredential(
    emulator.tenant.tenantId,
    emulator.tenant.clientId,
    emulator.tenant.clientSecret,
    { authorityHost: emulator.url, disableInstanceDiscovery: true },
  );
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

async function readFailure(siem: string): Promise<SecretReadError> {
  const config = await resolve(flags(siem, ["--reveal"]));
  try {
    await handoff(config, { credential: caller() });
  } catch (error) {
    if (isSecretReadError(error)) return error;
    throw error;
  }
  throw new Error("expected a SecretReadError");
}

describe("handoff --reveal against Key Vault over HTTPS", () => {
  it("reads the secret once and prints it exactly once, in the table and in JSON", async () => {
    const config = await resolve(flags("splunk", ["--reveal"]));
    const report = await handoff(config, { credential: caller() });
    const secret = emulator.tenant.clientSecret;
    expect(report.fields.find((f) => f.credential)!.value).toBe(secret);
    expect(report.credential.revealed).toBe(true);
    expect(occurrences(renderTable(report), secret)).toBe(1);
    expect(occurrences(renderJson(report), secret)).toBe(1);
    // The expiry comes from the secret's attribute.
    expect(report.credential.expiresAt).toBe(
      new Date(Math.floor(emulator.knobs.secretExpiresAtMs / 1000) * 1000).toISOString(),
    );
    const reads = emulator.truth.requestLog().filter((r) => r.path.startsWith("/secrets/"));
    expect(reads.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it("fails with one line naming Key Vault Secrets User when the vault answers 403", async () => {
    emulator.knobs.keyVault.forbidden = true;
    const error = await readFailure("elastic");
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe(
      `Key Vault refused to read secret ${EMULATED_CLIENT_SECRET_NAME} in Key Vault 127.0.0.1 (403 Forbidden): give your identity the Key Vault Secrets User role on the vault or the secret (az role assignment create --role "Key Vault Secrets User" --assignee <you> --scope <vault id>), wait a few minutes, and retry`,
    );
  });

  it("fails with one line naming the secret and where to check when the vault answers 404", async () => {
    const config = await resolve([...flags("qradar", ["--reveal"]), "--secret-name", "gone"]);
    const error = await handoff(config, { credential: caller() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSecretReadError(error)).toBe(true);
    expect((error as SecretReadError).code).toBe("not-found");
    expect((error as Error).message).toMatch(
      /^secret gone in Key Vault 127.0.0.1 was not found \(404 SecretNotFound\): check --secret-name gone/,
    );
  });

  it("reads nothing from Key Vault without --reveal", async () => {
    const before = emulator.truth.requestLog().length;
    const report = await handoff(await resolve(flags("splunk")), { credential: caller() });
    expect(report.credential.revealed).toBe(false);
    expect(emulator.truth.requestLog().length).toBe(before);
  });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run handoff` as a user would; the caller's credential comes from the environment. */
function runCli(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      "npx",
      ["tsx", "scripts/handoff/main.ts", ...args],
      {
        cwd: ROOT,
        // NODE_EXTRA_CA_CERTS comes from the parent (vitest.config.mts) so the CLI trusts the emulator.
        env: {
          ...process.env,
          AZURE_TENANT_ID: emulator.tenant.tenantId,
          AZURE_CLIENT_ID: emulator.tenant.clientId,
          AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
          AZURE_AUTHORITY_HOST: emulator.url,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

// Each case starts a fresh `npx tsx` process; on a loaded machine that alone takes seconds.
describe("the handoff CLI", { timeout: 90_000 }, () => {
  it("prints the secret once with --reveal (DefaultAzureCredential from the environment) and exits 0", async () => {
    const result = await runCli(flags("splunk", ["--reveal", "--json"]));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(occurrences(result.stdout, emulator.tenant.clientSecret)).toBe(1);
    expect(JSON.parse(result.stdout).credential.revealed).toBe(true);
  });

  it("keeps the secret out of stdout and stderr without --reveal", async () => {
    const result = await runCli(flags("qradar"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Event Filter");
    expect(result.stdout + result.stderr).not.toContain(emulator.tenant.clientSecret);
  });

  it("exits 1 with one line on stderr when Key Vault refuses, and 2 on bad input", async () => {
    emulator.knobs.keyVault.forbidden = true;
    const refused = await runCli(flags("elastic", ["--reveal"]));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(
      /^handoff: Key Vault refused to read .*Key Vault Secrets User.*\n$/,
    );
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
    const bad = await runCli(["--siem", "splunk"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("handoff: missing --tenant-id: pass it or use --stack <name>\n");
  });
});
