/**
 * Syslog message → ECS fields, by program. The decoders are listed once here and indexed by program
 * name at load, so a message only meets the decoders of its program plus those for every program (PAM).
 */
import { accountMessages, cronMessages } from './account-messages.js';
import { webMessages } from './access-log.js';
import { pamMessages, sshdMessages, suMessages, sudoMessages } from './auth-messages.js';
import type { EcsFields, MessageDecoder, MessageInput } from './types.js';

/** Program-specific decoders first: the first one that recognizes a message wins. */
export const MESSAGE_DECODERS: readonly MessageDecoder[] = [
  sshdMessages, sudoMessages, suMessages, accountMessages, cronMessages, webMessages, pamMessages,
];

const FOR_EVERY_PROGRAM = MESSAGE_DECODERS.filter((d) => !d.programs);
const BY_PROGRAM = new Map<string, MessageDecoder[]>();
for (const decoder of MESSAGE_DECODERS) {
  for (const program of decoder.programs ?? []) {
    const list = BY_PROGRAM.get(program) ?? [];
    list.push(decoder);
    BY_PROGRAM.set(program, list);
  }
}
for (const [program, list] of BY_PROGRAM) BY_PROGRAM.set(program, [...list, ...FOR_EVERY_PROGRAM]);

// rsyslog folds repeats: "message repeated 2 times: [ Failed password for root from … ]".
const REPEATED = /^message repeated \d+ times: \[ ?(.*?) ?\]$/;

/** The fields a known message carries, or undefined: the event then keeps its message only. */
export function decodeMessage(input: MessageInput): EcsFields | undefined {
  const repeated = REPEATED.exec(input.message);
  const message = repeated ? repeated[1]! : input.message;
  const program = programName(input.program);
  const decoders = (program !== undefined && BY_PROGRAM.get(program)) || FOR_EVERY_PROGRAM;
  for (const decoder of decoders) {
    const fields = decoder.decode({ message, program });
    if (fields) return fields;
  }
  return undefined;
}

/**
 * `sshd(pam_unix)` (old rsyslog: the PAM module in the tag) → `sshd`; `/usr/sbin/cron` → `cron`;
 * `CRON` (Debian) and `crond` (Red Hat) in lower case.
 */
export function programName(program: string | undefined): string | undefined {
  if (!program) return undefined;
  const base = program.slice(program.lastIndexOf('/') + 1).replace(/\([^)]*\)$/, '');
  return base.toLowerCase();
}
