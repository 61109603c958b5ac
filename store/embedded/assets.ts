import type { Database } from 'better-sqlite3';
import type { BusinessSystem, Department, Inventory } from '../../core/index.js';
import type { AssetStore, Scope } from '../ports.js';
import { Where } from './sql.js';

export class EmbeddedAssetStore implements AssetStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async replaceInventory(inventory: Inventory): Promise<void> {
    const insertDepartment = this.#db.prepare('INSERT INTO departments (id, position, doc) VALUES (?, ?, ?)');
    const insertSystem = this.#db.prepare('INSERT INTO systems (id, department, position, doc) VALUES (?, ?, ?, ?)');
    this.#db.transaction(() => {
      this.#db.exec('DELETE FROM systems; DELETE FROM departments;');
      inventory.departments.forEach((d, i) => insertDepartment.run(d.id, i, JSON.stringify(d)));
      inventory.systems.forEach((s, i) => insertSystem.run(s.id, s.department, i, JSON.stringify(s)));
    }).immediate();
  }

  async getInventory(scope?: Scope): Promise<Inventory> {
    const departments = new Where().scope('id', scope);
    const systems = new Where().scope('department', scope);
    const read = <T>(sql: string, where: Where) =>
      (this.#db.prepare(`${sql} ${where.sql} ORDER BY position`).all(...where.params) as { doc: string }[]).map(
        (row) => JSON.parse(row.doc) as T,
      );
    return {
      departments: read<Department>('SELECT doc FROM departments', departments),
      systems: read<BusinessSystem>('SELECT doc FROM systems', systems),
    };
  }
}
