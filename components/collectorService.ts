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
import type { CloudName } from "../domain/clouds";
import type { ContentType } from "../domain/contentTypes";
import { guidProblem } from "../domain/validators";
import { collectorContainer, collectorEnv } from "./collectorContainer";
import { type CollectorCredentialArgs, collectorCredential } from "./collectorCredential";
import { collectorEnvironment } from "./collectorEnvironment";
import { type CollectorGrant, grantRole } from "./collectorGrants";
import { checkpointStore } from "./collectorStorage";
import type { ResourceNames } from "./naming";
import { AZURE_ROLES } from "./roles";
import {
  imageReferenceProblem,
  imageRegistryHost,
  integerRangeProblem,
  resourceIdProblem,
} from "./validators";

export { CERTIFICATE_MOUNT_PATH, type CollectorCredentialArgs } from "./collectorCredential";

/** Port of the collector's /healthz, /livez and /metrics (collector DEFAULT_HTTP_PORT). */
export const COLLECTOR_HTTP_PORT = 9464;

/** Arguments of {@link CollectorService}. */
export interface CollectorServiceArgs {
  resourceGroupName: pulumi.Input<string>;
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
  >;
  /** Collector image, pinned by tag or digest. */
  image: string;
  /** Azure Container Registry to pull from with the managed identity (AcrPull is granted). */
  registryResourceId?: string;
  /** The Microsoft 365 tenant id (AZURE_TENANT_ID). */
  m365TenantId: pulumi.Input<string>;
  /** The app registration's client id (AZURE_CLIENT_ID). */
  clientId: pulumi.Input<string>;
  credential: CollectorCredentialArgs;
  cloud: CloudName;
  contentTypes: readonly ContentType[];
  /** PublisherIdentifier (O365_PUBLISHER_ID). */
  publisherId: pulumi.Input<string>;
  /** Logs Ingestion target. */
  ingestion: {
    endpoint: pulumi.Input<string>;
    ruleId: pulumi.Input<string>;
    stream: string;
  };
  /** Workspace the Container Apps environment sends console logs to. */
  workspace: {
    customerId: pulumi.Input<string>;
    name: pulumi.Input<string>;
    resourceGroupName: pulumi.Input<string>;
  };
  /** /healthz and /metrics port; defaults to 9464. */
  httpPort?: number;
}

/** Managed identity, Key Vault, checkpoint storage, Container Apps environment and app. */
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
  /** Name of the Container App. */
  public readonly containerAppName: pulumi.Output<string>;

  constructor(name: string, args: CollectorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("auditbridge:collector:CollectorService", name, {}, opts);
    const port = args.httpPort ?? COLLECTOR_HTTP_PORT;
    const child: pulumi.CustomResourceOptions = { parent: this };

    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: args.names.identity,
        location: args.location,
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
      },
      child,
    );
    const roleGrants: pulumi.Resource[] = [
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
      },
      child,
    );
    roleGrants.push(...credential.grants.map(grant));

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

    const environment = collectorEnvironment(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentName: args.names.managedEnvironment,
        workspace: args.workspace,
      },
      child,
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
      ingestion: args.ingestion,
      port,
    });
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
          secrets: credential.secrets,
          registries,
        },
        template: {
          containers: [
            collectorContainer({
              image: args.image,
              env,
              port,
              volumeMounts: credential.volumeMounts,
            }),
          ],
          volumes: credential.volumes,
          // Exactly one replica: one writer per tenant checkpoint (the blob lease also guards it).
          scale: { minReplicas: 1, maxReplicas: 1 },
        },
      },
      // The first revision must be able to read Key Vault, storage and the registry at start.
      { parent: this, dependsOn: roleGrants },
    );

    this.identityId = identity.id;
    this.identityPrincipalId = identity.principalId;
    this.identityClientId = identity.clientId;
    this.identityTenantId = identity.tenantId;
    this.checkpointUrl = checkpoints.url;
    this.containerAppName = containerApp.name;
    this.registerOutputs({
      identityPrincipalId: this.identityPrincipalId,
      identityClientId: this.identityClientId,
      checkpointUrl: this.checkpointUrl,
      containerAppName: this.containerAppName,
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
  if (args.httpPort !== undefined) {
    const problem = integerRangeProblem(args.httpPort, 1, 65535);
    if (problem) fail("httpPort", problem, args.httpPort);
  }
  if (typeof args.m365TenantId === "string") {
    const problem = guidProblem(args.m365TenantId);
    if (problem) fail("m365TenantId", problem, args.m365TenantId);
  }
  if (args.contentTypes.length === 0) fail("contentTypes", "must name at least one content type");
  if (args.credential.mode === "secret") {
    const problem = integerRangeProblem(args.credential.rotationSlot, 0, Number.MAX_SAFE_INTEGER);
    if (problem) fail("credential.rotationSlot", problem, args.credential.rotationSlot);
  }
}
