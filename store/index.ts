export { StoreErrors } from './errors.js';
export { dayZone } from './day-zone.js';
export { ALERT_GROUP_FIELDS, ALERT_SORT_FIELDS, SOURCE_CLOCK_SKEW_MS, TOTAL_COUNT_LIMIT } from './ports.js';
export type {
  AlertGroup, AlertGroupField, AlertPageRequest, AlertQuery, AlertSortField, AlertStore, AssetStore, AuditQuery, AuditTrailStore, Bucket, DataRange, EventQuery, EventStore,
  FieldValue, JobResultQuery, JobResultStore, Page, PageRequest, AlertProblem, AlertDayGroup, Scope, SessionRecord, SessionStore, SourceQuery, SourceSeen, Store, TimeBucket, TimeRange, UserChange, UserUpdate,
  UserRecord, UserStore, WriteResult, NotificationPrefs,
} from './ports.js';
export { IP_FIELDS, KEYWORD_FIELDS, QUERY_LIMITS, parseQuery } from './query-language.js';
export type { QueryNode, RangeBound } from './query-language.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, storableEvent } from './paging.js';
export { EmbeddedStore } from './embedded/embedded-store.js';
export type { EmbeddedStoreOptions } from './embedded/embedded-store.js';
export { ElasticsearchStore } from './elasticsearch/elasticsearch-store.js';
export type { ElasticsearchStoreOptions } from './elasticsearch/elasticsearch-store.js';
export { openStore } from './open-store.js';
