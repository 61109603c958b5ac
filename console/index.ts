export { buildApp } from './app.js';
export type { AppDeps } from './app.js';
export { listen } from './server.js';
export type { HealthCheck } from './health.js';
