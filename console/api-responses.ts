/**
 * Response shapes for the OpenAPI document of the operations that OpenAPI links join, so a client (and
 * Schemathesis's response_schema_conformance) checks what the console really answers. Strict where the
 * console builds the object; open only where the content is data (events are ECS documents).
 */
import { z } from 'zod';
import { ALERT_STATUSES, RULE_LEVELS } from '../core/index.js';

const Bilingual = z.strictObject({ zh: z.string(), en: z.string() });

export const AlertView = z.strictObject({
  id: z.string(),
  rule: z.strictObject({ id: z.string(), title: z.string(), level: z.enum(RULE_LEVELS) }),
  mlps: z.array(z.string()),
  department: z.string().optional(),
  system: z.string().optional(),
  mlpsLevel: z.number().int().optional(),
  priority: z.number(),
  status: z.enum(ALERT_STATUSES),
  assignee: z.string().optional(),
  timeline: z.array(z.strictObject({
    at: z.string(),
    actor: z.string(),
    action: z.enum(['raised', 'status', 'assign', 'comment', 'notify']),
    notification: z.strictObject({
      channel: z.string(), route: z.string(), step: z.number().int(), kind: z.string(),
      outcome: z.enum(['delivered', 'failed', 'skipped']), attempt: z.number().int(), latencyMs: z.number(), error: z.string().optional(),
    }).optional(),
    from: z.enum(ALERT_STATUSES).optional(),
    to: z.enum(ALERT_STATUSES).optional(),
    assignee: z.string().optional(),
    comment: z.string().optional(),
  })),
  firstSeen: z.string(),
  lastSeen: z.string(),
  count: z.number().int(),
  suppressed: z.strictObject({ id: z.string(), until: z.string() }).optional(),
  sampleEventIds: z.array(z.string()),
  groupKey: z.string().optional(),
  /** Per writer (a collector process, a correlation partition): the newest contribution it counted in. */
  writers: z.record(z.string(), z.string()).optional(),
});

/** A page of any list: `next` is the cursor of the following page. */
function pageOf<T extends z.ZodType>(item: T) {
  return z.strictObject({ items: z.array(item), total: z.number().int().min(0), totalIsLowerBound: z.literal(true).optional(), next: z.string().optional() });
}

export const AlertPage = pageOf(AlertView);

export const AlertDetail = AlertView.extend({
  mlpsRequirements: z.array(z.strictObject({
    ref: z.string(), clause: z.string(), level: z.number().int(), testUnit: z.string(), control: Bilingual, requirement: Bilingual,
  })),
  explanation: z.strictObject({
    rule: z.strictObject({
      id: z.string(), title: z.string(), description: z.string().optional(), falsepositives: z.array(z.string()), kind: z.string(),
    }).optional(),
    response: Bilingual.optional(),
    matched: z.array(z.strictObject({ field: z.string(), expected: z.array(z.string()), values: z.array(z.string()), rule: z.string() })),
    entities: z.array(z.strictObject({ field: z.string(), value: z.string() })),
  }),
});

export const RelatedAlerts = z.strictObject({
  items: z.array(AlertView.extend({ via: z.array(z.strictObject({ field: z.string(), value: z.string() })) })),
  window: z.strictObject({ from: z.string(), to: z.string() }),
});

/** An ECS event: the console adds nothing, the collectors decide the rest. */
export const EventView = z.looseObject({ id: z.string(), '@timestamp': z.string() });
export const EventPage = pageOf(EventView);

/** A job just queued from the console. */
export const BackupJobQueued = z.strictObject({ job: z.string(), system: z.string() });

/** BullMQ's progress: whatever the worker reported, 0 before it starts. */
const Progress = z.union([z.number(), z.string(), z.boolean(), z.record(z.string(), z.unknown())]);
const ResultStatus = z.enum(['pass', 'warn', 'fail']);

export const BackupJobView = z.strictObject({
  id: z.string(),
  kind: z.enum(['verify', 'drill']),
  system: z.string(),
  sites: z.array(z.string()).optional(),
  /** Drills: the copy restored from. */
  site: z.enum(['same-city', 'off-site']).optional(),
  state: z.string(),
  progress: Progress,
  attemptsMade: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  outcome: z.strictObject({
    status: ResultStatus, results: z.array(z.strictObject({ id: z.string(), status: ResultStatus })), alerts: z.array(z.string()),
  }).optional(),
  failedReason: z.string().optional(),
});

export const EvidenceJobQueued = z.strictObject({ job: z.string(), status: z.literal('queued') });

export const EvidenceJobView = z.strictObject({
  job: z.string(),
  state: z.string(),
  progress: Progress,
  selection: z.strictObject({ from: z.string(), to: z.string(), system: z.string().optional(), department: z.string().optional() }),
  result: z.strictObject({
    bytes: z.number().int(), files: z.number().int(), systems: z.number().int(), statuses: z.record(z.string(), z.number().int()), fingerprint: z.string(),
  }).optional(),
  error: z.string().optional(),
});

/** The inventory in scope; only what links and lists rely on is pinned, the rest is the operator's file. */
export const InventoryView = z.strictObject({
  departments: z.array(z.looseObject({ id: z.string(), name: z.string() })),
  systems: z.array(z.looseObject({ id: z.string(), name: z.string(), department: z.string() })),
});
