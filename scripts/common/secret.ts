/** A secret value the commands handle (a client secret from the environment or a stack). */

/**
 * A secret value that cannot leak by accident: it prints, stringifies and inspects as
 * `[redacted]`; only {@link Secret.reveal} returns the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret value; pass it to a credential, never to output. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[redacted]";
  }
}
