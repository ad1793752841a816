import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../emulator/src/index";
import { emulatedSubscriptionId } from "../../emulator/src/preflightKnobs";
import { servicePrincipalCredential, startPreflightEmulator, userCredential } from "./helpers";

let emulator: Emulator;
let armToken: string;
let graphToken: string;

beforeAll(async () => {
  emulator = await startPreflightEmulator();
  const credential = servicePrincipalCredential(emulator);
  // What the Azure SDK management clients ask for when given the emulator as a custom endpoint.
  armToken = (await credential.getToken(`${emulator.url}/.default`)).token;
  graphToken = (await credential.getToken("https://graph.microsoft.com/.default")).token;
});

afterAll(async () => {
  await emulator?.stop();
});

/** The parts of ARM and Graph answers these tests read. */
interface Answer {
  error: { code: string; message: string };
  value: Array<Record<string, unknown>>;
}

async function get(path: string, token?: string): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${emulator.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe("the emulator's Resource Manager", () => {
  const sub = () => `/subscriptions/${emulatedSubscriptionId(emulator.seed)}`;

  it("issues ARM tokens for the SDK's custom-endpoint scope and for management.azure.com", async () => {
    const token = await servicePrincipalCredential(emulator).getToken(
      "https://management.azure.com/.default",
    );
    const { status } = await get(
      `${sub()}/resourcegroups/rg-auditbridge?api-version=2021-04-01`,
      token.token,
    );
    expect(status).toBe(200);
  });

  it("answers ARM's error shapes: no token, wrong audience, no api-version, unknown subscription", async () => {
    const rg = `${sub()}/resourcegroups/rg-auditbridge`;
    expect((await get(`${rg}?api-version=2021-04-01`)).body.error.code).toBe(
      "AuthenticationFailed",
    );
    const wrongAudience = await get(`${rg}?api-version=2021-04-01`, graphToken);
    expect(wrongAudience).toMatchObject({
      status: 401,
      body: { error: { code: "InvalidAuthenticationToken" } },
    });
    expect((await get(rg, armToken)).body.error.code).toBe("MissingApiVersionParameter");
    const other = await get(
      "/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/rg?api-version=2021-04-01",
      armToken,
    );
    expect(other).toMatchObject({ status: 404, body: { error: { code: "SubscriptionNotFound" } } });
    const missing = await get(`${sub()}/resourcegroups/nope?api-version=2021-04-01`, armToken);
    expect(missing).toMatchObject({
      status: 404,
      body: { error: { code: "ResourceGroupNotFound" } },
    });
  });

  it("lists a resource group as the REST reference shows it", async () => {
    const { body } = await get(
      `${sub()}/resourcegroups/RG-AUDITBRIDGE?api-version=2021-04-01`,
      armToken,
    );
    expect(body).toEqual({
      id: `${sub()}/resourceGroups/rg-auditbridge`,
      name: "rg-auditbridge",
      type: "Microsoft.Resources/resourceGroups",
      location: "westeurope",
      properties: { provisioningState: "Succeeded" },
    });
  });

  it("answers an unknown provider namespace with InvalidResourceNamespace", async () => {
    const { status, body } = await get(
      `${sub()}/providers/Microsoft.Nope?api-version=2021-04-01`,
      armToken,
    );
    expect(status).toBe(404);
    expect(body.error.code).toBe("InvalidResourceNamespace");
  });
});

describe("the emulator's Graph directory reads", () => {
  it("refuses /me with an app-only token, as Graph does", async () => {
    const { status, body } = await get("/v1.0/me/transitiveMemberOf", graphToken);
    expect(status).toBe(400);
    expect(body.error.message).toBe(
      "/me request is only valid with delegated authentication flow.",
    );
  });

  it("lists directory roles for a signed-in user", async () => {
    const token = await userCredential(emulator).getToken("https://graph.microsoft.com/.default");
    const { status, body } = await get("/v1.0/me/memberOf", token.token);
    expect(status).toBe(200);
    expect(body.value.map((o) => o["@odata.type"])).toContain("#microsoft.graph.directoryRole");
  });

  it("puts the Graph application permissions into a service principal's Graph token", () => {
    const payload = JSON.parse(Buffer.from(graphToken.split(".")[1]!, "base64url").toString());
    expect(payload.roles).toEqual(["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"]);
    expect(payload.idtyp).toBe("app");
  });

  it("refuses a wrong password with AADSTS50126", async () => {
    const response = await fetch(`${emulator.url}/${emulator.tenant.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        username: "admin@auditbridge.emulator",
        password: "wrong",
        scope: "https://graph.microsoft.com/.default openid",
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error_codes: number[] };
    expect(body.error_codes).toEqual([50126]);
  });
});

describe("the emulator's preflight knobs", () => {
  // Knobs arrive as untyped JSON from `npm run emulator -- --knobs`, hence the casts.
  it("keeps the defaults a partial preflight object leaves out", async () => {
    const other = await startPreflightEmulator({
      knobs: { preflight: { unregisteredProviders: ["Microsoft.App"] } as never },
    });
    try {
      expect(other.knobs.preflight.unregisteredProviders).toEqual(["Microsoft.App"]);
      expect(other.knobs.preflight.resourceGroups).toEqual(["rg-auditbridge"]);
    } finally {
      await other.stop();
    }
  });

  it("refuses a bad knob with one line naming it", async () => {
    await expect(
      startPreflightEmulator({
        knobs: {
          preflight: {
            resources: [{ id: "not-an-id", location: "x", permissions: [], readable: true }],
          } as never,
        },
      }),
    ).rejects.toThrow(/^knobs\.preflight\.resources: "not-an-id" is not a resource id/);
  });
});
