package shouwang.es;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.EmbeddedNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Starts an Elasticsearch node inside this JVM (single-node by default; a cluster member with
 * {@code --es.discovery.type=multi-node} and its seed hosts) and prints
 * {@code SHOUWANG_ES_READY http://127.0.0.1:PORT} on stdout once HTTP is bound and the cluster is at least yellow.
 *
 * Options (command line {@code --key=value} or environment variable):
 *   --port        SHOUWANG_ES_PORT        HTTP port, 0 = ephemeral (default 0)
 *   --data        SHOUWANG_ES_DATA        data directory (default: fresh temp dir, deleted on exit)
 *   --home        SHOUWANG_ES_HOME        path.home (default: fresh temp dir, deleted on exit)
 *   --cluster     SHOUWANG_ES_CLUSTER     cluster.name (default shouwang-test)
 *   --log-level   SHOUWANG_ES_LOG_LEVEL   root log level, logs go to stderr (default warn)
 *   --port-file   SHOUWANG_ES_PORT_FILE   also write the HTTP port to this file when ready
 *   --watch-stdin SHOUWANG_ES_WATCH_STDIN 1/true = shut down when stdin reaches EOF (parent died)
 * Any other {@code --es.some.setting=value} is passed through as Elasticsearch setting {@code some.setting}.
 */
public final class Launcher {

    private static final PrintStream REAL_OUT = System.out;

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        Map<String, String> opts = new HashMap<>();
        Settings.Builder extra = Settings.builder();
        for (String a : args) {
            if (a.startsWith("--") == false || a.indexOf('=') < 0) {
                throw new IllegalArgumentException("expected --key=value, got " + a);
            }
            String k = a.substring(2, a.indexOf('='));
            String v = a.substring(a.indexOf('=') + 1);
            if (k.startsWith("es.")) extra.put(k.substring(3), v);
            else opts.put(k, v);
        }
        String port = opt(opts, "port", "SHOUWANG_ES_PORT", "0");
        String cluster = opt(opts, "cluster", "SHOUWANG_ES_CLUSTER", "shouwang-test");
        String logLevel = opt(opts, "log-level", "SHOUWANG_ES_LOG_LEVEL", "warn");
        String portFile = opt(opts, "port-file", "SHOUWANG_ES_PORT_FILE", null);
        boolean watchStdin = isTrue(opt(opts, "watch-stdin", "SHOUWANG_ES_WATCH_STDIN", "false"));
        String dataOpt = opt(opts, "data", "SHOUWANG_ES_DATA", null);
        String homeOpt = opt(opts, "home", "SHOUWANG_ES_HOME", null);

        // JVM properties Elasticsearch's own jvm.options would set.
        setIfAbsent("log4j2.disable.jmx", "true");
        setIfAbsent("log4j.shutdownHookEnabled", "false");
        setIfAbsent("log4j2.formatMsgNoLookups", "true");
        setIfAbsent("io.netty.noUnsafe", "true");
        setIfAbsent("io.netty.noKeySetOptimization", "true");
        setIfAbsent("io.netty.recycler.maxCapacityPerThread", "0");
        setIfAbsent("es.networkaddress.cache.ttl", "60");

        final Path home = homeOpt != null ? Paths.get(homeOpt).toAbsolutePath() : Files.createTempDirectory("shouwang-es-home");
        final Path data = dataOpt != null ? Paths.get(dataOpt).toAbsolutePath() : home.resolve("data");
        final boolean deleteHome = homeOpt == null;
        final boolean deleteData = dataOpt == null;
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));
        Files.createDirectories(data);
        try (InputStream in = Launcher.class.getResourceAsStream("log4j2.properties")) {
            String props = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("@ROOT_LEVEL@", logLevel);
            Files.writeString(config.resolve("log4j2.properties"), props);
        }
        Path yml = config.resolve("elasticsearch.yml");
        if (Files.exists(yml) == false) Files.writeString(yml, "");

        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", cluster)
            .put("node.name", "shouwang-es")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            // tests: never flip indices to read-only because the disk is "full"
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // tests: allow DELETE /pattern-* cleanup
            .put("action.destructive_requires_name", false)
            .put(extra.build())
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "shouwang-es");
        LogConfigurator.registerErrorListener();
        LogConfigurator.setClusterName(cluster);
        LogConfigurator.setNodeName("shouwang-es");
        LogConfigurator.configure(env, true);

        List<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, EmbedPlugin.class);
        final java.util.concurrent.atomic.AtomicReference<Node> nodeRef = new java.util.concurrent.atomic.AtomicReference<>();
        // registered before construction so temp dirs are removed even if startup fails (e.g. unknown setting)
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Node n = nodeRef.get();
            if (n != null) {
                try {
                    n.close();
                    n.awaitClose(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    e.printStackTrace(REAL_OUT);
                }
            }
            if (deleteData) deleteTree(data);
            if (deleteHome) deleteTree(home);
        }, "shouwang-es-shutdown"));
        final Node node = new EmbeddedNode(env, plugins);
        nodeRef.set(node);
        node.start();

        waitForYellow(node);
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        int boundPort = http.boundAddress().publishAddress().getPort();
        if (portFile != null) Files.writeString(Paths.get(portFile), Integer.toString(boundPort));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        REAL_OUT.println("SHOUWANG_ES_READY http://127.0.0.1:" + boundPort + " (" + ms + " ms)");
        REAL_OUT.flush();

        if (watchStdin) {
            Thread t = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // drain
                    }
                } catch (IOException ignored) {}
                System.exit(0);
            }, "shouwang-es-stdin-watch");
            t.setDaemon(true);
            t.start();
        }
        // keep the JVM alive; netty/ES threads are non-daemon anyway, but be explicit
        Thread.currentThread().join();
    }

    /**
     * A node of a cluster that is still forming has no master yet, and the health call fails rather than waits:
     * ask again until the cluster is yellow (the caller's ready timeout bounds the whole start).
     */
    private static void waitForYellow(Node node) throws InterruptedException {
        while (true) {
            try {
                var health = node.client().admin().cluster().prepareHealth(TimeValue.timeValueSeconds(30)).setWaitForYellowStatus()
                    .get(TimeValue.timeValueSeconds(60));
                if (health.isTimedOut() == false) return;
            } catch (RuntimeException e) {
                // no master elected yet: try again
            }
            Thread.sleep(200);
        }
    }

    private static String opt(Map<String, String> opts, String key, String env, String def) {
        String v = opts.get(key);
        if (v == null) v = System.getenv(env);
        return v == null || v.isEmpty() ? def : v;
    }

    private static boolean isTrue(String s) {
        return s != null && (s.equals("1") || s.equalsIgnoreCase("true") || s.equalsIgnoreCase("yes"));
    }

    private static void setIfAbsent(String k, String v) {
        if (System.getProperty(k) == null) System.setProperty(k, v);
    }

    private static void deleteTree(Path p) {
        if (Files.exists(p) == false) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {}
            });
        } catch (IOException ignored) {}
    }
}
