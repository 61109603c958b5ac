import { z } from 'zod';

/**
 * One deliverable email address: a free string could carry a second recipient ("a@x.gov.cn, b@y.com", which the
 * mail library reads as two) or header text. RFC 5321 limits: a local part over 64 characters is no deliverable address.
 */
export const emailAddress = z.email().max(254).refine((email) => email.indexOf('@') <= 64, '邮箱用户名最多 64 个字符 / the part before @ has at most 64 characters');

/** One phone number: digits, spaces and -, optionally a leading +. */
export const phoneNumber = z.string().regex(/^\+?\d[\d -]{2,30}$/, '电话号码格式不对 / digits, spaces and -, optionally a leading +');
