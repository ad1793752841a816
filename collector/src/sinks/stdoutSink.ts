import type { Writable } from "node:stream";
import type { Batch, DeliveryOutcome, OperationOptions, Sink } from "../types";

export interface StdoutSinkOptions {
  /** Where to write (default `process.stdout`); logs go to stderr, so stdout carries only data. */
  stream?: Writable;
  /** Sink name reported to the pipeline (default `stdout`). */
  name?: string;
}

/**
 * NDJSON on stdout, one raw record per line. A pipe cannot be rewound, so this sink has no
 * position: a crash may repeat the batches in flight. It acknowledges once the stream has
 * accepted the bytes (the write callback ran), which also applies the pipe's back-pressure.
 */
export class StdoutSink implements Sink {
  readonly name: string;
  private readonly stream: Writable;

  constructor(options: StdoutSinkOptions = {}) {
    this.name = options.name ?? "stdout";
    this.stream = options.stream ?? process.stdout;
  }

  async start(_committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {}

  async deliver(batch: Batch, _options?: OperationOptions): Promise<DeliveryOutcome> {
    let out = "";
    for (const record of batch.records) out += `${record.raw.replace(/[\r\n]+/g, " ")}\n`;
    return new Promise((resolveWrite) => {
      this.stream.write(out, (error) => {
        resolveWrite(
          error
            ? {
                kind: "failure",
                error: new Error(`stdout sink: ${error.message}`, { cause: error }),
              }
            : { kind: "success" },
        );
      });
    });
  }

  async close(): Promise<void> {}
}
