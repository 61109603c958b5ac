import { RULE_LEVELS, type Alert, type RuleLevel } from '../../core/index.js';
import type { RouteConfig } from './types.js';

export const levelRank = (level: RuleLevel): number => RULE_LEVELS.indexOf(level);

/** Whether an alert meets every condition of a route's match (an absent condition holds). */
export function routeMatches(route: RouteConfig, alert: Alert, tags: readonly string[] = []): boolean {
  const m = route.match;
  if (m.minLevel && levelRank(alert.rule.level) < levelRank(m.minLevel)) return false;
  if (m.minPriority !== undefined && alert.priority < m.minPriority) return false;
  if (m.departments && !(alert.department && m.departments.includes(alert.department))) return false;
  if (m.mlpsLevels && !(alert.mlpsLevel !== undefined && m.mlpsLevels.includes(alert.mlpsLevel))) return false;
  if (m.rules && !m.rules.includes(alert.rule.id)) return false;
  if (m.tags && !m.tags.some((tag) => tags.includes(tag))) return false;
  return true;
}

/** Every route that takes the alert, in config order. */
export function routeAlert(routes: readonly RouteConfig[], alert: Alert, tags: readonly string[] = []): RouteConfig[] {
  return routes.filter((route) => routeMatches(route, alert, tags));
}
