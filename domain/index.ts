/**
 * Facts every part of AuditBridge shares: clouds, content types, API limits, records, the
 * Log Analytics table, the collector's environment contract and the validators used on both
 * sides of it. Depends on nothing else in the repository.
 */
export * from "./apiErrors";
export * from "./apiLimits";
export * from "./clouds";
export * from "./collectorEnv";
export * from "./contentTypes";
export * from "./cron";
export * from "./errors";
export * from "./records";
export * from "./siemSettings";
export * from "./table";
export * from "./validators";
