package io.courier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * Debian's headless Chromium driven through Debian's chromedriver (Selenium over loopback), with a
 * fresh user-data directory under {@code target/} per browser. Missing binaries fail the test (never
 * a skip): CI installs {@code chromium} and {@code chromium-driver} ({@code .ci/run}). Selenium
 * Manager is never asked for a driver or a browser: both paths are given, and nothing is downloaded.
 */
public final class Chromium implements AutoCloseable {
    public static final Path BROWSER = Path.of("/usr/bin/chromium");
    public static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    /** The flags of issue 15: no sandbox (root in CI), no GPU, no network beyond the page's own. */
    private static final List<String> FLAGS = List.of(
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000");

    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Path userData;

    private Chromium(ChromeDriverService service, ChromeDriver driver, Path userData) {
        this.service = service;
        this.driver = driver;
        this.userData = userData;
    }

    public static Chromium start() {
        for (Path binary : List.of(BROWSER, DRIVER)) {
            if (!Files.isExecutable(binary)) {
                throw new AssertionError(binary + " is missing: install Debian's chromium and chromium-driver"
                        + " (apt-get install chromium chromium-driver; .ci/run does)");
            }
        }
        Path userData =
                Path.of("target", "chromium", UUID.randomUUID().toString()).toAbsolutePath();
        try {
            Files.createDirectories(userData);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER.toFile());
        options.addArguments(FLAGS);
        options.addArguments("--user-data-dir=" + userData);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort()
                .withLogOutput(nullStream())
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
        return new Chromium(service, driver, userData);
    }

    private static java.io.OutputStream nullStream() {
        return java.io.OutputStream.nullOutputStream();
    }

    public WebDriver driver() {
        return driver;
    }

    public void open(String url) {
        driver.get(url);
    }

    /** Runs {@code script} in the page and returns its value (WebDriver's conversions: Long, String, List, Map). */
    public Object eval(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /**
     * Runs an async function body in the page, {@code await} allowed, and returns what it returns;
     * a rejection fails the test with its message.
     */
    public Object run(String body, Object... args) {
        String script = "const done = arguments[arguments.length - 1];"
                + "(async (...args) => {" + body + "})(...Array.from(arguments).slice(0, -1))"
                + ".then(v => done({ ok: v === undefined ? null : v }),"
                + " e => done({ error: String(e && e.code ? e.code + ': ' + e.message : e) }));";
        Object result = ((JavascriptExecutor) driver).executeAsyncScript(script, args);
        if (!(result instanceof Map<?, ?> outcome)) {
            throw new AssertionError("unexpected script result: " + result);
        }
        if (outcome.containsKey("error")) {
            throw new AssertionError("in the browser: " + outcome.get("error") + "\nconsole:\n" + console());
        }
        return outcome.get("ok");
    }

    /** Waits until {@code expression} is truthy in the page. */
    public void until(String expression, Duration timeout, String what) {
        Await.until(() -> Boolean.TRUE.equals(eval("return Boolean(" + expression + ");")), timeout, what);
    }

    public WebElement find(String cssSelector) {
        return driver.findElement(By.cssSelector(cssSelector));
    }

    public String text(String cssSelector) {
        return find(cssSelector).getText();
    }

    /** Writes a PNG of the viewport to {@code file}. */
    public void screenshot(Path file) {
        byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The page's console messages so far (for failure messages). */
    public String console() {
        try {
            return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                    .map(LogEntry::toString)
                    .collect(Collectors.joining("\n"));
        } catch (RuntimeException e) {
            return "(console unavailable: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            try (var paths = Files.walk(userData)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a leftover profile under target/ is harmless
            }
        }
    }
}
