// Every user-facing string, zh-CN first; `t(key, ...args)` fills {0}, {1}… in the current language.
const TABLE = {
  appName: ['守望 安全与韧性运营', 'Shouwang security & resilience'],
  brand: ['守望', 'Shouwang'],
  colon: ['：', ': '],
  listSep: ['，', ', '],
  pages: ['分页', 'Pages'],
  loading: ['加载中…', 'Loading…'],
  empty: ['暂无数据', 'Nothing to show'],
  error: ['出错了：{0}', 'Something went wrong: {0}'],
  notAvailable: ['此功能的接口暂不可用', 'The API for this feature is not available yet'],
  forbidden: ['没有权限查看此页面', 'You have no permission to see this page'],
  retry: ['重试', 'Retry'],
  langSwitch: ['English', '中文'],
  langSwitchLabel: ['切换到英文', 'Switch to Chinese'],
  logout: ['退出', 'Log out'],
  skip: ['跳到正文', 'Skip to content'],
  nav: ['主导航', 'Main navigation'],
  // Login
  loginTitle: ['登录', 'Log in'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  loginButton: ['登录', 'Log in'],
  loggingIn: ['正在登录…', 'Logging in…'],
  // Pages
  posture: ['态势总览', 'Posture'],
  alerts: ['告警', 'Alerts'],
  events: ['事件检索', 'Events'],
  backups: ['备份与演练', 'Backups'],
  inventory: ['资产', 'Inventory'],
  rules: ['规则', 'Rules'],
  users: ['用户', 'Users'],
  audit: ['审计记录', 'Audit trail'],
  // Posture
  riskByDepartment: ['各部门风险评分', 'Risk score by department'],
  riskTrend: ['风险趋势', 'Risk trend'],
  topRisks: ['主要风险', 'Top risks'],
  alertsPerDay: ['每日告警', 'Alerts per day'],
  alertPoints: ['告警分', 'Alert points'],
  backupPoints: ['备份分', 'Backup points'],
  coveragePoints: ['覆盖分', 'Coverage points'],
  alertRiskPeak: ['当日最高部门告警风险', 'Highest department alert risk of the day'],
  alertCounts: ['告警数', 'Alerts'],
  riskAxis: ['风险 (0–100)', 'Risk (0–100)'],
  shownOf: ['共 {1} 个，显示前 {0} 个', 'top {0} of {1}'],
  columnScale: ['每列按本列最大值着色', 'each column coloured on its own scale'],
  reasons: ['评分原因', 'Why this score'],
  noProblems: ['无扣分项', 'No problems found'],
  noData: ['无数据', 'No data'],
  noDataWhy: ['未登记日志源、备份策略，也无告警：无从评估', 'No log source, backup policy or alert on record: nothing to assess'],
  eventsByDataset: ['24 小时事件（按数据集）', 'Events in 24 h by dataset'],
  department: ['部门', 'Department'],
  system: ['系统', 'System'],
  systems: ['系统', 'Systems'],
  score: ['风险评分', 'Risk score'],
  openAlerts: ['未关闭告警', 'Open alerts'],
  silentSources: ['静默数据源', 'Silent sources'],
  scoreComponents: ['评分构成', 'Score components'],
  allDepartments: ['全部部门', 'All departments'],
  backTo: ['返回：{0}', 'Back to {0}'],
  viewAlerts: ['查看告警', 'View alerts'],
  viewEvents: ['查看事件', 'View events'],
  recentAlerts: ['最近告警', 'Recent alerts'],
  recentEvents: ['最近事件', 'Recent events'],
  mlpsLevel: ['等保级别', 'MLPS level'],
  zone: ['网络区域', 'Zone'],
  owner: ['负责人', 'Owner'],
  // Alerts
  filters: ['筛选', 'Filters'],
  level: ['级别', 'Level'],
  status: ['状态', 'Status'],
  rule: ['规则', 'Rule'],
  mlps: ['等保条款', 'MLPS clause'],
  from: ['开始时间', 'From'],
  to: ['结束时间', 'To'],
  any: ['全部', 'Any'],
  apply: ['查询', 'Search'],
  reset: ['重置', 'Reset'],
  title: ['标题', 'Title'],
  assignee: ['处理人', 'Assignee'],
  count: ['次数', 'Count'],
  lastSeen: ['最近发生', 'Last seen'],
  firstSeen: ['首次发生', 'First seen'],
  priority: ['优先级', 'Priority'],
  select: ['选择', 'Select'],
  selectAll: ['全选本页', 'Select all on this page'],
  selected: ['已选 {0} 条', '{0} selected'],
  bulkAction: ['批量处置', 'Bulk action'],
  action: ['操作', 'Action'],
  comment: ['备注', 'Comment'],
  submit: ['提交', 'Submit'],
  acknowledge: ['确认', 'Acknowledge'],
  startWork: ['开始处理', 'Start work'],
  resolve: ['解决', 'Resolve'],
  falsePositive: ['误报', 'False positive'],
  assign: ['指派', 'Assign'],
  bulkDone: ['已处置 {0} 条，失败 {1} 条', '{0} updated, {1} failed'],
  nextPage: ['下一页', 'Next page'],
  prevPage: ['上一页', 'Previous page'],
  total: ['共 {0} 条', '{0} in total'],
  totalAtLeast: ['至少 {0} 条', 'at least {0}'],
  timeline: ['处置记录', 'Timeline'],
  sampleEvents: ['样本事件', 'Sample events'],
  triage: ['处置', 'Triage'],
  saved: ['已保存', 'Saved'],
  noChange: ['请至少选择状态、处理人或填写备注', 'Choose a status or assignee, or write a comment'],
  selectSome: ['请先选择告警', 'Select some alerts first'],
  relatedEvents: ['相关事件', 'Related events'],
  // Alert triage: grouping, sorting, detail
  mlpsLevelN: ['{0} 级', 'Level {0}'],
  groupBy: ['分组', 'Group'],
  groupNone: ['不分组', 'No grouping'],
  groupByRule: ['按规则', 'By rule'],
  groupBySystem: ['按系统', 'By system'],
  pageSize: ['每页条数', 'Page size'],
  alertCount: ['告警数', 'Alerts'],
  maxPriority: ['最高优先级', 'Top priority'],
  sortBy: ['按“{0}”排序', 'Sort by {0}'],
  recommendedResponse: ['处置建议', 'Recommended response'],
  noResponse: ['该规则未给出处置建议', 'The rule gives no response'],
  whyMatched: ['命中原因', 'Why it matched'],
  falsePositivesList: ['可能的误报：{0}', 'Possible false positives: {0}'],
  fieldName: ['字段', 'Field'],
  ruleExpects: ['规则条件', 'Rule looks for'],
  eventValue: ['事件中的值', 'Value in the events'],
  // Suppressions (屏蔽)
  suppressed: ['已屏蔽', 'Suppressed'],
  suppressedHide: ['隐藏已屏蔽', 'Hide suppressed'],
  suppressedShow: ['含已屏蔽', 'Include suppressed'],
  suppressedOnly: ['仅已屏蔽', 'Suppressed only'],
  suppressedUntil: ['已屏蔽，至 {0}', 'Suppressed until {0}'],
  suppress: ['屏蔽', 'Suppress'],
  suppressHint: ['匹配的告警照常保存并计入证据，但标记为已屏蔽、不发通知，到期自动恢复。', 'Matching alerts are still stored and counted as evidence, but marked suppressed and not notified; it ends by itself.'],
  suppressMatch: ['范围', 'Covers'],
  suppressGroup: ['本分组（{0}）', 'This group ({0})'],
  suppressRule: ['本部门该规则的全部告警', 'Every alert of this rule in the department'],
  suppressDays: ['天数（1–90）', 'Days (1–90)'],
  suppressReason: ['原因（必填）', 'Reason (required)'],
  suppressDone: ['已屏蔽，至 {0}', 'Suppressed until {0}'],
  suppressions: ['生效中的屏蔽', 'Active suppressions'],
  expiresAt: ['到期', 'Expires'],
  reason: ['原因', 'Reason'],
  createdBy: ['创建人', 'Created by'],
  groupKey: ['分组', 'Group'],
  endSuppression: ['提前结束', 'End now'],
  groupedBy: ['（按此字段聚合）', '(grouped by this field)'],
  noMatchDetail: ['未找到规则或样本事件，无法说明命中字段', 'Rule or sample events not found: no field detail'],
  entities: ['相关实体', 'Entities'],
  'entity.host.name': ['主机', 'Host'],
  'entity.user.name': ['用户', 'User'],
  'entity.source.ip': ['源地址', 'Source IP'],
  'entity.process.name': ['进程', 'Process'],
  'entity.db.name': ['数据库', 'Database'],
  'entity.db.objects': ['数据表', 'Table'],
  mlpsRequirements: ['等保要求', 'MLPS requirements'],
  testUnit: ['测评单元', 'Test unit'],
  unknownClause: ['目录中无此条款', 'Not in the catalog'],
  relatedAlerts: ['相关告警', 'Related alerts'],
  relatedHint: ['前后 1 小时内，同主机、同用户或同源地址的告警', 'Alerts within ±1 h on the same host, user or source address'],
  sharedEntity: ['共同实体', 'Shared entity'],
  noRelated: ['没有相关告警', 'No related alerts'],
  alertDetailTitle: ['告警详情：{0}', 'Alert: {0}'],
  tlNew: ['新建', 'New'],
  tlAcknowledged: ['确认', 'Acknowledged'],
  tlInProgress: ['处置中', 'In progress'],
  tlResolved: ['已解决', 'Resolved'],
  tlFalsePositive: ['误报', 'False positive'],
  tlStatus: ['状态：{0} → {1}', 'Status: {0} → {1}'],
  tlAssign: ['分配给 {0}', 'Assigned to {0}'],
  tlUnassign: ['取消分配', 'Unassigned'],
  tlRaised: ['触发', 'Raised'],
  tlComment: ['评论', 'Comment'],
  tlNotify: ['通知 {0}（{1}）第 {2} 次：{3} · {4} ms', 'Notified {0} ({1}), try {2}: {3} · {4} ms'],
  notifyDelivered: ['已送达', 'delivered'], notifyFailed: ['失败', 'failed'], notifySkipped: ['已确认，未升级', 'acknowledged, not escalated'],
  notifyTier: ['第 {0} 级升级', 'escalation tier {0}'],
  // Events
  query: ['关键词', 'Query'],
  queryHint: ['单词同时查 message 全文与主机、进程、用户、IP 等字段；字段:值、"短语"、AND / OR / NOT、( )、通配符 *、范围 [400 TO 499]、>=、字段:*（存在）',
    'A word searches the message and the host, process, user, IP… fields; field:value, "phrase", AND / OR / NOT, ( ), wildcard *, range [400 TO 499], >=, field:* (exists)'],
  search: ['检索', 'Search'],
  queryError: ['查询有误：', 'Query error: '],
  histogram: ['时间分布', 'Over time'],
  histogramInterval: ['（每 {0}，共 {1} 条）', '(per {0}, {1} in all)'],
  histogramLabel: ['事件数量随时间的柱状图，共 {0} 条', 'Bar chart of events over time, {0} in all'],
  eventCount: ['事件数', 'Events'],
  fieldSidebar: ['字段', 'Fields'],
  addToQuery: ['加入查询：{0}', 'Add to the query: {0}'],
  process: ['进程', 'Process'],
  unitDay: ['天', 'd'],
  unitHour: ['小时', 'h'],
  unitMinute: ['分钟', 'min'],
  unitSecond: ['秒', 's'],
  time: ['时间', 'Time'],
  host: ['主机', 'Host'],
  user: ['用户', 'User'],
  outcome: ['结果', 'Outcome'],
  message: ['消息', 'Message'],
  eventDetail: ['事件详情', 'Event'],
  // Backups
  backupMatrix: ['备份矩阵', 'Backup matrix'],
  sameCity: ['同城', 'Same-city'],
  offSite: ['异地', 'Off-site'],
  age: ['距今', 'Age'],
  rpo: ['RPO', 'RPO'],
  rto: ['RTO', 'RTO'],
  rtoTarget: ['RTO 目标', 'RTO target'],
  rtoAchieved: ['实际 RTO', 'RTO achieved'],
  verify: ['核验', 'Verify'],
  drill: ['恢复演练', 'Drill'],
  drillSite: ['演练所用副本', 'Copy to restore from'],
  jobs: ['任务', 'Jobs'],
  jobState: ['任务 {0}：{1}', 'Job {0}: {1}'],
  progress: ['进度', 'Progress'],
  drillHistory: ['演练记录', 'Drill history'],
  result: ['结果', 'Result'],
  summary: ['摘要', 'Summary'],
  noCheck: ['未核验', 'never checked'],
  noDrill: ['未演练', 'never drilled'],
  met: ['达标', 'met'],
  pass: ['通过', 'pass'],
  warn: ['警告', 'warn'],
  fail: ['失败', 'fail'],
  // Inventory
  departments: ['部门', 'Departments'],
  editInventory: ['编辑资产（JSON）', 'Edit inventory (JSON)'],
  save: ['保存', 'Save'],
  badJson: ['JSON 格式错误：{0}', 'Invalid JSON: {0}'],
  // Rules
  enabled: ['启用', 'Enabled'],
  enable: ['启用', 'Enable'],
  disable: ['停用', 'Disable'],
  testRule: ['测试规则', 'Test a rule'],
  pastedEvents: ['事件（JSON 数组或每行一个 JSON）', 'Events (a JSON array or one JSON per line)'],
  runTest: ['运行测试', 'Run test'],
  matches: ['命中 {0} 条', '{0} matched'],
  // Users & audit
  role: ['角色', 'Role'],
  displayName: ['显示名', 'Display name'],
  disabled: ['已停用', 'Disabled'],
  createUser: ['创建用户', 'Create user'],
  departmentsComma: ['部门（逗号分隔）', 'Departments (comma-separated)'],
  verifyChain: ['校验哈希链', 'Verify hash chain'],
  actor: ['操作人', 'Actor'],
  target: ['对象', 'Target'],
  address: ['来源地址', 'Address'],
  lockedUntil: ['锁定至', 'Locked until'],
  actions: ['操作', 'Actions'],
  edit: ['编辑', 'Edit'],
  newPassword: ['新密码（留空不改）', 'New password (blank keeps it)'],
  currentPassword: ['当前密码（修改自己的密码时必填）', 'Current password (to change your own)'],
  nothingChanged: ['没有修改 / nothing changed', 'Nothing changed'],
  unlock: ['解锁', 'Unlock'],
  delete: ['删除', 'Delete'],
  confirmDelete: ['确定删除用户 {0}？其会话将全部结束。', 'Delete user {0}? All their sessions end.'],
  recentAudit: ['最近审计记录', 'Recent audit entries'],
  fullAudit: ['完整审计记录与哈希链校验', 'Full audit trail and chain check'],
  // Audit trail
  auditHint: ['记录控制台上每个改变状态的操作；范围受限的用户只看到其部门的记录。', 'Every state-changing action in the console; a user limited to some departments sees only theirs.'],
  actorHint: ['用户名，包含即可', 'username, partial match'],
  cityWide: ['全市', 'City-wide'],
  detail: ['详情', 'Detail'],
  verifying: ['正在校验…', 'Verifying…'],
  chainOk: ['哈希链完整', 'Chain intact'],
  chainCount: ['{0} 条记录（序号 {1}–{2}），{3} 个签名检查点', '{0} entries (seq {1}–{2}), {3} signed checkpoints'],
  chainEmpty: ['尚无审计记录，无需校验', 'No audit entries yet: nothing to verify'],
  chainBroken: ['哈希链异常：{0}', 'Chain broken: {0}'],
  brokenAt: ['首个问题位于序号 {0}', 'first problem at seq {0}'],
  brokenHidden: ['问题位置仅对全市范围的用户显示', 'the position is shown to city-wide users only'],
  lastCheckpoint: ['最近检查点：序号 {0}', 'latest checkpoint: seq {0}'],
  signaturesChecked: ['检查点签名已核验', 'checkpoint signatures verified'],
  signaturesUnchecked: ['未核验检查点签名（本实例未配置密钥）', 'checkpoint signatures not checked (no instance key)'],
  filteredPage: ['本页 {0} 条匹配（已扫描 {1} 条）', '{0} matching on this page ({1} scanned)'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  // Evidence
  evidence: ['等保证据', 'Evidence'],
  labelValue: ['{0}：{1}', '{0}: {1}'],
  evidenceIntro: ['为等保测评导出签名证据包：选择范围与期间，导出后下载，并查看完整性与签名校验结果。', 'Export a signed MLPS evidence bundle for an assessment: choose the scope and period, export, download it and see its integrity and signature check.'],
  scope: ['导出范围', 'Scope'],
  scopeDepartment: ['部门', 'Department'],
  scopeSystem: ['系统', 'System'],
  scopeAll: ['全部部门', 'All departments'],
  scopeAllMine: ['我负责的全部部门', 'All my departments'],
  period: ['期间（北京时间）', 'Period (Asia/Shanghai)'],
  periodIn: ['期间（时区 {0}）', 'Period ({0})'],
  fromDay: ['开始日期', 'From'],
  toDay: ['结束日期', 'To'],
  periodHint: ['含开始与结束当天，默认最近 30 天', 'both days included; default the last 30 days'],
  badPeriod: ['请填写开始与结束日期，且开始不晚于结束', 'Give a from and a to date, the from date not after the to date'],
  nothingInScope: ['您的范围内没有可选的部门或系统', 'There is no department or system in your scope'],
  exportBundle: ['导出证据包', 'Export bundle'],
  evidenceJob: ['导出任务 {0}', 'Export job {0}'],
  selectionLine: ['{0} · {1} 至 {2}', '{0} · {1} to {2}'],
  exportFailed: ['导出失败：{0}', 'Export failed: {0}'],
  bundleFiles: ['文件数 · 大小', 'Files · size'],
  statusCounts: ['测评项结论', 'Item statuses'],
  downloadBundle: ['下载证据包（ZIP）', 'Download bundle (ZIP)'],
  verifyAgain: ['重新校验', 'Verify again'],
  verifyResult: ['校验结果', 'Verification'],
  verifyOk: ['通过', 'OK'],
  verifyBad: ['未通过', 'FAILED'],
  signature: ['签名', 'Signature'],
  signatureValid: ['有效', 'valid'],
  signatureInvalid: ['无效', 'invalid'],
  keyChecked: ['验签公钥', 'Checked with'],
  keyPinned: ['本实例的签名公钥', "this instance's signing key"],
  keyBundle: ['证据包自带的公钥（请线下核对指纹）', "the bundle's own key (compare the fingerprint out of band)"],
  digests: ['文件摘要（SHA-256 与 SM3）', 'File digests (SHA-256 and SM3)'],
  digestsOk: ['全部与清单一致，无增删', 'all match the manifest, none added or removed'],
  digestProblems: ['发现 {0} 个问题', '{0} problems found'],
  // Notifications
  notify: ['通知', 'Notifications'],
  notifyIntro: ['通知渠道与路由来自配置文件（notify）；密钥只写不读，此处从不显示。', 'Channels and routes come from the config file (notify); secrets are write-only and never shown here.'],
  notifyChannels: ['渠道', 'Channels'],
  notifyRoutes: ['路由', 'Routes'],
  noChannels: ['未配置通知渠道', 'No notification channel is configured'],
  noRoutes: ['未配置通知路由', 'No notification route is configured'],
  channelType: ['类型', 'Type'],
  channelTarget: ['发送到', 'Sends to'],
  channelSecret: ['密钥', 'Secret'],
  secretSet: ['已设置', 'set'],
  secretUnset: ['未设置', 'not set'],
  channel_email: ['邮件', 'Email'],
  channel_webhook: ['Webhook', 'Webhook'],
  channel_wecom: ['企业微信机器人', 'WeCom robot'],
  channel_dingtalk: ['钉钉机器人', 'DingTalk robot'],
  channel_sms: ['短信网关', 'SMS gateway'],
  phoneCount: ['（{0} 个号码）', '({0} numbers)'],
  sendTest: ['发送测试消息', 'Send test message'],
  sending: ['发送中…', 'Sending…'],
  testSent: ['已送达（{0} 毫秒）', 'Delivered ({0} ms)'],
  testFailed: ['发送失败：{0}', 'Failed: {0}'],
  routeMatch: ['匹配条件', 'Match'],
  routeAlso: ['另外通知', 'Also notifies'],
  routeToDepartment: ['部门联系人与值班人员', 'department contacts and on-call'],
  routeToUsers: ['订阅的用户', 'subscribed users'],
  escalation: ['升级梯队', 'Escalation tiers'],
  clauseSep: ['；', '; '],
  matchAll: ['全部告警', 'every alert'],
  matchMinLevel: ['级别 ≥ {0}', 'level ≥ {0}'],
  matchMinPriority: ['优先级 ≥ {0}', 'priority ≥ {0}'],
  matchDepartments: ['部门：{0}', 'departments: {0}'],
  matchMlps: ['等保级别：{0}', 'MLPS levels: {0}'],
  matchRules: ['规则：{0}', 'rules: {0}'],
  matchTags: ['标签：{0}', 'tags: {0}'],
  myNotifications: ['我的通知', 'My notifications'],
  myNotificationsIntro: ['启用“通知订阅用户”（toUsers）的路由会把您部门范围内、不低于所选级别的告警发到这里的邮箱或手机。', 'Routes that notify subscribed users (toUsers) send alerts of your departments at or above the chosen level to this email or phone.'],
  notifyEmail: ['邮箱', 'Email'],
  notifyPhone: ['手机', 'Phone'],
  notifyMinLevel: ['最低级别', 'Minimum level'],
  notifyOptOut: ['暂停接收', 'Opt out'],
};

const ENUMS = {
  informational: ['信息', 'informational'], low: ['低', 'low'], medium: ['中', 'medium'], high: ['高', 'high'], critical: ['严重', 'critical'],
  new: ['新告警', 'new'], acknowledged: ['已确认', 'acknowledged'], in_progress: ['处理中', 'in progress'],
  resolved: ['已解决', 'resolved'], false_positive: ['误报', 'false positive'],
  // Alert timeline entries.
  raised: ['触发', 'raised'], status: ['状态变更', 'status changed'], assign: ['分配', 'assigned'], comment: ['评论', 'comment'],
  admin: ['管理员', 'admin'], security_officer: ['安全管理员', 'security officer'], ops: ['运维', 'ops'],
  compliance_reviewer: ['合规审查', 'compliance reviewer'], department_viewer: ['部门查看者', 'department viewer'],
  pass: ['通过', 'pass'], warn: ['警告', 'warn'], fail: ['失败', 'fail'], met: ['达标', 'met'], missed: ['未达标', 'missed'],
  符合: ['符合', 'compliant'], 部分符合: ['部分符合', 'partially compliant'], 不符合: ['不符合', 'non-compliant'], 不适用: ['不适用', 'not applicable'],
  未测评: ['未测评（需人工核查）', 'Not assessed (manual review)'],
  waiting: ['排队中', 'waiting'], active: ['运行中', 'running'], completed: ['已完成', 'completed'], failed: ['失败', 'failed'], delayed: ['延迟', 'delayed'],
};

/** Every action the console records on its audit trail (grep recordAction and first-admin.ts). */
const AUDIT_ACTIONS = {
  'session.login': ['登录', 'Log in'],
  'session.login_failed': ['登录失败', 'Failed login'],
  'session.logout': ['退出', 'Log out'],
  'session.logout_all': ['退出全部会话', 'Log out everywhere'],
  'user.create': ['创建用户', 'Create user'],
  'user.update': ['修改用户', 'Change user'],
  'user.delete': ['删除用户', 'Delete user'],
  'alert.update': ['处置告警', 'Triage alert'],
  'alert.bulk_update': ['批量处置告警', 'Bulk triage alerts'],
  'alert.suppress': ['屏蔽告警', 'Suppress alerts'],
  'alert.unsuppress': ['结束屏蔽', 'End suppression'],
  'backup.verify': ['核验备份', 'Verify backup'],
  'backup.drill': ['恢复演练', 'Restore drill'],
  'evidence.export': ['导出证据包', 'Export evidence'],
  'evidence.download': ['下载证据包', 'Download evidence'],
  'inventory.replace': ['替换资产清单', 'Replace inventory'],
  'rule.enable': ['启用规则', 'Enable rule'],
  'rule.disable': ['停用规则', 'Disable rule'],
  'notify.test': ['发送测试通知', 'Send test notification'],
  'user.notifications': ['修改通知偏好', 'Change notification preferences'],
};

/** What verify found wrong (core/audit-checkpoint.ts ChainProblem). */
const CHAIN_PROBLEMS = {
  chain: ['记录与前一条不衔接或哈希不符（记录被改动或删除）', 'an entry does not hash to itself or link to the one before (edited or removed)'],
  column_mismatch: ['存储的列与已哈希的记录不一致', 'a stored column differs from the hashed entry'],
  checkpoint_mismatch: ['检查点处的哈希与签名值不符（之前的记录被改写）', 'the hash at a checkpoint is not the signed one (earlier entries rewritten)'],
  truncated: ['检查点指向的记录已不存在（末尾记录被截断）', 'a checkpoint names an entry that is gone (entries cut off the end)'],
  bad_signature: ['检查点签名无法用本实例密钥验证', 'a checkpoint signature does not verify with the instance key'],
  checkpoint_missing: ['过长的一段记录没有检查点（检查点被删除）', 'too many entries without a checkpoint (checkpoints removed)'],
};

/** Network zones of the inventory are free text; the usual ones have an English name. */
const ZONES = {
  互联网区: 'Internet zone', 政务外网: 'E-government extranet', 政务内网: 'E-government intranet', 专网: 'Private network',
  核心区: 'Core zone', 管理区: 'Management zone', DMZ: 'DMZ',
};

const KEY = 'shouwang.lang';
let lang = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
const listeners = [];

export function getLang() { return lang; }

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const listener of listeners) listener(lang);
}

export function onLangChange(listener) { listeners.push(listener); }

export function t(key, ...args) {
  const entry = TABLE[key];
  const text = entry ? entry[lang === 'en' ? 1 : 0] : key;
  return text.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}

/** Status, level, role and job-state names; unknown values are shown as they are. */
export function label(value) {
  const entry = ENUMS[value];
  return entry ? entry[lang === 'en' ? 1 : 0] : String(value ?? '');
}

export function actionName(action) {
  const entry = AUDIT_ACTIONS[action];
  return entry ? entry[lang === 'en' ? 1 : 0] : String(action ?? '');
}

export const auditActions = () => Object.keys(AUDIT_ACTIONS);

export function chainProblem(problem) {
  const entry = CHAIN_PROBLEMS[problem];
  return entry ? entry[lang === 'en' ? 1 : 0] : String(problem ?? '');
}

export function zoneName(zone) {
  return lang === 'en' ? ZONES[zone] ?? zone : zone;
}

/** A department or system: its English name in English mode when the inventory has one. */
export function localName(item) {
  if (!item) return undefined;
  return lang === 'en' && item.nameEn ? item.nameEn : item.name;
}

/**
 * Rule titles are "中文 / English": English mode shows the English half; Chinese mode keeps both
 * (zh-CN first with English, as every user-facing text). A title without " / " is shown as it is.
 */
export function localTitle(title) {
  const text = String(title ?? '');
  const at = text.indexOf(' / ');
  return lang === 'en' && at >= 0 ? text.slice(at + 3) : text;
}

/**
 * Server messages are "中文 / English (detail): more detail": show the half for the current language,
 * keeping the details (field names, values) that are written only once, in the English half.
 */
export function localMessage(message) {
  const text = String(message ?? '');
  const at = text.indexOf(' / ');
  if (at < 0) return text;
  if (lang === 'en') return text.slice(at + 3);
  const english = text.slice(at + 3);
  const detail = english.search(/[(:]/);
  return detail < 0 ? text.slice(0, at) : `${text.slice(0, at)} ${english.slice(detail)}`;
}

/** The console's `timeZone` (from /api/session): every time is shown, and every date typed is read, in it. */
let timeZone = 'Asia/Shanghai';
export function setTimeZone(zone) {
  if (typeof zone !== 'string' || !zone) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    timeZone = zone;
  } catch { /* a zone this browser does not know: keep the last one */ }
}
export const getTimeZone = () => timeZone;

const formats = new Map();
function zoneFormat(locale, options) {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) formats.set(key, (format = new Intl.DateTimeFormat(locale, { ...options, timeZone })));
  return format;
}

/** Times are shown in the configured zone, whatever the browser's own. */
export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return zoneFormat(lang === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(date);
}

/** "YYYY-MM-DD" of a moment in the configured zone. */
export function localDay(ms) {
  return zoneFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

/** The period legend: 北京时间 for the default zone, else the zone's name. */
export function periodLabel() {
  return timeZone === 'Asia/Shanghai' ? t('period') : t('periodIn', timeZone);
}

/** Milliseconds the zone's wall clock is ahead of UTC at `ms` (as core/time-zone.ts computes it). */
function offsetMs(ms) {
  const parts = {};
  for (const part of zoneFormat('en-US', { hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - (ms - (((ms % 1000) + 1000) % 1000));
}

/** A duration in seconds as "3 天 4 小时" / "3 d 4 h". */
export function formatDuration(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(Number(seconds))) return '—';
  const s = Math.round(Number(seconds));
  const units = lang === 'en' ? ['d', 'h', 'min', 's'] : ['天', '小时', '分', '秒'];
  const parts = [[Math.floor(s / 86400), units[0]], [Math.floor((s % 86400) / 3600), units[1]], [Math.floor((s % 3600) / 60), units[2]], [s % 60, units[3]]];
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  if (shown.length) return shown.map(([n, u]) => `${n} ${u}`).join(' ');
  // A restore that took 40 ms did take time: "< 1 s", never "0 s".
  return Number(seconds) > 0 ? `< 1 ${units[3]}` : `0 ${units[3]}`;
}

/** A datetime-local value ("2026-04-01T08:00") read as a wall-clock time in the configured zone, as ISO UTC. */
export function localToIso(local) {
  if (!local) return undefined;
  const wall = Date.parse(`${local.length === 16 ? `${local}:00` : local}Z`);
  if (Number.isNaN(wall)) return undefined;
  // Two steps, so a time near a daylight-saving switch takes the offset of its own side.
  return new Date(wall - offsetMs(wall - offsetMs(wall))).toISOString();
}
