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
  collector: config.collector,
  ...(config.sinks !== undefined ? { sinks: config.sinks } : {}),
  tablePlan: config.tablePlan,
  collectorImage: config.collectorImage,
  collectorRegistryResourceId: config.collectorRegistryResourceId,
  ...(config.collectorMode !== undefined ? { collectorMode: config.collectorMode } : {}),
  ...(config.collectorMode === "scheduled" ? { collectorSchedule: config.collectorSchedule } : {}),
  keyVaultRecoverSoftDeleted: config.keyVaultRecoverSoftDeleted,
  deleteDataOnDestroy: config.deleteDataOnDestroy,
  roleAssignmentWaitSeconds: config.roleAssignmentWaitSeconds,
  deployerPrincipalType: config.deployerPrincipalType,
  sentinel: config.sentinel,
  azureSubscriptionId: config.azureSubscriptionId,
  azureEnvironment: config.azureEnvironment,
  enableAuditLogging: config.enableAuditLogging,
});

// Stack outputs: every one always present ("" when it does not apply to this stack) and none
// secret. The client secret and the sinks' secrets live only in Key Vault and in encrypted state.
const orEmpty = (value: pulumi.Input<string | undefined>) =>
  pulumi.output(value).apply((v) => v ?? "");
/** The Microsoft 365 tenant id. */
export const tenantId = pipeline.tenantId;
/** Application (client) id of the audit reader app. */
export const clientId = pipeline.clientId;
/** Object id of the app's service principal in the M365 tenant. */
export const servicePrincipalObjectId = pipeline.servicePrincipalObjectId;
/** When the current app credential expires (RFC 3339); empty in keyless mode. */
export const secretExpiresAt = orEmpty(pipeline.secretExpiresAt);
/** Log Analytics workspace resource id; empty without the logs-ingestion sink. */
export const workspaceResourceId = orEmpty(pipeline.workspaceResourceId);
/** Log Analytics workspace (customer) id, for queries and `npm run verify`. */
export const workspaceCustomerId = orEmpty(pipeline.workspaceCustomerId);
/** DCR immutable id (LOGS_INGESTION_RULE_ID). */
export const dcrImmutableId = orEmpty(pipeline.dcrImmutableId);
/** Logs ingestion endpoint (LOGS_INGESTION_ENDPOINT). */
export const ingestionEndpoint = orEmpty(pipeline.ingestionEndpoint);
/** Name of the Container App running the collector; empty with collector none or scheduled. */
export const collectorAppName = orEmpty(pipeline.collectorAppName);
/** KQL function presenting the audit table in OfficeActivity's shape (docs/sentinel.md). */
export const officeActivityFunction = orEmpty(pipeline.officeActivityFunction);
/** Who collects: bundled or none (bring your own SIEM). */
export const collector = pulumi.output(pipeline.collector);
/** How the bundled collector runs (always-on or scheduled); empty with collector none. */
export const collectorMode = orEmpty(pipeline.collectorMode);
/** Name of the scheduled collector's Container Apps Job; empty unless collectorMode is scheduled. */
export const collectorJobName = pipeline.collectorJobName;
/** The collector's sinks as a comma list (AUDIT_SINK); empty with collector none. */
export const sinks = pulumi.output(pipeline.sinks.join(","));
/** Microsoft 365 cloud of the tenant. */
export const cloud = pulumi.output(config.cloud);
/** Content types collected, as a comma list. */
export const contentTypes = pulumi.output(config.contentTypes.join(","));
/** PublisherIdentifier sent on every Management Activity API call. */
export const publisherId = pulumi.output(config.publisherId);
/** The stack's Key Vault; empty when there is none (keyless, without sink secrets). */
export const keyVaultName = orEmpty(pipeline.keyVaultName);
export const keyVaultUri = orEmpty(pipeline.keyVaultUri);
/** App credential kind: secret, certificate or federated. */
export const credentialMode = pulumi.output(config.credential.mode);
/** Key Vault secret holding the current client secret; empty unless credentialMode is secret. */
export const clientSecretName = orEmpty(pipeline.clientSecretName);
/**
 * Key Vault secret holding the app credential, whichever it is: the client secret, or the
 * certificate's PEM bundle in certificate mode; empty when keyless (federated).
 */
export const credentialSecretName = orEmpty(pipeline.credentialSecretName);
/** Resource group everything is deployed in. */
export const resourceGroupName = pulumi.output(config.resourceGroupName);
/** Subscription the stack deploys to. */
export const azureSubscriptionId = orEmpty(pipeline.azureSubscriptionId);
/** The audit table's plan (Analytics or Basic); `npm run verify -- --stack` queries accordingly. */
export const tablePlan = pulumi.output(config.tablePlan);
