import type { Alert, Config } from '../../core/index.js';

export type NotifyConfig = Config['notify'];
export type ChannelConfig = NotifyConfig['channels'][number];
export type RouteConfig = NotifyConfig['routes'][number];
export type ChannelType = ChannelConfig['type'];

/**
 * What one message is about: `alert` the first notice of an alert, `group` the repeats folded within the
 * grouping window, `held` what waited out quiet hours or the rate limit, `digest` the daily digest,
 * `escalation` tier `step` of an alert still unacknowledged.
 */
export type DispatchKind = 'alert' | 'group' | 'held' | 'digest' | 'escalation' | 'test';

/** One message to one channel; `key` is its idempotency key (the BullMQ job id). */
export interface Dispatch {
  key: string;
  kind: DispatchKind;
  routeId: string;
  channelId: string;
  /** 0: the first notice; k: escalation tier k. */
  step: number;
  /** The alerts the message is about, the first one leading (at most DISPATCH_ALERT_LIMIT). */
  alerts: Alert[];
  /** Occurrences the message stands for (repeats folded in, alerts beyond the list). */
  count: number;
  /** Added to an email or SMS channel's own recipients (routes with `toDepartment`). */
  recipients?: Recipients;
}

export interface Recipients { emails: string[]; phones: string[] }

export const DISPATCH_ALERT_LIMIT = 20;
