import { normalizeAudience } from "./audiences";
import { type RequestContext, type Router, sendJson } from "./http";
import { bearerToken } from "./jwt";
import {
  DEFAULT_RECOVERABLE_DAYS,
  DEFAULT_RECOVERY_LEVEL,
  forbiddenByRbac,
  GET_SECRET_DATA_ACTION,
  KEY_VAULT_API_VERSION,
  KEY_VAULT_AUDIENCES,
  keyVaultChallenge,
  type SecretBundle,
  secretNotFound,
} from "./microsoft/keyVault";
import type { EmulatorState } from "./state";

/**
 * Emulated Azure Key Vault data plane: one vault at the emulator's origin, Get Secret only
 * (`GET /secrets/{name}[/{version}]?api-version=…`), with the challenge-based authentication the
 * Azure SDK's Key Vault clients perform: the first request goes without a token, the 401's
 * `WWW-Authenticate` names the login host, tenant and resource, and the client retries with a
 * token for that resource.
 * https://learn.microsoft.com/en-us/rest/api/keyvault/secrets/get-secret/get-secret
 */

/** Name the emulated vault reports in its messages. */
export const EMULATED_VAULT_NAME = "auditbridge-emulated";

/** Name under which the emulated vault holds the tenant app's client secret by default. */
export const EMULATED_CLIENT_SECRET_NAME = "audit-reader-client-secret";

const KEY_VAULT_AUDIENCE_SET: ReadonlySet<string> = new Set(
  KEY_VAULT_AUDIENCES.map(normalizeAudience),
);

/**
 * The challenge resource. The commercial audience is what a real vault answers; its host never
 * matches the emulator's, so a client verifying the challenge resource against the vault host
 * (the SDK default) refuses it, as it should for any vault outside *.vault.azure.net.
 */
const CHALLENGE_RESOURCE = KEY_VAULT_AUDIENCES[0]!;

/** A version identifier the emulator reports for every secret (32 hex digits, as Key Vault's). */
function versionOf(name: string, value: string): string {
  let hash = 0x811c9dc5;
  for (const char of `${name}\u0000${value}`) {
    hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0").repeat(4);
}

function challenge(ctx: RequestContext, state: EmulatorState, description?: string): void {
  const header = keyVaultChallenge(state.url, state.tenant.tenantId, CHALLENGE_RESOURCE);
  sendJson(
    ctx,
    401,
    {
      error: {
        code: "Unauthorized",
        message: description ?? "AKV10000: Request is missing a Bearer or PoP token.",
      },
    },
    { "WWW-Authenticate": header },
  );
}

/** Registers `GET /secrets/{name}` and `GET /secrets/{name}/{version}`. */
export function registerKeyVault(router: Router, state: EmulatorState): void {
  router.add("GET", /^\/secrets\/(?<name>[^/]+)(?:\/(?<version>[^/]*))?\/?$/, (ctx) => {
    const apiVersion = ctx.url.searchParams.get("api-version");
    if (!apiVersion || !KEY_VAULT_API_VERSION.test(apiVersion)) {
      return sendJson(ctx, 400, {
        error: {
          code: "BadParameter",
          message: apiVersion
            ? `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version.`
            : "The api-version query parameter is missing.",
        },
      });
    }
    const token = bearerToken(ctx.req.headers.authorization);
    if (!token) return challenge(ctx, state);
    const check = state.signer.verify(token, state.now());
    if (!check.ok) {
      return challenge(ctx, state, `AKV10032: Invalid token (${check.problem}).`);
    }
    if (!KEY_VAULT_AUDIENCE_SET.has(normalizeAudience(check.claims.aud))) {
      return challenge(
        ctx,
        state,
        `AKV10022: Invalid audience. Expected ${CHALLENGE_RESOURCE}, found: ${check.claims.aud}.`,
      );
    }
    if (check.claims.tid.toLowerCase() !== state.tenant.tenantId.toLowerCase()) {
      return challenge(
        ctx,
        state,
        `AKV10032: Invalid issuer. Expected one of ${state.tenant.tenantId}, found ${check.claims.tid}.`,
      );
    }
    const vault = state.knobs.keyVault;
    if (vault.forbidden) {
      return sendJson(
        ctx,
        403,
        forbiddenByRbac(
          check.claims.oid ?? check.claims.sub,
          EMULATED_VAULT_NAME,
          GET_SECRET_DATA_ACTION,
        ),
      );
    }
    const name = ctx.params.name!;
    const secret = vault.secrets[name];
    const wantedVersion = ctx.params.version ?? "";
    const version = secret ? versionOf(name, secret.value) : "";
    if (!secret || (wantedVersion !== "" && wantedVersion !== version)) {
      return sendJson(ctx, 404, secretNotFound(name));
    }
    const nowSeconds = Math.floor(state.now() / 1000);
    const bundle: SecretBundle = {
      value: secret.value,
      id: `${state.url}/secrets/${name}/${version}`,
      ...(secret.contentType ? { contentType: secret.contentType } : {}),
      attributes: {
        enabled: true,
        ...(secret.expiresAtMs !== undefined ? { exp: Math.floor(secret.expiresAtMs / 1000) } : {}),
        created: nowSeconds,
        updated: nowSeconds,
        recoveryLevel: DEFAULT_RECOVERY_LEVEL,
        recoverableDays: DEFAULT_RECOVERABLE_DAYS,
      },
    };
    return sendJson(ctx, 200, bundle);
  });
}
