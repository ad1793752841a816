import {
  ClientSecretCredential,
  type TokenCredential,
  UsernamePasswordCredential,
} from "@azure/identity";
import { AZURE_CLI_CLIENT_ID } from "../../emulator/src/graphDirectory";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/src/index";
import {
  DEFAULT_RESOURCE_GROUP,
  emulatedSubscriptionId,
  emulatedUser,
} from "../../emulator/src/preflightKnobs";
import { type PreflightConfig, resolvePreflightConfig } from "../../scripts/preflight/inputs";
import { preflight } from "../../scripts/preflight/main";
import type { PreflightReport } from "../../scripts/preflight/report";
import type { PreflightCheckId, PreflightCheckResult } from "../../scripts/preflight/result";

/** An emulator with a tiny Management API scenario (preflight reads none of it). */
export function startPreflightEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    seed: 23,
    ...options,
    scenario: { historyHours: 1, blobsPerHour: 1, recordsPerBlob: [1, 1], ...options.scenario },
  });
}

/** Flags pointing preflight at the emulator's tenant, subscription and endpoints. */
export function preflightFlags(emulator: Emulator, extra: string[] = []): string[] {
  return [
    "--tenant-id",
    emulator.tenant.tenantId,
    "--subscription-id",
    emulatedSubscriptionId(emulator.seed),
    "--resource-group",
    DEFAULT_RESOURCE_GROUP,
    "--location",
    "westeurope",
    "--name-prefix",
    "contoso",
    "--authority-host",
    emulator.url,
    "--arm-endpoint",
    emulator.url,
    "--graph-endpoint",
    emulator.url,
    "--timeout",
    "30",
    ...extra,
  ];
}

/** A validated config for the emulator. */
export async function preflightConfig(
  emulator: Emulator,
  extra: string[] = [],
): Promise<PreflightConfig> {
  const config = await resolvePreflightConfig(preflightFlags(emulator, extra), {});
  if (config === "help") throw new Error("unexpected help");
  return config;
}

/** The emulated app's service principal, as a CI pipeline would sign in. */
export function servicePrincipalCredential(emulator: Emulator): ClientSecretCredential {
  return new ClientSecretCredential(
    emulator.tenant.tenantId,
    emulator.tenant.clientId,
    emulator.tenant.clientSecret,
    {
      authorityHost: emulator.url,
      disableInstanceDiscovery: true,
      additionallyAllowedTenants: ["*"],
    },
  );
}

/** The emulated admin user, signing in with the Azure CLI's public client id. */
export function userCredential(emulator: Emulator): UsernamePasswordCredential {
  const user = emulatedUser(emulator.seed);
  return new UsernamePasswordCredential(
    emulator.tenant.tenantId,
    AZURE_CLI_CLIENT_ID,
    user.userPrincipalName,
    user.password,
    {
      authorityHost: emulator.url,
      disableInstanceDiscovery: true,
      additionallyAllowedTenants: ["*"],
    },
  );
}

/** Runs preflight in-process against the emulator as the service principal (or `credential`). */
export async function runAgainst(
  emulator: Emulator,
  extra: string[] = [],
  credential: TokenCredential = servicePrincipalCredential(emulator),
): Promise<PreflightReport> {
  return preflight(await preflightConfig(emulator, extra), { credential });
}

/** One check of a report, by id. */
export function check(report: PreflightReport, id: PreflightCheckId): PreflightCheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

/** The resource id of a resource in the emulated subscription. */
export function resourceId(
  emulator: Emulator,
  group: string,
  provider: string,
  type: string,
  name: string,
): string {
  return `/subscriptions/${emulatedSubscriptionId(emulator.seed)}/resourceGroups/${group}/providers/${provider}/${type}/${name}`;
}
