import { errors } from '@elastic/elasticsearch';
import { ShouwangError } from '../../core/index.js';
import { StoreErrors } from '../errors.js';

/** The reason Elasticsearch gave, e.g. `mapper_parsing_exception: failed to parse field [source.ip]`. */
type Cause = { type?: string | null; reason?: string | null; caused_by?: Cause | null };

export function reasonOf(error: Cause | undefined | null): string {
  if (!error) return 'unknown error';
  const cause = error.caused_by?.reason ? ` (${error.caused_by.type}: ${error.caused_by.reason})` : '';
  return `${error.type ?? 'error'}: ${error.reason ?? ''}${cause}`;
}

/** Client errors become ours where they enter our code: unreachable → 503, a bad query → 400. */
export function translateError(error: unknown): ShouwangError {
  if (error instanceof ShouwangError) return error;
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 500;
    const reason = reasonOf((error.body as { error?: Cause } | undefined)?.error);
    if (status === 400) return StoreErrors.invalidQuery(reason);
    if (status === 404) return StoreErrors.notFound('index', reason);
    return StoreErrors.unavailable(`HTTP ${status} ${reason}`);
  }
  if (error instanceof errors.ElasticsearchClientError) return StoreErrors.unavailable(`${error.name}: ${error.message}`);
  return StoreErrors.unavailable((error as Error)?.message ?? String(error));
}

/** Runs a client call and translates what it throws. */
export async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateError(error);
  }
}

/**
 * Transport options for a write that must not be sent twice. The client resends a request whose answer it lost (a node
 * died after passing it on); a create or a seq_no-guarded index then meets its own first copy as a 409, which reads as
 * another writer's change, so the change would be applied twice (an alert counted twice, an audit entry appended twice).
 * Without the resend the failure reaches the caller, which re-reads what landed.
 */
export const SEND_ONCE = { maxRetries: 0 } as const;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
