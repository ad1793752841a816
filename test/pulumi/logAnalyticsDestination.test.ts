import { beforeAll, describe, expect, it } from "vitest";
import { uuidV5 } from "../../components/naming";
import { TABLE_COLUMNS } from "../../domain/table";
import { analyzeTransform, type KqlColumn } from "./kusto";
import { installMocks, MOCK, type Recorder, resolved, settle } from "./mocks";

const RG = "rg-auditbridge-contoso";
const PUBLISHER = "12121212-3434-5656-7878-909090909090";
const EXISTING_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-shared-logs/providers/Microsoft.OperationalInsights/workspaces/log-shared";
const WORKSPACE = "azure-native:operationalinsights:Workspace";
const TABLE = "azure-native:operationalinsights:Table";
const DCE = "azure-native:monitor:DataCollectionEndpoint";
const DCR = "azure-native:monitor:DataCollectionRule";
const ROLE = "azure-native:authorization:RoleAssignment";
const SLEEP = "time:index/sleep:Sleep";
const SAVED_SEARCH = "azure-native:operationalinsights:SavedSearch";
const OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb";
const OTHER_ID = `/subscriptions/${OTHER_SUBSCRIPTION}/resourceGroups/rg-central-logs/providers/Microsoft.OperationalInsights/workspaces/log-central`;

let recorder: Recorder;
let fresh: import("../../components/logAnalyticsDestination").LogAnalyticsDestination;
let existing: import("../../components/logAnalyticsDestination").LogAnalyticsDestination;
let basic: import("../../components/logAnalyticsDestination").LogAnalyticsDestination;
const argErrors: string[] = [];

beforeAll(async () => {
  recorder = await installMocks();
  const { LogAnalyticsDestination } = await import("../../components/logAnalyticsDestination");
  fresh = new LogAnalyticsDestination("fresh", {
    resourceGroupName: RG,
    location: "westeurope",
    workspace: { kind: "new", name: "log-contoso", retentionInDays: 90, dailyQuotaGb: 5 },
    dataCollectionEndpointName: "dce-contoso",
    dataCollectionRuleName: "dcr-contoso",
    publisherPrincipalId: PUBLISHER,
  });
  existing = new LogAnalyticsDestination("existing", {
    resourceGroupName: RG,
    location: "westeurope",
    workspace: { kind: "existing", resourceId: EXISTING_ID },
    tableName: "Fabrikam365_CL",
    dataCollectionEndpointName: "dce-fabrikam",
    dataCollectionRuleName: "dcr-fabrikam",
    publisherPrincipalId: PUBLISHER,
    deploymentSubscriptionId: MOCK.subscriptionId,
  });
  new LogAnalyticsDestination("othersub", {
    resourceGroupName: RG,
    location: "usgovvirginia",
    workspace: { kind: "existing", resourceId: OTHER_ID },
    dataCollectionEndpointName: "dce-othersub",
    dataCollectionRuleName: "dcr-othersub",
    publisherPrincipalId: PUBLISHER,
    deploymentSubscriptionId: MOCK.subscriptionId,
    azureEnvironment: "usgovernment",
  });
  new LogAnalyticsDestination("disposable", {
    resourceGroupName: RG,
    location: "westeurope",
    workspace: { kind: "new", name: "log-disposable", retentionInDays: 30 },
    dataCollectionEndpointName: "dce-disposable",
    dataCollectionRuleName: "dcr-disposable",
    publisherPrincipalId: PUBLISHER,
    deleteDataOnDestroy: true,
  });
  basic = new LogAnalyticsDestination("basic", {
    resourceGroupName: RG,
    location: "westeurope",
    workspace: { kind: "new", name: "log-basic", retentionInDays: 365 },
    tablePlan: "Basic",
    dataCollectionEndpointName: "dce-basic",
    dataCollectionRuleName: "dcr-basic",
    publisherPrincipalId: PUBLISHER,
  });
  new LogAnalyticsDestination("sharedbasic", {
    resourceGroupName: RG,
    location: "westeurope",
    workspace: { kind: "existing", resourceId: EXISTING_ID.replace("log-shared", "log-archive") },
    tableName: "Basic365_CL",
    tablePlan: "Basic",
    dataCollectionEndpointName: "dce-basic-existing",
    dataCollectionRuleName: "dcr-basic-existing",
    publisherPrincipalId: PUBLISHER,
    deploymentSubscriptionId: MOCK.subscriptionId,
  });
  const bad: [
    string,
    Partial<import("../../components/logAnalyticsDestination").LogAnalyticsDestinationArgs>,
  ][] = [
    ["bad-table", { tableName: "M365Audit" }],
    ["bad-retention", { workspace: { kind: "new", name: "x", retentionInDays: 7 } }],
    ["bad-cap", { workspace: { kind: "new", name: "x", retentionInDays: 90, dailyQuotaGb: 0 } }],
    ["bad-id", { workspace: { kind: "existing", resourceId: "/subscriptions/x/log-shared" } }],
    ["bad-plan", { tablePlan: "Auxiliary" as "Basic" }],
    [
      "bad-basic-sentinel",
      {
        tablePlan: "Basic",
        sentinel: { enabled: true, onboarding: "create", rulesEnabled: true },
      },
    ],
  ];
  for (const [name, override] of bad) {
    try {
      new LogAnalyticsDestination(name, {
        resourceGroupName: RG,
        location: "westeurope",
        workspace: { kind: "new", name: "x", retentionInDays: 90 },
        dataCollectionEndpointName: "d",
        dataCollectionRuleName: "r",
        publisherPrincipalId: PUBLISHER,
        ...override,
      });
      argErrors.push(`${name}: no error`);
    } catch (error) {
      argErrors.push((error as Error).message);
    }
  }
  await settle();
});

describe("LogAnalyticsDestination with a new workspace", () => {
  it("creates a PerGB2018 workspace with the configured retention and daily cap", () => {
    expect(recorder.one(WORKSPACE, "fresh").inputs).toMatchObject({
      resourceGroupName: RG,
      workspaceName: "log-contoso",
      location: "westeurope",
      sku: { name: "PerGB2018" },
      retentionInDays: 90,
      workspaceCapping: { dailyQuotaGb: 5 },
    });
  });

  it("creates the M365Audit_CL table with exactly the columns of the shared schema", () => {
    const table = recorder.one(TABLE, "fresh");
    expect(table.inputs).toMatchObject({
      resourceGroupName: RG,
      workspaceName: "log-contoso",
      tableName: "M365Audit_CL",
      plan: "Analytics",
    });
    const schema = table.inputs.schema as { name: string; columns: KqlColumn[] };
    expect(schema.name).toBe("M365Audit_CL");
    expect(schema.columns.map((c) => [c.name, c.type])).toEqual(
      TABLE_COLUMNS.map((c) => [c.name, c.type]),
    );
  });

  it("declares the Custom-M365Audit stream and routes it through the transformation into the table", () => {
    const dcr = recorder.one(DCR, "fresh");
    const dce = recorder.one(DCE, "fresh");
    const workspace = recorder.one(WORKSPACE, "fresh");
    expect(dcr.inputs.dataCollectionEndpointId).toBe(dce.id);
    expect(dcr.inputs.location).toBe("westeurope");
    expect(Object.keys(dcr.inputs.streamDeclarations as object)).toEqual(["Custom-M365Audit"]);
    expect(dcr.inputs.destinations).toEqual({
      logAnalytics: [{ name: "workspace", workspaceResourceId: workspace.id }],
    });
    const flows = dcr.inputs.dataFlows as Record<string, unknown>[];
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      streams: ["Custom-M365Audit"],
      destinations: ["workspace"],
      outputStream: "Custom-M365Audit_CL",
    });
    expect(flows[0]!.transformKql).toMatch(/^source \| project TimeGenerated, RecordId, /);
  });

  it("grants Monitoring Metrics Publisher on the DCR to the collector identity only", () => {
    const roles = recorder.ofType(ROLE, "fresh");
    const dcr = recorder.one(DCR, "fresh");
    expect(roles).toHaveLength(1);
    expect(roles[0]!.inputs).toMatchObject({
      principalId: PUBLISHER,
      principalType: "ServicePrincipal",
      scope: dcr.id,
      roleDefinitionId: `/subscriptions/${MOCK.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb`,
    });
  });

  it("names the role assignment with a GUID derived from scope, role and principal", () => {
    const role = recorder.one(ROLE, "fresh");
    const dcr = recorder.one(DCR, "fresh");
    expect(role.inputs.roleAssignmentName).toBe(
      uuidV5(`${dcr.id.toLowerCase()}|3913510d-42f4-4e42-8a64-420c390055eb|${PUBLISHER}`),
    );
  });

  it("exposes the DCR immutable id and the DCE's logs ingestion endpoint", async () => {
    expect(await resolved(fresh.dcrImmutableId)).toBe(recorder.one(DCR, "fresh").state.immutableId);
    expect(await resolved(fresh.ingestionEndpoint)).toMatch(
      /^https:\/\/dce-contoso-x1y2\.westeurope-1\.ingest\.monitor\.azure\.com$/,
    );
    expect(await resolved(fresh.workspaceCustomerId)).toBe(
      recorder.one(WORKSPACE, "fresh").state.customerId,
    );
  });
});

describe("LogAnalyticsDestination table plan", () => {
  it("leaves an Analytics table's retention to the workspace", () => {
    const table = recorder.one(TABLE, "fresh");
    expect(table.inputs.plan).toBe("Analytics");
    expect(table.inputs).not.toHaveProperty("totalRetentionInDays");
    expect(table.inputs).not.toHaveProperty("retentionInDays");
    expect(fresh.tablePlan).toBe("Analytics");
  });

  it("creates a Basic table that keeps rows as long as the new workspace does", () => {
    const table = recorder.one(TABLE, "basic");
    expect(table.inputs).toMatchObject({
      workspaceName: "log-basic",
      tableName: "M365Audit_CL",
      plan: "Basic",
      totalRetentionInDays: 365,
    });
    // Interactive retention of a Basic table is fixed by the service: never sent.
    expect(table.inputs).not.toHaveProperty("retentionInDays");
    expect(basic.tablePlan).toBe("Basic");
  });

  it("takes an existing workspace's retention for a Basic table's total retention", () => {
    expect(recorder.one(TABLE, "sharedbasic").inputs).toMatchObject({
      workspaceName: "log-archive",
      tableName: "Basic365_CL",
      plan: "Basic",
      totalRetentionInDays: MOCK.existingWorkspaceRetentionDays,
    });
  });

  it("keeps a Basic table's options: retained on destroy, after the workspace, before the DCR", () => {
    const table = recorder.one(TABLE, "basic");
    expect(table.options.retainOnDelete).toBe(true);
    expect(table.options.dependsOn).toContain(recorder.one(WORKSPACE, "basic").name);
    expect(recorder.one(DCR, "basic").options.dependsOn).toEqual(
      expect.arrayContaining([table.name, recorder.one(SLEEP, "basic").name]),
    );
  });

  it("routes the stream through the same transformation into a Basic table", () => {
    const flows = (name: string) =>
      recorder.one(DCR, name).inputs.dataFlows as { transformKql: string; outputStream: string }[];
    expect(flows("basic")).toEqual(flows("fresh"));
  });

  it("deploys no OfficeActivity-shaped function over a Basic table, which functions cannot query", async () => {
    expect(recorder.ofType(SAVED_SEARCH, "basic")).toEqual([]);
    expect(recorder.ofType(SAVED_SEARCH, "sharedbasic")).toEqual([]);
    expect(basic.officeActivityFunction).toBeUndefined();
    // An Analytics table gets it.
    expect(recorder.ofType(SAVED_SEARCH, "fresh")).toHaveLength(1);
    expect(fresh.officeActivityFunction).toBe("M365AuditOfficeActivity");
  });
});

describe("LogAnalyticsDestination and audit data on destroy", () => {
  it("keeps the workspace it created and the table in Azure when the stack is destroyed", () => {
    expect(recorder.one(WORKSPACE, "fresh").options.retainOnDelete).toBe(true);
    expect(recorder.one(TABLE, "fresh").options.retainOnDelete).toBe(true);
  });

  it("keeps the table even in an existing, shared workspace", () => {
    expect(recorder.one(TABLE, "existing").options.retainOnDelete).toBe(true);
    expect(recorder.one(TABLE, "othersub").options.retainOnDelete).toBe(true);
  });

  it("deletes them only when deleteDataOnDestroy says so", () => {
    expect(recorder.one(WORKSPACE, "disposable").options.retainOnDelete).toBe(false);
    expect(recorder.one(TABLE, "disposable").options.retainOnDelete).toBe(false);
  });

  it("retains nothing else: the DCE, DCR and role hold no audit data", () => {
    for (const type of [DCE, DCR, ROLE]) {
      expect(recorder.one(type, "fresh").options.retainOnDelete, type).toBeFalsy();
    }
  });
});

describe("LogAnalyticsDestination ordering of the DCR after its table", () => {
  it("creates the DCR after the table and a settling wait, with a create timeout", () => {
    const table = recorder.one(TABLE, "fresh");
    const sleep = recorder.one(SLEEP, "fresh");
    expect(sleep.inputs.createDuration).toBe("30s");
    expect(sleep.options.dependsOn).toContain(table.name);
    const dcr = recorder.one(DCR, "fresh");
    expect(dcr.options.dependsOn).toEqual(expect.arrayContaining([table.name, sleep.name]));
    expect(dcr.options.customTimeouts).toEqual({ create: "15m", update: "", delete: "" });
  });

  it("creates the table after the workspace it goes into", () => {
    expect(recorder.one(TABLE, "fresh").options.dependsOn).toContain(
      recorder.one(WORKSPACE, "fresh").name,
    );
  });
});

describe("LogAnalyticsDestination with an existing workspace in another subscription", () => {
  it("reads the workspace and creates the table through a provider for that subscription and cloud", () => {
    const provider = recorder.one("pulumi:providers:azure-native", "othersub");
    expect(provider.inputs).toMatchObject({
      subscriptionId: OTHER_SUBSCRIPTION,
      environment: "usgovernment",
    });
    const lookup = recorder
      .invokesOf("azure-native:operationalinsights:getWorkspace")
      .find((i) => i.inputs.workspaceName === "log-central");
    expect(recorder.providerOf(lookup!)?.name).toBe(provider.name);
    expect(recorder.providerOf(recorder.one(TABLE, "othersub"))?.name).toBe(provider.name);
  });

  it("keeps the DCE, DCR and role in the deployment's subscription (default provider)", () => {
    for (const type of [DCE, DCR, ROLE]) {
      expect(recorder.one(type, "othersub").provider ?? "", type).not.toContain("othersub");
    }
    expect(recorder.one(DCR, "othersub").inputs.destinations).toEqual({
      logAnalytics: [{ name: "workspace", workspaceResourceId: OTHER_ID }],
    });
  });
});

describe("LogAnalyticsDestination with an existing workspace", () => {
  it("creates no workspace and reads the existing one's customer id and region", async () => {
    expect(recorder.ofType(WORKSPACE, "existing")).toEqual([]);
    const lookups = recorder
      .invokesOf("azure-native:operationalinsights:getWorkspace")
      .filter((i) => i.inputs.workspaceName === "log-shared");
    expect(lookups.map((i) => i.inputs)).toEqual([
      { resourceGroupName: "rg-shared-logs", workspaceName: "log-shared" },
    ]);
    // Same subscription as the deployment: the default provider, no extra one.
    expect(recorder.providerOf(lookups[0]!)).toBeUndefined();
    expect(recorder.ofType("pulumi:providers:azure-native", "existing")).toEqual([]);
    expect(await resolved(existing.workspaceCustomerId)).toBe(MOCK.existingWorkspaceCustomerId);
    expect(await resolved(existing.workspaceResourceId)).toBe(EXISTING_ID);
  });

  it("creates the table in the existing workspace and the DCE and DCR in its region", () => {
    expect(recorder.one(TABLE, "existing").inputs).toMatchObject({
      resourceGroupName: "rg-shared-logs",
      workspaceName: "log-shared",
      tableName: "Fabrikam365_CL",
    });
    expect(recorder.one(DCE, "existing").inputs.location).toBe(MOCK.existingWorkspaceLocation);
    const dcr = recorder.one(DCR, "existing");
    expect(dcr.inputs.location).toBe(MOCK.existingWorkspaceLocation);
    expect((dcr.inputs.dataFlows as Record<string, unknown>[])[0]!.outputStream).toBe(
      "Custom-Fabrikam365_CL",
    );
    expect(dcr.inputs.destinations).toEqual({
      logAnalytics: [{ name: "workspace", workspaceResourceId: EXISTING_ID }],
    });
  });
});

describe("LogAnalyticsDestination argument checks", () => {
  it("names the argument and the problem in one line for each bad argument", () => {
    expect(argErrors).toEqual([
      "LogAnalyticsDestination bad-table: tableName must start with a letter, use only letters, digits and underscores, end in _CL and be at most 63 characters (got M365Audit)",
      "LogAnalyticsDestination bad-retention: workspace.retentionInDays must be a whole number between 30 and 730 (got 7)",
      "LogAnalyticsDestination bad-cap: workspace.dailyQuotaGb must be a positive number of GB (omit it for no cap) (got 0)",
      "LogAnalyticsDestination bad-id: workspace.resourceId must be a resource id like /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name> (got /subscriptions/x/log-shared)",
      "LogAnalyticsDestination bad-plan: tablePlan must be Analytics or Basic (got Auxiliary)",
      "LogAnalyticsDestination bad-basic-sentinel: sentinel needs tablePlan Analytics: Sentinel analytics rules, hunting queries and functions cannot query a Basic table (https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query)",
    ]);
    expect(recorder.resources.filter((r) => r.name.startsWith("bad-"))).toEqual([]);
  });
});

describe("the DCR transformation, parsed by Kusto", () => {
  const sent = (): { kql: string; stream: KqlColumn[]; table: KqlColumn[] } => {
    const dcr = recorder.one(DCR, "fresh");
    const declarations = dcr.inputs.streamDeclarations as Record<string, { columns: KqlColumn[] }>;
    const table = recorder.one(TABLE, "fresh").inputs.schema as { columns: KqlColumn[] };
    return {
      kql: (dcr.inputs.dataFlows as { transformKql: string }[])[0]!.transformKql,
      stream: declarations["Custom-M365Audit"]!.columns,
      table: table.columns,
    };
  };

  it("is valid KQL over the declared stream, with no diagnostics", () => {
    const { kql, stream } = sent();
    expect(analyzeTransform(kql, stream).diagnostics).toEqual([]);
  });

  it("produces exactly the table's columns, in order, with matching types", () => {
    const { kql, stream, table } = sent();
    const result = analyzeTransform(kql, stream);
    expect(result.columns.map((c) => c.name)).toEqual(table.map((c) => c.name));
    // Tables spell datetime "dateTime"; Kusto and stream declarations spell it "datetime".
    expect(result.columns.map((c) => c.type)).toEqual(table.map((c) => c.type.toLowerCase()));
  });

  it("catches a misspelt column in the projection", () => {
    const { kql, stream } = sent();
    const misspelt = kql.replace("ResultStatus", "ResultStatsu");
    expect(misspelt).not.toBe(kql);
    expect(analyzeTransform(misspelt, stream).diagnostics).toEqual([
      expect.stringContaining("The name 'ResultStatsu' does not refer to any known column"),
    ]);
  });

  it("catches a table column missing from the stream declaration", () => {
    const { kql, stream } = sent();
    const withoutUserKey = stream.filter((c) => c.name !== "UserKey");
    expect(analyzeTransform(kql, withoutUserKey).diagnostics).toEqual([
      expect.stringContaining("'UserKey'"),
    ]);
  });

  it("shows a projection that drops a column as a column mismatch", () => {
    const { kql, stream, table } = sent();
    const result = analyzeTransform(kql.replace(", AuditData", ""), stream);
    expect(result.diagnostics).toEqual([]);
    expect(result.columns.map((c) => c.name)).not.toEqual(table.map((c) => c.name));
  });
});
