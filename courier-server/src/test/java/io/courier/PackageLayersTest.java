package io.courier;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The intended package layering of the main code, checked on its bytecode. Each line may use only
 * the lines below it, and only where the arrow says so:
 * <pre>
 *   io.courier (root)    assembles everything: Courier, CourierServer, ServerInitializer; nobody uses it
 *   http, ws             the two edges, never each other         → everything below
 *   limit                connection and rate limits, PROXY header → metrics, vocabulary, leaves
 *   cluster              fan-out and history between nodes       → history, hub, metrics, vocabulary, leaves
 *   topic                the topic service (store + catalogue)   → hub, store, vocabulary, leaves
 *   history              offsets, rings and recovery             → hub, vocabulary, leaves
 *   metrics              meters; knows no domain package         → vocabulary, leaves
 *   auth, store,         the domain, never each other: the hub   → vocabulary, leaves
 *   protocol, hub          knows topics only through its own KnownTopics, never the store's records
 *   error, config        vocabulary                              → error: json; config: text
 *   json, text,          leaves                                  → no Courier package
 *   pipeline, logging
 * </pre>
 * Gauges on the hub and the topics are suppliers the root hands to metrics; fan-out counts reach
 * metrics through the hub's FanoutListener, implemented by the root. A new package must be given
 * its place here, or {@link #everyPackageHasAPlace} fails.
 */
class PackageLayersTest {
    /** What the two edges (http, ws) may use: everything but each other and the root. */
    private static final String[] BELOW_THE_EDGES = {
        "Limit",
        "Cluster",
        "Topic",
        "History",
        "Metrics",
        "Auth",
        "Store",
        "Protocol",
        "Hub",
        "Error",
        "Config",
        "Json",
        "Text",
        "Pipeline",
        "Logging"
    };

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.courier");

    private static final String[] PACKAGES = {
        "io.courier",
        "io.courier.http..",
        "io.courier.ws..",
        "io.courier.limit..",
        "io.courier.cluster..",
        "io.courier.topic..",
        "io.courier.history..",
        "io.courier.metrics..",
        "io.courier.auth..",
        "io.courier.store..",
        "io.courier.protocol..",
        "io.courier.hub..",
        "io.courier.error..",
        "io.courier.config..",
        "io.courier.json..",
        "io.courier.text..",
        "io.courier.pipeline..",
        "io.courier.logging.."
    };

    @Test
    void packagesReachOnlyDownwards() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("Root")
                .definedBy("io.courier")
                .layer("Http")
                .definedBy("io.courier.http..")
                .layer("Ws")
                .definedBy("io.courier.ws..")
                .layer("Limit")
                .definedBy("io.courier.limit..")
                .layer("Cluster")
                .definedBy("io.courier.cluster..")
                .layer("Topic")
                .definedBy("io.courier.topic..")
                .layer("History")
                .definedBy("io.courier.history..")
                .layer("Metrics")
                .definedBy("io.courier.metrics..")
                .layer("Auth")
                .definedBy("io.courier.auth..")
                .layer("Store")
                .definedBy("io.courier.store..")
                .layer("Protocol")
                .definedBy("io.courier.protocol..")
                .layer("Hub")
                .definedBy("io.courier.hub..")
                .layer("Error")
                .definedBy("io.courier.error..")
                .layer("Config")
                .definedBy("io.courier.config..")
                .layer("Json")
                .definedBy("io.courier.json..")
                .layer("Text")
                .definedBy("io.courier.text..")
                .layer("Pipeline")
                .definedBy("io.courier.pipeline..")
                .layer("Logging")
                .definedBy("io.courier.logging..")
                .whereLayer("Root")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("Http")
                .mayOnlyAccessLayers(BELOW_THE_EDGES)
                .whereLayer("Ws")
                .mayOnlyAccessLayers(BELOW_THE_EDGES)
                .whereLayer("Limit")
                .mayOnlyAccessLayers("Metrics", "Error", "Config", "Json", "Text", "Pipeline", "Logging")
                .whereLayer("Cluster")
                .mayOnlyAccessLayers("History", "Hub", "Metrics", "Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Topic")
                .mayOnlyAccessLayers("Hub", "Store", "Error", "Config", "Json", "Text", "Logging")
                .whereLayer("History")
                .mayOnlyAccessLayers("Hub", "Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Metrics")
                .mayOnlyAccessLayers("Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Auth")
                .mayOnlyAccessLayers("Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Store")
                .mayOnlyAccessLayers("Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Protocol")
                .mayOnlyAccessLayers("Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Hub")
                .mayOnlyAccessLayers("Error", "Config", "Json", "Text", "Logging")
                .whereLayer("Error")
                .mayOnlyAccessLayers("Json")
                .whereLayer("Config")
                .mayOnlyAccessLayers("Text")
                .whereLayer("Json")
                .mayNotAccessAnyLayer()
                .whereLayer("Text")
                .mayNotAccessAnyLayer()
                .whereLayer("Pipeline")
                .mayNotAccessAnyLayer()
                .whereLayer("Logging")
                .mayNotAccessAnyLayer()
                .check(MAIN);
    }

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.courier.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void everyPackageHasAPlace() {
        classes()
                .should()
                .resideInAnyPackage(PACKAGES)
                .because("a new package needs its place in the layering above")
                .check(MAIN);
    }
}
