/**
 * The one entry-point routine of the user commands (verify, preflight, audit-logging, cost):
 * parse, print help, run under one AbortController that SIGINT/SIGTERM fire, print, and exit
 * with the command's code. Only this file's `runCommandMain` calls `process.exit`.
 */
import { CommandInputError } from "./errors";
import { EXIT_BAD_INPUT, EXIT_FAIL } from "./output";

/** What a command supplies to {@link runCommandMain}. */
export interface CommandDefinition<Config> {
  /** The command's name, prefixed to every message on stderr (`verify: …`). */
  name: string;
  /** Validated inputs from argv and the environment; throws a CommandInputError on bad input. */
  resolve(
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
  ): Config | "help" | Promise<Config | "help">;
  /** `--help` text, starting with an example. */
  help(): string;
  /** Runs the command; returns what to print on stdout and the exit code. */
  run(config: Config, abortSignal: AbortSignal): Promise<{ output: string; exitCode: number }>;
}

/** Runs a command from argv and the environment; resolves to its exit code (never throws bad input). */
export async function runCommand<Config>(
  command: CommandDefinition<Config>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process,
): Promise<number> {
  let config: Config | "help";
  try {
    config = await command.resolve(argv, env);
  } catch (error) {
    if (error instanceof CommandInputError) {
      streams.stderr.write(`${command.name}: ${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }
  if (config === "help") {
    streams.stdout.write(command.help());
    return 0;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const { output, exitCode } = await command.run(config, controller.signal);
    streams.stdout.write(output);
    return exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * The command's `main`: runs it on this process's argv and environment and exits with its code.
 * An unexpected error prints its name only (its message could quote a token or a response).
 */
export function runCommandMain<Config>(command: CommandDefinition<Config>): void {
  runCommand(command, process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
      // Keep-alive sockets and credential timers must not hold the process open.
      setImmediate(() => process.exit(code));
    },
    (error: unknown) => {
      process.stderr.write(
        `${command.name}: unexpected error (${error instanceof Error ? error.name : "error"}); re-run, and report it if it persists\n`,
      );
      process.exit(EXIT_FAIL);
    },
  );
}
