export { NotifyErrors } from './errors.js';
export { routeAlert, routeMatches, levelRank } from './routing.js';
export { NotifyPlanner, dispatchKey } from './planner.js';
export type { PlannerOptions } from './planner.js';
export { dueEscalations, escalationDispatches, escalationSteps, shouldEscalate } from './escalation.js';
export type { EscalationStep } from './escalation.js';
export { DISPATCH_ALERT_LIMIT } from './types.js';
export type { ChannelConfig, ChannelType, Dispatch, DispatchKind, NotifyConfig, RouteConfig } from './types.js';
