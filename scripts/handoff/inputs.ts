/**
 * Inputs of `npm run handoff`: flags, a Pulumi stack's outputs and a few environment variables,
 * merged (flags > stack outputs > environment) and checked into one frozen {@link HandoffConfig}.
 *
 * The app's tenant and client id come only from flags or the stack: AZURE_TENANT_ID and
 * AZURE_CLIENT_ID in the environment belong to the caller's own credential here (the one that
 * reads Key Vault on --reveal), not to the app being handed off.
 */
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import { CLOUD_NAMES, CLOUDS, type CloudName, isMicrosoftAuthorityHost } from "../../domain/clouds";
import { CONTENT_TYPES, type ContentType, parseContentTypes } from "../../domain/contentTypes";
import { CommandInputError } from "../common/errors";
import { commanderMessage, guidFlag, httpsUrlFlag, nonEmpty } from "../common/flags";
import { pulumiStackReader, type StackOutputs, type StackReader } from "../common/stack";
import { CREDENTIAL_MODES, type CredentialMode, SIEM_IDS, type SiemId } from "./siems";

/** Bad input; main prints the one line and exits 2. */
export class HandoffInputError extends CommandInputError {
  override readonly name: string = "HandoffInputError";
}

/** Where the client secret (or certificate bundle) is kept. */
export interface SecretLocation {
  /** Vault name, when known (from the stack, the flag or the URI). */
  vaultName: string | null;
  /** Vault URI, e.g. https://kv-contoso.vault.azure.net. */
  vaultUri: string | null;
  /** Name of the Key Vault secret. */
  secretName: string | null;
}

/** Everything a handoff run needs, validated and frozen. */
export interface HandoffConfig {
  readonly stack: string | null;
  readonly siem: SiemId;
  readonly tenantId: string;
  readonly clientId: string;
  readonly cloud: CloudName;
  readonly contentTypes: readonly ContentType[];
  readonly publisherId: string;
  /** `bundled` or `none` as the stack reports it; null without a stack (or an older one). */
  readonly collector: "bundled" | "none" | null;
  readonly credentialMode: CredentialMode;
  readonly secret: SecretLocation;
  /** When the credential expires (RFC 3339), when the stack says. */
  readonly secretExpiresAt: string | null;
  readonly workspaceResourceId: string | null;
  /** Read the secret once from Key Vault and print it. */
  readonly reveal: boolean;
  readonly json: boolean;
  /** Login host of the caller's own credential (Key Vault reads). */
  readonly authorityHost: string;
  readonly disableInstanceDiscovery: boolean;
}

interface RawFlags {
  stack?: string;
  siem?: string;
  tenantId?: string;
  clientId?: string;
  cloud?: string;
  contentTypes?: string;
  publisherId?: string;
  keyVaultName?: string;
  keyVaultUri?: string;
  secretName?: string;
  credentialMode?: string;
  authorityHost?: string;
  reveal?: boolean;
  json?: boolean;
}

const EXAMPLE = `Example:
  npm run handoff -- --stack contoso --siem splunk
  npm run handoff -- --stack contoso --siem qradar --reveal
  npm run handoff -- --siem elastic --tenant-id <guid> --client-id <guid> --cloud gcchigh \\
    --key-vault-name kv-contoso --secret-name audit-reader-client-secret --json

`;

const AFTER_HELP = `
Prints the values the SIEM's own Office 365 connector asks for, under its field names. The client
secret stays in Key Vault unless --reveal is given; --reveal reads it once with your own Azure
credential (az login, or AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID), which needs the
Key Vault Secrets User role on the secret. Exit codes: 0 done, 1 failure, 2 bad input.
`;

function buildProgram(): Command {
  const program = new Command("handoff")
    .description(
      "Print the values a SIEM's own Office 365 connector needs to read this tenant's audit log.",
    )
    .addOption(
      new Option("--siem <name>", "the SIEM whose connector you configure (required)").choices([
        ...SIEM_IDS,
      ]),
    )
    .option(
      "--stack <name>",
      "read the values from this Pulumi stack's outputs (needs the pulumi CLI)",
    )
    .option("--tenant-id <guid>", "Microsoft 365 tenant id")
    .option("--client-id <guid>", "the app registration's client id")
    .addOption(
      new Option("--cloud <name>", "Microsoft 365 cloud (env O365_CLOUD)").choices([
        ...CLOUD_NAMES,
      ]),
    )
    .option("--content-types <list>", "comma list of content types (env O365_CONTENT_TYPES)")
    .option("--publisher-id <guid>", "PublisherIdentifier (env O365_PUBLISHER_ID; default tenant)")
    .option("--key-vault-name <name>", "the Key Vault holding the client secret")
    .option("--key-vault-uri <url>", "its URI, when not https://<name>.vault.azure.net")
    .option("--secret-name <name>", "the Key Vault secret holding the client secret")
    .addOption(
      new Option("--credential-mode <mode>", "how the app signs in (default secret)").choices([
        ...CREDENTIAL_MODES,
      ]),
    )
    .option(
      "--authority-host <url>",
      "login host of your own credential for --reveal (env AZURE_AUTHORITY_HOST)",
    )
    .option("--reveal", "read the client secret once from Key Vault and print it")
    .option("--json", "print JSON instead of the table");
  program.exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return program;
}

/** `--help` text, starting with an example. */
export function helpText(): string {
  return `${EXAMPLE}${buildProgram().helpInformation()}${AFTER_HELP}`;
}

/** Flags that must never carry a secret (it would land in shell history). */
const SECRET_FLAG = /^--(client-secret|secret|password)(=|$)/i;

function parseFlags(argv: readonly string[]): RawFlags | "help" {
  const secretFlag = argv.find((arg) => SECRET_FLAG.test(arg));
  if (secretFlag) {
    throw new HandoffInputError(
      `${secretFlag.split("=")[0]} is not accepted: handoff reads the secret from Key Vault (--reveal), never from a flag`,
    );
  }
  const program = buildProgram();
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help") {
        return "help";
      }
      const flag = /'(--[a-z-]+)/.exec(error.message)?.[1];
      if (error.code === "commander.invalidArgument" && flag && flag !== "--cloud") {
        const choices = flag === "--siem" ? SIEM_IDS : CREDENTIAL_MODES;
        throw new HandoffInputError(`${flag}: must be one of ${choices.join(", ")}`);
      }
      throw new HandoffInputError(commanderMessage(error, "handoff"));
    }
    throw error;
  }
  return program.opts<RawFlags>();
}

/** Key Vault names: 3-24 letters, digits and dashes, starting with a letter. */
const VAULT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
/** Key Vault secret names: 1-127 letters, digits and dashes. */
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/**
 * DNS suffix of Key Vault per Microsoft 365 cloud, for a vault given by name only: GCC tenants
 * deploy in commercial Azure, GCC High and DoD ones in Azure Government.
 * https://learn.microsoft.com/en-us/azure/azure-government/compare-azure-government-global-azure
 */
const VAULT_SUFFIX: Readonly<Record<CloudName, string>> = {
  commercial: "vault.azure.net",
  gcc: "vault.azure.net",
  gcchigh: "vault.usgovcloudapi.net",
  dod: "vault.usgovcloudapi.net",
};

const mergedSchema = z.object({
  tenantId: guidFlag("--tenant-id", "the Microsoft 365 tenant id"),
  clientId: guidFlag("--client-id", "the app registration's client id"),
  publisherId: guidFlag("--publisher-id", "the publisher's tenant id").optional(),
  cloud: z
    .enum(CLOUD_NAMES, { message: `--cloud: must be one of ${CLOUD_NAMES.join(", ")}` })
    .optional(),
  credentialMode: z
    .enum(CREDENTIAL_MODES, {
      message: `--credential-mode: must be one of ${CREDENTIAL_MODES.join(", ")}`,
    })
    .optional(),
  keyVaultName: z
    .string()
    .regex(
      VAULT_NAME,
      "--key-vault-name: must be 3-24 letters, digits and dashes, starting with a letter",
    )
    .optional(),
  keyVaultUri: httpsUrlFlag("--key-vault-uri").optional(),
  secretName: z
    .string()
    .regex(SECRET_NAME, "--secret-name: must be 1-127 letters, digits and dashes")
    .optional(),
  authorityHost: httpsUrlFlag("--authority-host").optional(),
});

/** Options for {@link resolveHandoffConfig}. */
export interface ResolveOptions {
  /** Reads `--stack` outputs; defaults to the `pulumi` CLI on PATH. */
  stackReader?: StackReader;
}

/**
 * Turns argv + environment (+ stack outputs with `--stack`) into a validated config, or "help".
 * Throws {@link HandoffInputError} (or the stack reader's CommandInputError) on bad input.
 */
export async function resolveHandoffConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveOptions = {},
): Promise<HandoffConfig | "help"> {
  const flags = parseFlags(argv);
  if (flags === "help") return "help";
  if (!flags.siem) {
    throw new HandoffInputError(`--siem is required: one of ${SIEM_IDS.join(", ")}`);
  }
  const siem = flags.siem as SiemId;
  const outputs: StackOutputs = flags.stack
    ? await (options.stackReader ?? pulumiStackReader()).outputs(flags.stack)
    : { hasClientSecret: false };

  const pick = (flag: string | undefined, stack: string | undefined, envName?: string) =>
    nonEmpty(flag) ?? nonEmpty(stack) ?? (envName ? nonEmpty(env[envName]) : undefined);

  const merged = {
    tenantId: pick(flags.tenantId, outputs.tenantId),
    clientId: pick(flags.clientId, outputs.clientId),
    publisherId: pick(flags.publisherId, outputs.publisherId, "O365_PUBLISHER_ID"),
    cloud: pick(flags.cloud, outputs.cloud, "O365_CLOUD"),
    credentialMode: pick(flags.credentialMode, outputs.credentialMode),
    keyVaultName: pick(flags.keyVaultName, outputs.keyVaultName),
    keyVaultUri: pick(flags.keyVaultUri, outputs.keyVaultUri),
    // Stacks older than the credentialSecretName output name the client secret only.
    secretName: pick(
      flags.secretName,
      nonEmpty(outputs.credentialSecretName) ?? outputs.clientSecretName,
    ),
    authorityHost: pick(flags.authorityHost, undefined, "AZURE_AUTHORITY_HOST"),
  };
  const via = "pass it or use --stack <name>";
  if (!merged.tenantId) throw new HandoffInputError(`missing --tenant-id: ${via}`);
  if (!merged.clientId && siem !== "sentinel") {
    throw new HandoffInputError(`missing --client-id: ${via}`);
  }
  const parsed = mergedSchema.safeParse({
    ...merged,
    // Sentinel's connector needs no app; a placeholder keeps one schema for all SIEMs.
    clientId: merged.clientId ?? "00000000-0000-0000-0000-000000000000",
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const fromStack = flags.stack && issue?.path[0] !== undefined;
    throw new HandoffInputError(
      `${issue?.message ?? "invalid input"}${fromStack ? ` (check the flag, or the stack's ${String(issue?.path[0])} output)` : ""}`,
    );
  }
  const v = parsed.data;

  const contentTypesText = pick(flags.contentTypes, outputs.contentTypes, "O365_CONTENT_TYPES");
  let contentTypes: readonly ContentType[] = [...CONTENT_TYPES];
  if (contentTypesText) {
    const result = parseContentTypes(contentTypesText);
    if (!result.ok) throw new HandoffInputError(`--content-types: ${result.problem}`);
    contentTypes = result.value;
  }

  const collector = nonEmpty(outputs.collector);
  if (collector !== undefined && collector !== "bundled" && collector !== "none") {
    throw new HandoffInputError(
      `--stack ${flags.stack}: the collector output is "${collector}", expected bundled or none; upgrade AuditBridge`,
    );
  }
  const credentialMode: CredentialMode = v.credentialMode ?? "secret";
  if (credentialMode === "federated" && siem !== "sentinel") {
    throw new HandoffInputError(
      collector === "none"
        ? "credentialMode federated cannot work with collector none (keyless sign-in needs the collector's managed identity): set credentialMode secret and run pulumi up"
        : "the app is keyless (credentialMode federated): a SIEM's connector signs in with a client secret or certificate, so set credentialMode secret on the stack and run pulumi up",
    );
  }

  const cloud: CloudName = v.cloud ?? "commercial";
  let vaultName = v.keyVaultName ?? null;
  let vaultUri = v.keyVaultUri ?? null;
  if (vaultUri && !vaultName) {
    // A vault's own host starts with its name; a private alias or the emulator's does not.
    const host = new URL(vaultUri).hostname.toLowerCase();
    vaultName = /\.vault\./.test(host) ? (host.split(".")[0] ?? null) : null;
  }
  if (vaultName && !vaultUri) vaultUri = `https://${vaultName}.${VAULT_SUFFIX[cloud]}`;
  const secret: SecretLocation = { vaultName, vaultUri, secretName: v.secretName ?? null };

  const reveal = flags.reveal === true;
  if (reveal) {
    if (siem === "sentinel") {
      throw new HandoffInputError(
        "--reveal: Microsoft Sentinel's built-in connector needs no secret; drop --reveal",
      );
    }
    if (credentialMode === "certificate") {
      throw new HandoffInputError(
        `--reveal prints a client secret, and this app signs in with a certificate: download the PEM bundle with az keyvault secret download --vault-name ${vaultName ?? "<vault>"} --name ${secret.secretName ?? "<secret>"} --file app.pem`,
      );
    }
    if (!vaultUri || !secret.secretName) {
      throw new HandoffInputError(
        "--reveal needs to know where the secret is: pass --key-vault-name (or --key-vault-uri) and --secret-name, or use --stack <name>",
      );
    }
  }

  const authorityHost = (v.authorityHost ?? CLOUDS[cloud].authorityHost).replace(/\/+$/, "");
  return Object.freeze({
    stack: flags.stack ?? null,
    siem,
    tenantId: v.tenantId,
    clientId: merged.clientId ? v.clientId : "",
    cloud,
    contentTypes: Object.freeze([...contentTypes]),
    publisherId: v.publisherId ?? v.tenantId,
    collector: collector ?? null,
    credentialMode,
    secret: Object.freeze(secret),
    secretExpiresAt: nonEmpty(outputs.secretExpiresAt) ?? null,
    workspaceResourceId: nonEmpty(outputs.workspaceResourceId) ?? null,
    reveal,
    json: flags.json === true,
    authorityHost,
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(authorityHost),
  });
}
