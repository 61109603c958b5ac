import { connectionFields } from './network-fields.js';
import type { EcsFields } from './types.js';

/**
 * Linux netfilter packet logs as the kernel writes them: iptables' `LOG` target (`--log-prefix`) and
 * nftables' `log prefix` statement both print `PREFIX IN=eth0 OUT= MAC=… SRC=… DST=… LEN=… PROTO=TCP
 * SPT=… DPT=…` (net/netfilter/nf_log_syslog.c, nf_log_dump_packet). Flags (`DF`, `SYN`) are words
 * without `=`. The prefix is the administrator's: it says the verdict when it holds one (`DROP`, `ACCEPT`).
 */

// The kernel's own timestamp (`[12345.678901] `) when rsyslog keeps it, then the prefix up to ` IN=`.
const PACKET = /^(?:\[\s*\d+\.\d+\]\s*)?(?<prefix>.*?)\s*\bIN=(?<rest>\S*\s.*)$/s;
const PAIR = /(?:^|\s)([A-Z]+)=(\S*)/g;

/** Undefined when the message is no netfilter packet log; then the line stays a plain syslog event. */
export function decodeNetfilter(message: string): EcsFields | undefined {
  if (!message.includes(' SRC=') || !message.includes('IN=')) return undefined;
  const match = PACKET.exec(message);
  if (!match) return undefined;
  const { prefix, rest } = match.groups!;
  const values: Record<string, string> = {};
  values.IN = rest!.slice(0, rest!.search(/\s/));
  for (const [, key, value] of rest!.matchAll(PAIR)) if (!(key! in values)) values[key!] = value!;
  if (values.SRC === undefined || values.DST === undefined) return undefined;
  const label = prefix!.trim().replace(/[:\s]+$/, '');
  const fields = connectionFields({
    dataset: 'netfilter.log',
    vendor: 'Linux',
    product: 'netfilter',
    sourceIp: values.SRC,
    destinationIp: values.DST,
    sourcePort: values.SPT,
    destinationPort: values.DPT,
    transport: values.PROTO,
    verdict: label,
    ...(label ? { ruleName: label } : {}),
    ...(values.IN ? { ingressInterface: values.IN } : {}),
    ...(values.OUT ? { egressInterface: values.OUT } : {}),
  });
  const length = Number(values.LEN);
  // A line cut before PROTO= has no network object yet (found by the boundary fuzz).
  if (values.LEN !== undefined && Number.isInteger(length) && length >= 0) fields.network = { ...(fields.network as object | undefined), bytes: length };
  return fields;
}
