/**
 * LogAnalyticsDestination: where the audit rows land. A workspace (new, or an existing one by
 * resource id), the custom table, a data collection endpoint and rule for the Logs Ingestion API,
 * and the publisher role on the rule for the collector's identity only.
 */

import * as authorization from "@pulumi/azure-native/authorization";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { Provider as AzureNativeProvider } from "@pulumi/azure-native/provider";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import {
  BASIC_INTERACTIVE_RETENTION_DAYS,
  DEFAULT_STREAM_NAME,
  DEFAULT_TABLE_NAME,
  DEFAULT_TABLE_PLAN,
  TABLE_PLANS,
  type TablePlan,
} from "../domain/table";
import {
  outputStreamFor,
  projectionKql,
  streamDeclarationColumns,
  tableSchemaColumns,
} from "./dcrSchema";
import { roleAssignmentName } from "./naming";
import { AZURE_ROLES, roleDefinitionIdFor } from "./roles";
import { type SentinelArgs, SentinelContent } from "./sentinelContent";
import {
  integerRangeProblem,
  MAX_WORKSPACE_RETENTION_DAYS,
  MIN_WORKSPACE_RETENTION_DAYS,
  parseResourceId,
  resourceIdProblem,
  tableNameProblem,
  tagsProblem,
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
      /**
       * azure-native provider for the workspace's subscription: the workspace is read and the
       * table, function and Sentinel content are created through it. When omitted, the
       * component's azure-native provider is used if the workspace is in
       * `deploymentSubscriptionId`, and otherwise one is created for the workspace's subscription.
       */
      provider?: AzureNativeProvider;
    };

/** Arguments of {@link LogAnalyticsDestination}. */
export interface LogAnalyticsDestinationArgs {
  /** Resource group for the new workspace, the DCE and the DCR. */
  resourceGroupName: pulumi.Input<string>;
  /** Region of a new workspace (an existing workspace's region is read from Azure). */
  location: string;
  /**
   * A new workspace, or an existing one by resource id (optionally with its subscription's
   * provider).
   */
  workspace: WorkspaceArgs;
  /** Custom table name; defaults to M365Audit_CL. */
  tableName?: string;
  /**
   * Table plan, default Analytics. Basic: cheaper ingestion, single-table queries over 30 days,
   * no OfficeActivity-shaped function and no `sentinel` (docs/deploying.md#choosing-a-table-plan).
   */
  tablePlan?: TablePlan;
  /** DCE name. */
  dataCollectionEndpointName: string;
  /** DCR name. */
  dataCollectionRuleName: string;
  /**
   * Principal (object) id granted Monitoring Metrics Publisher on the DCR: the collector's
   * identity.
   */
  publisherPrincipalId: pulumi.Input<string>;
  /**
   * `pulumi destroy` deletes the workspace (when new) and the table, with every audit row in
   * them. Default false: both are dropped from the stack but kept in Azure (retainOnDelete).
   */
  deleteDataOnDestroy?: boolean;
  /**
   * Subscription the default azure-native provider deploys to, when known. An existing
   * workspace in any other subscription (or when this is unknown) is read and extended through
   * an explicit provider for the workspace's own subscription.
   */
  deploymentSubscriptionId?: string;
  /** azure-native cloud environment (public, usgovernment, china) for that explicit provider. */
  azureEnvironment?: string;
  /**
   * Microsoft Sentinel content. The OfficeActivity-shaped function is deployed either way (it is
   * useful in plain Log Analytics); onboarding, rules, hunting queries and the workbook only when
   * enabled. Default `{ enabled: false }`.
   */
  sentinel?: SentinelArgs;
  /** Azure tags for every taggable resource created (workspace, DCE, DCR, workbook). */
  tags?: Readonly<Record<string, string>>;
}

/** Name of the single Log Analytics destination inside the DCR. */
const DESTINATION_NAME = "workspace";

/**
 * Wait between creating the table and the DCR that writes to it: a DCR created seconds after its
 * table is sometimes refused with "InvalidOutputTable … not available" (MicrosoftDocs/azure-docs
 * issue 113557; https://learn.microsoft.com/azure/azure-monitor/logs/tutorial-logs-ingestion-api).
 */
export const TABLE_SETTLE_WAIT = "30s";
/** Upper bound for creating the DCR (ARM retries its long-running operation until then). */
export const DCR_CREATE_TIMEOUT = "15m";

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
  /** The collector's publisher role on the DCR: it must take effect before the collector starts. */
  public readonly publisherRoleAssignment: authorization.RoleAssignment;
  /**
   * Name of the KQL function that presents the table in OfficeActivity's shape; undefined for a
   * Basic table, which functions cannot query.
   */
  public readonly officeActivityFunction: string | undefined;
  /** The table's plan. */
  public readonly tablePlan: TablePlan;

  constructor(
    name: string,
    args: LogAnalyticsDestinationArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const tableName = args.tableName ?? DEFAULT_TABLE_NAME;
    const tablePlan = args.tablePlan ?? DEFAULT_TABLE_PLAN;
    checkArgs(name, args, tableName, tablePlan);
    super("auditbridge:monitor:LogAnalyticsDestination", name, {}, opts);
    // Audit rows outlive the stack unless the operator explicitly says otherwise.
    const retainOnDelete = !(args.deleteDataOnDestroy ?? false);
    const tags = args.tags ? { tags: { ...args.tags } } : {};

    let workspaceResourceId: pulumi.Output<string>;
    let workspaceCustomerId: pulumi.Output<string>;
    let workspaceName: pulumi.Output<string>;
    let workspaceResourceGroupName: pulumi.Output<string>;
    let location: pulumi.Output<string>;
    // The workspace's retention: an Analytics table follows it by default, a Basic table does not.
    let workspaceRetentionInDays: pulumi.Output<number | undefined>;
    let workspaceDependency: pulumi.Resource[] = [];
    // Options for reading and extending the workspace: its own subscription's provider if needed.
    let workspaceScope: pulumi.CustomResourceOptions = { parent: this };
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
          ...tags,
        },
        { parent: this, retainOnDelete },
      );
      workspaceResourceId = workspace.id;
      workspaceCustomerId = workspace.customerId;
      workspaceName = workspace.name;
      workspaceResourceGroupName = pulumi.output(args.resourceGroupName);
      location = workspace.location;
      workspaceRetentionInDays = pulumi.output(args.workspace.retentionInDays);
      workspaceDependency = [workspace];
    } else {
      const parsed = parseResourceId(args.workspace.resourceId)!;
      // Lookups and resources go to the provider's subscription; a workspace elsewhere would be
      // "ResourceGroupNotFound". https://www.pulumi.com/registry/packages/azure-native/installation-configuration/
      const sameSubscription =
        args.deploymentSubscriptionId !== undefined &&
        args.deploymentSubscriptionId.toLowerCase() === parsed.subscriptionId.toLowerCase();
      if (args.workspace.provider) {
        workspaceScope = { parent: this, provider: args.workspace.provider };
      } else if (!sameSubscription) {
        const provider = new AzureNativeProvider(
          `${name}-workspace-subscription`,
          {
            subscriptionId: parsed.subscriptionId,
            ...(args.azureEnvironment ? { environment: args.azureEnvironment } : {}),
          },
          { parent: this },
        );
        workspaceScope = { parent: this, provider };
      }
      const existing = operationalinsights.getWorkspaceOutput(
        { resourceGroupName: parsed.resourceGroupName, workspaceName: parsed.name },
        workspaceScope,
      );
      workspaceResourceId = pulumi.output(args.workspace.resourceId);
      workspaceCustomerId = existing.customerId.apply((id) => {
        if (!id) throw new Error(`${name}: workspace ${parsed.name} reports no customer id`);
        return id;
      });
      workspaceName = pulumi.output(parsed.name);
      workspaceResourceGroupName = pulumi.output(parsed.resourceGroupName);
      location = existing.location;
      workspaceRetentionInDays = existing.apply((w) => w.retentionInDays);
    }

    // The table must exist before the DCR's output stream can name it.
    const table = new operationalinsights.Table(
      `${name}-table`,
      {
        resourceGroupName: workspaceResourceGroupName,
        workspaceName,
        tableName,
        plan: tablePlan,
        // A Basic table's interactive retention is fixed at 30 days and its total retention
        // defaults to that, whatever the workspace keeps: set it to the workspace's retention so
        // the plan never shortens how long audit rows exist.
        // https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure
        ...(tablePlan === "Basic"
          ? {
              totalRetentionInDays: workspaceRetentionInDays.apply((days) =>
                Math.max(
                  days ?? BASIC_INTERACTIVE_RETENTION_DAYS,
                  BASIC_INTERACTIVE_RETENTION_DAYS,
                ),
              ),
            }
          : {}),
        schema: { name: tableName, columns: tableSchemaColumns() },
      },
      { ...workspaceScope, dependsOn: workspaceDependency, retainOnDelete },
    );
    const tableSettled = new time.Sleep(
      `${name}-table-settle`,
      { createDuration: TABLE_SETTLE_WAIT },
      { parent: this, dependsOn: [table] },
    );

    // Sentinel content sits in the workspace, so it goes through the workspace's provider. A
    // Basic table gets none: queries on it cannot call functions (checkArgs refuses sentinel).
    const sentinel =
      tablePlan === "Analytics"
        ? new SentinelContent(
            `${name}-sentinel`,
            {
              resourceGroupName: workspaceResourceGroupName,
              workspaceName,
              workspaceResourceId,
              location,
              tableName,
              sentinel: args.sentinel ?? { enabled: false },
              dependsOn: [table],
              ...(args.tags ? { tags: args.tags } : {}),
            },
            {
              parent: this,
              ...(workspaceScope.provider ? { provider: workspaceScope.provider } : {}),
            },
          )
        : undefined;

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
        ...tags,
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
        ...tags,
      },
      {
        parent: this,
        dependsOn: [table, tableSettled],
        customTimeouts: { create: DCR_CREATE_TIMEOUT },
      },
    );

    // Scoped to this one DCR and this one identity: the collector can publish here and nowhere else.
    const publisher = new authorization.RoleAssignment(
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
    this.publisherRoleAssignment = publisher;
    this.officeActivityFunction = sentinel?.functionAlias;
    this.tablePlan = tablePlan;
    this.dataCollectionRuleId = dcr.id;
    this.dcrImmutableId = dcr.immutableId;
    this.ingestionEndpoint = dce.logsIngestion.apply((li) => {
      if (!li?.endpoint)
        throw new Error(`${name}: the data collection endpoint has no logs ingestion URL`);
      return li.endpoint;
    });
    this.registerOutputs({
      workspaceResourceId: this.workspaceResourceId,
      officeActivityFunction: this.officeActivityFunction,
      workspaceCustomerId: this.workspaceCustomerId,
      dcrImmutableId: this.dcrImmutableId,
      ingestionEndpoint: this.ingestionEndpoint,
    });
  }
}

/** Argument checks, before any resource exists; one line naming the argument. */
function checkArgs(
  name: string,
  args: LogAnalyticsDestinationArgs,
  tableName: string,
  tablePlan: TablePlan,
): void {
  const fail = (arg: string, problem: string, got?: string | number): never => {
    throw new Error(
      `LogAnalyticsDestination ${name}: ${arg} ${problem}${got === undefined ? "" : ` (got ${got})`}`,
    );
  };
  const tableProblem = tableNameProblem(tableName);
  if (tableProblem) fail("tableName", tableProblem, tableName);
  if (!(TABLE_PLANS as readonly string[]).includes(tablePlan)) {
    fail("tablePlan", `must be ${TABLE_PLANS.join(" or ")}`, tablePlan);
  }
  if (tablePlan === "Basic" && args.sentinel?.enabled) {
    fail(
      "sentinel",
      "needs tablePlan Analytics: Sentinel analytics rules, hunting queries and functions cannot query a Basic table (https://learn.microsoft.com/azure/azure-monitor/logs/basic-logs-query)",
    );
  }
  if (args.tags) {
    const problem = tagsProblem(args.tags);
    if (problem) fail("tags", problem);
  }
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
