/**
 * TenantAuditPipeline: everything one Microsoft 365 tenant needs, composed from the three parts.
 */
import type * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName } from "../domain/clouds";
import type { ContentType } from "../domain/contentTypes";
import type { TablePlan } from "../domain/table";
import { guidProblem } from "../domain/validators";
import { AuditLoggingSwitch } from "./auditLogging";
import { type AppCredentialArgs, AuditReaderApp } from "./auditReaderApp";
import {
  type CollectorCredentialArgs,
  CollectorService,
  type DeployerPrincipalType,
} from "./collectorService";
import { LogAnalyticsDestination, type WorkspaceArgs } from "./logAnalyticsDestination";
import { applyNaming, type NamingHook, resourceNames, uniqueSuffix } from "./naming";
import type { SentinelArgs } from "./sentinelContent";
import { namePrefixProblem, tagsProblem } from "./validators";

/** Credential choice for the pipeline; the federated variant needs nothing from the caller. */
export type PipelineCredentialArgs =
  | Extract<AppCredentialArgs, { mode: "secret" }>
  | Extract<AppCredentialArgs, { mode: "certificate" }>
  | { mode: "federated" };

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
   * collector's managed identity as a federated credential).
   */
  credential: PipelineCredentialArgs;
  /**
   * A new workspace (named from `namePrefix`) or an existing one by resource id, optionally with
   * the azure-native provider of its subscription.
   */
  workspace:
    | { kind: "new"; retentionInDays: number; dailyQuotaGb?: number }
    | Extract<WorkspaceArgs, { kind: "existing" }>;
  /** Custom table the rows land in (must end in `_CL`). */
  tableName: string;
  /** The table's plan (LogAnalyticsDestinationArgs.tablePlan); default Analytics. */
  tablePlan?: TablePlan;
  /** Collector image, pinned by tag or digest. */
  collectorImage: string;
  /**
   * Azure Container Registry resource id; the collector's identity gets AcrPull there and pulls
   * without a password.
   */
  collectorRegistryResourceId?: string;
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
  public readonly workspaceResourceId: pulumi.Output<string>;
  public readonly workspaceCustomerId: pulumi.Output<string>;
  public readonly dcrImmutableId: pulumi.Output<string>;
  public readonly ingestionEndpoint: pulumi.Output<string>;
  public readonly collectorAppName: pulumi.Output<string>;
  /** Name of the KQL function that presents the audit table in OfficeActivity's shape. */
  public readonly officeActivityFunction: string | undefined;

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

    const destination = new LogAnalyticsDestination(
      `${name}-destination`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        workspace:
          args.workspace.kind === "new"
            ? { ...args.workspace, name: names.workspace }
            : args.workspace,
        tableName: args.tableName,
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
        ...(args.azureEnvironment !== undefined ? { azureEnvironment: args.azureEnvironment } : {}),
      },
      { parent: this },
    );

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

    const collector = new CollectorService(
      `${name}-collector`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        names,
        image: args.collectorImage,
        registryResourceId: args.collectorRegistryResourceId,
        m365TenantId: args.m365TenantId,
        clientId: reader.clientId,
        credential: collectorCredential,
        cloud: args.cloud,
        contentTypes: args.contentTypes,
        publisherId: args.publisherId ?? args.m365TenantId,
        ingestion: {
          endpoint: destination.ingestionEndpoint,
          ruleId: destination.dcrImmutableId,
          stream: destination.streamName,
        },
        workspaceResourceId: destination.workspaceResourceId,
        startAfter: [
          ...reader.signInPrerequisites,
          destination.publisherRoleAssignment,
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

    this.tenantId = reader.tenantId;
    this.clientId = reader.clientId;
    this.servicePrincipalObjectId = reader.servicePrincipalObjectId;
    this.secretExpiresAt = reader.secretExpiresAt;
    this.workspaceResourceId = destination.workspaceResourceId;
    this.workspaceCustomerId = destination.workspaceCustomerId;
    this.dcrImmutableId = destination.dcrImmutableId;
    this.ingestionEndpoint = destination.ingestionEndpoint;
    this.collectorAppName = collector.containerAppName;
    this.officeActivityFunction = destination.officeActivityFunction;
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
      officeActivityFunction: this.officeActivityFunction,
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
  // Checked here too, so nothing is created before LogAnalyticsDestination would refuse it.
  if (args.tablePlan === "Basic" && args.sentinel?.enabled) {
    fail(
      "sentinel",
      "needs tablePlan Analytics: Sentinel content cannot query a Basic table",
      "tablePlan Basic",
    );
  }
}
