/**
 * The `auditbridge` package: the Pulumi components that provision one Microsoft 365 tenant's
 * audit pipeline, their arguments, and the pure validators they check those arguments with.
 *
 * Importing this module registers no resource and reads no stack config: only constructing a
 * component does anything. Each component takes the usual `(name, args, opts)`; pass your own
 * providers through `opts.provider`/`opts.providers` (https://www.pulumi.com/docs/iac/concepts/options/providers/),
 * and only where none is given does a component create one.
 */

export { CLOUD_NAMES, type CloudName } from "../domain/clouds";
export { SINK_KINDS, type SinkKind } from "../domain/collectorEnv";
export { CONTENT_TYPES, type ContentType, parseContentTypes } from "../domain/contentTypes";
export {
  DEFAULT_COLLECTOR_SCHEDULE,
  parseCronSchedule,
} from "../domain/cron";
export { DEFAULT_TABLE_NAME, TABLE_PLANS, type TablePlan } from "../domain/table";
export { guidProblem } from "../domain/validators";
export {
  type AppCredentialArgs,
  AuditReaderApp,
  type AuditReaderAppArgs,
  CROSS_TENANT_REPLICATION_WAIT,
  ENTRA_CREATE_TIMEOUT,
} from "./auditReaderApp";
export {
  CREDENTIAL_SECRET_NAME,
  type CredentialVault,
  type CredentialVaultArgs,
  credentialVault,
  type StoredCredentialArgs,
  storedCredential,
  type VaultSecretArgs,
  vaultSecret,
} from "./collectorCredential";
export {
  CERTIFICATE_MOUNT_PATH,
  COLLECTOR_HTTP_PORT,
  type CollectorCredentialArgs,
  type CollectorMode,
  CollectorService,
  type CollectorServiceArgs,
  DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS,
  type DeployerPrincipalType,
  MAX_ROLE_ASSIGNMENT_WAIT_SECONDS,
} from "./collectorService";
export {
  DEFAULT_SINKS,
  SINK_FILES_MOUNT_PATH,
  SINK_SECRET_NAMES,
  type SinkArgs,
  type SplunkHecSinkArgs,
  type SyslogSinkArgs,
  sinkKinds,
  sinksNeedVault,
  sinksProblem,
} from "./collectorSinks";
export {
  DCR_CREATE_TIMEOUT,
  LogAnalyticsDestination,
  type LogAnalyticsDestinationArgs,
  TABLE_SETTLE_WAIT,
  type WorkspaceArgs,
} from "./logAnalyticsDestination";
export {
  applyNaming,
  type NamingHook,
  type ResourceKind,
  type ResourceNames,
  resourceNames,
  uniqueSuffix,
} from "./naming";
export { type SentinelArgs, SentinelContent, type SentinelContentArgs } from "./sentinelContent";
export {
  COLLECTOR_KINDS,
  type CollectorKind,
  type PipelineCredentialArgs,
  TenantAuditPipeline,
  type TenantAuditPipelineArgs,
} from "./tenantAuditPipeline";
export {
  certificateBundleProblem,
  certificatesPemProblem,
  DEFAULT_SECRET_LIFETIME_DAYS,
  DEFAULT_SECRET_ROTATION_DAYS,
  imageReferenceProblem,
  integerRangeProblem,
  MAX_AZURE_TAGS,
  MAX_NAME_PREFIX_LENGTH,
  MAX_SECRET_LIFETIME_DAYS,
  MAX_WORKSPACE_RETENTION_DAYS,
  MIN_SECRET_OVERLAP_DAYS,
  MIN_WORKSPACE_RETENTION_DAYS,
  namePrefixProblem,
  parseResourceId,
  privateKeyPemProblem,
  resourceIdProblem,
  rotationAnchorProblem,
  secretLifetimeProblem,
  secretRotationProblem,
  tableNameProblem,
  tagsProblem,
} from "./validators";
