import { describe, expect, it } from 'vitest';
import { closerStack } from '../../bin/closers.js';

describe('closer stack', () => {
  it('closes in reverse order of start, keeps going past a failing step, and closes once when called twice', async () => {
    const order: string[] = [];
    const errors: unknown[] = [];
    const closers = closerStack({ error: (detail: unknown) => void errors.push(detail) });
    closers.push(() => order.push('store'));
    closers.push(async () => {
      await Promise.resolve();
      order.push('redis');
    }, () => {
      throw new Error('queue close failed');
    });
    closers.push(() => order.push('collectors'));
    await Promise.all([closers.close(), closers.close()]);
    await closers.close();
    expect(order).toEqual(['collectors', 'redis', 'store']);
    expect(errors).toHaveLength(1);
  });
});
