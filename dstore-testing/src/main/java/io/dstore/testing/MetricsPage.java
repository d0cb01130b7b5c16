package io.dstore.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a {@code /metrics} page as a Prometheus scraper would, for the tests. */
public final class MetricsPage {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Pattern CACHE_HITS =
      Pattern.compile("(?m)^dstore_cache_hits_total(?:\\{[^}]*\\})? (\\d+)(?:\\.\\d+)?");

  private MetricsPage() {}

  /** GET {@code url}, whatever the status. */
  public static HttpResponse<String> fetch(String url) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** The {@code dstore_cache_hits_total} counter on the page at {@code url}; fails if absent. */
  public static long cacheHits(String url) throws IOException, InterruptedException {
    String body = fetch(url).body();
    Matcher m = CACHE_HITS.matcher(body);
    assertThat(m.find()).as("dstore_cache_hits_total in:\n%s", body).isTrue();
    return Long.parseLong(m.group(1));
  }
}
