import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseInventory, type Inventory } from '../core/index.js';
import { recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { scopeOf } from './roles.js';

/** The inventory is the whole city's: a department-scoped admin would otherwise move or drop other departments' systems. */
const INVENTORY_WRITE_SCOPE = 'inventory:write，且不限部门（清单是全市的）/ inventory:write without a department scope (the inventory is the whole city\'s)';

export interface InventoryApiOptions extends ApiOptions {
  /** Saves the new inventory where it is kept (the inventory file); when it throws, nothing changes. */
  saveInventory?: (inventory: Inventory, actor: string) => Promise<void> | void;
  /** Called once the store holds the new inventory and the change is audited, to apply it elsewhere (schedules, asset lookups). */
  onInventory?: (inventory: Inventory) => Promise<void> | void;
}

/** 资产 editing (admins): the whole inventory at once, checked by the same schema as the inventory file. */
export const inventoryApi: FastifyPluginAsync<InventoryApiOptions> = async (app, { store, routes, saveInventory, onInventory }) => {
  routes.add(app, {
    method: 'PUT', url: '/api/inventory', tag: 'inventory', access: 'inventory:write',
    summary: '替换资产清单（部门与系统），按清单文件的规则校验 / replace the inventory (departments and systems), checked as the inventory file is',
    // The shape only; parseInventory checks every field and names the one that is wrong.
    body: z.looseObject({ departments: z.array(z.unknown()), systems: z.array(z.unknown()) }),
    handler: async ({ body, request, auth }) => {
      if (scopeOf(auth.user)) throw ConsoleErrors.forbidden(INVENTORY_WRITE_SCOPE);
      const inventory = parseInventory(body, 'PUT /api/inventory');
      await saveInventory?.(inventory, auth.user.username);
      await store.assets.replaceInventory(inventory);
      await recordAction(store, request, 'inventory.replace', undefined, {
        departments: inventory.departments.length, systems: inventory.systems.length,
      });
      await onInventory?.(inventory);
      return { departments: inventory.departments.length, systems: inventory.systems.length };
    },
  });
};
