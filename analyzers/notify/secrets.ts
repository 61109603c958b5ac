import { readFileSync } from 'node:fs';
import { fillSmsTemplate } from './channels/sms.js';
import { NotifyErrors } from './errors.js';
import { isRefusedHost, REFUSED_ADDRESS, urlProblem } from './targets.js';
import type { ChannelConfig, NotifyConfig } from './types.js';

type Secret = string | { file: string } | { env: string };

/** Reads a secret given inline, from a file (trailing newline dropped) or from a variable. */
export function resolveSecret(secret: Secret, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof secret === 'string') return secret;
  if ('file' in secret) {
    try {
      return readFileSync(secret.file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw NotifyErrors.config(`${where}: cannot read ${secret.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const value = env[secret.env];
  if (!value) throw NotifyErrors.config(`${where}: variable ${secret.env} is not set`);
  return value;
}

type SecretField = 'url' | 'secret' | 'password' | 'template';
type Resolve<C> = Omit<C, SecretField> & { [F in Extract<keyof C, SecretField>]: undefined extends C[F] ? string | undefined : string };
/** A channel with every secret read: `{ file }` / `{ env }` replaced by the value. */
export type ResolvedChannel = ChannelConfig extends infer C ? (C extends unknown ? Resolve<C> : never) : never;

/** Reads every channel's secrets and checks that routes name known channels; once at start. */
export function resolveChannels(config: Pick<NotifyConfig, 'channels' | 'routes'>, env: NodeJS.ProcessEnv = process.env): Map<string, ResolvedChannel> {
  const channels = new Map<string, ResolvedChannel>();
  for (const channel of config.channels) {
    if (channels.has(channel.id)) throw NotifyErrors.config(`channel id ${channel.id} appears twice`);
    const resolved: Record<string, unknown> = { ...channel };
    for (const field of ['url', 'secret', 'password', 'template'] as const) {
      const value = (channel as Record<string, unknown>)[field] as Secret | undefined;
      if (value !== undefined) resolved[field] = resolveSecret(value, `notify.channels.${channel.id}.${field}`, env);
    }
    // Checked once read (a URL from a file or variable too), so a bad one stops the start, not each send.
    const problem = typeof resolved.url === 'string' ? urlProblem(resolved.url) : undefined;
    if (problem) throw NotifyErrors.config(`notify.channels.${channel.id}.url ${problem}`);
    if (channel.type === 'email' && isRefusedHost(channel.host)) throw NotifyErrors.config(`notify.channels.${channel.id}.host ${REFUSED_ADDRESS}`);
    // A template that cannot give JSON stops the start, not each alert's text message.
    if (channel.type === 'sms') fillSmsTemplate(resolved.template as string, { subject: '', text: '', markdown: '', short: 'x' }, ['1'], channel.id);
    channels.set(channel.id, resolved as ResolvedChannel);
  }
  for (const route of config.routes) {
    for (const id of [...route.channels, ...route.escalation.flatMap((tier) => tier.channels)]) {
      if (!channels.has(id)) throw NotifyErrors.config(`route ${route.id} names channel ${id}, which is not in notify.channels`);
    }
  }
  return channels;
}
