/**
 * `npm run audit-logging -- status|enable`: reads and sets the tenant's unified audit log switch
 * (`UnifiedAuditLogIngestionEnabled`) through Exchange Online's admin endpoint; scripts/common/cli.ts
 * runs it and exits. Exit codes: status 0 on, 1 off; enable 0 on afterwards,
 * 1 could not; 2 bad input.
 */
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  DeviceCodeCredential,
  type TokenCredential,
} from "@azure/identity";
import { Command, CommanderError, Option } from "commander";
import { isManagementApiError } from "../../collector/src/source/apiError";
import { ManagementApiClient } from "../../collector/src/source/client";
import { isAuditOffAnswer } from "../../domain/apiErrors";
import { CLOUD_NAMES, CLOUDS, type CloudName, isMicrosoftAuthorityHost } from "../../domain/clouds";
import { isGuid, parseDuration } from "../../domain/validators";
import { type CommandDefinition, runCommandMain } from "../common/cli";
import { CommandInputError } from "../common/errors";
import { ExchangeAdminClient } from "./exchangeAdmin";
import {
  type AuditLoggingContext,
  type AuditLoggingResult,
  auditLoggingEnable,
  auditLoggingStatus,
  type ManagementProbe,
} from "./run";

/** A bad command line or environment; main prints the one-line message and exits 2. */
export class AuditLoggingInputError extends CommandInputError {
  override readonly name: string = "AuditLoggingInputError";
}

/** Everything the command needs, validated. Holds no secret value except inside the credential. */
export interface AuditLoggingConfig {
  action: "status" | "enable";
  tenantId: string;
  cloud: CloudName;
  authorityHost: string;
  exchangeEndpoint: string;
  exchangeAudience: string;
  managementEndpoint: string;
  managementAudience: string;
  publisherId: string;
  json: boolean;
  deviceCode: boolean;
  waitInMs: number;
  pollIntervalInMs: number;
  /** Which identity is used, for messages (never a secret). */
  credentialKind: "app-secret" | "app-certificate" | "device-code" | "default";
}

const EXAMPLE = `Example:
  npm run audit-logging -- status --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47
  npm run audit-logging -- enable --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --device-code

`;

const AFTER_HELP = `
Credentials: the caller's own (az login, workload or managed identity through
DefaultAzureCredential; --device-code for an interactive sign-in), or an app from
AZURE_CLIENT_ID + AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH with the
Exchange.ManageAsApp permission and an Exchange role that can change audit settings.
Exit codes: status 0 on, 1 off; enable 0 on afterwards, 1 could not; 2 bad input.
`;

function buildProgram(): Command {
  const program = new Command("audit-logging")
    .description(
      "Read (status) or turn on (enable) the Microsoft 365 tenant's unified audit logging " +
        "(UnifiedAuditLogIngestionEnabled) through Exchange Online's admin endpoint.",
    )
    .argument("<action>", "status | enable")
    .option("--tenant-id <guid>", "Microsoft 365 tenant id (env AZURE_TENANT_ID)")
    .addOption(
      new Option("--cloud <name>", "Microsoft 365 cloud (env O365_CLOUD)").choices([
        ...CLOUD_NAMES,
      ]),
    )
    .option("--authority-host <url>", "Entra ID login host override (env AZURE_AUTHORITY_HOST)")
    .option(
      "--exchange-endpoint <url>",
      "Exchange Online admin endpoint override (env EXCHANGE_ADMIN_ENDPOINT)",
    )
    .option(
      "--management-endpoint <url>",
      "Management Activity API base URL override (env O365_MANAGEMENT_ENDPOINT)",
    )
    .option("--publisher-id <guid>", "PublisherIdentifier (env O365_PUBLISHER_ID; default tenant)")
    .option("--device-code", "sign in interactively with a device code")
    .option(
      "--wait <duration>",
      "enable: wait this long (e.g. 2h) for a dehydrated tenant to finish Enable-OrganizationCustomization",
    )
    .addOption(new Option("--poll-interval <duration>").default("60s").hideHelp())
    .option("--json", "print a JSON object instead of text");
  program.exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return program;
}

/** `--help` text. */
export function helpText(): string {
  return `${EXAMPLE}${buildProgram().helpInformation()}${AFTER_HELP}`;
}

function httpsUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuditLoggingInputError(`${flag}: must be an https URL`);
  }
  if (url.protocol !== "https:") throw new AuditLoggingInputError(`${flag}: must be an https URL`);
  return url.toString().replace(/\/+$/, "");
}

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new AuditLoggingInputError(`${flag}: must be a duration like 30m or 2h`);
  }
  return ms;
}

/**
 * Parses argv (without node and script) and the environment. Throws
 * {@link AuditLoggingInputError} with one line naming the flag; returns "help" for --help.
 */
export function resolveAuditLoggingConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): AuditLoggingConfig | "help" {
  if (argv.some((arg) => /^--(client-secret|secret|password)(=|$)/i.test(arg))) {
    throw new AuditLoggingInputError(
      "a secret is not accepted as a flag: put it in AZURE_CLIENT_SECRET",
    );
  }
  const program = buildProgram();
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help")
        return "help";
      if (error.code === "commander.missingArgument") {
        throw new AuditLoggingInputError("say what to do: status or enable (see --help)");
      }
      if (error.code === "commander.unknownOption") {
        const flag = (/'([^']+)'/.exec(error.message)?.[1] ?? "").split("=")[0];
        throw new AuditLoggingInputError(
          `unknown flag ${flag}: see npm run audit-logging -- --help`,
        );
      }
      if (error.code === "commander.invalidArgument") {
        throw new AuditLoggingInputError(`--cloud: must be one of ${CLOUD_NAMES.join(", ")}`);
      }
      throw new AuditLoggingInputError(
        error.message.replace(/^error:\s*/, "").split("\n")[0] ?? "invalid command line",
      );
    }
    throw error;
  }
  const action = program.args[0];
  if (action !== "status" && action !== "enable") {
    throw new AuditLoggingInputError("the action must be status or enable (see --help)");
  }
  const flags = program.opts<{
    tenantId?: string;
    cloud?: CloudName;
    authorityHost?: string;
    exchangeEndpoint?: string;
    managementEndpoint?: string;
    publisherId?: string;
    deviceCode?: boolean;
    wait?: string;
    pollInterval: string;
    json?: boolean;
  }>();
  const tenantId = flags.tenantId ?? env.AZURE_TENANT_ID;
  if (!tenantId) {
    throw new AuditLoggingInputError(
      "--tenant-id (or AZURE_TENANT_ID) is required: the tenant GUID",
    );
  }
  if (!isGuid(tenantId)) throw new AuditLoggingInputError("--tenant-id: must be a GUID");
  const cloudName = flags.cloud ?? env.O365_CLOUD ?? "commercial";
  if (!(CLOUD_NAMES as readonly string[]).includes(cloudName)) {
    throw new AuditLoggingInputError(`O365_CLOUD: must be one of ${CLOUD_NAMES.join(", ")}`);
  }
  const cloud = CLOUDS[cloudName as CloudName];
  const publisherId = flags.publisherId ?? env.O365_PUBLISHER_ID ?? tenantId;
  if (!isGuid(publisherId)) throw new AuditLoggingInputError("--publisher-id: must be a GUID");
  const authorityHost = httpsUrl(
    flags.authorityHost ?? env.AZURE_AUTHORITY_HOST ?? cloud.authorityHost,
    "--authority-host",
  );
  const exchangeEndpoint = httpsUrl(
    flags.exchangeEndpoint ?? env.EXCHANGE_ADMIN_ENDPOINT ?? cloud.exchangeEndpoint,
    "--exchange-endpoint",
  );
  const managementEndpoint = httpsUrl(
    flags.managementEndpoint ?? env.O365_MANAGEMENT_ENDPOINT ?? cloud.managementEndpoint,
    "--management-endpoint",
  );
  const waitInMs = flags.wait !== undefined ? duration(flags.wait, "--wait") : 0;
  if (waitInMs > 0 && action !== "enable") {
    throw new AuditLoggingInputError("--wait: only enable waits");
  }
  const deviceCode = flags.deviceCode === true;
  const credentialKind: AuditLoggingConfig["credentialKind"] = deviceCode
    ? "device-code"
    : env.AZURE_CLIENT_ID && env.AZURE_CLIENT_CERTIFICATE_PATH
      ? "app-certificate"
      : env.AZURE_CLIENT_ID && env.AZURE_CLIENT_SECRET
        ? "app-secret"
        : "default";
  if (credentialKind.startsWith("app") && !isGuid(env.AZURE_CLIENT_ID ?? "")) {
    throw new AuditLoggingInputError("AZURE_CLIENT_ID: must be a GUID");
  }
  return {
    action,
    tenantId: tenantId.toLowerCase(),
    cloud: cloud.name,
    authorityHost,
    exchangeEndpoint,
    // An override host (tests, private routing) still asks for the cloud's Exchange audience.
    exchangeAudience: cloud.exchangeEndpoint,
    managementEndpoint,
    managementAudience: cloud.managementAudience,
    publisherId,
    json: flags.json === true,
    deviceCode,
    waitInMs,
    pollIntervalInMs: duration(flags.pollInterval, "--poll-interval"),
    credentialKind,
  };
}

/** The caller's credential, as chosen from flags and environment. */
export function createCredential(
  config: AuditLoggingConfig,
  env: NodeJS.ProcessEnv,
): TokenCredential {
  const options = {
    authorityHost: config.authorityHost,
    // Instance discovery only knows Microsoft's own login hosts.
    disableInstanceDiscovery: !isMicrosoftAuthorityHost(config.authorityHost),
  };
  switch (config.credentialKind) {
    case "app-certificate":
      return new ClientCertificateCredential(
        config.tenantId,
        env.AZURE_CLIENT_ID!,
        { certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH! },
        options,
      );
    case "app-secret":
      return new ClientSecretCredential(
        config.tenantId,
        env.AZURE_CLIENT_ID!,
        env.AZURE_CLIENT_SECRET!,
        options,
      );
    case "device-code":
      return new DeviceCodeCredential({
        tenantId: config.tenantId,
        ...options,
        userPromptCallback: (info) => {
          process.stderr.write(`${info.message}\n`);
        },
      });
    case "default":
      return new DefaultAzureCredential({ tenantId: config.tenantId, ...options });
  }
}

/** Asks the Management Activity API for the tenant's subscriptions, once, briefly. */
export function managementProbe(
  config: AuditLoggingConfig,
  credential: TokenCredential,
): AuditLoggingContext["probeManagementApi"] {
  const client = new ManagementApiClient({
    baseUrl: config.managementEndpoint,
    tenantId: config.tenantId,
    publisherId: config.publisherId,
    credential,
    audience: config.managementAudience,
    maxAttempts: 2,
    deadlineInMs: 20_000,
  });
  return async ({ abortSignal }): Promise<ManagementProbe> => {
    try {
      await client.listSubscriptions({ abortSignal });
      return "answers";
    } catch (error) {
      // The one answer the Management API gives for a tenant whose auditing is not in effect.
      if (
        isManagementApiError(error) &&
        isAuditOffAnswer(`${error.code ?? ""} ${error.apiMessage ?? ""}`)
      ) {
        return "audit-not-provisioned";
      }
      return "unknown";
    }
  };
}

/** The result as text for a person: the state, then what to do. */
export function renderText(result: AuditLoggingResult): string {
  const lines = [`${result.command}: ${result.message}`];
  if (result.fix) lines.push(`next: ${result.fix}`);
  return `${lines.join("\n")}\n`;
}

/** `npm run audit-logging` as a user command. */
export const auditLoggingCommand: CommandDefinition<AuditLoggingConfig> = {
  name: "audit-logging",
  resolve: resolveAuditLoggingConfig,
  help: helpText,
  async run(config, abortSignal) {
    const credential = createCredential(config, process.env);
    const context: AuditLoggingContext = {
      tenantId: config.tenantId,
      cloud: config.cloud,
      exchange: new ExchangeAdminClient({
        endpoint: config.exchangeEndpoint,
        audience: config.exchangeAudience,
        tenantId: config.tenantId,
        credential,
      }),
      probeManagementApi: managementProbe(config, credential),
      progress: (line) => process.stderr.write(`audit-logging: ${line}\n`),
      abortSignal,
      waitInMs: config.waitInMs,
      pollIntervalInMs: config.pollIntervalInMs,
    };
    const result =
      config.action === "status"
        ? await auditLoggingStatus(context)
        : await auditLoggingEnable(context);
    return {
      output: config.json ? `${JSON.stringify(result, null, 2)}\n` : renderText(result),
      exitCode: result.exitCode,
    };
  },
};

if (require.main === module) runCommandMain(auditLoggingCommand);
