/**
 * V8 flags the collector runs with. The pipeline bounds what it holds (batches, one delivery
 * round, a few blobs being read: well under 150 MB at the defaults), but V8 lets garbage pile up
 * to gigabytes before collecting it when nothing caps the heap, and lets the main thread's young
 * generation grow to 32 MiB (see MAIN_MAX_SEMI_SPACE_MB in containerLimits.ts).
 *
 * In the container image the cap comes from the container's memory limit: collector/Dockerfile's
 * CMD runs this file first (`node bin/collector/src/nodeFlags.js` prints the flags) and then
 * `exec`s node with them, so the collector is still PID 1's only child and gets SIGTERM itself.
 * Outside a container (`npm run collector`, `npm start`, the benchmarks) the fixed
 * {@link COLLECTOR_NODE_FLAGS} apply.
 */
import {
  type ContainerLimits,
  DEFAULT_MAX_OLD_SPACE_SIZE_MB,
  heapSizes,
  MAIN_MAX_SEMI_SPACE_MB,
  readContainerLimits,
} from "./containerLimits";

/** The flags without a memory limit (package.json `collector` script, `npm start`, bench). */
export const COLLECTOR_NODE_FLAGS: readonly string[] = [
  `--max-old-space-size=${DEFAULT_MAX_OLD_SPACE_SIZE_MB}`,
  `--max-semi-space-size=${MAIN_MAX_SEMI_SPACE_MB}`,
];

/**
 * Environment the collector's node process starts with (collector/Dockerfile's ENV; the
 * benchmarks pass the same). glibc gives each thread that allocates its own malloc arena (up to
 * 8 per core) and keeps what is freed in it: the main thread, the parse threads, the state
 * store's thread, libuv's gzip threads and V8's GC helpers each held their own. Two arenas took
 * 21 MB off the logs-ingestion benchmark's peak RSS at 1,000,000 records (260.9 → 239.7 MB) at
 * the same throughput (docs/benchmarks.md). Read by glibc when the process starts, so it cannot be
 * set from inside node; musl-based images ignore it.
 * https://www.gnu.org/software/libc/manual/html_node/Memory-Allocation-Tunables.html
 */
export const COLLECTOR_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };

/** The flags for the limits the process runs under (cgroup `memory.max` / `memory.limit_in_bytes`). */
export function collectorNodeFlags(limits: ContainerLimits = readContainerLimits()): string[] {
  return [
    `--max-old-space-size=${heapSizes(limits).mainOldSpaceMb}`,
    `--max-semi-space-size=${MAIN_MAX_SEMI_SPACE_MB}`,
  ];
}

// Run as a program (the image's CMD): print the flags, space-separated, for the shell to pass on.
if (require.main === module) {
  process.stdout.write(`${collectorNodeFlags().join(" ")}\n`);
}
