import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord, Store, UserRecord } from '../store/index.js';
import { ConsoleErrors } from './errors.js';
import { verifyAgainstNothing, verifyPassword } from './password.js';
import { SlidingWindowLimiter } from './rate-limit.js';

export const SESSION_COOKIE = 'sw_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Auth {
  user: UserRecord;
  session: SessionRecord;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: Auth;
  }
}

export interface SessionOptions {
  /** Cookie `Secure` flag: true behind https; see `http.secureCookies`. */
  secureCookies: boolean;
  idleMs: number;
  absoluteMs: number;
  /**
   * Failures that lock one username for one client address, and for how long: the lock lasts until
   * the oldest of them is `lockMs` old. Other addresses still log in with the right password.
   */
  lockAfter: number;
  lockMs: number;
  /**
   * Login attempts per client address, and failures per username, in a sliding window. A username
   * whose window is full refuses (429) only the addresses that failed for it themselves.
   */
  perIp: { max: number; windowMs: number };
  perUser: { max: number; windowMs: number };
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  secureCookies: true,
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
  lockAfter: 5,
  lockMs: 15 * 60_000,
  perIp: { max: 30, windowMs: 5 * 60_000 },
  perUser: { max: 10, windowMs: 5 * 60_000 },
};

/** Writing the last-seen time on every request would turn each read into a write; once a minute is enough. */
const TOUCH_EVERY_MS = 60_000;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const hashSessionId = (id: string) => createHash('sha256').update(id).digest('hex');

/** The one cookie we read; a tiny parser instead of a dependency. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Login, session lookup, CSRF and logout; the store keeps only hashed session ids. */
export class SessionManager {
  readonly #store: Store;
  readonly #options: SessionOptions;
  readonly #perIp: SlidingWindowLimiter;
  readonly #perUser: SlidingWindowLimiter;
  /** Failures per (username, address): full means that address is locked out of that account. */
  readonly #perPair: SlidingWindowLimiter;
  /** Failure counts still being written, per username (lower case); see #countFailure. */
  readonly #failureWrites = new Map<string, Promise<unknown>>();

  constructor(store: Store, options: SessionOptions) {
    this.#store = store;
    this.#options = options;
    this.#perIp = new SlidingWindowLimiter(options.perIp);
    this.#perUser = new SlidingWindowLimiter(options.perUser);
    this.#perPair = new SlidingWindowLimiter({ max: options.lockAfter, windowMs: options.lockMs });
  }

  /**
   * Whether `password` is the user's own (a password change asks for it). A wrong one counts like a
   * failed login from `ip`, and a locked (username, address) pair answers false without checking.
   */
  async checkOwnPassword(user: UserRecord, password: string, ip: string): Promise<boolean> {
    const now = Date.now();
    const pairKey = `${user.username.toLowerCase()}\n${ip}`;
    if (!this.#perPair.hit(pairKey, now).allowed) {
      await verifyAgainstNothing(password);
      return false;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return false;
    this.#perPair.release(pairKey, now);
    return true;
  }

  /** Lifts every address's lock on `username` (an admin's unlock or password reset). */
  unlock(username: string): void {
    const prefix = `${username.toLowerCase()}\n`;
    this.#perPair.resetMatching((key) => key.startsWith(prefix));
    this.#perUser.reset(username.toLowerCase());
  }

  /**
   * Checks the password and opens a session. Unknown user, disabled, locked or wrong password all
   * answer the same, in about the same time (the same work before the answer), so the answer never
   * tells whether a user exists.
   */
  async login(username: string, password: string, ip: string): Promise<{ id: string; session: SessionRecord; user: UserRecord }> {
    // Every attempt is counted up front (concurrent guesses each count); a success gives its slots back below.
    const now = Date.now();
    const userKey = username.toLowerCase();
    const pairKey = `${userKey}\n${ip}`;
    const perIp = this.#perIp.hit(ip, now);
    if (!perIp.allowed) throw ConsoleErrors.loginRateLimited(Math.ceil(perIp.retryAfterMs / 1000));
    // A username under attack slows down the addresses that guessed wrong for it, never a clean one:
    // otherwise anyone could shut any user (the only admin included) out by failing on purpose.
    if (this.#perUser.count(userKey, now) >= this.#options.perUser.max && this.#perPair.count(pairKey, now) > 0) {
      this.#perIp.release(ip, now);
      // Full, so this records nothing and says when a slot frees up.
      throw ConsoleErrors.loginRateLimited(Math.ceil(this.#perUser.hit(userKey, now).retryAfterMs / 1000));
    }
    const failed = async (): Promise<never> => {
      this.#perUser.hit(userKey, now);
      throw ConsoleErrors.loginFailed();
    };
    // Locked for this address only; the same answer as a wrong password, after the same work.
    if (!this.#perPair.hit(pairKey, now).allowed) {
      await verifyAgainstNothing(password);
      return failed();
    }
    const user = await this.#store.users.get(username);
    if (!user || user.disabled) {
      await verifyAgainstNothing(password);
      return failed();
    }
    if (!(await verifyPassword(password, user.passwordHash))) {
      // For the users page: failures in a row, and until when some address is locked out.
      const lockedUntil = this.#perPair.count(pairKey, now) >= this.#options.lockAfter
        ? { lockedUntil: new Date(now + this.#options.lockMs).toISOString() } : {};
      this.#countFailure(username, userKey, lockedUntil);
      return failed();
    }
    // A success resets the count: after the failures still being written, or one would land after the reset.
    await this.#failureWrites.get(userKey);
    // Read again after the slow password check: the account may have been disabled meanwhile.
    const fresh = await this.#store.users.get(username);
    if (!fresh || fresh.disabled) return failed();
    const current = fresh.failedLogins
      ? (await this.#store.users.update(username, { failedLogins: 0 })) ?? fresh
      : fresh;
    // Only failures count: 30 correct logins from one address (or one proxy) never lock anyone out.
    this.#perIp.release(ip, now);
    this.#perPair.reset(pairKey);
    this.#perUser.reset(userKey);
    const id = randomBytes(32).toString('base64url');
    const started = Date.now();
    const session: SessionRecord = {
      idHash: hashSessionId(id),
      username,
      epoch: current.sessionEpoch,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: new Date(started).toISOString(),
      lastSeenAt: new Date(started).toISOString(),
      expiresAt: new Date(started + this.#options.absoluteMs).toISOString(),
      ip,
    };
    await this.#store.sessions.create(session);
    return { id, session, user: current };
  }

  /**
   * Writes a failed login's count without making the answer wait for it: only a known username has a
   * count to write, so waiting (a store write, on Elasticsearch a refresh) would tell it from an unknown one
   * by time. The count is for the users page only (the lock itself is #perPair), so a write that fails is dropped.
   */
  #countFailure(username: string, userKey: string, lockedUntil: { lockedUntil?: string }): void {
    const write = (this.#failureWrites.get(userKey) ?? Promise.resolve())
      .then(() => this.#store.users.update(username, (stored) => ({ failedLogins: stored.failedLogins + 1, ...lockedUntil })))
      .catch(() => undefined);
    this.#failureWrites.set(userKey, write);
    void write.then(() => {
      if (this.#failureWrites.get(userKey) === write) this.#failureWrites.delete(userKey);
    });
  }

  /** The session behind the request's cookie, or undefined when absent, expired or revoked. */
  async resolve(request: FastifyRequest): Promise<Auth | undefined> {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!id || id.length > 100) return undefined;
    const session = await this.#store.sessions.get(hashSessionId(id));
    if (!session) return undefined;
    const now = Date.now();
    const idle = now - Date.parse(session.lastSeenAt) > this.#options.idleMs;
    if (idle || Date.parse(session.expiresAt) <= now) {
      await this.#store.sessions.delete(session.idHash);
      return undefined;
    }
    const user = await this.#store.users.get(session.username);
    // A bumped epoch (logout everywhere, password reset, disabling) ends every older session.
    if (!user || user.disabled || user.sessionEpoch !== session.epoch) {
      await this.#store.sessions.delete(session.idHash);
      return undefined;
    }
    if (now - Date.parse(session.lastSeenAt) > TOUCH_EVERY_MS) {
      await this.#store.sessions.touch(session.idHash, new Date(now).toISOString());
    }
    return { user, session };
  }

  /** The `onRequest` hook of every non-public route: a session, and the CSRF token on state changes. */
  readonly authenticate = async (request: FastifyRequest): Promise<void> => {
    const auth = await this.resolve(request);
    if (!auth) throw ConsoleErrors.authRequired();
    if (STATE_CHANGING.has(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameToken(given, auth.session.csrfToken)) throw ConsoleErrors.csrf();
    }
    request.auth = auth;
  };

  async logout(auth: Auth): Promise<void> {
    await this.#store.sessions.delete(auth.session.idHash);
  }

  /** Bumps the epoch first, so every session is dead even if removing one of them fails. */
  async logoutEverywhere(username: string): Promise<void> {
    const user = await this.#store.users.get(username);
    if (user) await this.#store.users.update(username, { sessionEpoch: user.sessionEpoch + 1 });
    await this.#store.sessions.deleteForUser(username);
  }

  setCookie(reply: FastifyReply, id: string): void {
    reply.header('set-cookie', this.#cookie(reply, `${SESSION_COOKIE}=${id}`, Math.floor(this.#options.absoluteMs / 1000)));
  }

  clearCookie(reply: FastifyReply): void {
    reply.header('set-cookie', this.#cookie(reply, `${SESSION_COOKIE}=`, 0));
  }

  /**
   * `Secure` when configured, and whenever the request came over TLS: directly, or through a trusted
   * proxy saying `X-Forwarded-Proto: https` (Fastify reads that header only with `trustProxy`).
   */
  #cookie(reply: FastifyReply, pair: string, maxAgeSeconds: number): string {
    const secure = this.#options.secureCookies || reply.request.protocol === 'https';
    return `${pair}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}
