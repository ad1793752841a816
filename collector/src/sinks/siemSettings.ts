/**
 * The syslog and Splunk HEC setting parsers live in domain/siemSettings.ts, where the Pulumi
 * stack config checks the same values with the same rules before a deployment.
 */
export * from "../../../domain/siemSettings";
