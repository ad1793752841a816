/**
 * Test blobs for the encoders that run on the parse workers: one blob of every content type as
 * the emulator's generator writes it, and one of hand-written odd records.
 */
import type { RowContext } from "../../../collector/src/sinks/logsIngestionRows";
import { buildCatalogue, CONTENT_TYPES, renderBlob } from "../../../emulator/src/generator";

/** When the generated catalogue starts. */
export const CORPUS_START_MS = Date.UTC(2026, 10, 27, 12, 0, 0);

/** A blob with the context its records are encoded in. */
export interface CorpusBlob {
  context: RowContext;
  body: Uint8Array;
}

/** Generated blobs (`seed`) of every content type, then one blob of `oddRecords`. */
export function blobCorpus(seed: number, oddRecords: readonly string[]): CorpusBlob[] {
  const catalogue = buildCatalogue(
    { historyHours: 2, blobsPerHour: 2, recordsPerBlob: [20, 60], duplicateRate: 0 },
    seed,
    CORPUS_START_MS,
  );
  const blobs: CorpusBlob[] = CONTENT_TYPES.map((contentType) => {
    const plan = catalogue.blobs.find((blob) => blob.contentType === contentType && !blob.expired);
    if (!plan) throw new Error(`the catalogue has no ${contentType} blob`);
    return {
      context: {
        contentType,
        contentId: plan.contentId,
        contentCreated: new Date(plan.contentCreatedMs).toISOString(),
      },
      body: Buffer.from([...renderBlob(plan)].join(""), "utf8"),
    };
  });
  blobs.push({
    context: {
      contentType: "Audit.General",
      contentId: "odd$blob",
      contentCreated: "2026-03-01T10:05:00.000Z",
    },
    body: Buffer.from(`[${oddRecords.join(",\r\n")}]`, "utf8"),
  });
  return blobs;
}
