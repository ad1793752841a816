import {
  constants,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from "@azure/identity";
import selfsigned from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { decodeUnverified } from "../../emulator/src/jwt";
import { credentialFor, rawToken } from "./helpers";

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

describe("emulated Entra ID: certificate credentials", () => {
  const DAY_MS = 24 * 60 * 60 * 1000;
  const scope = "https://manage.office.com/.default";
  let certificate: X509Certificate;
  let privateKey: KeyObject;

  beforeAll(() => {
    const pem = readFileSync(emulator.tenant.certificatePath, "utf8");
    certificate = new X509Certificate(pem);
    privateKey = createPrivateKey(pem);
  });

  const tokenEndpoint = () => `${emulator.url}/${emulator.tenant.tenantId}/oauth2/v2.0/token`;
  const thumbprint = (algorithm: "sha1" | "sha256", cert = certificate) =>
    createHash(algorithm).update(cert.raw).digest("base64url");

  interface AssertionOptions {
    alg?: string;
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    key?: KeyObject;
  }

  /** A client assertion built by hand, PS256 with x5t#S256 unless told otherwise. */
  function assertion(options: AssertionOptions = {}): string {
    const alg = options.alg ?? "PS256";
    const nowSeconds = Math.floor(Date.now() / 1000);
    const header = {
      alg,
      typ: "JWT",
      ...(options.header ?? { "x5t#S256": thumbprint("sha256") }),
    };
    const claims = {
      aud: tokenEndpoint(),
      iss: emulator.tenant.clientId,
      sub: emulator.tenant.clientId,
      jti: randomUUID(),
      nbf: nowSeconds,
      iat: nowSeconds,
      exp: nowSeconds + 600,
      ...options.claims,
    };
    const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    const key = options.key ?? privateKey;
    const signature =
      alg === "PS256"
        ? sign("sha256", Buffer.from(input), {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          })
        : sign("sha256", Buffer.from(input), key);
    return `${input}.${signature.toString("base64url")}`;
  }

  const assertionForm = (clientAssertion: string) => ({
    grant_type: "client_credentials",
    client_id: emulator.tenant.clientId,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: clientAssertion,
    scope,
  });

  const certificateCredential = (certificatePath: string) =>
    new ClientCertificateCredential(
      emulator.tenant.tenantId,
      emulator.tenant.clientId,
      { certificatePath },
      { authorityHost: emulator.url, disableInstanceDiscovery: true },
    );

  it("hands out a PEM with an RSA certificate and its private key, registered by SHA-1 thumbprint", () => {
    expect(certificate.publicKey.asymmetricKeyType).toBe("rsa");
    expect(emulator.tenant.certificateThumbprint).toBe(
      createHash("sha1").update(certificate.raw).digest("hex").toUpperCase(),
    );
    expect(privateKey.type).toBe("private");
  });

  it("issues a Management API token to ClientCertificateCredential with the emulator's PEM", async () => {
    const before = emulator.truth.requestLog().length;
    const token = await certificateCredential(emulator.tenant.certificatePath).getToken(scope);
    const claims = decodeUnverified(token.token)!;
    expect(claims).toMatchObject({
      aud: "https://manage.office.com",
      appid: emulator.tenant.clientId,
      tid: emulator.tenant.tenantId,
      roles: ["ActivityFeed.Read", "ActivityFeed.ReadDlp", "ServiceHealth.Read"],
    });
    const calls = emulator.truth
      .requestLog()
      .slice(before)
      .filter((entry) => entry.path.endsWith("/oauth2/v2.0/token"));
    expect(calls.map((entry) => entry.status)).toEqual([200]);
  });

  it("accepts RS256 with a SHA-1 x5t and an audience naming the authority", async () => {
    const raw = await tokenRequest(
      assertionForm(
        assertion({
          alg: "RS256",
          header: { x5t: thumbprint("sha1") },
          claims: { aud: `${emulator.url}/${emulator.tenant.tenantId}/v2.0` },
        }),
      ),
    );
    expect(raw.status).toBe(200);
    expect(decodeUnverified(String(raw.body.access_token))?.appid).toBe(emulator.tenant.clientId);
  });

  it("refuses a certificate that is not registered on the app with AADSTS700027", async () => {
    const other = await selfsigned.generate([{ name: "commonName", value: "not-registered" }], {
      keyType: "rsa",
      keySize: 2048,
      algorithm: "sha256",
    });
    const dir = mkdtempSync(path.join(tmpdir(), "auditbridge-wrong-cert-"));
    const pemPath = path.join(dir, "other.pem");
    writeFileSync(pemPath, `${other.cert}\n${other.private}\n`);
    const error = await certificateCredential(pemPath)
      .getToken(scope)
      .then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
    expect(error?.message).toMatch(
      /AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application/,
    );
    const otherThumbprint = createHash("sha256")
      .update(new X509Certificate(other.cert).raw)
      .digest("hex")
      .toUpperCase();
    expect(error?.message).toContain(otherThumbprint);
  });

  it("refuses an assertion naming the registered certificate but signed with another key", async () => {
    const { privateKey: otherKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    for (const alg of ["PS256", "RS256"]) {
      const raw = await tokenRequest(assertionForm(assertion({ alg, key: otherKey })));
      expect(raw.status).toBe(401);
      expect(raw.body.error).toBe("invalid_client");
      expect(raw.body.error_codes).toEqual([700027]);
      expect(String(raw.body.error_description)).toMatch(/invalid signature/);
    }
  });

  it("refuses algorithms other than RS256 and PS256", async () => {
    const unsigned = assertion().split(".").slice(0, 2).join(".");
    const header = Buffer.from(
      JSON.stringify({ alg: "none", "x5t#S256": thumbprint("sha256") }),
    ).toString("base64url");
    const raw = await tokenRequest(assertionForm(`${header}.${unsigned.split(".")[1]}.`));
    expect(raw.status).toBe(401);
    expect(raw.body.error_codes).toEqual([700027]);
    expect(String(raw.body.error_description)).toContain("'none' is not supported");
  });

  it("refuses an expired or not-yet-valid assertion with AADSTS700024", async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expired = await tokenRequest(
      assertionForm(assertion({ claims: { nbf: nowSeconds - 1200, exp: nowSeconds - 60 } })),
    );
    expect(expired.status).toBe(401);
    expect(expired.body.error_codes).toEqual([700024]);
    const early = await tokenRequest(
      assertionForm(assertion({ claims: { nbf: nowSeconds + 3600, exp: nowSeconds + 4200 } })),
    );
    expect(early.body.error_codes).toEqual([700024]);
  });

  it("refuses a wrong audience, a wrong issuer and a missing jti", async () => {
    const audience = await tokenRequest(
      assertionForm(assertion({ claims: { aud: "https://login.example.test/token" } })),
    );
    expect(audience.status).toBe(401);
    expect(audience.body.error_codes).toEqual([700023]);
    const issuer = await tokenRequest(
      assertionForm(assertion({ claims: { iss: "9a9a9a9a-9a9a-4a9a-9a9a-9a9a9a9a9a9a" } })),
    );
    expect(issuer.body.error_codes).toEqual([700021]);
    const noJti = await tokenRequest(assertionForm(assertion({ claims: { jti: undefined } })));
    expect(noJti.status).toBe(400);
    expect(noJti.body.error_codes).toEqual([50027]);
  });

  it("refuses the certificate once its registration expired, naming the key's end date", async () => {
    const saved = emulator.knobs.certificateExpiresAtMs;
    emulator.knobs.certificateExpiresAtMs = Date.UTC(2026, 0, 31, 0, 0, 0);
    try {
      const raw = await tokenRequest(assertionForm(assertion()));
      expect(raw.status).toBe(401);
      expect(raw.body.error).toBe("invalid_client");
      expect(raw.body.error_codes).toEqual([700027]);
      expect(String(raw.body.error_description)).toMatch(
        /^AADSTS700027: Client assertion contains an invalid signature\. \[Reason - The key used is expired\., .*End=01\/31\/2026 00:00:00/,
      );
    } finally {
      emulator.knobs.certificateExpiresAtMs = saved;
    }
    expect((await tokenRequest(assertionForm(assertion()))).status).toBe(200);
  });

  it("lists the certificate in Graph's keyCredentials with the knob's end date", async () => {
    const saved = emulator.knobs.certificateExpiresAtMs;
    emulator.knobs.certificateExpiresAtMs = Date.now() + 20 * DAY_MS;
    try {
      const token = await rawToken(emulator, "https://graph.microsoft.com/.default");
      const response = await fetch(
        `${emulator.url}/v1.0/applications(appId='${emulator.tenant.clientId}')`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      const app = (await response.json()) as { keyCredentials: Record<string, unknown>[] };
      expect(app.keyCredentials).toHaveLength(1);
      expect(app.keyCredentials[0]).toMatchObject({
        type: "AsymmetricX509Cert",
        usage: "Verify",
        key: null,
        endDateTime: new Date(emulator.knobs.certificateExpiresAtMs).toISOString(),
        customKeyIdentifier: Buffer.from(emulator.tenant.certificateThumbprint, "hex").toString(
          "base64",
        ),
      });
      expect(Date.parse(String(app.keyCredentials[0]!.startDateTime))).toBeLessThanOrEqual(
        emulator.now(),
      );
      expect(JSON.stringify(app)).not.toContain("PRIVATE KEY");
    } finally {
      emulator.knobs.certificateExpiresAtMs = saved;
    }
  });
});
