/**
 * Access tokens for the Management Activity API: cached until shortly before they expire, one
 * request in flight at a time, and a forced renewal that skips MSAL's own cache after the API
 * rejected a token.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";

/** Tokens are renewed this long before they expire (Entra tokens live about an hour). */
export const TOKEN_REFRESH_MARGIN_IN_MS = 5 * 60_000;

/** Options for {@link TokenCache}. */
export interface TokenCacheOptions {
  credential: TokenCredential;
  /** The scope tokens are requested for, e.g. `https://manage.office.com/.default`. */
  scope: string;
  /** Clock, epoch ms. */
  nowMs?: () => number;
}

/** Options for {@link TokenCache.getToken}. */
export interface GetCachedTokenOptions {
  /** Skip every cache (ours and MSAL's): the API rejected the last token. */
  forceRefresh?: boolean;
  abortSignal?: AbortSignal;
}

/** A token source for one scope; rejects with the credential's own error. */
export class TokenCache {
  private readonly now: () => number;
  private cachedToken: AccessToken | undefined;
  private pendingToken: Promise<AccessToken> | undefined;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  /** The scope tokens are requested for. */
  get scope(): string {
    return this.options.scope;
  }

  /** A bearer token: cached until near expiry; `forceRefresh` skips every cache. */
  async getToken(options: GetCachedTokenOptions = {}): Promise<string> {
    const force = options.forceRefresh === true;
    const cached = this.cachedToken;
    if (!force && cached !== undefined && this.isFresh(cached)) {
      return cached.token;
    }
    if (force) {
      this.cachedToken = undefined;
    } else if (this.pendingToken !== undefined) {
      return (await this.pendingToken).token;
    }
    const pending = this.fetchToken(force, options.abortSignal);
    if (!force) this.pendingToken = pending;
    try {
      const token = await pending;
      this.cachedToken = token;
      return token.token;
    } finally {
      if (this.pendingToken === pending) this.pendingToken = undefined;
    }
  }

  private isFresh(token: AccessToken): boolean {
    const refreshAt = Math.min(
      token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY,
      token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_IN_MS,
    );
    return this.now() < refreshAt;
  }

  private async fetchToken(
    force: boolean,
    abortSignal: AbortSignal | undefined,
  ): Promise<AccessToken> {
    // MSAL serves client-credential tokens from its cache until they near expiry, also after
    // the API rejected one (e.g. the clock of one side is off). A claims challenge is how MSAL
    // is told to skip its cache; the claim itself (not-before now) is harmless.
    const claims = force
      ? JSON.stringify({
          access_token: { nbf: { essential: true, value: String(Math.floor(this.now() / 1000)) } },
        })
      : undefined;
    const token = await this.options.credential.getToken(this.options.scope, {
      abortSignal,
      ...(claims ? { claims } : {}),
    });
    if (token === null) {
      throw new Error(`the credential returned no token for ${this.options.scope}`);
    }
    return token;
  }
}
