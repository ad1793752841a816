/**
 * Flag parsing the user commands share (the commands' contract: same names, same checks, same
 * one-line errors): zod schemas for GUID, https URL and whole-number flags, and commander's
 * errors turned into one line that never echoes a value (it could be a secret).
 */
import type { CommanderError } from "commander";
import { z } from "zod";
import { CLOUD_NAMES } from "../../domain/clouds";
import { isGuid } from "../../domain/validators";

/** A GUID flag; the message names the flag and what the GUID is. */
export function guidFlag(flag: string, what: string) {
  return z.string().refine(isGuid, `${flag}: must be a GUID (${what})`);
}

/** An https URL flag, trailing slashes removed. */
export function httpsUrlFlag(flag: string) {
  return z
    .string()
    .refine((value) => {
      try {
        return new URL(value).protocol === "https:";
      } catch {
        return false;
      }
    }, `${flag}: must be an https:// URL`)
    .transform((value) => value.replace(/\/+$/, ""));
}

/** A whole-number flag within [min, max]. */
export function integerFlag(flag: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `${flag}: must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine(
      (n) => n >= min && n <= max,
      `${flag}: must be a whole number between ${min} and ${max}`,
    );
}

/** The trimmed value, or undefined when it is absent or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** commander's error as one line for `command` (the only choice flag the commands have is --cloud). */
export function commanderMessage(error: CommanderError, command: string): string {
  const flag = /'(--[a-z-]+)/.exec(error.message)?.[1] ?? "a flag";
  switch (error.code) {
    case "commander.unknownOption": {
      const token = /'([^']+)'/.exec(error.message)?.[1] ?? "";
      return `unknown flag ${token.split("=")[0]}: see npm run ${command} -- --help`;
    }
    case "commander.optionMissingArgument":
      return `${flag} needs a value`;
    case "commander.excessArguments":
      // The stray word is not echoed: it may be a value meant for a flag, even a secret.
      return `unexpected argument: ${command} takes only --flags (see npm run ${command} -- --help)`;
    case "commander.invalidArgument":
      // e.g. "error: option '--cloud <name>' argument 'mars' is invalid. Allowed choices are ..."
      return `${flag}: must be one of ${CLOUD_NAMES.join(", ")}`;
    default:
      return error.message.replace(/^error:\s*/, "").split("\n")[0] ?? "invalid command line";
  }
}
