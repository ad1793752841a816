/**
 * `npm run handoff -- --stack <name> --siem <splunk|arcsight|qradar|mcafee-esm|elastic|sentinel>`:
 * prints the values a SIEM's own Office 365 connector asks for, under its field names; the client
 * secret only with --reveal. Exit 0 done, 1 failure (the secret could not be read), 2 bad input.
 * scripts/common/cli.ts runs it and exits.
 */
import { type CommandDefinition, runCommandMain } from "../common/cli";
import { EXIT_FAIL } from "../common/output";
import { type HandoffConfig, helpText, resolveHandoffConfig } from "./inputs";
import { isSecretReadError } from "./keyVault";
import { renderJson, renderTable } from "./render";
import { handoff } from "./run";

/** `npm run handoff` as a user command. */
export const handoffCommand: CommandDefinition<HandoffConfig> = {
  name: "handoff",
  resolve: (argv, env) => resolveHandoffConfig(argv, env),
  help: helpText,
  async run(config, abortSignal) {
    try {
      const report = await handoff(config, { abortSignal });
      return { output: config.json ? renderJson(report) : renderTable(report), exitCode: 0 };
    } catch (error) {
      if (!isSecretReadError(error)) throw error;
      process.stderr.write(`handoff: ${error.message}\n`);
      return { output: "", exitCode: EXIT_FAIL };
    }
  },
};

if (require.main === module) runCommandMain(handoffCommand);
