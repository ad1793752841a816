import {
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { decodeUnverified } from "../../emulator/src/jwt";
import { credentialFor } from "./helpers";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 11, scenario: { historyHours: 1, blobsPerHour: 2 } });
});
afterAll(async () => {
  await emulator.stop();
});

async function tokenRequest(form: Record<string, string>, tenant = emulator.tenant.tenantId) {
  const response = await fetch(`${emulator.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const validForm = () => ({
  grant_type: "client_credentials",
  client_id: emulator.tenant.clientId,
  client_secret: emulator.tenant.clientSecret,
  scope: "https://manage.office.com/.default",
});

describe("emulated Entra ID", () => {
  it("starts in well under a second with seeded identities", async () => {
    const started = performance.now();
    const other = await startEmulator({ seed: 11, scenario: { historyHours: 1, blobsPerHour: 2 } });
    const elapsedMs = performance.now() - started;
    await other.stop();
    expect(elapsedMs).toBeLessThan(1000);
    expect(other.tenant).toEqual(emulator.tenant);
    expect(other.url).not.toBe(emulator.url);
  });

  it("serves OIDC discovery whose issuer shares the authority's scheme and host", async () => {
    const response = await fetch(
      `${emulator.url}/${emulator.tenant.tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(response.status).toBe(200);
    const config = (await response.json()) as Record<string, string>;
    expect(config.token_endpoint).toBe(
      `${emulator.url}/${emulator.tenant.tenantId}/oauth2/v2.0/token`,
    );
    expect(new URL(config.issuer!).origin).toBe(emulator.url);
    expect(config.jwks_uri).toBeTruthy();
    expect(config.authorization_endpoint).toBeTruthy();
  });

  it("issues a Management API token through @azure/identity with the granted roles", async () => {
    const token = await credentialFor(emulator).getToken("https://manage.office.com/.default");
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3000 * 1000);
    const claims = decodeUnverified(token.token)!;
    expect(claims.aud).toBe("https://manage.office.com");
    expect(claims.tid).toBe(emulator.tenant.tenantId);
    expect(claims.appid).toBe(emulator.tenant.clientId);
    expect(claims.roles).toEqual([
      "ActivityFeed.Read",
      "ActivityFeed.ReadDlp",
      "ServiceHealth.Read",
    ]);
  });

  it("puts no Management API roles into tokens for other audiences", async () => {
    const token = await credentialFor(emulator).getToken("https://monitor.azure.com/.default");
    const claims = decodeUnverified(token.token)!;
    expect(claims.aud).toBe("https://monitor.azure.com");
    expect(claims.roles).toBeUndefined();
  });

  it("answers a wrong secret with invalid_client AADSTS7000215, which @azure/identity surfaces", async () => {
    const raw = await tokenRequest({ ...validForm(), client_secret: "not-the-secret" });
    expect(raw.status).toBe(401);
    expect(raw.body.error).toBe("invalid_client");
    expect(raw.body.error_codes).toEqual([7000215]);
    expect(String(raw.body.error_description)).toMatch(
      /^AADSTS7000215: Invalid client secret provided/,
    );
    expect(JSON.stringify(raw.body)).not.toContain(emulator.tenant.clientSecret);
    await expect(
      credentialFor(emulator, "wrong").getToken("https://manage.office.com/.default"),
    ).rejects.toThrow(/AADSTS7000215/);
  });

  it("answers an expired secret with AADSTS7000222", async () => {
    const saved = emulator.knobs.secretExpiresAtMs;
    emulator.knobs.secretExpiresAtMs = Date.now() - 1000;
    try {
      const raw = await tokenRequest(validForm());
      expect(raw.status).toBe(401);
      expect(raw.body.error).toBe("invalid_client");
      expect(raw.body.error_codes).toEqual([7000222]);
    } finally {
      emulator.knobs.secretExpiresAtMs = saved;
    }
  });

  it("answers an unknown app with AADSTS700016 and an unknown tenant with AADSTS90002", async () => {
    const app = await tokenRequest({
      ...validForm(),
      client_id: "00000000-0000-0000-0000-00000000abcd",
    });
    expect(app.status).toBe(400);
    expect(app.body.error).toBe("unauthorized_client");
    expect(app.body.error_codes).toEqual([700016]);
    const tenant = await tokenRequest(validForm(), "11111111-2222-3333-4444-555555555555");
    expect(tenant.status).toBe(400);
    expect(tenant.body.error_codes).toEqual([90002]);
    const discovery = await fetch(
      `${emulator.url}/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration`,
    );
    expect(discovery.status).toBe(400);
  });

  it("refuses scopes without /.default and unknown resources", async () => {
    const noDefault = await tokenRequest({
      ...validForm(),
      scope: "https://manage.office.com/ActivityFeed.Read",
    });
    expect(noDefault.status).toBe(400);
    expect(noDefault.body.error).toBe("invalid_scope");
    const unknown = await tokenRequest({ ...validForm(), scope: "https://example.com/.default" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error_codes).toEqual([500011]);
  });

  it("serves managed identity tokens that the app accepts as a federated client assertion", async () => {
    const mi = emulator.managedIdentity;
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = mi.endpoint;
    process.env.IDENTITY_HEADER = mi.identityHeader;
    try {
      const miCredential = new ManagedIdentityCredential({ clientId: mi.clientId });
      const app = new ClientAssertionCredential(
        emulator.tenant.tenantId,
        emulator.tenant.clientId,
        async () => (await miCredential.getToken("api://AzureADTokenExchange/.default")).token,
        { authorityHost: emulator.url, disableInstanceDiscovery: true },
      );
      const token = await app.getToken("https://manage.office.com/.default");
      const claims = decodeUnverified(token.token)!;
      expect(claims.appid).toBe(emulator.tenant.clientId);
      expect(claims.roles).toContain("ActivityFeed.Read");
    } finally {
      if (saved.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
      else process.env.IDENTITY_ENDPOINT = saved.endpoint;
      if (saved.header === undefined) delete process.env.IDENTITY_HEADER;
      else process.env.IDENTITY_HEADER = saved.header;
    }
  });

  it("refuses a managed identity call without the identity header", async () => {
    const response = await fetch(
      `${emulator.managedIdentity.endpoint}?api-version=2019-08-01&resource=api://AzureADTokenExchange`,
    );
    expect(response.status).toBe(401);
  });

  it("refuses a client assertion that is not a trusted managed identity token", async () => {
    const monitorToken = (
      await credentialFor(emulator).getToken("https://monitor.azure.com/.default")
    ).token;
    const credential = new ClientAssertionCredential(
      emulator.tenant.tenantId,
      emulator.tenant.clientId,
      async () => monitorToken,
      { authorityHost: emulator.url, disableInstanceDiscovery: true },
    );
    await expect(credential.getToken("https://manage.office.com/.default")).rejects.toThrow(
      /AADSTS70021/,
    );
  });

  it("keeps a credential built with a wrong client id from getting any token", async () => {
    const credential = new ClientSecretCredential(
      emulator.tenant.tenantId,
      "9a9a9a9a-9a9a-4a9a-9a9a-9a9a9a9a9a9a",
      emulator.tenant.clientSecret,
      { authorityHost: emulator.url, disableInstanceDiscovery: true },
    );
    await expect(credential.getToken("https://manage.office.com/.default")).rejects.toThrow(
      /AADSTS700016/,
    );
  });
});
