/**
 * The collector container's specification: its environment variables (the collector
 * configuration contract in domain/collectorEnv.ts), its probes and its size.
 */
import type { app as appInput } from "@pulumi/azure-native/types/input";
import type * as pulumi from "@pulumi/pulumi";
import type { CloudName } from "../domain/clouds";
import type { EnvKey } from "../domain/collectorEnv";
import type { ContentType } from "../domain/contentTypes";

/**
 * Smallest Container Apps consumption size; the collector is I/O bound. docs/operating.md has
 * the headroom it leaves (the benchmark's container mode runs the collector in this size).
 */
export const CONTAINER_CPU = 0.25;
export const CONTAINER_MEMORY = "0.5Gi";

/** A plain environment variable of the collector contract (the name is type-checked). */
export function envVar(name: EnvKey, value: pulumi.Input<string>): appInput.EnvironmentVarArgs {
  return { name, value };
}

/** Everything the collector's environment variables are filled from. */
export interface CollectorEnvArgs {
  m365TenantId: pulumi.Input<string>;
  clientId: pulumi.Input<string>;
  /** Credential variables (secret reference, certificate path or federated identity). */
  credentialEnv: readonly pulumi.Input<appInput.EnvironmentVarArgs>[];
  identityClientId: pulumi.Input<string>;
  cloud: CloudName;
  contentTypes: readonly ContentType[];
  publisherId: pulumi.Input<string>;
  checkpointUrl: pulumi.Input<string>;
  /** The sinks' variables: AUDIT_SINK and each sink's settings (components/collectorSinks.ts). */
  sinkEnv: readonly pulumi.Input<appInput.EnvironmentVarArgs>[];
  port: number;
}

/** The collector's environment variables. */
export function collectorEnv(args: CollectorEnvArgs): pulumi.Input<appInput.EnvironmentVarArgs>[] {
  return [
    envVar("AZURE_TENANT_ID", args.m365TenantId),
    envVar("AZURE_CLIENT_ID", args.clientId),
    ...args.credentialEnv,
    envVar("AUDIT_MANAGED_IDENTITY_CLIENT_ID", args.identityClientId),
    envVar("O365_CLOUD", args.cloud),
    envVar("O365_CONTENT_TYPES", args.contentTypes.join(",")),
    envVar("O365_PUBLISHER_ID", args.publisherId),
    envVar("AUDIT_STATE", args.checkpointUrl),
    ...args.sinkEnv,
    // No AUDIT_HTTP_HOST: collector/Dockerfile already binds 0.0.0.0, which the platform's
    // probes need.
    envVar("AUDIT_HTTP_PORT", String(args.port)),
  ];
}

/**
 * The container's probes, all on /livez: it answers 200 as long as the process serves HTTP.
 * /healthz is 503 by design until the tenant is healthy (audit log on, consent in place): as a
 * readiness or startup probe the first revision could never become ready, and Container Apps
 * keeps a revision that never gets ready "provisioning" until the deployment fails; as liveness
 * it would restart a collector that is only waiting for an operator. /healthz stays for
 * monitoring and `npm run verify`.
 * https://learn.microsoft.com/azure/container-apps/health-probes
 */
export function collectorProbes(port: number): appInput.ContainerAppProbeArgs[] {
  const httpGet = { path: "/livez", port, scheme: "HTTP" };
  return [
    // Up to 10 s × 30 = 5 minutes for a new revision's process to start answering.
    { type: "Startup", httpGet, periodSeconds: 10, failureThreshold: 30, timeoutSeconds: 5 },
    { type: "Liveness", httpGet, periodSeconds: 30, failureThreshold: 3, timeoutSeconds: 5 },
    { type: "Readiness", httpGet, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
  ];
}

/**
 * The single collector container. `probes: false` for a scheduled job: a job has no ingress
 * and no probes, and an execution is judged by its exit code.
 */
export function collectorContainer(args: {
  image: string;
  env: pulumi.Input<appInput.EnvironmentVarArgs>[];
  port: number;
  volumeMounts: pulumi.Input<appInput.VolumeMountArgs>[];
  probes?: boolean;
}): appInput.ContainerArgs {
  return {
    name: "collector",
    image: args.image,
    resources: { cpu: CONTAINER_CPU, memory: CONTAINER_MEMORY },
    env: args.env,
    ...(args.probes === false ? {} : { probes: collectorProbes(args.port) }),
    volumeMounts: args.volumeMounts,
  };
}
