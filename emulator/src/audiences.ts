import { CHINA_MONITOR_AUDIENCE, EMULATED_CLOUDS } from "./microsoft/clouds";
import { KEY_VAULT_AUDIENCES as KEY_VAULT_RESOURCES } from "./microsoft/keyVault";

/**
 * Token audiences the emulated Entra ID issues tokens for, grouped by the API that accepts them.
 * Every cloud's audience is accepted so one emulator can stand in for any cloud profile.
 */

function unique(values: string[]): ReadonlySet<string> {
  return new Set(values.map(normalizeAudience));
}

const profiles = Object.values(EMULATED_CLOUDS);

/** Audiences the Management Activity API accepts: its base URL in each cloud. */
export const MANAGEMENT_AUDIENCES = unique(profiles.map((p) => p.managementEndpoint));
/** Audiences the Logs Ingestion API accepts. */
export const MONITOR_AUDIENCES = unique([
  ...profiles.map((p) => p.monitorAudience),
  CHINA_MONITOR_AUDIENCE,
]);
/** Audiences the Log Analytics query API accepts. */
export const LOG_ANALYTICS_AUDIENCES = unique(profiles.map((p) => p.logAnalyticsAudience));
/** Audiences Microsoft Graph accepts: its base URL in each cloud. */
export const GRAPH_AUDIENCES = unique(profiles.map((p) => p.graphEndpoint));
/** Audiences of a managed identity token that Entra accepts as a federated credential. */
export const TOKEN_EXCHANGE_AUDIENCES = unique(profiles.map((p) => p.tokenExchangeAudience));

/**
 * Audiences Exchange Online's admin endpoint accepts: its host in each cloud, plus the
 * outlook.office.com alias Exchange also answers to.
 */
export const EXCHANGE_AUDIENCES = unique([
  ...profiles.map((p) => p.exchangeEndpoint),
  "https://outlook.office.com",
]);

/** Audiences the Key Vault data plane accepts (the resource of its challenge in each cloud). */
export const KEY_VAULT_AUDIENCES = unique([...KEY_VAULT_RESOURCES]);

/** Every audience the token endpoint knows. */
export const KNOWN_AUDIENCES: ReadonlySet<string> = new Set([
  ...MANAGEMENT_AUDIENCES,
  ...MONITOR_AUDIENCES,
  ...LOG_ANALYTICS_AUDIENCES,
  ...GRAPH_AUDIENCES,
  ...TOKEN_EXCHANGE_AUDIENCES,
  ...EXCHANGE_AUDIENCES,
  ...KEY_VAULT_AUDIENCES,
]);

/** Audience without trailing slashes, lower-cased host part kept as given otherwise. */
export function normalizeAudience(audience: string): string {
  return audience.trim().replace(/\/+$/, "");
}
