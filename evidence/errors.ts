import { defineError } from '../core/index.js';

/** Errors of the evidence export and its verification (codes never reused). */
export const EvidenceErrors = {
  selection: defineError('SW_ERR_EVIDENCE_SELECTION', 400, (reason: string) =>
    `证据导出范围无效 / invalid evidence selection: ${reason}`),
  notFound: defineError('SW_ERR_EVIDENCE_NOT_FOUND', 404, (what: string) =>
    `没有此项或不在您的部门范围内 / not found or outside your department scope: ${what}`),
  font: defineError('SW_ERR_EVIDENCE_FONT', 500, (path: string, debianPackage: string, reason: string) =>
    `缺少中文字体 ${path}，请安装 Debian 软件包 ${debianPackage} / missing CJK font ${path}, install the Debian package ${debianPackage}: ${reason}`),
  key: defineError('SW_ERR_EVIDENCE_KEY', 400, (path: string, reason: string) =>
    `签名密钥不可用 / signing key unusable (${path}): ${reason}`),
  bundle: defineError('SW_ERR_EVIDENCE_BUNDLE', 400, (path: string, reason: string) =>
    `证据包无法读取 / cannot read evidence bundle ${path}: ${reason}`),
  reportKey: defineError('SW_ERR_EVIDENCE_REPORT_KEY', 400, (named: string, signer: string) =>
    `报告 report.pdf 所列签名公钥指纹与签名者不符 / report.pdf names the signing key ${named}, but the bundle is signed by ${signer}`),
};
