/**
 * `npm run preflight`: read-only checks before `pulumi up`. Exits 0 (all pass), 1 (any fail),
 * 3 (only warnings) or 2 (bad input); scripts/common/cli.ts runs it and exits.
 */
import { type CommandDefinition, runCommandMain } from "../common/cli";
import { renderJson, shouldColor } from "../common/output";
import { helpText, type PreflightConfig, resolvePreflightConfig } from "./inputs";
import { buildPreflightReport, type PreflightReport, renderPreflightTable } from "./report";
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

/** `npm run preflight` as a user command. */
export const preflightCommand: CommandDefinition<PreflightConfig> = {
  name: "preflight",
  resolve: resolvePreflightConfig,
  help: helpText,
  async run(config, abortSignal) {
    const report = await preflight(config, { abortSignal });
    return {
      output: config.json
        ? renderJson(report)
        : renderPreflightTable(report, { color: shouldColor(process.stdout, process.env) }),
      exitCode: report.exitCode,
    };
  },
};

if (require.main === module) runCommandMain(preflightCommand);
