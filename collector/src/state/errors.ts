/**
 * Errors raised by the state stores. Each carries a `code` the app can act on and a one-line
 * message that names the state location and the fix; none ever contains a secret.
 */
import { AuditBridgeError } from "../../../domain/errors";

/** Why a state operation failed. */
export type StateStoreErrorCode =
  /** The state location cannot be written (read-only file system, permissions). */
  | "read-only"
  /** The disk or the storage account is full. */
  | "disk-full"
  /** Another collector owns this state (SQLite lock or blob lease held elsewhere). */
  | "locked"
  /** The lease was lost while running: another replica may take over, this one must stop. */
  | "lease-lost"
  /** The stored state changed under us (ETag mismatch). */
  | "conflict"
  /** The stored state was written by a newer AuditBridge or is not AuditBridge state. */
  | "schema"
  /** Anything else the storage reported (I/O error, network, bad credentials). */
  | "io";

/** A state store failure; the state on disk or in the container is left as last committed. */
export class StateStoreError extends AuditBridgeError<StateStoreErrorCode> {
  override readonly name: string = "StateStoreError";
  declare readonly code: StateStoreErrorCode;
  constructor(code: StateStoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, ...options });
  }
}

/** Type guard for {@link StateStoreError}. */
export function isStateStoreError(error: unknown): error is StateStoreError {
  return error instanceof StateStoreError;
}
