/**
 * Checks 4 and 5: the resource providers this stack deploys are registered in the subscription
 * (scope.ts decides which), and the location offers Container Apps managed environments (the
 * Microsoft.App provider's `managedEnvironments` locations), plus `jobs` for a scheduled collector.
 * https://learn.microsoft.com/en-us/rest/api/resources/providers/get
 */
import type { ArmClients, Failure } from "../azure";
import { describeError } from "../azure";
import type { PreflightConfig } from "../inputs";
import { fail, pass, type Verdict, warn } from "../result";
import { ALL_PROVIDERS, type DeploymentShape, requiredProviders } from "../scope";

/** One provider as the probe saw it. */
export type ProviderProbe =
  | {
      namespace: string;
      kind: "found";
      registrationState: string;
      /** resourceType → locations (display names), as ARM lists them. */
      resourceTypes: Record<string, string[]>;
    }
  | { namespace: string; kind: "error"; failure: Failure };

/** `GET /subscriptions/{sub}/providers/{namespace}` for every namespace the stack needs. */
export async function probeProviders(
  shape: DeploymentShape,
  clients: ArmClients,
  abortSignal?: AbortSignal,
): Promise<ProviderProbe[]> {
  return Promise.all(
    requiredProviders(shape).map(async (namespace): Promise<ProviderProbe> => {
      try {
        const provider = await clients.resources.providers.get(namespace, { abortSignal });
        const resourceTypes: Record<string, string[]> = {};
        for (const type of provider.resourceTypes ?? []) {
          if (type.resourceType)
            resourceTypes[type.resourceType.toLowerCase()] = type.locations ?? [];
        }
        return {
          namespace,
          kind: "found",
          registrationState: provider.registrationState ?? "Unknown",
          resourceTypes,
        };
      } catch (error) {
        return { namespace, kind: "error", failure: describeError(error) };
      }
    }),
  );
}

/** Judges provider registration. Pure. */
export function judgeProviders(config: PreflightConfig, probes: readonly ProviderProbe[]): Verdict {
  const errors = probes.filter((p) => p.kind === "error");
  const found = probes.filter((p) => p.kind === "found");
  const unregistered = found.filter(
    (p) => !/^(registered|registering)$/i.test(p.registrationState),
  );
  const registering = found.filter((p) => /^registering$/i.test(p.registrationState));
  const register = (namespaces: string[]) =>
    namespaces
      .map((ns) => `az provider register --namespace ${ns} --subscription ${config.subscriptionId}`)
      .join(" && ");
  if (errors.length > 0) {
    return fail(
      `cannot read provider ${errors.map((p) => `${p.namespace} (${(p as { failure: Failure }).failure.message})`).join(", ")}`,
      `check --subscription-id and that you can read subscription ${config.subscriptionId}: az provider show --namespace ${errors[0]!.namespace} --subscription ${config.subscriptionId}`,
    );
  }
  if (unregistered.length > 0) {
    const names = unregistered.map((p) => p.namespace);
    return fail(
      `not registered in subscription ${config.subscriptionId}: ${names.join(", ")}`,
      `${register(names)} (needs subscription-level rights; a resource-group Owner cannot register providers)`,
      { unregistered: names },
    );
  }
  if (registering.length > 0) {
    const names = registering.map((p) => p.namespace);
    return warn(
      `still registering: ${names.join(", ")}`,
      `wait until az provider show --namespace ${names[0]} --subscription ${config.subscriptionId} --query registrationState prints "Registered", then re-run`,
    );
  }
  const needed = requiredProviders(config);
  // Sentinel is optional content rather than a mode: without it, its namespace is not news.
  const unneeded = ALL_PROVIDERS.filter(
    (ns) =>
      !needed.includes(ns) && !(ns === "Microsoft.SecurityInsights" && config.sentinel === "off"),
  );
  return pass(
    `all ${needed.length} registered${unneeded.length > 0 ? ` (${needed.join(", ")}; this stack deploys nothing of ${unneeded.join(", ")})` : ""}`,
  );
}

/** "West Europe" → "westeurope": ARM lists display names, stacks use location names. */
export function locationName(displayName: string): string {
  return displayName.replace(/\s+/g, "").toLowerCase();
}

/** Judges whether the location offers Container Apps managed environments. Pure. */
export function judgeContainerAppsLocation(
  config: PreflightConfig,
  probes: readonly ProviderProbe[],
): Verdict {
  const app = probes.find((p) => p.namespace === "Microsoft.App");
  if (!app || app.kind === "error") {
    return fail(
      `cannot read the Microsoft.App provider: ${app && app.kind === "error" ? app.failure.message : "not probed"}`,
      `az provider show --namespace Microsoft.App --subscription ${config.subscriptionId} --query "resourceTypes[?resourceType=='managedEnvironments'].locations"`,
    );
  }
  // A scheduled collector is a Container Apps Job (Microsoft.App/jobs) in the environment.
  const types =
    config.collectorMode === "scheduled"
      ? ["managedEnvironments", "jobs"]
      : ["managedEnvironments"];
  const offered = types.map((type) =>
    (app.resourceTypes[type.toLowerCase()] ?? []).map(locationName),
  );
  const choices = offered.reduce((all, some) => all.filter((l) => some.includes(l)));
  if (choices.includes(config.location)) {
    return pass(
      `${config.location} offers Container Apps${config.collectorMode === "scheduled" ? " environments and jobs" : ""}`,
    );
  }
  const missing = types.filter((_, i) => !offered[i]!.includes(config.location));
  return fail(
    `${config.location} does not offer Container Apps ${missing.map((t) => (t === "jobs" ? "jobs" : "managed environments")).join(" or ")}`,
    `pick one of ${choices.slice(0, 12).join(", ")}${choices.length > 12 ? ", ..." : ""}: ${config.stack ? `pulumi config set auditbridge:location <location> --stack ${config.stack}` : "--location <location>"}`,
    { locations: choices },
  );
}
