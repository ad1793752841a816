import * as pulumi from "@pulumi/pulumi";
import selfsigned from "selfsigned";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, MOCK, plain, type Recorder, resolved, settle } from "./mocks";

const M365 = "11111111-2222-3333-4444-555555555555";
const NOW = Date.parse("2026-11-27T12:00:00Z");
const APP = "azuread:index/application:Application";
const SP = "azuread:index/servicePrincipal:ServicePrincipal";
const CONSENT = "azuread:index/appRoleAssignment:AppRoleAssignment";
const PASSWORD = "azuread:index/applicationPassword:ApplicationPassword";
const FIC =
  "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential";
const CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate";
const HOME = "99999999-8888-7777-6666-555555555555";
const IDENTITY_PRINCIPAL = "77777777-6666-5555-4444-333333333333";
const CERT_NOT_AFTER = new Date("2027-06-30T08:00:00Z");

let recorder: Recorder;
let secretApp: import("../../components/auditReaderApp").AuditReaderApp;
let lifetimeError: unknown;
let registeredBeforeBadArgs = 0;
let registeredAfterBadArgs = 0;
let certificateBundle = "";
let certificateApp: import("../../components/auditReaderApp").AuditReaderApp;

beforeAll(async () => {
  recorder = await installMocks();
  const { AuditReaderApp } = await import("../../components/auditReaderApp");
  secretApp = new AuditReaderApp("plain", {
    displayName: "AuditBridge audit reader (contoso)",
    m365TenantId: M365,
    contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
    credential: {
      mode: "secret",
      lifetimeDays: 180,
      rotationDays: 90,
      rotationAnchor: "2026-01-01",
      nowMs: NOW,
    },
  });
  new AuditReaderApp("dlp", {
    displayName: "dlp",
    m365TenantId: M365,
    contentTypes: ["Audit.General", "DLP.All"],
    includeServiceHealth: true,
    credential: {
      mode: "secret",
      lifetimeDays: 180,
      rotationDays: 90,
      rotationAnchor: "2026-11-01",
      nowMs: NOW,
    },
  });
  new AuditReaderApp("keyless", {
    displayName: "keyless",
    m365TenantId: M365,
    appTenantId: HOME,
    cloud: "gcchigh",
    contentTypes: ["Audit.Exchange"],
    credential: {
      mode: "federated",
      identityPrincipalId: IDENTITY_PRINCIPAL,
      identityTenantId: HOME,
    },
  });
  const generated = await selfsigned.generate([{ name: "commonName", value: "auditbridge-test" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: new Date("2026-06-30T08:00:00Z"),
    notAfterDate: CERT_NOT_AFTER,
  });
  certificateBundle = `${generated.cert}${generated.private}`;
  certificateApp = new AuditReaderApp("cert", {
    displayName: "cert",
    m365TenantId: M365,
    contentTypes: ["Audit.Exchange"],
    credential: { mode: "certificate", certificatePem: pulumi.secret(certificateBundle) },
  });
  await resolved(secretApp.clientId);
  registeredBeforeBadArgs = recorder.resources.length;
  try {
    new AuditReaderApp("bad", {
      displayName: "bad",
      m365TenantId: M365,
      contentTypes: ["Audit.Exchange"],
      credential: {
        mode: "secret",
        lifetimeDays: 900,
        rotationDays: 90,
        rotationAnchor: "2026-01-01",
      },
    });
  } catch (error) {
    lifetimeError = error;
  }
  await settle();
  registeredAfterBadArgs = recorder.resources.filter((r) => r.name.startsWith("bad")).length;
});

describe("AuditReaderApp with a rotating client secret", () => {
  it("creates a single-tenant app through an azuread provider pinned to the M365 tenant", () => {
    const app = recorder.one(APP, "plain");
    expect(app.inputs.signInAudience).toBe("AzureADMyOrg");
    expect(app.inputs.displayName).toBe("AuditBridge audit reader (contoso)");
    const provider = recorder.providerOf(app);
    expect(provider?.type).toBe("pulumi:providers:azuread");
    expect(provider?.inputs.tenantId).toBe(M365);
    expect(provider?.inputs.environment).toBe("global");
  });

  it("requests only ActivityFeed.Read when DLP.All is not collected, with the id resolved by name", () => {
    const app = recorder.one(APP, "plain");
    expect(app.inputs.requiredResourceAccesses).toEqual([
      {
        resourceAppId: "c5393580-f805-4401-95e8-94b7a6ef2fc2",
        resourceAccesses: [{ id: MOCK.managementRoleIds["ActivityFeed.Read"], type: "Role" }],
      },
    ]);
  });

  it("only looks up Microsoft's Management APIs service principal in the M365 tenant, never manages it", () => {
    // No resource for it at all: nothing the program could update or delete.
    for (const sp of recorder.ofType(SP)) {
      expect(sp.inputs.clientId, sp.name).not.toBe("c5393580-f805-4401-95e8-94b7a6ef2fc2");
    }
    const lookups = recorder
      .invokesOf("azuread:index/getServicePrincipal:getServicePrincipal")
      .filter((i) => i.provider?.includes("::plain-m365::"));
    expect(lookups.map((i) => i.inputs)).toEqual([
      { clientId: "c5393580-f805-4401-95e8-94b7a6ef2fc2" },
    ]);
    expect(recorder.providerOf(lookups[0]!)?.inputs.tenantId).toBe(M365);
  });

  it("creates a single-tenant app's principal and consent without a replication wait", () => {
    expect(recorder.ofType("time:index/sleep:Sleep", "plain")).toEqual([]);
    const sp = recorder.one(SP, "plain-sp");
    expect(sp.options.dependsOn).toContain(recorder.one(APP, "plain").name);
    for (const consent of recorder.ofType(CONSENT, "plain")) {
      expect(consent.options.dependsOn).toContain(sp.name);
      expect(consent.options.customTimeouts?.create).toBe("10m");
    }
  });

  it("grants admin consent with one app role assignment per role, from the app's principal to the API's", () => {
    const consents = recorder.ofType(CONSENT, "plain");
    const appSp = recorder.one(SP, "plain-sp");
    expect(consents).toHaveLength(1);
    expect(consents[0]!.inputs).toEqual({
      appRoleId: MOCK.managementRoleIds["ActivityFeed.Read"],
      principalObjectId: appSp.state.objectId,
      resourceObjectId: MOCK.managementApiObjectId,
    });
    expect(recorder.providerOf(consents[0]!)?.inputs.tenantId).toBe(M365);
  });

  it("adds ActivityFeed.ReadDlp for DLP.All and ServiceHealth.Read on request, each with consent", () => {
    const app = recorder.one(APP, "dlp");
    const accesses = (app.inputs.requiredResourceAccesses as { resourceAccesses: unknown[] }[])[0]!
      .resourceAccesses;
    expect(accesses).toEqual([
      { id: MOCK.managementRoleIds["ActivityFeed.Read"], type: "Role" },
      { id: MOCK.managementRoleIds["ActivityFeed.ReadDlp"], type: "Role" },
      { id: MOCK.managementRoleIds["ServiceHealth.Read"], type: "Role" },
    ]);
    const granted = recorder
      .ofType(CONSENT, "dlp")
      .map((c) => c.inputs.appRoleId)
      .sort();
    expect(granted).toEqual(Object.values(MOCK.managementRoleIds).sort());
  });

  it("keeps the previous and the current rotation period's passwords, with end dates from the anchor", () => {
    // 2026-11-27 is in period 3 of 90 days from 2026-01-01 (period 3 starts 2026-09-28, ends with its password on 2027-03-27).
    const passwords = recorder.ofType(PASSWORD, "plain").map((p) => [p.name, p.inputs.endDate]);
    expect(passwords).toEqual([
      ["plain-secret-2", "2026-12-27T00:00:00Z"],
      ["plain-secret-3", "2027-03-27T00:00:00Z"],
    ]);
    const app = recorder.one(APP, "plain");
    for (const p of recorder.ofType(PASSWORD, "plain")) {
      expect(p.inputs.applicationId).toBe(app.id);
      expect(p.inputs).not.toHaveProperty("endDateRelative");
      expect(p.inputs).not.toHaveProperty("startDate");
    }
  });

  it("creates a single password in the anchor's own period", () => {
    const passwords = recorder.ofType(PASSWORD, "dlp").map((p) => [p.name, p.inputs.endDate]);
    expect(passwords).toEqual([["dlp-secret-0", "2027-04-30T00:00:00Z"]]);
  });

  it("exposes the current secret only as a Pulumi secret and its expiry as plain text", async () => {
    expect(await isSecret(secretApp.clientSecret!)).toBe(true);
    expect(await resolved(secretApp.clientSecret!)).toBe(MOCK.passwordValue("plain-secret-3"));
    expect(await isSecret(secretApp.secretExpiresAt)).toBe(false);
    expect(await resolved(secretApp.secretExpiresAt)).toBe("2027-03-27T00:00:00Z");
    expect(secretApp.secretRotationSlot).toBe(3);
  });

  it("refuses a 900-day lifetime in one line before creating anything", () => {
    expect(lifetimeError).toBeInstanceOf(Error);
    expect((lifetimeError as Error).message).toBe(
      "AuditReaderApp bad: credential.lifetimeDays must be a whole number between 1 and 730 (got 900)",
    );
    expect(registeredAfterBadArgs).toBe(0);
    expect(registeredBeforeBadArgs).toBeGreaterThan(0);
  });
});

describe("AuditReaderApp in keyless mode across tenants", () => {
  it("creates a multitenant app in the identity's tenant and consents it in the M365 tenant", () => {
    const app = recorder.one(APP, "keyless");
    expect(app.inputs.signInAudience).toBe("AzureADMultipleOrgs");
    expect(recorder.providerOf(app)?.inputs.tenantId).toBe(HOME);
    expect(recorder.providerOf(app)?.inputs.environment).toBe("usgovernmentl4");
    const appSp = recorder.one(SP, "keyless-sp");
    expect(appSp.inputs.clientId).toBe(app.state.clientId);
    expect(recorder.providerOf(appSp)?.inputs.tenantId).toBe(M365);
    for (const consent of recorder.ofType(CONSENT, "keyless")) {
      expect(recorder.providerOf(consent)?.inputs.tenantId).toBe(M365);
    }
  });

  it("trusts the managed identity as a federated credential with the cloud's issuer and audience", () => {
    const fic = recorder.one(FIC, "keyless");
    expect(fic.inputs).toMatchObject({
      applicationId: recorder.one(APP, "keyless").id,
      issuer: `https://login.microsoftonline.us/${HOME}/v2.0`,
      subject: IDENTITY_PRINCIPAL,
      audiences: ["api://AzureADTokenExchangeUSGov"],
    });
    expect(recorder.providerOf(fic)?.inputs.tenantId).toBe(HOME);
  });

  it("creates no password or certificate", () => {
    expect(recorder.ofType(PASSWORD, "keyless")).toEqual([]);
    expect(recorder.ofType(CERTIFICATE, "keyless")).toEqual([]);
  });
});

describe("AuditReaderApp with a certificate", () => {
  it("uploads only the public certificate, never the private key", () => {
    const cert = recorder.one(CERTIFICATE, "cert");
    expect(cert.inputs.type).toBe("AsymmetricX509Cert");
    expect(cert.inputs.encoding).toBe("pem");
    expect(plain(cert.inputs.value)).toContain("-----BEGIN CERTIFICATE-----");
    expect(plain(cert.inputs.value)).not.toContain("PRIVATE KEY");
    expect(certificateBundle).toContain("PRIVATE KEY");
  });

  it("takes the credential's end date from the certificate and reports it as the expiry", async () => {
    expect(recorder.one(CERTIFICATE, "cert").inputs.endDate).toBe("2027-06-30T08:00:00Z");
    expect(await resolved(certificateApp.secretExpiresAt)).toBe("2027-06-30T08:00:00Z");
    expect(await isSecret(certificateApp.secretExpiresAt)).toBe(false);
    expect(recorder.ofType(PASSWORD, "cert")).toEqual([]);
  });
});
