/**
 * `npm run verify`: checks a tenant's AuditBridge pipeline end to end and exits 0 (all pass),
 * 1 (any fail), 3 (only warnings) or 2 (bad input). The thin CLI: flags in, the runner
 * (`run.ts`), the report out; scripts/common/cli.ts runs it and exits.
 */
import { type CommandDefinition, runCommandMain } from "../common/cli";
import { renderJson, renderTable, shouldColor } from "../common/output";
import { helpText, resolveVerifyConfig, type VerifyConfig } from "./inputs";
import { verify } from "./run";

/** `npm run verify` as a user command: flags in, the runner, the report out. */
export const verifyCommand: CommandDefinition<VerifyConfig> = {
  name: "verify",
  resolve: resolveVerifyConfig,
  help: helpText,
  async run(config, abortSignal) {
    const report = await verify(config, { abortSignal });
    return {
      output: config.json
        ? renderJson(report)
        : renderTable(report, { color: shouldColor(process.stdout, process.env) }),
      exitCode: report.exitCode,
    };
  },
};

if (require.main === module) runCommandMain(verifyCommand);
