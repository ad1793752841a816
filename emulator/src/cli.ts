import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  collectorConnectionEnv,
  DEFAULT_TOKEN_BUCKET_CAPACITY,
  type Emulator,
  type Knobs,
  type ScenarioOptions,
  startEmulator,
  THROTTLE_MODELS,
  type ThrottleModel,
} from "./index";
import { REQUESTS_PER_MINUTE_PER_TENANT } from "./microsoft/activityApi";

/**
 * `npm run emulator -- [options]`: starts the emulated Microsoft 365 tenant, prints where it
 * listens and the environment a collector needs, and runs until SIGINT/SIGTERM.
 * Exit codes: 0 after a signal, 1 when the emulator cannot start, 2 for bad options.
 */

const EXAMPLE = `Example:
  npm run emulator -- --seed 7 --history-hours 48 --live-blobs-per-minute 2
  npm run emulator -- --throttle 2000 --throttle-model tokenBucket   # AF429 past 2,000 requests/min
  eval "$(npm run -s emulator -- --print-secret --env-only)"   # in another shell: env for a collector`;

interface CliOptions {
  host: string;
  port: number;
  seed: number;
  certDir?: string;
  contentTypes?: string[];
  historyHours?: number;
  blobsPerHour?: number;
  recordsPerBlob?: [number, number];
  duplicateRate?: number;
  lateRate?: number;
  expiredBlobs?: number;
  liveBlobsPerMinute?: number;
  liveHorizonMinutes?: number;
  bigBlobBytes?: number;
  pageSize?: number;
  scenario?: string;
  knobs?: string;
  latencyMs?: number;
  throttle?: number;
  throttleModel?: ThrottleModel;
  throttleBucketCapacity?: number;
  auditDisabled?: boolean;
  printSecret?: boolean;
  json?: boolean;
  envOnly?: boolean;
}

function number(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === "" || !Number.isFinite(parsed)) {
      throw new InvalidArgumentError(`${name} must be a number, got "${value}".`);
    }
    return parsed;
  };
}

function range(value: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected MIN-MAX (e.g. 20-200), got "${value}".`);
  const min = Number(match[1]);
  return [min, match[2] === undefined ? min : Number(match[2])];
}

/** Reads a JSON object given inline or as @file. */
function jsonObject(flag: string, value: string): Record<string, unknown> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (error) {
      throw new Error(`${flag}: cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${flag}: not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${flag}: must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function buildProgram(): Command {
  return new Command("emulator")
    .description(
      "Run a local, seeded Microsoft 365 tenant over HTTPS: Entra ID, the Management Activity API, Logs Ingestion, Log Analytics query and the Graph calls verify needs.",
    )
    .addHelpText("beforeAll", `${EXAMPLE}\n`)
    .option("--host <address>", "interface to listen on", "127.0.0.1")
    .option("--port <n>", "port (0 = random free port)", number("--port"), 0)
    .option("--seed <n>", "seed: same seed, same tenant, blobs and records", number("--seed"), 1)
    .option(
      "--cert-dir <dir>",
      "where the local CA and server certificate are kept (default .auditbridge/test-ca)",
    )
    .option("--content-types <list>", "comma-separated content types with activity", (v: string) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .option(
      "--history-hours <h>",
      "hours of history before start (max 168)",
      number("--history-hours"),
    )
    .option("--blobs-per-hour <n>", "blobs per hour per content type", number("--blobs-per-hour"))
    .option("--records-per-blob <min-max>", "records per blob, e.g. 20-200", range)
    .option("--duplicate-rate <f>", "fraction of repeated records", number("--duplicate-rate"))
    .option("--late-rate <f>", "fraction of blobs listed late", number("--late-rate"))
    .option(
      "--expired-blobs <n>",
      "listed blobs that are already expired",
      number("--expired-blobs"),
    )
    .option(
      "--live-blobs-per-minute <n>",
      "new blobs per minute per content type while running",
      number("--live-blobs-per-minute"),
    )
    .option(
      "--live-horizon-minutes <n>",
      "how long live blobs keep appearing",
      number("--live-horizon-minutes"),
    )
    .option(
      "--big-blob-bytes <n>",
      "add one Audit.SharePoint blob of about this size",
      number("--big-blob-bytes"),
    )
    .option("--page-size <n>", "blobs per content listing page", number("--page-size"))
    .option("--scenario <json|@file>", "scenario options as JSON (flags above win)")
    .option("--knobs <json|@file>", "fault knobs as JSON, e.g. '{\"truncateRate\":0.1}'")
    .option("--latency-ms <ms>", "extra latency per API request", number("--latency-ms"))
    .option(
      "--throttle <n>",
      `answer HTTP 403 AF429 past n requests a minute per PublisherIdentifier (Microsoft documents ${REQUESTS_PER_MINUTE_PER_TENANT})`,
      number("--throttle"),
    )
    .addOption(
      new Option(
        "--throttle-model <model>",
        `how requests are counted against --throttle (undocumented by Microsoft; default ${THROTTLE_MODELS[0]}; alone it implies --throttle ${REQUESTS_PER_MINUTE_PER_TENANT})`,
      ).choices(THROTTLE_MODELS),
    )
    .option(
      "--throttle-bucket-capacity <n>",
      `tokenBucket model: tokens when full (default ${DEFAULT_TOKEN_BUCKET_CAPACITY})`,
      number("--throttle-bucket-capacity"),
    )
    .option("--audit-disabled", "answer as a tenant whose unified audit log is off")
    .option("--print-secret", "include AZURE_CLIENT_SECRET in the printed environment")
    .addOption(new Option("--json", "print one JSON object instead of text").conflicts("envOnly"))
    .option("--env-only", "print only the export lines (for eval)");
}

function scenarioFrom(options: CliOptions): Partial<ScenarioOptions> {
  const scenario: Partial<ScenarioOptions> = options.scenario
    ? (jsonObject("--scenario", options.scenario) as Partial<ScenarioOptions>)
    : {};
  const flags: Partial<ScenarioOptions> = {
    contentTypes: options.contentTypes,
    historyHours: options.historyHours,
    blobsPerHour: options.blobsPerHour,
    recordsPerBlob: options.recordsPerBlob,
    duplicateRate: options.duplicateRate,
    lateRate: options.lateRate,
    expiredBlobs: options.expiredBlobs,
    liveBlobsPerMinute: options.liveBlobsPerMinute,
    liveHorizonMinutes: options.liveHorizonMinutes,
    bigBlobBytes: options.bigBlobBytes,
    pageSize: options.pageSize,
  };
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined) (scenario as Record<string, unknown>)[key] = value;
  }
  return scenario;
}

function knobsFrom(options: CliOptions): Partial<Knobs> {
  const knobs = (options.knobs ? jsonObject("--knobs", options.knobs) : {}) as Partial<Knobs>;
  if (options.latencyMs !== undefined) knobs.latencyMs = options.latencyMs;
  const throttleFlags = [options.throttle, options.throttleModel, options.throttleBucketCapacity];
  if (throttleFlags.some((flag) => flag !== undefined)) {
    // Flags win over --knobs, field by field.
    knobs.throttle = {
      requestsPerMinute: REQUESTS_PER_MINUTE_PER_TENANT,
      ...(knobs.throttle ?? {}),
      ...(options.throttle !== undefined ? { requestsPerMinute: options.throttle } : {}),
      ...(options.throttleModel !== undefined ? { model: options.throttleModel } : {}),
      ...(options.throttleBucketCapacity !== undefined
        ? { bucketCapacity: options.throttleBucketCapacity }
        : {}),
    };
  }
  if (options.auditDisabled) knobs.auditDisabled = true;
  return knobs;
}

/** The throttling knob in one line. */
function describeThrottle(knobs: Knobs): string {
  const throttle = knobs.throttle;
  if (throttle === null) return "off (no request limit)";
  const model = throttle.model ?? THROTTLE_MODELS[0];
  const bucket =
    model === "tokenBucket"
      ? `, bucket of ${throttle.bucketCapacity ?? DEFAULT_TOKEN_BUCKET_CAPACITY}`
      : "";
  return `AF429 past ${throttle.requestsPerMinute} requests/min per PublisherIdentifier, counted as ${model}${bucket}`;
}

/** The environment a collector (and verify) needs to talk to this emulator. */
function collectorEnvironment(emulator: Emulator, includeSecret: boolean): [string, string][] {
  const env = {
    ...collectorConnectionEnv(emulator),
    ...(includeSecret ? {} : { AZURE_CLIENT_SECRET: "<hidden: run with --print-secret>" }),
    AUDIT_SINK: "logs-ingestion",
  };
  return Object.entries(env);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  });
  let options: CliOptions;
  try {
    program.parse(argv, { from: "user" });
    options = program.opts<CliOptions>();
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }

  let emulator: Emulator;
  try {
    emulator = await startEmulator({
      host: options.host,
      port: options.port,
      seed: options.seed,
      certDir: options.certDir,
      scenario: scenarioFrom(options),
      knobs: knobsFrom(options),
    });
  } catch (error) {
    const message = (error as Error).message;
    // Option mistakes (scenario, knobs, seed) are the user's to fix: exit 2 like any bad flag.
    const badInput = /^(scenario|knobs|seed|--scenario|--knobs|buildCatalogue)/.test(message);
    process.stderr.write(`emulator: ${message}\n`);
    return badInput ? 2 : 1;
  }

  // Listen for the stop signals before printing anything: whoever reads the output may send
  // SIGINT/SIGTERM as soon as it arrives, and without a handler Node would die on it.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const env = collectorEnvironment(emulator, options.printSecret === true);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        url: emulator.url,
        caCertPath: emulator.caCertPath,
        tenant: {
          ...emulator.tenant,
          clientSecret: options.printSecret ? emulator.tenant.clientSecret : undefined,
        },
        managedIdentity: {
          clientId: emulator.managedIdentity.clientId,
          endpoint: emulator.managedIdentity.endpoint,
        },
        ingestion: emulator.ingestion,
        throttle: emulator.knobs.throttle,
        env: Object.fromEntries(env),
      })}\n`,
    );
  } else if (options.envOnly) {
    process.stdout.write(
      env.map(([key, value]) => `export ${key}=${shellQuote(value)}\n`).join(""),
    );
  } else {
    const s = emulator.scenario;
    process.stdout.write(
      [
        `AuditBridge emulator listening on ${emulator.url}`,
        `  tenant id        ${emulator.tenant.tenantId}`,
        `  client id        ${emulator.tenant.clientId}`,
        `  publisher id     ${emulator.tenant.publisherId}`,
        `  CA certificate   ${emulator.caCertPath}`,
        `  app certificate  ${emulator.tenant.certificatePath} (instead of the secret: AZURE_CLIENT_CERTIFICATE_PATH)`,
        `  DCR / stream     ${emulator.ingestion.ruleId} / ${emulator.ingestion.stream}`,
        `  workspace id     ${emulator.ingestion.workspaceId}`,
        `  scenario         seed ${emulator.seed}, ${s.historyHours} h history, ${s.blobsPerHour} blobs/h x ${s.contentTypes.length} content types, ${s.liveBlobsPerMinute} live blobs/min`,
        `  throttling       ${describeThrottle(emulator.knobs)}`,
        "",
        "Environment for a collector:",
        ...env.map(([key, value]) => `  export ${key}=${shellQuote(value)}`),
        "",
      ].join("\n"),
    );
  }
  process.stderr.write("emulator: running; press Ctrl+C (SIGINT) or send SIGTERM to stop\n");

  const signal = await stopSignal;
  await emulator.stop();
  process.stderr.write(`emulator: stopped on ${signal}\n`);
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`emulator: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
