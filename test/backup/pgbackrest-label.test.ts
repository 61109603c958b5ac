import { describe, expect, it } from 'vitest';
import { isPgbackrestLabel } from '../../backup/targets/pgbackrest-repository.js';

describe('pgBackRest labels from a repository anyone with write access can edit', () => {
  it('takes full, differential and incremental labels, and nothing that could name another path or option', () => {
    for (const label of ['20261206-020000F', '20261206-020000F_20261207-020000D', '20261206-020000F_20261207-020000I']) {
      expect(isPgbackrestLabel(label), label).toBe(true);
    }
    for (const label of ['../20261206-020000F', '20261206-020000F/../../x', '--set=x', '20261206-020000F\n', '', 'latest', 20261206, null]) {
      expect(isPgbackrestLabel(label), JSON.stringify(label)).toBe(false);
    }
  });
});
