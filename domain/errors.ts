/**
 * The one error base class of AuditBridge's collector and commands. Like the Azure SDK's
 * `RestError`, every error carries a machine-readable `code` next to its one-line message, so
 * callers branch on the code and people read the message. Guards use `instanceof`.
 */

/** Options for {@link AuditBridgeError}. */
export interface AuditBridgeErrorOptions<Code extends string = string> {
  /** Machine-readable code (an API's error code, or the tool's own vocabulary). */
  code?: Code;
  cause?: unknown;
}

/** Base class of every named AuditBridge error. Messages never contain a secret. */
export class AuditBridgeError<Code extends string = string> extends Error {
  override readonly name: string = "AuditBridgeError";
  /** What went wrong, for code to branch on; absent when nothing more specific is known. */
  readonly code?: Code;

  constructor(message: string, options: AuditBridgeErrorOptions<Code> = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = options.code;
  }
}

/** Type guard for {@link AuditBridgeError} and every subclass. */
export function isAuditBridgeError(error: unknown): error is AuditBridgeError {
  return error instanceof AuditBridgeError;
}
