/**
 * CollectorService: runs the collector in Azure Container Apps as a user-assigned managed
 * identity, with its app credential in Key Vault, its checkpoint in a blob container, and the
 * environment variables of the collector configuration contract (ARCHITECTURE.md).
 */
import * as app from "@pulumi/azure-native/app";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as storage from "@pulumi/azure-native/storage";
import type { app as appInput } from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName } from "../domain/clouds";
import type { EnvKey } from "../domain/collectorEnv";
import type { ContentType } from "../domain/contentTypes";
import { guidProblem } from "../domain/validators";
import { type ResourceNames, roleAssignmentName } from "./naming";
import { AZURE_ROLES, roleDefinitionIdFor } from "./roles";
import {
  imageReferenceProblem,
  imageRegistryHost,
  integerRangeProblem,
  resourceIdProblem,
} from "./validators";

/** Port of the collector's /healthz, /livez and /metrics (collector DEFAULT_HTTP_PORT). */
export const COLLECTOR_HTTP_PORT = 9464;
/** Where a certificate credential is mounted inside the container. */
export const CERTIFICATE_MOUNT_PATH = "/mnt/credentials";
const CERTIFICATE_FILE = "client-certificate.pem";
/** Smallest Container Apps consumption size; the collector is I/O bound. */
const CONTAINER_CPU = 0.25;
const CONTAINER_MEMORY = "0.5Gi";

/** The app credential the collector presents to Entra ID. */
export type CollectorCredentialArgs =
  | {
      mode: "secret";
      /** Current client secret (a Pulumi secret); stored in Key Vault, never in env. */
      clientSecret: pulumi.Input<string>;
      /** Its end date (RFC 3339), copied to the Key Vault secret's expiry attribute. */
      expiresAt: pulumi.Input<string>;
      /**
       * Rotation period number. It names the Container Apps secret, so a rotation changes the
       * template and starts a new revision that reads the new value from Key Vault.
       */
      rotationSlot: number;
    }
  | {
      mode: "certificate";
      /** PEM bundle (certificate + private key), a Pulumi secret; mounted as a file. */
      certificatePem: pulumi.Input<string>;
    }
  | { mode: "federated" };

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

    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: args.names.identity,
        location: args.location,
      },
      { parent: this },
    );

    const grant = (
      suffix: string,
      roleGuid: string,
      scope: pulumi.Output<string>,
      description: string,
    ): authorization.RoleAssignment =>
      new authorization.RoleAssignment(
        `${name}-${suffix}`,
        {
          principalId: identity.principalId,
          // Without it, a fresh identity not yet replicated in Entra ID fails the assignment.
          principalType: "ServicePrincipal",
          roleDefinitionId: scope.apply((s) => roleDefinitionIdFor(s, roleGuid)),
          scope,
          roleAssignmentName: pulumi
            .all([scope, identity.principalId])
            .apply(([s, principal]) => roleAssignmentName(s, roleGuid, principal)),
          description,
        },
        { parent: this },
      );

    // Checkpoints: Entra-only access (no account keys, no SAS from keys), TLS 1.2, nothing public.
    const account = new storage.StorageAccount(
      `${name}-storage`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: args.names.storageAccount,
        location: args.location,
        kind: "StorageV2",
        sku: { name: "Standard_LRS" },
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowBlobPublicAccess: false,
        allowCrossTenantReplication: false,
        minimumTlsVersion: "TLS1_2",
        enableHttpsTrafficOnly: true,
      },
      { parent: this },
    );
    const container = new storage.BlobContainer(
      `${name}-checkpoints`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: account.name,
        containerName: args.names.checkpointContainer,
        publicAccess: "None",
      },
      { parent: this },
    );
    const roleGrants: pulumi.Resource[] = [
      grant(
        "checkpoint-writer",
        AZURE_ROLES.storageBlobDataContributor,
        container.id,
        "AuditBridge collector reads and writes its checkpoints",
      ),
    ];
    const checkpointUrl = pulumi.interpolate`${account.primaryEndpoints.blob.apply((b) => b.replace(/\/+$/, ""))}/${container.name}`;

    // The app credential, when there is one, lives in Key Vault (RBAC mode); the Container App
    // reads it through a Key Vault reference with the identity, so no value sits in app config.
    const containerSecrets: pulumi.Input<appInput.SecretArgs>[] = [];
    const volumes: pulumi.Input<appInput.VolumeArgs>[] = [];
    const volumeMounts: pulumi.Input<appInput.VolumeMountArgs>[] = [];
    const credentialEnv: pulumi.Input<appInput.EnvironmentVarArgs>[] = [];
    const credential = args.credential;
    if (credential.mode === "federated") {
      credentialEnv.push(env("AUDIT_FEDERATED_IDENTITY_CLIENT_ID", identity.clientId));
    } else {
      const vault = new keyvault.Vault(
        `${name}-vault`,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName: args.names.keyVault,
          location: args.location,
          properties: {
            tenantId: identity.tenantId,
            sku: { family: "A", name: "standard" },
            enableRbacAuthorization: true,
            enableSoftDelete: true,
            softDeleteRetentionInDays: 7,
            enabledForDeployment: false,
            enabledForDiskEncryption: false,
            enabledForTemplateDeployment: false,
          },
        },
        { parent: this },
      );
      const secretName =
        credential.mode === "secret" ? "collector-client-secret" : "collector-client-certificate";
      const secret = new keyvault.Secret(
        `${name}-credential`,
        {
          resourceGroupName: args.resourceGroupName,
          vaultName: vault.name,
          secretName,
          properties:
            credential.mode === "secret"
              ? {
                  value: pulumi.secret(credential.clientSecret),
                  contentType: "text/plain",
                  attributes: {
                    expires: pulumi
                      .output(credential.expiresAt)
                      .apply((iso) => Math.floor(Date.parse(iso) / 1000)),
                  },
                }
              : {
                  value: pulumi.secret(credential.certificatePem),
                  contentType: "application/x-pem-file",
                },
        },
        { parent: this },
      );
      roleGrants.push(
        grant(
          "credential-reader",
          AZURE_ROLES.keyVaultSecretsUser,
          secret.id,
          "AuditBridge collector reads its app credential",
        ),
      );
      const containerSecretName =
        credential.mode === "secret"
          ? `client-secret-${credential.rotationSlot}`
          : "client-certificate";
      containerSecrets.push({
        name: containerSecretName,
        keyVaultUrl: secret.properties.secretUri,
        identity: identity.id,
      });
      if (credential.mode === "secret") {
        credentialEnv.push({
          name: "AZURE_CLIENT_SECRET" satisfies EnvKey,
          secretRef: containerSecretName,
        });
      } else {
        volumes.push({
          name: "credentials",
          storageType: "Secret",
          secrets: [{ secretRef: containerSecretName, path: CERTIFICATE_FILE }],
        });
        volumeMounts.push({ volumeName: "credentials", mountPath: CERTIFICATE_MOUNT_PATH });
        credentialEnv.push(
          env("AZURE_CLIENT_CERTIFICATE_PATH", `${CERTIFICATE_MOUNT_PATH}/${CERTIFICATE_FILE}`),
        );
      }
    }

    const registries: pulumi.Input<appInput.RegistryCredentialsArgs>[] = [];
    if (args.registryResourceId) {
      roleGrants.push(
        grant(
          "image-puller",
          AZURE_ROLES.acrPull,
          pulumi.output(args.registryResourceId),
          "AuditBridge collector pulls its image",
        ),
      );
      // Pull with the managed identity: no registry username or password anywhere.
      registries.push({ server: imageRegistryHost(args.image), identity: identity.id });
    }

    // The Container Apps platform sends console logs to Log Analytics with the workspace key;
    // this is the platform's only option for the "log-analytics" destination. It stays secret.
    const sharedKey = pulumi.secret(
      operationalinsights
        .getSharedKeysOutput(
          {
            resourceGroupName: args.workspace.resourceGroupName,
            workspaceName: args.workspace.name,
          },
          { parent: this },
        )
        .apply((keys) => {
          if (!keys.primarySharedKey)
            throw new Error(`${name}: the workspace returned no shared key`);
          return keys.primarySharedKey;
        }),
    );
    const environment = new app.ManagedEnvironment(
      `${name}-environment`,
      {
        resourceGroupName: args.resourceGroupName,
        environmentName: args.names.managedEnvironment,
        location: args.location,
        appLogsConfiguration: {
          destination: "log-analytics",
          logAnalyticsConfiguration: { customerId: args.workspace.customerId, sharedKey },
        },
      },
      { parent: this },
    );

    // Liveness asks only whether the process answers (/livez). /healthz is 503 by design while
    // the collector waits for an operator to fix the tenant (audit off, missing permission),
    // and a restart fixes none of that: as liveness it would restart the collector every ~90 s.
    // Readiness and alerting use /healthz.
    const probe = (type: "Liveness" | "Readiness"): appInput.ContainerAppProbeArgs => ({
      type,
      httpGet: { path: type === "Liveness" ? "/livez" : "/healthz", port, scheme: "HTTP" },
      initialDelaySeconds: type === "Liveness" ? 15 : 5,
      periodSeconds: type === "Liveness" ? 30 : 10,
      failureThreshold: 3,
      timeoutSeconds: 5,
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
          secrets: containerSecrets,
          registries,
        },
        template: {
          containers: [
            {
              name: "collector",
              image: args.image,
              resources: { cpu: CONTAINER_CPU, memory: CONTAINER_MEMORY },
              env: [
                env("AZURE_TENANT_ID", args.m365TenantId),
                env("AZURE_CLIENT_ID", args.clientId),
                ...credentialEnv,
                env("AUDIT_MANAGED_IDENTITY_CLIENT_ID", identity.clientId),
                env("O365_CLOUD", args.cloud),
                env("O365_CONTENT_TYPES", args.contentTypes.join(",")),
                env("O365_PUBLISHER_ID", args.publisherId),
                env("AUDIT_STATE", checkpointUrl),
                env("AUDIT_SINK", "logs-ingestion"),
                env("LOGS_INGESTION_ENDPOINT", args.ingestion.endpoint),
                env("LOGS_INGESTION_RULE_ID", args.ingestion.ruleId),
                env("LOGS_INGESTION_STREAM", args.ingestion.stream),
                // No AUDIT_HTTP_HOST: collector/Dockerfile already binds 0.0.0.0, which the
                // platform's probes need.
                env("AUDIT_HTTP_PORT", String(port)),
              ],
              probes: [probe("Liveness"), probe("Readiness")],
              volumeMounts,
            },
          ],
          volumes,
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
    this.checkpointUrl = checkpointUrl;
    this.containerAppName = containerApp.name;
    this.registerOutputs({
      identityPrincipalId: this.identityPrincipalId,
      identityClientId: this.identityClientId,
      checkpointUrl: this.checkpointUrl,
      containerAppName: this.containerAppName,
    });
  }
}

/** A plain environment variable of the collector contract (the name is type-checked). */
function env(name: EnvKey, value: pulumi.Input<string>): appInput.EnvironmentVarArgs {
  return { name, value };
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
