/**
 * Pure checks used on both sides of the env contract (the stack's config and the component
 * arguments; the collector's settings; the commands' flags). Each returns a problem phrase or a
 * boolean; the caller adds the key or flag name and the fix.
 */

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A data collection rule's immutable id: `dcr-` and 32 hex digits. */
const DCR_IMMUTABLE_ID_RE = /^dcr-[0-9a-f]{32}$/i;
/** A DCR custom stream: `Custom-` and letters, digits or underscores. */
const CUSTOM_STREAM_RE = /^Custom-[A-Za-z0-9_]+$/;

/** True for a GUID in 8-4-4-4-12 hex form. */
export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}

/** Problem with a GUID value, if any. */
export function guidProblem(value: string): string | undefined {
  return isGuid(value) ? undefined : "must be a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47";
}

/** True for a data collection rule immutable id (`dcr-` + 32 hex digits). */
export function isDcrImmutableId(value: string): boolean {
  return DCR_IMMUTABLE_ID_RE.test(value);
}

/** True for a DCR custom stream name (`Custom-…`). */
export function isCustomStreamName(value: string): boolean {
  return CUSTOM_STREAM_RE.test(value);
}

const DURATION_UNITS_IN_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses `500ms`, `60s`, `15m`, `2h`, `7d` (a whole number and one unit) into milliseconds.
 * Returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(ms|s|m|h|d)$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS_IN_MS[match[2]!.toLowerCase()]!;
}

/** `90000` → `1m30s`: durations in messages and logs. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}
