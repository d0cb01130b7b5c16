package io.dstore.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a {@code /metrics} page as a Prometheus scraper would, for the tests. It uses only {@code
 * java.base} (no {@code java.net.http}), so tests compiled into a module that reads nothing else of
 * the JDK can call it.
 *
 * @param statusCode the HTTP status
 * @param contentType the {@code Content-Type} header, or empty
 * @param body the body, whatever the status
 */
public record MetricsPage(int statusCode, String contentType, String body) {
  private static final Pattern CACHE_HITS =
      Pattern.compile("(?m)^dstore_cache_hits_total(?:\\{[^}]*\\})? (\\d+)(?:\\.\\d+)?");

  /** GET {@code url}, whatever the status (10 s timeouts). */
  public static MetricsPage fetch(String url) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setConnectTimeout(10_000);
    c.setReadTimeout(10_000);
    try {
      int status = c.getResponseCode();
      InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
      String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String type = c.getContentType();
      return new MetricsPage(status, type == null ? "" : type, body);
    } finally {
      c.disconnect();
    }
  }

  /** The {@code dstore_cache_hits_total} counter on the page at {@code url}; fails if absent. */
  public static long cacheHits(String url) throws IOException {
    String body = fetch(url).body();
    Matcher m = CACHE_HITS.matcher(body);
    assertThat(m.find()).as("dstore_cache_hits_total in:\n%s", body).isTrue();
    return Long.parseLong(m.group(1));
  }
}
