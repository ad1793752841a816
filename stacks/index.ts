/**
 * The AuditBridge Pulumi program (Pulumi.yaml `main`): one stack per Microsoft 365 tenant.
 * Config is read and validated first, so a bad key stops the run before any resource exists.
 * It uses the components through the package entry, as any other Pulumi program would.
 */
import * as pulumi from "@pulumi/pulumi";
import { TenantAuditPipeline } from "../components";
import { loadStackConfig } from "./config";

const config = loadStackConfig();

const pipeline = new TenantAuditPipeline("tenant", {
  m365TenantId: config.m365TenantId,
  azureTenantId: config.azureTenantId,
  cloud: config.cloud,
  location: config.location,
  resourceGroupName: config.resourceGroupName,
  namePrefix: config.namePrefix,
  appDisplayName: config.appDisplayName,
  contentTypes: config.contentTypes,
  includeServiceHealth: config.includeServiceHealth,
  publisherId: config.publisherId,
  credential: config.credential,
  workspace: config.workspace,
  tableName: config.tableName,
  tablePlan: config.tablePlan,
  collectorImage: config.collectorImage,
  collectorRegistryResourceId: config.collectorRegistryResourceId,
  keyVaultRecoverSoftDeleted: config.keyVaultRecoverSoftDeleted,
  deleteDataOnDestroy: config.deleteDataOnDestroy,
  roleAssignmentWaitSeconds: config.roleAssignmentWaitSeconds,
  deployerPrincipalType: config.deployerPrincipalType,
  sentinel: config.sentinel,
  azureSubscriptionId: config.azureSubscriptionId,
  azureEnvironment: config.azureEnvironment,
  enableAuditLogging: config.enableAuditLogging,
});

// Stack outputs. Nothing secret: the client secret lives only in Key Vault and in encrypted state.
/** The Microsoft 365 tenant id. */
export const tenantId = pipeline.tenantId;
/** Application (client) id of the audit reader app. */
export const clientId = pipeline.clientId;
/** Object id of the app's service principal in the M365 tenant. */
export const servicePrincipalObjectId = pipeline.servicePrincipalObjectId;
/** When the current app credential expires (RFC 3339); empty in keyless mode. */
export const secretExpiresAt = pipeline.secretExpiresAt.apply((at) => at ?? "");
/** Log Analytics workspace resource id. */
export const workspaceResourceId = pipeline.workspaceResourceId;
/** Log Analytics workspace (customer) id, for queries and `npm run verify`. */
export const workspaceCustomerId = pipeline.workspaceCustomerId;
/** DCR immutable id (LOGS_INGESTION_RULE_ID). */
export const dcrImmutableId = pipeline.dcrImmutableId;
/** Logs ingestion endpoint (LOGS_INGESTION_ENDPOINT). */
export const ingestionEndpoint = pipeline.ingestionEndpoint;
/** Name of the Container App running the collector. */
export const collectorAppName = pipeline.collectorAppName;
/** KQL function presenting the audit table in OfficeActivity's shape (docs/sentinel.md); none for a Basic table. */
export const officeActivityFunction = pulumi.output(pipeline.officeActivityFunction ?? "");
/** The audit table's plan (Analytics or Basic); `npm run verify -- --stack` queries accordingly. */
export const tablePlan = pulumi.output(config.tablePlan);
