/**
 * Table-driven message decoders: each row is a regex with named groups plus the ECS categorization
 * of the messages it matches, so adding a message kind is adding one row. Group names come from a
 * fixed vocabulary (GROUPS below) that says which ECS field each one fills; rows are checked when
 * the module loads (unknown group, category/type ECS does not expect), never per message.
 */
import { isIP } from 'node:net';
import { assertCategorization, ecsFields, type EcsCategory, type EcsOutcome, type EcsType } from './ecs.js';
import type { EcsFields, MessageDecoder } from './types.js';

export interface MessageRule {
  pattern: RegExp;
  action: string;
  category: readonly EcsCategory[];
  type: readonly EcsType[];
  /** Left out when the message does not say (a disconnect is neither success nor failure). */
  outcome?: EcsOutcome;
}

type Flat = Record<string, unknown>;

/** Named group → where its text goes. */
const GROUPS: Record<string, (flat: Flat, value: string) => void> = {
  user: (f, v) => (f['user.name'] = v),
  effective: (f, v) => (f['user.effective.name'] = v),
  // The account an IAM change is about (ECS user.target), e.g. the user useradd created.
  target: (f, v) => (f['user.target.name'] = v),
  target_id: (f, v) => (f['user.target.id'] = v),
  group: (f, v) => (f['group.name'] = v),
  group_id: (f, v) => (f['group.id'] = v),
  // rhost= and sshd's "from" carry a host name when DNS lookups are on; source.ip is typed `ip`.
  source: (f, v) => (isIP(v) ? (f['source.ip'] = v) : (f['source.domain'] = v)),
  host: (f, v) => (f['source.domain'] = v),
  port: (f, v) => (f['source.port'] = Number(v)),
  command: (f, v) => (f['process.command_line'] = v),
  cwd: (f, v) => (f['process.working_directory'] = v),
  error: (f, v) => {
    f['error.message'] = v;
    f['event.outcome'] = 'failure';
  },
  // Not in ECS; named as Filebeat's system module names them, so existing queries keep working.
  method: (f, v) => (f['system.auth.ssh.method'] = v),
  signature: (f, v) => (f['system.auth.ssh.signature'] = v),
  home: (f, v) => (f['system.auth.useradd.home'] = v),
  shell: (f, v) => (f['system.auth.useradd.shell'] = v),
  // PAM: "session opened for user <for_user> by <by_user>". Without a by-user (a daemon running as
  // root opened it) the for-user is the user; with one, the for-user is whom they became.
  for_user: (f, v) => (f['user.name'] === undefined ? (f['user.name'] = v) : (f['user.effective.name'] = v)),
  by_user: (f, v) => {
    if (f['user.name'] !== undefined) f['user.effective.name'] = f['user.name'];
    f['user.name'] = v;
  },
};

const GROUP_NAME = /\(\?<([A-Za-z_]\w*)>/g;

/** Compiles a table of rules into one decoder; throws at load on a row the vocabulary does not cover. */
export function defineMessageDecoder(name: string, programs: readonly string[] | undefined, rules: readonly MessageRule[]): MessageDecoder {
  for (const rule of rules) {
    const where = `message decoder ${name}, rule ${rule.action} ${rule.pattern}`;
    for (const [, group] of rule.pattern.source.matchAll(GROUP_NAME)) {
      if (!(group! in GROUPS)) throw new Error(`${where}: unknown group <${group}>`);
    }
    assertCategorization(where, rule);
  }
  return {
    name,
    ...(programs ? { programs } : {}),
    decode({ message }) {
      for (const rule of rules) {
        const match = rule.pattern.exec(message);
        if (match) return build(rule, match.groups);
      }
      return undefined;
    },
  };
}

function build(rule: MessageRule, groups: Record<string, string | undefined> = {}): EcsFields {
  const flat: Flat = {
    'event.action': rule.action,
    'event.category': [...rule.category],
    'event.type': [...rule.type],
    'event.outcome': rule.outcome,
  };
  // `groups` is a null-prototype object: for-in sees only its own keys, and allocates no entry arrays.
  for (const group in groups) {
    const value = groups[group];
    // Optional groups that did not take part are undefined; empty ones (`rhost=`) say nothing either.
    if (value !== undefined && value !== '') GROUPS[group]!(flat, value);
  }
  return ecsFields(flat);
}
