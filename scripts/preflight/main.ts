/**
 * `npm run preflight`: read-only checks before `pulumi up`. Exits 0 (all pass), 1 (any fail),
 * 3 (only warnings) or 2 (bad input). The only preflight file that calls process.exit.
 */
import { EXIT_BAD_INPUT, EXIT_FAIL, shouldColor } from "../common/output";
import {
  helpText,
  isPreflightInputError,
  type PreflightConfig,
  resolvePreflightConfig,
} from "./inputs";
import {
  buildPreflightReport,
  type PreflightReport,
  renderPreflightJson,
  renderPreflightTable,
} from "./report";
import { type RunPreflightOptions, runPreflightChecks } from "./run";

/** Runs every check for a validated config and returns the report (never throws for a check). */
export async function preflight(
  config: PreflightConfig,
  options: RunPreflightOptions & { nowMs?: () => number } = {},
): Promise<PreflightReport> {
  const now = options.nowMs ?? Date.now;
  const startedAt = now();
  const checks = await runPreflightChecks(config, options);
  return buildPreflightReport(config, checks, startedAt, now());
}

async function main(): Promise<number> {
  let config: PreflightConfig | "help";
  try {
    config = await resolvePreflightConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (isPreflightInputError(error)) {
      process.stderr.write(`preflight: ${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }
  if (config === "help") {
    process.stdout.write(helpText());
    return 0;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const report = await preflight(config, { abortSignal: controller.signal });
  process.stdout.write(
    config.json
      ? renderPreflightJson(report)
      : renderPreflightTable(report, { color: shouldColor(process.stdout, process.env) }),
  );
  return report.exitCode;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
      // Keep-alive sockets and credential timers must not hold the process open.
      setImmediate(() => process.exit(code));
    },
    (error: unknown) => {
      process.stderr.write(
        `preflight: unexpected error (${error instanceof Error ? error.name : "error"}); re-run, and report it if it persists\n`,
      );
      process.exit(EXIT_FAIL);
    },
  );
}
