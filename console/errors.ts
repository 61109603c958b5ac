import { defineError } from '../core/index.js';

/** Errors the console answers with; the message is zh-CN first, then English. */
export const ConsoleErrors = {
  requestInvalid: defineError('SW_ERR_REQUEST_INVALID', 400, (problems: string) => `请求无效 / invalid request: ${problems}`),
  requestTooLarge: defineError('SW_ERR_REQUEST_TOO_LARGE', 413, (limit: number) =>
    `请求体过大 / request body too large (limit ${limit} bytes)`),
  mediaType: defineError('SW_ERR_REQUEST_MEDIA_TYPE', 415, (type: string) =>
    `不支持的内容类型 / unsupported content type: ${type}; send application/json`),
  routeNotFound: defineError('SW_ERR_ROUTE_NOT_FOUND', 404, (method: string, url: string) => `未找到 / not found: ${method} ${url}`),
  authRequired: defineError('SW_ERR_AUTH_REQUIRED', 401, () => '需要登录 / login required'),
  loginFailed: defineError('SW_ERR_LOGIN_FAILED', 401, () =>
    '用户名或密码错误，或账户已被暂时锁定 / wrong username or password, or the account is locked for now'),
  loginRateLimited: defineError('SW_ERR_LOGIN_RATE_LIMIT', 429, (seconds: number) =>
    `登录尝试过于频繁，请 ${seconds} 秒后再试 / too many login attempts, try again in ${seconds} s`),
  csrf: defineError('SW_ERR_CSRF', 403, () =>
    '缺少或错误的 CSRF 令牌（请求头 x-csrf-token）/ missing or wrong CSRF token (header x-csrf-token)'),
  forbidden: defineError('SW_ERR_FORBIDDEN', 403, (permission: string) => `无权执行此操作 / not allowed: needs ${permission}`),
  userExists: defineError('SW_ERR_USER_EXISTS', 409, (username: string) => `用户已存在 / user already exists: ${username}`),
  userNotFound: defineError('SW_ERR_USER_NOT_FOUND', 404, (username: string) => `未找到用户 / user not found: ${username}`),
  userForbidden: defineError('SW_ERR_USER_FORBIDDEN', 403, (reason: string) => `不能做此账户变更 / account change not allowed: ${reason}`),
  userInvalid: defineError('SW_ERR_USER_INVALID', 400, (reason: string) => `用户设置无效 / invalid user: ${reason}`),
  ruleBudget: defineError('SW_ERR_RULE_BUDGET', 422, (budget: 'time' | 'memory', limit: string) =>
    `规则试跑超出${budget === 'time' ? '时间' : '内存'}预算（${limit}），已终止；请简化正则 / the rule test went over its ${budget} budget (${limit}) and was stopped; simplify its regexes`),
  ruleBusy: defineError('SW_ERR_RULE_BUSY', 503, (limit: string) =>
    `规则试跑排队已满（${limit}），请稍后再试 / too many rule tests waiting (${limit}), try again shortly`),
  unavailable: defineError('SW_ERR_CONSOLE_UNAVAILABLE', 503, (what: string) =>
    `此控制台未接入该功能 / not available in this console: ${what}`),
};
