/**
 * TenantAuditPipeline: everything one Microsoft 365 tenant needs, composed from the three parts.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import type * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName } from "../domain/clouds";
import type { SinkKind } from "../domain/collectorEnv";
import type { ContentType } from "../domain/contentTypes";
import { DEFAULT_COLLECTOR_SCHEDULE, parseCronSchedule } from "../domain/cron";
import type { TablePlan } from "../domain/table";
import { guidProblem } from "../domain/validators";
import { AuditLoggingSwitch } from "./auditLogging";
import { type AppCredentialArgs, AuditReaderApp } from "./auditReaderApp";
import {
  CREDENTIAL_SECRET_NAME,
  type CredentialVault,
  credentialVault,
  storedCredential,
} from "./collectorCredential";
import {
  type CollectorCredentialArgs,
  CollectorService,
  type DeployerPrincipalType,
} from "./collectorService";
import { DEFAULT_SINKS, type SinkArgs, sinkKinds, sinksProblem } from "./collectorSinks";
import { LogAnalyticsDestination, type WorkspaceArgs } from "./logAnalyticsDestination";
import { applyNaming, type NamingHook, resourceNames, uniqueSuffix } from "./naming";
import type { SentinelArgs } from "./sentinelContent";
import { namePrefixProblem, tagsProblem } from "./validators";

/** Credential choice for the pipeline; the federated variant needs nothing from the caller. */
export type PipelineCredentialArgs =
  | Extract<AppCredentialArgs, { mode: "secret" }>
  | Extract<AppCredentialArgs, { mode: "certificate" }>
  | { mode: "federated" };

/**
 * Who collects: `bundled` runs AuditBridge's collector in Azure Container Apps; `none` (bring
 * your own SIEM) provisions only the app registration, its credential, the Management API
 * permissions with admin consent, and a Key Vault holding the credential for the SIEM's own
 * connector.
 */
export const COLLECTOR_KINDS = ["bundled", "none"] as const;
export type CollectorKind = (typeof COLLECTOR_KINDS)[number];

/** Arguments of {@link TenantAuditPipeline}: the validated stack config. */
export interface TenantAuditPipelineArgs {
  /** The Microsoft 365 tenant. */
  m365TenantId: string;
  /**
   * Tenant of the Azure subscription (where the collector's managed identity lives). Only matters
   * for keyless mode: a different tenant makes the app multitenant, owned by this tenant.
   */
  azureTenantId?: string;
  /** Microsoft 365 cloud: commercial, gcc, gcchigh or dod. */
  cloud: CloudName;
  /** Azure region. */
  location: string;
  /** Existing resource group everything is created in. */
  resourceGroupName: string;
  /** 2–12 lowercase letters/digits used in every Azure resource name. */
  namePrefix: string;
  /**
   * Naming rule: called with each resource kind and the default name derived from
   * `namePrefix`; returns the name to use. Default: the default names.
   */
  naming?: NamingHook;
  /** Azure tags for every taggable Azure resource the pipeline creates. */
  tags?: Readonly<Record<string, string>>;
  /**
   * azuread provider for the app's home tenant when it differs from the Microsoft 365 tenant
   * (keyless mode with `azureTenantId`); the `providers` option's azuread provider is the M365
   * tenant's. Omitted: created when needed.
   */
  appTenantProvider?: azuread.Provider;
  /** Display name of the Entra ID app registration. */
  appDisplayName: string;
  /** Management Activity API content types to collect; DLP.All adds ActivityFeed.ReadDlp. */
  contentTypes: readonly ContentType[];
  /** Also grant ServiceHealth.Read (not needed for audit collection). */
  includeServiceHealth: boolean;
  /** PublisherIdentifier; defaults to the M365 tenant id. */
  publisherId?: string;
  /**
   * The app's credential: a rotating client secret, a certificate, or keyless (`federated`: the
   * collector's managed identity as a federated credential; bundled collector only).
   */
  credential: PipelineCredentialArgs;
  /**
   * `bundled` (default): the collector runs in Azure Container Apps. `none`: bring your own
   * SIEM; only the app, its credential, permissions + consent and a Key Vault with the
   * credential are created (no identity, storage, Container Apps, workspace or DCR).
   */
  collector?: CollectorKind;
  /**
   * Where the bundled collector delivers; default Log Analytics only. Without `logsIngestion`
   * no workspace, table, DCE or DCR is created. Not allowed with `collector: "none"`.
   */
  sinks?: SinkArgs;
  /**
   * A new workspace (named from `namePrefix`) or an existing one by resource id, optionally with
   * the azure-native provider of its subscription. Required with the logs-ingestion sink.
   * Without it, an existing workspace still receives the Container Apps environment's logs.
   */
  workspace?:
    | { kind: "new"; retentionInDays: number; dailyQuotaGb?: number }
    | Extract<WorkspaceArgs, { kind: "existing" }>;
  /** Custom table the rows land in (must end in `_CL`); default M365Audit_CL. */
  tableName?: string;
  /** The table's plan (LogAnalyticsDestinationArgs.tablePlan); default Analytics. */
  tablePlan?: TablePlan;
  /** Collector image, pinned by tag or digest; required with the bundled collector. */
  collectorImage?: string;
  /**
   * Azure Container Registry resource id; the collector's identity gets AcrPull there and pulls
   * without a password.
   */
  collectorRegistryResourceId?: string;
  /**
   * always-on (default): the collector runs as a Container App with one replica. scheduled: a
   * Container Apps Job runs `run --once` on `collectorSchedule`.
   */
  collectorMode?: "always-on" | "scheduled";
  /**
   * collectorMode scheduled: five-field cron expression in UTC, runs 5 minutes to 24 hours
   * apart; default every 5 minutes.
   */
  collectorSchedule?: string;
  /** Recover a soft-deleted Key Vault left by an earlier destroy (createMode "recover"). */
  keyVaultRecoverSoftDeleted?: boolean;
  /** Let `pulumi destroy` delete the workspace it created and the audit table; default false. */
  deleteDataOnDestroy?: boolean;
  /** Seconds between the last role grant and the Container App; default 90. */
  roleAssignmentWaitSeconds?: number;
  /** Kind of principal running `pulumi up`; default User. */
  deployerPrincipalType?: DeployerPrincipalType;
  /**
   * Microsoft Sentinel content; default off (the OfficeActivity-shaped function is always
   * deployed).
   */
  sentinel?: SentinelArgs;
  /** Subscription the default azure-native provider deploys to, when known. */
  azureSubscriptionId?: string;
  /** azure-native cloud environment (public, usgovernment, china), when set. */
  azureEnvironment?: string;
  /**
   * Turn the tenant's unified audit logging on at `pulumi up`, with the deployer's credential
   * (an {@link AuditLoggingSwitch}); `pulumi destroy` never turns it off. Default false.
   */
  enableAuditLogging?: boolean;
}

/** One tenant's app, destination and collector, wired together. */
export class TenantAuditPipeline extends pulumi.ComponentResource {
  public readonly tenantId: pulumi.Output<string>;
  public readonly clientId: pulumi.Output<string>;
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  public readonly secretExpiresAt: pulumi.Output<string | undefined>;
  /** The audit workspace and its Logs Ingestion target; undefined without that sink. */
  public readonly workspaceResourceId: pulumi.Output<string | undefined>;
  public readonly workspaceCustomerId: pulumi.Output<string | undefined>;
  public readonly dcrImmutableId: pulumi.Output<string | undefined>;
  public readonly ingestionEndpoint: pulumi.Output<string | undefined>;
  /** Name of the collector's Container App; undefined with `collector: "none"`, empty when scheduled. */
  public readonly collectorAppName: pulumi.Output<string | undefined>;
  /** Name of the Container Apps Job running the collector; empty unless scheduled. */
  public readonly collectorJobName: pulumi.Output<string>;
  /**
   * Name of the KQL function that presents the audit table in OfficeActivity's shape; undefined
   * without the logs-ingestion sink.
   */
  public readonly officeActivityFunction: string | undefined;
  /** Who collects: bundled or none. */
  public readonly collector: CollectorKind;
  /** How the bundled collector runs; undefined with `collector: "none"`. */
  public readonly collectorMode: "always-on" | "scheduled" | undefined;
  /** The sinks the collector delivers to (AUDIT_SINK); empty with `collector: "none"`. */
  public readonly sinks: readonly SinkKind[];
  /** The stack's Key Vault, when one exists (a stored credential or a sink secret). */
  public readonly keyVaultName: pulumi.Output<string | undefined>;
  public readonly keyVaultUri: pulumi.Output<string | undefined>;
  /** Name of the Key Vault secret holding the current client secret (secret credential only). */
  public readonly clientSecretName: string | undefined;
  /**
   * Name of the Key Vault secret holding the app credential: the client secret, or the
   * certificate's PEM bundle (certificate and key); undefined when keyless (federated).
   */
  public readonly credentialSecretName: string | undefined;
  /** Subscription the default azure-native provider deploys to. */
  public readonly azureSubscriptionId: pulumi.Output<string>;

  constructor(name: string, args: TenantAuditPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    // A naming rule's bad name fails here too, before the component itself is registered.
    const names = applyNaming(
      resourceNames(
        args.namePrefix,
        uniqueSuffix(args.m365TenantId, args.resourceGroupName, args.namePrefix),
      ),
      args.naming,
    );
    super("auditbridge:pipeline:TenantAuditPipeline", name, {}, opts);
    const tags = args.tags ? { tags: args.tags } : {};
    const federated = args.credential.mode === "federated";
    const appTenantId =
      federated && args.azureTenantId !== undefined ? args.azureTenantId : args.m365TenantId;

    // The collector's managed identity is needed by the app (FIC subject) and the destination
    // (publisher role) before the collector itself can be built (it needs their outputs). The
    // resource graph has no cycle, only the construction order does: deferred outputs bridge it.
    const [identityPrincipalId, resolveIdentityPrincipalId] = pulumi.deferredOutput<string>();
    const [identityTenantId, resolveIdentityTenantId] = pulumi.deferredOutput<string>();

    const credential: AppCredentialArgs =
      args.credential.mode === "federated"
        ? {
            mode: "federated",
            identityPrincipalId,
            identityTenantId: identityTenantId.apply((tenant) => {
              // MI-as-FIC only works when the app lives in the identity's own tenant.
              if (tenant.toLowerCase() !== appTenantId.toLowerCase()) {
                throw new Error(
                  `auditbridge:azureTenantId must be the tenant of the Azure subscription (${tenant}) for credentialMode federated: set it with pulumi config set auditbridge:azureTenantId ${tenant}`,
                );
              }
              return tenant;
            }),
          }
        : args.credential;

    const reader = new AuditReaderApp(
      `${name}-reader`,
      {
        displayName: args.appDisplayName,
        m365TenantId: args.m365TenantId,
        appTenantId,
        cloud: args.cloud,
        contentTypes: args.contentTypes,
        includeServiceHealth: args.includeServiceHealth,
        credential,
        notes: "Managed by AuditBridge (Pulumi). Changes made in the portal are overwritten.",
        ...(args.appTenantProvider ? { appTenantProvider: args.appTenantProvider } : {}),
      },
      { parent: this },
    );

    const bundled = (args.collector ?? "bundled") === "bundled";
    const sinks = bundled ? (args.sinks ?? DEFAULT_SINKS) : undefined;
    const kinds = sinks ? sinkKinds(sinks) : [];
    const workspace = args.workspace;

    // Only the logs-ingestion sink needs a workspace, table, DCE and DCR.
    const destination =
      kinds.includes("logs-ingestion") && workspace
        ? new LogAnalyticsDestination(
            `${name}-destination`,
            {
              resourceGroupName: args.resourceGroupName,
              location: args.location,
              workspace:
                workspace.kind === "new" ? { ...workspace, name: names.workspace } : workspace,
              ...(args.tableName !== undefined ? { tableName: args.tableName } : {}),
              ...(args.tablePlan !== undefined ? { tablePlan: args.tablePlan } : {}),
              dataCollectionEndpointName: names.dataCollectionEndpoint,
              dataCollectionRuleName: names.dataCollectionRule,
              publisherPrincipalId: identityPrincipalId,
              deleteDataOnDestroy: args.deleteDataOnDestroy ?? false,
              sentinel: args.sentinel ?? { enabled: false },
              ...tags,
              ...(args.azureSubscriptionId !== undefined
                ? { deploymentSubscriptionId: args.azureSubscriptionId }
                : {}),
              ...(args.azureEnvironment !== undefined
                ? { azureEnvironment: args.azureEnvironment }
                : {}),
            },
            { parent: this },
          )
        : undefined;

    // Without auditing the Management API has nothing to serve; the collector starts after it.
    const auditSwitch = args.enableAuditLogging
      ? new AuditLoggingSwitch(
          `${name}-audit-logging`,
          { tenantId: args.m365TenantId, cloud: args.cloud },
          { parent: this },
        )
      : undefined;

    let collectorCredential: CollectorCredentialArgs;
    switch (args.credential.mode) {
      case "secret":
        collectorCredential = {
          mode: "secret",
          clientSecret: reader.clientSecret!,
          expiresAt: reader.secretExpiresAt.apply((iso) => iso!),
          rotationSlot: reader.secretRotationSlot!,
        };
        break;
      case "certificate":
        collectorCredential = {
          mode: "certificate",
          certificatePem: args.credential.certificatePem,
        };
        break;
      case "federated":
        collectorCredential = { mode: "federated" };
        break;
    }

    const clientConfig = authorization.getClientConfigOutput({ parent: this });
    let collector: CollectorService | undefined;
    let vault: CredentialVault | undefined;
    if (sinks) {
      collector = new CollectorService(
        `${name}-collector`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          names,
          image: args.collectorImage!,
          registryResourceId: args.collectorRegistryResourceId,
          m365TenantId: args.m365TenantId,
          clientId: reader.clientId,
          credential: collectorCredential,
          cloud: args.cloud,
          contentTypes: args.contentTypes,
          publisherId: args.publisherId ?? args.m365TenantId,
          sinks,
          ...(destination
            ? {
                ingestion: {
                  endpoint: destination.ingestionEndpoint,
                  ruleId: destination.dcrImmutableId,
                  stream: destination.streamName,
                },
              }
            : {}),
          // The environment's own logs go to the audit workspace, else to a given one.
          ...(destination
            ? { workspaceResourceId: destination.workspaceResourceId }
            : workspace?.kind === "existing"
              ? { workspaceResourceId: workspace.resourceId }
              : {}),
          mode:
            args.collectorMode === "scheduled"
              ? {
                  kind: "scheduled",
                  cronExpression: args.collectorSchedule ?? DEFAULT_COLLECTOR_SCHEDULE,
                }
              : { kind: "always-on" },
          startAfter: [
            ...reader.signInPrerequisites,
            ...(destination ? [destination.publisherRoleAssignment] : []),
            ...(auditSwitch ? [auditSwitch] : []),
          ],
          recoverSoftDeletedVault: args.keyVaultRecoverSoftDeleted ?? false,
          deployerPrincipalType: args.deployerPrincipalType ?? "User",
          ...tags,
          ...(args.roleAssignmentWaitSeconds !== undefined
            ? { roleAssignmentWaitSeconds: args.roleAssignmentWaitSeconds }
            : {}),
        },
        { parent: this },
      );
      resolveIdentityPrincipalId(collector.identityPrincipalId);
      resolveIdentityTenantId(collector.identityTenantId);
    } else if (collectorCredential.mode !== "federated") {
      // Bring your own SIEM: the credential goes into a vault for the SIEM's connector (or the
      // handoff command) to read. The resources keep the names they have under a bundled
      // collector, and the alias says so: switching a stack from bundled to none keeps the vault
      // and its secret instead of deleting them and creating a vault of the same name.
      // https://www.pulumi.com/docs/iac/concepts/options/aliases/
      const collectorUrn = pulumi.createUrn(
        `${name}-collector`,
        "auditbridge:collector:CollectorService",
        this,
      );
      const vaultOpts: pulumi.CustomResourceOptions = {
        parent: this,
        aliases: [{ parent: collectorUrn }],
      };
      vault = credentialVault(
        `${name}-collector`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          vaultName: names.keyVault,
          tenantId: clientConfig.tenantId,
          recoverSoftDeletedVault: args.keyVaultRecoverSoftDeleted ?? false,
          deployerPrincipalType: args.deployerPrincipalType ?? "User",
          ...tags,
        },
        vaultOpts,
      );
      storedCredential(
        `${name}-collector`,
        vault,
        { credential: collectorCredential, resourceGroupName: args.resourceGroupName, ...tags },
        vaultOpts,
      );
    }

    this.tenantId = reader.tenantId;
    this.clientId = reader.clientId;
    this.servicePrincipalObjectId = reader.servicePrincipalObjectId;
    this.secretExpiresAt = reader.secretExpiresAt;
    this.workspaceResourceId = pulumi.output(destination?.workspaceResourceId);
    this.workspaceCustomerId = pulumi.output(destination?.workspaceCustomerId);
    this.dcrImmutableId = pulumi.output(destination?.dcrImmutableId);
    this.ingestionEndpoint = pulumi.output(destination?.ingestionEndpoint);
    this.collectorAppName = pulumi.output(collector?.containerAppName);
    this.collectorJobName = collector ? collector.collectorJobName : pulumi.output("");
    this.officeActivityFunction = destination?.officeActivityFunction;
    this.collector = bundled ? "bundled" : "none";
    this.collectorMode = bundled ? (args.collectorMode ?? "always-on") : undefined;
    this.sinks = kinds;
    this.keyVaultName = collector ? collector.keyVaultName : pulumi.output(vault?.vault.name);
    this.keyVaultUri = collector
      ? collector.keyVaultUri
      : pulumi.output(vault?.vault.properties.vaultUri);
    this.clientSecretName = args.credential.mode === "secret" ? CREDENTIAL_SECRET_NAME : undefined;
    this.credentialSecretName =
      args.credential.mode === "federated" ? undefined : CREDENTIAL_SECRET_NAME;
    this.azureSubscriptionId =
      args.azureSubscriptionId !== undefined
        ? pulumi.output(args.azureSubscriptionId)
        : clientConfig.subscriptionId;
    this.registerOutputs({
      tenantId: this.tenantId,
      clientId: this.clientId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      secretExpiresAt: this.secretExpiresAt,
      workspaceResourceId: this.workspaceResourceId,
      workspaceCustomerId: this.workspaceCustomerId,
      dcrImmutableId: this.dcrImmutableId,
      ingestionEndpoint: this.ingestionEndpoint,
      collectorAppName: this.collectorAppName,
      collectorJobName: this.collectorJobName,
      officeActivityFunction: this.officeActivityFunction,
      collector: this.collector,
      sinks: this.sinks,
      keyVaultName: this.keyVaultName,
    });
  }
}

/** Argument checks, before any resource exists; one line naming the argument. */
function checkArgs(name: string, args: TenantAuditPipelineArgs): void {
  const fail = (arg: string, problem: string, got: string): never => {
    throw new Error(`TenantAuditPipeline ${name}: ${arg} ${problem} (got ${got})`);
  };
  const prefix = namePrefixProblem(args.namePrefix);
  if (prefix) fail("namePrefix", prefix, args.namePrefix);
  if (args.tags) {
    const problem = tagsProblem(args.tags);
    if (problem) fail("tags", problem, JSON.stringify(args.tags));
  }
  if (args.azureTenantId !== undefined) {
    const problem = guidProblem(args.azureTenantId);
    if (problem) fail("azureTenantId", problem, args.azureTenantId);
  }
  if (args.publisherId !== undefined) {
    const problem = guidProblem(args.publisherId);
    if (problem) fail("publisherId", problem, args.publisherId);
  }
  const collector = args.collector ?? "bundled";
  if (!(COLLECTOR_KINDS as readonly string[]).includes(collector)) {
    fail("collector", `must be ${COLLECTOR_KINDS.join(" or ")}`, collector);
  }
  const none = (problem: string): never => {
    throw new Error(`TenantAuditPipeline ${name}: ${problem}`);
  };
  if (collector === "none") {
    if (args.credential.mode === "federated") {
      none(
        'credential mode federated needs the bundled collector\'s managed identity; use mode secret or certificate with collector "none"',
      );
    }
    if (args.sinks !== undefined) {
      none('sinks configure the bundled collector; leave them out with collector "none"');
    }
    if (args.collectorMode !== undefined || args.collectorSchedule !== undefined) {
      none(
        'collectorMode and collectorSchedule configure the bundled collector; leave them out with collector "none"',
      );
    }
    return;
  }
  if (args.collectorImage === undefined)
    none("collectorImage is required with the bundled collector");
  const sinks = args.sinks ?? DEFAULT_SINKS;
  const problem = sinksProblem(sinks);
  if (problem) none(problem);
  const logsIngestion = sinkKinds(sinks).includes("logs-ingestion");
  if (logsIngestion && args.workspace === undefined) {
    none("workspace is required with the logs-ingestion sink (or set sinks.logsIngestion false)");
  }
  if (!logsIngestion && args.sentinel?.enabled) {
    none("sentinel needs the logs-ingestion sink: Sentinel content reads the audit table");
  }
  if (
    args.collectorMode !== undefined &&
    !["always-on", "scheduled"].includes(args.collectorMode)
  ) {
    fail("collectorMode", "must be always-on or scheduled", args.collectorMode);
  }
  if (args.collectorSchedule !== undefined) {
    if (args.collectorMode !== "scheduled") {
      fail(
        "collectorSchedule",
        "is only used with collectorMode scheduled",
        args.collectorSchedule,
      );
    }
    const parsed = parseCronSchedule(args.collectorSchedule);
    if (!parsed.ok) fail("collectorSchedule", parsed.problem, args.collectorSchedule);
  }
  // Checked here too, so nothing is created before LogAnalyticsDestination would refuse it.
  if (args.tablePlan === "Basic" && args.sentinel?.enabled) {
    fail(
      "sentinel",
      "needs tablePlan Analytics: Sentinel content cannot query a Basic table",
      "tablePlan Basic",
    );
  }
}
