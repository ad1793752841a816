/**
 * The collector's checkpoint store: a storage account that only accepts Entra ID (no account
 * keys, no SAS signed with keys), TLS 1.2, nothing public, and one private blob container.
 */
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";

/** What the checkpoint store gives the rest of the collector. */
export interface CheckpointStore {
  account: storage.StorageAccount;
  container: storage.BlobContainer;
  /** `https://<account>.blob…/<container>`: AUDIT_STATE. */
  url: pulumi.Output<string>;
}

/** Creates the storage account and its checkpoint container. */
export function checkpointStore(
  name: string,
  args: {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    accountName: string;
    containerName: string;
    /** Azure tags for the storage account. */
    tags?: Readonly<Record<string, string>>;
  },
  opts: pulumi.CustomResourceOptions,
): CheckpointStore {
  const account = new storage.StorageAccount(
    `${name}-storage`,
    {
      resourceGroupName: args.resourceGroupName,
      accountName: args.accountName,
      location: args.location,
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    opts,
  );
  const container = new storage.BlobContainer(
    `${name}-checkpoints`,
    {
      resourceGroupName: args.resourceGroupName,
      accountName: account.name,
      containerName: args.containerName,
      publicAccess: "None",
    },
    opts,
  );
  const url = pulumi.interpolate`${account.primaryEndpoints.blob.apply((b) => b.replace(/\/+$/, ""))}/${container.name}`;
  return { account, container, url };
}
