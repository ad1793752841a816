/**
 * Entry point of the collector CLI: `npm run collector -- run [--once]`.
 *
 * The only file that calls `process.exit`. Exit codes: 0 done (or stopped by SIGTERM/SIGINT
 * after draining), 1 could not complete (`--once`) or failed at runtime, 2 bad configuration
 * or usage. One AbortController, owned here, cancels everything on the first signal.
 */
import { setMaxListeners } from "node:events";
import { Command, CommanderError, Option } from "commander";
import { ENV_KEYS } from "../../domain/collectorEnv";
import { runCollector } from "./app";
import {
  type CliFlags,
  FLAG_FOR_ENV,
  type FlagName,
  flagSpelling,
  isConfigError,
  loadConfig,
} from "./config";
import { createLogger, type Logger } from "./log";
import { createMetrics } from "./metrics";
import { ProgressDisplay } from "./progress";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_CONFIG = 2;
/** Second interrupt while draining: the user wants out now (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

const EXAMPLE = `Example:
  AZURE_TENANT_ID=<tenant guid> AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret> \\
    npm run collector -- run --once --sink file --file-path ./audit.ndjson

`;

const FLAG_HELP: Record<FlagName, string> = {
  tenantId: "Microsoft 365 tenant GUID",
  clientId: "app registration's Application (client) ID",
  clientCertificatePath: "PEM file with certificate and private key (instead of a secret)",
  federatedIdentityClientId: "keyless: client id of the user-assigned managed identity",
  managedIdentityClientId: "managed identity for Logs Ingestion / blob state (in Azure)",
  cloud: "commercial | gcc | gcchigh | dod (default commercial)",
  authorityHost: "override the Entra ID login host (https URL)",
  managementEndpoint: "override the Management Activity API base URL (https URL)",
  contentTypes: "comma list of content types (default all five)",
  publisherId: "PublisherIdentifier GUID (default the tenant id)",
  state: "sqlite:<path> or https blob container URL (default sqlite:./.auditbridge/state.db)",
  sink: "logs-ingestion | file | stdout, or a comma list (default file)",
  filePath: "NDJSON output of the file sink (default ./.auditbridge/audit.ndjson)",
  quarantineDir: "where malformed blobs are kept (default ./.auditbridge/quarantine)",
  logsIngestionEndpoint: "data collection endpoint URL (https)",
  logsIngestionRuleId: "data collection rule immutable id (dcr-...)",
  logsIngestionStream: "stream name (default Custom-M365Audit)",
  initialLookback: "how far back a first run starts, e.g. 2d (default 7d = the API's limit)",
  pollInterval: "pause between polls at the live edge, e.g. 60s (default 60s)",
  relistOverlap: "how far back each poll at the live edge re-lists for late blobs (default 3h)",
  httpPort: "port of /healthz and /metrics; 0 picks a free one (default 9464)",
  httpHost: "address /healthz and /metrics listen on (default 127.0.0.1)",
  logLevel: "fatal | error | warn | info | debug | trace | silent (default info)",
  parseWorkers: "threads that parse blobs, 0 = main thread (default cores - 1, 1 to 4)",
};

function buildProgram(onRun: (flags: CliFlags, once: boolean) => Promise<number>): {
  program: Command;
  exitCode: () => number;
} {
  let code = EXIT_OK;
  const program = new Command()
    .name("auditbridge-collector")
    .description(
      "Moves every Microsoft 365 unified audit record into Log Analytics (or a file, or stdout): none lost, none repeated.",
    )
    .addHelpText("beforeAll", EXAMPLE)
    // Usage errors on one line, like configuration errors: "error: unknown option '--tenant'
    // (Did you mean --tenant-id?)".
    .configureOutput({
      outputError: (text, write) =>
        write(`auditbridge-collector: ${text.trim().replace(/\s*\n\s*/g, " ")} (see --help)\n`),
    })
    .exitOverride();

  const run = program
    .command("run")
    .description(
      "Poll the Management Activity API and deliver records; runs until SIGTERM unless --once.",
    )
    .option("--once", "catch up to now, deliver, checkpoint, exit 0")
    .addHelpText(
      "after",
      `
Every flag mirrors an environment variable and wins over it. Secrets (AZURE_CLIENT_SECRET,
AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_STORAGE_CONNECTION_STRING) are read from the
environment only, so they never show in the process list.

Exit codes: 0 done or stopped by SIGTERM, 1 could not complete, 2 bad configuration.`,
    );
  const envByFlag = new Map<string, string>();
  for (const key of ENV_KEYS) {
    const flag = (FLAG_FOR_ENV as Partial<Record<string, FlagName>>)[key];
    if (flag) envByFlag.set(flag, key);
  }
  for (const [flag, env] of envByFlag) {
    run.addOption(
      new Option(
        `${flagSpelling(flag as FlagName)} <value>`,
        `${FLAG_HELP[flag as FlagName]} [${env}]`,
      ),
    );
  }
  run.action(async (options: Record<string, unknown>) => {
    const flags: CliFlags = {};
    for (const flag of envByFlag.keys()) {
      const value = options[flag];
      if (typeof value === "string") flags[flag as FlagName] = value;
    }
    code = await onRun(flags, options.once === true);
  });
  return { program, exitCode: () => code };
}

/**
 * Flushes pending log lines, then exits: the one place the process ends on purpose. Explicit,
 * because idle keep-alive sockets of the HTTP clients would otherwise hold the process open.
 */
function exit(code: number, logger?: Logger): void {
  if (logger) {
    try {
      logger.flush();
    } catch {
      // A closed stderr cannot be flushed; the exit code still tells the story.
    }
  }
  process.exitCode = code;
  // Let the asynchronous stderr stream drain before the process ends.
  setImmediate(() => process.exit(code));
}

async function runCommand(flags: CliFlags, once: boolean): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(flags);
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`auditbridge-collector: configuration error: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }

  const metrics = createMetrics();
  const progress = new ProgressDisplay({
    stream: process.stderr,
    metrics,
    catchingUpLagSeconds: (2 * config.pollIntervalMs) / 1000 + 60,
  });
  const logger = createLogger({
    level: config.logLevel,
    ...(progress.enabled ? { destination: progress.logDestination() } : {}),
  });

  const controller = new AbortController();
  // Every concurrent request, sleep and blob fetch listens on this one signal; more than
  // Node's default of 10 is expected, not a leak.
  setMaxListeners(256, controller.signal);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, "stopping: finishing the batch in flight, then checkpointing");
      controller.abort(new Error(`received ${signal}`));
      return;
    }
    logger.warn({ signal }, "second signal: exiting without draining");
    exit(EXIT_INTERRUPTED, logger);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A bug escaping every handler still ends as a JSON log line and exit 1, not a bare stack.
  const onUnexpected = (error: unknown) => {
    logger.fatal({ err: error }, "unexpected error; exiting");
    exit(EXIT_FAILED, logger);
  };
  process.on("uncaughtException", onUnexpected);
  process.on("unhandledRejection", onUnexpected);

  try {
    const result = await runCollector({
      config,
      logger,
      metrics,
      once,
      abortSignal: controller.signal,
      progress,
    });
    if (result.exitCode !== EXIT_OK && result.reason) {
      // One line a scheduler shows as the job's failure reason.
      process.stderr.write(`auditbridge-collector: ${result.reason}\n`);
    }
    return result.exitCode;
  } finally {
    progress.stop();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    // The last log lines (why it stopped) matter most; wait for them to reach stderr.
    await new Promise<void>((resolve) => {
      try {
        logger.flush(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const { program, exitCode } = buildProgram(runCommand);
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; anything else commander reported (unknown option,
      // missing argument) is a usage error, already printed on one line.
      const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version";
      exit(ok ? EXIT_OK : EXIT_CONFIG);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`auditbridge-collector: failed: ${message.split("\n")[0]}\n`);
    exit(EXIT_FAILED);
    return;
  }
  exit(exitCode());
}

void main(process.argv);
