import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { TokenCredential } from "@azure/identity";
import selfsigned from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectorConfig, loadConfig } from "../../../collector/src/config";
import {
  audienceOfScopes,
  countTokenRefreshes,
  createAppCredential,
  createAzureCredential,
  describeTokenError,
  isFatalTokenError,
} from "../../../collector/src/credentials";
import { createMetrics } from "../../../collector/src/metrics";
import { CLOUDS, scopeFor } from "../../../domain/clouds";
import { type Emulator, startEmulator } from "../../../emulator/src/index";

const run = promisify(execFile);
const REPO = path.resolve(__dirname, "../../..");
const PRINT_TOKEN = path.join(__dirname, "fixtures", "printToken.ts");

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 41, scenario: { historyHours: 1, blobsPerHour: 1 } });
});
afterAll(async () => {
  await emulator?.stop();
});

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

function configFor(env: Record<string, string>): CollectorConfig {
  return loadConfig(
    {},
    {
      AZURE_TENANT_ID: emulator.tenant.tenantId,
      AZURE_CLIENT_ID: emulator.tenant.clientId,
      AZURE_AUTHORITY_HOST: emulator.url,
      ...env,
    },
  );
}

/** What a Management API token request with the config's app credential fails with. */
function managementTokenError(config: CollectorConfig): Promise<unknown> {
  return createAppCredential(config)
    .getToken(scopeFor(CLOUDS.commercial.managementAudience))
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
}

async function tokenFor(credential: TokenCredential, audience: string) {
  const token = await credential.getToken(scopeFor(audience));
  if (!token) throw new Error("no token");
  return token;
}

describe("app credential against the emulator's Entra ID", () => {
  it("gets a Management API token with a client secret, carrying the granted roles", async () => {
    const config = configFor({ AZURE_CLIENT_SECRET: emulator.tenant.clientSecret });
    const token = await tokenFor(createAppCredential(config), CLOUDS.commercial.managementAudience);
    expect(claimsOf(token.token)).toMatchObject({
      aud: "https://manage.office.com",
      tid: emulator.tenant.tenantId,
      appid: emulator.tenant.clientId,
      roles: expect.arrayContaining(["ActivityFeed.Read", "ActivityFeed.ReadDlp"]),
    });
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  it("asks for the audience of the configured cloud", async () => {
    const config = configFor({
      AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
      O365_CLOUD: "gcchigh",
    });
    const token = await tokenFor(createAppCredential(config), config.cloud.managementAudience);
    expect(claimsOf(token.token).aud).toBe("https://manage.office365.us");
  });

  it("reports a wrong secret as a fatal configuration error without echoing the secret", async () => {
    const wrong = "definitely-not-the-secret~123";
    const config = configFor({ AZURE_CLIENT_SECRET: wrong });
    const error = await managementTokenError(config);
    expect(isFatalTokenError(error)).toBe(true);
    const line = describeTokenError(error);
    expect(line).toBe(
      "token request refused (AADSTS7000215): the client secret is wrong: check AZURE_CLIENT_SECRET",
    );
    expect(line).not.toContain(wrong);
  });

  it("reports an unknown tenant with the variable to fix", async () => {
    const config = loadConfig(
      {},
      {
        AZURE_TENANT_ID: "00000000-0000-4000-8000-000000000001",
        AZURE_CLIENT_ID: emulator.tenant.clientId,
        AZURE_CLIENT_SECRET: emulator.tenant.clientSecret,
        AZURE_AUTHORITY_HOST: emulator.url,
      },
    );
    const error = await managementTokenError(config);
    // MSAL fails reading the tenant's OpenID configuration, before any token request.
    expect(describeTokenError(error)).toMatch(
      /^the login authority has no configuration for this tenant: check AZURE_TENANT_ID/,
    );
    expect(isFatalTokenError(error)).toBe(true);
  });

  it("gets a Management API token with the certificate registered on the app, without a secret", async () => {
    const before = emulator.truth.requestLog().length;
    const config = configFor({ AZURE_CLIENT_CERTIFICATE_PATH: emulator.tenant.certificatePath });
    expect(config.credential.kind).toBe("certificate");
    const token = await tokenFor(createAppCredential(config), CLOUDS.commercial.managementAudience);
    expect(claimsOf(token.token)).toMatchObject({
      aud: "https://manage.office.com",
      tid: emulator.tenant.tenantId,
      appid: emulator.tenant.clientId,
      roles: expect.arrayContaining(["ActivityFeed.Read", "ActivityFeed.ReadDlp"]),
    });
    const tokenCalls = emulator.truth
      .requestLog()
      .slice(before)
      .filter((entry) => entry.method === "POST" && entry.path.endsWith("/oauth2/v2.0/token"));
    expect(tokenCalls.map((entry) => entry.status)).toEqual([200]);
  });

  it("reports a certificate the app does not know as a fatal AADSTS700027 naming the variable", async () => {
    const pems = await selfsigned.generate([{ name: "commonName", value: "auditbridge-test" }], {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
    });
    const dir = mkdtempSync(path.join(tmpdir(), "auditbridge-cert-"));
    const pemPath = path.join(dir, "app.pem");
    writeFileSync(pemPath, `${pems.cert}\n${pems.private}\n`);
    const config = configFor({ AZURE_CLIENT_CERTIFICATE_PATH: pemPath });
    const error = await managementTokenError(config);
    expect(isFatalTokenError(error)).toBe(true);
    expect(describeTokenError(error)).toBe(
      "token request refused (AADSTS700027): the certificate is not registered on the app or the assertion is invalid: check AZURE_CLIENT_CERTIFICATE_PATH",
    );
  });

  it("reports an expired certificate registration as a fatal AADSTS700027", async () => {
    const saved = emulator.knobs.certificateExpiresAtMs;
    emulator.knobs.certificateExpiresAtMs = emulator.now() - 60_000;
    try {
      const config = configFor({
        AZURE_CLIENT_CERTIFICATE_PATH: emulator.tenant.certificatePath,
      });
      const error = await managementTokenError(config);
      expect(isFatalTokenError(error)).toBe(true);
      expect(String((error as Error).message)).toContain("The key used is expired");
    } finally {
      emulator.knobs.certificateExpiresAtMs = saved;
    }
  });

  it("uses the app credential for Azure resources when no managed identity is configured", () => {
    const config = configFor({ AZURE_CLIENT_SECRET: emulator.tenant.clientSecret });
    const app = createAppCredential(config);
    expect(createAzureCredential(config, app)).toBe(app);
  });
});

describe("keyless: managed identity as federated credential (child process)", () => {
  function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) {
      if (/^(AZURE_|AUDIT_|O365_|LOGS_INGESTION_|IDENTITY_|MSI_)/.test(key)) delete env[key];
    }
    return {
      ...env,
      AZURE_TENANT_ID: emulator.tenant.tenantId,
      AZURE_CLIENT_ID: emulator.tenant.clientId,
      AZURE_AUTHORITY_HOST: emulator.url,
      AUDIT_FEDERATED_IDENTITY_CLIENT_ID: emulator.managedIdentity.clientId,
      IDENTITY_ENDPOINT: emulator.managedIdentity.endpoint,
      IDENTITY_HEADER: emulator.managedIdentity.identityHeader,
      ...extra,
    };
  }

  async function printToken(which: "app" | "azure", audience: string, env: NodeJS.ProcessEnv) {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", PRINT_TOKEN, which, audience],
      {
        cwd: REPO,
        env,
        timeout: 25_000,
      },
    );
    return JSON.parse(stdout.trim()) as
      | { ok: true; claims: Record<string, unknown> }
      | { ok: false; error: string };
  }

  it("exchanges the managed identity's token for a Management API token of the app", async () => {
    const before = emulator.truth.requestLog().length;
    const result = await printToken("app", "https://manage.office.com", childEnv({}));
    expect(result).toMatchObject({
      ok: true,
      claims: {
        aud: "https://manage.office.com",
        appid: emulator.tenant.clientId,
        tid: emulator.tenant.tenantId,
      },
    });
    const paths = emulator.truth
      .requestLog()
      .slice(before)
      .map((entry) => `${entry.method} ${entry.path} ${entry.status}`);
    expect(paths).toContain("GET /msi/token 200");
    expect(paths).toContain(`POST /${emulator.tenant.tenantId}/oauth2/v2.0/token 200`);
  });

  it("asks the managed identity for the token-exchange audience of the cloud", async () => {
    const before = emulator.truth.requestLog().length;
    await printToken("app", "https://manage.office365.us", childEnv({ O365_CLOUD: "gcchigh" }));
    const msi = emulator.truth
      .requestLog()
      .slice(before)
      .find((entry) => entry.path === "/msi/token");
    expect(new URLSearchParams(msi!.query).get("resource")).toBe("api://AzureADTokenExchangeUSGov");
  });

  it("is refused when the managed identity is not the app's federated credential", async () => {
    const result = await printToken(
      "app",
      "https://manage.office.com",
      childEnv({ AUDIT_FEDERATED_IDENTITY_CLIENT_ID: "22222222-3333-4444-8555-666666666666" }),
    );
    expect(result.ok).toBe(false);
  });

  it("uses the managed identity itself for Logs Ingestion when AUDIT_MANAGED_IDENTITY_CLIENT_ID is set", async () => {
    const result = await printToken(
      "azure",
      "https://monitor.azure.com",
      childEnv({ AUDIT_MANAGED_IDENTITY_CLIENT_ID: emulator.managedIdentity.clientId }),
    );
    expect(result).toMatchObject({
      ok: true,
      claims: { aud: "https://monitor.azure.com", appid: emulator.managedIdentity.clientId },
    });
  });
});

describe("countTokenRefreshes", () => {
  it("counts each new token per audience once, not each cached answer", async () => {
    const metrics = createMetrics();
    const config = configFor({ AZURE_CLIENT_SECRET: emulator.tenant.clientSecret });
    const credential = countTokenRefreshes(createAppCredential(config), metrics);
    await tokenFor(credential, "https://manage.office.com");
    await tokenFor(credential, "https://manage.office.com");
    await tokenFor(credential, "https://monitor.azure.com");
    const values = (await metrics.tokenRefreshes.get()).values;
    expect(values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { audience: "https://manage.office.com" }, value: 1 }),
        expect.objectContaining({ labels: { audience: "https://monitor.azure.com" }, value: 1 }),
      ]),
    );
  });

  it("counts again when the credential hands out a different token", async () => {
    const metrics = createMetrics();
    let n = 0;
    const fake: TokenCredential = {
      getToken: async () => ({ token: `t${Math.floor(n++ / 2)}`, expiresOnTimestamp: 1 }),
    };
    const credential = countTokenRefreshes(fake, metrics);
    for (let i = 0; i < 4; i++) await credential.getToken("https://manage.office.com/.default");
    expect((await metrics.tokenRefreshes.get()).values[0]?.value).toBe(2);
  });

  it("labels by audience without the /.default suffix", () => {
    expect(audienceOfScopes(["https://manage.office.com/.default"])).toBe(
      "https://manage.office.com",
    );
    expect(audienceOfScopes("api://AzureADTokenExchange/.default")).toBe(
      "api://AzureADTokenExchange",
    );
  });
});
