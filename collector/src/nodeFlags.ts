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
