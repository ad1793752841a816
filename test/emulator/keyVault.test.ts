import { SecretClient } from "@azure/keyvault-secrets";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  EMULATED_CLIENT_SECRET_NAME,
  type Emulator,
  startEmulator,
} from "../../emulator/src/index";
import { credentialFor, rawToken } from "./helpers";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 31 });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.knobs.keyVault.forbidden = false;
});

/** The SDK's client, allowed to accept the challenge of a vault outside *.vault.azure.net. */
function client(): SecretClient {
  return new SecretClient(emulator.url, credentialFor(emulator), {
    disableChallengeResourceVerification: true,
  });
}

describe("emulated Key Vault secrets", () => {
  it("answers the SDK's challenge round and returns the tenant app's secret with its expiry", async () => {
    const secret = await client().getSecret(EMULATED_CLIENT_SECRET_NAME);
    expect(secret.value).toBe(emulator.tenant.clientSecret);
    expect(secret.properties.expiresOn?.getTime()).toBe(
      Math.floor(emulator.knobs.secretExpiresAtMs / 1000) * 1000,
    );
    expect(secret.properties.contentType).toBe("text/plain");
    const log = emulator.truth.requestLog().filter((r) => r.path.startsWith("/secrets/"));
    // First the unauthenticated request that draws the challenge, then the authorised one.
    expect(log.map((r) => r.status)).toEqual([401, 200]);
  });

  it("challenges with the vault resource and the tenant's authority", async () => {
    const response = await fetch(
      `${emulator.url}/secrets/${EMULATED_CLIENT_SECRET_NAME}?api-version=7.4`,
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer authorization="${emulator.url}/${emulator.tenant.tenantId}", resource="https://vault.azure.net"`,
    );
  });

  it("refuses a token for another audience with a new challenge", async () => {
    const token = await rawToken(emulator, "https://graph.microsoft.com/.default");
    const response = await fetch(
      `${emulator.url}/secrets/${EMULATED_CLIENT_SECRET_NAME}?api-version=7.4`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      "Invalid audience",
    );
  });

  it("answers 404 SecretNotFound for a name it does not hold, and for an unknown version", async () => {
    await expect(client().getSecret("no-such-secret")).rejects.toMatchObject({
      statusCode: 404,
      code: "SecretNotFound",
    });
    await expect(
      client().getSecret(EMULATED_CLIENT_SECRET_NAME, { version: "0".repeat(32) }),
    ).rejects.toMatchObject({ statusCode: 404, code: "SecretNotFound" });
  });

  it("answers 403 Forbidden (ForbiddenByRbac) when the forbidden knob is set", async () => {
    emulator.knobs.keyVault.forbidden = true;
    await expect(client().getSecret(EMULATED_CLIENT_SECRET_NAME)).rejects.toMatchObject({
      statusCode: 403,
      code: "Forbidden",
    });
  });

  it("requires an api-version it recognises", async () => {
    const token = await rawToken(emulator, "https://vault.azure.net/.default");
    const response = await fetch(`${emulator.url}/secrets/${EMULATED_CLIENT_SECRET_NAME}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(400);
  });

  it("is refused by an SDK client that verifies the challenge resource against the vault host", async () => {
    const strict = new SecretClient(emulator.url, credentialFor(emulator));
    await expect(strict.getSecret(EMULATED_CLIENT_SECRET_NAME)).rejects.toThrow(
      /does not match the requested domain/,
    );
  });
});

describe("the keyVault knob", () => {
  it("is checked at start, naming the bad secret", async () => {
    await expect(
      startEmulator({
        knobs: { keyVault: { forbidden: false, secrets: { "bad_name!": { value: "x" } } } },
      }),
    ).rejects.toThrow('knobs.keyVault.secrets: "bad_name!" is not a Key Vault secret name');
  });

  it("replaces the default secret when the caller lists its own", async () => {
    const own = await startEmulator({
      seed: 32,
      knobs: { keyVault: { forbidden: false, secrets: { "siem-secret": { value: "v1" } } } },
    });
    try {
      expect(Object.keys(own.knobs.keyVault.secrets)).toEqual(["siem-secret"]);
    } finally {
      await own.stop();
    }
  });
});
