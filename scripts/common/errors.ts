/**
 * Bad input to a user command (flags, environment, `--stack` outputs). The command's entry file
 * prints the one-line message and exits with exit code 2 (`EXIT_BAD_INPUT` in `output.ts`).
 */
import { AuditBridgeError } from "../../domain/errors";

/** Bad input; the message names what to fix. `code` is always `bad-input`. */
export class CommandInputError extends AuditBridgeError<"bad-input"> {
  override readonly name: string = "CommandInputError";
  constructor(message: string) {
    super(message, { code: "bad-input" });
  }
}

/** Type guard for {@link CommandInputError} and the commands' subclasses of it. */
export function isCommandInputError(error: unknown): error is CommandInputError {
  return error instanceof CommandInputError;
}
