import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, MOCK, type Recorder, resolved, settle } from "./mocks";

const M365 = "11111111-2222-3333-4444-555555555555";
const WORKSPACE_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/log-shared";

let recorder: Recorder;
let pipeline: import("../../components/tenantAuditPipeline").TenantAuditPipeline;
let badPrefix: unknown;
const badSchedules: Record<string, string> = {};
let basicSentinel: unknown;

beforeAll(async () => {
  recorder = await installMocks();
  const { TenantAuditPipeline } = await import("../../components/tenantAuditPipeline");
  const args: import("../../components/tenantAuditPipeline").TenantAuditPipelineArgs = {
    m365TenantId: M365,
    // The subscription (and so the managed identity) lives in another tenant.
    azureTenantId: MOCK.azureTenantId,
    cloud: "commercial",
    location: "westeurope",
    resourceGroupName: "rg-auditbridge-fabrikam",
    namePrefix: "fabrikam",
    appDisplayName: "AuditBridge audit reader (fabrikam)",
    contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
    includeServiceHealth: false,
    credential: { mode: "federated" },
    workspace: { kind: "existing", resourceId: WORKSPACE_ID },
    tableName: "M365Audit_CL",
    collectorImage: "ghcr.io/fabrikam/auditbridge-collector:0.1.0",
  };
  pipeline = new TenantAuditPipeline("keyless", args);
  try {
    new TenantAuditPipeline("badprefix", { ...args, namePrefix: "Fabrikam!" });
  } catch (error) {
    badPrefix = error;
  }
  for (const [label, extra] of [
    ["badmode", { collectorMode: "cron" as "scheduled" }],
    ["stray", { collectorSchedule: "*/10 * * * *" }],
    ["badcron", { collectorMode: "scheduled" as const, collectorSchedule: "0 0 * * 1" }],
  ] as const) {
    try {
      new TenantAuditPipeline(label, { ...args, ...extra });
    } catch (error) {
      badSchedules[label] = (error as Error).message;
    }
  }
  try {
    new TenantAuditPipeline("basicsentinel", {
      ...args,
      tablePlan: "Basic",
      sentinel: { enabled: true, onboarding: "existing", rulesEnabled: true },
    });
  } catch (error) {
    basicSentinel = error;
  }
  await resolved(pipeline.collectorAppName);
  await settle();
});

describe("TenantAuditPipeline in keyless mode across tenants", () => {
  it("trusts the collector's own managed identity from the app in the identity's tenant", () => {
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    const fic = recorder.one(
      "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    );
    expect(fic.inputs).toMatchObject({
      subject: identity.state.principalId,
      issuer: `https://login.microsoftonline.com/${MOCK.azureTenantId}/v2.0`,
      audiences: ["api://AzureADTokenExchange"],
    });
    const app = recorder.one("azuread:index/application:Application");
    expect(app.inputs.signInAudience).toBe("AzureADMultipleOrgs");
    expect(recorder.providerOf(app)?.inputs.tenantId).toBe(MOCK.azureTenantId);
    const consent = recorder.one("azuread:index/appRoleAssignment:AppRoleAssignment");
    expect(recorder.providerOf(consent)?.inputs.tenantId).toBe(M365);
  });

  it("grants the same identity publisher rights on the DCR", () => {
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    const dcr = recorder.one("azure-native:monitor:DataCollectionRule");
    const publisher = recorder
      .ofType("azure-native:authorization:RoleAssignment")
      .find((r) => r.inputs.scope === dcr.id);
    expect(publisher?.inputs.principalId).toBe(identity.state.principalId);
  });

  it("creates no password, certificate, Key Vault or registry credential", () => {
    for (const type of [
      "azuread:index/applicationPassword:ApplicationPassword",
      "azuread:index/applicationCertificate:ApplicationCertificate",
      "azure-native:keyvault:Vault",
      "azure-native:keyvault:Secret",
    ]) {
      expect(recorder.ofType(type), type).toEqual([]);
    }
    const app = recorder.one("azure-native:app:ContainerApp");
    expect((app.inputs.configuration as { registries: unknown[] }).registries).toEqual([]);
  });

  it("uses the existing workspace for the table and the environment's logs", async () => {
    expect(recorder.ofType("azure-native:operationalinsights:Workspace")).toEqual([]);
    expect(recorder.one("azure-native:monitor:DiagnosticSetting").inputs.workspaceId).toBe(
      WORKSPACE_ID,
    );
    // The deployment's subscription is not known here, so the workspace is reached through a
    // provider pinned to its own subscription.
    const table = recorder.one("azure-native:operationalinsights:Table");
    expect(recorder.providerOf(table)?.inputs.subscriptionId).toBe(
      "00000000-0000-0000-0000-0000000000aa",
    );
    expect(await resolved(pipeline.workspaceResourceId)).toBe(WORKSPACE_ID);
    expect(await resolved(pipeline.secretExpiresAt)).toBeUndefined();
  });

  it("creates the collector only after consent, the federated credential and every role grant", () => {
    const app = recorder.one("azure-native:app:ContainerApp");
    const sleep = recorder.one("time:index/sleep:Sleep", "keyless-collector");
    const needed = [
      ...recorder.ofType("azuread:index/appRoleAssignment:AppRoleAssignment").map((r) => r.name),
      recorder.one(
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
      ).name,
      ...recorder.ofType("azure-native:authorization:RoleAssignment").map((r) => r.name),
    ];
    // Publisher on the DCR, Blob Data Contributor, and one consent (ActivityFeed.Read).
    expect(needed).toHaveLength(4);
    for (const name of needed) {
      expect(sleep.options.dependsOn, name).toContain(name);
      expect(app.options.dependsOn, name).toContain(name);
    }
    expect(app.options.dependsOn).toContain(sleep.name);
  });

  it("waits for the multitenant app to replicate before creating its principal in the M365 tenant", () => {
    const app = recorder.one("azuread:index/application:Application");
    const wait = recorder.one("time:index/sleep:Sleep", "keyless-reader-app-replication");
    expect(wait.inputs.createDuration).toBe("60s");
    expect(wait.options.dependsOn).toContain(app.name);
    const sp = recorder.one("azuread:index/servicePrincipal:ServicePrincipal");
    expect(sp.options.dependsOn).toEqual(expect.arrayContaining([app.name, wait.name]));
    expect(sp.options.customTimeouts?.create).toBe("10m");
  });

  it("refuses a bad collector mode or schedule in one line before creating anything", () => {
    expect(badSchedules).toEqual({
      badmode:
        "TenantAuditPipeline badmode: collectorMode must be always-on or scheduled (got cron)",
      stray:
        "TenantAuditPipeline stray: collectorSchedule is only used with collectorMode scheduled (got */10 * * * *)",
      badcron:
        "TenantAuditPipeline badcron: collectorSchedule leaves 7 days between runs; at most 24 hours, so failed runs are retried well before the Management API drops content after 7 days (got 0 0 * * 1)",
    });
    expect(recorder.resources.filter((r) => /^(badmode|stray|badcron)/.test(r.name))).toEqual([]);
  });

  it("refuses a bad name prefix before creating anything", () => {
    expect((badPrefix as Error).message).toBe(
      "TenantAuditPipeline badprefix: namePrefix must be 2 to 12 lowercase letters or digits, starting with a letter (it goes into storage account and Key Vault names) (got Fabrikam!)",
    );
    expect(recorder.resources.filter((r) => r.name.startsWith("badprefix"))).toEqual([]);
  });

  it("refuses Sentinel over a Basic table before creating anything", () => {
    expect((basicSentinel as Error).message).toBe(
      "TenantAuditPipeline basicsentinel: sentinel needs tablePlan Analytics: Sentinel content cannot query a Basic table (got tablePlan Basic)",
    );
    expect(recorder.resources.filter((r) => r.name.startsWith("basicsentinel"))).toEqual([]);
  });
});
