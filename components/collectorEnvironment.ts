/**
 * The Container Apps environment the collector runs in, with its console logs sent to the
 * audit workspace.
 */
import * as app from "@pulumi/azure-native/app";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as pulumi from "@pulumi/pulumi";

/** The workspace the environment's console logs go to. */
export interface LogWorkspaceRef {
  customerId: pulumi.Input<string>;
  name: pulumi.Input<string>;
  resourceGroupName: pulumi.Input<string>;
}

/** Creates the managed environment. */
export function collectorEnvironment(
  name: string,
  args: {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    environmentName: string;
    workspace: LogWorkspaceRef;
  },
  opts: pulumi.CustomResourceOptions,
): app.ManagedEnvironment {
  // The Container Apps platform sends console logs to Log Analytics with the workspace key;
  // this is the platform's only option for the "log-analytics" destination. It stays secret.
  const sharedKey = pulumi.secret(
    operationalinsights
      .getSharedKeysOutput(
        {
          resourceGroupName: args.workspace.resourceGroupName,
          workspaceName: args.workspace.name,
        },
        { parent: opts.parent },
      )
      .apply((keys) => {
        if (!keys.primarySharedKey)
          throw new Error(`${name}: the workspace returned no shared key`);
        return keys.primarySharedKey;
      }),
  );
  return new app.ManagedEnvironment(
    `${name}-environment`,
    {
      resourceGroupName: args.resourceGroupName,
      environmentName: args.environmentName,
      location: args.location,
      appLogsConfiguration: {
        destination: "log-analytics",
        logAnalyticsConfiguration: { customerId: args.workspace.customerId, sharedKey },
      },
    },
    opts,
  );
}
