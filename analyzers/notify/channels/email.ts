import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { NotifyErrors } from '../errors.js';
import type { NotifyMessage } from '../message.js';
import { allowedAddresses, REFUSED_ADDRESS, REFUSED_CODE } from '../targets.js';
import type { Dispatch } from '../types.js';

export interface EmailChannel {
  id: string; host: string; port: number; security: 'starttls' | 'tls' | 'none';
  user?: string | undefined; password?: string | undefined; from: string; to: string[]; caFile?: string | undefined;
}

/**
 * One transport per channel; `starttls` refuses a server that does not offer it (no silent plain text). `address`: the
 * server's address, resolved and checked (allowedAddresses), so the connection goes where the check looked; the
 * certificate is still checked against the host name.
 */
export function emailTransport(channel: EmailChannel, timeoutMs: number, address = channel.host) {
  return nodemailer.createTransport({
    host: address, port: channel.port, ...(address !== channel.host ? { servername: channel.host } : {}),
    secure: channel.security === 'tls',
    requireTLS: channel.security === 'starttls',
    ignoreTLS: channel.security === 'none',
    ...(channel.user ? { auth: { user: channel.user, pass: channel.password ?? '' } } : {}),
    ...(channel.caFile ? { tls: { ca: readFileSync(channel.caFile) } } : {}),
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
  });
}

export async function sendEmail(channel: EmailChannel, dispatch: Dispatch, message: NotifyMessage, timeoutMs: number): Promise<void> {
  // The socket timeouts are idle times: a server trickling an endless answer is never idle. This one bounds the attempt,
  // the name's resolution included.
  const deadline = AbortSignal.timeout(timeoutMs);
  let addresses: string[];
  try {
    addresses = (await Promise.race([allowedAddresses(channel.host), aborted(deadline)])).map(({ address }) => address);
  } catch (error) {
    if (deadline.aborted) throw NotifyErrors.send(channel.id, 'TimeoutError');
    const code = (error as NodeJS.ErrnoException).code;
    throw NotifyErrors.send(channel.id, code === REFUSED_CODE ? REFUSED_ADDRESS : `DNS ${code ?? (error as Error).message}`);
  }
  // Each address in turn while none could be connected to (a broken IPv6 route, one host of several down), as
  // nodemailer does for a name; an answer from a server ends it, so a message is never sent twice.
  for (const [i, address] of addresses.entries()) {
    try {
      return await sendTo(channel, address, dispatch, message, timeoutMs, deadline);
    } catch (error) {
      if (i === addresses.length - 1 || (error as { connectFailed?: boolean }).connectFailed !== true) throw error;
    }
  }
}

/** Rejects when the signal aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}

async function sendTo(channel: EmailChannel, address: string, dispatch: Dispatch, message: NotifyMessage, timeoutMs: number, deadline: AbortSignal): Promise<void> {
  const transport = emailTransport(channel, timeoutMs, address);
  try {
    // nodemailer encodes the zh-CN subject as RFC 2047 words and the body as UTF-8 quoted-printable/base64.
    await transport.sendMail({
      from: channel.from, to: [...new Set([...channel.to, ...(dispatch.recipients?.emails ?? [])])], subject: message.subject, text: message.text,
      headers: { 'X-Shouwang-Key': dispatch.key, ...(dispatch.alerts[0] ? { 'X-Shouwang-Alert': dispatch.alerts[0].id } : {}) },
      // The same message id for every retry of one dispatch: a mail server can drop the duplicate.
      messageId: `<${dispatch.key}@shouwang>`,
      signal: deadline,
    } as Parameters<typeof transport.sendMail>[0]);
  } catch (error) {
    const e = error as Error & { code?: string; responseCode?: number };
    if (deadline.aborted) throw NotifyErrors.send(channel.id, 'TimeoutError');
    const failure = NotifyErrors.send(channel.id, `${e.code ?? 'SMTP'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${e.message.slice(0, 200)}`);
    // ECONNECTION: no connection was made to this address, so nothing was sent through it.
    throw Object.assign(failure, { connectFailed: e.code === 'ECONNECTION' });
  } finally {
    transport.close();
  }
}
