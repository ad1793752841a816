/**
 * Where the collector's app credential lives and how the container sees it. A client secret or a
 * certificate bundle is stored in a Key Vault (RBAC mode) and the Container App reads it through
 * a Key Vault reference with the managed identity, so no value sits in app config. Keyless mode
 * needs no vault for the credential (the collector presents its managed identity as a federated
 * credential); the same vault also keeps a sink's secrets (components/collectorSinks.ts) and,
 * without a bundled collector, the client secret for the operator's own SIEM.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import type { app as appInput } from "@pulumi/azure-native/types/input";
import * as pulumi from "@pulumi/pulumi";
import type { EnvKey } from "../domain/collectorEnv";
import { envVar } from "./collectorContainer";
import type { CollectorGrant } from "./collectorGrants";
import { roleAssignmentName } from "./naming";
import { AZURE_ROLES, roleDefinitionIdFor } from "./roles";

/**
 * Name of the Key Vault secret, the same for a client secret and a certificate bundle: switching
 * credentialMode between them updates the secret (a new version, through ARM) instead of
 * replacing it, and a replacement would need a data-plane delete (see {@link collectorCredential}).
 */
export const CREDENTIAL_SECRET_NAME = "collector-credential";

/** Where a certificate credential is mounted inside the container. */
export const CERTIFICATE_MOUNT_PATH = "/mnt/credentials";
const CERTIFICATE_FILE = "client-certificate.pem";

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

/** Kinds of principal that can run `pulumi up`. */
export const DEPLOYER_PRINCIPAL_TYPES = ["User", "ServicePrincipal"] as const;
export type DeployerPrincipalType = (typeof DEPLOYER_PRINCIPAL_TYPES)[number];

/** The container-side wiring of a credential, plus the grants it needs. */
export interface CredentialWiring {
  secrets: pulumi.Input<appInput.SecretArgs>[];
  volumes: pulumi.Input<appInput.VolumeArgs>[];
  volumeMounts: pulumi.Input<appInput.VolumeMountArgs>[];
  env: pulumi.Input<appInput.EnvironmentVarArgs>[];
  grants: CollectorGrant[];
  /** The stack's Key Vault, when one was created. */
  vault?: CredentialVault;
}

/** The managed identity's outputs the wiring needs. */
export interface CredentialIdentity {
  id: pulumi.Output<string>;
  clientId: pulumi.Output<string>;
  tenantId: pulumi.Output<string>;
}

/** The stack's Key Vault and the deployer's Secrets Officer grant on it. */
export interface CredentialVault {
  vault: keyvault.Vault;
  /** Key Vault Secrets Officer for the identity running `pulumi up`; secrets wait for it. */
  deployerGrant: authorization.RoleAssignment;
}

/** Arguments of {@link credentialVault}. */
export interface CredentialVaultArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  vaultName: string;
  /** Entra ID tenant that authorizes access to the vault (the subscription's tenant). */
  tenantId: pulumi.Input<string>;
  /**
   * Create the vault with createMode "recover": brings back a soft-deleted vault of the same
   * name (left by an earlier destroy) instead of failing on the name conflict.
   */
  recoverSoftDeletedVault?: boolean;
  /**
   * What kind of principal runs `pulumi up`. ARM refuses a role assignment whose declared
   * principalType does not match the principal ("UnmatchedPrincipalType").
   */
  deployerPrincipalType: DeployerPrincipalType;
  /** Azure tags for the Key Vault. */
  tags?: Readonly<Record<string, string>>;
}

/**
 * Creates the Key Vault (RBAC mode, soft delete, nothing enabled for deployments) and grants the
 * identity running `pulumi up` Key Vault Secrets Officer on it.
 *
 * azure-native creates a Key Vault secret through ARM but deletes it through the vault's data
 * plane, where an RBAC-mode vault grants a resource-group Owner nothing: the delete would answer
 * 403 on `pulumi destroy`. So every secret is `deletedWith` the vault (deleting the vault removes
 * it; no separate delete is sent), and the identity running `pulumi up` holds Key Vault Secrets
 * Officer on this one vault for the deletes that remain (a secret dropped while the vault stays).
 * https://www.pulumi.com/docs/iac/concepts/options/deletedwith/
 * https://learn.microsoft.com/azure/key-vault/general/rbac-guide
 */
export function credentialVault(
  name: string,
  args: CredentialVaultArgs,
  opts: pulumi.CustomResourceOptions,
): CredentialVault {
  const vault = new keyvault.Vault(
    `${name}-vault`,
    {
      resourceGroupName: args.resourceGroupName,
      vaultName: args.vaultName,
      location: args.location,
      properties: {
        tenantId: args.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 7,
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        ...(args.recoverSoftDeletedVault ? { createMode: "recover" as const } : {}),
      },
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    // createMode only means something when the vault is created: turning the key off again
    // after the recovering run must not send an update.
    { ...opts, ignoreChanges: ["properties.createMode"] },
  );
  const deployer = authorization.getClientConfigOutput({ parent: opts.parent });
  const deployerGrant = new authorization.RoleAssignment(
    `${name}-deployer-secrets-officer`,
    {
      principalId: deployer.objectId,
      principalType: args.deployerPrincipalType,
      roleDefinitionId: vault.id.apply((s) =>
        roleDefinitionIdFor(s, AZURE_ROLES.keyVaultSecretsOfficer),
      ),
      scope: vault.id,
      roleAssignmentName: pulumi
        .all([vault.id, deployer.objectId])
        .apply(([s, principal]) =>
          roleAssignmentName(s, AZURE_ROLES.keyVaultSecretsOfficer, principal),
        ),
      description: "Identity running pulumi up manages (and deletes) the collector credential",
    },
    opts,
  );
  return { vault, deployerGrant };
}

/** One secret to keep in the vault. */
export interface VaultSecretArgs {
  resourceGroupName: pulumi.Input<string>;
  /** Name of the secret in the vault. */
  secretName: string;
  /** The value; always sent as a Pulumi secret. */
  value: pulumi.Input<string>;
  contentType: string;
  /** Expiry (RFC 3339), copied to the secret's `exp` attribute. */
  expiresAt?: pulumi.Input<string>;
  tags?: Readonly<Record<string, string>>;
}

/** A secret in the vault: created after the deployer's grant, deleted with the vault. */
export function vaultSecret(
  resourceName: string,
  target: CredentialVault,
  args: VaultSecretArgs,
  opts: pulumi.CustomResourceOptions,
): keyvault.Secret {
  const expiresAt = args.expiresAt;
  return new keyvault.Secret(
    resourceName,
    {
      resourceGroupName: args.resourceGroupName,
      vaultName: target.vault.name,
      secretName: args.secretName,
      properties: {
        value: pulumi.secret(args.value),
        contentType: args.contentType,
        ...(expiresAt !== undefined
          ? {
              attributes: {
                expires: pulumi
                  .output(expiresAt)
                  .apply((iso) => Math.floor(Date.parse(iso) / 1000)),
              },
            }
          : {}),
      },
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    // The officer grant is created before the secret and, on destroy, deleted after it.
    { ...opts, dependsOn: [target.deployerGrant], deletedWith: target.vault },
  );
}

/** The app credential a vault can hold: a client secret or a certificate bundle. */
export type StoredCredentialArgs = Exclude<CollectorCredentialArgs, { mode: "federated" }>;

/** Keeps the app credential in the vault, as {@link CREDENTIAL_SECRET_NAME}. */
export function storedCredential(
  name: string,
  target: CredentialVault,
  args: {
    credential: StoredCredentialArgs;
    resourceGroupName: pulumi.Input<string>;
    tags?: Readonly<Record<string, string>>;
  },
  opts: pulumi.CustomResourceOptions,
): keyvault.Secret {
  const { credential } = args;
  return vaultSecret(
    `${name}-credential`,
    target,
    {
      resourceGroupName: args.resourceGroupName,
      secretName: CREDENTIAL_SECRET_NAME,
      ...(credential.mode === "secret"
        ? {
            value: credential.clientSecret,
            contentType: "text/plain",
            expiresAt: credential.expiresAt,
          }
        : { value: credential.certificatePem, contentType: "application/x-pem-file" }),
      ...(args.tags ? { tags: args.tags } : {}),
    },
    opts,
  );
}

/**
 * Creates the vault and secret (when the mode has a stored credential, or `vaultNeeded` says
 * other secrets go there too) and wires the credential in: the Container App reads the secret
 * through a Key Vault reference with the managed identity.
 */
export function collectorCredential(
  name: string,
  args: {
    credential: CollectorCredentialArgs;
    identity: CredentialIdentity;
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    vaultName: string;
    /** Create the vault even in keyless mode: other secrets (a sink's) are kept there. */
    vaultNeeded?: boolean;
    /** See {@link CredentialVaultArgs.recoverSoftDeletedVault}. */
    recoverSoftDeletedVault?: boolean;
    /** See {@link CredentialVaultArgs.deployerPrincipalType}. */
    deployerPrincipalType: DeployerPrincipalType;
    /** Azure tags for the Key Vault and its secret. */
    tags?: Readonly<Record<string, string>>;
  },
  opts: pulumi.CustomResourceOptions,
): CredentialWiring {
  const { credential, identity } = args;
  const wiring: CredentialWiring = {
    secrets: [],
    volumes: [],
    volumeMounts: [],
    env: [],
    grants: [],
  };
  const target =
    credential.mode !== "federated" || args.vaultNeeded
      ? credentialVault(
          name,
          {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            vaultName: args.vaultName,
            tenantId: identity.tenantId,
            recoverSoftDeletedVault: args.recoverSoftDeletedVault ?? false,
            deployerPrincipalType: args.deployerPrincipalType,
            ...(args.tags ? { tags: args.tags } : {}),
          },
          opts,
        )
      : undefined;
  if (target) wiring.vault = target;
  if (credential.mode === "federated") {
    wiring.env.push(envVar("AUDIT_FEDERATED_IDENTITY_CLIENT_ID", identity.clientId));
    return wiring;
  }

  const secret = storedCredential(
    name,
    target!,
    {
      credential,
      resourceGroupName: args.resourceGroupName,
      ...(args.tags ? { tags: args.tags } : {}),
    },
    opts,
  );
  wiring.grants.push({
    suffix: "credential-reader",
    roleGuid: AZURE_ROLES.keyVaultSecretsUser,
    scope: secret.id,
    description: "AuditBridge collector reads its app credential",
  });

  const containerSecretName =
    credential.mode === "secret"
      ? `client-secret-${credential.rotationSlot}`
      : "client-certificate";
  wiring.secrets.push({
    name: containerSecretName,
    keyVaultUrl: secret.properties.secretUri,
    identity: identity.id,
  });
  if (credential.mode === "secret") {
    wiring.env.push({
      name: "AZURE_CLIENT_SECRET" satisfies EnvKey,
      secretRef: containerSecretName,
    });
  } else {
    wiring.volumes.push({
      name: "credentials",
      storageType: "Secret",
      secrets: [{ secretRef: containerSecretName, path: CERTIFICATE_FILE }],
    });
    wiring.volumeMounts.push({ volumeName: "credentials", mountPath: CERTIFICATE_MOUNT_PATH });
    wiring.env.push(
      envVar("AZURE_CLIENT_CERTIFICATE_PATH", `${CERTIFICATE_MOUNT_PATH}/${CERTIFICATE_FILE}`),
    );
  }
  return wiring;
}
