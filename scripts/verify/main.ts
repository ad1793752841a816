/**
 * `npm run verify`: checks a tenant's AuditBridge pipeline end to end and exits 0 (all pass),
 * 1 (any fail), 3 (only warnings) or 2 (bad input). The thin CLI: flags in, the runner
 * (`run.ts`), the report out. The only verify file that calls process.exit.
 */
import { EXIT_BAD_INPUT, EXIT_FAIL, renderJson, renderTable, shouldColor } from "../common/output";
import { helpText, isVerifyInputError, resolveVerifyConfig, type VerifyConfig } from "./inputs";
import { verify } from "./run";

async function main(): Promise<number> {
  let config: VerifyConfig | "help";
  try {
    config = await resolveVerifyConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (isVerifyInputError(error)) {
      process.stderr.write(`verify: ${error.message}\n`);
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
  const report = await verify(config, { abortSignal: controller.signal });
  process.stdout.write(
    config.json
      ? renderJson(report)
      : renderTable(report, { color: shouldColor(process.stdout, process.env) }),
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
        `verify: unexpected error (${error instanceof Error ? error.name : "error"}); re-run, and report it if it persists\n`,
      );
      process.exit(EXIT_FAIL);
    },
  );
}
