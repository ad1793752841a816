/**
 * The Container Apps environment the collector runs in. Its console and system logs reach the
 * audit workspace through Azure Monitor (destination "azure-monitor" plus a diagnostic setting),
 * not through the "log-analytics" destination: that one needs the workspace's shared key, which
 * would then sit in the stack state and stops working where the workspace disables local auth.
 * https://learn.microsoft.com/azure/container-apps/log-options
 */
import * as app from "@pulumi/azure-native/app";
import * as monitor from "@pulumi/azure-native/monitor";
import type * as pulumi from "@pulumi/pulumi";

/** Log categories of a managed environment (resource-specific tables of the same names). */
export const ENVIRONMENT_LOG_CATEGORIES = [
  "ContainerAppConsoleLogs",
  "ContainerAppSystemLogs",
] as const;

/** The managed environment and the diagnostic setting that ships its logs (when it has a workspace). */
export interface CollectorEnvironment {
  environment: app.ManagedEnvironment;
  diagnostics?: monitor.DiagnosticSetting;
}

/**
 * Creates the managed environment and routes its logs to the workspace. Without a workspace the
 * destination stays "azure-monitor" with no diagnostic setting: the logs are kept nowhere, and
 * adding a workspace later adds the setting without touching the environment.
 */
export function collectorEnvironment(
  name: string,
  args: {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    environmentName: string;
    /** Resource id of the Log Analytics workspace the logs go to; omitted: none. */
    workspaceResourceId?: pulumi.Input<string>;
    /** Azure tags for the managed environment. */
    tags?: Readonly<Record<string, string>>;
  },
  opts: pulumi.CustomResourceOptions,
): CollectorEnvironment {
  const environment = new app.ManagedEnvironment(
    `${name}-environment`,
    {
      resourceGroupName: args.resourceGroupName,
      environmentName: args.environmentName,
      location: args.location,
      appLogsConfiguration: { destination: "azure-monitor" },
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    opts,
  );
  if (args.workspaceResourceId === undefined) return { environment };
  const diagnostics = new monitor.DiagnosticSetting(
    `${name}-environment-logs`,
    {
      name: "auditbridge-collector-logs",
      resourceUri: environment.id,
      workspaceId: args.workspaceResourceId,
      // Resource-specific tables (ContainerAppConsoleLogs, …) rather than AzureDiagnostics.
      logAnalyticsDestinationType: "Dedicated",
      logs: ENVIRONMENT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
    },
    opts,
  );
  return { environment, diagnostics };
}
