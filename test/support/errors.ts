import { ShouwangError } from '../../core/index.js';

/** The ShouwangError that `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): ShouwangError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ShouwangError) return error;
    throw error;
  }
  throw new Error('expected a ShouwangError');
}
