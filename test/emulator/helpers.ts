import { ClientSecretCredential } from "@azure/identity";
import type { Emulator } from "../../emulator/src/index";

/** A fixed instant for tests that drive the emulator's clock. */
export const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);

/** A clock the test moves by hand. */
export function manualClock(startMs: number = T0): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
} {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    set(ms: number) {
      current = ms;
    },
  };
}

/** A credential for the emulated app, the way the collector builds one. */
export function credentialFor(
  emulator: Emulator,
  secret: string = emulator.tenant.clientSecret,
): ClientSecretCredential {
  return new ClientSecretCredential(emulator.tenant.tenantId, emulator.tenant.clientId, secret, {
    authorityHost: emulator.url,
    disableInstanceDiscovery: true,
  });
}

/** Gets a token straight from the token endpoint (no MSAL cache, so the clock and knobs apply now). */
export async function rawToken(emulator: Emulator, scope: string): Promise<string> {
  const response = await fetch(`${emulator.url}/${emulator.tenant.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: emulator.tenant.clientId,
      client_secret: emulator.tenant.clientSecret,
      scope,
    }),
  });
  if (response.status !== 200)
    throw new Error(`token request failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A Management Activity API client bound to one emulator and token. */
export function activityApi(emulator: Emulator, token: string) {
  const root = `${emulator.url}/api/v1.0/${emulator.tenant.tenantId}/activity/feed`;
  const call = async (method: string, pathAndQuery: string, body?: unknown) => {
    const url = /^https:/.test(pathAndQuery) ? pathAndQuery : `${root}${pathAndQuery}`;
    const response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json; utf-8" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: bodies differ per endpoint; each test asserts on the fields it needs
    return { status: response.status, headers: response.headers, text, json: json as any };
  };
  return {
    root,
    get: (pathAndQuery: string) => call("GET", pathAndQuery),
    post: (pathAndQuery: string, body?: unknown) => call("POST", pathAndQuery, body),
    /** Error code of an `{error:{code}}` body. */
    code: (json: unknown) => (json as { error?: { code?: string } } | undefined)?.error?.code,
  };
}

/** `YYYY-MM-DDTHH:MM:SS` as the API accepts it. */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
