/**
 * CollectorService: runs the collector in Azure Container Apps as a user-assigned managed
 * identity, with its app credential in Key Vault, its checkpoint in a blob container, and the
 * environment variables of the collector configuration contract (domain/collectorEnv.ts). Each
 * part lives in its own module; this one composes them.
 */
import * as app from "@pulumi/azure-native/app";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import type { app as appInput } from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import * as time from "@pulumiverse/time";
import type { CloudName } from "../domain/clouds";
import type { ContentType } from "../domain/contentTypes";
import { guidProblem } from "../domain/validators";
import { collectorContainer, collectorEnv } from "./collectorContainer";
import {
  type CollectorCredentialArgs,
  collectorCredential,
  type DeployerPrincipalType,
} from "./collectorCredential";
import { collectorEnvironment } from "./collectorEnvironment";
import { type CollectorGrant, grantRole } from "./collectorGrants";
import { collectorJob, collectorJobProblem } from "./collectorJob";
import {
  collectorSinks,
  DEFAULT_SINKS,
  type SinkArgs,
  sinkKinds,
  sinksNeedVault,
  sinksProblem,
} from "./collectorSinks";
import { checkpointStore } from "./collectorStorage";
import type { ResourceNames } from "./naming";
import { AZURE_ROLES } from "./roles";
import {
  imageReferenceProblem,
  imageRegistryHost,
  integerRangeProblem,
  resourceIdProblem,
  tagsProblem,
} from "./validators";

export {
  CERTIFICATE_MOUNT_PATH,
  type CollectorCredentialArgs,
  type DeployerPrincipalType,
} from "./collectorCredential";

/** Port of the collector's /healthz, /livez and /metrics (collector DEFAULT_HTTP_PORT). */
export const COLLECTOR_HTTP_PORT = 9464;
/**
 * Default wait between the last role grant and the Container App. Azure RBAC changes usually
 * take effect within a few minutes, and Container Apps resolves Key Vault references and pulls
 * the image with the app's identity when the first revision is created.
 * https://learn.microsoft.com/azure/role-based-access-control/troubleshooting
 */
export const DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS = 90;
/** Longest accepted wait (30 minutes). */
export const MAX_ROLE_ASSIGNMENT_WAIT_SECONDS = 1800;

/** How the collector runs: a Container App, or a scheduled Container Apps Job. */
export type CollectorMode =
  | { kind: "always-on" }
  | { kind: "scheduled"; cronExpression: string; replicaTimeoutSeconds?: number };

/** Arguments of {@link CollectorService}. */
export interface CollectorServiceArgs {
  /** Existing resource group everything is created in. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: pulumi.Input<string>;
  /** Resource names (see naming.ts). */
  names: Pick<
    ResourceNames,
    | "identity"
    | "keyVault"
    | "storageAccount"
    | "checkpointContainer"
    | "managedEnvironment"
    | "containerApp"
    | "collectorJob"
  >;
  /** Collector image, pinned by tag or digest. */
  image: string;
  /** Azure Container Registry to pull from with the managed identity (AcrPull is granted). */
  registryResourceId?: string;
  /** The Microsoft 365 tenant id (AZURE_TENANT_ID). */
  m365TenantId: pulumi.Input<string>;
  /** The app registration's client id (AZURE_CLIENT_ID). */
  clientId: pulumi.Input<string>;
  /** How the collector signs in: the secret or certificate to keep in Key Vault, or federated. */
  credential: CollectorCredentialArgs;
  /** Microsoft 365 cloud (AUDIT_CLOUD). */
  cloud: CloudName;
  /** Content types to collect (O365_CONTENT_TYPES). */
  contentTypes: readonly ContentType[];
  /** PublisherIdentifier (O365_PUBLISHER_ID). */
  publisherId: pulumi.Input<string>;
  /**
   * Where the collector delivers (AUDIT_SINK and each sink's settings); default Log Analytics
   * only. The HEC token and a syslog client key are kept in the Key Vault.
   */
  sinks?: SinkArgs;
  /** Logs Ingestion target; required with the logs-ingestion sink. */
  ingestion?: {
    endpoint: pulumi.Input<string>;
    ruleId: pulumi.Input<string>;
    stream: string;
  };
  /**
   * Resource id of the workspace the Container Apps environment sends its console and system
   * logs to; omitted, the environment keeps no logs.
   */
  workspaceResourceId?: pulumi.Input<string>;
  /** /healthz and /metrics port; defaults to 9464. */
  httpPort?: number;
  /**
   * How the collector runs: always-on (default), a Container App with one replica; or scheduled,
   * a Container Apps Job running `run --once` on a five-field UTC cron expression (runs 5
   * minutes to 24 hours apart), with a replica timeout (default: the longer of 30 minutes and
   * the longest gap between runs).
   */
  mode?: CollectorMode;
  /**
   * Grants made elsewhere that the collector needs at its first start: admin consent, the app
   * credential Entra ID checks, the publisher role on the DCR. The app waits for them too.
   */
  startAfter?: readonly pulumi.CustomResource[];
  /** Seconds to wait after the last grant before creating the Container App; default 90. */
  roleAssignmentWaitSeconds?: number;
  /** Recover a soft-deleted Key Vault of the same name instead of creating a new one. */
  recoverSoftDeletedVault?: boolean;
  /** Kind of principal running `pulumi up` (it gets Secrets Officer on the vault); default User. */
  deployerPrincipalType?: DeployerPrincipalType;
  /**
   * Azure tags for every taggable resource created (identity, Key Vault, storage account,
   * Container Apps environment and app).
   */
  tags?: Readonly<Record<string, string>>;
}

/** Managed identity, Key Vault, checkpoint storage, Container Apps environment and app (or job). */
export class CollectorService extends pulumi.ComponentResource {
  /** Resource id of the user-assigned identity. */
  public readonly identityId: pulumi.Output<string>;
  /** Principal (object) id of the identity: role assignments and the FIC subject. */
  public readonly identityPrincipalId: pulumi.Output<string>;
  /** Client id of the identity (AUDIT_MANAGED_IDENTITY_CLIENT_ID). */
  public readonly identityClientId: pulumi.Output<string>;
  /** Tenant of the identity: the FIC issuer's tenant. */
  public readonly identityTenantId: pulumi.Output<string>;
  /** Checkpoint container URL (AUDIT_STATE). */
  public readonly checkpointUrl: pulumi.Output<string>;
  /** Name of the Container App; empty in scheduled mode. */
  public readonly containerAppName: pulumi.Output<string>;
  /** Name and URI of the Key Vault, when one was needed (a stored credential or sink secret). */
  public readonly keyVaultName: pulumi.Output<string | undefined>;
  public readonly keyVaultUri: pulumi.Output<string | undefined>;
  /** Name of the Container Apps Job; empty in always-on mode. */
  public readonly collectorJobName: pulumi.Output<string>;

  constructor(name: string, args: CollectorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("auditbridge:collector:CollectorService", name, {}, opts);
    const port = args.httpPort ?? COLLECTOR_HTTP_PORT;
    const child: pulumi.CustomResourceOptions = { parent: this };
    const tags = args.tags ? { tags: { ...args.tags } } : {};

    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: args.names.identity,
        location: args.location,
        ...tags,
      },
      child,
    );
    const grant = (g: CollectorGrant) => grantRole(name, identity.principalId, g, child);

    const checkpoints = checkpointStore(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: args.names.storageAccount,
        containerName: args.names.checkpointContainer,
        ...tags,
      },
      child,
    );
    const roleGrants: pulumi.CustomResource[] = [
      grant({
        suffix: "checkpoint-writer",
        roleGuid: AZURE_ROLES.storageBlobDataContributor,
        scope: checkpoints.container.id,
        description: "AuditBridge collector reads and writes its checkpoints",
      }),
    ];

    const credential = collectorCredential(
      name,
      {
        credential: args.credential,
        identity,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.names.keyVault,
        vaultNeeded: sinksNeedVault(args.sinks),
        recoverSoftDeletedVault: args.recoverSoftDeletedVault ?? false,
        deployerPrincipalType: args.deployerPrincipalType ?? "User",
        ...tags,
      },
      // Without a collector, TenantAuditPipeline keeps the same vault, secret and grant, under
      // the same names, directly under itself: the alias carries them over when a stack turns
      // its collector (back) on. https://www.pulumi.com/docs/iac/concepts/options/aliases/
      opts?.parent ? { ...child, aliases: [{ parent: opts.parent }] } : child,
    );
    roleGrants.push(...credential.grants.map(grant));
    const sinks = collectorSinks(
      name,
      {
        sinks: args.sinks ?? DEFAULT_SINKS,
        ...(args.ingestion ? { ingestion: args.ingestion } : {}),
        ...(credential.vault ? { vault: credential.vault } : {}),
        identityId: identity.id,
        resourceGroupName: args.resourceGroupName,
        ...tags,
      },
      child,
    );
    roleGrants.push(...sinks.grants.map(grant));

    const registries: pulumi.Input<appInput.RegistryCredentialsArgs>[] = [];
    if (args.registryResourceId) {
      roleGrants.push(
        grant({
          suffix: "image-puller",
          roleGuid: AZURE_ROLES.acrPull,
          scope: pulumi.output(args.registryResourceId),
          description: "AuditBridge collector pulls its image",
        }),
      );
      // Pull with the managed identity: no registry username or password anywhere.
      registries.push({ server: imageRegistryHost(args.image), identity: identity.id });
    }

    const { environment } = collectorEnvironment(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentName: args.names.managedEnvironment,
        ...(args.workspaceResourceId !== undefined
          ? { workspaceResourceId: args.workspaceResourceId }
          : {}),
        ...tags,
      },
      child,
    );

    // Role assignments exist in ARM at once but take effect later; the first revision reads
    // Key Vault, the checkpoint blob and the registry, and signs in to Entra ID, right away.
    // The wait runs again whenever the set of grants changes (triggers).
    const prerequisites = [...roleGrants, ...(args.startAfter ?? [])];
    const waitSeconds = args.roleAssignmentWaitSeconds ?? DEFAULT_ROLE_ASSIGNMENT_WAIT_SECONDS;
    const grantsTakeEffect = new time.Sleep(
      `${name}-role-propagation`,
      {
        createDuration: `${waitSeconds}s`,
        triggers: {
          grants: pulumi
            .all(prerequisites.map((r) => r.id))
            .apply((ids) => [...ids].sort().join(",")),
        },
      },
      { parent: this, dependsOn: prerequisites },
    );

    const env = collectorEnv({
      m365TenantId: args.m365TenantId,
      clientId: args.clientId,
      credentialEnv: credential.env,
      identityClientId: identity.clientId,
      cloud: args.cloud,
      contentTypes: args.contentTypes,
      publisherId: args.publisherId,
      checkpointUrl: checkpoints.url,
      sinkEnv: sinks.env,
      port,
    });
    // The first run must be able to sign in and read Key Vault, storage and the registry.
    const runAfter: pulumi.CustomResourceOptions = {
      parent: this,
      dependsOn: [grantsTakeEffect, ...prerequisites],
    };
    const container = {
      image: args.image,
      env,
      port,
      volumeMounts: [...credential.volumeMounts, ...sinks.volumeMounts],
    };
    const secrets = [...credential.secrets, ...sinks.secrets];
    const volumes = [...credential.volumes, ...sinks.volumes];
    let containerAppName: pulumi.Output<string> = pulumi.output("");
    let jobName: pulumi.Output<string> = pulumi.output("");
    if (args.mode?.kind === "scheduled") {
      const job = collectorJob(
        name,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          jobName: args.names.collectorJob,
          environmentId: environment.id,
          identityId: identity.id,
          container: collectorContainer({ ...container, probes: false }),
          secrets,
          registries,
          volumes,
          cronExpression: args.mode.cronExpression,
          ...(args.mode.replicaTimeoutSeconds !== undefined
            ? { replicaTimeoutSeconds: args.mode.replicaTimeoutSeconds }
            : {}),
          ...(args.tags ? { tags: args.tags } : {}),
        },
        runAfter,
      );
      jobName = job.name;
    } else {
      const containerApp = new app.ContainerApp(
        `${name}-app`,
        {
          resourceGroupName: args.resourceGroupName,
          containerAppName: args.names.containerApp,
          location: args.location,
          managedEnvironmentId: environment.id,
          identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
          configuration: {
            activeRevisionsMode: "Single",
            secrets,
            registries,
          },
          template: {
            containers: [collectorContainer(container)],
            volumes,
            // Exactly one replica: one writer per tenant checkpoint (the blob lease also guards it).
            scale: { minReplicas: 1, maxReplicas: 1 },
          },
          ...tags,
        },
        runAfter,
      );
      containerAppName = containerApp.name;
    }

    this.identityId = identity.id;
    this.identityPrincipalId = identity.principalId;
    this.identityClientId = identity.clientId;
    this.identityTenantId = identity.tenantId;
    this.checkpointUrl = checkpoints.url;
    this.keyVaultName = pulumi.output(credential.vault?.vault.name);
    this.keyVaultUri = pulumi.output(credential.vault?.vault.properties.vaultUri);
    this.containerAppName = containerAppName;
    this.collectorJobName = jobName;
    this.registerOutputs({
      identityPrincipalId: this.identityPrincipalId,
      identityClientId: this.identityClientId,
      checkpointUrl: this.checkpointUrl,
      containerAppName: this.containerAppName,
      keyVaultName: this.keyVaultName,
      collectorJobName: this.collectorJobName,
    });
  }
}

/** Argument checks, before any resource exists; one line naming the argument. */
function checkArgs(name: string, args: CollectorServiceArgs): void {
  const fail = (arg: string, problem: string, got?: string | number): never => {
    throw new Error(
      `CollectorService ${name}: ${arg} ${problem}${got === undefined ? "" : ` (got ${got})`}`,
    );
  };
  if (args.tags) {
    const problem = tagsProblem(args.tags);
    if (problem) fail("tags", problem);
  }
  const image = imageReferenceProblem(args.image);
  if (image) fail("image", image, args.image);
  if (args.registryResourceId !== undefined) {
    const problem = resourceIdProblem(
      args.registryResourceId,
      "Microsoft.ContainerRegistry",
      "registries",
    );
    if (problem) fail("registryResourceId", problem, args.registryResourceId);
  }
  if (args.roleAssignmentWaitSeconds !== undefined) {
    const problem = integerRangeProblem(
      args.roleAssignmentWaitSeconds,
      0,
      MAX_ROLE_ASSIGNMENT_WAIT_SECONDS,
    );
    if (problem) fail("roleAssignmentWaitSeconds", problem, args.roleAssignmentWaitSeconds);
  }
  if (args.httpPort !== undefined) {
    const problem = integerRangeProblem(args.httpPort, 1, 65535);
    if (problem) fail("httpPort", problem, args.httpPort);
  }
  if (typeof args.m365TenantId === "string") {
    const problem = guidProblem(args.m365TenantId);
    if (problem) fail("m365TenantId", problem, args.m365TenantId);
  }
  if (args.contentTypes.length === 0) fail("contentTypes", "must name at least one content type");
  if (args.sinks) {
    const problem = sinksProblem(args.sinks);
    if (problem) throw new Error(`CollectorService ${name}: ${problem}`);
  }
  if (sinkKinds(args.sinks).includes("logs-ingestion") && !args.ingestion) {
    fail(
      "ingestion",
      "is required with the logs-ingestion sink (or set sinks.logsIngestion false)",
    );
  }
  if (args.mode?.kind === "scheduled") {
    const problem = collectorJobProblem(args.mode);
    if (problem) fail(problem.arg, problem.problem);
  } else if (args.mode !== undefined && args.mode.kind !== "always-on") {
    fail(
      "mode.kind",
      "must be always-on or scheduled",
      String((args.mode as { kind: unknown }).kind),
    );
  }
  if (args.credential.mode === "secret") {
    const problem = integerRangeProblem(args.credential.rotationSlot, 0, Number.MAX_SAFE_INTEGER);
    if (problem) fail("credential.rotationSlot", problem, args.credential.rotationSlot);
  }
}
