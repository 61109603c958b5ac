import { decodeInfoCenter, decodeSangfor } from './boundary-vendors.js';
import { decodeCef } from './cef.js';
import { decodeKvFirewall } from './kv-firewall.js';
import { decodeLeef } from './leef.js';
import { decodeNetfilter } from './netfilter.js';
import { programName } from './messages.js';
import type { EcsFields, MessageInput } from './types.js';

/**
 * Syslog messages of boundary devices (firewalls, WAFs, IDS) → ECS, before the host programs' decoders.
 * Undefined when the message is none of them (the line stays a plain syslog event, its device still
 * mapped to its system by the host name); `{ ok: false }` when it says it is CEF or LEEF but breaks
 * that format (a dead letter with the reason, the line kept there).
 */
export type BoundaryResult = { ok: true; fields: EcsFields } | { ok: false; reason: string } | undefined;

/** A program name that is really the start of a CEF/LEEF record or an information-center tag, not a program. */
export function isRecordTag(program: string | undefined): boolean {
  return program !== undefined && (program === 'CEF' || program === 'LEEF' || program.startsWith('%%'));
}

export function decodeBoundaryMessage({ message, program }: MessageInput): BoundaryResult {
  // A sender that writes no tag before `CEF:`/`%%01…` makes the syslog parser take it for the program name.
  const text = program !== undefined && isRecordTag(program) ? `${program}:${program.startsWith('%%') ? ' ' : ''}${message}` : message;
  if (text.startsWith('CEF:')) return decodeCef(text);
  if (text.startsWith('LEEF:')) return decodeLeef(text);
  const name = programName(program);
  if (name === 'kernel' || text.includes(' SRC=')) {
    const fields = decodeNetfilter(text);
    if (fields) return { ok: true, fields };
  }
  if (text.startsWith('%%')) {
    const fields = decodeInfoCenter(text);
    if (fields) return { ok: true, fields };
  }
  if (name === 'fwlog') {
    const fields = decodeSangfor(text);
    if (fields) return { ok: true, fields };
  }
  const fields = decodeKvFirewall(text);
  return fields ? { ok: true, fields } : undefined;
}
