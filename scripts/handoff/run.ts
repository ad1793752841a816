/**
 * The handoff itself: from a validated config to the report a SIEM's connector is filled from.
 * Only with `--reveal` does it touch the network (one Key Vault read).
 */
import type { TokenCredential } from "@azure/identity";
import { CLOUDS } from "../../domain/clouds";
import type { HandoffConfig } from "./inputs";
import { readClientSecret } from "./keyVault";
import {
  type CredentialCell,
  type HandoffContext,
  type HandoffField,
  managementScope,
  SIEMS,
  tokenUrl,
} from "./siems";

/** A secret expiring within this many days gets a warning (as verify's default expiry warning). */
export const SECRET_EXPIRY_WARNING_DAYS = 30;
const SECRET_EXPIRY_WARNING_IN_MS = SECRET_EXPIRY_WARNING_DAYS * 24 * 60 * 60 * 1000;

/** Bumped only on a breaking change to {@link HandoffReport}. */
export const HANDOFF_SCHEMA_VERSION = 1;

/** What `--json` prints; the table shows the same. The secret appears only in its field row. */
export interface HandoffReport {
  schemaVersion: typeof HANDOFF_SCHEMA_VERSION;
  siem: string;
  connector: string;
  /** Vendor pages (or source) the field names come from. */
  sources: readonly string[];
  stack: string | null;
  collector: "bundled" | "none" | null;
  tenantId: string;
  clientId: string;
  cloud: string;
  endpoints: {
    authorityHost: string;
    tokenUrl: string;
    managementEndpoint: string;
    managementScope: string;
    graphEndpoint: string;
  };
  contentTypes: readonly string[];
  publisherId: string;
  credential: {
    mode: string;
    keyVaultName: string | null;
    keyVaultUri: string | null;
    secretName: string | null;
    /** RFC 3339, when known. */
    expiresAt: string | null;
    /** The command that reads the secret once, when its location is known. */
    readCommand: string | null;
    revealed: boolean;
  };
  fields: HandoffField[];
  notes: string[];
  warnings: string[];
}

/** Options for {@link handoff}. */
export interface HandoffOptions {
  /** The caller's credential for `--reveal` (default DefaultAzureCredential). */
  credential?: TokenCredential;
  abortSignal?: AbortSignal;
  /** Clock for expiry warnings (epoch ms); default Date.now. */
  nowMs?: () => number;
}

/** The `az` command that prints the secret once. */
export function readCommandFor(config: HandoffConfig): string | null {
  const { vaultName, vaultUri, secretName } = config.secret;
  if (!secretName || !(vaultName || vaultUri)) return null;
  const verb = config.credentialMode === "certificate" ? "download" : "show";
  const tail = verb === "download" ? " --file app.pem" : " --query value -o tsv";
  const isStandardHost =
    vaultUri === null ||
    (vaultName !== null &&
      new URL(vaultUri).hostname.toLowerCase().startsWith(`${vaultName.toLowerCase()}.vault.`));
  return isStandardHost && vaultName
    ? `az keyvault secret ${verb} --vault-name ${vaultName} --name ${secretName}${tail}`
    : `az keyvault secret ${verb} --id ${vaultUri}/secrets/${secretName}${tail}`;
}

/** Builds the report; with `--reveal` reads the secret once (throws SecretReadError on refusal). */
export async function handoff(
  config: HandoffConfig,
  options: HandoffOptions = {},
): Promise<HandoffReport> {
  const nowMs = options.nowMs ?? Date.now;
  const profile = SIEMS[config.siem];
  const cloud = CLOUDS[config.cloud];
  const warnings: string[] = [];
  let expiresAt = config.secretExpiresAt;

  const command = readCommandFor(config);
  const { vaultName, vaultUri, secretName } = config.secret;
  const vault = vaultName ?? vaultUri;
  let credential: CredentialCell;
  if (!profile.needsApp || config.credentialMode === "federated") {
    credential = { mode: config.credentialMode, value: "(not needed)", note: "", revealed: false };
  } else if (config.credentialMode === "certificate") {
    credential = {
      mode: "certificate",
      value: vault ? `(certificate bundle in Key Vault ${vault})` : "(the certificate bundle)",
      note: command
        ? `PEM with certificate and key; download it: ${command}`
        : "the PEM bundle (certificate and key) the stack was given; pass --key-vault-name and --secret-name to see where it is kept",
      revealed: false,
    };
  } else if (config.reveal) {
    const read = await readClientSecret(config, {
      credential: options.credential,
      abortSignal: options.abortSignal,
    });
    expiresAt = read.expiresOn?.toISOString() ?? expiresAt;
    credential = {
      mode: "secret",
      value: read.secret.reveal(),
      note: `read once from Key Vault ${vault}; paste it now, handoff keeps no copy`,
      revealed: true,
    };
  } else {
    credential = {
      mode: "secret",
      value: vault && secretName ? `(Key Vault ${vault}, secret ${secretName})` : "(not shown)",
      note: command
        ? `read it once: ${command} (or add --reveal)`
        : "pass --key-vault-name and --secret-name (or --stack <name>) to see where it is kept",
      revealed: false,
    };
  }
  if (credential.mode === "secret" && expiresAt && profile.needsApp) {
    credential.note += `; expires ${expiresAt}`;
    const leftInMs = Date.parse(expiresAt) - nowMs();
    if (leftInMs <= 0) {
      warnings.push(
        `the client secret expired at ${expiresAt}: run pulumi up to rotate it, then hand off the new one`,
      );
    } else if (leftInMs < SECRET_EXPIRY_WARNING_IN_MS) {
      warnings.push(
        `the client secret expires at ${expiresAt}: after the stack rotates it, give the SIEM the new one`,
      );
    }
  }

  const ctx: HandoffContext = {
    tenantId: config.tenantId,
    clientId: config.clientId,
    cloud,
    contentTypes: config.contentTypes,
    publisherId: config.publisherId,
    credential,
    workspaceResourceId: config.workspaceResourceId,
  };
  const fields = profile.fields(ctx);
  if (config.collector === "bundled" && profile.needsApp) {
    warnings.push(
      "this stack's own collector already reads this tenant with the same app: a second reader splits nothing (each gets all content), and starting subscriptions that are already on is harmless",
    );
  }
  const unconfirmed = fields.filter((field) => !field.confirmed).length;
  if (unconfirmed > 0) {
    warnings.push(
      `${unconfirmed} field name${unconfirmed === 1 ? " is" : "s are"} not confirmed in ${profile.connector}'s documentation (marked *): match by meaning`,
    );
  }

  return {
    schemaVersion: HANDOFF_SCHEMA_VERSION,
    siem: config.siem,
    connector: profile.connector,
    sources: profile.sources,
    stack: config.stack,
    collector: config.collector,
    tenantId: config.tenantId,
    clientId: config.clientId,
    cloud: config.cloud,
    endpoints: {
      authorityHost: cloud.authorityHost,
      tokenUrl: tokenUrl(ctx),
      managementEndpoint: cloud.managementEndpoint,
      managementScope: managementScope(ctx),
      graphEndpoint: cloud.graphEndpoint,
    },
    contentTypes: config.contentTypes,
    publisherId: config.publisherId,
    credential: {
      mode: config.credentialMode,
      keyVaultName: vaultName,
      keyVaultUri: vaultUri,
      secretName,
      expiresAt: expiresAt ?? null,
      readCommand: profile.needsApp ? command : null,
      revealed: credential.revealed,
    },
    fields,
    notes: profile.notes(ctx),
    warnings,
  };
}
