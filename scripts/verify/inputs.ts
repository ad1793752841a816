/**
 * Inputs of `npm run verify`: command-line flags, a Pulumi stack's outputs and a few environment
 * variables, merged (flags > stack outputs > environment) and validated into one frozen
 * {@link VerifyConfig}. This is the only verify module that reads `process.env`-style input.
 */
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import {
  ARM_ENDPOINTS,
  CLOUD_NAMES,
  CLOUDS,
  type CloudName,
  isMicrosoftAuthorityHost,
} from "../../domain/clouds";
import { CONTENT_TYPES, type ContentType } from "../../domain/contentTypes";
import { DEFAULT_TABLE_PLAN, TABLE_PLANS, type TablePlan } from "../../domain/table";
import { isGuid } from "../../domain/validators";
import { CommandInputError } from "../common/errors";
import { commanderMessage, guidFlag, httpsUrlFlag, integerFlag, nonEmpty } from "../common/flags";
import { Secret } from "../common/secret";
import { pulumiStackReader, type StackOutputs, type StackReader } from "../common/stack";

/** Default for `--since`: hours of workspace rows check 7 looks at. */
export const DEFAULT_SINCE_HOURS = 24;
/** Default for `--expiry-warn-days`: warn when the app's credential expires within this many days. */
export const DEFAULT_EXPIRY_WARN_DAYS = 30;
/** Bad input: main.ts prints the one-line message and exits with code 2. */
export class VerifyInputError extends CommandInputError {
  override readonly name = "VerifyInputError";
}

/**
 * Type guard for verify's bad input: {@link VerifyInputError}, and the shared `--stack`
 * reader's {@link CommandInputError}, which main.ts treats the same way.
 */
export function isVerifyInputError(error: unknown): error is CommandInputError {
  return error instanceof CommandInputError;
}

/** Default for `--timeout`: the whole run (all checks) must finish within this many seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** How the app (the collector's identity) authenticates. */
export type AppCredentialSpec =
  | { kind: "secret"; secret: Secret }
  | { kind: "certificate"; certificatePath: string };

/**
 * Which identity reads Graph and the workspace:
 * - `verify-env`: AZURE_VERIFY_CLIENT_ID + AZURE_VERIFY_CLIENT_SECRET (+ AZURE_VERIFY_TENANT_ID);
 * - `app`: the app's own credential (chosen when the authority host is not Microsoft's, i.e. an
 *   emulator or a private endpoint, where the developer credential chain cannot sign in);
 * - `default`: `DefaultAzureCredential` (Azure CLI, environment, managed identity, ...).
 */
export type CallerCredentialSpec =
  | { kind: "verify-env"; tenantId: string; clientId: string; secret: Secret }
  | { kind: "app" }
  | { kind: "default" };

/** Where records go, as verify adapts check 7 to it (stack output `sinks`, flag `--sinks`). */
export const DELIVERY_SINKS = ["logs-ingestion", "syslog", "splunk-hec"] as const;
export type DeliverySink = (typeof DELIVERY_SINKS)[number];

/** A Container Apps Job, by resource group and name, in a subscription. */
export interface JobRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/**
 * The collector verify checks, and how (stack outputs `collector`, `collectorMode`, `sinks`,
 * `collectorJobName`, `resourceGroupName`, `azureSubscriptionId`; or the flags):
 * - `none`: bring your own SIEM, no collector of ours: no /healthz or workspace check;
 * - `always-on`: a Container App with /healthz;
 * - `scheduled`: a Container Apps Job without an endpoint; its executions are read from ARM
 *   (`job` is null when the job is not known, and check 7 says which flags name it).
 */
export type CollectorSetup =
  | { kind: "none" }
  | { kind: "always-on"; sinks: readonly DeliverySink[] }
  | { kind: "scheduled"; sinks: readonly DeliverySink[]; job: JobRef | null };

/** Everything a verify run needs, validated and frozen. */
export interface VerifyConfig {
  readonly stack: string | null;
  readonly tenantId: string;
  readonly clientId: string;
  readonly publisherId: string;
  readonly appCredential: AppCredentialSpec;
  readonly callerCredential: CallerCredentialSpec;
  readonly workspaceId: string | null;
  /** The audit table's plan: a Basic table is queried through the /search API. */
  readonly tablePlan: TablePlan;
  readonly contentTypes: readonly ContentType[];
  readonly cloud: CloudName;
  /** Entra ID login host, e.g. https://login.microsoftonline.com. */
  readonly authorityHost: string;
  /** True when the authority host is not one of Microsoft's (MSAL instance discovery is off). */
  readonly disableInstanceDiscovery: boolean;
  readonly managementEndpoint: string;
  readonly managementAudience: string;
  readonly graphEndpoint: string;
  readonly graphAudience: string;
  /** Exchange Online's admin endpoint, where check 4 reads `Get-AdminAuditLogConfig`. */
  readonly exchangeEndpoint: string;
  /** Token audience for it: the cloud's Exchange host, also when the endpoint is overridden. */
  readonly exchangeAudience: string;
  /**
   * Whether check 4 tries to read the switch itself. False when the login host is not
   * Microsoft's and no Exchange endpoint was given: a token from that host is good for no real
   * Exchange Online, so check 4 goes straight to the Management API's answer and says why.
   */
  readonly readAuditSwitch: boolean;
  /** Log Analytics query API base without the version, e.g. https://api.loganalytics.io. */
  readonly logAnalyticsEndpoint: string;
  readonly logAnalyticsAudience: string;
  readonly healthzUrl: string | null;
  /** The collector and its sinks: what check 7 looks at. */
  readonly collector: CollectorSetup;
  /** Azure Resource Manager base URL (a scheduled job's executions). */
  readonly armEndpoint: string;
  /** Scope of ARM tokens: `<armEndpoint>/.default`. */
  readonly armScope: string;
  readonly sinceHours: number;
  readonly expiryWarnDays: number;
  readonly rotationDays: number | null;
  readonly json: boolean;
  readonly timeoutInMs: number;
}

/** Flags as commander hands them over (all optional strings until validated). */
interface RawFlags {
  stack?: string;
  tenantId?: string;
  clientId?: string;
  publisherId?: string;
  certificatePath?: string;
  workspaceId?: string;
  tablePlan?: string;
  contentTypes?: string;
  cloud?: string;
  authorityHost?: string;
  managementEndpoint?: string;
  graphEndpoint?: string;
  exchangeEndpoint?: string;
  logAnalyticsEndpoint?: string;
  healthzUrl?: string;
  collectorMode?: string;
  sinks?: string;
  jobName?: string;
  resourceGroup?: string;
  subscriptionId?: string;
  armEndpoint?: string;
  since?: string;
  expiryWarnDays?: string;
  rotationDays?: string;
  json?: boolean;
  timeout?: string;
}

/** Builds the commander program; `--help` starts with an example, as every AuditBridge CLI does. */
export function buildProgram(): Command {
  const program = new Command("verify")
    .description(
      "Prove a tenant's AuditBridge pipeline works end to end: token, consent, credential expiry, " +
        "unified audit logging, subscriptions, content, workspace rows, service health.",
    )
    .addHelpText(
      "beforeAll",
      "Example:\n  npm run verify -- --stack contoso\n" +
        "  AZURE_CLIENT_SECRET=... npm run verify -- --tenant-id <guid> --client-id <guid> --workspace-id <guid> --json\n",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 all checks pass, 1 any check fails, 3 only warnings, 2 bad input.\n" +
        "The client secret is read from AZURE_CLIENT_SECRET (never from a flag).",
    )
    .option("--stack <name>", "read inputs from this Pulumi stack's outputs (needs the pulumi CLI)")
    .option("--tenant-id <guid>", "Microsoft 365 tenant id (env AZURE_TENANT_ID)")
    .option("--client-id <guid>", "the app registration's client id (env AZURE_CLIENT_ID)")
    .option(
      "--certificate-path <file>",
      "PEM with certificate and key, instead of AZURE_CLIENT_SECRET (env AZURE_CLIENT_CERTIFICATE_PATH)",
    )
    .option("--publisher-id <guid>", "PublisherIdentifier (env O365_PUBLISHER_ID; default tenant)")
    .option("--workspace-id <guid>", "Log Analytics workspace id (customer id) for check 7")
    .option(
      "--table-plan <plan>",
      "the audit table's plan, Analytics or Basic (default Analytics; --stack reads it)",
    )
    .option("--content-types <list>", "comma list of content types (env O365_CONTENT_TYPES)")
    .addOption(
      new Option("--cloud <name>", "Microsoft 365 cloud (env O365_CLOUD)").choices([
        ...CLOUD_NAMES,
      ]),
    )
    .option("--authority-host <url>", "Entra ID login host override (env AZURE_AUTHORITY_HOST)")
    .option(
      "--management-endpoint <url>",
      "Management Activity API base URL override (env O365_MANAGEMENT_ENDPOINT)",
    )
    .option("--graph-endpoint <url>", "Microsoft Graph base URL override")
    .option(
      "--exchange-endpoint <url>",
      "Exchange Online admin endpoint override, where check 4 reads the audit switch (env EXCHANGE_ADMIN_ENDPOINT)",
    )
    .option("--log-analytics-endpoint <url>", "Log Analytics query API base URL override")
    .option("--healthz-url <url>", "the collector's /healthz URL, checked when given")
    .addOption(
      new Option(
        "--collector-mode <mode>",
        "how the collector runs: always-on (/healthz), scheduled (a Container Apps Job) or none (your own SIEM collects); default from the stack, else always-on",
      ).choices(["always-on", "scheduled", "none"]),
    )
    .option(
      "--sinks <list>",
      `comma list of where records go: ${DELIVERY_SINKS.join(", ")} (default from the stack, else logs-ingestion)`,
    )
    .option(
      "--job-name <name>",
      "scheduled mode: the Container Apps Job (stack output collectorJobName)",
    )
    .option("--resource-group <name>", "scheduled mode: the job's resource group")
    .option(
      "--subscription-id <guid>",
      "scheduled mode: the job's subscription (env AZURE_SUBSCRIPTION_ID)",
    )
    .option(
      "--arm-endpoint <url>",
      "Azure Resource Manager base URL override (env AZURE_RESOURCE_MANAGER_ENDPOINT)",
    )
    .option(
      "--since <hours>",
      `hours of workspace rows to look at (default ${DEFAULT_SINCE_HOURS})`,
    )
    .option(
      "--expiry-warn-days <days>",
      `warn when the credential expires within this many days (default ${DEFAULT_EXPIRY_WARN_DAYS})`,
    )
    .option("--rotation-days <days>", "secret rotation period; fail when it expires before then")
    .option("--json", "print a JSON report instead of the table")
    .option("--timeout <seconds>", `bound for the whole run (default ${DEFAULT_TIMEOUT_SECONDS})`);
  program.exitOverride();
  program.configureOutput({
    // Commander's own error text may echo a whole `--flag=value` token; main.ts prints our
    // sanitised message instead, so swallow commander's copy.
    writeErr: () => {},
  });
  return program;
}

/** Flags that must never take a secret on the command line (it would land in shell history). */
const SECRET_FLAG = /^--(client-secret|secret|password)(=|$)/i;

/**
 * Parses argv (without the node and script entries) into raw flags. Throws
 * {@link VerifyInputError} with a one-line message naming the flag; never echoes a value that
 * could be a secret.
 */
export function parseFlags(argv: readonly string[]): RawFlags | "help" {
  const secretFlag = argv.find((arg) => SECRET_FLAG.test(arg));
  if (secretFlag) {
    const name = secretFlag.split("=")[0];
    throw new VerifyInputError(
      `${name} is not accepted: put the client secret in the AZURE_CLIENT_SECRET environment variable`,
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
      throw new VerifyInputError(commanderMessage(error, "verify"));
    }
    throw error;
  }
  return program.opts<RawFlags>();
}

/** Help text for `--help` (commander writes it through our configured output). */
export function helpText(): string {
  return buildProgram().helpInformation();
}

const contentTypesSchema = z.string().transform((value, ctx) => {
  const list = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const known = new Map(CONTENT_TYPES.map((ct) => [ct.toLowerCase(), ct] as const));
  const out: ContentType[] = [];
  for (const item of list) {
    const match = known.get(item.toLowerCase());
    if (!match) {
      ctx.addIssue({
        code: "custom",
        message: `--content-types: unknown content type "${item}" (valid: ${CONTENT_TYPES.join(", ")})`,
      });
      return z.NEVER;
    }
    if (!out.includes(match)) out.push(match);
  }
  if (out.length === 0) {
    ctx.addIssue({ code: "custom", message: "--content-types: list at least one content type" });
    return z.NEVER;
  }
  return out;
});

/** Validation of the merged (string) inputs; each message starts with the flag to fix. */
const mergedSchema = z.object({
  tenantId: guidFlag("--tenant-id", "the Microsoft 365 tenant id"),
  clientId: guidFlag("--client-id", "the app registration's client id"),
  publisherId: guidFlag("--publisher-id", "the publisher's tenant id").optional(),
  certificatePath: z.string().min(1, "--certificate-path: must not be empty").optional(),
  workspaceId: guidFlag("--workspace-id", "the Log Analytics workspace (customer) id").optional(),
  tablePlan: z
    .string()
    .transform((value, ctx) => {
      const plan = TABLE_PLANS.find((p) => p.toLowerCase() === value.toLowerCase());
      if (plan) return plan;
      ctx.addIssue({
        code: "custom",
        message: `--table-plan: must be ${TABLE_PLANS.join(" or ")}`,
      });
      return z.NEVER;
    })
    .optional(),
  contentTypes: contentTypesSchema.optional(),
  cloud: z
    .enum(CLOUD_NAMES, { message: `--cloud: must be one of ${CLOUD_NAMES.join(", ")}` })
    .optional(),
  authorityHost: httpsUrlFlag("--authority-host").optional(),
  managementEndpoint: httpsUrlFlag("--management-endpoint").optional(),
  graphEndpoint: httpsUrlFlag("--graph-endpoint").optional(),
  exchangeEndpoint: httpsUrlFlag("--exchange-endpoint").optional(),
  logAnalyticsEndpoint: httpsUrlFlag("--log-analytics-endpoint").optional(),
  healthzUrl: z
    .string()
    .refine((value) => {
      try {
        return ["http:", "https:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, "--healthz-url: must be an http:// or https:// URL")
    .optional(),
  collectorMode: z.enum(["always-on", "scheduled", "none"]).optional(),
  sinks: z
    .string()
    .transform((value, ctx) => {
      const list = [
        ...new Set(
          value
            .split(",")
            .map((item) => item.trim().toLowerCase())
            .filter((item) => item !== ""),
        ),
      ];
      const unknown = list.filter((item) => !(DELIVERY_SINKS as readonly string[]).includes(item));
      if (list.length === 0 || unknown.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `--sinks: must be a comma list of ${DELIVERY_SINKS.join(", ")}${unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""}`,
        });
        return z.NEVER;
      }
      return list as DeliverySink[];
    })
    .optional(),
  jobName: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      "--job-name: must be a Container Apps Job name (lowercase letters, digits and -, 2-32 characters)",
    )
    .optional(),
  resourceGroup: z
    .string()
    .regex(
      /^[-\w.()]{0,89}[-\w()]$/u,
      "--resource-group: must be 1-90 letters, digits, '-', '_', '.', '(' or ')' and not end in '.'",
    )
    .optional(),
  subscriptionId: guidFlag("--subscription-id", "the Azure subscription id").optional(),
  armEndpoint: httpsUrlFlag("--arm-endpoint").optional(),
  since: integerFlag("--since", 1, 720).optional(),
  expiryWarnDays: integerFlag("--expiry-warn-days", 0, 3650).optional(),
  rotationDays: integerFlag("--rotation-days", 1, 3650).optional(),
  timeout: integerFlag("--timeout", 1, 3600).optional(),
});

/** Options for {@link resolveVerifyConfig}. */
export interface ResolveOptions {
  /** Reads `--stack` outputs; defaults to the `pulumi` CLI on PATH. */
  stackReader?: StackReader;
}

/**
 * Turns argv + environment (+ stack outputs when `--stack` is given) into a validated config.
 * Returns "help" when `--help` was asked for. Throws {@link VerifyInputError} for bad input.
 */
export async function resolveVerifyConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveOptions = {},
): Promise<VerifyConfig | "help"> {
  const flags = parseFlags(argv);
  if (flags === "help") return "help";
  const reader = options.stackReader ?? pulumiStackReader();
  const stackOutputs: StackOutputs = flags.stack
    ? await reader.outputs(flags.stack)
    : { hasClientSecret: false };

  const pick = (flag: string | undefined, stack: string | undefined, envName?: string) =>
    nonEmpty(flag) ?? nonEmpty(stack) ?? (envName ? nonEmpty(env[envName]) : undefined);

  const merged = {
    tenantId: pick(flags.tenantId, stackOutputs.tenantId, "AZURE_TENANT_ID"),
    clientId: pick(flags.clientId, stackOutputs.clientId, "AZURE_CLIENT_ID"),
    publisherId: pick(flags.publisherId, stackOutputs.publisherId, "O365_PUBLISHER_ID"),
    certificatePath: pick(flags.certificatePath, undefined, "AZURE_CLIENT_CERTIFICATE_PATH"),
    workspaceId: pick(flags.workspaceId, stackOutputs.workspaceId),
    tablePlan: pick(flags.tablePlan, stackOutputs.tablePlan),
    contentTypes: pick(flags.contentTypes, stackOutputs.contentTypes, "O365_CONTENT_TYPES"),
    cloud: pick(flags.cloud, stackOutputs.cloud, "O365_CLOUD"),
    authorityHost: pick(flags.authorityHost, stackOutputs.authorityHost, "AZURE_AUTHORITY_HOST"),
    managementEndpoint: pick(
      flags.managementEndpoint,
      stackOutputs.managementEndpoint,
      "O365_MANAGEMENT_ENDPOINT",
    ),
    graphEndpoint: pick(flags.graphEndpoint, undefined),
    exchangeEndpoint: pick(flags.exchangeEndpoint, undefined, "EXCHANGE_ADMIN_ENDPOINT"),
    logAnalyticsEndpoint: pick(flags.logAnalyticsEndpoint, undefined),
    healthzUrl: pick(flags.healthzUrl, stackOutputs.healthzUrl),
    collectorMode: pick(
      flags.collectorMode,
      stackOutputs.collector === "none" ? "none" : stackOutputs.collectorMode,
    ),
    sinks: pick(flags.sinks, stackOutputs.sinks),
    jobName: pick(flags.jobName, stackOutputs.collectorJobName),
    resourceGroup: pick(flags.resourceGroup, stackOutputs.resourceGroupName),
    subscriptionId: pick(
      flags.subscriptionId,
      stackOutputs.azureSubscriptionId,
      "AZURE_SUBSCRIPTION_ID",
    ),
    armEndpoint: pick(flags.armEndpoint, undefined, "AZURE_RESOURCE_MANAGER_ENDPOINT"),
    since: pick(flags.since, undefined),
    expiryWarnDays: pick(flags.expiryWarnDays, undefined),
    rotationDays: pick(flags.rotationDays, stackOutputs.rotationDays),
    timeout: pick(flags.timeout, undefined),
  };

  if (!merged.tenantId) {
    throw new VerifyInputError(
      "missing --tenant-id: pass it, set AZURE_TENANT_ID, or use --stack <name>",
    );
  }
  if (!merged.clientId) {
    throw new VerifyInputError(
      "missing --client-id: pass it, set AZURE_CLIENT_ID, or use --stack <name>",
    );
  }
  const parsed = mergedSchema.safeParse(merged);
  if (!parsed.success) {
    throw new VerifyInputError(parsed.error.issues[0]?.message ?? "invalid input");
  }
  const v = parsed.data;

  const envSecret = nonEmpty(env.AZURE_CLIENT_SECRET);
  let appCredential: AppCredentialSpec;
  if (v.certificatePath) {
    appCredential = { kind: "certificate", certificatePath: v.certificatePath };
  } else if (envSecret) {
    appCredential = { kind: "secret", secret: new Secret(envSecret) };
  } else if (flags.stack && stackOutputs.hasClientSecret) {
    appCredential = { kind: "secret", secret: await reader.clientSecret(flags.stack) };
  } else {
    throw new VerifyInputError(
      "missing app credential: set AZURE_CLIENT_SECRET or pass --certificate-path <pem>",
    );
  }

  const cloud: CloudName = v.cloud ?? "commercial";
  const profile = CLOUDS[cloud];
  const authorityHost = v.authorityHost ?? profile.authorityHost;
  const disableInstanceDiscovery = !isMicrosoftAuthorityHost(authorityHost);

  const callerCredential = resolveCallerCredential(env, v.tenantId, disableInstanceDiscovery);
  const armEndpoint = (v.armEndpoint ?? ARM_ENDPOINTS[cloud]).replace(/\/+$/, "");
  const sinks: readonly DeliverySink[] = Object.freeze(v.sinks ?? ["logs-ingestion"]);
  const collector: CollectorSetup =
    v.collectorMode === "none"
      ? { kind: "none" }
      : v.collectorMode === "scheduled"
        ? {
            kind: "scheduled",
            sinks,
            job:
              v.jobName && v.resourceGroup && v.subscriptionId
                ? {
                    subscriptionId: v.subscriptionId,
                    resourceGroup: v.resourceGroup,
                    name: v.jobName,
                  }
                : null,
          }
        : { kind: "always-on", sinks };

  return Object.freeze({
    stack: flags.stack ?? null,
    tenantId: v.tenantId,
    clientId: v.clientId,
    publisherId: v.publisherId ?? v.tenantId,
    appCredential,
    callerCredential,
    workspaceId: v.workspaceId ?? null,
    tablePlan: v.tablePlan ?? DEFAULT_TABLE_PLAN,
    contentTypes: Object.freeze(v.contentTypes ?? [...CONTENT_TYPES]),
    cloud,
    authorityHost: authorityHost.replace(/\/+$/, ""),
    disableInstanceDiscovery,
    managementEndpoint: v.managementEndpoint ?? profile.managementEndpoint,
    managementAudience: profile.managementAudience,
    graphEndpoint: v.graphEndpoint ?? profile.graphEndpoint,
    graphAudience: profile.graphEndpoint,
    exchangeEndpoint: v.exchangeEndpoint ?? profile.exchangeEndpoint,
    exchangeAudience: profile.exchangeEndpoint,
    readAuditSwitch: v.exchangeEndpoint !== undefined || !disableInstanceDiscovery,
    logAnalyticsEndpoint: (
      v.logAnalyticsEndpoint ?? `https://${new URL(profile.logAnalyticsAudience).host}`
    ).replace(/\/v1$/, ""),
    logAnalyticsAudience: profile.logAnalyticsAudience,
    healthzUrl: v.healthzUrl ?? null,
    collector: Object.freeze(collector),
    armEndpoint,
    armScope: `${armEndpoint}/.default`,
    sinceHours: v.since ?? DEFAULT_SINCE_HOURS,
    expiryWarnDays: v.expiryWarnDays ?? DEFAULT_EXPIRY_WARN_DAYS,
    rotationDays: v.rotationDays ?? null,
    json: flags.json === true,
    timeoutInMs: (v.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
  });
}

function resolveCallerCredential(
  env: Readonly<Record<string, string | undefined>>,
  tenantId: string,
  customAuthority: boolean,
): CallerCredentialSpec {
  const clientId = nonEmpty(env.AZURE_VERIFY_CLIENT_ID);
  const secret = nonEmpty(env.AZURE_VERIFY_CLIENT_SECRET);
  if (clientId || secret) {
    if (!clientId || !secret) {
      throw new VerifyInputError(
        "AZURE_VERIFY_CLIENT_ID and AZURE_VERIFY_CLIENT_SECRET must be set together",
      );
    }
    const verifyTenant = nonEmpty(env.AZURE_VERIFY_TENANT_ID) ?? tenantId;
    if (!isGuid(clientId)) {
      throw new VerifyInputError("AZURE_VERIFY_CLIENT_ID: must be a GUID");
    }
    if (!isGuid(verifyTenant)) {
      throw new VerifyInputError("AZURE_VERIFY_TENANT_ID: must be a GUID");
    }
    return { kind: "verify-env", tenantId: verifyTenant, clientId, secret: new Secret(secret) };
  }
  return customAuthority ? { kind: "app" } : { kind: "default" };
}
