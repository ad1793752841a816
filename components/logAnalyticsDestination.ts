/**
 * LogAnalyticsDestination: where the audit rows land. A workspace (new, or an existing one by
 * resource id), the custom table, a data collection endpoint and rule for the Logs Ingestion API,
 * and the publisher role on the rule for the collector's identity only.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_STREAM_NAME, DEFAULT_TABLE_NAME } from "../domain/table";
import {
  outputStreamFor,
  projectionKql,
  streamDeclarationColumns,
  tableSchemaColumns,
} from "./dcrSchema";
import { roleAssignmentName } from "./naming";
import { AZURE_ROLES, roleDefinitionIdFor } from "./roles";
import {
  integerRangeProblem,
  MAX_WORKSPACE_RETENTION_DAYS,
  MIN_WORKSPACE_RETENTION_DAYS,
  parseResourceId,
  resourceIdProblem,
  tableNameProblem,
} from "./validators";

/** A new workspace, or an existing one by resource id. */
export type WorkspaceArgs =
  | {
      kind: "new";
      /** Workspace name. */
      name: string;
      /** Interactive retention in days (30–730). */
      retentionInDays: number;
      /** Daily ingestion cap in GB; omit for no cap. */
      dailyQuotaGb?: number;
    }
  | {
      kind: "existing";
      /** `/subscriptions/…/providers/Microsoft.OperationalInsights/workspaces/<name>`. */
      resourceId: string;
    };

/** Arguments of {@link LogAnalyticsDestination}. */
export interface LogAnalyticsDestinationArgs {
  /** Resource group for the new workspace, the DCE and the DCR. */
  resourceGroupName: pulumi.Input<string>;
  /** Region of a new workspace (an existing workspace's region is read from Azure). */
  location: string;
  workspace: WorkspaceArgs;
  /** Custom table name; defaults to M365Audit_CL. */
  tableName?: string;
  /** DCE name. */
  dataCollectionEndpointName: string;
  /** DCR name. */
  dataCollectionRuleName: string;
  /** Principal (object) id granted Monitoring Metrics Publisher on the DCR: the collector's identity. */
  publisherPrincipalId: pulumi.Input<string>;
}

/** Name of the single Log Analytics destination inside the DCR. */
const DESTINATION_NAME = "workspace";

/** Workspace, `*_CL` table, DCE + DCR (stream → transform → table), publisher role on the DCR. */
export class LogAnalyticsDestination extends pulumi.ComponentResource {
  /** Full resource id of the workspace. */
  public readonly workspaceResourceId: pulumi.Output<string>;
  /** Workspace (customer) id, the GUID queries use. */
  public readonly workspaceCustomerId: pulumi.Output<string>;
  /** Workspace name and resource group (for the Container Apps environment's log settings). */
  public readonly workspaceName: pulumi.Output<string>;
  public readonly workspaceResourceGroupName: pulumi.Output<string>;
  /** Region of the workspace; the DCE and DCR live there too. */
  public readonly location: pulumi.Output<string>;
  /** Custom table name. */
  public readonly tableName: string;
  /** Stream the collector posts to. */
  public readonly streamName: string;
  /** DCR resource id. */
  public readonly dataCollectionRuleId: pulumi.Output<string>;
  /** DCR immutable id (LOGS_INGESTION_RULE_ID). */
  public readonly dcrImmutableId: pulumi.Output<string>;
  /** Logs ingestion endpoint of the DCE (LOGS_INGESTION_ENDPOINT). */
  public readonly ingestionEndpoint: pulumi.Output<string>;

  constructor(
    name: string,
    args: LogAnalyticsDestinationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const tableName = args.tableName ?? DEFAULT_TABLE_NAME;
    checkArgs(name, args, tableName);
    super("auditbridge:monitor:LogAnalyticsDestination", name, {}, opts);

    let workspaceResourceId: pulumi.Output<string>;
    let workspaceCustomerId: pulumi.Output<string>;
    let workspaceName: pulumi.Output<string>;
    let workspaceResourceGroupName: pulumi.Output<string>;
    let location: pulumi.Output<string>;
    let workspaceDependency: pulumi.Resource[] = [];
    if (args.workspace.kind === "new") {
      const workspace = new operationalinsights.Workspace(
        `${name}-workspace`,
        {
          resourceGroupName: args.resourceGroupName,
          workspaceName: args.workspace.name,
          location: args.location,
          sku: { name: "PerGB2018" },
          retentionInDays: args.workspace.retentionInDays,
          workspaceCapping:
            args.workspace.dailyQuotaGb === undefined
              ? undefined
              : { dailyQuotaGb: args.workspace.dailyQuotaGb },
        },
        { parent: this },
      );
      workspaceResourceId = workspace.id;
      workspaceCustomerId = workspace.customerId;
      workspaceName = workspace.name;
      workspaceResourceGroupName = pulumi.output(args.resourceGroupName);
      location = workspace.location;
      workspaceDependency = [workspace];
    } else {
      const parsed = parseResourceId(args.workspace.resourceId)!;
      const existing = operationalinsights.getWorkspaceOutput(
        { resourceGroupName: parsed.resourceGroupName, workspaceName: parsed.name },
        { parent: this },
      );
      workspaceResourceId = pulumi.output(args.workspace.resourceId);
      workspaceCustomerId = existing.customerId.apply((id) => {
        if (!id) throw new Error(`${name}: workspace ${parsed.name} reports no customer id`);
        return id;
      });
      workspaceName = pulumi.output(parsed.name);
      workspaceResourceGroupName = pulumi.output(parsed.resourceGroupName);
      location = existing.location;
    }

    // The table must exist before the DCR's output stream can name it.
    const table = new operationalinsights.Table(
      `${name}-table`,
      {
        resourceGroupName: workspaceResourceGroupName,
        workspaceName,
        tableName,
        plan: "Analytics",
        schema: { name: tableName, columns: tableSchemaColumns() },
      },
      { parent: this, dependsOn: workspaceDependency },
    );

    // A DCE gives the ingestion URL: azure-native v3's DCR API version (2022-06-01) has no
    // `endpoints.logsIngestion` output for kind "Direct" rules.
    const dce = new monitor.DataCollectionEndpoint(
      `${name}-dce`,
      {
        resourceGroupName: args.resourceGroupName,
        dataCollectionEndpointName: args.dataCollectionEndpointName,
        location,
        networkAcls: { publicNetworkAccess: "Enabled" },
        description: "AuditBridge Logs Ingestion endpoint",
      },
      { parent: this },
    );

    const dcr = new monitor.DataCollectionRule(
      `${name}-dcr`,
      {
        resourceGroupName: args.resourceGroupName,
        dataCollectionRuleName: args.dataCollectionRuleName,
        location,
        dataCollectionEndpointId: dce.id,
        description: `AuditBridge: ${DEFAULT_STREAM_NAME} → ${tableName}`,
        streamDeclarations: {
          [DEFAULT_STREAM_NAME]: { columns: streamDeclarationColumns() },
        },
        destinations: {
          logAnalytics: [{ name: DESTINATION_NAME, workspaceResourceId }],
        },
        dataFlows: [
          {
            streams: [DEFAULT_STREAM_NAME],
            destinations: [DESTINATION_NAME],
            transformKql: projectionKql(),
            outputStream: outputStreamFor(tableName),
          },
        ],
      },
      { parent: this, dependsOn: [table] },
    );

    // Scoped to this one DCR and this one identity: the collector can publish here and nowhere else.
    new authorization.RoleAssignment(
      `${name}-publisher`,
      {
        principalId: args.publisherPrincipalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: dcr.id.apply((scope) =>
          roleDefinitionIdFor(scope, AZURE_ROLES.monitoringMetricsPublisher),
        ),
        scope: dcr.id,
        roleAssignmentName: pulumi
          .all([dcr.id, args.publisherPrincipalId])
          .apply(([scope, principal]) =>
            roleAssignmentName(scope, AZURE_ROLES.monitoringMetricsPublisher, principal),
          ),
        description: "AuditBridge collector publishes audit rows through this DCR",
      },
      { parent: this },
    );

    this.workspaceResourceId = workspaceResourceId;
    this.workspaceCustomerId = workspaceCustomerId;
    this.workspaceName = workspaceName;
    this.workspaceResourceGroupName = workspaceResourceGroupName;
    this.location = location;
    this.tableName = tableName;
    this.streamName = DEFAULT_STREAM_NAME;
    this.dataCollectionRuleId = dcr.id;
    this.dcrImmutableId = dcr.immutableId;
    this.ingestionEndpoint = dce.logsIngestion.apply((li) => {
      if (!li?.endpoint)
        throw new Error(`${name}: the data collection endpoint has no logs ingestion URL`);
      return li.endpoint;
    });
    this.registerOutputs({
      workspaceResourceId: this.workspaceResourceId,
      workspaceCustomerId: this.workspaceCustomerId,
      dcrImmutableId: this.dcrImmutableId,
      ingestionEndpoint: this.ingestionEndpoint,
    });
  }
}

/** Argument checks, before any resource exists; one line naming the argument. */
function checkArgs(name: string, args: LogAnalyticsDestinationArgs, tableName: string): void {
  const fail = (arg: string, problem: string, got?: string | number): never => {
    throw new Error(
      `LogAnalyticsDestination ${name}: ${arg} ${problem}${got === undefined ? "" : ` (got ${got})`}`,
    );
  };
  const tableProblem = tableNameProblem(tableName);
  if (tableProblem) fail("tableName", tableProblem, tableName);
  const ws = args.workspace;
  if (ws.kind === "new") {
    const problem = integerRangeProblem(
      ws.retentionInDays,
      MIN_WORKSPACE_RETENTION_DAYS,
      MAX_WORKSPACE_RETENTION_DAYS,
    );
    if (problem) fail("workspace.retentionInDays", problem, ws.retentionInDays);
    if (ws.dailyQuotaGb !== undefined && !(ws.dailyQuotaGb > 0)) {
      fail(
        "workspace.dailyQuotaGb",
        "must be a positive number of GB (omit it for no cap)",
        ws.dailyQuotaGb,
      );
    }
  } else {
    const problem = resourceIdProblem(ws.resourceId, "Microsoft.OperationalInsights", "workspaces");
    if (problem) fail("workspace.resourceId", problem, ws.resourceId);
  }
}
