package org.elasticsearch.plugins;

import org.elasticsearch.Build;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.spi.SPIClassIterator;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PluginsService that does not scan modules/ or plugins/ directories but instantiates a fixed list of
 * plugin classes that are already on the application classpath (all loaded by one class loader).
 * Lives in org.elasticsearch.plugins because it needs package-private PluginsService internals.
 */
public class ClasspathPluginsService extends PluginsService {

    private final List<LoadedPlugin> classpathPlugins;

    /** An empty loader: no module/plugin bundles are read from disk. */
    public static PluginsLoader emptyLoader() {
        return new PluginsLoader(Collections.emptySet(), Collections.emptySet(), Collections.emptyMap());
    }

    public ClasspathPluginsService(Settings settings, Environment environment, Collection<Class<? extends Plugin>> pluginClasses) {
        super(settings, environment.configDir(), emptyLoader());
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> pluginClass : pluginClasses) {
            Plugin plugin = loadPlugin(pluginClass, settings, environment.configDir());
            PluginDescriptor descriptor = new PluginDescriptor(
                pluginClass.getName(),
                "classpath plugin",
                "NA",
                Build.current().version(),
                Integer.toString(Runtime.version().feature()),
                pluginClass.getName(),
                null,
                Collections.emptyList(),
                false,
                false,
                false,
                false
            );
            loaded.add(new LoadedPlugin(descriptor, plugin, ClasspathPluginsService.class.getClassLoader()));
        }
        loadExtensions(loaded);
        this.classpathPlugins = List.copyOf(loaded);
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return classpathPlugins;
    }

    @Override
    public PluginsAndModules info() {
        return new PluginsAndModules(classpathPlugins.stream().map(LoadedPlugin::descriptor).map(PluginRuntimeInfo::new).toList(), List.of());
    }

    /**
     * All plugins share one class loader, so SPI lookups would match every plugin; only instantiate each
     * provider class once and only for plugins whose type fits a one-arg constructor.
     */
    @Override
    @SuppressWarnings("unchecked")
    public <T> List<? extends T> loadServiceProviders(Class<T> service) {
        Map<Class<?>, T> result = new LinkedHashMap<>();
        for (LoadedPlugin lp : plugins()) {
            Plugin plugin = lp.instance();
            Iterator<Class<? extends T>> it = SPIClassIterator.get(service, plugin.getClass().getClassLoader());
            while (it.hasNext()) {
                Class<? extends T> c = it.next();
                if (result.containsKey(c)) continue;
                boolean compatible = true;
                for (Constructor<?> ctor : c.getConstructors()) {
                    if (ctor.getParameterCount() == 1 && ctor.getParameterTypes()[0] != plugin.getClass()) {
                        compatible = false;
                        break;
                    }
                }
                if (compatible) {
                    result.put(c, createExtension(c, service, plugin));
                }
            }
        }
        return List.copyOf(result.values());
    }
}
