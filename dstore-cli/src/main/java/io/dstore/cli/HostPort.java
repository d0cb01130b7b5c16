package io.dstore.cli;

import picocli.CommandLine;

/**
 * A {@code HOST:PORT} address as given on the command line; IPv6 hosts in brackets ({@code
 * [::1]:50051}).
 *
 * @param host the host name or address, without brackets
 * @param port the port, 0 meaning "any free port" where listening allows it
 */
record HostPort(String host, int port) {

  /**
   * Parses {@code text}.
   *
   * @param allowPortZero whether port 0 (pick a free one) is allowed, as for a listen address
   * @throws IllegalArgumentException naming the problem
   */
  static HostPort parse(String text, boolean allowPortZero) {
    String s = text.strip();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("address must be HOST:PORT, got '" + text + "'");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "put an IPv6 address in brackets, e.g. [::1]:50051; got '" + text + "'");
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("address must be HOST:PORT, got '" + text + "'");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port must be a number in '" + text + "' (HOST:PORT)", e);
    }
    int min = allowPortZero ? 0 : 1;
    if (port < min || port > 65535) {
      throw new IllegalArgumentException(
          "port must be " + min + "..65535, got " + port + " in '" + text + "'");
    }
    return new HostPort(host, port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** picocli converter for addresses to connect to (port 1..65535). */
  static final class Converter implements CommandLine.ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      try {
        return parse(value, false);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** picocli converter for addresses to listen on (port 0 picks a free port). */
  static final class ListenConverter implements CommandLine.ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String value) {
      try {
        return parse(value, true);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
