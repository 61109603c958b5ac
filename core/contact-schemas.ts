import { z } from 'zod';

/**
 * One deliverable email address: a free string could carry a second recipient ("a@x.gov.cn, b@y.com", which the
 * mail library reads as two) or header text. RFC 5321 limits: a local part over 64 characters is no deliverable address.
 * zod's own pattern: the HTML5 one takes "x@0" (no top-level domain), which the API's answers must not hold.
 */
export const emailAddress = z.email().max(254).refine((email) => email.indexOf('@') <= 64, '邮箱用户名最多 64 个字符 / the part before @ has at most 64 characters');

/** One phone number as written in China: digits, spaces, - and (area code), a leading +, an extension (转 123, ext 123). */
export const phoneNumber = z.string().regex(/^\+?[\d(][\d ()-]{2,30}(?:\s*(?:转|ext\.?|x)\s*\d{1,6})?$/i,
  '电话号码格式不对 / digits, spaces, - and ( ), optionally a leading + and an extension (转 123, ext 123)');
