/**
 * Decoders turn the text of one record into ECS fields. They are pure functions: no I/O, nothing
 * compiled per call (regexes live at module level), and they never throw on bad input.
 */

/** Nested ECS fields, e.g. `{ event: { action: 'ssh_login', outcome: 'failure' }, source: { ip: '1.2.3.4' } }`. */
export type EcsFields = Record<string, unknown>;

/** What a syslog-style message decoder sees: the message after the syslog header, and the program. */
export interface MessageInput {
  message: string;
  program?: string;
}

/**
 * Recognizes messages of some programs (sshd, sudo, nginx…). Returns the fields it understood, or
 * undefined when the message is not one of its kinds (the event is then kept with its message only).
 */
export interface MessageDecoder {
  name: string;
  /** Programs this decoder is for (`sshd`, `sudo`…); absent means it is tried on every message. */
  programs?: readonly string[];
  decode(input: MessageInput): EcsFields | undefined;
}

/** Result of a whole-record decoder (a database-audit line, an access-log line…). */
export type RecordResult = { ok: true; fields: EcsFields } | { ok: false; reason: string };

export interface RecordContext {
  /** Zone offset for timestamps that carry none, e.g. `+08:00`. */
  utcOffset: string;
  now: Date;
}

/** Decodes one record that is a whole line of its own format (not wrapped in syslog). */
export type RecordDecoder = (line: string, context: RecordContext) => RecordResult;
