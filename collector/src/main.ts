/**
 * Entry point of the collector CLI: `npm run collector -- run [--once]`.
 *
 * The only file that calls `process.exit`. Exit codes: 0 done (or stopped by SIGTERM/SIGINT
 * after draining, or `--once` found another run holding the state and left the work to it), 1
 * could not complete (`--once`) or failed at runtime, 2 bad configuration or usage. One AbortController, owned here, cancels everything on the first signal.
 */
import { setMaxListeners } from "node:events";
import { Command, CommanderError, Option } from "commander";
import { FLAG_FOR_ENV, type FlagName, flagSpelling, SECRET_KEYS } from "../../domain/collectorEnv";
import { runCollector } from "./app";
import { type CliFlags, isConfigError, loadConfig } from "./config";
import { createLogger, type Logger } from "./log";
import { createMetrics } from "./metrics";
import { ProgressDisplay } from "./progress";
import { type CollectorSetting, SETTINGS } from "./settings";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_CONFIG = 2;
/** Second interrupt while draining: the user wants out now (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

const EXAMPLE = `Example:
  AZURE_TENANT_ID=<tenant guid> AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret> \\
    npm run collector -- run --once --sink file --file-path ./audit.ndjson

`;

/**
 * A flag's help line from its row of the settings table: meaning, default, and the variable it
 * mirrors, e.g. `pause between polls at the live edge, e.g. 5m (default 1m) [AUDIT_POLL_INTERVAL]`.
 */
function flagHelp(setting: CollectorSetting): string {
  const shownDefault =
    setting.shownDefault === undefined ? "" : ` (default ${setting.shownDefault})`;
  return `${setting.meaning}${shownDefault} [${setting.env}]`;
}

/** Wraps words into lines of at most `width` characters, for help text built from the table. */
function wrap(text: string, width = 90): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join("\n");
}

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
    .option(
      "--once",
      "catch up to now, deliver, checkpoint, exit 0 (also 0, without collecting, when another run holds the state)",
    )
    .addHelpText(
      "after",
      `
${wrap(`Every flag mirrors an environment variable and wins over it. Secrets (${[...SECRET_KEYS].join(", ")}) are read from the environment only, so they never show in the process list.`)}

Exit codes: 0 done or stopped by SIGTERM, 1 could not complete, 2 bad configuration.`,
    );
  const flagNames: FlagName[] = [];
  for (const setting of SETTINGS) {
    const flag = FLAG_FOR_ENV[setting.env];
    if (!flag) continue;
    flagNames.push(flag);
    run.addOption(new Option(`${flagSpelling(flag)} <value>`, flagHelp(setting)));
  }
  run.action(async (options: Record<string, unknown>) => {
    const flags: CliFlags = {};
    for (const flag of flagNames) {
      const value = options[flag];
      if (typeof value === "string") flags[flag] = value;
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
    catchingUpLagSeconds: (2 * config.pollIntervalInMs) / 1000 + 60,
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
