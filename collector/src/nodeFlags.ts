/**
 * V8 flags the collector runs with (package.json `collector` script, collector/Dockerfile CMD,
 * `npm start`, the benchmarks). The pipeline bounds what it holds (batches, one delivery round,
 * a few blobs being read: well under 150 MB at the defaults), but V8 lets garbage pile up to
 * gigabytes before collecting it when nothing caps the heap. The cap keeps the process's
 * footprint near its working set (about 300 MB resident for a 1M-record backlog).
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ["--max-old-space-size=192"];
