import type { Inventory, Logger } from '../core/index.js';
import { DEMO_INCIDENTS, demoIncident, demoLiveLines, type DemoIncident, type DemoIncidentKind } from './demo-logs.js';
import type { Line } from './decoders/event-decode.js';

export interface DemoTrafficOptions {
  inventory: () => Inventory;
  /** Stores lines through the rules: syslog lines as `auto`, database audit as `mariadb-audit`. */
  ingest: (lines: Line[], format: 'auto' | 'mariadb-audit') => Promise<unknown>;
  /** Incidents that are not log lines (a corrupted backup set) are the caller's to play. */
  onIncident?: (incident: DemoIncident) => Promise<void>;
  logger?: Logger;
  /** How often every reporting host sends a line. */
  tickMs?: number;
  /** How often the next scripted incident plays. */
  incidentEveryMs?: number;
  now?: () => Date;
}

  /**
 * The living demo's traffic: most hosts report every `tickMs` so their sources stay live, a few stay
 * silent, and a scripted incident plays every `incidentEveryMs`, so alerts, posture and the trend move.
 */
export class DemoTraffic {
  readonly #options: DemoTrafficOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  #tick = 0;
  #sequence: number;
  #busy: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: DemoTrafficOptions) {
    this.#options = options;
    const now = (options.now ?? (() => new Date()))();
    // Start the incident cycle where the clock says, so restarts do not replay the same one first.
    this.#sequence = Math.floor(now.getTime() / (options.incidentEveryMs ?? 180_000));
  }

  /** First traffic at once (so no source starts silent), then on the timers. */
  async start(): Promise<void> {
    await this.tick();
    this.#timers.push(
      setInterval(() => void this.tick(), this.#options.tickMs ?? 30_000),
      setInterval(() => void this.playIncident(), this.#options.incidentEveryMs ?? 180_000),
    );
    for (const timer of this.#timers) timer.unref();
  }

  tick(): Promise<void> {
    return this.#serial(async () => {
      const now = (this.#options.now ?? (() => new Date()))();
      await this.#options.ingest(demoLiveLines(this.#options.inventory(), now, this.#tick++), 'auto');
    });
  }

  /**
   * Plays the next incident now, or the next one of `kind` (on `system` when given: a presenter
   * shows a department what happens); returns it, undefined when no system fits it.
   */
  async playIncident(choice: { kind?: DemoIncidentKind; system?: string } = {}): Promise<DemoIncident | undefined> {
    let played: DemoIncident | undefined;
    await this.#serial(async () => {
      const now = (this.#options.now ?? (() => new Date()))();
      // The cycle moves on to the named kind, so the timer's next incident is still a different one.
      if (choice.kind) {
        const skip = DEMO_INCIDENTS.findIndex((_, n) => DEMO_INCIDENTS[(this.#sequence + n) % DEMO_INCIDENTS.length] === choice.kind);
        if (skip < 0) return;
        this.#sequence += skip;
      }
      const incident = demoIncident(this.#options.inventory(), this.#sequence++, now, choice.system);
      if (!incident) return;
      if (incident.syslog.length) await this.#options.ingest(incident.syslog, 'auto');
      if (incident.dbAudit.length) await this.#options.ingest(incident.dbAudit, 'mariadb-audit');
      await this.#options.onIncident?.(incident);
      this.#options.logger?.info({ incident: incident.kind, system: incident.system }, `演示事件 / demo incident: ${incident.title}`);
      played = incident;
    });
    return played;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await this.#busy;
  }

  /** One write at a time, and a failed one is logged, not thrown into a timer. */
  #serial(work: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(async () => {
      if (this.#closed) return;
      try {
        await work();
      } catch (error) {
        this.#options.logger?.warn({ err: error }, 'demo traffic step failed; the next one will try again');
      }
    });
    this.#busy = run;
    return run;
  }
}
