import { describe, expect, it } from "vitest";
import type { CloudName } from "../../domain/clouds";
import { renderJson, renderTable } from "../../scripts/handoff/render";
import { type HandoffReport, handoff } from "../../scripts/handoff/run";
import { SIEM_IDS, type SiemId } from "../../scripts/handoff/siems";
import {
  CLIENT,
  fakeStackReader,
  noneStackOutputs,
  PUBLISHER,
  resolve,
  SECRET_VALUE,
  TENANT,
} from "./helpers";

const NOW_MS = Date.UTC(2026, 11, 1);

async function report(
  siem: SiemId,
  cloud: CloudName,
  overrides: Parameters<typeof noneStackOutputs>[0] = {},
): Promise<HandoffReport> {
  const reader = fakeStackReader(noneStackOutputs({ cloud, ...overrides }));
  const config = await resolve(["--stack", "contoso", "--siem", siem], { reader });
  return handoff(config, { nowMs: () => NOW_MS });
}

/** field label → value of a report's rows. */
function fieldValues(r: HandoffReport): Record<string, string> {
  return Object.fromEntries(r.fields.map((f) => [f.field, f.value]));
}

/** The hosts of each cloud a connector must be pointed at (Microsoft's documented values). */
const HOSTS = {
  commercial: { login: "https://login.microsoftonline.com", manage: "https://manage.office.com" },
  gcchigh: { login: "https://login.microsoftonline.us", manage: "https://manage.office365.us" },
} as const;

describe.each(["commercial", "gcchigh"] as const)("handoff in the %s cloud", (cloud) => {
  const hosts = HOSTS[cloud];

  it("fills the Splunk add-on's tenant fields and content types", async () => {
    const r = await report("splunk", cloud);
    expect(fieldValues(r)).toMatchObject({
      "Tenant ID": TENANT,
      "Client ID": CLIENT,
      "Client Secret": "(Key Vault kv-contoso-audit, secret audit-reader-client-secret)",
      "Content Type":
        "Audit.AzureActiveDirectory,Audit.Exchange,Audit.SharePoint,Audit.General,DLP.All",
    });
    expect(r.fields.map((f) => f.key)).toEqual([
      "tenant_name",
      "endpoint",
      "tenant_id",
      "client_id",
      "client_secret",
      "content_type",
    ]);
    const endpoint = r.fields.find((f) => f.key === "endpoint")!;
    expect(endpoint.note).toContain(`Login is ${hosts.login} and Management is ${hosts.manage}`);
    expect(endpoint.confirmed).toBe(false);
  });

  it("fills Elastic's integration fields, moving URL, token URL and scope off the defaults only outside commercial", async () => {
    const r = await report("elastic", cloud);
    expect(fieldValues(r)).toMatchObject({
      "Directory (tenant) ID": TENANT,
      "Application (client) ID": CLIENT,
      "Base URL of Office Management API": hosts.manage,
      "Oauth2 Token URL": hosts.login,
      "Token Scopes": `${hosts.manage}/.default`,
      "Content Type":
        "Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All",
    });
    const note = r.fields.find((f) => f.key === "url")!.note;
    expect(note).toBe(
      cloud === "commercial"
        ? "the default"
        : "change it from the default https://manage.office.com",
    );
    expect(r.fields.every((f) => f.confirmed)).toBe(true);
  });

  it("fills QRadar's log source parameters with its Event Filter names", async () => {
    const r = await report("qradar", cloud, {
      contentTypes: "Audit.General,DLP.All,Audit.AzureActiveDirectory",
    });
    expect(fieldValues(r)).toMatchObject({
      "Protocol Configuration": "Office 365 REST API",
      "Client ID": CLIENT,
      "Tenant ID": TENANT,
      "Authentication Method": "Client Secret",
      "Event Filter": "Azure Active Directory, General, DLP",
      "Management Activity API URL": hosts.manage,
    });
  });

  it.each(["arcsight", "mcafee-esm"] as const)(
    "gives %s the API's values under Microsoft's names, each marked unconfirmed",
    async (siem) => {
      const r = await report(siem, cloud, { publisherId: PUBLISHER });
      expect(fieldValues(r)).toMatchObject({
        "Tenant ID": TENANT,
        "Client ID": CLIENT,
        "Authority / login host": hosts.login,
        "Management API host": hosts.manage,
        PublisherIdentifier: PUBLISHER,
      });
      expect(r.fields.every((f) => !f.confirmed)).toBe(true);
      expect(r.warnings.some((w) => w.startsWith("7 field names are not confirmed"))).toBe(true);
      expect(renderTable(r)).toContain("Tenant ID *");
    },
  );

  it("tells Sentinel users that the built-in connector needs no app, and what it leaves out", async () => {
    const r = await report("sentinel", cloud, {
      workspaceResourceId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws",
    });
    expect(fieldValues(r)).toEqual({
      Workspace:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws",
      Tenant: TENANT,
      "Data types": "Exchange, SharePoint, Teams",
      "Not covered": "Audit.AzureActiveDirectory,Audit.General,DLP.All",
    });
    expect(r.fields.some((f) => f.credential)).toBe(false);
    expect(r.credential.readCommand).toBeNull();
    expect(r.notes.join(" ")).toContain("not used by this connector");
  });

  it("prints the cloud's endpoints and the stack's PublisherIdentifier", async () => {
    const r = await report("splunk", cloud, { publisherId: PUBLISHER });
    expect(r.endpoints).toEqual({
      authorityHost: hosts.login,
      tokenUrl: `${hosts.login}/${TENANT}/oauth2/v2.0/token`,
      managementEndpoint: hosts.manage,
      managementScope: `${hosts.manage}/.default`,
      graphEndpoint:
        cloud === "commercial" ? "https://graph.microsoft.com" : "https://graph.microsoft.us",
    });
    expect(r.publisherId).toBe(PUBLISHER);
    // Splunk sends the tenant id as PublisherIdentifier, which the notes say.
    expect(
      r.notes.some((n) => n.includes(`not against the stack's publisherId ${PUBLISHER}`)),
    ).toBe(true);
  });
});

describe("the client secret", () => {
  it.each(SIEM_IDS)(
    "is never in the %s output without --reveal, in the table or in JSON",
    async (siem) => {
      const r = await report(siem, "commercial");
      for (const text of [renderTable(r), renderJson(r)]) {
        expect(text).not.toContain(SECRET_VALUE);
        expect(text).not.toContain("[redacted]");
      }
      expect(r.credential.revealed).toBe(false);
    },
  );

  it("is pointed at with the az command that reads it once, and its expiry", async () => {
    const r = await report("qradar", "commercial");
    const row = r.fields.find((f) => f.credential)!;
    expect(row.note).toBe(
      "read it once: az keyvault secret show --vault-name kv-contoso-audit --name audit-reader-client-secret --query value -o tsv (or add --reveal); expires 2027-06-01T00:00:00Z",
    );
    expect(r.credential).toMatchObject({
      mode: "secret",
      keyVaultName: "kv-contoso-audit",
      secretName: "audit-reader-client-secret",
      expiresAt: "2027-06-01T00:00:00Z",
    });
  });

  it("warns when it expires within 30 days or has expired", async () => {
    const soon = await report("splunk", "commercial", { secretExpiresAt: "2026-12-20T00:00:00Z" });
    expect(soon.warnings).toContain(
      "the client secret expires at 2026-12-20T00:00:00Z: after the stack rotates it, give the SIEM the new one",
    );
    const past = await report("splunk", "commercial", { secretExpiresAt: "2026-11-01T00:00:00Z" });
    expect(past.warnings[0]).toMatch(
      /^the client secret expired at 2026-11-01T00:00:00Z: run pulumi up/,
    );
  });

  it("in certificate mode points at the PEM bundle and QRadar's .pfx option", async () => {
    const r = await report("qradar", "commercial", {
      credentialMode: "certificate",
      clientSecretName: "",
    });
    const values = fieldValues(r);
    expect(values["Authentication Method"]).toBe("Client Certificate");
    expect(values["Client Certificate"]).toBe("(certificate bundle in Key Vault kv-contoso-audit)");
    expect(r.fields.find((f) => f.credential)!.note).toContain("openssl pkcs12 -export");
  });
});

describe("a stack whose own collector runs (collector bundled)", () => {
  it("still hands off, warning that a second reader splits nothing", async () => {
    const r = await report("elastic", "commercial", { collector: "bundled" });
    expect(r.collector).toBe("bundled");
    expect(r.warnings).toContain(
      "this stack's own collector already reads this tenant with the same app: a second reader splits nothing (each gets all content), and starting subscriptions that are already on is harmless",
    );
    const none = await report("elastic", "commercial");
    expect(none.warnings).toEqual([]);
  });
});

describe("the table", () => {
  it("shows each field with its key, the endpoints, steps and sources", async () => {
    const text = renderTable(await report("splunk", "gcchigh"));
    expect(text).toContain("AuditBridge handoff to Splunk Add-on for Microsoft Office 365");
    expect(text).toContain(`tenant ${TENANT}, app ${CLIENT}, cloud gcchigh, stack contoso`);
    expect(text).toMatch(/Tenant ID \(tenant_id\)\s+11111111-2222-3333-4444-555555555555/);
    expect(text).toContain("  token URL         https://login.microsoftonline.us/");
    expect(text).toContain(
      "Sources: https://splunk.github.io/splunk-add-on-for-microsoft-office-365/ConfigureTenant/",
    );
  });

  it("JSON carries a schema version and every field", async () => {
    const json = JSON.parse(renderJson(await report("elastic", "commercial")));
    expect(json).toMatchObject({
      schemaVersion: 1,
      siem: "elastic",
      tenantId: TENANT,
      clientId: CLIENT,
    });
    expect(json.fields).toHaveLength(7);
  });
});
