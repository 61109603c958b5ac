package shouwang.es;

import org.elasticsearch.Build;
import org.elasticsearch.ExceptionsHelper;
import org.elasticsearch.action.bulk.BulkItemResponse;
import org.elasticsearch.action.bulk.BulkRequest;
import org.elasticsearch.action.bulk.BulkResponse;
import org.elasticsearch.action.delete.DeleteRequest;
import org.elasticsearch.action.search.ClearScrollRequest;
import org.elasticsearch.action.search.SearchRequest;
import org.elasticsearch.action.search.SearchResponse;
import org.elasticsearch.action.search.SearchScrollRequest;
import org.elasticsearch.action.support.IndicesOptions;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.Strings;
import org.elasticsearch.common.document.DocumentField;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.index.query.AbstractQueryBuilder;
import org.elasticsearch.index.query.QueryBuilder;
import org.elasticsearch.index.query.QueryBuilders;
import org.elasticsearch.index.seqno.SequenceNumbers;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestChannel;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.search.SearchHit;
import org.elasticsearch.search.builder.SearchSourceBuilder;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Stand-ins for REST APIs whose real implementation lives in Elasticsearch modules that are not
 * published to Maven Central: GET|HEAD / (module rest-root) and POST /{index}/_delete_by_query (module reindex).
 * (Shouwang's test node needs nothing else from those modules.)
 */
public class EmbedPlugin extends Plugin implements ActionPlugin {

    private final AtomicReference<ClusterService> clusterService = new AtomicReference<>();

    @Override
    public Collection<?> createComponents(PluginServices services) {
        clusterService.set(services.clusterService());
        return List.of();
    }

    @Override
    public Collection<RestHandler> getRestHandlers(
        Settings settings,
        NamedWriteableRegistry namedWriteableRegistry,
        RestController restController,
        ClusterSettings clusterSettings,
        IndexScopedSettings indexScopedSettings,
        SettingsFilter settingsFilter,
        IndexNameExpressionResolver indexNameExpressionResolver,
        Supplier<DiscoveryNodes> nodesInCluster,
        Predicate<NodeFeature> clusterSupportsFeature
    ) {
        return List.of(new RootAction(), new DeleteByQueryAction());
    }

    /** GET / and HEAD / — same body shape as the rest-root module. */
    final class RootAction extends BaseRestHandler {
        @Override
        public String getName() {
            return "shouwang_main_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            return channel -> {
                ClusterService cs = clusterService.get();
                ClusterState state = cs.state();
                Build build = Build.current();
                XContentBuilder b = channel.newBuilder();
                b.startObject();
                b.field("name", cs.localNode().getName());
                b.field("cluster_name", cs.getClusterName().value());
                b.field("cluster_uuid", state.metadata().clusterUUID());
                b.startObject("version");
                b.field("number", build.qualifiedVersion());
                b.field("build_flavor", build.flavor());
                b.field("build_type", build.type().displayName());
                b.field("build_hash", build.hash());
                b.field("build_date", build.date());
                b.field("build_snapshot", build.isSnapshot());
                b.field("lucene_version", IndexVersion.current().luceneVersion().toString());
                b.field("minimum_wire_compatibility_version", build.minWireCompatVersion());
                b.field("minimum_index_compatibility_version", build.minIndexCompatVersion());
                b.endObject();
                b.field("tagline", "You Know, for Search");
                b.endObject();
                channel.sendResponse(new RestResponse(RestStatus.OK, b));
            };
        }
    }

    /**
     * Synchronous delete-by-query: scroll over matching docs (sorted by _doc) and bulk-delete them with
     * optimistic concurrency (if_seq_no/if_primary_term). Supports: body {query, max_docs}, params
     * conflicts=proceed|abort, refresh, scroll_size, max_docs, routing, q, indices options.
     * Not supported: slices, throttling, wait_for_completion=false (always runs synchronously).
     */
    static final class DeleteByQueryAction extends BaseRestHandler {
        @Override
        public String getName() {
            return "shouwang_delete_by_query_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.POST, "/{index}/_delete_by_query"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) throws IOException {
            String[] indices = Strings.splitStringByCommaToArray(request.param("index"));
            QueryBuilder query = null;
            int maxDocs = request.paramAsInt("max_docs", -1);
            if (request.hasContentOrSourceParam()) {
                try (XContentParser p = request.contentOrSourceParamParser()) {
                    XContentParser.Token t = p.nextToken();
                    if (t != XContentParser.Token.START_OBJECT) throw new IllegalArgumentException("request body must be an object");
                    while ((t = p.nextToken()) != XContentParser.Token.END_OBJECT) {
                        String field = p.currentName();
                        t = p.nextToken();
                        switch (field) {
                            case "query" -> query = AbstractQueryBuilder.parseTopLevelQuery(p);
                            case "max_docs", "size" -> maxDocs = p.intValue();
                            default -> p.skipChildren();
                        }
                    }
                }
            }
            String q = request.param("q");
            if (query == null && q != null) {
                var qs = QueryBuilders.queryStringQuery(q);
                if (request.hasParam("df")) qs.defaultField(request.param("df"));
                query = qs;
            }
            if (query == null) throw new IllegalArgumentException("delete_by_query requires a query");
            final QueryBuilder finalQuery = query;
            final int finalMaxDocs = maxDocs;
            final boolean proceedOnConflict = "proceed".equals(request.param("conflicts", "abort"));
            final boolean refresh = request.hasParam("refresh") && request.paramAsBoolean("refresh", true);
            final int scrollSize = request.paramAsInt("scroll_size", 1000);
            final String routing = request.param("routing");
            final IndicesOptions indicesOptions = IndicesOptions.fromRequest(request, SearchRequest.DEFAULT_INDICES_OPTIONS);
            // Consume (and ignore) everything else the official API accepts: slices, wait_for_completion, timeout, ...
            for (String k : new ArrayList<>(request.params().keySet())) request.param(k);

            return channel -> client.threadPool().generic().execute(() -> {
                try {
                    run(channel, client, indices, finalQuery, finalMaxDocs, proceedOnConflict, refresh, scrollSize, routing, indicesOptions);
                } catch (Exception e) {
                    try {
                        channel.sendResponse(new RestResponse(channel, e));
                    } catch (IOException ioe) {
                        e.addSuppressed(ioe);
                    }
                }
            });
        }

        private static void run(
            RestChannel channel,
            NodeClient client,
            String[] indices,
            QueryBuilder query,
            int maxDocs,
            boolean proceedOnConflict,
            boolean refresh,
            int scrollSize,
            String routing,
            IndicesOptions indicesOptions
        ) throws IOException {
            long startNanos = System.nanoTime();
            long total = 0, deleted = 0, conflicts = 0, batches = 0, noops = 0;
            boolean timedOut = false;
            List<Object[]> failures = new ArrayList<>(); // {index, id, exception, status}
            Set<String> touched = new LinkedHashSet<>();
            SearchRequest sr = new SearchRequest(indices);
            sr.indicesOptions(indicesOptions);
            if (routing != null) sr.routing(routing);
            sr.scroll(TimeValue.timeValueMinutes(5));
            int size = maxDocs > 0 ? Math.min(scrollSize, maxDocs) : scrollSize;
            sr.source(new SearchSourceBuilder().query(query).size(size).sort("_doc").fetchSource(false).seqNoAndPrimaryTerm(true));
            SearchResponse resp = client.search(sr).actionGet();
            String scrollId = null;
            try {
                outer:
                while (true) {
                    scrollId = resp.getScrollId();
                    timedOut |= resp.isTimedOut();
                    SearchHit[] hits = resp.getHits().getHits();
                    if (hits.length == 0) break;
                    BulkRequest bulk = new BulkRequest();
                    for (SearchHit hit : hits) {
                        if (maxDocs > 0 && total >= maxDocs) break;
                        total++;
                        DeleteRequest d = new DeleteRequest(hit.getIndex(), hit.getId());
                        DocumentField r = hit.field("_routing");
                        if (r != null) d.routing(String.valueOf((Object) r.getValue()));
                        if (hit.getSeqNo() != SequenceNumbers.UNASSIGNED_SEQ_NO) {
                            d.setIfSeqNo(hit.getSeqNo());
                            d.setIfPrimaryTerm(hit.getPrimaryTerm());
                        }
                        bulk.add(d);
                        touched.add(hit.getIndex());
                    }
                    if (bulk.numberOfActions() > 0) {
                        batches++;
                        BulkResponse br = client.bulk(bulk).actionGet();
                        for (BulkItemResponse item : br.getItems()) {
                            if (item.isFailed()) {
                                if (item.getFailure().getStatus() == RestStatus.CONFLICT) {
                                    conflicts++;
                                    if (proceedOnConflict) continue;
                                }
                                failures.add(
                                    new Object[] { item.getIndex(), item.getId(), item.getFailure().getCause(), item.getFailure().getStatus() }
                                );
                            } else if (item.getResponse().getResult() == org.elasticsearch.action.DocWriteResponse.Result.DELETED) {
                                deleted++;
                            } else {
                                noops++;
                            }
                        }
                        if (failures.isEmpty() == false) break outer;
                    }
                    if (maxDocs > 0 && total >= maxDocs) break;
                    SearchScrollRequest next = new SearchScrollRequest(scrollId);
                    next.scroll(TimeValue.timeValueMinutes(5));
                    resp.decRef();
                    resp = client.searchScroll(next).actionGet();
                }
            } finally {
                resp.decRef();
                if (scrollId != null) {
                    ClearScrollRequest clear = new ClearScrollRequest();
                    clear.addScrollId(scrollId);
                    try {
                        client.clearScroll(clear).actionGet();
                    } catch (Exception ignored) {}
                }
            }
            if (refresh && touched.isEmpty() == false) {
                client.admin().indices().prepareRefresh(touched.toArray(String[]::new)).get();
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            RestStatus status = RestStatus.OK;
            XContentBuilder b = channel.newBuilder();
            b.startObject();
            b.field("took", tookMillis);
            b.field("timed_out", timedOut);
            b.field("total", total);
            b.field("deleted", deleted);
            b.field("batches", batches);
            b.field("version_conflicts", conflicts);
            b.field("noops", noops);
            b.startObject("retries").field("bulk", 0).field("search", 0).endObject();
            b.field("throttled_millis", 0);
            b.field("requests_per_second", -1.0);
            b.field("throttled_until_millis", 0);
            b.startArray("failures");
            for (Object[] f : failures) {
                RestStatus fs = (RestStatus) f[3];
                if (fs.getStatus() > status.getStatus()) status = fs;
                b.startObject();
                b.field("index", f[0]);
                b.field("id", f[1]);
                b.startObject("cause");
                Exception e = (Exception) f[2];
                b.field("type", org.elasticsearch.ElasticsearchException.getExceptionName(ExceptionsHelper.unwrapCause(e)));
                b.field("reason", e.getMessage());
                b.endObject();
                b.field("status", fs.getStatus());
                b.endObject();
            }
            b.endArray();
            b.endObject();
            channel.sendResponse(new RestResponse(status, b));
        }
    }
}
