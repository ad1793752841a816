/**
 * What a consumer's own Pulumi program hands the components through the package entry: its
 * providers (the `provider`/`providers` options and the app's home-tenant provider), tags and a
 * naming rule. Asserted on what reaches the engine: which provider each resource and lookup is
 * registered with, which providers the components create (none when given), the tags on
 * taggable resources only, and the names.
 */

import { Provider as AzureNativeProvider } from "@pulumi/azure-native/provider";
import * as azuread from "@pulumi/azuread";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, MOCK, type Recorder, resolved, settle } from "./mocks";

const M365 = "11111111-2222-3333-4444-555555555555";
const HOME = MOCK.azureTenantId;
const OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb";
const WORKSPACE_ID = `/subscriptions/${OTHER_SUBSCRIPTION}/resourceGroups/rg-hub/providers/Microsoft.OperationalInsights/workspaces/log-hub`;
const TAGS = { costCenter: "cc-1234", owner: "platform-team" };

/** azure-native resource types that carry ARM tags, as created by the pipeline. */
const TAGGABLE = new Set([
  "azure-native:operationalinsights:Workspace",
  "azure-native:monitor:DataCollectionEndpoint",
  "azure-native:monitor:DataCollectionRule",
  "azure-native:managedidentity:UserAssignedIdentity",
  "azure-native:keyvault:Vault",
  "azure-native:keyvault:Secret",
  "azure-native:storage:StorageAccount",
  "azure-native:app:ManagedEnvironment",
  "azure-native:app:ContainerApp",
  "azure-native:applicationinsights:Workbook",
]);

let recorder: Recorder;
let entry: typeof import("../../components");
const failures: Record<string, unknown> = {};

function attempt(key: string, build: () => unknown): void {
  try {
    build();
  } catch (error) {
    failures[key] = error;
  }
}

beforeAll(async () => {
  recorder = await installMocks();
  entry = await import("../../components");
  const m365 = new azuread.Provider("consumer-m365", { tenantId: M365 });
  const home = new azuread.Provider("consumer-home", { tenantId: HOME });
  const azure = new AzureNativeProvider("consumer-azure", { subscriptionId: MOCK.subscriptionId });
  const hub = new AzureNativeProvider("consumer-hub", { subscriptionId: OTHER_SUBSCRIPTION });

  const base: import("../../components").TenantAuditPipelineArgs = {
    m365TenantId: M365,
    cloud: "commercial",
    location: "westeurope",
    resourceGroupName: "rg-audit",
    namePrefix: "contoso",
    appDisplayName: "Contoso audit reader",
    contentTypes: ["Audit.Exchange"],
    includeServiceHealth: false,
    credential: {
      mode: "secret",
      lifetimeDays: 180,
      rotationDays: 90,
      rotationAnchor: "2026-01-01",
    },
    workspace: { kind: "new", retentionInDays: 90 },
    tableName: "M365Audit_CL",
    collectorImage: "contoso.azurecr.io/auditbridge-collector:0.1.0",
    tags: TAGS,
    naming: (kind, defaultName) =>
      kind === "keyVault" ? "kv-contoso-audit" : `corp-${defaultName}`,
  };
  const pipeline = new entry.TenantAuditPipeline("given", base, { providers: [m365, azure] });

  // Keyless across tenants, with the consumer's home-tenant provider and hub workspace provider.
  const keyless = new entry.TenantAuditPipeline(
    "keyless",
    {
      ...base,
      namePrefix: "fabrikam",
      azureTenantId: HOME,
      credential: { mode: "federated" },
      workspace: { kind: "existing", resourceId: WORKSPACE_ID, provider: hub },
      tags: undefined,
      naming: undefined,
      appTenantProvider: home,
    },
    { providers: { azuread: m365, "azure-native": azure } },
  );

  attempt("badNaming", () => {
    new entry.TenantAuditPipeline("badnaming", { ...base, naming: () => " " });
  });
  attempt("badTags", () => {
    new entry.TenantAuditPipeline("badtags", { ...base, tags: { "a/b": "x" } });
  });
  await resolved(pipeline.collectorAppName);
  await resolved(keyless.collectorAppName);
  await settle();
});

const providerName = (resource: { provider?: string }) => recorder.providerOf(resource)?.name;

describe("providers given by the consumer", () => {
  it("creates no azuread or azure-native provider of its own", () => {
    const providers = recorder.resources
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => r.name)
      .sort();
    expect(providers).toEqual(["consumer-azure", "consumer-home", "consumer-hub", "consumer-m365"]);
  });

  it("registers every Entra ID resource and lookup of the pipeline with the consumer's M365 provider", () => {
    const entra = recorder.resources.filter(
      (r) => r.type.startsWith("azuread:") && r.name.startsWith("given-"),
    );
    expect(entra.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        "azuread:index/application:Application",
        "azuread:index/servicePrincipal:ServicePrincipal",
        "azuread:index/appRoleAssignment:AppRoleAssignment",
        "azuread:index/applicationPassword:ApplicationPassword",
      ]),
    );
    for (const resource of entra)
      expect([resource.name, providerName(resource)]).toEqual([resource.name, "consumer-m365"]);
    const lookups = recorder.invokesOf("azuread:index/getServicePrincipal:getServicePrincipal");
    expect(lookups.map(providerName)).toEqual(["consumer-m365", "consumer-m365"]);
  });

  it("puts the app and its credential in the home tenant through appTenantProvider, consent in the M365 tenant", () => {
    const app = recorder.one("azuread:index/application:Application", "keyless-");
    expect(providerName(app)).toBe("consumer-home");
    expect(app.inputs.signInAudience).toBe("AzureADMultipleOrgs");
    const fic = recorder.one(
      "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
      "keyless-",
    );
    expect(providerName(fic)).toBe("consumer-home");
    expect(
      providerName(recorder.one("azuread:index/servicePrincipal:ServicePrincipal", "keyless-")),
    ).toBe("consumer-m365");
    for (const consent of recorder.ofType(
      "azuread:index/appRoleAssignment:AppRoleAssignment",
      "keyless-",
    )) {
      expect(providerName(consent)).toBe("consumer-m365");
    }
  });

  it("deploys every Azure resource with the consumer's azure-native provider", () => {
    const azure = recorder.resources.filter(
      (r) => r.type.startsWith("azure-native:") && r.name.startsWith("given-"),
    );
    expect(azure.length).toBeGreaterThan(10);
    for (const resource of azure)
      expect([resource.name, providerName(resource)]).toEqual([resource.name, "consumer-azure"]);
  });

  it("reads and extends an existing workspace through the workspace's own provider, the rest through the consumer's", () => {
    const lookup = recorder
      .invokesOf("azure-native:operationalinsights:getWorkspace")
      .filter((i) => i.inputs.workspaceName === "log-hub");
    expect(lookup.map(providerName)).toEqual(["consumer-hub"]);
    expect(providerName(recorder.one("azure-native:operationalinsights:Table", "keyless-"))).toBe(
      "consumer-hub",
    );
    expect(providerName(recorder.one("azure-native:monitor:DataCollectionRule", "keyless-"))).toBe(
      "consumer-azure",
    );
    expect(recorder.ofType("azure-native:operationalinsights:Workspace", "keyless-")).toEqual([]);
  });
});

describe("tags and naming", () => {
  it("tags every taggable Azure resource and sends no tags to the others", () => {
    const azure = recorder.resources.filter(
      (r) => r.type.startsWith("azure-native:") && r.name.startsWith("given-"),
    );
    const tagged = azure.filter((r) => TAGGABLE.has(r.type));
    expect(new Set(tagged.map((r) => r.type)).size).toBe(TAGGABLE.size - 1); // no Sentinel workbook
    for (const resource of tagged)
      expect([resource.name, resource.inputs.tags]).toEqual([resource.name, TAGS]);
    for (const resource of azure.filter((r) => !TAGGABLE.has(r.type))) {
      expect([resource.name, resource.inputs.tags]).toEqual([resource.name, undefined]);
    }
  });

  it("sends no tags when none are given", () => {
    const azure = recorder.resources.filter(
      (r) => r.type.startsWith("azure-native:") && r.name.startsWith("keyless-"),
    );
    expect(azure.filter((r) => r.inputs.tags !== undefined).map((r) => r.name)).toEqual([]);
  });

  it("names each resource by the consumer's rule", () => {
    expect(
      recorder.one("azure-native:operationalinsights:Workspace", "given-").inputs.workspaceName,
    ).toBe("corp-log-contoso");
    expect(recorder.one("azure-native:keyvault:Vault", "given-").inputs.vaultName).toBe(
      "kv-contoso-audit",
    );
    expect(recorder.one("azure-native:app:ContainerApp", "given-").inputs.containerAppName).toBe(
      "corp-ca-contoso-collector",
    );
    expect(recorder.one("azure-native:storage:BlobContainer", "given-").inputs.containerName).toBe(
      "corp-checkpoints",
    );
    // Without a rule, the default names.
    expect(recorder.one("azure-native:app:ContainerApp", "keyless-").inputs.containerAppName).toBe(
      "ca-fabrikam-collector",
    );
  });

  it("refuses a naming rule's blank name and a bad tag before any resource exists", () => {
    expect(String(failures.badNaming)).toContain('naming hook returned " " for workspace');
    expect(String(failures.badTags)).toContain('TenantAuditPipeline badtags: tags tag name "a/b"');
    expect(recorder.resources.filter((r) => r.name.startsWith("bad"))).toEqual([]);
  });
});

describe("the pure helpers behind them", () => {
  it("tagsProblem accepts Azure's limits and names what breaks them", () => {
    expect(entry.tagsProblem({})).toBeUndefined();
    expect(entry.tagsProblem({ env: "prod", ["x".repeat(128)]: "y".repeat(256) })).toBeUndefined();
    expect(entry.tagsProblem({ ["x".repeat(129)]: "v" })).toMatch(/1–128 characters/);
    expect(entry.tagsProblem({ "": "v" })).toMatch(/1–128 characters/);
    expect(entry.tagsProblem({ "a%b": "v" })).toMatch(/must not contain/);
    expect(entry.tagsProblem({ k: "v".repeat(257) })).toMatch(/longer than 256/);
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"]));
    expect(entry.tagsProblem(many)).toMatch(/at most 50 tags \(got 51\)/);
  });

  it("applyNaming passes every kind through the hook and keeps defaults without one", () => {
    const defaults = entry.resourceNames("contoso", "abc123");
    expect(entry.applyNaming(defaults, undefined)).toBe(defaults);
    const seen: string[] = [];
    const renamed = entry.applyNaming(defaults, (kind, name) => {
      seen.push(kind);
      return name.toUpperCase();
    });
    expect(seen.sort()).toEqual(Object.keys(defaults).sort());
    expect(renamed.keyVault).toBe("KV-CONTOSO-ABC123");
    expect(defaults.keyVault).toBe("kv-contoso-abc123");
    expect(() => entry.applyNaming(defaults, () => "")).toThrow(/for workspace/);
  });
});
